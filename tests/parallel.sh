#!/bin/sh
# parallel: the sharded pipeline of hwi-store(1) and hwi-knn(1) EXAMPLES on
# GNU parallel's local "machines" (-S :), at tiny scale: each job makes its
# shard's store and scores the queries against it; the top lists merged
# (hwi-knn --merge) and the stores merged (hwi-store merge) both give the
# one-machine result byte for byte.  Skipped without GNU parallel.
. "${srcdir:-.}/tests/init.sh"

command -v parallel > /dev/null 2>&1 || skip_ "GNU parallel not installed"
parallel --version 2> /dev/null | grep -q 'GNU parallel' || skip_ "parallel is not GNU parallel"
HOME=$tmp # parallel keeps its state in ~/.parallel
export HOME

# 120 gallery photos of 8 integer values in 0..3 (many exact ties), in name
# order, cut into three shards; 40 queries, 5 of them gallery photos
# (leave-one-out)
awk 'BEGIN { x = 3
    for (i = 1; i <= 120; i++) {
        printf "g%03d", i
        for (d = 0; d < 8; d++) { x = (x * 1103 + 12345) % 65536; printf "\t%d", int(x / 8192) % 4 }
        printf "\n" } }' > g.txt
awk 'BEGIN { x = 41
    for (i = 1; i <= 35; i++) {
        printf "q%03d", i
        for (d = 0; d < 8; d++) { x = (x * 1103 + 12345) % 65536; printf "\t%d", int(x / 8192) % 4 }
        printf "\n" } }' > q.txt
awk 'NR % 24 == 0' g.txt >> q.txt
awk -F '\t' 'BEGIN { print "Image,Id" }
    { printf "%s,%s\n", $1, NR % 4 == 0 ? "new_whale" : sprintf("w_%02d", NR % 17) }' g.txt \
    > labels.csv
sed -n '1,40p' g.txt > part1.txt
sed -n '41,80p' g.txt > part2.txt
sed -n '81,120p' g.txt > part3.txt
hwi-vec --pack q.txt > q.bin

# one machine
hwi-store create one.db
hwi-vec --pack g.txt | hwi-store add -m r50 -l labels.csv one.db
hwi-knn --db one.db --model r50 --top 5 --photo q.bin > one.tsv
test "$(grep -vc '^#' one.tsv)" -eq 200 || framework_failure_ "fixture: $(wc -l < one.tsv) lines"

# three "machines"
parallel --will-cite -S : --transferfile part{}.txt --return knn{}.tsv --return s{}.db \
    'hwi-store create s{}.db && hwi-vec --pack part{}.txt |
     hwi-store add -m r50 -l labels.csv s{}.db &&
     hwi-knn --db s{}.db --model r50 --top 5 --photo -o knn{}.tsv q.bin' ::: 1 2 3 ||
    fail_ "parallel failed"
for i in 1 2 3; do [ -s knn$i.tsv ] || fail_ "no knn$i.tsv"; done
hwi-knn --merge --top 5 --photo knn1.tsv knn2.tsv knn3.tsv > merged.tsv
compare_ one.tsv merged.tsv

# the shard stores merged into one
hwi-store create all.db
hwi-store merge all.db s1.db s2.db s3.db
hwi-knn --db all.db --model r50 --top 5 --photo q.bin > all.tsv
compare_ one.tsv all.tsv
hwi-store export -m r50 one.db | hwi-vec > one.txt
hwi-store export -m r50 all.db | hwi-vec > all.txt
compare_ one.txt all.txt
exit 0
