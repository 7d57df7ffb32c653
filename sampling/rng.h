/*
 * numpy's legacy random generator (numpy.random.RandomState: MT19937 plus the legacy
 * conversions), bit-exact, because fastMRI and ATOMMIC draw their masks from it
 * (../shared/specs/sampling.md §0).
 *
 *   seeding      int s          -> init_genrand(s)             (RandomState(s))
 *                sequence k[]   -> init_by_array(k, len)       (RandomState((k0, k1, ...)))
 *                file name      -> sequence of the Unicode code points of its base name,
 *                                  as fastMRI's transforms do: seed = tuple(map(ord, fname))
 *   uniform      ((a >> 5) * 2^26 + (b >> 6)) / 2^53 from two 32-bit outputs a, b
 *   randint      [0, high): masked rejection on the smallest 2^k - 1 >= high - 1;
 *                high == 1 returns 0 without consuming a number
 *   choice_p     choice(n, size=m, replace=False, p=p) with the legacy algorithm
 *
 * One generator per thread (a value type; copy it to save and restore the state, which is what
 * fastMRI's temp_seed context manager does).
 */
#ifndef MR_SAMPLING_RNG_H
#define MR_SAMPLING_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "recon/status.h"

#define MR_RNG_N 624

struct mr_rng {
    uint32_t mt[MR_RNG_N];
    int pos;
};

/* RandomState(seed) for an integer seed in [0, 2^32). */
void mr_rng_seed(struct mr_rng *r, uint32_t seed);

/* RandomState(tuple(key)) (len >= 1). */
void mr_rng_seed_array(struct mr_rng *r, const uint32_t *key, size_t len);

/* RandomState(tuple(map(ord, basename(fname)))): the per-volume seed of fastMRI's data
 * transforms. fname is UTF-8; everything up to the last '/' is dropped.
 * Errors: MR_ERR_ARG (empty base name or invalid UTF-8). */
mr_status mr_rng_seed_name(struct mr_rng *r, const char *fname);

/* Next 32-bit output (genrand_int32). */
uint32_t mr_rng_u32(struct mr_rng *r);

/* uniform() / random_sample(): a double in [0, 1) with 53 random bits. */
double mr_rng_uniform(struct mr_rng *r);

/* randint(0, high) for 1 <= high <= 2^32 (MR_ASSERT). */
int64_t mr_rng_randint(struct mr_rng *r, int64_t high);

/* choice(n, size=m, replace=False, p=p): m distinct indices of [0, n) in the order numpy
 * returns them, into out[0..m). p has n non-negative weights (numpy requires sum 1; only the
 * normalised cumulative sum is used). Scratch of 2n doubles is allocated here.
 * Errors: MR_ERR_ARG (m > number of non-zero weights, negative weight), MR_ERR_NOMEM. */
mr_status mr_rng_choice_p(struct mr_rng *r, int64_t n, const double *p, int64_t m, int64_t *out);

#endif
