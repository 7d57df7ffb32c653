/* Coil sensitivities: ACS detection by each rule (BLOCK for column and 2-D masks, centred and
 * uncentred; fastMRI's; DIRECT's); estimation
 * recovers smooth synthetic maps inside the object; refinement improves maps from a narrow ACS;
 * error paths. */
#include "mr_test.h"

#include <math.h>
#include <string.h>

#include "linop_test_util.h"
#include "recon/coils.h"

enum { H = 48, W = 41 };

/* the BLOCK rule (coil estimation's) with DC stored at the centre or not */
static mr_status detect_block(const struct mr_array *mask, bool centered, struct mr_acs *a)
{
    struct mr_acs_config cfg = mr_acs_config_default;
    cfg.centered = centered;
    return mr_acs_detect(mask, H, W, &cfg, a);
}

static void test_acs_detect_column_mask(void **state)
{
    (void)state;
    struct mr_array mask;
    struct mr_acs a;
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    mr_test_column_mask(&mask, 4, 8); /* centre columns 16..23 plus every 4th from 20 */
    assert_int_equal(detect_block(&mask, true, &a), MR_OK);
    assert_int_equal(a.y0, 0);
    assert_int_equal(a.y1, H);
    assert_int_equal(a.x0, 16);
    assert_int_equal(a.x1, 25); /* column 24 = 20 + 4 is sampled and adjacent */

    /* the (W) form of the same pattern */
    struct mr_array cols;
    assert_int_equal(mr_array_init_dims(&cols, MR_DTYPE_F32, 1, (int64_t)W), MR_OK);
    memcpy(mr_array_f32(&cols), mr_array_f32(&mask), sizeof(float) * W);
    struct mr_acs b;
    assert_int_equal(detect_block(&cols, true, &b), MR_OK);
    assert_memory_equal(&a, &b, sizeof(a));

    /* uncentred storage: ifftshift the mask, same ACS in centred coordinates */
    mr_ifftshift2_f32(mr_array_f32(&mask), H, W);
    assert_int_equal(detect_block(&mask, false, &b), MR_OK);
    assert_memory_equal(&a, &b, sizeof(a));
    mr_array_cleanup(&mask);
    mr_array_cleanup(&cols);
}

static void test_acs_detect_2d_mask(void **state)
{
    (void)state;
    struct mr_array mask;
    struct mr_acs a;
    struct mr_test_rng r;
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    float *m = mr_array_f32(&mask);
    mr_test_rng_seed(&r, 4);
    for (int64_t i = 0; i < H * W; i++)
        m[i] = mr_test_rng_uniform(&r) < 0.15 ? 1.0f : 0.0f;
    /* a 10 x 6 block around (24, 20), with rows 19 and 30 kept empty around it */
    for (int64_t y = 18; y < 32; y++)
        for (int64_t x = 15; x < 25; x++)
            m[y * W + x] = y >= 19 && y < 29 && x >= 17 && x < 23 ? 1.0f : 0.0f;
    assert_int_equal(detect_block(&mask, true, &a), MR_OK);
    assert_int_equal(a.y0, 19);
    assert_int_equal(a.y1, 29);
    assert_int_equal(a.x0, 17);
    assert_int_equal(a.x1, 23);

    m[24 * W + 20] = 0.0f; /* no centre: no calibration region */
    assert_int_equal(detect_block(&mask, true, &a), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "not sampled"));
    mr_array_cleanup(&mask);
}

/* row 0 of a (rows, W) mask from a 0/1 pattern, repeated over the rows */
static void set_columns(struct mr_array *mask, const char *pattern)
{
    const int64_t w = mask->dims[1];
    for (int64_t r = 0; r < mask->dims[0]; r++)
        for (int64_t j = 0; j < w; j++)
            mr_array_f32(mask)[r * w + j] = pattern[j] == '1' ? 1.0f : 0.0f;
}

/* fastMRI's columns: nlf = 2·min(left, right) runs beside W/2, pad = (W − nlf + 1)/2 */
static void test_acs_detect_fastmri(void **state)
{
    (void)state;
    struct mr_array m = { 0 };
    struct mr_acs a;
    struct mr_acs_config cfg = { .rule = MR_ACS_RULE_FASTMRI };

    /* E2EVN case_1's mask (W = 45): centre block 21..24 one right of centre: pad 22, nlf 2 */
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 2, (int64_t)2, (int64_t)45), MR_OK);
    set_columns(&m, "100000100001000001000111100010000010000010000");
    assert_int_equal(mr_acs_detect(&m, 2, 45, &cfg, &a), MR_OK);
    assert_true(a.x0 == 22 && a.x1 == 24 && a.y0 == 0 && a.y1 == 2 && a.disc_r2 == 0.0);
    /* an explicit count: pad = (W − n + 1) / 2 */
    cfg.num_low_frequencies = 3;
    assert_int_equal(mr_acs_detect(&m, 2, 45, &cfg, &a), MR_OK);
    assert_true(a.x0 == 21 && a.x1 == 24);
    cfg.num_low_frequencies = 46;
    assert_int_equal(mr_acs_detect(&m, 2, 45, &cfg, &a), MR_ERR_ARG);
    cfg.num_low_frequencies = 0;
    mr_array_cleanup(&m);

    /* even W, symmetric block of 6 around W/2 */
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 2, (int64_t)1, (int64_t)16), MR_OK);
    set_columns(&m, "1000011111100001");
    assert_int_equal(mr_acs_detect(&m, 1, 16, &cfg, &a), MR_OK);
    assert_true(a.x0 == 5 && a.x1 == 11);
    /* a fully sampled half counts 0 (argmin quirk): nlf = max(0, 1) = 1 */
    set_columns(&m, "1111111111000001");
    assert_int_equal(mr_acs_detect(&m, 1, 16, &cfg, &a), MR_OK);
    assert_true(a.x0 == 8 && a.x1 == 9);
    /* nothing sampled at the centre: still one column, no error (the reference's) */
    set_columns(&m, "1000000000000001");
    assert_int_equal(mr_acs_detect(&m, 1, 16, &cfg, &a), MR_OK);
    assert_int_equal(a.x1 - a.x0, 1);
    mr_array_cleanup(&m);
}

/* DIRECT's: a line mask's run through W/2; a 2-D mask's largest sampled disc (d² < nearest
 * unsampled d²); rendered by mr_acs_fill */
static void test_acs_detect_direct(void **state)
{
    (void)state;
    struct mr_array m;
    struct mr_array fill;
    struct mr_acs a;
    struct mr_acs_config cfg = { .rule = MR_ACS_RULE_DIRECT };
    const int64_t h = 9;
    const int64_t w = 12;

    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&fill, &m), MR_OK);
    set_columns(&m, "110011110001"); /* columns 4..7 around W/2 = 6, and others */
    assert_int_equal(mr_acs_detect(&m, h, w, &cfg, &a), MR_OK);
    assert_true(a.x0 == 4 && a.x1 == 8 && a.y0 == 0 && a.y1 == h && a.disc_r2 == 0.0);
    /* the same given as 4 central columns: [(W − 4 + 1)/2, +4) = [4, 8) */
    cfg.num_low_frequencies = 4;
    struct mr_acs b;
    assert_int_equal(mr_acs_detect(&m, h, w, &cfg, &b), MR_OK);
    assert_memory_equal(&a, &b, sizeof(a));
    cfg.num_low_frequencies = 0;
    /* not a line mask: the disc; (4, 6) is the centre, the nearest hole at distance² 4 */
    for (int64_t i = 0; i < h * w; i++)
        mr_array_f32(&m)[i] = 1.0f;
    mr_array_f32(&m)[(4 + 2) * w + 6] = 0.0f;
    mr_array_f32(&m)[0] = 0.0f;
    assert_int_equal(mr_acs_detect(&m, h, w, &cfg, &a), MR_OK);
    assert_true(a.disc_r2 == 4.0);
    mr_acs_fill(&a, &fill);
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) {
            const int64_t d2 = (i - 4) * (i - 4) + (j - 6) * (j - 6);
            assert_true(mr_array_f32(&fill)[i * w + j] == (d2 < 4 ? 1.0f : 0.0f));
        }
    /* no centre */
    mr_array_f32(&m)[4 * w + 6] = 0.0f;
    assert_int_equal(mr_acs_detect(&m, h, w, &cfg, &a), MR_ERR_DATA);
    mr_array_cleanup(&m);
    mr_array_cleanup(&fill);
}

/* The arrays of a map-estimation case with nc coils of H x W: the object rho (H, W), the true
 * maps sens and the estimate est (nc, H, W), the mask (H, W) and the k-space ksp (nc, H, W). */
struct maps_case {
    struct mr_array rho;
    struct mr_array sens;
    struct mr_array est;
    struct mr_array mask;
    struct mr_array ksp;
};

static void maps_case_init(struct maps_case *m, int64_t nc)
{
    assert_int_equal(mr_array_init_dims(&m->rho, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W),
                     MR_OK);
    assert_int_equal(mr_array_init_dims(&m->sens, MR_DTYPE_CF32, 3, nc, (int64_t)H, (int64_t)W),
                     MR_OK);
    assert_int_equal(mr_array_init_like(&m->est, &m->sens), MR_OK);
    assert_int_equal(mr_array_init_like(&m->ksp, &m->sens), MR_OK);
    assert_int_equal(mr_array_init_dims(&m->mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W),
                     MR_OK);
}

static void maps_case_cleanup(struct maps_case *m)
{
    mr_array_cleanup(&m->rho);
    mr_array_cleanup(&m->sens);
    mr_array_cleanup(&m->est);
    mr_array_cleanup(&m->mask);
    mr_array_cleanup(&m->ksp);
}

/* maps estimated from 24 ACS columns of a smooth phantom match the true maps inside the
 * object up to a smooth common phase (the object's, here none: rho is real and positive) */
static void test_coils_estimate_recovers_smooth_maps(void **state)
{
    (void)state;
    const int64_t nc = 4;
    const struct mr_fft_config cfgs[2] = { { .centered = true, .norm = MR_FFT_NORM_ORTHO },
                                           { .centered = false,
                                             .norm = MR_FFT_NORM_BACKWARD } };
    struct maps_case mc;
    maps_case_init(&mc, nc);
    /* a smooth positive object filling most of the FOV */
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            double u = ((double)y - H / 2.0) / (H / 2.0);
            double v = ((double)x - W / 2.0) / (W / 2.0);
            mr_array_cf32(&mc.rho)[y * W + x] = (float)(1.0 + 0.5 * exp(-(u * u + v * v) / 0.3));
        }
    mr_test_smooth_maps(&mc.sens);
    mr_test_column_mask(&mc.mask, 3, 24);
    for (int k = 0; k < 2; k++) {
        struct mr_coils *c = NULL;
        if (!cfgs[k].centered) /* DC stored at (0, 0) */
            mr_ifftshift2_f32(mr_array_f32(&mc.mask), H, W);
        mr_test_simulate(&mc.ksp, &mc.rho, &mc.sens, &mc.mask, &cfgs[k], 0.0, 1);
        assert_int_equal(mr_coils_create(nc, H, W, &cfgs[k], &c), MR_OK);
        assert_int_equal(mr_coils_estimate(c, &mr_coils_config_default, &mc.ksp, &mc.mask, NULL,
                                           &mc.est),
                         MR_OK);
        /* the object covers the whole FOV: no thresholding, compare everywhere but a border */
        double num = 0.0;
        double den = 0.0;
        for (int64_t ch = 0; ch < nc; ch++)
            for (int64_t y = 3; y < H - 3; y++)
                for (int64_t x = 3; x < W - 3; x++) {
                    int64_t i = (ch * H + y) * W + x;
                    num += pow(cabs((double complex)(mr_array_cf32(&mc.est)[i] -
                                                     mr_array_cf32(&mc.sens)[i])), 2);
                    den += pow(cabs((double complex)mr_array_cf32(&mc.sens)[i]), 2);
                }
        assert_true(sqrt(num / den) < 0.05);
        mr_coils_free(c);
        if (!cfgs[k].centered)
            mr_fftshift2_f32(mr_array_f32(&mc.mask), H, W);
    }
    maps_case_cleanup(&mc);
}

static double maps_error(const struct mr_array *est, const struct mr_array *ref,
                         const struct mr_array *rho)
{
    const int64_t nc = ref->dims[0];
    const int64_t n = ref->dims[1] * ref->dims[2];
    double num = 0.0;
    double den = 0.0;
    for (int64_t ch = 0; ch < nc; ch++)
        for (int64_t i = 0; i < n; i++)
            if (cabsf(mr_array_cf32(rho)[i]) > 0.0f) {
                num += pow(cabs((double complex)(mr_array_cf32(est)[ch * n + i] -
                                                 mr_array_cf32(ref)[ch * n + i])), 2);
                den += pow(cabs((double complex)mr_array_cf32(ref)[ch * n + i]), 2);
            }
    return sqrt(num / den);
}

/* 6 ACS columns of a piecewise-constant phantom give poor ratio maps; one refinement round
 * with the image completes k-space and brings the maps close to the truth inside the object */
static void test_coils_refine_improves_maps(void **state)
{
    (void)state;
    const int64_t nc = 4;
    struct mr_coils *c = NULL;
    struct mr_coils_config cfg = mr_coils_config_default;
    struct maps_case mc;
    maps_case_init(&mc, nc);
    mr_test_phantom(&mc.rho);
    mr_test_smooth_maps(&mc.sens);
    mr_test_column_mask(&mc.mask, 4, 6);
    mr_test_simulate(&mc.ksp, &mc.rho, &mc.sens, &mc.mask, &mr_fft_config_default, 0.0, 1);
    assert_int_equal(mr_coils_create(nc, H, W, &mr_fft_config_default, &c), MR_OK);
    cfg.threshold = 0.0f;
    assert_int_equal(mr_coils_estimate(c, &cfg, &mc.ksp, &mc.mask, NULL, &mc.est), MR_OK);
    double e0 = maps_error(&mc.est, &mc.sens, &mc.rho);
    assert_int_equal(mr_coils_refine(c, &cfg, &mc.ksp, &mc.mask, &mc.rho, &mc.est), MR_OK);
    double e1 = maps_error(&mc.est, &mc.sens, &mc.rho);
    print_message("map error inside the object: ACS %.3f, refined %.3f\n", e0, e1);
    assert_true(e1 < 0.5 * e0);

    cfg.refine_size = 0;
    assert_int_equal(mr_coils_refine(c, &cfg, &mc.ksp, &mc.mask, &mc.rho, &mc.est), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "refinement"));
    assert_int_equal(mr_coils_refine(c, &mr_coils_config_default, &mc.ksp, &mc.mask, &mc.ksp,
                                     &mc.est),
                     MR_ERR_SHAPE);
    mr_coils_free(c);
    maps_case_cleanup(&mc);
}

static void test_coils_errors(void **state)
{
    (void)state;
    struct mr_coils *c = NULL;
    struct mr_array ksp;
    struct mr_array sens;
    struct mr_array mask;
    struct mr_coils_config cfg = mr_coils_config_default;
    assert_int_equal(mr_coils_create(2, 0, W, &mr_fft_config_default, &c), MR_ERR_ARG);
    assert_null(c);
    assert_int_equal(mr_coils_create(2, H, W, &mr_fft_config_default, &c), MR_OK);
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)2, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    mr_test_column_mask(&mask, 4, 8);
    /* all-zero k-space: no signal in the calibration region */
    assert_int_equal(mr_coils_estimate(c, &cfg, &ksp, &mask, NULL, &sens), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "no finite signal"));
    cfg.window = 2.0f;
    mr_test_rand(&ksp, 1);
    assert_int_equal(mr_coils_estimate(c, &cfg, &ksp, &mask, NULL, &sens), MR_ERR_ARG);
    cfg = mr_coils_config_default;
    struct mr_acs acs = { .y0 = 0, .y1 = H + 1, .x0 = 0, .x1 = 4 };
    assert_int_equal(mr_coils_estimate(c, &cfg, &ksp, &mask, &acs, &sens), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "outside"));
    acs.y1 = H;
    assert_int_equal(mr_coils_estimate(c, &cfg, &ksp, &mask, &acs, &sens), MR_OK);
    mr_array_cleanup(&mask);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)W, (int64_t)H), MR_OK);
    assert_int_equal(mr_coils_estimate(c, &cfg, &ksp, &mask, NULL, &sens), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "mask is (41, 48)"));
    mr_array_cleanup(&sens);
    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)3, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_coils_estimate(c, &cfg, &ksp, &mask, NULL, &sens), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "coil maps"));
    mr_coils_free(c);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acs_detect_column_mask),
        cmocka_unit_test(test_acs_detect_2d_mask),
        cmocka_unit_test(test_acs_detect_fastmri),
        cmocka_unit_test(test_acs_detect_direct),
        cmocka_unit_test(test_coils_estimate_recovers_smooth_maps),
        cmocka_unit_test(test_coils_refine_improves_maps),
        cmocka_unit_test(test_coils_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
