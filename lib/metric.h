/* metric.h: the competition's metric and the figures every step reports.
 *
 * MAP@5: for each query, 1/rank of the true label among the first five
 * predictions (rank counts every position, and a label repeated at a later
 * position earns nothing more), 0 if it is absent; averaged over queries.
 * This is Kaggle's apk(k=5) with one true label per image. */
#ifndef HWI_METRIC_H
#define HWI_METRIC_H

#include <stddef.h>

#define HWI_NEW_WHALE "new_whale"

/* Average precision at 5 of one query: PRED[0..N) best first (N may exceed
 * 5; only the first 5 count). */
double hwi_map5_one(const char *truth, char *const *pred, int n);

/* Running totals over queries. */
struct hwi_eval {
    size_t n;        /* queries */
    double map5_sum; /* sum of hwi_map5_one */
    size_t top1;     /* queries whose first prediction is right */
    size_t nw_true;  /* queries whose truth is new_whale */
    size_t nw_pred;  /* queries with new_whale predicted first */
    size_t nw_hit;   /* both */
};

/* Add one query. */
void hwi_eval_add(struct hwi_eval *e, const char *truth, char *const *pred, int n);

/* MAP@5, top-1 accuracy, and new_whale precision and recall (of the first
 * prediction); 0 when undefined (no queries, nothing predicted). */
double hwi_eval_map5(const struct hwi_eval *e);
double hwi_eval_top1(const struct hwi_eval *e);
double hwi_eval_nw_precision(const struct hwi_eval *e);
double hwi_eval_nw_recall(const struct hwi_eval *e);

#endif /* HWI_METRIC_H */
