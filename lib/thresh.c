/* thresh.c: new_whale placement, the threshold search, the padding rule and
 * the fit report (see thresh.h for the rules and contracts).
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

#include "thresh.h"

#include "map.h"

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
    t->nw_photo = NULL;
}

void hwi_top5_push(struct hwi_top5 *t, const char *label, double score)
{
    hwi_top5_push_photo(t, label, score, NULL);
}

void hwi_top5_push_photo(struct hwi_top5 *t, const char *label, double score,
                         const char *photo)
{
    if (!strcmp(label, HWI_NEW_WHALE)) {
        t->has_nw = 1;
        t->nw = score;
        t->nw_photo = photo;
        return;
    }
    if (t->k == HWI_TOPK &&
        !before(score, label, t->score[HWI_TOPK - 1], t->label[HWI_TOPK - 1]))
        return;
    int i = t->k < HWI_TOPK ? t->k++ : HWI_TOPK - 1;
    for (; i > 0 && before(score, label, t->score[i - 1], t->label[i - 1]); i--) {
        t->score[i] = t->score[i - 1];
        t->label[i] = t->label[i - 1];
        t->photo[i] = t->photo[i - 1];
    }
    t->score[i] = score;
    t->label[i] = label;
    t->photo[i] = photo;
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

double hwi_top5_nw_score(const struct hwi_top5 *t, enum hwi_nw_mode mode, double thr,
                         const char **photo)
{
    int own = t->has_nw && (mode == HWI_NW_NONE || (mode == HWI_NW_MAX && t->nw > thr));
    *photo = own ? t->nw_photo : NULL;
    switch (mode) {
    case HWI_NW_MAX: return own ? t->nw : thr;
    case HWI_NW_ADD: return thr + (t->has_nw ? t->nw : 0);
    default: return t->nw;
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
                     enum hwi_nw_mode mode, double thr, const char *const *pad, size_t npad)
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
    double at; /* threshold where the change happens */
    int delta; /* change of the summed AP (1/60ths) once T passes AT */
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
                      const double *grid, size_t ngrid, double *thr, double *map5, char *err)
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
/* ------------------------------------------------------------------------
 * Padding. */

struct count {
    const char *label;
    size_t first, top;
};

static int by_count(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    if (x->first != y->first)
        return x->first > y->first ? -1 : 1;
    if (x->top != y->top)
        return x->top > y->top ? -1 : 1;
    return strcmp(x->label, y->label);
}

int hwi_thresh_default_pad(const struct hwi_top5 *t, size_t n, const char **pad, size_t max,
                           size_t *npad, char *err)
{
    struct hwi_map idx = {0};
    struct count *c = calloc(n * HWI_TOPK + 1, sizeof *c);
    size_t nc = 0;
    int rc = 0;
    if (!c)
        return hwi_seterr(err, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        for (int k = 0; k < t[i].k; k++) {
            size_t old;
            int put = hwi_map_put(&idx, t[i].label[k], nc, &old);
            if (put < 0) {
                rc = hwi_seterr(err, "out of memory");
                break;
            }
            if (put) {
                c[nc].label = t[i].label[k];
                old = nc++;
            }
            c[old].first += k == 0;
            c[old].top++;
        }
    }
    if (rc == 0) {
        qsort(c, nc, sizeof *c, by_count);
        *npad = nc < max ? nc : max;
        for (size_t i = 0; i < *npad; i++)
            pad[i] = c[i].label;
    }
    free(c);
    hwi_map_free(&idx);
    return rc;
}

/* ------------------------------------------------------------------------
 * The fit report. */

void hwi_thresh_report_head(FILE *fp)
{
    fputs("# stage\tqueries\tmap5\tthreshold\tmap5_nw\toptions\n", fp);
}

void hwi_thresh_report_line(FILE *fp, const char *stage, size_t nq, double map5,
                            enum hwi_nw_mode mode, double thr, double map5_nw,
                            const char *options)
{
    fprintf(fp, "%s\t%zu\t%.6f\t", stage, nq, map5);
    if (mode == HWI_NW_NONE) {
        fputs("-\t-\t", fp);
    } else {
        char buf[64];
        fputs(hwi_thresh_format(buf, sizeof buf, thr), fp);
        fprintf(fp, "\t%.6f\t", map5_nw);
    }
    fprintf(fp, "%s\n", options);
}
