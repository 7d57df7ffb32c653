/* The weight store (shape checks, used/unused tracking), the config accessors, and the
 * weight file: round trip, a golden file read as a weight file, and every load error. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/h5.h"
#include "weights/weights.h"

static void add_tensor(struct mr_weights *ws, const char *name, int ndim, const int64_t *dims,
                       uint64_t seed)
{
    struct mr_array a = { 0 };
    assert_int_equal(mr_array_init(&a, MR_DTYPE_F32, ndim, dims), MR_OK);
    mr_test_rand(&a, seed);
    assert_int_equal(mr_weights_add_take(ws, name, &a), MR_OK);
    assert_null(a.data);
}

static void test_weights_store_get_and_unused(void **state)
{
    struct mr_weights *ws = NULL;
    const struct mr_array *t = NULL;
    (void)state;

    assert_int_equal(mr_weights_create(&ws), MR_OK);
    add_tensor(ws, "a.weight", 4, (const int64_t[]){ 3, 2, 3, 3 }, 1);
    add_tensor(ws, "a.bias", 1, (const int64_t[]){ 3 }, 2);
    add_tensor(ws, "b.weight", 2, (const int64_t[]){ 4, 5 }, 3);
    assert_int_equal(mr_weights_count(ws), 3);
    assert_int_equal(mr_weights_numel(ws), 54 + 3 + 20);
    assert_true(mr_weights_has(ws, "a.bias"));
    assert_false(mr_weights_has(ws, "a"));

    assert_int_equal(mr_weights_get(ws, "a.weight", 4, (const int64_t[]){ 3, 2, 3, 3 }, &t),
                     MR_OK);
    assert_int_equal(t->dims[1], 2);
    /* wrong shape: both shapes and the key are named */
    assert_int_equal(mr_weights_get(ws, "b.weight", 2, (const int64_t[]){ 5, 4 }, &t),
                     MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "'b.weight'"));
    assert_non_null(strstr(mr_last_error(), "(4, 5)"));
    assert_non_null(strstr(mr_last_error(), "(5, 4)"));
    assert_int_equal(mr_weights_get(ws, "b.weight", 1, (const int64_t[]){ 20 }, &t),
                     MR_ERR_WEIGHTS);
    assert_int_equal(mr_weights_get(ws, "c.weight", 1, (const int64_t[]){ 1 }, &t),
                     MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "missing key 'c.weight'"));

    /* a.bias and b.weight were never borrowed successfully */
    assert_true(mr_weights_used(ws, 0));
    assert_false(mr_weights_used(ws, 1));
    assert_int_equal(mr_weights_check_unused(ws), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "2 of 3"));
    assert_non_null(strstr(mr_last_error(), "'a.bias'"));
    assert_int_equal(mr_weights_get(ws, "a.bias", 1, (const int64_t[]){ 3 }, &t), MR_OK);
    assert_int_equal(mr_weights_get(ws, "b.weight", 2, (const int64_t[]){ 4, 5 }, &t), MR_OK);
    assert_int_equal(mr_weights_check_unused(ws), MR_OK);
    mr_weights_reset_used(ws);
    assert_false(mr_weights_used(ws, 0));

    /* duplicates and complex tensors are refused, and the array is still released */
    struct mr_array a = { 0 };
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 1, (int64_t)2), MR_OK);
    assert_int_equal(mr_weights_add_take(ws, "a.bias", &a), MR_ERR_ARG);
    assert_null(a.data);
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_CF32, 1, (int64_t)2), MR_OK);
    assert_int_equal(mr_weights_add_take(ws, "z", &a), MR_ERR_ARG);
    assert_null(a.data);
    mr_weights_free(ws);
    mr_weights_free(NULL);
}

static void test_weights_architecture_names(void **state)
{
    struct mr_weights *ws = NULL;
    (void)state;

    assert_int_equal(mr_weights_create(&ws), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "");
    assert_int_equal(mr_weights_set_architecture(ws, "E2EVN (fastMRI VarNet: ...)"), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "e2evn");
    assert_string_equal(mr_weights_architecture_raw(ws), "E2EVN (fastMRI VarNet: ...)");
    assert_int_equal(mr_weights_set_architecture(ws, "recurrentvarnet"), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "recurrentvarnet");
    assert_int_equal(mr_weights_set_config(ws, "[1, 2]"), MR_ERR_WEIGHTS);
    assert_int_equal(mr_weights_set_config(ws, "{\"a\": "), MR_ERR_WEIGHTS);
    assert_string_equal(mr_weights_config_json(ws), "{}");
    mr_weights_free(ws);
}

static void test_weights_config_accessors(void **state)
{
    struct mr_config *cfg = NULL;
    int64_t i = 0;
    bool b = false;
    double d = 0.0;
    const char *s = NULL;
    int64_t arr[4];
    int n = 0;
    (void)state;

    assert_int_equal(mr_config_parse("{\"n\": 12, \"f\": 0.5, \"t\": true, \"z\": 0, "
                                     "\"s\": \"SENSE\", \"a\": [64, 64, 2], \"nul\": null, "
                                     "\"big\": [1, 2, 3, 4, 5], \"bad\": [1, \"x\"], "
                                     "\"bools\": [true, 0, 1, false], \"nb\": [true, 2]}", &cfg),
                     MR_OK);
    assert_int_equal(mr_config_int(cfg, "n", 3, &i), MR_OK);
    assert_int_equal(i, 12);
    assert_int_equal(mr_config_int(cfg, "missing", 3, &i), MR_OK);
    assert_int_equal(i, 3);
    assert_int_equal(mr_config_int(cfg, "nul", 7, &i), MR_OK);
    assert_int_equal(i, 7);
    assert_false(mr_config_has(cfg, "nul"));
    assert_true(mr_config_has(cfg, "n"));
    assert_int_equal(mr_config_int(cfg, "f", 3, &i), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "'f'"));
    assert_int_equal(mr_config_int(cfg, "s", 3, &i), MR_ERR_WEIGHTS);

    assert_int_equal(mr_config_bool(cfg, "t", false, &b), MR_OK);
    assert_true(b);
    assert_int_equal(mr_config_bool(cfg, "z", true, &b), MR_OK);
    assert_false(b);
    assert_int_equal(mr_config_bool(cfg, "missing", true, &b), MR_OK);
    assert_true(b);
    assert_int_equal(mr_config_bool(cfg, "n", true, &b), MR_ERR_WEIGHTS);

    assert_int_equal(mr_config_double(cfg, "f", 1.0, &d), MR_OK);
    assert_true(d == 0.5);
    assert_int_equal(mr_config_double(cfg, "n", 1.0, &d), MR_OK);
    assert_true(d == 12.0);
    assert_int_equal(mr_config_double(cfg, "s", 1.0, &d), MR_ERR_WEIGHTS);

    assert_int_equal(mr_config_string(cfg, "s", "RSS", &s), MR_OK);
    assert_string_equal(s, "SENSE");
    assert_int_equal(mr_config_string(cfg, "missing", "RSS", &s), MR_OK);
    assert_string_equal(s, "RSS");
    assert_int_equal(mr_config_string(cfg, "n", "RSS", &s), MR_ERR_WEIGHTS);

    assert_int_equal(mr_config_int_array(cfg, "a", NULL, 0, arr, 4, &n), MR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(arr[2], 2);
    assert_int_equal(mr_config_int_array(cfg, "missing", (const int64_t[]){ 5, 6 }, 2, arr, 4,
                                         &n), MR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(arr[1], 6);
    assert_int_equal(mr_config_int_array(cfg, "big", NULL, 0, arr, 4, &n), MR_ERR_WEIGHTS);
    assert_int_equal(mr_config_int_array(cfg, "bad", NULL, 0, arr, 4, &n), MR_ERR_WEIGHTS);
    assert_int_equal(mr_config_int_array(cfg, "n", NULL, 0, arr, 4, &n), MR_ERR_WEIGHTS);

    bool barr[4] = { false, false, false, false };
    assert_int_equal(mr_config_bool_array(cfg, "bools", NULL, 0, barr, 4, &n), MR_OK);
    assert_int_equal(n, 4);
    assert_true(barr[0] && !barr[1] && barr[2] && !barr[3]);
    assert_int_equal(mr_config_bool_array(cfg, "missing", (const bool[]){ true }, 1, barr, 4, &n),
                     MR_OK);
    assert_true(n == 1 && barr[0]);
    assert_int_equal(mr_config_bool_array(cfg, "nb", NULL, 0, barr, 4, &n), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "'nb' entry 1"));
    assert_int_equal(mr_config_bool_array(cfg, "bools", NULL, 0, barr, 3, &n), MR_ERR_WEIGHTS);
    assert_int_equal(mr_config_bool_array(cfg, "s", NULL, 0, barr, 4, &n), MR_ERR_WEIGHTS);
    mr_config_free(cfg);
    mr_config_free(NULL);

    assert_int_equal(mr_config_parse("not json", &cfg), MR_ERR_WEIGHTS);
    assert_int_equal(mr_config_parse("3", &cfg), MR_ERR_WEIGHTS);
}

static void test_weights_file_roundtrip(void **state)
{
    struct mr_weights *ws = NULL;
    struct mr_weights *back = NULL;
    const struct mr_array *t = NULL;
    const struct mr_array *u = NULL;
    char path[512];
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("roundtrip.h5"));
    assert_int_equal(mr_weights_create(&ws), MR_OK);
    assert_int_equal(mr_weights_set_architecture(ws, "cirim"), MR_OK);
    assert_int_equal(mr_weights_set_config(ws, "{\"num_cascades\": 2}"), MR_OK);
    add_tensor(ws, "reconstruction_module.0.layers.0.convs.conv_layer.weight", 4,
               (const int64_t[]){ 4, 4, 5, 5 }, 5);
    add_tensor(ws, "cascades.0.dc_weight", 1, (const int64_t[]){ 1 }, 6);
    assert_int_equal(mr_weights_save(ws, path), MR_OK);

    assert_int_equal(mr_weights_load(path, &back), MR_OK);
    assert_string_equal(mr_weights_architecture(back), "cirim");
    assert_string_equal(mr_weights_config_json(back), "{\"num_cascades\": 2}");
    assert_int_equal(mr_weights_count(back), 2);
    assert_int_equal(mr_weights_get(back, "reconstruction_module.0.layers.0.convs.conv_layer."
                                    "weight", 4, (const int64_t[]){ 4, 4, 5, 5 }, &t), MR_OK);
    assert_int_equal(mr_weights_get(ws, "reconstruction_module.0.layers.0.convs.conv_layer."
                                    "weight", 4, (const int64_t[]){ 4, 4, 5, 5 }, &u), MR_OK);
    assert_memory_equal(t->data, u->data, mr_array_nbytes(u));
    int64_t i = 0;
    assert_int_equal(mr_config_int(mr_weights_config(back), "num_cascades", 0, &i), MR_OK);
    assert_int_equal(i, 2);
    mr_weights_free(ws);
    mr_weights_free(back);
}

/* a golden case file is a weight file: its extra datasets and attributes are ignored */
static void test_weights_golden_is_weight_file(void **state)
{
    struct mr_weights *ws = NULL;
    const struct mr_array *t = NULL;
    (void)state;

    assert_int_equal(mr_weights_load(mr_test_data("e2evn/case_1.h5"), &ws), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "e2evn");
    assert_int_equal(mr_weights_count(ws), 99);
    assert_int_equal(mr_weights_get(ws, "cascades.0.dc_weight", 1, (const int64_t[]){ 1 }, &t),
                     MR_OK);
    assert_true(mr_array_f32(t)[0] > 1.04f && mr_array_f32(t)[0] < 1.041f);
    assert_int_equal(mr_weights_get(ws, "sens_net.norm_unet.unet.down_sample_layers.0.layers."
                                    "0.weight", 4, (const int64_t[]){ 2, 2, 3, 3 }, &t), MR_OK);
    int64_t n = 0;
    assert_int_equal(mr_config_int(mr_weights_config(ws), "sens_pools", 0, &n), MR_OK);
    assert_int_equal(n, 4);
    mr_weights_free(ws);
}

static void write_file(const char *path, const char *arch, const char *config, bool group,
                       bool complex_weight)
{
    struct mr_h5 *h = NULL;
    struct mr_array a = { 0 };

    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 1, (int64_t)3), MR_OK);
    assert_int_equal(mr_h5_write(h, "/other", &a), MR_OK);
    if (arch != NULL)
        assert_int_equal(mr_h5_write_attr_string(h, "/", "architecture", arch), MR_OK);
    if (config != NULL)
        assert_int_equal(mr_h5_write_attr_string(h, "/", "config", config), MR_OK);
    if (group)
        assert_int_equal(mr_h5_write(h, "/weights/x.weight", &a), MR_OK);
    mr_array_cleanup(&a);
    if (complex_weight) {
        assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_CF32, 1, (int64_t)3), MR_OK);
        assert_int_equal(mr_h5_write(h, "/weights/y.weight", &a), MR_OK);
        mr_array_cleanup(&a);
    }
    assert_int_equal(mr_h5_commit(h), MR_OK);
}

static void test_weights_load_errors(void **state)
{
    struct mr_weights *ws = NULL;
    char path[512];
    (void)state;

    assert_int_equal(mr_weights_load("/nonexistent/dir/w.h5", &ws), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "/nonexistent/dir/w.h5"));

    snprintf(path, sizeof(path), "%s", mr_test_tmp("not_hdf5.h5"));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("this is not an HDF5 file\n", f);
    fclose(f);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_FORMAT);

    snprintf(path, sizeof(path), "%s", mr_test_tmp("no_arch.h5"));
    write_file(path, NULL, NULL, true, false);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "architecture"));

    snprintf(path, sizeof(path), "%s", mr_test_tmp("no_group.h5"));
    write_file(path, "lpn", NULL, false, false);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "/weights"));

    snprintf(path, sizeof(path), "%s", mr_test_tmp("bad_config.h5"));
    write_file(path, "lpn", "{\"a\": 1", true, false);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "bad_config.h5"));

    snprintf(path, sizeof(path), "%s", mr_test_tmp("complex.h5"));
    write_file(path, "lpn", "{}", true, true);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "y.weight"));

    /* no config attribute means all defaults */
    snprintf(path, sizeof(path), "%s", mr_test_tmp("no_config.h5"));
    write_file(path, "lpn", NULL, true, false);
    assert_int_equal(mr_weights_load(path, &ws), MR_OK);
    assert_string_equal(mr_weights_config_json(ws), "{}");
    assert_int_equal(mr_weights_count(ws), 1);
    mr_weights_free(ws);
}

/* #15: a NaN or Inf weight used to give a plausible image 7-21 % off; now the load fails and
 * names the tensor */
static void write_with_value(const char *path, const char *name, int64_t at, float v)
{
    struct mr_weights *ws = NULL;
    struct mr_array a = { 0 };

    assert_int_equal(mr_weights_create(&ws), MR_OK);
    assert_int_equal(mr_weights_set_architecture(ws, "e2evn"), MR_OK);
    add_tensor(ws, "cascades.0.dc_weight", 1, (const int64_t[]){ 1 }, 3);
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 2, (int64_t)4, (int64_t)6), MR_OK);
    mr_test_rand(&a, 4);
    mr_array_f32(&a)[at] = v;
    assert_int_equal(mr_weights_add_take(ws, name, &a), MR_OK);
    assert_int_equal(mr_weights_save(ws, path), MR_OK);
    mr_weights_free(ws);
}

static void test_weights_load_rejects_nonfinite_tensors(void **state)
{
    struct mr_weights *ws = NULL;
    char path[512];
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("nan.h5"));
    write_with_value(path, "cascades.3.model.conv.weight", 17, NAN);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_WEIGHTS);
    assert_null(ws);
    assert_non_null(strstr(mr_last_error(), "'cascades.3.model.conv.weight' (4, 6)"));
    assert_non_null(strstr(mr_last_error(), "nan.h5"));
    assert_non_null(strstr(mr_last_error(), "NaN at element 17"));

    snprintf(path, sizeof(path), "%s", mr_test_tmp("inf.h5"));
    write_with_value(path, "sens_net.bias", 0, -INFINITY);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "'sens_net.bias'"));
    assert_non_null(strstr(mr_last_error(), "-Inf at element 0"));

    /* huge but finite weights load (the image check downstream catches what they do) */
    snprintf(path, sizeof(path), "%s", mr_test_tmp("big.h5"));
    write_with_value(path, "sens_net.bias", 5, 3e38f);
    assert_int_equal(mr_weights_load(path, &ws), MR_OK);
    mr_weights_free(ws);
}

/* every tensor, and all of them together, must fit the memory limit */
static void test_weights_load_respects_memory_limit(void **state)
{
    struct mr_weights *ws = NULL;
    char path[512];
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("limit.h5"));
    write_with_value(path, "cascades.1.w", 0, 1.0f); /* 4 + 96 bytes of tensors */
    mr_memory_limit_set(99);
    assert_int_equal(mr_weights_load(path, &ws), MR_ERR_NOMEM);
    assert_null(ws);
    assert_non_null(strstr(mr_last_error(), "limit.h5"));
    assert_non_null(strstr(mr_last_error(), "memory limit of 99 bytes"));
    mr_memory_limit_set(100);
    assert_int_equal(mr_weights_load(path, &ws), MR_OK);
    mr_weights_free(ws);
    mr_memory_limit_set(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_store_get_and_unused),
        cmocka_unit_test(test_weights_architecture_names),
        cmocka_unit_test(test_weights_config_accessors),
        cmocka_unit_test(test_weights_file_roundtrip),
        cmocka_unit_test(test_weights_golden_is_weight_file),
        cmocka_unit_test(test_weights_load_errors),
        cmocka_unit_test(test_weights_load_rejects_nonfinite_tensors),
        cmocka_unit_test(test_weights_load_respects_memory_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
