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

/* Five queries worked by hand: AP = 1, 1/2, 0, 1/5, 1 -> MAP@5 = 2.7/5. */
START_TEST(test_eval)
{
    struct hwi_eval e = {0};
    char *p1[] = {"w_1", "w_2"};
    char *p2[] = {"new_whale", "w_1"};
    char *p3[] = {"w_3"};
    char *p4[] = {"a", "b", "c", "d", "new_whale"};
    char *p5[] = {"new_whale"};
    hwi_eval_add(&e, "w_1", p1, 2);
    hwi_eval_add(&e, "w_1", p2, 2);
    hwi_eval_add(&e, "w_4", p3, 1);
    hwi_eval_add(&e, "new_whale", p4, 5);
    hwi_eval_add(&e, "new_whale", p5, 1);
    ck_assert_uint_eq(e.n, 5);
    ck_assert_double_eq_tol(hwi_eval_map5(&e), 2.7 / 5, 1e-12);
    ck_assert_double_eq_tol(hwi_eval_top1(&e), 2.0 / 5, 1e-12);
    ck_assert_double_eq_tol(hwi_eval_nw_precision(&e), 1.0 / 2,
                            1e-12);                                  /* p2 wrong, p5 right */
    ck_assert_double_eq_tol(hwi_eval_nw_recall(&e), 1.0 / 2, 1e-12); /* p4 missed */
    struct hwi_eval z = {0};
    ck_assert_double_eq(hwi_eval_map5(&z), 0);
    ck_assert_double_eq(hwi_eval_nw_precision(&z), 0);
}
END_TEST

Suite *make_metric_suite(void)
{
    Suite *s = suite_create("metric");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_map5);
    tcase_add_test(tc, test_eval);
    suite_add_tcase(s, tc);
    return s;
}
