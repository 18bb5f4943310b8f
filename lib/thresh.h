/* thresh.h: step 6 of the method: placing new_whale in a ranking at a score
 * threshold, fitting that threshold on validation, padding short rows, and the
 * fit report that hwi-fuse and hwi-thresh write.
 *
 * new_whale placement.  A ranking is kept as its five best individuals
 * (score descending, ties by label in byte order, as hwi_group_sort) and
 * the list's own new_whale score, if any.  At a threshold T new_whale takes
 * the score  max(T, own)  (HWI_NW_MAX: it enters where the scores fall below
 * T, and the knn new_whale candidate competes as a label), or  own + T
 * (HWI_NW_ADD: the original code's constant new_whale column added to the
 * fused knn column), or keeps its own score only (HWI_NW_NONE).  Queries
 * with fewer than five ids are padded from a list of fallback labels.
 *
 * Fitting.  hwi_thresh_search finds the threshold of the highest MAP@5
 * (hwi_map5_one) over a validation set, on a grid or exactly: MAP@5 is a
 * step function of T whose steps lie at the candidates' scores, so a sweep
 * over those scores finds every value it takes.
 *
 * Nothing here exits: functions return 0 or -1 with a message in an ERR
 * buffer of HWI_ERRLEN bytes; only the report functions write, to the FILE
 * they are given. */
#ifndef HWI_THRESH_H
#define HWI_THRESH_H

#include "csv.h"
#include "err.h"
#include "metric.h"

#include <stddef.h>
#include <stdio.h>

/* How new_whale enters a ranking (see above). */
enum hwi_nw_mode { HWI_NW_MAX, HWI_NW_ADD, HWI_NW_NONE };

/* Parse "max", "add" or "none".  Returns 0 or -1. */
int hwi_nw_mode_parse(const char *s, enum hwi_nw_mode *mode);
const char *hwi_nw_mode_name(enum hwi_nw_mode mode);

/* ------------------------------------------------------------------------
 * Rankings and new_whale. */
struct hwi_top5 {
    int k;                       /* individuals kept, 0..HWI_TOPK */
    const char *label[HWI_TOPK]; /* best first */
    double score[HWI_TOPK];
    int has_nw;                  /* the list has its own new_whale */
    double nw;                   /* its score */
    const char *photo[HWI_TOPK]; /* the photo that gave each score, or NULL */
    const char *nw_photo;        /* new_whale's, or NULL */
};

void hwi_top5_init(struct hwi_top5 *t);

/* Offer a candidate.  LABEL must outlive T (it is not copied). */
void hwi_top5_push(struct hwi_top5 *t, const char *label, double score);

/* The same with the PHOTO that gave the score (NULL: none; not copied). */
void hwi_top5_push_photo(struct hwi_top5 *t, const char *label, double score,
                         const char *photo);

/* The score of new_whale in T at threshold THR under MODE (it must take
 * part: not HWI_NW_NONE without its own score), and in *PHOTO its own
 * photo when its own score placed it, else NULL. */
double hwi_top5_nw_score(const struct hwi_top5 *t, enum hwi_nw_mode mode, double thr,
                         const char **photo);

/* The submission ids of T at threshold THR under MODE, padded from
 * PAD[0..npad) (labels already there and new_whale are skipped).  Stores up
 * to HWI_TOPK ids in OUT and returns how many. */
int hwi_top5_predict(const struct hwi_top5 *t, enum hwi_nw_mode mode, double thr,
                     const char *const *pad, size_t npad, const char **out);

/* Choose the threshold of the highest MAP@5 of T[0..n) against
 * TRUTH[0..n) under MODE (not HWI_NW_NONE).  GRID[0..ngrid) gives the
 * thresholds to try (the first best wins, like numpy's argmax); with
 * GRID NULL the search is exact: THR lies inside the first run of best
 * thresholds, the number with the fewest digits nearest its middle (half
 * the score range, at least 0.5, beyond the extreme score when the run is
 * unbounded).  Stores the threshold in *THR and its MAP@5,
 * recomputed on the predictions with hwi_eval, in *MAP5.  Returns 0, or -1
 * if out of memory. */
int hwi_thresh_search(const struct hwi_top5 *t, const char *const *truth, size_t n,
                      enum hwi_nw_mode mode, const char *const *pad, size_t npad,
                      const double *grid, size_t ngrid, double *thr, double *map5, char *err);

/* Format threshold THR into BUF (at least 32 bytes) with %.9g, or %.17g
 * when that does not read back as THR, so that a fitted threshold given
 * back as --threshold reproduces the fit exactly.  Returns BUF. */
char *hwi_thresh_format(char *buf, size_t size, double thr);

/* MAP@5 of T[0..n) at threshold THR (ignored for HWI_NW_NONE), with hwi_eval. */
double hwi_top5_map5(const struct hwi_top5 *t, const char *const *truth, size_t n,
                     enum hwi_nw_mode mode, double thr, const char *const *pad, size_t npad);

/* ------------------------------------------------------------------------
 * Padding: rows with fewer than five ids are filled from a list of
 * fallback labels.  The default list: the ids ranked first most often in
 * T[0..n), then those most often among the five best, ties by id in byte
 * order.  Stores up to MAX of them (T's label pointers) in PAD and their
 * count in *NPAD.  Returns 0, or -1 with ERR set if out of memory. */
int hwi_thresh_default_pad(const struct hwi_top5 *t, size_t n, const char **pad, size_t max,
                           size_t *npad, char *err);

/* ------------------------------------------------------------------------
 * The fit report, one TSV file per fit (hwi-fuse's and hwi-thresh's
 * --report; data/demo.mk reads it back):
 *
 *     # stage<TAB>queries<TAB>map5<TAB>threshold<TAB>map5_nw<TAB>options
 *
 * one line per stage: its name, the queries scored, MAP@5 as ranked, the
 * fitted threshold (hwi_thresh_format) and MAP@5 with new_whale at it ("-"
 * and "-" under HWI_NW_NONE), and the options that reproduce the stage. */
void hwi_thresh_report_head(FILE *fp);
void hwi_thresh_report_line(FILE *fp, const char *stage, size_t nq, double map5,
                            enum hwi_nw_mode mode, double thr, double map5_nw,
                            const char *options);

#endif /* HWI_THRESH_H */
