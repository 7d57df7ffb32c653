/* CIRIM / RIM: every golden of shared/golden/cirim (copied to tests/data/cirim) — final output
 * and every per-cascade, per-time-step intermediate — within max|C − ref| ≤ 1e-4·max|ref|;
 * the recurrent cells (incl. MGU, which no golden covers) against a naive double-precision
 * reference with a dilated 3×3 kernel; config parsing and the error paths. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"
#include "networks/cirim.h"
#include "networks/rnn_cells.h"
#include "weights/weights.h"

#define GOLDEN_TOL 1e-4

/* ---- goldens ---------------------------------------------------------------------------- */

struct golden_ctx {
    struct mr_h5 *h5;
    double worst_pred;  /* max over all predictions (every cascade and step) */
    double worst_layer; /* max over llg_input, layerL_conv, layerL_hidden, final_conv */
    double worst_init;
    int64_t n_pred;
    int64_t n_layer;
    int64_t n_init;
};

static void golden_probe(void *vctx, const char *what, int64_t index, const struct mr_array *a)
{
    struct golden_ctx *ctx = vctx;
    char name[160];
    struct mr_array ref = { 0 };
    const size_t len = strlen(what);

    assert_int_equal(index, -1);
    snprintf(name, sizeof(name), "/intermediate/%s", what);
    if (!mr_h5_exists(ctx->h5, name))
        return;
    assert_int_equal(mr_h5_read(ctx->h5, name, &ref), MR_OK);
    assert_true(mr_array_same_shape(a, &ref));
    double e = mr_test_max_rel_err(a, &ref);
    if (e > GOLDEN_TOL)
        print_error("%s: max rel err %.3g\n", name, e);
    assert_true(e <= GOLDEN_TOL);
    if (strcmp(what, "initial_image") == 0) {
        ctx->worst_init = fmax(ctx->worst_init, e);
        ctx->n_init++;
    } else if (len > 11 && strcmp(what + len - 11, "/prediction") == 0) {
        ctx->worst_pred = fmax(ctx->worst_pred, e);
        ctx->n_pred++;
    } else {
        ctx->worst_layer = fmax(ctx->worst_layer, e);
        ctx->n_layer++;
    }
    mr_array_cleanup(&ref);
}

/* through the registry row's functions, with the weight file's own architecture and config */
static void run_golden(const char *file)
{
    const char *path = mr_test_data(file);
    struct golden_ctx ctx = { 0 };
    const struct mr_probe probe = { .fn = golden_probe, .ctx = &ctx };
    struct mr_weights *ws = NULL;
    void *net = NULL;
    struct mr_cirim_config cfg = mr_cirim_config_default;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array init = { 0 };
    struct mr_array sigma = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array out = { 0 };
    struct mr_array img = { 0 };
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    enum mr_dtype dtype;

    assert_int_equal(mr_h5_open(path, &ctx.h5), MR_OK);
    assert_int_equal(mr_weights_load(path, &ws), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "cirim");
    assert_int_equal(mr_cirim_config_from_json(mr_weights_config_json(ws), &cfg), MR_OK);
    assert_int_equal(mr_cirim_ops.create(ws, mr_weights_config(ws), &mr_net_options_default,
                                         &net),
                     MR_OK);
    assert_int_equal(mr_weights_check_unused(ws), MR_OK);

    assert_int_equal(mr_h5_read(ctx.h5, "/kspace", &ksp), MR_OK);
    assert_int_equal(mr_h5_read(ctx.h5, "/mask", &mask), MR_OK);
    assert_int_equal(mr_h5_read(ctx.h5, "/sensitivity_map", &sens), MR_OK);
    assert_int_equal(mr_h5_read(ctx.h5, "/sigma", &sigma), MR_OK);
    assert_int_equal(mr_h5_read(ctx.h5, "/output", &ref), MR_OK);
    const bool has_init = mr_h5_exists(ctx.h5, "/initial_prediction");
    if (has_init)
        assert_int_equal(mr_h5_read(ctx.h5, "/initial_prediction", &init), MR_OK);

    assert_int_equal(mr_cirim_ops.prepare(net, ksp.dims[0], ksp.dims[1], ksp.dims[2], &ndim,
                                          dims, &dtype), MR_OK);
    assert_int_equal(mr_array_init(&out, dtype, ndim, dims), MR_OK);
    assert_true(mr_array_same_shape(&out, &ref));
    struct mr_net_inputs in = mr_net_inputs_default;
    in.ksp = &ksp;
    in.mask = &mask;
    in.sens = &sens;
    in.initial_prediction = has_init ? &init : NULL;
    in.sigma = mr_array_f32(&sigma)[0];
    assert_int_equal(mr_cirim_ops.run(net, &in, &out, &probe), MR_OK);
    double e_out = mr_test_max_rel_err(&out, &ref);

    /* every step's prediction, the six activations at t in {0, 1, T-1}, the starting image */
    const int64_t steps = mr_cirim_config_steps(&cfg);
    assert_int_equal(ctx.n_pred, cfg.num_cascades * steps);
    assert_int_equal(ctx.n_layer, cfg.num_cascades * 3 * 6);
    assert_int_equal(ctx.n_init, 1);
    print_message("%-42s output %.2e  predictions %.2e  layers %.2e  initial %.2e\n", file,
                  e_out, ctx.worst_pred, ctx.worst_layer, ctx.worst_init);
    assert_max_rel_below(&out, &ref, GOLDEN_TOL);

    /* a second run on the prepared network, without probe, gives the same (state is reset) */
    mr_array_zero(&out);
    assert_int_equal(mr_cirim_ops.run(net, &in, &out, NULL), MR_OK);
    assert_max_rel_below(&out, &ref, GOLDEN_TOL);

    /* the magnitude image: |x|, or the RSS of the per-coil IFFT of a k-space output */
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, ksp.dims[1], ksp.dims[2]), MR_OK);
    mr_cirim_ops.image(net, &img, &out);
    const int64_t n = ksp.dims[1] * ksp.dims[2];
    if (cfg.no_dc) {
        for (int64_t i = 0; i < n; i++)
            assert_float_equal(mr_array_f32(&img)[i], cabsf(mr_array_cf32(&out)[i]), 1e-6);
    } else {
        float peak = 0.0f;
        for (int64_t i = 0; i < n; i++)
            peak = fmaxf(peak, mr_array_f32(&img)[i]);
        assert_true(peak > 0.0f && isfinite(peak));
    }

    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&init);
    mr_array_cleanup(&sigma);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&out);
    mr_array_cleanup(&img);
    mr_cirim_ops.free(net);
    mr_weights_free(ws);
    mr_h5_close(ctx.h5);
}

static void test_cirim_golden_rim_gru(void **state)
{
    (void)state;
    run_golden("cirim/case_01_rim_gru_1casc.h5");
}

static void test_cirim_golden_indrnn_3casc(void **state)
{
    (void)state;
    run_golden("cirim/case_02_cirim_indrnn_3casc.h5");
}

static void test_cirim_golden_indrnn_rss_backward(void **state)
{
    (void)state;
    run_golden("cirim/case_03_cirim_indrnn_rss_backward.h5");
}

static void test_cirim_golden_rim_gru_explicit_dc(void **state)
{
    (void)state;
    run_golden("cirim/case_04_rim_gru_explicit_dc.h5");
}

/* the registry row: architecture and config from the file, generic input checks */
static void test_cirim_registry(void **state)
{
    const char *path = mr_test_data("cirim/case_02_cirim_indrnn_3casc.h5");
    struct mr_h5 *h5 = NULL;
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array init = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array out = { 0 };
    (void)state;

    assert_non_null(mr_net_lookup("cirim"));
    assert_int_equal(mr_h5_open(path, &h5), MR_OK);
    assert_int_equal(mr_weights_load(path, &ws), MR_OK);
    assert_int_equal(mr_net_create_from_weights(ws, NULL, &net), MR_OK);
    assert_string_equal(mr_net_name(net), "cirim");
    assert_int_equal(mr_net_needs(net), MR_NET_NEED_SENS);
    assert_int_equal(mr_h5_read(h5, "/kspace", &ksp), MR_OK);
    assert_int_equal(mr_h5_read(h5, "/mask", &mask), MR_OK);
    assert_int_equal(mr_h5_read(h5, "/sensitivity_map", &sens), MR_OK);
    assert_int_equal(mr_h5_read(h5, "/initial_prediction", &init), MR_OK);
    assert_int_equal(mr_h5_read(h5, "/output", &ref), MR_OK);
    assert_int_equal(mr_net_prepare(net, ksp.dims[0], ksp.dims[1], ksp.dims[2]), MR_OK);
    assert_int_equal(mr_net_output_init(net, &out), MR_OK);

    struct mr_net_inputs in = mr_net_inputs_default;
    in.ksp = &ksp;
    in.mask = &mask;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_ARG); /* no maps */
    in.sens = &sens;
    in.initial_prediction = &init;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_OK);
    assert_max_rel_below(&out, &ref, GOLDEN_TOL);

    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&init);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&out);
    mr_net_free(net);
    mr_weights_free(ws);
    mr_h5_close(h5);
}

/* ---- cells against a naive reference ---------------------------------------------------- */

static void add_random(struct mr_weights *ws, const char *name, int ndim, const int64_t *dims,
                       float scale, uint64_t seed)
{
    struct mr_array a;
    assert_int_equal(mr_array_init(&a, MR_DTYPE_F32, ndim, dims), MR_OK);
    mr_test_rand(&a, seed);
    float *p = mr_array_f32(&a);
    for (int64_t i = 0; i < mr_array_numel(&a); i++)
        p[i] *= scale;
    assert_int_equal(mr_weights_add_take(ws, name, &a), MR_OK);
}

/* conv with zero padding d·(k−1)/2 at one output pixel, in double */
static double naive_conv(const float *wt, const float *b, const float *x, int64_t cin,
                         int64_t o, int64_t k, int64_t d, int64_t h, int64_t w, int64_t r,
                         int64_t s)
{
    const int64_t p = d * (k - 1) / 2;
    double acc = b != NULL ? (double)b[o] : 0.0;
    for (int64_t i = 0; i < cin; i++)
        for (int64_t a = 0; a < k; a++)
            for (int64_t q = 0; q < k; q++) {
                int64_t y = r + a * d - p;
                int64_t xx = s + q * d - p;
                if (y < 0 || y >= h || xx < 0 || xx >= w)
                    continue;
                acc += (double)wt[((o * cin + i) * k + a) * k + q] *
                       (double)x[(i * h + y) * w + xx];
            }
    return acc;
}

static double sigm(double v)
{
    return 1.0 / (1.0 + exp(-v));
}

static void check_cell(enum mr_rnn_cell_type type)
{
    const int64_t cin = 3;
    const int64_t f = 4;
    const int64_t k = 3;
    const int64_t d = 2;
    const int64_t h = 7;
    const int64_t w = 6;
    const int64_t g = mr_rnn_cell_type_gates(type);
    struct mr_weights *ws = NULL;
    struct mr_rnn_cell cell;
    struct mr_array a;
    struct mr_array hid;
    struct mr_array h0;
    struct mr_array ref;
    struct mr_array scratch;

    assert_int_equal(mr_weights_create(&ws), MR_OK);
    add_random(ws, "c.ih.weight", 4, (const int64_t[]){ g * f, cin, k, k }, 0.3f, 11);
    add_random(ws, "c.ih.bias", 1, (const int64_t[]){ g * f }, 0.5f, 12);
    if (type == MR_RNN_CELL_TYPE_INDRNN)
        add_random(ws, "c.hh", 4, (const int64_t[]){ 1, f, 1, 1 }, 0.8f, 13);
    else
        add_random(ws, "c.hh.weight", 4, (const int64_t[]){ g * f, f, k, k }, 0.3f, 13);
    assert_int_equal(mr_rnn_cell_load(&cell, ws, "c", type, cin, f, k, d, true), MR_OK);
    assert_int_equal(mr_weights_check_unused(ws), MR_OK);

    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 3, cin, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&hid, MR_DTYPE_F32, 3, f, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_F32, 3, f, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&scratch, MR_DTYPE_F32, 1,
                                        mr_rnn_cell_scratch_size(&cell, h, w)), MR_OK);
    mr_test_rand(&a, 21);
    mr_test_rand(&hid, 22);
    assert_int_equal(mr_array_init_copy(&h0, &hid), MR_OK);

    const float *x = mr_array_f32(&a);
    const float *hp = mr_array_f32(&h0);
    float *rp = mr_array_f32(&ref);
    for (int64_t c = 0; c < f; c++)
        for (int64_t r = 0; r < h; r++)
            for (int64_t s = 0; s < w; s++) {
                const int64_t j = (c * h + r) * w + s;
                double gi[3];
                double gh[3] = { 0.0, 0.0, 0.0 };
                for (int64_t q = 0; q < g; q++) {
                    gi[q] = naive_conv(cell.ih.w, cell.ih.b, x, cin, q * f + c, k, d, h, w, r, s);
                    if (type != MR_RNN_CELL_TYPE_INDRNN)
                        gh[q] = naive_conv(cell.hh.w, NULL, hp, f, q * f + c, k, d, h, w, r, s);
                }
                double hv = (double)hp[j];
                double v;
                if (type == MR_RNN_CELL_TYPE_INDRNN) {
                    v = fmax(gi[0] + (double)cell.hh_diag[c] * hv, 0.0);
                } else if (type == MR_RNN_CELL_TYPE_GRU) {
                    double rr = sigm(gi[0] + gh[0]);
                    double z = sigm(gi[1] + gh[1]);
                    double n = tanh(gi[2] + rr * gh[2]);
                    v = (1.0 - z) * n + z * hv;
                } else {
                    double fg = sigm(gi[0] + gh[0]);
                    double cc = tanh(gi[1] + fg * gh[1]);
                    v = cc + fg * (hv - cc);
                }
                rp[j] = (float)v;
            }
    mr_rnn_cell_forward(&cell, &hid, &a, &scratch);
    assert_max_rel_below(&hid, &ref, 1e-5);

    mr_array_cleanup(&a);
    mr_array_cleanup(&hid);
    mr_array_cleanup(&h0);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&scratch);
    mr_weights_free(ws);
}

static void test_rnn_cells_match_naive(void **state)
{
    (void)state;
    check_cell(MR_RNN_CELL_TYPE_INDRNN);
    check_cell(MR_RNN_CELL_TYPE_GRU);
    check_cell(MR_RNN_CELL_TYPE_MGU);
}

static void test_rnn_cell_type_parse(void **state)
{
    enum mr_rnn_cell_type t;
    (void)state;
    assert_int_equal(mr_rnn_cell_type_parse("indrnn", &t), MR_OK);
    assert_int_equal(t, MR_RNN_CELL_TYPE_INDRNN);
    assert_int_equal(mr_rnn_cell_type_parse("Gru", &t), MR_OK);
    assert_int_equal(t, MR_RNN_CELL_TYPE_GRU);
    assert_int_equal(mr_rnn_cell_type_parse("MGU", &t), MR_OK);
    assert_int_equal(t, MR_RNN_CELL_TYPE_MGU);
    assert_int_equal(mr_rnn_cell_type_parse("LSTM", &t), MR_ERR_UNSUPPORTED);
}

/* ---- configuration and errors ----------------------------------------------------------- */

static void test_cirim_config(void **state)
{
    struct mr_cirim_config c = mr_cirim_config_default;
    (void)state;

    assert_int_equal(mr_cirim_config_steps(&c), 8);
    c.time_steps = 5;
    assert_int_equal(mr_cirim_config_steps(&c), 8);
    c.time_steps = 9;
    assert_int_equal(mr_cirim_config_steps(&c), 16);

    c = mr_cirim_config_default;
    assert_int_equal(mr_cirim_config_from_json("{}", &c), MR_OK);
    assert_int_equal(c.cell, MR_RNN_CELL_TYPE_INDRNN);
    assert_int_equal(c.conv_filters[0], 64);
    assert_int_equal(c.num_cascades, 5);
    assert_true(c.no_dc);
    assert_true(c.fft.centered);
    assert_int_equal(mr_cirim_config_from_json(
                         "{\"recurrent_layer\": \"gru\", \"conv_bias\": [false, true, true, 1],"
                         " \"recurrent_filters\": [8, 16, 0], \"num_cascades\": 1,"
                         " \"no_dc\": false, \"coil_combination_method\": \"RSS\","
                         " \"fft_centered\": false, \"fft_normalization\": \"none\"}",
                         &c),
                     MR_OK);
    assert_int_equal(c.cell, MR_RNN_CELL_TYPE_GRU);
    assert_false(c.conv_bias[0]);
    assert_true(c.conv_bias[2]);
    assert_int_equal(c.recurrent_filters[1], 16);
    assert_int_equal(c.combine, MR_CIRIM_COMBINE_RSS);
    assert_false(c.fft.centered);
    assert_int_equal(c.fft.norm, MR_FFT_NORM_BACKWARD);

    static const char *const bad[] = {
        "{\"recurrent_layer\": \"LSTM\"}",
        "{\"conv_kernels\": [5, 4, 3]}",
        "{\"conv_filters\": [64, 64, 3]}",
        "{\"conv_filters\": [64, 0, 2]}",
        "{\"recurrent_filters\": [0, 64, 0]}",
        "{\"no_dc\": false, \"num_cascades\": 2}",
        "{\"depth\": 3}",
        "{\"coil_combination_method\": \"RSS_COMPLEX\"}",
        "{\"estimate_coil_sensitivity_maps_with_nn\": true}",
        "{\"time_steps\": 0}",
        "{\"consecutive_slices\": 3}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = mr_cirim_config_default;
        mr_status st = mr_cirim_config_from_json(bad[i], &c);
        if (st == MR_OK)
            print_error("accepted %s\n", bad[i]);
        assert_int_not_equal(st, MR_OK);
    }
    assert_int_equal(mr_cirim_config_from_json("{\"conv_bias\": [true, 2, false]}", &c),
                     MR_ERR_WEIGHTS);
    assert_int_equal(mr_cirim_config_from_json("{\"conv_filters\": [64, 2]}", &c),
                     MR_ERR_WEIGHTS);
    assert_int_equal(mr_cirim_config_from_json("[1]", &c), MR_ERR_WEIGHTS);

    /* boolean lists from a parsed config: true / false or 0 / 1 */
    struct mr_config *js = NULL;
    assert_int_equal(mr_config_parse("{\"conv_bias\": [0, 1, 1]}", &js), MR_OK);
    c = mr_cirim_config_default;
    assert_int_equal(mr_cirim_config_read(js, &c), MR_OK);
    assert_false(c.conv_bias[0]);
    assert_true(c.conv_bias[2]);
    mr_config_free(js);
    assert_int_equal(mr_config_parse("{\"conv_bias\": [false, true, true], "
                                     "\"recurrent_bias\": [false, true, false]}", &js), MR_OK);
    assert_int_equal(mr_cirim_config_read(js, &c), MR_OK);
    assert_true(!c.conv_bias[0] && c.conv_bias[1] && !c.recurrent_bias[0]);
    mr_config_free(js);
    assert_int_equal(mr_config_parse("{\"conv_bias\": [true, true]}", &js), MR_OK);
    assert_int_equal(mr_cirim_config_read(js, &c), MR_ERR_WEIGHTS);
    mr_config_free(js);
}

static void test_cirim_errors(void **state)
{
    struct mr_weights *ws = NULL;
    struct mr_config *cfg = NULL;
    struct mr_net *net = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array out = { 0 };
    (void)state;

    /* an empty store: the first key is missing */
    assert_int_equal(mr_weights_create(&ws), MR_OK);
    assert_int_equal(mr_net_create("cirim", ws, NULL, NULL, &net), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "reconstruction_module.0.layers.0.convs"));
    assert_null(net);
    mr_weights_free(ws);

    /* a wrongly shaped tensor in a real file */
    assert_int_equal(mr_weights_load(mr_test_data("cirim/case_02_cirim_indrnn_3casc.h5"), &ws),
                     MR_OK);
    assert_int_equal(mr_config_parse("{\"conv_filters\": [12, 12, 2], \"recurrent_filters\": "
                                     "[12, 16, 0], \"num_cascades\": 3}", &cfg), MR_OK);
    assert_int_equal(mr_net_create("cirim", ws, cfg, NULL, &net), MR_ERR_WEIGHTS);
    mr_config_free(cfg);
    assert_int_equal(mr_config_parse("{\"conv_filters\": [12, 12, 2], \"recurrent_filters\": "
                                     "[12, 12, 0], \"num_cascades\": 3}", &cfg), MR_OK);
    mr_weights_reset_used(ws);
    assert_int_equal(mr_net_create("cirim", ws, cfg, NULL, &net), MR_OK);
    assert_int_equal(mr_net_prepare(net, 0, 4, 4), MR_ERR_ARG);
    assert_int_equal(mr_net_prepare(net, 2, 9, 8), MR_OK);

    /* inconsistent inputs, checked by the registry */
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)2, (int64_t)9,
                                        (int64_t)8), MR_OK);
    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)2, (int64_t)9,
                                        (int64_t)7), MR_OK);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)9, (int64_t)8), MR_OK);
    assert_int_equal(mr_net_output_init(net, &out), MR_OK);
    struct mr_net_inputs in = mr_net_inputs_default;
    in.ksp = &ksp;
    in.mask = &mask;
    in.sens = &sens;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "sensitivity maps"));
    mr_array_cleanup(&sens);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    in.sigma = NAN;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_DATA);
    in.sigma = 0.5f;
    mr_array_cf32(&ksp)[3] = NAN;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_DATA);
    mr_array_cf32(&ksp)[3] = 0.0f;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_OK);
    /* a column mask (W) is not a mask of the prepared size */
    mr_array_cleanup(&mask);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 1, (int64_t)8), MR_OK);
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_SHAPE);

    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&out);
    mr_config_free(cfg);
    mr_net_free(net);
    mr_weights_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cirim_golden_rim_gru),
        cmocka_unit_test(test_cirim_golden_indrnn_3casc),
        cmocka_unit_test(test_cirim_golden_indrnn_rss_backward),
        cmocka_unit_test(test_cirim_golden_rim_gru_explicit_dc),
        cmocka_unit_test(test_cirim_registry),
        cmocka_unit_test(test_rnn_cells_match_naive),
        cmocka_unit_test(test_rnn_cell_type_parse),
        cmocka_unit_test(test_cirim_config),
        cmocka_unit_test(test_cirim_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
