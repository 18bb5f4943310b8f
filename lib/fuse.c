/* fuse.c: fusing scores and fitting the fusion on validation (see fuse.h
 * for the formulas and contracts). */
#include <config.h>

#include "fuse.h"

#include "opt.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        size_t *p = realloc(c->pid, cap * sizeof *p);
        if (!p)
            return -1;
        c->pid = p;
        c->cap = cap;
    }
    c->id[c->n] = id;
    c->pid[c->n] = HWI_NO_PHOTO;
    c->score[c->n++] = score;
    return 0;
}

void hwi_cands_free(struct hwi_cands *c)
{
    free(c->id);
    free(c->score);
    free(c->pid);
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
    free(j->pid);
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
    size_t *p = realloc(j->pid, cap * j->nin * sizeof *p);
    if (!p)
        return -1;
    j->pid = p;
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
                for (size_t x = 0; x < nin; x++) {
                    j->val[(size_t)u * nin + x] = NAN;
                    j->pid[(size_t)u * nin + x] = HWI_NO_PHOTO;
                }
            }
            j->val[(size_t)u * nin + i] = c->score[k];
            j->pid[(size_t)u * nin + i] = c->pid[k];
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
                        return hwi_seterr(err,
                                          "query '%s' is in %s but not in %s "
                                          "(--missing=error)",
                                          query, names[other], names[i]);
                    return hwi_seterr(err,
                                      "query '%s': label '%s' is in %s but not in %s "
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
 * The softmax limit (see fuse.h). */

int hwi_keep_load(struct hwi_keep *kp, FILE *fp, const char *name,
                  const struct hwi_labelset *ls, const size_t *lid, size_t dim, char *err)
{
    int rc = -1;
    size_t *colof = malloc((ls->n ? ls->n : 1) * sizeof *colof); /* label id -> column */
    size_t *cap = NULL, qcap = 0;
    struct hwi_tsv r;
    hwi_tsv_open(&r, fp, name);
    memset(kp, 0, sizeof *kp);
    if (!colof)
        goto oom;
    for (size_t i = 0; i < ls->n; i++)
        colof[i] = SIZE_MAX;
    for (size_t i = 0; i < dim; i++)
        colof[lid[i]] = i;
    int got;
    while ((got = hwi_tsv_next(&r)) == 1) {
        size_t *id = hwi_map_get(&ls->map, r.label);
        if (!id || colof[*id] == SIZE_MAX)
            continue; /* not a class of the logits */
        size_t old, q = kp->nq;
        int put = hwi_map_put(&kp->map, r.query, q, &old);
        if (put < 0)
            goto oom;
        if (put == 0) {
            q = old;
        } else {
            if (kp->nq == qcap) {
                size_t nc = qcap ? 2 * qcap : 256;
                size_t **vc = realloc(kp->col, nc * sizeof *vc);
                if (vc)
                    kp->col = vc;
                size_t *vn = realloc(kp->n, nc * sizeof *vn);
                if (vn)
                    kp->n = vn;
                size_t *vp = realloc(cap, nc * sizeof *vp);
                if (vp)
                    cap = vp;
                if (!vc || !vn || !vp)
                    goto oom;
                qcap = nc;
            }
            kp->col[q] = NULL;
            kp->n[q] = 0;
            cap[q] = 0;
            kp->nq++;
        }
        if (kp->n[q] == cap[q]) {
            size_t nc = cap[q] ? 2 * cap[q] : 16;
            size_t *v = realloc(kp->col[q], nc * sizeof *v);
            if (!v)
                goto oom;
            kp->col[q] = v;
            cap[q] = nc;
        }
        kp->col[q][kp->n[q]++] = colof[*id];
    }
    if (got < 0) {
        snprintf(err, HWI_ERRLEN, "%s", r.err);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    hwi_seterr(err, "out of memory");
out:
    hwi_tsv_close(&r);
    free(colof);
    free(cap);
    if (rc)
        hwi_keep_free(kp);
    return rc;
}

const size_t *hwi_keep_get(const struct hwi_keep *kp, const char *query, size_t *n)
{
    size_t *q = hwi_map_get(&kp->map, query);
    *n = q ? kp->n[*q] : 0;
    return q ? kp->col[*q] : NULL;
}

void hwi_keep_free(struct hwi_keep *kp)
{
    for (size_t q = 0; q < kp->nq; q++)
        free(kp->col[q]);
    free(kp->col);
    free(kp->n);
    hwi_map_free(&kp->map);
    memset(kp, 0, sizeof *kp);
}

void hwi_softmax_limit(double *p, const char *const *label, size_t n, size_t top,
                       const size_t *keep, size_t nkeep, size_t *idx, unsigned char *mark)
{
    if (top == 0 || top >= n)
        return;
    hwi_rank_order(p, label, n, idx);
    memset(mark, 0, n);
    for (size_t r = 0; r < top; r++)
        mark[idx[r]] = 1;
    for (size_t j = 0; j < nkeep; j++)
        mark[keep[j]] = 1;
    for (size_t i = 0; i < n; i++)
        if (!mark[i])
            p[i] = NAN;
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
            return hwi_seterr(err,
                              "%s:%ld: query '%s': score %g of '%s' is beyond float range",
                              name, in->grp.line, in->grp.query, s, in->grp.label[k]);
        if (hwi_labelset_id(ls, in->grp.label[k], &id) ||
            hwi_cands_add(&in->c, id, (float)s) ||
            (in->grp.photo[k] &&
             hwi_labelset_id(ls, in->grp.photo[k], &in->c.pid[in->c.n - 1])))
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
        size_t *p = realloc(fs->pid, cap * nin * sizeof *p);
        if (p)
            fs->pid = p;
        if (!u || !v || !p)
            return hwi_seterr(err, "out of memory");
        fs->vcap = cap;
    }
    if (!(fs->query[fs->nq] = strdup(query)))
        return hwi_seterr(err, "out of memory");
    memcpy(fs->uid + at, j->uid, j->nu * sizeof *j->uid);
    memcpy(fs->val + at * nin, j->val, j->nu * nin * sizeof *j->val);
    memcpy(fs->pid + at * nin, j->pid, j->nu * nin * sizeof *j->pid);
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

/* Look up the truth of KEY[0..n) in T into *TRUTH (allocated).  Returns 0;
 * or -1, with *BAD the first key without a label (ERR not set) or *BAD = N
 * and ERR set. */
static int join_truth(const char ***truth, const struct hwi_labels *t, const char *const *key,
                      size_t n, size_t *bad, char *err)
{
    size_t *row = malloc((n ? n : 1) * sizeof *row);
    free(*truth);
    *truth = malloc((n ? n : 1) * sizeof **truth);
    *bad = n;
    if (!row || !*truth) {
        free(row);
        return hwi_seterr(err, "out of memory");
    }
    if (hwi_labels_rows(t, key, n, row, bad, err)) {
        free(row);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        (*truth)[i] = t->id[row[i]];
    free(row);
    return 0;
}

int hwi_fitset_truth(struct hwi_fitset *fs, const struct hwi_labels *t, const char *tname,
                     char *err)
{
    size_t q;
    if (join_truth(&fs->truth, t, (const char *const *)fs->query, fs->nq, &q, err) == 0)
        return 0;
    if (q < fs->nq)
        hwi_seterr(err, "%s: no label for query '%s' (%s:%ld)", tname, fs->query[q],
                   fs->src[q], fs->line[q]);
    return -1;
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
    free(fs->pid);
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
    hwi_fuse_scores(wt, nw_id, fs->uid + a, fs->val + a * fs->nin, fs->miss + q * fs->nin, nu,
                    work);
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

int hwi_logits_columns(struct hwi_stream *s, struct hwi_labelset *ls, size_t *lid, char *err)
{
    if (!(s->flags & HWI_STREAM_KEYED))
        return hwi_seterr(err,
                          "%s: records have no keys: a logits stream needs the query "
                          "(image) names as keys",
                          s->name);
    if (!s->names)
        return hwi_seterr(err,
                          "%s: no column names: a logits stream needs the class "
                          "labels as column names",
                          s->name);
    for (uint32_t i = 0; i < s->dim; i++) {
        size_t id;
        if (hwi_labelset_id(ls, s->names[i], &id))
            return hwi_seterr(err, "out of memory");
        for (uint32_t k = 0; k < i; k++)
            if (lid[k] == id)
                return hwi_seterr(err,
                                  "%s: column name '%s' appears twice (columns %u and %u)",
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
    size_t q;
    if (join_truth(&lg->truth, t, (const char *const *)lg->key, lg->nq, &q, err) == 0)
        return 0;
    if (q < lg->nq)
        hwi_seterr(err, "%s: no label for query '%s' (%s: record %zu)", tname, lg->key[q],
                   sname, q + 1);
    return -1;
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

/* ------------------------------------------------------------------------
 * Merge-joining sorted inputs. */

int hwi_fuse_overlap(unsigned char *const *seen, size_t nin, size_t nlab, size_t nw_id,
                     const char *const *names, char *err)
{
    for (size_t i = 1; i < nin; i++) {
        int any0 = 0, anyi = 0, both = 0;
        for (size_t l = 0; l < nlab && !both; l++) {
            if (l == nw_id)
                continue;
            any0 |= seen[0][l];
            anyi |= seen[i][l];
            both |= seen[0][l] && seen[i][l];
        }
        if (any0 && anyi && !both)
            return hwi_seterr(err, "%s and %s have no label in common: mismatched label sets",
                              names[0], names[i]);
    }
    return 0;
}

int hwi_fuse_merge_open(struct hwi_fuse_merge *m, struct hwi_fuse_input *in, size_t nin,
                        const char *const *names, struct hwi_labelset *ls, char *err)
{
    memset(m, 0, sizeof *m);
    m->in = in;
    m->nin = nin;
    m->names = names;
    m->ls = ls;
    m->c = calloc(nin, sizeof *m->c);
    m->absent = calloc(nin, sizeof *m->absent);
    m->seen = calloc(nin, sizeof *m->seen);
    if (!m->c || !m->absent || !m->seen)
        return hwi_seterr(err, "out of memory");
    if (hwi_labelset_id(ls, HWI_NEW_WHALE, &m->nw_id))
        return hwi_seterr(err, "out of memory");
    for (size_t i = 0; i < nin; i++)
        if (hwi_fuse_input_next(&in[i], ls, err) < 0)
            return -1;
    return 0;
}

/* Mark the labels of C as seen in input I, growing the marks to NLAB. */
static int mark_seen(struct hwi_fuse_merge *m, size_t i, const struct hwi_cands *c,
                     size_t nlab)
{
    if (nlab > m->seencap) {
        size_t ncap = m->seencap ? m->seencap : 1024;
        while (ncap < nlab)
            ncap *= 2;
        for (size_t x = 0; x < m->nin; x++) {
            unsigned char *p = realloc(m->seen[x], ncap);
            if (!p)
                return -1;
            memset(p + m->seencap, 0, ncap - m->seencap);
            m->seen[x] = p;
        }
        m->seencap = ncap;
    }
    for (size_t k = 0; k < c->n; k++)
        m->seen[i][c->id[k]] = 1;
    return 0;
}

int hwi_fuse_merge_next(struct hwi_fuse_merge *m, char *err)
{
    /* move the inputs that gave the previous query on */
    for (size_t i = 0; i < m->nin; i++)
        if (m->c[i] && hwi_fuse_input_next(&m->in[i], m->ls, err) < 0)
            return -1;
    const char *min = NULL;
    for (size_t i = 0; i < m->nin; i++)
        if (m->in[i].have && (!min || strcmp(m->in[i].grp.query, min) < 0))
            min = m->in[i].grp.query;
    if (!min) {
        memset(m->c, 0, m->nin * sizeof *m->c);
        size_t n = m->seencap < m->ls->n ? m->seencap : m->ls->n;
        return hwi_fuse_overlap(m->seen, m->nin, n, m->nw_id, m->names, err);
    }
    free(m->query);
    if (!(m->query = strdup(min)))
        return hwi_seterr(err, "out of memory");
    for (size_t i = 0; i < m->nin; i++) {
        m->c[i] = m->in[i].have && !strcmp(m->in[i].grp.query, m->query) ? &m->in[i].c : NULL;
        if (!m->c[i])
            m->absent[i]++;
        else if (mark_seen(m, i, m->c[i], m->ls->n))
            return hwi_seterr(err, "out of memory");
    }
    return 1;
}

void hwi_fuse_merge_close(struct hwi_fuse_merge *m)
{
    for (size_t i = 0; m->seen && i < m->nin; i++)
        free(m->seen[i]);
    free(m->seen);
    free(m->c);
    free(m->absent);
    free(m->query);
    memset(m, 0, sizeof *m);
}

int hwi_fitset_overlap(const struct hwi_fitset *fs, size_t nlab, size_t nw_id,
                       const char *const *names, char *err)
{
    unsigned char **seen = calloc(fs->nin, sizeof *seen);
    int rc = 0;
    if (!seen)
        return hwi_seterr(err, "out of memory");
    for (size_t i = 0; i < fs->nin && rc == 0; i++)
        if (!(seen[i] = calloc(nlab ? nlab : 1, 1)))
            rc = hwi_seterr(err, "out of memory");
    if (rc == 0) {
        for (size_t u = 0; u < fs->off[fs->nq]; u++)
            for (size_t i = 0; i < fs->nin; i++)
                if (!isnan(fs->val[u * fs->nin + i]))
                    seen[i][fs->uid[u]] = 1;
        rc = hwi_fuse_overlap(seen, fs->nin, nlab, nw_id, names, err);
    }
    for (size_t i = 0; i < fs->nin; i++)
        free(seen[i]);
    free(seen);
    return rc;
}

/* ------------------------------------------------------------------------
 * Fitting. */

int hwi_logits_fit(const struct hwi_logits *lg, const struct hwi_labelset *ls,
                   const double *grid, size_t ngrid, enum hwi_nw_mode mode,
                   const double *tgrid, size_t ntgrid, struct hwi_mult_fit *f, char *err)
{
    double *work = malloc((lg->dim ? lg->dim : 1) * sizeof *work);
    struct hwi_top5 *t = malloc((lg->nq ? lg->nq : 1) * sizeof *t);
    int rc = 0;
    if (!work || !t)
        rc = hwi_seterr(err, "out of memory");
    f->c = 1;
    f->map5 = -1;
    f->thr = 0;
    /* c = 1 first (the plain classifier), then the grid */
    for (size_t g = 0; g <= ngrid && rc == 0; g++) {
        double c = g == 0 ? 1 : grid[g - 1], thr, m;
        for (size_t q = 0; q < lg->nq; q++)
            hwi_logits_top5(lg, q, c, ls, work, &t[q]);
        if ((rc = hwi_thresh_search(t, lg->truth, lg->nq, mode, NULL, 0, tgrid, ntgrid, &thr,
                                    &m, err)))
            break;
        if (g == 0) {
            f->map5_1 = m;
            f->thr1 = thr;
            f->ranked = hwi_top5_map5(t, lg->truth, lg->nq, HWI_NW_NONE, 0, NULL, 0);
        } else if (m > f->map5) {
            f->map5 = m;
            f->c = c;
            f->thr = thr;
        }
    }
    free(work);
    free(t);
    return rc;
}

int hwi_fitset_eval(const struct hwi_fitset *fs, const struct hwi_labelset *ls, size_t nw_id,
                    const struct hwi_weights *wt, const struct hwi_fit_opts *o,
                    int want_ranked, struct hwi_fit_score *s, char *err)
{
    size_t most = 1;
    for (size_t q = 0; q < fs->nq; q++)
        if (fs->off[q + 1] - fs->off[q] > most)
            most = fs->off[q + 1] - fs->off[q];
    double *work = malloc(most * sizeof *work);
    struct hwi_top5 *t = malloc((fs->nq ? fs->nq : 1) * sizeof *t);
    int rc = 0;
    s->ranked = s->thr = s->map5 = 0;
    if (!work || !t) {
        rc = hwi_seterr(err, "out of memory");
    } else {
        for (size_t q = 0; q < fs->nq; q++)
            hwi_fitset_top5(fs, q, wt, ls, nw_id, work, &t[q]);
        rc = hwi_thresh_search(t, fs->truth, fs->nq, o->mode, NULL, 0, o->tgrid, o->ntgrid,
                               &s->thr, &s->map5, err);
        if (rc == 0 && want_ranked)
            s->ranked = hwi_top5_map5(t, fs->truth, fs->nq, HWI_NW_NONE, 0, NULL, 0);
    }
    free(work);
    free(t);
    return rc;
}

int hwi_fit_grid_check(const struct hwi_fit_opts *o, size_t nin, double *combos, char *err)
{
    double n = o->search == HWI_FIT_ASCENT ? 0 : 1;
    int nonzero = 0;
    for (size_t i = 0; i < nin; i++) {
        if (o->search == HWI_FIT_ASCENT)
            n += (double)o->nw[i] + (double)(o->v[i] ? o->nv[i] : 0);
        else
            n *= (double)o->nw[i] * (double)(o->v[i] ? o->nv[i] : 1);
        for (size_t k = 0; k < o->nw[i]; k++)
            nonzero |= o->w[i][k] != 0;
    }
    *combos = n;
    if (!nonzero)
        return hwi_seterr(err, "the weight grids hold only zeros: nothing to fuse");
    if (n > HWI_FIT_MAX_COMBOS)
        return hwi_seterr(err, "the weight grids give %.0f combinations, more than %d", n,
                          HWI_FIT_MAX_COMBOS);
    return 0;
}

/* Coordinate ascent from equal weights (see fuse.h); *BEST_M its MAP@5. */
static int fit_ascent(const struct hwi_fitset *fs, const struct hwi_labelset *ls, size_t nw_id,
                      const struct hwi_fit_opts *o, struct hwi_weights *cur,
                      struct hwi_weights *best, double *best_m, char *err)
{
    size_t nin = fs->nin, k = 0;
    struct hwi_fit_score s;
    for (size_t i = 0; i < nin; i++) {
        cur->w[i] = 1;
        cur->v[i] = fs->has_nw[i] ? 1 : 0;
    }
    if (hwi_fitset_eval(fs, ls, nw_id, cur, o, 0, &s, err))
        return -1;
    *best_m = s.map5;
    memcpy(best->w, cur->w, nin * sizeof *cur->w);
    memcpy(best->v, cur->v, nin * sizeof *cur->v);
    for (int round = 0; round < HWI_FIT_MAX_ROUNDS; round++) {
        int moved = 0;
        for (size_t d = 0; d < 2 * nin; d++) {
            size_t i = d / 2;
            int is_v = d % 2;
            if (is_v && !o->v[i])
                continue;
            const double *g = is_v ? o->v[i] : o->w[i];
            size_t ng = is_v ? o->nv[i] : o->nw[i];
            for (size_t x = 0; x < ng; x++) {
                memcpy(cur->w, best->w, nin * sizeof *cur->w);
                memcpy(cur->v, best->v, nin * sizeof *cur->v);
                if (is_v) {
                    cur->v[i] = g[x];
                } else {
                    cur->w[i] = g[x];
                    if (!o->v[i])
                        cur->v[i] = fs->has_nw[i] ? g[x] : 0;
                }
                int any = 0;
                for (size_t y = 0; y < nin; y++)
                    any |= cur->w[y] != 0;
                if (!any || (cur->w[i] == best->w[i] && cur->v[i] == best->v[i]))
                    continue;
                if (o->progress)
                    o->progress(++k, 0, o->arg);
                if (hwi_fitset_eval(fs, ls, nw_id, cur, o, 0, &s, err))
                    return -1;
                if (s.map5 > *best_m) {
                    *best_m = s.map5;
                    memcpy(best->w, cur->w, nin * sizeof *cur->w);
                    memcpy(best->v, cur->v, nin * sizeof *cur->v);
                    moved = 1;
                }
            }
        }
        if (!moved)
            break;
    }
    return 0;
}

int hwi_fitset_fit(const struct hwi_fitset *fs, const struct hwi_labelset *ls, size_t nw_id,
                   const struct hwi_fit_opts *o, struct hwi_weights *best,
                   struct hwi_fit_score *alone, struct hwi_fit_score *fused, char *err)
{
    size_t nin = fs->nin;
    double combos;
    if (hwi_fit_grid_check(o, nin, &combos, err))
        return -1;
    size_t *at = calloc(nin * 2, sizeof *at);
    struct hwi_weights cur = {nin, calloc(nin, sizeof(double)), calloc(nin, sizeof(double))};
    int rc = 0;
    if (!at || !cur.w || !cur.v)
        rc = hwi_seterr(err, "out of memory");

    /* each input alone */
    for (size_t i = 0; i < nin && rc == 0; i++) {
        for (size_t x = 0; x < nin; x++)
            cur.w[x] = cur.v[x] = x == i;
        rc = hwi_fitset_eval(fs, ls, nw_id, &cur, o, 1, &alone[i], err);
    }

    /* the grid, as a mixed-radix counter over (w_i, v_i) */
    double best_m = -1;
    int done = rc != 0 || o->search == HWI_FIT_ASCENT;
    if (rc == 0 && o->search == HWI_FIT_ASCENT)
        rc = fit_ascent(fs, ls, nw_id, o, &cur, best, &best_m, err);
    size_t k = 0;
    while (!done) {
        if (o->progress)
            o->progress(++k, combos, o->arg);
        int any = 0;
        for (size_t i = 0; i < nin; i++) {
            cur.w[i] = o->w[i][at[2 * i]];
            /* an input that never lists new_whale gets new_whale weight 0,
             * so that a missing value cannot make one up there */
            cur.v[i] = o->v[i] ? o->v[i][at[2 * i + 1]] : fs->has_nw[i] ? cur.w[i] : 0;
            any |= cur.w[i] != 0;
        }
        if (any) {
            struct hwi_fit_score s;
            if ((rc = hwi_fitset_eval(fs, ls, nw_id, &cur, o, 0, &s, err)))
                break;
            if (s.map5 > best_m) {
                best_m = s.map5;
                memcpy(best->w, cur.w, nin * sizeof *cur.w);
                memcpy(best->v, cur.v, nin * sizeof *cur.v);
            }
        }
        done = 1;
        for (size_t d = 0; d < 2 * nin && done; d++) {
            size_t lim = d % 2 ? (o->v[d / 2] ? o->nv[d / 2] : 1) : o->nw[d / 2];
            if (++at[d] < lim)
                done = 0;
            else
                at[d] = 0;
        }
    }
    if (rc == 0) {
        /* a lead smaller than that is the noise of the validation set */
        size_t a = 0;
        for (size_t i = 1; i < nin; i++)
            if (alone[i].map5 > alone[a].map5)
                a = i;
        double gain = o->min_gain >= 0 ? o->min_gain : fs->nq ? 1.0 / (double)fs->nq : 0;
        if (best_m < alone[a].map5 + gain)
            for (size_t x = 0; x < nin; x++) {
                best->w[x] = x == a;
                best->v[x] = x == a && fs->has_nw[x]; /* as in the grid */
            }
        rc = hwi_fitset_eval(fs, ls, nw_id, best, o, 1, fused, err);
    }
    free(at);
    free(cur.w);
    free(cur.v);
    return rc;
}

char *hwi_weights_options(const struct hwi_weights *wt)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);
    if (!fp)
        return NULL;
    for (int pass = 0; pass < 2; pass++) {
        const double *v = pass ? wt->v : wt->w;
        fputs(pass ? " --nw-weights=" : "--weights=", fp);
        for (size_t i = 0; i < wt->nin; i++)
            fprintf(fp, i ? ",%.9g" : "%.9g", v[i]);
    }
    if (ferror(fp) | fclose(fp)) {
        free(buf);
        return NULL;
    }
    return buf;
}

size_t hwi_fuse_photo(const struct hwi_weights *wt, int is_nw, const size_t *pid)
{
    for (size_t i = 0; i < wt->nin; i++)
        if ((is_nw ? wt->v[i] : wt->w[i]) != 0 && pid[i] != HWI_NO_PHOTO)
            return pid[i];
    return HWI_NO_PHOTO;
}
