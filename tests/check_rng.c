/* check_rng.c: lib/rng.c against an independent python3 implementation of
 * splitmix64 and xoshiro256** (big ints masked to 64 bits; values noted at
 * each test), and statistical checks of the bounded draw and the shuffle. */
#include <config.h>

#include "check_hwi.h"
#include "rng.h"

#include <stdint.h>
#include <string.h>

/* splitmix64's first outputs from seeds 42 and 0xdeadbeef (python3). */
START_TEST(test_splitmix64)
{
    struct hwi_rng r;
    hwi_rng_seed(&r, 42);
    ck_assert_uint_eq(hwi_rng_next(&r), 0xbdd732262feb6e95ULL);
    ck_assert_uint_eq(hwi_rng_next(&r), 0x28efe333b266f103ULL);
    ck_assert_uint_eq(hwi_rng_next(&r), 0x47526757130f9f52ULL);
    hwi_rng_seed(&r, 0xdeadbeef);
    ck_assert_uint_eq(hwi_rng_next(&r), 0x4adfb90f68c9eb9bULL);
    ck_assert_uint_eq(hwi_rng_next(&r), 0xde586a3141a10922ULL);
    /* u01 keeps the top 53 bits: 0xe220a8397b1dcdaf >> 11 times 2^-53 */
    hwi_rng_seed(&r, 0);
    ck_assert_double_eq_tol(hwi_rng_u01(&r), 0.8833108082136426, 1e-16);
    for (int i = 0; i < 10000; i++) {
        double u = hwi_rng_uniform(&r, -1, 4);
        ck_assert(u >= -1 && u < 4);
    }
}
END_TEST

/* xoshiro256** seeded with the splitmix64 sequence from 1 (python3). */
START_TEST(test_xoshiro256)
{
    struct hwi_rng256 r;
    hwi_rng256_seed(&r, 1);
    ck_assert_uint_eq(hwi_rng256_next(&r), 0xb3f2af6d0fc710c5ULL);
    ck_assert_uint_eq(hwi_rng256_next(&r), 0x853b559647364ceaULL);
    ck_assert_uint_eq(hwi_rng256_next(&r), 0x92f89756082a4514ULL);
    for (int i = 0; i < 10000; i++) {
        double u = hwi_rng256_u01(&r);
        ck_assert(u >= 0 && u < 1);
    }
}
END_TEST

/* The bounded draw: the sequence the split's own copy gave (python3), the
 * rejection of the draws above the last whole multiple of N, and never a
 * value out of range. */
START_TEST(test_below)
{
    static const uint64_t want[] = {3, 5, 2, 2, 3, 0, 1, 1, 6, 6, 4, 4};
    struct hwi_rng r;
    hwi_rng_seed(&r, 5);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_uint_eq(hwi_rng_below(&r, 7), want[i]);
    /* N = 2^63 + 1 rejects every draw >= N: of the first eight draws from
     * seed 9, the 1st, 2nd, 4th, 7th and 8th */
    uint64_t n = (1ULL << 63) + 1;
    hwi_rng_seed(&r, 9);
    ck_assert_uint_eq(hwi_rng_below(&r, n), 0x43ec2be544b589b6ULL);
    ck_assert_uint_eq(hwi_rng_below(&r, n), 0x4336b3782f5887a1ULL);
    ck_assert_uint_eq(hwi_rng_below(&r, n), 0x1d56f4a5808e6bfeULL);
    ck_assert_uint_eq(hwi_rng_below(&r, n), 0x3812b7427a48e169ULL);
    for (uint64_t m = 1; m < 40; m++)
        for (int i = 0; i < 200; i++)
            ck_assert_uint_lt(hwi_rng_below(&r, m), m);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_lt(hwi_rng_below(&r, n), n);
    ck_assert_uint_lt(hwi_rng_below(&r, UINT64_MAX), UINT64_MAX);
}
END_TEST

/* Pearson's chi-square of COUNT[0..K) against N/K each. */
static double chi2(const long *count, int k, long n)
{
    double e = (double)n / k, x = 0;
    for (int i = 0; i < k; i++)
        x += (count[i] - e) * (count[i] - e) / e;
    return x;
}

/* Uniformity: 60000 draws below 6, and the 6 orders of a 3-item shuffle;
 * chi-square with 5 degrees of freedom stays under 20.5 (p = 0.001). */
START_TEST(test_uniform)
{
    struct hwi_rng r;
    hwi_rng_seed(&r, 123);
    long count[6] = {0};
    for (long i = 0; i < 60000; i++)
        count[hwi_rng_below(&r, 6)]++;
    ck_assert_double_lt(chi2(count, 6, 60000), 20.5);
    long perm[6] = {0};
    for (long i = 0; i < 60000; i++) {
        size_t a[3] = {0, 1, 2};
        hwi_rng_shuffle(&r, a, 3);
        perm[a[0] * 2 + (a[1] > a[2])]++; /* first item, then order of the rest */
    }
    ck_assert_double_lt(chi2(perm, 6, 60000), 20.5);
}
END_TEST

/* The shuffle is Fisher-Yates: from seed 7, the permutation of 20 that
 * python3 gives with the old `next % i` draw (the rejection changes a draw
 * with odds below i / 2^64, so training orders stay as they were). */
START_TEST(test_shuffle)
{
    static const size_t want[20] = {4, 1, 2,  15, 16, 18, 9,  6, 13, 3,
                                    8, 5, 19, 12, 17, 10, 11, 0, 14, 7};
    size_t a[20];
    for (size_t i = 0; i < 20; i++)
        a[i] = i;
    struct hwi_rng r;
    hwi_rng_seed(&r, 7);
    hwi_rng_shuffle(&r, a, 20);
    ck_assert_mem_eq(a, want, sizeof a);
    size_t one = 5;
    hwi_rng_shuffle(&r, &one, 1);
    ck_assert_uint_eq(one, 5);
    hwi_rng_shuffle(&r, NULL, 0);
}
END_TEST

Suite *make_rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_splitmix64);
    tcase_add_test(tc, test_xoshiro256);
    tcase_add_test(tc, test_below);
    tcase_add_test(tc, test_uniform);
    tcase_add_test(tc, test_shuffle);
    suite_add_tcase(s, tc);
    return s;
}
