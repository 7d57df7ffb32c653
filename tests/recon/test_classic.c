/* The classical entry point: method names; zf and sense on fully sampled data against the
 * phantom; cs < cg < zf at 4x with given and with estimated maps; invariance to the k-space
 * scale and FFT normalisation; shape, data and argument errors. */
#include "mr_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linop_test_util.h"
#include "recon/classic.h"

enum { NC = 6, H = 64, W = 60 };

struct data {
    struct mr_array rho;
    struct mr_array gt;
    struct mr_array sens;
    struct mr_array mask;
    struct mr_array ksp;
    struct mr_array out;
};

static int setup(void **state)
{
    struct data *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -1;
    if (mr_array_init_dims(&d->rho, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&d->out, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&d->gt, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W) != MR_OK ||
        mr_array_init_dims(&d->sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H, (int64_t)W) !=
            MR_OK ||
        mr_array_init_dims(&d->ksp, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H, (int64_t)W) !=
            MR_OK ||
        mr_array_init_dims(&d->mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W) != MR_OK)
        return -1;
    mr_test_phantom(&d->rho);
    for (int64_t i = 0; i < H * W; i++)
        mr_array_f32(&d->gt)[i] = cabsf(mr_array_cf32(&d->rho)[i]);
    mr_test_smooth_maps(&d->sens);
    mr_test_column_mask(&d->mask, 4, 8);
    mr_test_simulate(&d->ksp, &d->rho, &d->sens, &d->mask, &mr_fft_config_default, 0.01, 3);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct data *d = *state;
    mr_array_cleanup(&d->rho);
    mr_array_cleanup(&d->gt);
    mr_array_cleanup(&d->sens);
    mr_array_cleanup(&d->mask);
    mr_array_cleanup(&d->ksp);
    mr_array_cleanup(&d->out);
    free(d);
    return 0;
}

static double run(struct data *d, enum mr_classic_method m, const struct mr_array *ksp,
                  const struct mr_array *mask, const struct mr_array *sens)
{
    struct mr_classic_config cfg = mr_classic_config_default;
    struct mr_classic *c = NULL;
    cfg.method = m;
    assert_int_equal(mr_classic_create(NC, H, W, &cfg, &c), MR_OK);
    assert_int_equal(mr_classic_run(c, ksp, mask, sens, &d->out), MR_OK);
    if (m != MR_CLASSIC_ZF)
        assert_non_null(mr_classic_maps(c));
    mr_classic_free(c);
    return mr_test_nmse_scaled(&d->out, &d->gt);
}

static void test_classic_method_names(void **state)
{
    (void)state;
    enum mr_classic_method m;
    for (int i = 0; i < 4; i++) {
        const char *name = mr_classic_method_name((enum mr_classic_method)i);
        assert_int_equal(mr_classic_method_parse(name, &m), MR_OK);
        assert_int_equal((int)m, i);
    }
    assert_string_equal(mr_classic_method_name(MR_CLASSIC_CS), "cs");
    assert_int_equal(mr_classic_method_parse("pics", &m), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "'pics'"));
}

/* fully sampled, noiseless: zf = |rho| (maps have Σ|S|² = 1) and sense = rho exactly */
static void test_classic_fully_sampled(void **state)
{
    struct data *d = *state;
    struct mr_array full;
    assert_int_equal(mr_array_init_dims(&full, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    for (int64_t i = 0; i < H * W; i++)
        mr_array_f32(&full)[i] = 1.0f;
    mr_test_simulate(&d->ksp, &d->rho, &d->sens, &full, &mr_fft_config_default, 0.0, 1);
    run(d, MR_CLASSIC_ZF, &d->ksp, NULL, NULL);
    for (int64_t i = 0; i < H * W; i++) {
        assert_true(fabsf(crealf(mr_array_cf32(&d->out)[i]) - mr_array_f32(&d->gt)[i]) < 1e-4f);
        assert_true(cimagf(mr_array_cf32(&d->out)[i]) == 0.0f);
    }
    run(d, MR_CLASSIC_SENSE, &d->ksp, &full, &d->sens);
    assert_nrmse_below(&d->out, &d->rho, 1e-5);
    mr_array_cleanup(&full);
}

static void test_classic_ordering_at_4x(void **state)
{
    struct data *d = *state;
    double zf = run(d, MR_CLASSIC_ZF, &d->ksp, &d->mask, NULL);
    double sense = run(d, MR_CLASSIC_SENSE, &d->ksp, &d->mask, &d->sens);
    double cg = run(d, MR_CLASSIC_CG, &d->ksp, &d->mask, &d->sens);
    double cs = run(d, MR_CLASSIC_CS, &d->ksp, &d->mask, &d->sens);
    print_message("true maps:      zf %.4f sense %.4f cg %.4f cs %.4f\n", zf, sense, cg, cs);
    assert_true(cg < 0.5 * zf && cs < 0.5 * cg);
    double cg_est = run(d, MR_CLASSIC_CG, &d->ksp, &d->mask, NULL);
    double cs_est = run(d, MR_CLASSIC_CS, &d->ksp, &d->mask, NULL);
    print_message("estimated maps: cg %.4f cs %.4f\n", cg_est, cs_est);
    assert_true(cg_est < 0.5 * zf && cs_est < 0.5 * cg_est);
}

/* ksp · 1000 · sqrt(H W) with the backward FFT norm gives 1000 × the ortho result */
static void test_classic_scale_and_norm_invariance(void **state)
{
    struct data *d = *state;
    struct mr_array k2;
    struct mr_array ref;
    const float a = 1000.0f * sqrtf((float)(H * W));
    assert_int_equal(mr_array_init_copy(&k2, &d->ksp), MR_OK);
    assert_int_equal(mr_array_init_like(&ref, &d->out), MR_OK);
    for (int64_t i = 0; i < mr_array_numel(&k2); i++)
        mr_array_cf32(&k2)[i] *= a;
    for (int m = 0; m < 4; m++) {
        struct mr_classic_config cfg = mr_classic_config_default;
        struct mr_classic *c = NULL;
        cfg.method = (enum mr_classic_method)m;
        cfg.cs.iters = 20;
        assert_int_equal(mr_classic_create(NC, H, W, &cfg, &c), MR_OK);
        assert_int_equal(mr_classic_run(c, &d->ksp, &d->mask, NULL, &ref), MR_OK);
        mr_classic_free(c);
        cfg.fft.norm = MR_FFT_NORM_BACKWARD;
        assert_int_equal(mr_classic_create(NC, H, W, &cfg, &c), MR_OK);
        assert_int_equal(mr_classic_run(c, &k2, &d->mask, NULL, &d->out), MR_OK);
        mr_classic_free(c);
        mr_vec_scale(&ref, 1000.0f);
        assert_nrmse_below(&d->out, &ref, 1e-4);
    }
    mr_array_cleanup(&k2);
    mr_array_cleanup(&ref);
}

static void test_classic_errors(void **state)
{
    struct data *d = *state;
    struct mr_classic *c = NULL;
    struct mr_classic_config cfg = mr_classic_config_default;
    struct mr_array bad;
    assert_int_equal(mr_classic_create(0, H, W, &cfg, &c), MR_ERR_ARG);
    assert_null(c);
    cfg.method = (enum mr_classic_method)9;
    assert_int_equal(mr_classic_create(NC, H, W, &cfg, &c), MR_ERR_ARG);
    cfg = mr_classic_config_default;
    cfg.cg_lambda = -1.0f;
    assert_int_equal(mr_classic_create(NC, H, W, &cfg, &c), MR_ERR_ARG);
    cfg = mr_classic_config_default;
    assert_int_equal(mr_classic_create(NC, H, W, &cfg, &c), MR_OK);

    /* k-space with the wrong coil count */
    assert_int_equal(mr_array_init_dims(&bad, MR_DTYPE_CF32, 3, (int64_t)(NC - 1), (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_classic_run(c, &bad, &d->mask, NULL, &d->out), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "k-space is (5, 64, 60)"));
    /* maps of the wrong shape */
    assert_int_equal(mr_classic_run(c, &d->ksp, &d->mask, &bad, &d->out), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "coil maps"));
    mr_array_cleanup(&bad);
    /* transposed mask, output image */
    assert_int_equal(mr_array_init_dims(&bad, MR_DTYPE_F32, 2, (int64_t)W, (int64_t)H), MR_OK);
    assert_int_equal(mr_classic_run(c, &d->ksp, &bad, NULL, &d->out), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "mask"));
    assert_int_equal(mr_classic_run(c, &d->ksp, &d->mask, NULL, &bad), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "output image"));
    mr_array_cleanup(&bad);
    /* no calibration region to estimate maps from */
    assert_int_equal(mr_array_init_copy(&bad, &d->mask), MR_OK);
    for (int64_t y = 0; y < H; y++)
        mr_array_f32(&bad)[y * W + W / 2] = 0.0f;
    assert_int_equal(mr_classic_run(c, &d->ksp, &bad, NULL, &d->out), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "calibration"));
    mr_array_cleanup(&bad);
    /* non-finite k-space */
    assert_int_equal(mr_array_init_copy(&bad, &d->ksp), MR_OK);
    mr_array_cf32(&bad)[17] = NAN;
    assert_int_equal(mr_classic_run(c, &bad, &d->mask, NULL, &d->out), MR_ERR_DATA);
    mr_array_cleanup(&bad);
    mr_classic_free(c);
    mr_classic_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic_method_names),
        cmocka_unit_test_setup_teardown(test_classic_fully_sampled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_ordering_at_4x, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_scale_and_norm_invariance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
