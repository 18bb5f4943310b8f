/* check_tsv.c: scores TSV lines and groups. */
#include <config.h>

#include "check_hwi.h"
#include "tsv.h"

#include <math.h>
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

Suite *make_tsv_suite(void)
{
    Suite *s = suite_create("tsv");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_groups_and_sort);
    tcase_add_test(tc, test_write_roundtrip);
    tcase_add_test(tc, test_photo_column);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_reject);
    tcase_add_test(lim, test_nul);
    suite_add_tcase(s, lim);
    return s;
}
