/* metric.h: the competition's metric.
 *
 * MAP@5: for each query, 1/rank of the true label among the first five
 * predictions (rank counts every position, and a label repeated at a later
 * position earns nothing more), 0 if it is absent; averaged over queries.
 * This is Kaggle's apk(k=5) with one true label per image. */
#ifndef HWI_METRIC_H
#define HWI_METRIC_H

/* Average precision at 5 of one query: PRED[0..N) best first (N may exceed
 * 5; only the first 5 count). */
double hwi_map5_one(const char *truth, char *const *pred, int n);

#endif /* HWI_METRIC_H */
