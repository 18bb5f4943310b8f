"""bench/knn.py: hwi-knn against the numpy brute force a Kaggler would write
and against faiss' exact flat indexes, with the matrix-product floor.

Makes random unit vectors (queries, and a gallery whose images belong to
about NLABELS individuals plus new_whale), then runs, side by side, each in
its own process:

  floor      the matrix product alone, Q @ G.T by numpy on the same OpenBLAS
             (in blocks of 1024 queries): no tool can be faster than this
  hwi-knn    --gallery g.bin --labels g.csv q.bin   (OpenBLAS sgemm in blocks)
  numpy      one python3 process: np.load, one matrix product Q @ G.T,
             distances, per-label minimum (np.minimum.reduceat over the
             gallery sorted by label), top-N per query, the same TSV
  faiss-L2   faiss.IndexFlatL2: the TOP nearest gallery images of each
  faiss-IP   query (IndexFlatIP: largest inner product), their labels in
             order of first appearance, the same TSV

and prints the wall and CPU seconds (CPU: all threads, user + system; the
steadier figure on a shared machine), the peak memory of each, the ratios
to the floor and to hwi-knn, and checks the answers: numpy ranks the same
best label for every query, and each faiss list of labels equals the same
number of hwi-knn's first labels (the labels whose nearest image is among
the TOP nearest images are exactly the best ones), up to ties (equal
scores in either order).  faiss is left out when python3 cannot import it
(Debian: python3-faiss).

Usage: python3 bench/knn.py HWI_BIN [NQ NG DIM NLABELS [TOP]]
       python3 bench/knn.py --make DIR NQ NG DIM NLABELS   (the data)
       python3 bench/knn.py --numpy DIR TOP   (the competitor)
       python3 bench/knn.py --faiss DIR TOP L2|IP
       python3 bench/knn.py --floor DIR
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


def floor(d):
    """The matrix product alone, timed without the loading."""
    import numpy as np

    q = np.load(os.path.join(d, "q.npy"))
    g = np.load(os.path.join(d, "g.npy"))
    t0, c0 = time.monotonic(), time.process_time()
    for q0 in range(0, len(q), 1024):
        q[q0:q0 + 1024] @ g.T
    t, c = time.monotonic() - t0, time.process_time() - c0
    with open(os.path.join(d, "floor"), "w") as f:
        f.write("%.6f %.6f\n" % (t, c))


def faiss_competitor(d, top, metric):
    t0 = time.monotonic()
    import faiss
    import numpy as np

    q = np.load(os.path.join(d, "q.npy"))
    g = np.load(os.path.join(d, "g.npy"))
    with open(os.path.join(d, "q.keys")) as f:
        qkeys = f.read().split()
    with open(os.path.join(d, "g.csv")) as f:
        glab = [line.rstrip("\n").split(",")[1] for line in f][1:]
    index = faiss.IndexFlatL2(g.shape[1]) if metric == "L2" else faiss.IndexFlatIP(g.shape[1])
    index.add(g)
    t1 = time.monotonic()
    dist, idx = index.search(q, top)
    t2 = time.monotonic()
    qn = (q * q).sum(1)
    gn = (g * g).sum(1)
    with open(os.path.join(d, "faiss-%s.tsv" % metric), "w") as f:
        f.write("# query\tlabel\tscore\n")
        for i, key in enumerate(qkeys):
            seen = set()
            out = []
            for j, v in zip(idx[i], dist[i]):
                if j < 0 or glab[j] in seen:
                    continue
                seen.add(glab[j])
                d2 = v if metric == "L2" else qn[i] + gn[j] - 2 * v
                out.append("%s\t%s\t%.9g\n" % (key, glab[j], (2 - np.sqrt(max(d2, 0))) / 2))
            f.write("".join(out))
    t3 = time.monotonic()
    print("  faiss-%s: load + index %.2f s, search %.2f s, labels + TSV %.2f s"
          % (metric, t1 - t0, t2 - t1, t3 - t2))


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


def lists(path):
    """Each query's (label, score) list, best first."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            qk, lab, sc = line.rstrip("\n").split("\t")[:3]
            out.setdefault(qk, []).append((lab, float(sc)))
    return out


def same_prefix(a, b, tol=1e-6):
    """Whether list B equals the first len(B) entries of A up to ties: the
    same labels, and where the order differs the scores are equal within
    TOL."""
    if len(b) > len(a):
        return False
    a = a[:len(b)]
    if [x[0] for x in a] == [x[0] for x in b]:
        return True
    # the same labels once each group of tied scores is taken as a set
    if set(x[0] for x in a[:-1]) - set(x[0] for x in b):
        return False
    return all(x[0] == y[0] or abs(x[1] - y[1]) <= tol for x, y in zip(a, b))


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
    if sys.argv[1] == "--faiss":
        faiss_competitor(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    if sys.argv[1] == "--floor":
        floor(sys.argv[2])
        return
    if sys.argv[1] == "--make":
        make_data(sys.argv[2], *(int(v) for v in sys.argv[3:7]))
        return
    hwi_bin = sys.argv[1]
    nq, ng, dim, nlab = (int(v) for v in (sys.argv[2:6] or (8000, 25000, 2048, 5000)))
    top = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    me = os.path.abspath(__file__)
    try:
        import faiss  # noqa: F401

        have_faiss = True
    except ImportError:
        have_faiss = False
    with tempfile.TemporaryDirectory(prefix="hwi-bench-knn.") as d:
        run([sys.executable, me, "--make", d, str(nq), str(ng), str(dim), str(nlab)])
        print("knn: %d queries x %d gallery images x %d dims, %d labels + new_whale, top %d"
              % (nq, ng, dim, nlab, top))
        print("load: %s" % open("/proc/loadavg").read().strip())
        t_floor, cpu_floor, rss_floor = run([sys.executable, me, "--floor", d])
        with open(os.path.join(d, "floor")) as f:
            floor_s, floor_cpu = (float(v) for v in f.read().split())
        rows = []
        rows.append(("hwi-knn",) + run([os.path.join(hwi_bin, "hwi-knn"), "--gallery",
                                        os.path.join(d, "g.bin"), "--labels",
                                        os.path.join(d, "g.csv"), "--top", str(top),
                                        "--output", os.path.join(d, "hwi.tsv"),
                                        os.path.join(d, "q.bin")]))
        rows.append(("numpy",) + run([sys.executable, me, "--numpy", d, str(top)]))
        if have_faiss:
            for metric in ("L2", "IP"):
                rows.append(("faiss-" + metric,)
                            + run([sys.executable, me, "--faiss", d, str(top), metric]))
        print("load: %s" % open("/proc/loadavg").read().strip())
        print("floor: the product alone %.2f s wall, %.2f s CPU (%.0f GFLOP/s)"
              % (floor_s, floor_cpu, 2.0 * nq * ng * dim / floor_s / 1e9))
        print("%-9s %9s %9s %8s   %-11s   %-11s" % ("", "wall", "CPU", "peak RSS",
                                                  "x floor", "x hwi-knn"))
        print("%-9s %9s %9s %8s   %5s %5s   %5s %5s" % ("", "", "", "", "wall", "CPU",
                                                        "wall", "CPU"))
        row = "%-9s %7.2f s %7.2f s %5.0f MB   %5.2f %5.2f   %5.2f %5.2f"
        t_hwi, cpu_hwi = rows[0][1], rows[0][2]
        for name, t, cpu, rss in rows:
            print(row % (name, t, cpu, rss, t / floor_s, cpu / floor_cpu, t / t_hwi,
                         cpu / cpu_hwi))
        a = lists(os.path.join(d, "hwi.tsv"))
        b = lists(os.path.join(d, "numpy.tsv"))
        same = sum(a[k][0][0] == b[k][0][0] for k in b)
        diff = max(abs(a[k][0][1] - b[k][0][1]) for k in b)
        print("numpy: same best label for %d of %d queries; largest score difference %.2g"
              % (same, len(b), diff))
        if have_faiss:
            for metric in ("L2", "IP"):
                f = lists(os.path.join(d, "faiss-%s.tsv" % metric))
                ok = sum(same_prefix(a[k], f[k]) for k in f)
                n = sum(len(f[k]) for k in f)
                print("faiss-%s: its %d labels equal hwi-knn's first ones (up to ties) for "
                      "%d of %d queries" % (metric, n, ok, len(f)))
        else:
            print("faiss: not found (python3-faiss), left out")


if __name__ == "__main__":
    main()
