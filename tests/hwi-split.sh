#!/bin/sh
# hwi-split: the original's validation split on a hand-made train.csv: the
# exact draw of seed 1, its properties for other seeds, outputs whole or not
# at all, bad input.
. "${srcdir:-.}/tests/init.sh"

std_options_ hwi-split

# a: 4 photos, b: 2, c: 1, d: 2, new_whale: 5
cat > train.csv << 'EOT'
Image,Id
01.jpg,w_aaaaaaa
02.jpg,new_whale
03.jpg,w_bbbbbbb
04.jpg,w_aaaaaaa
05.jpg,w_ccccccc
06.jpg,new_whale
07.jpg,w_aaaaaaa
08.jpg,new_whale
09.jpg,w_bbbbbbb
10.jpg,new_whale
11.jpg,w_ddddddd
12.jpg,w_ddddddd
13.jpg,new_whale
14.jpg,w_aaaaaaa
EOT

# the draw of seed 1 (the default), in the input's order
cat > want-val << 'EOT'
Image,Id
02.jpg,new_whale
03.jpg,w_bbbbbbb
04.jpg,w_aaaaaaa
10.jpg,new_whale
12.jpg,w_ddddddd
EOT
hwi-split --new-whale 2 --train tr.csv --val va.csv train.csv 2> err
compare_ want-val va.csv
echo 'hwi-split: 14 photos: 9 train, 5 validation (2 of them new_whale)' > want-err
compare_ want-err err
# train + validation = the input, and nothing in both
{ tail -n +2 tr.csv; tail -n +2 va.csv; } | sort > both
tail -n +2 train.csv | sort > all
compare_ all both
head -1 tr.csv | grep -qx 'Image,Id' || fail_ "train part has no header"

# properties for other seeds: one photo of each of a, b, d; none of c
for seed in 2 3 4 5 6; do
    hwi-split -s "$seed" --new-whale 3 --val - train.csv 2> /dev/null > va
    cut -d, -f2 va | tail -n +2 | sort | uniq -c | awk '{ print $2, $1 }' > got
    printf 'new_whale 3\nw_aaaaaaa 1\nw_bbbbbbb 1\nw_ddddddd 1\n' > want
    compare_ want got
done
# the same seed, the same draw; another seed, in general another one
hwi-split -s 9 --new-whale 2 --val a.csv train.csv 2> /dev/null
hwi-split -s 9 --new-whale 2 --val b.csv train.csv 2> /dev/null
cmp a.csv b.csv || fail_ "same seed, different split"

# a fraction of the new_whale photos (0.4 of 5 = 2), and the default
# (the original's 1000 of 9664: 0.1035 of 5 rounds to 1)
hwi-split --new-whale-fraction 0.4 --val - train.csv 2> /dev/null | grep -c new_whale > got
echo 2 > want
compare_ want got
hwi-split --val - train.csv 2> /dev/null | grep -c new_whale > got
echo 1 > want
compare_ want got

# pipeline: standard input to standard output
hwi-split --new-whale 2 --val - < train.csv 2> /dev/null > out
compare_ want-val out

# bad input: exit 1, a message naming the file and line, no file left
returns_ 1 hwi-split --new-whale 6 --train t.csv --val v.csv train.csv 2> err
grep -q '^hwi-split: train.csv: 6 new_whale photos asked for, but there are only 5$' err ||
    fail_ "too many: $(cat err)"
[ -e t.csv ] || [ -e v.csv ] && fail_ "output left behind"
ls t.csv.tmp* v.csv.tmp* 2> /dev/null && fail_ "temporary file left behind"

sed '1s/.*/Image,Whale/' train.csv > header.csv
returns_ 1 hwi-split --val v.csv header.csv 2> err
grep -q '^hwi-split: header.csv:1: bad header' err || fail_ "header: $(cat err)"
{ cat train.csv; echo '03.jpg,w_eeeeeee'; } > dup.csv
returns_ 1 hwi-split --val v.csv dup.csv 2> err
grep -q "^hwi-split: dup.csv:16: duplicate image '03.jpg'" err || fail_ "dup: $(cat err)"
printf 'Image,Id\n01.jpg,w_a,extra\n' > fields.csv
returns_ 1 hwi-split --val v.csv fields.csv 2> err
grep -q '^hwi-split: fields.csv:2: expected 2 fields' err || fail_ "fields: $(cat err)"
[ -e v.csv ] && fail_ "output left behind"
returns_ 1 hwi-split --val v.csv no-such.csv 2> err

# usage errors: exit 2
returns_ 2 hwi-split train.csv 2> err
grep -q 'give --train, --val or both' err || fail_ "no output: $(cat err)"
returns_ 2 hwi-split --train - --val - train.csv 2> err
returns_ 2 hwi-split --new-whale-fraction 1.5 --val - train.csv 2> err
grep -q "invalid value '1.5' for --new-whale-fraction" err || fail_ "fraction: $(cat err)"
returns_ 2 hwi-split --new-whale -1 --val - train.csv 2> err
returns_ 2 hwi-split -s x --val - train.csv 2> err
returns_ 2 hwi-split --val - a b 2> err
# both files or neither: when the validation file cannot be written (no
# such folder, a full disk), the train file is not written either, and a
# previous one stays as it was
returns_ 1 hwi-split --train t.csv --val no-dir/v.csv train.csv 2> err
grep -q '^hwi-split: no-dir/v.csv: No such file or directory$' err || fail_ "no dir: $(cat err)"
[ -e t.csv ] && fail_ "train file written without the validation file"
echo previous > t.csv
returns_ 1 hwi-split --train t.csv --val no-dir/v.csv train.csv 2> err
[ "$(cat t.csv)" = previous ] || fail_ "train file replaced without the validation file"
if [ -w /dev/full ]; then
    returns_ 1 hwi-split --train t.csv --val /dev/full train.csv 2> err
    grep -q '^hwi-split: /dev/full: write error' err || fail_ "full: $(cat err)"
    [ "$(cat t.csv)" = previous ] || fail_ "train file replaced, validation file on a full disk"
fi
ls t.csv.tmp* 2> /dev/null && fail_ "temporary file left behind"
rm -f t.csv

exit 0
