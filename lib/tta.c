/* tta.c: test-time augmentation over a network's forward pass; see tta.h. */
#include <config.h>

#include "tta.h"
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned mode;
} modes_[] = {{"flip", HWI_TTA_FLIP}, {"zoom", HWI_TTA_ZOOM}};
#define NMODES (sizeof modes_ / sizeof modes_[0])

int hwi_tta_parse(const char *list, unsigned *modes, char *err)
{
    *modes = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t i;
        for (i = 0; i < NMODES; i++)
            if (strlen(modes_[i].name) == len && !strncmp(p, modes_[i].name, len))
                break;
        if (i == NMODES)
            return hwi_seterr(err, "'%.*s': not a TTA mode (flip, zoom)", (int)len, p);
        *modes |= modes_[i].mode;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

int hwi_tta_views(unsigned modes)
{
    int v = 1;
    for (size_t i = 0; i < NMODES; i++)
        v += (modes & modes_[i].mode) != 0;
    return v;
}

/* The mode of view V >= 1. */
static unsigned view_mode(unsigned modes, int v)
{
    for (size_t i = 0; i < NMODES; i++)
        if ((modes & modes_[i].mode) && --v == 0)
            return modes_[i].mode;
    return 0;
}

void hwi_tta_view(unsigned modes, int v, const float *x, float *dst, int n, int w, int h,
                  int c)
{
    size_t plane = (size_t)w * h, planes = (size_t)n * c;
    unsigned mode = v > 0 ? view_mode(modes, v) : 0;
    if (mode == HWI_TTA_FLIP) {
        for (size_t k = 0; k < planes; k++)
            for (int y = 0; y < h; y++) {
                const float *s = x + k * plane + (size_t)y * w;
                float *d = dst + k * plane + (size_t)y * w;
                for (int i = 0; i < w; i++)
                    d[i] = s[w - 1 - i];
            }
    } else if (mode == HWI_TTA_ZOOM) {
        /* destination pixel -> source pixel, about the centre */
        double s = 1 / HWI_TTA_ZOOM_FACTOR, cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        double m[6] = {s, 0, cx - s * cx, 0, s, cy - s * cy};
        for (size_t k = 0; k < planes; k++)
            hwi_aug_warp(x + k * plane, dst + k * plane, w, h, m);
    } else {
        memcpy(dst, x, planes * plane * sizeof *dst);
    }
}

int hwi_tta_forward(struct hwi_nn *nn, unsigned modes, const float *x, int n, float *features,
                    float *logits, char *err)
{
    if (!modes)
        return hwi_nn_forward(nn, x, n, features, logits, err);
    struct hwi_nn_info in;
    hwi_nn_get_info(nn, &in);
    size_t dim = (size_t)in.w * in.h * in.c, nf = (size_t)n * in.feature_dim,
           nl = (size_t)n * in.classes;
    float *view = malloc((size_t)n * dim * sizeof *view);
    float *f = features ? malloc(nf * sizeof *f) : NULL;
    float *l = logits ? malloc(nl * sizeof *l) : NULL;
    int rc = -1, views = hwi_tta_views(modes);
    if (!view || (features && !f) || (logits && !l)) {
        hwi_seterr(err, "out of memory");
        goto out;
    }
    if (features)
        memset(features, 0, nf * sizeof *features);
    if (logits)
        memset(logits, 0, nl * sizeof *logits);
    for (int v = 0; v < views; v++) {
        hwi_tta_view(modes, v, x, view, n, in.w, in.h, in.c);
        if (hwi_nn_forward(nn, view, n, f, l, err))
            goto out;
        for (size_t i = 0; features && i < nf; i++)
            features[i] += f[i] / views;
        for (size_t i = 0; logits && i < nl; i++)
            logits[i] += l[i] / views;
    }
    for (int i = 0; features && i < n; i++) {
        float *fi = features + (size_t)i * in.feature_dim;
        double s = 0;
        for (int j = 0; j < in.feature_dim; j++)
            s += (double)fi[j] * fi[j];
        if (s > 0)
            for (int j = 0; j < in.feature_dim; j++)
                fi[j] = (float)(fi[j] / sqrt(s));
    }
    rc = 0;
out:
    free(view);
    free(f);
    free(l);
    return rc;
}
