#!/usr/bin/env python3
"""demo.py: a synthetic validation and test split for the fusion pipeline.

    demo.py OUTDIR [SEED]

Not a trained model: scores with a known structure, for showing each stage
of steps 5-6 until real hwi-embed / hwi-knn outputs exist.  There are 400
individuals; a query is a known individual (2/3) or a new whale (1/3).

  logits   z = 4.5 * onehot(truth) + N(0, 1.2) per class, and for a third of
           the queries the truth's boost goes to a look-alike individual
           instead (the classifier's confusions)
  knn      (2 - d) / 2 with d ~ N(0.80, 0.15) to the truth's nearest gallery
           image and N(1.10, 0.10) to the others', independent of the
           logits; the new_whale candidate is near (d ~ N(0.85, 0.12)) for
           half the new whales, far (N(1.10, 0.10)) otherwise

Writes OUTDIR/{val,test}-logits.txt (hwi-vec --pack text with a
'# key LABEL...' line), {val,test}-knn.tsv (all individuals plus new_whale,
best first, in a shuffled query order), {val,test}.csv (truth, Image,Id),
test-images.txt (the test image names, one per line).
"""
import sys

import numpy as np

NIND = 400


def split(rng, name, n, out):
    labels = ["w_%07x" % (0x1000 + i) for i in range(NIND)]
    images, truth = [], []
    logits = np.empty((n, NIND), dtype=np.float32)
    sim = np.empty((n, NIND + 1))
    for q in range(n):
        images.append("%s%05d.jpg" % (name, q))
        new = rng.random() < 1 / 3
        t = rng.integers(NIND)
        truth.append("new_whale" if new else labels[t])
        z = rng.normal(0, 1.2, NIND)
        if not new:
            boost = t if rng.random() < 2 / 3 else (t + 1 + rng.integers(NIND - 1)) % NIND
            z[boost] += 4.5
        logits[q] = z
        d = rng.normal(1.10, 0.10, NIND + 1)
        if not new:
            d[t] = rng.normal(0.80, 0.15)
        elif rng.random() < 0.5:
            d[NIND] = rng.normal(0.85, 0.12)
        sim[q] = (2 - np.clip(d, 0, 2)) / 2
    order = rng.permutation(n)  # hwi-knn's and hwi-embed's order: not sorted
    with open("%s/%s-logits.txt" % (out, name), "w") as f:
        f.write("# key\t" + "\t".join(labels) + "\n")
        for q in order:
            f.write(images[q] + "\t" + "\t".join("%.6g" % x for x in logits[q]) + "\n")
    lab = np.array(labels + ["new_whale"])
    with open("%s/%s-knn.tsv" % (out, name), "w") as f:
        f.write("# query\tlabel\tscore\n")
        for q in order:
            o = np.argsort(-sim[q], kind="stable")
            f.write("".join("%s\t%s\t%.6f\n" % (images[q], l, s)
                            for l, s in zip(lab[o], sim[q][o])))
    with open("%s/%s.csv" % (out, name), "w") as f:
        f.write("Image,Id\n" + "".join("%s,%s\n" % x for x in zip(images, truth)))
    if name == "test":
        with open("%s/test-images.txt" % out, "w") as f:
            f.write("".join(i + "\n" for i in images))


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    split(rng, "val", 900, out)
    split(rng, "test", 900, out)


if __name__ == "__main__":
    main()
