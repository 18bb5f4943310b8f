/* knn.c: 1-NN per individual over a labelled gallery (see knn.h).
 *
 * Invariants once prepared (at the first search): the gallery rows are
 * sorted by label, stably, so the images of label c are the rows
 * start[c] .. start[c+1]-1 and every label has at least one row; nmap maps
 * each image name to its row.  A search walks a block of dot products row
 * by row and label run by label run, so the per-label minimum is a running
 * minimum with one store per run. */
#include <config.h>

#include "knn.h"
#include "pool.h"
#include "progress.h"
#include "tsv.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Large buffers: the gallery and the work of a block.  They are anonymous
 * mappings, so the gallery grows by mremap without copying its rows (a
 * doubling realloc copies each about twice), and with MADV_HUGEPAGE the
 * kernel may back them with 2 MB pages (fewer TLB misses on the product's
 * and the rescoring's passes over them).  Where mmap or mremap fails they
 * fall back to malloc and realloc.  k->mapped has one bit per buffer. */
enum { BIG_VEC = 1, BIG_DOT = 2, BIG_D2 = 4, BIG_NEAREST = 8 };

static size_t page_round(size_t bytes)
{
    size_t page = 2u << 20; /* a huge page: whole ones can be used */
    return (bytes + page - 1) / page * page;
}

static void big_advise(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#else
    (void)p;
    (void)bytes;
#endif
}

/* Resize the buffer P of *BYTES bytes (P NULL: none yet) to at least
 * BYTES, keeping its contents; *BYTES becomes the size reserved, and BIT
 * of *MAPPED says whether it is a mapping.  Returns the buffer, or NULL
 * (out of memory; P is unchanged then). */
static void *big_resize(void *p, size_t *bytes, size_t want, unsigned *mapped, unsigned bit)
{
    size_t size = page_round(want ? want : 1);
#if defined(MAP_ANONYMOUS) && defined(MREMAP_MAYMOVE)
    void *m = MAP_FAILED;
    if (!p)
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    else if (*mapped & bit)
        m = mremap(p, *bytes, size, MREMAP_MAYMOVE);
    if (m != MAP_FAILED) {
        big_advise(m, size);
        *mapped |= bit;
        *bytes = size;
        return m;
    }
    if (p && (*mapped & bit)) { /* mremap failed: copy into a malloc'ed one */
        void *n = malloc(size);
        if (!n)
            return NULL;
        memcpy(n, p, *bytes < size ? *bytes : size);
        munmap(p, *bytes);
        *mapped &= ~bit;
        *bytes = size;
        return n;
    }
#endif
    void *n = realloc(p, size);
    if (!n)
        return NULL;
    *mapped &= ~bit;
    *bytes = size;
    return n;
}

static void big_free(void *p, size_t bytes, unsigned mapped, unsigned bit)
{
    if (!p)
        return;
#if defined(MAP_ANONYMOUS) && defined(MREMAP_MAYMOVE)
    if (mapped & bit) {
        munmap(p, bytes);
        return;
    }
#else
    (void)bytes;
    (void)mapped;
    (void)bit;
#endif
    free(p);
}

/* The work buffers of a block, allocated once at full size. */
static size_t dot_bytes(void)
{
    return page_round((size_t)HWI_KNN_QBLOCK * HWI_KNN_GBLOCK * sizeof(float));
}

static size_t rank_bytes(const struct hwi_knn *k, size_t elem)
{
    return page_round((size_t)HWI_KNN_QBLOCK * k->nlabel * elem);
}

void hwi_knn_init(struct hwi_knn *k, unsigned flags)
{
    memset(k, 0, sizeof *k);
    k->flags = flags;
}

void hwi_knn_free(struct hwi_knn *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->name[i]);
        if (k->ident)
            free(k->ident[i]);
    }
    for (size_t i = 0; i < k->qmap.n; i++)
        free(k->qident[i]);
    free(k->qident);
    free(k->ident);
    free(k->inext);
    hwi_map_free(&k->imap);
    hwi_map_free(&k->qmap);
    for (size_t i = 0; i < k->nlabel; i++)
        free(k->label[i]);
    big_free(k->vec, k->vecbytes, k->mapped, BIG_VEC);
    free(k->norm2);
    free(k->cls);
    free(k->name);
    free(k->label);
    free(k->start);
    hwi_map_free(&k->lmap);
    hwi_map_free(&k->nmap);
    big_free(k->dot, dot_bytes(), k->mapped, BIG_DOT);
    free(k->qnorm2);
    free(k->self);
    free(k->same);
    big_free(k->d2, rank_bytes(k, sizeof *k->d2), k->mapped, BIG_D2);
    big_free(k->nearest, rank_bytes(k, sizeof *k->nearest), k->mapped, BIG_NEAREST);
    memset(k, 0, sizeof *k);
}

double hwi_knn_sim(double d2)
{
    return (2.0 - sqrt(d2 > 0 ? d2 : 0)) / 2.0;
}

static double norm2(const float *v, uint32_t dim)
{
    double s = 0;
    for (uint32_t i = 0; i < dim; i++)
        s += (double)v[i] * v[i];
    return s;
}

/* The largest squared norm of a gallery image or query: then
 * ||q||^2 + ||g||^2 - 2 q.g stays finite in float (each term is at most
 * MAXNORM2, |q.g| too), so no distance overflows and no label is lost. */
#define MAXNORM2 (FLT_MAX / 4)

/* ||a - b||^2 without cancellation, in double precision.  Lanes of
 * independent sums, so the compiler vectorises it; on x86-64 an AVX2
 * clone is picked at load time where the CPU has AVX2. */
/* No clones under ThreadSanitizer: target_clones dispatches through an
 * IFUNC resolver, which the dynamic loader runs while relocating the
 * program, before TSan's runtime is initialised; GCC 12 instruments the
 * resolver too, and it segfaults there, before main (seen with and without
 * -pie). */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef CLONES
#define CLONES
#endif
CLONES static double dist2(const float *a, const float *b, uint32_t dim)
{
    enum { LANES = 8 };
    double acc[LANES] = {0};
    uint32_t i = 0;
    for (; i + LANES <= dim; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double d = (double)a[i + l] - (double)b[i + l];
            acc[l] += d * d;
        }
    for (; i < dim; i++) {
        double d = (double)a[i] - (double)b[i];
        acc[0] += d * d;
    }
    double s = 0;
    for (int l = 0; l < LANES; l++)
        s += acc[l];
    return s;
}

int hwi_knn_add(struct hwi_knn *k, const char *name, const char *label, const float *vec,
                uint32_t dim)
{
    return hwi_knn_add_id(k, name, label, NULL, vec, dim);
}

int hwi_knn_query_identity(struct hwi_knn *k, const char *name, const char *id)
{
    char *copy = strdup(id);
    char **v = realloc(k->qident, (k->qmap.n + 1) * sizeof *v);
    if (v)
        k->qident = v;
    size_t old;
    int put = v && copy ? hwi_map_put(&k->qmap, name, k->qmap.n, &old) : -1;
    if (put < 0) {
        free(copy);
        return hwi_seterr(k->err, "out of memory");
    }
    if (put == 0)
        free(k->qident[old]);
    k->qident[put ? k->qmap.n - 1 : old] = copy;
    return 0;
}

int hwi_knn_add_id(struct hwi_knn *k, const char *name, const char *label, const char *id,
                   const float *vec, uint32_t dim)
{
    if (k->prepared)
        return hwi_seterr(k->err, "image '%s': the gallery is already in use", name);
    if (!label || ((k->flags & HWI_KNN_NO_NEW_WHALE) && strcmp(label, "new_whale") == 0)) {
        k->skipped++;
        return 0;
    }
    if (dim == 0)
        return hwi_seterr(k->err, "image '%s': empty vector", name);
    if (k->dim && dim != k->dim)
        return hwi_seterr(k->err, "image '%s': dimension %u, earlier images have %u", name,
                          dim, k->dim);
    for (uint32_t i = 0; i < dim; i++)
        if (!isfinite(vec[i]))
            return hwi_seterr(k->err, "image '%s': value %u is not finite", name, i + 1);
    double n2 = norm2(vec, dim);
    if (n2 > MAXNORM2)
        return hwi_seterr(k->err, "image '%s': vector too long (norm %g, at most %g)", name,
                          sqrt(n2), sqrt(MAXNORM2));
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 256;
        float *v =
            big_resize(k->vec, &k->vecbytes, cap * dim * sizeof *v, &k->mapped, BIG_VEC);
        if (!v)
            return hwi_seterr(k->err, "out of memory (%zu gallery images)", cap);
        k->vec = v;
        float *nv = realloc(k->norm2, cap * sizeof *nv);
        if (nv)
            k->norm2 = nv;
        size_t *cv = realloc(k->cls, cap * sizeof *cv);
        if (cv)
            k->cls = cv;
        char **sv = realloc(k->name, cap * sizeof *sv);
        if (sv)
            k->name = sv;
        char **iv = realloc(k->ident, cap * sizeof *iv);
        if (iv)
            k->ident = iv;
        if (!nv || !cv || !sv || !iv)
            return hwi_seterr(k->err, "out of memory (%zu gallery images)", cap);
        k->cap = cap;
    }
    size_t old;
    int put = hwi_map_put(&k->lmap, label, k->nlabel, &old);
    if (put < 0)
        return hwi_seterr(k->err, "out of memory");
    if (put == 1) {
        char **lv = realloc(k->label, (k->nlabel + 1) * sizeof *lv);
        char *l = strdup(label);
        if (lv)
            k->label = lv;
        if (!lv || !l) {
            free(l);
            return hwi_seterr(k->err, "out of memory");
        }
        old = k->nlabel;
        k->label[k->nlabel++] = l;
    }
    if (!(k->name[k->n] = strdup(name)))
        return hwi_seterr(k->err, "out of memory");
    if (!id)
        k->ident[k->n] = NULL;
    else if (!(k->ident[k->n] = strdup(id))) {
        free(k->name[k->n]);
        return hwi_seterr(k->err, "out of memory");
    }
    k->dim = dim;
    memcpy(k->vec + k->n * dim, vec, dim * sizeof *vec);
    k->norm2[k->n] = (float)n2;
    k->cls[k->n] = old;
    k->n++;
    return 1;
}

int hwi_knn_center_rows(float *v, size_t n, uint32_t dim)
{
    double *mean = calloc(dim ? dim : 1, sizeof *mean);
    if (!mean)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < dim; j++)
            mean[j] += v[i * dim + j];
    for (uint32_t j = 0; j < dim; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        float *r = v + i * dim;
        double n2 = 0;
        for (uint32_t j = 0; j < dim; j++) {
            double x = r[j] - mean[j];
            n2 += x * x;
        }
        double s = n2 > 0 ? 1 / sqrt(n2) : 0;
        for (uint32_t j = 0; j < dim; j++)
            r[j] = (float)((r[j] - mean[j]) * s);
    }
    free(mean);
    return 0;
}

int hwi_knn_center(struct hwi_knn *k)
{
    if (k->prepared)
        return hwi_seterr(k->err, "the gallery is centred before the first search");
    if (k->n == 0)
        return hwi_seterr(k->err, "the gallery is empty (no image with a known label)");
    if (hwi_knn_center_rows(k->vec, k->n, k->dim))
        return hwi_seterr(k->err, "out of memory");
    for (size_t i = 0; i < k->n; i++)
        k->norm2[i] = (float)norm2(k->vec + i * k->dim, k->dim);
    return 0;
}

/* Sort the rows by label (counting sort, stable: the rows of a label keep
 * the order they were added in), index the names and allocate the work
 * buffers.  The rows move in place, cycle by cycle, each row copied once.
 * Returns 0 or -1. */
static int prepare(struct hwi_knn *k)
{
    if (k->prepared)
        return k->prepared > 0 ? 0 : -1; /* a failed preparation keeps its message */
    if (k->n == 0)
        return hwi_seterr(k->err, "the gallery is empty (no image with a known label)");
    k->prepared = -1; /* until it succeeds */
    size_t n = k->n, dim = k->dim;
    size_t *src = malloc(n * sizeof *src); /* src[d]: the row that goes to d */
    float *row = malloc(dim * sizeof *row);
    k->start = calloc(k->nlabel + 1, sizeof *k->start);
    size_t dotcap = 0;
    k->dot = big_resize(NULL, &dotcap, dot_bytes(), &k->mapped, BIG_DOT);
    k->qnorm2 = malloc(HWI_KNN_QBLOCK * sizeof *k->qnorm2);
    k->self = malloc(HWI_KNN_QBLOCK * sizeof *k->self);
    k->same = malloc(HWI_KNN_QBLOCK * sizeof *k->same);
    size_t *next = malloc(k->nlabel * sizeof *next);
    if (!src || !row || !k->start || !k->dot || !k->qnorm2 || !k->self || !k->same || !next) {
        free(src);
        free(row);
        free(next);
        return hwi_seterr(k->err, "out of memory");
    }
    k->maxnorm2 = 0;
    for (size_t i = 0; i < n; i++) {
        k->start[k->cls[i] + 1]++;
        if (k->norm2[i] > k->maxnorm2)
            k->maxnorm2 = k->norm2[i];
    }
    for (size_t c = 0; c < k->nlabel; c++)
        k->start[c + 1] += k->start[c];
    memcpy(next, k->start, k->nlabel * sizeof *next);
    for (size_t i = 0; i < n; i++)
        src[next[k->cls[i]]++] = i;
    free(next);
    /* follow each cycle of the permutation: keep its first row aside,
     * pull every other row into place, put the first row last */
    for (size_t i = 0; i < n; i++) {
        if (src[i] == i)
            continue;
        memcpy(row, k->vec + i * dim, dim * sizeof *row);
        float nv = k->norm2[i];
        size_t c = k->cls[i];
        char *s = k->name[i], *id = k->ident[i];
        size_t d = i;
        while (src[d] != i) {
            size_t j = src[d];
            memcpy(k->vec + d * dim, k->vec + j * dim, dim * sizeof *row);
            k->norm2[d] = k->norm2[j];
            k->cls[d] = k->cls[j];
            k->name[d] = k->name[j];
            k->ident[d] = k->ident[j];
            src[d] = d;
            d = j;
        }
        memcpy(k->vec + d * dim, row, dim * sizeof *row);
        k->norm2[d] = nv;
        k->cls[d] = c;
        k->name[d] = s;
        k->ident[d] = id;
        src[d] = d;
    }
    free(src);
    free(row);
    for (size_t i = 0; i < n; i++) {
        int put = hwi_map_put(&k->nmap, k->name[i], i, NULL);
        if (put < 0)
            return hwi_seterr(k->err, "out of memory");
        if (put == 0)
            return hwi_seterr(k->err, "image '%s' is in the gallery twice", k->name[i]);
    }
    /* the images of each identity, chained from the last to the first */
    if (!(k->inext = malloc(n * sizeof *k->inext)))
        return hwi_seterr(k->err, "out of memory");
    for (size_t i = n; i-- > 0;) {
        k->inext[i] = HWI_KNN_NONE;
        if (!k->ident[i])
            continue;
        size_t old;
        int put = hwi_map_put(&k->imap, k->ident[i], i, &old);
        if (put < 0)
            return hwi_seterr(k->err, "out of memory");
        if (put == 0) {
            k->inext[i] = old;
            *hwi_map_get(&k->imap, k->ident[i]) = i;
        }
    }
    k->prepared = 1;
    return 0;
}

/* ------------------------------------------------------------------------
 * Threads.  A block of queries is cut into one band of consecutive
 * queries per thread of lib/pool.c; each thread runs the whole search of its band (its
 * own single-threaded products, the per-label minimum, and for
 * hwi_knn_rank the selection and the exact rescoring) into its own rows
 * of the work buffers, so the threads share nothing they write and meet
 * only at the end of the block.  OpenBLAS runs on one thread meanwhile:
 * its own workers would spin between products while the per-label loops
 * run.  The sums of a product do not depend on how its rows are banded,
 * so the result does not depend on the number of threads. */

enum { MAX_THREADS = 64, MIN_BAND = 32 /* queries per thread at least */ };

static int knn_threads; /* hwi_knn_threads; 0: OPENBLAS_NUM_THREADS or the cores */

void hwi_knn_threads(int n)
{
    knn_threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

static int thread_count(void)
{
    if (knn_threads > 0)
        return knn_threads;
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : 0;
    if (n < 1)
        n = hwi_ncpu();
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* BLAS threads for the products of other modules (rerank.c): as many as
 * knn uses. */
static void blas_threads(int n)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

/* One thread's band of a block: queries Q[lo..hi) of the block. */
struct band {
    struct hwi_knn *k;
    const float *q;          /* the block's queries */
    const char *const *keys; /* their names, or NULL */
    size_t lo, hi;
    float *d2;                /* [block][nlabel], rows lo..hi written */
    size_t *nearest;          /* [block][nlabel] */
    size_t want, stride;      /* rank: labels wanted, hits per query */
    struct hwi_knn_hit *hits; /* rank: [block][stride], or NULL for search */
    size_t *nhits;            /* rank: [block] */
    int rc;                   /* 0, or -1 with err set */
    char err[HWI_ERRLEN];
    double cpu[HWI_KNN_NCPU]; /* this band's CPU seconds per phase */
};

/* The per-label minimum of band B over every gallery block.  Returns 0,
 * or -1 if a query is too long (see MAXNORM2) or not finite. */
static int band_search(struct band *b)
{
    struct hwi_knn *k = b->k;
    size_t dim = k->dim, nl = k->nlabel, lo = b->lo, nq = b->hi - b->lo;
    double t = hwi_progress_cpu(1), t1;
    for (size_t i = lo; i < b->hi; i++) {
        double qn2 = norm2(b->q + i * dim, k->dim);
        if (!(qn2 <= MAXNORM2)) /* also NaN */
            return hwi_seterr(b->err,
                              "query %s%s%s: vector too long or not finite (norm "
                              "%g, at most %g)",
                              b->keys ? "'" : "", b->keys ? b->keys[i] : "",
                              b->keys ? "'" : "", sqrt(qn2), sqrt(MAXNORM2));
        k->qnorm2[i] = (float)qn2;
        k->self[i] = HWI_KNN_NONE;
        k->same[i] = HWI_KNN_NONE;
        if (b->keys && !(k->flags & HWI_KNN_KEEP_SELF)) {
            size_t *p = hwi_map_get(&k->nmap, b->keys[i]);
            if (p)
                k->self[i] = *p;
            size_t *qi = hwi_map_get(&k->qmap, b->keys[i]);
            const char *id = qi ? k->qident[*qi] : p ? k->ident[*p] : NULL;
            size_t *first = id ? hwi_map_get(&k->imap, id) : NULL;
            if (first)
                k->same[i] = *first;
        }
        for (size_t c = 0; c < nl; c++) {
            b->d2[i * nl + c] = INFINITY;
            b->nearest[i * nl + c] = HWI_KNN_NONE;
        }
    }
    float *dotbuf = k->dot + lo * HWI_KNN_GBLOCK;
    for (size_t g0 = 0; g0 < k->n; g0 += HWI_KNN_GBLOCK) {
        size_t gb = k->n - g0 < HWI_KNN_GBLOCK ? k->n - g0 : HWI_KNN_GBLOCK;
        /* dot[nq][gb] = q[lo:hi][dim] . vec[g0:g0+gb][dim]^T */
        t1 = hwi_progress_cpu(1);
        b->cpu[HWI_KNN_CPU_MINIMUM] += t1 - t;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)gb, (int)dim, 1.0f,
                    b->q + lo * dim, (int)dim, k->vec + g0 * dim, (int)dim, 0.0f, dotbuf,
                    (int)gb);
        t = hwi_progress_cpu(1);
        b->cpu[HWI_KNN_CPU_PRODUCT] += t - t1;
        for (size_t i = lo; i < b->hi; i++) {
            float *dot = dotbuf + (i - lo) * gb; /* dot[j - g0] for j in g0 .. g0+gb-1 */
            if (k->self[i] >= g0 && k->self[i] < g0 + gb)
                dot[k->self[i] - g0] = -INFINITY; /* d2 = +inf: never the nearest */
            for (size_t j = k->same[i]; j != HWI_KNN_NONE; j = k->inext[j])
                if (j >= g0 && j < g0 + gb)
                    dot[j - g0] = -INFINITY; /* the same photo under another name */
            float qn = k->qnorm2[i];
            float *drow = b->d2 + i * nl;
            size_t *nrow = b->nearest + i * nl;
            for (size_t j = g0, end; j < g0 + gb; j = end) {
                size_t c = k->cls[j];
                end = k->start[c + 1] < g0 + gb ? k->start[c + 1] : g0 + gb;
                float best = drow[c];
                size_t arg = nrow[c];
                for (size_t jj = j; jj < end; jj++) {
                    float v = qn + k->norm2[jj] - 2.0f * dot[jj - g0];
                    if (v < best) {
                        best = v;
                        arg = jj;
                    }
                }
                drow[c] = best;
                nrow[c] = arg;
            }
        }
    }
    b->cpu[HWI_KNN_CPU_MINIMUM] += hwi_progress_cpu(1) - t;
    return 0;
}

/* Ordering of candidate labels during selection: smaller d2 first, ties
 * by label name. */
struct sel {
    const float *d2;
    char *const *label;
};

static inline int worse(const struct sel *s, size_t a, size_t b)
{
    if (s->d2[a] != s->d2[b])
        return s->d2[a] > s->d2[b];
    return strcmp(s->label[a], s->label[b]) > 0;
}

/* Restore the max-heap (worst label at the root) below position I. */
static void sift_down(const struct sel *s, size_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && worse(s, h[l], h[w]))
            w = l;
        if (r < n && worse(s, h[r], h[w]))
            w = r;
        if (w == i)
            return;
        size_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static int hit_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct hwi_knn_hit *a = pa, *b = pb;
    char *const *label = ctx;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(label[a->label], label[b->label]);
}

/* The rounding error of the product, as a bound on |d2 - exact d2| for a
 * query of squared norm QN2 against a gallery whose largest squared norm is
 * GN2: a float sum of DIM products errs by about sqrt(DIM) * 2^-24 of
 * |q| |g| in practice; this is 1e-5 of the scale, ten times that at
 * DIM = 2048. */
static double margin(double qn2, double gn2)
{
    return 1e-5 * (qn2 + gn2);
}

/* A candidate to rescore: its gallery row, its query, its place. */
struct rescore {
    size_t image, query, at;
};

/* The WANT best labels of each query of band B, by exact score, into its
 * hits.  The product picks them: the WANT best by d2 and every other label
 * within the rounding margin of the worst of those, then the exact
 * distances decide, so a near tie at the last place goes to the label
 * truly nearer.  The candidates of the whole band are rescored in gallery
 * order, so each gallery row is read once per band (and once for all its
 * queries) in one forward pass, not once per query in label order.
 * Returns 0 or -1 (out of memory). */
static int band_rank(struct band *b)
{
    struct hwi_knn *k = b->k;
    size_t nl = k->nlabel, want = b->want, nq = b->hi - b->lo, dim = k->dim;
    double t0 = hwi_progress_cpu(1);
    size_t *heap = malloc((want ? want : 1) * sizeof *heap);
    unsigned char *in = calloc(nl, 1);
    size_t cap = nq * (want + 16) + 1, nc = 0;
    struct hwi_knn_hit *cand = malloc(cap * sizeof *cand);
    size_t *off = malloc((nq + 1) * sizeof *off); /* query i's candidates: off[i - lo].. */
    struct rescore *work = NULL;
    size_t *count = NULL;
    int rc = -1;
    if (!heap || !in || !cand || !off)
        goto out;
    for (size_t i = b->lo; i < b->hi; i++) {
        struct sel s = {b->d2 + i * nl, k->label};
        size_t *nrow = b->nearest + i * nl, nh = 0;
        float root = INFINITY; /* once the heap is full, its worst d2 */
        for (size_t c = 0; c < nl; c++) {
            if (s.d2[c] > root) /* worse than the worst kept: most labels */
                continue;
            if (nrow[c] == HWI_KNN_NONE)
                continue;
            if (nh < want) {
                heap[nh++] = c;
                if (nh < want)
                    continue;
                for (size_t p = want / 2; p-- > 0;)
                    sift_down(&s, heap, want, p);
            } else if (worse(&s, heap[0], c)) {
                heap[0] = c;
                sift_down(&s, heap, want, 0);
            } else {
                continue;
            }
            root = s.d2[heap[0]];
        }
        off[i - b->lo] = nc;
        b->nhits[i] = nh;
        if (nc + nh > cap) { /* only when near misses took the room */
            size_t ncap = 2 * (nc + nh);
            struct hwi_knn_hit *nv = realloc(cand, ncap * sizeof *nv);
            if (!nv)
                goto out;
            cand = nv;
            cap = ncap;
        }
        for (size_t j = 0; j < nh; j++)
            cand[nc++] = (struct hwi_knn_hit){heap[j], nrow[heap[j]], 0};
        if (nh == want && want < nl) { /* the near misses, if any */
            for (size_t j = 0; j < nh; j++)
                in[heap[j]] = 1;
            double thr = s.d2[heap[0]] + margin(k->qnorm2[i], k->maxnorm2);
            for (size_t c = 0; c < nl; c++) {
                if (!(s.d2[c] <= thr) || in[c] || nrow[c] == HWI_KNN_NONE)
                    continue;
                if (nc == cap) {
                    struct hwi_knn_hit *nv = realloc(cand, 2 * cap * sizeof *nv);
                    if (!nv) {
                        for (size_t j = 0; j < nh; j++)
                            in[heap[j]] = 0;
                        goto out;
                    }
                    cand = nv;
                    cap *= 2;
                }
                cand[nc++] = (struct hwi_knn_hit){c, nrow[c], 0};
            }
            for (size_t j = 0; j < nh; j++)
                in[heap[j]] = 0;
        }
    }
    off[nq] = nc;
    double t1 = hwi_progress_cpu(1);
    b->cpu[HWI_KNN_CPU_TOP] += t1 - t0;

    /* the band's candidates in gallery order (a counting sort by image),
     * each with its query and its place, so that the pass below reads
     * them, their gallery rows and the band's query rows in order */
    work = malloc((nc ? nc : 1) * sizeof *work);
    count = calloc(k->n + 1, sizeof *count);
    if (!work || !count)
        goto out;
    for (size_t j = 0; j < nc; j++)
        count[cand[j].image + 1]++;
    for (size_t g = 0; g < k->n; g++)
        count[g + 1] += count[g];
    for (size_t i = 0; i < nq; i++)
        for (size_t j = off[i]; j < off[i + 1]; j++)
            work[count[cand[j].image]++] = (struct rescore){cand[j].image, b->lo + i, j};
    for (size_t t = 0; t < nc; t++)
        cand[work[t].at].score =
            hwi_knn_sim(dist2(b->q + work[t].query * dim, k->vec + work[t].image * dim, dim));
    double t2 = hwi_progress_cpu(1);
    b->cpu[HWI_KNN_CPU_RESCORE] += t2 - t1;

    for (size_t i = 0; i < nq; i++) {
        qsort_r(cand + off[i], off[i + 1] - off[i], sizeof *cand, hit_cmp, k->label);
        memcpy(b->hits + (b->lo + i) * b->stride, cand + off[i],
               b->nhits[b->lo + i] * sizeof *cand);
    }
    b->cpu[HWI_KNN_CPU_TOP] += hwi_progress_cpu(1) - t2;
    rc = 0;
out:
    free(heap);
    free(in);
    free(cand);
    free(off);
    free(work);
    free(count);
    if (rc)
        hwi_seterr(b->err, "out of memory");
    return rc;
}

/* hwi_pool_each's item I: band I of the block. */
static int band_run(void *p, size_t i, char *err)
{
    struct band *b = (struct band *)p + i;
    b->rc = band_search(b);
    if (!b->rc && b->hits)
        b->rc = band_rank(b);
    if (b->rc)
        memcpy(err, b->err, HWI_ERRLEN);
    return b->rc;
}

/* Run one block of NQ <= HWI_KNN_QBLOCK queries on the pool's threads, as
 * TEMPLATE says (its lo, hi, rc and err are filled in here).  Returns 0,
 * or -1 with the first failing band's message in k->err. */
static int run_block(struct hwi_knn *k, const struct band *template, size_t nq)
{
    struct band b[MAX_THREADS];
    size_t t = (size_t)thread_count();
    if (t > nq / MIN_BAND)
        t = nq / MIN_BAND;
    if (t < 1)
        t = 1;
    for (size_t i = 0; i < t; i++) {
        b[i] = *template;
        b[i].lo = nq * i / t;
        b[i].hi = nq * (i + 1) / t;
        b[i].rc = 0;
        b[i].err[0] = 0;
        memset(b[i].cpu, 0, sizeof b[i].cpu);
    }
    blas_threads(1);
    int rc = hwi_pool_each(t, (int)t, band_run, b, k->err);
    blas_threads(thread_count());
    for (size_t i = 0; i < t; i++)
        for (int p = 0; p < HWI_KNN_NCPU; p++)
            k->cpu[p] += b[i].cpu[p];
    return rc;
}

int hwi_knn_search(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
                   float *d2, size_t *nearest)
{
    if (prepare(k))
        return -1;
    for (size_t q0 = 0; q0 < nq; q0 += HWI_KNN_QBLOCK) {
        size_t b = nq - q0 < HWI_KNN_QBLOCK ? nq - q0 : HWI_KNN_QBLOCK;
        struct band t = {.k = k,
                         .q = q + q0 * k->dim,
                         .keys = keys ? keys + q0 : NULL,
                         .d2 = d2 + q0 * k->nlabel,
                         .nearest = nearest + q0 * k->nlabel};
        if (run_block(k, &t, b))
            return -1;
    }
    return 0;
}

int hwi_knn_rank(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
                 size_t top, struct hwi_knn_hit *hits, size_t *nhits)
{
    if (prepare(k))
        return -1;
    size_t nl = k->nlabel, stride = top ? top : nl, want = top && top < nl ? top : nl;
    if (nq && !k->d2) { /* kept for later calls: no fresh pages per block */
        size_t b1 = 0, b2 = 0;
        k->d2 = big_resize(NULL, &b1, rank_bytes(k, sizeof *k->d2), &k->mapped, BIG_D2);
        k->nearest =
            big_resize(NULL, &b2, rank_bytes(k, sizeof *k->nearest), &k->mapped, BIG_NEAREST);
        if (!k->d2 || !k->nearest) {
            big_free(k->d2, b1, k->mapped, BIG_D2);
            big_free(k->nearest, b2, k->mapped, BIG_NEAREST);
            k->d2 = NULL;
            k->nearest = NULL;
            return hwi_seterr(k->err, "out of memory");
        }
    }
    for (size_t q0 = 0; q0 < nq; q0 += HWI_KNN_QBLOCK) {
        size_t b = nq - q0 < HWI_KNN_QBLOCK ? nq - q0 : HWI_KNN_QBLOCK;
        struct band t = {.k = k,
                         .q = q + q0 * k->dim,
                         .keys = keys ? keys + q0 : NULL,
                         .d2 = k->d2,
                         .nearest = k->nearest,
                         .want = want,
                         .stride = stride,
                         .hits = hits + q0 * stride,
                         .nhits = nhits + q0};
        if (run_block(k, &t, b))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Merging the top lists of gallery shards.  A label's score is that of
 * its nearest photo, and the nearest photo of the whole gallery is the
 * nearest of the shard that holds it, so a label's true score is the best
 * of its shards' scores.  Each shard wrote its TOP best labels; a label
 * among the TOP best of the whole gallery is among the TOP best of the
 * shard that holds its nearest photo (every label above it there is above
 * it in the whole), so the best TOP of the merged lists, by the same
 * order (score, then label name), are the unsharded answer. */

struct mcand {
    char *label, *photo;
    double score;
    size_t seq; /* reading order: the earlier file wins a tie */
};

struct mquery {
    char *key;
    struct mcand *c;
    size_t n, cap;
    size_t next; /* the query after this one in the output */
};

static int mcand_by_label(const void *pa, const void *pb)
{
    const struct mcand *a = pa, *b = pb;
    int r = strcmp(a->label, b->label);
    if (r)
        return r;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int mcand_by_score(const void *pa, const void *pb)
{
    const struct mcand *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->label, b->label);
}

int hwi_knn_merge(FILE *const *in, const char *const *name, size_t nfile, size_t top,
                  int photo, FILE *out, char *err)
{
    int rc = -1;
    struct hwi_map qmap = {0}, done = {0};
    struct mquery *q = NULL;
    size_t nq = 0, capq = 0, head = HWI_KNN_NONE, tail = HWI_KNN_NONE, seq = 0;
    size_t *pend = NULL, npend = 0;
    struct hwi_tsv r = {0};
    int open = 0;
    if (!(pend = malloc(sizeof *pend)))
        goto oom;
    for (size_t f = 0; f < nfile; f++) {
        hwi_tsv_open(&r, in[f], name[f]);
        open = 1;
        hwi_map_clear(&done);
        size_t cur = HWI_KNN_NONE;
        int got;
        while ((got = hwi_tsv_next(&r)) == 1) {
            if (photo && !r.photo) {
                hwi_seterr(err,
                           "%s:%ld: no photo (4th field): --merge --photo takes the "
                           "lists of hwi-knn --photo",
                           name[f], r.line);
                goto out;
            }
            if (!photo && r.photo) {
                hwi_seterr(err, "%s:%ld: a photo (4th field): merge with --photo", name[f],
                           r.line);
                goto out;
            }
            if (cur == HWI_KNN_NONE || strcmp(q[cur].key, r.query)) {
                if (cur != HWI_KNN_NONE && hwi_map_put(&done, q[cur].key, 0, NULL) < 0)
                    goto oom;
                if (hwi_map_get(&done, r.query)) {
                    hwi_seterr(err, "%s:%ld: query '%s' again after other queries", name[f],
                               r.line, r.query);
                    goto out;
                }
                size_t *p = hwi_map_get(&qmap, r.query);
                if (p) {
                    cur = *p;
                    /* the new queries read since the last known one go
                     * before this one */
                    if (npend) {
                        size_t prev = HWI_KNN_NONE;
                        for (size_t j = head; j != cur; j = q[j].next)
                            prev = j;
                        for (size_t i = 0; i < npend; i++) {
                            if (prev == HWI_KNN_NONE)
                                head = pend[i];
                            else
                                q[prev].next = pend[i];
                            prev = pend[i];
                        }
                        q[prev].next = cur;
                        npend = 0;
                    }
                } else {
                    if (nq == capq) {
                        size_t cap = capq ? 2 * capq : 1024;
                        struct mquery *nv = realloc(q, cap * sizeof *nv);
                        size_t *np = realloc(pend, cap * sizeof *np);
                        if (nv)
                            q = nv;
                        if (np)
                            pend = np;
                        if (!nv || !np)
                            goto oom;
                        capq = cap;
                    }
                    cur = nq;
                    memset(&q[cur], 0, sizeof q[cur]);
                    q[cur].next = HWI_KNN_NONE;
                    if (!(q[cur].key = strdup(r.query)))
                        goto oom;
                    nq++;
                    if (hwi_map_put(&qmap, q[cur].key, cur, NULL) < 0)
                        goto oom;
                    pend[npend++] = cur;
                }
            }
            struct mquery *m = &q[cur];
            if (m->n == m->cap) {
                size_t cap = m->cap ? 2 * m->cap : 16;
                struct mcand *nv = realloc(m->c, cap * sizeof *nv);
                if (!nv)
                    goto oom;
                m->c = nv;
                m->cap = cap;
            }
            struct mcand *c = &m->c[m->n];
            c->label = strdup(r.label);
            c->photo = r.photo ? strdup(r.photo) : NULL;
            c->score = r.score;
            c->seq = seq++;
            m->n++;
            if (!c->label || (r.photo && !c->photo))
                goto oom;
        }
        if (got < 0) {
            snprintf(err, HWI_ERRLEN, "%s", r.err);
            goto out;
        }
        hwi_tsv_close(&r);
        open = 0;
        for (size_t i = 0; i < npend; i++) { /* the last new queries go at the end */
            if (tail == HWI_KNN_NONE)
                head = pend[i];
            else
                q[tail].next = pend[i];
            tail = pend[i];
        }
        npend = 0;
    }
    if (photo)
        hwi_tsv_write_header_photo(out);
    else
        hwi_tsv_write_header(out);
    for (size_t i = head; i != HWI_KNN_NONE; i = q[i].next) {
        struct mquery *m = &q[i];
        /* each label once, with its best score (the earliest on a tie) */
        qsort(m->c, m->n, sizeof *m->c, mcand_by_label);
        size_t n = 0;
        for (size_t j = 0; j < m->n; j++) {
            if (n && !strcmp(m->c[n - 1].label, m->c[j].label)) {
                free(m->c[j].label);
                free(m->c[j].photo);
                continue;
            }
            m->c[n++] = m->c[j];
        }
        m->n = n;
        qsort(m->c, m->n, sizeof *m->c, mcand_by_score);
        size_t w = top && top < m->n ? top : m->n;
        for (size_t j = 0; j < w; j++) {
            const struct mcand *c = &m->c[j];
            if (photo ? hwi_tsv_write_photo(out, m->key, c->label, c->score, c->photo)
                      : hwi_tsv_write(out, m->key, c->label, c->score)) {
                hwi_seterr(err, "query '%s', label '%s': cannot be written to a TSV", m->key,
                           c->label);
                goto out;
            }
        }
    }
    rc = 0;
    goto out;
oom:
    hwi_seterr(err, "out of memory");
out:
    if (open)
        hwi_tsv_close(&r);
    for (size_t i = 0; i < nq; i++) {
        for (size_t j = 0; j < q[i].n; j++) {
            free(q[i].c[j].label);
            free(q[i].c[j].photo);
        }
        free(q[i].c);
        free(q[i].key);
    }
    free(q);
    free(pend);
    hwi_map_free(&qmap);
    hwi_map_free(&done);
    return rc;
}
