#!/usr/bin/python3
# Write the small fixture of tests/hwi-knn-rerank.sh (run once; the files
# are committed): 10 named whales of 1-5 images and 5 new_whale images,
# unit vectors of dimension 8 around each whale's own direction, and 12
# queries (two of them gallery images).
import numpy as np
rng = np.random.default_rng(13)
dim = 8
rows, labels = [], []
centers = rng.normal(size=(10, dim))
counts = [1, 2, 3, 4, 5, 2, 3, 1, 4, 2]
for w, n in enumerate(counts):
    for _ in range(n):
        rows.append(centers[w] + 0.7 * rng.normal(size=dim))
        labels.append('w_%07x' % (0xa0000 + w))
for _ in range(5):
    rows.append(rng.normal(size=dim))
    labels.append('new_whale')
g = np.array(rows)
g /= np.linalg.norm(g, axis=1, keepdims=True)
names = ['g%02d.jpg' % i for i in range(len(g))]
with open('gallery.txt', 'w') as f:
    for n, v in zip(names, g):
        f.write(n + ''.join('\t%.9g' % x for x in v.astype(np.float32)) + '\n')
with open('labels.csv', 'w') as f:
    f.write('Image,Id\n')
    for n, l in zip(names, labels):
        f.write('%s,%s\n' % (n, l))
q = []
for i in range(10):
    w = rng.integers(10)
    q.append(centers[w] + 0.8 * rng.normal(size=dim))
q = np.array(q)
q /= np.linalg.norm(q, axis=1, keepdims=True)
with open('queries.txt', 'w') as f:
    for i, v in enumerate(q):
        f.write('q%02d.jpg' % i + ''.join('\t%.9g' % x for x in v.astype(np.float32)) + '\n')
    for i in (3, 12):  # gallery images as queries: left out of their own label
        f.write(names[i] + ''.join('\t%.9g' % x for x in g[i].astype(np.float32)) + '\n')
