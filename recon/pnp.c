/*
 * Plug-and-play proximal gradient and ADMM (pnp.h), after the LPN paper's solvers (Fang,
 * Buchanan, Sulam, ICLR 2024: lpn/inverse_celeba.py main_celeba_pgd; lpn/utils/admm.py, i.e.
 * scico's ADMM with the update order "132"). The solvers only see struct mr_prior: which
 * network (or analytic prior) supplies the prox is the caller's business.
 */
#include "recon/pnp.h"

#include <math.h>
#include <stdlib.h>

#include "recon/cg.h"
#include "recon/kscale.h"
#include "recon/sense.h"
#include "recon/vec.h"

const struct mr_pnp_config mr_pnp_config_default = MR_PNP_CONFIG_DEFAULT;
const struct mr_pnp_sense_config mr_pnp_sense_config_default = MR_PNP_SENSE_CONFIG_DEFAULT;

struct mr_pnp {
    struct mr_array r;     /* A's output shape: A x − y */
    struct mr_array g;     /* gradient / prox input */
    struct mr_array z;     /* PGD: prox input; ADMM: the split variable z */
    struct mr_array u;     /* ADMM: the scaled dual u */
    struct mr_array xprev; /* x_{k−1} for the stopping rule */
    struct mr_array aty;   /* ADMM: Aᴴy */
    struct mr_cg *cg;
};

void mr_pnp_free(struct mr_pnp *p)
{
    if (p == NULL)
        return;
    mr_array_cleanup(&p->r);
    mr_array_cleanup(&p->g);
    mr_array_cleanup(&p->z);
    mr_array_cleanup(&p->u);
    mr_array_cleanup(&p->xprev);
    mr_array_cleanup(&p->aty);
    mr_cg_free(p->cg);
    free(p);
}

mr_status mr_pnp_create(const struct mr_linop *A, struct mr_pnp **out)
{
    mr_status st = MR_OK;
    struct mr_pnp *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "PnP solver");
    MR_CHECK(mr_array_init(&p->r, MR_DTYPE_CF32, A->out_ndim, A->out_dims));
    MR_CHECK(mr_array_init(&p->g, MR_DTYPE_CF32, A->in_ndim, A->in_dims));
    MR_CHECK(mr_array_init(&p->z, MR_DTYPE_CF32, A->in_ndim, A->in_dims));
    MR_CHECK(mr_array_init(&p->u, MR_DTYPE_CF32, A->in_ndim, A->in_dims));
    MR_CHECK(mr_array_init(&p->xprev, MR_DTYPE_CF32, A->in_ndim, A->in_dims));
    MR_CHECK(mr_array_init(&p->aty, MR_DTYPE_CF32, A->in_ndim, A->in_dims));
    MR_CHECK(mr_cg_create(A->in_ndim, A->in_dims, &p->cg));
    *out = p;
    p = NULL;
out:
    mr_pnp_free(p);
    return st;
}

/* shared argument checks of both solvers */
static mr_status check_common(const struct mr_pnp *p, const struct mr_pnp_config *cfg,
                              const struct mr_linop *A, const struct mr_prior *prior,
                              const struct mr_array *y, const struct mr_array *x)
{
    if (cfg->iters < 0 || !(cfg->tol >= 0.0f))
        return MR_FAIL(MR_ERR_ARG, "PnP: iterations %d and tolerance %g must be >= 0",
                       cfg->iters, (double)cfg->tol);
    if (prior == NULL || prior->ops == NULL || prior->ops->prox == NULL)
        return MR_FAIL(MR_ERR_ARG, "PnP: no prior given");
    if (x->dtype != MR_DTYPE_CF32 || y->dtype != MR_DTYPE_CF32 ||
        mr_array_numel(x) != mr_array_numel(&p->g) || mr_array_numel(y) != mr_array_numel(&p->r) ||
        mr_linop_in_numel(A) != mr_array_numel(&p->g) ||
        mr_linop_out_numel(A) != mr_array_numel(&p->r))
        return MR_FAIL(MR_ERR_ARG, "PnP: image, data or operator shape differs from the "
                       "solver's");
    return MR_OK;
}

/* relative change ‖x − xprev‖/‖x‖ (xprev is overwritten) */
static double rel_change(struct mr_array *xprev, const struct mr_array *x)
{
    mr_vec_axpy(xprev, -1.0f, x);
    const double nx = mr_vec_norm(x);
    const double d = mr_vec_norm(xprev);
    return nx > 0.0 ? d / nx : (d > 0.0 ? (double)INFINITY : 0.0);
}

/* probes "z_<kk>" (when z is given) and "x_<kk>" of iteration k */
static void emit(const struct mr_probe *probe, int k, const struct mr_array *x,
                 const struct mr_array *z)
{
    if (z != NULL)
        mr_probe_emitf(probe, -1, z, "z_%02d", k);
    mr_probe_emitf(probe, -1, x, "x_%02d", k);
}

/* the report's numbers of iterate `index` (recon/dc.h names): r = A x − y, R = R(x) or NaN */
/* the report's numbers of iterate `index`: "dc_residual" ‖A x − y‖ / ‖y‖ and, when the prior
 * evaluates R (reg finite), "regularizer" R and "objective" fit·‖A x − y‖² + weight·R */
static void report_iterate(const struct mr_probe *probe, int64_t index, double rnorm,
                           double ynorm, double fit, double weight, double reg)
{
    mr_probe_emit_value(probe, "dc_residual", index, ynorm > 0.0 ? rnorm / ynorm : 0.0);
    if (isfinite(reg)) {
        mr_probe_emit_value(probe, "regularizer", index, reg);
        mr_probe_emit_value(probe, "objective", index, fit * rnorm * rnorm + weight * reg);
    }
}

mr_status mr_pnp_pgd(struct mr_pnp *p, const struct mr_pnp_config *cfg, const struct mr_linop *A,
                     const struct mr_prior *prior, const struct mr_array *y, struct mr_array *x,
                     struct mr_pnp_info *info, const struct mr_probe *probe)
{
    mr_status st = check_common(p, cfg, A, prior, y, x);
    struct mr_pnp_info inf = { 0 };

    if (st != MR_OK)
        return st;
    if (!(cfg->step > 0.0f) || !isfinite(cfg->step))
        return MR_FAIL(MR_ERR_ARG, "PnP-PGD: step %g must be positive", (double)cfg->step);

    if (!cfg->warm_start)
        mr_linop_adjoint(A, x, y); /* x₀ = Aᴴy */
    emit(probe, 0, x, NULL);
    const bool report = mr_probe_wants_values(probe);
    const double ynorm = report ? mr_vec_norm2(y) : 0.0;
    double reg = (double)NAN; /* R(x) of the current iterate, when the prior says */
    /* ½‖Ax − y‖² + λR; a unit-weight prox is prox_{λη R} with λη = 1 */
    const double weight = prior->ops->unit_prox ? 1.0 / (double)cfg->step : (double)cfg->lambda;
    for (int k = 1; k <= cfg->iters; k++) {
        mr_linop_forward(A, &p->r, x);      /* r = A x − y      */
        mr_vec_axpy(&p->r, -1.0f, y);
        if (report) /* iterate k − 1, from the residual this step needs anyway */
            report_iterate(probe, k - 1, mr_vec_norm2(&p->r), ynorm, 0.5, weight, reg);
        mr_linop_adjoint(A, &p->g, &p->r);  /* g = Aᴴ(A x − y)  */
        mr_array_copy(&p->z, x);
        mr_vec_axpy(&p->z, -cfg->step, &p->g); /* z = x − η g   */
        if (cfg->tol > 0.0f)
            mr_array_copy(&p->xprev, x);
        mr_prior_prox(prior, cfg->lambda * cfg->step, x, &p->z); /* x = prox(z) */
        inf.iters = k;
        emit(probe, k, x, &p->z);
        if (report)
            reg = mr_prior_last_value(prior);
        if (cfg->tol > 0.0f) {
            inf.rel_change = rel_change(&p->xprev, x);
            if (inf.rel_change <= (double)cfg->tol) {
                inf.converged = true;
                break;
            }
        }
    }
    if (report) { /* the result's numbers: one more A x */
        mr_linop_forward(A, &p->r, x);
        mr_vec_axpy(&p->r, -1.0f, y);
        report_iterate(probe, inf.iters, mr_vec_norm2(&p->r), ynorm, 0.5, weight, reg);
    }
    if (!isfinite(mr_vec_norm2(x)))
        st = MR_FAIL(MR_ERR_DATA, "PnP-PGD: the iterate is not finite after %d iterations "
                     "(step %g too large for this operator and prior?)",
                     inf.iters, (double)cfg->step);
    if (info != NULL)
        *info = inf;
    return st;
}

mr_status mr_pnp_admm(struct mr_pnp *p, const struct mr_pnp_config *cfg,
                      const struct mr_linop *A, const struct mr_prior *prior,
                      const struct mr_array *y, struct mr_array *x, struct mr_pnp_info *info,
                      const struct mr_probe *probe)
{
    mr_status st = check_common(p, cfg, A, prior, y, x);
    struct mr_pnp_info inf = { 0 };

    if (st != MR_OK)
        return st;
    if (!(cfg->rho > 0.0f) || !(cfg->scale > 0.0f) || !isfinite(cfg->rho) ||
        !isfinite(cfg->scale) || cfg->cg_iters < 0 || !(cfg->cg_tol >= 0.0f))
        return MR_FAIL(MR_ERR_ARG, "PnP-ADMM: rho %g and scale %g must be positive, CG "
                       "iterations %d and tolerance %g non-negative", (double)cfg->rho,
                       (double)cfg->scale, cfg->cg_iters, (double)cfg->cg_tol);

    /* (2s AᴴA + ρI) x = 2s Aᴴy + ρ(z − u)  ⇔  (AᴴA + μI) x = Aᴴy + μ(z − u),  μ = ρ/(2s) */
    const float mu = cfg->rho / (2.0f * cfg->scale);
    const struct mr_cg_config cg_cfg = { .iters = cfg->cg_iters, .lambda = mu,
                                         .tol = cfg->cg_tol };
    struct mr_cg_info cg_info = { 0 };

    mr_linop_adjoint(A, &p->aty, y);
    if (!cfg->warm_start)
        mr_array_copy(x, &p->aty); /* x₀ = Aᴴy */
    mr_array_copy(&p->z, x);       /* z₀ = x₀  */
    mr_array_zero(&p->u);          /* u₀ = 0   */
    emit(probe, 0, x, NULL);
    const bool report = mr_probe_wants_values(probe);
    const double ynorm = report ? mr_vec_norm2(y) : 0.0;
    for (int k = 1; k <= cfg->iters; k++) {
        /* 1. x-update: b = Aᴴy + μ(z − u), CG warm-started at x */
        mr_array_copy(&p->g, &p->aty);
        mr_vec_axpy(&p->g, mu, &p->z);
        mr_vec_axpy(&p->g, -mu, &p->u);
        if (cfg->tol > 0.0f)
            mr_array_copy(&p->xprev, x);
        st = mr_cg_solve(p->cg, &cg_cfg, A, &p->g, x, &cg_info);
        if (st != MR_OK) {
            mr_fail_context(st, "PnP-ADMM iteration %d", k);
            break;
        }
        /* 2. u = u + x − z (the old z) */
        mr_vec_axpy(&p->u, 1.0f, x);
        mr_vec_axpy(&p->u, -1.0f, &p->z);
        /* 3. z = prox(x + u) */
        mr_array_copy(&p->g, x);
        mr_vec_axpy(&p->g, 1.0f, &p->u);
        mr_prior_prox(prior, cfg->lambda / cfg->rho, &p->z, &p->g);
        inf.iters = k;
        inf.cg_iters = cg_info.iters;
        inf.cg_resid = cg_info.rel_resid;
        emit(probe, k, x, &p->z);
        if (report) { /* the report only: A x_k − y, and R at z_k = prox(x_k + u) */
            mr_linop_forward(A, &p->r, x);
            mr_vec_axpy(&p->r, -1.0f, y);
            report_iterate(probe, k, mr_vec_norm2(&p->r), ynorm, (double)cfg->scale,
                           prior->ops->unit_prox ? (double)cfg->rho : (double)cfg->lambda,
                           mr_prior_last_value(prior));
        }
        if (cfg->tol > 0.0f) {
            inf.rel_change = rel_change(&p->xprev, x);
            if (inf.rel_change <= (double)cfg->tol) {
                inf.converged = true;
                break;
            }
        }
    }
    if (st == MR_OK && !isfinite(mr_vec_norm2(x)))
        st = MR_FAIL(MR_ERR_DATA, "PnP-ADMM: the iterate is not finite after %d iterations",
                     inf.iters);
    if (info != NULL)
        *info = inf;
    return st;
}

/* ---- PnP on multi-coil Cartesian k-space ------------------------------------------------- */

struct mr_pnp_sense {
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_sense *sense;
    struct mr_linop *A;
    struct mr_pnp *pnp;
    struct mr_array y; /* the normalised k-space */
};

void mr_pnp_sense_free(struct mr_pnp_sense *s)
{
    if (s == NULL)
        return;
    mr_pnp_free(s->pnp);
    mr_linop_free(s->A);
    mr_sense_free(s->sense);
    mr_array_cleanup(&s->y);
    free(s);
}

mr_status mr_pnp_sense_create(int64_t nc, int64_t h, int64_t w, struct mr_pnp_sense **out)
{
    mr_status st = MR_OK;
    struct mr_pnp_sense *s = calloc(1, sizeof(*s));

    *out = NULL;
    if (s == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "PnP reconstruction");
    s->nc = nc;
    s->h = h;
    s->w = w;
    MR_CHECK(mr_sense_create(nc, h, w, &mr_fft_config_default, &s->sense));
    MR_CHECK(mr_sense_linop_create(s->sense, &s->A));
    MR_CHECK(mr_pnp_create(s->A, &s->pnp));
    MR_CHECK(mr_array_init_dims(&s->y, MR_DTYPE_CF32, 3, nc, h, w));
    *out = s;
    s = NULL;
out:
    mr_pnp_sense_free(s);
    return st;
}

static mr_status check_dims(const struct mr_array *a, const char *what, enum mr_dtype dtype,
                            int ndim, const int64_t *want)
{
    char have[96];
    char exp[96];
    bool ok = a->dtype == dtype && a->ndim == ndim;

    for (int d = 0; ok && d < ndim; d++)
        ok = a->dims[d] == want[d];
    if (!ok)
        return MR_FAIL(MR_ERR_SHAPE, "PnP reconstruction: %s is %s, expected %s %s", what,
                       mr_array_shape_str(a, have, sizeof(have)),
                       mr_dims_str(ndim, want, exp, sizeof(exp)),
                       dtype == MR_DTYPE_CF32 ? "complex64" : "float32");
    return MR_OK;
}

mr_status mr_pnp_sense_run(struct mr_pnp_sense *s, const struct mr_pnp_sense_config *cfg,
                           const struct mr_prior *prior, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *sens,
                           struct mr_array *img, struct mr_pnp_info *info,
                           const struct mr_probe *probe)
{
    mr_status st = MR_OK;
    const int64_t kdims[3] = { s->nc, s->h, s->w };
    const struct mr_array *y = ksp;
    double c = 1.0;

    MR_CHECK(check_dims(ksp, "k-space", MR_DTYPE_CF32, 3, kdims));
    MR_CHECK(check_dims(img, "image", MR_DTYPE_CF32, 2, kdims + 1));
    MR_CHECK(mr_sense_set_maps(s->sense, sens));
    MR_CHECK(mr_sense_set_mask(s->sense, mask));
    if (cfg->normalize) {
        MR_CHECK(mr_kscale_adjoint_max(s->A, ksp, img, &c));
        mr_array_copy(&s->y, ksp);
        mr_vec_scale(&s->y, (float)(1.0 / c));
        y = &s->y;
    }
    if (cfg->admm)
        MR_CHECK(mr_pnp_admm(s->pnp, &cfg->pnp, s->A, prior, y, img, info, probe));
    else
        MR_CHECK(mr_pnp_pgd(s->pnp, &cfg->pnp, s->A, prior, y, img, info, probe));
    if (cfg->normalize)
        mr_vec_scale(img, (float)c);
out:
    return st;
}
