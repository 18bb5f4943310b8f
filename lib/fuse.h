/* fuse.h: step 5 of the method: fusing scores into one ranking (new_whale
 * is placed in it by thresh.h).
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
 * Fitting.  The fit set holds a validation set's inputs joined by query, for
 * searches over weights; the logits set a classifier's logits, for the
 * softmax multiplier.  Each candidate is scored by its MAP@5 with new_whale
 * at its best threshold (thresh.h).
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
#include "thresh.h"
#include "tsv.h"

#include <stddef.h>

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

/* One input's candidates for one query, labels as ids.  The photo that
 * gave a score (a scores TSV's optional 4th column, hwi-knn --photo) is
 * interned in the same label set: PID, or HWI_NO_PHOTO. */
#define HWI_NO_PHOTO ((size_t)-1)
struct hwi_cands {
    size_t n, cap;
    size_t *id;
    float *score;
    size_t *pid; /* [n] photo ids (hwi_cands_add sets HWI_NO_PHOTO) */
};

int hwi_cands_add(struct hwi_cands *c, size_t id, float score);
void hwi_cands_free(struct hwi_cands *c);

/* ------------------------------------------------------------------------
 * Joining one query's lists from several inputs. */
struct hwi_join {
    size_t nin; /* inputs */
    size_t nu;  /* labels in the union */
    size_t ucap;
    size_t *uid; /* [nu] label ids, in order of first appearance */
    float *val;  /* [nu * nin] val[u*nin + i]: input i's score, NAN if absent */
    float *miss; /* [nin] what an absent label of input i counts as */
    size_t *pid; /* [nu * nin] as val: input i's photo id, or HWI_NO_PHOTO */
    long *slot;  /* [nslot] position of a label id in the union, or -1 */
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

/* The photo of a fused candidate: that of the first input (in order) of
 * non-zero weight (new_whale weight when IS_NW) that has one for it; its
 * inputs' photo ids PID[0..nin).  HWI_NO_PHOTO when none has, e.g. a label
 * only the classifier's softmax proposed. */
size_t hwi_fuse_photo(const struct hwi_weights *wt, int is_nw, const size_t *pid);

/* ------------------------------------------------------------------------
 * Reading one scores TSV input group by group, labels interned, optionally
 * checking that queries come in increasing byte order. */
struct hwi_fuse_input {
    struct hwi_groups groups;
    struct hwi_group grp; /* the current group */
    struct hwi_cands c;   /* grp with label ids */
    int have;             /* grp and c hold a group */
    int check_sorted;
    char *prev; /* query of the previous group */
};

void hwi_fuse_input_open(struct hwi_fuse_input *in, FILE *fp, const char *name,
                         int check_sorted);

/* Read the next group.  Returns 1, 0 at EOF, -1 with ERR set. */
int hwi_fuse_input_next(struct hwi_fuse_input *in, struct hwi_labelset *ls, char *err);
void hwi_fuse_input_close(struct hwi_fuse_input *in);

/* ------------------------------------------------------------------------
 * A set of queries held in memory: joined inputs, or logits. */
struct hwi_fitset {
    size_t nin; /* inputs (1 for logits) */
    size_t nq;  /* queries */
    size_t qcap;
    char **query;     /* [nq] */
    const char **src; /* [nq] input that first listed the query, and */
    long *line;       /* [nq] its line (record number for logits) */
    size_t *off;      /* [nq + 1] each query's slice of uid and val */
    size_t *uid;      /* [off[nq]] label ids */
    float *val;       /* [off[nq] * nin] as hwi_join.val */
    size_t *pid;      /* [off[nq] * nin] as hwi_join.pid */
    float *miss;      /* [nq * nin] as hwi_join.miss */
    size_t vcap;
    int *has_nw;        /* [nin] the input lists new_whale somewhere */
    size_t *absent;     /* [nin] queries the input has no line for */
    const char **truth; /* [nq] after hwi_fitset_truth, else NULL */
};

/* Read all of IN[0..nin) (any query order) and join them by query, in
 * order of first appearance.  Returns 0, or -1 with ERR set. */
int hwi_fitset_load(struct hwi_fitset *fs, struct hwi_fuse_input *in, size_t nin,
                    const char *const *names, struct hwi_labelset *ls,
                    const struct hwi_missing *m, char *err);

/* Attach the truth of every query from T (which may hold more images).
 * Returns 0, or -1 with ERR naming a query without a label. */
int hwi_fitset_truth(struct hwi_fitset *fs, const struct hwi_labels *t, const char *tname,
                     char *err);

void hwi_fitset_free(struct hwi_fitset *fs);

/* The five best of query Q fused with WT (labels from LS) into *T; the
 * fused scores go through WORK[0..off[q+1]-off[q]). */
void hwi_fitset_top5(const struct hwi_fitset *fs, size_t q, const struct hwi_weights *wt,
                     const struct hwi_labelset *ls, size_t nw_id, double *work,
                     struct hwi_top5 *t);

/* A logits stream held in memory, for fitting the softmax multiplier. */
struct hwi_logits {
    size_t nq, qcap, dim;
    char **key;         /* [nq] queries */
    float *z;           /* [nq * dim] */
    size_t *lid;        /* [dim] label id of each column */
    const char **truth; /* [nq] after hwi_logits_truth, else NULL */
};

/* Check that S (opened) is keyed and has column names, each label once;
 * intern the names into LS and store their ids in LID[0..s->dim).
 * Returns 0, or -1 with ERR set. */
int hwi_logits_columns(struct hwi_stream *s, struct hwi_labelset *ls, size_t *lid, char *err);

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

/* ------------------------------------------------------------------------
 * A limit on the softmax written (hwi-fuse --softmax --top, --keep).  The
 * fusion and the threshold use each query's five best fused labels; a
 * label absent from the softmax list fuses with the --missing score (0)
 * instead of its probability, so a list cut to the TOP best changes no
 * fused score of a label it keeps.  The labels another input lists for the
 * query (--keep, the knn scores) keep their probabilities too, so each of
 * their fused scores stays exact; a label in neither list had a fused
 * score of at most W * p_TOP, below the TOP >= 5 kept ones. */

/* The labels each query has in a scores TSV, as logits columns. */
struct hwi_keep {
    struct hwi_map map; /* query -> index into col, n */
    size_t **col;       /* [nq][n[q]] columns of the logits stream */
    size_t *n;          /* [nq] */
    size_t nq;
};

/* Read the scores TSV FP (named NAME in messages) into KP: for each query
 * the columns (of DIM, with label ids LID[dim] in LS) of the labels it
 * lists; labels that are not columns (new_whale) are left out.  Memory:
 * the file's lines, not its queries x every label.  Returns 0, or -1 with
 * ERR set (a bad line, out of memory). */
int hwi_keep_load(struct hwi_keep *kp, FILE *fp, const char *name,
                  const struct hwi_labelset *ls, const size_t *lid, size_t dim, char *err);

/* The columns KP keeps for QUERY (*N of them; NULL and 0 for none). */
const size_t *hwi_keep_get(const struct hwi_keep *kp, const char *query, size_t *n);
void hwi_keep_free(struct hwi_keep *kp);

/* Cut one query's softmax P[n] (labels LABEL[n]) to its TOP best (by
 * hwi_rank_order; 0: all) and the columns KEEP[nkeep]: every other P[i]
 * becomes NAN (not written).  IDX holds n entries and MARK n bytes of
 * work. */
void hwi_softmax_limit(double *p, const char *const *label, size_t n, size_t top,
                       const size_t *keep, size_t nkeep, size_t *idx, unsigned char *mark);

/* ------------------------------------------------------------------------
 * Merge-joining inputs sorted by query, group by group: memory bounded by
 * one query's lists. */

/* Fail (-1, ERR set) if some input lists individuals but none in common
 * with the first one: SEEN[i][l] marks the label ids l < NLAB input i
 * lists; NAMES[i] names input i. */
int hwi_fuse_overlap(unsigned char *const *seen, size_t nin, size_t nlab, size_t nw_id,
                     const char *const *names, char *err);

struct hwi_fuse_merge {
    struct hwi_fuse_input *in; /* [nin] opened with check_sorted */
    size_t nin;
    const char *const *names;
    struct hwi_labelset *ls;
    size_t nw_id;               /* id of new_whale in ls */
    char *query;                /* the current query */
    const struct hwi_cands **c; /* [nin] its list in each input, NULL if absent */
    size_t *absent;             /* [nin] queries the input has no list for */
    unsigned char **seen;       /* [nin][seencap] label ids listed */
    size_t seencap;
};

/* Start merging IN[0..nin) (each opened, names NAMES[i]), labels into LS:
 * reads each input's first group.  Returns 0, or -1 with ERR set; close M
 * either way. */
int hwi_fuse_merge_open(struct hwi_fuse_merge *m, struct hwi_fuse_input *in, size_t nin,
                        const char *const *names, struct hwi_labelset *ls, char *err);

/* The next query, the smallest in byte order: M->query and M->c.  Returns 1;
 * 0 at the end of all inputs (after checking their label sets overlap,
 * hwi_fuse_overlap); -1 with ERR set. */
int hwi_fuse_merge_next(struct hwi_fuse_merge *m, char *err);
void hwi_fuse_merge_close(struct hwi_fuse_merge *m);

/* hwi_fuse_overlap on a fit set with NLAB labels. */
int hwi_fitset_overlap(const struct hwi_fitset *fs, size_t nlab, size_t nw_id,
                       const char *const *names, char *err);

/* ------------------------------------------------------------------------
 * Fitting on validation (the sets' truth attached).  A candidate setting
 * scores its MAP@5 with new_whale at its best threshold (hwi_thresh_search
 * under MODE on the thresholds TGRID, or exactly); the first best wins. */

/* The softmax multiplier: C = 1 (the plain classifier), then each of
 * GRID[0..ngrid). */
struct hwi_mult_fit {
    double ranked;       /* MAP@5 as ranked (the same for every C) */
    double thr1, map5_1; /* C = 1: threshold, MAP@5 at it */
    double c, thr, map5; /* the best C of GRID: itself, threshold, MAP@5 */
};

int hwi_logits_fit(const struct hwi_logits *lg, const struct hwi_labelset *ls,
                   const double *grid, size_t ngrid, enum hwi_nw_mode mode,
                   const double *tgrid, size_t ntgrid, struct hwi_mult_fit *f, char *err);

/* How the fusion weights are searched.
 *
 * HWI_FIT_GRID tries every setting of the grids: exhaustive, and the
 * original's choice for two inputs, but the settings multiply with the
 * inputs (at most HWI_FIT_MAX_COMBOS).  HWI_FIT_ASCENT is for several
 * models' inputs (an ensemble): coordinate ascent from equal weights
 * (w_i = 1, v_i = 1 or 0 as the tied rule), taking one coordinate at a time,
 * w_0, v_0 (if it has a grid), w_1, ..., to each of its grid values in
 * order, the others fixed, and keeping a change only when it raises MAP@5
 * strictly; rounds repeat until one changes nothing, at most
 * HWI_FIT_MAX_ROUNDS.  It tries about rounds * sum of the grid sizes
 * settings, finds a local optimum (the grid's best when the inputs help
 * independently), and is deterministic. */
#define HWI_FIT_MAX_COMBOS 1000000
#define HWI_FIT_MAX_ROUNDS 20
enum hwi_fit_search { HWI_FIT_GRID, HWI_FIT_ASCENT };
struct hwi_fit_opts {
    enum hwi_nw_mode mode;
    const double *tgrid; /* thresholds to try, NULL: exact search */
    size_t ntgrid;
    double *const *w; /* [nin] the values of input i's weight, */
    const size_t *nw; /* [nin] how many */
    double *const *v; /* [nin] the values of its new_whale weight, or NULL:
                          * its weight (0 for an input that never lists
                          * new_whale, so that a missing value cannot make
                          * one up there) */
    const size_t *nv;
    /* called before each setting K of TOTAL (0: not known) is tried, or NULL */
    void (*progress)(size_t k, double total, void *arg);
    void *arg;
    enum hwi_fit_search search;
    /* a fused setting must beat the best input alone by this much MAP@5,
     * or that input alone is chosen; < 0: 1/N for N queries (one query
     * moved from a miss to first place) */
    double min_gain;
};

struct hwi_fit_score {
    double ranked, thr, map5; /* MAP@5 as ranked; threshold; MAP@5 at it */
};

/* Score the fit set FS fused with WT (RANKED only if WANT_RANKED).
 * Returns 0, or -1 with ERR set. */
int hwi_fitset_eval(const struct hwi_fitset *fs, const struct hwi_labelset *ls, size_t nw_id,
                    const struct hwi_weights *wt, const struct hwi_fit_opts *o,
                    int want_ranked, struct hwi_fit_score *s, char *err);

/* Check the grids of O for NIN inputs: *COMBOS settings (for the ascent,
 * the values of one round), at most HWI_FIT_MAX_COMBOS, some non-zero weight.  Returns 0, or -1 with ERR set
 * (a usage error: the grids are the user's). */
int hwi_fit_grid_check(const struct hwi_fit_opts *o, size_t nin, double *combos, char *err);

/* Fit the weights: every input alone (weight 1, the others 0) into
 * ALONE[0..nin), then by O->search: every setting of the grids (settings
 * with all weights 0 skipped) in mixed-radix order, input 0's weight
 * fastest, or the coordinate ascent; the best into BEST (nin set, arrays
 * allocated) and its score into FUSED.  When the best does not beat the
 * best input alone (the first of equals) by O->min_gain, BEST is that
 * input alone: weight 1, the others 0 (its new_whale weight 1 if it lists
 * new_whale, else 0, as in the grid).
 * Returns 0, or -1 with ERR set. */
int hwi_fitset_fit(const struct hwi_fitset *fs, const struct hwi_labelset *ls, size_t nw_id,
                   const struct hwi_fit_opts *o, struct hwi_weights *best,
                   struct hwi_fit_score *alone, struct hwi_fit_score *fused, char *err);

/* The options that give WT: "--weights=W1,... --nw-weights=V1,..." (%.9g),
 * allocated, or NULL if out of memory. */
char *hwi_weights_options(const struct hwi_weights *wt);

#endif /* HWI_FUSE_H */
