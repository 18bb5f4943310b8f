/* check_tsv.c: scores TSV lines and groups. */
#include <config.h>

#include "check_hwi.h"
#include "rng.h"
#include "tsv.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_lines)
{
    FILE *fp = test_memfile("# query\tlabel\tscore\nq1\tw_1\t0.5\r\n\nq1\tw_2\t-1e-3\n"
                            "q2\tnew_whale\t3",
                            -1);
    struct hwi_tsv r;
    hwi_tsv_open(&r, fp, "s.tsv");
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_str_eq(r.query, "q1");
    ck_assert_str_eq(r.label, "w_1");
    ck_assert_double_eq(r.score, 0.5);
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_double_eq(r.score, -1e-3);
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_str_eq(r.label, "new_whale");
    ck_assert_int_eq(r.line, 5);
    ck_assert_int_eq(hwi_tsv_next(&r), 0);
    hwi_tsv_close(&r);
    fclose(fp);
}
END_TEST

static void reject(const char *text, const char *want)
{
    FILE *fp = test_memfile(text, -1);
    struct hwi_groups g;
    struct hwi_group grp = {0};
    hwi_groups_open(&g, fp, "s.tsv");
    int rc;
    while ((rc = hwi_groups_next(&g, &grp)) == 1)
        ;
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(g.tsv.err, want), "expected '%s' in '%s'", want, g.tsv.err);
    hwi_group_free(&grp);
    hwi_groups_close(&g);
    fclose(fp);
}

/* The optional 4th column, the photo that gave the score; '-' is none. */
START_TEST(test_photo_column)
{
    FILE *fp = test_memfile("# query\tlabel\tscore\tphoto\nq\tw_a\t0.5\tcard1/IMG_1.JPG\n"
                            "q\tw_b\t0.25\t-\nq\tw_c\t0.125\n",
                            -1);
    struct hwi_tsv r;
    hwi_tsv_open(&r, fp, "p.tsv");
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_str_eq(r.photo, "card1/IMG_1.JPG");
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_ptr_null(r.photo);
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_ptr_null(r.photo);
    ck_assert_str_eq(r.label, "w_c");
    hwi_tsv_close(&r);
    fclose(fp);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    hwi_tsv_write_header_photo(out);
    ck_assert_int_eq(hwi_tsv_write_photo(out, "q", "w_a", 0.5, "a/b.jpg"), 0);
    ck_assert_int_eq(hwi_tsv_write_photo(out, "q", "w_b", 0.25, NULL), 0);
    ck_assert_int_eq(hwi_tsv_write_photo(out, "q", "w_b", 0.25, "a\tb"), -1);
    fclose(out);
    ck_assert_str_eq(buf,
                     "# query\tlabel\tscore\tphoto\nq\tw_a\t0.5\ta/b.jpg\nq\tw_b\t0.25\t-\n");
    free(buf);
}
END_TEST

START_TEST(test_reject)
{
    reject("q\tl\n", "s.tsv:1: expected 3 tab-separated fields");
    reject("q\tl\t1\tx\ty\n", "s.tsv:1: expected 3");
    reject("q\tl\t1\t\n", "s.tsv:1: empty photo");
    reject("q\tl\tnan\n", "s.tsv:1: score 'nan' is not a finite number");
    reject("q\tl\tinf\n", "not a finite number");
    reject("q\tl\t0.5x\n", "s.tsv:1: score");
    reject("\tl\t1\n", "s.tsv:1: empty query");
    reject("q\t\t1\n", "s.tsv:1: empty label");
    reject("a\tl\t1\nb\tl\t1\na\tm\t1\n", "s.tsv:3: query 'a' appears again");
    reject("a\tl\t1\na\tl\t2\n", "s.tsv:2: label 'l' repeated for query 'a'");
    reject("q\tl\r\t1\n", "s.tsv:1: carriage return inside the line");
    reject("q\tl\t1\nq\r\tm\t1\r\n", "s.tsv:2: carriage return");
}
END_TEST

START_TEST(test_nul)
{
    FILE *fp = test_memfile("q\tl\t1\nq\tm\0\t2\n", 13);
    struct hwi_tsv r;
    hwi_tsv_open(&r, fp, "s.tsv");
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_int_eq(hwi_tsv_next(&r), -1);
    ck_assert_ptr_nonnull(strstr(r.err, "s.tsv:2: NUL byte in line"));
    hwi_tsv_close(&r);
    fclose(fp);
}
END_TEST

START_TEST(test_groups_and_sort)
{
    FILE *fp = test_memfile("a\tx\t0.1\na\ty\t0.9\na\tz\t0.9\nb\tx\t1\n", -1);
    struct hwi_groups g;
    struct hwi_group grp = {0};
    hwi_groups_open(&g, fp, "s.tsv");
    ck_assert_int_eq(hwi_groups_next(&g, &grp), 1);
    ck_assert_str_eq(grp.query, "a");
    ck_assert_uint_eq(grp.n, 3);
    ck_assert_int_eq(hwi_group_sort(&grp), 0);
    ck_assert_str_eq(grp.label[0], "y"); /* tie broken by label */
    ck_assert_str_eq(grp.label[1], "z");
    ck_assert_str_eq(grp.label[2], "x");
    ck_assert_int_eq(hwi_groups_next(&g, &grp), 1);
    ck_assert_str_eq(grp.query, "b");
    ck_assert_int_eq(grp.line, 4);
    ck_assert_int_eq(hwi_groups_next(&g, &grp), 0);
    hwi_group_free(&grp);
    hwi_groups_close(&g);
    fclose(fp);
}
END_TEST

START_TEST(test_write_roundtrip)
{
    FILE *fp = tmpfile();
    hwi_tsv_write_header(fp);
    ck_assert_int_eq(hwi_tsv_write(fp, "q", "w_1", 0.1f), 0);
    ck_assert_int_eq(hwi_tsv_write(fp, "q", "w_2", 1.0 / 3), 0);
    ck_assert_int_eq(hwi_tsv_write(fp, "q\t", "w", 1), -1);
    ck_assert_int_eq(hwi_tsv_write(fp, "q", "w\n", 1), -1);
    ck_assert_int_eq(hwi_tsv_write(fp, "q", "w", NAN), -1);
    rewind(fp);
    struct hwi_tsv r;
    hwi_tsv_open(&r, fp, "w.tsv");
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_float_eq((float)r.score, 0.1f); /* %.9g keeps a float exact */
    ck_assert_int_eq(hwi_tsv_next(&r), 1);
    ck_assert_double_eq_tol(r.score, 1.0 / 3, 1e-9);
    ck_assert_int_eq(hwi_tsv_next(&r), 0);
    hwi_tsv_close(&r);
    fclose(fp);
}
END_TEST

/* hwi_fmt_score against printf's "%.9g" itself: the edges of its fast
 * path (powers of ten and their neighbours, halves at the 10th digit,
 * carries into a new digit), then a million random doubles across its
 * range and beyond, from random bit patterns and from uniform scores. */
static void expect_g9(double v)
{
    char want[64], got[HWI_SCORE_LEN];
    snprintf(want, sizeof want, "%.9g", v);
    int n = hwi_fmt_score(got, v);
    if (strcmp(want, got) != 0 || n != (int)strlen(want))
        ck_abort_msg("%.17g: printf says '%s', hwi_fmt_score '%s' (%d)", v, want, got, n);
}

START_TEST(test_fmt_score)
{
    static const double edges[] = {
        0.0,          1.0,           0.5,           0.1,          1e-4,        9.99999999e-5,
        1e-5,         1e9,           999999999,     999999999.5,  999999999.4, 123456789.5,
        0.9999999995, 0.99999999949, 0.99999999951, 1.0000000005, 2.5e-4,      0.355055553,
        12345.6789,   100,           DBL_MIN,       DBL_MAX,      1e300,       -0.0};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        expect_g9(edges[i]);
        expect_g9(-edges[i]);
        expect_g9(nextafter(edges[i], 0));
        expect_g9(nextafter(edges[i], INFINITY));
    }
    for (int e = -20; e <= 20; e++) {
        double p = pow(10, e);
        expect_g9(p);
        expect_g9(nextafter(p, 0));
        expect_g9(nextafter(p, INFINITY));
        expect_g9(p * 0.5);
        expect_g9(p * 1.00000000500000);
    }
    struct hwi_rng r = {12345};
    for (int i = 0; i < 500000; i++) {
        uint64_t bits = hwi_rng_next(&r);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v))
            expect_g9(v);
        double u = hwi_rng_u01(&r);
        expect_g9(u);
        expect_g9(2 * u - 1);
        expect_g9(u * pow(10, (int)hwi_rng_below(&r, 16) - 5));
    }
}
END_TEST

Suite *make_tsv_suite(void)
{
    Suite *s = suite_create("tsv");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_groups_and_sort);
    tcase_add_test(tc, test_write_roundtrip);
    tcase_add_test(tc, test_photo_column);
    tcase_add_test(tc, test_fmt_score);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_reject);
    tcase_add_test(lim, test_nul);
    suite_add_tcase(s, lim);
    return s;
}
