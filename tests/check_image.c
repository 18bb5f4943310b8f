/* check_image.c: the crop pipeline of lib/image.c on images written by
 * hwi_image_save, with pixels computed by hand. */
#include <config.h>

#include "check_hwi.h"
#include "image.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hwi_crop_params nearest = {
    .size = 10,
    .margin = 0.1,
    .kernel = HWI_KERNEL_NEAREST,
    .autorotate = 1,
    .shrink_on_load = 1,
};

static void setup(void)
{
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_init("check_hwi", 1, err), 0);
}

/* A 20x12 gray PNG whose pixel (x, y) is 12x + y; returns its path. */
static const char *ramp_png(void)
{
    uint8_t pix[20 * 12];
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 20; x++)
            pix[y * 20 + x] = (uint8_t)(12 * x + y);
    const char *path = test_tmppath("ramp.png");
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_save(pix, 20, 12, 1, 0, 9, path, err), 0);
    return path;
}

START_TEST(test_kernel_names)
{
    ck_assert_int_eq(hwi_image_kernel("nearest"), HWI_KERNEL_NEAREST);
    ck_assert_int_eq(hwi_image_kernel("lanczos3"), HWI_KERNEL_LANCZOS3);
    ck_assert_int_eq(hwi_image_kernel("mitchell"), HWI_KERNEL_MITCHELL);
    ck_assert_int_eq(hwi_image_kernel("bicubic"), -1);
    ck_assert_int_eq(hwi_image_kernel(""), -1);
}
END_TEST

START_TEST(test_crop_exact)
{
    /* box (5,2)-(14,11): w = h = 9, margin 0.9 px: columns 4..13, rows
     * 1..10, copied by the nearest kernel at size 10 */
    const char *path = ramp_png();
    struct hwi_rect box = {5, 2, 14, 11};
    uint8_t pix[100];
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_crop(path, &box, &nearest, pix, err), 0);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++)
            ck_assert_int_eq(pix[y * 10 + x], 12 * (x + 4) + (y + 1));
}
END_TEST

START_TEST(test_crop_whole_and_clamped)
{
    const char *path = ramp_png();
    char err[HWI_ERRLEN];
    /* margin 0: box (0,0)-(11,11) is columns [0,11) and rows [0,11) */
    struct hwi_crop_params p = nearest;
    p.size = 11;
    p.margin = 0;
    struct hwi_rect box = {0, 0, 11, 11};
    uint8_t pix[121];
    ck_assert_int_eq(hwi_image_crop(path, &box, &p, pix, err), 0);
    ck_assert_int_eq(pix[0], 0);
    ck_assert_int_eq(pix[120], 12 * 10 + 10);
    /* margin 2 on box (18,10)-(19,11), w = h = 1: columns 16 .. min(20, 21),
     * rows 8 .. min(12, 13), clamped to the 20x12 image */
    p.size = 4;
    p.margin = 2;
    box = (struct hwi_rect){18, 10, 19, 11};
    uint8_t small[16];
    ck_assert_int_eq(hwi_image_crop(path, &box, &p, small, err), 0);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            ck_assert_int_eq(small[y * 4 + x], 12 * (x + 16) + (y + 8));
}
END_TEST

START_TEST(test_crop_rgb_luma)
{
    /* Pillow's luma: (10,200,30) -> 123.81 -> 124, (255,0,0) -> 76 */
    uint8_t rgb[4 * 4 * 3];
    for (int i = 0; i < 16; i++) {
        int red = i % 4 < 2;
        rgb[3 * i] = red ? 255 : 10;
        rgb[3 * i + 1] = red ? 0 : 200;
        rgb[3 * i + 2] = red ? 0 : 30;
    }
    const char *path = test_tmppath("rgb.png");
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_save(rgb, 4, 4, 3, 0, -1, path, err), 0);
    struct hwi_crop_params p = nearest;
    p.size = 4;
    uint8_t pix[16];
    ck_assert_int_eq(hwi_image_crop(path, NULL, &p, pix, err), 0);
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(pix[i], i % 4 < 2 ? 76 : 124);
}
END_TEST

START_TEST(test_crop_errors)
{
    const char *path = ramp_png();
    uint8_t pix[100];
    char err[HWI_ERRLEN];
    struct hwi_rect outside = {20, 0, 30, 5};
    ck_assert_int_eq(hwi_image_crop(path, &outside, &nearest, pix, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "box (20,0)-(30,5) lies outside the 20x12 image"));
    const char *missing = test_tmppath("missing.png");
    ck_assert_int_eq(hwi_image_crop(missing, NULL, &nearest, pix, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing.png: No such file or directory"));
    /* a file that is no image */
    const char *text = test_tmppath("text.png");
    FILE *fp = fopen(text, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("not an image\n", fp);
    fclose(fp);
    ck_assert_int_eq(hwi_image_crop(text, NULL, &nearest, pix, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "text.png: "));
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

/* The JPEG PATH with an EXIF segment spliced in after its SOI marker: a
 * little-endian (LE) or big-endian TIFF whose IFD0 holds a dummy entry,
 * then Orientation = O.  Returns the new file's path. */
static const char *with_exif(const char *path, const char *name, int o, int le)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    static uint8_t jpg[1 << 16];
    size_t n = fread(jpg, 1, sizeof jpg, fp);
    fclose(fp);
    ck_assert(n > 2 && n < sizeof jpg);
    /* APP1: length 2 + 6 + 8 + 2 + 2 x 12 + 4 = 46 */
    uint8_t app[48] = {0xff, 0xe1, 0, 46, 'E', 'x', 'i', 'f', 0, 0};
    uint8_t *t = app + 10;
    const uint8_t le_head[8] = {'I', 'I', 42, 0, 8, 0, 0, 0};
    const uint8_t be_head[8] = {'M', 'M', 0, 42, 0, 0, 0, 8};
    memcpy(t, le ? le_head : be_head, 8);
    t[le ? 8 : 9] = 2; /* two entries */
    /* 0x010e ImageDescription (ASCII, unused), then 0x0112 SHORT count 1 */
    const uint8_t e1[2][12] = {{0x0e, 0x01, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0},
                               {0x01, 0x0e, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0}};
    const uint8_t e2[2][12] = {{0x12, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0},
                               {0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0}};
    memcpy(t + 10, e1[!le], 12);
    memcpy(t + 22, e2[!le], 12);
    t[22 + (le ? 8 : 9)] = (uint8_t)o;
    const char *out = test_tmppath(name);
    fp = fopen(out, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(jpg, 1, 2, fp);
    fwrite(app, 1, sizeof app, fp);
    fwrite(jpg + 2, 1, n - 2, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return out;
}

/* hwi_image_thumb's libjpeg way (shrink_on_load: the luma alone at a DCT
 * scale, an area average, EXIF orientation read by hand) against the
 * libvips way (the whole photo, Pillow's luma, lanczos3, libvips'
 * autorot): for each orientation, both byte orders, the same upright size
 * and nearly the same pixels; a turn or flip the wrong way is far off. */
START_TEST(test_thumb_jpeg)
{
    enum { W = 120, H = 72, S = 32 };
    static uint8_t rgb[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *q = rgb + 3 * (y * W + x);
            q[0] = (uint8_t)(2 * x);
            q[1] = (uint8_t)(x + y);
            q[2] = (uint8_t)(3 * y);
        }
    const char *plain = test_tmppath("thumb.jpg");
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_image_write(rgb, W, H, 3, 95, plain, err), 0);
    struct hwi_crop_params fast = {S, 0, HWI_KERNEL_LANCZOS3, 1, 1}, vips = fast;
    vips.shrink_on_load = 0;
    for (int o = 1; o <= 8; o++)
        for (int le = 0; le < 2; le++) {
            char name[32];
            snprintf(name, sizeof name, "thumb-%d%d.jpg", o, le);
            const char *path = with_exif(plain, name, o, le);
            uint8_t a[S * S], b[S * S];
            long aw, ah, bw, bh;
            ck_assert_int_eq(hwi_image_thumb(path, &fast, a, &aw, &ah, err), 0);
            ck_assert_int_eq(hwi_image_thumb(path, &vips, b, &bw, &bh, err), 0);
            ck_assert_int_eq(aw, bw);
            ck_assert_int_eq(ah, bh);
            ck_assert_int_eq(aw, o >= 5 ? H : W);
            double sum = 0;
            int most = 0;
            for (int i = 0; i < S * S; i++) {
                int d = abs(a[i] - b[i]);
                sum += d;
                most = d > most ? d : most;
            }
            ck_assert_msg(sum / (S * S) < 1 && most < 12,
                          "orientation %d (%s): mean |difference| %.2f, most %d", o,
                          le ? "II" : "MM", sum / (S * S), most);
        }
    /* a photo smaller than S, and a PNG, go the libvips way: the same bytes */
    struct hwi_crop_params big = fast, big_vips = vips;
    big.size = big_vips.size = 2 * W;
    static uint8_t a[4 * W * W], b[4 * W * W];
    long aw, ah, bw, bh;
    ck_assert_int_eq(hwi_image_thumb(plain, &big, a, &aw, &ah, err), 0);
    ck_assert_int_eq(hwi_image_thumb(plain, &big_vips, b, &bw, &bh, err), 0);
    ck_assert_mem_eq(a, b, sizeof a);
    const char *png = ramp_png();
    ck_assert_int_eq(hwi_image_thumb(png, &fast, a, &aw, &ah, err), 0);
    ck_assert_int_eq(hwi_image_thumb(png, &vips, b, &bw, &bh, err), 0);
    ck_assert_mem_eq(a, b, S * S);
    /* a cut JPEG: libjpeg warns, and libvips decides as for any photo */
    FILE *fp = fopen(plain, "rb");
    ck_assert_ptr_nonnull(fp);
    static uint8_t jpg[1 << 16];
    size_t n = fread(jpg, 1, sizeof jpg, fp);
    fclose(fp);
    const char *cut = test_tmppath("cut.jpg");
    fp = fopen(cut, "wb");
    fwrite(jpg, 1, n / 2, fp);
    fclose(fp);
    int rf = hwi_image_thumb(cut, &fast, a, &aw, &ah, err);
    int rv = hwi_image_thumb(cut, &vips, b, &bw, &bh, err);
    ck_assert_int_eq(rf, rv);
}
END_TEST

START_TEST(test_save_whole_or_nothing)
{
    uint8_t pix[4] = {1, 2, 3, 4};
    char err[HWI_ERRLEN];
    /* no suffix, and a folder that does not exist: errors, no file */
    ck_assert_int_eq(hwi_image_save(pix, 2, 2, 1, 0, 1, test_tmppath("nosuffix"), err), -1);
    ck_assert_int_eq(hwi_image_save(pix, 2, 2, 1, 0, 1, test_tmppath("no/dir/x.png"), err),
                     -1);
    /* compression changes the file, not the pixels */
    const char *path = test_tmppath("c0.png");
    ck_assert_int_eq(hwi_image_save(pix, 2, 2, 1, 0, 0, path, err), 0);
    struct hwi_crop_params p = nearest;
    p.size = 2;
    uint8_t back[4];
    ck_assert_int_eq(hwi_image_crop(path, NULL, &p, back, err), 0);
    ck_assert_mem_eq(back, pix, 4);
}
END_TEST

Suite *make_image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("Core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_kernel_names);
    tcase_add_test(tc, test_crop_exact);
    tcase_add_test(tc, test_crop_whole_and_clamped);
    tcase_add_test(tc, test_crop_rgb_luma);
    tcase_add_test(tc, test_thumb_jpeg);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_checked_fixture(lim, setup, NULL);
    tcase_add_test(lim, test_crop_errors);
    tcase_add_test(lim, test_save_whole_or_nothing);
    suite_add_tcase(s, lim);
    return s;
}
