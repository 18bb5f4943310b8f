#!/bin/sh
# hwi-sheet: contact sheets of the right size, each panel the crop of the
# right photo, the review page's content, and bad input that leaves no
# output behind.  tests/hwi-sheet-browser.sh runs the page in a browser.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-sheet
command -v vips > /dev/null || skip_ "vips (libvips-tools) not found"

# photos in folders, with a repeated camera name and a name that needs
# escaping in HTML
hwi-synth -q --scale tiny -s 5 -j 1 syn
set -- $(sed -n '2,5s/,.*//p' syn/train.csv)
mkdir -p root/card1 root/card2
cp "syn/train/$1" root/card1/IMG_0001.JPG
cp "syn/train/$2" root/card2/IMG_0001.JPG
cp "syn/train/$3" root/card1/IMG_0002.JPG
cp "syn/train/$4" 'root/card2/a&<b>.JPG'
printf 'Image,x0,y0,x1,y1\n' > boxes.csv
grep "^$2," syn/bounding_boxes.csv | sed 's|^[^,]*|card2/IMG_0001.JPG|' >> boxes.csv
T=$(printf '\t')
cat > s.tsv << EOF
# query label score photo
card1/IMG_0001.JPG${T}w_a${T}0.91${T}card2/IMG_0001.JPG
card1/IMG_0001.JPG${T}new_whale${T}0.5${T}-
card1/IMG_0001.JPG${T}w_b${T}0.7${T}card1/IMG_0002.JPG
card1/IMG_0001.JPG${T}w_c${T}0.2${T}card1/IMG_0002.JPG
card2/a&<b>.JPG${T}w_c${T}0.8${T}card1/IMG_0002.JPG
EOF

S=64
hwi-sheet -d root -b boxes.csv -k 3 -S $S -o out s.tsv 2> err
grep -q '^hwi-sheet: 2 queries, 2 sheets and index.html in out$' err || fail_ "summary: $(cat err)"
(cd out && ls) > got.ls
printf 'index.html\nq0001.png\nq0002.png\n' > want.ls
compare_ want.ls got.ls

# size: GAP + panels * (SIZE + GAP) by GAP + SIZE + GAP/2 + 3 LINE + GAP,
# GAP = max(4, SIZE/24), LINE = 3/2 max(9, SIZE/18)
gap=4 line=13
h=$((gap + S + gap / 2 + 3 * line + gap))
[ "$(vipsheader -f width out/q0001.png)" -eq $((gap + 4 * (S + gap))) ] ||
    fail_ "q0001 width $(vipsheader -f width out/q0001.png)"
[ "$(vipsheader -f height out/q0001.png)" -eq $h ] || fail_ "q0001 height"
[ "$(vipsheader -f width out/q0002.png)" -eq $((gap + 2 * (S + gap))) ] || fail_ "q0002 width"
[ "$(vipsheader -f bands out/q0001.png)" -eq 1 ] || fail_ "not gray"

# panel I of a sheet is the crop hwi-crop makes of its photo; the top 3 of
# query 1 by score are w_a, w_b, new_whale (a blank square)
num_() { # min|max IMAGE: as an integer
    vips "$1" "$2" | awk '{ printf "%d\n", $1 }'
}
panel_() { # SHEET I OUT
    vips extract_area "$1" "$3" $((gap + $2 * (S + gap))) $gap $S $S
}
same_() { # A B: the two images have the same pixels
    vips subtract "$1" "$2" d.v && vips abs d.v a.v && [ "$(num_ max a.v)" -eq 0 ] ||
        fail_ "$1 and $2 differ"
}
hwi-crop -q -d root/card1 -S $S -o c1 IMG_0001.JPG IMG_0002.JPG
grep '^card2/IMG_0001.JPG,' boxes.csv | sed 's|^card2/||; 1i Image,x0,y0,x1,y1' > b2.csv
hwi-crop -q -d root/card2 -b b2.csv -S $S -o c2 IMG_0001.JPG 'a&<b>.JPG' 2> /dev/null
panel_ out/q0001.png 0 p0.png && same_ p0.png c1/IMG_0001.png
panel_ out/q0001.png 1 p1.png && same_ p1.png c2/IMG_0001.png
panel_ out/q0001.png 2 p2.png && same_ p2.png c1/IMG_0002.png
panel_ out/q0001.png 3 p3.png
[ "$(num_ min p3.png)" -eq 214 ] && [ "$(num_ max p3.png)" -eq 214 ] || fail_ "new_whale panel"
panel_ out/q0002.png 0 p4.png && same_ p4.png 'c2/a&<b>.png'
panel_ out/q0002.png 1 p5.png && same_ p5.png c1/IMG_0002.png
# the box was used: the whole photo differs
hwi-crop -q -d root/card2 -S $S -o c3 IMG_0001.JPG 2> /dev/null
vips subtract p1.png c3/IMG_0001.png d.v && vips abs d.v a.v
[ "$(num_ max a.v)" -ne 0 ] || fail_ "the box made no difference"
# captions: ink below the crops of every panel
vips extract_area out/q0001.png cap.png 0 $((gap + S)) $((gap + 4 * (S + gap))) $((h - gap - S))
[ "$(num_ min cap.png)" -lt 128 ] || fail_ "no caption text"

# the page: one section per query, the sheets by relative name, escaped names,
# a same/not same pair per candidate except new_whale
p=out/index.html
[ "$(grep -c '<section class="query"' $p)" -eq 2 ] || fail_ "sections"
grep -q 'data-photo="card1/IMG_0001.JPG"' $p || fail_ "query photo"
grep -q '<img class="sheet" src="q0001.png" width="276" height="113"' $p || fail_ "img 1"
grep -q '<img class="sheet" src="q0002.png"' $p || fail_ "img 2"
grep -q 'data-photo="card2/a&amp;&lt;b&gt;.JPG"' $p || fail_ "escaped name"
[ "$(grep -c 'button class="same"' $p)" -eq 3 ] || fail_ "same buttons"
grep -q '<div data-id="w_b">' $p || fail_ "w_b"
grep -q 'data-id="new_whale"' $p && fail_ "new_whale got buttons"
grep -q 'http' $p && fail_ "the page refers to the network"

# standard input, a second run into the same folder replaces its files
sed '/^card2/d' s.tsv | hwi-sheet -q -d root -k 1 -S 48 -o out 2> err
[ ! -s err ] || fail_ "--quiet: $(cat err)"
[ "$(vipsheader -f width out/q0001.png)" -eq $((4 + 2 * (48 + 4))) ] || fail_ "-k 1"
[ "$(grep -c '<section' out/index.html)" -eq 1 ] || fail_ "rewritten page"
ls -d out.tmp* 2> /dev/null && fail_ "a work folder left behind"

# bad input: one line naming the place, exit 1, nothing written
bad_() { # MESSAGE FILE [OPTION]...
    msg=$1 f=$2
    shift 2
    returns_ 1 hwi-sheet -d root -S 32 -o bad "$@" "$f" 2> err
    [ "$(wc -l < err)" -eq 1 ] || fail_ "$f: not one line: $(cat err)"
    grep -q "^hwi-sheet: $msg" err || fail_ "$f: $(cat err)"
    ls -d bad bad.tmp* 2> /dev/null && fail_ "$f: output left behind"
    return 0
}
sed 's/\t[^\t]*$//' s.tsv > three.tsv
bad_ "three.tsv:2: no photo column" three.tsv
sed '3s/0.5/high/' s.tsv > score.tsv
bad_ "score.tsv:3: score 'high' is not a finite number" score.tsv
sed '4s/w_b/w_a/' s.tsv > dup.tsv
bad_ "dup.tsv:4: label 'w_a' twice for query 'card1/IMG_0001.JPG'" dup.tsv
{ sed -n 1,2p s.tsv; sed -n 6p s.tsv; sed -n 3p s.tsv; } > split.tsv
bad_ "split.tsv:4: query 'card1/IMG_0001.JPG' again" split.tsv
sed '6s/card1.IMG_0002.JPG$/card9\/IMG_0404.JPG/' s.tsv > missing.tsv
bad_ "missing.tsv:6: root/card9/IMG_0404.JPG: No such file" missing.tsv
printf 'not a photo\n' > root/card1/IMG_0003.JPG
sed '6s/card1.IMG_0002.JPG$/card1\/IMG_0003.JPG/' s.tsv > corrupt.tsv
bad_ "corrupt.tsv:6: root/card1/IMG_0003.JPG: " corrupt.tsv
printf 'query\tlabel\t1\t\n' > empty.tsv
bad_ "empty.tsv:1: empty photo" empty.tsv
bad_ "no-such.tsv: " no-such.tsv
printf 'Image,x0\n' > badbox.csv
bad_ "badbox.csv:1: " s.tsv -b badbox.csv
# an existing output folder keeps its files when a run fails
mkdir keep && echo old > keep/index.html
returns_ 1 hwi-sheet -d root -o keep missing.tsv 2> /dev/null
[ "$(cat keep/index.html)" = old ] && [ "$(ls keep)" = index.html ] || fail_ "keep changed"
ls -d keep.tmp* 2> /dev/null && fail_ "work folder left behind"

# usage errors
returns_ 2 hwi-sheet s.tsv 2> err
grep -q 'missing --output' err || fail_ "no --output: $(cat err)"
returns_ 2 hwi-sheet -o x -k 0 s.tsv 2> /dev/null
returns_ 2 hwi-sheet -o x -S 8 s.tsv 2> /dev/null
returns_ 2 hwi-sheet -o x s.tsv s.tsv 2> /dev/null
ls -d x 2> /dev/null && fail_ "usage error wrote output"

exit 0
