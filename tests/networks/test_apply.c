/* `mrirecon apply` in-process: raw and magnitude outputs against the goldens, a two-slice
 * input, usage and failure exit codes, --plan measure / --wisdom (file written, reused, the
 * goldens either way). */
#include "mr_test.h"

#include <complex.h>
#include <stdio.h>
#include <string.h>

#include "io/h5.h"
#include "networks/conv_plan.h"
#include "recon/fft.h"
#include "recon/settings.h"

int mr_main_apply(int argc, char *argv[]);

static int run_apply(const char *w, const char *in, const char *out, bool raw)
{
    char wb[512];
    char ib[512];
    char ob[512];
    char *argv[8] = { "apply", "--weights", wb, "--input", ib, "--output", ob, NULL };
    int argc = 7;

    snprintf(wb, sizeof(wb), "%s", w);
    snprintf(ib, sizeof(ib), "%s", in);
    snprintf(ob, sizeof(ob), "%s", out);
    if (raw) {
        argv[7] = "--raw";
        argc = 8;
    }
    return mr_main_apply(argc, argv);
}

static void read_array(const char *path, const char *name, struct mr_array *a)
{
    struct mr_h5 *h = NULL;
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, name, a), MR_OK);
    mr_h5_close(h);
}

static void test_apply_raw_matches_golden(void **state)
{
    char golden[512];
    char out[512];
    struct mr_array ref = { 0 };
    struct mr_array got = { 0 };
    (void)state;

    snprintf(golden, sizeof(golden), "%s", mr_test_data("e2evn/case_1.h5"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("apply_case1.h5"));
    assert_int_equal(run_apply(golden, golden, out, true), 0);
    read_array(golden, "/output", &ref);
    read_array(out, "/output", &got);
    assert_true(mr_array_same_shape(&ref, &got));
    assert_max_rel_below(&got, &ref, 1e-4);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&got);
}

static void test_apply_magnitude_of_complex_output(void **state)
{
    char golden[512];
    char out[512];
    struct mr_array ref = { 0 };
    struct mr_array mag = { 0 };
    struct mr_array got = { 0 };
    (void)state;

    snprintf(golden, sizeof(golden), "%s", mr_test_data("e2evn/case_3.h5"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("apply_case3.h5"));
    assert_int_equal(run_apply(golden, golden, out, false), 0);
    read_array(golden, "/output", &ref);
    read_array(out, "/output", &got);
    assert_int_equal(got.dtype, MR_DTYPE_F32);
    assert_int_equal(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, ref.dims[0], ref.dims[1]), MR_OK);
    for (int64_t i = 0; i < mr_array_numel(&ref); i++)
        mr_array_f32(&mag)[i] = cabsf(mr_array_cf32(&ref)[i]);
    assert_max_rel_below(&got, &mag, 1e-4);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&mag);
    mr_array_cleanup(&got);
}

/* a (2, C, H, W) case built from case_4: slice 1 is slice 0 scaled by 2, with per-slice maps
 * and a shared mask; each output slice must match the golden run on that slice */
static void test_apply_slices(void **state)
{
    char golden[512];
    char in[512];
    char out[512];
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array k2 = { 0 };
    struct mr_array s2 = { 0 };
    struct mr_array got = { 0 };
    struct mr_h5 *h = NULL;
    (void)state;

    snprintf(golden, sizeof(golden), "%s", mr_test_data("e2evn/case_4.h5"));
    snprintf(in, sizeof(in), "%s", mr_test_tmp("apply_slices_in.h5"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("apply_slices_out.h5"));
    read_array(golden, "/kspace", &ksp);
    read_array(golden, "/mask", &mask);
    read_array(golden, "/sensitivity_map", &sens);
    read_array(golden, "/output", &ref);
    const int64_t n = mr_array_numel(&ksp);
    assert_int_equal(mr_array_init_dims(&k2, MR_DTYPE_CF32, 4, (int64_t)2, ksp.dims[0],
                                        ksp.dims[1], ksp.dims[2]), MR_OK);
    assert_int_equal(mr_array_init_dims(&s2, MR_DTYPE_CF32, 4, (int64_t)2, ksp.dims[0],
                                        ksp.dims[1], ksp.dims[2]), MR_OK);
    for (int64_t i = 0; i < n; i++) {
        mr_array_cf32(&k2)[i] = mr_array_cf32(&ksp)[i];
        mr_array_cf32(&k2)[n + i] = 2.0f * mr_array_cf32(&ksp)[i];
        mr_array_cf32(&s2)[i] = mr_array_cf32(&sens)[i];
        mr_array_cf32(&s2)[n + i] = mr_array_cf32(&sens)[i];
    }
    assert_int_equal(mr_h5_create(in, &h), MR_OK);
    assert_int_equal(mr_h5_write(h, "/kspace", &k2), MR_OK);
    assert_int_equal(mr_h5_write(h, "/mask", &mask), MR_OK);
    assert_int_equal(mr_h5_write(h, "/sensitivity_map", &s2), MR_OK);
    assert_int_equal(mr_h5_commit(h), MR_OK);

    assert_int_equal(run_apply(golden, in, out, true), 0);
    read_array(out, "/output", &got);
    assert_int_equal(got.ndim, 3);
    assert_int_equal(got.dims[0], 2);
    struct mr_array slab;
    mr_array_slab(&slab, &got, 0);
    assert_max_rel_below(&slab, &ref, 1e-4);
    /* the network is not scale-equivariant (instance norm eps, no_dc): only sanity-check that
     * slice 1 was computed from its own input */
    mr_array_slab(&slab, &got, 1);
    assert_true(mr_test_max_rel_err(&slab, &ref) > 1e-3);

    mr_array_cleanup(&got);
    mr_array_cleanup(&k2);
    mr_array_cleanup(&s2);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&ksp);
}

/* fastMRI with a per-slice mask and per-slice num_low_frequencies (case_2 twice) */
static void test_apply_slices_fastmri(void **state)
{
    char golden[512];
    char in[512];
    char out[512];
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array k2 = { 0 };
    struct mr_array m2 = { 0 };
    struct mr_array nlf = { 0 };
    struct mr_array got = { 0 };
    struct mr_h5 *h = NULL;
    struct mr_array slab;
    (void)state;

    snprintf(golden, sizeof(golden), "%s", mr_test_data("e2evn/case_2.h5"));
    snprintf(in, sizeof(in), "%s", mr_test_tmp("apply_slices2_in.h5"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("apply_slices2_out.h5"));
    read_array(golden, "/kspace", &ksp);
    read_array(golden, "/mask", &mask);
    read_array(golden, "/output", &ref);
    assert_int_equal(mr_array_init_dims(&k2, MR_DTYPE_CF32, 4, (int64_t)2, ksp.dims[0],
                                        ksp.dims[1], ksp.dims[2]), MR_OK);
    assert_int_equal(mr_array_init_dims(&m2, MR_DTYPE_F32, 3, (int64_t)2, mask.dims[0],
                                        mask.dims[1]), MR_OK);
    assert_int_equal(mr_array_init_dims(&nlf, MR_DTYPE_F32, 1, (int64_t)2), MR_OK);
    for (int s = 0; s < 2; s++) {
        memcpy(mr_array_cf32(&k2) + s * mr_array_numel(&ksp), ksp.data, mr_array_nbytes(&ksp));
        memcpy(mr_array_f32(&m2) + s * mr_array_numel(&mask), mask.data,
               mr_array_nbytes(&mask));
        mr_array_f32(&nlf)[s] = 3.0f;
    }
    assert_int_equal(mr_h5_create(in, &h), MR_OK);
    assert_int_equal(mr_h5_write(h, "/kspace", &k2), MR_OK);
    assert_int_equal(mr_h5_write(h, "/mask", &m2), MR_OK);
    assert_int_equal(mr_h5_write(h, "/num_low_frequencies", &nlf), MR_OK);
    assert_int_equal(mr_h5_commit(h), MR_OK);

    assert_int_equal(run_apply(golden, in, out, true), 0);
    read_array(out, "/output", &got);
    assert_int_equal(got.ndim, 3);
    for (int64_t s = 0; s < 2; s++) {
        mr_array_slab(&slab, &got, s);
        assert_max_rel_below(&slab, &ref, 1e-4);
    }
    mr_array_cleanup(&got);
    mr_array_cleanup(&nlf);
    mr_array_cleanup(&m2);
    mr_array_cleanup(&k2);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&ksp);
}

static void test_apply_usage_and_failures(void **state)
{
    char golden[512];
    char out[512];
    (void)state;

    char *help[] = { "apply", "--help", NULL };
    assert_int_equal(mr_main_apply(2, help), 0);
    char *none[] = { "apply", NULL };
    assert_int_equal(mr_main_apply(1, none), 2);
    char *bad[] = { "apply", "--bogus", NULL };
    assert_int_equal(mr_main_apply(2, bad), 2);

    snprintf(golden, sizeof(golden), "%s", mr_test_data("e2evn/case_2.h5"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("apply_fail.h5"));
    assert_int_equal(run_apply("/nonexistent/w.h5", golden, out, false), 1);
    assert_non_null(strstr(mr_last_error(), "/nonexistent/w.h5"));
    /* case_2's weights on case_1's input: fine shape-wise for fastMRI (maps are estimated), so
     * use an ATOMMIC file without maps instead: case_5 weights on case_1 input */
    char in[512];
    char w[512];
    snprintf(in, sizeof(in), "%s", mr_test_data("e2evn/case_1.h5"));
    snprintf(w, sizeof(w), "%s", mr_test_data("e2evn/case_5.h5"));
    assert_int_equal(run_apply(w, in, out, false), 1);
    assert_non_null(strstr(mr_last_error(), "sensitivity"));
    /* nothing is left at the output path after a failure */
    FILE *f = fopen(out, "rb");
    assert_null(f);
}

/* measure writes the wisdom (header and one line per conv shape), the goldens hold with the
 * measured algorithms, estimate with the file reuses it; a bad --plan is a usage error */
static void test_apply_plan_wisdom(void **state)
{
    char golden[512];
    char out[512];
    char wisdom[512];
    struct mr_array ref = { 0 };
    struct mr_array got = { 0 };
    (void)state;

    snprintf(golden, sizeof(golden), "%s", mr_test_data("e2evn/case_1.h5"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("apply_plan.h5"));
    snprintf(wisdom, sizeof(wisdom), "%s", mr_test_tmp("apply_wisdom.txt"));
    remove(wisdom);
    mr_conv_wisdom_forget();
    char *measure[] = { "apply", "--weights", golden, "--input", golden, "--output", out,
                        "--raw", "--plan", "measure", "--wisdom", wisdom, NULL };
    assert_int_equal(mr_main_apply(12, measure), 0);
    const int64_t n = mr_conv_wisdom_count();
    assert_true(n > 0);
    read_array(golden, "/output", &ref);
    read_array(out, "/output", &got);
    assert_max_rel_below(&got, &ref, 1e-4);
    FILE *f = fopen(wisdom, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "mrirecon-conv-wisdom 2\n");
    int64_t convs = 0;
    while (fgets(line, sizeof line, f) != NULL)
        convs += strncmp(line, "conv ", 5) == 0;
    fclose(f);
    assert_int_equal(convs, n);
    /* the FFT plans measured with them, beside the file */
    char fftw[600];
    snprintf(fftw, sizeof fftw, "%s.fftw", wisdom);
    f = fopen(fftw, "r");
    assert_non_null(f);
    assert_int_equal(mr_fft_wisdom_read(f, fftw), MR_OK);
    fclose(f);

    mr_conv_wisdom_forget();
    char *estimate[] = { "apply", "--weights", golden, "--input", golden, "--output", out,
                         "--raw", "--wisdom", wisdom, NULL };
    assert_int_equal(mr_main_apply(10, estimate), 0);
    assert_int_equal(mr_conv_wisdom_count(), n); /* read back, nothing measured */
    mr_array_cleanup(&got);
    read_array(out, "/output", &got);
    assert_max_rel_below(&got, &ref, 1e-4);

    char *bad[] = { "apply", "--weights", golden, "--input", golden, "--output", out,
                    "--plan", "exhaustive", NULL };
    assert_int_equal(mr_main_apply(9, bad), 2);
    mr_conv_wisdom_forget();
    mr_settings_set(&mr_settings_default);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_raw_matches_golden),
        cmocka_unit_test(test_apply_magnitude_of_complex_output),
        cmocka_unit_test(test_apply_slices),
        cmocka_unit_test(test_apply_slices_fastmri),
        cmocka_unit_test(test_apply_usage_and_failures),
        cmocka_unit_test(test_apply_plan_wisdom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
