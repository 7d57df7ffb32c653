/*
 * pipeline/trust.h: the per-reconstruction report through the pipeline (every method reports
 * the residual of its result; zero-filling is exactly consistent), the mask and line-outlier
 * input features, the reference fit / score / flag rules, the reference's JSON and its storage
 * in a weight file (atomic, everything else kept), and the report document.
 */
#include "mr_test.h"

#include <cjson/cJSON.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fastmri.h"
#include "io/h5.h"
#include "pipeline/pipeline.h"
#include "slice_data.h"
#include "pipeline/trust.h"
#include "weights/weights.h"

/* the shipped CIRIM (the source tree's, as the tests' environment names it) */
static const char *cirim_weights(void)
{
    static char path[4096];
    const char *src = getenv("MR_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/weights/shipped/cirim-brain-demo.h5",
             src != NULL ? src : ".");
    return path;
}

static struct slice_data sd;
static struct mr_trust_report rep;

static int setup(void **state)
{
    (void)state;
    return slice_data_load(&sd, "maskeval/ixi_axial2.h5", 3, 8);
}

static int teardown(void **state)
{
    (void)state;
    slice_data_cleanup(&sd);
    return 0;
}

static void run_method(const char *name, const char *weights, struct mr_trust_report *r)
{
    struct mr_method_config cfg;
    struct mr_pipeline *p = NULL;
    struct mr_array mag = { 0 };
    const struct mr_slice s = { .ksp = &sd.ksp, .mask = &sd.mask, .maps = NULL };

    mr_method_config_init(&cfg);
    assert_int_equal(mr_method_config_set(&cfg, "method", name), MR_OK);
    if (weights != NULL)
        assert_int_equal(mr_method_config_set(&cfg, "weights", weights), MR_OK);
    assert_int_equal(mr_pipeline_create(&cfg, sd.nc, sd.h, sd.w, &p), MR_OK);
    assert_int_equal(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, sd.h, sd.w), MR_OK);
    assert_int_equal(mr_pipeline_run_report(p, &s, &mag, r), MR_OK);
    mr_array_cleanup(&mag);
    mr_pipeline_free(p);
}

static void test_reports_of_methods(void **state)
{
    (void)state;
    run_method("zf", NULL, &rep); /* the measured data itself */
    assert_true(rep.residual == 0.0 && rep.unsampled == 0.0);
    assert_int_equal(rep.mask_kind, MR_TRUST_MASK_COLUMNS);
    assert_true(rep.accel > 2.0 && rep.accel < 3.0);
    assert_true(isnan(rep.score) && !rep.flagged); /* no reference without a weight file */

    run_method("cg", NULL, &rep); /* Tikhonov: close to the data, not on it */
    print_message("cg: residual %.4g unsampled %.4g outlier %.3g\n", rep.residual,
                  rep.unsampled, rep.outlier);
    assert_true(rep.residual > 1e-4 && rep.residual < 0.2);
    assert_true(rep.unsampled > 0.01 && rep.unsampled < 1.0);
    assert_true(rep.outlier > 0.0 && rep.outlier < 10.0);

    run_method("model", cirim_weights(), &rep); /* per time step, the result last */
    print_message("cirim: %d estimates, residual %.4g (initial %.4g), reduction %.3g\n",
                  rep.nsteps, rep.residual, rep.step_residual[0], rep.reduction);
    assert_true(rep.nsteps > 8);
    assert_true(rep.residual == rep.step_residual[rep.nsteps - 1]);
    assert_true(rep.unsampled == rep.step_unsampled[rep.nsteps - 1]);
    assert_true(rep.reduction > 1.0);
    assert_true(fabs(rep.reduction - rep.step_residual[0] / rep.residual) < 1e-12);
}

static void test_mask_features(void **state)
{
    enum { H = 6, W = 8 };
    float m[H * W];
    unsigned kind = 0;
    double accel = 0.0;
    (void)state;

    for (int i = 0; i < H * W; i++)
        m[i] = (i % W) % 2 == 0 ? 1.0f : 0.0f;
    mr_trust_mask_features(m, H, W, &kind, &accel);
    assert_int_equal(kind, MR_TRUST_MASK_COLUMNS);
    assert_true(accel == 2.0);
    for (int i = 0; i < H * W; i++)
        m[i] = (i / W) % 3 == 0 ? 1.0f : 0.0f;
    mr_trust_mask_features(m, H, W, &kind, &accel);
    assert_int_equal(kind, MR_TRUST_MASK_ROWS);
    assert_true(accel == 3.0);
    m[W + 1] = 1.0f; /* one more point: neither */
    mr_trust_mask_features(m, H, W, &kind, &accel);
    assert_int_equal(kind, MR_TRUST_MASK_2D);
    for (int i = 0; i < H * W; i++)
        m[i] = 1.0f;
    mr_trust_mask_features(m, H, W, &kind, &accel);
    assert_int_equal(kind, MR_TRUST_MASK_FULL);
    for (int i = 0; i < H * W; i++)
        m[i] = 0.0f;
    mr_trust_mask_features(m, H, W, &kind, &accel);
    assert_true(kind == 0 && accel == 0.0);
    assert_string_equal(mr_trust_mask_kind_name(MR_TRUST_MASK_ROWS), "rows");
}

static void test_line_outlier(void **state)
{
    struct mr_array k = { 0 };
    (void)state;
    const float *m = mr_array_f32(&sd.mask);
    double clean = mr_trust_line_outlier((const float *)mr_array_cf32(&sd.ksp), m, sd.nc, sd.h,
                                         sd.w, MR_TRUST_MASK_COLUMNS);
    assert_true(clean > 0.0 && clean < 10.0);
    /* a sampled column away from the centre, 10x in amplitude */
    assert_int_equal(mr_array_init_like(&k, &sd.ksp), MR_OK);
    mr_array_copy(&k, &sd.ksp);
    float complex *d = mr_array_cf32(&k);
    for (int64_t c = 0; c < sd.nc; c++)
        for (int64_t y = 0; y < sd.h; y++)
            d[(c * sd.h + y) * sd.w + 9] *= 10.0f;
    double bad = mr_trust_line_outlier((const float *)d, m, sd.nc, sd.h, sd.w,
                                       MR_TRUST_MASK_COLUMNS);
    print_message("line outlier: clean %.3g, one line x10 %.3g\n", clean, bad);
    assert_true(bad > 5.0 * clean); /* the centre line dominates the clean value */
    assert_true(isnan(mr_trust_line_outlier((const float *)d, m, sd.nc, sd.h, sd.w,
                                            MR_TRUST_MASK_2D)));
    mr_array_cleanup(&k);
}

/* 12 in-distribution slices around residual 0.03, unsampled 0.3, reduction 3, outlier 2 */
static void make_features(struct mr_trust_features *f, int n)
{
    for (int i = 0; i < n; i++) {
        const double e = 0.05 * sin(1.7 * i); /* a deterministic spread */
        f[i] = (struct mr_trust_features){ .residual = 0.03 * (1 + e), .unsampled = 0.3 * (1 - e),
                                           .reduction = 3.0 * (1 + 0.5 * e),
                                           .outlier = 2.0 * (1 - e), .accel = 4.0 + (i % 2),
                                           .mask_kind = MR_TRUST_MASK_COLUMNS };
    }
}

static void test_fit_score_flag(void **state)
{
    struct mr_trust_features f[12];
    struct mr_trust_reference ref;
    struct mr_trust_report r;
    (void)state;

    make_features(f, 12);
    assert_int_equal(mr_trust_reference_fit(f, 1, "one", &ref), MR_ERR_DATA);
    assert_int_equal(mr_trust_reference_fit(f, 12, "test", &ref), MR_OK);
    assert_int_equal(ref.slices, 12);
    assert_true(fabs(ref.residual.mean - log10(0.03)) < 0.02);
    assert_true(ref.threshold >= MR_TRUST_THRESHOLD_MIN);
    assert_true(ref.accel_min == 4.0 && ref.accel_max == 5.0);
    assert_int_equal(ref.mask_kinds, MR_TRUST_MASK_COLUMNS);

    /* in distribution: a score, no flag */
    mr_trust_report_reset(&r);
    r.residual = 0.031;
    r.unsampled = 0.29;
    r.outlier = 2.1;
    r.accel = 4.0;
    r.mask_kind = MR_TRUST_MASK_COLUMNS;
    r.nsteps = 2;
    r.step_residual[0] = 0.093;
    r.step_residual[1] = 0.031;
    mr_trust_score(&r, &ref);
    assert_true(isfinite(r.score) && r.score < ref.threshold && !r.flagged);
    assert_string_equal(r.reason, "");

    struct mr_trust_report bad = r; /* residual 10x */
    bad.residual = bad.step_residual[1] = 0.31;
    bad.step_residual[0] = 0.93;
    mr_trust_score(&bad, &ref);
    assert_true(bad.flagged && bad.score > ref.threshold);
    assert_non_null(strstr(bad.reason, "residual"));

    bad = r; /* hardly moved by the network */
    bad.step_residual[0] = 0.032;
    mr_trust_score(&bad, &ref);
    assert_true(bad.flagged);
    assert_non_null(strstr(bad.reason, "reduction"));

    bad = r; /* a spike */
    bad.outlier = 200.0;
    mr_trust_score(&bad, &ref);
    assert_true(bad.flagged);
    assert_non_null(strstr(bad.reason, "line"));

    bad = r; /* the mask turned */
    bad.mask_kind = MR_TRUST_MASK_ROWS;
    mr_trust_score(&bad, &ref);
    assert_true(bad.flagged && bad.score < ref.threshold);
    assert_non_null(strstr(bad.reason, "rows"));

    bad = r; /* far more undersampled than calibrated */
    bad.accel = 12.0;
    mr_trust_score(&bad, &ref);
    assert_true(bad.flagged);
    assert_non_null(strstr(bad.reason, "acceleration"));
}

static void test_reference_json(void **state)
{
    struct mr_trust_features f[12];
    struct mr_trust_reference ref;
    struct mr_trust_reference back;
    (void)state;

    make_features(f, 12);
    for (int i = 0; i < 12; i++)
        f[i].reduction = NAN; /* a method with one estimate: the feature is left out */
    assert_int_equal(mr_trust_reference_fit(f, 12, "data \"quoted\"", &ref), MR_OK);
    char *text = mr_trust_reference_json(&ref);
    assert_non_null(text);
    assert_int_equal(mr_trust_reference_parse(text, "t", &back), MR_OK);
    free(text);
    assert_true(fabs(back.residual.mean - ref.residual.mean) < 1e-12);
    assert_true(fabs(back.unsampled.std - ref.unsampled.std) < 1e-12);
    assert_true(isnan(back.reduction.std));
    assert_true(fabs(back.threshold - ref.threshold) < 1e-12);
    assert_int_equal(back.mask_kinds, ref.mask_kinds);
    assert_string_equal(back.data, "data \"quoted\"");

    assert_int_equal(mr_trust_reference_parse("[1]", "t", &back), MR_ERR_FORMAT);
    assert_int_equal(mr_trust_reference_parse("{\"slices\": 3}", "t", &back), MR_ERR_FORMAT);
    assert_int_equal(mr_trust_reference_parse("{\"slices\": 3, \"residual\": {\"log10_mean\": "
                                              "-1, \"log10_std\": -0.1}, \"unsampled\": "
                                              "{\"log10_mean\": 0, \"log10_std\": 0.1}, "
                                              "\"threshold\": 4}", "t", &back),
                     MR_ERR_FORMAT);
}

/* copies src to dst byte for byte */
static void copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb");
    FILE *out = fopen(dst, "wb");
    char buf[65536];
    size_t n;
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void test_store_in_weight_file(void **state)
{
    const char *w = mr_test_tmp("trust_cirim.h5");
    struct mr_trust_features f[12];
    struct mr_trust_reference ref;
    struct mr_trust_reference back;
    struct mr_weights *ws = NULL;
    struct mr_h5 *h = NULL;
    bool present = true;
    (void)state;

    copy_file(cirim_weights(), w);
    assert_int_equal(mr_trust_reference_read(w, &back, &present), MR_OK); /* shipped: has one */
    make_features(f, 12);
    assert_int_equal(mr_trust_reference_fit(f, 12, "test", &ref), MR_OK);
    assert_int_equal(mr_trust_reference_store(w, &ref), MR_OK);
    assert_int_equal(mr_trust_reference_read(w, &back, &present), MR_OK);
    assert_true(present); /* ours replaced it */
    assert_true(fabs(back.outlier.mean - ref.outlier.mean) < 1e-12);
    assert_string_equal(back.data, "test");
    /* everything else kept: the network loads, its other attributes are there */
    assert_int_equal(mr_weights_load(w, &ws), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "cirim");
    mr_weights_free(ws);
    assert_int_equal(mr_h5_open(w, &h), MR_OK);
    assert_true(mr_h5_has_attr(h, "/", "licence") && mr_h5_has_attr(h, "/", "training"));
    mr_h5_close(h);

    /* a pipeline with this file scores every slice */
    run_method("model", w, &rep);
    assert_true(isfinite(rep.score));

    /* a malformed reference stops the pipeline with a clear error */
    assert_int_equal(mr_h5_update(w, &h), MR_OK);
    assert_int_equal(mr_h5_write_attr_string(h, "/", MR_TRUST_ATTRIBUTE, "{\"slices\": 1}"),
                     MR_OK);
    assert_int_equal(mr_h5_commit(h), MR_OK);
    struct mr_method_config cfg;
    struct mr_pipeline *p = NULL;
    mr_method_config_init(&cfg);
    assert_int_equal(mr_method_config_set(&cfg, "weights", w), MR_OK);
    assert_int_equal(mr_pipeline_create(&cfg, sd.nc, sd.h, sd.w, &p), MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "trust_reference"));
    /* a file that is not HDF5 is not replaced */
    assert_int_not_equal(mr_trust_reference_store(mr_test_data("maskeval"), &ref), MR_OK);
    remove(w);
}

static void test_report_document(void **state)
{
    const char *path = mr_test_tmp("trust_doc.json");
    struct mr_trust_doc *d = NULL;
    struct mr_trust_report r;
    const char *key = NULL;
    const char *reason = NULL;
    int64_t index = -1;
    (void)state;

    assert_int_equal(mr_trust_doc_create("in.h5", "cirim", NULL, &d), MR_OK);
    mr_trust_report_reset(&r);
    r.residual = 0.05;
    r.nsteps = 1;
    r.step_residual[0] = 0.05;
    assert_int_equal(mr_trust_doc_add(d, "slice", 0, &r), MR_OK);
    r.flagged = true;
    r.score = 9.0;
    snprintf(r.reason, sizeof(r.reason), "because");
    assert_int_equal(mr_trust_doc_add(d, "slice", 1, &r), MR_OK);
    assert_int_equal(mr_trust_doc_flagged(d), 1);
    assert_true(mr_trust_doc_first_flag(d, &key, &index, &reason));
    assert_string_equal(key, "slice");
    assert_int_equal(index, 1);
    assert_int_equal(mr_trust_doc_write(d, path), MR_OK);
    mr_trust_doc_free(d);

    FILE *f = fopen(path, "rb");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *root = cJSON_Parse(buf);
    assert_non_null(root);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "slices")), 2);
    assert_int_equal(cJSON_GetObjectItem(root, "flagged")->valueint, 1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "reference")));
    cJSON *s1 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "slices"), 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s1, "flagged")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(s1, "unsampled"))); /* NaN */
    cJSON_Delete(root);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_of_methods),  cmocka_unit_test(test_mask_features),
        cmocka_unit_test(test_line_outlier),        cmocka_unit_test(test_fit_score_flag),
        cmocka_unit_test(test_reference_json),      cmocka_unit_test(test_store_in_weight_file),
        cmocka_unit_test(test_report_document),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
