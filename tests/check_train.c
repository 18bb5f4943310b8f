/* check_train.c: the network-free parts of hwi-train and hwi-embed (lib/
 * train.c): random numbers, the training set and its class order, label
 * lists, augmentation, the one-cycle schedule and top-k.  Reference values
 * were worked out by hand or with python3 (noted at each).
 *
 * A suite of tests/check_hwi: CK_RUN_SUITE=train runs it alone. */
#include <config.h>

#include "check_hwi.h"
#include "train.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* splitmix64 from state 0: the published first outputs (python3 check). */
START_TEST(test_rng)
{
    struct hwi_rng r;
    hwi_rng_seed(&r, 0);
    ck_assert_uint_eq(hwi_rng_next(&r), 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(hwi_rng_next(&r), 0x6e789e6aa1b965f4ull);
    ck_assert_uint_eq(hwi_rng_next(&r), 0x06c45d188009454full);
    for (int i = 0; i < 1000; i++) {
        double u = hwi_rng_uniform(&r, -2, 3);
        ck_assert(u >= -2 && u < 3);
    }
    /* a shuffle is a permutation, and the same seed gives the same one */
    size_t a[50], b[50];
    int seen[50] = {0};
    for (size_t i = 0; i < 50; i++)
        a[i] = b[i] = i;
    struct hwi_rng r1, r2;
    hwi_rng_seed(&r1, 7);
    hwi_rng_seed(&r2, 7);
    hwi_rng_shuffle(&r1, a, 50);
    hwi_rng_shuffle(&r2, b, 50);
    ck_assert_mem_eq(a, b, sizeof a);
    int moved = 0;
    for (size_t i = 0; i < 50; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (size_t i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 25);
}
END_TEST

/* A keyed stream of dim 2 with records (KEY[i], {i, -i}) in a temp file. */
static FILE *make_stream(char *const *key, int n, int keyed)
{
    FILE *fp = tmpfile();
    struct hwi_stream s;
    ck_assert_int_eq(
        hwi_stream_open_write(&s, fp, "mem", 2, keyed ? HWI_STREAM_KEYED : 0, NULL, 0), 0);
    for (int i = 0; i < n; i++) {
        float v[2] = {(float)i, (float)-i};
        ck_assert_int_eq(hwi_stream_write(&s, key[i], v), 0);
    }
    ck_assert_int_eq(hwi_stream_finish(&s), 0);
    hwi_stream_close(&s);
    rewind(fp);
    return fp;
}

static void make_labels(struct hwi_labels *l, const char *const *pairs)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; pairs[i]; i += 2)
        ck_assert_int_eq(hwi_labels_add(l, pairs[i], pairs[i + 1]), 0);
}

START_TEST(test_trainset)
{
    char *key[] = {"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"};
    const char *pairs[] = {"a.jpg", "w_b",   "b.jpg", "new_whale", "c.jpg", "w_a", "e.jpg",
                           "w_b",   "f.jpg", "w_c",   "z.jpg",     "w_z",   NULL};
    struct hwi_labels l;
    make_labels(&l, pairs);
    FILE *fp = make_stream(key, 6, 1);
    struct hwi_stream s;
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    struct hwi_trainset t;
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_trainset_load(&t, &s, &l, NULL, err), 0);
    hwi_stream_close(&s);
    fclose(fp);
    /* b is new_whale, d has no label, z is not in the stream */
    ck_assert_uint_eq(t.n, 4);
    ck_assert_uint_eq(t.new_whale, 1);
    ck_assert_uint_eq(t.unlabelled, 1);
    ck_assert_int_eq(t.dim, 2);
    ck_assert_int_eq(t.classes, 3);
    ck_assert_str_eq(t.label[0], "w_a");
    ck_assert_str_eq(t.label[1], "w_b");
    ck_assert_str_eq(t.label[2], "w_c");
    ck_assert_str_eq(t.key[0], "a.jpg");
    ck_assert_int_eq(t.y[0], 1);
    ck_assert_str_eq(t.key[1], "c.jpg");
    ck_assert_int_eq(t.y[1], 0);
    ck_assert_str_eq(t.key[3], "f.jpg");
    ck_assert_int_eq(t.y[3], 2);
    ck_assert_float_eq(t.x[2 * 3 + 0], 5.0f); /* f.jpg was record 6 */
    ck_assert_float_eq(t.x[2 * 3 + 1], -5.0f);

    /* a validation set keeps new_whale and unknown whales with y = -1 */
    const char *vpairs[] = {"a.jpg", "w_c", "b.jpg", "new_whale", "c.jpg", "w_q", NULL};
    struct hwi_labels vl;
    make_labels(&vl, vpairs);
    fp = make_stream(key, 4, 1);
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    struct hwi_trainset v;
    ck_assert_int_eq(hwi_trainset_load(&v, &s, &vl, &t, err), 0);
    hwi_stream_close(&s);
    fclose(fp);
    ck_assert_uint_eq(v.n, 3);
    ck_assert_uint_eq(v.unlabelled, 1);
    ck_assert_int_eq(v.classes, 0);
    ck_assert_int_eq(v.y[0], 2);
    ck_assert_int_eq(v.y[1], -1);
    ck_assert_str_eq(v.truth[1], "new_whale");
    ck_assert_int_eq(v.y[2], -1);
    hwi_trainset_free(&v);
    hwi_trainset_free(&t);
    hwi_labels_free(&vl);
    hwi_labels_free(&l);
}
END_TEST

START_TEST(test_trainset_errors)
{
    char *key[] = {"a.jpg", "b.jpg", "a.jpg"};
    const char *pairs[] = {"a.jpg", "w_a", NULL};
    struct hwi_labels l;
    make_labels(&l, pairs);
    char err[HWI_ERRLEN];
    struct hwi_stream s;
    struct hwi_trainset t;

    FILE *fp = make_stream(key, 3, 1);
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    ck_assert_int_eq(hwi_trainset_load(&t, &s, &l, NULL, err), -1);
    ck_assert_str_eq(err, "mem: record 3: image 'a.jpg' appears twice");
    ck_assert_uint_eq(t.n, 0);
    ck_assert_ptr_null(t.x);
    hwi_stream_close(&s);
    fclose(fp);

    /* no labelled image: an empty set, not an error (the caller decides) */
    const char *nw[] = {"a.jpg", "new_whale", NULL};
    struct hwi_labels nl;
    make_labels(&nl, nw);
    fp = make_stream(key, 2, 1);
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    ck_assert_int_eq(hwi_trainset_load(&t, &s, &nl, NULL, err), 0);
    ck_assert_uint_eq(t.n, 0);
    ck_assert_int_eq(t.classes, 0);
    ck_assert_uint_eq(t.new_whale, 1);
    ck_assert_uint_eq(t.unlabelled, 1);
    hwi_trainset_free(&t);
    hwi_stream_close(&s);
    fclose(fp);
    hwi_labels_free(&nl);

    fp = make_stream(key, 2, 0);
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    ck_assert_int_eq(hwi_trainset_load(&t, &s, &l, NULL, err), -1);
    ck_assert_str_eq(err, "mem: records have no keys (image names)");
    hwi_stream_close(&s);
    fclose(fp);

    /* a truncated record: the stream's message is passed up */
    fp = make_stream(key, 2, 1);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    rewind(fp);
    char *buf = malloc((size_t)len);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    fp = test_memfile(buf, len - 3);
    free(buf);
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    ck_assert_int_eq(hwi_trainset_load(&t, &s, &l, NULL, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "record 2"));
    hwi_stream_close(&s);
    fclose(fp);
    hwi_labels_free(&l);
}
END_TEST

START_TEST(test_labels_file)
{
    char err[HWI_ERRLEN];
    char *in[] = {"w_1", "w_2", "new whale, with comma"};
    char path[256];
    snprintf(path, sizeof path, "%s", test_tmppath("m.labels"));
    FILE *fp = fopen(path, "w");
    ck_assert_int_eq(hwi_train_labels_write(in, 3, fp), 0);
    fclose(fp);
    char **out;
    int n;
    ck_assert_int_eq(hwi_train_labels_read(path, &out, &n, err), 0);
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(out[i], in[i]);
    hwi_train_labels_free(out, n);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"a\n\nb\n", "bad.labels:2: empty label"},
        {"a\nb\na\n", "bad.labels:3: label 'a' appears twice"},
        {"a\tb\n", "bad.labels:1: a label may not hold a TAB or NUL"},
        {"", "bad.labels: no labels"},
    };
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(test_tmppath("")), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fp = fopen("bad.labels", "w");
        fputs(bad[i].text, fp);
        fclose(fp);
        ck_assert_int_eq(hwi_train_labels_read("bad.labels", &out, &n, err), -1);
        ck_assert_str_eq(err, bad[i].msg);
        ck_assert_int_eq(n, 0);
    }
    ck_assert_int_eq(hwi_train_labels_read("none.labels", &out, &n, err), -1);
    ck_assert_str_eq(err, "none.labels: No such file or directory");
    ck_assert_int_eq(chdir(cwd), 0);
    unlink(test_tmppath("bad.labels"));
    unlink(path);
}
END_TEST

/* Warps of a 3x3 ramp 0..8, worked by hand. */
START_TEST(test_warp)
{
    const float src[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    float dst[9];
    const double id[6] = {1, 0, 0, 0, 1, 0};
    hwi_aug_warp(src, dst, 3, 3, id);
    ck_assert_mem_eq(dst, src, sizeof src);
    /* half a pixel right: neighbours averaged, the right edge replicated */
    const double half[6] = {1, 0, 0.5, 0, 1, 0};
    const float want_half[9] = {0.5, 1.5, 2, 3.5, 4.5, 5, 6.5, 7.5, 8};
    hwi_aug_warp(src, dst, 3, 3, half);
    for (int i = 0; i < 9; i++)
        ck_assert_float_eq_tol(dst[i], want_half[i], 1e-6);
    /* a quarter turn: source (y, 2 - x) */
    const double rot[6] = {0, 1, 0, -1, 0, 2};
    const float want_rot[9] = {6, 3, 0, 7, 4, 1, 8, 5, 2};
    hwi_aug_warp(src, dst, 3, 3, rot);
    for (int i = 0; i < 9; i++)
        ck_assert_float_eq_tol(dst[i], want_rot[i], 1e-6);
}
END_TEST

START_TEST(test_draw)
{
    struct hwi_aug none = {0};
    struct hwi_rng r;
    hwi_rng_seed(&r, 3);
    double m[6];
    hwi_aug_draw(&none, &r, 16, 16, m);
    const double id[6] = {1, 0, 0, 0, 1, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq_tol(m[i], id[i], 1e-12);
    /* wild ranges: still never a mirror (determinant > 0) */
    struct hwi_aug wild = {.rotate = 180, .scale = 0.5, .shift = 0.5, .shear = 40};
    for (int i = 0; i < 1000; i++) {
        hwi_aug_draw(&wild, &r, 16, 16, m);
        ck_assert_double_gt(m[0] * m[4] - m[1] * m[3], 0);
    }
}
END_TEST

/* The default augmentation keeps a left-bright image left-bright: a flip
 * would swap the halves. */
START_TEST(test_no_flip)
{
    enum { S = 16 };
    float src[S * S], dst[S * S];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            src[y * S + x] = x < S / 2 ? 0.9f : 0.1f;
    struct hwi_aug a;
    hwi_aug_default(&a);
    struct hwi_rng r;
    hwi_rng_seed(&r, 11);
    int changed = 0;
    for (int k = 0; k < 200; k++) {
        hwi_augment(&a, &r, src, dst, S, S, 1, NULL);
        double left = 0, right = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                ck_assert(dst[y * S + x] >= 0 && dst[y * S + x] <= 1);
                *(x < S / 2 ? &left : &right) += dst[y * S + x];
            }
        ck_assert_double_gt(left, right + 0.2 * S * S / 2);
        changed += memcmp(src, dst, sizeof src) != 0;
    }
    ck_assert_int_eq(changed, 200);
}
END_TEST

/* Gaussian blur, sigma 1 (radius 3), of a 6x5 plane with ones at (0,0)
 * and (3,2), edges replicated; numpy (np.pad mode="edge", the normalised
 * kernel exp(-i^2/2) over -3..3, rows then columns) gives these values. */
START_TEST(test_blur)
{
    enum { W = 6, H = 5 };
    float x[W * H] = {0}, work[W * H];
    x[0] = 1;
    x[2 * W + 3] = 1;
    hwi_aug_blur(x, W, H, 1.0, work);
    ck_assert_float_eq_tol(x[0], 0.48957483, 1e-6);
    ck_assert_float_eq_tol(x[1], 0.21310632, 1e-6);
    ck_assert_float_eq_tol(x[2 * W + 3], 0.15950019, 1e-6);
    ck_assert_float_eq_tol(x[2 * W + 2], 0.09999970, 1e-6);
    ck_assert_float_eq_tol(x[4 * W + 5], 0.00291660, 1e-6);
    double sum = 0;
    for (int i = 0; i < W * H; i++)
        sum += x[i];
    ck_assert_float_eq_tol(sum, 2.11643637, 1e-5);
    float y[4] = {0.1f, 0.9f, 0.3f, 0.4f}, z[4];
    memcpy(z, y, sizeof y);
    hwi_aug_blur(y, 2, 2, 0.05, work); /* below 0.1: untouched */
    ck_assert_mem_eq(y, z, sizeof y);
}
END_TEST

/* aspect: the width/height zoom ratio spans [1/1.5, 1.5] at aspect 0.5,
 * area kept, no turn; noise: pooled deviation sqrt(E[sigma^2]) =
 * 0.1/sqrt(3) at noise 0.1; with the three extras at 0 the draws are
 * those of the six parameters alone (the runs of earlier versions). */
START_TEST(test_aug_extras)
{
    struct hwi_aug a = {0};
    a.aspect = 0.5;
    struct hwi_rng r;
    hwi_rng_seed(&r, 5);
    double m[6], lo = 9, hi = 0;
    for (int i = 0; i < 2000; i++) {
        hwi_aug_draw(&a, &r, 16, 16, m);
        ck_assert_double_eq_tol(m[1], 0, 1e-12);
        ck_assert_double_eq_tol(m[3], 0, 1e-12);
        ck_assert_double_eq_tol(m[0] * m[4], 1, 1e-12);
        double ratio = m[4] / m[0]; /* output zoom x over zoom y */
        ck_assert(ratio >= 1 / 1.5 - 1e-12 && ratio <= 1.5 + 1e-12);
        lo = fmin(lo, ratio), hi = fmax(hi, ratio);
    }
    ck_assert_double_lt(lo, 0.7);
    ck_assert_double_gt(hi, 1.43);

    enum { S = 32 };
    struct hwi_aug b = {0};
    b.noise = 0.1;
    float src[S * S], dst[S * S];
    for (int i = 0; i < S * S; i++)
        src[i] = 0.5f;
    double s1 = 0, s2 = 0, n = 0;
    for (int k = 0; k < 400; k++) {
        hwi_augment(&b, &r, src, dst, S, S, 1, NULL);
        for (int i = 0; i < S * S; i++)
            s1 += dst[i] - 0.5, s2 += (dst[i] - 0.5) * (dst[i] - 0.5), n++;
    }
    ck_assert_double_lt(fabs(s1 / n), 0.002);
    ck_assert_double_eq_tol(sqrt(s2 / n), 0.1 / sqrt(3), 0.004);

    struct hwi_aug d;
    hwi_aug_default(&d);
    struct hwi_rng r1, r2;
    hwi_rng_seed(&r1, 9);
    hwi_rng_seed(&r2, 9);
    hwi_augment(&d, &r1, src, dst, S, S, 1, NULL);
    hwi_aug_draw(&d, &r2, S, S, m);
    hwi_rng_u01(&r2); /* contrast */
    hwi_rng_u01(&r2); /* brightness */
    ck_assert_uint_eq(hwi_rng_next(&r1), hwi_rng_next(&r2));
}
END_TEST

START_TEST(test_aug_parse)
{
    char err[HWI_ERRLEN], buf[256];
    struct hwi_aug a;
    hwi_aug_default(&a);
    ck_assert_int_eq(hwi_aug_parse(&a, "noise=0.03,blur=1.5,rotate=0", err), 0);
    hwi_aug_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "rotate=0,scale=0.1,shift=0.1,shear=10,brightness=0.1,"
                          "contrast=0.2,aspect=0,blur=1.5,noise=0.03");
    static const char *bad[] = {"",        "noise",     "noise=",   "noise=abc",
                                "x=1",     "scale=1",   "noise=1,", "noise=nan",
                                "blur=-1", "shear=inf", "=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        ck_assert_msg(hwi_aug_parse(&a, bad[i], err) == -1, "'%s' accepted", bad[i]);
        ck_assert_msg(err[0] == '\'', "'%s': %s", bad[i], err);
    }
    hwi_aug_format(&a, buf, sizeof buf); /* failed parses may set earlier keys only */
    ck_assert_str_eq(buf, "rotate=0,scale=0.1,shift=0.1,shear=10,brightness=0.1,"
                          "contrast=0.2,aspect=0,blur=1.5,noise=1");
}
END_TEST

START_TEST(test_photometric)
{
    float x[5] = {0.2f, 0.5f, 0.9f, 0.3f, 0.0f};
    /* (x - 0.5) * 2 + 0.6, clamped to [0, 1] */
    const float want[5] = {0.0f, 0.6f, 1.0f, 0.2f, 0.0f};
    hwi_aug_photometric(x, 5, 2, 0.1);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq_tol(x[i], want[i], 1e-6);
}
END_TEST

/* n = 10, lr = 1: 3 rising steps from 1/25, then 7 falling ones to 1/25e4
 * (python3: 0.04 + 0.96 * (1 - cos(pi / 3)) / 2, and 4e-6 + (1 - 4e-6) *
 * (1 + cos(3 pi / 7)) / 2). */
START_TEST(test_onecycle)
{
    ck_assert_double_eq_tol(hwi_train_onecycle(1, 0, 10), 0.04, 1e-12);
    ck_assert_double_eq_tol(hwi_train_onecycle(1, 1, 10), 0.2799999999999999, 1e-12);
    ck_assert_double_eq_tol(hwi_train_onecycle(1, 3, 10), 1.0, 1e-12);
    ck_assert_double_eq_tol(hwi_train_onecycle(1, 6, 10), 0.6112620219362893, 1e-12);
    ck_assert_double_lt(hwi_train_onecycle(1, 9, 10), 0.06);
    ck_assert_double_eq_tol(hwi_train_onecycle(0.5, 3, 10), 0.5, 1e-12);
    /* one step only: the peak-less cycle still gives a finite rate */
    ck_assert_double_eq_tol(hwi_train_onecycle(1, 0, 1), 0.04, 1e-12);
}
END_TEST

START_TEST(test_topk)
{
    const float v[7] = {0.1f, 3, -1, 3, 2, 5, 0};
    int out[5];
    hwi_train_topk(v, 7, 5, out);
    const int want[5] = {5, 1, 3, 4, 0};
    ck_assert_mem_eq(out, want, sizeof want);
    hwi_train_topk(v, 7, 1, out);
    ck_assert_int_eq(out[0], 5);
    const float two[2] = {1, 2};
    hwi_train_topk(two, 2, 2, out);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[1], 0);
}
END_TEST

START_TEST(test_datafile)
{
    setenv("HWI_DATADIR", "/some/dir", 1);
    char *p = hwi_train_datafile("pcb-tiny", ".cfg");
    ck_assert_str_eq(p, "/some/dir/pcb-tiny.cfg");
    free(p);
    p = hwi_train_datafile("pcb-tiny.cfg", ".cfg");
    ck_assert_str_eq(p, "/some/dir/pcb-tiny.cfg");
    free(p);
    p = hwi_train_datafile("./x.cfg", ".cfg");
    ck_assert_str_eq(p, "./x.cfg");
    free(p);
    unsetenv("HWI_DATADIR");
    p = hwi_train_datafile("pcb-tiny.cfg", ".cfg");
    ck_assert_str_eq(p, PKGDATADIR "/pcb-tiny.cfg");
    free(p);
}
END_TEST

Suite *make_train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_rng);
    tcase_add_test(tc, test_trainset);
    tcase_add_test(tc, test_labels_file);
    tcase_add_test(tc, test_warp);
    tcase_add_test(tc, test_draw);
    tcase_add_test(tc, test_no_flip);
    tcase_add_test(tc, test_photometric);
    tcase_add_test(tc, test_blur);
    tcase_add_test(tc, test_aug_extras);
    tcase_add_test(tc, test_aug_parse);
    tcase_add_test(tc, test_onecycle);
    tcase_add_test(tc, test_topk);
    tcase_add_test(tc, test_datafile);
    suite_add_tcase(s, tc);
    tc = tcase_create("Limits");
    tcase_add_test(tc, test_trainset_errors);
    suite_add_tcase(s, tc);
    return s;
}
