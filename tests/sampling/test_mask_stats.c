/* Mask statistics: counts and centre size on golden masks, 1-D detection of broadcast masks,
 * PSF side lobes against a naive DFT (odd and even sizes), and the exact aliasing of a regular
 * pattern. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "sampling/mask.h"
#include "sampling/mask_stats.h"

static void test_mask_stats_fastmri_column_mask(void **state)
{
    (void)state;
    struct mr_array v;
    struct mr_array b;
    struct mr_mask_stats s;
    struct mr_mask_stats t;

    assert_int_equal(mr_npy_read(mr_test_data("sampling/fastmri_random_0.npy"), &v), MR_OK);
    assert_int_equal(mr_mask_stats_compute(&v, &s), MR_OK);
    assert_true(s.columns);
    assert_int_equal(s.total, 368);
    assert_int_equal(s.sampled, 99);
    assert_true(fabs(s.accel - 368.0 / 99.0) < 1e-12);
    assert_int_equal(s.center_cols, 29);
    assert_true(s.psf_peak_sidelobe > 0.0 && s.psf_peak_sidelobe < 1.0);

    /* the same mask broadcast along H = 5 rows: same numbers */
    assert_int_equal(mr_array_init_dims(&b, MR_DTYPE_F32, 3, (int64_t)1, (int64_t)5,
                                        (int64_t)368), MR_OK);
    for (int r = 0; r < 5; r++)
        memcpy(mr_array_f32(&b) + r * 368, v.data, 368 * sizeof(float));
    assert_int_equal(mr_mask_stats_compute(&b, &t), MR_OK);
    assert_true(t.columns);
    assert_int_equal(t.sampled, 5 * 99);
    assert_true(fabs(t.accel - s.accel) < 1e-12);
    assert_int_equal(t.center_cols, 29);
    assert_int_equal(t.center_h, 5);
    assert_true(fabs(t.psf_peak_sidelobe - s.psf_peak_sidelobe) < 1e-6);
    assert_true(fabs(t.psf_incoherence - s.psf_incoherence) < 1e-6);
    mr_array_cleanup(&v);
    mr_array_cleanup(&b);
}

static void test_mask_stats_bart_calibration_box(void **state)
{
    (void)state;
    struct mr_bart_poisson_config cfg = mr_bart_poisson_config_default;
    struct mr_array m;
    struct mr_mask_stats s;
    int64_t points;
    cfg.y = 64;
    cfg.z = 48;
    cfg.accel_y = 2.0f;
    cfg.accel_z = 2.0f;
    cfg.calib = 8;
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 2, (int64_t)48, (int64_t)64), MR_OK);
    assert_int_equal(mr_mask_bart_poisson(mr_array_f32(&m), &cfg, &points), MR_OK);
    assert_int_equal(mr_mask_stats_compute(&m, &s), MR_OK);
    assert_false(s.columns);
    assert_int_equal(s.sampled, points);
    assert_true(fabs(s.accel - 3.696751) < 1e-6); /* BART prints R = 3.696751 */
    assert_true(s.center_h >= 8 && s.center_w >= 8);
    assert_true(s.center_h < 16 && s.center_w < 16);
    mr_array_cleanup(&m);
}

/* naive |sum_k m_k exp(2 pi i k x / n)| side lobes of a vector */
static void naive_psf(const float *m, int64_t n, double *spr, double *sd)
{
    double peak = 0.0;
    for (int64_t k = 0; k < n; k++)
        peak += (double)m[k];
    double mx = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    for (int64_t x = 1; x < n; x++) {
        double complex acc = 0.0;
        for (int64_t k = 0; k < n; k++)
            acc += (double)m[k] *
                   cexp(2.0 * M_PI * (double complex)I * (double)(k * x) / (double)n);
        double v = cabs(acc) / peak;
        mx = fmax(mx, v);
        s1 += v;
        s2 += v * v;
    }
    *spr = mx;
    *sd = sqrt(s2 / (double)(n - 1) - pow(s1 / (double)(n - 1), 2));
}

static void test_mask_stats_psf_matches_naive_dft(void **state)
{
    (void)state;
    static const int64_t sizes[] = { 12, 13, 31 };
    struct mr_test_rng r;
    mr_test_rng_seed(&r, 9);
    for (size_t k = 0; k < 3; k++) {
        int64_t n = sizes[k];
        struct mr_array v;
        struct mr_mask_stats s;
        double spr;
        double sd;
        assert_int_equal(mr_array_init_dims(&v, MR_DTYPE_F32, 1, n), MR_OK);
        for (int64_t i = 0; i < n; i++)
            mr_array_f32(&v)[i] = mr_test_rng_uniform(&r) < 0.4 ? 1.0f : 0.0f;
        mr_array_f32(&v)[n / 2] = 1.0f;
        naive_psf(mr_array_f32(&v), n, &spr, &sd);
        assert_int_equal(mr_mask_stats_compute(&v, &s), MR_OK);
        assert_true(fabs(s.psf_peak_sidelobe - spr) < 1e-5);
        assert_true(fabs(s.psf_incoherence - sd) < 1e-5);
        mr_array_cleanup(&v);
    }
}

static void test_mask_stats_regular_and_full(void **state)
{
    (void)state;
    struct mr_array m;
    struct mr_mask_stats s;
    /* every 4th column of 16 without a centre: R = 4, aliases of full height */
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 2, (int64_t)6, (int64_t)16), MR_OK);
    for (int r = 0; r < 6; r++)
        for (int c = 0; c < 16; c += 4)
            mr_array_f32(&m)[r * 16 + c] = 1.0f;
    assert_int_equal(mr_mask_stats_compute(&m, &s), MR_OK);
    assert_true(s.columns);
    assert_true(s.accel == 4.0);
    assert_true(fabs(s.psf_peak_sidelobe - 1.0) < 1e-6);
    assert_int_equal(s.center_cols, 1);
    /* fully sampled: a delta PSF, the whole grid is the centre */
    for (int64_t i = 0; i < 96; i++)
        mr_array_f32(&m)[i] = 1.0f;
    assert_int_equal(mr_mask_stats_compute(&m, &s), MR_OK);
    assert_true(s.accel == 1.0);
    assert_true(s.psf_peak_sidelobe < 1e-6);
    assert_int_equal(s.center_h, 6);
    assert_int_equal(s.center_w, 16);
    /* errors */
    mr_array_zero(&m);
    assert_int_equal(mr_mask_stats_compute(&m, &s), MR_ERR_DATA);
    mr_array_cleanup(&m);
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)3,
                                        (int64_t)4), MR_OK);
    assert_int_equal(mr_mask_stats_compute(&m, &s), MR_ERR_SHAPE);
    mr_array_cleanup(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_stats_fastmri_column_mask),
        cmocka_unit_test(test_mask_stats_bart_calibration_box),
        cmocka_unit_test(test_mask_stats_psf_matches_naive_dft),
        cmocka_unit_test(test_mask_stats_regular_and_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
