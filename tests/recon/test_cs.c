/* FISTA and L1-wavelet CS: FISTA with a quadratic test prior reaches the CG (ridge) solution,
 * so any prior plugs in through recon/prior.h; CS beats zero-filled and CG-SENSE on a
 * piecewise-constant phantom at 4x; the support constraint; invariance to the data scale;
 * the percentile and BART's scale reference; argument and data errors; the solvers' complex
 * magnitude equals glibc's cabsf on finite values. */
#include "mr_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linop_test_util.h"
#include "recon/cg.h"
#include "recon/combine.h"
#include "recon/cs.h"
#include "recon/sense.h"
#include "recon/vec.h"

enum { NC = 6, H = 64, W = 60 };

struct phantom {
    struct mr_array rho;
    struct mr_array gt; /* |rho| */
    struct mr_array sens;
    struct mr_array mask;
    struct mr_array ksp;
    struct mr_sense *s;
    struct mr_linop *a;
};

static int setup(void **state)
{
    struct phantom *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    if (mr_array_init_dims(&p->rho, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&p->gt, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&p->sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H, (int64_t)W) !=
            MR_OK ||
        mr_array_init_dims(&p->ksp, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H, (int64_t)W) !=
            MR_OK ||
        mr_array_init_dims(&p->mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W) != MR_OK)
        return -1;
    mr_test_phantom(&p->rho);
    for (int64_t i = 0; i < H * W; i++)
        mr_array_f32(&p->gt)[i] = cabsf(mr_array_cf32(&p->rho)[i]);
    mr_test_smooth_maps(&p->sens);
    mr_test_column_mask(&p->mask, 4, 8);
    mr_test_simulate(&p->ksp, &p->rho, &p->sens, &p->mask, &mr_fft_config_default, 0.01, 3);
    if (mr_sense_create(NC, H, W, &mr_fft_config_default, &p->s) != MR_OK ||
        mr_sense_set_maps(p->s, &p->sens) != MR_OK || mr_sense_set_mask(p->s, &p->mask) != MR_OK ||
        mr_sense_linop_create(p->s, &p->a) != MR_OK)
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct phantom *p = *state;
    mr_linop_free(p->a);
    mr_sense_free(p->s);
    mr_array_cleanup(&p->rho);
    mr_array_cleanup(&p->gt);
    mr_array_cleanup(&p->sens);
    mr_array_cleanup(&p->mask);
    mr_array_cleanup(&p->ksp);
    free(p);
    return 0;
}

/* R(u) = ½ ||u||²: prox_{τR}(v) = v / (1 + τ) — a stand-in for a learned prior */
static int ridge_calls;

static void ridge_prox(void *ctx, float lambda, struct mr_array *dst, const struct mr_array *src)
{
    (void)ctx;
    ridge_calls++;
    for (int64_t i = 0; i < mr_array_numel(src); i++)
        mr_array_cf32(dst)[i] = mr_array_cf32(src)[i] / (1.0f + lambda);
}

static const struct mr_prior_ops ridge_ops = { .name = "ridge", .prox = ridge_prox };

static void test_fista_with_quadratic_prior_matches_cg(void **state)
{
    struct phantom *p = *state;
    const int64_t dims[2] = { H, W };
    const struct mr_prior ridge = { .ops = &ridge_ops, .ctx = NULL };
    struct mr_fista *f = NULL;
    struct mr_cg *cg = NULL;
    struct mr_array aty;
    struct mr_array x;
    struct mr_array ref;
    const float lambda = 0.05f;
    assert_int_equal(mr_array_init(&aty, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init(&x, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init(&ref, MR_DTYPE_CF32, 2, dims), MR_OK);
    mr_linop_adjoint(p->a, &aty, &p->ksp);

    /* (A^H A + λ I) x = A^H y */
    const struct mr_cg_config cc = { .iters = 200, .lambda = lambda, .tol = 1e-7f };
    assert_int_equal(mr_cg_create(2, dims, &cg), MR_OK);
    assert_int_equal(mr_cg_solve(cg, &cc, p->a, &aty, &ref, NULL), MR_OK);

    const struct mr_fista_config fc = {
        .iters = 300, .step = (float)(1.0 / mr_sense_lipschitz(p->s)), .lambda = lambda,
    };
    ridge_calls = 0;
    assert_int_equal(mr_fista_create(2, dims, &f), MR_OK);
    assert_int_equal(mr_fista_solve(f, &fc, p->a, &ridge, &aty, &x), MR_OK);
    assert_int_equal(ridge_calls, 300);
    assert_nrmse_below(&x, &ref, 1e-3);

    mr_fista_free(f);
    mr_cg_free(cg);
    mr_array_cleanup(&aty);
    mr_array_cleanup(&x);
    mr_array_cleanup(&ref);
}

static void test_cs_beats_zero_filled_and_cg_on_phantom(void **state)
{
    struct phantom *p = *state;
    const int64_t dims[2] = { H, W };
    struct mr_cs *cs = NULL;
    struct mr_cg *cg = NULL;
    struct mr_array x;
    struct mr_array zf;
    struct mr_array aty;
    struct mr_array coil;
    assert_int_equal(mr_array_init(&x, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init(&zf, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init(&aty, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init_like(&coil, &p->ksp), MR_OK);

    mr_sense_coil_images(p->s, &coil, &p->ksp);
    mr_coil_rss(&zf, &coil, MR_COIL_SUM_DOUBLE);
    double nmse_zf = mr_test_nmse_scaled(&zf, &p->gt);

    const double lip = mr_sense_lipschitz(p->s);
    const struct mr_cg_config cc = { .iters = 30, .lambda = (float)(0.01 * lip), .tol = 1e-4f };
    assert_int_equal(mr_cg_create(2, dims, &cg), MR_OK);
    mr_linop_adjoint(p->a, &aty, &p->ksp);
    assert_int_equal(mr_cg_solve(cg, &cc, p->a, &aty, &x, NULL), MR_OK);
    double nmse_cg = mr_test_nmse_scaled(&x, &p->gt);

    assert_int_equal(mr_cs_create(H, W, &mr_cs_config_default, &cs), MR_OK);
    assert_int_equal(mr_cs_solve(cs, p->a, lip, NULL, &p->ksp, &x), MR_OK);
    double nmse_cs = mr_test_nmse_scaled(&x, &p->gt);
    print_message("phantom 4x NMSE: zero-filled %.4f, CG-SENSE %.4f, CS %.4f\n", nmse_zf, nmse_cg,
                  nmse_cs);
    assert_true(nmse_cg < nmse_zf);
    assert_true(nmse_cs < 0.7 * nmse_cg);

    mr_cs_free(cs);
    mr_cg_free(cg);
    mr_array_cleanup(&x);
    mr_array_cleanup(&zf);
    mr_array_cleanup(&aty);
    mr_array_cleanup(&coil);
}

/* CS output scales with the data (relative λ), repeats exactly, and the support constraint
 * zeroes the rest */
static void test_cs_scale_invariance_and_support(void **state)
{
    struct phantom *p = *state;
    const int64_t dims[2] = { H, W };
    struct mr_cs *cs1 = NULL;
    struct mr_cs *cs2 = NULL;
    struct mr_array x1;
    struct mr_array x2;
    struct mr_array ky;
    struct mr_array support;
    struct mr_cs_config cfg = mr_cs_config_default;
    cfg.iters = 20;
    assert_int_equal(mr_array_init(&x1, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init(&x2, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init(&support, MR_DTYPE_F32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init_copy(&ky, &p->ksp), MR_OK);
    mr_vec_scale(&ky, 1000.0f);
    assert_int_equal(mr_cs_create(H, W, &cfg, &cs1), MR_OK);
    assert_int_equal(mr_cs_create(H, W, &cfg, &cs2), MR_OK);
    const double lip = mr_sense_lipschitz(p->s);
    assert_int_equal(mr_cs_solve(cs1, p->a, lip, NULL, &p->ksp, &x1), MR_OK);
    assert_int_equal(mr_cs_solve(cs2, p->a, lip, NULL, &ky, &x2), MR_OK);
    mr_vec_scale(&x1, 1000.0f);
    assert_nrmse_below(&x2, &x1, 1e-4);
    /* a second solve on the same object repeats the random shifts: identical result */
    assert_int_equal(mr_cs_solve(cs2, p->a, lip, NULL, &ky, &x1), MR_OK);
    assert_true(memcmp(x1.data, x2.data, mr_array_nbytes(&x1)) == 0);

    for (int64_t i = 0; i < H * W; i++)
        mr_array_f32(&support)[i] = (i / W) % 2 == 0 ? 1.0f : 0.0f; /* even rows */
    assert_int_equal(mr_cs_solve(cs1, p->a, lip, &support, &p->ksp, &x1), MR_OK);
    for (int64_t i = 0; i < H * W; i++)
        if ((i / W) % 2 != 0)
            assert_true(mr_array_cf32(&x1)[i] == 0.0f);
    assert_true(mr_vec_norm(&x1) > 0.0);

    mr_cs_free(cs1);
    mr_cs_free(cs2);
    mr_array_cleanup(&x1);
    mr_array_cleanup(&x2);
    mr_array_cleanup(&ky);
    mr_array_cleanup(&support);
}

static void test_cs_quantile(void **state)
{
    (void)state;
    float complex d[10];
    float scratch[10];
    const int64_t dims[1] = { 10 };
    struct mr_array a;
    for (int i = 0; i < 10; i++)
        d[i] = (float)((i * 7) % 10) * I; /* |d| is a permutation of 0..9 */
    mr_array_wrap(&a, MR_DTYPE_CF32, 1, dims, d);
    assert_true(mr_cs_quantile_abs(&a, 0.9, scratch) == 8.0); /* index round(0.9 * 9) = 8 */
    assert_true(mr_cs_quantile_abs(&a, 1.0, scratch) == 9.0);
    assert_true(mr_cs_quantile_abs(&a, 0.0, scratch) == 0.0);
    assert_true(mr_cs_scale_reference(&a, scratch) == 8.0); /* 9 - 8 < 2 (8 - 5): p90 */
    for (int i = 0; i < 10; i++)
        d[i] = i == 3 ? 1000.0f : 1.0f; /* flat with one spike: p90 = median, so the max */
    assert_true(mr_cs_scale_reference(&a, scratch) == 1000.0);
}

/* mr_cmag: the same float as cabsf (glibc: hypotf) for finite values over the whole range,
 * from subnormal to near FLT_MAX, with either part zero or negative */
static void test_cmag_matches_cabsf(void **state)
{
    (void)state;
    uint64_t r = 12345;
    for (int i = 0; i < 200000; i++) {
        float v[2];
        for (int k = 0; k < 2; k++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            const float mant = (float)((r >> 40) & 0xffffff) / 16777216.0f;
            const int ex = (int)((r >> 20) % 270) - 145; /* 2^-145 .. 2^124 */
            v[k] = ldexpf(0.5f + 0.5f * mant, ex) * ((r >> 8) & 1 ? -1.0f : 1.0f);
            if ((r >> 12) % 17 == 0)
                v[k] = 0.0f;
        }
        const float complex z = CMPLXF(v[0], v[1]);
        const float a = cabsf(z);
        const float b = mr_cmag(z);
        if (memcmp(&a, &b, sizeof(a)) != 0)
            fail_msg("|%a + %a i|: cabsf %a, mr_cmag %a", (double)v[0], (double)v[1], (double)a,
                     (double)b);
    }
}

static void test_cs_errors(void **state)
{
    struct phantom *p = *state;
    const int64_t dims[2] = { H, W };
    struct mr_cs *cs = NULL;
    struct mr_fista *f = NULL;
    struct mr_array x;
    struct mr_array y;
    struct mr_cs_config cfg = mr_cs_config_default;
    assert_int_equal(mr_array_init(&x, MR_DTYPE_CF32, 2, dims), MR_OK);
    assert_int_equal(mr_array_init_like(&y, &p->ksp), MR_OK);
    cfg.lambda = -0.1f;
    assert_int_equal(mr_cs_create(H, W, &cfg, &cs), MR_ERR_ARG);
    assert_null(cs);
    cfg = mr_cs_config_default;
    cfg.wavelet.levels = 0;
    assert_int_equal(mr_cs_create(H, W, &cfg, &cs), MR_ERR_ARG);
    assert_int_equal(mr_cs_create(H, 0, &mr_cs_config_default, &cs), MR_ERR_ARG);
    assert_int_equal(mr_cs_create(H, W, &mr_cs_config_default, &cs), MR_OK);
    assert_int_equal(mr_cs_solve(cs, p->a, 0.0, NULL, &p->ksp, &x), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "Lipschitz"));
    assert_int_equal(mr_cs_solve(cs, p->a, 1.0, NULL, &y, &x), MR_ERR_DATA); /* y = 0 */
    assert_non_null(strstr(mr_last_error(), "zero"));
    struct mr_prior prior = { 0 };
    assert_int_equal(mr_wavelet_prior_init(&prior, H, W, &mr_wavelet_config_default), MR_OK);
    assert_int_equal(mr_fista_create(2, dims, &f), MR_OK);
    const struct mr_fista_config fc = { .iters = 5, .step = 0.0f, .lambda = 1.0f };
    assert_int_equal(mr_fista_solve(f, &fc, p->a, &prior, &x, &x), MR_ERR_ARG);
    mr_prior_cleanup(&prior);
    mr_fista_free(f);
    mr_cs_free(cs);
    mr_cs_free(NULL);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fista_with_quadratic_prior_matches_cg, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cs_beats_zero_filled_and_cg_on_phantom, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cs_scale_invariance_and_support, setup, teardown),
        cmocka_unit_test(test_cs_quantile),
        cmocka_unit_test(test_cmag_matches_cabsf),
        cmocka_unit_test_setup_teardown(test_cs_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
