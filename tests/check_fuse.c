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
    ck_assert_int_eq(hwi_thresh_search(t, (const char *const *)TRUTH6, 6, HWI_NW_MAX, NULL, 0,
                                       grid, n, &thr, &map5, err),
                     0);
    ck_assert_double_eq_tol(thr, 0.2770833333333333, 1e-12);
    ck_assert_double_eq_tol(map5, 0.7638888888888888, 1e-12);
    /* the exact search can only do as well or better */
    double thr2, map52;
    ck_assert_int_eq(hwi_thresh_search(t, (const char *const *)TRUTH6, 6, HWI_NW_MAX, NULL, 0,
                                       NULL, 0, &thr2, &map52, err),
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
            static const double want[7] = {0.9006641914223913,       2.191803896039974,
                                           1.9508275173900602,       0.6005330063405552,
                                           0.3001774238924475,       0.15599401632357826,
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
    ck_assert_double_eq(f[0], 2.0); /* 2*.5 + 1 */
    ck_assert_double_eq(f[2], 4.0); /* 4*.75 + 1 */
    ck_assert_double_eq(f[3], 2.5); /* 2*.25 + 2 */

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

/* ------------------------------------------------------------------------
 * Fitting, the truth join, padding, the fit report and the merge-join
 * (moved out of bin/hwi-fuse.c and bin/hwi-thresh.c).  Reference values:
 * a plain numpy/Python re-implementation (softmax, rankings by score then
 * label, new_whale at max(T, own), first best over the grids, thresholds
 * np.linspace), run once by hand. */

/* Truths where the multiplier matters: with thresholds linspace(0, 0.95,
 * 121), c = 1 gives MAP@5 35/72 at T = 0.17416666..., and of the grid
 * {2.2, 4, 0.5} only c = 0.5 does better, 41/72 at T = 0.7125; as ranked
 * 0.38888... (28/72) for every c. */
START_TEST(test_logits_fit)
{
    static const char *const tr[6] = {"w_b", "w_c", "new_whale", "w_d", "w_a", "new_whale"};
    struct hwi_labelset ls = {0};
    size_t lid[6];
    char *key[6] = {"q0", "q1", "q2", "q3", "q4", "q5"};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(hwi_labelset_id(&ls, L6[i], &lid[i]), 0);
    struct hwi_logits lg = {6, 6, 6, key, (float *)LOGITS, lid, (const char **)tr};
    double *tgrid, cgrid[3] = {2.2, 4, 0.5};
    size_t nt;
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_parse_grid("0:0.95:0.0079166666666666667", 0, 1, &tgrid, &nt, err),
                     0);
    struct hwi_mult_fit f;
    ck_assert_int_eq(hwi_logits_fit(&lg, &ls, cgrid, 3, HWI_NW_MAX, tgrid, nt, &f, err), 0);
    ck_assert_double_eq_tol(f.ranked, 28.0 / 72, 1e-12);
    ck_assert_double_eq_tol(f.map5_1, 35.0 / 72, 1e-12);
    ck_assert_double_eq_tol(f.thr1, 0.17416666666666664, 1e-12);
    ck_assert_double_eq(f.c, 0.5);
    ck_assert_double_eq_tol(f.map5, 41.0 / 72, 1e-12);
    ck_assert_double_eq_tol(f.thr, 0.7124999999999999, 1e-12);
    free(tgrid);
    hwi_labelset_free(&ls);
}
END_TEST

/* A second scores list, probabilities. */
static const float PROB[6][6] = {
    {0.5f, 0.3f, 0.1f, 0.05f, 0.03f, 0.02f}, {0.1f, 0.2f, 0.6f, 0.05f, 0.03f, 0.02f},
    {0.3f, 0.25f, 0.2f, 0.1f, 0.1f, 0.05f},  {0.2f, 0.3f, 0.1f, 0.3f, 0.05f, 0.05f},
    {0.4f, 0.3f, 0.1f, 0.1f, 0.05f, 0.05f},  {0.3f, 0.35f, 0.1f, 0.1f, 0.1f, 0.05f},
};

/* SIM (with its new_whale column) and PROB as scores TSV, each query's
 * labels in the order of L6; input 0 in query order 0..5, input 1 in
 * reverse. */
static FILE *scores_file(int which)
{
    char buf[4096];
    size_t n = 0;
    for (int k = 0; k < 6; k++) {
        int q = which ? 5 - k : k;
        for (int i = 0; i < (which ? 6 : 7); i++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "q%d\t%s\t%.9g\n", q,
                                  i < 6 ? L6[i] : HWI_NEW_WHALE,
                                  which ? PROB[q][i] : SIM[q][i]);
    }
    return test_memfile(buf, (long)n);
}

/* The weights w_knn, w_prob in {0, 1, 2} (v tied), thresholds
 * linspace(0, 3, 61), rankings as ranked with their own new_whale: knn
 * alone 0.833333 as ranked, MAP@5 0.833333 at
 * T = 0; PROB alone 0.541667, 0.783333 at T = 0.45 (it lists no
 * new_whale); the best, first in mixed-radix order (w_knn fastest), is
 * (2, 0): 0.888889 at T = 1.25, 0.833333 as ranked. */
START_TEST(test_fitset_fit)
{
    FILE *fp[2] = {scores_file(0), scores_file(1)};
    struct hwi_fuse_input in[2];
    const char *names[2] = {"knn", "prob"};
    for (int i = 0; i < 2; i++)
        hwi_fuse_input_open(&in[i], fp[i], names[i], 0);
    struct hwi_labelset ls = {0};
    struct hwi_missing miss = {HWI_MISS_VALUE, 0};
    struct hwi_fitset fs;
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_fitset_load(&fs, in, 2, names, &ls, &miss, err), 0);
    ck_assert_uint_eq(fs.nq, 6);
    size_t nw_id;
    ck_assert_int_eq(hwi_labelset_id(&ls, HWI_NEW_WHALE, &nw_id), 0);
    ck_assert_int_eq(hwi_fitset_overlap(&fs, ls.n, nw_id, names, err), 0);

    /* the truth join: a table in another order, with an extra image */
    struct hwi_labels t = {0};
    static const char *const tr[6] = {"w_a", "w_c", "new_whale", "w_c", "new_whale", "w_b"};
    ck_assert_int_eq(hwi_labels_add(&t, "extra", "w_z"), 0);
    for (int q = 5; q >= 0; q--) {
        char name[8];
        snprintf(name, sizeof name, "q%d", q);
        ck_assert_int_eq(hwi_labels_add(&t, name, tr[q]), 0);
    }
    ck_assert_int_eq(hwi_fitset_truth(&fs, &t, "t.csv", err), 0);
    for (size_t q = 0; q < 6; q++)
        ck_assert_str_eq(fs.truth[q], tr[fs.query[q][1] - '0']);

    double *tgrid, g[3] = {0, 1, 2}, *gw[2] = {g, g}, *gv[2] = {NULL, NULL};
    size_t nt, nw[2] = {3, 3}, nv[2] = {0, 0};
    ck_assert_int_eq(hwi_parse_grid("0:3:0.05", 0, 3, &tgrid, &nt, err), 0);
    ck_assert_uint_eq(nt, 61);
    struct hwi_fit_opts o = {HWI_NW_MAX, tgrid, nt,   gw,           nw, gv,
                             nv,         NULL,  NULL, HWI_FIT_GRID, 0};
    double bw[2], bv[2], combos;
    struct hwi_weights best = {2, bw, bv};
    struct hwi_fit_score alone[2], fused;
    ck_assert_int_eq(hwi_fit_grid_check(&o, 2, &combos, err), 0);
    ck_assert_double_eq(combos, 9);
    ck_assert_int_eq(hwi_fitset_fit(&fs, &ls, nw_id, &o, &best, alone, &fused, err), 0);
    ck_assert_double_eq_tol(alone[0].ranked, 0.8333333333333334, 1e-12);
    ck_assert_double_eq_tol(alone[0].map5, 0.8333333333333334, 1e-12);
    ck_assert_double_eq_tol(alone[0].thr, 0, 1e-12);
    ck_assert_double_eq_tol(alone[1].ranked, 0.5416666666666666, 1e-12);
    ck_assert_double_eq_tol(alone[1].map5, 0.7833333333333333, 1e-12);
    ck_assert_double_eq_tol(alone[1].thr, 0.45, 1e-12);
    ck_assert_double_eq(bw[0], 2);
    ck_assert_double_eq(bw[1], 0);
    ck_assert_double_eq(bv[0], 2);
    ck_assert_double_eq(bv[1], 0); /* PROB lists no new_whale */
    ck_assert_double_eq_tol(fused.map5, 0.8888888888888888, 1e-12);
    ck_assert_double_eq_tol(fused.thr, 1.25, 1e-12);
    ck_assert_double_eq_tol(fused.ranked, 0.8333333333333334, 1e-12);
    char *opt = hwi_weights_options(&best);
    ck_assert_str_eq(opt, "--weights=2,0 --nw-weights=2,0");
    free(opt);

    /* --min-gain: (2, 0) leads knn alone by 8/9 - 5/6 = 1/18; a lead
     * asked of more than that (and the default 1/N = 1/6) gives knn alone
     * at its own threshold, of less the same (2, 0) */
    const double need[4] = {1.0 / 18 + 1e-9, -1, 1.0 / 18 - 1e-9, 0};
    for (int k = 0; k < 4; k++) {
        o.min_gain = need[k];
        ck_assert_int_eq(hwi_fitset_fit(&fs, &ls, nw_id, &o, &best, alone, &fused, err), 0);
        double w0 = k < 2 ? 1 : 2;
        ck_assert_double_eq(bw[0], w0);
        ck_assert_double_eq(bw[1], 0);
        ck_assert_double_eq(bv[0], w0);
        ck_assert_double_eq(bv[1], 0);
        ck_assert_double_eq_tol(fused.map5, k < 2 ? 0.8333333333333334 : 0.8888888888888888,
                                1e-12);
        ck_assert_double_eq_tol(fused.thr, k < 2 ? 0 : 1.25, 1e-12);
    }
    o.min_gain = 0;

    /* coordinate ascent from (1, 1): w_knn 2 raises MAP@5 to 8/9 (T = 1.65),
     * nothing raises it further: a local optimum beside the grid's (2, 0) */
    o.search = HWI_FIT_ASCENT;
    ck_assert_int_eq(hwi_fit_grid_check(&o, 2, &combos, err), 0);
    ck_assert_double_eq(combos, 6);
    ck_assert_int_eq(hwi_fitset_fit(&fs, &ls, nw_id, &o, &best, alone, &fused, err), 0);
    ck_assert_double_eq(bw[0], 2);
    ck_assert_double_eq(bw[1], 1);
    ck_assert_double_eq(bv[0], 2);
    ck_assert_double_eq(bv[1], 0);
    ck_assert_double_eq_tol(fused.map5, 0.8888888888888888, 1e-12);
    ck_assert_double_eq_tol(fused.thr, 1.65, 1e-12);
    o.search = HWI_FIT_GRID;

    /* grids of zeros only, or too many settings: usage errors */
    double z = 0, *gz[2] = {&z, &z};
    size_t one[2] = {1, 1};
    struct hwi_fit_opts oz = {HWI_NW_MAX, NULL, 0,    gz,           one, gv,
                              nv,         NULL, NULL, HWI_FIT_GRID, 0};
    ck_assert_int_eq(hwi_fit_grid_check(&oz, 2, &combos, err), -1);
    ck_assert_pstr_eq(strstr(err, "only zeros"),
                      err + strlen(err) - strlen("only zeros: nothing to fuse"));
    size_t many[2] = {1001, 1000};
    double *big = calloc(1001, sizeof *big), *gb[2] = {big, big};
    big[1] = 1;
    struct hwi_fit_opts ob = {HWI_NW_MAX, NULL, 0,    gb,           many, gv,
                              nv,         NULL, NULL, HWI_FIT_GRID, 0};
    ck_assert_int_eq(hwi_fit_grid_check(&ob, 2, &combos, err), -1);
    ck_assert_str_eq(err, "the weight grids give 1001000 combinations, more than 1000000");
    free(big);

    /* a query without a label */
    struct hwi_labels t2 = {0};
    ck_assert_int_eq(hwi_labels_add(&t2, "q0", "w_a"), 0);
    ck_assert_int_eq(hwi_fitset_truth(&fs, &t2, "t2.csv", err), -1);
    ck_assert_str_eq(err, "t2.csv: no label for query 'q1' (knn:8)");
    size_t row[2], bad;
    const char *keys[2] = {"q0", "nope"};
    ck_assert_int_eq(hwi_labels_rows(&t2, keys, 1, row, &bad, err), 0);
    ck_assert_uint_eq(row[0], 0);
    ck_assert_int_eq(hwi_labels_rows(&t2, keys, 2, row, &bad, err), -1);
    ck_assert_uint_eq(bad, 1);

    free(tgrid);
    hwi_labels_free(&t);
    hwi_labels_free(&t2);
    hwi_fitset_free(&fs);
    hwi_labelset_free(&ls);
    for (int i = 0; i < 2; i++) {
        hwi_fuse_input_close(&in[i]);
        fclose(fp[i]);
    }
}
END_TEST

/* The default padding: ranked first most often, then most often in the
 * five best, then by id. */
START_TEST(test_default_pad)
{
    struct hwi_top5 t[3];
    for (int i = 0; i < 3; i++)
        hwi_top5_init(&t[i]);
    hwi_top5_push(&t[0], "w_b", 0.9);
    hwi_top5_push(&t[0], "w_c", 0.5);
    hwi_top5_push(&t[1], "w_b", 0.8);
    hwi_top5_push(&t[1], "w_a", 0.7);
    hwi_top5_push(&t[1], "new_whale", 0.95);
    hwi_top5_push(&t[2], "w_d", 0.6);
    hwi_top5_push(&t[2], "w_c", 0.1);
    hwi_top5_push(&t[2], "w_a", 0.2);
    const char *pad[16];
    size_t npad;
    char err[HWI_ERRLEN];
    /* first: w_b 2, w_d 1; then in the five best: w_a 2 = w_c 2 (by id) */
    ck_assert_int_eq(hwi_thresh_default_pad(t, 3, pad, 16, &npad, err), 0);
    ck_assert_uint_eq(npad, 4);
    ck_assert_str_eq(pad[0], "w_b");
    ck_assert_str_eq(pad[1], "w_d");
    ck_assert_str_eq(pad[2], "w_a");
    ck_assert_str_eq(pad[3], "w_c");
    ck_assert_int_eq(hwi_thresh_default_pad(t, 3, pad, 2, &npad, err), 0);
    ck_assert_uint_eq(npad, 2);
}
END_TEST

START_TEST(test_report)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&buf, &size);
    ck_assert_ptr_nonnull(fp);
    hwi_thresh_report_head(fp);
    hwi_thresh_report_line(fp, "thresh", 3, 0.5, HWI_NW_MAX, 0.25, 2.0 / 3,
                           "--threshold=0.25");
    hwi_thresh_report_line(fp, "fused", 3, 0.5, HWI_NW_NONE, 0.25, 0, "--weights=1");
    fclose(fp);
    ck_assert_str_eq(buf, "# stage\tqueries\tmap5\tthreshold\tmap5_nw\toptions\n"
                          "thresh\t3\t0.500000\t0.25\t0.666667\t--threshold=0.25\n"
                          "fused\t3\t0.500000\t-\t-\t--weights=1\n");
    free(buf);
}
END_TEST

/* The merge-join: queries in byte order across inputs, absent ones
 * counted, disjoint label sets refused at the end. */
START_TEST(test_merge)
{
    FILE *fp[2] = {test_memfile("a\tw_1\t1\nc\tw_1\t1\n", -1),
                   test_memfile("b\tw_1\t1\nc\tw_2\t1\nd\tw_1\t1\n", -1)};
    struct hwi_fuse_input in[2];
    const char *names[2] = {"x", "y"};
    for (int i = 0; i < 2; i++)
        hwi_fuse_input_open(&in[i], fp[i], names[i], 1);
    struct hwi_labelset ls = {0};
    struct hwi_fuse_merge m;
    char err[HWI_ERRLEN];
    ck_assert_int_eq(hwi_fuse_merge_open(&m, in, 2, names, &ls, err), 0);
    static const char *const want[4] = {"a", "b", "c", "d"};
    static const int both[4][2] = {{1, 0}, {0, 1}, {1, 1}, {0, 1}};
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(hwi_fuse_merge_next(&m, err), 1);
        ck_assert_str_eq(m.query, want[k]);
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(m.c[i] != NULL, both[k][i]);
    }
    ck_assert_int_eq(hwi_fuse_merge_next(&m, err), 0);
    ck_assert_uint_eq(m.absent[0], 2);
    ck_assert_uint_eq(m.absent[1], 1);
    hwi_fuse_merge_close(&m);
    for (int i = 0; i < 2; i++) {
        hwi_fuse_input_close(&in[i]);
        fclose(fp[i]);
    }
    hwi_labelset_free(&ls);

    fp[0] = test_memfile("a\tw_1\t1\n", -1);
    fp[1] = test_memfile("a\tv_1\t1\n", -1);
    for (int i = 0; i < 2; i++)
        hwi_fuse_input_open(&in[i], fp[i], names[i], 1);
    ck_assert_int_eq(hwi_fuse_merge_open(&m, in, 2, names, &ls, err), 0);
    ck_assert_int_eq(hwi_fuse_merge_next(&m, err), 1);
    ck_assert_int_eq(hwi_fuse_merge_next(&m, err), -1);
    ck_assert_str_eq(err, "x and y have no label in common: mismatched label sets");
    hwi_fuse_merge_close(&m);
    for (int i = 0; i < 2; i++) {
        hwi_fuse_input_close(&in[i]);
        fclose(fp[i]);
    }
    hwi_labelset_free(&ls);
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
    TCase *fit = tcase_create("Fit");
    tcase_add_test(fit, test_logits_fit);
    tcase_add_test(fit, test_fitset_fit);
    tcase_add_test(fit, test_default_pad);
    tcase_add_test(fit, test_report);
    tcase_add_test(fit, test_merge);
    suite_add_tcase(s, fit);
    return s;
}
