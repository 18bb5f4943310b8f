/* fuse.c: fusing scores, placing new_whale, fitting on validation (see
 * fuse.h for the formulas and contracts).
 *
 * The exact threshold search.  For one query keep its best individuals
 * s_1 >= ... >= s_k (k <= 5) and its own new_whale score n.  At threshold T
 * new_whale lands at position pos(T) among them: under HWI_NW_MAX
 * pos = min(p0, #{s_i > T}) with p0 the number that beat n; under
 * HWI_NW_ADD pos = #{s_i - n > T}.  Its AP is a table A[pos], so the
 * summed AP changes only where T crosses some s_i (or s_i - n): sorting
 * those crossings and adding the changes A[i] - A[i+1] in order gives the
 * MAP@5 of every interval between them.  APs are multiples of 1/60, so
 * sums are kept exactly as integers. */
#include <config.h>

#include "fuse.h"

#include "opt.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hwi_nw_mode_parse(const char *s, enum hwi_nw_mode *mode)
{
    if (!strcmp(s, "max"))
        *mode = HWI_NW_MAX;
    else if (!strcmp(s, "add"))
        *mode = HWI_NW_ADD;
    else if (!strcmp(s, "none"))
        *mode = HWI_NW_NONE;
    else
        return -1;
    return 0;
}

const char *hwi_nw_mode_name(enum hwi_nw_mode mode)
{
    return mode == HWI_NW_MAX ? "max" : mode == HWI_NW_ADD ? "add" : "none";
}

int hwi_missing_parse(const char *s, struct hwi_missing *m)
{
    if (!strcmp(s, "min")) {
        m->kind = HWI_MISS_MIN;
        m->value = 0;
    } else if (!strcmp(s, "error")) {
        m->kind = HWI_MISS_ERROR;
        m->value = 0;
    } else {
        m->kind = HWI_MISS_VALUE;
        if (hwi_parse_double(s, -FLT_MAX, FLT_MAX, &m->value))
            return -1;
    }
    return 0;
}

void hwi_softmax(double *p, const float *z, size_t n, double c)
{
    if (!n)
        return;
    double mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (c * z[i] > mx)
            mx = c * z[i];
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i] = exp(c * z[i] - mx);
    for (size_t i = 0; i < n; i++)
        p[i] /= sum;
}

/* ------------------------------------------------------------------------
 * Labels and candidate lists. */

int hwi_labelset_id(struct hwi_labelset *ls, const char *label, size_t *id)
{
    size_t *v = hwi_map_get(&ls->map, label);
    if (v) {
        *id = *v;
        return 0;
    }
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? 2 * ls->cap : 64;
        char **p = realloc(ls->name, cap * sizeof *p);
        if (!p)
            return -1;
        ls->name = p;
        ls->cap = cap;
    }
    if (!(ls->name[ls->n] = strdup(label)))
        return -1;
    if (hwi_map_put(&ls->map, label, ls->n, NULL) < 0) {
        free(ls->name[ls->n]);
        return -1;
    }
    *id = ls->n++;
    return 0;
}

void hwi_labelset_free(struct hwi_labelset *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->name[i]);
    free(ls->name);
    hwi_map_free(&ls->map);
    memset(ls, 0, sizeof *ls);
}

int hwi_cands_add(struct hwi_cands *c, size_t id, float score)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        size_t *i = realloc(c->id, cap * sizeof *i);
        if (!i)
            return -1;
        c->id = i;
        float *s = realloc(c->score, cap * sizeof *s);
        if (!s)
            return -1;
        c->score = s;
        c->cap = cap;
    }
    c->id[c->n] = id;
    c->score[c->n++] = score;
    return 0;
}

void hwi_cands_free(struct hwi_cands *c)
{
    free(c->id);
    free(c->score);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------
 * Joining. */

void hwi_join_init(struct hwi_join *j, size_t nin)
{
    memset(j, 0, sizeof *j);
    j->nin = nin;
}

void hwi_join_free(struct hwi_join *j)
{
    free(j->uid);
    free(j->val);
    free(j->miss);
    free(j->slot);
    memset(j, 0, sizeof *j);
}

static int join_grow(struct hwi_join *j)
{
    size_t cap = j->ucap ? 2 * j->ucap : 256;
    size_t *u = realloc(j->uid, cap * sizeof *u);
    if (!u)
        return -1;
    j->uid = u;
    float *v = realloc(j->val, cap * j->nin * sizeof *v);
    if (!v)
        return -1;
    j->val = v;
    j->ucap = cap;
    return 0;
}

int hwi_join_query(struct hwi_join *j, const struct hwi_cands *const *in,
                   const struct hwi_missing *m, const struct hwi_labelset *ls, size_t nw_id,
                   const char *query, const char *const *names, char *err)
{
    size_t nin = j->nin;
    if (!j->miss && !(j->miss = malloc(nin * sizeof *j->miss)))
        return hwi_seterr(err, "out of memory");
    j->nu = 0;
    for (size_t i = 0; i < nin; i++) {
        const struct hwi_cands *c = in[i];
        if (!c)
            continue;
        for (size_t k = 0; k < c->n; k++) {
            size_t id = c->id[k];
            if (id >= j->nslot) {
                size_t ns = j->nslot ? j->nslot : 256;
                while (ns <= id)
                    ns *= 2;
                long *s = realloc(j->slot, ns * sizeof *s);
                if (!s)
                    return hwi_seterr(err, "out of memory");
                for (size_t x = j->nslot; x < ns; x++)
                    s[x] = -1;
                j->slot = s;
                j->nslot = ns;
            }
            long u = j->slot[id];
            if (u < 0) {
                if (j->nu == j->ucap && join_grow(j))
                    return hwi_seterr(err, "out of memory");
                u = (long)j->nu++;
                j->slot[id] = u;
                j->uid[u] = id;
                for (size_t x = 0; x < nin; x++)
                    j->val[(size_t)u * nin + x] = NAN;
            }
            j->val[(size_t)u * nin + i] = c->score[k];
        }
    }
    for (size_t u = 0; u < j->nu; u++)
        j->slot[j->uid[u]] = -1;
    for (size_t i = 0; i < nin; i++) {
        const struct hwi_cands *c = in[i];
        if (m->kind == HWI_MISS_ERROR) {
            j->miss[i] = 0;
            for (size_t u = 0; u < j->nu; u++)
                if (isnan(j->val[u * nin + i]) && j->uid[u] != nw_id) {
                    size_t other = 0;
                    while (other < nin && isnan(j->val[u * nin + other]))
                        other++;
                    if (!c)
                        return hwi_seterr(err, "query '%s' is in %s but not in %s "
                                          "(--missing=error)", query, names[other], names[i]);
                    return hwi_seterr(err, "query '%s': label '%s' is in %s but not in %s "
                                      "(--missing=error: the label sets must match)",
                                      query, ls->name[j->uid[u]], names[other], names[i]);
                }
        } else if (m->kind == HWI_MISS_MIN && c && c->n) {
            float lo = c->score[0];
            for (size_t k = 1; k < c->n; k++)
                if (c->score[k] < lo)
                    lo = c->score[k];
            j->miss[i] = lo;
        } else {
            j->miss[i] = m->kind == HWI_MISS_VALUE ? (float)m->value : 0.0f;
        }
    }
    return 0;
}

void hwi_fuse_scores(const struct hwi_weights *wt, size_t nw_id, const size_t *uid,
                     const float *val, const float *miss, size_t nu, double *out)
{
    size_t nin = wt->nin;
    for (size_t u = 0; u < nu; u++) {
        const double *w = uid[u] == nw_id ? wt->v : wt->w;
        const float *x = val + u * nin;
        double sum = 0;
        int listed = 0;
        for (size_t i = 0; i < nin; i++) {
            if (isnan(x[i])) {
                sum += w[i] * (double)miss[i];
            } else {
                sum += w[i] * (double)x[i];
                listed |= w[i] != 0;
            }
        }
        out[u] = listed ? sum : NAN;
    }
}

/* ------------------------------------------------------------------------
 * Rankings. */

/* 1 if (SA, LA) ranks before (SB, LB): higher score, then smaller label. */
static int before(double sa, const char *la, double sb, const char *lb)
{
    return sa > sb || (sa == sb && strcmp(la, lb) < 0);
}

void hwi_top5_init(struct hwi_top5 *t)
{
    t->k = 0;
    t->has_nw = 0;
    t->nw = 0;
}

void hwi_top5_push(struct hwi_top5 *t, const char *label, double score)
{
    if (!strcmp(label, HWI_NEW_WHALE)) {
        t->has_nw = 1;
        t->nw = score;
        return;
    }
    if (t->k == HWI_TOPK && !before(score, label, t->score[HWI_TOPK - 1],
                                    t->label[HWI_TOPK - 1]))
        return;
    int i = t->k < HWI_TOPK ? t->k++ : HWI_TOPK - 1;
    for (; i > 0 && before(score, label, t->score[i - 1], t->label[i - 1]); i--) {
        t->score[i] = t->score[i - 1];
        t->label[i] = t->label[i - 1];
    }
    t->score[i] = score;
    t->label[i] = label;
}

/* The ids with new_whale at position POS among the individuals (POS < 0:
 * no new_whale), then padding.  Returns the count. */
static int build(const struct hwi_top5 *t, int pos, const char *const *pad, size_t npad,
                 const char **out)
{
    int n = 0;
    for (int i = 0; i <= t->k && n < HWI_TOPK; i++) {
        if (i == pos)
            out[n++] = HWI_NEW_WHALE;
        if (i < t->k && n < HWI_TOPK)
            out[n++] = t->label[i];
    }
    for (size_t p = 0; p < npad && n < HWI_TOPK; p++) {
        int dup = !strcmp(pad[p], HWI_NEW_WHALE);
        for (int i = 0; i < n && !dup; i++)
            dup = !strcmp(out[i], pad[p]);
        if (!dup)
            out[n++] = pad[p];
    }
    return n;
}

/* Position of new_whale scored E among T's individuals. */
static int position(const struct hwi_top5 *t, double e)
{
    int pos = 0;
    while (pos < t->k && before(t->score[pos], t->label[pos], e, HWI_NEW_WHALE))
        pos++;
    return pos;
}

static int nw_position(const struct hwi_top5 *t, enum hwi_nw_mode mode, double thr)
{
    switch (mode) {
    case HWI_NW_MAX: return position(t, t->has_nw && t->nw > thr ? t->nw : thr);
    case HWI_NW_ADD: return position(t, thr + (t->has_nw ? t->nw : 0));
    default: return t->has_nw ? position(t, t->nw) : -1;
    }
}

int hwi_top5_predict(const struct hwi_top5 *t, enum hwi_nw_mode mode, double thr,
                     const char *const *pad, size_t npad, const char **out)
{
    return build(t, nw_position(t, mode, thr), pad, npad, out);
}

char *hwi_thresh_format(char *buf, size_t size, double thr)
{
    snprintf(buf, size, "%.9g", thr);
    if (strtod(buf, NULL) != thr)
        snprintf(buf, size, "%.17g", thr);
    return buf;
}

double hwi_top5_map5(const struct hwi_top5 *t, const char *const *truth, size_t n,
                     enum hwi_nw_mode mode, double thr, const char *const *pad,
                     size_t npad)
{
    struct hwi_eval e = {0};
    const char *ids[HWI_TOPK];
    for (size_t q = 0; q < n; q++) {
        int k = hwi_top5_predict(&t[q], mode, thr, pad, npad, ids);
        hwi_eval_add(&e, truth[q], (char *const *)ids, k);
    }
    return hwi_eval_map5(&e);
}

/* AP of query T with new_whale at each position 0..k, in 1/60ths. */
static void ap_table(const struct hwi_top5 *t, const char *truth, const char *const *pad,
                     size_t npad, int *a)
{
    const char *ids[HWI_TOPK];
    for (int pos = 0; pos <= t->k; pos++) {
        int n = build(t, pos, pad, npad, ids);
        a[pos] = (int)lround(60 * hwi_map5_one(truth, (char *const *)ids, n));
    }
}

/* The number with the fewest significant digits strictly between LO and
 * HI, nearest their middle; the middle itself if none is shorter. */
static double short_between(double lo, double hi)
{
    double mid = lo + 0.5 * (hi - lo);
    /* keep clear of rounding noise around the ends */
    lo += 1e-9 * fmax(1.0, fabs(lo));
    hi -= 1e-9 * fmax(1.0, fabs(hi));
    for (int d = 1; d <= 17; d++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*g", d, mid);
        double r = strtod(buf, NULL);
        if (r > lo && r < hi)
            return r;
    }
    return mid;
}

struct event {
    double at;     /* threshold where the change happens */
    int delta;     /* change of the summed AP (1/60ths) once T passes AT */
};

static int by_at(const void *a, const void *b)
{
    double x = ((const struct event *)a)->at, y = ((const struct event *)b)->at;
    return x < y ? -1 : x > y;
}

/* Exact search: see the top of this file. */
static int exact_search(const struct hwi_top5 *t, const char *const *truth, size_t n,
                        enum hwi_nw_mode mode, const char *const *pad, size_t npad,
                        double *thr, char *err)
{
    struct event *ev = malloc((n * HWI_TOPK + 1) * sizeof *ev);
    if (!ev)
        return hwi_seterr(err, "out of memory");
    size_t ne = 0;
    long long base = 0;
    for (size_t q = 0; q < n; q++) {
        int a[HWI_TOPK + 1];
        ap_table(&t[q], truth[q], pad, npad, a);
        int p0 = t[q].k;
        double shift = 0;
        if (mode == HWI_NW_MAX && t[q].has_nw)
            p0 = position(&t[q], t[q].nw);
        if (mode == HWI_NW_ADD && t[q].has_nw)
            shift = t[q].nw;
        base += a[p0];
        /* passing s_i (i < p0) moves new_whale from i + 1 to i */
        for (int i = 0; i < p0; i++)
            if (a[i] != a[i + 1])
                ev[ne++] = (struct event){t[q].score[i] - shift, a[i] - a[i + 1]};
    }
    qsort(ev, ne, sizeof *ev, by_at);
    /* intervals: (-inf, v1), (v1, v2), ..., (vm, +inf) over distinct v */
    long long best = base, cur = base;
    double lo = -INFINITY, hi = ne ? ev[0].at : INFINITY; /* best run */
    int in_run = 1;
    for (size_t e = 0; e < ne;) {
        /* values closer than rounding noise (s_i - n under HWI_NW_ADD) are
         * one step: no threshold could fall between them reliably */
        double v = ev[e].at, eps = 1e-9 * fmax(1.0, fabs(v));
        while (e < ne && ev[e].at - v <= eps) {
            v = ev[e].at > v ? ev[e].at : v;
            cur += ev[e++].delta;
        }
        double next = e < ne ? ev[e].at : INFINITY;
        if (cur > best) {
            best = cur;
            lo = v;
            hi = next;
            in_run = 1;
        } else if (cur == best && in_run) {
            hi = next; /* the run of best intervals goes on */
        } else {
            in_run = 0;
        }
    }
    double vmin = ne ? ev[0].at : 0, vmax = ne ? ev[ne - 1].at : 0;
    double margin = fmax(0.5 * (vmax - vmin), 0.5);
    if (isinf(lo) && isinf(hi))
        *thr = 0;
    else if (isinf(lo))
        *thr = short_between(hi - 2 * margin, hi);
    else if (isinf(hi))
        *thr = short_between(lo, lo + 2 * margin);
    else
        *thr = short_between(lo, hi);
    /* a run of best intervals may hold steps that change nothing in sum
     * but where a tie would: never pick one of those */
    for (size_t e = 0; e < ne; e++) {
        double v = ev[e].at, eps = 1e-9 * fmax(1.0, fabs(v));
        if (fabs(v - *thr) > eps)
            continue;
        while (e < ne && ev[e].at - v <= eps)
            v = ev[e++].at;
        *thr = short_between(v, e < ne && ev[e].at < hi ? ev[e].at : hi);
        break;
    }
    free(ev);
    return 0;
}

int hwi_thresh_search(const struct hwi_top5 *t, const char *const *truth, size_t n,
                      enum hwi_nw_mode mode, const char *const *pad, size_t npad,
                      const double *grid, size_t ngrid, double *thr, double *map5,
                      char *err)
{
    if (mode == HWI_NW_NONE) {
        *thr = 0;
    } else if (!grid) {
        if (exact_search(t, truth, n, mode, pad, npad, thr, err))
            return -1;
    } else {
        int *a = malloc(n * (HWI_TOPK + 1) * sizeof *a);
        if (!a)
            return hwi_seterr(err, "out of memory");
        for (size_t q = 0; q < n; q++)
            ap_table(&t[q], truth[q], pad, npad, a + q * (HWI_TOPK + 1));
        long long best = -1;
        for (size_t g = 0; g < ngrid; g++) {
            long long sum = 0;
            for (size_t q = 0; q < n; q++)
                sum += a[q * (HWI_TOPK + 1) + nw_position(&t[q], mode, grid[g])];
            if (sum > best) {
                best = sum;
                *thr = grid[g];
            }
        }
        free(a);
    }
    *map5 = hwi_top5_map5(t, truth, n, mode, *thr, pad, npad);
    return 0;
}

/* qsort_r context for hwi_rank_order. */
struct rank_ctx {
    const double *score;
    const char *const *label;
};

static int by_rank(const void *a, const void *b, void *arg)
{
    const struct rank_ctx *c = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (c->score[i] != c->score[j])
        return c->score[i] > c->score[j] ? -1 : 1;
    return strcmp(c->label[i], c->label[j]);
}

int hwi_rank_order(const double *score, const char *const *label, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    struct rank_ctx c = {score, label};
    qsort_r(idx, n, sizeof *idx, by_rank, &c);
    return 0;
}

/* ------------------------------------------------------------------------
 * Reading inputs. */

void hwi_fuse_input_open(struct hwi_fuse_input *in, FILE *fp, const char *name,
                         int check_sorted)
{
    memset(in, 0, sizeof *in);
    hwi_groups_open(&in->groups, fp, name);
    in->check_sorted = check_sorted;
}

int hwi_fuse_input_next(struct hwi_fuse_input *in, struct hwi_labelset *ls, char *err)
{
    in->have = 0;
    int rc = hwi_groups_next(&in->groups, &in->grp);
    if (rc < 0)
        return hwi_seterr(err, "%s", in->groups.tsv.err);
    if (rc == 0)
        return 0;
    const char *name = in->groups.tsv.name;
    if (in->check_sorted && in->prev && strcmp(in->prev, in->grp.query) > 0)
        return hwi_seterr(err,
                          "%s:%ld: query '%s' comes after '%s': inputs must be sorted by "
                          "query (LC_ALL=C sort -s -t \"$(printf '\\t')\" -k1,1), or use "
                          "--unsorted",
                          name, in->grp.line, in->grp.query, in->prev);
    free(in->prev);
    if (!(in->prev = strdup(in->grp.query)))
        return hwi_seterr(err, "out of memory");
    in->c.n = 0;
    for (size_t k = 0; k < in->grp.n; k++) {
        size_t id;
        double s = in->grp.score[k];
        if (fabs(s) > FLT_MAX)
            return hwi_seterr(err, "%s:%ld: query '%s': score %g of '%s' is beyond float range",
                              name, in->grp.line, in->grp.query, s, in->grp.label[k]);
        if (hwi_labelset_id(ls, in->grp.label[k], &id) ||
            hwi_cands_add(&in->c, id, (float)s))
            return hwi_seterr(err, "out of memory");
    }
    in->have = 1;
    return 1;
}

void hwi_fuse_input_close(struct hwi_fuse_input *in)
{
    hwi_groups_close(&in->groups);
    hwi_group_free(&in->grp);
    hwi_cands_free(&in->c);
    free(in->prev);
    in->prev = NULL;
}

/* ------------------------------------------------------------------------
 * Fit sets. */

/* One input read whole. */
struct table {
    size_t n, cap;
    char **query;
    long *line;
    struct hwi_cands *c;
    struct hwi_map index; /* query -> row */
};

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->query[i]);
        hwi_cands_free(&t->c[i]);
    }
    free(t->query);
    free(t->line);
    free(t->c);
    hwi_map_free(&t->index);
}

static int table_read(struct table *t, struct hwi_fuse_input *in, struct hwi_labelset *ls,
                      char *err)
{
    int rc;
    while ((rc = hwi_fuse_input_next(in, ls, err)) == 1) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 256;
            char **q = realloc(t->query, cap * sizeof *q);
            if (q)
                t->query = q;
            long *l = realloc(t->line, cap * sizeof *l);
            if (l)
                t->line = l;
            struct hwi_cands *c = realloc(t->c, cap * sizeof *c);
            if (c)
                t->c = c;
            if (!q || !l || !c)
                return hwi_seterr(err, "out of memory");
            t->cap = cap;
        }
        /* take the group's candidates over, leave the reader a fresh list */
        t->c[t->n] = in->c;
        memset(&in->c, 0, sizeof in->c);
        t->line[t->n] = in->grp.line;
        if (!(t->query[t->n] = strdup(in->grp.query))) {
            hwi_cands_free(&t->c[t->n]);
            return hwi_seterr(err, "out of memory");
        }
        t->n++;
        if (hwi_map_put(&t->index, in->grp.query, t->n - 1, NULL) < 0)
            return hwi_seterr(err, "out of memory");
    }
    return rc;
}

static int fitset_append(struct hwi_fitset *fs, const struct hwi_join *j, const char *query,
                         const char *src, long line, char *err)
{
    size_t nin = fs->nin;
    if (fs->nq == fs->qcap) {
        size_t cap = fs->qcap ? 2 * fs->qcap : 256;
        char **q = realloc(fs->query, cap * sizeof *q);
        if (q)
            fs->query = q;
        const char **s = realloc(fs->src, cap * sizeof *s);
        if (s)
            fs->src = s;
        long *l = realloc(fs->line, cap * sizeof *l);
        if (l)
            fs->line = l;
        size_t *o = realloc(fs->off, (cap + 1) * sizeof *o);
        if (o)
            fs->off = o;
        float *m = realloc(fs->miss, cap * nin * sizeof *m);
        if (m)
            fs->miss = m;
        if (!q || !s || !l || !o || !m)
            return hwi_seterr(err, "out of memory");
        if (!fs->qcap)
            fs->off[0] = 0;
        fs->qcap = cap;
    }
    size_t at = fs->off[fs->nq], need = at + j->nu;
    if (need > fs->vcap) {
        size_t cap = fs->vcap ? fs->vcap : 4096;
        while (cap < need)
            cap *= 2;
        size_t *u = realloc(fs->uid, cap * sizeof *u);
        if (u)
            fs->uid = u;
        float *v = realloc(fs->val, cap * nin * sizeof *v);
        if (v)
            fs->val = v;
        if (!u || !v)
            return hwi_seterr(err, "out of memory");
        fs->vcap = cap;
    }
    if (!(fs->query[fs->nq] = strdup(query)))
        return hwi_seterr(err, "out of memory");
    memcpy(fs->uid + at, j->uid, j->nu * sizeof *j->uid);
    memcpy(fs->val + at * nin, j->val, j->nu * nin * sizeof *j->val);
    memcpy(fs->miss + fs->nq * nin, j->miss, nin * sizeof *j->miss);
    fs->src[fs->nq] = src;
    fs->line[fs->nq] = line;
    fs->off[++fs->nq] = need;
    return 0;
}

int hwi_fitset_load(struct hwi_fitset *fs, struct hwi_fuse_input *in, size_t nin,
                    const char *const *names, struct hwi_labelset *ls,
                    const struct hwi_missing *m, char *err)
{
    memset(fs, 0, sizeof *fs);
    fs->nin = nin;
    int rc = -1;
    struct table *tab = calloc(nin, sizeof *tab);
    const struct hwi_cands **c = calloc(nin, sizeof *c);
    struct hwi_map seen = {0};
    struct hwi_join j;
    hwi_join_init(&j, nin);
    fs->absent = calloc(nin, sizeof *fs->absent);
    if (!tab || !c || !(fs->has_nw = calloc(nin, sizeof *fs->has_nw)) || !fs->absent) {
        hwi_seterr(err, "out of memory");
        goto out;
    }
    size_t nw_id;
    if (hwi_labelset_id(ls, HWI_NEW_WHALE, &nw_id)) {
        hwi_seterr(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nin; i++)
        if (table_read(&tab[i], &in[i], ls, err) < 0)
            goto out;
    for (size_t i = 0; i < nin; i++) {
        for (size_t r = 0; r < tab[i].n; r++) {
            const char *query = tab[i].query[r];
            int put = hwi_map_put(&seen, query, 0, NULL);
            if (put < 0) {
                hwi_seterr(err, "out of memory");
                goto out;
            }
            if (put == 0)
                continue;
            for (size_t x = 0; x < nin; x++) {
                size_t *row = x < i ? NULL : hwi_map_get(&tab[x].index, query);
                c[x] = row ? &tab[x].c[*row] : NULL;
                fs->absent[x] += !row;
            }
            if (hwi_join_query(&j, c, m, ls, nw_id, query, names, err) ||
                fitset_append(fs, &j, query, names[i], tab[i].line[r], err))
                goto out;
        }
    }
    for (size_t q = 0; q < fs->nq; q++)
        for (size_t u = fs->off[q]; u < fs->off[q + 1]; u++)
            if (fs->uid[u] == nw_id)
                for (size_t i = 0; i < nin; i++)
                    fs->has_nw[i] |= !isnan(fs->val[u * nin + i]);
    rc = 0;
out:
    for (size_t i = 0; tab && i < nin; i++)
        table_free(&tab[i]);
    free(tab);
    free(c);
    hwi_map_free(&seen);
    hwi_join_free(&j);
    return rc;
}

int hwi_fitset_truth(struct hwi_fitset *fs, const struct hwi_labels *t, const char *tname,
                     char *err)
{
    struct hwi_map idx = {0};
    if (hwi_labels_index(t, &idx))
        return hwi_seterr(err, "out of memory");
    free(fs->truth);
    if (!(fs->truth = malloc((fs->nq ? fs->nq : 1) * sizeof *fs->truth))) {
        hwi_map_free(&idx);
        return hwi_seterr(err, "out of memory");
    }
    for (size_t q = 0; q < fs->nq; q++) {
        size_t *i = hwi_map_get(&idx, fs->query[q]);
        if (!i) {
            hwi_seterr(err, "%s: no label for query '%s' (%s:%ld)", tname, fs->query[q],
                       fs->src[q], fs->line[q]);
            hwi_map_free(&idx);
            return -1;
        }
        fs->truth[q] = t->id[*i];
    }
    hwi_map_free(&idx);
    return 0;
}

void hwi_fitset_free(struct hwi_fitset *fs)
{
    for (size_t q = 0; q < fs->nq; q++)
        free(fs->query[q]);
    free(fs->query);
    free(fs->src);
    free(fs->line);
    free(fs->off);
    free(fs->uid);
    free(fs->val);
    free(fs->miss);
    free(fs->has_nw);
    free(fs->absent);
    free(fs->truth);
    memset(fs, 0, sizeof *fs);
}

void hwi_fitset_top5(const struct hwi_fitset *fs, size_t q, const struct hwi_weights *wt,
                     const struct hwi_labelset *ls, size_t nw_id, double *work,
                     struct hwi_top5 *t)
{
    size_t a = fs->off[q], nu = fs->off[q + 1] - a;
    hwi_fuse_scores(wt, nw_id, fs->uid + a, fs->val + a * fs->nin, fs->miss + q * fs->nin,
                    nu, work);
    hwi_top5_init(t);
    for (size_t u = 0; u < nu; u++) {
        if (isnan(work[u]))
            continue;
        size_t id = fs->uid[a + u];
        if (id == nw_id) {
            t->has_nw = 1;
            t->nw = work[u];
        } else if (t->k < HWI_TOPK || work[u] >= t->score[HWI_TOPK - 1]) {
            hwi_top5_push(t, ls->name[id], work[u]);
        }
    }
}

/* ------------------------------------------------------------------------
 * Logits. */

int hwi_logits_columns(struct hwi_stream *s, struct hwi_labelset *ls, size_t *lid,
                       char *err)
{
    if (!(s->flags & HWI_STREAM_KEYED))
        return hwi_seterr(err, "%s: records have no keys: a logits stream needs the query "
                          "(image) names as keys", s->name);
    if (!s->names)
        return hwi_seterr(err, "%s: no column names: a logits stream needs the class "
                          "labels as column names", s->name);
    for (uint32_t i = 0; i < s->dim; i++) {
        size_t id;
        if (hwi_labelset_id(ls, s->names[i], &id))
            return hwi_seterr(err, "out of memory");
        for (uint32_t k = 0; k < i; k++)
            if (lid[k] == id)
                return hwi_seterr(err, "%s: column name '%s' appears twice (columns %u and %u)",
                                  s->name, s->names[i], k + 1, i + 1);
        lid[i] = id;
    }
    return 0;
}

int hwi_logits_load(struct hwi_logits *lg, struct hwi_stream *s, char *err)
{
    struct hwi_map keys = {0};
    int rc;
    lg->dim = s->dim;
    while ((rc = hwi_stream_read(s)) == 1) {
        int put = hwi_map_put(&keys, s->key, 0, NULL);
        if (put == 0) {
            hwi_map_free(&keys);
            return hwi_seterr(err, "%s: record %llu: key '%s' appears twice", s->name,
                              (unsigned long long)s->nrec, s->key);
        }
        if (lg->nq == lg->qcap) {
            size_t cap = lg->qcap ? 2 * lg->qcap : 256;
            char **k = realloc(lg->key, cap * sizeof *k);
            if (k)
                lg->key = k;
            float *z = realloc(lg->z, cap * lg->dim * sizeof *z);
            if (z)
                lg->z = z;
            if (!k || !z || put < 0) {
                hwi_map_free(&keys);
                return hwi_seterr(err, "out of memory");
            }
            lg->qcap = cap;
        }
        if (!(lg->key[lg->nq] = strdup(s->key))) {
            hwi_map_free(&keys);
            return hwi_seterr(err, "out of memory");
        }
        memcpy(lg->z + lg->nq * lg->dim, s->vec, lg->dim * sizeof *lg->z);
        lg->nq++;
    }
    hwi_map_free(&keys);
    if (rc < 0)
        return hwi_seterr(err, "%s", s->err);
    return 0;
}

int hwi_logits_truth(struct hwi_logits *lg, const struct hwi_labels *t, const char *tname,
                     const char *sname, char *err)
{
    struct hwi_map idx = {0};
    if (hwi_labels_index(t, &idx))
        return hwi_seterr(err, "out of memory");
    free(lg->truth);
    if (!(lg->truth = malloc((lg->nq ? lg->nq : 1) * sizeof *lg->truth))) {
        hwi_map_free(&idx);
        return hwi_seterr(err, "out of memory");
    }
    for (size_t q = 0; q < lg->nq; q++) {
        size_t *i = hwi_map_get(&idx, lg->key[q]);
        if (!i) {
            hwi_seterr(err, "%s: no label for query '%s' (%s: record %zu)", tname,
                       lg->key[q], sname, q + 1);
            hwi_map_free(&idx);
            return -1;
        }
        lg->truth[q] = t->id[*i];
    }
    hwi_map_free(&idx);
    return 0;
}

void hwi_logits_free(struct hwi_logits *lg)
{
    for (size_t q = 0; q < lg->nq; q++)
        free(lg->key[q]);
    free(lg->key);
    free(lg->z);
    free(lg->lid);
    free(lg->truth);
    memset(lg, 0, sizeof *lg);
}

void hwi_logits_top5(const struct hwi_logits *lg, size_t q, double c,
                     const struct hwi_labelset *ls, double *work, struct hwi_top5 *t)
{
    hwi_softmax(work, lg->z + q * lg->dim, lg->dim, c);
    hwi_top5_init(t);
    for (size_t i = 0; i < lg->dim; i++)
        hwi_top5_push(t, ls->name[lg->lid[i]], work[i]);
}
