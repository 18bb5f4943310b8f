# init.sh: shared set-up of hwi's shell tests; source it first.
#
# Gives: set -eu, LC_ALL=C, $HWI_BIN on PATH, a temporary directory $tmp
# (the working directory, removed on exit), and helpers:
#   returns_ N CMD...   run CMD, fail unless it exits with status N
#   fail_ MSG           report a failure and exit 1
#   skip_ MSG           exit 77 (automake's SKIP)
#   framework_failure_ MSG  exit 99 (automake's ERROR)
#   compare_ EXPECTED ACTUAL  diff two files, fail if they differ
# Programs run under $HWI_VALGRIND when it is set (configure --enable-valgrind).
set -eu
LC_ALL=C
export LC_ALL
unset LANG LANGUAGE || true

: "${HWI_BIN:?HWI_BIN is not set: run the tests with make check}"
: "${srcdir:=.}"
PATH="$HWI_BIN:$PATH"
export PATH

fail_() { printf '%s: FAIL: %s\n' "${0##*/}" "$*" >&2; exit 1; }
skip_() { printf '%s: SKIP: %s\n' "${0##*/}" "$*" >&2; exit 77; }
framework_failure_() { printf '%s: ERROR: %s\n' "${0##*/}" "$*" >&2; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hwi-test.XXXXXX") || framework_failure_ "mktemp"
trap 'cd /; rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$tmp"

# Wrap each hwi program in valgrind when asked to.
if [ -n "${HWI_VALGRIND:-}" ]; then
    mkdir "$tmp/.vg"
    for p in "$HWI_BIN"/hwi-*; do
        [ -x "$p" ] || continue
        printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$HWI_VALGRIND" "$p" > "$tmp/.vg/${p##*/}"
        chmod +x "$tmp/.vg/${p##*/}"
    done
    PATH="$tmp/.vg:$PATH"
fi

returns_() {
    want=$1
    shift
    set +e
    "$@"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || fail_ "'$*' exited $got, expected $want"
}

compare_() {
    diff -u "$1" "$2" || fail_ "$2 differs from $1"
}

# Standard checks every program passes: --help and --version succeed and
# print to stdout, --help to a full disk fails, a bad option exits 2 with a
# message on stderr only, and every option in --help is accepted.
std_options_() {
    prog=$1
    "$prog" --help > help.out || fail_ "$prog --help failed"
    grep -q "^Usage: $prog" help.out || fail_ "$prog --help: no Usage line"
    "$prog" --version > version.out || fail_ "$prog --version failed"
    grep -q "^$prog (hwi) " version.out || fail_ "$prog --version: bad text"
    grep -q '^License GPLv3+' version.out || fail_ "$prog --version: no licence line"
    if [ -w /dev/full ]; then
        returns_ 1 "$prog" --help > /dev/full 2> /dev/null
    fi
    returns_ 2 "$prog" --no-such-option > out 2> err
    [ -s out ] && fail_ "$prog: bad option wrote to stdout"
    grep -q "$prog" err || fail_ "$prog: bad option: no message naming the program"
    rm -f help.out version.out out err
}

# exif_orient_ SRC DST O: DST is the JPEG SRC with an EXIF segment (APP1,
# a little-endian TIFF with one IFD entry: Orientation = O, 1..8) spliced
# in after its SOI marker; no exiftool needed.
exif_orient_() {
    case $3 in [1-8]) ;; *) framework_failure_ "exif_orient_: orientation $3" ;; esac
    { head -c 2 "$1" &&
      printf '\377\341\000\042Exif\000\000II*\000\010\000\000\000\001\000' &&
      printf '\022\001\003\000\001\000\000\000' &&
      printf "\\$(printf %03o "$3")" &&
      printf '\000\000\000\000\000\000\000' &&
      tail -c +3 "$1"; } > "$2" || framework_failure_ "exif_orient_ $*"
}
