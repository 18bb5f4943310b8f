#!/bin/sh
# hwi-knn --qe, --centroid, --rerank against tests/rerank/ref.py, a dense
# numpy brute force written from the papers: its output on the fixture is in
# tests/rerank/*.tsv (and is made again here when numpy is at hand).
. "${srcdir:-.}/tests/init.sh"

fx="$top_srcdir/tests/rerank"
hwi-vec --pack -o g.vec "$fx/gallery.txt"
hwi-vec --pack -o q.vec "$fx/queries.txt"

# scores within 1e-5, labels in the same order, as many lines
same_() {
    paste "$1" "$2" | awk -F'\t' '{ d = $3 - $6; if (d < 0) d = -d
                                     if ($1 != $4 || $2 != $5 || d > 1e-5) bad = 1 }
                                   END { exit bad }' &&
        [ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ]
}

havenumpy=no
python3 -c 'import numpy' 2> /dev/null && havenumpy=yes
for mode in "--qe 3,3" "--qe 2,0" "--centroid" "--rerank 20,6,0.3" "--rerank 4,1,0" \
            "--rerank 5,3,0.5" "--qe 2,1 --rerank 6,2,0.2"; do
    name=$(echo "$mode" | sed 's/--//g; s/ /_/g; s/,/-/g')
    opts=$(echo "$mode" | sed 's/--\([a-z]*\) \([^ ]*\)/--\1=\2/g')
    # shellcheck disable=SC2086
    hwi-knn --gallery g.vec -l "$fx/labels.csv" -k 5 $opts q.vec | grep -v '^#' > got
    same_ "$fx/$name.tsv" got || fail_ "hwi-knn $opts differs from tests/rerank/$name.tsv"
    if [ $havenumpy = yes ]; then
        # shellcheck disable=SC2086
        python3 "$fx/ref.py" "$fx/gallery.txt" "$fx/labels.csv" "$fx/queries.txt" $mode > ref
        same_ ref got || fail_ "hwi-knn $opts differs from ref.py"
    fi
done

# --rerank with no value: 20,6,0.3
hwi-knn --gallery g.vec -l "$fx/labels.csv" -k 5 --rerank q.vec | grep -v '^#' > got
same_ "$fx/rerank_20-6-0.3.tsv" got || fail_ "--rerank's defaults"
# re-ranking changes the ranking of this fixture (it is not a no-op)
hwi-knn --gallery g.vec -l "$fx/labels.csv" -k 5 q.vec | grep -v '^#' > plain
same_ plain got && fail_ "--rerank gave the plain ranking"
# usage errors: exit 2
returns_ 2 hwi-knn --gallery g.vec -l "$fx/labels.csv" --qe=0 q.vec 2> err
returns_ 2 hwi-knn --gallery g.vec -l "$fx/labels.csv" --qe=3,-1 q.vec 2> err
grep -q "invalid value '3,-1' for --qe" err || fail_ "qe: $(cat err)"
returns_ 2 hwi-knn --gallery g.vec -l "$fx/labels.csv" --rerank=20,6 q.vec 2> err
grep -q "invalid value '20,6' for --rerank" err || fail_ "rerank: $(cat err)"
returns_ 2 hwi-knn --gallery g.vec -l "$fx/labels.csv" --rerank=20,6,1.5 q.vec 2> err
returns_ 2 hwi-knn --gallery g.vec -l "$fx/labels.csv" --rerank=0,6,0.3 q.vec 2> err
returns_ 2 hwi-knn --gallery g.vec -l "$fx/labels.csv" --centroid --rerank q.vec 2> err
grep -q -- '--centroid and --rerank cannot be used together' err || fail_ "both: $(cat err)"
exit 0
