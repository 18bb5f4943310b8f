#!/usr/bin/env python3
"""fuse_pandas.py: the competitor a Kaggler would write for hwi-fuse.

    fuse_pandas.py W1,W2 V1,V2 A.tsv B.tsv > fused.tsv

Weighted sum of two scores TSVs (new_whale weighted by V), labels missing
from one file counting 0, each query's labels best first (ties by label),
written like hwi-fuse (%.9g, a '# query label score' first line).
"""
import sys

import numpy as np
import pandas as pd


def main():
    w = [float(x) for x in sys.argv[1].split(",")]
    v = [float(x) for x in sys.argv[2].split(",")]
    parts = []
    for i, path in enumerate(sys.argv[3:5]):
        df = pd.read_csv(path, sep="\t", comment="#", header=None, names=["q", "l", "s"],
                         dtype={"q": str, "l": str, "s": np.float32})
        df["s"] = df["s"].astype(np.float64) * np.where(df["l"] == "new_whale", v[i], w[i])
        parts.append(df)
    m = pd.concat(parts).groupby(["q", "l"], sort=False)["s"].sum().reset_index()
    m = m.sort_values(["q", "s", "l"], ascending=[True, False, True], kind="stable")
    sys.stdout.write("# query\tlabel\tscore\n")
    m.to_csv(sys.stdout, sep="\t", header=False, index=False, float_format="%.9g")


if __name__ == "__main__":
    main()
