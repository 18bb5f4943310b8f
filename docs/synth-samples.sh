#!/bin/sh
# synth-samples.sh: make docs/synth-samples.png, the contact sheet of the
# README: three individuals of a small data set (with 4 to 8 train photos
# each), four photos each, one row per individual.
#   docs/synth-samples.sh DATADIR OUT.png     (DATADIR: hwi-synth --scale small)
# Needs libvips-tools (vips).
set -eu
data=$1
out=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/samples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ids=$(tail -n +2 "$data/train.csv" | cut -d, -f2 | grep -v new_whale | sort | uniq -c |
      awk '$1 >= 4 && $1 <= 8 { print $2 }' | head -3)
n=0
for id in $ids; do
    for f in $(grep ",$id\$" "$data/train.csv" | cut -d, -f1 | head -4); do
        vips thumbnail "$data/train/$f" "$tmp/a.v" 236 --height 158
        vips colourspace "$tmp/a.v" "$tmp/b.v" srgb
        vips gravity "$tmp/b.v" "$tmp/t$(printf %02d $n).v" centre 240 162 \
            --extend background --background "255 255 255"
        n=$((n + 1))
    done
done
vips arrayjoin "$(ls "$tmp"/t*.v | tr '\n' ' ')" "$tmp/all.v" --across 4
vips pngsave "$tmp/all.v" "$out" --palette --Q 90 --effort 10
