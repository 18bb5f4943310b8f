/* check_knn.c: 1-NN per individual (lib/knn.c).  Reference scores were
 * computed with python3 + numpy in float64 from the float32 inputs below
 * (per-label minimum of the Euclidean distance, s = (2 - d) / 2); a larger
 * random case that crosses the query and gallery block sizes is checked
 * against a brute-force loop. */
#include <config.h>

#include "check_hwi.h"
#include "knn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A small gallery: w_a (2 images), w_b (1), new_whale (2), w_c (1), and g6
 * with no label, almost identical to g1. */
static const char *gname[] = {"g1.jpg", "g2.jpg", "g3.jpg", "g4.jpg",
                              "g5.jpg", "g6.jpg", "g7.jpg"};
static const char *glabel[] = {"w_a", "w_a", "w_b", "new_whale", "new_whale", NULL, "w_c"};
static const float gvec[][4] = {
    {0.5f, -0.25f, 1.0f, 0.75f}, {-1.0f, 0.5f, 0.25f, 0.0f},  {0.1f, 0.2f, 0.3f, 0.4f},
    {0.9f, -0.1f, 0.8f, 0.7f},   {-0.3f, -0.6f, 0.2f, -0.9f}, {0.5f, -0.25f, 1.0f, 0.7f},
    {0.0f, 0.0f, -1.0f, 0.5f},
};
/* Queries: q1 is new; the other two are gallery images (g3 the only w_b). */
static const char *qkey[] = {"q1.jpg", "g3.jpg", "g1.jpg"};
static const float qvec[][4] = {
    {0.4f, -0.2f, 0.9f, 0.8f},
    {0.1f, 0.2f, 0.3f, 0.4f},
    {0.5f, -0.25f, 1.0f, 0.75f},
};

struct want {
    int q;
    const char *label, *image;
    double score;
};

/* numpy, default flags: new_whale included, self excluded */
static const struct want want_default[] = {
    {0, "w_a", "g1.jpg", 0.92094305142754829},
    {0, "new_whale", "g4.jpg", 0.73542488395943306},
    {0, "w_b", "g3.jpg", 0.56125178937583997},
    {0, "w_c", "g7.jpg", 0.012579126902570237},
    {1, "w_a", "g1.jpg", 0.50628956345128517}, /* w_b has no image but itself */
    {1, "new_whale", "g4.jpg", 0.48279599010104934},
    {1, "w_c", "g7.jpg", 0.33856216632013736},
    {2, "new_whale", "g4.jpg", 0.76282918766045382},
    {2, "w_b", "g3.jpg", 0.50628956345128517},
    {2, "w_a", "g2.jpg", 0.0078432583507784814}, /* not g1 (itself), not g6 (no label) */
    {2, "w_c", "g7.jpg", -0.045825033167594453},
};
/* numpy, HWI_KNN_NO_NEW_WHALE */
static const struct want want_nonew[] = {
    {0, "w_a", "g1.jpg", 0.92094305142754829},   {0, "w_b", "g3.jpg", 0.56125178937583997},
    {0, "w_c", "g7.jpg", 0.012579126902570237},  {1, "w_a", "g1.jpg", 0.50628956345128517},
    {1, "w_c", "g7.jpg", 0.33856216632013736},   {2, "w_b", "g3.jpg", 0.50628956345128517},
    {2, "w_a", "g2.jpg", 0.0078432583507784814}, {2, "w_c", "g7.jpg", -0.045825033167594453},
};
/* numpy, HWI_KNN_KEEP_SELF: a query that is a gallery image scores 1 */
static const struct want want_self[] = {
    {0, "w_a", "g1.jpg", 0.92094305142754829},
    {0, "new_whale", "g4.jpg", 0.73542488395943306},
    {0, "w_b", "g3.jpg", 0.56125178937583997},
    {0, "w_c", "g7.jpg", 0.012579126902570237},
    {1, "w_b", "g3.jpg", 1},
    {1, "w_a", "g1.jpg", 0.50628956345128517},
    {1, "new_whale", "g4.jpg", 0.48279599010104934},
    {1, "w_c", "g7.jpg", 0.33856216632013736},
    {2, "w_a", "g1.jpg", 1},
    {2, "new_whale", "g4.jpg", 0.76282918766045382},
    {2, "w_b", "g3.jpg", 0.50628956345128517},
    {2, "w_c", "g7.jpg", -0.045825033167594453},
};

static void small_gallery(struct hwi_knn *k, unsigned flags)
{
    hwi_knn_init(k, flags);
    for (int i = 0; i < 7; i++) {
        int rc = hwi_knn_add(k, gname[i], glabel[i], gvec[i], 4);
        ck_assert_int_eq(rc, glabel[i] && !((flags & HWI_KNN_NO_NEW_WHALE) &&
                                            !strcmp(glabel[i], "new_whale")));
    }
}

static void check_rank(unsigned flags, const struct want *w, size_t nw, size_t top)
{
    struct hwi_knn k;
    small_gallery(&k, flags);
    struct hwi_knn_hit hits[3 * 8];
    size_t nhits[3];
    size_t stride = top ? top : k.nlabel;
    ck_assert_int_eq(hwi_knn_rank(&k, &qvec[0][0], 3, qkey, top, hits, nhits), 0);
    size_t seen = 0;
    for (int q = 0; q < 3; q++) {
        size_t expect = 0;
        for (size_t j = 0; j < nw; j++)
            expect += w[j].q == q;
        if (top && expect > top)
            expect = top;
        ck_assert_uint_eq(nhits[q], expect);
        for (size_t j = 0; j < nhits[q]; j++) {
            const struct hwi_knn_hit *h = &hits[q * stride + j];
            const struct want *x = &w[seen + j];
            ck_assert_int_eq(x->q, q);
            ck_assert_str_eq(k.label[h->label], x->label);
            ck_assert_str_eq(k.name[h->image], x->image);
            ck_assert_double_eq_tol(h->score, x->score, 1e-12);
        }
        while (seen < nw && w[seen].q == q)
            seen++;
    }
    hwi_knn_free(&k);
}

START_TEST(test_rank_default)
{
    check_rank(0, want_default, sizeof want_default / sizeof *want_default, 0);
}
END_TEST

START_TEST(test_rank_no_new_whale)
{
    check_rank(HWI_KNN_NO_NEW_WHALE, want_nonew, sizeof want_nonew / sizeof *want_nonew, 0);
}
END_TEST

START_TEST(test_rank_keep_self)
{
    check_rank(HWI_KNN_KEEP_SELF, want_self, sizeof want_self / sizeof *want_self, 0);
}
END_TEST

START_TEST(test_rank_top)
{
    check_rank(0, want_default, sizeof want_default / sizeof *want_default, 2);
    check_rank(0, want_default, sizeof want_default / sizeof *want_default, 1);
}
END_TEST

/* The low-level squared distances, from the matrix product (tolerance). */
START_TEST(test_search)
{
    struct hwi_knn k;
    small_gallery(&k, 0);
    ck_assert_uint_eq(k.n, 6);
    ck_assert_uint_eq(k.nlabel, 4);
    ck_assert_uint_eq(k.skipped, 1);
    float d2[3 * 4];
    size_t nearest[3 * 4];
    ck_assert_int_eq(hwi_knn_search(&k, &qvec[0][0], 3, qkey, d2, nearest), 0);
    /* labels in order of first appearance: w_a w_b new_whale w_c */
    ck_assert_str_eq(k.label[0], "w_a");
    ck_assert_str_eq(k.label[2], "new_whale");
    static const double want[3][4] = {
        {0.025000004470349117, 0.76999996930360914, 0.27999996811151773, 3.8999999225139619},
        {0.97499998062849047, INFINITY, 1.0699999514222154, 1.7500000312924386},
        {3.9375000000000004, 0.97499998062849047, 0.22499997690320103, 4.375},
    };
    for (int q = 0; q < 3; q++)
        for (int c = 0; c < 4; c++) {
            if (isinf(want[q][c])) {
                ck_assert(isinf(d2[q * 4 + c]));
                ck_assert_uint_eq(nearest[q * 4 + c], HWI_KNN_NONE);
            } else {
                ck_assert_double_eq_tol(d2[q * 4 + c], want[q][c], 1e-5);
            }
        }
    ck_assert_str_eq(k.name[nearest[2 * 4 + 0]], "g2.jpg");
    /* no keys: no self-exclusion */
    ck_assert_int_eq(hwi_knn_search(&k, &qvec[1][0], 1, NULL, d2, nearest), 0);
    ck_assert_double_eq_tol(d2[1], 0, 1e-6);
    ck_assert_str_eq(k.name[nearest[1]], "g3.jpg");
    ck_assert_double_eq(hwi_knn_sim(-1e-7), 1);
    ck_assert_double_eq(hwi_knn_sim(4), 0);
    hwi_knn_free(&k);
}
END_TEST

START_TEST(test_errors)
{
    struct hwi_knn k;
    hwi_knn_init(&k, 0);
    float v[3] = {1, 2, 3};
    float hits_q[3] = {0};
    struct hwi_knn_hit h[1];
    size_t nh;
    ck_assert_int_eq(hwi_knn_rank(&k, hits_q, 1, NULL, 1, h, &nh), -1);
    ck_assert_ptr_nonnull(strstr(k.err, "empty"));
    ck_assert_int_eq(hwi_knn_add(&k, "a", "w_1", v, 3), 1);
    ck_assert_int_eq(hwi_knn_add(&k, "b", "w_1", v, 2), -1);
    ck_assert_ptr_nonnull(strstr(k.err, "image 'b': dimension 2, earlier images have 3"));
    v[1] = NAN;
    ck_assert_int_eq(hwi_knn_add(&k, "c", "w_1", v, 3), -1);
    ck_assert_ptr_nonnull(strstr(k.err, "value 2 is not finite"));
    v[1] = 2;
    ck_assert_int_eq(hwi_knn_add(&k, "a", "w_2", v, 3), 1);
    ck_assert_int_eq(hwi_knn_rank(&k, hits_q, 1, NULL, 1, h, &nh), -1);
    ck_assert_ptr_nonnull(strstr(k.err, "image 'a' is in the gallery twice"));
    /* the failure sticks */
    ck_assert_int_eq(hwi_knn_rank(&k, hits_q, 1, NULL, 1, h, &nh), -1);
    hwi_knn_free(&k);
    hwi_knn_init(&k, 0);
    ck_assert_int_eq(hwi_knn_add(&k, "a", "w_1", v, 3), 1);
    ck_assert_int_eq(hwi_knn_rank(&k, hits_q, 1, NULL, 1, h, &nh), 0);
    ck_assert_uint_eq(nh, 1);
    ck_assert_int_eq(hwi_knn_add(&k, "b", "w_1", v, 3), -1); /* too late */
    hwi_knn_free(&k);
}
END_TEST

/* Centring by hand: rows (1,2), (3,2), (2,5) have mean (2,3); centred
 * (-1,-1), (1,-1), (0,2), normalised (-s,-s), (s,-s), (0,1) with s =
 * 1/sqrt(2).  Rows all equal become zeros.  A centred gallery then scores
 * a query centred the same way; centring after the first search fails. */
START_TEST(test_center)
{
    float v[6] = {1, 2, 3, 2, 2, 5};
    const double s = M_SQRT1_2, want[6] = {-s, -s, s, -s, 0, 1};
    ck_assert_int_eq(hwi_knn_center_rows(v, 3, 2), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq_tol(v[i], want[i], 1e-7);
    float same[4] = {0.3f, 0.4f, 0.3f, 0.4f};
    ck_assert_int_eq(hwi_knn_center_rows(same, 2, 2), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(same[i], 0);

    struct hwi_knn k;
    hwi_knn_init(&k, 0);
    const float g[6] = {1, 2, 3, 2, 2, 5};
    ck_assert_int_eq(hwi_knn_add(&k, "a", "w_a", g, 2), 1);
    ck_assert_int_eq(hwi_knn_add(&k, "b", "w_b", g + 2, 2), 1);
    ck_assert_int_eq(hwi_knn_add(&k, "c", "w_c", g + 4, 2), 1);
    ck_assert_int_eq(hwi_knn_center(&k), 0);
    float q[2] = {(float)-s, (float)-s}; /* a's centred vector */
    struct hwi_knn_hit h[3];
    size_t nh;
    ck_assert_int_eq(hwi_knn_rank(&k, q, 1, NULL, 3, h, &nh), 0);
    ck_assert_uint_eq(nh, 3);
    ck_assert_str_eq(k.label[h[0].label], "w_a");
    ck_assert_double_eq_tol(h[0].score, 1, 1e-7);
    ck_assert_int_eq(hwi_knn_center(&k), -1);
    ck_assert_ptr_nonnull(strstr(k.err, "before the first search"));
    hwi_knn_free(&k);
}
END_TEST

/* Deterministic pseudo-random numbers in [-1, 1). */
static uint32_t lcg = 12345;
static float rnd(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return (float)((lcg >> 8) * (1.0 / (1 << 24)) * 2 - 1);
}

/* Many blocks: compare with a brute-force loop over every image. */
START_TEST(test_blocks)
{
    enum {
        NG = 2 * HWI_KNN_GBLOCK + 77,
        NQ = HWI_KNN_QBLOCK + 13,
        DIM = 9,
        NL = 300,
        TOP = 5
    };
    struct hwi_knn k;
    hwi_knn_init(&k, 0);
    float *g = malloc(sizeof(float) * NG * DIM), *q = malloc(sizeof(float) * NQ * DIM);
    int *lab = malloc(sizeof(int) * NG);
    char name[32], label[32];
    char **keys = malloc(sizeof(char *) * NQ);
    for (int i = 0; i < NG; i++) {
        for (int d = 0; d < DIM; d++)
            g[i * DIM + d] = rnd();
        lab[i] = (int)((lcg >> 4) % NL);
        snprintf(name, sizeof name, "g%d", i);
        snprintf(label, sizeof label, "w_%d", lab[i]);
        ck_assert_int_eq(hwi_knn_add(&k, name, label, g + i * DIM, DIM), 1);
    }
    for (int i = 0; i < NQ; i++) {
        for (int d = 0; d < DIM; d++)
            q[i * DIM + d] = rnd();
        keys[i] = malloc(32);
        snprintf(keys[i], 32, "g%d", i * 7); /* each query excludes one image */
    }
    struct hwi_knn_hit *hits = malloc(sizeof *hits * NQ * TOP);
    size_t *nhits = malloc(sizeof *nhits * NQ);
    ck_assert_int_eq(hwi_knn_rank(&k, q, NQ, (const char *const *)keys, TOP, hits, nhits), 0);
    double best[NL];
    for (int i = 0; i < NQ; i++) {
        for (int c = 0; c < NL; c++)
            best[c] = INFINITY;
        for (int j = 0; j < NG; j++) {
            if (j == i * 7)
                continue;
            double s = 0;
            for (int d = 0; d < DIM; d++) {
                double x = (double)q[i * DIM + d] - g[j * DIM + d];
                s += x * x;
            }
            if (s < best[lab[j]])
                best[lab[j]] = s;
        }
        ck_assert_uint_eq(nhits[i], TOP);
        double prev = 2;
        for (int t = 0; t < TOP; t++) {
            const struct hwi_knn_hit *h = &hits[i * TOP + t];
            int c = atoi(k.label[h->label] + 2);
            ck_assert_double_eq_tol(h->score, (2 - sqrt(best[c])) / 2, 1e-12);
            ck_assert(h->score <= prev);
            prev = h->score;
            /* nothing better was left out */
            int better = 0;
            for (int c2 = 0; c2 < NL; c2++)
                better += (2 - sqrt(best[c2])) / 2 > h->score + 1e-6;
            ck_assert_int_le(better, t);
        }
    }
    for (int i = 0; i < NQ; i++)
        free(keys[i]);
    free(keys);
    free(hits);
    free(nhits);
    free(g);
    free(q);
    free(lab);
    hwi_knn_free(&k);
}
END_TEST

Suite *make_knn_suite(void)
{
    Suite *s = suite_create("knn");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_rank_default);
    tcase_add_test(tc, test_center);
    tcase_add_test(tc, test_rank_no_new_whale);
    tcase_add_test(tc, test_rank_keep_self);
    tcase_add_test(tc, test_rank_top);
    tcase_add_test(tc, test_search);
    suite_add_tcase(s, tc);
    tc = tcase_create("Limits");
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_blocks);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
