#!/bin/sh
# hwi-vec: text <-> vector stream round trips, --info, bad input.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-vec

# happy path: text -> stream -> text is exact
printf '# key\tx\ty\ta.jpg\t1\t-2.5\nb.jpg\t0.1\t3e-05\n' > /dev/null
printf '# key\tx\ty\na.jpg\t1\t-2.5\nb.jpg\t0.100000001\t2.99999992e-05\n' > in.txt
hwi-vec --pack in.txt > s.bin
hwi-vec --names s.bin > out.txt
compare_ in.txt out.txt

# the extremes of float32 survive text -> stream -> text too
printf 'max\t3.40282347e+38\t-3.40282347e+38\t1.40129846e-45\n' > ext.txt
hwi-vec --pack ext.txt | hwi-vec > ext.out
compare_ ext.txt ext.out
printf 'over\t3.4028236e+38\n' > over.txt
returns_ 1 hwi-vec --pack over.txt > /dev/null 2> err
grep -q 'over.txt:1: value 1' err || fail_ "overflow: $(cat err)"

# the header is 32 bytes with the magic first
[ "$(head -c 4 s.bin)" = HWIF ] || fail_ "no magic"
hwi-vec --info s.bin > info.txt
printf 'dim\t2\nkeyed\tyes\nnamed\tyes\ncount\t0\nrecords\t2\n' > want.txt
compare_ want.txt info.txt

# pipeline: stdin to stdout
grep -v '^#' in.txt | hwi-vec --pack | hwi-vec > out2.txt
grep -v '^#' in.txt > want2.txt
compare_ want2.txt out2.txt

# --output writes whole or not at all
hwi-vec --pack -o o.bin in.txt
cmp s.bin o.bin || fail_ "--output differs"

# --output to a FIFO or a device writes into it and never replaces it (as
# root, a rename over /dev/full would replace the device); a directory is
# refused before any work
if mkfifo fifo 2> /dev/null; then
    exec 3<> fifo
    hwi-vec -o fifo s.bin
    [ -p fifo ] || fail_ "--output replaced a FIFO by a file"
    read -r line <&3
    exec 3>&-
    [ "$line" = "$(printf 'a.jpg\t1\t-2.5')" ] || fail_ "FIFO got '$line'"
    # only once the FIFO has shown that nothing is renamed over a device
    if [ -c /dev/full ] && [ -w /dev/full ]; then
        returns_ 1 hwi-vec --pack -o /dev/full in.txt 2> err
        grep -q '^hwi-vec: /dev/full: write error' err || fail_ "/dev/full: $(cat err)"
        [ -c /dev/full ] || framework_failure_ "/dev/full is no longer a device"
    fi
fi
mkdir d
returns_ 1 hwi-vec -o d s.bin 2> err
grep -q '^hwi-vec: d: Is a directory' err || fail_ "directory: $(cat err)"

# --output through a symbolic link replaces the target and keeps the link
mkdir sub
: > sub/target.bin
ln -s sub/target.bin link.bin
hwi-vec --pack -o link.bin in.txt
[ -L link.bin ] || fail_ "--output replaced the symbolic link"
cmp s.bin sub/target.bin || fail_ "--output did not write through the link"

# bad input: truncated stream names the record, exits 1, leaves no output file
head -c 60 s.bin > trunc.bin
returns_ 1 hwi-vec -o t.txt trunc.bin 2> err
grep -q 'record 2.*truncated' err || fail_ "truncated: $(cat err)"
[ -e t.txt ] && fail_ "partial output left behind"
ls t.txt.tmp* 2>/dev/null && fail_ "temporary file left behind"

# bad magic
printf 'NOPE1234567890123456789012345678' > bad.bin
returns_ 1 hwi-vec bad.bin 2> err
grep -q 'bad magic' err || fail_ "magic: $(cat err)"

# mixed dimensions and NaN in text
printf 'a\t1\t2\nb\t1\n' > mixed.txt
returns_ 1 hwi-vec --pack mixed.txt > /dev/null 2> err
grep -q 'mixed.txt:2:' err || fail_ "mixed: $(cat err)"
printf 'a\tnan\n' > nan.txt
returns_ 1 hwi-vec --pack nan.txt > /dev/null 2> err
grep -q 'nan.txt:1:' err || fail_ "nan: $(cat err)"

# a NUL byte would cut the line short
printf 'a\t1\000\t2\n' > nul.txt
returns_ 1 hwi-vec --pack nul.txt > /dev/null 2> err
grep -q 'nul.txt:1: NUL byte in line' err || fail_ "NUL: $(cat err)"

# missing file, extra operand
returns_ 1 hwi-vec no-such-file 2> err
returns_ 2 hwi-vec a b 2> err
exit 0
