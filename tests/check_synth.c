/* check_synth.c: the synthetic data set: the plan's label statistics at the
 * competition's scale, unique Kaggle-like names, determinism, and rendered
 * photos (sizes, boxes, same bytes twice). */
#include <config.h>

#include "check_hwi.h"
#include "image.h"
#include "map.h"
#include "synth.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

START_TEST(test_presets)
{
    char err[HWI_ERRLEN];
    struct hwi_synth_config c;
    ck_assert_int_eq(hwi_synth_config_preset(&c, "full", err), 0);
    ck_assert_int_eq(c.named, 5004);
    ck_assert_int_eq(c.train, 25361);
    ck_assert_int_eq(c.test, 7960);
    ck_assert_int_eq(hwi_synth_config_preset(&c, "tiny", err), 0);
    ck_assert_int_eq(hwi_synth_config_preset(&c, "small", err), 0);
    ck_assert_int_eq(hwi_synth_config_preset(&c, "huge", err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown scale 'huge'"));
    /* fewer named photos than named individuals cannot be drawn */
    hwi_synth_config_preset(&c, "tiny", err);
    c.named = 1000;
    struct hwi_synth_plan p;
    ck_assert_int_eq(hwi_synth_plan_make(&p, &c, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad data set sizes"));
}
END_TEST

/* The competition's train.csv: 25361 photos, 9664 new_whale (38.1%), 5004
 * named individuals, 2073 of them with one photo, at most 73 photos; in
 * test about 28% of the photos are of individuals absent from train. */
START_TEST(test_full_stats)
{
    char err[HWI_ERRLEN];
    struct hwi_synth_config c;
    hwi_synth_config_preset(&c, "full", err);
    struct hwi_synth_plan p;
    ck_assert_int_eq(hwi_synth_plan_make(&p, &c, err), 0);
    struct hwi_synth_stats s;
    hwi_synth_stats(&p, &s);
    ck_assert_uint_eq(s.train, 25361);
    ck_assert_uint_eq(s.test, 7960);
    ck_assert_uint_eq(s.named, 5004);
    ck_assert_uint_eq(s.train_nw, 9664);
    ck_assert_double_eq_tol((double)s.test_nw / (double)s.test, 0.28, 0.005);
    ck_assert_uint_eq(s.hist[0], 2073);
    ck_assert(s.hist[1] > s.hist[2] && s.hist[2] > s.hist[3]);
    ck_assert(s.max_photos >= 40 && s.max_photos <= 80);
    ck_assert(s.unnamed > 9000); /* many different unnamed individuals */
    ck_assert(s.scarred > 0);

    /* names: unique, 8 hex digits + .jpg; ids w_ + 7 hex digits, unique */
    struct hwi_map seen = {0};
    for (size_t i = 0; i < p.nphoto; i++) {
        const char *n = p.photo[i].name;
        ck_assert_uint_eq(strlen(n), 12);
        ck_assert(is_hex(n, 8));
        ck_assert_str_eq(n + 8, ".jpg");
        ck_assert_int_eq(hwi_map_put(&seen, n, i, NULL), 1);
    }
    for (size_t w = 0; w < p.nwhale; w++) {
        const char *id = p.whale[w].id;
        if (strcmp(id, "new_whale") == 0)
            continue;
        ck_assert_uint_eq(strlen(id), 9);
        ck_assert(id[0] == 'w' && id[1] == '_' && is_hex(id + 2, 7));
        ck_assert_int_eq(hwi_map_put(&seen, id, w, NULL), 1);
        /* every named individual is in train */
        ck_assert_uint_ge(p.whale[w].ntrain, 1);
    }
    hwi_map_free(&seen);
    /* photos of one whale are contiguous and agree with the counts */
    for (size_t w = 0; w < p.nwhale; w++) {
        ck_assert_uint_eq(p.first[w + 1] - p.first[w], p.whale[w].ntrain + p.whale[w].ntest);
        for (size_t i = p.first[w]; i < p.first[w + 1]; i++)
            ck_assert_uint_eq(p.photo[i].whale, w);
    }
    hwi_synth_plan_free(&p);
}
END_TEST

START_TEST(test_plan_seed)
{
    char err[HWI_ERRLEN];
    struct hwi_synth_config c;
    hwi_synth_config_preset(&c, "small", err);
    struct hwi_synth_plan a, b, d;
    ck_assert_int_eq(hwi_synth_plan_make(&a, &c, err), 0);
    ck_assert_int_eq(hwi_synth_plan_make(&b, &c, err), 0);
    c.seed = 2;
    ck_assert_int_eq(hwi_synth_plan_make(&d, &c, err), 0);
    ck_assert_uint_eq(a.nphoto, b.nphoto);
    int same = 1;
    for (size_t i = 0; i < a.nphoto; i++) {
        ck_assert_str_eq(a.photo[i].name, b.photo[i].name);
        ck_assert_uint_eq(a.photo[i].whale, b.photo[i].whale);
        same &= i < d.nphoto && !strcmp(a.photo[i].name, d.photo[i].name);
    }
    ck_assert(!same);
    hwi_synth_plan_free(&a);
    hwi_synth_plan_free(&b);
    hwi_synth_plan_free(&d);
}
END_TEST

START_TEST(test_render)
{
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_init("check_hwi", 1, err), 0);
    struct hwi_synth_config c;
    hwi_synth_config_preset(&c, "tiny", err);
    struct hwi_synth_plan p;
    ck_assert_int_eq(hwi_synth_plan_make(&p, &c, err), 0);
    for (size_t i = 0; i < p.nphoto; i += 7) {
        struct hwi_synth_image a, b;
        ck_assert_int_eq(hwi_synth_render(&p, i, &a, err), 0);
        ck_assert_int_eq(hwi_synth_render(&p, i, &b, err), 0);
        ck_assert(a.w >= c.min_w && a.w <= c.max_w);
        ck_assert(a.h >= a.w / 2 - 1 && a.h <= a.w + 1);
        ck_assert(a.bands == 1 || a.bands == 3);
        ck_assert(a.quality >= 50 && a.quality <= 100);
        ck_assert(0 <= a.x0 && a.x0 <= a.x1 && a.x1 < a.w);
        ck_assert(0 <= a.y0 && a.y0 <= a.y1 && a.y1 < a.h);
        /* the box holds a fluke, not a sliver */
        ck_assert(a.x1 - a.x0 > a.w / 5);
        ck_assert(a.y1 - a.y0 > 3);
        ck_assert_int_eq(memcmp(&a, &b, offsetof(struct hwi_synth_image, pix)), 0);
        ck_assert_int_eq(a.x0, b.x0);
        ck_assert_int_eq(a.y1, b.y1);
        ck_assert_mem_eq(a.pix, b.pix, (size_t)a.w * a.h * a.bands);
        /* not a blank picture */
        size_t n = (size_t)a.w * a.h * a.bands;
        int lo = 255, hi = 0;
        for (size_t k = 0; k < n; k++) {
            lo = a.pix[k] < lo ? a.pix[k] : lo;
            hi = a.pix[k] > hi ? a.pix[k] : hi;
        }
        ck_assert_int_gt(hi - lo, 60);
        free(a.pix);
        free(b.pix);
    }
    struct hwi_synth_image im;
    ck_assert_int_eq(hwi_synth_render(&p, p.nphoto, &im, err), -1);
    hwi_synth_plan_free(&p);
}
END_TEST

/* --shift: train photos as without it, test photos from the other camera
 * (JPEG quality 25-45), deterministic. */
START_TEST(test_shift)
{
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_init("check_hwi", 1, err), 0);
    struct hwi_synth_config c;
    hwi_synth_config_preset(&c, "tiny", err);
    struct hwi_synth_plan p, q;
    ck_assert_int_eq(hwi_synth_plan_make(&p, &c, err), 0);
    c.shift = 1;
    ck_assert_int_eq(hwi_synth_plan_make(&q, &c, err), 0);
    int ntest = 0;
    for (size_t i = 0; i < p.nphoto; i += 3) {
        struct hwi_synth_image a, b, b2;
        ck_assert_int_eq(hwi_synth_render(&p, i, &a, err), 0);
        ck_assert_int_eq(hwi_synth_render(&q, i, &b, err), 0);
        ck_assert_int_eq(hwi_synth_render(&q, i, &b2, err), 0);
        ck_assert_int_eq(b.w, b2.w);
        ck_assert_int_eq(b.h, b2.h);
        ck_assert_mem_eq(b.pix, b2.pix, (size_t)b.w * b.h * b.bands);
        if (p.photo[i].split == HWI_SYNTH_TRAIN) {
            ck_assert_int_eq(a.w, b.w);
            ck_assert_int_eq(a.h, b.h);
            ck_assert_int_eq(a.quality, b.quality);
            ck_assert_int_eq(a.x0, b.x0);
            ck_assert_mem_eq(a.pix, b.pix, (size_t)a.w * a.h * a.bands);
        } else {
            ntest++;
            ck_assert(a.quality >= 55 && b.quality >= 25 && b.quality <= 45);
            ck_assert(0 <= b.x0 && b.x0 <= b.x1 && b.x1 < b.w);
            ck_assert(b.x1 - b.x0 > b.w / 5);
        }
        free(a.pix);
        free(b.pix);
        free(b2.pix);
    }
    ck_assert_int_gt(ntest, 3);
    hwi_synth_plan_free(&p);
    hwi_synth_plan_free(&q);
}
END_TEST

Suite *make_synth_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *tc = tcase_create("Core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_presets);
    tcase_add_test(tc, test_full_stats);
    tcase_add_test(tc, test_plan_seed);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_shift);
    suite_add_tcase(s, tc);
    return s;
}
