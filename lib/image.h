/* image.h: photo and crop I/O on libvips.
 *
 * The only module that includes vips/vips.h.  Call hwi_image_init once
 * before anything else here.  Pixels in memory are 8-bit, interleaved
 * (row-major, BANDS bytes per pixel). */
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
int hwi_image_write(const uint8_t *pix, int w, int h, int bands, int quality,
                    const char *path, char *err);

#endif /* HWI_IMAGE_H */
