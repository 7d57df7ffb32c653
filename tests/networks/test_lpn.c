/* LPN (networks/lpn.h) against the goldens in tests/data/lpn (copies of shared/golden/lpn,
 * made by the reference lpn_128.LPN in torch): single-patch prox, ψ and every intermediate
 * (cases 1–2), the patch tiling (case 3), PnP-PGD on multi-coil SENSE data (case 4); the
 * hand-written backward pass against central differences of an independent double-precision ψ;
 * and the error paths of loading and tiling. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"
#include "networks/lpn_pnp.h"
#include "recon/pnp.h"
#include "recon/sense.h"
#include "recon/vec.h"
#include "weights/weights.h"

/* golden tolerances (spec §9): prox and intermediates 1e-4 of max|ref|, ψ 1e-5 relative,
 * PGD 1e-3 of max|ref| */
#define TOL_PROX 1e-4
#define TOL_PSI 1e-5
#define TOL_PGD 1e-3

struct gcase {
    struct mr_weights *ws;
    struct mr_lpn *lpn;
    struct mr_h5 *h5;
};

static void case_open(struct gcase *g, int n)
{
    char rel[64];
    snprintf(rel, sizeof(rel), "lpn/case_%d.h5", n);
    memset(g, 0, sizeof(*g));
    assert_int_equal(mr_weights_load(mr_test_data(rel), &g->ws), MR_OK);
    assert_int_equal(mr_lpn_create(g->ws, &g->lpn), MR_OK);
    assert_int_equal(mr_h5_open(mr_test_data(rel), &g->h5), MR_OK);
}

static void case_close(struct gcase *g)
{
    mr_lpn_free(g->lpn);
    mr_weights_free(g->ws);
    mr_h5_close(g->h5);
}

static void read_ds(const struct gcase *g, const char *name, struct mr_array *a)
{
    mr_status st = mr_h5_read(g->h5, name, a);
    if (st != MR_OK)
        fail_msg("%s", mr_last_error());
}

static double read_scalar(const struct gcase *g, const char *name)
{
    struct mr_array a;
    read_ds(g, name, &a);
    double v = (double)mr_array_f32(&a)[0];
    mr_array_cleanup(&a);
    return v;
}

/* compares a computed array with a golden dataset (element counts must agree) */
static void expect_ds(const struct gcase *g, const char *name, const struct mr_array *got,
                      double tol)
{
    struct mr_array ref;
    read_ds(g, name, &ref);
    assert_int_equal(mr_array_numel(got), mr_array_numel(&ref));
    double e = mr_test_max_rel_err(got, &ref);
    print_message("    %-28s max err / max|ref| = %.2e\n", name, e);
    mr_test_assert_below(name, e, tol, __FILE__, __LINE__);
    mr_array_cleanup(&ref);
}

static void expect_rel(const char *what, double got, double ref, double tol)
{
    double e = fabs(got - ref) / fabs(ref);
    print_message("    %-28s %.8g vs %.8g, rel err %.2e\n", what, got, ref, e);
    mr_test_assert_below(what, e, tol, __FILE__, __LINE__);
}

/* prox, ψ, R at the output and the intermediates of one 128×128 patch */
static void check_single_patch(int n, bool grads)
{
    struct gcase g;
    struct mr_array x;
    struct mr_array y;
    char name[64];
    double psi = 0.0;

    case_open(&g, n);
    read_ds(&g, "/input", &x);
    assert_int_equal(mr_array_init_like(&y, &x), MR_OK);
    mr_lpn_prox_patch(g.lpn, &y, &x, &psi);
    expect_ds(&g, "/output", &y, TOL_PROX);
    expect_rel("/psi", psi, read_scalar(&g, "/psi"), TOL_PSI);
    expect_rel("/intermediate/psi_net", mr_lpn_psi_net(g.lpn),
               read_scalar(&g, "/intermediate/psi_net"), TOL_PSI);
    for (int k = 0; k < 7; k++) {
        snprintf(name, sizeof(name), "/intermediate/z_%d", k);
        expect_ds(&g, name, mr_lpn_z(g.lpn, k), TOL_PROX);
        if (grads) {
            snprintf(name, sizeof(name), "/intermediate/grad_z_%d", k);
            expect_ds(&g, name, mr_lpn_grad_z(g.lpn, k), TOL_PROX);
        }
    }
    if (grads)
        for (int f = 2; f <= 8; f *= 2) {
            snprintf(name, sizeof(name), "/intermediate/x_down%d", f);
            expect_ds(&g, name, mr_lpn_x_down(g.lpn, f), TOL_PROX);
        }

    /* ψ alone equals the ψ of the prox pass */
    assert_true(fabs(mr_lpn_psi(g.lpn, &x) - psi) <= 1e-12 * fabs(psi));

    /* R at prox(x) through a one-patch tiler (§6): <x, f(x)> − ½‖f(x)‖² − ψ(x) */
    struct mr_lpn_tiler *t = NULL;
    struct mr_array y2;
    assert_int_equal(mr_array_init_like(&y2, &x), MR_OK);
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 128, 128, &mr_lpn_tiling_config_default, &t),
                     MR_OK);
    mr_lpn_tiler_apply(t, &y2, &x);
    assert_true(mr_test_max_rel_err(&y2, &y) == 0.0);
    expect_rel("/R_at_output", mr_lpn_tiler_last_regularizer(t),
               read_scalar(&g, "/R_at_output"), 1e-4);

    /* in place */
    mr_lpn_prox_patch(g.lpn, &x, &x, NULL);
    assert_true(mr_test_max_rel_err(&x, &y) == 0.0);

    mr_lpn_tiler_free(t);
    mr_array_cleanup(&y2);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    case_close(&g);
}

static void test_case1_prox_psi_intermediates(void **state)
{
    (void)state;
    check_single_patch(1, true);
}

static void test_case2_two_channels(void **state)
{
    (void)state;
    check_single_patch(2, false);
}

static void test_case3_tiled(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_array x;
    struct mr_array y;
    struct mr_array rows;
    struct mr_array cols;
    struct mr_array ppsi;
    struct mr_lpn_tiler *t = NULL;
    struct mr_lpn_tiling_config tc = mr_lpn_tiling_config_default;
    int64_t stride = 0;
    int64_t nr = 0;
    int64_t nc = 0;
    const int64_t *r = NULL;
    const int64_t *c = NULL;

    case_open(&g, 3);
    assert_int_equal(mr_h5_read_attr_i64(g.h5, "/", "stride_size", &stride), MR_OK);
    read_ds(&g, "/input", &x);
    assert_int_equal(mr_array_init_like(&y, &x), MR_OK);
    tc.stride = stride;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, x.dims[1], x.dims[2], &tc, &t), MR_OK);
    mr_lpn_tiler_apply(t, &y, &x);
    expect_ds(&g, "/output", &y, TOL_PROX);
    expect_ds(&g, "/intermediate/count", mr_lpn_tiler_count(t), 1e-7);

    mr_lpn_tiler_grid(t, &nr, &r, &nc, &c);
    read_ds(&g, "/intermediate/patch_rows", &rows);
    read_ds(&g, "/intermediate/patch_cols", &cols);
    read_ds(&g, "/intermediate/patch_psi", &ppsi);
    assert_int_equal(nr, mr_array_numel(&rows));
    assert_int_equal(nc, mr_array_numel(&cols));
    for (int64_t i = 0; i < nr; i++)
        assert_int_equal(r[i], (int64_t)mr_array_f32(&rows)[i]);
    for (int64_t j = 0; j < nc; j++)
        assert_int_equal(c[j], (int64_t)mr_array_f32(&cols)[j]);
    for (int64_t i = 0; i < nr * nc; i++)
        expect_rel("/intermediate/patch_psi", mr_lpn_tiler_patch_psi(t)[i],
                   (double)mr_array_f32(&ppsi)[i], TOL_PSI);

    /* in place gives the same */
    mr_lpn_tiler_apply(t, &x, &x);
    assert_true(mr_test_max_rel_err(&x, &y) == 0.0);

    mr_lpn_tiler_free(t);
    mr_array_cleanup(&rows);
    mr_array_cleanup(&cols);
    mr_array_cleanup(&ppsi);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    case_close(&g);
}

/* ---- case 4: PnP-PGD on SENSE data ------------------------------------------------------ */

struct pgd_watch {
    const struct gcase *g;
    int calls;
};

/* the solver's probes: x_00 = Aᴴy and z_01 (the first prox input) within TOL_PROX, the
 * iterates x_kk the golden holds within TOL_PGD */
static void pgd_probe(void *arg, const char *name, int64_t index, const struct mr_array *a)
{
    struct pgd_watch *w = arg;
    char path[64];

    assert_int_equal(index, -1);
    snprintf(path, sizeof(path), "/intermediate/%s", name);
    if (name[0] == 'x')
        w->calls++;
    if (strcmp(name, "x_00") == 0 || strcmp(name, "z_01") == 0)
        expect_ds(w->g, path, a, TOL_PROX);
    else if (name[0] == 'x' && mr_h5_exists(w->g->h5, path))
        expect_ds(w->g, path, a, TOL_PGD);
}

static void test_case4_pnp_pgd_sense(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens;
    struct mr_array x;
    struct mr_sense *s = NULL;
    struct mr_linop *A = NULL;
    struct mr_pnp *pnp = NULL;
    struct mr_prior prior = { 0 };
    struct mr_pnp_config cfg = mr_pnp_config_default;
    struct mr_lpn_tiling_config tc = mr_lpn_tiling_config_default;
    struct mr_pnp_info info;
    struct pgd_watch watch;
    const struct mr_probe probe = { .fn = pgd_probe, .ctx = &watch };
    int64_t iters = 0;
    int64_t stride = 0;
    double step = 0.0;

    case_open(&g, 4);
    read_ds(&g, "/kspace", &ksp);
    read_ds(&g, "/mask", &mask);
    read_ds(&g, "/sensitivity_map", &sens);
    assert_int_equal(mr_h5_read_attr_i64(g.h5, "/", "num_iters", &iters), MR_OK);
    assert_int_equal(mr_h5_read_attr_i64(g.h5, "/", "stride_size", &stride), MR_OK);
    assert_int_equal(mr_h5_read_attr_double(g.h5, "/", "step_size", &step), MR_OK);
    const int64_t nc = ksp.dims[0];
    const int64_t h = ksp.dims[1];
    const int64_t w = ksp.dims[2];

    assert_int_equal(mr_sense_create(nc, h, w, &mr_fft_config_default, &s), MR_OK);
    assert_int_equal(mr_sense_set_maps(s, &sens), MR_OK);
    assert_int_equal(mr_sense_set_mask(s, &mask), MR_OK);
    assert_int_equal(mr_sense_linop_create(s, &A), MR_OK);
    assert_int_equal(mr_pnp_create(A, &pnp), MR_OK);
    tc.stride = stride;
    assert_int_equal(mr_lpn_prior_create(g.lpn, h, w, &tc, &prior), MR_OK);
    assert_non_null(mr_lpn_prior_tiler(&prior));
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, h, w), MR_OK);

    watch.g = &g;
    watch.calls = 0;
    cfg.iters = (int)iters;
    cfg.step = (float)step;
    assert_int_equal(mr_pnp_pgd(pnp, &cfg, A, &prior, &ksp, &x, &info, &probe), MR_OK);
    assert_int_equal(info.iters, (int)iters);
    assert_false(info.converged);
    assert_int_equal(watch.calls, (int)iters + 1);
    expect_ds(&g, "/output", &x, TOL_PGD);
    print_message("    R summed over the last prox's patches: %.6g\n",
                  mr_lpn_tiler_last_regularizer(mr_lpn_prior_tiler(&prior)));

    mr_prior_cleanup(&prior);
    mr_pnp_free(pnp);
    mr_linop_free(A);
    mr_sense_free(s);
    mr_array_cleanup(&x);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    case_close(&g);
}

/* the same through the network interface (registry row "lpn"), with the solver settings
 * as config keys and the iterates seen through probes */
struct probe_watch {
    const struct gcase *g;
    int calls;
};

static void probe_fn(void *ctx, const char *name, int64_t index, const struct mr_array *a)
{
    struct probe_watch *w = ctx;
    char path[64];

    assert_int_equal(index, -1);
    snprintf(path, sizeof(path), "/intermediate/%s", name);
    w->calls++;
    if (mr_h5_exists(w->g->h5, path))
        expect_ds(w->g, path, a, TOL_PGD);
}

static void test_case4_net_ops(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_config *json = NULL;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens;
    struct mr_array out;
    struct mr_array img;
    void *ctx = NULL;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    enum mr_dtype dtype = MR_DTYPE_F32;
    struct mr_net_inputs in = mr_net_inputs_default;
    struct probe_watch watch = { 0 };
    struct mr_probe probe = { .fn = probe_fn, .ctx = &watch };

    case_open(&g, 4);
    watch.g = &g;
    read_ds(&g, "/kspace", &ksp);
    read_ds(&g, "/mask", &mask);
    read_ds(&g, "/sensitivity_map", &sens);
    assert_string_equal(mr_lpn_ops.name, "lpn");
    assert_true(mr_lpn_ops.needs & MR_NET_NEED_SENS);
    assert_int_equal(mr_config_parse("{\"in_dim\": 2, \"hidden\": 4, \"beta\": 100, "
                                     "\"alpha\": 0.25, \"pnp_iterations\": 3, "
                                     "\"pnp_step\": 1.0}", &json), MR_OK); /* auto stride 3 */
    mr_weights_reset_used(g.ws);
    assert_int_equal(mr_lpn_ops.create(g.ws, json, &mr_net_options_default, &ctx), MR_OK);
    assert_int_equal(mr_weights_check_unused(g.ws), MR_OK);
    assert_int_equal(mr_lpn_ops.prepare(ctx, 3, 100, 134, &ndim, dims, &dtype), MR_ERR_SHAPE);
    assert_int_equal(mr_lpn_ops.prepare(ctx, ksp.dims[0], ksp.dims[1], ksp.dims[2], &ndim, dims,
                                        &dtype), MR_OK);
    assert_int_equal(ndim, 2);
    assert_int_equal(dims[0], ksp.dims[1]);
    assert_int_equal(dims[1], ksp.dims[2]);
    assert_int_equal(dtype, MR_DTYPE_CF32);
    assert_int_equal(mr_array_init(&out, dtype, ndim, dims), MR_OK);
    assert_int_equal(mr_array_init(&img, MR_DTYPE_F32, ndim, dims), MR_OK);
    in.ksp = &ksp;
    in.mask = &mask;
    in.sens = &sens;
    assert_int_equal(mr_lpn_ops.run(ctx, &in, &out, &probe), MR_OK);
    assert_int_equal(watch.calls, 1 + 2 * 3); /* x_00, then z_kk and x_kk per iteration */
    expect_ds(&g, "/output", &out, TOL_PGD);
    mr_lpn_ops.image(ctx, &img, &out);
    for (int64_t i = 0; i < mr_array_numel(&img); i++)
        assert_true(fabsf(mr_array_f32(&img)[i] - cabsf(mr_array_cf32(&out)[i])) == 0.0f);
    /* a second run without probes gives the same */
    mr_array_zero(&out);
    assert_int_equal(mr_lpn_ops.run(ctx, &in, &out, NULL), MR_OK);
    expect_ds(&g, "/output", &out, TOL_PGD);
    /* shape errors are reported, not asserted */
    struct mr_array bad;
    assert_int_equal(mr_array_init_dims(&bad, MR_DTYPE_F32, 2, ksp.dims[1], ksp.dims[2] - 1),
                     MR_OK);
    in.mask = &bad;
    assert_int_equal(mr_lpn_ops.run(ctx, &in, &out, NULL), MR_ERR_SHAPE);

    mr_array_cleanup(&bad);
    mr_lpn_ops.free(ctx);
    mr_config_free(json);
    mr_array_cleanup(&out);
    mr_array_cleanup(&img);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    case_close(&g);
}

/* the solver settings read from a config, and their errors */
static void test_pnp_config_keys(void **state)
{
    (void)state;
    struct mr_config *json = NULL;
    struct mr_lpn_pnp_config cfg = mr_lpn_pnp_config_default;

    assert_int_equal(mr_config_parse("{\"pnp_solver\": \"admm\", \"pnp_iterations\": 7, "
                                     "\"admm_rho\": 0.1, \"admm_scale\": 2, \"cg_iterations\": 9, "
                                     "\"cg_tol\": 1e-4, \"patch_stride\": 32, "
                                     "\"cover_border\": true, \"normalize\": true, "
                                     "\"pnp_tol\": 1e-3, \"pnp_step\": 0.5}", &json), MR_OK);
    assert_int_equal(mr_lpn_pnp_config_read(json, &cfg), MR_OK);
    assert_true(cfg.solver.admm);
    assert_int_equal(cfg.solver.pnp.iters, 7);
    assert_true(cfg.solver.pnp.rho == 0.1f && cfg.solver.pnp.scale == 2.0f &&
                cfg.solver.pnp.step == 0.5f);
    assert_int_equal(cfg.solver.pnp.cg_iters, 9);
    assert_true(cfg.solver.pnp.cg_tol == 1e-4f && cfg.solver.pnp.tol == 1e-3f);
    assert_int_equal(cfg.tiling.stride, 32);
    assert_true(cfg.tiling.cover_border && cfg.solver.normalize);
    mr_config_free(json);
    assert_int_equal(mr_config_parse("{\"pnp_solver\": \"fista\"}", &json), MR_OK);
    assert_int_equal(mr_lpn_pnp_config_read(json, &cfg), MR_ERR_WEIGHTS);
    mr_config_free(json);
    assert_int_equal(mr_config_parse("{\"patch_window\": \"hann\"}", &json), MR_OK);
    assert_int_equal(mr_lpn_pnp_config_read(json, &cfg), MR_OK);
    assert_int_equal(cfg.tiling.window, MR_LPN_WINDOW_HANN);
    mr_config_free(json);
    assert_int_equal(mr_config_parse("{\"patch_window\": \"gauss\"}", &json), MR_OK);
    assert_int_equal(mr_lpn_pnp_config_read(json, &cfg), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "gauss"));
    mr_config_free(json);
    assert_int_equal(mr_config_parse("{\"pnp_iterations\": \"many\"}", &json), MR_OK);
    assert_int_equal(mr_lpn_pnp_config_read(json, &cfg), MR_ERR_WEIGHTS);
    mr_config_free(json);
}

/* PnP-ADMM with the LPN prior on the case 4 data: runs, stays finite, and with normalisation
 * the result scales with the data (x(c·y) = c·x(y)) */
static void test_case4_admm_and_normalize(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens;
    struct mr_array x1;
    struct mr_array x2;
    struct mr_lpn_recon *r = NULL;
    struct mr_lpn_pnp_config cfg = mr_lpn_pnp_config_default;
    struct mr_pnp_info info;

    case_open(&g, 4);
    read_ds(&g, "/kspace", &ksp);
    read_ds(&g, "/mask", &mask);
    read_ds(&g, "/sensitivity_map", &sens);
    const int64_t h = ksp.dims[1];
    const int64_t w = ksp.dims[2];
    assert_int_equal(mr_array_init_dims(&x1, MR_DTYPE_CF32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&x2, MR_DTYPE_CF32, 2, h, w), MR_OK);
    cfg.solver.admm = true;
    cfg.solver.pnp.iters = 2;
    cfg.solver.pnp.rho = 0.5f;
    cfg.solver.pnp.scale = 1.0f;
    cfg.tiling.stride = 3;
    cfg.solver.normalize = true;
    assert_int_equal(mr_lpn_recon_create(g.lpn, &cfg, ksp.dims[0], h, w, &r), MR_OK);
    assert_int_equal(mr_lpn_recon_run(r, &ksp, &mask, &sens, &x1, &info, NULL), MR_OK);
    assert_int_equal(info.iters, 2);
    assert_true(info.cg_iters > 0);
    assert_true(isfinite(mr_lpn_recon_regularizer(r)));
    mr_vec_scale(&ksp, 4.0f);
    assert_int_equal(mr_lpn_recon_run(r, &ksp, &mask, &sens, &x2, NULL, NULL), MR_OK);
    mr_vec_scale(&x1, 4.0f);
    assert_nrmse_below(&x2, &x1, 1e-5);

    mr_lpn_recon_free(r);
    mr_array_cleanup(&x1);
    mr_array_cleanup(&x2);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    case_close(&g);
}

/* through the registry (mr_net_create_from_weights) with the solver settings in the weight
 * file's config */
static void test_case4_registry(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_net *net = NULL;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens;
    struct mr_array out;
    struct mr_net_inputs in = mr_net_inputs_default;

    case_open(&g, 4);
    read_ds(&g, "/kspace", &ksp);
    read_ds(&g, "/mask", &mask);
    read_ds(&g, "/sensitivity_map", &sens);
    assert_non_null(mr_net_lookup("lpn"));
    assert_int_equal(mr_weights_set_config(g.ws, "{\"in_dim\": 2, \"hidden\": 4, \"beta\": 100, "
                                                 "\"alpha\": 0.25, \"pnp_iterations\": 3}"),
                     MR_OK);
    mr_weights_reset_used(g.ws);
    assert_int_equal(mr_net_create_from_weights(g.ws, NULL, &net), MR_OK);
    assert_int_equal(mr_weights_check_unused(g.ws), MR_OK);
    assert_int_equal(mr_net_prepare(net, ksp.dims[0], ksp.dims[1], ksp.dims[2]), MR_OK);
    assert_int_equal(mr_net_output_init(net, &out), MR_OK);
    in.ksp = &ksp;
    in.mask = &mask;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_ERR_ARG); /* needs maps */
    in.sens = &sens;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_OK);
    expect_ds(&g, "/output", &out, TOL_PGD);

    mr_net_free(net);
    mr_array_cleanup(&out);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    case_close(&g);
}

int mr_main_apply(int argc, char *argv[]);

/* `mrirecon apply` in-process (reaching apps/cmd_apply_lpn.c through the front-end table of
 * apps/cmd_apply.c): prox of /input, PnP on /kspace, errors */
static int run_cmd(const char *const *args)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] != NULL) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    return mr_main_apply(argc, argv);
}

static void check_cmd_output(const char *out, const char *golden, double tol)
{
    struct mr_h5 *a = NULL;
    struct mr_h5 *b = NULL;
    struct mr_array x;
    struct mr_array y;
    assert_int_equal(mr_h5_open(out, &a), MR_OK);
    assert_int_equal(mr_h5_open(golden, &b), MR_OK);
    assert_int_equal(mr_h5_read(a, "/output", &x), MR_OK);
    assert_int_equal(mr_h5_read(b, "/output", &y), MR_OK);
    assert_true(mr_array_same_shape(&x, &y));
    assert_max_rel_below(&x, &y, tol);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_h5_close(a);
    mr_h5_close(b);
}

static void test_apply_command(void **state)
{
    (void)state;
    char c1[1024];
    char c3[1024];
    char c4[1024];
    char o1[1024];
    char o3[1024];
    char o4[1024];
    struct mr_h5 *h = NULL;
    double psi = 0.0;

    snprintf(c1, sizeof(c1), "%s", mr_test_data("lpn/case_1.h5"));
    snprintf(c3, sizeof(c3), "%s", mr_test_data("lpn/case_3.h5"));
    snprintf(c4, sizeof(c4), "%s", mr_test_data("lpn/case_4.h5"));
    snprintf(o1, sizeof(o1), "%s", mr_test_tmp("lpn_prox1.h5"));
    snprintf(o3, sizeof(o3), "%s", mr_test_tmp("lpn_prox3.h5"));
    snprintf(o4, sizeof(o4), "%s", mr_test_tmp("lpn_pgd4.h5"));

    /* one patch: /output, /psi and the R attribute */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c1, "-i", c1, "-o", o1,
                                                    NULL }), 0);
    check_cmd_output(o1, c1, TOL_PROX);
    assert_int_equal(mr_h5_open(o1, &h), MR_OK);
    assert_int_equal(mr_h5_read_attr_double(h, "/", "psi", &psi), MR_OK);
    assert_true(fabs(psi - 16.410265) < 1e-4 * 16.41);
    mr_h5_close(h);
    /* tiled, auto stride (3) */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c3, "-i", c3, "-o", o3,
                                                    NULL }), 0);
    check_cmd_output(o3, c3, TOL_PROX);
    /* PnP-PGD as in the golden */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, "-o", o4,
                                                    "--iterations", "3", "--step", "1",
                                                    "--patch-stride", "3", NULL }), 0);
    check_cmd_output(o4, c4, TOL_PGD);
    /* --raw, accepted for every architecture, gives the same raw outputs */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c1, "-i", c1, "-o", o1,
                                                    "--raw", NULL }), 0);
    check_cmd_output(o1, c1, TOL_PROX);
    assert_int_equal(run_cmd((const char *const[]){ "apply", "--raw", "-w", c4, "-i", c4, "-o",
                                                    o4, "--iterations", "3", "--step", "1",
                                                    "--patch-stride", "3", NULL }), 0);
    check_cmd_output(o4, c4, TOL_PGD);
    /* usage errors exit 2, run-time errors 1 */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, NULL }), 2);
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, "-o", o4,
                                                    "--step", "-1", NULL }), 2);
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, "-o", o4,
                                                    "--patch-stride", "5", NULL }), 1);
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, "-o", o4,
                                                    "--solver", "fista", NULL }), 1);
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, "-o", o4,
                                                    "--patch-window", "gauss", NULL }), 1);
    /* the Hann window runs (its blend is checked in test_tiling_hann_window) */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c4, "-o", o4,
                                                    "--iterations", "2", "--patch-stride", "3",
                                                    "--patch-window", "hann", NULL }), 0);
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c1, "-i", c4, "-o", o4,
                                                    NULL }), 1); /* in_dim 1: no complex PnP */
    assert_int_equal(run_cmd((const char *const[]){ "apply", "-w", c4, "-i", c1, "-o", o4,
                                                    NULL }), 1); /* 1-channel /input */
    const char *help[] = { "apply", "--help", NULL };
    assert_int_equal(run_cmd(help), 0);
}

/* ---- gradient check against an independent double-precision ψ ---------------------------- */

/* the reference layer list written out again, in double, with naive loops */
struct ref_net {
    int64_t c;
    int64_t k;
    double beta;
    double alpha;
    const float *lw[7];
    const float *lb0;
    const float *w7;
    double b7;
    const float *rw[6];
    const float *rb[6];
};

/* y (cout, ho, ho) = conv(x (cin, n, n)), square kernel ks, stride s, zero pad p, bias b */
static void ref_conv(double *y, const double *x, int64_t cin, int64_t n, int64_t cout,
                     const float *w, const float *b, int64_t ks, int64_t s, int64_t p)
{
    const int64_t ho = (n + 2 * p - ks) / s + 1;
    for (int64_t o = 0; o < cout; o++)
        for (int64_t i = 0; i < ho; i++)
            for (int64_t j = 0; j < ho; j++) {
                double acc = b != NULL ? (double)b[o] : 0.0;
                /* taps inside the image: 0 <= s·i + u − p < n */
                const int64_t u0 = p - s * i > 0 ? p - s * i : 0;
                const int64_t u1 = n + p - s * i < ks ? n + p - s * i : ks;
                const int64_t v0 = p - s * j > 0 ? p - s * j : 0;
                const int64_t v1 = n + p - s * j < ks ? n + p - s * j : ks;
                for (int64_t c = 0; c < cin; c++)
                    for (int64_t u = u0; u < u1; u++) {
                        const float *wr = w + ((o * cin + c) * ks + u) * ks;
                        const double *xr = x + (c * n + s * i + u - p) * n + s * j - p;
                        for (int64_t v = v0; v < v1; v++)
                            acc += (double)wr[v] * xr[v];
                    }
                y[(o * ho + i) * ho + j] = acc;
            }
}

static double ref_softplus(double z, double beta)
{
    return beta * z > 20.0 ? z : log1p(exp(beta * z)) / beta;
}

/* bilinear downsampling by f written from torch's formula: source (i + ½)·f − ½ */
static void ref_down(double *y, const double *x, int64_t c, int64_t n, int64_t f)
{
    const int64_t m = n / f;
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < m; j++) {
                double si = ((double)i + 0.5) * (double)f - 0.5;
                double sj = ((double)j + 0.5) * (double)f - 0.5;
                int64_t i0 = (int64_t)floor(si);
                int64_t j0 = (int64_t)floor(sj);
                double li = si - (double)i0;
                double lj = sj - (double)j0;
                const double *p = x + ch * n * n;
                y[(ch * m + i) * m + j] =
                    (1 - li) * ((1 - lj) * p[i0 * n + j0] + lj * p[i0 * n + j0 + 1]) +
                    li * ((1 - lj) * p[(i0 + 1) * n + j0] + lj * p[(i0 + 1) * n + j0 + 1]);
            }
}

static double ref_psi(const struct ref_net *r, const double *x)
{
    const int64_t c = r->c;
    const int64_t k = r->k;
    static const int64_t side[7] = { 128, 64, 64, 32, 32, 16, 1 };
    static const int64_t lstride[7] = { 1, 2, 1, 2, 1, 2, 1 };
    static const int64_t rstride[6] = { 2, 1, 2, 1, 2, 1 };
    static const int64_t rin[6] = { 128, 64, 64, 32, 32, 16 };
    double *xs[4];
    double *a = malloc(sizeof(double) * (size_t)(k * 128 * 128 + 64));
    double *z = malloc(sizeof(double) * (size_t)(k * 128 * 128 + 64));
    double *t = malloc(sizeof(double) * (size_t)(k * 64 * 64 + 64));

    xs[0] = (double *)x;
    for (int i = 1; i < 4; i++) {
        xs[i] = malloc(sizeof(double) * (size_t)(c * 64 * 64));
        ref_down(xs[i], x, c, 128, (int64_t)1 << i);
    }
    ref_conv(z, x, c, 128, k, r->lw[0], r->lb0, 3, 1, 1);
    for (int l = 1; l < 7; l++) {
        const int64_t nin = side[l - 1];
        const int64_t cin = k;
        const int64_t cout = l == 6 ? 64 : k;
        const int64_t ks = l == 6 ? 16 : 3;
        const int64_t pad = l == 6 ? 0 : 1;
        const int64_t nz = cin * nin * nin;
        for (int64_t i = 0; i < nz; i++)
            a[i] = ref_softplus(z[i], r->beta);
        ref_conv(z, a, cin, nin, cout, r->lw[l], NULL, ks, lstride[l], pad);
        const int64_t lev = (rin[l - 1] == 128) ? 0 : (rin[l - 1] == 64 ? 1 : (rin[l - 1] == 32 ? 2 : 3));
        ref_conv(t, xs[lev], c, rin[l - 1], cout, r->rw[l - 1], r->rb[l - 1], ks, rstride[l - 1],
                 pad);
        for (int64_t i = 0; i < cout * side[l] * side[l]; i++)
            z[i] += t[i];
    }
    double psi = r->b7;
    for (int o = 0; o < 64; o++)
        psi += (double)r->w7[o] * ref_softplus(z[o], r->beta);
    double ss = 0.0;
    for (int64_t i = 0; i < c * 128 * 128; i++)
        ss += x[i] * x[i];
    for (int i = 1; i < 4; i++)
        free(xs[i]);
    free(a);
    free(z);
    free(t);
    return psi + r->alpha * ss;
}

/* tensors of a network held as test-owned arrays (for seeded random networks) */
struct table {
    int n;
    char names[24][32];
    struct mr_array arrs[24];
};

static mr_status table_get(void *arg, const char *name, int ndim, const int64_t *dims,
                           const float **out)
{
    struct table *tb = arg;
    for (int i = 0; i < tb->n; i++)
        if (strcmp(tb->names[i], name) == 0) {
            if (tb->arrs[i].ndim != ndim)
                return MR_FAIL(MR_ERR_WEIGHTS, "'%s' rank", name);
            for (int d = 0; d < ndim; d++)
                if (tb->arrs[i].dims[d] != dims[d])
                    return MR_FAIL(MR_ERR_WEIGHTS, "'%s' shape", name);
            *out = mr_array_f32(&tb->arrs[i]);
            return MR_OK;
        }
    return MR_FAIL(MR_ERR_WEIGHTS, "missing key '%s'", name);
}

static void table_add(struct table *tb, const char *name, int ndim, const int64_t *dims,
                      struct mr_test_rng *rng, double scale, bool nonneg)
{
    assert_true(tb->n < 24);
    snprintf(tb->names[tb->n], sizeof(tb->names[0]), "%s", name);
    struct mr_array *a = &tb->arrs[tb->n++];
    assert_int_equal(mr_array_init(a, MR_DTYPE_F32, ndim, dims), MR_OK);
    float *d = mr_array_f32(a);
    for (int64_t i = 0; i < mr_array_numel(a); i++) {
        double v = scale * mr_test_rng_normal(rng);
        d[i] = (float)(nonneg ? fabs(v) : v);
    }
}

/* a seeded random LPN (C, K) whose pre-activations straddle both softplus branches */
static void table_make(struct table *tb, int64_t c, int64_t k, uint64_t seed)
{
    struct mr_test_rng rng;
    char name[32];
    mr_test_rng_seed(&rng, seed);
    tb->n = 0;
    table_add(tb, "lin.0.weight", 4, (const int64_t[]){ k, c, 3, 3 }, &rng, 0.3, false);
    table_add(tb, "lin.0.bias", 1, (const int64_t[]){ k }, &rng, 0.1, false);
    for (int l = 1; l <= 5; l++) {
        snprintf(name, sizeof(name), "lin.%d.weight", l);
        table_add(tb, name, 4, (const int64_t[]){ k, k, 3, 3 }, &rng, 0.3 / (double)k, true);
    }
    table_add(tb, "lin.6.weight", 4, (const int64_t[]){ 64, k, 16, 16 }, &rng,
              0.3 / (double)(k * 256), true);
    table_add(tb, "lin.7.weight", 2, (const int64_t[]){ 1, 64 }, &rng, 1.0, true);
    table_add(tb, "lin.7.bias", 1, (const int64_t[]){ 1 }, &rng, 1.0, false);
    for (int r = 0; r <= 5; r++) {
        const int64_t co = r == 5 ? 64 : k;
        const int64_t ks = r == 5 ? 16 : 3;
        snprintf(name, sizeof(name), "res.%d.weight", r);
        table_add(tb, name, 4, (const int64_t[]){ co, c, ks, ks }, &rng,
                  0.5 / (double)(ks * ks), false);
        snprintf(name, sizeof(name), "res.%d.bias", r);
        table_add(tb, name, 1, (const int64_t[]){ co }, &rng, 0.1, false);
    }
}

static void table_free(struct table *tb)
{
    for (int i = 0; i < tb->n; i++)
        mr_array_cleanup(&tb->arrs[i]);
    tb->n = 0;
}

static void ref_from(struct ref_net *r, struct table *tb, const struct mr_lpn_config *cfg)
{
    char name[32];
    const float *p = NULL;
    r->c = cfg->in_dim;
    r->k = cfg->hidden;
    r->beta = (double)cfg->beta;
    r->alpha = (double)cfg->alpha;
    for (int l = 0; l < 7; l++) {
        snprintf(name, sizeof(name), "lin.%d.weight", l);
        for (int i = 0; i < tb->n; i++)
            if (strcmp(tb->names[i], name) == 0)
                r->lw[l] = mr_array_f32(&tb->arrs[i]);
    }
    for (int q = 0; q < 6; q++)
        for (int i = 0; i < tb->n; i++) {
            snprintf(name, sizeof(name), "res.%d.weight", q);
            if (strcmp(tb->names[i], name) == 0)
                r->rw[q] = mr_array_f32(&tb->arrs[i]);
            snprintf(name, sizeof(name), "res.%d.bias", q);
            if (strcmp(tb->names[i], name) == 0)
                r->rb[q] = mr_array_f32(&tb->arrs[i]);
        }
    for (int i = 0; i < tb->n; i++) {
        if (strcmp(tb->names[i], "lin.0.bias") == 0)
            r->lb0 = mr_array_f32(&tb->arrs[i]);
        if (strcmp(tb->names[i], "lin.7.weight") == 0)
            r->w7 = mr_array_f32(&tb->arrs[i]);
        if (strcmp(tb->names[i], "lin.7.bias") == 0)
            p = mr_array_f32(&tb->arrs[i]);
    }
    r->b7 = (double)p[0];
}

/*
 * ∇ψ from the network vs central differences of ref_psi: at chosen pixels (corners, borders,
 * taps of D₄/D₈ and pixels none of them touch) and along random directions. Also ψ vs ref ψ.
 */
static void gradient_check(const struct mr_lpn_config *cfg, uint64_t seed, double xscale)
{
    struct table tb;
    struct ref_net ref;
    struct mr_lpn *lpn = NULL;
    struct mr_array x;
    struct mr_array gx;
    struct mr_test_rng rng;
    const int64_t n = cfg->in_dim * 128 * 128;
    const double hstep = 1e-4;

    table_make(&tb, cfg->in_dim, cfg->hidden, seed);
    ref_from(&ref, &tb, cfg);
    assert_int_equal(mr_lpn_create_from(cfg, table_get, &tb, &lpn), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, cfg->in_dim, 128, 128), MR_OK);
    assert_int_equal(mr_array_init_like(&gx, &x), MR_OK);
    mr_test_rand(&x, seed + 1);
    float *xf = mr_array_f32(&x);
    for (int64_t i = 0; i < n; i++)
        xf[i] = (float)(xscale * (double)xf[i]);
    double psi = 0.0;
    mr_lpn_prox_patch(lpn, &gx, &x, &psi);
    const float *g = mr_array_f32(&gx);

    double *xd = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        xd[i] = (double)xf[i];
    const double psi_ref = ref_psi(&ref, xd);
    expect_rel("psi vs double reference", psi, psi_ref, 1e-5);

    /* softplus branches actually taken: some pre-activations on each side of 20/β */
    int64_t lin = 0;
    int64_t curved = 0;
    for (int k = 0; k < 7; k++) {
        const struct mr_array *z = mr_lpn_z(lpn, k);
        for (int64_t i = 0; i < mr_array_numel(z); i++) {
            if ((double)mr_array_f32(z)[i] * (double)cfg->beta > 20.0)
                lin++;
            else
                curved++;
        }
    }
    assert_true(lin > 0 && curved > 0);

    double gmax = 0.0;
    for (int64_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs((double)g[i]));
    /* corners and borders; (5,6): taps of D₄ only, (3,4) and (11,12): of D₈ only, (7,8): of
     * neither (every pixel is a D₂ tap) */
    static const int64_t pix[][2] = {
        { 0, 0 }, { 127, 127 }, { 0, 127 }, { 5, 6 }, { 3, 4 }, { 11, 12 }, { 64, 63 }, { 7, 8 },
    };
    double worst = 0.0;
    for (size_t p = 0; p < sizeof(pix) / sizeof(pix[0]); p++) {
        const int64_t ch = (int64_t)p % cfg->in_dim; /* alternate channels */
        const int64_t i = (ch * 128 + pix[p][0]) * 128 + pix[p][1];
        const double x0 = xd[i];
        xd[i] = x0 + hstep;
        const double fp = ref_psi(&ref, xd);
        xd[i] = x0 - hstep;
        const double fm = ref_psi(&ref, xd);
        xd[i] = x0;
        const double fd = (fp - fm) / (2.0 * hstep);
        worst = fmax(worst, fabs(fd - (double)g[i]) / gmax);
    }
    print_message("    pixel FD: max |prox - FD| / max|prox| = %.2e\n", worst);
    mr_test_assert_below("prox vs finite differences", worst, 1e-4, __FILE__, __LINE__);

    /* directional derivatives along random unit directions */
    double *v = malloc(sizeof(double) * (size_t)n);
    double *xp = malloc(sizeof(double) * (size_t)n);
    mr_test_rng_seed(&rng, seed + 2);
    double gnorm = 0.0;
    for (int64_t i = 0; i < n; i++)
        gnorm += (double)g[i] * (double)g[i];
    gnorm = sqrt(gnorm);
    worst = 0.0;
    for (int d = 0; d < 2; d++) {
        double vn = 0.0;
        for (int64_t i = 0; i < n; i++) {
            v[i] = mr_test_rng_normal(&rng);
            vn += v[i] * v[i];
        }
        vn = sqrt(vn);
        double dot = 0.0;
        for (int64_t i = 0; i < n; i++) {
            v[i] /= vn;
            dot += v[i] * (double)g[i];
        }
        for (int64_t i = 0; i < n; i++)
            xp[i] = xd[i] + hstep * v[i];
        const double fp = ref_psi(&ref, xp);
        for (int64_t i = 0; i < n; i++)
            xp[i] = xd[i] - hstep * v[i];
        const double fm = ref_psi(&ref, xp);
        worst = fmax(worst, fabs((fp - fm) / (2.0 * hstep) - dot) / gnorm);
    }
    print_message("    directional FD: max |<prox,v> - FD| / ||prox|| = %.2e\n", worst);
    mr_test_assert_below("directional derivative", worst, 1e-5, __FILE__, __LINE__);

    free(v);
    free(xp);
    free(xd);
    mr_array_cleanup(&x);
    mr_array_cleanup(&gx);
    mr_lpn_free(lpn);
    table_free(&tb);
}

static void test_gradient_vs_finite_differences(void **state)
{
    (void)state;
    struct mr_lpn_config cfg = mr_lpn_config_default;
    cfg.in_dim = 2;
    cfg.hidden = 3;
    cfg.beta = 10.0f;
    cfg.alpha = 0.05f;
    gradient_check(&cfg, 11, 1.0);
    cfg.in_dim = 1;
    cfg.hidden = 5;
    cfg.beta = 100.0f;
    cfg.alpha = 1e-6f;
    gradient_check(&cfg, 12, 0.3);
}

/* ---- error paths -------------------------------------------------------------------------- */

struct bad_get {
    struct table *tb;
    const char *negate; /* make the first entry of this tensor negative */
    const char *drop;   /* report this tensor missing */
};

static mr_status bad_get_fn(void *arg, const char *name, int ndim, const int64_t *dims,
                            const float **out)
{
    struct bad_get *b = arg;
    if (b->drop != NULL && strcmp(name, b->drop) == 0)
        return MR_FAIL(MR_ERR_WEIGHTS, "missing key '%s'", name);
    mr_status st = table_get(b->tb, name, ndim, dims, out);
    if (st == MR_OK && b->negate != NULL && strcmp(name, b->negate) == 0)
        ((float *)*out)[0] = -1.0f;
    return st;
}

static void test_load_errors(void **state)
{
    (void)state;
    struct table tb;
    struct mr_lpn *lpn = NULL;
    struct mr_lpn_config cfg = mr_lpn_config_default;
    struct bad_get b = { &tb, NULL, NULL };

    cfg.in_dim = 2;
    cfg.hidden = 2;
    table_make(&tb, 2, 2, 5);
    b.drop = "res.3.bias";
    assert_int_equal(mr_lpn_create_from(&cfg, bad_get_fn, &b, &lpn), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "res.3.bias"));
    assert_null(lpn);
    b.drop = NULL;
    b.negate = "lin.4.weight";
    assert_int_equal(mr_lpn_create_from(&cfg, bad_get_fn, &b, &lpn), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "lin.4.weight"));
    cfg.check_nonneg = false; /* a foreign checkpoint can still be run on request */
    assert_int_equal(mr_lpn_create_from(&cfg, bad_get_fn, &b, &lpn), MR_OK);
    mr_lpn_free(lpn);
    lpn = NULL;
    cfg.hidden = 3; /* shapes disagree with the tensors */
    assert_int_equal(mr_lpn_create_from(&cfg, table_get, &tb, &lpn), MR_ERR_WEIGHTS);
    cfg.hidden = 0;
    assert_int_equal(mr_lpn_create_from(&cfg, table_get, &tb, &lpn), MR_ERR_ARG);
    table_free(&tb);

    /* weight store: wrong architecture, unused tensors, bad config */
    struct mr_weights *ws = NULL;
    assert_int_equal(mr_weights_load(mr_test_data("lpn/case_1.h5"), &ws), MR_OK);
    assert_string_equal(mr_weights_architecture(ws), "lpn");
    assert_int_equal(mr_weights_set_architecture(ws, "e2evn"), MR_OK);
    assert_int_equal(mr_lpn_create(ws, &lpn), MR_ERR_WEIGHTS);
    assert_int_equal(mr_weights_set_architecture(ws, "lpn"), MR_OK);
    assert_int_equal(mr_weights_set_config(ws, "{\"in_dim\": 1, \"hidden\": 4, \"beta\": -1}"),
                     MR_OK);
    assert_int_equal(mr_lpn_create(ws, &lpn), MR_ERR_WEIGHTS);
    assert_int_equal(mr_weights_set_config(ws, "{\"in_dim\": 1, \"hidden\": 4, \"beta\": 100}"),
                     MR_OK);
    struct mr_array extra;
    assert_int_equal(mr_array_init_dims(&extra, MR_DTYPE_F32, 1, (int64_t)3), MR_OK);
    assert_int_equal(mr_weights_add_take(ws, "lin.8.weight", &extra), MR_OK);
    mr_weights_reset_used(ws);
    assert_int_equal(mr_lpn_create(ws, &lpn), MR_ERR_WEIGHTS);
    assert_non_null(strstr(mr_last_error(), "lin.8.weight"));
    assert_null(lpn);
    mr_weights_free(ws);
}

/* the Hann window: every pixel is Σ w·prox(patch) / Σ w with w(i, j) = h(i)·h(j),
 * h(i) = sin²(π(i + ½)/128), over the patches covering it (here recomputed patch by patch in
 * double from the bare prox), on a grid with a covered border; one patch = the bare prox */
static void test_tiling_hann_window(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_lpn_tiler *t = NULL;
    struct mr_lpn_tiling_config tc = mr_lpn_tiling_config_default;
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array patch = { 0 };
    struct mr_array pout = { 0 };
    const int64_t p = MR_LPN_PATCH;
    const int64_t h = 150;
    const int64_t w = 171;
    double win[MR_LPN_PATCH];
    int64_t nr = 0;
    int64_t nc = 0;
    const int64_t *rows = NULL;
    const int64_t *cols = NULL;
    double psi = 0.0;

    case_open(&g, 3);
    const int64_t c = mr_lpn_get_config(g.lpn)->in_dim;
    for (int64_t i = 0; i < p; i++)
        win[i] = pow(sin(M_PI * ((double)i + 0.5) / (double)p), 2.0);
    tc.stride = 20;
    tc.cover_border = true;
    tc.window = MR_LPN_WINDOW_HANN;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, h, w, &tc, &t), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, c, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, c, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&patch, MR_DTYPE_F32, 3, c, p, p), MR_OK);
    assert_int_equal(mr_array_init_dims(&pout, MR_DTYPE_F32, 3, c, p, p), MR_OK);
    mr_test_rand(&x, 91);
    mr_lpn_tiler_apply(t, &y, &x);

    double *num = calloc((size_t)(c * h * w), sizeof(double));
    double *den = calloc((size_t)(h * w), sizeof(double));
    assert_non_null(num);
    assert_non_null(den);
    mr_lpn_tiler_grid(t, &nr, &rows, &nc, &cols);
    assert_true(nr == 3 && nc == 4); /* rows {0, 20 | 22}, cols {0, 20, 40 | 43} */
    for (int64_t a = 0; a < nr; a++)
        for (int64_t b = 0; b < nc; b++) {
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < p; i++)
                    for (int64_t j = 0; j < p; j++)
                        mr_array_f32(&patch)[(ch * p + i) * p + j] =
                            mr_array_f32(&x)[(ch * h + rows[a] + i) * w + cols[b] + j];
            mr_lpn_prox_patch(g.lpn, &pout, &patch, &psi);
            for (int64_t i = 0; i < p; i++)
                for (int64_t j = 0; j < p; j++) {
                    const double wt = win[i] * win[j];
                    den[(rows[a] + i) * w + cols[b] + j] += wt;
                    for (int64_t ch = 0; ch < c; ch++)
                        num[(ch * h + rows[a] + i) * w + cols[b] + j] +=
                            wt * (double)mr_array_f32(&pout)[(ch * p + i) * p + j];
                }
        }
    assert_int_equal(mr_array_init_like(&ref, &y), MR_OK);
    for (int64_t i = 0; i < c * h * w; i++)
        mr_array_f32(&ref)[i] = (float)(num[i] / den[i % (h * w)]);
    mr_test_assert_below("hann-blended tiling", mr_test_max_rel_err(&y, &ref), 1e-6, __FILE__,
                         __LINE__);
    /* a single patch: the window cancels */
    mr_lpn_tiler_free(t);
    t = NULL;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, p, p, &tc, &t), MR_OK);
    mr_lpn_tiler_apply(t, &pout, &patch);
    mr_array_cleanup(&ref);
    assert_int_equal(mr_array_init_like(&ref, &pout), MR_OK);
    mr_lpn_prox_patch(g.lpn, &ref, &patch, &psi);
    mr_test_assert_below("hann single patch", mr_test_max_rel_err(&pout, &ref), 1e-6, __FILE__,
                         __LINE__);
    free(num);
    free(den);
    mr_lpn_tiler_free(t);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&patch);
    mr_array_cleanup(&pout);
    case_close(&g);
}

static void test_tiling_errors_and_border(void **state)
{
    (void)state;
    struct gcase g;
    struct mr_lpn_tiler *t = NULL;
    struct mr_lpn_tiling_config tc = mr_lpn_tiling_config_default;
    struct mr_prior prior = { 0 };
    int64_t nr = 0;
    int64_t nc = 0;
    const int64_t *r = NULL;
    const int64_t *c = NULL;

    case_open(&g, 3);
    tc.stride = 5; /* 131: rows {0} only, pixels 128..130 uncovered */
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 131, 137, &tc, &t), MR_ERR_UNSUPPORTED);
    assert_null(t);
    tc.cover_border = true;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 131, 137, &tc, &t), MR_OK);
    mr_lpn_tiler_grid(t, &nr, &r, &nc, &c);
    assert_int_equal(nr, 2);
    assert_int_equal(r[1], 3);
    assert_int_equal(nc, 3);
    assert_int_equal(c[1], 5);
    assert_int_equal(c[2], 9);
    const struct mr_array *cnt = mr_lpn_tiler_count(t);
    for (int64_t i = 0; i < mr_array_numel(cnt); i++)
        assert_true(mr_array_f32(cnt)[i] >= 1.0f);
    mr_lpn_tiler_free(t);
    t = NULL;
    tc.stride = -1;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 131, 137, &tc, &t), MR_ERR_ARG);
    /* auto stride: the largest ≤ 64 dividing gcd(131 − 128, 137 − 128) = 3, the case 3 grid */
    tc.stride = 0;
    tc.cover_border = false;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 131, 137, &tc, &t), MR_OK);
    assert_int_equal(mr_lpn_tiler_stride(t), 3);
    mr_lpn_tiler_grid(t, &nr, &r, &nc, &c);
    assert_int_equal(nr * nc, 8);
    mr_lpn_tiler_free(t);
    t = NULL;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 320, 320, &tc, &t), MR_OK);
    assert_int_equal(mr_lpn_tiler_stride(t), 64);
    mr_lpn_tiler_free(t);
    t = NULL;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 128, 131, &tc, &t), MR_OK);
    assert_int_equal(mr_lpn_tiler_stride(t), 3);
    mr_lpn_tiler_free(t);
    t = NULL;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 128, 128, &tc, &t), MR_OK);
    mr_lpn_tiler_grid(t, &nr, &r, &nc, &c);
    assert_int_equal(nr * nc, 1);
    mr_lpn_tiler_free(t);
    t = NULL;
    tc.stride = 3;
    assert_int_equal(mr_lpn_tiler_create(g.lpn, 127, 137, &tc, &t), MR_ERR_UNSUPPORTED);
    case_close(&g);

    case_open(&g, 1); /* one channel: no complex prior */
    assert_int_equal(mr_lpn_prior_create(g.lpn, 128, 128, &tc, &prior), MR_ERR_ARG);
    assert_null(prior.ops);
    case_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case1_prox_psi_intermediates),
        cmocka_unit_test(test_case2_two_channels),
        cmocka_unit_test(test_case3_tiled),
        cmocka_unit_test(test_case4_pnp_pgd_sense),
        cmocka_unit_test(test_case4_net_ops),
        cmocka_unit_test(test_pnp_config_keys),
        cmocka_unit_test(test_case4_admm_and_normalize),
        cmocka_unit_test(test_case4_registry),
        cmocka_unit_test(test_apply_command),
        cmocka_unit_test(test_gradient_vs_finite_differences),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_tiling_errors_and_border),
        cmocka_unit_test(test_tiling_hann_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
