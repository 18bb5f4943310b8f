/* rng.c: splitmix64 and xoshiro256**, the random numbers of libhwi (see
 * rng.h). */
#include <config.h>

#include "rng.h"

#define GAMMA 0x9e3779b97f4a7c15ULL /* 2^64 / golden ratio, odd */

uint64_t hwi_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double hwi_rng_to_u01(uint64_t x)
{
    return (double)(x >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------------
 * splitmix64. */

void hwi_rng_seed(struct hwi_rng *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t hwi_rng_next(struct hwi_rng *r)
{
    return hwi_rng_mix(r->s += GAMMA);
}

double hwi_rng_u01(struct hwi_rng *r)
{
    return hwi_rng_to_u01(hwi_rng_next(r));
}

double hwi_rng_uniform(struct hwi_rng *r, double a, double b)
{
    return a + (b - a) * hwi_rng_u01(r);
}

uint64_t hwi_rng_below(struct hwi_rng *r, uint64_t n)
{
    /* draws at or above the largest multiple of N that fits are rejected */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
    do
        v = hwi_rng_next(r);
    while (v >= lim);
    return v % n;
}

void hwi_rng_shuffle(struct hwi_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hwi_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* ------------------------------------------------------------------------
 * xoshiro256**. */

void hwi_rng256_seed(struct hwi_rng256 *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        seed += GAMMA;
        r->s[i] = hwi_rng_mix(seed);
    }
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t hwi_rng256_next(struct hwi_rng256 *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double hwi_rng256_u01(struct hwi_rng256 *r)
{
    return hwi_rng_to_u01(hwi_rng256_next(r));
}
