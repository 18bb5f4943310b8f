/* detect.c: box fractions, IoU and box-moving augmentation for
 * hwi-detect (see detect.h). */
#include <config.h>

#include "detect.h"
#include "err.h"
#include "io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hwi_detect_to_frac(const struct hwi_rect *r, long w, long h, float f[4])
{
    f[0] = (float)((double)r->x0 / w);
    f[1] = (float)((double)r->y0 / h);
    f[2] = (float)((double)(r->x1 + 1) / w);
    f[3] = (float)((double)(r->y1 + 1) / h);
}

/* Edge E (a fraction) of a side of N pixels, in [0, N]. */
static long edge(double e, long n)
{
    double v = floor(e * n + 0.5);
    return v < 0 ? 0 : v > n ? n : (long)v;
}

void hwi_detect_from_frac(const float f[4], long w, long h, struct hwi_rect *r)
{
    long x0 = edge(f[0], w), y0 = edge(f[1], h), x1 = edge(f[2], w), y1 = edge(f[3], h);
    long t;
    if (x1 < x0)
        t = x0, x0 = x1, x1 = t;
    if (y1 < y0)
        t = y0, y0 = y1, y1 = t;
    /* outer edges [x0, x1) to an inclusive box of at least one pixel */
    if (x0 >= w)
        x0 = w - 1;
    if (y0 >= h)
        y0 = h - 1;
    if (x1 <= x0)
        x1 = x0 + 1;
    if (y1 <= y0)
        y1 = y0 + 1;
    *r = (struct hwi_rect){x0, y0, x1 - 1, y1 - 1};
}

double hwi_detect_iou(const struct hwi_rect *a, const struct hwi_rect *b)
{
    double iw = fmin(a->x1, b->x1) - fmax(a->x0, b->x0) + 1;
    double ih = fmin(a->y1, b->y1) - fmax(a->y0, b->y0) + 1;
    double aa = (double)(a->x1 - a->x0 + 1) * (a->y1 - a->y0 + 1);
    double ab = (double)(b->x1 - b->x0 + 1) * (b->y1 - b->y0 + 1);
    if (iw <= 0 || ih <= 0)
        return 0;
    return iw * ih / (aa + ab - iw * ih);
}

static float clamp01(double v)
{
    return (float)(v < 0 ? 0 : v > 1 ? 1 : v);
}

void hwi_detect_augment(struct hwi_rng *r, double scale, double shift, const float *src,
                        float *dst, int s, const float box[4], float out[4])
{
    struct hwi_aug a;
    hwi_aug_default(&a);
    a.rotate = 0; /* a rotated box is no box */
    a.shear = 0;
    a.scale = scale;
    a.shift = shift;
    double m[6];
    hwi_aug_draw(&a, r, s, s, m);
    double gain = hwi_rng_uniform(r, 1 - a.contrast, 1 + a.contrast);
    double off = hwi_rng_uniform(r, -a.brightness, a.brightness);
    hwi_aug_warp(src, dst, s, s, m);
    hwi_aug_photometric(dst, (size_t)s * s, gain, off);
    /* without rotation or shear the warp is source = m0 x + m2 (and m4 y +
     * m5) in pixel-centre coordinates, where a fraction e of the side is
     * the coordinate e s - 1/2 */
    for (int k = 0; k < 4; k++) {
        double mul = k % 2 ? m[4] : m[0], add = k % 2 ? m[5] : m[2];
        double u = box[k] * s - 0.5;
        out[k] = clamp01(((u - add) / mul + 0.5) / s);
    }
}

void hwi_detect_eval_add(struct hwi_detect_eval *e, double iou)
{
    e->n++;
    e->sum += iou;
    e->at50 += iou >= 0.5;
    e->at75 += iou >= 0.75;
    e->at90 += iou >= 0.9;
}

/* ---------------------------------------------------------------------- */
/* Refinement views. */

/* LINE with its blanks removed starts as MARK with its blanks removed. */
static int is_mark(const char *line, const char *mark)
{
    for (;;) {
        while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n')
            line++;
        while (*mark == ' ')
            mark++;
        if (!*mark)
            return 1;
        if (*line++ != *mark++)
            return 0;
    }
}

int hwi_detect_cfg_views(const char *path, char *err)
{
    FILE *fp = hwi_fopen_in(path, err);
    if (!fp)
        return -1;
    char *line = NULL;
    size_t cap = 0, len;
    long n = 0;
    int rc;
    while ((rc = hwi_read_line(fp, &line, &cap, &len, path, &n, err)) == 1 &&
           !is_mark(line, HWI_DETECT_MARK))
        ;
    free(line);
    hwi_fclose_in(fp);
    return rc; /* 1 at the mark, 0 at the end, -1 */
}

void hwi_detect_view_of(const float box[4], double margin, float view[4])
{
    for (int a = 0; a < 2; a++) { /* a = 0: x, 1: y */
        double lo = box[a], hi = box[a + 2];
        lo = lo < 0 ? 0 : lo > 1 ? 1 : lo;
        hi = hi < 0 ? 0 : hi > 1 ? 1 : hi;
        if (hi < lo) {
            double t = lo;
            lo = hi, hi = t;
        }
        double side = hi - lo, mid = (lo + hi) / 2;
        if (side < 1.0 / 64)
            side = 1.0 / 64;
        view[a] = (float)(mid - side / 2 - margin * side);
        view[a + 2] = (float)(mid + side / 2 + margin * side);
    }
}

void hwi_detect_to_view(const float view[4], const float box[4], float out[4])
{
    for (int k = 0; k < 4; k++) {
        double lo = view[k % 2], side = (double)view[k % 2 + 2] - lo;
        out[k] = (float)((box[k] - lo) / side);
    }
}

void hwi_detect_from_view(const float view[4], const float vbox[4], float out[4])
{
    for (int k = 0; k < 4; k++) {
        double lo = view[k % 2], side = (double)view[k % 2 + 2] - lo;
        out[k] = (float)(lo + vbox[k] * side);
    }
}

/* The two source pixels *I0, *I1 and the weight *W of I1 at pixel-centre
 * coordinate U of a side of P pixels, edges replicated. */
static void tap(double u, int p, int *i0, int *i1, double *w)
{
    if (!(u > 0)) {
        *i0 = *i1 = 0, *w = 0;
    } else if (u >= p - 1) {
        *i0 = *i1 = p - 1, *w = 0;
    } else {
        *i0 = (int)u;
        *i1 = *i0 + 1;
        *w = u - *i0;
    }
}

void hwi_detect_view_sample(const uint8_t *src, int p, const float view[4], float *dst, int s)
{
    /* DST pixel x samples SRC at u = f p - 1/2 (pixel centres), where f is
     * the photo fraction view[0] + (x + 1/2) / s (view[2] - view[0]) */
    double xl = view[0], xs = (double)view[2] - view[0];
    double yl = view[1], ys = (double)view[3] - view[1];
    for (int y = 0; y < s; y++) {
        int j0, j1;
        double wy;
        tap((yl + (y + 0.5) / s * ys) * p - 0.5, p, &j0, &j1, &wy);
        const uint8_t *r0 = src + (size_t)j0 * p, *r1 = src + (size_t)j1 * p;
        float *out = dst + (size_t)y * s;
        for (int x = 0; x < s; x++) {
            int i0, i1;
            double wx;
            tap((xl + (x + 0.5) / s * xs) * p - 0.5, p, &i0, &i1, &wx);
            double top = r0[i0] + wx * (r0[i1] - r0[i0]);
            double bot = r1[i0] + wx * (r1[i1] - r1[i0]);
            out[x] = (float)((top + wy * (bot - top)) / 255);
        }
    }
}

void hwi_detect_sample(struct hwi_rng *r, const uint8_t *src, int s, const float box[4],
                       int view, int augment, float *x, float t[4], float *work)
{
    static const float whole[4] = {0, 0, 1, 1};
    size_t n = (size_t)s * s;
    struct hwi_aug a;
    hwi_aug_default(&a);
    if (!view) {
        if (augment) {
            hwi_detect_view_sample(src, 2 * s, whole, work, s);
            hwi_detect_augment(r, 0.15, 0.1, work, x, s, box, t);
        } else {
            hwi_detect_view_sample(src, 2 * s, whole, x, s);
            memcpy(t, box, 4 * sizeof *t);
        }
    } else {
        float jit[4], v[4];
        for (int k = 0; k < 4; k++) {
            double side = (double)box[k % 2 + 2] - box[k % 2];
            jit[k] = (float)(box[k] +
                             hwi_rng_uniform(r, -HWI_DETECT_JITTER, HWI_DETECT_JITTER) * side);
        }
        hwi_detect_view_of(jit, HWI_DETECT_MARGIN, v);
        hwi_detect_view_sample(src, 2 * s, v, x, s);
        hwi_detect_to_view(v, box, t);
        if (augment) {
            double gain = hwi_rng_uniform(r, 1 - a.contrast, 1 + a.contrast);
            double off = hwi_rng_uniform(r, -a.brightness, a.brightness);
            hwi_aug_photometric(x, n, gain, off);
        }
    }
    if (augment && hwi_rng_uniform(r, 0, 1) < 0.5) {
        for (int y = 0; y < s; y++) {
            float *row = x + (size_t)y * s;
            for (int i = 0, j = s - 1; i < j; i++, j--) {
                float tmp = row[i];
                row[i] = row[j], row[j] = tmp;
            }
        }
        float x0 = t[0];
        t[0] = 1 - t[2];
        t[2] = 1 - x0;
    }
}
