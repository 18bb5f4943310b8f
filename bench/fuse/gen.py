#!/usr/bin/env python3
"""gen.py: scores TSVs for the hwi-fuse benchmark.

    gen.py QUERIES LABELS OUTDIR [SEED]

writes OUTDIR/knn.tsv (1-NN-like similarities (2 - d)/2 for every label
plus a new_whale candidate) and OUTDIR/sm.tsv (softmax probabilities for
every label), both sorted by query, each query's lines best first, as
hwi-knn and hwi-fuse --softmax write them.
"""
import sys

import numpy as np


def main():
    nq, nl = int(sys.argv[1]), int(sys.argv[2])
    out = sys.argv[3]
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    labels = np.array(["w_%07x" % i for i in range(nl)])
    queries = sorted("%08x.jpg" % x for x in rng.choice(1 << 30, nq, replace=False))
    with open(out + "/knn.tsv", "w") as knn, open(out + "/sm.tsv", "w") as sm:
        knn.write("# query\tlabel\tscore\n")
        sm.write("# query\tlabel\tscore\n")
        for q in queries:
            d = rng.uniform(0.6, 1.6, nl)
            sim = np.concatenate([(2 - d) / 2, [rng.uniform(0.2, 0.7)]])
            lab = np.concatenate([labels, ["new_whale"]])
            o = np.argsort(-sim, kind="stable")
            knn.write("".join("%s\t%s\t%.6f\n" % (q, l, s) for l, s in zip(lab[o], sim[o])))
            z = rng.normal(0, 2, nl).astype(np.float32)
            p = np.exp(z - z.max())
            p /= p.sum()
            o = np.argsort(-p, kind="stable")
            sm.write("".join("%s\t%s\t%.9g\n" % (q, l, s) for l, s in zip(labels[o], p[o])))


if __name__ == "__main__":
    main()
