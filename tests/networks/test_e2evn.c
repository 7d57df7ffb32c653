/* E2EVN against the golden reference runs (tests/data/e2evn/case_*.h5, e2evn.md §10): the
 * final output within max|C − ref| ≤ 1e-4·max|ref|, and every intermediate the golden holds
 * (sensitivity estimation, per-cascade U-Net input/output, k-space) within the same bound, so
 * a mismatch names the first stage that goes wrong (the ACS columns: tests/recon/test_coils.c).
 * Also: the weight checks done at create, and input validation. */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"
#include "networks/e2evn.h"
#include "networks/net.h"
#include "networks/unet.h"
#include "weights/weights.h"

#define GOLDEN_TOL 1e-4

struct probe_ctx {
    struct mr_h5 *h;
    int checked;
    double worst;
    char worst_name[96];
    int failures;
};

/* compares a probed intermediate with /intermediate/<name> (entry index along axis 0) */
static void probe_check(void *ctx, const char *name, int64_t index, const struct mr_array *a)
{
    struct probe_ctx *p = ctx;
    char path[160];
    struct mr_array ref = { 0 };
    struct mr_array slab;
    const struct mr_array *cmp = &ref;

    snprintf(path, sizeof(path), "/intermediate/%s", name);
    if (!mr_h5_exists(p->h, path))
        return;
    assert_int_equal(mr_h5_read(p->h, path, &ref), MR_OK);
    if (index >= 0) {
        assert_true(index < ref.dims[0]);
        mr_array_slab(&slab, &ref, index);
        cmp = &slab;
    }
    assert_int_equal(cmp->dtype, a->dtype);
    assert_int_equal(mr_array_numel(cmp), mr_array_numel(a));
    double err = mr_test_max_rel_err(a, cmp);
    if (err > p->worst) {
        p->worst = err;
        snprintf(p->worst_name, sizeof(p->worst_name), "%s[%lld]", name, (long long)index);
    }
    if (err > GOLDEN_TOL) {
        print_error("intermediate %s[%lld]: max rel err %.3e > %.1e\n", name, (long long)index,
                    err, GOLDEN_TOL);
        p->failures++;
    }
    p->checked++;
    mr_array_cleanup(&ref);
}

static void run_case(const char *file, int min_checked)
{
    struct mr_h5 *h = NULL;
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array out = { 0 };
    struct mr_array img = { 0 };
    struct mr_net_inputs in = mr_net_inputs_default;
    const char *path = mr_test_data(file);
    struct probe_ctx pc = { 0 };
    struct mr_probe probe = { .fn = probe_check, .ctx = &pc };

    assert_int_equal(mr_weights_load(path, &ws), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "e2evn");
    assert_int_equal(mr_net_create_from_weights(ws, NULL, &net), MR_OK);
    assert_int_equal(mr_weights_check_unused(ws), MR_OK);

    path = mr_test_data(file);
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    pc.h = h;
    assert_int_equal(mr_h5_read(h, "/kspace", &ksp), MR_OK);
    assert_int_equal(mr_h5_read(h, "/mask", &mask), MR_OK);
    assert_int_equal(mr_h5_read(h, "/output", &ref), MR_OK);
    in.ksp = &ksp;
    in.mask = &mask;
    if (mr_h5_exists(h, "/sensitivity_map")) {
        assert_int_equal(mr_h5_read(h, "/sensitivity_map", &sens), MR_OK);
        in.sens = &sens;
    }
    if (mr_h5_exists(h, "/num_low_frequencies"))
        assert_int_equal(mr_h5_read_i64(h, "/num_low_frequencies", &in.num_low_frequencies),
                         MR_OK);

    assert_int_equal(mr_net_prepare(net, ksp.dims[0], ksp.dims[1], ksp.dims[2]), MR_OK);
    assert_int_equal(mr_net_output_init(net, &out), MR_OK);
    assert_true(mr_array_same_shape(&out, &ref));
    assert_int_equal(mr_net_run(net, &in, &out, &probe), MR_OK);
    double err = mr_test_max_rel_err(&out, &ref);
    print_message("%s: output max rel err %.3e; %d intermediates, worst %.3e (%s)\n", file, err,
                  pc.checked, pc.worst, pc.worst_name);
    assert_int_equal(pc.failures, 0);
    assert_true(pc.checked >= min_checked);
    assert_max_rel_below(&out, &ref, GOLDEN_TOL);

    /* a second run on the same buffers gives the same result (no state leaks across slices) */
    struct mr_array out2 = { 0 };
    assert_int_equal(mr_net_output_init(net, &out2), MR_OK);
    assert_int_equal(mr_net_run(net, &in, &out2, NULL), MR_OK);
    assert_memory_equal(out.data, out2.data, mr_array_nbytes(&out));
    mr_array_cleanup(&out2);

    /* the final magnitude image */
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, ksp.dims[1], ksp.dims[2]), MR_OK);
    mr_net_image(net, &img, &out);
    for (int64_t i = 0; i < mr_array_numel(&img); i++) {
        float v = out.dtype == MR_DTYPE_CF32 ? cabsf(mr_array_cf32(&out)[i])
                                              : mr_array_f32(&out)[i];
        assert_float_equal(mr_array_f32(&img)[i], v, 0.0f);
    }

    mr_array_cleanup(&img);
    mr_array_cleanup(&out);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&ksp);
    mr_h5_close(h);
    mr_net_free(net);
    mr_weights_free(ws);
}

/* fastMRI, C=4 37x45, auto-detected ACS with the odd-W quirk */
static void test_e2evn_golden_case1(void **state)
{
    (void)state;
    run_case("e2evn/case_1.h5", 20);
}

/* fastMRI, sensitivity U-Net with 5 pools (reflect pad), explicit odd num_low_frequencies */
static void test_e2evn_golden_case2(void **state)
{
    (void)state;
    run_case("e2evn/case_2.h5", 20);
}

/* ATOMMIC, padding 11 (odd U-Net levels), 2-D mask, SENSE */
static void test_e2evn_golden_case3(void **state)
{
    (void)state;
    run_case("e2evn/case_3.h5", 10);
}

/* ATOMMIC, no_dc, non-centred backward FFT */
static void test_e2evn_golden_case4(void **state)
{
    (void)state;
    run_case("e2evn/case_4.h5", 8);
}

/* ATOMMIC, padding 0, normalize false, RSS */
static void test_e2evn_golden_case5(void **state)
{
    (void)state;
    run_case("e2evn/case_5.h5", 8);
}

static void test_e2evn_padded_size(void **state)
{
    (void)state;
    /* e2evn.md §4 step 3: ATOMMIC's ((n−1)|11)+1 is not monotonic */
    static const int64_t n[] = { 17, 20, 21, 24, 25, 28, 29, 32, 33, 36, 37, 40, 41, 44,
                                 45, 48, 49, 52, 320, 368, 372, 640 };
    static const int64_t p[] = { 28, 28, 32, 32, 28, 28, 32, 32, 44, 44, 48, 48, 44, 44,
                                 48, 48, 60, 60, 320, 368, 380, 640 };
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
        assert_int_equal(mr_normunet_padded_size(n[i], 11), p[i]);
    assert_int_equal(mr_normunet_padded_size(37, 15), 48);
    assert_int_equal(mr_normunet_padded_size(48, 15), 48);
    assert_int_equal(mr_normunet_padded_size(35, 0), 35);
}

/* config / weight mismatches fail softly with the key named */
static void test_e2evn_create_errors(void **state)
{
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_config *cfg = NULL;
    (void)state;

    assert_int_equal(mr_weights_load(mr_test_data("e2evn/case_3.h5"), &ws), MR_OK);
    /* one more cascade than the file holds */
    assert_int_equal(mr_config_parse("{\"variant\": \"atommic\", \"num_cascades\": 4, "
                                     "\"channels\": 3, \"pooling_layers\": 4}", &cfg), MR_OK);
    assert_int_equal(mr_net_create("e2evn", ws, cfg, NULL, &net), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "cascades.3.dc_weight"));
    mr_config_free(cfg);
    /* wrong channel count: the first conv's shape is reported */
    mr_weights_reset_used(ws);
    assert_int_equal(mr_config_parse("{\"variant\": \"atommic\", \"num_cascades\": 3, "
                                     "\"channels\": 4, \"pooling_layers\": 4}", &cfg), MR_OK);
    assert_int_equal(mr_net_create("e2evn", ws, cfg, NULL, &net), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "(3, 2, 3, 3)"));
    assert_non_null(strstr(mr_last_error(), "(4, 2, 3, 3)"));
    mr_config_free(cfg);
    /* fewer cascades: the rest is reported unused */
    mr_weights_reset_used(ws);
    assert_int_equal(mr_config_parse("{\"variant\": \"atommic\", \"num_cascades\": 2, "
                                     "\"channels\": 3, \"pooling_layers\": 4}", &cfg), MR_OK);
    assert_int_equal(mr_net_create("e2evn", ws, cfg, NULL, &net), MR_OK);
    assert_int_equal(mr_weights_check_unused(ws), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "cascades.2."));
    /* 4 pools on 12 padded rows leave a 0-row bottleneck */
    assert_int_equal(mr_net_prepare(net, 4, 1, 40), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "bottleneck"));
    mr_net_free(net);
    mr_config_free(cfg);
    /* unsupported options */
    assert_int_equal(mr_config_parse("{\"variant\": \"atommic\", "
                                     "\"estimate_coil_sensitivity_maps_with_nn\": true}", &cfg),
                     MR_OK);
    assert_int_equal(mr_net_create("e2evn", ws, cfg, NULL, &net), MR_ERR_UNSUPPORTED);
    mr_config_free(cfg);
    assert_int_equal(mr_config_parse("{\"variant\": \"varnet\"}", &cfg), MR_OK);
    assert_int_equal(mr_net_create("e2evn", ws, cfg, NULL, &net), MR_ERR_WEIGHTS);
    mr_config_free(cfg);
    assert_int_equal(mr_net_create("nonet", ws, NULL, NULL, &net), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "e2evn"));
    mr_weights_free(ws);
}

/* run validates its inputs against the prepared size */
static void test_e2evn_input_checks(void **state)
{
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array out = { 0 };
    struct mr_net_inputs in = mr_net_inputs_default;
    (void)state;

    assert_int_equal(mr_weights_load(mr_test_data("e2evn/case_4.h5"), &ws), MR_OK);
    assert_int_equal(mr_net_create_from_weights(ws, NULL, &net), MR_OK);
    assert_int_equal(mr_net_prepare(net, 0, 33, 20), MR_ERR_ARG);
    assert_int_equal(mr_net_prepare(net, 3, 33, 20), MR_OK);
    assert_int_equal(mr_net_output_init(net, &out), MR_OK);
    assert_int_equal(out.dtype, MR_DTYPE_CF32);
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)3, (int64_t)33,
                                        (int64_t)21), MR_OK);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)33, (int64_t)20),
                     MR_OK);
    in.ksp = &ksp;
    in.mask = &mask;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "k-space"));
    mr_array_cleanup(&ksp);
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)3, (int64_t)33,
                                        (int64_t)20), MR_OK);
    /* ATOMMIC needs maps */
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "sensitivity"));
    /* padding 11 lifts a 1-row image to 12 rows, enough for 3 pools */
    assert_int_equal(mr_net_prepare(net, 3, 1, 20), MR_OK);

    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&out);
    mr_net_free(net);
    mr_weights_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2evn_padded_size),
        cmocka_unit_test(test_e2evn_golden_case1),
        cmocka_unit_test(test_e2evn_golden_case2),
        cmocka_unit_test(test_e2evn_golden_case3),
        cmocka_unit_test(test_e2evn_golden_case4),
        cmocka_unit_test(test_e2evn_golden_case5),
        cmocka_unit_test(test_e2evn_create_errors),
        cmocka_unit_test(test_e2evn_input_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
