/*
 * The method table is the one place a method is added: a dummy method registered as one row
 * runs through `recon` (fastMRI and ISMRMRD files), `maskeval` and the stage (an MRD stream)
 * without any other change. The dummy is 2 × the zero-filled RSS, so each front end's output
 * must be exactly twice its zero-filled output.
 */
#include "mr_test.h"

#include <complex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fastmri.h"
#include "io/h5.h"
#include "io/ismrmrd.h"
#include "pipeline/method.h"
#include "recon/classic.h"

int mr_main_recon(int argc, char *argv[]);
int mr_main_maskeval(int argc, char *argv[]);
int mr_main_stage(int argc, char *argv[]);
int mr_main_to_stream(int argc, char *argv[]);
int mr_main_from_stream(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the dummy row --------------------------------------------------------------------- */

struct dummy {
    struct mr_classic *zf;
    struct mr_array img;
};

static int dummy_runs; /* slices the dummy reconstructed */

static void dummy_free(void *ctx)
{
    struct dummy *d = ctx;
    if (d == NULL)
        return;
    mr_classic_free(d->zf);
    mr_array_cleanup(&d->img);
    free(d);
}

static mr_status dummy_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                              int64_t w, void **out)
{
    struct mr_classic_config ccfg = cfg->classic;
    struct dummy *d = calloc(1, sizeof(*d));
    mr_status st = MR_OK;
    if (d == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "dummy");
    ccfg.method = MR_CLASSIC_ZF;
    MR_CHECK(mr_classic_create(nc, h, w, &ccfg, &d->zf));
    MR_CHECK(mr_array_init_dims(&d->img, MR_DTYPE_CF32, 2, h, w));
    *out = d;
    d = NULL;
out:
    dummy_free(d);
    return st;
}

static mr_status dummy_run(void *ctx, const struct mr_slice *s, struct mr_array *mag,
                           const struct mr_probe *probe)
{
    struct dummy *d = ctx;
    (void)probe;
    mr_status st = mr_classic_run(d->zf, s->ksp, s->mask, NULL, &d->img);
    if (st != MR_OK)
        return st;
    const float complex *x = mr_array_cf32(&d->img);
    float *g = mr_array_f32(mag);
    for (int64_t i = 0; i < mr_array_numel(mag); i++)
        g[i] = 2.0f * cabsf(x[i]);
#pragma omp atomic
    dummy_runs++;
    return MR_OK;
}

static const struct mr_method_ops dummy_ops = {
    .name = "dummy", .summary = "2 x zero-filled (a test row)", .create = dummy_create,
    .run = dummy_run, .free = dummy_free,
};

static int setup(void **state)
{
    (void)state;
    /* the same FFT plans in every run, so that the outputs compare bit for bit (measured
     * plans depend on timing) */
    setenv("MR_FFT_PLANNER", "estimate", 1);
    return mr_method_register(&dummy_ops) == MR_OK ? 0 : -1;
}

/* ---- helpers --------------------------------------------------------------------------- */

static const char *source(const char *rel)
{
    static char buf[4096];
    const char *src = getenv("MR_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/%s", src != NULL ? src : ".", rel);
    return buf;
}

static char *tmp(const char *rel)
{
    return strdup(mr_test_tmp(rel));
}

/* dataset `name` of an HDF5 file as an F32 array */
static void read_f32(const char *path, const char *name, struct mr_array *a)
{
    struct mr_h5 *h = NULL;
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, name, a), MR_OK);
    mr_h5_close(h);
}

static void assert_twice(const struct mr_array *dummy, const struct mr_array *zf)
{
    assert_true(mr_array_same_shape(dummy, zf));
    const float *a = mr_array_f32(dummy);
    const float *b = mr_array_f32(zf);
    for (int64_t i = 0; i < mr_array_numel(zf); i++)
        assert_true(a[i] == 2.0f * b[i]);
}

/* ---- the three front ends -------------------------------------------------------------- */

static void test_dummy_in_the_table(void **state)
{
    (void)state;
    assert_non_null(mr_method_lookup("dummy"));
    char names[256];
    assert_non_null(strstr(mr_method_names(names, sizeof(names)), "dummy"));
    assert_int_equal(mr_method_register(&dummy_ops), MR_ERR_ARG); /* once only */
    struct mr_method_config cfg;
    mr_method_config_init(&cfg);
    assert_int_equal(mr_method_config_parse(&cfg, "dummy"), MR_OK);
    assert_string_equal(cfg.name, "dummy");
}

static void test_dummy_through_recon(void **state)
{
    (void)state;
    char *zf = tmp("recon_zf.h5");
    char *dm = tmp("recon_dummy.h5");
    const char *in = source("data/sample/brain8_poisson.h5");
    char *a[] = { "recon", "-q", "-m", "zf", (char *)in, zf };
    assert_int_equal(mr_main_recon(ARGC(a), a), 0);
    int before = dummy_runs;
    char *b[] = { "recon", "-q", "-m", "dummy", (char *)in, dm };
    assert_int_equal(mr_main_recon(ARGC(b), b), 0);
    assert_int_equal(dummy_runs - before, 1); /* one slice */
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    read_f32(dm, "reconstruction", &x);
    read_f32(zf, "reconstruction", &y);
    assert_twice(&x, &y);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);

    /* an ISMRMRD raw file goes through the stage inside recon */
    const char *raw = source("tests/data/pipeline/sl96_a2.h5");
    char *izf = tmp("recon_i_zf.h5");
    char *idm = tmp("recon_i_dummy.h5");
    char *c[] = { "recon", "-q", "-m", "zf", (char *)raw, izf };
    char *d[] = { "recon", "-q", "-m", "dummy", (char *)raw, idm };
    assert_int_equal(mr_main_recon(ARGC(c), c), 0);
    assert_int_equal(mr_main_recon(ARGC(d), d), 0);
    read_f32(idm, "dataset/image_0/data", &x);
    read_f32(izf, "dataset/image_0/data", &y);
    assert_twice(&x, &y);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    free(zf);
    free(dm);
    free(izf);
    free(idm);
}

static void test_dummy_through_the_stage(void **state)
{
    (void)state;
    const char *raw = source("tests/data/pipeline/sl96_a2.h5");
    char *stream = tmp("stage.mrd");
    char *rzf = tmp("stage_zf.mrd");
    char *rdm = tmp("stage_dummy.mrd");
    char *zf = tmp("stage_zf.h5");
    char *dm = tmp("stage_dummy.h5");
    char *a[] = { "to-stream", "-o", stream, (char *)raw };
    assert_int_equal(mr_main_to_stream(ARGC(a), a), 0);
    char *b[] = { "stage", "-q", "-m", "zf", "--input", stream, "--output", rzf };
    char *c[] = { "stage", "-q", "--config", "method=dummy", "--input", stream, "--output", rdm };
    assert_int_equal(mr_main_stage(ARGC(b), b), 0);
    int before = dummy_runs;
    assert_int_equal(mr_main_stage(ARGC(c), c), 0);
    assert_true(dummy_runs > before);
    char *d[] = { "from-stream", "-q", "-i", rzf, zf };
    char *e[] = { "from-stream", "-q", "-i", rdm, dm };
    assert_int_equal(mr_main_from_stream(ARGC(d), d), 0);
    assert_int_equal(mr_main_from_stream(ARGC(e), e), 0);
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    read_f32(dm, "dataset/image_0/data", &x);
    read_f32(zf, "dataset/image_0/data", &y);
    assert_twice(&x, &y);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    free(stream);
    free(rzf);
    free(rdm);
    free(zf);
    free(dm);
}

static void test_dummy_through_maskeval(void **state)
{
    (void)state;
    char *out = tmp("maskeval");
    const char *in = source("tests/data/maskeval/ixi_axial2.h5");
    char *a[] = { "maskeval", "-q", "--data", (char *)in, "-m", "equispaced:accel=4,center=0.12",
                  "-M", "zf", "-M", "dummy", "-o", out };
    assert_int_equal(mr_main_maskeval(ARGC(a), a), 0);
    char csv[4200];
    snprintf(csv, sizeof(csv), "%s/results.csv", out);
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[2048];
    int dummy_ok = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, ",dummy,") != NULL && strstr(line, ",ok,") != NULL)
            dummy_ok++;
    fclose(f);
    assert_int_equal(dummy_ok, 2); /* both slices */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dummy_in_the_table),
        cmocka_unit_test(test_dummy_through_recon),
        cmocka_unit_test(test_dummy_through_the_stage),
        cmocka_unit_test(test_dummy_through_maskeval),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
