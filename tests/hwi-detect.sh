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

# round trip: the predicted boxes crop the same pixels as the same boxes
# given by hand (re-typed as TSV)
tail -n +2 pred.csv | tr ',' '\t' > hand.tsv
"$HWI_BIN/hwi-crop" -q -S 32 -b pred.csv -d d/train -i train.list > a.pix
"$HWI_BIN/hwi-crop" -q -S 32 -b hand.tsv -d d/train -i train.list > b.pix
cmp a.pix b.pix || fail_ "the detected boxes crop other pixels"

# rotated EXIF: a photo turned by its orientation tag gets the box of the
# upright photo, in upright pixels (its width and height swap)
one=$(head -1 train.list)
if command -v exiftool > /dev/null; then
    mkdir r && cp "d/train/$one" r/up.jpg && vips rot "d/train/$one" r/s.jpg d270 &&
        exiftool -q -overwrite_original -Orientation=6 -n r/s.jpg
    "$HWI_BIN/hwi-detect" -q -m det -d r up.jpg s.jpg > rot.csv
    a=$(sed -n 2p rot.csv | cut -d, -f2-); b=$(sed -n 3p rot.csv | cut -d, -f2-)
    [ "$a" = "$b" ] || fail_ "EXIF-rotated photo: $b, upright photo: $a"
fi

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
