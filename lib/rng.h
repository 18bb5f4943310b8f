/* rng.h: the random numbers of libhwi (lib/rng.c).
 *
 * Every random draw in hwi comes from here, never from rand(): Darknet's
 * dropout draws from rand(), and a generator of our own gives the same
 * sequence on every host and one stream per purpose, so that a seed's
 * result does not depend on who else draws.
 *
 *   struct hwi_rng     splitmix64 (Steele, Lea, Flood 2014): one u64 of
 *                      state, the generator of the split, the training
 *                      order and augmentation.  Its state is the u64 a
 *                      training checkpoint saves.
 *   struct hwi_rng256  xoshiro256** (Blackman, Vigna 2018) seeded through
 *                      the splitmix64 mix: the generator of hwi-synth,
 *                      which draws millions of numbers per photo.
 *
 * hwi_rng_below draws an integer uniformly in [0, n)
 * with no modulo bias: a 64-bit draw at or above the largest multiple of n
 * that fits is rejected and drawn again (fewer than one draw in 2^32 for
 * n < 2^32).  hwi_rng_u01 maps the top 53 bits of a draw to a double in
 * [0, 1).  Nothing here allocates, prints or fails. */
#ifndef HWI_RNG_H
#define HWI_RNG_H

#include <stddef.h>
#include <stdint.h>

/* The splitmix64 output function: a bijective mix of Z's bits. */
uint64_t hwi_rng_mix(uint64_t z);

/* Map a 64-bit draw X to a double in [0, 1) (its top 53 bits). */
double hwi_rng_to_u01(uint64_t x);

/* ------------------------------------------------------------------------
 * splitmix64. */
struct hwi_rng {
    uint64_t s; /* the state: the seed plus k times the golden gamma */
};

/* Start R at state SEED (its first draw is hwi_rng_mix(SEED + gamma)). */
void hwi_rng_seed(struct hwi_rng *r, uint64_t seed);
/* The next 64 bits. */
uint64_t hwi_rng_next(struct hwi_rng *r);
/* Uniform in [0, 1), one draw. */
double hwi_rng_u01(struct hwi_rng *r);
/* Uniform in [A, B), one draw. */
double hwi_rng_uniform(struct hwi_rng *r, double a, double b);
/* Uniform integer in [0, N), N > 0, unbiased (rejection, see above). */
uint64_t hwi_rng_below(struct hwi_rng *r, uint64_t n);
/* Shuffle IDX[0..N) (Fisher-Yates with hwi_rng_below: every permutation
 * equally likely). */
void hwi_rng_shuffle(struct hwi_rng *r, size_t *idx, size_t n);

/* ------------------------------------------------------------------------
 * xoshiro256**. */
struct hwi_rng256 {
    uint64_t s[4];
};

/* Seed R from the splitmix64 sequence that starts at state SEED: s[i] is
 * its (i+1)-th output. */
void hwi_rng256_seed(struct hwi_rng256 *r, uint64_t seed);
/* The next 64 bits. */
uint64_t hwi_rng256_next(struct hwi_rng256 *r);
/* Uniform in [0, 1), one draw. */
double hwi_rng256_u01(struct hwi_rng256 *r);

#endif /* HWI_RNG_H */
