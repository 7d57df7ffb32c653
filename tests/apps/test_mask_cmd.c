/* apps/cmd_mask.c in-process: .npy files byte-identical to numpy's np.save of fastMRI's masks
 * (the sampling goldens, made with fastMRI's own subsample.py), BART upat against the BART
 * golden, 2-D ATOMMIC masks as (H, W) uint8, PNG output, the printed statistics, and the
 * usage / generator errors. */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/npy.h"
#include "sampling/mask_spec.h"

int mr_main_mask(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* Runs the command with stdout captured into out (NUL-terminated). */
static int run_captured(char **argv, int argc, char *out, size_t len)
{
    fflush(stdout);
    int saved = dup(fileno(stdout));
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), fileno(stdout)) >= 0);
    int rc = mr_main_mask(argc, argv);
    fflush(stdout);
    assert_true(dup2(saved, fileno(stdout)) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, len - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    return (unsigned char *)mr_test_slurp(path, len);
}

static void assert_files_equal(const char *a, const char *b)
{
    size_t na = 0;
    size_t nb = 0;
    unsigned char *x = slurp(a, &na);
    unsigned char *y = slurp(b, &nb);
    assert_non_null(x);
    assert_non_null(y);
    if (na != nb || memcmp(x, y, na) != 0)
        fail_msg("'%s' (%zu bytes) differs from '%s' (%zu bytes)", a, na, b, nb);
    free(x);
    free(y);
}

/* fastMRI RandomMaskFunc, seed = tuple(map(ord, "file1000001.h5")): the golden is np.save of
 * fastMRI's mask as uint8 */
static void test_mask_cmd_random_seed_name_is_numpy_exact(void **state)
{
    char golden[1024];
    char out[1024];
    char text[4096];
    (void)state;
    snprintf(golden, sizeof(golden), "%s", mr_test_data("sampling/fastmri_random_1.npy"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("random_1.npy"));
    char *argv[] = { "mask", "--type", "random", "--shape", "640x368", "--accel", "4",
                     "--center-fraction", "0.08", "--seed-name", "file1000001.h5", "-o", out,
                     NULL };
    assert_int_equal(run_captured(argv, ARGC(argv), text, sizeof(text)), 0);
    assert_files_equal(out, golden);
    /* 81 sampled columns of 368, the 29-column centre of fastMRI's num_low_frequencies */
    assert_non_null(strstr(text, "sampled      81 of 368"));
    assert_non_null(strstr(text, "acceleration 4.543"));
    assert_non_null(strstr(text, "centre       29 columns"));
    assert_non_null(strstr(text, "peak side lobe"));
}

/* lists of accelerations/centres (choice consumes a draw), offsets, equispaced-fraction */
static void test_mask_cmd_fastmri_goldens(void **state)
{
    char golden[1024];
    char out[1024];
    (void)state;

    snprintf(golden, sizeof(golden), "%s", mr_test_data("sampling/fastmri_random_2.npy"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("random_2.npy"));
    char *a1[] = { "mask", "-t", "random", "-s", "640x320", "-a", "4/8", "-c", "0.08/0.04",
                   "--seed", "1234", "-q", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(a1), a1), 0);
    assert_files_equal(out, golden);

    snprintf(golden, sizeof(golden), "%s", mr_test_data("sampling/fastmri_equispaced_5.npy"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("equispaced_5.npy"));
    char *a2[] = { "mask", "-t", "equispaced", "-s", "640x368", "-a", "8", "-c", "0.04",
                   "--seed", "7", "--offset", "3", "-q", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(a2), a2), 0);
    assert_files_equal(out, golden);

    snprintf(golden, sizeof(golden), "%s",
             mr_test_data("sampling/fastmri_equispaced_fraction_7.npy"));
    snprintf(out, sizeof(out), "%s", mr_test_tmp("equispaced_fraction_7.npy"));
    char *a3[] = { "mask", "--spec", "equispaced-fraction:accel=8,center=0.04",
                   "--seed-name", "/some/dir/file1000001.h5", "-s", "640x320", "-q", "-o", out,
                   NULL };
    assert_int_equal(mr_main_mask(ARGC(a3), a3), 0);
    assert_files_equal(out, golden);
}

/* bart upat -Y 32 -Z 24 -y 2 -z 3 -c 4: the (Z, Y) = (24, 32) mask equals the BART cfl */
static void test_mask_cmd_bart_upat_matches_bart(void **state)
{
    char out[1024];
    size_t n = 0;
    struct mr_array m;
    (void)state;
    snprintf(out, sizeof(out), "%s", mr_test_tmp("upat.npy"));
    char *argv[] = { "mask", "-t", "bart-upat", "-s", "24x32", "--accel-y", "2", "--accel-z",
                     "3", "--calib", "4", "-q", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(argv), argv), 0);
    float *cfl = (float *)slurp(mr_test_data("sampling/bart_upat_Y32_Z24_y2_z3_c4.cfl"), &n);
    assert_non_null(cfl);
    assert_int_equal(n, 32 * 24 * 8);
    assert_int_equal(mr_npy_read(out, &m), MR_OK);
    assert_int_equal(m.ndim, 2);
    assert_int_equal(m.dims[0], 24);
    assert_int_equal(m.dims[1], 32);
    for (int i = 0; i < 32 * 24; i++)
        assert_true(mr_array_f32(&m)[i] == cfl[2 * i]);
    mr_array_cleanup(&m);
    free(cfl);
}

/* 2-D ATOMMIC Gaussian mask: (H, W) uint8, equal to the library's mask for the same spec */
static void test_mask_cmd_gaussian2d_is_hw_uint8(void **state)
{
    char out[1024];
    char text[4096];
    size_t n = 0;
    struct mr_array m;
    struct mr_array ref;
    struct mr_mask_spec spec;
    (void)state;
    snprintf(out, sizeof(out), "%s", mr_test_tmp("g2d.npy"));
    char *argv[] = { "mask", "-t", "gaussian2d", "-s", "40x36", "-a", "6", "-c", "0.7",
                     "--seed", "3", "-o", out, NULL };
    assert_int_equal(run_captured(argv, ARGC(argv), text, sizeof(text)), 0);
    assert_non_null(strstr(text, "centre       2 x 1 fully sampled")); /* 2-D, no columns */
    assert_null(strstr(text, "column"));
    unsigned char *raw = slurp(out, &n);
    assert_non_null(raw);
    raw[n > 120 ? 120 : n - 1] = '\0';
    assert_non_null(strstr((char *)raw + 10, "'descr': '|u1'"));
    assert_non_null(strstr((char *)raw + 10, "'shape': (40, 36)"));
    free(raw);
    assert_int_equal(mr_npy_read(out, &m), MR_OK);
    assert_int_equal(mr_mask_spec_parse("gaussian2d:accel=6,center=0.7,seed=3", &spec), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&spec, 40, 36, NULL, &ref, NULL, NULL), MR_OK);
    assert_true(mr_array_same_shape(&m, &ref));
    assert_memory_equal(m.data, ref.data, mr_array_nbytes(&m));
    mr_array_cleanup(&m);
    mr_array_cleanup(&ref);
}

static void test_mask_cmd_png_and_bart_poisson(void **state)
{
    char out[1024];
    char text[4096];
    size_t n = 0;
    (void)state;
    snprintf(out, sizeof(out), "%s", mr_test_tmp("poisson.png"));
    char *argv[] = { "mask", "-t", "bart-poisson", "-s", "48x64", "-a", "4", "-c", "0.25",
                     "-o", out, NULL };
    assert_int_equal(run_captured(argv, ARGC(argv), text, sizeof(text)), 0);
    assert_non_null(strstr(text, "points"));
    assert_non_null(strstr(text, "centre       12 x 12 fully sampled")); /* calib 12 */
    unsigned char *png = slurp(out, &n);
    assert_non_null(png);
    assert_true(n > 50 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    free(png);
}

static void test_mask_cmd_errors(void **state)
{
    char out[1024];
    (void)state;
    snprintf(out, sizeof(out), "%s", mr_test_tmp("bad.npy"));
    char *no_shape[] = { "mask", "-t", "random", "-a", "4", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(no_shape), no_shape), 2);
    char *bad_shape[] = { "mask", "-t", "random", "-a", "4", "-s", "64x", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(bad_shape), bad_shape), 2);
    char *bad_type[] = { "mask", "-t", "spiral", "-a", "4", "-s", "64x64", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(bad_type), bad_type), 2);
    char *bad_ext[] = { "mask", "-t", "random", "-a", "4", "-s", "64x64", "-o", "m.txt", NULL };
    assert_int_equal(mr_main_mask(ARGC(bad_ext), bad_ext), 2);
    char *no_accel[] = { "mask", "-t", "random", "-s", "64x64", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(no_accel), no_accel), 2);
    char *both[] = { "mask", "-t", "random", "-a", "4", "-s", "64x64", "--seed", "1",
                     "--seed-name", "f.h5", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(both), both), 2);
    /* parameters the generator rejects: centre * acceleration >= width */
    char *reject[] = { "mask", "-t", "equispaced-fraction", "-a", "4", "-c", "0.5", "-s",
                       "64x64", "-o", out, NULL };
    assert_int_equal(mr_main_mask(ARGC(reject), reject), 1);
    char *bad_key[] = { "mask", "-t", "random", "-a", "4", "-s", "64x64", "--vd", "3", "-o",
                        out, NULL };
    assert_int_equal(mr_main_mask(ARGC(bad_key), bad_key), 1); /* vd is bart-poisson's */
    assert_int_equal(access(out, F_OK), -1); /* nothing written */
    char *help[] = { "mask", "--help", NULL };
    char text[8192];
    assert_int_equal(run_captured(help, ARGC(help), text, sizeof(text)), 0);
    assert_non_null(strstr(text, "--seed-name"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_cmd_random_seed_name_is_numpy_exact),
        cmocka_unit_test(test_mask_cmd_fastmri_goldens),
        cmocka_unit_test(test_mask_cmd_bart_upat_matches_bart),
        cmocka_unit_test(test_mask_cmd_gaussian2d_is_hw_uint8),
        cmocka_unit_test(test_mask_cmd_png_and_bart_poisson),
        cmocka_unit_test(test_mask_cmd_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
