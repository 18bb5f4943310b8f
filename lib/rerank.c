/* rerank.c: query expansion, label centroids and k-reciprocal re-ranking
 * over a prepared gallery (see rerank.h).
 *
 * Every pass over distances is blocked as knn.c's: dot products of a block
 * of rows against a block of gallery rows from one cblas_sgemm, consumed at
 * once, so nothing N x N is ever held.  Ties in a neighbour list go to the
 * lower sample index; a sample is always first in its own list. */
#include <config.h>

#include "rerank.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RB = 256 }; /* queries per block where per-label state is kept */

/* OUT[na][nb] = A[na][dim] . B[nb][dim]^T */
static void dots(const float *a, size_t na, const float *b, size_t nb, uint32_t dim,
                 float *out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)nb, (int)dim, 1.0f, a,
                (int)dim, b, (int)dim, 0.0f, out, (int)nb);
}

static double sq(const float *v, uint32_t dim)
{
    double s = 0;
    for (uint32_t i = 0; i < dim; i++)
        s += (double)v[i] * v[i];
    return s;
}

static double dist2(const float *a, const float *b, uint32_t dim)
{
    double s = 0;
    for (uint32_t i = 0; i < dim; i++) {
        double d = (double)a[i] - b[i];
        s += d * d;
    }
    return s;
}

/* The gallery row of query KEY, or HWI_KNN_NONE. */
static size_t row_of(const struct hwi_knn *k, const char *const *keys, size_t i)
{
    if (!keys || !keys[i])
        return HWI_KNN_NONE;
    size_t *r = hwi_map_get(&k->nmap, keys[i]);
    return r ? *r : HWI_KNN_NONE;
}

static int prepared(struct hwi_knn *k, char *err)
{
    if (hwi_knn_search(k, NULL, 0, NULL, NULL, NULL))
        return hwi_seterr(err, "%s", k->err);
    return 0;
}

/* A list of the best M (smallest KEY; ties: smaller index) of a stream. */
struct best {
    size_t *idx;
    double *key;
    int n, m;
};

static void best_put(struct best *b, size_t i, double key)
{
    if (b->n == b->m &&
        !(key < b->key[b->n - 1] || (key == b->key[b->n - 1] && i < b->idx[b->n - 1])))
        return;
    int j = b->n < b->m ? b->n++ : b->n - 1;
    while (j > 0 && (key < b->key[j - 1] || (key == b->key[j - 1] && i < b->idx[j - 1]))) {
        b->key[j] = b->key[j - 1];
        b->idx[j] = b->idx[j - 1];
        j--;
    }
    b->key[j] = key;
    b->idx[j] = i;
}

/* ------------------------------------------------------------------------
 * Ranking labels from one score per label (-INFINITY: no candidate). */
struct rank_ctx {
    const double *score;
    char *const *label;
};

static int cmp_label(const void *pa, const void *pb, void *arg)
{
    const struct rank_ctx *c = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    if (c->score[a] != c->score[b])
        return c->score[a] > c->score[b] ? -1 : 1;
    return strcmp(c->label[a], c->label[b]);
}

/* HITS[0..stride) and *NHITS from SCORE[nlabel] and IMAGE[nlabel]. */
static void rank_labels(const struct hwi_knn *k, const double *score, const size_t *image,
                        size_t *order, size_t stride, struct hwi_knn_hit *hits, size_t *nhits)
{
    size_t n = 0;
    for (size_t c = 0; c < k->nlabel; c++)
        if (score[c] > -INFINITY)
            order[n++] = c;
    struct rank_ctx ctx = {score, k->label};
    qsort_r(order, n, sizeof *order, cmp_label, &ctx);
    if (n > stride)
        n = stride;
    for (size_t j = 0; j < n; j++)
        hits[j] = (struct hwi_knn_hit){order[j], image[order[j]], score[order[j]]};
    *nhits = n;
}

/* ------------------------------------------------------------------------
 * Query expansion. */
int hwi_qe_expand(struct hwi_knn *k, float *q, size_t nq, const char *const *keys, int n,
                  double alpha, char *err)
{
    if (n < 1 || !(alpha >= 0))
        return hwi_seterr(err, "query expansion over %d images with alpha %g", n, alpha);
    if (prepared(k, err))
        return -1;
    uint32_t dim = k->dim;
    size_t QB = HWI_KNN_QBLOCK, GB = HWI_KNN_GBLOCK;
    float *dot = malloc(QB * GB * sizeof *dot);
    size_t *idx = malloc(QB * (size_t)n * sizeof *idx);
    double *key = malloc(QB * (size_t)n * sizeof *key);
    size_t *self = malloc(QB * sizeof *self);
    double *acc = malloc(dim * sizeof *acc);
    int rc = 0;
    if (!dot || !idx || !key || !self || !acc) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t q0 = 0; q0 < nq; q0 += QB) {
        size_t qb = nq - q0 < QB ? nq - q0 : QB;
        struct best b[HWI_KNN_QBLOCK];
        for (size_t i = 0; i < qb; i++) {
            b[i] = (struct best){idx + i * n, key + i * n, 0, n};
            self[i] = k->flags & HWI_KNN_KEEP_SELF ? HWI_KNN_NONE : row_of(k, keys, q0 + i);
        }
        for (size_t g0 = 0; g0 < k->n; g0 += GB) {
            size_t gb = k->n - g0 < GB ? k->n - g0 : GB;
            dots(q + q0 * dim, qb, k->vec + g0 * dim, gb, dim, dot);
            for (size_t i = 0; i < qb; i++)
                for (size_t g = 0; g < gb; g++)
                    if (g0 + g != self[i])
                        best_put(&b[i], g0 + g, -(double)dot[i * gb + g]);
        }
        for (size_t i = 0; i < qb; i++) {
            float *v = q + (q0 + i) * dim;
            for (uint32_t d = 0; d < dim; d++)
                acc[d] = v[d];
            for (int j = 0; j < b[i].n; j++) {
                const float *g = k->vec + b[i].idx[j] * dim;
                double s = 0;
                for (uint32_t d = 0; d < dim; d++)
                    s += (double)v[d] * g[d];
                double w = alpha == 0 ? 1 : pow(s > 0 ? s : 0, alpha);
                for (uint32_t d = 0; d < dim; d++)
                    acc[d] += w * g[d];
            }
            double s = 0;
            for (uint32_t d = 0; d < dim; d++)
                s += acc[d] * acc[d];
            s = s > 0 ? 1 / sqrt(s) : 0;
            for (uint32_t d = 0; d < dim; d++)
                v[d] = (float)(acc[d] * s);
        }
    }
out:
    free(dot);
    free(idx);
    free(key);
    free(self);
    free(acc);
    return rc;
}

/* ------------------------------------------------------------------------
 * Centroids: row r of C is label lab[r]'s mean, or one new_whale image. */
int hwi_centroid_rank(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
                      size_t top, struct hwi_knn_hit *hits, size_t *nhits, char *err)
{
    if (prepared(k, err))
        return -1;
    uint32_t dim = k->dim;
    size_t L = k->nlabel, nw = L, nr = 0;
    for (size_t c = 0; c < L; c++)
        if (strcmp(k->label[c], "new_whale") == 0)
            nw = c;
    for (size_t c = 0; c < L; c++)
        nr += c == nw ? k->start[c + 1] - k->start[c] : 1;
    size_t stride = top && top < L ? top : L;
    size_t QB = RB, GB = HWI_KNN_GBLOCK;
    float *C = malloc(nr * dim * sizeof *C);
    double *sum = malloc((size_t)L * dim * sizeof *sum);
    double *cn2 = malloc(nr * sizeof *cn2);
    size_t *lab = malloc(nr * sizeof *lab);
    float *dot = malloc(QB * GB * sizeof *dot);
    double *d2 = malloc(QB * L * sizeof *d2);
    double *score = malloc(L * sizeof *score);
    size_t *image = malloc(L * sizeof *image), *order = malloc(L * sizeof *order);
    float *tmp = malloc(dim * sizeof *tmp);
    int rc = 0;
    if (!C || !sum || !cn2 || !lab || !dot || !d2 || !score || !image || !order || !tmp) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    size_t r = 0;
    for (size_t c = 0; c < L; c++) {
        double *s = sum + c * dim;
        for (uint32_t d = 0; d < dim; d++)
            s[d] = 0;
        for (size_t g = k->start[c]; g < k->start[c + 1]; g++) {
            const float *v = k->vec + g * dim;
            for (uint32_t d = 0; d < dim; d++)
                s[d] += v[d];
            if (c == nw) {
                memcpy(C + r * dim, v, dim * sizeof *C);
                lab[r++] = c;
            }
        }
        if (c == nw)
            continue;
        double n2 = 0;
        for (uint32_t d = 0; d < dim; d++)
            n2 += s[d] * s[d];
        n2 = n2 > 0 ? 1 / sqrt(n2) : 0;
        for (uint32_t d = 0; d < dim; d++)
            C[r * dim + d] = (float)(s[d] * n2);
        lab[r++] = c;
    }
    for (size_t i = 0; i < nr; i++)
        cn2[i] = sq(C + i * dim, dim);
    for (size_t q0 = 0; q0 < nq; q0 += QB) {
        size_t qb = nq - q0 < QB ? nq - q0 : QB;
        for (size_t i = 0; i < qb * L; i++)
            d2[i] = INFINITY;
        for (size_t g0 = 0; g0 < nr; g0 += GB) {
            size_t gb = nr - g0 < GB ? nr - g0 : GB;
            dots(q + q0 * dim, qb, C + g0 * dim, gb, dim, dot);
            for (size_t i = 0; i < qb; i++) {
                double qn = sq(q + (q0 + i) * dim, dim);
                size_t self =
                    k->flags & HWI_KNN_KEEP_SELF ? HWI_KNN_NONE : row_of(k, keys, q0 + i);
                for (size_t g = 0; g < gb; g++) {
                    size_t c = lab[g0 + g];
                    if (self != HWI_KNN_NONE && k->cls[self] == c)
                        continue; /* below */
                    double v = qn + cn2[g0 + g] - 2.0 * dot[i * gb + g];
                    v = v > 0 ? v : 0;
                    if (v < d2[i * L + c])
                        d2[i * L + c] = v;
                }
            }
        }
        for (size_t i = 0; i < qb; i++) {
            const float *v = q + (q0 + i) * dim;
            size_t self =
                k->flags & HWI_KNN_KEEP_SELF ? HWI_KNN_NONE : row_of(k, keys, q0 + i);
            if (self != HWI_KNN_NONE) { /* its label without it */
                size_t c = k->cls[self];
                size_t cnt = k->start[c + 1] - k->start[c];
                if (c == nw) {
                    for (size_t g = k->start[c]; g < k->start[c + 1]; g++)
                        if (g != self) {
                            double e = dist2(v, k->vec + g * dim, dim);
                            if (e < d2[i * L + c])
                                d2[i * L + c] = e;
                        }
                } else if (cnt > 1) {
                    const double *s = sum + c * dim;
                    const float *me = k->vec + self * dim;
                    double n2 = 0;
                    for (uint32_t d = 0; d < dim; d++)
                        n2 += (s[d] - me[d]) * (s[d] - me[d]);
                    n2 = n2 > 0 ? 1 / sqrt(n2) : 0;
                    for (uint32_t d = 0; d < dim; d++)
                        tmp[d] = (float)((s[d] - me[d]) * n2);
                    d2[i * L + c] = dist2(v, tmp, dim);
                }
            }
            for (size_t c = 0; c < L; c++) {
                score[c] = d2[i * L + c] < INFINITY ? hwi_knn_sim(d2[i * L + c]) : -INFINITY;
                image[c] = k->start[c];
            }
            rank_labels(k, score, image, order, stride, hits + (q0 + i) * stride,
                        nhits + q0 + i);
        }
    }
out:
    free(C);
    free(sum);
    free(cn2);
    free(lab);
    free(dot);
    free(d2);
    free(score);
    free(image);
    free(order);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------------
 * k-reciprocal re-ranking. */

/* A sparse row: sorted columns and their values. */
struct srow {
    size_t *col;
    double *val;
    size_t n;
};

struct rr {
    const struct hwi_knn *k;
    const float *q; /* the queries */
    size_t n, N;    /* gallery rows; samples: gallery, then extra queries */
    size_t *extra;  /* [N - n] query index of each extra sample */
    size_t *sample; /* [nq] sample of each query */
    int K;          /* neighbours kept per sample: max(k1 + 1, k2) */
    int k1, k2;
    size_t *nb;      /* [N][K] nearest samples, itself first */
    struct srow *V;  /* [N] */
    double *dense;   /* [N] scratch, 0 */
    size_t *touched; /* [N] scratch */
};

static const float *rr_vec(const struct rr *r, size_t s)
{
    uint32_t dim = r->k->dim;
    return s < r->n ? r->k->vec + s * dim : r->q + r->extra[s - r->n] * dim;
}

/* Neighbour lists of every sample: blocks of rows against blocks of
 * columns, neither crossing the gallery's end. */
static int rr_neighbours(struct rr *r, char *err)
{
    uint32_t dim = r->k->dim;
    size_t N = r->N, K = (size_t)r->K, QB = HWI_KNN_QBLOCK, GB = HWI_KNN_GBLOCK;
    float *dot = malloc(QB * GB * sizeof *dot);
    double *n2 = malloc(N * sizeof *n2), *key = malloc(QB * K * sizeof *key);
    struct best *b = malloc(QB * sizeof *b);
    int rc = 0;
    if (!dot || !n2 || !key || !b) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t s = 0; s < N; s++)
        n2[s] = sq(rr_vec(r, s), dim);
    for (size_t r0 = 0; r0 < N;) {
        size_t end = r0 < r->n ? r->n : N;
        size_t rb = end - r0 < QB ? end - r0 : QB;
        for (size_t i = 0; i < rb; i++) {
            b[i] = (struct best){r->nb + (r0 + i) * K, key + i * K, 0, (int)K};
            best_put(&b[i], r0 + i, -1); /* itself first */
        }
        for (size_t c0 = 0; c0 < N;) {
            size_t cend = c0 < r->n ? r->n : N;
            size_t cb = cend - c0 < GB ? cend - c0 : GB;
            dots(rr_vec(r, r0), rb, rr_vec(r, c0), cb, dim, dot);
            for (size_t i = 0; i < rb; i++)
                for (size_t j = 0; j < cb; j++) {
                    if (r0 + i == c0 + j)
                        continue;
                    double v = n2[r0 + i] + n2[c0 + j] - 2.0 * dot[i * cb + j];
                    best_put(&b[i], c0 + j, v > 0 ? v : 0);
                }
            c0 += cb;
        }
        r0 += rb;
    }
out:
    free(dot);
    free(n2);
    free(key);
    free(b);
    return rc;
}

static int in_first(const struct rr *r, size_t s, size_t x, int m)
{
    const size_t *l = r->nb + s * (size_t)r->K;
    for (int j = 0; j < m; j++)
        if (l[j] == x)
            return 1;
    return 0;
}

/* The K-reciprocal neighbours of S (itself included) into OUT; count. */
static int recip(const struct rr *r, size_t s, int kk, size_t *out)
{
    const size_t *l = r->nb + s * (size_t)r->K;
    int n = 0;
    for (int j = 0; j <= kk; j++)
        if (in_first(r, l[j], s, kk + 1))
            out[n++] = l[j];
    return n;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Python's round(k1 / 2): halves to even. */
static int half_k(int k1)
{
    int m = k1 / 2;
    return k1 % 2 && m % 2 ? m + 1 : m;
}

/* V rows before the local expansion. */
static int rr_vrows(struct rr *r, struct srow *V, char *err)
{
    int k1 = r->k1, h = half_k(k1);
    uint32_t dim = r->k->dim;
    size_t *R = malloc((size_t)(k1 + 1) * sizeof *R), *C = malloc((size_t)(h + 1) * sizeof *C);
    size_t cap = (size_t)(k1 + 1) * (h + 2) + 1;
    size_t *E = malloc(cap * sizeof *E);
    if (!R || !C || !E) {
        free(R), free(C), free(E);
        return hwi_seterr(err, "out of memory");
    }
    int rc = 0;
    for (size_t s = 0; s < r->N && !rc; s++) {
        int nr = recip(r, s, k1, R), ne = nr;
        memcpy(E, R, nr * sizeof *E);
        for (int a = 0; a < nr; a++) {
            int nc = recip(r, R[a], h, C), common = 0;
            for (int x = 0; x < nc; x++)
                for (int y = 0; y < nr; y++)
                    common += C[x] == R[y];
            if (3 * common > 2 * nc) {
                memcpy(E + ne, C, nc * sizeof *E);
                ne += nc;
            }
        }
        qsort(E, ne, sizeof *E, cmp_size);
        int u = 0;
        for (int j = 0; j < ne; j++)
            if (u == 0 || E[j] != E[u - 1])
                E[u++] = E[j];
        V[s].col = malloc(u * sizeof(size_t));
        V[s].val = malloc(u * sizeof(double));
        V[s].n = u;
        if (!V[s].col || !V[s].val) {
            rc = hwi_seterr(err, "out of memory");
            break;
        }
        double tot = 0;
        const float *x = rr_vec(r, s);
        for (int j = 0; j < u; j++) {
            V[s].col[j] = E[j];
            tot += V[s].val[j] = exp(-dist2(x, rr_vec(r, E[j]), dim) / 4);
        }
        for (int j = 0; j < u; j++)
            V[s].val[j] /= tot;
    }
    free(R);
    free(C);
    free(E);
    return rc;
}

/* Row S of the local expansion: the mean of V over S's k2 nearest. */
static int rr_expand(struct rr *r, const struct srow *V, size_t s, struct srow *out)
{
    const size_t *l = r->nb + s * (size_t)r->K;
    size_t nt = 0;
    for (int j = 0; j < r->k2; j++) {
        const struct srow *v = &V[l[j]];
        for (size_t x = 0; x < v->n; x++) {
            if (r->dense[v->col[x]] == 0)
                r->touched[nt++] = v->col[x];
            r->dense[v->col[x]] += v->val[x] / r->k2;
        }
    }
    qsort(r->touched, nt, sizeof *r->touched, cmp_size);
    out->col = malloc((nt ? nt : 1) * sizeof(size_t));
    out->val = malloc((nt ? nt : 1) * sizeof(double));
    out->n = nt;
    for (size_t x = 0; x < nt; x++) {
        size_t c = r->touched[x];
        if (out->col && out->val) {
            out->col[x] = c;
            out->val[x] = r->dense[c];
        }
        r->dense[c] = 0;
    }
    return out->col && out->val ? 0 : -1;
}

static void srows_free(struct srow *V, size_t n)
{
    if (!V)
        return;
    for (size_t i = 0; i < n; i++) {
        free(V[i].col);
        free(V[i].val);
    }
    free(V);
}

int hwi_rerank(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
               const struct hwi_rerank_opts *o, size_t top, struct hwi_knn_hit *hits,
               size_t *nhits, char *err)
{
    if (o->k1 < 1 || o->k2 < 1 || !(o->lambda >= 0 && o->lambda <= 1))
        return hwi_seterr(err, "re-ranking with k1 %d, k2 %d, lambda %g", o->k1, o->k2,
                          o->lambda);
    if (prepared(k, err))
        return -1;
    uint32_t dim = k->dim;
    size_t L = k->nlabel, stride = top && top < L ? top : L;
    struct rr r = {.k = k, .q = q, .n = k->n, .k1 = o->k1, .k2 = o->k2};
    r.K = o->k1 + 1 > o->k2 ? o->k1 + 1 : o->k2;
    r.sample = malloc((nq ? nq : 1) * sizeof *r.sample);
    r.extra = malloc((nq ? nq : 1) * sizeof *r.extra);
    int rc = 0;
    struct srow *V0 = NULL, *V = NULL;
    size_t *ioff = NULL, *irow = NULL, *mcol = NULL, *moff = NULL, *image = NULL,
           *order = NULL;
    double *ival = NULL, *mval = NULL, *best = NULL, *score = NULL;
    float *dot = NULL;
    if (!r.sample || !r.extra) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    r.N = r.n;
    for (size_t i = 0; i < nq; i++) {
        size_t g = row_of(k, keys, i);
        if (g == HWI_KNN_NONE) {
            r.extra[r.N - r.n] = i;
            g = r.N++;
        }
        r.sample[i] = g;
    }
    if ((size_t)r.K > r.N)
        r.K = (int)r.N;
    if (r.k1 >= r.K)
        r.k1 = r.K - 1;
    if (r.k2 > r.K)
        r.k2 = r.K;
    r.nb = malloc(r.N * (size_t)r.K * sizeof *r.nb);
    r.dense = calloc(r.N, sizeof *r.dense);
    r.touched = malloc(r.N * sizeof *r.touched);
    V0 = calloc(r.N, sizeof *V0);
    V = calloc(r.N, sizeof *V);
    if (!r.nb || !r.dense || !r.touched || !V0 || !V) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    if ((rc = rr_neighbours(&r, err)) || (rc = rr_vrows(&r, V0, err)))
        goto out;
    for (size_t s = 0; s < r.N; s++)
        if (rr_expand(&r, V0, s, &V[s])) {
            rc = hwi_seterr(err, "out of memory");
            goto out;
        }
    srows_free(V0, r.N);
    V0 = NULL;

    /* inverted index over the gallery rows: column j -> (row, value) */
    ioff = calloc(r.N + 1, sizeof *ioff);
    if (!ioff) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t s = 0; s < r.n; s++)
        for (size_t x = 0; x < V[s].n; x++)
            ioff[V[s].col[x] + 1]++;
    for (size_t j = 0; j < r.N; j++)
        ioff[j + 1] += ioff[j];
    irow = malloc((ioff[r.N] ? ioff[r.N] : 1) * sizeof *irow);
    ival = malloc((ioff[r.N] ? ioff[r.N] : 1) * sizeof *ival);
    if (!irow || !ival) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t s = 0; s < r.n; s++)
        for (size_t x = 0; x < V[s].n; x++) {
            size_t j = V[s].col[x], at = ioff[j]++;
            irow[at] = s;
            ival[at] = V[s].val[x];
        }
    for (size_t j = r.N; j > 0; j--)
        ioff[j] = ioff[j - 1];
    ioff[0] = 0;

    /* per block of queries: sum of minima (sparse, by gallery row), then
     * the final distance to every gallery row */
    size_t GB = HWI_KNN_GBLOCK;
    dot = malloc((size_t)RB * GB * sizeof *dot);
    moff = malloc((RB + 1) * sizeof *moff);
    best = malloc((size_t)RB * L * sizeof *best);
    image = malloc((size_t)RB * L * sizeof *image);
    score = malloc(L * sizeof *score);
    order = malloc(L * sizeof *order);
    float *qv = malloc((size_t)RB * dim * sizeof *qv);
    size_t mcap = 0;
    if (!dot || !moff || !best || !image || !score || !order || !qv) {
        free(qv);
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t q0 = 0; q0 < nq && !rc; q0 += RB) {
        size_t qb = nq - q0 < RB ? nq - q0 : RB;
        moff[0] = 0;
        for (size_t i = 0; i < qb; i++) {
            const struct srow *v = &V[r.sample[q0 + i]];
            size_t nt = 0;
            for (size_t x = 0; x < v->n; x++)
                for (size_t y = ioff[v->col[x]]; y < ioff[v->col[x] + 1]; y++) {
                    size_t g = irow[y];
                    if (r.dense[g] == 0)
                        r.touched[nt++] = g;
                    r.dense[g] += v->val[x] < ival[y] ? v->val[x] : ival[y];
                }
            qsort(r.touched, nt, sizeof *r.touched, cmp_size);
            if (moff[i] + nt > mcap) {
                mcap = 2 * (moff[i] + nt) + 64;
                size_t *nc = realloc(mcol, mcap * sizeof *mcol);
                if (nc)
                    mcol = nc;
                double *nv = realloc(mval, mcap * sizeof *mval);
                if (nv)
                    mval = nv;
                if (!nc || !nv) {
                    free(qv);
                    rc = hwi_seterr(err, "out of memory");
                    goto out;
                }
            }
            for (size_t x = 0; x < nt; x++) {
                mcol[moff[i] + x] = r.touched[x];
                mval[moff[i] + x] = r.dense[r.touched[x]];
                r.dense[r.touched[x]] = 0;
            }
            moff[i + 1] = moff[i] + nt;
            memcpy(qv + i * dim, rr_vec(&r, r.sample[q0 + i]), dim * sizeof *qv);
        }
        for (size_t i = 0; i < qb * L; i++) {
            best[i] = INFINITY;
            image[i] = HWI_KNN_NONE;
        }
        size_t cur[RB];
        for (size_t i = 0; i < qb; i++)
            cur[i] = moff[i];
        for (size_t g0 = 0; g0 < r.n; g0 += GB) {
            size_t gb = r.n - g0 < GB ? r.n - g0 : GB;
            dots(qv, qb, k->vec + g0 * dim, gb, dim, dot);
            for (size_t i = 0; i < qb; i++) {
                double qn = sq(qv + i * dim, dim);
                size_t self = k->flags & HWI_KNN_KEEP_SELF ? HWI_KNN_NONE : r.sample[q0 + i];
                for (size_t g = 0; g < gb; g++) {
                    size_t row = g0 + g;
                    double m = 0;
                    if (cur[i] < moff[i + 1] && mcol[cur[i]] == row)
                        m = mval[cur[i]++];
                    if (row == self)
                        continue;
                    double d2 = qn + k->norm2[row] - 2.0 * dot[i * gb + g];
                    double f = (1 - o->lambda) * (1 - m / (2 - m)) +
                               o->lambda * (d2 > 0 ? d2 : 0) / 4;
                    size_t c = k->cls[row];
                    if (f < best[i * L + c]) {
                        best[i * L + c] = f;
                        image[i * L + c] = row;
                    }
                }
            }
        }
        for (size_t i = 0; i < qb; i++) {
            for (size_t c = 0; c < L; c++)
                score[c] = best[i * L + c] < INFINITY ? 1 - best[i * L + c] : -INFINITY;
            rank_labels(k, score, image + i * L, order, stride, hits + (q0 + i) * stride,
                        nhits + q0 + i);
        }
    }
    free(qv);
out:
    free(r.sample);
    free(r.extra);
    free(r.nb);
    free(r.dense);
    free(r.touched);
    srows_free(V0, r.N);
    srows_free(V, r.N);
    free(ioff);
    free(irow);
    free(ival);
    free(mcol);
    free(mval);
    free(moff);
    free(best);
    free(image);
    free(score);
    free(order);
    free(dot);
    return rc;
}
