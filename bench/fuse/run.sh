#!/bin/sh
# bench/fuse/run.sh [QUERIES] [LABELS]: hwi-fuse against the pandas script a
# Kaggler would write (fuse_pandas.py), on the same generated scores, side
# by side: seconds and peak memory (/usr/bin/time -v), and their ratios.
# Then hwi-thresh and hwi-fuse --fit on the fused scores, for scale.
# Run from a configured build tree (make first):  sh ../bench/fuse/run.sh 2000 3000
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${HWI_BIN:-$PWD/bin}
nq=${1:-2000}
nl=${2:-3000}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
$py -c 'import numpy, pandas' 2> /dev/null ||
    { echo "run.sh: needs python3-numpy and python3-pandas (apt-get install python3-pandas)" >&2; exit 77; }
[ -x "$bin/hwi-fuse" ] || { echo "run.sh: no $bin/hwi-fuse: run from a build tree" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hwi-bench-fuse.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "generating $nq queries x $nl labels (two inputs) ..."
$py "$here/gen.py" "$nq" "$nl" "$tmp"
echo "input: $(wc -l < "$tmp/knn.tsv") + $(wc -l < "$tmp/sm.tsv") lines, $(du -sh "$tmp" | cut -f1)"

# measure NAME CMD...: run CMD (stdout to $tmp/NAME.out), keep wall and CPU
# (user + system) seconds and peak RSS (MiB) in $secs, $cpu and $rss
measure() {
    name=$1
    shift
    /usr/bin/time -v "$@" > "$tmp/$name.out" 2> "$tmp/$name.time"
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
                          for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$tmp/$name.time")
    cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { print s }' "$tmp/$name.time")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tmp/$name.time")
    printf '%-34s %8.2f s %8.2f s %9s MiB\n' "$name" "$secs" "$cpu" "$rss"
}

echo
printf '%-34s %10s %10s %13s\n' "fuse 2 inputs, weights 3,0.4 / 1,0" "wall" "cpu" "peak RSS"
measure hwi-fuse "$bin/hwi-fuse" -w 3,0.4 --nw-weights 1,0 "$tmp/knn.tsv" "$tmp/sm.tsv"
hs=$secs hc=$cpu hr=$rss
measure pandas $py "$here/fuse_pandas.py" 3,0.4 1,0 "$tmp/knn.tsv" "$tmp/sm.tsv"
ps=$secs pc=$cpu pr=$rss
awk -v hs="$hs" -v ps="$ps" -v hc="$hc" -v pc="$pc" -v hr="$hr" -v pr="$pr" \
    'BEGIN { printf "ratio pandas/hwi-fuse: wall %.1fx, cpu %.1fx, memory %.1fx\n",
             ps / hs, pc / hc, pr / hr }'
$py "$here/compare.py" "$tmp/hwi-fuse.out" "$tmp/pandas.out"

echo
# a truth file: a random label per query, a third of them new_whale
awk -F'\t' 'BEGIN { srand(1); print "Image,Id" } !/^#/ && !seen[$1]++ {
                print $1 "," (rand() < 0.33 ? "new_whale" : sprintf("w_%07x", int(rand() * 50))) }' \
    "$tmp/knn.tsv" > "$tmp/truth.csv"
measure "hwi-thresh --threshold 1.2" "$bin/hwi-thresh" --threshold 1.2 "$tmp/hwi-fuse.out"
measure "hwi-thresh --fit (exact)" "$bin/hwi-thresh" --fit "$tmp/truth.csv" -r "$tmp/th.rep" "$tmp/hwi-fuse.out"
measure "hwi-fuse --fit (5x5 grid)" "$bin/hwi-fuse" --fit "$tmp/truth.csv" -g 0:4:1 -r "$tmp/fit.rep" \
    "$tmp/knn.tsv" "$tmp/sm.tsv"
