/* tta.h: test-time augmentation, the embedding and logits of an image
 * averaged over several views of it (hwi-embed --tta).
 *
 * The views are the image itself plus one per mode: HWI_TTA_FLIP, the
 * image mirrored left to right; HWI_TTA_ZOOM, a centred zoom-in by
 * HWI_TTA_ZOOM_FACTOR (bilinear, as training's augmentation samples).
 * The features are the L2-normalised mean of the views' (L2-normalised)
 * features; the logits are the mean of the views' logits, so that
 * softmax(c * logits) downstream is the normalised geometric mean of the
 * views' softmax(c * logits).
 *
 * Functions returning int return 0 on success, -1 with a message in ERR
 * (HWI_ERRLEN bytes).  Nothing here prints or exits. */
#ifndef HWI_TTA_H
#define HWI_TTA_H

#include "err.h"
#include "nn.h"

#define HWI_TTA_FLIP 1u
#define HWI_TTA_ZOOM 2u
#define HWI_TTA_ZOOM_FACTOR 1.1

/* Parse a comma-separated list of modes ("flip", "zoom") into *MODES. */
int hwi_tta_parse(const char *list, unsigned *modes, char *err);

/* The number of views MODES gives (1 + one per mode). */
int hwi_tta_views(unsigned modes);

/* Write view V (0 .. hwi_tta_views(MODES) - 1; 0 is a copy) of the N
 * images X (C planes of W x H each, batch-major) to DST. */
void hwi_tta_view(unsigned modes, int v, const float *x, float *dst, int n, int w, int h,
                  int c);

/* hwi_nn_forward of the N images X, averaged over the views of MODES (see
 * above); MODES 0 is a plain hwi_nn_forward. */
int hwi_tta_forward(struct hwi_nn *nn, unsigned modes, const float *x, int n, float *features,
                    float *logits, char *err);

#endif /* HWI_TTA_H */
