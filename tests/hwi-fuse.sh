#!/bin/sh
# hwi-fuse: weighted fusion, softmax, --fit, merge-join of sorted inputs,
# bad input.  Expected scores were computed with numpy (float32 inputs,
# double sums, '%.9g'), independently of the C code.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-fuse

T=$(printf '\t')
pack() { hwi-vec --pack "$@"; }
printf '# query\tlabel\tscore\n' > knn.tsv
printf 'q1\tw_a\t0.9\nq1\tnew_whale\t0.7\nq1\tw_b\t0.5\nq2\tw_b\t0.8\nq2\tw_c\t0.6\n' >> knn.tsv
printf 'q1\tw_b\t0.7\nq1\tw_a\t0.2\nq1\tw_c\t0.1\nq2\tw_c\t0.4\nq2\tw_a\t0.3\nq2\tw_b\t0.3\n' > sm.tsv
printf 'Image,Id\nq1,w_b\nq2,new_whale\n' > truth.csv

# 2*knn + 0.5*sm, new_whale weights 1 and 0
hwi-fuse -w 2,0.5 --nw-weights 1,0 knn.tsv sm.tsv > out.tsv
cat > want.tsv <<EOF
# query${T}label${T}score
q1${T}w_a${T}1.89999995
q1${T}w_b${T}1.34999999
q1${T}new_whale${T}0.699999988
q1${T}w_c${T}0.0500000007
q2${T}w_b${T}1.75000003
q2${T}w_c${T}1.40000005
q2${T}w_a${T}0.150000006
EOF
compare_ want.tsv out.tsv

# a missing label counts as --missing (0.05, as float32)
hwi-fuse --missing=0.05 knn.tsv sm.tsv > out.tsv
cat > want.tsv <<EOF
# query${T}label${T}score
q1${T}w_b${T}1.19999999
q1${T}w_a${T}1.09999998
q1${T}new_whale${T}0.749999989
q1${T}w_c${T}0.150000002
q2${T}w_b${T}1.10000002
q2${T}w_c${T}1.00000003
q2${T}w_a${T}0.350000013
EOF
compare_ want.tsv out.tsv

# --missing=min: q1's w_c is missing from knn.tsv, whose lowest q1 score is 0.5
hwi-fuse --missing min knn.tsv sm.tsv | grep "^q1${T}w_c${T}" > out.tsv
printf 'q1\tw_c\t0.600000001\n' > want.tsv
compare_ want.tsv out.tsv

# a query missing from one input: fused, with a warning
grep -v q2 sm.tsv > sm-q1.tsv
hwi-fuse knn.tsv sm-q1.tsv > out.tsv 2> err
printf 'hwi-fuse: warning: 1 query is not in sm-q1.tsv (its scores counted as missing)\n' > want.txt
compare_ want.txt err
grep -q "^q2${T}w_b${T}0.800000012$" out.tsv || fail_ "absent query: $(cat out.tsv)"
hwi-fuse -u knn.tsv sm-q1.tsv > /dev/null 2> err
compare_ want.txt err

# --top keeps the K best and new_whale
hwi-fuse -k 1 knn.tsv sm.tsv | grep -v '^#' | cut -f1,2 > out.tsv
printf 'q1\tw_b\nq1\tnew_whale\nq2\tw_b\n' > want.tsv
compare_ want.tsv out.tsv

# --softmax: softmax(2 * logits), numpy values
printf '# key\tw_a\tw_b\tw_c\nq1\t1\t2\t0.5\nq2\t0\t0\t3\n' | pack > lg.bin
hwi-fuse --softmax --multiplier 2 lg.bin > out.tsv
cat > want.tsv <<EOF
# query${T}label${T}score
q1${T}w_b${T}0.843794734
q1${T}w_a${T}0.114195199
q1${T}w_c${T}0.0420100661
q2${T}w_c${T}0.995066951
q2${T}w_a${T}0.00246652437
q2${T}w_b${T}0.00246652437
EOF
compare_ want.tsv out.tsv
# standard input, and --output
hwi-fuse --softmax --multiplier 2 -o out2.tsv < lg.bin
compare_ want.tsv out2.tsv

# a pipeline: softmax -> sorted -> fused with knn (knn.tsv from stdin) -> thresh
hwi-fuse --softmax --multiplier 2 lg.bin | LC_ALL=C sort -s -t "$T" -k1,1 |
    hwi-fuse -w 1,1 - knn.tsv | hwi-thresh --threshold 0.9 --pad w_x,w_y > sub.csv
printf 'Image,Id\nq1,w_b w_a new_whale w_c w_x\nq2,w_c new_whale w_b w_a w_x\n' > want.csv
compare_ want.csv sub.csv

# --softmax --top: the K best; --keep adds the labels knn.tsv lists for the
# query (new_whale is no class of the logits)
hwi-fuse --softmax --multiplier 2 --top 1 lg.bin | grep -v '^#' | cut -f1,2 > out.tsv
printf 'q1\tw_b\nq2\tw_c\n' > want.tsv
compare_ want.tsv out.tsv
hwi-fuse --softmax --multiplier 2 -k 1 --keep knn.tsv lg.bin > out.tsv
cat > want.tsv <<EOF
# query${T}label${T}score
q1${T}w_b${T}0.843794734
q1${T}w_a${T}0.114195199
q2${T}w_c${T}0.995066951
q2${T}w_b${T}0.00246652437
EOF
compare_ want.tsv out.tsv
returns_ 2 hwi-fuse --keep knn.tsv knn.tsv sm.tsv 2> /dev/null
returns_ 2 hwi-fuse --softmax --keep - - < lg.bin 2> /dev/null

# the demo's chain with many labels: softmax cut to its default top 100
# plus the knn labels (--keep) fuses, fits and thresholds exactly as the
# whole softmax (--top 0) does, and writes 100 + at most 20 lines a query
# (not one per label)
awk 'BEGIN { srand(7); printf "# key"; for (l = 0; l < 400; l++) printf "\tw_%03d", l;
             print ""; for (q = 0; q < 40; q++) { printf "p%02d", q;
             for (l = 0; l < 400; l++) printf "\t%.4f", 6 * rand() - 3 + (l == q ? 2 : 0);
             print "" } }' | pack > big.bin
awk 'BEGIN { srand(8); print "# query\tlabel\tscore"; for (q = 0; q < 40; q++) {
             s = 0.9; for (j = 0; j < 20; j++) { l = j == 0 ? (q + 3 * (q % 2)) : int(400 * rand());
             if (seen[q, l]++) continue; printf "p%02d\tw_%03d\t%.6f\n", q, l, s;
             s -= 0.01 + 0.02 * rand() }
             printf "p%02d\tnew_whale\t%.6f\n", q, s } }' > bigknn.tsv
awk 'BEGIN { print "Image,Id"; for (q = 0; q < 40; q++)
             printf "p%02d,%s\n", q, q % 5 == 4 ? "new_whale" : sprintf("w_%03d", q) }' > bigtruth.csv
for t in all cut; do
    if [ $t = all ]; then opt='--top 0'; else opt='--keep bigknn.tsv'; fi
    hwi-fuse --softmax --fit bigtruth.csv -r sm-$t.fit $opt -o sm-$t.tsv big.bin
    hwi-fuse -u --fit bigtruth.csv -r fu-$t.fit -o fu-$t.tsv bigknn.tsv sm-$t.tsv
    hwi-thresh --fit bigtruth.csv -r th-$t.fit -o sub-$t.csv fu-$t.tsv
done
compare_ sm-all.fit sm-cut.fit
sed 's/sm-cut/sm-all/' fu-cut.fit > fu-cut-named.fit
compare_ fu-all.fit fu-cut-named.fit
compare_ th-all.fit th-cut.fit
compare_ sub-all.csv sub-cut.csv
[ "$(grep -vc '^#' sm-all.tsv)" = 16000 ] || fail_ "whole softmax: $(wc -l < sm-all.tsv) lines"
n=$(grep -vc '^#' sm-cut.tsv)
[ "$n" -ge 4000 ] && [ "$n" -le 4800 ] || fail_ "cut softmax: $n lines"

# --unsorted reads whole files in any order and gives the same scores
{ grep q2 sm.tsv; grep q1 sm.tsv; } > sm-rev.tsv
hwi-fuse -w 2,0.5 --nw-weights 1,0 knn.tsv sm.tsv | LC_ALL=C sort > a.tsv
hwi-fuse -u -w 2,0.5 --nw-weights 1,0 knn.tsv sm-rev.tsv | LC_ALL=C sort > b.tsv
compare_ a.tsv b.tsv

# --fit: each input alone, then the fused grid; sm.tsv alone ranks q1 right
# and, with new_whale above 0.4 and below 0.7, q2 too (MAP@5 1)
hwi-fuse --fit truth.csv -r rep.tsv -o fit.tsv knn.tsv sm.tsv
cat > want.tsv <<EOF
# stage${T}queries${T}map5${T}threshold${T}map5_nw${T}options
alone:knn.tsv${T}2${T}0.166667${T}1${T}0.666667${T}--weights=1,0 --nw-weights=1,0
alone:sm.tsv${T}2${T}0.500000${T}0.5${T}1.000000${T}--weights=0,1 --nw-weights=0,1
fused${T}2${T}0.500000${T}0.5${T}1.000000${T}--weights=0,1 --nw-weights=0,0
EOF
compare_ want.tsv rep.tsv
hwi-fuse -w 0,1 --nw-weights 0,0 knn.tsv sm.tsv > want.tsv
compare_ want.tsv fit.tsv
# the report goes to stderr without --report; grids per file; the original's
# threshold grid
hwi-fuse --fit truth.csv -g 1 -g 0:1:0.5 -G 0,1 -T 0:0.95:0.0079166667 \
    knn.tsv sm.tsv > /dev/null 2> err
grep -q "^fused${T}2${T}" err || fail_ "no fused line: $(cat err)"
# softmax --fit: c = 1, then the best c on the grid
hwi-fuse --softmax --fit truth.csv -g 0.5,2 -N add lg.bin > /dev/null 2> err
[ "$(cut -f1 err | tr '\n' ' ')" = "# stage softmax softmax-fitted " ] ||
    fail_ "softmax report: $(cat err)"

# --photo: the knn photo of a fused candidate, '-' where only the softmax
# proposed it (w_c on q1) or knn has no photo for it (w_b on q1); each FILE
# may have 3 or 4 fields; knn's new_whale photo goes with new_whale
printf '# query\tlabel\tscore\tphoto\n' > knnp.tsv
printf 'q1\tw_a\t0.9\tcat/a1.jpg\nq1\tnew_whale\t0.7\tcat/n1.jpg\nq1\tw_b\t0.5\t-\n' >> knnp.tsv
printf 'q2\tw_b\t0.8\tcat/b2.jpg\nq2\tw_c\t0.6\tcat/c9.jpg\n' >> knnp.tsv
hwi-fuse --photo -w 2,0.5 --nw-weights=1,0 knnp.tsv sm.tsv > out.tsv
cat > want.tsv <<EOF
# query${T}label${T}score${T}photo
q1${T}w_a${T}1.89999995${T}cat/a1.jpg
q1${T}w_b${T}1.34999999${T}-
q1${T}new_whale${T}0.699999988${T}cat/n1.jpg
q1${T}w_c${T}0.0500000007${T}-
q2${T}w_b${T}1.75000003${T}cat/b2.jpg
q2${T}w_c${T}1.40000005${T}cat/c9.jpg
q2${T}w_a${T}0.150000006${T}-
EOF
compare_ want.tsv out.tsv
# without --photo, the same scores as from 3-field input
hwi-fuse -w 2,0.5 --nw-weights=1,0 knnp.tsv sm.tsv > a.tsv
hwi-fuse -w 2,0.5 --nw-weights=1,0 knn.tsv sm.tsv > b.tsv
compare_ b.tsv a.tsv
# the unsorted and fitted paths carry the photos too
hwi-fuse -u --photo -w 0.5,2 --nw-weights=0,1 sm-rev.tsv knnp.tsv | LC_ALL=C sort > a.tsv
LC_ALL=C sort out.tsv > b.tsv
compare_ b.tsv a.tsv
hwi-fuse --photo --fit truth.csv -r /dev/null knnp.tsv sm.tsv > a.tsv
hwi-fuse --photo -w 0,1 --nw-weights=0,0 knnp.tsv sm.tsv > b.tsv
compare_ b.tsv a.tsv
# knn at weight 0: its photos do not describe the fused scores
hwi-fuse --photo -w 0,1 knnp.tsv sm.tsv | grep -v '^#' | cut -f4 | sort -u > out.txt
printf -- '-\n' > want.txt
compare_ want.txt out.txt
# awk still reads it
[ "$(awk -F "$T" '$2 == "w_a" && $1 == "q1" { print $4 }' out.tsv)" = cat/a1.jpg ] ||
    fail_ "awk on --photo output"
returns_ 2 hwi-fuse --photo --softmax lg.bin 2> err

# ---- ensembles: several models' scores, weights fitted on validation ----
# Two models, each right on its half of the queries (the truth at 0.9) and
# misled on the other half (a decoy at 0.8 above the truth at 0.5): alone
# each scores MAP@5 0.75, fused 1:1 the truth wins everywhere (1.4 against
# at most 0.8), so the fitted ensemble scores 1.
awk 'BEGIN { print "Image,Id"; for (i = 0; i < 20; i++) printf "e%02d,w_%d\n", i, i % 10 }' \
    > etruth.csv
for m in 0 1; do
    awk -v m=$m 'BEGIN { for (i = 0; i < 20; i++) {
        t = i % 10; d = (i + 1 + m) % 10
        if (i % 2 == m) printf "e%02d\tw_%d\t0.9\ne%02d\tw_%d\t0.3\n", i, t, i, d
        else printf "e%02d\tw_%d\t0.8\ne%02d\tw_%d\t0.5\n", i, d, i, t } }' > model$m.tsv
done
hwi-fuse --fit etruth.csv -r rep.tsv model0.tsv model1.tsv > /dev/null
cut -f1-3,5,6 rep.tsv > out.tsv
cat > want.tsv <<EOF
# stage${T}queries${T}map5${T}map5_nw${T}options
alone:model0.tsv${T}20${T}0.750000${T}0.750000${T}--weights=1,0 --nw-weights=1,0
alone:model1.tsv${T}20${T}0.750000${T}0.750000${T}--weights=0,1 --nw-weights=0,1
fused${T}20${T}1.000000${T}1.000000${T}--weights=1,1 --nw-weights=0,0
EOF
compare_ want.tsv out.tsv
# --min-gain: a fusion must lead the best input alone (0.75) by that much,
# else the first such input alone (its new_whale weight 0: it lists none)
hwi-fuse --fit etruth.csv --min-gain=0.3 -r rep.tsv model0.tsv model1.tsv > mg.tsv
grep -q "^fused${T}20${T}0.750000${T}.*${T}--weights=1,0 --nw-weights=0,0\$" rep.tsv ||
    fail_ "--min-gain=0.3: $(cat rep.tsv)"
hwi-fuse -w 1,0 --nw-weights 0,0 model0.tsv model1.tsv > want.tsv
compare_ want.tsv mg.tsv
hwi-fuse --fit etruth.csv --min-gain=0.2 -r rep.tsv model0.tsv model1.tsv > /dev/null
grep -q "^fused${T}20${T}1.000000${T}.*${T}--weights=1,1 --nw-weights=0,0\$" rep.tsv ||
    fail_ "--min-gain=0.2: $(cat rep.tsv)"
returns_ 2 hwi-fuse --fit etruth.csv --min-gain=1.5 model0.tsv model1.tsv 2> err
returns_ 2 hwi-fuse --min-gain=0.1 model0.tsv model1.tsv 2> err
grep -q "need --fit" err || fail_ "--min-gain without --fit: $(cat err)"
returns_ 2 hwi-fuse --softmax --fit truth.csv --min-gain=0.1 lg.bin 2> err
# Four inputs, the two models and two misleading ones (the same decoy at 0.9,
# the truth at 0.1): equal weights are misled; the coordinate ascent drops a
# misleading input and reaches 1, as the full grid does.
for m in 0 1; do
    awk -v m=$m 'BEGIN { for (i = 0; i < 20; i++)
        printf "e%02d\tw_%d\t0.9\ne%02d\tw_%d\t0.1\n", i, (i + 5) % 10, i, i % 10 }' \
        > noise$m.tsv
done
hwi-fuse --fit etruth.csv --search=ascent -r rep.tsv noise0.tsv model0.tsv noise1.tsv \
    model1.tsv > asc.tsv
grep -q "^fused${T}20${T}1.000000${T}" rep.tsv || fail_ "ascent: $(cat rep.tsv)"
w=$(awk -F "$T" '$1 == "fused" { print $6 }' rep.tsv)
hwi-fuse $w noise0.tsv model0.tsv noise1.tsv model1.tsv > b.tsv
compare_ b.tsv asc.tsv
hwi-fuse --fit etruth.csv -r rep.tsv noise0.tsv model0.tsv noise1.tsv model1.tsv > /dev/null
grep -q "^fused${T}20${T}1.000000${T}" rep.tsv || fail_ "grid: $(cat rep.tsv)"
# equal weights do worse
hwi-fuse -u noise0.tsv model0.tsv noise1.tsv model1.tsv |
    hwi-thresh --fit etruth.csv -r rep.tsv > /dev/null
awk -F "$T" '$1 == "thresh" && $5 + 0 >= 0.9 { exit 1 }' rep.tsv ||
    fail_ "equal weights already reach $(cat rep.tsv)"
returns_ 2 hwi-fuse --fit etruth.csv --search=random model0.tsv model1.tsv 2> err
returns_ 2 hwi-fuse --search=ascent model0.tsv model1.tsv 2> err

# ---- bad input ----
# unsorted input where the merge-join needs sorted input: names file and line
returns_ 1 hwi-fuse knn.tsv sm-rev.tsv > /dev/null 2> err
grep -q "sm-rev.tsv:4: query 'q1' comes after 'q2': inputs must be sorted by query" err ||
    fail_ "unsorted: $(cat err)"
# a query split in two places
printf 'q1\tw_a\t1\nq2\tw_a\t1\nq1\tw_b\t1\n' > split.tsv
returns_ 1 hwi-fuse -u split.tsv sm.tsv > /dev/null 2> err
grep -q "split.tsv:3: query 'q1' appears again" err || fail_ "split: $(cat err)"
# NaN and Inf scores
printf 'q1\tw_a\tnan\n' > nan.tsv
returns_ 1 hwi-fuse nan.tsv sm.tsv > /dev/null 2> err
grep -q "nan.tsv:1: score 'nan' is not a finite number" err || fail_ "nan: $(cat err)"
printf 'q1\tw_a\t1e999\n' > inf.tsv
returns_ 1 hwi-fuse inf.tsv > /dev/null 2> err
grep -q "inf.tsv:1:" err || fail_ "inf: $(cat err)"
# a truth file missing a query
printf 'Image,Id\nq1,w_b\n' > short.csv
returns_ 1 hwi-fuse --fit short.csv knn.tsv sm.tsv > /dev/null 2> err
grep -q "short.csv: no label for query 'q2' (knn.tsv:5)" err || fail_ "truth: $(cat err)"
returns_ 1 hwi-fuse --softmax --fit short.csv lg.bin > /dev/null 2> err
grep -q "short.csv: no label for query 'q2' (lg.bin: record 2)" err ||
    fail_ "truth logits: $(cat err)"
# empty weight grids
returns_ 2 hwi-fuse --fit truth.csv --grid= knn.tsv sm.tsv > /dev/null 2> err
grep -q "invalid value for --grid: empty grid" err || fail_ "empty grid: $(cat err)"
returns_ 2 hwi-fuse --fit truth.csv --grid=1:0:1 knn.tsv sm.tsv > /dev/null 2> err
grep -q "STOP is below START" err || fail_ "empty range: $(cat err)"
returns_ 2 hwi-fuse --fit truth.csv --nw-grid= knn.tsv sm.tsv > /dev/null 2> err
returns_ 2 hwi-fuse --fit truth.csv -T '' knn.tsv sm.tsv > /dev/null 2> err
returns_ 2 hwi-fuse --fit truth.csv -g 0 knn.tsv sm.tsv > /dev/null 2> err
grep -q "only zeros" err || fail_ "zero grid: $(cat err)"
returns_ 2 hwi-fuse --fit truth.csv -g 1 -g 2 -g 3 knn.tsv sm.tsv > /dev/null 2> err
# a logits stream without column names, or without keys
printf 'q1\t1\t2\n' | pack > nonames.bin
returns_ 1 hwi-fuse --softmax nonames.bin > /dev/null 2> err
grep -q "nonames.bin: no column names: a logits stream needs the class labels" err ||
    fail_ "no names: $(cat err)"
returns_ 1 hwi-fuse --softmax knn.tsv > /dev/null 2> err
grep -q "knn.tsv: not a vector stream" err || fail_ "not a stream: $(cat err)"
printf '# key\tw_a\tw_a\nq1\t1\t2\n' | pack > dup.bin
returns_ 1 hwi-fuse --softmax dup.bin > /dev/null 2> err
grep -q "column name 'w_a' appears twice" err || fail_ "dup names: $(cat err)"
printf '# key\tw_a\nq1\t1\nq1\t2\n' | pack > dupkey.bin
returns_ 1 hwi-fuse --softmax dupkey.bin > /dev/null 2> err
grep -q "dupkey.bin: record 2: key 'q1' appears twice" err || fail_ "dup key: $(cat err)"
printf 'q1\tw_a\t1e39\n' > big.tsv
returns_ 1 hwi-fuse big.tsv > /dev/null 2> err
grep -q "big.tsv:1: query 'q1': score 1e+39 of 'w_a' is beyond float range" err ||
    fail_ "big: $(cat err)"
# mismatched label sets: --missing=error names the label; disjoint sets fail
returns_ 1 hwi-fuse --missing error knn.tsv sm.tsv > /dev/null 2> err
grep -q "query 'q1': label 'w_c' is in sm.tsv but not in knn.tsv" err ||
    fail_ "missing=error: $(cat err)"
printf 'q1\tc1\t0.5\nq2\tc2\t0.5\n' > other.tsv
returns_ 1 hwi-fuse knn.tsv other.tsv > /dev/null 2> err
grep -q "knn.tsv and other.tsv have no label in common: mismatched label sets" err ||
    fail_ "disjoint: $(cat err)"
returns_ 1 hwi-fuse --fit truth.csv knn.tsv other.tsv > /dev/null 2> err
grep -q "no label in common" err || fail_ "disjoint fit: $(cat err)"
# no partial output on error
returns_ 1 hwi-fuse -o part.tsv knn.tsv sm-rev.tsv 2> /dev/null
[ -e part.tsv ] && fail_ "partial output left behind"
ls part.tsv.tmp* 2> /dev/null && fail_ "temporary file left behind"
# usage errors
returns_ 2 hwi-fuse > /dev/null 2> err
returns_ 2 hwi-fuse -w 1,2,3 knn.tsv sm.tsv 2> err
grep -q "3 weights for 2 files" err || fail_ "weights: $(cat err)"
returns_ 2 hwi-fuse -w 1:2:1 knn.tsv 2> err
returns_ 2 hwi-fuse -w -1 knn.tsv 2> err
returns_ 2 hwi-fuse --fit truth.csv -w 1,1 knn.tsv sm.tsv 2> err
returns_ 2 hwi-fuse -g 1 knn.tsv 2> err
returns_ 2 hwi-fuse --multiplier 2 knn.tsv 2> err
returns_ 2 hwi-fuse --softmax lg.bin lg.bin 2> err
returns_ 2 hwi-fuse - - < knn.tsv 2> err
returns_ 2 hwi-fuse --fit - - sm.tsv < truth.csv 2> err
grep -q 'standard input (-) given twice' err || fail_ "--fit - -: $(cat err)"
returns_ 2 hwi-fuse --softmax --fit - < lg.bin 2> err
returns_ 2 hwi-fuse --missing maybe knn.tsv 2> err
returns_ 2 hwi-fuse -k -1 knn.tsv 2> err
returns_ 2 hwi-fuse --fit truth.csv -N sometimes knn.tsv 2> err
returns_ 1 hwi-fuse no-such-file.tsv 2> err
# the report and the output: both or neither
echo previous > rep.tsv
if [ -w /dev/full ]; then
    returns_ 1 hwi-fuse --fit truth.csv -r rep.tsv -o /dev/full knn.tsv sm.tsv 2> err
    [ "$(cat rep.tsv)" = previous ] || fail_ "report replaced, output on a full disk"
    returns_ 1 hwi-fuse --fit truth.csv -r /dev/full -o both-out.tsv knn.tsv sm.tsv 2> err
    [ -e both-out.tsv ] && fail_ "output written, report on a full disk"
fi
returns_ 1 hwi-fuse --fit truth.csv -r rep.tsv -o no-dir/out.tsv knn.tsv sm.tsv 2> err
[ "$(cat rep.tsv)" = previous ] || fail_ "report replaced without the output"
ls rep.tsv.tmp* both-out.tsv.tmp* 2> /dev/null && fail_ "temporary file left behind"

exit 0
