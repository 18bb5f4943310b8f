#!/usr/bin/env python3
"""compare.py A B: two scores TSVs hold the same lines, scores within 1e-7
relative (pandas and C may round the last digit differently)."""
import sys

n = 0
with open(sys.argv[1]) as a, open(sys.argv[2]) as b:
    for x, y in zip(a, b):
        if x.startswith("#"):
            continue
        qa, la, sa = x.split("\t")
        qb, lb, sb = y.split("\t")
        sa, sb = float(sa), float(sb)
        if qa != qb or (la != lb and abs(sa - sb) > 1e-7 * max(1, abs(sa))) \
                or abs(sa - sb) > 1e-7 * max(1, abs(sa)):
            sys.exit("line %d differs:\n%s%s" % (n + 1, x, y))
        n += 1
    if a.read(1) or b.read(1):
        sys.exit("different lengths")
print("outputs agree: %d lines" % n)
