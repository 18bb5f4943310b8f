#!/bin/sh
# bench/fuse/demo.sh [MODE]: the fitted pipeline of steps 5-6 on demo.py's
# synthetic scores (not a trained model), printing the validation MAP@5 of
# each stage, the same MAP@5 recomputed by map5.py from the written
# validation submission, and the held-out test MAP@5 with the fitted values.
# MODE is hwi-thresh's --new-whale (max, or add as the original code).
# Run from a configured build tree:  sh ../bench/fuse/demo.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${HWI_BIN:-$PWD/bin}
mode=${1:-max}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
PATH="$bin:$PATH"
d=$(mktemp -d "${TMPDIR:-/tmp}/hwi-demo-fuse.XXXXXX")
trap 'rm -rf "$d"' EXIT
S=$(printf '\t')
srt() { LC_ALL=C sort -s -t "$S" -k1,1 "$@"; }

$py "$here/demo.py" "$d"
for s in val test; do
    hwi-vec --pack "$d/$s-logits.txt" > "$d/$s-logits.bin"
    srt "$d/$s-knn.tsv" > "$d/$s-knn.s.tsv"
done

# 1. softmax multiplier (grid of the original), new_whale threshold fitted with it
hwi-fuse --softmax --fit="$d/val.csv" --new-whale="$mode" --report="$d/sm.rep" \
    "$d/val-logits.bin" | srt > "$d/val-sm.tsv"
c=$(awk -F"$S" '$1 == "softmax-fitted" { print $6 }' "$d/sm.rep")
# 2. weights: knn 0..8, its new_whale 0..4, softmax 0..0.8 (find_mixing_proportions)
hwi-fuse --fit="$d/val.csv" --new-whale="$mode" --report="$d/fuse.rep" \
    --grid=0:8:1 --nw-grid=0:4:1 --grid=0:0.8:0.2 \
    "$d/val-knn.s.tsv" "$d/val-sm.tsv" > "$d/val-fused.tsv"
w=$(awk -F"$S" '$1 == "fused" { print $6 }' "$d/fuse.rep")
# 3. threshold, and the validation submission
hwi-thresh --fit="$d/val.csv" --new-whale="$mode" --report="$d/th.rep" \
    --images="$d/val.csv" "$d/val-fused.tsv" > "$d/val-sub.csv"
t=$(awk -F"$S" '$1 == "thresh" { print $6 }' "$d/th.rep")

echo "validation, $(tail -n +2 "$d/val.csv" | wc -l) queries; new_whale mode $mode"
printf '%-34s %8s %10s %8s   %s\n' stage map5 threshold map5_nw options
sed "s|$d/||g" "$d/sm.rep" "$d/fuse.rep" "$d/th.rep" |
    awk -F"$S" '!/^#/ { printf "%-34s %8s %10s %8s   %s\n", $1, $3, $4, $5, $6 }'
echo "map5.py on the validation submission: $($py "$here/map5.py" "$d/val.csv" "$d/val-sub.csv")"
if command -v hwi-eval > /dev/null 2>&1; then
    echo "hwi-eval on the validation submission: $(hwi-eval "$d/val.csv" "$d/val-sub.csv" |
        awk -F"$S" '$1 == "map5" { print $2 }')"
fi

# 4. the test split with the fitted values
hwi-fuse --softmax $c "$d/test-logits.bin" | srt |
    hwi-fuse $w "$d/test-knn.s.tsv" - |
    hwi-thresh $t --images="$d/test-images.txt" > "$d/test-sub.csv"
echo "test submission with $c $w $t"
echo "map5.py on the test submission: $($py "$here/map5.py" "$d/test.csv" "$d/test-sub.csv")"
if command -v hwi-eval > /dev/null 2>&1; then
    echo "hwi-eval on the test submission: $(hwi-eval "$d/test.csv" "$d/test-sub.csv" |
        awk -F"$S" '$1 == "map5" { print $2 }')"
fi
