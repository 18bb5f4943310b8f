#!/bin/sh
# One set of short option letters across all programs (hwi(7), OPTION
# LETTERS): every "-X, --NAME" that a program's --help lists must be the
# table's NAME for X, and the program must accept no short option that its
# --help does not list (no hidden alias with another meaning).
. "${srcdir:-.}/tests/init.sh"

# letter -> long option: the convention first, then the letters kept for
# options of one meaning that shipped scripts use
cat > table << 'EOF2'
j threads
s seed
q quiet
v verbose
k top
o output
f force
m model
d dir
b boxes
i images
S size
D db
l labels
c cfg
e epochs
r report
u unsorted
w weights
g grid
G nw-grid
N new-whale
T threshold-grid
K kernel
F format
Q quality
z compression
EOF2

n=0
for exe in "$HWI_BIN"/hwi-*; do
    [ -x "$exe" ] || continue
    prog=${exe##*/}
    "$exe" --help > help.txt || fail_ "$prog --help failed"
    sed -n 's/^ *-\([A-Za-z0-9]\), --\([a-z0-9-]*\).*/\1 \2/p' help.txt > pairs
    while read -r letter long; do
        want=$(awk -v l="$letter" '$1 == l { print $2 }' table)
        [ -n "$want" ] || fail_ "$prog: -$letter (--$long) is not in the table of hwi(7)"
        [ "$want" = "$long" ] || fail_ "$prog: -$letter means --$long; everywhere else --$want"
        n=$((n + 1))
    done < pairs
    # the letters the program accepts (its getopt_long optstring, or the
    # script's case patterns) must be the ones it lists: no hidden alias
    src="$top_srcdir/bin/$prog.c"
    if [ -f "$src" ]; then
        sed -n 's/.*getopt_long(argc, argv, "\([^"]*\)".*/\1/p' "$src" | tr -d ':' | fold -w1
    else
        src="$top_srcdir/bin/$prog.in"
        [ -f "$src" ] || fail_ "no source found for $prog"
        sed -n 's/^ *-\([A-Za-z0-9]\)|--[a-z].*/\1/p' "$src"
    fi | sed '/^$/d' | sort > accepted
    cut -d' ' -f1 pairs | sort > listed
    [ -s accepted ] || [ ! -s listed ] || fail_ "$prog: no optstring found in $src"
    diff listed accepted > /dev/null || {
        diff listed accepted >&2 || true
        fail_ "$prog: the short options it accepts (>) are not those its --help lists (<)"
    }
done
[ "$n" -gt 20 ] || fail_ "only $n short options found in the --help texts"

# -j 0 is every program's default (all CPUs), so any of them takes it
# (parsed before --help, which then exits 0)
for prog in hwi-crop hwi-detect hwi-embed hwi-knn hwi-synth hwi-train; do
    "$prog" -j 0 --help > /dev/null 2> err || fail_ "$prog refuses -j 0: $(cat err)"
    returns_ 2 "$prog" -j -1 --help > /dev/null 2> err
done
exit 0
