#!/bin/sh
# bad-input: a corpus of hostile inputs, made here, and the verdict every
# program must give on each: exit 1 or 2, a one-line 'hwi-X: ' message on
# stderr, nothing on stdout and no output file, never a signal or a
# sanitizer report.  Each case is a regression of issue 10.
. "${srcdir:-.}/tests/init.sh"
. "$srcdir/tests/train-data.sh"

# verdict_ NAME CMD...: run CMD (stdout to out.NAME), check the verdict.
verdict_() {
    name=$1
    shift
    set +e
    "$@" > "out.$name" 2> "err.$name"
    got=$?
    set -e
    case $got in
    1 | 2) ;;
    *) cat "err.$name" >&2; fail_ "$name: '$*' exited $got, expected 1 or 2" ;;
    esac
    # hwi-crop streams, so it writes its header before the first photo;
    # the header announces every photo, so no reader takes it as complete
    case $name in
    crop-*) [ -s "out.$name" ] && hwi-vec -i "out.$name" > /dev/null 2>&1 &&
        fail_ "$name: a complete stream on stdout" ;;
    *) [ -s "out.$name" ] && fail_ "$name: output on stdout" ;;
    esac
    grep -Eq 'Sanitizer|runtime error' "err.$name" && { cat "err.$name" >&2; fail_ "$name: sanitizer report"; }
    [ "$(wc -l < "err.$name")" -eq 1 ] || { cat "err.$name" >&2; fail_ "$name: not one line on stderr"; }
    grep -q "^hwi-[a-z]*: " "err.$name" || fail_ "$name: message does not name the program"
    rm -f "out.$name" "err.$name"
}

# --- text formats: NUL bytes, endless lines, /dev/zero --------------------
printf 'Image,Id\na.jpg,w_1\nb.jpg\000,w_2\n' > nul.csv
verdict_ csv-nul hwi-eval nul.csv nul.csv
verdict_ csv-devzero hwi-eval /dev/zero
printf 'q\tw_1\t0.5\nq\tw_2\000\t0.2\n' > nul.tsv
verdict_ tsv-nul hwi-thresh --threshold 0.5 nul.tsv
verdict_ tsv-devzero hwi-thresh --threshold 0.5 /dev/zero
printf 'q\tw_1\tnan\n' > nan.tsv
verdict_ tsv-nan hwi-thresh --threshold 0.5 nan.tsv
: > empty.bin
verdict_ stream-empty hwi-vec empty.bin
printf 'NOPE0000000000000000000000000000' > magic.bin
verdict_ stream-magic hwi-vec magic.bin
printf 'a.jpg\t1\t2\nb.jpg\t3\t4\n' > v.txt
hwi-vec --pack v.txt > v.bin
head -c 50 v.bin > trunc.bin
verdict_ stream-truncated hwi-vec -o t.txt trunc.bin
[ -e t.txt ] && fail_ "stream-truncated left t.txt"
verdict_ stream-truncated-stdout hwi-vec trunc.bin
printf 'a.jpg\t1\t2\nb.jpg\t3\tx\n' > vbad.txt
verdict_ vec-pack-bad-line hwi-vec --pack vbad.txt
printf 'a.jpg\t1\t2\000\n' > vnul.txt
verdict_ vec-nul hwi-vec --pack vnul.txt

# --- stores edited by other tools, corrupt stores --------------------------
hwi-store create s.db
awk 'BEGIN { srand(3); for (i = 0; i < 200; i++) { printf "i%03d.jpg", i;
    for (k = 0; k < 8; k++) printf "\t%.3f", rand(); print "" } }' > g.txt
hwi-vec --pack g.txt > g.bin
hwi-store add -m r50 s.db g.bin
verdict_ store-empty-model hwi-store add -m '' s.db g.bin
verdict_ store-tab-model hwi-store add -m "$(printf 'a\tb')" s.db g.bin
if command -v sqlite3 > /dev/null 2>&1; then
    cp s.db n.db
    sqlite3 n.db "PRAGMA writable_schema=1; UPDATE sqlite_schema SET
        sql=replace(sql, 'name  TEXT NOT NULL UNIQUE', 'name TEXT UNIQUE')
        WHERE name='images';"
    sqlite3 n.db "UPDATE images SET name = NULL WHERE id = 3"
    verdict_ store-null-export hwi-store export -m r50 -o e.bin n.db
    verdict_ store-null-knn hwi-knn -D n.db -m r50 v.bin
    cp s.db l.db
    sqlite3 l.db "PRAGMA writable_schema=1; UPDATE sqlite_schema SET rootpage=4
        WHERE name='images'"
    verdict_ store-rootpage-list hwi-store list l.db
fi
page=$(od -An -tu1 -j16 -N2 s.db | awk '{ print $1 * 256 + $2 }')
for fill in garbage zero emptyleaf; do
    cp s.db c.db
    case $fill in
    garbage) awk -v n="$page" 'BEGIN { while (n--) printf "A" }' ;;
    zero) head -c "$page" /dev/zero ;;
    emptyleaf) { printf '\015\000\000\000\000\020\000\000'; head -c $((page - 8)) /dev/zero; } ;;
    esac > page.bin
    # page 2 is the images table's root (data/schema.sql's first table)
    dd if=page.bin of=c.db bs="$page" seek=1 conv=notrunc 2> /dev/null
    verdict_ "store-$fill-list" hwi-store list c.db
    verdict_ "store-$fill-export" hwi-store export -m r50 -o e.bin c.db
    [ -e e.bin ] && fail_ "store-$fill-export left e.bin"
    verdict_ "store-$fill-knn" hwi-knn -D c.db -m r50 v.bin
done
head -c 3000 s.db > cut.db
verdict_ store-truncated hwi-store list cut.db
mkdir dir.db
verdict_ store-directory hwi-store list dir.db

# --- photos that are not files: no read forever ---------------------------
if command -v vips > /dev/null 2>&1; then
    vips black p.png 20 20
    printf 'Image,x0,y0,x1,y1\np.png,1,1,10,10\np.png,2,2,12,12\n' > dup.csv
    printf 'p.png\n' > list.txt
    verdict_ crop-dup-box hwi-crop -q -S 8 -b dup.csv -d . -i list.txt
    printf 'p.png\t1\t1\t10\t10\np.png\t2\t2\t12\t12\n' > dup.tsv
    verdict_ crop-dup-box-tsv hwi-crop -q -S 8 -b dup.tsv -d .
fi
verdict_ crop-devzero timeout 20 hwi-crop -q -S 8 -d /dev zero
verdict_ crop-list-devzero timeout 20 hwi-crop -q -S 8 -d . -i /dev/zero
verdict_ crop-boxes-devzero timeout 20 hwi-crop -q -S 8 -d . -b /dev/zero
mkfifo fifo
verdict_ crop-fifo timeout 20 hwi-crop -q -S 8 -d . fifo
mkdir photo.png
verdict_ crop-directory hwi-crop -q -S 8 -d . photo.png

# --- cfgs: NUL byte, absurd sizes, no [net]; absurd batch -------------------
cfg="$HWI_DATADIR/pcb-tiny.cfg"
S=$(cfg_size_ "$cfg")
make_pixels_ "$S" 1
hwi-vec --pack -o pix.bin pix.txt
{ head -n 5 "$cfg"; printf 'width=6\0004\n'; tail -n +7 "$cfg"; } > nul.cfg
grep -q '^width=64' "$cfg" && sed -n 6p "$cfg" | grep -q '^width' ||
    framework_failure_ "pcb-tiny.cfg changed: line 6 is not width"
verdict_ cfg-nul hwi-train -c ./nul.cfg --batch 4 -j 1 -l train.csv -o m pix.bin
sed 's/^filters=8$/filters=4000000/' "$cfg" > filters.cfg
verdict_ cfg-filters hwi-train -c ./filters.cfg --batch 4 -j 1 -l train.csv -o m pix.bin
grep -q 'filters.cfg:[0-9]*: \[convolutional\] filters=' err.cfg-filters 2> /dev/null || true
sed 's/^width=64$/width=100000/; s/^height=64$/height=100000/' "$cfg" > wide.cfg
verdict_ cfg-input hwi-train -c ./wide.cfg --batch 4 -j 1 -l train.csv -o m pix.bin
sed '0,/^size=3$/s//size=30000/' "$cfg" > kernel.cfg
verdict_ cfg-kernel hwi-train -c ./kernel.cfg --batch 4 -j 1 -l train.csv -o m pix.bin
grep -v '^\[net\]' "$cfg" > nonet.cfg
verdict_ cfg-no-net hwi-train -c ./nonet.cfg --batch 4 -j 1 -l train.csv -o m pix.bin
verdict_ cfg-devzero hwi-train -c /dev/zero --batch 4 -j 1 -l train.csv -o m pix.bin
verdict_ train-batch hwi-train -c pcb-tiny --batch 65536 -j 1 -l train.csv -o m pix.bin
ls m.* > /dev/null 2>&1 && fail_ "a failed hwi-train left m.*"

# the messages name file, line, key and size
hwi-train -c ./filters.cfg --batch 4 -j 1 -l train.csv -o m pix.bin 2> err || true
grep -Eq '^hwi-train: \./filters\.cfg:[0-9]+: \[convolutional\] filters=4000000: .*GB' err ||
    fail_ "no file, line, key and size: $(cat err)"
hwi-train -c ./nul.cfg --batch 4 -j 1 -l train.csv -o m pix.bin 2> err || true
grep -q '^hwi-train: \./nul\.cfg:6: NUL byte' err || fail_ "cfg NUL: $(cat err)"
exit 0
