/* image.h: photo and crop I/O on libvips.
 *
 * The only module that includes vips/vips.h.  Call hwi_image_init once
 * before anything else here.  Pixels in memory are 8-bit, interleaved
 * (row-major, BANDS bytes per pixel).
 *
 * hwi_image_crop is the first step of the method (hwi-crop(1)): one photo
 * in, one S x S 8-bit grayscale crop out, through one demand-driven libvips
 * pipeline:
 *
 *   open (sequential) -> [JPEG shrink-on-load] -> crop -> [EXIF rotate]
 *   -> 8-bit gray -> squish to S x S
 *
 * Several threads may call it at once on different photos. */
#ifndef HWI_IMAGE_H
#define HWI_IMAGE_H

#include "err.h"

#include <stdint.h>

/* Start libvips; THREADS is its worker-thread count (0: its default).
 * Returns 0, or -1 with ERR set. */
int hwi_image_init(const char *argv0, int threads, char *err);

/* Shut libvips down (frees its caches; optional at exit). */
void hwi_image_shutdown(void);

/* Write the W x H image of BANDS (1 gray, 3 RGB) bytes per pixel at PIX to
 * PATH; the format follows PATH's suffix (.jpg, .png, ...).  QUALITY is the
 * JPEG quality (1..100; ignored for lossless formats).  The file appears
 * whole or not at all (written under a temporary name, then renamed).
 * Returns 0, or -1 with ERR set. */
int hwi_image_write(const uint8_t *pix, int w, int h, int bands, int quality, const char *path,
                    char *err);

/* hwi_image_write with the zlib level COMPRESSION (0 none .. 9 smallest) for
 * PNG; -1 is libvips' default (6), and other formats ignore it. */
int hwi_image_save(const uint8_t *pix, int w, int h, int bands, int quality, int compression,
                   const char *path, char *err);

/* Interpolation kernels of the final resize, libvips' own. */
enum hwi_kernel {
    HWI_KERNEL_NEAREST,
    HWI_KERNEL_LINEAR,
    HWI_KERNEL_CUBIC,
    HWI_KERNEL_MITCHELL,
    HWI_KERNEL_LANCZOS2,
    HWI_KERNEL_LANCZOS3,
};

/* The kernel called NAME ("nearest", "linear", "cubic", "mitchell",
 * "lanczos2", "lanczos3"), or -1 if there is none. */
int hwi_image_kernel(const char *name);

/* How hwi_image_crop works. */
struct hwi_crop_params {
    int size;           /* S: the crop is S x S pixels, e.g. 384 */
    double margin;      /* added on each side, as a fraction of the box's
                          width and height, e.g. 0.1 */
    int kernel;         /* enum hwi_kernel, e.g. HWI_KERNEL_LANCZOS3 */
    int autorotate;     /* 1: boxes refer to the photo turned upright by
                          its EXIF orientation; 0: to the stored pixels */
    int shrink_on_load; /* 1: let JPEG decode at 1/2, 1/4 or 1/8 scale when
                          the crop is at least 4x larger than S both ways */
};

/* A box in photo pixels, x1/y1 inclusive as in bounding_boxes.csv;
 * 0 <= x0 <= x1 and 0 <= y0 <= y1. */
struct hwi_rect {
    long x0, y0, x1, y1;
};

/* Crop the photo at PATH to BOX (NULL: the whole photo) and write its
 * P->size * P->size gray pixels, row-major, one byte each, to PIX.
 *
 * The crop is the original author's (apply_bboxes.py): with w = x1 - x0 and
 * h = y1 - y0, the columns [max(0, floor(x0 - m*w)), min(W, floor(x1 + m*w)))
 * and the rows likewise, at least one pixel each way; W x H is the photo's
 * size (upright when P->autorotate).  It fails when the box starts at or
 * beyond the photo's right or bottom edge.
 *
 * Any band count, format and interpretation is made 8-bit gray: alpha and
 * extra bands are dropped, CMYK and other colour spaces go to sRGB first,
 * 16-bit values are divided by 256, and gray = round(0.299 R + 0.587 G +
 * 0.114 B) on the stored values (Pillow's convert("L")).  The gray crop is
 * then resized to S x S without keeping its aspect ratio.
 *
 * A truncated or corrupt photo is an error, not a gray-filled crop.
 * Returns 0, or -1 with "PATH: what is wrong" in ERR. */
int hwi_image_crop(const char *path, const struct hwi_rect *box,
                   const struct hwi_crop_params *p, uint8_t *pix, char *err);

/* Draw TEXT (UTF-8, plain text: '<' and '&' are characters, not markup) in
 * FONT (a Pango font description, e.g. "DejaVu Sans 12px") onto the W x H
 * region of a gray image whose top left pixel is at PIX and whose rows are
 * STRIDE bytes apart, dark on light: each pixel becomes
 * min(pixel, 255 - ink).  A line wider than W keeps its end (the end of a
 * file name tells most) and loses its start; text taller than H loses its
 * bottom.  An empty TEXT draws nothing.  Returns 0, or -1 with ERR set. */
int hwi_image_text(const char *text, const char *font, uint8_t *pix, int w, int h,
                   size_t stride, char *err);

/* The whole photo at PATH as hwi_image_crop makes it with no box (gray,
 * squished to P->size x P->size, upright when P->autorotate, JPEG
 * shrink-on-load when P->shrink_on_load), and in *W x *H the size of the
 * photo that boxes refer to (upright when P->autorotate).  This is the
 * input of a box detector (hwi-detect(1)).  With P->shrink_on_load, a
 * JPEG of at least that size (YCbCr, gray or RGB) is read by libjpeg
 * instead, about ten times faster on small photos: its luma (Y) alone at
 * the smallest DCT scale M/8 that keeps both sides at least P->size, an
 * area average to the square, the EXIF orientation read from its APP1;
 * within about one grey level of the libvips way on average.  Any libjpeg
 * error or warning sends the photo the libvips way, which decides whether
 * it is bad.  Returns 0, or -1 with ERR. */
int hwi_image_thumb(const char *path, const struct hwi_crop_params *p, uint8_t *pix, long *w,
                    long *h, char *err);

#endif /* HWI_IMAGE_H */
