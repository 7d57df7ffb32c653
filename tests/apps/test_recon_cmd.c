/*
 * mrirecon recon, in-process, on the bundled real-data sample:
 *  - the foundation issue's acceptance: the fully sampled 8-coil brain (data/sample/
 *    brain8_full.h5) retrospectively undersampled with every 4th column + 8 centre columns
 *    reaches, after least-squares intensity scaling against the fully sampled RSS image,
 *    NMSE no worse than BART 0.8 `pics` on the same data (-l2 -r 0.01: 0.0218; -l1 -r 0.01:
 *    0.0148, both with `ecalib -m1 -c 0` maps and 30 iterations; bench/bart_compare.py);
 *    zero-filled gives 0.101;
 *  - every output format, and the usage / error exit codes with a clear message.
 */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/fastmri.h"
#include "io/h5.h"
#include "io/npy.h"

int mr_main_recon(int argc, char *argv[]);

static char sample_full[4096];
static char sample_poisson[4096];

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("MR_SOURCE_DIR");
    snprintf(sample_full, sizeof(sample_full), "%s/data/sample/brain8_full.h5",
             src != NULL ? src : ".");
    snprintf(sample_poisson, sizeof(sample_poisson), "%s/data/sample/brain8_poisson.h5",
             src != NULL ? src : ".");
    /* every 4th column + 8 centre columns of 180 */
    struct mr_array m;
    if (mr_array_init_dims(&m, MR_DTYPE_F32, 1, (int64_t)180) != MR_OK)
        return -1;
    for (int x = 0; x < 180; x++)
        mr_array_f32(&m)[x] = (x % 4 == 0 || (x >= 86 && x < 94)) ? 1.0f : 0.0f;
    mr_status st = mr_npy_write(mr_test_tmp("mask4.npy"), &m, MR_NPY_TYPE_U8);
    mr_array_cleanup(&m);
    return st == MR_OK ? 0 : -1;
}

static int run(const char *const *args, int n)
{
    char *argv[32];
    assert_true(n < 32);
    for (int i = 0; i < n; i++)
        argv[i] = (char *)args[i];
    argv[n] = NULL;
    return mr_main_recon(n, argv);
}

/* NMSE of |recon| against the fully sampled RSS after least-squares intensity scaling */
static double scaled_nmse(const char *out_path)
{
    struct mr_h5 *h = NULL;
    struct mr_array rec = { 0 };
    struct mr_array ref = { 0 };
    assert_int_equal(mr_h5_open(out_path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "reconstruction", &rec), MR_OK);
    mr_h5_close(h);
    assert_int_equal(mr_h5_open(sample_full, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "reconstruction_rss", &ref), MR_OK);
    mr_h5_close(h);
    assert_int_equal(mr_array_numel(&rec), mr_array_numel(&ref));
    const float *x = mr_array_f32(&rec);
    const float *y = mr_array_f32(&ref);
    int64_t n = mr_array_numel(&ref);
    double xy = 0.0;
    double xx = 0.0;
    double yy = 0.0;
    for (int64_t i = 0; i < n; i++) {
        xy += (double)x[i] * (double)y[i];
        xx += (double)x[i] * (double)x[i];
        yy += (double)y[i] * (double)y[i];
    }
    double a = xy / xx;
    double err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = a * (double)x[i] - (double)y[i];
        err += d * d;
    }
    mr_array_cleanup(&rec);
    mr_array_cleanup(&ref);
    return err / yy;
}

static double recon_nmse(const char *method, const char *iters)
{
    char mask[4096];
    char out[4096];
    snprintf(mask, sizeof(mask), "%s", mr_test_tmp("mask4.npy"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp(method));
    strcat(out, ".h5");
    const char *args[] = { "recon", "--quiet", "--method", method, "--mask", mask,
                           "--iters", iters, sample_full, out };
    assert_int_equal(run(args, 10), 0);
    double e = scaled_nmse(out);
    print_message("%s: NMSE %.4f\n", method, e);
    return e;
}

static void test_recon_zf_matches_known_baseline(void **state)
{
    (void)state;
    double e = recon_nmse("zf", "1");
    assert_true(e > 0.09 && e < 0.11); /* 0.101 (numpy) */
}

static void test_recon_cg_no_worse_than_bart_pics_l2(void **state)
{
    (void)state;
    assert_true(recon_nmse("cg", "30") <= 0.0218);
}

static void test_recon_cs_no_worse_than_bart_pics_l1(void **state)
{
    (void)state;
    assert_true(recon_nmse("cs", "30") <= 0.0148);
}

static void test_recon_writes_every_format(void **state)
{
    (void)state;
    static const char *const names[] = { "sub/dir/out.png", "out.nii", "out.h5" };
    for (size_t i = 0; i < 3; i++) {
        char out[4096];
        struct stat sb;
        snprintf(out, sizeof(out), "%s", mr_test_tmp(names[i]));
        const char *args[] = { "recon", "-q", "--method", "sense", sample_poisson, out };
        assert_int_equal(run(args, 6), 0);
        assert_int_equal(stat(out, &sb), 0);
        assert_true(sb.st_size > 1000);
    }
}

static void test_recon_usage_and_errors(void **state)
{
    (void)state;
    char out[4096];
    snprintf(out, sizeof(out), "%s", mr_test_tmp("never.h5"));
    const char *bad_method[] = { "recon", "--method", "magic", sample_poisson, out };
    assert_int_equal(run(bad_method, 5), 2);
    const char *bad_ext[] = { "recon", sample_poisson, "x.jpg" };
    assert_int_equal(run(bad_ext, 3), 2);
    const char *missing[] = { "recon", "-q", "/nonexistent/in.h5", out };
    assert_int_equal(run(missing, 4), 1);
    assert_non_null(strstr(mr_last_error(), "/nonexistent/in.h5"));
    /* a mask that does not fit the k-space */
    struct mr_array m;
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 1, (int64_t)17), MR_OK);
    mr_array_f32(&m)[3] = 1.0f;
    char mask[4096];
    snprintf(mask, sizeof(mask), "%s", mr_test_tmp("bad_mask.npy"));
    assert_int_equal(mr_npy_write(mask, &m, MR_NPY_TYPE_U8), MR_OK);
    mr_array_cleanup(&m);
    const char *bad_mask[] = { "recon", "-q", "--mask", mask, sample_full, out };
    assert_int_equal(run(bad_mask, 6), 1);
    assert_non_null(strstr(mr_last_error(), "bad_mask.npy"));
    assert_non_null(strstr(mr_last_error(), "(17)"));
    /* --maps file without a sensitivity_map */
    const char *no_maps[] = { "recon", "-q", "--maps", "file", sample_full, out };
    assert_int_equal(run(no_maps, 6), 1);
    assert_non_null(strstr(mr_last_error(), "sensitivity_map"));
    /* the output may not be the input (it would be destroyed) */
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", mr_test_tmp("in_copy.h5"));
    char cmd[9000];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", sample_full, copy);
    assert_int_equal(system(cmd), 0);
    const char *same[] = { "recon", "-q", "-m", "zf", copy, copy };
    assert_int_equal(run(same, 6), 1);
    assert_non_null(strstr(mr_last_error(), "is the input"));
    struct mr_fastmri *f = NULL;
    assert_int_equal(mr_fastmri_open(copy, &f), MR_OK); /* still the k-space file */
    mr_fastmri_close(f);
    /* a memory limit too small for one slice is a clear error, not a crash */
    const char *small[] = { "recon", "-q", "-m", "zf", "--max-memory", "1", sample_full, out };
    assert_int_equal(run(small, 8), 1);
    assert_non_null(strstr(mr_last_error(), "memory limit"));
    mr_memory_limit_set(0);
    /* nothing was left behind */
    assert_int_equal(access(out, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recon_zf_matches_known_baseline),
        cmocka_unit_test(test_recon_cg_no_worse_than_bart_pics_l2),
        cmocka_unit_test(test_recon_cs_no_worse_than_bart_pics_l1),
        cmocka_unit_test(test_recon_writes_every_format),
        cmocka_unit_test(test_recon_usage_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
