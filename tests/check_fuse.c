/* check_fuse.c: fusion, new_whale placement and the threshold search.
 *
 * Reference values come from a numpy re-implementation of the original
 * code's utils.py (softmax, a constant new_whale column from
 * np.linspace(0, 0.95, 121), find_mixing_proportions' c1*sim + c2*sim_th +
 * c3*sm), run once by hand and pasted here as constants:
 *   softmax(2.2 * row 0), the grid's best threshold and MAP@5, and the
 *   mixed matrix's MAP@5 and row 1. */
#include <config.h>

#include "check_hwi.h"
#include "fuse.h"
#include "opt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_thresh_format)
{
    char buf[64];
    ck_assert_str_eq(hwi_thresh_format(buf, sizeof buf, 0.25), "0.25");
    ck_assert_str_eq(hwi_thresh_format(buf, sizeof buf, nextafter(0.5, 1)),
                     "0.50000000000000011");
}
END_TEST

Suite *make_fuse_suite(void);

static const char *const L6[] = {"w_a", "w_b", "w_c", "w_d", "w_e", "w_f"};
static const float LOGITS[6][6] = {
    {2.0f, 1.0f, 0.5f, -1.0f, 0.0f, 0.3f},  {0.1f, 3.0f, 0.2f, 0.0f, -0.5f, 1.1f},
    {1.5f, 1.4f, 1.3f, 1.2f, 1.1f, 1.0f},   {-2.0f, 0.0f, 4.0f, 1.0f, 0.5f, 0.25f},
    {0.3f, 0.2f, 0.1f, 0.0f, -0.1f, -0.2f}, {5.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},
};
static const char *const TRUTH6[] = {"w_a", "w_c", "new_whale", "w_c", "new_whale", "w_b"};
/* knn similarities; the last column is the nearest new_whale image */
static const float SIM[6][7] = {
    {0.90f, 0.40f, 0.30f, 0.20f, 0.10f, 0.05f, 0.50f},
    {0.30f, 0.60f, 0.65f, 0.20f, 0.10f, 0.05f, 0.40f},
    {0.50f, 0.45f, 0.40f, 0.35f, 0.30f, 0.25f, 0.70f},
    {0.20f, 0.30f, 0.80f, 0.60f, 0.10f, 0.05f, 0.55f},
    {0.60f, 0.20f, 0.10f, 0.15f, 0.12f, 0.05f, 0.58f},
    {0.55f, 0.52f, 0.10f, 0.20f, 0.10f, 0.05f, 0.30f},
};

START_TEST(test_softmax)
{
    /* numpy: softmax(2.2 * LOGITS[0]) */
    static const double want[6] = {0.843826215665921,   0.09349860980471994,
                                   0.03112298356996101, 0.00114791421303691,
                                   0.01035994126885044, 0.0200443354775107};
    double p[6];
    hwi_softmax(p, LOGITS[0], 6, 2.2);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq_tol(p[i], want[i], 1e-14);
    /* large logits do not overflow */
    float big[2] = {1000.0f, 999.0f};
    hwi_softmax(p, big, 2, 1.0);
    ck_assert_double_eq_tol(p[0], 1 / (1 + exp(-1.0)), 1e-14);
}
END_TEST

/* The original's new_whale threshold search over softmax(2.2 * logits):
 * numpy's argmax over np.linspace(0, 0.95, 121) picks index 35,
 * t = 0.2770833333333333, MAP@5 = 0.7638888888888888 (= 55/72). */
START_TEST(test_grid_like_original)
{
    struct hwi_top5 t[6];
    double p[6];
    for (int q = 0; q < 6; q++) {
        hwi_softmax(p, LOGITS[q], 6, 2.2);
        hwi_top5_init(&t[q]);
        for (int i = 0; i < 6; i++)
            hwi_top5_push(&t[q], L6[i], p[i]);
    }
    double *grid;
    size_t n;
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_parse_grid("0:0.95:0.0079166666666666667", 0, 1, &grid, &n, err), 0);
    ck_assert_uint_eq(n, 121);
    double thr, map5;
    ck_assert_int_eq(
        hwi_thresh_search(t, (const char *const *)TRUTH6, 6, HWI_NW_MAX, NULL, 0, grid, n,
                          &thr, &map5, err),
        0);
    ck_assert_double_eq_tol(thr, 0.2770833333333333, 1e-12);
    ck_assert_double_eq_tol(map5, 0.7638888888888888, 1e-12);
    /* the exact search can only do as well or better */
    double thr2, map52;
    ck_assert_int_eq(hwi_thresh_search(t, (const char *const *)TRUTH6, 6, HWI_NW_MAX, NULL,
                                       0, NULL, 0, &thr2, &map52, err),
                     0);
    ck_assert(map52 >= map5 - 1e-12);
    free(grid);
}
END_TEST

/* The original's mixing c1*sim + c2*sim_th + c3*sm_th (c = 1, 2, 0.4,
 * knn threshold 0.45, softmax threshold 0.3) is knn with w = 3, v = 1 and
 * softmax with w = 0.4, new_whale placed with HWI_NW_ADD at T = 1.02.
 * numpy: MAP@5 = 0.75, fused row 1 as below. */
START_TEST(test_mix_like_original)
{
    struct hwi_labelset ls = {0};
    size_t nw_id, id[6];
    ck_assert_int_eq(hwi_labelset_id(&ls, HWI_NEW_WHALE, &nw_id), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(hwi_labelset_id(&ls, L6[i], &id[i]), 0);
    double w[2] = {3, 0.4}, v[2] = {1, 0};
    struct hwi_weights wt = {2, w, v};
    struct hwi_missing miss = {HWI_MISS_VALUE, 0};
    struct hwi_join j;
    hwi_join_init(&j, 2);
    const char *names[2] = {"knn", "sm"};
    struct hwi_top5 t[6];
    char err[HWI_ERRLEN];
    for (int q = 0; q < 6; q++) {
        struct hwi_cands knn = {0}, sm = {0};
        double p[6];
        hwi_softmax(p, LOGITS[q], 6, 2.2);
        for (int i = 0; i < 6; i++) {
            ck_assert_int_eq(hwi_cands_add(&knn, id[i], SIM[q][i]), 0);
            ck_assert_int_eq(hwi_cands_add(&sm, id[i], (float)p[i]), 0);
        }
        ck_assert_int_eq(hwi_cands_add(&knn, nw_id, SIM[q][6]), 0);
        const struct hwi_cands *in[2] = {&knn, &sm};
        ck_assert_int_eq(hwi_join_query(&j, in, &miss, &ls, nw_id, "q", names, err), 0);
        ck_assert_uint_eq(j.nu, 7);
        double f[7];
        hwi_fuse_scores(&wt, nw_id, j.uid, j.val, j.miss, j.nu, f);
        if (q == 1) {
            static const double want[7] = {0.9006641914223913,  2.191803896039974,
                                           1.9508275173900602,  0.6005330063405552,
                                           0.3001774238924475,  0.15599401632357826,
                                           1.4200000059604645 - 1.02};
            for (int u = 0; u < 7; u++)
                ck_assert_double_eq_tol(f[u], want[u], 1e-6);
        }
        hwi_top5_init(&t[q]);
        for (size_t u = 0; u < j.nu; u++)
            hwi_top5_push(&t[q], ls.name[j.uid[u]], f[u]);
        hwi_cands_free(&knn);
        hwi_cands_free(&sm);
    }
    double m = hwi_top5_map5(t, (const char *const *)TRUTH6, 6, HWI_NW_ADD, 1.02, NULL, 0);
    ck_assert_double_eq_tol(m, 0.75, 1e-12);
    hwi_join_free(&j);
    hwi_labelset_free(&ls);
}
END_TEST

START_TEST(test_join_missing)
{
    struct hwi_labelset ls = {0};
    size_t a, b, c, nw;
    hwi_labelset_id(&ls, "a", &a);
    hwi_labelset_id(&ls, "b", &b);
    hwi_labelset_id(&ls, "c", &c);
    hwi_labelset_id(&ls, HWI_NEW_WHALE, &nw);
    struct hwi_cands x = {0}, y = {0};
    hwi_cands_add(&x, a, 0.5f);
    hwi_cands_add(&x, b, 0.25f);
    hwi_cands_add(&x, nw, 0.75f);
    hwi_cands_add(&y, b, 1.0f);
    hwi_cands_add(&y, c, 2.0f);
    const struct hwi_cands *in[2] = {&x, &y};
    const char *names[2] = {"x.tsv", "y.tsv"};
    double w[2] = {2, 1}, v[2] = {4, 1}, f[4];
    struct hwi_weights wt = {2, w, v};
    struct hwi_join j;
    hwi_join_init(&j, 2);
    char err[HWI_ERRLEN];

    /* missing = 0.5: a = 2*.5 + .5, b = 2*.25 + 1, nw = 4*.75 + .5, c = 2*.5 + 2 */
    struct hwi_missing m = {HWI_MISS_VALUE, 0.5};
    ck_assert_int_eq(hwi_join_query(&j, in, &m, &ls, nw, "q", names, err), 0);
    ck_assert_uint_eq(j.nu, 4);
    hwi_fuse_scores(&wt, nw, j.uid, j.val, j.miss, j.nu, f);
    ck_assert_uint_eq(j.uid[0], a);
    ck_assert_uint_eq(j.uid[2], nw);
    ck_assert_uint_eq(j.uid[3], c);
    ck_assert_double_eq(f[0], 1.5);
    ck_assert_double_eq(f[1], 1.5);
    ck_assert_double_eq(f[2], 3.5);
    ck_assert_double_eq(f[3], 3.0);

    /* min: x's lowest is .25, y's 1 */
    m.kind = HWI_MISS_MIN;
    ck_assert_int_eq(hwi_join_query(&j, in, &m, &ls, nw, "q", names, err), 0);
    hwi_fuse_scores(&wt, nw, j.uid, j.val, j.miss, j.nu, f);
    ck_assert_double_eq(f[0], 2.0);  /* 2*.5 + 1 */
    ck_assert_double_eq(f[2], 4.0);  /* 4*.75 + 1 */
    ck_assert_double_eq(f[3], 2.5);  /* 2*.25 + 2 */

    /* a zero-weight input lists nothing: its labels are no candidates */
    w[0] = 0;
    v[0] = 0;
    hwi_fuse_scores(&wt, nw, j.uid, j.val, j.miss, j.nu, f);
    ck_assert(isnan(f[0]));
    ck_assert(isnan(f[2]));
    ck_assert_double_eq(f[1], 1.0);

    /* error: a is in x.tsv, not in y.tsv; new_whale may be missing */
    m.kind = HWI_MISS_ERROR;
    ck_assert_int_eq(hwi_join_query(&j, in, &m, &ls, nw, "q7", names, err), -1);
    ck_assert_str_eq(err, "query 'q7': label 'c' is in y.tsv but not in x.tsv "
                          "(--missing=error: the label sets must match)");
    in[1] = NULL;
    ck_assert_int_eq(hwi_join_query(&j, in, &m, &ls, nw, "q8", names, err), -1);
    ck_assert_str_eq(err, "query 'q8' is in x.tsv but not in y.tsv (--missing=error)");

    struct hwi_missing p;
    ck_assert_int_eq(hwi_missing_parse("min", &p), 0);
    ck_assert_int_eq(p.kind, HWI_MISS_MIN);
    ck_assert_int_eq(hwi_missing_parse("-1.5", &p), 0);
    ck_assert_double_eq(p.value, -1.5);
    ck_assert_int_eq(hwi_missing_parse("nan", &p), -1);
    ck_assert_int_eq(hwi_missing_parse("", &p), -1);
    hwi_cands_free(&x);
    hwi_cands_free(&y);
    hwi_join_free(&j);
    hwi_labelset_free(&ls);
}
END_TEST

START_TEST(test_predict)
{
    struct hwi_top5 t;
    hwi_top5_init(&t);
    hwi_top5_push(&t, "w_c", 0.5);
    hwi_top5_push(&t, "w_a", 0.9);
    hwi_top5_push(&t, "new_whale", 0.6);
    hwi_top5_push(&t, "w_b", 0.5); /* tie with w_c: w_b first */
    ck_assert_int_eq(t.k, 3);
    ck_assert_str_eq(t.label[1], "w_b");
    const char *ids[5];
    const char *pad[] = {"w_a", "new_whale", "w_z", "w_y", "w_x"};
    /* max: T below own 0.6 -> after w_a */
    int n = hwi_top5_predict(&t, HWI_NW_MAX, 0.1, pad, 5, ids);
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(ids[0], "w_a");
    ck_assert_str_eq(ids[1], "new_whale");
    ck_assert_str_eq(ids[2], "w_b");
    ck_assert_str_eq(ids[3], "w_c");
    ck_assert_str_eq(ids[4], "w_z"); /* w_a and new_whale skipped */
    /* max: T = 0.95 puts it first */
    hwi_top5_predict(&t, HWI_NW_MAX, 0.95, NULL, 0, ids);
    ck_assert_str_eq(ids[0], "new_whale");
    /* add: 0.6 - 0.15 = 0.45 -> after the two 0.5s */
    n = hwi_top5_predict(&t, HWI_NW_ADD, -0.15, NULL, 0, ids);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(ids[3], "new_whale");
    /* a tie at T: new_whale sorts before w_*, after labels below "new_whale" */
    hwi_top5_predict(&t, HWI_NW_MAX, 0.9, NULL, 0, ids);
    ck_assert_str_eq(ids[0], "new_whale");
    /* none: its own score only */
    hwi_top5_predict(&t, HWI_NW_NONE, 5, NULL, 0, ids);
    ck_assert_str_eq(ids[1], "new_whale");
    /* an empty ranking: new_whale and the padding */
    struct hwi_top5 e;
    hwi_top5_init(&e);
    n = hwi_top5_predict(&e, HWI_NW_MAX, 0, pad, 5, ids);
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(ids[0], "new_whale");
    ck_assert_str_eq(ids[1], "w_a");
    ck_assert_str_eq(ids[4], "w_x");
}
END_TEST

/* The exact search reaches the best MAP@5 of any threshold that ties no
 * score: compare it with a brute force over every midpoint and beyond the
 * ends, on random rankings with many ties (scores are tenths, so +-0.05
 * are midpoints). */
START_TEST(test_exact_search_random)
{
    static const char *const lab[] = {"w_0", "w_1", "w_2", "w_3", "w_4",
                                      "w_5", "w_6", "w_7", "aa"};
    enum { NQ = 40 };
    srand(7);
    for (int round = 0; round < 60; round++) {
        struct hwi_top5 t[NQ];
        const char *truth[NQ];
        double vals[NQ * 6 * 2 + 8];
        size_t nv = 0;
        enum hwi_nw_mode mode = round % 2 ? HWI_NW_ADD : HWI_NW_MAX;
        for (int q = 0; q < NQ; q++) {
            hwi_top5_init(&t[q]);
            int k = rand() % 8;
            int used[9] = {0};
            for (int i = 0; i < k; i++) {
                int l = rand() % 9;
                if (used[l])
                    continue;
                used[l] = 1;
                hwi_top5_push(&t[q], lab[l], (rand() % 10) / 10.0);
            }
            if (rand() % 3 == 0)
                hwi_top5_push(&t[q], HWI_NEW_WHALE, (rand() % 10) / 10.0);
            int r = rand() % 10;
            truth[q] = r < 3 ? HWI_NEW_WHALE : lab[r - 1];
            for (int i = 0; i < t[q].k; i++)
                vals[nv++] = t[q].score[i] - (mode == HWI_NW_ADD && t[q].has_nw ? t[q].nw : 0);
        }
        double best = -1;
        double cand[3 * NQ * 6 + 2];
        size_t nc = 0;
        cand[nc++] = -10;
        cand[nc++] = 10;
        for (size_t i = 0; i < nv; i++) {
            cand[nc++] = vals[i] + 0.05;
            cand[nc++] = vals[i] - 0.05;
        }
        for (size_t i = 0; i < nc; i++) {
            double m = hwi_top5_map5(t, truth, NQ, mode, cand[i], NULL, 0);
            if (m > best)
                best = m;
        }
        double thr, map5;
        char err[HWI_ERRLEN];
        ck_assert_int_eq(
            hwi_thresh_search(t, truth, NQ, mode, NULL, 0, NULL, 0, &thr, &map5, err), 0);
        ck_assert_double_eq_tol(map5, best, 1e-12);
        ck_assert_double_eq(hwi_top5_map5(t, truth, NQ, mode, thr, NULL, 0), map5);
    }
}
END_TEST

/* A hand-checked exact search. */
START_TEST(test_exact_search_hand)
{
    struct hwi_top5 t[2];
    hwi_top5_init(&t[0]);
    hwi_top5_push(&t[0], "w_a", 0.8);
    hwi_top5_push(&t[0], "w_b", 0.6);
    hwi_top5_init(&t[1]);
    hwi_top5_push(&t[1], "w_a", 0.9);
    hwi_top5_push(&t[1], "w_c", 0.55);
    const char *truth[2] = {"new_whale", "w_a"};
    double thr, map5;
    char err[HWI_ERRLEN];
    /* q1 (w_a): AP 1 while T < 0.9, 1/2 above.  q0: 1/3 below 0.6, 1/2 on
     * (0.6, 0.8), 1 above 0.8.  Best: (0.8, 0.9) with (1 + 1)/2, and the
     * shortest number inside it is 0.85. */
    ck_assert_int_eq(
        hwi_thresh_search(t, truth, 2, HWI_NW_MAX, NULL, 0, NULL, 0, &thr, &map5, err), 0);
    ck_assert_double_eq(thr, 0.85);
    ck_assert_double_eq_tol(map5, 1.0, 1e-15);
}
END_TEST

START_TEST(test_rank_order)
{
    double s[4] = {0.5, 0.9, 0.5, 0.1};
    const char *l[4] = {"w_b", "w_z", "new_whale", "w_a"};
    size_t idx[4];
    hwi_rank_order(s, l, 4, idx);
    ck_assert_uint_eq(idx[0], 1);
    ck_assert_uint_eq(idx[1], 2); /* new_whale < w_b */
    ck_assert_uint_eq(idx[2], 0);
    ck_assert_uint_eq(idx[3], 3);
    enum hwi_nw_mode mode;
    ck_assert_int_eq(hwi_nw_mode_parse("add", &mode), 0);
    ck_assert_int_eq(mode, HWI_NW_ADD);
    ck_assert_int_eq(hwi_nw_mode_parse("Max", &mode), -1);
    ck_assert_str_eq(hwi_nw_mode_name(HWI_NW_NONE), "none");
}
END_TEST

/* Reading with the sort check. */
START_TEST(test_input_sorted)
{
    FILE *fp = test_memfile("b\tw_1\t1\nb\tw_2\t0.5\na\tw_1\t2\n", -1);
    struct hwi_fuse_input in;
    struct hwi_labelset ls = {0};
    char err[HWI_ERRLEN];
    hwi_fuse_input_open(&in, fp, "s.tsv", 1);
    ck_assert_int_eq(hwi_fuse_input_next(&in, &ls, err), 1);
    ck_assert_uint_eq(in.c.n, 2);
    ck_assert_int_eq(hwi_fuse_input_next(&in, &ls, err), -1);
    ck_assert_pstr_eq(strstr(err, "s.tsv:3: query 'a' comes after 'b'"), err);
    hwi_fuse_input_close(&in);
    hwi_labelset_free(&ls);
    fclose(fp);
}
END_TEST

Suite *make_fuse_suite(void)
{
    Suite *s = suite_create("fuse");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_thresh_format);
    tcase_add_test(tc, test_softmax);
    tcase_add_test(tc, test_grid_like_original);
    tcase_add_test(tc, test_mix_like_original);
    tcase_add_test(tc, test_join_missing);
    tcase_add_test(tc, test_predict);
    tcase_add_test(tc, test_rank_order);
    tcase_add_test(tc, test_input_sorted);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Search");
    tcase_add_test(lim, test_exact_search_hand);
    tcase_add_test(lim, test_exact_search_random);
    suite_add_tcase(s, lim);
    return s;
}
