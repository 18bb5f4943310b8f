#!/bin/sh
# hwi-identify: options, bad input that changes nothing, and the field
# workflow end to end: a catalogue from a nested folder tree with repeated
# camera names, new photos identified, a decisions file imported, and the
# confirmed individual ranked first when the whale is seen again.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-identify
command -v vips > /dev/null || skip_ "vips (libvips-tools) not found"

# usage errors
returns_ 2 hwi-identify -m m -o out x.jpg 2> err
grep -q 'missing --db' err || fail_ "no --db: $(cat err)"
returns_ 2 hwi-identify -D s.db -o out x.jpg 2> err
grep -q 'missing --model' err || fail_ "no --model: $(cat err)"
returns_ 2 hwi-identify -D s.db -m m x.jpg 2> err
grep -q 'missing --output' err || fail_ "no --output: $(cat err)"
returns_ 2 hwi-identify -D s.db -m m -o out 2> err
grep -q 'no photos' err || fail_ "no photos: $(cat err)"
returns_ 2 hwi-identify -D s.db -m m -o out -k 0 x.jpg 2> /dev/null
returns_ 2 hwi-identify -D s.db -m m -o out --threshold=x x.jpg 2> /dev/null
returns_ 2 hwi-identify -D s.db -m m -o out -b b.csv --detector=d x.jpg 2> /dev/null
returns_ 2 hwi-identify -D s.db -m m -o out --top 2> /dev/null

# a catalogue: the tiny synthetic set's training photos spread over cards,
# four to a card, so every card has an IMG_0001.JPG
hwi-synth -q --scale tiny -s 7 -j 1 syn
mkdir root
printf 'Image,Id\n' > labels.csv
printf 'Image,x0,y0,x1,y1\n' > boxes.csv
awk -F, 'NR > 1 && $2 != "new_whale" { i++
         printf "%s cat/card%d/IMG_%04d.JPG %s\n", $1, (i - 1) / 4 + 1, (i - 1) % 4 + 1, $2 }' \
    syn/train.csv > map.txt
while read -r src dst id; do
    mkdir -p "root/${dst%/*}"
    cp "syn/train/$src" "root/$dst"
    echo "$dst,$id" >> labels.csv
    grep "^$src," syn/bounding_boxes.csv | sed "s|^[^,]*|$dst|" >> boxes.csv
    echo "$dst"
done < map.txt > cat.txt
[ "$(grep -c 'IMG_0001.JPG' cat.txt)" -gt 1 ] || framework_failure_ "no repeated names"

cfg="$HWI_DATADIR/pcb-tiny.cfg"
S=$(sed -n 's/^width *= *\([0-9]*\).*/\1/p' "$cfg" | head -n 1)
hwi-crop -q -d root -b boxes.csv -S "$S" -i cat.txt > cat.pix
hwi-train -c pcb-tiny --batch 4 -j 1 -e 1 -l labels.csv -o m cat.pix 2> /dev/null
hwi-embed -m m -o cat.vec cat.pix 2> /dev/null
hwi-store create cat.db
hwi-store add --model m --labels labels.csv cat.db cat.vec

# bad input changes nothing: a missing photo, a model not in the store
cp cat.db before.db
returns_ 1 hwi-identify -q -D cat.db -m m -d root -o out new/IMG_0404.JPG 2> err
[ "$(wc -l < err)" -eq 1 ] && grep -q 'IMG_0404.JPG' err || fail_ "missing photo: $(cat err)"
returns_ 1 hwi-identify -q -D cat.db -m no-such -d root -o out x.jpg 2> err
grep -q 'no-such.cfg' err || fail_ "missing model: $(cat err)"
ls -d out 2> /dev/null && fail_ "an error left output behind"
cmp cat.db before.db || fail_ "an error changed the store"

# the rest needs the photo column and the decisions import (issue 11)
hwi-knn --help | grep -q -- '--photo' || skip_ "hwi-knn has no --photo yet"
hwi-store --help | grep -q 'decisions' || skip_ "hwi-store has no decisions yet"
returns_ 1 hwi-identify -q -D cat.db -m m --name other -d root -o out \
    "$(head -n 1 cat.txt)" 2> err
grep -q "other" err || fail_ "unknown model: $(cat err)"
ls -d out 2> /dev/null && fail_ "an error left output behind"
cmp cat.db before.db || fail_ "an error changed the store"

# a new season: two photos of one whale that is not in the catalogue (a
# test photo, and the same photo saved again at another JPEG quality),
# with a repeated camera name
new=$(awk -F, 'NR > 1 && $2 == "new_whale" { print $1; exit }' syn/solution.csv)
[ -n "$new" ] || framework_failure_ "no new_whale test photo"
mkdir -p root/2025/card1 root/2026/card1
cp "syn/test/$new" root/2025/card1/IMG_0001.JPG
vips copy "syn/test/$new" 'root/2026/card1/IMG_0001.JPG[Q=80]'
hwi-identify -q -D cat.db -m m -d root -k 3 -o review 2025/card1/IMG_0001.JPG 2> err ||
    fail_ "identify: $(cat err)"
(cd review && ls) > got.ls
printf 'index.html\nq0001.png\nranked.tsv\n' > want.ls
compare_ want.ls got.ls
[ "$(grep -vc '^#' review/ranked.tsv)" -eq 3 ] || fail_ "ranked.tsv: $(cat review/ranked.tsv)"
awk -F '\t' '!/^#/ && ($1 != "2025/card1/IMG_0001.JPG" || NF != 4) { exit 1 }' \
    review/ranked.tsv || fail_ "ranked.tsv: $(cat review/ranked.tsv)"
grep -q "new_whale" review/ranked.tsv || fail_ "no new_whale at the threshold"

# --images, --boxes, --no-classifier, --no-add: the store stays as it was
cp cat.db before2.db
echo 2025/card1/IMG_0001.JPG > list.txt
printf 'Image,x0,y0,x1,y1\n' > nb.csv
grep "^$new," syn/bounding_boxes.csv | sed 's|^[^,]*|2025/card1/IMG_0001.JPG|' >> nb.csv
hwi-identify -q -D cat.db -m m -d root -k 2 -i list.txt -b nb.csv --no-classifier \
    --no-add --threshold=0.99 -o review3 2> err || fail_ "options: $(cat err)"
cmp cat.db before2.db || fail_ "--no-add changed the store"
[ "$(grep -v '^#' review3/ranked.tsv | head -n 1 | cut -f 2,3)" = "new_whale$(printf '\t')0.99" ] ||
    fail_ "--threshold: $(cat review3/ranked.tsv)"
grep -v '^#' review3/ranked.tsv | sed -n 2p | cut -f 4 | grep -q '^cat/' ||
    fail_ "--no-classifier: $(cat review3/ranked.tsv)"
if ! command -v hwi-detect > /dev/null 2>&1; then
    returns_ 1 hwi-identify -q -D cat.db -m m -d root --detector=d -o review4 \
        2025/card1/IMG_0001.JPG 2> err
    grep -q 'hwi-detect is not installed' err || fail_ "--detector: $(cat err)"
fi

# the reviewer's verdict: a new individual; the catalogue grows
printf 'photo,decision,id\n2025/card1/IMG_0001.JPG,new,w_big_notch\n' > decisions.csv
hwi-store decisions cat.db decisions.csv 2> err || fail_ "decisions: $(cat err)"

# seen again next season: the confirmed individual comes first
hwi-identify -q -D cat.db -m m -d root -k 3 -o review2 2026/card1/IMG_0001.JPG 2> err ||
    fail_ "identify again: $(cat err)"
first=$(grep -v '^#' review2/ranked.tsv | head -n 1 | cut -f 2,4)
[ "$first" = "w_big_notch$(printf '\t')2025/card1/IMG_0001.JPG" ] ||
    fail_ "not ranked first: $(cat review2/ranked.tsv)"

exit 0
