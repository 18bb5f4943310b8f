/* split.h: the validation split of the 7th-place solution, and a
 * submission checked and scored against the truth.
 *
 * The split: one photo of every individual with at least two photos, plus
 * a sample of new_whale photos (1000 of 9664 in the original), drawn with
 * a seed.  Scoring: every truth image must have exactly one submission row
 * and every submission row a truth image; the figures are metric.h's. */
#ifndef HWI_SPLIT_H
#define HWI_SPLIT_H

#include "csv.h"
#include "metric.h"

#include <stddef.h>
#include <stdint.h>

/* How many new_whale photos go to validation. */
struct hwi_split_opts {
    uint64_t seed;  /* the draw, e.g. 1 */
    long nw_count;  /* a count, e.g. 1000; < 0: use nw_frac */
    double nw_frac; /* a fraction of the new_whale photos, e.g. 1000/9664.0 */
};

/* Choose the validation photos of T: set VAL[i] to 1 for each of them and
 * 0 for the rest (VAL has T->n bytes); store their count in *NVAL.  Which
 * photo of an individual is drawn depends on the seed and on the photos of
 * that individual only.  Returns 0, or -1 with ERR set (more new_whale
 * photos asked for than there are, out of memory). */
int hwi_split_make(const struct hwi_labels *t, const struct hwi_split_opts *o,
                   unsigned char *val, size_t *nval, char *err);

/* Add to E one query per TRUTH row, predicted by its row of SUB; when ROW
 * is not NULL, store in ROW[i] the index in SUB of TRUTH's row i.  Fails
 * (-1, ERR set, E unchanged) if SUB has a row for an image not in TRUTH
 * ("SUBNAME:LINE: unknown image ...") or no row for one of TRUTH's images
 * ("SUBNAME: no prediction for image ..."). */
int hwi_eval_submission(struct hwi_eval *e, const struct hwi_labels *truth,
                        const struct hwi_preds *sub, const char *subname, size_t *row,
                        char *err);

#endif /* HWI_SPLIT_H */
