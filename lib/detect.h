/* detect.h: the box arithmetic of hwi-detect(1), network-free.
 *
 * A box regressor sees the whole photo squished to S x S and predicts the
 * fluke box as four fractions of the photo's width and height, the box's
 * outer edges (x0, y0, x1 + 1, y1 + 1) / (W, H): a box file's inclusive
 * pixel box (csv.h) and its fractions convert both ways here.  Also the
 * augmentation that moves a box with its image, and the IoU figures of a
 * set of predicted boxes against the true ones.
 *
 * Nothing here prints, exits or touches Darknet or libvips. */
#ifndef HWI_DETECT_H
#define HWI_DETECT_H

#include "image.h"
#include "train.h"

#include <stddef.h>

/* The fractions F (x0, y0, x1, y1) of box R in a W x H photo:
 * (R.x0 / W, R.y0 / H, (R.x1 + 1) / W, (R.y1 + 1) / H). */
void hwi_detect_to_frac(const struct hwi_rect *r, long w, long h, float f[4]);

/* The inclusive pixel box of fractions F in a W x H photo: edges rounded
 * to the nearest pixel, swapped if inverted, clamped to the photo, at
 * least one pixel each way. */
void hwi_detect_from_frac(const float f[4], long w, long h, struct hwi_rect *r);

/* Intersection over union of two inclusive pixel boxes, in [0, 1]. */
double hwi_detect_iou(const struct hwi_rect *a, const struct hwi_rect *b);

/* A random zoom in [1-SCALE, 1+SCALE] and shift in [-SHIFT, SHIFT] of the
 * side of the S x S plane SRC into DST (edges replicated), and a
 * brightness/contrast change as hwi_augment's; BOX (fractions) becomes
 * OUT, the same box in DST, clamped to [0, 1]. */
void hwi_detect_augment(struct hwi_rng *r, double scale, double shift,
                        const float *src, float *dst, int s, const float box[4],
                        float out[4]);

/* IoU figures: the mean and the shares at or above 0.5, 0.75 and 0.9. */
struct hwi_detect_eval {
    size_t n;
    double sum;
    size_t at50, at75, at90;
};

void hwi_detect_eval_add(struct hwi_detect_eval *e, double iou);

#endif /* HWI_DETECT_H */
