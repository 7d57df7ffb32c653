/*
 * pipeline/pipeline.h and pipeline/method.h: method options and specs, creation errors, the
 * checks every slice passes (shapes, finite k-space, finite and non-empty images), and the
 * rescaling of k-space outside the float-safe range (the image must equal the one of the
 * unscaled data up to rounding).
 */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fastmri.h"
#include "pipeline/pipeline.h"
#include "slice_data.h"

/* one fully sampled slice of the small real test volume, undersampled on every 2nd column
 * plus 12 centre columns */
static struct slice_data sd;

static int setup(void **state)
{
    (void)state;
    return slice_data_load(&sd, "maskeval/ixi_axial2.h5", 2, 12);
}

static int teardown(void **state)
{
    (void)state;
    slice_data_cleanup(&sd);
    return 0;
}

static struct mr_method_config method(const char *spec)
{
    struct mr_method_config cfg;
    mr_method_config_init(&cfg);
    if (mr_method_config_parse(&cfg, spec) != MR_OK)
        fail_msg("spec '%s': %s", spec, mr_last_error());
    return cfg;
}

static void run_method(const struct mr_method_config *cfg, const struct mr_array *ksp,
                       struct mr_array *mag, mr_status want)
{
    struct mr_pipeline *p = NULL;
    assert_int_equal(mr_pipeline_create(cfg, sd.nc, sd.h, sd.w, &p), MR_OK);
    const struct mr_slice s = { .ksp = ksp, .mask = &sd.mask, .maps = NULL };
    mr_status st = mr_pipeline_run(p, &s, mag);
    if (st != want)
        fail_msg("method '%s': status %d, expected %d: %s", cfg->name, st, want, mr_last_error());
    mr_pipeline_free(p);
}

/* ---- options ----------------------------------------------------------------------------- */

static void test_method_specs(void **state)
{
    (void)state;
    struct mr_method_config c = method("cs:iters=7,lambda=0.25,maps=acs,espirit_crop=0.5");
    assert_string_equal(c.name, "cs");
    assert_int_equal(c.classic.method, MR_CLASSIC_CS);
    assert_int_equal(c.classic.cs.iters, 7);
    assert_int_equal(c.classic.cg_iters, 7);
    assert_true(c.classic.cs.lambda == 0.25f && c.classic.cg_lambda == 0.25f);
    assert_int_equal(c.maps, MR_MAPS_ACS);
    assert_true(c.espirit.crop == 0.5f);
    c = method("net/w.h5");
    assert_string_equal(c.name, "model");
    assert_string_equal(c.weights, "net/w.h5");
    c = method("pnp-lpn:lpn.h5");
    assert_string_equal(c.name, "pnp-lpn");
    assert_string_equal(c.weights, "lpn.h5");
    c = method("pnp-lpn:iters=3");
    assert_int_equal(c.iterations, 3);

    struct mr_method_config d;
    mr_method_config_init(&d);
    const char *bad[] = { "", "fast", "cs:iters=0", "cs:iters=x", "cs:lambda=-1", "cs:maps=x",
                          "cs:espirit_crop=1", "cs:unknown=1", "cs:iters", "zz:iters=3" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mr_method_config_parse(&d, bad[i]) != MR_ERR_ARG)
            fail_msg("spec '%s' was accepted", bad[i]);
    }
    assert_string_equal(d.name, "cs"); /* unchanged by the failures */
    assert_int_equal(mr_method_config_parse(&d, "fast"), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "zf, sense, cg, cs"));
}

static void test_create_errors(void **state)
{
    (void)state;
    struct mr_pipeline *p = NULL;
    struct mr_method_config c;
    mr_method_config_init(&c);
    snprintf(c.name, sizeof(c.name), "%s", "nope");
    assert_int_equal(mr_pipeline_create(&c, 2, 8, 8, &p), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "nope"));
    c = method("model");
    assert_int_equal(mr_pipeline_create(&c, 2, 8, 8, &p), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "weight file"));
    c = method("zf");
    snprintf(c.weights, sizeof(c.weights), "%s", "w.h5");
    assert_int_equal(mr_pipeline_create(&c, 2, 8, 8, &p), MR_ERR_ARG);
    c = method("zf");
    assert_int_equal(mr_pipeline_create(&c, 0, 8, 8, &p), MR_ERR_ARG);
    c = method("model:weights=/nonexistent/w.h5");
    assert_int_not_equal(mr_pipeline_create(&c, 2, 8, 8, &p), MR_OK);
    assert_non_null(strstr(mr_last_error(), "/nonexistent/w.h5"));
    assert_null(p);
}

/* ---- checks on every slice ----------------------------------------------------------------- */

static void test_shapes_and_maps_checked(void **state)
{
    (void)state;
    struct mr_pipeline *p = NULL;
    struct mr_array mag = { 0 };
    struct mr_array small = { 0 };
    struct mr_method_config c = method("sense:maps=file");
    assert_int_equal(mr_pipeline_create(&c, sd.nc, sd.h, sd.w, &p), MR_OK);
    assert_true(mr_pipeline_needs_maps(p));
    assert_string_equal(mr_pipeline_label(p), "sense");
    assert_int_equal(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, sd.h, sd.w), MR_OK);
    assert_int_equal(mr_array_init_dims(&small, MR_DTYPE_F32, 2, sd.h - 1, sd.w), MR_OK);
    struct mr_slice s = { .ksp = &sd.ksp, .mask = &sd.mask, .maps = NULL };
    assert_int_equal(mr_pipeline_run(p, &s, &mag), MR_ERR_ARG); /* maps=file, none given */
    assert_non_null(strstr(mr_last_error(), "maps"));
    assert_int_equal(mr_pipeline_run(p, &s, &small), MR_ERR_SHAPE);
    s.mask = &small;
    assert_int_equal(mr_pipeline_run(p, &s, &mag), MR_ERR_SHAPE);
    s.mask = &sd.mask;
    s.ksp = &mag;
    assert_int_equal(mr_pipeline_run(p, &s, &mag), MR_ERR_SHAPE);
    mr_pipeline_free(p);
    mr_array_cleanup(&mag);
    mr_array_cleanup(&small);
}

static void test_nonfinite_kspace_refused(void **state)
{
    (void)state;
    struct mr_array k = { 0 };
    struct mr_array mag = { 0 };
    assert_int_equal(mr_array_init_copy(&k, &sd.ksp), MR_OK);
    assert_int_equal(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, sd.h, sd.w), MR_OK);
    mr_array_cf32(&k)[5 * sd.w + 10] = INFINITY;
    struct mr_method_config c = method("zf");
    run_method(&c, &k, &mag, MR_ERR_DATA);
    mr_array_cleanup(&k);
    mr_array_cleanup(&mag);
}

/* k-space scaled by 2^e is reconstructed as if unscaled, and the image scaled back: for huge
 * (near FLT_MAX) and tiny scales, every classical method gives the unscaled image · 2^e */
static void test_extreme_kspace_rescaled(void **state)
{
    (void)state;
    const char *specs[] = { "zf", "sense", "cg:iters=10", "cs:iters=10" };
    const int exps[] = { 120, -120 };
    struct mr_array k = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array mag = { 0 };
    assert_int_equal(mr_array_init_like(&k, &sd.ksp), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_F32, 2, sd.h, sd.w), MR_OK);
    assert_int_equal(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, sd.h, sd.w), MR_OK);
    for (size_t m = 0; m < sizeof(specs) / sizeof(specs[0]); m++) {
        struct mr_method_config c = method(specs[m]);
        run_method(&c, &sd.ksp, &ref, MR_OK);
        for (size_t e = 0; e < 2; e++) {
            const float a = ldexpf(1.0f, exps[e]);
            const float complex *src = mr_array_cf32(&sd.ksp);
            float complex *dst = mr_array_cf32(&k);
            for (int64_t i = 0; i < mr_array_numel(&k); i++)
                dst[i] = src[i] * a;
            run_method(&c, &k, &mag, MR_OK);
            float *g = mr_array_f32(&mag);
            for (int64_t i = 0; i < mr_array_numel(&mag); i++)
                g[i] /= a;
            assert_nrmse_below(&mag, &ref, 1e-6);
        }
    }
    mr_array_cleanup(&k);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&mag);
}

/* ---- rows that misbehave ------------------------------------------------------------------ */

static mr_status fill_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                             int64_t w, void **ctx)
{
    (void)nc;
    (void)h;
    (void)w;
    *ctx = (void *)cfg; /* borrowed: the pipeline's copy outlives the instance */
    return MR_OK;
}

static bool fill_scales(const void *ctx)
{
    (void)ctx;
    return false;
}

/* mag = the value named by the row's iterations: 0 -> 0, 1 -> NaN, 2 -> 1 */
static mr_status fill_run(void *ctx, const struct mr_slice *s, struct mr_array *mag,
                          const struct mr_probe *probe)
{
    (void)probe;
    const struct mr_method_config *cfg = ctx;
    const float v = cfg->iterations == 1 ? NAN : cfg->iterations == 2 ? 1.0f : 0.0f;
    (void)s;
    float *g = mr_array_f32(mag);
    for (int64_t i = 0; i < mr_array_numel(mag); i++)
        g[i] = v;
    return MR_OK;
}

static void fill_free(void *ctx)
{
    (void)ctx;
}

static const struct mr_method_ops fill_ops = {
    .name = "fill", .create = fill_create, .scales_with_data = fill_scales, .run = fill_run,
    .free = fill_free,
};

static void test_bad_images_never_pass(void **state)
{
    (void)state;
    struct mr_array mag = { 0 };
    struct mr_array k = { 0 };
    assert_int_equal(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, sd.h, sd.w), MR_OK);
    assert_int_equal(mr_array_init_like(&k, &sd.ksp), MR_OK);
    assert_int_equal(mr_method_register(&fill_ops), MR_OK);
    struct mr_method_config c = method("fill:iters=1");
    run_method(&c, &sd.ksp, &mag, MR_ERR_DATA); /* NaN */
    assert_non_null(strstr(mr_last_error(), "NaN"));
    c = method("fill");
    c.iterations = 0;
    run_method(&c, &sd.ksp, &mag, MR_ERR_DATA); /* all zero from nonzero k-space */
    assert_non_null(strstr(mr_last_error(), "all-zero"));
    run_method(&c, &k, &mag, MR_OK);            /* all zero from zero k-space is right */
    c = method("fill:iters=2");
    run_method(&c, &sd.ksp, &mag, MR_OK);
    /* a method whose output does not scale with its input is not fed rescaled data */
    const float complex *src = mr_array_cf32(&sd.ksp);
    float complex *dst = mr_array_cf32(&k);
    for (int64_t i = 0; i < mr_array_numel(&k); i++)
        dst[i] = src[i] * 1e36f;
    run_method(&c, &k, &mag, MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "scale"));
    mr_array_cleanup(&mag);
    mr_array_cleanup(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_specs),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_shapes_and_maps_checked),
        cmocka_unit_test(test_nonfinite_kspace_refused),
        cmocka_unit_test(test_extreme_kspace_rescaled),
        cmocka_unit_test(test_bad_images_never_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
