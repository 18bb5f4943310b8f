#!/bin/sh
# bad-input-formats: a generated corpus of hostile and odd inputs for every
# file format, each with its expected verdict (issue 10, the wider corpus):
# line ends, numbers that overflow, names with separators in them, empty
# and header-only files, streams and weights files that are cut, have the
# wrong magic or lie in their header, repeated keys, endless lines, and
# directories or unreadable files where files are expected.
#
# case_ NAME STATUS REGEX CMD...: run CMD; it must exit STATUS.  For a
# failure (1 or 2): exactly one line on stderr, 'hwi-X: ' then a message
# matching the extended REGEX, nothing on stdout, no sanitizer report.
# For success (0) REGEX is not used and stdout is kept in out.NAME.
. "${srcdir:-.}/tests/init.sh"
. "$srcdir/tests/train-data.sh"

ncase=0
case_() {
    name=$1 want=$2 re=$3
    shift 3
    ncase=$((ncase + 1))
    set +e
    "$@" > "out.$name" 2> "err.$name"
    got=$?
    set -e
    [ "$got" -eq "$want" ] ||
        { cat "err.$name" >&2; fail_ "$name: '$*' exited $got, expected $want"; }
    grep -Eq 'Sanitizer|runtime error' "err.$name" &&
        { cat "err.$name" >&2; fail_ "$name: sanitizer report"; }
    [ "$want" -eq 0 ] && return 0
    [ -s "out.$name" ] && fail_ "$name: output on stdout"
    [ "$(wc -l < "err.$name")" -eq 1 ] ||
        { cat "err.$name" >&2; fail_ "$name: not one line on stderr"; }
    grep -Eq "^hwi-[a-z]+: $re" "err.$name" ||
        fail_ "$name: message '$(cat "err.$name")' does not match '$re'"
}

# u32/u64 little-endian as printf octal escapes (text), for hand-made
# binary headers; N may be hexadecimal (0x...)
le32_() {
    n=$(($1)) e=
    for i in 1 2 3 4; do
        e="$e\\$(printf '%03o' $((n % 256)))"
        n=$((n / 256))
    done
    printf '%s' "$e"
}
le64_() { printf '%s\\000\\000\\000\\000' "$(le32_ "$1")"; }
# stream header: DIM FLAGS COUNT [VERSION] [RESERVED]
header_() {
    printf "HWIF$(le32_ $((${4:-1} + 32 * 65536)))$(le32_ "$1")$(le32_ "$2")"
    printf "$(le64_ "$3")$(le64_ "${5:-0}")"
}
# one keyed record: KEY V... (values as 32-bit patterns in hex)
record_() {
    k=$1
    shift
    printf "$(le32_ ${#k})%s" "$k"
    for v; do printf "$(le32_ "$v")"; done
}

# --- CSV (hwi-eval TRUTH SUBMISSION; hwi-split; boxes through hwi-crop) ---
printf 'Image,Id\na.jpg,w_1\nb.jpg,w_2\n' > truth.csv
printf 'Image,Id\na.jpg,w_1 w_2\nb.jpg,w_1\n' > sub.csv
case_ csv-lf 0 '' hwi-eval truth.csv sub.csv
sed 's/$/\r/' truth.csv > crlf.csv
sed 's/$/\r/' sub.csv > crlfsub.csv
case_ csv-crlf 0 '' hwi-eval crlf.csv crlfsub.csv
compare_ out.csv-lf out.csv-crlf
printf 'Image,Id\r\na.jpg,w_1\rb.jpg,w_2\r\n' > cr.csv
case_ csv-cr-inside 1 'cr\.csv:2: carriage return' hwi-eval cr.csv sub.csv
: > empty.csv
case_ csv-empty 1 'empty\.csv:1: empty file' hwi-eval empty.csv sub.csv
printf 'Image,Id\n' > header.csv
case_ csv-header-only 1 "sub\.csv:2: unknown image 'a\.jpg'" hwi-eval header.csv sub.csv
printf 'Image,Image\na.jpg,w_1\n' > duphead.csv
case_ csv-dup-header 1 "duphead\.csv:1: bad header" hwi-eval duphead.csv sub.csv
printf 'Image,Id\na.jpg,w_1\na.jpg,w_2\n' > duprow.csv
case_ csv-dup-row 1 "duprow\.csv:3: duplicate image 'a\.jpg' \(first on line 2\)" \
    hwi-eval duprow.csv sub.csv
printf 'Image,Id\n"a.jpg,w_1\n' > unterm.csv
case_ csv-unterminated 1 'unterm\.csv:2: unterminated quoted field' hwi-eval unterm.csv sub.csv
printf 'Image,Id\n"a\nb.jpg",w_1\n' > nlname.csv
case_ csv-newline-in-name 1 'nlname\.csv:2: unterminated quoted field' hwi-eval nlname.csv sub.csv
printf 'Image,Id\na.jpg,w_1,x\n' > extra.csv
case_ csv-extra-field 1 'extra\.csv:2: expected 2 fields' hwi-eval extra.csv sub.csv
awk 'BEGIN { printf "Image,Id\na.jpg,"; for (i = 0; i < 17 * 65536; i++) printf "wwwwwwwwwwwwwwww"; print "" }' > long.csv
case_ csv-long-line 1 'long\.csv:2: line longer than' hwi-eval long.csv sub.csv
rm long.csv
mkdir dir.csv
case_ csv-directory 1 'dir\.csv:1: read error: Is a directory' hwi-eval dir.csv sub.csv
# names with commas, quotes and spaces survive a split and a re-read
printf 'Image,Id\n"a,1.jpg",w_1\n"b""q.jpg",w_1\n c .jpg,w_2\nd.jpg,"w_""2"\n' > odd.csv
case_ csv-odd-names 0 '' hwi-split --train=odd-train.csv --val=odd-val.csv odd.csv
tail -n +2 odd.csv | sort > want.rows
{ tail -n +2 odd-train.csv; tail -n +2 odd-val.csv; } | sort > got.rows
compare_ want.rows got.rows
# boxes: coordinates that overflow or are not integers
if command -v vips > /dev/null 2>&1; then
    vips black p.png 20 20
    printf 'p.png\n' > list.txt
    for v in 9223372036854775808 2147483648 1e999 -1 1.5 0x10 nan ' 1'; do
        printf 'Image,x0,y0,x1,y1\np.png,%s,1,10,10\n' "$v" > box.csv
        case_ "boxes-x0-$v" 1 "box\.csv:2: p\.png: x0 is '$v', not a pixel coordinate" \
            hwi-crop -q -S 8 -b box.csv -d . -i list.txt -o crops
        [ -e crops/p.png ] && fail_ "boxes-x0-$v: a crop file"
    done
    printf 'Image,x0,y0,x1,y1\np.png,-0,1,10,10\n' > box.csv
    case_ boxes-minus-zero 0 '' hwi-crop -q -S 8 -b box.csv -d . -i list.txt -o crops
fi

# --- scores TSV (hwi-thresh -t T FILE) -------------------------------------
printf 'q1\tw_1\t0.9\nq1\tw_2\t0.1\nq2\tw_2\t0.3\n' > s.tsv
case_ tsv-lf 0 '' hwi-thresh --threshold=0.5 s.tsv
sed 's/$/\r/' s.tsv > crlf.tsv
case_ tsv-crlf 0 '' hwi-thresh --threshold=0.5 crlf.tsv
compare_ out.tsv-lf out.tsv-crlf
for v in 1e999 -1e999 nan inf -inf 0x1p9999 '' ' 1' 1x; do
    printf 'q1\tw_1\t%s\n' "$v" > v.tsv
    case_ "tsv-score-$v" 1 "v\.tsv:1: score '$v' is not a finite number" hwi-thresh --threshold=0.5 v.tsv
done
for v in -0 9223372036854775808 1e-999 3.4e38; do
    printf 'q1\tw_1\t%s\n' "$v" > v.tsv
    case_ "tsv-score-ok-$v" 0 '' hwi-thresh --threshold=0.5 v.tsv
done
printf 'q1\tw_1\t1.7976931348623157e308\n' > v.tsv
case_ tsv-score-double-max 1 "v\.tsv:1: query 'q1': score .* beyond float range" \
    hwi-thresh --threshold=0.5 v.tsv
: > empty.tsv
case_ tsv-empty 0 '' hwi-thresh --threshold=0.5 empty.tsv
printf '# query\tlabel\tscore\n' > header.tsv
case_ tsv-header-only 0 '' hwi-thresh --threshold=0.5 header.tsv
compare_ out.tsv-empty out.tsv-header-only
printf 'q\t1\tw_1\t0.5\n' > tab.tsv # a query 'q<TAB>1' shifts the fields
case_ tsv-tab-in-name 1 "tab\.tsv:1: score 'w_1' is not a finite number" \
    hwi-thresh --threshold=0.5 tab.tsv
printf 'q1\tw_1\t0.5\textra\tmore\n' > five.tsv
case_ tsv-five-fields 1 'five\.tsv:1: expected 3 tab-separated fields' hwi-thresh --threshold=0.5 five.tsv
printf 'q1\tw_1\t0.5\nq2\tw_1\t0.5\nq1\tw_2\t0.5\n' > regroup.tsv
case_ tsv-ungrouped 1 "regroup\.tsv:3: query 'q1' appears again" hwi-thresh --threshold=0.5 regroup.tsv
printf 'q1\tw_1\t0.5\nq1\tw_1\t0.4\n' > replabel.tsv
case_ tsv-repeated-label 1 "replabel\.tsv:2: label 'w_1' repeated" hwi-thresh --threshold=0.5 replabel.tsv
awk 'BEGIN { printf "q\tw\t"; for (i = 0; i < 17 * 65536; i++) printf "1111111111111111"; print "" }' > long.tsv
case_ tsv-long-line 1 'long\.tsv:1: line longer than' hwi-thresh --threshold=0.5 long.tsv
rm long.tsv
mkdir dir.tsv
case_ tsv-directory 1 'dir\.tsv' hwi-thresh --threshold=0.5 dir.tsv

# --- vector streams (hwi-vec -i) -------------------------------------------
one=0x3f800000 # 1.0f
{ header_ 2 1 0; record_ a.jpg $one $one; record_ b.jpg $one 0; } > good.bin
case_ stream-good 0 '' hwi-vec --info good.bin
{ header_ 2 1 0; } > noreq.bin
case_ stream-header-only 0 '' hwi-vec --info noreq.bin
{ header_ 2 1 5; record_ a.jpg $one $one; record_ b.jpg $one 0; } > lie-count.bin
case_ stream-count-too-big 1 'lie-count\.bin: header announces 5 records, stream has 2' \
    hwi-vec --info lie-count.bin
{ header_ 2 1 1; record_ a.jpg $one $one; record_ b.jpg $one 0; } > lie-count1.bin
case_ stream-count-too-small 1 'lie-count1\.bin: record 2: more records than the 1 announced' \
    hwi-vec --info lie-count1.bin
{ header_ 3 1 0; record_ a.jpg $one $one; record_ b.jpg $one 0; } > lie-dim.bin
case_ stream-dim-lies 1 'lie-dim\.bin: record 2: ' hwi-vec --info lie-dim.bin
{ header_ 0 1 0; } > dim0.bin
case_ stream-dim-0 1 'dim0\.bin: bad dimension 0' hwi-vec --info dim0.bin
{ header_ 2147483648 1 0; } > dimhuge.bin
case_ stream-dim-huge 1 'dimhuge\.bin: bad dimension 2147483648' hwi-vec --info dimhuge.bin
{ header_ 2 1 0 2; record_ a.jpg $one $one; } > v2.bin
case_ stream-version-2 1 'v2\.bin: stream version 2' hwi-vec --info v2.bin
{ header_ 2 5 0; } > flags.bin
case_ stream-unknown-flags 1 'flags\.bin: unknown flags 0x5' hwi-vec --info flags.bin
{ header_ 2 1 0 1 7; } > reserved.bin
case_ stream-reserved 1 'reserved\.bin: reserved header field is not zero' hwi-vec --info reserved.bin
head -c 20 good.bin > short.bin
case_ stream-short-header 1 'short\.bin: truncated header \(20 of 32 bytes\)' hwi-vec --info short.bin
{ printf 'HWIG'; tail -c +5 good.bin; } > magic.bin
case_ stream-wrong-magic 1 'magic\.bin: not a vector stream \(bad magic\)' hwi-vec --info magic.bin
head -c 60 good.bin > cut.bin
case_ stream-cut-record 1 "cut\.bin: record 2 \(key 'b\.jpg'\): truncated \(2 of 8 bytes" hwi-vec --info cut.bin
{ header_ 2 1 0; record_ "$(printf 'a\tb')" $one $one; } > tabkey.bin
case_ stream-tab-in-key 1 'tabkey\.bin: record 1: contains NUL, TAB or a line break' \
    hwi-vec --info tabkey.bin
{ header_ 2 1 0; record_ "$(printf 'a\rb')" $one $one; } > crkey.bin
case_ stream-cr-in-key 1 'crkey\.bin: record 1: contains NUL, TAB or a line break' \
    hwi-vec --info crkey.bin
{ header_ 2 1 0; printf "$(le32_ 0)"; } > emptykey.bin
case_ stream-empty-key 1 'emptykey\.bin: record 1: bad length 0' hwi-vec --info emptykey.bin
{ header_ 2 1 0; printf "$(le32_ 4294967295)"; } > hugekey.bin
case_ stream-huge-key 1 'hugekey\.bin: record 1: bad length 4294967295' hwi-vec --info hugekey.bin
{ header_ 2 1 0; record_ a.jpg 0x7fc00000 $one; } > nan.bin
case_ stream-nan 1 "nan\.bin: record 1 \(key 'a\.jpg'\): value 1 is NaN" hwi-vec --info nan.bin
{ header_ 2 1 0; record_ a.jpg $one 0xff800000; } > inf.bin
case_ stream-inf 1 "inf\.bin: record 1 \(key 'a\.jpg'\): value 2 is infinite" hwi-vec --info inf.bin
{ header_ 2 3 0; record_ c1 ; } > names.bin # NAMED, 1 of 2 names
case_ stream-cut-names 1 'names\.bin: truncated column names \(1 of 2\)' hwi-vec --info names.bin
: > empty.bin
case_ stream-empty 1 'empty\.bin: truncated header \(0 of 32 bytes\)' hwi-vec --info empty.bin
mkdir dir.bin
case_ stream-directory 1 'dir\.bin' hwi-vec --info dir.bin
# keys with commas, quotes and spaces are fine in a stream
printf 'a,b.jpg\t1\n"q".jpg\t2\n s .jpg\t3\n' > oddkeys.txt
case_ stream-odd-keys 0 '' hwi-vec --pack -o odd.bin oddkeys.txt
hwi-vec odd.bin | cut -f1 > got.keys
cut -f1 oddkeys.txt > want.keys
compare_ want.keys got.keys

# --- cfg and weights (hwi-embed -m MODEL) ----------------------------------
cfg="$HWI_DATADIR/pcb-tiny.cfg"
S=$(cfg_size_ "$cfg")
make_pixels_ "$S" 4
hwi-vec --pack -o pix.bin pix.txt
hwi-train -c pcb-tiny --batch 4 -j 1 -e 1 -l train.csv -o m pix.bin 2> /dev/null
size=$(wc -c < m.weights)
cp m.cfg b.cfg
cp m.labels b.labels
case_ weights-good 0 '' hwi-embed -m m -j 1 -o f.bin pix.bin
mk_() { cat > b.weights; }
: | mk_
case_ weights-empty 1 'b\.weights: 0 bytes: too short' hwi-embed -m b -j 1 pix.bin
head -c $((size - 1)) m.weights | mk_
case_ weights-cut-1 1 'b\.weights: no hwi trailer' hwi-embed -m b -j 1 pix.bin
head -c $((size / 2)) m.weights | mk_
case_ weights-cut-half 1 'b\.weights: no hwi trailer' hwi-embed -m b -j 1 pix.bin
{ cat m.weights; printf x; } | mk_
case_ weights-extra-byte 1 'b\.weights: no hwi trailer' hwi-embed -m b -j 1 pix.bin
{ head -c 100 m.weights; printf '\377'; tail -c +102 m.weights; } | mk_
case_ weights-flipped 1 'b\.weights: checksum mismatch' hwi-embed -m b -j 1 pix.bin
{ printf 'GGUF'; tail -c +5 m.weights; } | mk_
case_ weights-wrong-magic 1 'b\.weights: checksum mismatch' hwi-embed -m b -j 1 pix.bin
head -c "$size" /dev/urandom | mk_
case_ weights-random 1 'b\.weights: (no hwi trailer|checksum mismatch)' hwi-embed -m b -j 1 pix.bin
rm b.weights
mkdir b.weights
case_ weights-directory 1 'b\.weights: not a regular file' hwi-embed -m b -j 1 pix.bin
rmdir b.weights
cp m.weights b.weights
# the cfg: a key given twice, CRLF line ends (accepted), no [net]
awk '/^filters=8$/ && !done { print; print "filters=8"; done = 1; next } { print }' \
    m.cfg > b.cfg
case_ cfg-dup-key 1 "b\.cfg:[0-9]+: key 'filters' given twice in \[convolutional\]" \
    hwi-embed -m b -j 1 pix.bin
sed 's/$/\r/' m.cfg > b.cfg
case_ cfg-crlf 0 '' hwi-embed -m b -j 1 -o f2.bin pix.bin
cmp f.bin f2.bin || fail_ "cfg-crlf: other features than with LF"
printf '[net]\r\nwidth=8\r' > b.cfg
case_ cfg-cut 1 'b\.cfg: no layers' hwi-embed -m b -j 1 pix.bin
: > b.cfg
case_ cfg-empty 1 'b\.cfg: no sections' hwi-embed -m b -j 1 pix.bin
# absurd sizes: refused before anything is allocated, naming file, line,
# section, key and size; zero, negative and overflowing sizes likewise
sed 's/^filters=8$/filters=1000000/' m.cfg > b.cfg
case_ cfg-filters-huge 1 \
    'b\.cfg:[0-9]+: \[convolutional\] filters=1000000: the layer needs [0-9.]+ GB for a batch of 8 ' \
    hwi-embed -m b -j 1 pix.bin
sed '0,/^size=3$/s//size=30000/' m.cfg > b.cfg
case_ cfg-kernel-huge 1 'b\.cfg:[0-9]+: \[convolutional\] size=30000: the layer needs ' \
    hwi-embed -m b -j 1 pix.bin
sed 's/^width=64$/width=100000/; s/^height=64$/height=100000/' m.cfg > b.cfg
case_ cfg-input-huge 1 "b\.cfg:[0-9]+: \[net\] input of 1e\+10 values, beyond Darknet's" \
    hwi-embed -m b -j 1 pix.bin
sed 's/^channels=1$/channels=100000/' m.cfg > b.cfg
case_ cfg-channels-huge 1 'b\.cfg:[0-9]+: \[net\]: the layer needs [0-9.]+ GB' \
    hwi-embed -m b -j 1 pix.bin
for v in 0 -5 99999999999999999999 8x; do
    sed "s/^filters=8\$/filters=$v/" m.cfg > b.cfg
    case_ "cfg-filters-$v" 1 "b\.cfg:[0-9]+: filters: '$v' is not an integer >= 1" \
        hwi-embed -m b -j 1 pix.bin
done
sed '0,/^stride=1$/s//stride=0/' m.cfg > b.cfg
case_ cfg-stride-0 1 "b\.cfg:[0-9]+: stride: '0' is not an integer >= 1" hwi-embed -m b -j 1 pix.bin
# the layers together beyond an address-space limit (ulimit -v): refused
# with the figures before Darknet's unchecked callocs could fail and crash
# (not under a sanitizer or valgrind, which need the address space)
if ! ldd "$HWI_BIN/hwi-embed" | grep -q 'lib[at]san' && [ -z "${HWI_VALGRIND:-}" ]; then
    sed 's/^filters=8$/filters=2000/' m.cfg > b.cfg
    case_ cfg-ulimit 1 \
        'b\.cfg:[0-9]+: \[[a-z]+\].*: the layer needs .*beyond the [0-9.]+ GB of memory left' \
        sh -c 'ulimit -v 1600000 && exec "$0" "$@"' "$HWI_BIN/hwi-embed" -m b -j 1 pix.bin
fi
# the largest --batch a user may give: the first layer's batch output is
# past Darknet's int arrays; no output file, no temporary left behind
case_ embed-batch-65536 1 'm\.cfg:[0-9]+: \[convolutional\] .*for a batch of 65536 ' \
    hwi-embed -m m -j 1 --batch 65536 -o fb.bin pix.bin
ls fb.bin* > /dev/null 2>&1 && fail_ "embed-batch-65536: left $(ls fb.bin*)"
# hwi-train on the same cfgs: no model files at all
sed 's/^filters=8$/filters=1000000/' m.cfg > b.cfg
case_ train-filters-huge 1 '\./b\.cfg:[0-9]+: \[convolutional\] filters=1000000: the layer needs ' \
    hwi-train -c ./b.cfg --batch 4 -j 1 -l train.csv -o t pix.bin
sed 's/^width=64$/width=100000/; s/^height=64$/height=100000/' m.cfg > b.cfg
case_ train-input-huge 1 "\./b\.cfg:[0-9]+: \[net\] input of 1e\+10 values" \
    hwi-train -c ./b.cfg --batch 4 -j 1 -l train.csv -o t pix.bin
case_ train-batch-65536 1 '.*/pcb-tiny\.cfg:[0-9]+: \[convolutional\] .*for a batch of 65536 ' \
    hwi-train -c pcb-tiny --batch 65536 -j 1 -l train.csv -o t pix.bin
ls t.* > /dev/null 2>&1 && fail_ "hwi-train left $(ls t.*)"

# --- stores (hwi-store list) -----------------------------------------------
: > empty.db
case_ store-empty-file 1 'empty\.db: empty store' hwi-store list empty.db
head -c 4096 /dev/urandom > random.db
case_ store-random 1 'random\.db: ' hwi-store list random.db
printf 'SQLite format 3\000' > magic.db
case_ store-header-only 1 'magic\.db: ' hwi-store list magic.db
case_ store-missing 1 'missing\.db: ' hwi-store list missing.db

# --- unreadable files (not as root, who reads everything) -------------------
if [ "$(id -u)" -ne 0 ]; then
    cp truth.csv locked.csv
    chmod 000 locked.csv
    case_ csv-unreadable 1 'locked\.csv: Permission denied' hwi-eval locked.csv sub.csv
    cp good.bin locked.bin
    chmod 000 locked.bin
    case_ stream-unreadable 1 'locked\.bin: Permission denied' hwi-vec --info locked.bin
fi
echo "bad-input-formats: $ncase cases"
exit 0
