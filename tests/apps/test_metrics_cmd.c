/* apps/cmd_metrics.c in-process: the JSON it prints against the metric goldens (fastMRI
 * evaluate.py and ATOMMIC per-slice numbers computed with scikit-image on a real 10-slice MR
 * volume), the target key preference, fastMRI's (W, W) crop on the real IXI-derived test
 * volume, complex predictions, folders of volumes, and the errors. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "io/h5.h"
#include "io/npy.h"

int mr_main_metrics(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* Runs the command with stdout captured; returns its exit code, *json the parsed output (or
 * NULL when it printed none). */
static int run_json(char **argv, int argc, cJSON **json)
{
    static char out[1 << 16];
    fflush(stdout);
    int saved = dup(fileno(stdout));
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_true(dup2(fileno(tmp), fileno(stdout)) >= 0);
    int rc = mr_main_metrics(argc, argv);
    fflush(stdout);
    assert_true(dup2(saved, fileno(stdout)) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    *json = n > 0 ? cJSON_Parse(out) : NULL;
    return rc;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("JSON has no number '%s'", key);
    return v->valuedouble;
}

static void assert_rel(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol * fabs(want)))
        fail_msg("%s: %.10g, expected %.10g (rel tol %g)", what, got, want, tol);
}

/* writes arrays as datasets of a new HDF5 file */
static void write_h5(const char *path, const char *k1, const struct mr_array *a1, const char *k2,
                     const struct mr_array *a2)
{
    struct mr_h5 *h = NULL;
    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    assert_int_equal(mr_h5_write(h, k1, a1), MR_OK);
    if (k2 != NULL)
        assert_int_equal(mr_h5_write(h, k2, a2), MR_OK);
    assert_int_equal(mr_h5_commit(h), MR_OK);
}

static cJSON *load_golden(void)
{
    FILE *f = fopen(mr_test_data("metrics/metrics_golden.json"), "rb");
    assert_non_null(f);
    static char buf[1 << 15];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    return j;
}

/* The golden target and zero-filled prediction (10, 128, 128) F32 of tests/data/metrics. */
static void read_golden_volumes(struct mr_array *tgt, struct mr_array *pred)
{
    assert_int_equal(mr_npy_read(mr_test_data("metrics/target_10x128x128_f32.npy"), tgt),
                     MR_OK);
    assert_int_equal(mr_npy_read(mr_test_data("metrics/pred_zerofilled_10x128x128_f32.npy"),
                                 pred), MR_OK);
}

static void test_metrics_cmd_matches_goldens(void **state)
{
    struct mr_array tgt;
    struct mr_array pred;
    char tp[1024];
    char pp[1024];
    cJSON *out = NULL;
    (void)state;
    read_golden_volumes(&tgt, &pred);
    snprintf(tp, sizeof(tp), "%s", mr_test_tmp("golden_target.h5"));
    snprintf(pp, sizeof(pp), "%s", mr_test_tmp("golden_pred.h5"));
    write_h5(tp, "reconstruction_rss", &tgt, NULL, NULL);
    write_h5(pp, "reconstruction", &pred, NULL, NULL);
    cJSON *golden = load_golden();

    char *a1[] = { "metrics", "--target", tp, "--pred", pp, NULL };
    assert_int_equal(run_json(a1, ARGC(a1), &out), 0);
    assert_non_null(out);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(golden, "fastmri_evaluate");
    assert_rel(num(out, "nmse"), num(g, "nmse"), 1e-5, "fastmri nmse");
    assert_rel(num(out, "psnr"), num(g, "psnr"), 1e-5, "fastmri psnr");
    assert_rel(num(out, "ssim"), num(g, "ssim"), 1e-5, "fastmri ssim");
    assert_int_equal((int)num(out, "slices"), 10);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(out, "target_key")->valuestring,
                        "reconstruction_rss");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(out, "crop")));
    cJSON_Delete(out);

    char *a2[] = { "metrics", "-t", tp, "-p", pp, "--definition", "atommic", NULL };
    assert_int_equal(run_json(a2, ARGC(a2), &out), 0);
    assert_non_null(out);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out, "crop")));
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(out, "per_slice");
    const cJSON *gper = cJSON_GetObjectItemCaseSensitive(golden, "atommic_per_slice");
    assert_int_equal(cJSON_GetArraySize(per), 10);
    double mean = 0.0;
    for (int i = 0; i < 10; i++) {
        const cJSON *a = cJSON_GetArrayItem(per, i);
        const cJSON *b = cJSON_GetArrayItem(gper, i);
        assert_rel(num(a, "nmse"), num(b, "nmse"), 1e-5, "atommic nmse");
        assert_rel(num(a, "psnr"), num(b, "psnr"), 1e-5, "atommic psnr");
        assert_rel(num(a, "ssim"), num(b, "ssim"), 1e-5, "atommic ssim");
        mean += num(b, "ssim") / 10.0;
    }
    assert_rel(num(out, "ssim"), mean, 1e-5, "atommic mean ssim");
    assert_true(num(out, "ssim_std") > 0.0);
    cJSON_Delete(out);
    cJSON_Delete(golden);
    mr_array_cleanup(&tgt);
    mr_array_cleanup(&pred);
}

/* The IXI-derived volume (2, 72, 60): reconstruction_rss preferred over reconstruction,
 * fastMRI's centre crop to (60, 60), a prediction 1.1 x the target has NMSE 0.01, and ATOMMIC's
 * per-slice normalisation removes the scale. */
static void test_metrics_cmd_key_preference_crop_and_complex(void **state)
{
    struct mr_h5 *h = NULL;
    struct mr_array rss;
    struct mr_array junk;
    struct mr_array pred;
    struct mr_array cpred;
    char tp[1024];
    char pp[1024];
    cJSON *out = NULL;
    (void)state;
    assert_int_equal(mr_h5_open(mr_test_data("maskeval/ixi_axial2.h5"), &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "reconstruction_rss", &rss), MR_OK);
    mr_h5_close(h);
    assert_int_equal(rss.dims[1], 72);
    assert_int_equal(rss.dims[2], 60);
    assert_int_equal(mr_array_init_like(&junk, &rss), MR_OK);
    assert_int_equal(mr_array_init_copy(&pred, &rss), MR_OK);
    assert_int_equal(mr_array_init_dims(&cpred, MR_DTYPE_CF32, 3, rss.dims[0], rss.dims[1],
                                        rss.dims[2]), MR_OK);
    mr_test_rand(&junk, 5);
    for (int64_t i = 0; i < mr_array_numel(&rss); i++) {
        mr_array_f32(&pred)[i] *= 1.1f;
        /* a phase does not change the magnitude */
        mr_array_cf32(&cpred)[i] = mr_array_f32(&pred)[i] * cexpf(I * 0.3f * (float)(i % 7));
    }
    snprintf(tp, sizeof(tp), "%s", mr_test_tmp("ixi_target.h5"));
    snprintf(pp, sizeof(pp), "%s", mr_test_tmp("ixi_pred.h5"));
    write_h5(tp, "reconstruction", &junk, "reconstruction_rss", &rss);
    write_h5(pp, "reconstruction", &pred, "other", &cpred);

    char *a1[] = { "metrics", "-t", tp, "-p", pp, NULL };
    assert_int_equal(run_json(a1, ARGC(a1), &out), 0);
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(out, "shape");
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 60);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 60);
    assert_rel(num(out, "nmse"), 0.01, 1e-5, "nmse of 1.1 x target");
    double psnr_crop = num(out, "psnr");
    cJSON_Delete(out);

    char *a2[] = { "metrics", "-t", tp, "-p", pp, "--pred-key", "other", NULL };
    assert_int_equal(run_json(a2, ARGC(a2), &out), 0);
    assert_rel(num(out, "nmse"), 0.01, 1e-5, "nmse of the complex prediction");
    assert_rel(num(out, "psnr"), psnr_crop, 1e-6, "psnr of the complex prediction");
    cJSON_Delete(out);

    char *a3[] = { "metrics", "-t", tp, "-p", pp, "--no-crop", NULL };
    assert_int_equal(run_json(a3, ARGC(a3), &out), 0);
    shape = cJSON_GetObjectItemCaseSensitive(out, "shape");
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 72);
    assert_rel(num(out, "nmse"), 0.01, 1e-5, "uncropped nmse");
    cJSON_Delete(out);

    char *a4[] = { "metrics", "-t", tp, "-p", pp, "-d", "atommic", "--crop", NULL };
    assert_int_equal(run_json(a4, ARGC(a4), &out), 0);
    assert_true(num(out, "nmse") < 1e-10);
    assert_rel(num(out, "ssim"), 1.0, 1e-6, "atommic ssim of a scaled copy");
    cJSON_Delete(out);

    char *a5[] = { "metrics", "-t", tp, "-p", pp, "--target-key", "reconstruction", NULL };
    assert_int_equal(run_json(a5, ARGC(a5), &out), 0);
    assert_true(num(out, "nmse") > 0.5); /* scored against the junk */
    cJSON_Delete(out);

    mr_array_cleanup(&rss);
    mr_array_cleanup(&junk);
    mr_array_cleanup(&pred);
    mr_array_cleanup(&cpred);
}

/* Folders: the golden volume split into two files (4 + 6 slices); fastmri per-volume numbers
 * equal the single-file runs and the mean is over volumes; atommic pools all 10 slices, so its
 * mean equals the golden per-slice mean; a missing prediction fails. */
static void test_metrics_cmd_folders(void **state)
{
    struct mr_array tgt;
    struct mr_array pred;
    char td[1024];
    char pd[1024];
    char path[1100];
    char cmd[4200];
    char gp[1024];
    cJSON *out = NULL;
    (void)state;
    read_golden_volumes(&tgt, &pred);
    snprintf(gp, sizeof(gp), "%s", mr_test_tmp("golden_pred.h5"));
    snprintf(td, sizeof(td), "%s", mr_test_tmp("dir_t"));
    snprintf(pd, sizeof(pd), "%s", mr_test_tmp("dir_p"));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' && mkdir -p '%s' '%s'", td, pd, td, pd);
    assert_int_equal(system(cmd), 0);
    const int64_t first[2] = { 0, 4 };
    const int64_t count[2] = { 4, 6 };
    double nmse[2];
    for (int v = 0; v < 2; v++) {
        struct mr_array a;
        struct mr_array b;
        const int64_t dims[3] = { count[v], 128, 128 };
        mr_array_wrap(&a, MR_DTYPE_F32, 3, dims, mr_array_f32(&tgt) + first[v] * 128 * 128);
        mr_array_wrap(&b, MR_DTYPE_F32, 3, dims, mr_array_f32(&pred) + first[v] * 128 * 128);
        snprintf(path, sizeof(path), "%s/file%d.h5", td, v);
        write_h5(path, "reconstruction_rss", &a, NULL, NULL);
        char pp[1100];
        snprintf(pp, sizeof(pp), "%s/file%d.h5", pd, v);
        write_h5(pp, "reconstruction", &b, NULL, NULL);
        char *one[] = { "metrics", "-t", path, "-p", pp, NULL };
        assert_int_equal(run_json(one, ARGC(one), &out), 0);
        nmse[v] = num(out, "nmse");
        cJSON_Delete(out);
    }
    char *a1[] = { "metrics", "-t", td, "-p", pd, NULL };
    assert_int_equal(run_json(a1, ARGC(a1), &out), 0);
    assert_int_equal((int)num(out, "volumes"), 2);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(out, "per_volume");
    assert_int_equal(cJSON_GetArraySize(per), 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(per, 1), "file")
                            ->valuestring, "file1.h5");
    assert_rel(num(cJSON_GetArrayItem(per, 0), "nmse"), nmse[0], 1e-12, "volume 0");
    assert_rel(num(out, "nmse"), 0.5 * (nmse[0] + nmse[1]), 1e-12, "mean over volumes");
    assert_rel(num(out, "nmse_std"), fabs(nmse[0] - nmse[1]) / sqrt(2.0), 1e-9, "std");
    cJSON_Delete(out);

    cJSON *golden = load_golden();
    const cJSON *gper = cJSON_GetObjectItemCaseSensitive(golden, "atommic_per_slice");
    double mean = 0.0;
    for (int i = 0; i < 10; i++)
        mean += num(cJSON_GetArrayItem(gper, i), "psnr") / 10.0;
    char *a2[] = { "metrics", "-t", td, "-p", pd, "-d", "atommic", NULL };
    assert_int_equal(run_json(a2, ARGC(a2), &out), 0);
    /* ATOMMIC normalises per slice, so splitting the volume changes nothing but the data range
     * max(ptp): pooled PSNR within 1 % of the golden mean */
    assert_rel(num(out, "psnr"), mean, 1e-2, "atommic pooled psnr");
    cJSON_Delete(out);
    cJSON_Delete(golden);

    snprintf(path, sizeof(path), "%s/file1.h5", pd);
    assert_int_equal(remove(path), 0);
    assert_int_equal(run_json(a1, ARGC(a1), &out), 1);
    assert_non_null(strstr(mr_last_error(), "file1.h5"));
    char *mixed[] = { "metrics", "-t", td, "-p", gp, NULL };
    assert_int_equal(run_json(mixed, ARGC(mixed), &out), 1);
    mr_array_cleanup(&tgt);
    mr_array_cleanup(&pred);
}

static void test_metrics_cmd_errors(void **state)
{
    struct mr_array a;
    struct mr_array b;
    char tp[1024];
    char pp[1024];
    char sp[1024];
    cJSON *out = NULL;
    (void)state;
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)16,
                                        (int64_t)12), MR_OK);
    assert_int_equal(mr_array_init_dims(&b, MR_DTYPE_F32, 3, (int64_t)3, (int64_t)16,
                                        (int64_t)12), MR_OK);
    mr_test_rand(&a, 1);
    mr_test_rand(&b, 2);
    snprintf(tp, sizeof(tp), "%s", mr_test_tmp("e_target.h5"));
    snprintf(pp, sizeof(pp), "%s", mr_test_tmp("e_pred3.h5"));
    snprintf(sp, sizeof(sp), "%s", mr_test_tmp("e_small.h5"));
    write_h5(tp, "target", &a, NULL, NULL);
    write_h5(pp, "reconstruction", &b, NULL, NULL);
    write_h5(sp, "reconstruction", &a, NULL, NULL);

    char *no_args[] = { "metrics", NULL };
    assert_int_equal(run_json(no_args, ARGC(no_args), &out), 2);
    char *bad_def[] = { "metrics", "-t", tp, "-p", pp, "-d", "ssim", NULL };
    assert_int_equal(run_json(bad_def, ARGC(bad_def), &out), 2);
    char *missing[] = { "metrics", "-t", "/nonexistent/t.h5", "-p", pp, NULL };
    assert_int_equal(run_json(missing, ARGC(missing), &out), 1);
    assert_null(out);
    assert_non_null(strstr(mr_last_error(), "/nonexistent/t.h5"));
    /* the target file has 'target' (accepted); the prediction file has no 'reconstruction' */
    char *no_key[] = { "metrics", "-t", tp, "-p", tp, NULL };
    assert_int_equal(run_json(no_key, ARGC(no_key), &out), 1);
    assert_non_null(strstr(mr_last_error(), "reconstruction"));
    char *slices[] = { "metrics", "-t", tp, "-p", pp, NULL };
    assert_int_equal(run_json(slices, ARGC(slices), &out), 1);
    assert_non_null(strstr(mr_last_error(), "slices"));
    /* 12-wide target: crop (12, 12) fits both; the same file scores perfectly */
    char *same[] = { "metrics", "-t", tp, "-p", sp, NULL };
    assert_int_equal(run_json(same, ARGC(same), &out), 0);
    assert_true(num(out, "nmse") == 0.0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(out, "psnr"))); /* inf */
    cJSON_Delete(out);
    mr_array_cleanup(&a);
    mr_array_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_cmd_matches_goldens),
        cmocka_unit_test(test_metrics_cmd_key_preference_crop_and_complex),
        cmocka_unit_test(test_metrics_cmd_folders),
        cmocka_unit_test(test_metrics_cmd_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
