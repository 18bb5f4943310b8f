/* check_detect.c: lib/detect.c's refinement views: a box maps into a view
 * and back exactly (as pixels), the view of a box, the sampler against
 * values worked out by hand and against hwi_aug_warp (hwi-detect's former
 * zoom), training samples whose target covers the bright box they show,
 * and the model mark. */
#include <config.h>

#include "check_hwi.h"
#include "detect.h"
#include "train.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A box in pixels goes to fractions, into a view, out of it and back to
 * the same pixels, for views that pass the photo's edges too. */
START_TEST(test_view_roundtrip)
{
    static const long size[][2] = {{640, 480}, {1023, 77}, {64, 64}, {3000, 1999}};
    static const float views[][4] = {{0, 0, 1, 1},
                                     {0.1f, 0.25f, 0.7f, 0.55f},
                                     {-0.2f, -0.1f, 1.3f, 0.4f},
                                     {0.33f, 0.01f, 0.34f, 0.99f}};
    struct hwi_rng r;
    hwi_rng_seed(&r, 7);
    for (int s = 0; s < 4; s++)
        for (int v = 0; v < 4; v++)
            for (int k = 0; k < 200; k++) {
                long w = size[s][0], h = size[s][1];
                long x0 = (long)hwi_rng_below(&r, (uint64_t)w),
                     y0 = (long)hwi_rng_below(&r, (uint64_t)h);
                long x1 = x0 + (long)hwi_rng_below(&r, (uint64_t)(w - x0));
                long y1 = y0 + (long)hwi_rng_below(&r, (uint64_t)(h - y0));
                struct hwi_rect a = {x0, y0, x1, y1}, b;
                float f[4], in[4], back[4];
                hwi_detect_to_frac(&a, w, h, f);
                hwi_detect_to_view(views[v], f, in);
                hwi_detect_from_view(views[v], in, back);
                for (int e = 0; e < 4; e++)
                    ck_assert_float_eq_tol(back[e], f[e], 1e-6);
                hwi_detect_from_frac(back, w, h, &b);
                ck_assert_int_eq(b.x0, a.x0);
                ck_assert_int_eq(b.y0, a.y0);
                ck_assert_int_eq(b.x1, a.x1);
                ck_assert_int_eq(b.y1, a.y1);
            }
}
END_TEST

/* The view of a box: grown by the margin; clamped, sorted, a least side. */
START_TEST(test_view_of)
{
    float v[4];
    hwi_detect_view_of((const float[4]){0.2f, 0.3f, 0.6f, 0.5f}, 0.25, v);
    ck_assert_float_eq_tol(v[0], 0.1, 1e-6);
    ck_assert_float_eq_tol(v[1], 0.25, 1e-6);
    ck_assert_float_eq_tol(v[2], 0.7, 1e-6);
    ck_assert_float_eq_tol(v[3], 0.55, 1e-6);
    /* x: [0.8, 1.2] clamped to [0.8, 1], side 0.2; y inverted: [0.4, 0.5] */
    hwi_detect_view_of((const float[4]){1.2f, 0.5f, 0.8f, 0.4f}, 0.25, v);
    ck_assert_float_eq_tol(v[0], 0.75, 1e-6);
    ck_assert_float_eq_tol(v[2], 1.05, 1e-6);
    ck_assert_float_eq_tol(v[1], 0.375, 1e-6);
    ck_assert_float_eq_tol(v[3], 0.525, 1e-6);
    /* a point: side 1/64 about it, grown by half of that each way */
    hwi_detect_view_of((const float[4]){0.5f, 0.5f, 0.5f, 0.5f}, 0.25, v);
    ck_assert_float_eq_tol(v[0], 0.5 - 0.75 / 64, 1e-6);
    ck_assert_float_eq_tol(v[3], 0.5 + 0.75 / 64, 1e-6);
}
END_TEST

/* On a plane linear in x and y, bilinear sampling is exact: the 2 x 2
 * view of the whole 4 x 4 plane reads the plane at (2x + 1/2, 2y + 1/2);
 * left of the photo the edge column repeats. */
START_TEST(test_view_sample)
{
    uint8_t src[16];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            src[4 * y + x] = (uint8_t)(10 * x + 50 * y);
    float dst[4];
    hwi_detect_view_sample(src, 4, (const float[4]){0, 0, 1, 1}, dst, 2);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            ck_assert_float_eq_tol(dst[2 * y + x],
                                   (10 * (2 * x + 0.5) + 50 * (2 * y + 0.5)) / 255, 1e-6);
    /* x fractions [-1, 0]: every column samples left of pixel 0's centre */
    hwi_detect_view_sample(src, 4, (const float[4]){-1, 0, 0, 1}, dst, 2);
    ck_assert_float_eq_tol(dst[0], 50 * 0.5 / 255, 1e-6);
    ck_assert_float_eq_tol(dst[1], 50 * 0.5 / 255, 1e-6);
    ck_assert_float_eq_tol(dst[3], 50 * 2.5 / 255, 1e-6);
}
END_TEST

/* The view of the middle 90% is hwi-detect's former zoomed view, source =
 * 0.9 x + 0.05 (S - 1) by hwi_aug_warp. */
START_TEST(test_view_is_zoom)
{
    enum { S = 16 };
    uint8_t src[S * S];
    float f[S * S], a[S * S], b[S * S];
    struct hwi_rng r;
    hwi_rng_seed(&r, 3);
    for (int i = 0; i < S * S; i++) {
        src[i] = (uint8_t)hwi_rng_below(&r, 256);
        f[i] = src[i] / 255.0f;
    }
    double c = (S - 1) / 2.0 * 0.1, m[6] = {0.9, 0, c, 0, 0.9, c};
    hwi_aug_warp(f, a, S, S, m);
    hwi_detect_view_sample(src, S, (const float[4]){0.05f, 0.05f, 0.95f, 0.95f}, b, S);
    for (int i = 0; i < S * S; i++)
        ck_assert_float_eq_tol(b[i], a[i], 1e-5);
}
END_TEST

/* Training samples: on a plane that is bright inside the box and dark
 * outside, the input is bright well inside its target and dark well
 * outside it, for whole-photo and view samples, augmented (zoom, shift,
 * flip, brightness/contrast) or not. */
START_TEST(test_sample_target)
{
    enum { S = 32, P = 2 * S };
    static uint8_t src[P * P];
    const float box[4] = {0.25f, 0.375f, 0.75f, 0.625f}; /* pixels 16..47, 24..39 */
    for (int y = 0; y < P; y++)
        for (int x = 0; x < P; x++)
            src[P * y + x] = x >= 16 && x < 48 && y >= 24 && y < 40 ? 255 : 0;
    struct hwi_rng r;
    hwi_rng_seed(&r, 11);
    float x[S * S], t[4], work[S * S];
    int flipped = 0;
    for (int k = 0; k < 400; k++) {
        int view = k % 2, augment = k % 4 >= 2;
        hwi_detect_sample(&r, src, S, box, view, augment, x, t, work);
        ck_assert(t[0] < t[2] && t[1] < t[3]);
        if (view && !augment) /* a jittered, grown view: the box inside */
            ck_assert(t[0] > -0.2 && t[2] < 1.2 && t[2] - t[0] > 0.4);
        flipped += augment && view && t[0] > 1 - t[2] + 1e-3;
        double d = 1.5 / S;
        int wrong = 0;
        for (int py = 0; py < S; py++)
            for (int px = 0; px < S; px++) {
                double fx = (px + 0.5) / S, fy = (py + 0.5) / S;
                float v = x[S * py + px];
                /* counted, not asserted per pixel: each Check assertion
                 * writes to the parent's pipe */
                if (fx > t[0] + d && fx < t[2] - d && fy > t[1] + d && fy < t[3] - d)
                    wrong += v <= 0.5;
                else if (fx < t[0] - d || fx > t[2] + d || fy < t[1] - d || fy > t[3] + d)
                    wrong += v >= 0.5;
            }
        ck_assert_msg(wrong == 0, "sample %d: %d pixels on the wrong side of the box", k,
                      wrong);
    }
    /* the box sits in the middle: only a flip or the jitter moves it off
     * centre, and the unflipped jitter is as likely left as right */
    ck_assert_int_gt(flipped, 10);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(test_cfg_mark)
{
    char err[HWI_ERRLEN];
    char a[4096], b[4096]; /* test_tmppath's buffer is reused */
    snprintf(a, sizeof a, "%s", test_tmppath("marked.cfg"));
    snprintf(b, sizeof b, "%s", test_tmppath("plain.cfg"));
    write_file(a, "# a detector\n  #hwi-detect-views = 1: trained on views\n[net]\nbatch=1\n");
    write_file(b, "# hwi-detect-views=0\n[net]\n# hwi-detect-view=1\nbatch=1\n");
    ck_assert_int_eq(hwi_detect_cfg_views(a, err), 1);
    ck_assert_int_eq(hwi_detect_cfg_views(b, err), 0);
    ck_assert_int_eq(hwi_detect_cfg_views(test_tmppath("missing.cfg"), err), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing.cfg"));
}
END_TEST

Suite *make_detect_suite(void)
{
    Suite *s = suite_create("detect");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_view_roundtrip);
    tcase_add_test(tc, test_view_of);
    tcase_add_test(tc, test_view_sample);
    tcase_add_test(tc, test_view_is_zoom);
    tcase_add_test(tc, test_sample_target);
    tcase_add_test(tc, test_cfg_mark);
    suite_add_tcase(s, tc);
    return s;
}
