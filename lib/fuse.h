/* fuse.h: steps 5 and 6 of the method: fusing scores into one ranking, and
 * placing new_whale in it.
 *
 * Fusion.  For one query, inputs i = 1..n give candidate lists (label,
 * score).  The fused score of a label l is
 *
 *     f(l) = sum_i  w_i * s_i(l)          for an individual l
 *     f(l) = sum_i  v_i * s_i(l)          for l = new_whale
 *
 * with w_i input i's weight, v_i its new_whale weight, and s_i(l) its score
 * of l, or when l is not in its list a "missing" value (a number, the
 * lowest score of its list, or an error).  The candidates of the fused list
 * are the labels present in at least one input of non-zero weight.  The
 * method's  c1*knn_sim + c2*knn_sim_with_new_whale + c3*softmax  is two
 * inputs, knn with w = c1 + c2 and v = c2, softmax with w = c3.  Scores
 * enter as float32 (what %.9g text and the vector stream carry), the sums
 * are taken in double, so every path gives the same bits.
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
 * over those scores finds every value it takes.  The fit set holds a
 * validation set's inputs joined by query, for grid searches over weights.
 *
 * Nothing here prints or exits: functions return 0 or -1 with a message in
 * an ERR buffer of HWI_ERRLEN bytes. */
#ifndef HWI_FUSE_H
#define HWI_FUSE_H

#include "csv.h"
#include "err.h"
#include "map.h"
#include "metric.h"
#include "stream.h"
#include "tsv.h"

#include <stddef.h>

/* How new_whale enters a ranking (see above). */
enum hwi_nw_mode { HWI_NW_MAX, HWI_NW_ADD, HWI_NW_NONE };

/* Parse "max", "add" or "none".  Returns 0 or -1. */
int hwi_nw_mode_parse(const char *s, enum hwi_nw_mode *mode);
const char *hwi_nw_mode_name(enum hwi_nw_mode mode);

/* What a label absent from one input's list counts as. */
enum hwi_miss_kind { HWI_MISS_VALUE, HWI_MISS_MIN, HWI_MISS_ERROR };
struct hwi_missing {
    enum hwi_miss_kind kind;
    double value; /* for HWI_MISS_VALUE */
};

/* Parse a number, "min" or "error".  Returns 0 or -1. */
int hwi_missing_parse(const char *s, struct hwi_missing *m);

/* P[0..N) = softmax(C * Z[0..N)), computed stably in double. */
void hwi_softmax(double *p, const float *z, size_t n, double c);

/* ------------------------------------------------------------------------
 * Labels, interned: every label seen gets a small id; names stay put. */
struct hwi_labelset {
    struct hwi_map map;
    char **name; /* [n] */
    size_t n, cap;
};

/* Id of LABEL, added if new.  Returns 0, or -1 if out of memory. */
int hwi_labelset_id(struct hwi_labelset *ls, const char *label, size_t *id);
void hwi_labelset_free(struct hwi_labelset *ls);

/* One input's candidates for one query, labels as ids. */
struct hwi_cands {
    size_t n, cap;
    size_t *id;
    float *score;
};

int hwi_cands_add(struct hwi_cands *c, size_t id, float score);
void hwi_cands_free(struct hwi_cands *c);

/* ------------------------------------------------------------------------
 * Joining one query's lists from several inputs. */
struct hwi_join {
    size_t nin;    /* inputs */
    size_t nu;     /* labels in the union */
    size_t ucap;
    size_t *uid;   /* [nu] label ids, in order of first appearance */
    float *val;    /* [nu * nin] val[u*nin + i]: input i's score, NAN if absent */
    float *miss;   /* [nin] what an absent label of input i counts as */
    long *slot;    /* [nslot] position of a label id in the union, or -1 */
    size_t nslot;
};

void hwi_join_init(struct hwi_join *j, size_t nin);
void hwi_join_free(struct hwi_join *j);

/* Join IN[0..nin) (NULL: the input has no line for QUERY) under the policy
 * M.  NAMES[i] names input i and LS the labels in messages.  Returns 0, or -1 with ERR set
 * (out of memory, or a missing label under HWI_MISS_ERROR; new_whale, id
 * NW_ID, may be missing anywhere). */
int hwi_join_query(struct hwi_join *j, const struct hwi_cands *const *in,
                   const struct hwi_missing *m, const struct hwi_labelset *ls, size_t nw_id,
                   const char *query, const char *const *names, char *err);

/* Weights of a fusion. */
struct hwi_weights {
    size_t nin;
    double *w; /* [nin] weight of individuals' scores */
    double *v; /* [nin] weight of the new_whale score */
};

/* Fuse the NU joined labels: OUT[u] = the fused score of label UID[u], or
 * NAN when no input of non-zero weight lists it (not a candidate). */
void hwi_fuse_scores(const struct hwi_weights *wt, size_t nw_id, const size_t *uid,
                     const float *val, const float *miss, size_t nu, double *out);

/* ------------------------------------------------------------------------
 * Rankings and new_whale. */
struct hwi_top5 {
    int k;                         /* individuals kept, 0..HWI_TOPK */
    const char *label[HWI_TOPK];   /* best first */
    double score[HWI_TOPK];
    int has_nw;                    /* the list has its own new_whale */
    double nw;                     /* its score */
};

void hwi_top5_init(struct hwi_top5 *t);

/* Offer a candidate.  LABEL must outlive T (it is not copied). */
void hwi_top5_push(struct hwi_top5 *t, const char *label, double score);

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
                      const double *grid, size_t ngrid, double *thr, double *map5,
                      char *err);

/* Format threshold THR into BUF (at least 32 bytes) with %.9g, or %.17g
 * when that does not read back as THR, so that a fitted threshold given
 * back as --threshold reproduces the fit exactly.  Returns BUF. */
char *hwi_thresh_format(char *buf, size_t size, double thr);

/* MAP@5 of T[0..n) at threshold THR (ignored for HWI_NW_NONE), with hwi_eval. */
double hwi_top5_map5(const struct hwi_top5 *t, const char *const *truth, size_t n,
                     enum hwi_nw_mode mode, double thr, const char *const *pad,
                     size_t npad);

/* ------------------------------------------------------------------------
 * Reading one scores TSV input group by group, labels interned, optionally
 * checking that queries come in increasing byte order. */
struct hwi_fuse_input {
    struct hwi_groups groups;
    struct hwi_group grp;  /* the current group */
    struct hwi_cands c;    /* grp with label ids */
    int have;              /* grp and c hold a group */
    int check_sorted;
    char *prev;            /* query of the previous group */
};

void hwi_fuse_input_open(struct hwi_fuse_input *in, FILE *fp, const char *name,
                         int check_sorted);

/* Read the next group.  Returns 1, 0 at EOF, -1 with ERR set. */
int hwi_fuse_input_next(struct hwi_fuse_input *in, struct hwi_labelset *ls, char *err);
void hwi_fuse_input_close(struct hwi_fuse_input *in);

/* ------------------------------------------------------------------------
 * A set of queries held in memory: joined inputs, or logits. */
struct hwi_fitset {
    size_t nin;    /* inputs (1 for logits) */
    size_t nq;     /* queries */
    size_t qcap;
    char **query;  /* [nq] */
    const char **src; /* [nq] input that first listed the query, and */
    long *line;       /* [nq] its line (record number for logits) */
    size_t *off;   /* [nq + 1] each query's slice of uid and val */
    size_t *uid;   /* [off[nq]] label ids */
    float *val;    /* [off[nq] * nin] as hwi_join.val */
    float *miss;   /* [nq * nin] as hwi_join.miss */
    size_t vcap;
    int *has_nw;   /* [nin] the input lists new_whale somewhere */
    size_t *absent; /* [nin] queries the input has no line for */
    const char **truth; /* [nq] after hwi_fitset_truth, else NULL */
};

/* Read all of IN[0..nin) (any query order) and join them by query, in
 * order of first appearance.  Returns 0, or -1 with ERR set. */
int hwi_fitset_load(struct hwi_fitset *fs, struct hwi_fuse_input *in, size_t nin,
                    const char *const *names, struct hwi_labelset *ls,
                    const struct hwi_missing *m, char *err);

/* Attach the truth of every query from T (which may hold more images).
 * Returns 0, or -1 with ERR naming a query without a label. */
int hwi_fitset_truth(struct hwi_fitset *fs, const struct hwi_labels *t,
                     const char *tname, char *err);

void hwi_fitset_free(struct hwi_fitset *fs);

/* The five best of query Q fused with WT (labels from LS) into *T; the
 * fused scores go through WORK[0..off[q+1]-off[q]). */
void hwi_fitset_top5(const struct hwi_fitset *fs, size_t q, const struct hwi_weights *wt,
                     const struct hwi_labelset *ls, size_t nw_id, double *work,
                     struct hwi_top5 *t);

/* A logits stream held in memory, for fitting the softmax multiplier. */
struct hwi_logits {
    size_t nq, qcap, dim;
    char **key;   /* [nq] queries */
    float *z;     /* [nq * dim] */
    size_t *lid;  /* [dim] label id of each column */
    const char **truth; /* [nq] after hwi_logits_truth, else NULL */
};

/* Check that S (opened) is keyed and has column names, each label once;
 * intern the names into LS and store their ids in LID[0..s->dim).
 * Returns 0, or -1 with ERR set. */
int hwi_logits_columns(struct hwi_stream *s, struct hwi_labelset *ls, size_t *lid,
                       char *err);

/* Read the rest of S (checked by hwi_logits_columns into LG->lid).  Each
 * key may appear once.  Returns 0, or -1 with ERR set. */
int hwi_logits_load(struct hwi_logits *lg, struct hwi_stream *s, char *err);
int hwi_logits_truth(struct hwi_logits *lg, const struct hwi_labels *t, const char *tname,
                     const char *sname, char *err);
void hwi_logits_free(struct hwi_logits *lg);

/* The five best of softmax(C * logits of query Q) into *T; WORK holds dim
 * doubles. */
void hwi_logits_top5(const struct hwi_logits *lg, size_t q, double c,
                     const struct hwi_labelset *ls, double *work, struct hwi_top5 *t);

/* Sort N labelled scores best first (score descending, ties by label):
 * IDX[0..n) receives the order.  Returns 0, or -1 if out of memory. */
int hwi_rank_order(const double *score, const char *const *label, size_t n, size_t *idx);

#endif /* HWI_FUSE_H */
