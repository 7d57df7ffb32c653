/* RecurrentVarNet (DIRECT) against the golden cases in tests/data/recurrentvarnet: the model
 * output and every per-step intermediate of the four model cases, and the final image (plus
 * the engine intermediates) of the Calgary-Campinas-style engine case; config parsing and
 * loader errors. Criterion: max|C − ref| ≤ tol · max|ref|. RVN_VERBOSE=1 prints every
 * intermediate's error. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"
#include "networks/direct_framework.h"
#include "networks/net.h"
#include "networks/recurrentvarnet.h"
#include "recon/coils.h"
#include "weights/config.h"
#include "weights/weights.h"

#define MODEL_TOL 1e-5
#define ENGINE_TOL 1e-4
/* the engine's sensitivity intermediates go through instance norms over a handful of pixels
 * (U-Net bottleneck 2×1 here) and a renormalisation: float32 rounding of the reference itself
 * is amplified to ~2.5e-4 there, while the final image stays at ~1.5e-5 */
#define ENGINE_INTERMEDIATE_TOL 1e-3

struct golden {
    struct mr_h5 *h5;
    struct mr_weights *ws;
    struct mr_recurrentvarnet_config cfg;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens;
    struct mr_array initial;
    struct mr_array ref;
};

static void golden_open(struct golden *g, const char *name)
{
    char path[512];
    char *fft = NULL;
    struct mr_config *fc = NULL;

    memset(g, 0, sizeof(*g));
    snprintf(path, sizeof(path), "recurrentvarnet/%s.h5", name);
    snprintf(path, sizeof(path), "%s", mr_test_data(path));
    assert_int_equal(mr_h5_open(path, &g->h5), MR_OK);
    assert_int_equal(mr_weights_load(path, &g->ws), MR_OK);
    assert_int_equal(mr_recurrentvarnet_config_parse(mr_weights_config(g->ws), &g->cfg), MR_OK);
    /* the FFT convention is not in the constructor config: the golden states it in `fft` */
    assert_int_equal(mr_h5_read_attr_string(g->h5, "/", "fft", &fft), MR_OK);
    assert_int_equal(mr_config_parse(fft, &fc), MR_OK);
    assert_int_equal(mr_config_bool(fc, "centered", true, &g->cfg.fft.centered), MR_OK);
    mr_config_free(fc);
    free(fft);
    assert_int_equal(mr_h5_read(g->h5, "kspace", &g->ksp), MR_OK);
    assert_int_equal(mr_h5_read(g->h5, "mask", &g->mask), MR_OK);
    if (mr_h5_exists(g->h5, "sensitivity_map"))
        assert_int_equal(mr_h5_read(g->h5, "sensitivity_map", &g->sens), MR_OK);
    if (mr_h5_exists(g->h5, "initial_image"))
        assert_int_equal(mr_h5_read(g->h5, "initial_image", &g->initial), MR_OK);
    assert_int_equal(mr_h5_read(g->h5, "output", &g->ref), MR_OK);
}

static void golden_close(struct golden *g)
{
    mr_array_cleanup(&g->ksp);
    mr_array_cleanup(&g->mask);
    mr_array_cleanup(&g->sens);
    mr_array_cleanup(&g->initial);
    mr_array_cleanup(&g->ref);
    mr_weights_free(g->ws);
    mr_h5_close(g->h5);
}

/* Compares an intermediate with the golden's; (L, Hc, H, W) states are compared with the
 * golden's (Hc, H, W, L) layout. Records the worst error. */
struct checker {
    struct mr_h5 *h5;
    const char *group;
    int count;
    double worst;
    char worst_name[256];
    double tol;
};

static void check_one(struct checker *ck, const char *path, const struct mr_array *a)
{
    struct mr_array ref;
    struct mr_array mine;
    bool state = strstr(path, "hidden_state") != NULL || strstr(path, "/h0") != NULL;

    assert_true(mr_h5_exists(ck->h5, path));
    assert_int_equal(mr_h5_read(ck->h5, path, &ref), MR_OK);
    if (state) {
        const int64_t l = a->dims[0];
        const int64_t n = a->dims[1] * a->dims[2] * a->dims[3];
        const float *src = mr_array_f32(a);
        assert_int_equal(mr_array_init_like(&mine, &ref), MR_OK);
        assert_int_equal(ref.dims[3], l);
        float *dst = mr_array_f32(&mine);
        for (int64_t j = 0; j < l; j++)
            for (int64_t i = 0; i < n; i++)
                dst[i * l + j] = src[j * n + i];
    } else {
        assert_int_equal(mr_array_init_copy(&mine, a), MR_OK);
        assert_int_equal(mr_array_numel(&mine), mr_array_numel(&ref));
        mine.ndim = ref.ndim;
        memcpy(mine.dims, ref.dims, sizeof(ref.dims));
    }
    double e = mr_test_max_rel_err(&mine, &ref);
    ck->count++;
    if (e > ck->worst || ck->worst_name[0] == '\0') {
        ck->worst = e > ck->worst ? e : ck->worst;
        snprintf(ck->worst_name, sizeof(ck->worst_name), "%s", path);
    }
    if (e > ck->tol || getenv("RVN_VERBOSE"))
        print_error("%s: max rel err %.3g\n", path, e);
    assert_true(e <= ck->tol);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&mine);
}

static void model_probe(void *ctx, const char *name, int64_t index, const struct mr_array *a)
{
    struct checker *ck = ctx;
    char path[256];

    assert_int_equal(index, -1);
    snprintf(path, sizeof(path), "%s/%s", ck->group, name);
    if (strcmp(name, "h0") == 0 && !mr_h5_exists(ck->h5, path))
        return; /* no RSI: the golden has no h0 */
    check_one(ck, path, a);
}

static void run_model_case(const char *name)
{
    struct golden g;
    struct mr_recurrentvarnet *net = NULL;
    struct mr_array out;
    struct checker ck = { .group = "/intermediate", .tol = MODEL_TOL };
    const struct mr_probe probe = { .fn = model_probe, .ctx = &ck };

    golden_open(&g, name);
    ck.h5 = g.h5;
    assert_int_equal(mr_recurrentvarnet_create(g.ws, "", &g.cfg, &net), MR_OK);
    assert_int_equal(mr_weights_check_unused(g.ws), MR_OK);
    assert_int_equal(mr_recurrentvarnet_prepare(net, g.ksp.dims[0], g.ksp.dims[1],
                                                g.ksp.dims[2]), MR_OK);
    assert_int_equal(mr_array_init_like(&out, &g.ksp), MR_OK);
    assert_int_equal(mr_recurrentvarnet_run(net, &out, &g.ksp, &g.mask, &g.sens,
                                            g.initial.data != NULL ? &g.initial : NULL,
                                            &probe), MR_OK);
    double e = mr_test_max_rel_err(&out, &g.ref);
    print_message("%s: output max rel err %.3g; %d intermediates, worst %.3g (%s)\n", name, e,
                  ck.count, ck.worst, ck.worst_name);
    assert_max_rel_below(&out, &g.ref, MODEL_TOL);

    /* a second run on the same buffers gives the same result (no state leaks between runs) */
    struct mr_array out2;
    assert_int_equal(mr_array_init_like(&out2, &g.ksp), MR_OK);
    assert_int_equal(mr_recurrentvarnet_run(net, &out2, &g.ksp, &g.mask, &g.sens,
                                            g.initial.data != NULL ? &g.initial : NULL, NULL),
                     MR_OK);
    assert_true(mr_test_max_rel_err(&out2, &out) == 0.0);

    mr_array_cleanup(&out);
    mr_array_cleanup(&out2);
    mr_recurrentvarnet_free(net);
    golden_close(&g);
}

/* One model-level golden case; the case name is the test's initial state (MODEL_CASE). */
static void test_rvn_model_case(void **state)
{
    run_model_case(*state);
}

#define MODEL_CASE(name) { "test_rvn_" name, test_rvn_model_case, NULL, NULL, (void *)(name) }

/* ---- engine case ------------------------------------------------------------------------ */

/* Adds every /sensitivity_model_weights/<key> of the golden to ws as "sensitivity_model.<key>"
 * (how a weight file carries DIRECT's additional model). */
static void add_unet_weights(struct mr_weights *ws, struct mr_h5 *h5)
{
    char **names = NULL;
    size_t count = 0;
    char src[512];
    char dst[512];

    assert_int_equal(mr_h5_list(h5, "/sensitivity_model_weights", &names, &count), MR_OK);
    assert_true(count == 24);
    for (size_t i = 0; i < count; i++) {
        struct mr_array a;
        snprintf(src, sizeof(src), "/sensitivity_model_weights/%s", names[i]);
        snprintf(dst, sizeof(dst), "sensitivity_model.%s", names[i]);
        assert_int_equal(mr_h5_read(h5, src, &a), MR_OK);
        assert_int_equal(mr_weights_add_take(ws, dst, &a), MR_OK);
    }
    mr_h5_free_names(names, count);
}

static void engine_probe(void *ctx, const char *name, int64_t index, const struct mr_array *a)
{
    struct checker *ck = ctx;
    char path[200];

    snprintf(path, sizeof(path), "%s/%s", ck->group, name);
    if (!mr_h5_exists(ck->h5, path))
        return; /* the engine golden stores no per-step model intermediates */
    if (index < 0) {
        check_one(ck, path, a);
        return;
    }
    /* one coil of a (C, 2, H, W) golden */
    struct mr_array ref;
    struct mr_array slab;
    assert_int_equal(mr_h5_read(ck->h5, path, &ref), MR_OK);
    mr_array_slab(&slab, &ref, index);
    double e = mr_test_max_rel_err(a, &slab);
    ck->count++;
    if (e > ck->worst) {
        ck->worst = e;
        snprintf(ck->worst_name, sizeof(ck->worst_name), "%s[%lld]", path, (long long)index);
    }
    if (e > ck->tol || getenv("RVN_VERBOSE"))
        print_error("%s[%lld]: max rel err %.3g\n", path, (long long)index, e);
    assert_true(e <= ck->tol);
    mr_array_cleanup(&ref);
}

struct engine_case {
    struct golden g;
    struct mr_array acs;
    struct mr_array padding;
    struct mr_unet_config ucfg;
    struct mr_direct_framework_config ecfg;
};

static void engine_case_open(struct engine_case *ec)
{
    char *json = NULL;
    struct mr_config *jc = NULL;

    golden_open(&ec->g, "case_engine_1_calgary_style");
    assert_int_equal(mr_h5_read(ec->g.h5, "acs_mask", &ec->acs), MR_OK);
    assert_int_equal(mr_h5_read(ec->g.h5, "padding", &ec->padding), MR_OK);
    add_unet_weights(ec->g.ws, ec->g.h5);
    assert_int_equal(mr_h5_read_attr_string(ec->g.h5, "/", "sensitivity_model_config", &json),
                     MR_OK);
    assert_int_equal(mr_config_parse(json, &jc), MR_OK);
    assert_int_equal(mr_direct_unet_config_parse(jc, &ec->ucfg), MR_OK);
    mr_config_free(jc);
    free(json);
    assert_int_equal(mr_h5_read_attr_string(ec->g.h5, "/", "transforms_config", &json), MR_OK);
    assert_int_equal(mr_config_parse(json, &jc), MR_OK);
    assert_int_equal(mr_direct_framework_config_parse(jc, &ec->ecfg), MR_OK);
    mr_config_free(jc);
    free(json);
}

static void engine_case_close(struct engine_case *ec)
{
    mr_array_cleanup(&ec->acs);
    mr_array_cleanup(&ec->padding);
    golden_close(&ec->g);
}

static void test_rvn_engine_calgary_style(void **state)
{
    struct engine_case ec;
    struct mr_direct_framework *e = NULL;
    struct mr_array img;
    struct checker ck = { .group = "/intermediate", .tol = ENGINE_INTERMEDIATE_TOL };
    const struct mr_probe probe = { .fn = engine_probe, .ctx = &ck };
    const int64_t *d;
    float scale = 0.0f;

    (void)state;
    engine_case_open(&ec);
    ck.h5 = ec.g.h5;
    d = ec.g.ksp.dims;
    assert_true(ec.g.cfg.fft.centered == false);
    assert_int_equal(mr_direct_framework_create(ec.g.ws, "", &ec.g.cfg, "sensitivity_model.",
                                                &ec.ucfg, &ec.ecfg, &e), MR_OK);
    assert_int_equal(mr_weights_check_unused(ec.g.ws), MR_OK);
    assert_int_equal(mr_direct_framework_prepare(e, d[0], d[1], d[2]), MR_OK);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, d[1], d[2]), MR_OK);
    assert_int_equal(mr_direct_framework_run(e, &ec.g.ksp, &ec.g.mask, &ec.acs, &ec.padding, &img,
                                             NULL, &scale, &probe), MR_OK);
    double err = mr_test_max_rel_err(&img, &ec.g.ref);
    print_message("engine: image max rel err %.3g; %d intermediates, worst %.3g (%s)\n", err,
                  ck.count, ck.worst, ck.worst_name);
    assert_int_equal(ck.count, 6 + 2 * (int)d[0]);
    assert_max_rel_below(&img, &ec.g.ref, ENGINE_TOL);

    mr_array_cleanup(&img);
    mr_direct_framework_free(e);
    engine_case_close(&ec);
}

/* The ACS of the engine golden (disc r = 4 inside a random 2-D mask) is found again from the
 * sampling mask by DIRECT's rule (recon/coils.h; its unit tests are in tests/recon). */
static void test_rvn_acs_detect(void **state)
{
    struct engine_case ec;
    struct mr_array acs;
    struct mr_array disc;
    const struct mr_acs_config cfg = { .rule = MR_ACS_RULE_DIRECT };
    struct mr_acs a;

    (void)state;
    engine_case_open(&ec);
    assert_int_equal(mr_array_init_like(&acs, &ec.acs), MR_OK);
    assert_int_equal(mr_array_init_like(&disc, &ec.acs), MR_OK);
    /* the golden's own: the disc of radius 4, d² <= 16 */
    const struct mr_acs r4 = { .y0 = 0, .y1 = ec.acs.dims[0], .x0 = 0, .x1 = ec.acs.dims[1],
                               .disc_r2 = 17.0 };
    mr_acs_fill(&r4, &disc);
    assert_true(mr_test_max_rel_err(&disc, &ec.acs) == 0.0);
    assert_int_equal(mr_acs_detect(&ec.g.mask, ec.acs.dims[0], ec.acs.dims[1], &cfg, &a), MR_OK);
    mr_acs_fill(&a, &acs);
    /* the detected disc contains the true ACS and only sampled points */
    const float *d = mr_array_f32(&acs);
    const float *t = mr_array_f32(&ec.acs);
    const float *s = mr_array_f32(&ec.g.mask);
    for (int64_t i = 0; i < mr_array_numel(&acs); i++) {
        assert_true(t[i] == 0.0f || d[i] != 0.0f);
        assert_true(d[i] == 0.0f || s[i] != 0.0f);
    }
    mr_array_cleanup(&acs);
    mr_array_cleanup(&disc);
    engine_case_close(&ec);
}

/* ---- network interface (networks/net.h row) --------------------------------------------- */

/* the golden's config with the FFT convention added the way a weight file states it */
static void set_fft_config(struct mr_weights *ws, bool centered, const char *extra)
{
    const char *json = mr_weights_config_json(ws);
    char buf[2048];
    assert_true(json[0] == '{');
    snprintf(buf, sizeof(buf), "{\"fft_centered\": %s, %s%s", centered ? "true" : "false",
             extra, json + 1);
    assert_int_equal(mr_weights_set_config(ws, buf), MR_OK);
}

static void probe_count(void *ctx, const char *name, int64_t index, const struct mr_array *a)
{
    (void)name;
    (void)index;
    (void)a;
    (*(int *)ctx)++;
}

/* model mode (maps given): the interface returns the golden's /output k-space, and its image
 * is the golden's RSS image */
static void test_rvn_net_ops_model(void **state)
{
    const struct mr_net_ops *ops = &mr_recurrentvarnet_ops;
    struct golden g;
    void *ctx = NULL;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    enum mr_dtype dt;
    struct mr_array out;
    struct mr_array img;
    struct mr_array ref_img;
    struct mr_net_inputs in = { .sigma = 1.0f }; /* mr_net_inputs_default */
    int nprobe = 0;
    struct mr_probe probe = { .fn = probe_count, .ctx = &nprobe };

    (void)state;
    golden_open(&g, "case_1_sense_multiscale");
    set_fft_config(g.ws, false, "");
    assert_string_equal(ops->name, "recurrentvarnet");
    assert_int_equal(ops->create(g.ws, mr_weights_config(g.ws), &mr_net_options_default, &ctx),
                     MR_OK);
    assert_int_equal(mr_weights_check_unused(g.ws), MR_OK);
    assert_int_equal(ops->prepare(ctx, g.ksp.dims[0], g.ksp.dims[1], g.ksp.dims[2], &ndim, dims,
                                  &dt), MR_OK);
    assert_int_equal(ndim, 3);
    assert_int_equal(dt, MR_DTYPE_CF32);
    assert_int_equal(mr_array_init(&out, dt, ndim, dims), MR_OK);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, dims[1], dims[2]), MR_OK);
    in.ksp = &g.ksp;
    in.mask = &g.mask;
    in.sens = &g.sens;
    assert_int_equal(ops->run(ctx, &in, &out, &probe), MR_OK);
    assert_int_equal(nprobe, 24);
    assert_max_rel_below(&out, &g.ref, MODEL_TOL);
    ops->image(ctx, &img, &out);
    assert_int_equal(mr_h5_read(g.h5, "intermediate/output_image_rss", &ref_img), MR_OK);
    assert_max_rel_below(&img, &ref_img, MODEL_TOL);

    mr_array_cleanup(&out);
    mr_array_cleanup(&img);
    mr_array_cleanup(&ref_img);
    ops->free(ctx);
    golden_close(&g);
}

/* engine mode (no maps): ACS and padding recovered from the mask reproduce the golden's final
 * image, like a call of the framework with the golden's own ACS and padding */
static void test_rvn_net_ops_engine(void **state)
{
    const struct mr_net_ops *ops = &mr_recurrentvarnet_ops;
    struct engine_case ec;
    struct mr_direct_framework *e = NULL;
    void *ctx = NULL;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    enum mr_dtype dt;
    struct mr_array out;
    struct mr_array img;
    struct mr_array img2;
    struct mr_array acs;
    struct mr_array pad;
    struct mr_net_inputs in = { .sigma = 1.0f }; /* mr_net_inputs_default */

    (void)state;
    engine_case_open(&ec);
    set_fft_config(ec.g.ws, false, "\"sensitivity_model_num_filters\": 4, ");
    assert_int_equal(ops->create(ec.g.ws, mr_weights_config(ec.g.ws), &mr_net_options_default,
                                 &ctx),
                     MR_OK);
    assert_int_equal(mr_weights_check_unused(ec.g.ws), MR_OK);
    const int64_t *d = ec.g.ksp.dims;
    assert_int_equal(ops->prepare(ctx, d[0], d[1], d[2], &ndim, dims, &dt), MR_OK);
    assert_int_equal(mr_array_init(&out, dt, ndim, dims), MR_OK);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, d[1], d[2]), MR_OK);
    assert_int_equal(mr_array_init_like(&img2, &img), MR_OK);
    assert_int_equal(mr_array_init_like(&acs, &img), MR_OK);
    assert_int_equal(mr_array_init_like(&pad, &img), MR_OK);
    assert_int_equal(mr_direct_padding_from_mask(&pad, &ec.g.mask), 4);
    assert_true(mr_test_max_rel_err(&pad, &ec.padding) == 0.0);
    in.ksp = &ec.g.ksp;
    in.mask = &ec.g.mask;
    assert_int_equal(ops->run(ctx, &in, &out, NULL), MR_OK);
    ops->image(ctx, &img, &out);

    mr_weights_reset_used(ec.g.ws);
    assert_int_equal(mr_direct_framework_create(ec.g.ws, "", &ec.g.cfg, "sensitivity_model.",
                                                &ec.ucfg, &ec.ecfg, &e), MR_OK);
    assert_int_equal(mr_direct_framework_prepare(e, d[0], d[1], d[2]), MR_OK);
    const struct mr_acs_config acfg = { .rule = MR_ACS_RULE_DIRECT };
    struct mr_acs region;
    assert_int_equal(mr_acs_detect(&ec.g.mask, d[1], d[2], &acfg, &region), MR_OK);
    mr_acs_fill(&region, &acs);
    assert_int_equal(mr_direct_framework_run(e, &ec.g.ksp, &ec.g.mask, &acs, &pad, &img2, NULL,
                                             NULL, NULL), MR_OK);
    assert_max_rel_below(&img, &img2, 1e-5);
    print_message("engine via the interface (ACS, padding from the mask): image max rel err "
                  "%.3g\n", mr_test_max_rel_err(&img, &ec.g.ref));
    assert_max_rel_below(&img, &ec.g.ref, ENGINE_TOL);

    mr_array_cleanup(&out);
    mr_array_cleanup(&img);
    mr_array_cleanup(&img2);
    mr_array_cleanup(&acs);
    mr_array_cleanup(&pad);
    mr_direct_framework_free(e);
    ops->free(ctx);
    engine_case_close(&ec);
}

/* loader and config errors name what is wrong */
static void test_rvn_errors(void **state)
{
    struct golden g;
    struct mr_recurrentvarnet *net = NULL;
    struct mr_recurrentvarnet_config c;
    struct mr_config *jc = NULL;

    (void)state;
    golden_open(&g, "case_1_sense_multiscale");
    c = g.cfg;
    c.hidden = 9; /* weights have 8 */
    assert_int_equal(mr_recurrentvarnet_create(g.ws, "", &c, &net), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "shape"));
    c = g.cfg;
    c.num_steps = 4; /* block_list.3 is missing */
    assert_int_equal(mr_recurrentvarnet_create(g.ws, "", &c, &net), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "block_list.3"));
    c = g.cfg;
    c.multiscale = 5;
    assert_int_equal(mr_recurrentvarnet_create(g.ws, "", &c, &net), MR_ERR_ARG);
    assert_null(net);

    assert_int_equal(mr_config_parse("{\"learned_initializer\": true, "
                                     "\"initializer_initialization\": \"zeros\"}", &jc), MR_OK);
    assert_int_equal(mr_recurrentvarnet_config_parse(jc, &c), MR_ERR_WEIGHTS);
    mr_config_free(jc);
    assert_int_equal(mr_config_parse("{\"learned_initializer\": true, "
                                     "\"initializer_initialization\": \"zero-filled\"}", &jc),
                     MR_OK);
    assert_int_equal(mr_recurrentvarnet_config_parse(jc, &c), MR_ERR_WEIGHTS);
    mr_config_free(jc);
    /* learned_initializer without a mode: no RSI (DIRECT silently ignores it) */
    assert_int_equal(mr_config_parse("{\"learned_initializer\": true}", &jc), MR_OK);
    assert_int_equal(mr_recurrentvarnet_config_parse(jc, &c), MR_OK);
    assert_int_equal(c.init, MR_RVN_INIT_NONE);
    assert_int_equal(c.num_steps, 15);
    assert_true(c.fft.centered);
    mr_config_free(jc);

    /* run-time input checks: the registry's, once for the row */
    struct mr_net *rn = NULL;
    struct mr_array out;
    struct mr_net_inputs in = mr_net_inputs_default;
    mr_weights_reset_used(g.ws);
    assert_int_equal(mr_net_create_from_weights(g.ws, NULL, &rn), MR_OK);
    in.ksp = &g.ksp;
    in.mask = &g.mask;
    in.sens = &g.sens;
    assert_int_equal(mr_array_init_like(&out, &g.ksp), MR_OK);
    assert_int_equal(mr_net_run(rn, &in, &out, NULL), MR_ERR_ARG); /* not prepared */
    assert_int_equal(mr_net_prepare(rn, g.ksp.dims[0], g.ksp.dims[1], g.ksp.dims[2] + 1), MR_OK);
    assert_int_equal(mr_net_run(rn, &in, &out, NULL), MR_ERR_SHAPE);
    mr_array_cleanup(&out);
    mr_net_free(rn);
    golden_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        MODEL_CASE("case_1_sense_multiscale"),
        MODEL_CASE("case_2_noinit_shared"),
        MODEL_CASE("case_3_zerofilled_init"),
        MODEL_CASE("case_4_inputimage_shared_normalized_L1"),
        cmocka_unit_test(test_rvn_engine_calgary_style),
        cmocka_unit_test(test_rvn_acs_detect),
        cmocka_unit_test(test_rvn_net_ops_model),
        cmocka_unit_test(test_rvn_net_ops_engine),
        cmocka_unit_test(test_rvn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
