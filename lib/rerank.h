/* rerank.h: what hwi-knn can do beyond 1-NN per individual.
 *
 * Three options over a prepared gallery (struct hwi_knn, knn.h), each a
 * function of the same queries the plain search takes:
 *
 *   query expansion   alpha-QE (Radenovic et al. 2018): each query becomes
 *                     q' = (q + sum_i w_i g_i) / |...| over its N nearest
 *                     gallery images g_i, w_i = max(0, q.g_i)^alpha
 *                     (alpha 0: average QE, every w_i 1); the search then
 *                     runs with q'.
 *   centroids         each label's images replaced by their mean,
 *                     L2-normalised; new_whale images stay one by one (each
 *                     is another individual).  A query that is itself a
 *                     gallery image is left out of its label's mean
 *                     (leave-one-out); a label of that image alone then has
 *                     no candidate.  Score (2 - d) / 2 as knn.h's.
 *   k-reciprocal      re-ranking (Zhong et al. 2017) over the queries and
 *                     the gallery together (N samples; a query that is a
 *                     gallery image is that sample): d(i,j) = |x_i - x_j|^2
 *                     / 4 (in [0, 1] for unit vectors; Zhong's code divides
 *                     by the row's largest distance instead); R(i, k1) the
 *                     k1-reciprocal neighbours, grown by the R(j, k1/2) of
 *                     its members that share more than 2/3 of theirs with
 *                     it; V_i(j) = exp(-d(i,j)) over them, summing to 1;
 *                     V_i replaced by the mean of V over i's k2 nearest
 *                     (itself included); Jaccard distance
 *                     d_J = 1 - m / (2 - m), m = sum_j min(V_p(j), V_g(j));
 *                     final distance (1 - lambda) d_J + lambda d; a label's
 *                     score is 1 - its images' smallest final distance.
 *
 * Memory: the gallery as knn.h holds it, the queries (nq x dim floats),
 * blocks of HWI_KNN_QBLOCK x HWI_KNN_GBLOCK dot products, and for
 * re-ranking O(N (k1 + k2 |R|)) neighbour lists and sparse V rows (about
 * 40 MB for N = 33k, k1 = 20, k2 = 6), never an N x N matrix.  Time:
 * re-ranking computes all N^2 dot products once and the queries' nq x n
 * again (about 2.2 TFLOP for the competition's 25k gallery and 8k queries
 * at dimension 2048). */
#ifndef HWI_RERANK_H
#define HWI_RERANK_H

#include "knn.h"

#include <stddef.h>

struct hwi_rerank_opts {
    int k1;        /* k-reciprocal neighbours, e.g. 20 */
    int k2;        /* local query expansion over V, e.g. 6 */
    double lambda; /* weight of the original distance, e.g. 0.3 */
};

/* Replace the NQ queries Q[nq][dim] (KEYS their names, or NULL) by their
 * alpha-query-expanded, L2-normalised vectors over their N nearest gallery
 * images (never their own image unless K has HWI_KNN_KEEP_SELF).  K is
 * prepared (hwi_knn_search has run).  Returns 0 or -1 with ERR set. */
int hwi_qe_expand(struct hwi_knn *k, float *q, size_t nq, const char *const *keys, int n,
                  double alpha, char *err);

/* The TOP best labels of each of NQ queries (all when TOP is 0), as
 * hwi_knn_rank, scored against the label centroids. */
int hwi_centroid_rank(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
                      size_t top, struct hwi_knn_hit *hits, size_t *nhits, char *err);

/* The TOP best labels of each of NQ queries after k-reciprocal re-ranking
 * with O, as hwi_knn_rank; hit.image is the image at the smallest final
 * distance.  All queries at once (re-ranking looks at them together). */
int hwi_rerank(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
               const struct hwi_rerank_opts *o, size_t top, struct hwi_knn_hit *hits,
               size_t *nhits, char *err);

#endif /* HWI_RERANK_H */
