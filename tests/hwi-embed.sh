#!/bin/sh
# hwi-embed: features and logits of the tiny network, the pipeline
# hwi-train -> hwi-embed -> hwi-vec, and every kind of bad input.
. "${srcdir:-.}/tests/init.sh"
. "$srcdir/tests/train-data.sh"

std_options_ hwi-embed

cfg="$HWI_DATADIR/pcb-tiny.cfg"
[ -f "$cfg" ] || framework_failure_ "no $cfg"
S=$(cfg_size_ "$cfg")
make_pixels_ "$S" 2
hwi-vec --pack -o pix.bin pix.txt

# pipeline: train, embed standard input to standard output, describe
hwi-train -c pcb-tiny --batch 4 -j 1 -e 1 -l train.csv -o m pix.bin 2> /dev/null
hwi-vec --pack < pix.txt | hwi-embed -m m -j 1 2> err | hwi-vec --info > info.txt
sed -n '2,5p' info.txt > got.txt
printf 'keyed\tyes\nnamed\tno\ncount\t0\nrecords\t14\n' > want.txt
compare_ want.txt got.txt
grep -q '^hwi-embed: 14 images, [0-9.]* images/s$' err || fail_ "summary: $(cat err)"
dim=$(sed -n 's/^dim\t//p' info.txt)
[ "$dim" -gt 0 ] || fail_ "dim $dim"

# features are unit vectors, keys in input order
hwi-embed -m m -o f.bin pix.bin 2> /dev/null
hwi-vec f.bin > f.txt
cut -f1 pix.txt > want.keys
cut -f1 f.txt > got.keys
compare_ want.keys got.keys
awk -F '\t' '{ s = 0; for (i = 2; i <= NF; i++) s += $i * $i
               if (s < 0.9999 || s > 1.0001) { print "norm " s " at " $1; exit 1 } }' f.txt \
    || fail_ "features not L2-normalised"

# logits: one column per label, named by the model's labels
hwi-embed -m m --logits l.bin -o f2.bin pix.bin 2> /dev/null
cmp f.bin f2.bin || fail_ "--logits changed the features"
hwi-vec --names l.bin > l.txt
printf '# key\tw_0000001\tw_0000002\tw_0000003\tw_0000004\n' > want.head
head -n 1 l.txt > got.head
compare_ want.head got.head
[ "$(wc -l < l.txt)" -eq 15 ] || fail_ "logits records"
hwi-embed -m m --logits - -o f3.bin pix.bin 2> /dev/null > l2.bin
cmp l.bin l2.bin || fail_ "--logits - differs"

# separate options give the same; the batch size does not matter
hwi-embed --cfg m.cfg --weights m.weights --labels m.labels --logits l3.bin pix.bin \
    2> /dev/null > f4.bin
cmp f.bin f4.bin || fail_ "--cfg/--weights differ from --model"
cmp l.bin l3.bin || fail_ "--labels differs from --model"
hwi-embed -m m --batch 1 pix.bin 2> /dev/null | hwi-vec > b1.txt
hwi-embed -m m --batch 3 pix.bin 2> /dev/null | hwi-vec > b3.txt
paste b1.txt b3.txt | awk -F '\t' '{ n = NF / 2; if ($1 != $(n + 1)) exit 1
    for (i = 2; i <= n; i++) { d = $i - $(n + i); if (d < -1e-5 || d > 1e-5) exit 1 } }' \
    || fail_ "--batch changes the features"

# --tta: the views' features averaged then L2-normalised, their logits
# averaged; the flip mirrors each row (checked against hwi-embed on a
# mirrored stream), so a left-right symmetric image gains nothing
awk -F '\t' -v S="$S" '{ printf "%s", $1
    for (y = 0; y < S; y++) for (x = 0; x < S; x++) printf "\t%s", $(2 + y * S + S - 1 - x)
    print "" }' pix.txt > flip.txt
awk -F '\t' -v S="$S" '{ printf "%s", $1
    for (y = 0; y < S; y++) for (x = 0; x < S; x++)
        printf "\t%.9g", ($(2 + y * S + x) + $(2 + y * S + S - 1 - x)) / 2
    print "" }' pix.txt > sym.txt
hwi-vec --pack -o flip.bin flip.txt
hwi-vec --pack -o sym.bin sym.txt
# near_ A B: the same keys, values within 1e-5
near_() {
    paste "$1" "$2" | awk -F '\t' '{ n = NF / 2; if ($1 != $(n + 1)) exit 1
        for (i = 2; i <= n; i++) { d = $i - $(n + i); if (d < -1e-5 || d > 1e-5) exit 1 } }'
}
hwi-embed -m m --logits l.bin -o f.bin pix.bin 2> /dev/null
hwi-embed -m m --logits lf.bin -o ff.bin flip.bin 2> /dev/null
hwi-embed -m m --tta=flip --logits lt.bin -o ft.bin pix.bin 2> /dev/null
hwi-vec f.bin > f.txt; hwi-vec ff.bin > ff.txt; hwi-vec ft.bin > ft.txt
hwi-vec l.bin > l.txt; hwi-vec lf.bin > lf.txt; hwi-vec lt.bin > lt.txt
paste f.txt ff.txt | awk -F '\t' '{ n = NF / 2; s = 0
    for (i = 2; i <= n; i++) { m[i] = ($i + $(n + i)) / 2; s += m[i] * m[i] }
    printf "%s", $1; for (i = 2; i <= n; i++) printf "\t%.9g", m[i] / sqrt(s); print "" }' \
    > want-ft.txt
paste l.txt lf.txt | awk -F '\t' '{ n = NF / 2; printf "%s", $1
    for (i = 2; i <= n; i++) printf "\t%.9g", ($i + $(n + i)) / 2; print "" }' > want-lt.txt
near_ want-ft.txt ft.txt || fail_ "--tta=flip features are not the mean of the two passes"
near_ want-lt.txt lt.txt || fail_ "--tta=flip logits are not the mean of the two passes"
near_ f.txt ft.txt && fail_ "--tta=flip changed nothing"
hwi-embed -m m --tta --logits lt2.bin -o ft2.bin pix.bin 2> /dev/null
cmp ft.bin ft2.bin && cmp lt.bin lt2.bin || fail_ "--tta is not --tta=flip"
hwi-embed -m m --logits ls.bin sym.bin 2> /dev/null | hwi-vec > fs.txt
hwi-embed -m m --tta --logits lst.bin sym.bin 2> /dev/null | hwi-vec > fst.txt
near_ fs.txt fst.txt || fail_ "--tta changed a symmetric image's features"
hwi-vec ls.bin > ls.txt; hwi-vec lst.bin > lst.txt
near_ ls.txt lst.txt || fail_ "--tta changed a symmetric image's logits"
# zoom: a uniform image is its own zoom; three views differ from two
awk -F '\t' '{ printf "%s", $1; for (i = 2; i <= NF; i++) printf "\t0.5"; print "" }' \
    pix.txt > flat.txt
hwi-vec --pack -o flat.bin flat.txt
hwi-embed -m m flat.bin 2> /dev/null | hwi-vec > fl.txt
hwi-embed -m m --tta=zoom flat.bin 2> /dev/null | hwi-vec > flz.txt
near_ fl.txt flz.txt || fail_ "--tta=zoom changed a uniform image"
hwi-embed -m m --tta=zoom,flip pix.bin 2> /dev/null | hwi-vec > fzf.txt
near_ ft.txt fzf.txt && fail_ "--tta=zoom,flip is --tta=flip"
# --adapt: the batch norms take the statistics of the pixels first (the
# same run twice gives the same bytes, and other features than without);
# the input is read twice, so standard input is refused, and an empty
# stream has nothing to adapt to
hwi-embed -m m --adapt --logits la.bin -o fa.bin pix.bin 2> /dev/null
hwi-embed -m m --adapt --logits la2.bin -o fa2.bin pix.bin 2> /dev/null
cmp fa.bin fa2.bin && cmp la.bin la2.bin || fail_ "--adapt: two runs differ"
hwi-vec fa.bin > fa.txt
near_ f.txt fa.txt && fail_ "--adapt changed nothing"
cut -f1 fa.txt > got-a.keys
compare_ want.keys got-a.keys
returns_ 2 hwi-embed -m m --adapt -o x.bin < pix.bin 2> err
grep -q 'adapt reads the pixels twice' err || fail_ "--adapt stdin: $(cat err)"
hwi-vec --pack < pix.txt | head -c 32 > empty.bin # the header alone, count 0
returns_ 1 hwi-embed -m m --adapt -o x.bin empty.bin 2> err
grep -q '^hwi-embed: empty.bin: no image to adapt to$' err || fail_ "--adapt empty: $(cat err)"
ls x.bin 2> /dev/null && fail_ "--adapt error left x.bin"
returns_ 2 hwi-embed -m m --tta=spin pix.bin > out 2> err
grep -q "'spin': not a TTA mode" err || fail_ "bad --tta: $(cat err)"

# an empty stream (a header only) gives an empty stream
head -c 32 pix.bin > header.bin
hwi-embed -m m header.bin 2> /dev/null | hwi-vec --info | grep -q '^records	0$' \
    || fail_ "header only"

# bad options
returns_ 2 hwi-embed pix.bin > out 2> err
grep -q 'missing --model' err || fail_ "no model: $(cat err)"
returns_ 2 hwi-embed --cfg m.cfg --weights m.weights --logits l.bin pix.bin > out 2> err
grep -q -- '--logits needs the label list' err || fail_ "no labels: $(cat err)"
returns_ 2 hwi-embed -m m --logits - pix.bin > out 2> err
returns_ 2 hwi-embed -m m --batch 0 pix.bin > out 2> err
grep -q "invalid value '0' for --batch" err || fail_ "batch: $(cat err)"
returns_ 2 hwi-embed -m m --threads x pix.bin > out 2> err
returns_ 2 hwi-embed -m m pix.bin extra > out 2> err

# bad input: exit 1, no output file
make_pixels_ $((S / 2)) 2
hwi-vec --pack -o small.bin pix.txt
returns_ 1 hwi-embed -m m -o x.bin small.bin 2> err
grep -q "small.bin: images are $((S / 2))x$((S / 2)) pixels but m.cfg takes ${S}x${S}x1" err \
    || fail_ "wrong size: $(cat err)"
: > empty.bin
returns_ 1 hwi-embed -m m -o x.bin empty.bin 2> err
grep -q 'empty.bin' err || fail_ "empty: $(cat err)"
head -c 5000 pix.bin > trunc.bin
returns_ 1 hwi-embed -m m -o x.bin --logits xl.bin trunc.bin 2> err
grep -q 'trunc.bin: record .*truncated' err || fail_ "truncated: $(cat err)"
returns_ 1 hwi-embed --cfg m.cfg --weights no-such.weights -o x.bin pix.bin 2> err
grep -q 'no-such.weights' err || fail_ "missing weights: $(cat err)"
head -c 100 m.weights > t.weights
returns_ 1 hwi-embed --cfg m.cfg --weights t.weights -o x.bin pix.bin 2> err
grep -q 't.weights' err || fail_ "truncated weights: $(cat err)"
printf 'a\nb\nc\n' > three.labels
returns_ 1 hwi-embed -m m --labels three.labels --logits xl.bin -o x.bin pix.bin 2> err
grep -q 'three.labels: 3 labels, but the model has 4 classes' err || fail_ "labels: $(cat err)"
ls x.bin* xl.bin* 2>/dev/null && fail_ "an error left output behind"

# features and logits: both or neither
if [ -w /dev/full ]; then
    returns_ 1 hwi-embed -m m --logits /dev/full -o x.bin pix.bin 2> err
    ls x.bin* 2> /dev/null && fail_ "features written, logits on a full disk"
    echo previous > x.bin
    returns_ 1 hwi-embed -m m --logits xl.bin -o /dev/full pix.bin 2> err
    ls xl.bin* 2> /dev/null && fail_ "logits written, features on a full disk"
    rm -f x.bin
fi

exit 0
