#!/bin/sh
# hwi-sheet's review page in a real browser engine (headless Chromium):
# the page and its sheets load from file:// with no error, the buttons
# record decisions, and the export downloads the right decisions.csv.
# Skipped when Chromium is not installed.
. "${srcdir:-.}/tests/init.sh"

browser=
for b in chromium chromium-browser google-chrome; do
    command -v $b > /dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || skip_ "no chromium found"

hwi-synth -q --scale tiny -s 5 -j 1 syn
set -- $(sed -n '2,4s/,.*//p' syn/train.csv)
mkdir -p root/c1 root/c2
cp "syn/train/$1" root/c1/IMG_0001.JPG
cp "syn/train/$2" root/c2/IMG_0001.JPG
cp "syn/train/$3" 'root/c2/a,"b".JPG'
T=$(printf '\t')
cat > s.tsv << EOF
# query label score photo
c1/IMG_0001.JPG${T}w_a${T}0.9${T}c2/IMG_0001.JPG
c1/IMG_0001.JPG${T}w_b${T}0.8${T}c2/IMG_0001.JPG
c1/IMG_0001.JPG${T}w_c${T}0.7${T}c2/IMG_0001.JPG
c2/IMG_0001.JPG${T}w_a${T}0.6${T}c1/IMG_0001.JPG
c2/IMG_0001.JPG${T}new_whale${T}0.5${T}-
c2/a,"b".JPG${T}w_b${T}0.4${T}c1/IMG_0001.JPG
EOF
hwi-sheet -q -d root -S 48 -o out s.tsv

# probe.js (first in <head>) records every error, failed image and console
# error; drive.js (last in <body>) clicks like a reviewer, catches the
# download and writes what it saved into the page
cat > out/probe.js << 'EOF'
window.hwiErrors = [];
window.addEventListener("error", function (e) {
    window.hwiErrors.push(e.message || ("failed to load " + (e.target.src || e.target)));
}, true);
(function () {
    var err = console.error;
    console.error = function () { window.hwiErrors.push([].join.call(arguments, " ")); err.apply(console, arguments); };
})();
EOF
cat > out/drive.js << 'EOF'
(function () {
    function q(i) { return document.querySelectorAll("section.query")[i]; }
    function cand(i, id) { return q(i).querySelector('div[data-id="' + id + '"]'); }
    cand(0, "w_b").querySelector("button.no").click();
    cand(0, "w_c").querySelector("button.same").click();
    cand(0, "w_c").querySelector("button.no").click();   /* not same: undoes same */
    cand(0, "w_a").querySelector("button.same").click();
    q(1).querySelector("input.newid").value = ' Big, "Notch" ';
    q(1).querySelector("button.new").click();
    var saved = null, name = null;
    URL.createObjectURL = function (blob) { saved = blob; return "blob:test"; };
    HTMLAnchorElement.prototype.click = function () { name = this.download; };
    document.querySelector("button.export").click();
    var out = document.createElement("pre");
    out.id = "result";
    document.body.appendChild(out);
    function done(text) {
        var imgs = Array.prototype.every.call(document.images,
            function (im) { return im.complete && im.naturalWidth > 0; });
        out.textContent = "name=" + name + "\nimages=" + imgs + "\nerrors=" +
            window.hwiErrors.join("|") + "\nstate=" + q(0).querySelector(".state").textContent +
            "\n" + text + "END\n";
    }
    if (!saved) done("no download\n"); else saved.text().then(done);
})();
EOF
sed -e 's|<head>|<head><script src="probe.js"></script>|' \
    -e 's|</body>|<script src="drive.js"></script></body>|' out/index.html > out/t.html
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
    --virtual-time-budget=5000 --dump-dom "file://$tmp/out/t.html" > dom.html 2> browser.err ||
    { cat browser.err >&2; framework_failure_ "$browser failed"; }
sed -n '/<pre id="result">/,/END/p' dom.html | sed 's/.*<pre id="result">//; s/&amp;/\&/g; s/&quot;/"/g' > got.txt
cat > want.txt << 'EOF'
name=decisions.csv
images=true
errors=
state=same individual as w_a
photo,decision,id
c1/IMG_0001.JPG,same,w_a
c1/IMG_0001.JPG,not_same,w_b
c1/IMG_0001.JPG,not_same,w_c
c2/IMG_0001.JPG,new,"Big, ""Notch"""
"c2/a,""b"".JPG",skip,
END
EOF
compare_ want.txt got.txt
exit 0
