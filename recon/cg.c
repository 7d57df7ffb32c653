/*
 * Conjugate gradients on the normal equations (cg.h), after BART src/iter/italgos.c
 * (conjgrad): residual r = b - M x, direction p, q = M p with M = A^H A + λ I; stops on the
 * relative residual or the iteration count.
 */
#include "recon/cg.h"

#include <math.h>
#include <stdlib.h>

#include "recon/vec.h"

const struct mr_cg_config mr_cg_config_default = { .iters = 30, .lambda = 0.0f, .tol = 1e-6f };

struct mr_cg {
    struct mr_array r;
    struct mr_array p;
    struct mr_array q;
};

mr_status mr_cg_create(int ndim, const int64_t *dims, struct mr_cg **out)
{
    mr_status st = MR_OK;
    struct mr_cg *cg = NULL;

    *out = NULL;
    if (ndim < 1 || ndim > MR_MAX_DIMS || mr_dims_numel(ndim, dims) < 1)
        return MR_FAIL(MR_ERR_ARG, "conjugate gradients: empty or invalid image shape");
    cg = calloc(1, sizeof(*cg));
    if (cg == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "conjugate gradient solver");
    MR_CHECK(mr_array_init(&cg->r, MR_DTYPE_CF32, ndim, dims));
    MR_CHECK(mr_array_init(&cg->p, MR_DTYPE_CF32, ndim, dims));
    MR_CHECK(mr_array_init(&cg->q, MR_DTYPE_CF32, ndim, dims));
    *out = cg;
    cg = NULL;
out:
    mr_cg_free(cg);
    return st;
}

void mr_cg_free(struct mr_cg *cg)
{
    if (cg == NULL)
        return;
    mr_array_cleanup(&cg->r);
    mr_array_cleanup(&cg->p);
    mr_array_cleanup(&cg->q);
    free(cg);
}

/* dst = (A^H A + λ I) src */
static void apply(const struct mr_linop *op, float lambda, struct mr_array *dst,
                  const struct mr_array *src)
{
    mr_linop_normal(op, dst, src);
    if (lambda != 0.0f)
        mr_vec_axpy(dst, lambda, src);
}

mr_status mr_cg_solve(struct mr_cg *cg, const struct mr_cg_config *cfg, const struct mr_linop *op,
                      const struct mr_array *b, struct mr_array *x, struct mr_cg_info *info)
{
    struct mr_array *r = &cg->r;
    struct mr_array *p = &cg->p;
    struct mr_array *q = &cg->q;
    int it = 0;

    MR_ASSERT(mr_array_numel(b) == mr_array_numel(r) && mr_array_numel(x) == mr_array_numel(r));
    if (cfg->iters < 0 || !(cfg->lambda >= 0.0f) || !isfinite(cfg->lambda))
        return MR_FAIL(MR_ERR_ARG, "conjugate gradients: iterations %d and lambda %g must be "
                       "non-negative", cfg->iters, (double)cfg->lambda);
    const double bnorm = mr_vec_norm(b);
    if (!isfinite(bnorm))
        return MR_FAIL(MR_ERR_DATA, "conjugate gradients: the right-hand side is not finite");

    /* r = b - M x ; p = r */
    apply(op, cfg->lambda, q, x);
    mr_array_copy(r, b);
    mr_vec_axpy(r, -1.0f, q);
    mr_array_copy(p, r);
    double rr = mr_vec_norm2(r);
    const double stop = (double)cfg->tol * bnorm;

    while (it < cfg->iters && sqrt(rr) > stop) {
        apply(op, cfg->lambda, q, p);            /* q = M p            */
        double pq = mr_vec_dot_real(p, q);       /* <p, M p> > 0       */
        if (!(pq > 0.0))
            break;                               /* p = 0 or M singular along p */
        double alpha = rr / pq;
        mr_vec_axpy(x, (float)alpha, p);         /* x = x + α p        */
        mr_vec_axpy(r, (float)-alpha, q);        /* r = r - α M p      */
        double rr_new = mr_vec_norm2(r);
        it++;
        if (!isfinite(rr_new))
            return MR_FAIL(MR_ERR_DATA, "conjugate gradients diverged at iteration %d", it);
        mr_vec_xpay(p, (float)(rr_new / rr), r); /* p = r + β p        */
        rr = rr_new;
    }
    if (info != NULL) {
        info->iters = it;
        info->rel_resid = bnorm > 0.0 ? sqrt(rr) / bnorm : 0.0;
    }
    return MR_OK;
}
