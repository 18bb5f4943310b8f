#!/usr/bin/env python3
"""map5.py TRUTH.csv SUBMISSION.csv: Kaggle's MAP@5 of a submission,
recomputed independently of hwi (apk with k = 5, one true label per image).
Also checks the submission: every truth image once, 5 distinct ids."""
import csv
import sys

truth = {r["Image"]: r["Id"] for r in csv.DictReader(open(sys.argv[1]))}
seen, total = set(), 0.0
for r in csv.DictReader(open(sys.argv[2])):
    ids = r["Id"].split()
    assert r["Image"] not in seen, "image twice: " + r["Image"]
    assert len(ids) == 5 and len(set(ids)) == 5, "not 5 distinct ids: %r" % r
    seen.add(r["Image"])
    total += next((1 / (i + 1) for i, x in enumerate(ids[:5]) if x == truth[r["Image"]]), 0)
assert seen == set(truth), "images differ from the truth's"
print("%.6f" % (total / len(truth)))
