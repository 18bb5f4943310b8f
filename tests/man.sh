#!/bin/sh
# Manual pages: lint every page, and check that each program's page names
# every option its --help lists.
. "${srcdir:-.}/tests/init.sh"

mandir="$top_srcdir/man"
if command -v groff > /dev/null 2>&1; then
    for page in "$mandir"/*.[157]; do
        groff -man -ww -z "$page" > lint.out 2>&1 || fail_ "groff failed on $page"
        [ -s lint.out ] && { cat lint.out; fail_ "groff warnings in ${page##*/}"; }
    done
else
    echo "groff not found: lint skipped" >&2
fi

# Every page says where bugs go and under which licence it ships (COPYING).
for page in "$mandir"/*.[157]; do
    grep -q '^\.SH REPORTING BUGS' "$page" || fail_ "${page##*/}: no REPORTING BUGS section"
    grep -q '^\.SH COPYRIGHT' "$page" || fail_ "${page##*/}: no COPYRIGHT section"
    grep -q '^License GPLv3+' "$page" || fail_ "${page##*/}: no GPLv3+ licence line"
done

n=0
for exe in "$HWI_BIN"/hwi-*; do
    [ -x "$exe" ] || continue
    prog=${exe##*/}
    page="$mandir/$prog.1"
    [ -f "$page" ] || fail_ "$prog has no page man/$prog.1"
    "$exe" --help > help.txt
    for opt in $(grep -o -- '--[a-z][a-z0-9-]*' help.txt | sort -u); do
        esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        grep -q -e "$esc" "$page" || fail_ "$prog --help lists $opt, man/$prog.1 does not"
    done
    n=$((n + 1))
done
[ "$n" -gt 0 ] || fail_ "no programs found in $HWI_BIN"
exit 0
