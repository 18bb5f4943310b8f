/* check_split.c: the validation split (one photo of every individual with
 * two or more, a sample of new_whale, the same draw for the same seed) and
 * a submission matched against the truth. */
#include <config.h>

#include "check_hwi.h"
#include "split.h"

#include <stdlib.h>
#include <string.h>

/* a: 3 photos, b: 2, c: 1, new_whale: 4 */
static void fixture(struct hwi_labels *t)
{
    static const char *const rows[][2] = {
        {"1.jpg", "w_a"}, {"2.jpg", "new_whale"},  {"3.jpg", "w_b"}, {"4.jpg", "w_a"},
        {"5.jpg", "w_c"}, {"6.jpg", "new_whale"},  {"7.jpg", "w_a"}, {"8.jpg", "new_whale"},
        {"9.jpg", "w_b"}, {"10.jpg", "new_whale"},
    };
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        ck_assert_int_eq(hwi_labels_add(t, rows[i][0], rows[i][1]), 0);
}

START_TEST(test_split)
{
    char err[HWI_ERRLEN];
    struct hwi_labels t;
    fixture(&t);
    unsigned char val[10], again[10];
    size_t nval;
    int picked_a[3] = {0, 0, 0};
    for (uint64_t seed = 0; seed < 40; seed++) {
        struct hwi_split_opts o = {.seed = seed, .nw_count = 2, .nw_frac = 0};
        ck_assert_int_eq(hwi_split_make(&t, &o, val, &nval, err), 0);
        ck_assert_uint_eq(nval, 4); /* one a, one b, two new_whale */
        int a = 0, b = 0, c = 0, nw = 0;
        for (int i = 0; i < 10; i++) {
            if (!val[i])
                continue;
            a += !strcmp(t.id[i], "w_a");
            b += !strcmp(t.id[i], "w_b");
            c += !strcmp(t.id[i], "w_c");
            nw += !strcmp(t.id[i], "new_whale");
        }
        ck_assert(a == 1 && b == 1 && c == 0 && nw == 2);
        picked_a[0] += val[0];
        picked_a[1] += val[3];
        picked_a[2] += val[6];
        /* the same seed, the same draw */
        ck_assert_int_eq(hwi_split_make(&t, &o, again, &nval, err), 0);
        ck_assert_mem_eq(val, again, 10);
    }
    /* every photo of a gets drawn for some seed */
    ck_assert(picked_a[0] && picked_a[1] && picked_a[2]);

    /* a fraction: half of 4 */
    struct hwi_split_opts f = {.seed = 1, .nw_count = -1, .nw_frac = 0.5};
    ck_assert_int_eq(hwi_split_make(&t, &f, val, &nval, err), 0);
    ck_assert_uint_eq(nval, 4);
    /* more new_whale than there are */
    struct hwi_split_opts m = {.seed = 1, .nw_count = 5, .nw_frac = 0};
    ck_assert_int_eq(hwi_split_make(&t, &m, val, &nval, err), -1);
    ck_assert_str_eq(err, "5 new_whale photos asked for, but there are only 4");
    hwi_labels_free(&t);
}
END_TEST

static void add_pred(struct hwi_preds *s, const char *image, long line, const char *ids)
{
    s->row = realloc(s->row, (s->n + 1) * sizeof *s->row);
    struct hwi_pred *r = &s->row[s->n++];
    memset(r, 0, sizeof *r);
    r->image = strdup(image);
    r->line = line;
    char *copy = strdup(ids), *p = copy, *tok;
    while ((tok = strsep(&p, " ")))
        r->id[r->n++] = strdup(tok);
    free(copy);
}

/* AP by hand: 1.jpg w_a at rank 2 -> 1/2; 2.jpg new_whale at rank 1 -> 1;
 * 3.jpg w_b absent -> 0; 4.jpg w_a at rank 5 -> 1/5.  MAP@5 = 1.7/4. */
START_TEST(test_eval_submission)
{
    char err[HWI_ERRLEN];
    struct hwi_labels truth = {0};
    hwi_labels_add(&truth, "1.jpg", "w_a");
    hwi_labels_add(&truth, "2.jpg", "new_whale");
    hwi_labels_add(&truth, "3.jpg", "w_b");
    hwi_labels_add(&truth, "4.jpg", "w_a");
    struct hwi_preds sub = {0};
    add_pred(&sub, "4.jpg", 2, "w_x w_y w_z new_whale w_a");
    add_pred(&sub, "3.jpg", 3, "new_whale w_a");
    add_pred(&sub, "2.jpg", 4, "new_whale");
    add_pred(&sub, "1.jpg", 5, "w_b w_a");
    struct hwi_eval e = {0};
    size_t row[4];
    ck_assert_int_eq(hwi_eval_submission(&e, &truth, &sub, "s.csv", row, err), 0);
    ck_assert_uint_eq(e.n, 4);
    ck_assert_double_eq_tol(hwi_eval_map5(&e), 1.7 / 4, 1e-12);
    ck_assert_double_eq_tol(hwi_eval_top1(&e), 0.25, 1e-12);
    ck_assert_double_eq_tol(hwi_eval_nw_precision(&e), 0.5, 1e-12);
    ck_assert_double_eq_tol(hwi_eval_nw_recall(&e), 1.0, 1e-12);
    ck_assert_uint_eq(row[0], 3);
    ck_assert_uint_eq(row[3], 0);

    /* an unknown image names its line; a missing one names the image */
    add_pred(&sub, "9.jpg", 6, "w_a");
    struct hwi_eval z = {0};
    ck_assert_int_eq(hwi_eval_submission(&z, &truth, &sub, "s.csv", NULL, err), -1);
    ck_assert_str_eq(err, "s.csv:6: unknown image '9.jpg' (not in the truth)");
    ck_assert_uint_eq(z.n, 0);
    hwi_labels_add(&truth, "9.jpg", "w_c");
    hwi_labels_add(&truth, "8.jpg", "w_c");
    ck_assert_int_eq(hwi_eval_submission(&z, &truth, &sub, "s.csv", NULL, err), -1);
    ck_assert_str_eq(err, "s.csv: no prediction for image '8.jpg'");
    hwi_labels_free(&truth);
    hwi_preds_free(&sub);
}
END_TEST

Suite *make_split_suite(void)
{
    Suite *s = suite_create("split");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_eval_submission);
    suite_add_tcase(s, tc);
    return s;
}
