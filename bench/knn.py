"""bench/knn.py: hwi-knn against the numpy brute force a Kaggler would write.

Makes random unit vectors (queries, and a gallery whose images belong to
about NLABELS individuals plus new_whale), then runs, side by side:

  hwi-knn    --gallery g.bin --labels g.csv q.bin   (OpenBLAS sgemm in blocks)
  numpy      one python3 process: np.load, one matrix product Q @ G.T,
             distances, per-label minimum (np.minimum.reduceat over the
             gallery sorted by label), top-N per query, the same TSV

and prints the wall and CPU seconds (CPU: all threads, user + system; the
steadier figure on a shared machine), the ratios and the peak memory of
each, and checks that both rank the same best label for every query.

Usage: python3 bench/knn.py HWI_BIN [NQ NG DIM NLABELS [TOP]]
       python3 bench/knn.py --make DIR NQ NG DIM NLABELS   (the data)
       python3 bench/knn.py --numpy DIR TOP   (the competitor)
"""
import os
import subprocess
import sys
import tempfile
import time


def competitor(d, top):
    t0 = time.monotonic()
    import numpy as np

    q = np.load(os.path.join(d, "q.npy"))
    g = np.load(os.path.join(d, "g.npy"))
    with open(os.path.join(d, "q.keys")) as f:
        qkeys = f.read().split()
    with open(os.path.join(d, "g.csv")) as f:
        rows = [line.rstrip("\n").split(",") for line in f][1:]
    glab = np.array([r[1] for r in rows])
    order = np.argsort(glab, kind="stable")
    g, glab = g[order], glab[order]
    starts = np.flatnonzero(np.r_[True, glab[1:] != glab[:-1]])
    names = glab[starts]
    t1 = time.monotonic()
    # ||q - g||^2 = ||q||^2 + ||g||^2 - 2 q.g, in place on the product
    s = q @ g.T
    t2 = time.monotonic()
    s *= -2
    s += (g * g).sum(1)[None, :]
    s += (q * q).sum(1)[:, None]
    m = np.minimum.reduceat(s, starts, axis=1)
    del s
    sim = (2 - np.sqrt(np.maximum(m, 0))) / 2
    k = min(top, sim.shape[1])
    part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    ps = np.take_along_axis(sim, part, 1)
    o = np.argsort(-ps, axis=1, kind="stable")
    best = np.take_along_axis(part, o, 1)
    bs = np.take_along_axis(ps, o, 1)
    t3 = time.monotonic()
    with open(os.path.join(d, "numpy.tsv"), "w") as f:
        f.write("# query\tlabel\tscore\n")
        for i, key in enumerate(qkeys):
            f.write("".join("%s\t%s\t%.9g\n" % (key, names[c], v)
                            for c, v in zip(best[i], bs[i])))
    t4 = time.monotonic()
    print("  numpy: load %.2f s, product %.2f s, distances + per-label min + top %.2f s, "
          "TSV %.2f s" % (t1 - t0, t2 - t1, t3 - t2, t4 - t3))


def write_stream(path, keys, x):
    import numpy as np

    n, dim = x.shape
    with open(path, "wb") as f:
        f.write(b"HWIF" + np.array([1, 32], "<u2").tobytes()
                + np.array([dim, 1], "<u4").tobytes() + np.zeros(2, "<u8").tobytes())
        x = x.astype("<f4")
        for i, k in enumerate(keys):
            kb = k.encode()
            f.write(np.array([len(kb)], "<u4").tobytes() + kb + x[i].tobytes())


def unit(rng, n, dim):
    import numpy as np

    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def first_labels(path):
    best = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            qk, lab, sc = line.rstrip("\n").split("\t")
            if qk not in best:
                best[qk] = (lab, float(sc))
    return best


def run(argv):
    """Run ARGV; return its wall seconds, CPU seconds (user + system, all
    threads) and peak RSS in MB, from wait4, so only that child counts."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv)
    _, status, ru = os.wait4(p.pid, 0)
    t = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench/knn: %s failed (exit %d)" % (argv[0], p.returncode))
    return t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def make_data(d, nq, ng, dim, nlab):
    import numpy as np

    rng = np.random.default_rng(1)
    # a third of the gallery is new_whale; every individual has an image
    g = unit(rng, ng, dim)
    q = unit(rng, nq, dim)
    lab = ["w_%07x" % (i % nlab) if i < nlab else "w_%07x" % rng.integers(nlab)
           for i in range(ng)]
    for i in rng.choice(np.arange(nlab, ng), size=min(ng - nlab, ng // 3), replace=False):
        lab[i] = "new_whale"
    gkeys = ["g%06d.jpg" % i for i in range(ng)]
    qkeys = ["q%06d.jpg" % i for i in range(nq)]
    np.save(os.path.join(d, "g.npy"), g)
    np.save(os.path.join(d, "q.npy"), q)
    with open(os.path.join(d, "q.keys"), "w") as f:
        f.write("\n".join(qkeys) + "\n")
    with open(os.path.join(d, "g.csv"), "w") as f:
        f.write("Image,Id\n" + "".join("%s,%s\n" % kl for kl in zip(gkeys, lab)))
    write_stream(os.path.join(d, "g.bin"), gkeys, g)
    write_stream(os.path.join(d, "q.bin"), qkeys, q)


def main():
    if sys.argv[1] == "--numpy":
        competitor(sys.argv[2], int(sys.argv[3]))
        return
    if sys.argv[1] == "--make":
        make_data(sys.argv[2], *(int(v) for v in sys.argv[3:7]))
        return
    hwi_bin = sys.argv[1]
    nq, ng, dim, nlab = (int(v) for v in (sys.argv[2:6] or (8000, 25000, 2048, 5000)))
    top = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    me = os.path.abspath(__file__)
    with tempfile.TemporaryDirectory(prefix="hwi-bench-knn.") as d:
        run([sys.executable, me, "--make", d, str(nq), str(ng), str(dim), str(nlab)])
        print("knn: %d queries x %d gallery images x %d dims, %d labels + new_whale, top %d"
              % (nq, ng, dim, nlab, top))
        t_hwi, cpu_hwi, rss_hwi = run([os.path.join(hwi_bin, "hwi-knn"), "--gallery",
                              os.path.join(d, "g.bin"), "--labels", os.path.join(d, "g.csv"),
                              "--top", str(top), "--output", os.path.join(d, "hwi.tsv"),
                              os.path.join(d, "q.bin")])
        t_np, cpu_np, rss_np = run([sys.executable, me, "--numpy", d, str(top)])
        a = first_labels(os.path.join(d, "hwi.tsv"))
        b = first_labels(os.path.join(d, "numpy.tsv"))
        same = sum(a[k][0] == b[k][0] for k in b)
        diff = max(abs(a[k][1] - b[k][1]) for k in b)
        row = "%-8s %8.2f s wall %8.2f s CPU   peak RSS %6.0f MB"
        print(row % ("hwi-knn", t_hwi, cpu_hwi, rss_hwi))
        print(row % ("numpy", t_np, cpu_np, rss_np))
        print("ratio numpy / hwi-knn: %.2f wall, %.2f CPU"
              % (t_np / t_hwi, cpu_np / cpu_hwi))
        print("same best label for %d of %d queries; largest score difference %.2g"
              % (same, len(b), diff))


if __name__ == "__main__":
    main()
