#!/bin/sh
# hwi-knn: 1-NN per individual from a stream gallery and from a store,
# new_whale column, self-exclusion, --top, pipelines, bad input.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-knn

# Integer vectors, so every distance below is exact: from q1 = (0,0), w_a's
# g1 is at 0 (s = 1), w_b's nearest g3 at 1 (s = 0.5), new_whale's g4 at 2
# (s = 0); g6 has no label and is left out.
printf 'g1\t0\t0\ng2\t3\t4\ng3\t1\t0\ng4\t0\t2\ng5\t6\t8\ng6\t3\t0\n' > g.txt
hwi-vec --pack g.txt > g.bin
printf 'Image,Id\ng1,w_a\ng2,w_b\ng3,w_b\ng4,new_whale\ng5,new_whale\n' > labels.csv
printf 'q1\t0\t0\nq2\t3\t0\ng1\t0\t0\n' | hwi-vec --pack > q.bin

# q2 = (3,0): w_b's g3 at 2 (s = 0), w_a at 3 (s = -0.5), new_whale's g4
# at sqrt(13); g1 as a query does not match itself, so w_a (only g1) is
# missing from its candidates.
cat > want.tsv <<'OUT'
# query	label	score
q1	w_a	1
q1	w_b	0.5
q1	new_whale	0
q2	w_b	0
q2	w_a	-0.5
q2	new_whale	-0.802775638
g1	w_b	0.5
g1	new_whale	0
OUT
hwi-knn --gallery g.bin --labels labels.csv q.bin > out.tsv
compare_ want.tsv out.tsv

# queries from stdin; the TSV sorts and awks as text
hwi-knn --gallery g.bin -l labels.csv < q.bin > out2.tsv
compare_ want.tsv out2.tsv
grep -v '^#' out.tsv | sort -k3,3gr | head -n 1 | cut -f1,2 > best.txt
printf 'q1\tw_a\n' > want-best.txt
compare_ want-best.txt best.txt

# --top, --no-new-whale, --keep-self
hwi-knn --gallery g.bin -l labels.csv --top 1 --no-new-whale --keep-self q.bin > out.tsv
printf '# query\tlabel\tscore\nq1\tw_a\t1\nq2\tw_b\t0\ng1\tw_a\t1\n' > want-top.tsv
compare_ want-top.tsv out.tsv
hwi-knn --gallery g.bin -l labels.csv -k 0 q.bin > out.tsv
compare_ want.tsv out.tsv
hwi-knn --gallery g.bin -l labels.csv -k 2 --no-new-whale q.bin > out.tsv
printf '# query\tlabel\tscore\nq1\tw_a\t1\nq1\tw_b\t0.5\nq2\tw_b\t0\nq2\tw_a\t-0.5\ng1\tw_b\t0.5\n' \
    > want-2.tsv
compare_ want-2.tsv out.tsv

# --photo: the 4th column is the nearest gallery photo of each label (the
# argmax of the similarity): for q3 = (5,7) w_b's nearest is g2 (d^2 = 13),
# not g3 (d^2 = 65), new_whale's g5 (2), not g4 (50)
printf 'q1\t0\t0\nq3\t5\t7\n' | hwi-vec --pack > q3.bin
hwi-knn --gallery g.bin -l labels.csv --photo q3.bin > out.tsv
cat > want-photo.tsv <<'OUT'
# query	label	score	photo
q1	w_a	1	g1
q1	w_b	0.5	g3
q1	new_whale	0	g4
q3	new_whale	0.292893219	g5
q3	w_b	-0.802775638	g2
q3	w_a	-3.30116263	g1
OUT
compare_ want-photo.tsv out.tsv
# readers take the 4th column: awk, and hwi-fuse and hwi-thresh as input
test "$(awk -F '\t' '$1 == "q3" && $2 == "w_b" { print $4 }' out.tsv)" = g2 ||
    fail_ "awk on the photo column"
hwi-fuse out.tsv > fused.tsv || fail_ "hwi-fuse on a photo column"
if command -v hwi-thresh > /dev/null; then
    hwi-thresh --threshold 0.5 out.tsv > sub.csv || fail_ "hwi-thresh on a photo column"
fi

# unit vectors: s = (2 - d) / 2 with d = sqrt(2 - 2 q.g), here q.g = 0.6
printf 'u1\t1\t0\n' | hwi-vec --pack > u.bin
printf 'v1\t0.6\t0.8\n' | hwi-vec --pack > uq.bin
printf 'Image,Id\nu1,w_u\n' > ul.csv
hwi-knn --gallery u.bin -l ul.csv uq.bin | awk -F '\t' '
    !/^#/ { d = $3 - (2 - sqrt(0.8)) / 2; if (d < 0) d = -d; if (d > 1e-7) exit 1; n++ }
    END { exit n != 1 }' || fail_ "unit-vector score"

# the same gallery from a store: train holds g1..g3, val g4..g6
hwi-store create s.db
head -n 3 g.txt | hwi-vec --pack | hwi-store add -m r50 --split train -l labels.csv s.db
tail -n 3 g.txt | hwi-vec --pack | hwi-store add -m r50 --split val -l labels.csv s.db
hwi-knn --db s.db --model r50 q.bin > out.tsv
compare_ want.tsv out.tsv
hwi-knn -D s.db -m r50 --split train,val -j 1 -o out3.tsv q.bin
compare_ want.tsv out3.tsv
hwi-knn -D s.db -m r50 --split val q.bin > out.tsv
printf '# query\tlabel\tscore\nq1\tnew_whale\t0\nq2\tnew_whale\t-0.802775638\ng1\tnew_whale\t0\n' \
    > want-val.tsv
compare_ want-val.tsv out.tsv

# pipeline: text -> stream -> knn -> best label per query
printf 'x\t0\t1.5\n' | hwi-vec --pack | hwi-knn -D s.db -m r50 --top 1 | grep -v '^#' > out.tsv
printf 'x\tnew_whale\t0.75\n' > want-x.tsv
compare_ want-x.tsv out.tsv

# an empty query stream (a header only) gives the header only
head -c 32 q.bin > empty.bin
hwi-knn --gallery g.bin -l labels.csv empty.bin > out.tsv
printf '# query\tlabel\tscore\n' > want-empty.tsv
compare_ want-empty.tsv out.tsv

# --verbose: a summary on stderr, stdout unchanged
hwi-knn -v --gallery g.bin -l labels.csv q.bin > out.tsv 2> err
compare_ want.tsv out.tsv
grep -q '3 queries against 5 gallery images (3 labels, 1 left out)' err ||
    fail_ "summary: $(cat err)"
# and the CPU seconds of each phase, every one a number
grep -Eq '^hwi-knn: CPU s: product [0-9.]+, label minimum [0-9.]+, gallery read [0-9.]+, exact rescoring [0-9.]+, top-N [0-9.]+, TSV output [0-9.]+$' err ||
    fail_ "CPU line: $(cat err)"

# --center: the gallery (1,0) w_a, (0,1) w_b has mean (0.5,0.5), the
# queries (0.6,0.8), (0.8,0.6) mean (0.7,0.7); centred and normalised,
# q1 = w_b's image exactly (s = 1) and opposite w_a's (s = 0), q2 the
# other way round.  Uncentred, q1 scores 0.684 and 0.553.  The same from a
# pipe; one query alone has no mean to take out: an error, no output.
printf 'ca\t1\t0\ncb\t0\t1\n' | hwi-vec --pack > cg.bin
printf 'Image,Id\nca,w_a\ncb,w_b\n' > cl.csv
printf 'q1\t0.6\t0.8\nq2\t0.8\t0.6\n' | hwi-vec --pack > cq.bin
hwi-knn --center --gallery cg.bin -l cl.csv cq.bin > c.tsv
awk -F '\t' 'BEGIN { w["q1 w_b"] = 1; w["q1 w_a"] = 0; w["q2 w_a"] = 1; w["q2 w_b"] = 0 }
    !/^#/ { d = $3 - w[$1 " " $2]; if (d > 1e-6 || d < -1e-6 || !(($1 " " $2) in w)) exit 1; n++ }
    END { if (n != 4) exit 1 }' c.tsv || fail_ "--center: $(cat c.tsv)"
head -n 2 c.tsv | tail -n 1 | cut -f 1,2 > c1.txt
printf 'q1\tw_b\n' > want-c1.txt
compare_ want-c1.txt c1.txt
printf 'q1\t0.6\t0.8\nq2\t0.8\t0.6\n' | hwi-vec --pack | hwi-knn --center --gallery cg.bin -l cl.csv > c2.tsv
compare_ c.tsv c2.tsv
hwi-knn --gallery cg.bin -l cl.csv cq.bin | grep -q '^q1	w_b	0.683772225$' || fail_ "uncentred"
printf 'q1\t0.6\t0.8\n' | hwi-vec --pack > c1q.bin
returns_ 1 hwi-knn --center --gallery cg.bin -l cl.csv -o c3.tsv c1q.bin 2> err
grep -q '^hwi-knn: c1q.bin: --center needs two or more queries' err || fail_ "one query: $(cat err)"
[ -e c3.tsv ] && fail_ "--center error left an output file"
returns_ 1 hwi-knn --center --gallery cg.bin -l cl.csv c1q.bin > c4.tsv 2> err
[ -s c4.tsv ] && fail_ "--center error wrote to stdout: $(cat c4.tsv)"

# bad input: a query of another dimension names the record, no output file
printf 'a\t1\t2\t3\n' | hwi-vec --pack > q3.bin
returns_ 1 hwi-knn --gallery g.bin -l labels.csv -o bad.tsv q3.bin 2> err
grep -q "q3.bin: record 1 (key 'a'): dimension 3, the gallery's is 2" err ||
    fail_ "dimension: $(cat err)"
[ -e bad.tsv ] && fail_ "partial output left behind"
ls bad.tsv.tmp* 2> /dev/null && fail_ "temporary file left behind"

# a truncated query stream
head -c 50 q.bin > trunc.bin
returns_ 1 hwi-knn --gallery g.bin -l labels.csv trunc.bin > /dev/null 2> err
grep -q 'trunc.bin: record 2.*truncated' err || fail_ "truncated: $(cat err)"

# an image twice in the gallery
cat g.txt g.txt | hwi-vec --pack > dup.bin
returns_ 1 hwi-knn --gallery dup.bin -l labels.csv q.bin > /dev/null 2> err
grep -q "dup.bin: image 'g1' is in the gallery twice" err || fail_ "duplicate: $(cat err)"

# a query twice (two streams concatenated, say)
printf 'q1\t0\t0\nq1\t1\t1\n' | hwi-vec --pack > dupq.bin
returns_ 1 hwi-knn --gallery g.bin -l labels.csv -o dupq.tsv dupq.bin 2> err
grep -q "dupq.bin: record 2: key 'q1' appears twice" err || fail_ "dup query: $(cat err)"
[ -e dupq.tsv ] && fail_ "dup query: output left behind"

# vectors so long that float distances overflow: an error, not missing labels
printf 'big\t3e38\t0\n' | hwi-vec --pack > big.bin
printf 'Image,Id\nbig,w_big\n' > big.csv
returns_ 1 hwi-knn --gallery big.bin -l big.csv q.bin > /dev/null 2> err
grep -q "big.bin: record 1: image 'big': vector too long" err || fail_ "long image: $(cat err)"
returns_ 1 hwi-knn --gallery g.bin -l labels.csv big.bin > /dev/null 2> err
grep -q "big.bin: query 'big': vector too long" err || fail_ "long query: $(cat err)"

# no image with a known label
printf 'Image,Id\nzz,w_z\n' > none.csv
returns_ 1 hwi-knn --gallery g.bin -l none.csv q.bin > /dev/null 2> err
grep -q 'g.bin: the gallery is empty: none of its 6 images has a known label$' err || fail_ "empty gallery: $(cat err)"

# bad labels CSV, missing files, a model not in the store, not a store
printf 'Image,Name\n' > badhdr.csv
returns_ 1 hwi-knn --gallery g.bin -l badhdr.csv q.bin > /dev/null 2> err
grep -q 'badhdr.csv:1:' err || fail_ "bad CSV: $(cat err)"
returns_ 1 hwi-knn --gallery g.bin -l labels.csv no-such.bin > /dev/null 2> err
grep -q 'no-such.bin' err || fail_ "missing queries: $(cat err)"
returns_ 1 hwi-knn --gallery no-such.bin -l labels.csv q.bin > /dev/null 2> err
returns_ 1 hwi-knn -D s.db -m r152 q.bin > /dev/null 2> err
grep -q "s.db: no model 'r152' in the store" err || fail_ "missing model: $(cat err)"
returns_ 1 hwi-knn -D no-such.db -m r50 q.bin > /dev/null 2> err
grep -q 'no-such.db' err || fail_ "missing store: $(cat err)"
[ -e no-such.db ] && fail_ "hwi-knn created a store"

# usage errors exit 2
returns_ 2 hwi-knn q.bin 2> err
grep -q 'no gallery' err || fail_ "no gallery: $(cat err)"
returns_ 2 hwi-knn -D s.db --gallery g.bin -l labels.csv q.bin 2> err
returns_ 2 hwi-knn -D s.db q.bin 2> err
grep -q -- '--db needs --model' err || fail_ "no model: $(cat err)"
returns_ 2 hwi-knn --gallery g.bin q.bin 2> err
grep -q -- '--gallery needs --labels' err || fail_ "no labels: $(cat err)"
returns_ 2 hwi-knn --gallery g.bin -l labels.csv --split train q.bin 2> err
returns_ 2 hwi-knn -D s.db -m r50 -l labels.csv q.bin 2> err
returns_ 2 hwi-knn -D s.db -m r50 --split train,nope q.bin 2> err
grep -q "unknown split 'nope'" err || fail_ "bad split: $(cat err)"
returns_ 2 hwi-knn -D s.db -m r50 --split train,train q.bin 2> err
returns_ 2 hwi-knn -D s.db -m r50 --top -1 q.bin 2> err
grep -q -- "invalid value '-1' for --top" err || fail_ "bad top: $(cat err)"
returns_ 2 hwi-knn -D s.db -m r50 --threads -1 q.bin 2> err
returns_ 2 hwi-knn -D s.db -m r50 --top x q.bin 2> err
returns_ 2 hwi-knn -D s.db -m r50 q.bin extra 2> err
returns_ 2 hwi-knn --gallery - -l labels.csv 2> err < q.bin
grep -q 'only one of the queries, --gallery and --labels can be standard input' err ||
    fail_ "two stdins: $(cat err)"
returns_ 2 hwi-knn --gallery g.bin -l - 2> err < q.bin

# a stream without keys cannot name queries or gallery images
printf 'HWIF\001\000\040\000\002\000\000\000\000\000\000\000' > nokeys.bin
printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >> nokeys.bin
printf '\000\000\200\077\000\000\000\000' >> nokeys.bin
hwi-vec nokeys.bin > out.txt
printf -- '-\t1\t0\n' > want-nokeys.txt
compare_ want-nokeys.txt out.txt
returns_ 1 hwi-knn --gallery g.bin -l labels.csv nokeys.bin > /dev/null 2> err
grep -q 'nokeys.bin: the query stream has no keys' err || fail_ "no keys: $(cat err)"
returns_ 1 hwi-knn --gallery nokeys.bin -l labels.csv q.bin > /dev/null 2> err
grep -q 'nokeys.bin: the gallery stream has no keys' err || fail_ "no keys: $(cat err)"
# Gallery shards (--merge) and threads.  Small integer vectors, so many
# distances tie exactly (ties go by label name; one label's tied photos by
# gallery order, and the shards below are in gallery order); 20 queries
# are gallery photos (leave-one-out), and 150 queries make several bands
# of threads.
awk 'BEGIN { x = 7
    for (i = 1; i <= 300; i++) {
        printf "g%03d", i
        for (d = 0; d < 6; d++) { x = (x * 1103 + 12345) % 65536; printf "\t%d", int(x / 8192) % 4 }
        printf "\n" } }' > sg.txt
awk 'BEGIN { x = 99
    for (i = 1; i <= 130; i++) {
        printf "q%03d", i
        for (d = 0; d < 6; d++) { x = (x * 1103 + 12345) % 65536; printf "\t%d", int(x / 8192) % 4 }
        printf "\n" } }' > sq.txt
awk 'NR % 15 == 0' sg.txt >> sq.txt
hwi-vec --pack sg.txt > sg.bin
hwi-vec --pack sq.txt > sq.bin
awk -F '\t' 'BEGIN { print "Image,Id" }
    NR % 11 == 0 { next }                     # no label: left out
    { printf "%s,%s\n", $1, NR % 5 == 0 ? "new_whale" : sprintf("w_%02d", NR % 37) }' sg.txt \
    > sall.csv
for p in '2,101' '102,201' '202,301'; do
    sed -n "1p;${p}p" sall.csv > "shard-${p%,*}.csv"
done
test "$(cat shard-*.csv | grep -vc Image)" -eq "$(grep -vc Image sall.csv)" ||
    framework_failure_ "shards do not cover the gallery"
hwi-knn --gallery sg.bin -l sall.csv -k 5 --photo -j 1 sq.bin > one.tsv
hwi-knn --gallery sg.bin -l sall.csv -k 5 --photo -j 3 sq.bin > three.tsv
compare_ one.tsv three.tsv
test "$(grep -c '^g015	' one.tsv)" -eq 5 || fail_ "leave-one-out fixture"
grep -q '^g015	.*	g015$' one.tsv && fail_ "a query matched itself"
for s in shard-2 shard-102 shard-202; do
    hwi-knn --gallery sg.bin -l $s.csv -k 5 --photo sq.bin > $s.tsv
done
hwi-knn --merge -k 5 --photo -o merged.tsv shard-2.tsv shard-102.tsv shard-202.tsv
compare_ one.tsv merged.tsv
# every label (--top 0), no photo column, one shard from standard input
hwi-knn --gallery sg.bin -l sall.csv -k 0 sq.bin > all.tsv
for s in shard-2 shard-102 shard-202; do
    hwi-knn --gallery sg.bin -l $s.csv -k 0 sq.bin > $s-all.tsv
done
hwi-knn --merge -k 0 shard-2-all.tsv - shard-202-all.tsv < shard-102-all.tsv > merged.tsv
compare_ all.tsv merged.tsv
# one file merges to itself
hwi-knn --merge -k 5 --photo one.tsv > merged.tsv
compare_ one.tsv merged.tsv
# bad input: a query's lines apart, a photo column missing or unexpected
printf 'a\tw_1\t0.5\nb\tw_1\t0.5\na\tw_2\t0.4\n' > apart.tsv
returns_ 1 hwi-knn --merge -o m.tsv one.tsv apart.tsv 2> err
[ -e m.tsv ] && fail_ "merge: partial output left behind"
returns_ 1 hwi-knn --merge --photo apart.tsv > /dev/null 2> err
grep -q 'apart.tsv:1: no photo' err || fail_ "merge, no photo: $(cat err)"
returns_ 1 hwi-knn --merge apart.tsv > /dev/null 2> err
grep -q "apart.tsv:3: query 'a' again after other queries" err || fail_ "apart: $(cat err)"
returns_ 1 hwi-knn --merge one.tsv > /dev/null 2> err
grep -q 'one.tsv:2: a photo' err || fail_ "merge, photo: $(cat err)"
returns_ 1 hwi-knn --merge no-such.tsv > /dev/null 2> err
returns_ 2 hwi-knn --merge 2> err
returns_ 2 hwi-knn --merge --gallery sg.bin one.tsv 2> err
returns_ 2 hwi-knn --merge --keep-self one.tsv 2> err
returns_ 2 hwi-knn --merge - - < one.tsv 2> err
# leave-one-out by identity: card2/b.jpg is the same photo as card1/a.jpg
# (same bytes) under another name; a query of either matches neither
mkdir -p photos/card1 photos/card2 photos/new
printf 'fluke A' > photos/card1/a.jpg
printf 'fluke A' > photos/card2/b.jpg
printf 'fluke C' > photos/card1/c.jpg
printf 'fluke A' > photos/new/x.jpg
printf 'Image,Id\ncard1/a.jpg,w_a\ncard2/b.jpg,w_b\ncard1/c.jpg,w_c\n' > id.csv
hwi-store create id.db
printf 'card1/a.jpg\t0\t0\ncard2/b.jpg\t0\t1\ncard1/c.jpg\t3\t4\n' | hwi-vec --pack |
    hwi-store add -m r50 -l id.csv --root photos id.db
printf 'card1/a.jpg\t0\t0\nnew/x.jpg\t0\t0\n' | hwi-vec --pack > idq.bin
hwi-knn --db id.db --model r50 idq.bin > out.tsv
printf '# query\tlabel\tscore\ncard1/a.jpg\tw_c\t-1.5\nnew/x.jpg\tw_a\t1\nnew/x.jpg\tw_b\t0.5\nnew/x.jpg\tw_c\t-1.5\n' \
    > want-id.tsv
compare_ want-id.tsv out.tsv
# --root: the new photo's bytes are card1/a.jpg's
hwi-knn --db id.db --model r50 --root photos idq.bin > out.tsv
printf '# query\tlabel\tscore\ncard1/a.jpg\tw_c\t-1.5\nnew/x.jpg\tw_c\t-1.5\n' > want-id2.tsv
compare_ want-id2.tsv out.tsv
hwi-knn --db id.db --model r50 --root photos --keep-self idq.bin > out.tsv
printf '# query\tlabel\tscore\ncard1/a.jpg\tw_a\t1\ncard1/a.jpg\tw_b\t0.5\ncard1/a.jpg\tw_c\t-1.5\nnew/x.jpg\tw_a\t1\nnew/x.jpg\tw_b\t0.5\nnew/x.jpg\tw_c\t-1.5\n' \
    > want-id3.tsv
compare_ want-id3.tsv out.tsv
returns_ 1 hwi-knn --db id.db --model r50 --root no-such idq.bin > /dev/null 2> err
grep -q "idq.bin: record 1 (key 'card1/a.jpg'):" err || fail_ "--root, no photo: $(cat err)"
returns_ 2 hwi-knn --gallery g.bin -l labels.csv --root photos q.bin 2> err
exit 0
