#!/bin/sh
# hwi-train: the tiny network on a tiny synthetic pixel stream; the same
# seed gives the same weights; every kind of bad input.
. "${srcdir:-.}/tests/init.sh"
. "$srcdir/tests/train-data.sh"

std_options_ hwi-train

cfg="$HWI_DATADIR/pcb-tiny.cfg"
[ -f "$cfg" ] || framework_failure_ "no $cfg"
S=$(cfg_size_ "$cfg")
[ -n "$S" ] || framework_failure_ "no width in $cfg"
make_pixels_ "$S" 1
hwi-vec --pack -o pix.bin pix.txt

train() { hwi-train -c pcb-tiny --batch 4 -j 1 -l train.csv "$@"; }

# happy path: three files; the labels are the whales, sorted, without
# new_whale; the cfg is a copy; the summary counts what was skipped
train -e 2 -s 7 -o m pix.bin 2> err
printf 'w_0000001\nw_0000002\nw_0000003\nw_0000004\n' > want.labels
compare_ want.labels m.labels
cmp "$cfg" m.cfg || fail_ "m.cfg is not a copy of the cfg"
[ -s m.weights ] || fail_ "no weights"
grep -q '^hwi-train: 2 epochs (0 head-only) on 12 images of 4 whales, [0-9.]* images/s, final loss [0-9.]*; skipped 1 new_whale and 1 unlabelled images$' err \
    || fail_ "summary: $(cat err)"
ls m.*.tmp* 2>/dev/null && fail_ "temporary file left behind"

# the same seed gives the same weights; another seed other weights
cat pix.bin | train -e 2 -s 7 -o m2 2> /dev/null
cmp m.weights m2.weights || fail_ "same seed, different weights"
train -e 2 -s 8 -o m3 pix.bin 2> /dev/null
cmp -s m.weights m3.weights && fail_ "different seeds, same weights"
# ... and so does the same seed on the same number of threads
train -e 2 -s 7 -j 2 -o t2a pix.bin 2> /dev/null
train -e 2 -s 7 -j 2 -o t2b pix.bin 2> /dev/null
cmp t2a.weights t2b.weights || fail_ "same seed on two threads, different weights"

# --augment: the same seed with the default ranges spelled out gives the
# same weights; added blur, noise and aspect give others, reproducibly
train -e 2 -s 7 -o ad --augment=rotate=15,scale=0.1,shift=0.1,shear=10,brightness=0.1,contrast=0.2 \
    pix.bin 2> /dev/null
cmp m.weights ad.weights || fail_ "--augment with the default ranges changed the weights"
train -e 2 -s 7 -o ax --augment=blur=1,noise=0.05,aspect=0.3 pix.bin 2> /dev/null
train -e 2 -s 7 -o ay --augment=blur=1,noise=0.05,aspect=0.3 pix.bin 2> /dev/null
cmp -s m.weights ax.weights && fail_ "--augment=blur,noise,aspect changed nothing"
cmp ax.weights ay.weights || fail_ "--augment: same seed, different weights"

# head-only epochs, no augmentation, validation each epoch, then resume
train --head-epochs 1 -e 1 --no-augment --lr 0.005 --val pix.bin --val-labels train.csv \
    -o h pix.bin 2> err
[ "$(grep -c '^hwi-train: epoch [12]: loss [0-9.]*; val top-1 [0-9.]* MAP@5 [0-9.]* (13 images); known whales top-1 [0-9.]* MAP@5 [0-9.]* (12 images)$' err)" = 2 ] \
    || fail_ "--val: $(cat err)"
grep -q '2 epochs (1 head-only)' err || fail_ "--head-epochs: $(cat err)"
train --init m.weights -e 1 -o r pix.bin 2> err
compare_ m.labels r.labels
cmp -s m.weights r.weights && fail_ "--init did not train"

# checkpoints: a run killed (SIGKILL) in the middle of epoch 2 leaves the
# checkpoint of epoch 1; --resume then ends with the weights of the
# uninterrupted run, byte for byte, and the log of the same epochs
vtrain() { train -e 3 -s 5 --val pix.bin --val-labels train.csv "$@" pix.bin; }
vtrain -o u --log u.log 2> /dev/null
[ -e u.ckpt ] && fail_ "the checkpoint outlived the model"
returns_ 137 env HWI_TRAIN_TEST_KILL=2:2 sh -c \
    'exec hwi-train -c pcb-tiny --batch 4 -j 1 -l train.csv -e 3 -s 5 --val pix.bin \
     --val-labels train.csv --log k.log -o k pix.bin' 2> /dev/null
[ -s k.ckpt ] || fail_ "no checkpoint after epoch 1"
ls k.weights 2> /dev/null && fail_ "a killed run wrote weights"
[ "$(grep -vc '^#' k.log)" = 1 ] || fail_ "killed log: $(cat k.log)"
vtrain -o k --log k.log --resume 2> err
grep -q '^hwi-train: k.ckpt: resuming after epoch 1$' err || fail_ "resume: $(cat err)"
cmp u.weights k.weights || fail_ "--resume gave other weights than an uninterrupted run"
cut -f 1-5 u.log > u.cut
cut -f 1-5 k.log > k.cut
compare_ u.cut k.cut
# a checkpoint of another run is refused; --resume without one starts over
returns_ 137 env HWI_TRAIN_TEST_KILL=3:1 sh -c \
    'exec hwi-train -c pcb-tiny --batch 4 -j 1 -l train.csv -e 3 -s 5 -o k2 pix.bin' 2> /dev/null
returns_ 1 train -e 3 -s 6 -o k2 --resume pix.bin 2> err
grep -q 'k2.ckpt: made by another run (.*seed=5.*), not this one (.*seed=6.*)' err \
    || fail_ "other run: $(cat err)"
head -c 1000 k2.ckpt > k3.ckpt
returns_ 1 train -e 3 -s 5 -o k3 --resume pix.bin 2> err
grep -q 'k3.ckpt: truncated checkpoint' err || fail_ "truncated checkpoint: $(cat err)"
train -e 1 -s 5 -o k4 --resume pix.bin 2> err
grep -q 'k4.ckpt: no checkpoint; starting from the beginning' err || fail_ "$(cat err)"

# the log's columns are those hwi-train(1) lists under LOG FILE, in order:
# KIND and N stand for the loss kinds and layer indices, and repeat
cols=$(sed -n '/^\.SH LOG FILE/,/^\.SH /p' "$srcdir/man/hwi-train.1" |
       sed -n '/^\.TP/{n;p;}' | sed -e 's/^\.BI* //' -e 's/\\|//g' -e 's/ //g')
[ "$(echo "$cols" | wc -l)" -ge 10 ] || framework_failure_ "columns: $cols"
re='^#'
sep=' '
for c in $cols; do
    case $c in
    *KIND*|*N) c=$(echo "$c" | sed -e 's/KIND/(softmax|ring|center)/' -e 's/N$/[0-9]+/')
               re="$re($sep$c)*" ;;
    *) re="$re$sep$c" ;;
    esac
    sep='\t'
done
re="$re\$"
head -n 1 u.log | grep -Eq "$(printf "$re")" || fail_ "log header $(head -n 1 u.log) is not $re"
head -n 1 u.log | grep -q 'loss_softmax[0-9]*.*radius[0-9]' || fail_ "no head or ring column"
awk -F '\t' 'NR == 1 { n = NF } NR > 1 && (NF != n || $1 != NR - 1) { exit 1 }
              END { if (NR != 4) exit 1 }' u.log || fail_ "log rows: $(cat u.log)"
# the loss terms add up to the loss
awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^loss_/) t[i] = 1 }
    NR > 1 { s = 0; for (i in t) s += $i; d = s - $3; if (d > 1e-4 || d < -1e-4) exit 1 }' u.log \
    || fail_ "the loss terms do not add up: $(cat u.log)"

# bad options: exit 2, nothing written
returns_ 2 hwi-train -l train.csv pix.bin 2> err
grep -q 'missing --output' err || fail_ "no -o: $(cat err)"
returns_ 2 hwi-train -o x pix.bin 2> err
grep -q 'missing --labels' err || fail_ "no -l: $(cat err)"
for bad in '--epochs=-1' '--epochs=x' '--lr=0' '--lr=abc' '--batch=0' '--seed=-3' \
           '--threads=many' '--head-epochs=1e3'; do
    returns_ 2 train "$bad" -o x pix.bin 2> err
    grep -q "invalid value" err || fail_ "$bad: $(cat err)"
done
for bad in 'noise' 'noise=-1' 'scale=1' 'blur=2,' 'hue=3'; do
    returns_ 2 train --augment="$bad" -o x pix.bin 2> err
    grep -q "^hwi-train: --augment: '" err || fail_ "--augment=$bad: $(cat err)"
done
returns_ 2 train -e 0 -o x pix.bin 2> err
returns_ 2 train --val pix.bin -o x pix.bin 2> err
returns_ 2 train -o x pix.bin extra 2> err
ls x.* 2>/dev/null && fail_ "a usage error wrote files"

# wrong pixel size
make_pixels_ $((S / 2)) 1
hwi-vec --pack -o small.bin pix.txt
returns_ 1 train -o x small.bin 2> err
grep -q "small.bin: images are $((S / 2))x$((S / 2)) pixels but .*pcb-tiny.cfg takes ${S}x${S}x1" err \
    || fail_ "wrong size: $(cat err)"
returns_ 1 train --val small.bin --val-labels train.csv -o x pix.bin 2> err
grep -q "small.bin: images are" err || fail_ "wrong --val size: $(cat err)"

# labels that name none of the images, or only new_whale
printf 'Image,Id\nother.jpg,w_0000009\nnw.jpg,new_whale\n' > none.csv
returns_ 1 hwi-train -c pcb-tiny -l none.csv -o x pix.bin 2> err
grep -q 'pix.bin: no image to train on (13 unlabelled, 1 new_whale in none.csv)' err \
    || fail_ "no labels: $(cat err)"
printf 'Image;Id\n' > bad.csv
returns_ 1 hwi-train -c pcb-tiny -l bad.csv -o x pix.bin 2> err
grep -q '^hwi-train: bad.csv:1:' err || fail_ "bad csv: $(cat err)"
returns_ 1 hwi-train -c pcb-tiny -l no-such.csv -o x pix.bin 2> err

# empty and truncated streams
: > empty.bin
returns_ 1 train -o x empty.bin 2> err
grep -q 'empty.bin' err || fail_ "empty: $(cat err)"
head -c 32 pix.bin > header.bin
returns_ 1 train -o x header.bin 2> err
grep -q 'header.bin: no image to train on' err || fail_ "header only: $(cat err)"
head -c 2000 pix.bin > trunc.bin
returns_ 1 train -o x trunc.bin 2> err
grep -q 'trunc.bin: record .*truncated' err || fail_ "truncated: $(cat err)"

# missing cfg, missing or truncated --init weights, labels that differ
returns_ 1 train -c ./no-such.cfg -o x pix.bin 2> err
grep -q 'no-such.cfg' err || fail_ "missing cfg: $(cat err)"
returns_ 1 train --init no-such.weights -o x pix.bin 2> err
grep -q 'no-such.weights' err || fail_ "missing weights: $(cat err)"
head -c 100 m.weights > t.weights
returns_ 1 train --init t.weights -o x pix.bin 2> err
grep -q 't.weights' err || fail_ "truncated weights: $(cat err)"
cp m.weights o.weights
printf 'w_0000001\nw_0000002\nw_0000003\nw_0000009\n' > o.labels
returns_ 1 train --init o.weights -o x pix.bin 2> err
grep -q "o.labels:4: class 'w_0000009', but the labels give 'w_0000004'" err \
    || fail_ "init labels: $(cat err)"
ls x.* 2>/dev/null && fail_ "an error left model files behind"

# the cfg, the weights and the labels: all three or none (the labels on a
# full disk, through a symbolic link, fail only when they are flushed)
if [ -w /dev/full ] && ln -s /dev/full y.labels 2> /dev/null; then
    returns_ 1 train -e 1 -o y pix.bin 2> err
    grep -q 'y.labels: write error' err || fail_ "full labels: $(cat err)"
    ls y.cfg* y.weights* 2> /dev/null && fail_ "cfg and weights written without the labels"
    rm -f y.labels
fi

exit 0
