#!/bin/sh
# signals: a writer stopped by SIGINT, SIGTERM or SIGHUP while it waits for
# more input (a FIFO fed by hand) dies by that signal, leaves no temporary
# file, and leaves the previous output as it was; one stopped by SIGPIPE
# on standard output removes the temporary file of its other output.
. "${srcdir:-.}/tests/init.sh"
. "$srcdir/tests/train-data.sh"

command -v mkfifo > /dev/null || skip_ "no mkfifo"
# a background job of a script inherits SIGINT ignored; give the writers
# the default action of every signal, as a terminal would
env --default-signal true 2> /dev/null || skip_ "env has no --default-signal"
# (env execs the program, so $! is its pid)

cfg="$HWI_DATADIR/pcb-tiny.cfg"
[ -f "$cfg" ] || framework_failure_ "no $cfg"
make_pixels_ "$(cfg_size_ "$cfg")" 1
hwi-vec --pack -o pix.bin pix.txt
hwi-train -c pcb-tiny --batch 4 -j 1 -e 1 -l train.csv -o m pix.bin 2> /dev/null
hwi-knn --gallery pix.bin -l train.csv pix.bin | grep -v "^nolabel" | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 > k.tsv
head -c 40000 pix.bin > part.bin # the header and a few records
head -n 5 pix.txt > part.txt
head -n 20 k.tsv > part.tsv

# wait_tmp_ GLOB: wait (at most 20 s) for a temporary file to appear
wait_tmp_() {
    i=0
    while ! ls $1 > /dev/null 2>&1; do
        i=$((i + 1))
        [ $i -le 200 ] || fail_ "no temporary file $1 appeared"
        sleep 0.1
    done
}

# stop_ SIG STATUS OUT PART CMD...: run CMD (which writes OUT and reads
# the FIFO in.fifo), feed it PART, wait for its temporary file, send SIG,
# expect exit status STATUS, no temporary file and OUT unchanged.
stop_() {
    sig=$1 status=$2 out=$3 part=$4
    shift 4
    echo "previous $out" > "$out"
    cp "$out" prev
    rm -f in.fifo
    mkfifo in.fifo
    env --default-signal "$@" 2> err &
    pid=$!
    exec 3> in.fifo
    cat "$part" >&3
    wait_tmp_ "$out.tmp*"
    kill -s "$sig" "$pid"
    exec 3>&- # should the signal be lost, the program ends: no hang
    set +e
    wait "$pid"
    got=$?
    set -e
    [ "$got" -eq "$status" ] || fail_ "$* stopped by SIG$sig exited $got, not $status: $(cat err)"
    ls "$out".tmp* 2> /dev/null && fail_ "$*: SIG$sig left a temporary file"
    cmp -s prev "$out" || fail_ "$*: SIG$sig changed $out"
    n=$((n + 1))
}

n=0
for s in INT:130 TERM:143 HUP:129; do
    sig=${s%:*} st=${s#*:}
    stop_ "$sig" "$st" v.bin part.txt hwi-vec --pack -o v.bin in.fifo
    stop_ "$sig" "$st" k.out part.bin hwi-knn --gallery pix.bin -l train.csv -o k.out in.fifo
    stop_ "$sig" "$st" f.bin part.bin hwi-embed -m m -j 1 -o f.bin in.fifo
    stop_ "$sig" "$st" fu.tsv part.tsv hwi-fuse -o fu.tsv k.tsv in.fifo
done
[ $n -eq 12 ] || framework_failure_ "$n cases"

# SIGPIPE: the submission goes to a closed pipe after the fit report is
# written to its temporary file: the report's temporary file goes, the old
# report stays, and the program still dies by SIGPIPE
echo "previous report" > rep.tsv
cp rep.tsv prev
{
    sleep 1 # let the reader go first
    set +e
    env --default-signal hwi-fuse --fit train.csv --report rep.tsv k.tsv k.tsv 2> err
    echo $? > status
} | true
[ "$(cat status)" -eq 141 ] || fail_ "hwi-fuse on a closed pipe exited $(cat status): $(cat err)"
ls rep.tsv.tmp* 2> /dev/null && fail_ "SIGPIPE left a temporary file"
cmp -s prev rep.tsv || fail_ "SIGPIPE changed the report"
# ... and the same without a temporary file: still the default action
{
    sleep 1
    set +e
    env --default-signal hwi-vec --pack pix.txt 2> err
    echo $? > status
} | true
[ "$(cat status)" -eq 141 ] || fail_ "hwi-vec on a closed pipe exited $(cat status): $(cat err)"
# a program that ignores SIGPIPE (its parent did) gets a write error
{
    sleep 1
    set +e
    trap '' PIPE
    hwi-fuse --fit train.csv --report rep.tsv k.tsv k.tsv 2> err
    echo $? > status
} | true
[ "$(cat status)" -eq 1 ] || fail_ "hwi-fuse ignoring SIGPIPE exited $(cat status): $(cat err)"
ls rep.tsv.tmp* 2> /dev/null && fail_ "EPIPE left a temporary file"
cmp -s prev rep.tsv || fail_ "EPIPE changed the report"
exit 0
