#!/bin/sh
# hwi-thresh: new_whale at a threshold, padding, the images list, --fit,
# bad input.  Expected rows and MAP@5 worked out by hand (see comments).
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-thresh

T=$(printf '\t')
cat > fused.tsv <<EOF
# query${T}label${T}score
q1${T}w_b${T}1.2
q1${T}w_a${T}1.1
q1${T}new_whale${T}0.7
q1${T}w_c${T}0.1
q2${T}w_b${T}1.1
q2${T}w_c${T}1.0
q2${T}w_a${T}0.3
q3${T}w_d${T}0.9
q3${T}w_e${T}0.2
EOF
printf 'Image,Id\nq1,w_a\nq2,new_whale\nq3,w_d\n' > truth.csv

# max: new_whale scores max(0.5, own); padding ranks w_b (first twice),
# w_d (first once), then w_a, w_c (twice in a top 5), w_e
hwi-thresh --threshold 0.5 fused.tsv > sub.csv
cat > want.csv <<EOF
Image,Id
q1,w_b w_a new_whale w_c w_d
q2,w_b w_c new_whale w_a w_d
q3,w_d new_whale w_e w_b w_a
EOF
compare_ want.csv sub.csv

# add: new_whale scores own - 0.55 (q1: 0.15, others -0.55)
hwi-thresh --new-whale=add --threshold=-0.55 < fused.tsv > sub.csv
cat > want.csv <<EOF
Image,Id
q1,w_b w_a new_whale w_c w_d
q2,w_b w_c w_a new_whale w_d
q3,w_d w_e new_whale w_b w_a
EOF
compare_ want.csv sub.csv

# none: only q1's own new_whale line; --pad sets the padding
hwi-thresh -N none --pad=w_x,w_b,w_y fused.tsv > sub.csv
cat > want.csv <<EOF
Image,Id
q1,w_b w_a new_whale w_c w_x
q2,w_b w_c w_a w_x w_y
q3,w_d w_e w_x w_b w_y
EOF
compare_ want.csv sub.csv

# the images list sets the rows and their order; q0 has no scores
printf 'q3\nq0\nq1\nq2\n' > list.txt
hwi-thresh --threshold 0.5 --images=list.txt -o sub.csv fused.tsv
cat > want.csv <<EOF
Image,Id
q3,w_d new_whale w_e w_b w_a
q0,new_whale w_b w_d w_a w_c
q1,w_b w_a new_whale w_c w_d
q2,w_b w_c new_whale w_a w_d
EOF
compare_ want.csv sub.csv
# a sample_submission.csv works as the list
printf 'Image,Id\nq3,new_whale\nq0,new_whale\nq1,new_whale\nq2,new_whale\n' > sample.csv
hwi-thresh --threshold 0.5 -i sample.csv fused.tsv > sub2.csv
compare_ want.csv sub2.csv
# every row has 5 distinct ids, every listed image appears once
tail -n +2 sub.csv | while IFS=, read -r img ids; do
    [ "$(printf '%s\n' $ids | sort -u | wc -l)" -eq 5 ] || fail_ "row $img: $ids"
done
[ "$(tail -n +2 sub.csv | cut -d, -f1 | sort | uniq -d)" = "" ] || fail_ "repeated image"

# --fit, exact: AP sums (1/60ths) over intervals of T are 105 below 0.3,
# 110 on (0.3, 0.9), 80, 90, then 110 above 1.1: the first best interval is
# (0.3, 0.9), the shortest number inside it 0.6; MAP@5 = 110/180; as ranked
# (own new_whale only) 1/2, 0, 1 -> 0.5
hwi-thresh --fit=truth.csv --report=rep.tsv fused.tsv > sub.csv
cat > want.tsv <<EOF
# stage${T}queries${T}map5${T}threshold${T}map5_nw${T}options
thresh${T}3${T}0.500000${T}0.6${T}0.611111${T}--threshold=0.6
EOF
compare_ want.tsv rep.tsv
hwi-thresh --threshold 0.6 fused.tsv > want.csv
compare_ want.csv sub.csv
# MAP@5 recomputed from the written submission agrees
awk -F, 'NR == FNR { if (FNR > 1) truth[$1] = $2; next }
         FNR > 1 { n = split($2, id, " "); ap = 0
                   for (i = 1; i <= n && i <= 5; i++) if (id[i] == truth[$1]) { ap = 1 / i; break }
                   s += ap; q++ }
         END { printf "%.6f\n", s / q }' truth.csv sub.csv > map.txt
echo 0.611111 > want.txt
compare_ want.txt map.txt
# the original's grid 0..0.95 (121 values) finds the same MAP@5; the report
# goes to stderr without --report
hwi-thresh --fit truth.csv -g 0:0.95:0.0079166667 fused.tsv > /dev/null 2> err
grep -q "^thresh${T}3${T}0.500000${T}0.30083333.*${T}0.611111${T}" err || fail_ "grid: $(cat err)"
# --fit counts the listed images without scores (q0: new_whale first)
printf 'Image,Id\nq1,w_a\nq2,new_whale\nq3,w_d\nq0,new_whale\n' > truth0.csv
hwi-thresh --fit truth0.csv -i list.txt fused.tsv > /dev/null 2> err
grep -q "^thresh${T}4${T}" err || fail_ "list fit: $(cat err)"
# add mode fits too
hwi-thresh --fit truth.csv -N add fused.tsv > /dev/null 2> err
grep -q -- "--new-whale=add" err || fail_ "add fit: $(cat err)"

# ---- bad input ----
printf 'q1\tw_a\tnan\n' > nan.tsv
returns_ 1 hwi-thresh --threshold 0 nan.tsv > /dev/null 2> err
grep -q "nan.tsv:1: score 'nan' is not a finite number" err || fail_ "nan: $(cat err)"
printf 'q1\tw_a\t1\nq2\tw_a\t1\nq1\tw_b\t1\n' > split.tsv
returns_ 1 hwi-thresh --threshold 0 split.tsv > /dev/null 2> err
grep -q "split.tsv:3: query 'q1' appears again after other queries" err ||
    fail_ "split: $(cat err)"
printf 'q1\tw_a\t1\nq1\tw_a\t2\n' > rep.tsv
returns_ 1 hwi-thresh --threshold 0 rep.tsv > /dev/null 2> err
grep -q "rep.tsv:2: label 'w_a' repeated" err || fail_ "repeat: $(cat err)"
printf 'Image,Id\nq1,w_a\nq2,new_whale\n' > short.csv
returns_ 1 hwi-thresh --fit short.csv fused.tsv > /dev/null 2> err
grep -q "short.csv: no label for query 'q3' (fused.tsv:9)" err || fail_ "truth: $(cat err)"
returns_ 1 hwi-thresh --fit truth.csv -i list.txt fused.tsv > /dev/null 2> err
grep -q "truth.csv: no label for query 'q0' (list.txt:2)" err || fail_ "truth list: $(cat err)"
printf 'q1\nq2\n' > list2.txt
returns_ 1 hwi-thresh --threshold 0 -i list2.txt fused.tsv > /dev/null 2> err
grep -q "fused.tsv:9: query 'q3' is not in the image list list2.txt" err ||
    fail_ "not listed: $(cat err)"
printf 'q1\nq2\nq1\n' > dup.txt
returns_ 1 hwi-thresh --threshold 0 -i dup.txt fused.tsv > /dev/null 2> err
grep -q "dup.txt:3: image 'q1' is listed twice (first on line 1)" err || fail_ "dup: $(cat err)"
returns_ 1 hwi-thresh --threshold 0 -o part.csv nan.tsv 2> /dev/null
[ -e part.csv ] && fail_ "partial output left behind"
returns_ 1 hwi-thresh --threshold 0 no-such-file 2> err
# scores beyond float range are refused, as hwi-fuse does, so that a fitted
# threshold is one --threshold takes back
printf 'q1\tw_a\t1e308\nq1\tw_b\t0\n' > huge.tsv
returns_ 1 hwi-thresh --threshold 0 huge.tsv > /dev/null 2> err
grep -q "huge.tsv:1: query 'q1': score 1e+308 of 'w_a' is beyond float range" err ||
    fail_ "huge: $(cat err)"
hwi-thresh --threshold 5e38 fused.tsv > /dev/null
# usage errors: empty grids, conflicting or missing options
returns_ 2 hwi-thresh --fit truth.csv --grid= fused.tsv 2> err
grep -q "invalid value for --grid: empty grid" err || fail_ "empty grid: $(cat err)"
returns_ 2 hwi-thresh --fit truth.csv --grid=0.9:0.1:0.1 fused.tsv 2> err
returns_ 2 hwi-thresh fused.tsv 2> err
grep -q "give --threshold=T, or --fit=TRUTH" err || fail_ "no T: $(cat err)"
returns_ 2 hwi-thresh --threshold 0.5 --fit truth.csv fused.tsv 2> err
returns_ 2 hwi-thresh -N none --fit truth.csv fused.tsv 2> err
returns_ 2 hwi-thresh --threshold 0.5 -g 0:1:0.1 fused.tsv 2> err
returns_ 2 hwi-thresh --threshold abc fused.tsv 2> err
returns_ 2 hwi-thresh --threshold 0.5 -N most fused.tsv 2> err
returns_ 2 hwi-thresh --threshold 0.5 --pad='a b' fused.tsv 2> err
returns_ 2 hwi-thresh --threshold 0.5 fused.tsv extra 2> err
# the images list and the scores cannot both be standard input (the scores
# read after the list would be empty)
returns_ 2 hwi-thresh --threshold 0.5 -i - < fused.tsv > out 2> err
grep -q "only one of the scores, --images and --fit can be standard input" err ||
    fail_ "two stdin: $(cat err)"
[ -s out ] && fail_ "two stdin: output written"
returns_ 2 hwi-thresh --fit - fused.tsv - < truth.csv 2> err
# the list alone on standard input is named so
printf 'q1\nq1\n' | returns_ 1 hwi-thresh --threshold 0.5 -i - fused.tsv > /dev/null 2> err
grep -q "(stdin):2: image 'q1' is listed twice" err || fail_ "list on stdin: $(cat err)"
# the report and the submission: both or neither
echo previous > rep.tsv
returns_ 1 hwi-thresh --fit=truth.csv --report=rep.tsv -o no-dir/sub.csv fused.tsv 2> err
grep -q '^hwi-thresh: no-dir/sub.csv: No such file or directory$' err || fail_ "no dir: $(cat err)"
[ "$(cat rep.tsv)" = previous ] || fail_ "report replaced without the submission"
if [ -w /dev/full ]; then
    returns_ 1 hwi-thresh --fit=truth.csv --report=rep.tsv -o /dev/full fused.tsv 2> err
    [ "$(cat rep.tsv)" = previous ] || fail_ "report replaced, submission on a full disk"
    returns_ 1 hwi-thresh --fit=truth.csv --report=/dev/full -o both-sub.csv fused.tsv 2> err
    [ -e both-sub.csv ] && fail_ "submission written, report on a full disk"
fi
ls rep.tsv.tmp* both-sub.csv.tmp* 2> /dev/null && fail_ "temporary file left behind"

# --matches: the submission's ranked ids with their photos, for a reviewer
T=$(printf '\t')
printf '# query\tlabel\tscore\tphoto\n' > ph.tsv
printf 'q1\tw_a\t0.9\tcat/a1.jpg\nq1\tnew_whale\t0.7\tcat/n1.jpg\nq1\tw_b\t0.5\t-\n' >> ph.tsv
printf 'q2\tw_b\t0.8\tcat/b2.jpg\n' >> ph.tsv
hwi-thresh --threshold=0.6 --pad=w_z --matches m.tsv -o sub.csv ph.tsv
printf 'Image,Id\nq1,w_a new_whale w_b w_z\nq2,w_b new_whale w_z\n' > want.csv
compare_ want.csv sub.csv
cat > want.tsv <<EOF
# query${T}label${T}score${T}photo
q1${T}w_a${T}0.9${T}cat/a1.jpg
q1${T}new_whale${T}0.7${T}cat/n1.jpg
q1${T}w_b${T}0.5${T}-
q2${T}w_b${T}0.8${T}cat/b2.jpg
q2${T}new_whale${T}0.6${T}-
EOF
compare_ want.tsv m.tsv
# new_whale placed by the threshold above its own score has no photo
hwi-thresh --threshold=0.8 --pad=w_z --matches m.tsv ph.tsv > /dev/null
grep -q "^q1${T}new_whale${T}0.8${T}-$" m.tsv || fail_ "threshold new_whale: $(cat m.tsv)"
# all or nothing with the submission
rm -f m.tsv
returns_ 1 hwi-thresh --threshold=0.6 --matches m.tsv -o no-dir/sub.csv ph.tsv 2> err
[ -e m.tsv ] && fail_ "matches written without the submission"

exit 0
