/* knn.h: 1-NN per individual, step 4 of the method (hwi(7)).
 *
 * A gallery holds labelled vectors.  For a query q and every label c the
 * score is the similarity to the NEAREST gallery image of c:
 *
 *   d_c = min over images g of c of ||q - g||
 *       = sqrt(max(0, ||q||^2 + ||g||^2 - 2 q.g))   (sqrt(2 - 2 q.g) for
 *                                                    unit vectors)
 *   s_c = (2 - d_c) / 2                             (in [0, 1] for unit vectors)
 *
 * Images labelled new_whale form one more label, "new_whale", scored by the
 * nearest new_whale image like any other.  The q.g come from OpenBLAS
 * (cblas_sgemm) on blocks of HWI_KNN_QBLOCK queries by HWI_KNN_GBLOCK
 * gallery images, so memory beyond the gallery itself stays bounded; the
 * scores of the labels returned by hwi_knn_rank are recomputed exactly
 * from ||q - g|| (no cancellation), so a query identical to an image scores
 * 1 exactly.
 *
 * Typical use:
 *
 *   struct hwi_knn k;
 *   hwi_knn_init(&k, 0);
 *   for each gallery image: hwi_knn_add(&k, name, label, vec, dim);
 *   for each block of queries: hwi_knn_rank(&k, q, nq, keys, top, hits, nhits);
 *   hwi_knn_free(&k);
 *
 * Not thread-safe per object (work buffers live in it).  A search runs on
 * its own threads (hwi_knn_threads), each a band of queries from the
 * product to the rescored top list, with OpenBLAS on one thread meanwhile;
 * the result does not depend on the number of threads.  The gallery and
 * the work buffers are anonymous mappings that grow in place (mremap) and
 * may use transparent huge pages, malloc'ed where mmap fails. */
#ifndef HWI_KNN_H
#define HWI_KNN_H

#include "err.h"
#include "map.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifndef HWI_KNN_QBLOCK
#define HWI_KNN_QBLOCK 1024 /* queries per matrix product */
#endif
#ifndef HWI_KNN_GBLOCK
#define HWI_KNN_GBLOCK 2048 /* gallery images per matrix product */
#endif
#define HWI_KNN_NONE SIZE_MAX

/* The phases of a search whose CPU time struct hwi_knn adds up (cpu[]). */
enum {
    HWI_KNN_CPU_PRODUCT, /* the matrix products (sgemm) */
    HWI_KNN_CPU_MINIMUM, /* distances from the products, per-label minimum */
    HWI_KNN_CPU_RESCORE, /* hwi_knn_rank: exact distances of the candidates */
    HWI_KNN_CPU_TOP,     /* hwi_knn_rank: selection of the top, final sort */
    HWI_KNN_NCPU
};

/* Flags of hwi_knn_init. */
enum {
    HWI_KNN_NO_NEW_WHALE = 1, /* leave new_whale images out (no new_whale label) */
    HWI_KNN_KEEP_SELF = 2,    /* let a query match the image with its own name */
};

struct hwi_knn {
    unsigned flags;
    uint32_t dim;             /* 0 until the first image */
    size_t n, cap;            /* gallery images */
    float *vec;               /* [n][dim], sorted by label once prepared */
    size_t vecbytes;          /* bytes reserved at vec */
    unsigned mapped;          /* which of vec, dot, d2, nearest are mappings (knn.c) */
    float *norm2;             /* [n] ||g||^2 */
    float maxnorm2;           /* the largest, once prepared */
    size_t *cls;              /* [n] label index */
    char **name;              /* [n] image names */
    char **ident;             /* [n] image identities (content hashes), NULL: unknown */
    size_t *inext;            /* [n] the next image of the same identity, once prepared */
    struct hwi_map imap;      /* identity -> its first image, once prepared */
    struct hwi_map qmap;      /* query name -> index into qident */
    char **qident;            /* identities of queries given by hwi_knn_query_identity */
    size_t nlabel;            /* distinct labels */
    char **label;             /* [nlabel] */
    size_t *start;            /* [nlabel+1] first image of each label, once prepared */
    struct hwi_map lmap;      /* label -> index */
    struct hwi_map nmap;      /* image name -> index, once prepared */
    size_t skipped;           /* images not added: unknown label, or new_whale excluded */
    int prepared;             /* 1 once prepared, -1 if that failed */
    float *dot;               /* work: [QBLOCK][GBLOCK] */
    float *qnorm2;            /* work: [QBLOCK] */
    size_t *self;             /* work: [QBLOCK] gallery index of each query's own image */
    size_t *same;             /* work: [QBLOCK] first image of each query's identity */
    float *d2;                /* work of hwi_knn_rank: [QBLOCK][nlabel] */
    size_t *nearest;          /* work of hwi_knn_rank: [QBLOCK][nlabel] */
    double cpu[HWI_KNN_NCPU]; /* CPU seconds of each phase so far, all threads */
    char err[HWI_ERRLEN];
};

/* One ranked label of a query. */
struct hwi_knn_hit {
    size_t label; /* index into k->label */
    size_t image; /* nearest gallery image of that label, index into k->name */
    double score; /* (2 - d) / 2 */
};

/* Start an empty gallery with FLAGS (HWI_KNN_*). */
void hwi_knn_init(struct hwi_knn *k, unsigned flags);

/* Add image NAME with LABEL and vector VEC[DIM].  LABEL NULL (unknown) or,
 * with HWI_KNN_NO_NEW_WHALE, "new_whale" skips the image (counted in
 * k->skipped) and returns 0.  Returns 1 if added, -1 with k->err set on a
 * dimension that differs from earlier images, a non-finite value, a vector
 * too long for float distances (norm above about 9.2e18), a name
 * added twice (found at the first search), or out of memory.  No images may
 * be added after the first search. */
int hwi_knn_add(struct hwi_knn *k, const char *name, const char *label, const float *vec,
                uint32_t dim);

/* Add image NAME as hwi_knn_add does, with its identity ID (the photo's
 * content hash; NULL when unknown).  Unless HWI_KNN_KEEP_SELF, a query
 * never matches an image of its own identity, whatever its name: the
 * identity of a query is the one given by hwi_knn_query_identity, else
 * that of the gallery image of its name. */
int hwi_knn_add_id(struct hwi_knn *k, const char *name, const char *label, const char *id,
                   const float *vec, uint32_t dim);

/* Give query NAME the identity ID (its content hash), for later searches.
 * Returns 0, or -1 (out of memory). */
int hwi_knn_query_identity(struct hwi_knn *k, const char *name, const char *id);

/* Centre N rows V[n][dim] on their mean and scale each back to unit
 * length (a row equal to the mean becomes all zeros).  Returns 0, or -1
 * when out of memory. */
int hwi_knn_center_rows(float *v, size_t n, uint32_t dim);

/* Centre the gallery's vectors on their mean, as hwi_knn_center_rows
 * does: queries centred on their own mean then compare across a shift of
 * the whole embedding (other cameras, light, season) between gallery and
 * queries.  Call after the last hwi_knn_add and before the first search.
 * Returns 0, or -1 with k->err set (already searched, empty, out of
 * memory). */
int hwi_knn_center(struct hwi_knn *k);

/* Low level: for NQ queries Q[nq][dim] (KEYS[nq] their names, or NULL when
 * self-exclusion does not apply), the squared distance to the nearest
 * image of every label, D2[nq][nlabel], and that image, NEAREST[nq][nlabel]
 * (HWI_KNN_NONE and D2 = +inf when a label has no candidate: its only
 * images are the query itself, by name or identity).  D2 comes from the matrix product, so it carries
 * rounding error of about 1e-6 * (||q||^2 + ||g||^2).  Returns 0 or -1 (an
 * empty gallery, a query too long as in hwi_knn_add, out of memory). */
int hwi_knn_search(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
                   float *d2, size_t *nearest);

/* For NQ queries, the TOP best labels of each (all labels when TOP is 0),
 * best first (ties by label name), into HITS[nq][top or nlabel]; the number
 * found for query i into NHITS[i] (fewer than TOP when the gallery has
 * fewer labels).  Scores are exact: (2 - ||q - g||) / 2 for the nearest
 * image g of each returned label (nearest by the product), and the TOP
 * are the best by exact score: labels whose product distance is within
 * its rounding error of the TOP-th are rescored too.  Returns 0 or -1. */
int hwi_knn_rank(struct hwi_knn *k, const float *q, size_t nq, const char *const *keys,
                 size_t top, struct hwi_knn_hit *hits, size_t *nhits);

/* Search on N threads (N >= 1), and let OpenBLAS use N threads for other
 * products; without a call: OPENBLAS_NUM_THREADS, or every core. */
void hwi_knn_threads(int n);

/* Merge the scores TSVs IN[NFILE] (named NAME[] in messages) that
 * hwi_knn_rank wrote, with the same TOP (0: all labels), for the same
 * queries against disjoint parts (shards) of one gallery, into the scores
 * TSV the whole gallery gives, written to OUT: each label once with its
 * best score, the TOP best of each query, best first, ties by label name
 * (an exact tie of one label in two files: the earlier file's photo).
 * With PHOTO the lines have the photo column (hwi-knn --photo).  Queries
 * come out in the order of the files (a query absent from the earlier
 * files goes before the next query it precedes in its own file).  The
 * result is hwi_knn_rank's for the whole gallery, byte for byte, except
 * where two photos of one label in different shards lie at distances
 * from a query that differ by less than the rounding of the product
 * (about 1e-6 of the scale): the whole-gallery search may pick either.
 * Returns 0, or -1 with a message in ERR (a bad line, a query whose lines
 * are not together, a missing or unexpected photo column, out of memory). */
int hwi_knn_merge(FILE *const *in, const char *const *name, size_t nfile, size_t top,
                  int photo, FILE *out, char *err);

/* Similarity (2 - d) / 2 of squared distance D2 (clamped at 0). */
double hwi_knn_sim(double d2);

void hwi_knn_free(struct hwi_knn *k);

#endif /* HWI_KNN_H */
