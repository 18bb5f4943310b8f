#!/bin/sh
# hwi-crop: exact crops of synthetic photos, every input kind, the stream
# contract, the crop folder, and every kind of bad input.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-crop
command -v vips > /dev/null || skip_ "vips (libvips-tools) not found"
command -v python3 > /dev/null || skip_ "python3 not found"

# gen.py: fixtures with known pixels, written as netpbm (exact); EXIF
# orientation is spliced into a JPEG by exif_orient_ (init.sh).
cat > gen.py << 'EOF'
import sys
def netpbm(path, w, h, bands, maxval, f):
    magic = b"P5" if bands == 1 else b"P6"
    out = bytearray()
    for y in range(h):
        for x in range(w):
            for v in f(x, y):
                out += v.to_bytes(2, "big") if maxval > 255 else bytes([v])
    with open(path, "wb") as fp:
        fp.write(b"%s %d %d %d\n" % (magic, w, h, maxval) + bytes(out))
what = sys.argv[1]
if what == "ramp":      # 20x12 gray, pixel (x, y) = 12x + y, all distinct
    netpbm(sys.argv[2], 20, 12, 1, 255, lambda x, y: [12 * x + y])
elif what == "flat":    # W x H of one colour: flat PATH W H MAXVAL V...
    w, h, m = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    vals = [int(v) for v in sys.argv[6:]]
    netpbm(sys.argv[2], w, h, len(vals), m, lambda x, y: vals)
elif what == "blocks":  # 48x32 gray, 8x8 blocks of distinct flat values
    netpbm(sys.argv[2], 48, 32, 1, 255, lambda x, y: [40 * (y // 8) + 6 * (x // 8) + 10])
EOF
gen() { python3 gen.py "$@" || framework_failure_ "gen.py $*"; }

# values: a stream on stdin as "key v1 v2 ..." with values back in 0..255
values() {
    hwi-vec | awk -F'\t' '{ printf "%s", $1; for (i = 2; i <= NF; i++) printf " %d", $i * 255 + 0.5; print "" }'
}

mkdir photos
gen ramp photos/ramp.pgm
vips copy photos/ramp.pgm photos/ramp.png

# ---------------------------------------------------------------------------
# The crop, exactly: box (5,2)-(14,11) has w = h = 9; with margin 0.1 the
# crop is columns floor(5 - 0.9) = 4 .. floor(14 + 0.9) = 14 (exclusive)
# and rows 1 .. 11 (exclusive): 10 x 10 pixels, 12x + y.  Size 10 with the
# nearest kernel copies them.
printf 'Image,x0,y0,x1,y1\nramp.png,5,2,14,11\n' > boxes.csv
hwi-crop -q -b boxes.csv -d photos -S 10 -K nearest > s.bin
values < s.bin > got
awk 'BEGIN { printf "ramp.png"; for (y = 1; y <= 10; y++) for (x = 4; x <= 13; x++) printf " %d", 12 * x + y; print "" }' > want
compare_ want got

# the stream contract: keyed, dim S*S, values pixel/255 as float32; the
# header announces the record count (so hwi-embed can show "N of total"),
# except with --keep-going, which may skip photos
hwi-vec --info s.bin > info
printf 'dim\t100\nkeyed\tyes\nnamed\tno\ncount\t1\nrecords\t1\n' > want
compare_ want info
hwi-crop -q --keep-going -b boxes.csv -d photos -S 10 -K nearest | hwi-vec --info > info
printf 'dim\t100\nkeyed\tyes\nnamed\tno\ncount\t0\nrecords\t1\n' > want
compare_ want info
hwi-vec s.bin | cut -f 1,2 > got
printf 'ramp.png\t0.192156866\n' > want   # float32(49) / float32(255)
compare_ want got

# margin 0: columns [5, 14), rows [2, 11), as apply_bboxes.py
hwi-crop -q -b boxes.csv -d photos -S 9 -K nearest --margin 0 | values > got
awk 'BEGIN { printf "ramp.png"; for (y = 2; y <= 10; y++) for (x = 5; x <= 13; x++) printf " %d", 12 * x + y; print "" }' > want
compare_ want got

# clamping: box (14,6)-(19,11), margin 0.5: columns floor(11.5) = 11 ..
# min(20, 21) = 20, rows floor(3.5) = 3 .. min(12, 13) = 12: 9 x 9
printf 'ramp.png\t14\t6\t19\t11\n' > boxes.tsv
hwi-crop -q -b boxes.tsv -d photos -S 9 -K nearest --margin 0.5 | values > got
awk 'BEGIN { printf "ramp.png"; for (y = 3; y <= 11; y++) for (x = 11; x <= 19; x++) printf " %d", 12 * x + y; print "" }' > want
compare_ want got

# the same box from the CSV and from the TSV, through stdin
printf 'Image,x0,y0,x1,y1\nramp.png,14,6,19,11\n' | hwi-crop -q -b - -d photos -S 9 --margin 0.5 > a.bin
printf '# a comment\nramp.png\t14\t6\t19\t11\n' | hwi-crop -q -b - -d photos -S 9 --margin 0.5 > b.bin
cmp a.bin b.bin || fail_ "CSV and TSV boxes differ"

# ---------------------------------------------------------------------------
# Any input made gray: Pillow's luma round(0.299 R + 0.587 G + 0.114 B):
# (10,200,30) -> 123.81 -> 124; (255,0,0) -> 76; 16-bit values are v*257.
gen flat photos/rgb.ppm 6 4 255 10 200 30
gen flat photos/red.ppm 6 4 255 255 0 0
gen flat photos/rgb16.ppm 6 4 65535 2570 51400 7710
gen flat photos/gray16.pgm 6 4 65535 25700
vips copy photos/rgb.ppm photos/rgb.png
vips bandjoin_const photos/rgb.png photos/rgba.png 128
vips copy photos/rgb16.ppm photos/rgb16.png
vips copy photos/gray16.pgm photos/gray16.tif
vipsheader photos/rgb16.png | grep -q ushort || framework_failure_ "rgb16.png is not 16-bit"
vipsheader photos/rgba.png | grep -q '4 bands' || framework_failure_ "rgba.png has no alpha"
hwi-crop -q -d photos -S 2 rgb.ppm red.ppm rgb.png rgba.png rgb16.png gray16.tif | values > got
cat > want << 'EOF'
rgb.ppm 124 124 124 124
red.ppm 76 76 76 76
rgb.png 124 124 124 124
rgba.png 124 124 124 124
rgb16.png 124 124 124 124
gray16.tif 100 100 100 100
EOF
compare_ want got

# CMYK: converted through sRGB; libvips' profiles decide the exact value
if vips colourspace photos/rgb.png photos/cmyk.jpg cmyk 2> /dev/null; then
    vipsheader photos/cmyk.jpg | grep -q cmyk || framework_failure_ "cmyk.jpg is not CMYK"
    hwi-crop -q -d photos -S 2 cmyk.jpg | values > got
    awk '{ for (i = 2; i <= NF; i++) if ($i < 104 || $i > 164) exit 1 }' got ||
        fail_ "CMYK gray far from 124 (+-20, the profiles shift it): $(cat got)"
fi

# ---------------------------------------------------------------------------
# EXIF orientation: boxes refer to the upright photo.  The crop of a tagged
# JPEG equals the crop of the same pixels turned upright by vips autorot.
gen blocks photos/blocks.pgm
vips copy photos/blocks.pgm photos/blocks.jpg[Q=100]
printf 'Image,x0,y0,x1,y1\nt.jpg,3,5,20,27\n' > rot.csv
printf 'Image,x0,y0,x1,y1\nt.pgm,3,5,20,27\n' > up.csv
o=2
while [ $o -le 8 ]; do
    exif_orient_ photos/blocks.jpg photos/t.jpg $o
    vips autorot photos/t.jpg photos/t.pgm
    hwi-crop -q -b rot.csv -d photos -S 12 -K nearest | values | cut -d' ' -f2- > got
    hwi-crop -q -b up.csv -d photos -S 12 -K nearest | values | cut -d' ' -f2- > want
    compare_ want got
    o=$((o + 1))
done
# orientation 6 swaps the sides: the upright photo is 32 x 48
exif_orient_ photos/blocks.jpg photos/t.jpg 6
printf 'Image,x0,y0,x1,y1\nt.jpg,0,40,5,47\n' > tall.csv
hwi-crop -q -b tall.csv -d photos -S 4 > /dev/null
# --no-autorotate: boxes refer to the stored pixels
vips copy photos/t.jpg photos/t.pgm
printf 'Image,x0,y0,x1,y1\nt.pgm,3,5,20,27\n' > up.csv
hwi-crop -q -b rot.csv -d photos -S 12 -K nearest --no-autorotate | values | cut -d' ' -f2- > got
hwi-crop -q -b up.csv -d photos -S 12 -K nearest --no-autorotate | values | cut -d' ' -f2- > want
compare_ want got
returns_ 1 hwi-crop -q -b tall.csv -d photos -S 4 --no-autorotate > /dev/null 2> err
grep -q 'outside the 48x32 image' err || fail_ "no-autorotate: $(cat err)"

# JPEG shrink-on-load (a 1/8 decode here) gives the flat value unchanged
gen flat photos/big.ppm 1024 768 255 90 90 90
vips copy photos/big.ppm photos/big.jpg[Q=95]
hwi-crop -q -d photos -S 16 big.jpg | values > got
hwi-crop -q -d photos -S 16 --no-shrink-on-load big.jpg | values > want
compare_ want got
awk '{ for (i = 2; i <= NF; i++) if ($i < 89 || $i > 91) exit 1 }' got || fail_ "shrink: $(cat got)"

# ---------------------------------------------------------------------------
# Photos without a box are used whole, with a warning and in the summary.
gen flat photos/flat.pgm 30 10 255 77
printf 'Image,x0,y0,x1,y1\nramp.png,5,2,14,11\n' > boxes.csv
hwi-crop -b boxes.csv -d photos -S 3 flat.pgm ramp.png > s.bin 2> err
values < s.bin | cut -d' ' -f1 > got
printf 'flat.pgm\nramp.png\n' > want
compare_ want got
values < s.bin | head -n 1 > got
echo 'flat.pgm 77 77 77 77 77 77 77 77 77' > want
compare_ want got
cat > want << 'EOF'
hwi-crop: flat.pgm: no box in boxes.csv: using the whole photo
hwi-crop: 2 photos: 1 cropped to their box, 1 used whole, 0 failed
EOF
compare_ want err

# --images takes the photos from a list (train.csv works: column 1)
printf 'Image,Id\nramp.png,w_1\nflat.pgm,new_whale\n' > train.csv
hwi-crop -q -b boxes.csv -d photos -S 3 -i train.csv | values | cut -d' ' -f1 > got
printf 'ramp.png\nflat.pgm\n' > want
compare_ want got

# ---------------------------------------------------------------------------
# The crop folder: 8-bit gray PNGs named after the photos, same pixels as
# the stream; other formats by suffix.
hwi-crop -q -b boxes.csv -d photos -o out -S 10 -K nearest
[ -f out/ramp.png ] || fail_ "no out/ramp.png"
vipsheader out/ramp.png > got
printf 'out/ramp.png: 10x10 uchar, 1 band, b-w, pngload\n' > want
compare_ want got
vips copy out/ramp.png out.pgm
tail -c 100 out.pgm | od -An -v -tu1 | xargs > got
hwi-crop -q -b boxes.csv -d photos -S 10 -K nearest | values | cut -d' ' -f2- > want
compare_ want got
for f in tif pgm jpg; do
    hwi-crop -q -b boxes.csv -d photos -o out -F $f -S 8 -z 9
    [ -f out/ramp.$f ] || fail_ "--format=$f: no out/ramp.$f"
done
hwi-crop -q -b boxes.csv -d photos -o out -F jpg -Q 20 -S 64
vipsheader out/ramp.jpg | grep -q '64x64 uchar, 1 band' || fail_ "--quality: $(vipsheader out/ramp.jpg)"
# --force only matters on a terminal; elsewhere it changes nothing
hwi-crop -q -f -b boxes.csv -d photos -S 8 > f.bin
hwi-crop -q -b boxes.csv -d photos -S 8 > nf.bin
cmp f.bin nf.bin || fail_ "--force changed the stream"
# --stream writes the stream too
tab=$(printf '\t')
hwi-crop -q -b boxes.csv -d photos -o out2 --stream -S 8 | hwi-vec --info | grep -q "^records${tab}1\$" ||
    fail_ "--stream"
[ -f out2/ramp.png ] || fail_ "--stream: no crop file"

# the pixel stream pipes into its readers; with threads the order is the
# input order
i=0
: > many.csv
echo 'Image,x0,y0,x1,y1' > many.csv
while [ $i -lt 12 ]; do
    cp photos/ramp.png photos/r$i.png
    echo "r$i.png,$i,0,$((i + 5)),$((i % 7 + 3))" >> many.csv
    i=$((i + 1))
done
hwi-crop -q -b many.csv -d photos -j 1 > j1.bin
hwi-crop -q -b many.csv -d photos -j 4 > j4.bin
cmp j1.bin j4.bin || fail_ "threads change the stream"
hwi-vec --info j4.bin | grep -q "^dim${tab}147456\$" || fail_ "default size is not 384x384"
hwi-vec j4.bin | cut -f1 | xargs > got
echo 'r0.png r1.png r2.png r3.png r4.png r5.png r6.png r7.png r8.png r9.png r10.png r11.png' > want
compare_ want got

# ---------------------------------------------------------------------------
# Bad input: one line naming the list, its line and the photo; exit 1.
cp photos/blocks.jpg photos/good.jpg
head -c 2000 photos/big.jpg > photos/trunc.jpg
echo 'not an image' > photos/text.jpg
cat > bad.csv << 'EOF'
Image,x0,y0,x1,y1
good.jpg,1,1,30,20
missing.jpg,1,1,5,5
trunc.jpg,1,500,1000,700
text.jpg,1,1,5,5
good2.jpg,100,1,120,5
../good.jpg,1,1,5,5
/tmp/good.jpg,1,1,5,5
inv.jpg,10,1,5,5
nan.jpg,x,1,5,5
good.jpg,1,1,5,5
EOF
cp photos/good.jpg photos/good2.jpg
check_bad() { # LINE PATTERN: hwi-crop stops at the first bad photo
    grep -n . bad.csv | sed -n "1p;2p;${1}p" | cut -d: -f2- > one.csv
    returns_ 1 hwi-crop -b one.csv -d photos -o badout -S 8 > /dev/null 2> err
    head -n 1 err | grep -q "^hwi-crop: one.csv:3: $2" || fail_ "line $1: $(cat err)"
}
check_bad 3 'photos/missing.jpg: No such file or directory$'
check_bad 4 'photos/trunc.jpg: .*'
check_bad 5 'photos/text.jpg: .*'
check_bad 6 'photos/good2.jpg: box (100,1)-(120,5) lies outside the 48x32 image$'
check_bad 7 "\.\./good.jpg: '\.\.' in the photo name leaves the photo root$"
check_bad 8 "/tmp/good.jpg: absolute path: name the photo relative to the photo root"
check_bad 9 'inv.jpg: inverted box (10,1)-(5,5)$'
check_bad 10 "nan.jpg: x0 is 'x', not a pixel coordinate$"
[ "$(wc -l < err)" -eq 2 ] || fail_ "more than an error and a summary: $(cat err)"

# without --keep-going the first error ends the run, exit 1
returns_ 1 hwi-crop -b bad.csv -d photos -o badout -S 8 > s.bin 2> err
grep -q 'bad.csv:3: photos/missing.jpg' err || fail_ "first error: $(cat err)"
grep -q 'the rest skipped' err || fail_ "summary: $(cat err)"
# its stream announces every photo: no reader takes the cut stream as whole
returns_ 1 hwi-crop -b bad.csv -d photos -S 8 > s.bin 2> err
returns_ 1 hwi-vec --info s.bin > /dev/null 2> err
grep -q 'header announces 10 records, stream has 1$' err || fail_ "cut stream: $(cat err)"
# --keep-going: every error reported in order, the good photos done, exit 1
returns_ 1 hwi-crop --keep-going -b bad.csv -d photos -o badout --stream -S 8 > s.bin 2> err
grep -o '^hwi-crop: bad.csv:[0-9]*:' err | cut -d' ' -f2 > got
cat > want << 'EOF'
bad.csv:3:
bad.csv:4:
bad.csv:5:
bad.csv:6:
bad.csv:7:
bad.csv:8:
bad.csv:9:
bad.csv:10:
bad.csv:11:
EOF
compare_ want got
grep -q 'bad.csv:11: good.jpg: listed twice (first at line 2)' err || fail_ "duplicate: $(cat err)"
tail -n 1 err | grep -q ': 10 photos: 1 cropped to their box, 0 used whole, 9 failed$' ||
    fail_ "summary: $(tail -n 1 err)"
hwi-vec s.bin | cut -f1 > got
echo good.jpg > want
compare_ want got
# no crop of a bad photo, no temporary file, nothing outside the folder
ls badout > got
echo good.png > want
compare_ want got
[ -e good.png ] && fail_ "a crop was written outside the output folder"

# with threads, each failure still carries its own libvips message
i=0
: > args
while [ $i -lt 6 ]; do
    cp photos/text.jpg photos/text$i.jpg
    cp photos/trunc.jpg photos/trunc$i.jpg
    echo "text$i.jpg trunc$i.jpg" >> args
    i=$((i + 1))
done
# shellcheck disable=SC2046
returns_ 1 hwi-crop -q --keep-going -j 4 -S 8 -d photos $(cat args) > /dev/null 2> err
grep -c 'photos/text[0-5].jpg: VipsForeignLoad: "photos/text[0-5].jpg" is not a known file format$' err > got
grep -c 'photos/trunc[0-5].jpg: VipsJpeg: Premature end of input file$' err >> got
printf '6\n6\n' > want
compare_ want got

# names from the command line are checked the same way
returns_ 1 hwi-crop -q -d photos ../x.jpg > /dev/null 2> err
grep -q "^hwi-crop: \.\./x.jpg: '\.\.' in the photo name leaves" err || fail_ "operand: $(cat err)"
returns_ 1 hwi-crop -q -d photos a/../../x.jpg > /dev/null 2> err
grep -q "^hwi-crop: a/\.\./\.\./x.jpg: '\.\.' in" err || fail_ "operand: $(cat err)"

# a field layout: folders per camera card, camera names repeated; the key
# is the normalised path under --dir, and the crops keep the folders
mkdir -p photos/card1 photos/card2
cp photos/ramp.png photos/card1/IMG_0001.png
cp photos/blocks.jpg photos/card2/IMG_0001.png
hwi-crop -q -S 8 -d photos ./card1//IMG_0001.png card2/x/../IMG_0001.png > cards.bin
hwi-vec cards.bin | cut -f1 > got
printf 'card1/IMG_0001.png\ncard2/IMG_0001.png\n' > want
compare_ want got
hwi-crop -q -S 8 -d photos -o cardout card1/IMG_0001.png card2/IMG_0001.png
test -f cardout/card1/IMG_0001.png && test -f cardout/card2/IMG_0001.png ||
    fail_ "crops not in their folders: $(find cardout)"
cmp cardout/card1/IMG_0001.png cardout/card2/IMG_0001.png > /dev/null &&
    fail_ "two photos, one crop"
# the same photo twice under two spellings is one key, listed twice
returns_ 1 hwi-crop -q -S 8 -d photos card1/IMG_0001.png ./card1/IMG_0001.png \
    > /dev/null 2> err
grep -q 'listed twice' err || fail_ "$(cat err)"
# two photos whose crops would have the same name
cp photos/ramp.png photos/ramp.jpg
returns_ 1 hwi-crop -q --keep-going -d photos -o out ramp.png ramp.jpg 2> err
grep -q 'ramp.jpg: its crop ramp.png would overwrite that of ramp.png' err || fail_ "$(cat err)"
# a bad box file ends the run before any photo
printf 'Image,x,y\n' > hdr.csv
returns_ 1 hwi-crop -b hdr.csv -d photos > /dev/null 2> err
grep -q 'hdr.csv:1: bad header' err || fail_ "header: $(cat err)"
printf 'ramp.png\t1\t2\n' > short.tsv
returns_ 1 hwi-crop -b short.tsv -d photos > /dev/null 2> err
grep -q 'short.tsv:1: expected 5 tab-separated fields' err || fail_ "tsv: $(cat err)"
returns_ 1 hwi-crop -b no-such.csv -d photos > /dev/null 2> err
grep -q 'no-such.csv: No such file or directory' err || fail_ "missing boxes: $(cat err)"

# usage errors: exit 2
for bad in '-S 0' '-S x' '-m -1' '-K bicubic' '-F gif' '-Q 0' '-z 10' '-j -1'; do
    # shellcheck disable=SC2086
    returns_ 2 hwi-crop $bad -d photos ramp.png > out.bin 2> err
    [ -s out.bin ] && fail_ "$bad wrote to stdout"
    grep -q '^hwi-crop: ' err || fail_ "$bad: $(cat err)"
done
returns_ 2 hwi-crop -d photos > /dev/null 2> err
grep -q 'no photos' err || fail_ "no photos: $(cat err)"
returns_ 2 hwi-crop -i train.csv -d photos ramp.png > /dev/null 2> err
exit 0
