#!/bin/sh
# hwi-eval: MAP@5 and friends against values computed independently (Kaggle's
# apk from ml_metrics, written out in python3 by hand: see the constants),
# per-image output, stdin, and every kind of malformed submission.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-eval

cat > truth.csv << 'EOT'
Image,Id
a.jpg,w_1
b.jpg,w_2
c.jpg,new_whale
d.jpg,w_3
e.jpg,new_whale
f.jpg,w_1
g.jpg,w_4
h.jpg,w_5
i.jpg,new_whale
j.jpg,w_2
EOT
# repeated ids (b, d), new_whale at every rank, short rows, a blank line,
# rows in another order than the truth
cat > sub.csv << 'EOT'
Image,Id
j.jpg,w_9 w_8 w_7 w_6 w_2
a.jpg,w_1 new_whale w_2
b.jpg,new_whale w_2 w_2 w_3
c.jpg,new_whale
d.jpg,w_2 w_2 w_2 w_3

e.jpg,w_1 w_2 new_whale w_4 w_5
f.jpg,new_whale w_3 w_4 w_5 w_6
g.jpg,w_4
h.jpg,new_whale w_5
i.jpg,w_3 w_4 w_5 w_6 w_7
EOT
# python3: sum(apk([t], p, 5)) / 10 = (1 + .5 + 1 + .25 + 1/3 + 0 + 1 + .5 + 0 + .2) / 10
printf 'map5\t0.478333\ntop1\t0.300000\nnw_precision\t0.250000\nnw_recall\t0.333333\nqueries\t10\n' > want
hwi-eval truth.csv sub.csv > out
compare_ want out

# standard input, CRLF line ends
sed 's/$/\r/' sub.csv | hwi-eval truth.csv > out
compare_ want out
hwi-eval truth.csv - < sub.csv > out
compare_ want out

# per image: IMAGE TRUTH AP in the truth's order, then the summary
cat > want-per << 'EOT'
a.jpg	w_1	1.000000
b.jpg	w_2	0.500000
c.jpg	new_whale	1.000000
d.jpg	w_3	0.250000
e.jpg	new_whale	0.333333
f.jpg	w_1	0.000000
g.jpg	w_4	1.000000
h.jpg	w_5	0.500000
i.jpg	new_whale	0.000000
j.jpg	w_2	0.200000
EOT
cat want >> want-per
hwi-eval --per-image truth.csv sub.csv > out
compare_ want-per out
# awk-friendly: the per-image lines average to map5
hwi-eval --per-image truth.csv sub.csv | awk -F'\t' 'NF == 3 { s += $3; n++ } END { printf "%.6f\n", s / n }' > out
echo 0.478333 > want1
compare_ want1 out

# a perfect submission from the truth itself
awk -F, 'NR > 1 { print $1 "," $2 }' truth.csv | { echo Image,Id; cat; } | hwi-eval truth.csv |
    awk '$1 == "map5" { print $2 }' > out
echo 1.000000 > want1
compare_ want1 out

# malformed submissions: exit 1, one line naming the file and line
grep -v '^g.jpg' sub.csv > missing.csv
returns_ 1 hwi-eval truth.csv missing.csv > out 2> err
[ -s out ] && fail_ "output despite a missing image"
grep -q "^hwi-eval: missing.csv: no prediction for image 'g.jpg'$" err || fail_ "missing: $(cat err)"

{ cat sub.csv; echo 'z.jpg,w_1'; } > unknown.csv
returns_ 1 hwi-eval truth.csv unknown.csv > out 2> err
grep -q "^hwi-eval: unknown.csv:13: unknown image 'z.jpg'" err || fail_ "unknown: $(cat err)"

sed 's/^g.jpg,w_4$/g.jpg,w_4 w_1 w_2 w_3 w_5 w_6/' sub.csv > six.csv
returns_ 1 hwi-eval truth.csv six.csv > out 2> err
grep -q "^hwi-eval: six.csv:10: more than 5 ids for 'g.jpg'" err || fail_ "six: $(cat err)"

{ cat sub.csv; echo 'a.jpg,w_1'; } > dup.csv
returns_ 1 hwi-eval truth.csv dup.csv > out 2> err
grep -q "^hwi-eval: dup.csv:13: duplicate image 'a.jpg'" err || fail_ "dup: $(cat err)"

sed '1s/.*/Image,Ids/' sub.csv > header.csv
returns_ 1 hwi-eval truth.csv header.csv > out 2> err
grep -q "^hwi-eval: header.csv:1: bad header" err || fail_ "header: $(cat err)"

sed 's/^c.jpg,new_whale$/c.jpg,/' sub.csv > empty.csv
returns_ 1 hwi-eval truth.csv empty.csv > out 2> err
grep -q "^hwi-eval: empty.csv:5:" err || fail_ "empty: $(cat err)"

returns_ 1 hwi-eval no-such.csv sub.csv 2> err
grep -q "no-such.csv" err || fail_ "no truth file: $(cat err)"

# usage errors
returns_ 2 hwi-eval 2> err
returns_ 2 hwi-eval a b c 2> err
returns_ 2 hwi-eval - - < sub.csv 2> err
exit 0
