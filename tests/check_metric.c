/* check_metric.c: MAP@5 against values worked out by hand from Kaggle's
 * apk(actual=[t], predicted, k=5). */
#include <config.h>

#include "check_hwi.h"
#include "metric.h"

START_TEST(test_map5)
{
    char *p[] = {"a", "b", "c", "d", "e", "f"};
    ck_assert_double_eq(hwi_map5_one("a", p, 5), 1.0);
    ck_assert_double_eq(hwi_map5_one("c", p, 5), 1.0 / 3);
    ck_assert_double_eq(hwi_map5_one("e", p, 5), 0.2);
    ck_assert_double_eq(hwi_map5_one("f", p, 6), 0.0); /* sixth does not count */
    ck_assert_double_eq(hwi_map5_one("z", p, 5), 0.0);
    ck_assert_double_eq(hwi_map5_one("a", p, 0), 0.0);
    /* a repeated prediction still takes its rank position */
    char *r[] = {"x", "x", "t"};
    ck_assert_double_eq(hwi_map5_one("t", r, 3), 1.0 / 3);
    ck_assert_double_eq(hwi_map5_one("x", r, 3), 1.0);
}
END_TEST

Suite *make_metric_suite(void)
{
    Suite *s = suite_create("metric");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_map5);
    suite_add_tcase(s, tc);
    return s;
}
