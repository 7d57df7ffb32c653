/* Wavelets: orthonormality (energy and perfect reconstruction) for every filter on odd, even
 * and non-square sizes with and without cycle-spinning shifts; the adjoint identity; Haar on
 * known values; soft thresholding limits; the prior's prox; parse and create errors. */
#include "mr_test.h"

#include <math.h>
#include <string.h>

#include "recon/vec.h"
#include "recon/wavelet.h"

static void check_orthonormal(int64_t h, int64_t w, enum mr_wavelet_kind kind, int levels)
{
    struct mr_wavelet *wt = NULL;
    struct mr_array x;
    struct mr_array y;
    struct mr_array c;
    struct mr_array d;
    assert_int_equal(mr_wavelet_create(h, w, kind, levels, &wt), MR_OK);
    const int64_t ph = mr_wavelet_ph(wt);
    const int64_t pw = mr_wavelet_pw(wt);
    const int64_t p = (int64_t)1 << levels;
    assert_true(ph >= h && ph < h + p && ph % p == 0);
    assert_true(pw >= w && pw < w + p && pw % p == 0);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&y, &x), MR_OK);
    assert_int_equal(mr_array_init_dims(&c, MR_DTYPE_CF32, 2, ph, pw), MR_OK);
    assert_int_equal(mr_array_init_like(&d, &c), MR_OK);
    mr_test_rand(&x, (uint64_t)(h * 100 + w));
    mr_test_rand(&d, (uint64_t)(h * 100 + w + 1));
    const int64_t shifts[3][2] = { { 0, 0 }, { 1, 3 }, { ph - 1, pw / 2 } };
    for (int s = 0; s < 3; s++) {
        int64_t sy = shifts[s][0];
        int64_t sx = shifts[s][1];
        mr_wavelet_forward(wt, &c, &x, sy, sx);
        double ex = mr_vec_norm2(&x);
        assert_true(fabs(mr_vec_norm2(&c) - ex) / ex < 1e-5);  /* energy preserved */
        mr_wavelet_adjoint(wt, &y, &c, sy, sx);
        assert_nrmse_below(&y, &x, 1e-5);                      /* perfect reconstruction */
        /* <Ψx, d> = <x, Ψ^H d> */
        mr_wavelet_adjoint(wt, &y, &d, sy, sx);
        double complex lhs = mr_vec_dot(&c, &d);
        double complex rhs = mr_vec_dot(&x, &y);
        assert_true(cabs(lhs - rhs) / (mr_vec_norm(&c) * mr_vec_norm(&d)) < 1e-5);
        /* τ = 0 soft thresholding is the identity */
        mr_wavelet_soft_threshold(wt, 0.0f, &y, &x, sy, sx);
        assert_nrmse_below(&y, &x, 1e-5);
    }
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&c);
    mr_array_cleanup(&d);
    mr_wavelet_free(wt);
}

static void test_wavelet_orthonormal_all_filters_and_sizes(void **state)
{
    (void)state;
    static const int64_t sizes[][2] = { { 16, 16 }, { 15, 21 }, { 7, 5 }, { 32, 12 }, { 1, 9 } };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int k = 0; k < 3; k++)
            for (int levels = 1; levels <= 3; levels++)
                check_orthonormal(sizes[s][0], sizes[s][1], (enum mr_wavelet_kind)k, levels);
}

static void test_wavelet_haar_known_values(void **state)
{
    (void)state;
    /* 2x2, one level: [[a, b], [c, d]] -> LL (a+b+c+d)/2, then detail bands */
    float complex xd[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
    float complex cd[4];
    const int64_t dims[2] = { 2, 2 };
    struct mr_array x;
    struct mr_array c;
    struct mr_wavelet *wt = NULL;
    mr_array_wrap(&x, MR_DTYPE_CF32, 2, dims, xd);
    mr_array_wrap(&c, MR_DTYPE_CF32, 2, dims, cd);
    assert_int_equal(mr_wavelet_create(2, 2, MR_WAVELET_HAAR, 1, &wt), MR_OK);
    mr_wavelet_forward(wt, &c, &x, 0, 0);
    assert_true(cabsf(cd[0] - 5.0f) < 1e-6f);   /* (1+2+3+4)/2 */
    assert_true(cabsf(cd[1] - -1.0f) < 1e-6f);  /* row detail: ((1-2)+(3-4))/2 */
    assert_true(cabsf(cd[2] - -2.0f) < 1e-6f);  /* column detail: ((1+2)-(3+4))/2 */
    assert_true(cabsf(cd[3]) < 1e-6f);          /* diagonal: (1-2-3+4)/2 */
    mr_wavelet_free(wt);

    /* a constant image has no detail: thresholding by anything keeps it */
    struct mr_array k;
    struct mr_array y;
    assert_int_equal(mr_wavelet_create(16, 12, MR_WAVELET_DB4, 2, &wt), MR_OK);
    assert_int_equal(mr_array_init_dims(&k, MR_DTYPE_CF32, 2, (int64_t)16, (int64_t)12), MR_OK);
    assert_int_equal(mr_array_init_like(&y, &k), MR_OK);
    for (int64_t i = 0; i < 16 * 12; i++)
        mr_array_cf32(&k)[i] = 2.0f - 1.0f * I;
    assert_true(mr_wavelet_max_detail(wt, &k) < 1e-5);
    mr_wavelet_soft_threshold(wt, 100.0f, &y, &k, 0, 0);
    assert_nrmse_below(&y, &k, 1e-5);
    mr_array_cleanup(&k);
    mr_array_cleanup(&y);
    mr_wavelet_free(wt);
}

/* the prior's prox shrinks, is the identity for λ = 0, works in place, and without random
 * shifts is exactly the soft threshold at shift 0 (a huge λ leaves the coarse band only) */
static void test_wavelet_prior_prox(void **state)
{
    (void)state;
    struct mr_prior prior = { 0 };
    struct mr_wavelet_config cfg = mr_wavelet_config_default;
    struct mr_array x;
    struct mr_array y;
    struct mr_array z;
    struct mr_wavelet *wt = NULL;
    cfg.levels = 2;
    assert_int_equal(mr_wavelet_prior_init(&prior, 13, 10, &cfg), MR_OK);
    assert_string_equal(prior.ops->name, "l1-wavelet");
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, (int64_t)13, (int64_t)10), MR_OK);
    assert_int_equal(mr_array_init_like(&y, &x), MR_OK);
    assert_int_equal(mr_array_init_like(&z, &x), MR_OK);
    mr_test_rand(&x, 3);
    mr_prior_prox(&prior, 0.5f, &y, &x);
    assert_true(mr_vec_norm(&y) < mr_vec_norm(&x));
    mr_prior_prox(&prior, 0.0f, &y, &x);
    assert_nrmse_below(&y, &x, 1e-5);
    mr_prior_cleanup(&prior);
    mr_prior_cleanup(&prior); /* safe twice */

    cfg.randshift = false;
    assert_int_equal(mr_wavelet_prior_init(&prior, 13, 10, &cfg), MR_OK);
    assert_int_equal(mr_wavelet_create(13, 10, cfg.kind, cfg.levels, &wt), MR_OK);
    mr_array_copy(&y, &x);
    mr_prior_prox(&prior, 1e6f, &y, &y); /* in place */
    mr_wavelet_soft_threshold(wt, 1e6f, &z, &x, 0, 0);
    assert_nrmse_below(&y, &z, 1e-6);
    assert_true(mr_vec_norm(&z) < 0.5 * mr_vec_norm(&x));
    mr_wavelet_free(wt);
    mr_prior_cleanup(&prior);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&z);
}

static void test_wavelet_errors(void **state)
{
    (void)state;
    struct mr_wavelet *wt = NULL;
    enum mr_wavelet_kind k;
    assert_int_equal(mr_wavelet_kind_parse("db4", &k), MR_OK);
    assert_int_equal(k, MR_WAVELET_DB4);
    assert_string_equal(mr_wavelet_kind_name(MR_WAVELET_HAAR), "haar");
    assert_int_equal(mr_wavelet_kind_parse("db3", &k), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "'db3'"));
    assert_int_equal(mr_wavelet_create(0, 4, MR_WAVELET_HAAR, 1, &wt), MR_ERR_ARG);
    assert_null(wt);
    assert_int_equal(mr_wavelet_create(8, 8, MR_WAVELET_HAAR, 0, &wt), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "0 levels"));
    assert_int_equal(mr_wavelet_create(8, 8, (enum mr_wavelet_kind)7, 1, &wt), MR_ERR_ARG);
    mr_wavelet_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wavelet_orthonormal_all_filters_and_sizes),
        cmocka_unit_test(test_wavelet_haar_known_values),
        cmocka_unit_test(test_wavelet_prior_prox),
        cmocka_unit_test(test_wavelet_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
