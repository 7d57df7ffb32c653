/* Shared oracles for the cmocka tests (see mr_test.h). */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mr_test_rng_seed(struct mr_test_rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (r->s == 0)
        r->s = 1;
}

static uint64_t next_u64(struct mr_test_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

double mr_test_rng_uniform(struct mr_test_rng *r)
{
    return (double)(next_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double mr_test_rng_normal(struct mr_test_rng *r)
{
    double u1 = mr_test_rng_uniform(r);
    double u2 = mr_test_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void mr_test_rand(struct mr_array *a, uint64_t seed)
{
    struct mr_test_rng r;
    float *f = a->data;
    int64_t n = mr_array_numel(a) * (a->dtype == MR_DTYPE_CF32 ? 2 : 1);
    mr_test_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)mr_test_rng_normal(&r);
}

double mr_test_nrmse(const struct mr_array *a, const struct mr_array *b)
{
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(mr_array_numel(a), mr_array_numel(b));
    const float *x = a->data;
    const float *y = b->data;
    int64_t n = mr_array_numel(a) * (a->dtype == MR_DTYPE_CF32 ? 2 : 1);
    double num = 0.0;
    double den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)x[i] - (double)y[i];
        num += d * d;
        den += (double)y[i] * (double)y[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

double mr_test_max_rel_err(const struct mr_array *a, const struct mr_array *b)
{
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(mr_array_numel(a), mr_array_numel(b));
    int64_t n = mr_array_numel(a);
    double maxerr = 0.0;
    double maxref = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e;
        double r;
        if (a->dtype == MR_DTYPE_CF32) {
            e = cabs((double complex)(mr_array_cf32(a)[i] - mr_array_cf32(b)[i]));
            r = cabs((double complex)mr_array_cf32(b)[i]);
        } else {
            e = fabs((double)mr_array_f32(a)[i] - (double)mr_array_f32(b)[i]);
            r = fabs((double)mr_array_f32(b)[i]);
        }
        if (!(e <= maxerr))
            maxerr = e; /* also catches NaN */
        if (r > maxref)
            maxref = r;
    }
    return maxref > 0.0 ? maxerr / maxref : maxerr;
}

void mr_test_assert_below(const char *what, double value, double tol, const char *file, int line)
{
    if (!(value < tol)) {
        print_error("%s = %.3e, expected below %.3e\n", what, value, tol);
        _fail(file, line);
    }
}

static const char *join(const char *env, const char *fallback, const char *rel)
{
    static _Thread_local char buf[4096];
    const char *base = getenv(env);
    snprintf(buf, sizeof(buf), "%s/%s", base != NULL ? base : fallback, rel);
    return buf;
}

const char *mr_test_data(const char *rel)
{
    return join("MR_TEST_DATA", "tests/data", rel);
}

const char *mr_test_tmp(const char *rel)
{
    return join("MR_TEST_TMP", "/tmp", rel);
}

char *mr_test_tmp_dup(const char *rel)
{
    const char *p = mr_test_tmp(rel);
    char *d = malloc(strlen(p) + 1);
    assert_non_null(d);
    strcpy(d, p);
    return d;
}

char *mr_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    assert_true(n >= 0);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return b;
}
