/* detect.h: the box arithmetic of hwi-detect(1), network-free.
 *
 * A box regressor sees the whole photo squished to S x S and predicts the
 * fluke box as four fractions of the photo's width and height, the box's
 * outer edges (x0, y0, x1 + 1, y1 + 1) / (W, H): a box file's inclusive
 * pixel box (csv.h) and its fractions convert both ways here.  Also the
 * augmentation that moves a box with its image, and the IoU figures of a
 * set of predicted boxes against the true ones.
 *
 * Refinement (hwi-detect --refine): a model trained on views sees, after
 * its first box, a view of that box grown by HWI_DETECT_MARGIN on each
 * side, sampled at twice the scale (from the photo squished to 2S x 2S,
 * so a view of half the photo keeps its detail at S x S), and predicts the
 * box as fractions of the view; hwi_detect_from_view maps them back to
 * the photo.  The first pass is the view of the whole photo, {0, 0, 1, 1},
 * sampled from the same 2S x 2S plane (a 2 x 2 average).  Such a model's
 * .cfg carries the line HWI_DETECT_MARK; one without it predicts with its
 * first pass only, from the photo squished to S x S.
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
void hwi_detect_augment(struct hwi_rng *r, double scale, double shift, const float *src,
                        float *dst, int s, const float box[4], float out[4]);

/* The mark of a model trained on refinement views: a comment line of its
 * .cfg (blanks ignored, as in any .cfg line). */
#define HWI_DETECT_MARK "# hwi-detect-views=1"
/* A view is its box grown by this fraction of the box's side each way. */
#define HWI_DETECT_MARGIN 0.25

/* 1 when the .cfg at PATH carries HWI_DETECT_MARK, 0 when not, -1 with
 * ERR set when it cannot be read. */
int hwi_detect_cfg_views(const char *path, char *err);

/* The view VIEW (fractions of the photo) of box BOX: BOX clamped to
 * [0, 1], its edges sorted, each side at least 1/64 about its centre,
 * then grown by MARGIN of its side each way (it may pass the photo's
 * edges). */
void hwi_detect_view_of(const float box[4], double margin, float view[4]);

/* Box BOX (fractions of the photo) as fractions of view VIEW, into OUT;
 * values outside [0, 1] are edges beyond the view. */
void hwi_detect_to_view(const float view[4], const float box[4], float out[4]);

/* The inverse: box VBOX (fractions of VIEW) in fractions of the photo:
 * view[0] + vbox[0] (view[2] - view[0]), and so on. */
void hwi_detect_from_view(const float view[4], const float vbox[4], float out[4]);

/* Sample view VIEW of the P x P gray plane SRC (the whole photo squished,
 * bytes) bilinearly into the S x S floats DST in [0, 1]: DST pixel (x, y)
 * is SRC at the point whose fractions are view[0] + (x + 1/2) / S
 * (view[2] - view[0]) and likewise for y, edges replicated. */
void hwi_detect_view_sample(const uint8_t *src, int p, const float view[4], float *dst, int s);

/* One training sample of a model trained on views, from the 2S x 2S plane
 * SRC of a photo whose true box is BOX (fractions): with VIEW 0 the whole
 * photo (zoomed and shifted by hwi_detect_augment when AUGMENT), with
 * VIEW 1 a refinement view of BOX with each edge moved by up to
 * HWI_DETECT_JITTER of its side (a first pass's error) and grown as at
 * prediction.  With AUGMENT, a brightness/contrast change and, half of
 * the time, a horizontal flip.  Writes the S x S input X and its target
 * T (fractions of the input).  WORK is S x S floats of scratch. */
#define HWI_DETECT_JITTER 0.15
void hwi_detect_sample(struct hwi_rng *r, const uint8_t *src, int s, const float box[4],
                       int view, int augment, float *x, float t[4], float *work);

/* IoU figures: the mean and the shares at or above 0.5, 0.75 and 0.9. */
struct hwi_detect_eval {
    size_t n;
    double sum;
    size_t at50, at75, at90;
};

void hwi_detect_eval_add(struct hwi_detect_eval *e, double iou);

#endif /* HWI_DETECT_H */
