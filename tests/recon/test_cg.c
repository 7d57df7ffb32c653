/* Conjugate gradients: matches a direct (Gaussian elimination) solution of
 * (A^H A + λ I) x = b on a tiny SENSE problem; the residual decreases with iterations and the
 * tolerance stops it early; a warm start at the solution stops at once; argument errors. */
#include "mr_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linop_test_util.h"
#include "recon/cg.h"
#include "recon/sense.h"

enum { NC = 2, H = 4, W = 5, N = H * W };

struct problem {
    struct mr_sense *s;
    struct mr_linop *a;
    struct mr_array b;
    struct mr_array x;
};

static int setup(void **state)
{
    struct problem *p = calloc(1, sizeof(*p));
    struct mr_array sens;
    struct mr_array mask;
    if (p == NULL)
        return -1;
    if (mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&p->b, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&p->x, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W) != MR_OK)
        return -1;
    mr_test_rand(&sens, 1);
    mr_test_rand(&p->b, 2);
    for (int64_t i = 0; i < N; i++)
        mr_array_f32(&mask)[i] = i % 3 == 0 ? 0.0f : 1.0f;
    if (mr_sense_create(NC, H, W, &mr_fft_config_default, &p->s) != MR_OK ||
        mr_sense_set_maps(p->s, &sens) != MR_OK || mr_sense_set_mask(p->s, &mask) != MR_OK ||
        mr_sense_linop_create(p->s, &p->a) != MR_OK)
        return -1;
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct problem *p = *state;
    mr_linop_free(p->a);
    mr_sense_free(p->s);
    mr_array_cleanup(&p->b);
    mr_array_cleanup(&p->x);
    free(p);
    return 0;
}

/* x = (A^H A + λ I)^{-1} b by Gaussian elimination with partial pivoting, in double */
static void direct_solve(const struct problem *p, float lambda, struct mr_array *x)
{
    double complex m[N][N + 1];
    struct mr_array e;
    struct mr_array col;
    assert_int_equal(mr_array_init_dims(&e, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&col, &e), MR_OK);
    for (int j = 0; j < N; j++) {
        mr_array_zero(&e);
        mr_array_cf32(&e)[j] = 1.0f;
        mr_linop_normal(p->a, &col, &e);
        for (int i = 0; i < N; i++)
            m[i][j] = (double complex)mr_array_cf32(&col)[i] + (i == j ? (double)lambda : 0.0);
    }
    for (int i = 0; i < N; i++)
        m[i][N] = (double complex)mr_array_cf32(&p->b)[i];
    for (int k = 0; k < N; k++) {
        int piv = k;
        for (int i = k + 1; i < N; i++)
            if (cabs(m[i][k]) > cabs(m[piv][k]))
                piv = i;
        for (int j = 0; j <= N; j++) {
            double complex t = m[k][j];
            m[k][j] = m[piv][j];
            m[piv][j] = t;
        }
        for (int i = k + 1; i < N; i++) {
            double complex f = m[i][k] / m[k][k];
            for (int j = k; j <= N; j++)
                m[i][j] -= f * m[k][j];
        }
    }
    for (int i = N - 1; i >= 0; i--) {
        double complex acc = m[i][N];
        for (int j = i + 1; j < N; j++)
            acc -= m[i][j] * (double complex)mr_array_cf32(x)[j];
        mr_array_cf32(x)[i] = (float complex)(acc / m[i][i]);
    }
    mr_array_cleanup(&e);
    mr_array_cleanup(&col);
}

static void test_cg_matches_direct_solution(void **state)
{
    struct problem *p = *state;
    struct mr_cg *cg = NULL;
    struct mr_array ref;
    struct mr_cg_info info;
    const int64_t dims[2] = { H, W };
    struct mr_cg_config cfg = { .iters = 200, .lambda = 0.05f, .tol = 1e-6f };
    assert_int_equal(mr_array_init_like(&ref, &p->x), MR_OK);
    direct_solve(p, cfg.lambda, &ref);
    assert_int_equal(mr_cg_create(2, dims, &cg), MR_OK);
    mr_array_zero(&p->x);
    assert_int_equal(mr_cg_solve(cg, &cfg, p->a, &p->b, &p->x, &info), MR_OK);
    assert_true(info.rel_resid <= 1e-6);
    assert_true(info.iters <= 3 * N);
    assert_nrmse_below(&p->x, &ref, 1e-4);

    /* warm start at the solution: nothing to do */
    assert_int_equal(mr_cg_solve(cg, &cfg, p->a, &p->b, &p->x, &info), MR_OK);
    assert_true(info.iters <= 2);
    mr_cg_free(cg);
    mr_array_cleanup(&ref);
}

static void test_cg_residual_decreases(void **state)
{
    struct problem *p = *state;
    struct mr_cg *cg = NULL;
    struct mr_cg_info info;
    const int64_t dims[2] = { H, W };
    struct mr_cg_config cfg = { .iters = 0, .lambda = 0.1f, .tol = 0.0f };
    double last = INFINITY;
    assert_int_equal(mr_cg_create(2, dims, &cg), MR_OK);
    for (int iters = 0; iters <= 8; iters += 2) {
        cfg.iters = iters;
        mr_array_zero(&p->x);
        assert_int_equal(mr_cg_solve(cg, &cfg, p->a, &p->b, &p->x, &info), MR_OK);
        assert_int_equal(info.iters, iters);
        assert_true(info.rel_resid < last);
        last = info.rel_resid;
    }
    assert_true(last < 0.1);
    /* a loose tolerance stops early */
    cfg.iters = 100;
    cfg.tol = 0.1f;
    mr_array_zero(&p->x);
    assert_int_equal(mr_cg_solve(cg, &cfg, p->a, &p->b, &p->x, &info), MR_OK);
    assert_true(info.iters < 10 && info.rel_resid <= 0.1);
    mr_cg_free(cg);
}

static void test_cg_errors(void **state)
{
    struct problem *p = *state;
    struct mr_cg *cg = NULL;
    const int64_t dims[2] = { H, W };
    const int64_t zero[2] = { 0, W };
    struct mr_cg_config cfg = mr_cg_config_default;
    assert_int_equal(mr_cg_create(2, zero, &cg), MR_ERR_ARG);
    assert_null(cg);
    assert_int_equal(mr_cg_create(2, dims, &cg), MR_OK);
    cfg.lambda = -1.0f;
    assert_int_equal(mr_cg_solve(cg, &cfg, p->a, &p->b, &p->x, NULL), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "lambda -1"));
    cfg = mr_cg_config_default;
    mr_array_cf32(&p->b)[3] = INFINITY;
    assert_int_equal(mr_cg_solve(cg, &cfg, p->a, &p->b, &p->x, NULL), MR_ERR_DATA);
    mr_cg_free(cg);
    mr_cg_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cg_matches_direct_solution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cg_residual_decreases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cg_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
