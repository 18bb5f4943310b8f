/* split.c: validation splits and submission scoring (see split.h). */
#include <config.h>

#include "split.h"

#include "map.h"
#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A stream of its own for each key, so that one individual's draw does not
 * depend on the others. */
static void key_rng(struct hwi_rng *r, uint64_t seed, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    hwi_rng_seed(r, h);
    hwi_rng_next(r); /* the first draw is skipped */
}

int hwi_split_make(const struct hwi_labels *t, const struct hwi_split_opts *o,
                   unsigned char *val, size_t *nval, char *err)
{
    memset(val, 0, t->n);
    *nval = 0;
    /* count the photos of each individual, then take the photo of a drawn
     * rank from each that has at least two */
    struct hwi_map ids = {0};
    size_t n1 = t->n ? t->n : 1;
    size_t *count = calloc(n1, sizeof *count); /* [id] photos */
    size_t *rank = calloc(n1, sizeof *rank);   /* [id] drawn rank */
    size_t *seen = calloc(n1, sizeof *seen);   /* [id] photos met so far */
    size_t *nw = malloc(n1 * sizeof *nw);      /* new_whale photos */
    size_t nnw = 0, nid = 0;
    int rc = 0;
    if (!count || !rank || !seen || !nw) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->id[i], HWI_NEW_WHALE) == 0) {
            nw[nnw++] = i;
            continue;
        }
        size_t old;
        int put = hwi_map_put(&ids, t->id[i], nid, &old);
        if (put < 0) {
            rc = hwi_seterr(err, "out of memory");
            goto out;
        }
        count[put ? nid++ : old]++;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->id[i], HWI_NEW_WHALE) == 0)
            continue;
        size_t k = *hwi_map_get(&ids, t->id[i]);
        if (count[k] < 2)
            continue;
        if (seen[k] == 0) {
            struct hwi_rng r;
            key_rng(&r, o->seed, t->id[i]);
            rank[k] = (size_t)hwi_rng_below(&r, count[k]);
        }
        if (seen[k]++ == rank[k]) {
            val[i] = 1;
            (*nval)++;
        }
    }
    /* new_whale: a partial Fisher-Yates shuffle of their indices */
    size_t want =
        o->nw_count >= 0 ? (size_t)o->nw_count : (size_t)llround(o->nw_frac * (double)nnw);
    if (want > nnw) {
        rc = hwi_seterr(err, "%zu new_whale photos asked for, but there are only %zu", want,
                        nnw);
        memset(val, 0, t->n);
        *nval = 0;
        goto out;
    }
    struct hwi_rng r;
    key_rng(&r, o->seed, HWI_NEW_WHALE);
    for (size_t k = 0; k < want; k++) {
        size_t j = k + (size_t)hwi_rng_below(&r, nnw - k);
        size_t tmp = nw[k];
        nw[k] = nw[j];
        nw[j] = tmp;
        val[nw[k]] = 1;
        (*nval)++;
    }
out:
    hwi_map_free(&ids);
    free(count);
    free(rank);
    free(seen);
    free(nw);
    return rc;
}

int hwi_eval_submission(struct hwi_eval *e, const struct hwi_labels *truth,
                        const struct hwi_preds *sub, const char *subname, size_t *row,
                        char *err)
{
    /* the truth row of each submission row, then the first submission row
     * of each truth row (SIZE_MAX: none) */
    const char **image = malloc((sub->n ? sub->n : 1) * sizeof *image);
    size_t *trow = malloc((sub->n ? sub->n : 1) * sizeof *trow);
    size_t *srow = malloc((truth->n ? truth->n : 1) * sizeof *srow);
    size_t bad;
    int rc = 0;
    if (!image || !trow || !srow) {
        rc = hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < sub->n; k++)
        image[k] = sub->row[k].image;
    if (hwi_labels_rows(truth, image, sub->n, trow, &bad, err)) {
        if (bad < sub->n)
            hwi_seterr(err, "%s:%ld: unknown image '%s' (not in the truth)", subname,
                       sub->row[bad].line, sub->row[bad].image);
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < truth->n; i++)
        srow[i] = SIZE_MAX;
    for (size_t k = 0; k < sub->n; k++)
        if (srow[trow[k]] == SIZE_MAX)
            srow[trow[k]] = k;
    for (size_t i = 0; i < truth->n; i++)
        if (srow[i] == SIZE_MAX) {
            rc = hwi_seterr(err, "%s: no prediction for image '%s'", subname, truth->image[i]);
            goto out;
        }
    for (size_t i = 0; i < truth->n; i++) {
        size_t k = srow[i];
        if (row)
            row[i] = k;
        hwi_eval_add(e, truth->id[i], sub->row[k].id, sub->row[k].n);
    }
out:
    free(image);
    free(trow);
    free(srow);
    return rc;
}
