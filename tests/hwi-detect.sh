#!/bin/sh
# hwi-detect: a tiny training run lowers the loss and beats the whole-photo
# box; predicted boxes crop as the same boxes given by hand; rotated EXIF;
# bad input.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-detect
command -v vips > /dev/null || skip_ "vips (libvips-tools) not found"

"$HWI_BIN/hwi-synth" -q --scale tiny -j 2 d
ls d/train > train.list
ls d/test > test.list

# training: the loss falls
"$HWI_BIN/hwi-detect" --train -b d/bounding_boxes.csv -d d/train -i train.list \
    -o det --epochs 30 --batch 16 --lr 0.02 -j 2 2> train.err || { cat train.err; fail_ "training failed"; }
[ -s det.cfg ] && [ -s det.weights ] || fail_ "no model written"
awk '/after the first epoch/ { a = $0; sub(/.*loss /, "", a); sub(/ .*/, "", a);
     b = $0; sub(/.* epoch, /, "", b); sub(/ .*/, "", b);
     exit !(b + 0 < a + 0) }' train.err || { cat train.err; fail_ "the loss did not fall"; }

# prediction on the training photos beats the whole-photo box
"$HWI_BIN/hwi-detect" -m det -d d/train -i train.list --eval d/bounding_boxes.csv \
    -o pred.csv --scores scores.tsv -j 2 2> eval.err || { cat eval.err; fail_ "predict failed"; }
awk '/IoU with/ { m = $0; sub(/.*photos: mean /, "", m); sub(/;.*/, "", m);
     w = $0; sub(/.*whole photo: mean /, "", w); sub(/,.*/, "", w);
     exit !(m + 0 > w + 0.05) }' eval.err || { cat eval.err; fail_ "boxes no better than the whole photo"; }
head -1 pred.csv | grep -qx 'Image,x0,y0,x1,y1' || fail_ "bad header"
[ "$(wc -l < pred.csv)" -eq "$(($(wc -l < train.list) + 1))" ] || fail_ "a row per photo"
[ "$(grep -vc '^#' scores.tsv)" -eq "$(wc -l < train.list)" ] || fail_ "a score per photo"

# refinement: a new model carries the mark and its passes move the boxes;
# a model without the mark (trained before refinement) predicts with
# --refine=0 whatever --refine says, and says so
grep -q '^# hwi-detect-views=1' det.cfg || fail_ "no refinement mark in the model"
"$HWI_BIN/hwi-detect" -q -m det -d d/train -i train.list --refine 0 -j 2 > r0.csv
cmp -s r0.csv pred.csv && fail_ "--refine=3 gives the boxes of --refine=0"
grep -v '^# hwi-detect-views' det.cfg > old.cfg
cp det.weights old.weights
"$HWI_BIN/hwi-detect" -q -m old -d d/train -i train.list --refine 0 -j 2 > o0.csv
"$HWI_BIN/hwi-detect" -m old -d d/train -i train.list --refine 2 -j 2 > o2.csv 2> o2.err
cmp o0.csv o2.csv || fail_ "an unmarked model refined its boxes"
grep -q 'trained without refinement views' o2.err || fail_ "no word on the unmarked model"
returns_ 2 "$HWI_BIN/hwi-detect" -q -m det --refine -1 x.jpg || fail_ "bad --refine"
returns_ 2 "$HWI_BIN/hwi-detect" --train -b d/bounding_boxes.csv -o x --refine 1 ||
    fail_ "--train with --refine"

# round trip: the predicted boxes crop the same pixels as the same boxes
# given by hand (re-typed as TSV)
tail -n +2 pred.csv | tr ',' '\t' > hand.tsv
"$HWI_BIN/hwi-crop" -q -S 32 -b pred.csv -d d/train -i train.list > a.pix
"$HWI_BIN/hwi-crop" -q -S 32 -b hand.tsv -d d/train -i train.list > b.pix
cmp a.pix b.pix || fail_ "the detected boxes crop other pixels"

# rotated EXIF: a photo stored turned a quarter and tagged Orientation 6
# (turn right to display) gets its box in the displayed photo's pixels,
# where hwi-crop reads it: the displayed photo (vips autorot, lossless
# PNG) gets the same box, give or take the JPEG decoder's shrink-on-load,
# and the detected box crops the same pixels as that box given by hand
# for the displayed photo
one=$(head -1 train.list)
mkdir r
vips rot "d/train/$one" r/s0.jpg d270 || framework_failure_ "vips rot"
exif_orient_ r/s0.jpg r/s.jpg 6
vips autorot r/s.jpg r/up.png || framework_failure_ "vips autorot"
W=$(vipsheader -f width r/up.png); H=$(vipsheader -f height r/up.png)
[ "$W" -gt "$H" ] || framework_failure_ "the displayed photo is not landscape"
"$HWI_BIN/hwi-detect" -q -m det -d r s.jpg up.png > rot.csv || fail_ "rotated photo"
b=$(sed -n 2p rot.csv | cut -d, -f2-); a=$(sed -n 3p rot.csv | cut -d, -f2-)
echo "EXIF-rotated ${W}x$H: $b; displayed: $a"
echo "$b" | awk -F, -v W="$W" -v H="$H" '{ exit !($1 >= 0 && $2 >= 0 && $3 <= W && $4 <= H &&
    $3 > $1 && $4 > $2 && $3 > H) }' || fail_ "EXIF-rotated photo ${W}x$H: box $b"
echo "$a,$b" | awk -F, -v W="$W" '{ for (i = 1; i <= 4; i++) { d = $i - $(i + 4)
    if (d < -0.03 * W || d > 0.03 * W) exit 1 } }' ||
    fail_ "EXIF-rotated photo: $b, displayed photo: $a"
printf 'Image,x0,y0,x1,y1\nup.png,%s\n' "$b" > hand.csv
"$HWI_BIN/hwi-crop" -q -S 32 --no-shrink-on-load -b rot.csv -d r s.jpg > a.pix
"$HWI_BIN/hwi-crop" -q -S 32 --no-shrink-on-load -b hand.csv -d r up.png > b.pix
"$HWI_BIN/hwi-vec" a.pix | cut -f2- > a.txt
"$HWI_BIN/hwi-vec" b.pix | cut -f2- > b.txt
compare_ b.txt a.txt

# bad input
echo garbage > bad.jpg
returns_ 1 "$HWI_BIN/hwi-detect" -q -m det bad.jpg > out || fail_ "a bad photo must fail"
[ -s out ] && fail_ "partial output after a bad photo"
"$HWI_BIN/hwi-detect" -q -m det --keep-going bad.jpg "d/train/$one" > out 2> err && fail_ "--keep-going exits 1"
grep -q 'bad.jpg' err || fail_ "the bad photo is not named"
[ "$(wc -l < out)" -eq 2 ] || fail_ "--keep-going keeps the good photo"
returns_ 1 "$HWI_BIN/hwi-detect" -q -m nosuch "d/train/$one" || fail_ "missing model"
returns_ 1 "$HWI_BIN/hwi-detect" -q -m det nosuch.jpg || fail_ "missing photo"
returns_ 2 "$HWI_BIN/hwi-detect" -q "d/train/$one" || fail_ "no --model"
returns_ 2 "$HWI_BIN/hwi-detect" --train -o x || fail_ "--train without --boxes"
returns_ 2 "$HWI_BIN/hwi-detect" -q -m det --epochs 0 x.jpg || fail_ "bad --epochs"
exit 0
