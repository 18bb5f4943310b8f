#!/bin/sh
# hwi-synth: the label statistics of the full preset, a tiny data set in
# Kaggle's layout, the same bytes from the same seed whatever the number of
# threads, a pipeline through hwi-split and hwi-eval, bad usage.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-synth

# the competition's counts (train.csv: 25361 photos, 9664 new_whale, 5004
# named whales, 2073 with one photo; ~28% of test photos unknown)
cat > want << 'EOT'
# hwi-synth label statistics
train_photos	25361
test_photos	7960
named_individuals	5004
train_new_whale	9664
train_new_whale_frac	0.3811
test_new_whale	2229
test_new_whale_frac	0.2800
unnamed_individuals	10889
named_with_1_photos	2073
named_with_2_photos	1285
named_with_3_photos	568
named_with_4_photos	273
named_with_5_photos	172
named_with_6-10_photos	445
named_with_11-20_photos	120
named_with_>20_photos	68
max_photos_per_individual	71
mean_photos_per_named	3.137
named_with_2plus_photos	2931
individuals_gaining_a_scar	187
EOT
hwi-synth --stats --scale full > out
compare_ want out

# a tiny data set, twice with the same seed and different thread counts
hwi-synth --quiet --scale tiny --seed 3 --threads 1 a 2> err
[ -s err ] && fail_ "--quiet wrote to stderr: $(cat err)"
hwi-synth --scale tiny -s 3 -j 3 b 2> err
grep -q '^hwi-synth: wrote 60 train and 20 test photos of 12 named whales to b in ' err ||
    fail_ "summary: $(cat err)"
(cd a && find . -type f | sort) > list-a
(cd b && find . -type f | sort) > list-b
compare_ list-a list-b
while read -r f; do
    cmp "a/$f" "b/$f" || fail_ "$f differs between two runs with the same seed"
done < list-a

# Kaggle's layout: the CSV files and one JPEG per row
head -1 a/train.csv | grep -qx 'Image,Id' || fail_ "train.csv header"
head -1 a/solution.csv | grep -qx 'Image,Id' || fail_ "solution.csv header"
head -1 a/bounding_boxes.csv | grep -qx 'Image,x0,y0,x1,y1' || fail_ "boxes header"
[ "$(tail -n +2 a/train.csv | wc -l)" -eq 60 ] || fail_ "train.csv rows"
[ "$(tail -n +2 a/solution.csv | wc -l)" -eq 20 ] || fail_ "solution.csv rows"
[ "$(tail -n +2 a/bounding_boxes.csv | wc -l)" -eq 80 ] || fail_ "bounding_boxes.csv rows"
[ "$(grep -c ',new_whale$' a/train.csv)" -eq 23 ] || fail_ "new_whale in train"
tail -n +2 a/train.csv | cut -d, -f1 | sort > names-train
(cd a/train && ls) > files-train
compare_ names-train files-train
tail -n +2 a/solution.csv | cut -d, -f1 | sort > names-test
(cd a/test && ls) > files-test
compare_ names-test files-test
tail -n +2 a/bounding_boxes.csv | cut -d, -f1 > names-box
sort names-train names-test > names-all
compare_ names-all names-box
# names like Kaggle's, sorted; ids w_ + 7 hex digits
grep -vqE '^[0-9a-f]{8}\.jpg$' names-all && fail_ "bad image name"
tail -n +2 a/train.csv | cut -d, -f2 | grep -vqE '^(w_[0-9a-f]{7}|new_whale)$' && fail_ "bad id"
# test truth: a known id or new_whale
tail -n +2 a/train.csv | cut -d, -f2 | sort -u > ids
tail -n +2 a/solution.csv | cut -d, -f2 | sort -u > test-ids
[ -z "$(comm -13 ids test-ids)" ] || fail_ "test ids absent from train: $(comm -13 ids test-ids)"
# JPEG files
for f in a/train/*.jpg; do
    [ "$(head -c 2 "$f" | od -An -tx1 | tr -d ' ')" = ffd8 ] || fail_ "$f is not a JPEG"
done
# boxes inside their photos (libvips-tools' vipsheader, when present)
if command -v vipsheader > /dev/null 2>&1; then
    (cd a && for f in train/*.jpg test/*.jpg; do vipsheader "$f"; done) |
        sed 's|^[a-z]*/\([^:]*\): \([0-9]*\)x\([0-9]*\) .*|\1 \2 \3|' | sort > sizes
    tail -n +2 a/bounding_boxes.csv | tr , ' ' | sort > boxes
    join sizes boxes | awk '!($4 >= 0 && $4 <= $6 && $6 < $2 && $5 >= 0 && $5 <= $7 && $7 < $3) { print; bad = 1 }
                            END { exit bad }' || fail_ "box outside its photo"
fi

# --shift: the same plan and train photos, other test photos; still the
# same bytes whatever the number of threads
hwi-synth -q --scale tiny -s 3 -j 1 --shift sa
hwi-synth -q --scale tiny -s 3 -j 2 --shift sb
diff -r sa sb > /dev/null || fail_ "--shift: two thread counts differ"
diff -r a/train sa/train > /dev/null || fail_ "--shift changed train photos"
for f in train.csv solution.csv; do
    cmp a/$f sa/$f || fail_ "--shift changed $f"
done
for f in a/test/*.jpg; do
    cmp "$f" "s$f" > /dev/null && fail_ "--shift left $f as it was"
done
# the other camera's small JPEGs: the shifted test set is smaller
[ "$(cat sa/test/*.jpg | wc -c)" -lt "$(cat a/test/*.jpg | wc -c)" ] ||
    fail_ "shifted test photos are not smaller"

# another seed, another data set
hwi-synth -q --scale tiny -s 4 c
cmp a/train.csv c/train.csv > /dev/null && fail_ "seeds 3 and 4 gave the same train.csv"

# pipeline: split the tiny set, score a perfect and a new_whale-only answer
hwi-split --new-whale 2 --train tr.csv --val va.csv a/train.csv 2> /dev/null
awk -F, 'NR == 1 { print; next } { print $1 "," $2 }' va.csv | hwi-eval va.csv | head -1 > out
printf 'map5\t1.000000\n' > want
compare_ want out
awk -F, 'NR == 1 { print; next } { print $1 ",new_whale" }' a/solution.csv |
    hwi-eval a/solution.csv | sed -n 5p > out
printf 'queries\t20\n' > want
compare_ want out

# bad usage: exit 2
returns_ 2 hwi-synth --scale huge d 2> err
grep -q "invalid value 'huge' for --scale" err || fail_ "scale: $(cat err)"
returns_ 2 hwi-synth --seed -1 d 2> err
returns_ 2 hwi-synth --threads 257 d 2> err
returns_ 2 hwi-synth 2> err
grep -q 'missing OUTDIR' err || fail_ "no outdir: $(cat err)"
returns_ 2 hwi-synth d e 2> err
[ -e d ] && fail_ "a usage error created OUTDIR"
# OUTDIR that cannot be one: exit 1
: > file
returns_ 1 hwi-synth --scale tiny file 2> err
grep -q '^hwi-synth: file: not a directory' err || fail_ "file: $(cat err)"
returns_ 1 hwi-synth --scale tiny no/such/dir 2> err
grep -q '^hwi-synth: no/such/dir: cannot create directory' err || fail_ "parent: $(cat err)"
exit 0
