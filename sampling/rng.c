/*
 * MT19937 (Matsumoto & Nishimura, ACM TOMACS 8:3-30, 1998) with numpy's legacy RandomState
 * seeding and conversions, so masks drawn here equal those of fastMRI/ATOMMIC bit for bit.
 */
#include "sampling/rng.h"

#include <stdlib.h>
#include <string.h>

#include "recon/array.h"

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

void mr_rng_seed(struct mr_rng *r, uint32_t seed)
{
    r->mt[0] = seed;
    for (int i = 1; i < MR_RNG_N; i++)
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->pos = MR_RNG_N;
}

void mr_rng_seed_array(struct mr_rng *r, const uint32_t *key, size_t len)
{
    uint32_t *mt = r->mt;
    size_t i = 1;
    size_t j = 0;

    MR_ASSERT(len >= 1);
    mr_rng_seed(r, 19650218u);
    for (size_t k = MR_RNG_N > len ? MR_RNG_N : len; k > 0; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MR_RNG_N) {
            mt[0] = mt[MR_RNG_N - 1];
            i = 1;
        }
        if (j >= len)
            j = 0;
    }
    for (size_t k = MR_RNG_N - 1; k > 0; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= MR_RNG_N) {
            mt[0] = mt[MR_RNG_N - 1];
            i = 1;
        }
    }
    mt[0] = 0x80000000u; /* MSB is 1, assuring a non-zero initial array */
    r->pos = MR_RNG_N;
}

mr_status mr_rng_seed_name(struct mr_rng *r, const char *fname)
{
    const char *base = strrchr(fname, '/');
    base = base != NULL ? base + 1 : fname;
    size_t n = strlen(base);
    if (n == 0)
        return MR_FAIL(MR_ERR_ARG, "cannot seed from file name '%s': empty base name", fname);

    uint32_t *key = malloc(n * sizeof(*key));
    if (key == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "seed key for '%s'", fname);
    size_t len = 0;
    const unsigned char *s = (const unsigned char *)base;
    while (*s != '\0') {
        uint32_t cp;
        int extra;
        if (*s < 0x80) {
            cp = *s;
            extra = 0;
        } else if ((*s & 0xe0) == 0xc0) {
            cp = *s & 0x1fu;
            extra = 1;
        } else if ((*s & 0xf0) == 0xe0) {
            cp = *s & 0x0fu;
            extra = 2;
        } else if ((*s & 0xf8) == 0xf0) {
            cp = *s & 0x07u;
            extra = 3;
        } else {
            free(key);
            return MR_FAIL(MR_ERR_ARG, "cannot seed from file name '%s': invalid UTF-8", fname);
        }
        s++;
        for (int e = 0; e < extra; e++, s++) {
            if ((*s & 0xc0) != 0x80) {
                free(key);
                return MR_FAIL(MR_ERR_ARG, "cannot seed from file name '%s': invalid UTF-8",
                               fname);
            }
            cp = cp << 6 | (*s & 0x3fu);
        }
        key[len++] = cp;
    }
    mr_rng_seed_array(r, key, len);
    free(key);
    return MR_OK;
}

static void mt_generate(struct mr_rng *r)
{
    uint32_t *mt = r->mt;
    uint32_t y;
    int k;

    for (k = 0; k < MR_RNG_N - MT_M; k++) {
        y = (mt[k] & MT_UPPER) | (mt[k + 1] & MT_LOWER);
        mt[k] = mt[k + MT_M] ^ (y >> 1) ^ (-(y & 1u) & MT_MATRIX_A);
    }
    for (; k < MR_RNG_N - 1; k++) {
        y = (mt[k] & MT_UPPER) | (mt[k + 1] & MT_LOWER);
        mt[k] = mt[k + (MT_M - MR_RNG_N)] ^ (y >> 1) ^ (-(y & 1u) & MT_MATRIX_A);
    }
    y = (mt[MR_RNG_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
    mt[MR_RNG_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ (-(y & 1u) & MT_MATRIX_A);
    r->pos = 0;
}

uint32_t mr_rng_u32(struct mr_rng *r)
{
    if (r->pos >= MR_RNG_N)
        mt_generate(r);
    uint32_t y = r->mt[r->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double mr_rng_uniform(struct mr_rng *r)
{
    uint32_t a = mr_rng_u32(r) >> 5;
    uint32_t b = mr_rng_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

int64_t mr_rng_randint(struct mr_rng *r, int64_t high)
{
    MR_ASSERT(high >= 1 && high <= ((int64_t)1 << 32));
    uint64_t rng = (uint64_t)(high - 1);
    if (rng == 0)
        return 0;
    uint64_t mask = rng;
    for (int s = 1; s < 64; s <<= 1)
        mask |= mask >> s;
    uint64_t v;
    do
        v = mr_rng_u32(r) & mask;
    while (v > rng);
    return (int64_t)v;
}

/* first index i with cdf[i] > x (numpy searchsorted side='right') */
static int64_t search_right(const double *cdf, int64_t n, double x)
{
    int64_t lo = 0;
    int64_t hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (x < cdf[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

mr_status mr_rng_choice_p(struct mr_rng *r, int64_t n, const double *p, int64_t m, int64_t *out)
{
    int64_t nonzero = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(p[i] >= 0.0))
            return MR_FAIL(MR_ERR_ARG, "choice: probability %lld is %g (expected >= 0)",
                           (long long)i, p[i]);
        nonzero += p[i] > 0.0;
    }
    if (m > nonzero)
        return MR_FAIL(MR_ERR_ARG, "choice: %lld distinct samples requested but only %lld "
                       "entries have non-zero probability", (long long)m, (long long)nonzero);

    double *w = malloc(sizeof(double) * (size_t)(2 * n + 1));
    unsigned char *seen = calloc((size_t)n + 1, 1);
    if (w == NULL || seen == NULL) {
        free(w);
        free(seen);
        return MR_FAIL(MR_ERR_NOMEM, "choice scratch for %lld entries", (long long)n);
    }
    double *cdf = w + n;
    memcpy(w, p, sizeof(double) * (size_t)n);

    /* Legacy numpy: draw the missing count of uniforms, zero the weights of what was found,
     * renormalise the cumulative sum, and keep the first occurrence of each new index. */
    int64_t found = 0;
    while (found < m) {
        int64_t want = m - found;
        for (int64_t i = 0; i < found; i++)
            w[out[i]] = 0.0;
        double acc = 0.0;
        for (int64_t i = 0; i < n; i++) {
            acc += w[i];
            cdf[i] = acc;
        }
        double total = cdf[n - 1];
        for (int64_t i = 0; i < n; i++)
            cdf[i] /= total;
        /* the round's uniforms all see the same cdf, so drawing them one at a time is the
         * same as numpy's vector draw; an index found earlier has zero weight and cannot be
         * returned again, so `seen` only removes repeats */
        for (int64_t k = 0; k < want; k++) {
            int64_t idx = search_right(cdf, n, mr_rng_uniform(r));
            if (idx < n && seen[idx] == 0) {
                seen[idx] = 1;
                out[found++] = idx;
            }
        }
    }
    free(w);
    free(seen);
    return MR_OK;
}
