/* detect.c: box fractions, IoU and box-moving augmentation for
 * hwi-detect (see detect.h). */
#include <config.h>

#include "detect.h"

#include <math.h>

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

void hwi_detect_augment(struct hwi_rng *r, double scale, double shift,
                        const float *src, float *dst, int s, const float box[4],
                        float out[4])
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
