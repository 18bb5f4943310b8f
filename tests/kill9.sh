#!/bin/sh
# kill9: kill -9 every writer at random points, over and over, and check
# that each output is then the previous one or the new one byte for byte,
# never a mix and never missing, and that a store passes
# PRAGMA integrity_check with all or none of an interrupted add's rows.
# kill -9 cannot be caught: the temporary file it leaves (NAME.tmpXXXXXX)
# is counted and removed, and must never have replaced an output.
#
# HWI_KILL9_COUNT kills per writer (default 2, for make check); the
# report's figures come from a larger count, e.g.
#   HWI_KILL9_COUNT=100 make check TESTS=tests/kill9.sh
# HWI_KILL9_SEED seeds the kill times (default 1).
. "${srcdir:-.}/tests/init.sh"
. "$srcdir/tests/train-data.sh"

count=${HWI_KILL9_COUNT:-2}
seed=${HWI_KILL9_SEED:-1}
cfg="$HWI_DATADIR/pcb-tiny.cfg"
[ -f "$cfg" ] || framework_failure_ "no $cfg"
make_pixels_ "$(cfg_size_ "$cfg")" 1
hwi-vec --pack -o pix.bin pix.txt
hwi-train -c pcb-tiny --batch 4 -j 1 -e 1 -s 1 -l train.csv -o m pix.bin 2> /dev/null
hwi-synth --scale tiny -q -j 1 syn
cut -d, -f1 syn/train.csv | sed 1d | head -n 20 > crop.list

# now_ms: milliseconds since the epoch
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# delay_ MS: a random delay in seconds, 0..MS ms, from the seeded stream
step=0
delay_() {
    step=$((step + 1))
    awk -v s="$seed" -v k="$step" -v t="$1" 'BEGIN { srand(s * 7919 + k); printf "%.3f", rand() * t / 1000 }'
}

kills=0 finished=0 temps=0

# killed_ PID: reap PID; true if kill -9 ended it, count a finished run
killed_() {
    set +e
    wait "$1"
    st=$?
    set -e
    [ $st -eq 137 ] && return 0
    [ $st -eq 0 ] || fail_ "exit status $st"
    finished=$((finished + 1))
    return 1
}

# aim_ PID GLOB: half the kills (odd trials) wait for a file matching GLOB
# (a temporary file, a journal) to appear first, polling without a fork,
# then 0..10 ms more, so they land while the program writes; the others
# land anywhere in the reference run's time
aim_() {
    [ $((i % 2)) -eq 1 ] || return 0
    k=0
    while [ $k -lt 20000 ] && kill -0 "$1" 2> /dev/null; do
        for x in $2; do [ -e "$x" ] && d=$short && return 0; done
        k=$((k + 1))
    done
}

# trial_ NAME OUTS -- CMD...: OUTS (space-separated files) hold old/ and
# new/ copies; run CMD COUNT times, killed at a random point of its
# reference run time, and check each output.
trial_() {
    name=$1 outs=$2
    shift 3
    # the reference run gives the new outputs and the time to aim in
    for f in $outs; do cp "old/$f" "$f"; done
    t0=$(now_ms)
    "$@" > /dev/null 2>&1 || fail_ "$name: reference run failed"
    t=$(($(now_ms) - t0))
    for f in $outs; do cp "$f" "new/$f"; done
    i=0
    while [ $i -lt "$count" ]; do
        i=$((i + 1))
        for f in $outs; do cp "old/$f" "$f"; done
        d=$(delay_ $t) short=$(delay_ 10)
        "$@" > /dev/null 2>&1 &
        pid=$!
        aim_ $pid "*.tmp* crops/*.tmp*"
        sleep "$d"
        kill -9 "$pid" 2> /dev/null || true
        killed_ "$pid" && kills=$((kills + 1))
        for f in $outs; do
            [ -e "$f" ] || fail_ "$name: kill $i: $f missing"
            cmp -s "$f" "old/$f" || cmp -s "$f" "new/$f" ||
                fail_ "$name: kill $i: $f is neither the old nor the new one"
        done
        for f in $(ls -A | grep '\.tmp' || true) $(ls -A crops 2> /dev/null | grep '\.tmp' | sed 's|^|crops/|' || true); do
            temps=$((temps + 1))
            rm -f "$f"
        done
    done
}

mkdir old new
# hwi-train: the cfg, weights and labels (old: another seed's model)
hwi-train -c pcb-tiny --batch 4 -j 1 -e 1 -s 2 -l train.csv -o old/t pix.bin 2> /dev/null
trial_ hwi-train "t.cfg t.weights t.labels" -- \
    hwi-train -c pcb-tiny --batch 4 -j 1 -e 2 -s 3 -l train.csv -o t pix.bin
# hwi-embed -o, hwi-knn -o, hwi-fuse -o: old is arbitrary text
for f in e.bin k.tsv fu.tsv; do echo "previous $f" > "old/$f"; done
trial_ hwi-embed e.bin -- hwi-embed -m m -j 1 -o e.bin pix.bin
trial_ hwi-knn k.tsv -- hwi-knn --gallery pix.bin -l train.csv -o k.tsv pix.bin
grep -v '^nolabel' new/k.tsv | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 > ks.tsv
trial_ hwi-fuse fu.tsv -- hwi-fuse -o fu.tsv ks.tsv ks.tsv
# hwi-crop -o: every crop file (old: crops of another size)
mkdir crops old/crops new/crops
hwi-crop -q -S 24 -j 1 -b syn/bounding_boxes.csv -d syn/train -i crop.list -o old/crops
crops=$(cd old/crops && ls | sed 's|^|crops/|')
[ -n "$crops" ] || framework_failure_ "no crops"
trial_ hwi-crop "$crops" -- \
    hwi-crop -q -S 32 -j 2 -b syn/bounding_boxes.csv -d syn/train -i crop.list -o crops

# hwi-store add: a new model each time, so the rows are all or none
store_kills=0
if command -v sqlite3 > /dev/null; then
    hwi-store create st.db
    hwi-store add -m base st.db pix.bin
    n=$(hwi-store list st.db | awk '$1 == "base" { s += $5 } END { print s }')
    [ "$n" -gt 0 ] || framework_failure_ "store: $n rows"
    t0=$(now_ms)
    hwi-store add -m ref st.db pix.bin
    t=$(($(now_ms) - t0))
    i=0
    while [ $i -lt "$count" ]; do
        i=$((i + 1))
        d=$(delay_ $t) short=$(delay_ 10)
        hwi-store add -m "k$i" st.db pix.bin 2> /dev/null &
        pid=$!
        aim_ $pid "st.db-journal st.db-wal"
        sleep "$d"
        kill -9 "$pid" 2> /dev/null || true
        killed_ "$pid" && store_kills=$((store_kills + 1))
        ok=$(sqlite3 st.db 'PRAGMA integrity_check;')
        [ "$ok" = ok ] || fail_ "store: kill $i: integrity_check: $ok"
        got=$(hwi-store list st.db | awk -v m="k$i" '$1 == m { s += $5 } END { print s + 0 }')
        [ "$got" -eq 0 ] || [ "$got" -eq "$n" ] || fail_ "store: kill $i: $got of $n rows"
        got=$(hwi-store list st.db | awk '$1 == "base" { s += $5 } END { print s + 0 }')
        [ "$got" -eq "$n" ] || fail_ "store: kill $i: base has $got of $n rows"
    done
fi

echo "kill9: $kills writer kills, $store_kills store kills, $finished runs finished first, $temps temporary files left by kill -9 (removed)" >&2
exit 0
