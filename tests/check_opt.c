/* check_opt.c: strict number parsing and grids. */
#include <config.h>

#include "check_hwi.h"
#include "err.h"
#include "opt.h"

#include <stdlib.h>

START_TEST(test_long)
{
    long v;
    ck_assert_int_eq(hwi_parse_long("42", 0, 100, &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(hwi_parse_long("-3", -5, 5, &v), 0);
    ck_assert_int_eq(v, -3);
    ck_assert_int_eq(hwi_parse_long("", 0, 100, &v), -1);
    ck_assert_int_eq(hwi_parse_long(" 4", 0, 100, &v), -1);
    ck_assert_int_eq(hwi_parse_long("4x", 0, 100, &v), -1);
    ck_assert_int_eq(hwi_parse_long("101", 0, 100, &v), -1);
    ck_assert_int_eq(hwi_parse_long("99999999999999999999999", 0, 100, &v), -1);
    ck_assert_int_eq(hwi_parse_long("0x10", 0, 100, &v), -1);
}
END_TEST

START_TEST(test_double)
{
    double v;
    ck_assert_int_eq(hwi_parse_double("2.5", 0, 3, &v), 0);
    ck_assert_double_eq(v, 2.5);
    ck_assert_int_eq(hwi_parse_double("1e-3", 0, 3, &v), 0);
    ck_assert_double_eq_tol(v, 1e-3, 1e-15);
    ck_assert_int_eq(hwi_parse_double("nan", -10, 10, &v), -1);
    ck_assert_int_eq(hwi_parse_double("inf", -1e300, 1e300, &v), -1);
    ck_assert_int_eq(hwi_parse_double("1e999", -1e300, 1e300, &v), -1);
    ck_assert_int_eq(hwi_parse_double("3.5", 0, 3, &v), -1);
    ck_assert_int_eq(hwi_parse_double("1.5.", 0, 3, &v), -1);
    ck_assert_int_eq(hwi_parse_double("", 0, 3, &v), -1);
}
END_TEST

START_TEST(test_grid)
{
    char err[HWI_ERRLEN];
    double *g;
    size_t n;
    ck_assert_int_eq(hwi_parse_grid("0:0.95:0.05", 0, 1, &g, &n, err), 0);
    ck_assert_uint_eq(n, 20);
    ck_assert_double_eq(g[0], 0);
    ck_assert_double_eq_tol(g[19], 0.95, 1e-12);
    free(g);
    ck_assert_int_eq(hwi_parse_grid("0.1,2.2,3", 0, 10, &g, &n, err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq(g[1], 2.2);
    free(g);
    ck_assert_int_eq(hwi_parse_grid("", 0, 1, &g, &n, err), -1);
    ck_assert_int_eq(hwi_parse_grid("1:0:0.1", 0, 1, &g, &n, err), -1);
    ck_assert_int_eq(hwi_parse_grid("0:1:0", 0, 1, &g, &n, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "STEP > 0"));
    ck_assert_int_eq(hwi_parse_grid("-1:1:0.5", 0, 1, &g, &n, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "START and STOP must lie in 0 to 1"));
    ck_assert_int_eq(hwi_parse_grid("0,,1", 0, 1, &g, &n, err), -1);
    ck_assert_int_eq(hwi_parse_grid("0,5", 0, 1, &g, &n, err), -1);
    ck_assert_ptr_null(g);
}
END_TEST

Suite *make_opt_suite(void)
{
    Suite *s = suite_create("opt");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_long);
    tcase_add_test(tc, test_double);
    tcase_add_test(tc, test_grid);
    suite_add_tcase(s, tc);
    return s;
}
