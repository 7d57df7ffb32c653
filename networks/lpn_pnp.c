/*
 * PnP reconstruction with the LPN prior (lpn_pnp.h; Fang, Buchanan, Sulam, ICLR 2024:
 * lpn/inverse_celeba.py, lpn/utils/admm.py; shared/specs/lpn.md §8): the weight file's solver
 * settings, the LPN prior inside recon/pnp.h's SENSE reconstruction, and the registry row.
 */
#include "networks/lpn_pnp.h"

#include <complex.h>
#include <stdlib.h>
#include <string.h>

const struct mr_lpn_pnp_config mr_lpn_pnp_config_default = {
    .solver = MR_PNP_SENSE_CONFIG_DEFAULT,
    .tiling = { .stride = 0, .cover_border = false, .window = MR_LPN_WINDOW_UNIFORM },
};

mr_status mr_lpn_pnp_config_read(const struct mr_config *json, struct mr_lpn_pnp_config *cfg)
{
    mr_status st = MR_OK;
    const char *solver = NULL;
    const char *window = NULL;
    int64_t iters = 0;
    int64_t stride = 0;
    int64_t cg_iters = 0;
    double step = 0.0;
    double tol = 0.0;
    double rho = 0.0;
    double scale = 0.0;
    double cg_tol = 0.0;

    MR_CHECK(mr_config_string(json, "pnp_solver", cfg->solver.admm ? "admm" : "pgd", &solver));
    if (strcmp(solver, "pgd") != 0 && strcmp(solver, "admm") != 0) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "pnp_solver '%s' is neither 'pgd' nor 'admm'", solver);
        goto out;
    }
    MR_CHECK(mr_config_int_in(json, "pnp_iterations", cfg->solver.pnp.iters, 0,
                              MR_NET_MAX_ITERATIONS, &iters));
    MR_CHECK(mr_config_double_positive(json, "pnp_step", (double)cfg->solver.pnp.step, 1e6,
                                       &step));
    MR_CHECK(mr_config_double_in(json, "pnp_tol", (double)cfg->solver.pnp.tol, 0.0, 1.0, &tol));
    MR_CHECK(mr_config_int_in(json, "patch_stride", cfg->tiling.stride, 0, MR_LPN_PATCH,
                              &stride));
    MR_CHECK(mr_config_bool(json, "cover_border", cfg->tiling.cover_border,
                            &cfg->tiling.cover_border));
    MR_CHECK(mr_config_string(json, "patch_window",
                              cfg->tiling.window == MR_LPN_WINDOW_HANN ? "hann" : "uniform",
                              &window));
    if (strcmp(window, "uniform") != 0 && strcmp(window, "hann") != 0) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "patch_window '%s' is neither 'uniform' nor 'hann'",
                     window);
        goto out;
    }
    MR_CHECK(mr_config_double_positive(json, "admm_rho", (double)cfg->solver.pnp.rho, 1e6,
                                       &rho));
    MR_CHECK(mr_config_double_positive(json, "admm_scale", (double)cfg->solver.pnp.scale, 1e6,
                                       &scale));
    MR_CHECK(mr_config_int_in(json, "cg_iterations", cfg->solver.pnp.cg_iters, 0,
                              MR_NET_MAX_ITERATIONS, &cg_iters));
    MR_CHECK(mr_config_double_in(json, "cg_tol", (double)cfg->solver.pnp.cg_tol, 0.0, 1.0,
                                 &cg_tol));
    MR_CHECK(mr_config_bool(json, "normalize", cfg->solver.normalize, &cfg->solver.normalize));
    cfg->solver.admm = strcmp(solver, "admm") == 0;
    cfg->solver.pnp.iters = (int)iters;
    cfg->solver.pnp.step = (float)step;
    cfg->solver.pnp.tol = (float)tol;
    cfg->tiling.stride = stride;
    cfg->tiling.window = strcmp(window, "hann") == 0 ? MR_LPN_WINDOW_HANN : MR_LPN_WINDOW_UNIFORM;
    cfg->solver.pnp.rho = (float)rho;
    cfg->solver.pnp.scale = (float)scale;
    cfg->solver.pnp.cg_iters = (int)cg_iters;
    cfg->solver.pnp.cg_tol = (float)cg_tol;
out:
    return st;
}

void mr_lpn_pnp_config_for_inference(struct mr_lpn_pnp_config *cfg, int iterations)
{
    cfg->solver.normalize = true;
    cfg->tiling.cover_border = true;
    if (cfg->tiling.stride == 0)
        cfg->tiling.stride = 64; /* the reference's stride; the borders are covered above */
    if (iterations > 0)
        cfg->solver.pnp.iters = iterations;
}

struct mr_lpn_recon {
    struct mr_lpn_pnp_config cfg;
    struct mr_pnp_sense *pnp;
    struct mr_prior prior;
};

void mr_lpn_recon_free(struct mr_lpn_recon *r)
{
    if (r == NULL)
        return;
    mr_prior_cleanup(&r->prior);
    mr_pnp_sense_free(r->pnp);
    free(r);
}

mr_status mr_lpn_recon_create(struct mr_lpn *lpn, const struct mr_lpn_pnp_config *cfg,
                              int64_t nc, int64_t h, int64_t w, struct mr_lpn_recon **out)
{
    mr_status st = MR_OK;
    struct mr_lpn_recon *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN reconstruction");
    r->cfg = *cfg;
    MR_CHECK(mr_lpn_prior_create(lpn, h, w, &cfg->tiling, &r->prior));
    MR_CHECK(mr_pnp_sense_create(nc, h, w, &r->pnp));
    *out = r;
    r = NULL;
out:
    mr_lpn_recon_free(r);
    return st;
}

mr_status mr_lpn_recon_run(struct mr_lpn_recon *r, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *sens,
                           struct mr_array *img, struct mr_pnp_info *info,
                           const struct mr_probe *probe)
{
    return mr_pnp_sense_run(r->pnp, &r->cfg.solver, &r->prior, ksp, mask, sens, img, info,
                            probe);
}

double mr_lpn_recon_regularizer(const struct mr_lpn_recon *r)
{
    return mr_lpn_tiler_last_regularizer(r->prior.ctx);
}

const struct mr_lpn_tiler *mr_lpn_recon_tiler(const struct mr_lpn_recon *r)
{
    return r->prior.ctx;
}

/* ---- the registry row (networks/net.h) -------------------------------------------------- */

struct lpn_net {
    struct mr_lpn *lpn;
    struct mr_lpn_pnp_config cfg;
    struct mr_lpn_recon *recon;
};

static void lpn_net_free(void *ctx)
{
    struct lpn_net *n = ctx;
    if (n == NULL)
        return;
    mr_lpn_recon_free(n->recon);
    mr_lpn_free(n->lpn);
    free(n);
}

static mr_status lpn_net_create(struct mr_weights *ws, const struct mr_config *json,
                                const struct mr_net_options *opt, void **ctx)
{
    mr_status st = MR_OK;
    struct lpn_net *n = calloc(1, sizeof(*n));

    if (n == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN network");
    n->cfg = mr_lpn_pnp_config_default;
    MR_CHECK(mr_lpn_pnp_config_read(json, &n->cfg));
    if (opt->inference)
        mr_lpn_pnp_config_for_inference(&n->cfg, opt->iterations);
    MR_CHECK(mr_lpn_create_config(ws, json, &n->lpn));
    const int64_t in_dim = mr_lpn_get_config(n->lpn)->in_dim;
    if (in_dim != 2) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "an LPN reconstructs complex MR images with in_dim 2 "
                     "([Re, Im]); this one has in_dim %lld", (long long)in_dim);
        goto out;
    }
    *ctx = n;
    n = NULL;
out:
    lpn_net_free(n);
    return st;
}

static mr_status lpn_net_prepare(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                                 int64_t *out_dims, enum mr_dtype *out_dtype)
{
    struct lpn_net *n = ctx;
    mr_status st;

    mr_lpn_recon_free(n->recon);
    n->recon = NULL;
    st = mr_lpn_recon_create(n->lpn, &n->cfg, nc, h, w, &n->recon);
    if (st == MR_ERR_UNSUPPORTED)
        return mr_fail_context(MR_ERR_SHAPE, "lpn");
    if (st != MR_OK)
        return st;
    *out_ndim = 2;
    out_dims[0] = h;
    out_dims[1] = w;
    *out_dtype = MR_DTYPE_CF32;
    return MR_OK;
}

static mr_status lpn_net_run(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                             const struct mr_probe *probe)
{
    struct lpn_net *n = ctx;
    return mr_lpn_recon_run(n->recon, in->ksp, in->mask, in->sens, out, NULL, probe);
}

static void lpn_net_image(void *ctx, struct mr_array *img, const struct mr_array *out)
{
    (void)ctx;
    const float complex *x = mr_array_cf32(out);
    float *m = mr_array_f32(img);
    const int64_t n = mr_array_numel(img);

    MR_ASSERT(mr_array_numel(out) == n);
    for (int64_t i = 0; i < n; i++)
        m[i] = cabsf(x[i]);
}

/* inference normalises the k-space by max|Aᴴy| (the reference forward does not) */
static bool lpn_net_scales_with_data(const void *ctx)
{
    const struct lpn_net *n = ctx;
    return n->cfg.solver.normalize;
}

const struct mr_net_ops mr_lpn_ops = {
    .name = "lpn",
    .needs = MR_NET_NEED_SENS,
    .create = lpn_net_create,
    .prepare = lpn_net_prepare,
    .run = lpn_net_run,
    .image = lpn_net_image,
    .free = lpn_net_free,
    .scales_with_data = lpn_net_scales_with_data,
};
