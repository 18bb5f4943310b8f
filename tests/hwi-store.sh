#!/bin/sh
# hwi-store: create, add (labels, splits, column names, one transaction),
# export, list; the plain sqlite3 shell on the same file; two writers.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-store

printf 'b.jpg\t0.5\t-1\t2\na.jpg\t1\t0\t0\nc.jpg\t0\t0.25\t-0.125\n' > v.txt
hwi-vec --pack v.txt > v.bin
printf 'Image,Id\na.jpg,w_1\nb.jpg,new_whale\nx.jpg,w_9\n' > labels.csv

hwi-store create s.db
hwi-store create s.db # a store already: nothing happens
hwi-store add --model r50 --split val --labels labels.csv s.db v.bin

# export gives the vectors back, in name order
hwi-store export --model r50 s.db | hwi-vec > out.txt
sort v.txt > want.txt
compare_ want.txt out.txt
hwi-store export -m r50 -o e.bin s.db
hwi-vec e.bin > out.txt
compare_ want.txt out.txt

hwi-store list s.db > out.txt
printf '# model\tkind\tsplit\tdim\tvectors\nr50\tfeatures\tval\t3\t3\n' > want.txt
compare_ want.txt out.txt
# the header announces the vectors, so a cut export is seen as cut
hwi-store export -m r50 s.db | hwi-vec --info | grep '^count' > out.txt
printf 'count\t3\n' > want.txt
compare_ want.txt out.txt
hwi-store export -m r50 s.db | head -c 74 > cut.bin # 2 of 3 records
returns_ 1 hwi-vec --info cut.bin > /dev/null 2> err.txt
grep -q 'header announces 3 records, stream has 2$' err.txt || fail_ "cut export: $(cat err.txt)"

# logits with column names; a second model; images keep their labels
printf '# key\tw_1\tnew_whale\na.jpg\t2\t-1\nd.jpg\t0\t1\n' > l.txt
hwi-vec --pack l.txt | hwi-store add -m r50 --kind logits --split train s.db
hwi-vec --pack v.txt | hwi-store add -m r152 s.db
hwi-store export -m r50 --kind logits s.db | hwi-vec --names > out.txt
compare_ l.txt out.txt
hwi-store list s.db > out.txt
cat > want.txt <<'OUT'
# model	kind	split	dim	vectors
r152	features	train	3	1
r152	features	val	3	2
r50	features	train	3	1
r50	features	val	3	2
r50	logits	train	2	2
OUT
compare_ want.txt out.txt
hwi-store export -m r50 --split val,test s.db | hwi-vec | cut -f1 > out.txt
printf 'b.jpg\nc.jpg\n' > want.txt
compare_ want.txt out.txt

# the plain sqlite3 shell reads the store ...
if command -v sqlite3 > /dev/null 2>&1; then
    sqlite3 s.db 'PRAGMA user_version' > out.txt
    echo 2 > want.txt
    compare_ want.txt out.txt
    sqlite3 -separator ' ' s.db "SELECT name, coalesce(label, '-'), split FROM images
        ORDER BY name" > out.txt
    printf 'a.jpg w_1 train\nb.jpg new_whale val\nc.jpg - val\nd.jpg - train\n' > want.txt
    compare_ want.txt out.txt
    sqlite3 s.db "SELECT count(*) FROM embeddings WHERE length(vec) = 4 * dim" > out.txt
    echo 8 > want.txt
    compare_ want.txt out.txt
    # ... and edits it: a label set there is what hwi-knn sees
    sqlite3 s.db "UPDATE images SET label = 'w_3' WHERE name = 'c.jpg'"
    printf 'q\t0\t0.25\t-0.125\n' | hwi-vec --pack | hwi-knn -D s.db -m r50 -k 1 > out.txt
    printf '# query\tlabel\tscore\nq\tw_3\t1\n' > want.txt
    compare_ want.txt out.txt

    # a writer waits for another (busy timeout) instead of failing: the
    # shell holds the write lock for a second while hwi-store adds
    { printf 'BEGIN IMMEDIATE;\nINSERT INTO models (name) VALUES ('"'lock'"');\n'
      printf '.shell touch locked\n.shell sleep 1\nCOMMIT;\n'; } | sqlite3 s.db &
    shell=$!
    n=0
    while [ ! -e locked ]; do
        sleep 0.1
        n=$((n + 1))
        [ $n -lt 100 ] || framework_failure_ "sqlite3 did not take the lock"
    done
    hwi-vec --pack v.txt | hwi-store add -m waited s.db 2> err || fail_ "busy: $(cat err)"
    wait $shell || fail_ "the sqlite3 shell failed"
    sqlite3 s.db "SELECT count(*) FROM models WHERE name IN ('lock', 'waited')" > out.txt
    echo 2 > want.txt
    compare_ want.txt out.txt
else
    echo "sqlite3 not found: shell checks skipped" >&2
fi

# two hwi-store writers at once both land
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "i%05d\t%d\t1\n", i, i }' | hwi-vec --pack > big.bin
hwi-store add -m w1 s.db big.bin 2> err1 &
p1=$!
hwi-store add -m w2 s.db big.bin 2> err2 &
p2=$!
wait $p1 || fail_ "writer 1: $(cat err1)"
wait $p2 || fail_ "writer 2: $(cat err2)"
hwi-store list s.db | grep '^w[12]	' > out.txt
printf 'w1\tfeatures\ttrain\t2\t2000\nw2\tfeatures\ttrain\t2\t2000\n' > want.txt
compare_ want.txt out.txt

# all or nothing: a truncated stream or a wrong dimension adds nothing
hwi-store list s.db > before.txt
head -c 60 v.bin > trunc.bin
returns_ 1 hwi-store add -m r50 --split test s.db trunc.bin 2> err
grep -q 'trunc.bin: record 2.*truncated' err || fail_ "truncated: $(cat err)"
printf 'z.jpg\t1\t2\n' | hwi-vec --pack > two.bin
returns_ 1 hwi-store add -m r50 s.db two.bin 2> err
grep -q "two.bin: dimension 2, but the store's features vectors of model 'r50' have 3" err ||
    fail_ "dimension: $(cat err)"
printf 'dup.jpg\t1\t2\t3\nnew.jpg\t1\t1\t1\ndup.jpg\t3\t2\t1\n' | hwi-vec --pack > dup.bin
returns_ 1 hwi-store add -m r50 s.db dup.bin 2> err
grep -q "dup.bin: record 3 (key 'dup.jpg'): image repeated (first at record 1)" err ||
    fail_ "duplicate key: $(cat err)"
hwi-store list s.db > after.txt
compare_ before.txt after.txt
hwi-store export -m r50 --split test s.db | hwi-vec > out.txt
[ -s out.txt ] && fail_ "a failed add left vectors"

# --verbose prints a summary
hwi-store add -v -m r50 s.db v.bin 2> err
grep -q "s.db: added 3 features vectors of model 'r50' (dimension 3)" err ||
    fail_ "summary: $(cat err)"

# data errors exit 1
returns_ 1 hwi-store add -m r50 no-such.db v.bin 2> err
grep -q 'no-such.db' err || fail_ "missing store: $(cat err)"
[ -e no-such.db ] && fail_ "add created a store"
returns_ 1 hwi-store export -m r18 s.db > /dev/null 2> err
grep -q "no model 'r18'" err || fail_ "missing model: $(cat err)"
returns_ 1 hwi-store export -m r152 --kind logits s.db > /dev/null 2> err
grep -q "model 'r152' has no logits vectors" err || fail_ "no vectors: $(cat err)"
returns_ 1 hwi-store list no-such.db 2> err
if command -v sqlite3 > /dev/null 2>&1; then
    sqlite3 other.db 'CREATE TABLE t (x)'
    returns_ 1 hwi-store list other.db 2> err
    grep -q 'not an hwi store' err || fail_ "not a store: $(cat err)"
fi
returns_ 1 hwi-store add -m r50 -l no-such.csv s.db v.bin 2> err
returns_ 1 hwi-store add -m r50 s.db no-such.bin 2> err
printf 'HWIF\001\000\040\000\003\000\000\000\000\000\000\000' > nokeys.bin
printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >> nokeys.bin
returns_ 1 hwi-store add -m r50 s.db nokeys.bin 2> err
grep -q 'nokeys.bin: the stream has no keys' err || fail_ "no keys: $(cat err)"

# usage errors exit 2
returns_ 2 hwi-store 2> err
grep -q 'missing command' err || fail_ "no command: $(cat err)"
returns_ 2 hwi-store frobnicate s.db 2> err
grep -q "unknown command 'frobnicate'" err || fail_ "bad command: $(cat err)"
returns_ 2 hwi-store add s.db v.bin 2> err
grep -q 'add needs --model' err || fail_ "no model: $(cat err)"
returns_ 2 hwi-store add -m r50 2> err
returns_ 2 hwi-store add -m r50 --kind probs s.db v.bin 2> err
grep -q "invalid value 'probs' for --kind" err || fail_ "bad kind: $(cat err)"
returns_ 2 hwi-store add -m r50 --split train,val s.db v.bin 2> err
returns_ 2 hwi-store export -m r50 --split nope s.db 2> err
returns_ 2 hwi-store export -m r50 -l labels.csv s.db 2> err
returns_ 2 hwi-store list -m r50 s.db 2> err
returns_ 2 hwi-store add -m r50 -o x s.db v.bin 2> err
returns_ 2 hwi-store add -m r50 -f s.db v.bin 2> err
returns_ 2 hwi-store list s.db extra 2> err
returns_ 2 hwi-store create 2> err
returns_ 2 hwi-store add -m r50 -l - s.db < v.bin 2> err
grep -q -- '--labels and the vectors cannot both be standard input' err ||
    fail_ "two stdins: $(cat err)"
# --- photo identity (issue 11) ---------------------------------------------
# repeated camera names in two folders stay two photos with their own labels
mkdir -p photos/card1 photos/card2
printf 'one' > photos/card1/IMG_0001.JPG
printf 'two' > photos/card2/IMG_0001.JPG
printf 'card1/IMG_0001.JPG\t1\t0\ncard2/IMG_0001.JPG\t0\t1\n' | hwi-vec --pack > cards.bin
printf 'Image,Id\ncard1/IMG_0001.JPG,w_a\ncard2/IMG_0001.JPG,w_b\n' > cards.csv
printf 'cfg' > m.cfg
printf 'weights' > m.weights
hwi-store create f.db
hwi-store add -m r50 -l cards.csv --root photos --cfg m.cfg --weights m.weights f.db cards.bin
if command -v sqlite3 > /dev/null 2>&1; then
    sqlite3 -separator ' ' f.db 'SELECT name, label, sha256 FROM images ORDER BY name' > out.txt
    python3 -c '
import hashlib
for n, l, d in (("card1/IMG_0001.JPG", "w_a", b"one"), ("card2/IMG_0001.JPG", "w_b", b"two")):
    print(n, l, hashlib.sha256(d).hexdigest())' > want.txt
    compare_ want.txt out.txt
    sqlite3 -separator ' ' f.db 'SELECT cfg_sha256, weights_sha256 FROM models' > out.txt
    python3 -c '
import hashlib
print(hashlib.sha256(b"cfg").hexdigest(), hashlib.sha256(b"weights").hexdigest())' > want.txt
    compare_ want.txt out.txt
    # the same photos again: nothing changes
    sqlite3 f.db .dump > before.sql
    hwi-store add -m r50 -l cards.csv --root photos --cfg m.cfg f.db cards.bin
    sqlite3 f.db .dump > after.sql
    compare_ before.sql after.sql
    # a different photo under a stored key: an error, and nothing changes
    printf 'other' > photos/card1/IMG_0001.JPG
    returns_ 1 hwi-store add -m r50 --root photos f.db cards.bin 2> err
    grep -q "^hwi-store: cards.bin: record 1 (key 'card1/IMG_0001.JPG'): image 'card1/IMG_0001.JPG': a different photo is stored under this name" err ||
        fail_ "clash: $(cat err)"
    sqlite3 f.db .dump > after.sql
    compare_ before.sql after.sql
    printf 'one' > photos/card1/IMG_0001.JPG
    # another label for a stored photo: an error (relabel changes labels)
    printf 'Image,Id\ncard1/IMG_0001.JPG,w_z\n' > other.csv
    returns_ 1 hwi-store add -m r50 -l other.csv f.db cards.bin 2> err
    grep -q "stored as 'w_a', labelled 'w_z' here" err || fail_ "label clash: $(cat err)"
    # other weights under the same model name: an error
    printf 'new weights' > m2.weights
    returns_ 1 hwi-store add -m r50 --weights m2.weights f.db cards.bin 2> err
    grep -q "model 'r50': its weights file has changed" err || fail_ "weights: $(cat err)"
    returns_ 1 hwi-store add -m r50 --root nowhere f.db cards.bin 2> err
    grep -q "nowhere/card1/IMG_0001.JPG: No such file" err || fail_ "root: $(cat err)"
    sqlite3 f.db .dump > after.sql
    compare_ before.sql after.sql

    # relabel: round trip, and an unknown photo changes nothing
    hwi-store relabel f.db card2/IMG_0001.JPG w_c
    test "$(sqlite3 f.db "SELECT label FROM images WHERE name = 'card2/IMG_0001.JPG'")" = w_c ||
        fail_ relabel
    hwi-store relabel f.db card2/IMG_0001.JPG w_b
    sqlite3 f.db .dump > after.sql
    compare_ before.sql after.sql
    returns_ 1 hwi-store relabel f.db card9/IMG_0001.JPG w_b 2> err
    grep -q "^hwi-store: f.db: no photo 'card9/IMG_0001.JPG' in the store" err ||
        fail_ "relabel unknown: $(cat err)"
    returns_ 2 hwi-store relabel f.db card2/IMG_0001.JPG 2> err

    # decisions: query photos go in with split query and no label first
    printf 'q/IMG_0001.JPG\t0.9\t0.1\nq/IMG_0002.JPG\t0\t1\nq/IMG_0003.JPG\t1\t1\nq/IMG_0004.JPG\t1\t1\n' |
        hwi-vec --pack > q.bin
    hwi-store add -m r50 --split query f.db q.bin
    cat > dec.csv << 'EOF2'
photo,decision,id
q/IMG_0001.JPG,same,w_a
q/IMG_0002.JPG,new,w_new
q/IMG_0003.JPG,not_same,w_b
q/IMG_0004.JPG,skip,
EOF2
    sqlite3 f.db .dump > before.sql
    for bad in 'q/IMG_0009.JPG,same,w_a:3: no photo .q/IMG_0009.JPG. in the store' \
               'q/IMG_0001.JPG,same,w_zz:3: no individual .w_zz. in the store' \
               'q/IMG_0001.JPG,new,w_a:3: individual .w_a. exists already' \
               'q/IMG_0001.JPG,maybe,w_a:3: unknown decision .maybe.' \
               'q/IMG_0001.JPG,same,:3: decision .same. needs an individual id'; do
        { head -n 2 dec.csv; echo "${bad%%:*}"; } > bad.csv
        returns_ 1 hwi-store decisions f.db bad.csv 2> err
        grep -q "^hwi-store: bad.csv:${bad#*,*,*:}" err || fail_ "decisions '$bad': $(cat err)"
        sqlite3 f.db .dump > after.sql
        compare_ before.sql after.sql
    done
    hwi-store decisions f.db dec.csv
    sqlite3 -separator ' ' f.db "SELECT name, coalesce(label, '-') FROM images
        WHERE name LIKE 'q/%' ORDER BY name" > out.txt
    printf 'q/IMG_0001.JPG w_a\nq/IMG_0002.JPG w_new\nq/IMG_0003.JPG -\nq/IMG_0004.JPG -\n' > want.txt
    compare_ want.txt out.txt
    sqlite3 -separator ' ' f.db "SELECT i.name, d.decision, coalesce(d.id, '-')
        FROM decisions d JOIN images i ON i.id = d.image_id ORDER BY d.rowid" > out.txt
    printf 'q/IMG_0001.JPG same w_a\nq/IMG_0002.JPG new w_new\nq/IMG_0003.JPG not_same w_b\nq/IMG_0004.JPG skip -\n' > want.txt
    compare_ want.txt out.txt
    # the confirmed photo is now in the gallery under its individual
    hwi-knn -D f.db -m r50 --photo q.bin | awk -F '\t' '$1 == "q/IMG_0003.JPG" && $4 == "q/IMG_0001.JPG" { n++ } END { exit !n }' ||
        fail_ "the decided photo is not in the gallery"

    # individuals: photos and first/last sighting date
    sqlite3 f.db "UPDATE images SET date = '2025-07-01' WHERE name = 'card1/IMG_0001.JPG';
                  UPDATE images SET date = '2026-08-02' WHERE name = 'q/IMG_0001.JPG'"
    hwi-store individuals f.db > out.txt
    printf '# id\tphotos\tfirst_seen\tlast_seen\nw_a\t2\t2025-07-01\t2026-08-02\nw_b\t1\t-\t-\nw_new\t1\t-\t-\n' > want.txt
    compare_ want.txt out.txt
    # merge-ids: w_new is w_b; unknown ids change nothing
    sqlite3 f.db .dump > before.sql
    returns_ 1 hwi-store merge-ids f.db w_b w_nope 2> err
    grep -q "^hwi-store: f.db: no individual 'w_nope' in the store" err || fail_ "merge: $(cat err)"
    returns_ 1 hwi-store merge-ids f.db w_b w_b 2> err
    sqlite3 f.db .dump > after.sql
    compare_ before.sql after.sql
    hwi-store merge-ids f.db w_b w_new
    hwi-store individuals f.db > out.txt
    printf '# id\tphotos\tfirst_seen\tlast_seen\nw_a\t2\t2025-07-01\t2026-08-02\nw_b\t2\t-\t-\n' > want.txt
    compare_ want.txt out.txt
    # remove: all or none; the vectors go with the photo
    sqlite3 f.db .dump > before.sql
    returns_ 1 hwi-store remove f.db q/IMG_0004.JPG q/none.JPG 2> err
    grep -q "^hwi-store: f.db: no photo 'q/none.JPG' in the store" err || fail_ "remove: $(cat err)"
    sqlite3 f.db .dump > after.sql
    compare_ before.sql after.sql
    hwi-store remove f.db q/IMG_0004.JPG q/IMG_0003.JPG
    test "$(sqlite3 f.db "PRAGMA foreign_keys = ON; SELECT count(*) FROM images WHERE name LIKE 'q/%'")" = 2 ||
        fail_ "remove left photos"
    test "$(hwi-store export -m r50 f.db | hwi-vec | grep -c '^q/')" = 2 || fail_ "remove left vectors"
    returns_ 2 hwi-store remove f.db 2> err
    returns_ 2 hwi-store merge-ids f.db w_a 2> err

    # export-catalogue: every photo with its label, hash and sighting data,
    # CSV-quoted; the hash column is the sha256 of the file
    sqlite3 f.db "UPDATE images SET place = 'Husavik, Iceland', lat = 66.05, note = 'said \"hi\"'
                  WHERE name = 'card1/IMG_0001.JPG'"
    hwi-store export-catalogue -o cat.csv f.db
    head -n 2 cat.csv > out.txt
    h1=$(sha256sum photos/card1/IMG_0001.JPG | cut -d ' ' -f1)
    printf 'photo,label,split,sha256,date,place,lat,lon,encounter,photographer,note\ncard1/IMG_0001.JPG,w_a,train,%s,2025-07-01,"Husavik, Iceland",66.05,,,,"said ""hi"""\n' "$h1" > want.txt
    compare_ want.txt out.txt
    test "$(wc -l < cat.csv)" = 5 || fail_ "catalogue rows: $(cat cat.csv)"
    returns_ 2 hwi-store export-catalogue -f f.db 2> err

    # a version 1 store (made by hwi-store before photo identity) is upgraded
    # when written, and loses nothing
    sqlite3 v1.db < "$srcdir/tests/store-v1.sql"
    test "$(sqlite3 v1.db 'PRAGMA user_version')" = 1 || framework_failure_ "v1 fixture"
    hwi-store export -m r50 v1.db | hwi-vec > v1-before.txt
    hwi-store export -m r50 --kind logits v1.db | hwi-vec --names > v1-logits-before.txt
    sqlite3 v1.db "SELECT id, name, coalesce(label, '-'), split FROM images" > v1-images-before.txt
    hwi-store list v1.db > v1-list-before.txt     # read-only: stays version 1
    cp v1.db v1-copy.db
    hwi-store individuals v1.db > v1-ind.txt
    hwi-store export-catalogue v1.db > v1-cat.csv
    test "$(sqlite3 v1.db 'PRAGMA user_version')" = 1 || fail_ "a reader upgraded the store"
    cmp v1.db v1-copy.db || fail_ "a reader changed the store"
    grep -q '^c.jpg,,train,,,,,,,,$' v1-cat.csv || fail_ "v1 catalogue: $(cat v1-cat.csv)"
    test "$(sed -n 2p v1-ind.txt | cut -f3,4)" = "$(printf -- '-\t-')" ||
        fail_ "v1 individuals: $(cat v1-ind.txt)"
    hwi-store relabel v1.db c.jpg w_2
    test "$(sqlite3 v1.db 'PRAGMA user_version')" = 2 || fail_ "not upgraded"
    sqlite3 v1.db "UPDATE images SET label = NULL WHERE name = 'c.jpg'"
    hwi-store export -m r50 v1.db | hwi-vec > out.txt
    compare_ v1-before.txt out.txt
    hwi-store export -m r50 --kind logits v1.db | hwi-vec --names > out.txt
    compare_ v1-logits-before.txt out.txt
    sqlite3 v1.db "SELECT id, name, coalesce(label, '-'), split FROM images" > out.txt
    compare_ v1-images-before.txt out.txt
    hwi-store list v1.db > out.txt
    compare_ v1-list-before.txt out.txt
    sqlite3 v1.db 'SELECT sha256, date, place, lat, lon, encounter, photographer, note FROM images LIMIT 1' > /dev/null ||
        fail_ "no v2 columns"
    sqlite3 v1.db 'SELECT count(*) FROM decisions' > /dev/null || fail_ "no decisions table"
fi

# merge: shards made apart become one store, equal to the store made in
# one go; a clash changes nothing
printf 'cfg' > mm.cfg
printf 'weights' > mm.weights
printf 'other' > mm2.weights
printf 'm1\t1\t0\nm2\t0\t1\nm3\t1\t1\n' > ma.txt
printf 'm4\t2\t0\nm5\t0\t2\n' > mb.txt
printf 'Image,Id\nm1,w_a\nm2,w_b\nm4,w_a\nm5,new_whale\n' > m.csv
hwi-store create whole.db
cat ma.txt mb.txt | hwi-vec --pack |
    hwi-store add -m r50 -l m.csv --cfg mm.cfg --weights mm.weights whole.db
for x in a b; do
    hwi-store create shard-$x.db
    hwi-vec --pack m$x.txt |
        hwi-store add -m r50 -l m.csv --cfg mm.cfg --weights mm.weights shard-$x.db
done
hwi-store relabel shard-b.db m5 w_c
hwi-store relabel whole.db m5 w_c
hwi-store create merged.db
hwi-store merge merged.db shard-a.db shard-b.db
for db in whole merged; do
    hwi-store export -m r50 $db.db | hwi-vec > $db-vec.txt
    hwi-store export-catalogue $db.db > $db-cat.csv
    hwi-store individuals $db.db > $db-ind.txt
    hwi-store list $db.db > $db-list.txt
done
for f in vec.txt cat.csv ind.txt list.txt; do compare_ whole-$f merged-$f; done
if command -v sqlite3 > /dev/null 2>&1; then
    test "$(sqlite3 merged.db 'SELECT weights_sha256 FROM models')" = \
        "$(sqlite3 whole.db 'SELECT weights_sha256 FROM models')" || fail_ "merge: checksums"
fi
# knn on the merged store is knn on the whole
printf 'q\t1\t0.5\n' | hwi-vec --pack > mq.bin
hwi-knn --db whole.db --model r50 mq.bin > whole.tsv
hwi-knn --db merged.db --model r50 mq.bin > merged.tsv
compare_ whole.tsv merged.tsv
# a photo key in both: an error naming it, the store unchanged
hwi-store create clash.db
printf 'm9\t5\t5\nm2\t3\t3\n' | hwi-vec --pack | hwi-store add -m r50 clash.db
cp merged.db before.db
returns_ 1 hwi-store merge merged.db clash.db 2> err
grep -q "merged.db: clash.db: photo 'm2' is in the store already" err ||
    fail_ "merge clash: $(cat err)"
cmp merged.db before.db || fail_ "a failed merge changed the store"
# the same key in two of the stores merged
returns_ 1 hwi-store merge whole.db shard-a.db 2> err
grep -q "photo 'm1'" err || fail_ "merge twice: $(cat err)"
# a model of the same name from other weights, of another dimension
hwi-store create otherw.db
printf 'n1\t1\t2\n' | hwi-vec --pack |
    hwi-store add -m r50 --cfg mm.cfg --weights mm2.weights otherw.db
returns_ 1 hwi-store merge merged.db otherw.db 2> err
grep -q "otherw.db: model 'r50' was made from another weights file" err ||
    fail_ "merge weights: $(cat err)"
hwi-store create otherd.db
printf 'n1\t1\t2\t3\n' | hwi-vec --pack | hwi-store add -m r50 otherd.db
returns_ 1 hwi-store merge merged.db otherd.db 2> err
grep -q "otherd.db: model 'r50': features vectors of dimension 3, the store's have 2" err ||
    fail_ "merge dimension: $(cat err)"
cmp merged.db before.db || fail_ "a failed merge changed the store"
# not a store; usage
printf 'not a store' > junk.db
returns_ 1 hwi-store merge merged.db junk.db 2> err
returns_ 1 hwi-store merge merged.db no-such.db 2> err
[ -e no-such.db ] && fail_ "merge created a store"
returns_ 2 hwi-store merge merged.db 2> err
returns_ 2 hwi-store merge -m r50 merged.db shard-a.db 2> err
cmp merged.db before.db || fail_ "a failed merge changed the store"
exit 0
