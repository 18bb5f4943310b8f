/* train.c: training set, label lists, augmentation and schedule for
 * hwi-train and hwi-embed (see train.h).  No Darknet here. */
#include <config.h>

#include "train.h"

#include "io.h"
#include "map.h"
#include "metric.h"
#include "rng.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/hwi"
#endif

/* ------------------------------------------------------------------------
 * The image set. */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void hwi_trainset_free(struct hwi_trainset *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->key[i]);
        free(t->truth[i]);
    }
    free(t->key);
    free(t->truth);
    free(t->x);
    free(t->y);
    hwi_train_labels_free(t->label, t->classes);
    memset(t, 0, sizeof *t);
}

/* Append the current record of S to T with truth TRUTH.  Returns 0 or -1. */
static int push(struct hwi_trainset *t, size_t *cap, const struct hwi_stream *s,
                const char *truth)
{
    if (t->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        float *x = realloc(t->x, nc * (size_t)t->dim * sizeof *x);
        if (x)
            t->x = x;
        char **k = realloc(t->key, nc * sizeof *k);
        if (k)
            t->key = k;
        char **tr = realloc(t->truth, nc * sizeof *tr);
        if (tr)
            t->truth = tr;
        int *y = realloc(t->y, nc * sizeof *y);
        if (y)
            t->y = y;
        if (!x || !k || !tr || !y)
            return -1;
        *cap = nc;
    }
    t->key[t->n] = strdup(s->key);
    t->truth[t->n] = strdup(truth);
    if (!t->key[t->n] || !t->truth[t->n]) {
        free(t->key[t->n]);
        free(t->truth[t->n]);
        return -1;
    }
    memcpy(t->x + t->n * (size_t)t->dim, s->vec, (size_t)t->dim * sizeof *t->x);
    t->y[t->n] = -1;
    t->n++;
    return 0;
}

int hwi_trainset_load(struct hwi_trainset *t, struct hwi_stream *s,
                      const struct hwi_labels *labels, const struct hwi_trainset *ref,
                      char *err)
{
    memset(t, 0, sizeof *t);
    if (!(s->flags & HWI_STREAM_KEYED))
        return hwi_seterr(err, "%s: records have no keys (image names)", s->name);
    t->dim = (int)s->dim;

    struct hwi_map img = {0}, seen = {0}, cls = {0};
    size_t cap = 0;
    int rc = -1;
    for (size_t i = 0; i < labels->n; i++)
        if (hwi_map_put(&img, labels->image[i], i, NULL) < 0)
            goto oom;

    int r;
    while ((r = hwi_stream_read(s)) == 1) {
        int put = hwi_map_put(&seen, s->key, 0, NULL);
        if (put < 0)
            goto oom;
        if (put == 0) {
            hwi_seterr(err, "%s: record %llu: image '%s' appears twice", s->name,
                       (unsigned long long)s->nrec, s->key);
            goto out;
        }
        size_t *li = hwi_map_get(&img, s->key);
        if (!li) {
            t->unlabelled++;
            continue;
        }
        const char *id = labels->id[*li];
        if (!ref && strcmp(id, HWI_NEW_WHALE) == 0) {
            t->new_whale++;
            continue;
        }
        if (push(t, &cap, s, id))
            goto oom;
    }
    if (r < 0) {
        hwi_seterr(err, "%s", s->err);
        goto out;
    }

    if (ref) {
        for (int c = 0; c < ref->classes; c++)
            if (hwi_map_put(&cls, ref->label[c], (size_t)c, NULL) < 0)
                goto oom;
    } else {
        /* the distinct labels, sorted */
        for (size_t i = 0; i < t->n; i++)
            if (hwi_map_put(&cls, t->truth[i], 0, NULL) < 0)
                goto oom;
        if (cls.n > 0 && !(t->label = calloc(cls.n, sizeof *t->label)))
            goto oom;
        for (size_t j = 0; j < cls.cap; j++)
            if (cls.key[j] && !(t->label[t->classes++] = strdup(cls.key[j])))
                goto oom;
        if (t->classes > 1)
            qsort(t->label, (size_t)t->classes, sizeof *t->label, cmp_str);
        for (int c = 0; c < t->classes; c++)
            *hwi_map_get(&cls, t->label[c]) = (size_t)c;
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t *c = hwi_map_get(&cls, t->truth[i]);
        t->y[i] = c ? (int)*c : -1;
    }
    rc = 0;
    goto out;
oom:
    hwi_seterr(err, "out of memory");
out:
    hwi_map_free(&img);
    hwi_map_free(&seen);
    hwi_map_free(&cls);
    if (rc)
        hwi_trainset_free(t);
    return rc;
}

/* ------------------------------------------------------------------------
 * Label lists. */

int hwi_train_labels_write(char *const *label, int n, FILE *fp)
{
    for (int i = 0; i < n; i++)
        if (fputs(label[i], fp) == EOF || putc('\n', fp) == EOF)
            return -1;
    return ferror(fp) ? -1 : 0;
}

void hwi_train_labels_free(char **label, int n)
{
    if (!label)
        return;
    for (int i = 0; i < n; i++)
        free(label[i]);
    free(label);
}

int hwi_train_labels_read(const char *path, char ***label, int *n, char *err)
{
    *label = NULL;
    *n = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hwi_seterr(err, "%s: %s", path, strerror(errno));
    char *line = NULL, **v = NULL;
    size_t cap = 0, vcap = 0;
    long lineno = 0;
    ssize_t len;
    int cnt = 0, rc = -1;
    struct hwi_map seen = {0};
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        if (!*line) {
            hwi_seterr(err, "%s:%ld: empty label", path, lineno);
            goto out;
        }
        if (strchr(line, '\t') || (size_t)len != strlen(line)) {
            hwi_seterr(err, "%s:%ld: a label may not hold a TAB or NUL", path, lineno);
            goto out;
        }
        int put = hwi_map_put(&seen, line, 0, NULL);
        if (put < 0)
            goto oom;
        if (put == 0) {
            hwi_seterr(err, "%s:%ld: label '%s' appears twice", path, lineno, line);
            goto out;
        }
        if ((size_t)cnt == vcap) {
            size_t nc = vcap ? 2 * vcap : 64;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                goto oom;
            v = nv;
            vcap = nc;
        }
        if (!(v[cnt] = strdup(line)))
            goto oom;
        cnt++;
    }
    if (ferror(fp)) {
        hwi_seterr(err, "%s: read error", path);
        goto out;
    }
    if (cnt == 0) {
        hwi_seterr(err, "%s: no labels", path);
        goto out;
    }
    *label = v;
    *n = cnt;
    v = NULL;
    rc = 0;
    goto out;
oom:
    hwi_seterr(err, "out of memory");
out:
    hwi_train_labels_free(v, cnt);
    hwi_map_free(&seen);
    free(line);
    fclose(fp);
    if (rc)
        *n = 0;
    return rc;
}

/* ------------------------------------------------------------------------
 * Augmentation. */

void hwi_aug_default(struct hwi_aug *a)
{
    a->rotate = 15;
    a->scale = 0.1;
    a->shift = 0.1;
    a->shear = 10;
    a->brightness = 0.1;
    a->contrast = 0.2;
    a->aspect = 0;
    a->blur = 0;
    a->noise = 0;
}

static const struct {
    const char *key;
    size_t off;
    double max; /* exclusive */
} aug_keys[] = {
    {"rotate", offsetof(struct hwi_aug, rotate), 1e9},
    {"scale", offsetof(struct hwi_aug, scale), 1},
    {"shift", offsetof(struct hwi_aug, shift), 1e9},
    {"shear", offsetof(struct hwi_aug, shear), 90},
    {"brightness", offsetof(struct hwi_aug, brightness), 1e9},
    {"contrast", offsetof(struct hwi_aug, contrast), 1},
    {"aspect", offsetof(struct hwi_aug, aspect), 1e9},
    {"blur", offsetof(struct hwi_aug, blur), 100},
    {"noise", offsetof(struct hwi_aug, noise), 1e9},
};

int hwi_aug_parse(struct hwi_aug *a, const char *spec, char *err)
{
    const char *p = spec;
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        size_t k = 0, nk = sizeof aug_keys / sizeof *aug_keys;
        if (eq)
            for (; k < nk; k++)
                if (strlen(aug_keys[k].key) == (size_t)(eq - p) &&
                    strncmp(aug_keys[k].key, p, eq - p) == 0)
                    break;
        if (!eq || k == nk)
            return hwi_seterr(err,
                              "'%.*s': not KEY=VALUE with KEY one of rotate, scale, "
                              "aspect, shift, shear, brightness, contrast, blur, noise",
                              (int)len, p);
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || end != p + len || errno || !(v >= 0) || !(v < aug_keys[k].max))
            return aug_keys[k].max < 1e9
                       ? hwi_seterr(err,
                                    "'%.*s': the value must be a number >= 0 and below %g",
                                    (int)len, p, aug_keys[k].max)
                       : hwi_seterr(err, "'%.*s': the value must be a finite number >= 0",
                                    (int)len, p);
        *(double *)((char *)a + aug_keys[k].off) = v;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

void hwi_aug_format(const struct hwi_aug *a, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t k = 0; k < sizeof aug_keys / sizeof *aug_keys && o < size; k++)
        o += snprintf(buf + o, size - o, "%s%s=%g", k ? "," : "", aug_keys[k].key,
                      *(const double *)((const char *)a + aug_keys[k].off));
}

void hwi_aug_draw(const struct hwi_aug *a, struct hwi_rng *r, int w, int h, double m[6])
{
    const double deg = M_PI / 180;
    /* every parameter is drawn, even when its range is 0, so the sequence
     * of draws does not depend on the ranges */
    double th = hwi_rng_uniform(r, -a->rotate, a->rotate) * deg;
    double s = hwi_rng_uniform(r, 1 - a->scale, 1 + a->scale);
    double tx = hwi_rng_uniform(r, -a->shift, a->shift) * w;
    double ty = hwi_rng_uniform(r, -a->shift, a->shift) * h;
    double sh = hwi_rng_uniform(r, -a->shear, a->shear) * deg;
    double lr = a->aspect > 0 ? hwi_rng_uniform(r, -1, 1) * log1p(a->aspect) : 0;
    double dx = s * exp(lr / 2), dy = s * exp(-lr / 2);
    /* inverse map, output -> source: rotate, shear along x, zoom by 1/dx
     * along x and 1/dy along y, all about the centre, then shift.
     * det = 1/(dx dy) > 0: never a flip. */
    double c = cos(th), sn = sin(th), k = tan(sh);
    /* R * Sh, Sh = [[1, k], [0, 1]] */
    double a11 = c, a12 = c * k - sn, a21 = sn, a22 = sn * k + c;
    double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
    m[0] = a11 / dx;
    m[1] = a12 / dy;
    m[3] = a21 / dx;
    m[4] = a22 / dy;
    m[2] = cx - m[0] * cx - m[1] * cy - tx;
    m[5] = cy - m[3] * cx - m[4] * cy - ty;
}

void hwi_aug_warp(const float *src, float *dst, int w, int h, const double m[6])
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double sx = m[0] * x + m[1] * y + m[2];
            double sy = m[3] * x + m[4] * y + m[5];
            /* replicate the edges */
            if (sx < 0)
                sx = 0;
            if (sx > w - 1)
                sx = w - 1;
            if (sy < 0)
                sy = 0;
            if (sy > h - 1)
                sy = h - 1;
            int x0 = (int)sx, y0 = (int)sy;
            int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
            double fx = sx - x0, fy = sy - y0;
            double top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
            double bot = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
            dst[y * w + x] = (float)(top * (1 - fy) + bot * fy);
        }
    }
}

void hwi_aug_photometric(float *x, size_t n, double gain, double offset)
{
    for (size_t i = 0; i < n; i++) {
        double v = (x[i] - 0.5) * gain + 0.5 + offset;
        x[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
}

void hwi_aug_blur(float *x, int w, int h, double sigma, float *work)
{
    if (sigma < 0.1)
        return;
    enum { RMAX = 300 };
    int r = (int)ceil(3 * sigma);
    if (r > RMAX)
        r = RMAX;
    double k[RMAX + 1], sum = 0;
    for (int i = 0; i <= r; i++)
        sum += (i ? 2 : 1) * (k[i] = exp(-0.5 * i * i / (sigma * sigma)));
    for (int i = 0; i <= r; i++)
        k[i] /= sum;
    /* rows into WORK, then columns back into X; edges replicated */
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
            const float *row = x + (size_t)y * w;
            double v = k[0] * row[xx];
            for (int i = 1; i <= r; i++) {
                int a = xx - i < 0 ? 0 : xx - i, b = xx + i >= w ? w - 1 : xx + i;
                v += k[i] * (row[a] + row[b]);
            }
            work[(size_t)y * w + xx] = (float)v;
        }
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
            double v = k[0] * work[(size_t)y * w + xx];
            for (int i = 1; i <= r; i++) {
                int a = y - i < 0 ? 0 : y - i, b = y + i >= h ? h - 1 : y + i;
                v += k[i] * (work[(size_t)a * w + xx] + work[(size_t)b * w + xx]);
            }
            x[(size_t)y * w + xx] = (float)v;
        }
}

/* A standard normal value (Box-Muller, one of the pair). */
static double normal(struct hwi_rng *r)
{
    double u = hwi_rng_u01(r), v = hwi_rng_u01(r);
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

void hwi_augment(const struct hwi_aug *a, struct hwi_rng *r, const float *src, float *dst,
                 int w, int h, int c, float *work)
{
    double m[6];
    hwi_aug_draw(a, r, w, h, m);
    double gain = hwi_rng_uniform(r, 1 - a->contrast, 1 + a->contrast);
    double off = hwi_rng_uniform(r, -a->brightness, a->brightness);
    size_t plane = (size_t)w * h;
    for (int k = 0; k < c; k++)
        hwi_aug_warp(src + k * plane, dst + k * plane, w, h, m);
    if (a->blur > 0) {
        double sigma = hwi_rng_uniform(r, 0, a->blur);
        for (int k = 0; k < c; k++)
            hwi_aug_blur(dst + k * plane, w, h, sigma, work);
    }
    if (a->noise > 0) {
        double sigma = hwi_rng_uniform(r, 0, a->noise);
        for (size_t i = 0; i < plane * c; i++)
            dst[i] += (float)(sigma * normal(r));
    }
    hwi_aug_photometric(dst, plane * c, gain, off);
}

/* ------------------------------------------------------------------------
 * Schedule. */

double hwi_train_onecycle(double lr, long t, long n)
{
    const double start = lr / 25, end = lr / 25e4, pct = 0.3;
    long up = (long)(pct * n);
    if (up < 1)
        up = 1;
    if (t < up) {
        double p = (double)t / up;
        return start + (lr - start) * (1 - cos(M_PI * p)) / 2;
    }
    long down = n - up;
    double p = down > 0 ? (double)(t - up) / down : 1;
    return end + (lr - end) * (1 + cos(M_PI * p)) / 2;
}

void hwi_train_topk(const float *v, int n, int k, int *out)
{
    /* K is small (5): insertion into a sorted prefix */
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m == k && !(v[i] > v[out[k - 1]]))
            continue;
        int j = m < k ? m++ : k - 1;
        while (j > 0 && v[i] > v[out[j - 1]]) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = i;
    }
}

/* ------------------------------------------------------------------------
 * Files. */

char *hwi_train_datafile(const char *name, const char *suffix)
{
    struct stat st;
    if (strchr(name, '/') || stat(name, &st) == 0)
        return strdup(name);
    const char *dir = getenv("HWI_DATADIR");
    if (!dir || !*dir)
        dir = PKGDATADIR;
    size_t ln = strlen(name), ls = suffix ? strlen(suffix) : 0;
    int add = ls && (ln < ls || strcmp(name + ln - ls, suffix) != 0);
    char *p;
    if (asprintf(&p, "%s/%s%s", dir, name, add ? suffix : "") < 0)
        return NULL;
    return p;
}

/* ------------------------------------------------------------------------
 * Checkpoints. */

#define CKPT_VERSION 1

static void put_u32(FILE *fp, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        putc((int)(v >> (8 * i)) & 0xff, fp);
}

static void put_u64(FILE *fp, uint64_t v)
{
    put_u32(fp, (uint32_t)v);
    put_u32(fp, (uint32_t)(v >> 32));
}

int hwi_ckpt_write(const char *path, const struct hwi_ckpt *c, char *err)
{
    struct hwi_outfile out;
    if (hwi_outfile_open(&out, path, err))
        return -1;
    FILE *fp = out.fp;
    size_t slen = strlen(c->settings);
    uint64_t busy;
    memcpy(&busy, &c->busy, sizeof busy);
    fwrite("HWIC", 1, 4, fp);
    put_u32(fp, CKPT_VERSION);
    put_u32(fp, (uint32_t)c->epoch);
    put_u32(fp, (uint32_t)slen);
    fwrite(c->settings, 1, slen, fp);
    put_u64(fp, c->rng.s);
    put_u64(fp, c->n);
    for (size_t i = 0; i < c->n; i++)
        put_u64(fp, c->perm[i]);
    put_u64(fp, busy);
    memcpy(&busy, &c->elapsed, sizeof busy);
    put_u64(fp, busy);
    put_u64(fp, c->seen);
    put_u64(fp, c->state_size);
    fwrite(c->state, 1, c->state_size, fp);
    put_u32(fp, (uint32_t)(4 * 4 + slen + 8 * 2 + 8 * c->n + 8 * 4 + c->state_size + 4));
    if (ferror(fp)) {
        hwi_outfile_abort(&out);
        return hwi_seterr(err, "%s: write error", path);
    }
    return hwi_outfile_commit(&out, err);
}

/* Bytes of the checkpoint being read: P to END. */
struct reader {
    const unsigned char *p, *end;
    int short_read;
};

static uint64_t get_u(struct reader *r, int bytes)
{
    uint64_t v = 0;
    if (r->end - r->p < bytes) {
        r->short_read = 1;
        r->p = r->end;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    return v;
}

static const unsigned char *get_bytes(struct reader *r, uint64_t n)
{
    if ((uint64_t)(r->end - r->p) < n) {
        r->short_read = 1;
        r->p = r->end;
        return NULL;
    }
    const unsigned char *q = r->p;
    r->p += n;
    return q;
}

int hwi_ckpt_read(const char *path, struct hwi_ckpt *c, char *err)
{
    memset(c, 0, sizeof *c);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hwi_seterr(err, "%s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            unsigned char *b = realloc(buf, cap = cap ? 2 * cap : 1 << 16);
            if (!b) {
                free(buf);
                fclose(fp);
                return hwi_seterr(err, "%s: out of memory", path);
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    int rerr = ferror(fp);
    fclose(fp);
    if (rerr) {
        free(buf);
        return hwi_seterr(err, "%s: read error", path);
    }
    int rc = -1;
    struct reader r = {buf, buf + n, 0};
    const unsigned char *magic = get_bytes(&r, 4);
    if (!magic || memcmp(magic, "HWIC", 4) != 0) {
        hwi_seterr(err, "%s: not an hwi-train checkpoint", path);
        goto out;
    }
    uint32_t v = (uint32_t)get_u(&r, 4);
    if (v != CKPT_VERSION) {
        hwi_seterr(err, "%s: checkpoint version %u; this hwi reads version %d", path, v,
                   CKPT_VERSION);
        goto out;
    }
    c->epoch = (long)get_u(&r, 4);
    uint64_t slen = get_u(&r, 4);
    const unsigned char *s = get_bytes(&r, slen);
    c->rng.s = get_u(&r, 8);
    c->n = (size_t)get_u(&r, 8);
    if (r.short_read || c->n > (size_t)(r.end - r.p) / 8)
        goto truncated;
    c->settings = malloc(slen + 1);
    c->perm = malloc((c->n ? c->n : 1) * sizeof *c->perm);
    if (!c->settings || !c->perm) {
        hwi_seterr(err, "%s: out of memory", path);
        goto out;
    }
    memcpy(c->settings, s, slen);
    c->settings[slen] = '\0';
    for (size_t i = 0; i < c->n; i++)
        if ((c->perm[i] = (size_t)get_u(&r, 8)) >= c->n) {
            hwi_seterr(err, "%s: corrupt checkpoint (image order)", path);
            goto out;
        }
    uint64_t busy = get_u(&r, 8);
    memcpy(&c->busy, &busy, sizeof busy);
    busy = get_u(&r, 8);
    memcpy(&c->elapsed, &busy, sizeof busy);
    c->seen = get_u(&r, 8);
    c->state_size = (size_t)get_u(&r, 8);
    const unsigned char *st = get_bytes(&r, c->state_size);
    uint64_t total = get_u(&r, 4);
    if (r.short_read)
        goto truncated;
    if (r.p != r.end || total != n) {
        hwi_seterr(err, "%s: corrupt checkpoint (size)", path);
        goto out;
    }
    if (!(c->state = malloc(c->state_size ? c->state_size : 1))) {
        hwi_seterr(err, "%s: out of memory", path);
        goto out;
    }
    memcpy(c->state, st, c->state_size);
    rc = 0;
    goto out;
truncated:
    hwi_seterr(err, "%s: truncated checkpoint", path);
out:
    free(buf);
    if (rc)
        hwi_ckpt_free(c);
    return rc;
}

void hwi_ckpt_free(struct hwi_ckpt *c)
{
    free(c->settings);
    free(c->perm);
    free(c->state);
    memset(c, 0, sizeof *c);
}
