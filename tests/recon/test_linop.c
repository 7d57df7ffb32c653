/* Linear operator plumbing and the BLAS-1 helpers: a dense complex matrix as an operator
 * (odd, non-square), the adjoint/normal oracles on it, the default normal path, the power
 * iteration, creation errors; dot/norm/axpy/xpay/scale against naive double loops. */
#include "mr_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linop_test_util.h"
#include "recon/linop.h"
#include "recon/vec.h"

enum { ROWS = 7, COLS = 5 };

/* A: C^5 -> C^7 as a dense matrix, input shape (5), output shape (7) */
struct dense {
    float complex a[ROWS][COLS];
};

static void dense_forward(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    const struct dense *d = ctx;
    for (int r = 0; r < ROWS; r++) {
        float complex acc = 0.0f;
        for (int c = 0; c < COLS; c++)
            acc += d->a[r][c] * mr_array_cf32(src)[c];
        mr_array_cf32(dst)[r] = acc;
    }
}

static void dense_adjoint(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    const struct dense *d = ctx;
    for (int c = 0; c < COLS; c++) {
        float complex acc = 0.0f;
        for (int r = 0; r < ROWS; r++)
            acc += conjf(d->a[r][c]) * mr_array_cf32(src)[r];
        mr_array_cf32(dst)[c] = acc;
    }
}

static void dense_free(void *ctx)
{
    free(ctx);
}

static const struct mr_linop_ops dense_ops = {
    .name = "dense", .forward = dense_forward, .adjoint = dense_adjoint, .free = dense_free,
};

/* a deliberately wrong adjoint, to check the oracle catches it */
static void dense_bad_adjoint(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    dense_adjoint(ctx, dst, src);
    mr_array_cf32(dst)[0] *= 1.1f;
}

static const struct mr_linop_ops bad_ops = {
    .name = "bad", .forward = dense_forward, .adjoint = dense_bad_adjoint, .free = dense_free,
};

static struct dense *dense_new(uint64_t seed)
{
    struct dense *d = calloc(1, sizeof(*d));
    struct mr_test_rng r;
    mr_test_rng_seed(&r, seed);
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < COLS; j++)
            d->a[i][j] = (float)mr_test_rng_normal(&r) + I * (float)mr_test_rng_normal(&r);
    return d;
}

static void test_linop_dense_adjoint_and_default_normal(void **state)
{
    (void)state;
    struct mr_linop *op = NULL;
    const int64_t in[1] = { COLS };
    const int64_t out[1] = { ROWS };
    struct dense *d = dense_new(3);
    assert_int_equal(mr_linop_create(&dense_ops, d, 1, in, 1, out, &op), MR_OK);
    assert_true(mr_test_linop_adjoint(op, 1) < 1e-6);
    assert_true(mr_test_linop_normal(op, 2) < 1e-6);
    assert_int_equal(mr_linop_in_numel(op), COLS);
    assert_int_equal(mr_linop_out_numel(op), ROWS);
    mr_linop_free(op);

    struct mr_linop *bad = NULL;
    assert_int_equal(mr_linop_create(&bad_ops, dense_new(4), 1, in, 1, out, &bad), MR_OK);
    assert_true(mr_test_linop_adjoint(bad, 1) > 1e-3);
    mr_linop_free(bad);
}

/* diagonal operator diag(1..5): max eigenvalue of A^H A is 25 */
static void diag_apply(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    (void)ctx;
    for (int64_t i = 0; i < mr_array_numel(src); i++)
        mr_array_cf32(dst)[i] = (float)(i + 1) * mr_array_cf32(src)[i];
}

static const struct mr_linop_ops diag_ops = {
    .name = "diag", .forward = diag_apply, .adjoint = diag_apply,
};

static void test_linop_power_iteration(void **state)
{
    (void)state;
    struct mr_linop *op = NULL;
    const int64_t dims[2] = { 1, 5 };
    double eig = 0.0;
    assert_int_equal(mr_linop_create(&diag_ops, NULL, 2, dims, 2, dims, &op), MR_OK);
    assert_int_equal(mr_linop_normal_max_eig(op, 200, 7, &eig), MR_OK);
    assert_true(fabs(eig - 25.0) / 25.0 < 1e-3);
    mr_linop_free(op);
}

static void test_linop_create_errors(void **state)
{
    (void)state;
    struct mr_linop *op = (struct mr_linop *)&op; /* must be reset to NULL */
    const int64_t good[1] = { 3 };
    const int64_t zero[1] = { 0 };
    static const struct mr_linop_ops no_adjoint = { .name = "half", .forward = diag_apply };
    assert_int_equal(mr_linop_create(&no_adjoint, NULL, 1, good, 1, good, &op), MR_ERR_ARG);
    assert_null(op);
    assert_non_null(strstr(mr_last_error(), "half"));
    assert_int_equal(mr_linop_create(&diag_ops, NULL, 1, good, 1, zero, &op), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "(3) -> (0)"));
    assert_int_equal(mr_linop_create(&diag_ops, NULL, 0, good, 1, good, &op), MR_ERR_ARG);
    mr_linop_free(NULL);
}

static void test_vec_against_naive(void **state)
{
    (void)state;
    const int64_t n = 1001;
    struct mr_array x;
    struct mr_array y;
    struct mr_array z;
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, (int64_t)7, (int64_t)143), MR_OK);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_CF32, 1, n), MR_OK);
    assert_int_equal(mr_array_init_dims(&z, MR_DTYPE_CF32, 1, n), MR_OK);
    mr_test_rand(&x, 1);
    mr_test_rand(&y, 2);
    const float complex *px = mr_array_cf32(&x);
    const float complex *py = mr_array_cf32(&y);

    double complex dot = 0.0;
    double nx = 0.0;
    double mx = 0.0;
    for (int64_t i = 0; i < n; i++) {
        dot += conj((double complex)px[i]) * (double complex)py[i];
        nx += pow(cabs((double complex)px[i]), 2);
        mx = fmax(mx, (double)cabsf(px[i]));
    }
    assert_true(cabs(mr_vec_dot(&x, &y) - dot) / cabs(dot) < 1e-10);
    assert_true(fabs(mr_vec_dot_real(&x, &y) - creal(dot)) / cabs(dot) < 1e-10);
    assert_true(fabs(mr_vec_norm2(&x) - nx) / nx < 1e-12);
    assert_true(fabs(mr_vec_norm(&x) - sqrt(nx)) / sqrt(nx) < 1e-12);
    assert_true(mr_vec_max_abs(&x) == mx);

    const float complex a = 0.5f - 2.0f * I;
    mr_array_copy(&z, &y);
    mr_vec_axpy(&z, a, &x); /* z = y + a x */
    for (int64_t i = 0; i < n; i++)
        assert_true(cabsf(mr_array_cf32(&z)[i] - (py[i] + a * px[i])) < 1e-5f);
    mr_array_copy(&z, &y);
    mr_vec_xpay(&z, a, &x); /* z = x + a y */
    for (int64_t i = 0; i < n; i++)
        assert_true(cabsf(mr_array_cf32(&z)[i] - (px[i] + a * py[i])) < 1e-5f);
    mr_vec_extrapolate(&z, &x, 0.25f, &y); /* z = x + 0.25 (x - y) */
    for (int64_t i = 0; i < n; i++)
        assert_true(cabsf(mr_array_cf32(&z)[i] - (px[i] + 0.25f * (px[i] - py[i]))) < 1e-5f);
    mr_array_copy(&z, &y);
    mr_vec_scale(&z, a);
    for (int64_t i = 0; i < n; i++)
        assert_true(cabsf(mr_array_cf32(&z)[i] - a * py[i]) < 1e-5f);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&z);
}

static void test_vec_large_parallel_sum(void **state)
{
    (void)state;
    struct mr_array x;
    const int64_t n = 1 << 17; /* above the parallel threshold */
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 1, n), MR_OK);
    for (int64_t i = 0; i < n; i++)
        mr_array_cf32(&x)[i] = 1.0f + 1.0f * I;
    assert_true(mr_vec_norm2(&x) == 2.0 * (double)n);
    assert_true(cabs(mr_vec_dot(&x, &x) - 2.0 * (double)n) == 0.0);
    mr_array_cleanup(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linop_dense_adjoint_and_default_normal),
        cmocka_unit_test(test_linop_power_iteration),
        cmocka_unit_test(test_linop_create_errors),
        cmocka_unit_test(test_vec_against_naive),
        cmocka_unit_test(test_vec_large_parallel_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
