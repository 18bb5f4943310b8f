#!/usr/bin/python3
# Brute-force reference for hwi-knn's --qe, --centroid and --rerank, on
# dense matrices with numpy, written from the papers (not from lib/rerank.c):
#   ref.py GALLERY.txt LABELS.csv QUERIES.txt [--qe N,ALPHA] [--centroid]
#          [--rerank K1,K2,LAMBDA]
# prints the 5 best labels of each query as 'query<TAB>label<TAB>score'.
# A query that is a gallery image never matches that image.
import sys
import numpy as np


def read_vecs(path):
    names, rows = [], []
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        names.append(f[0])
        rows.append([float(x) for x in f[1:]])
    return names, np.array(rows, dtype=np.float64)


args = sys.argv[1:]
gnames, G = read_vecs(args[0])
lab = dict(l.strip().split(',') for l in open(args[1]).readlines()[1:])
qnames, Q = read_vecs(args[2])
opts = {args[i]: args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith('--') else ''
        for i in range(3, len(args)) if args[i].startswith('--')}
glab = [lab[n] for n in gnames]
labels = sorted(set(glab))
self_of = [gnames.index(n) if n in gnames else -1 for n in qnames]

if '--qe' in opts:
    n, alpha = opts['--qe'].split(',')
    n, alpha = int(n), float(alpha)
    for i, q in enumerate(Q):
        sims = G @ q
        order = [j for j in np.argsort(-sims, kind='stable') if j != self_of[i]][:n]
        acc = q.copy()
        for j in order:
            w = 1.0 if alpha == 0 else max(sims[j], 0.0) ** alpha
            acc += w * G[j]
        Q[i] = acc / np.linalg.norm(acc)

scores = np.full((len(Q), len(labels)), -np.inf)
if '--centroid' in opts:
    for i, q in enumerate(Q):
        for c, l in enumerate(labels):
            members = [j for j in range(len(G)) if glab[j] == l and j != self_of[i]]
            if not members:
                continue
            if l == 'new_whale':
                d = min(np.linalg.norm(q - G[j]) for j in members)
            else:
                m = G[members].sum(axis=0)
                d = np.linalg.norm(q - m / np.linalg.norm(m))
            scores[i, c] = (2 - d) / 2
elif '--rerank' in opts:
    k1, k2, lam = opts['--rerank'].split(',')
    k1, k2, lam = int(k1), int(k2), float(lam)
    # samples: the gallery, then the queries that are not gallery images
    extra = [i for i in range(len(Q)) if self_of[i] < 0]
    X = np.vstack([G, Q[extra]])
    samp = [self_of[i] if self_of[i] >= 0 else len(G) + extra.index(i) for i in range(len(Q))]
    N = len(X)
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1) / 4
    R = D.copy()
    np.fill_diagonal(R, -1)  # a sample is first in its own list
    rank = np.argsort(R, axis=1, kind='stable')

    def recip(i, k):
        fwd = rank[i, :k + 1]
        return [j for j in fwd if i in rank[j, :k + 1]]

    V = np.zeros((N, N))
    half = int(round(k1 / 2))
    for i in range(N):
        r = recip(i, k1)
        e = set(r)
        for c in r:
            rc = recip(c, half)
            if len(set(rc) & set(r)) > 2 / 3 * len(rc):
                e |= set(rc)
        e = sorted(e)
        w = np.exp(-D[i, e])
        V[i, e] = w / w.sum()
    if k2 > 1:
        V = np.array([V[rank[i, :k2]].mean(axis=0) for i in range(N)])
    for i in range(len(Q)):
        p = samp[i]
        for c, l in enumerate(labels):
            best = np.inf
            for g in range(len(G)):
                if glab[g] != l or g == self_of[i]:
                    continue
                m = np.minimum(V[p], V[g]).sum()
                f = (1 - lam) * (1 - m / (2 - m)) + lam * D[p, g]
                best = min(best, f)
            if best < np.inf:
                scores[i, c] = 1 - best
else:
    for i, q in enumerate(Q):
        for c, l in enumerate(labels):
            ds = [np.linalg.norm(q - G[j]) for j in range(len(G)) if glab[j] == l and j != self_of[i]]
            if ds:
                scores[i, c] = (2 - min(ds)) / 2

for i, n in enumerate(qnames):
    order = sorted(range(len(labels)), key=lambda c: (-scores[i, c], labels[c]))[:5]
    for c in order:
        if scores[i, c] > -np.inf:
            print('%s\t%s\t%.6f' % (n, labels[c], scores[i, c]))
