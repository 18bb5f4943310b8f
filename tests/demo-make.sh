#!/bin/sh
# data/demo.mk reruns exactly what a changed setting affects: after a run
# (simulated with make -t, which marks every output made), `make -n` with
# one setting changed must schedule the stages that use it and everything
# after them, and nothing before.  Then the same with a data set in the
# competition's layout put in data/: no hwi-synth, ever.
. "${srcdir:-.}/tests/init.sh"

command -v make > /dev/null 2>&1 || skip_ "no make"
demo="$top_srcdir/data/demo.mk"
mk() { make -f "$demo" HWI_BIN= HWI_DATADIR="$top_srcdir/data" SCALE=tiny "$@"; }

# The programs `make -n ARGS` would run, one line, sorted.
stages() {
    mk -n "$@" > plan.out || fail_ "make -n $* failed"
    sed -n 's/^\(hwi-[a-z]*\) .*/\1/p' plan.out | sort -u | tr '\n' ' ' | sed 's/ $//'
    # plan.txt: plan.out with each recipe line's continuations joined
    sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' plan.out > plan.txt
}
expect() {
    want=$1
    shift
    got=$(stages "$@")
    [ "$got" = "$want" ] || { cat plan.out >&2; fail_ "make -n $*: runs '$got', expected '$want'"; }
}

after_train='hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh'
after_crop="hwi-crop $after_train hwi-train"
after_crop=$(printf '%s\n' $after_crop | sort | tr '\n' ' ' | sed 's/ $//')
all_synth=$(printf '%s\n' $after_crop hwi-split hwi-synth | sort | tr '\n' ' ' | sed 's/ $//')

mkdir synth
cd synth
expect "$all_synth"                     # a fresh folder runs everything
mkdir data split
mk -t > /dev/null                       # "the run"
[ -f .stamp/train ] || fail_ "no settings stamp .stamp/train"
expect "hwi-eval"                       # only the report (phony)
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh hwi-train" EPOCHS=5
mk -t EPOCHS=5 > /dev/null
expect "hwi-eval" EPOCHS=5              # done: nothing again
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh hwi-train" EPOCHS=5 LR=0.01
mk -t EPOCHS=5 LR=0.01 > /dev/null
expect "$after_crop" EPOCHS=5 LR=0.01 SIZE=32
mk -t EPOCHS=5 LR=0.01 SIZE=32 > /dev/null
expect "$all_synth" EPOCHS=5 LR=0.01 SIZE=32 SCALE=small
mk -t EPOCHS=5 LR=0.01 SIZE=32 SCALE=small > /dev/null
expect "hwi-eval" THREADS=1 EPOCHS=5 LR=0.01 SIZE=32 SCALE=small  # not a setting
# the knn's centring is a knn setting, the batch norms' adaptation an
# embedding one, the augmentation a training one
set -- EPOCHS=5 LR=0.01 SIZE=32 SCALE=small
expect "hwi-eval hwi-fuse hwi-knn hwi-thresh" "$@" KNN_FLAGS=--qe=3
grep -q '^hwi-knn .* --center --qe=3 -o val.knn.tsv val.feat$' plan.txt || fail_ "no --center: $(cat plan.txt)"
expect "hwi-eval hwi-fuse hwi-knn hwi-thresh" "$@" KNN_CENTER=
grep -q -- '--center' plan.txt && fail_ "KNN_CENTER= kept --center: $(cat plan.txt)"
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh" "$@" EMBED_ADAPT=
grep -q -- '--adapt' plan.txt && fail_ "EMBED_ADAPT= kept --adapt: $(cat plan.txt)"
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh" "$@" EMBED_FLAGS=--tta
grep -q '^hwi-embed -m small .* --adapt --tta --logits test.logits -o test.feat test.pix$' plan.txt ||
    fail_ "no --adapt: $(cat plan.txt)"
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh hwi-train" "$@" \
    TRAIN_FLAGS=--augment=noise=0.02
grep -q '^hwi-train .* --augment=noise=0.02 ' plan.txt || fail_ "no TRAIN_FLAGS: $(cat plan.txt)"
mk -t "$@" > /dev/null                  # back to the run's settings

# MODEL2: a second network beside the first, which is not trained again;
# both models' knn and softmax scores fused by coordinate ascent.
set -- EPOCHS=5 LR=0.01 SIZE=32 SCALE=small
m2="MODEL2=arc CFG2=pcb-small-arcface"
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh hwi-train" "$@" $m2
grep -q "^sed .*/pcb-small-arcface.cfg' > net2.cfg\$" plan.txt || fail_ "MODEL2: no net2.cfg"
grep -q '^hwi-train -c ./net2.cfg .* -s 2 .* -o arc train.pix$' plan.txt ||
    fail_ "MODEL2: arc not trained from net2.cfg with SEED2=2"
grep -q '^hwi-train -c ./net.cfg' plan.txt && fail_ "MODEL2: the first model retrained"
for f in train val test; do
    grep -q "^hwi-embed -m arc .* -o $f.arc.feat $f.pix\$" plan.txt || fail_ "MODEL2: no $f.arc.feat"
done
grep -q '^hwi-store add -m arc --split val .* val.arc.feat$' plan.txt || fail_ "MODEL2: not stored"
grep -q '^hwi-knn -D demo.db -m arc --split train,val .* test.arc.feat$' plan.txt ||
    fail_ "MODEL2: no test.arc.knn.tsv"
grep -q '^hwi-fuse --softmax --fit split/val.csv -r arc.softmax.fit .* val.arc.logits$' plan.txt ||
    fail_ "MODEL2: no fitted softmax"
grep -q '^hwi-fuse -u --fit split/val.csv --search=ascent .* val.knn.tsv val.softmax.tsv val.arc.knn.tsv val.arc.softmax.tsv$' \
    plan.txt || fail_ "MODEL2: the four scores not fused by ascent"
mk -t "$@" $m2 > /dev/null
expect "hwi-eval" "$@" $m2              # done: nothing again
expect "hwi-embed hwi-eval hwi-fuse hwi-knn hwi-store hwi-thresh hwi-train" "$@" $m2 SEED2=7
grep -q '^hwi-train -c ./net2.cfg .* -s 7 ' plan.txt || fail_ "SEED2=7 not passed"
grep -q '^hwi-train -c ./net.cfg' plan.txt && fail_ "SEED2: the first model retrained"
expect "hwi-eval hwi-fuse hwi-thresh" "$@"   # MODEL2 dropped: one model's fusion again
grep -q '^hwi-fuse -u --fit split/val.csv  *-r fusion.fit -o val.fused.tsv val.knn.tsv val.softmax.tsv$' \
    plan.txt || fail_ "without MODEL2: the fusion is not the one model's"
cd ..

# The competition's layout, put in data/ by the user: no hwi-synth, and
# clean leaves data/ alone.
mkdir -p kaggle/data/train kaggle/data/test
cd kaggle
printf 'Image,Id\n' > data/train.csv
printf 'Image,x0,y0,x1,y1\n' > data/bounding_boxes.csv
expect "$(printf '%s\n' $after_crop hwi-split | sort | tr '\n' ' ' | sed 's/ $//')"
mkdir split
mk -t > /dev/null
[ -e data/.hwi-synth ] && fail_ "make -t marked the user's data as hwi-synth's"
expect "hwi-eval" SCALE=small           # SCALE is hwi-synth's alone
stages SEED=2 EPOCHS=5 > /dev/null
grep -q 'hwi-synth ' plan.out && fail_ "hwi-synth scheduled on the user's data"
grep -q '^hwi-split ' plan.out || fail_ "SEED=2: no new split"
mk clean > /dev/null
[ -f data/train.csv ] || fail_ "make clean removed the user's data"
cd ..

# make curves: gnuplot draws a --log file (columns found by name) as a PNG.
grep -q '^gnuplot ' kaggle/plan.out && fail_ "make all draws curves"
command -v gnuplot > /dev/null 2>&1 || skip_ "no gnuplot: curves not tested"
tab=$(printf '\t')
{
    printf '# epoch\tstep\tloss\tlr\tval_top1\tval_map5\n'
    printf '1\t4\t9.5\t0.01\t0.1\t0.2\n2\t8\t7.25\t0.02\t0.2\t0.35\n3\t12\t6\t0.01\t0.3\t0.5\n'
} > train.log
gnuplot -e "log='train.log'; out='c.png'" "$top_srcdir/data/curves.gp" 2> gp.err ||
    { cat gp.err >&2; fail_ "curves.gp failed"; }
[ "$(od -An -c -N4 c.png | tr -d ' ')" = '211PNG' ] || fail_ "curves.gp: c.png is not a PNG"
sed "1s/${tab}loss${tab}/${tab}lost${tab}/" train.log > bad.log
returns_ 1 gnuplot -e "log='bad.log'; out='d.png'" "$top_srcdir/data/curves.gp" 2> /dev/null
exit 0
