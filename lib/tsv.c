/* tsv.c: scores TSV reader and writer (see tsv.h). */
#include <config.h>

#include "tsv.h"

#include "io.h"
#include "opt.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void hwi_tsv_open(struct hwi_tsv *r, FILE *fp, const char *name)
{
    memset(r, 0, sizeof *r);
    r->fp = fp;
    r->name = name;
}

int hwi_tsv_next(struct hwi_tsv *r)
{
    for (;;) {
        size_t len;
        int rc = hwi_read_line(r->fp, &r->buf, &r->cap, &len, r->name, &r->line, r->err);
        if (rc <= 0)
            return rc;
        if (r->buf[0] == '#' || r->buf[0] == 0)
            continue;
        if (strchr(r->buf, '\r')) /* no writer could put it back */
            return hwi_seterr(r->err, "%s:%ld: carriage return inside the line", r->name,
                              r->line);
        char *f[4], *p = r->buf;
        int n = 0;
        for (char *tok; (tok = strsep(&p, "\t"));)
            if (n++ < 4)
                f[n - 1] = tok;
        if (n != 3 && n != 4)
            return hwi_seterr(r->err,
                              "%s:%ld: expected 3 tab-separated fields (query, label, score) "
                              "and an optional photo, got %d",
                              r->name, r->line, n);
        if (n == 4 && !f[3][0])
            return hwi_seterr(r->err, "%s:%ld: empty photo (write '-' for none)", r->name,
                              r->line);
        r->photo = n == 4 && strcmp(f[3], "-") ? f[3] : NULL;
        if (!f[0][0] || !f[1][0])
            return hwi_seterr(r->err, "%s:%ld: empty %s", r->name, r->line,
                              f[0][0] ? "label" : "query");
        if (hwi_parse_double(f[2], -DBL_MAX, DBL_MAX, &r->score))
            return hwi_seterr(r->err, "%s:%ld: score '%s' is not a finite number", r->name,
                              r->line, f[2]);
        r->query = f[0];
        r->label = f[1];
        return 1;
    }
}

void hwi_tsv_close(struct hwi_tsv *r)
{
    free(r->buf);
    r->buf = NULL;
}

void hwi_groups_open(struct hwi_groups *g, FILE *fp, const char *name)
{
    memset(g, 0, sizeof *g);
    hwi_tsv_open(&g->tsv, fp, name);
}

int hwi_group_add_photo(struct hwi_group *grp, const char *label, double score,
                        const char *photo)
{
    if (grp->n == grp->cap) {
        size_t cap = grp->cap ? 2 * grp->cap : 16;
        char **l = realloc(grp->label, cap * sizeof *l);
        if (!l)
            return -1;
        grp->label = l;
        double *s = realloc(grp->score, cap * sizeof *s);
        if (!s)
            return -1;
        grp->score = s;
        char **p = realloc(grp->photo, cap * sizeof *p);
        if (!p)
            return -1;
        grp->photo = p;
        grp->cap = cap;
    }
    grp->photo[grp->n] = NULL;
    if (!(grp->label[grp->n] = strdup(label)))
        return -1;
    if (photo && !(grp->photo[grp->n] = strdup(photo))) {
        free(grp->label[grp->n]);
        return -1;
    }
    grp->score[grp->n++] = score;
    return 0;
}

int hwi_group_add(struct hwi_group *grp, const char *label, double score)
{
    return hwi_group_add_photo(grp, label, score, NULL);
}

static void group_clear(struct hwi_group *grp)
{
    for (size_t i = 0; i < grp->n; i++) {
        free(grp->label[i]);
        free(grp->photo[i]);
    }
    grp->n = 0;
    free(grp->query);
    grp->query = NULL;
}

void hwi_group_free(struct hwi_group *grp)
{
    group_clear(grp);
    free(grp->label);
    free(grp->score);
    free(grp->photo);
    memset(grp, 0, sizeof *grp);
}

int hwi_groups_next(struct hwi_groups *g, struct hwi_group *out)
{
    struct hwi_tsv *r = &g->tsv;
    group_clear(out);
    if (g->eof)
        return 0;
    if (!g->pending) {
        int rc = hwi_tsv_next(r);
        if (rc <= 0) {
            g->eof = rc == 0;
            return rc;
        }
    }
    if (hwi_map_get(&g->done, r->query))
        return hwi_seterr(r->err,
                          "%s:%ld: query '%s' appears again after other queries: "
                          "input must be grouped by query (sort -s -t '\t' -k1,1)",
                          r->name, r->line, r->query);
    if (!(out->query = strdup(r->query)) || hwi_map_put(&g->done, r->query, 0, NULL) < 0)
        return hwi_seterr(r->err, "%s:%ld: out of memory", r->name, r->line);
    out->line = r->line;
    hwi_map_clear(&g->labels);
    for (;;) {
        int put = hwi_map_put(&g->labels, r->label, 0, NULL);
        if (put == 0)
            return hwi_seterr(r->err, "%s:%ld: label '%s' repeated for query '%s'", r->name,
                              r->line, r->label, r->query);
        if (put < 0 || hwi_group_add_photo(out, r->label, r->score, r->photo))
            return hwi_seterr(r->err, "%s:%ld: out of memory", r->name, r->line);
        int rc = hwi_tsv_next(r);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            g->pending = 0;
            g->eof = 1;
            return 1;
        }
        if (strcmp(r->query, out->query) != 0) {
            g->pending = 1;
            return 1;
        }
    }
}

void hwi_groups_close(struct hwi_groups *g)
{
    hwi_tsv_close(&g->tsv);
    hwi_map_free(&g->done);
    hwi_map_free(&g->labels);
}

static const struct hwi_group *sorting; /* qsort has no context argument */

static int by_score(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double si = sorting->score[i], sj = sorting->score[j];
    if (si != sj)
        return si > sj ? -1 : 1;
    return strcmp(sorting->label[i], sorting->label[j]);
}

int hwi_group_sort(struct hwi_group *grp)
{
    size_t n = grp->n;
    if (n < 2)
        return 0;
    size_t *idx = malloc(n * sizeof *idx);
    char **l = malloc(n * sizeof *l), **p = malloc(n * sizeof *p);
    double *s = malloc(n * sizeof *s);
    int rc = -1;
    if (idx && l && s && p) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        sorting = grp;
        qsort(idx, n, sizeof *idx, by_score);
        for (size_t i = 0; i < n; i++) {
            l[i] = grp->label[idx[i]];
            s[i] = grp->score[idx[i]];
            p[i] = grp->photo[idx[i]];
        }
        memcpy(grp->label, l, n * sizeof *l);
        memcpy(grp->score, s, n * sizeof *s);
        memcpy(grp->photo, p, n * sizeof *p);
        rc = 0;
    }
    free(idx);
    free(l);
    free(s);
    free(p);
    return rc;
}

void hwi_tsv_write_header(FILE *fp)
{
    fputs("# query\tlabel\tscore\n", fp);
}

int hwi_tsv_field_ok(const char *s)
{
    return s && *s && !strpbrk(s, "\t\r\n");
}

/* Powers of ten 10^0 .. 10^12, all exact doubles. */
static const double pow10_exact[13] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5, 1e6,
                                       1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
/* 10^-4 .. 10^8, the nearest doubles: pow10_below[x + 4] is 10^x. */
static const double pow10_below[13] = {1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2,
                                       1e3,  1e4,  1e5,  1e6,  1e7, 1e8};

int hwi_fmt_score(char *buf, double v)
{
    /* The common case, 1e-4 <= |v| < 1e9 (printf's fixed notation for
     * %.9g): scale |v| by an exact power of ten into [1e8, 1e9), where the
     * one rounding of the product errs by at most 6e-8, and round to the
     * nearest integer: its 9 digits are printf's, unless the product lies
     * within 1e-6 of a half (the rounding could go either way) or its
     * exponent is not the one guessed; printf decides those. */
    double a = fabs(v);
    if (a >= 1e-4 && a < 1e9) {
        int x = 8; /* the decimal exponent of a */
        while (x > -4 && a < pow10_below[x + 4])
            x--;
        double scaled = a * pow10_exact[8 - x], n = floor(scaled), frac = scaled - n;
        if (scaled >= 1e8 && scaled < 1e9 - 1 && fabs(frac - 0.5) > 1e-6) {
            uint32_t m = (uint32_t)n + (frac > 0.5);
            char digits[9];
            for (int i = 8; i >= 0; i--, m /= 10)
                digits[i] = (char)('0' + m % 10);
            int last = 8; /* the last digit kept: trailing zeros go */
            while (last > 0 && last > x && digits[last] == '0')
                last--;
            char *p = buf;
            if (signbit(v))
                *p++ = '-';
            if (x >= 0) {
                memcpy(p, digits, (size_t)x + 1);
                p += x + 1;
                if (last > x) {
                    *p++ = '.';
                    memcpy(p, digits + x + 1, (size_t)(last - x));
                    p += last - x;
                }
            } else {
                *p++ = '0';
                *p++ = '.';
                for (int i = -1; i > x; i--)
                    *p++ = '0';
                memcpy(p, digits, (size_t)last + 1);
                p += last + 1;
            }
            *p = 0;
            return (int)(p - buf);
        }
    }
    return snprintf(buf, HWI_SCORE_LEN, "%.9g", v);
}

/* Write QUERY TAB LABEL TAB SCORE, without the line end. */
static void write_fields(FILE *fp, const char *query, const char *label, double score)
{
    char num[HWI_SCORE_LEN];
    int n = hwi_fmt_score(num, score);
    fputs(query, fp);
    putc('\t', fp);
    fputs(label, fp);
    putc('\t', fp);
    fwrite(num, 1, (size_t)n, fp);
}

int hwi_tsv_write(FILE *fp, const char *query, const char *label, double score)
{
    if (!hwi_tsv_field_ok(query) || !hwi_tsv_field_ok(label) || !isfinite(score))
        return -1;
    write_fields(fp, query, label, score);
    putc('\n', fp);
    return 0;
}

void hwi_tsv_write_header_photo(FILE *fp)
{
    fputs("# query\tlabel\tscore\tphoto\n", fp);
}

int hwi_tsv_write_photo(FILE *fp, const char *query, const char *label, double score,
                        const char *photo)
{
    if (!photo)
        photo = "-";
    if (!hwi_tsv_field_ok(query) || !hwi_tsv_field_ok(label) || !isfinite(score) ||
        !hwi_tsv_field_ok(photo))
        return -1;
    write_fields(fp, query, label, score);
    putc('\t', fp);
    fputs(photo, fp);
    putc('\n', fp);
    return 0;
}
