/*
 * FISTA (Beck & Teboulle 2009) with a pluggable proximal prior, and L1-wavelet compressed
 * sensing on top of it (Lustig, Donoho & Pauly, MRM 2007); the λ convention follows BART pics
 * (data normalised by the 90th percentile of the zero-filled image). See cs.h.
 */
#include "recon/cs.h"

#include <math.h>
#include <stdlib.h>

#include "recon/vec.h"

const struct mr_cs_config mr_cs_config_default = {
    .iters = 50,
    .lambda = 0.01f,
    .wavelet = { .kind = MR_WAVELET_HAAR, .levels = 4, .randshift = true, .seed = 1 },
};

struct mr_fista {
    struct mr_array xo; /* previous iterate */
    struct mr_array z;  /* extrapolated point */
    struct mr_array g;  /* gradient step */
};

mr_status mr_fista_create(int ndim, const int64_t *dims, struct mr_fista **out)
{
    mr_status st = MR_OK;
    struct mr_fista *f = NULL;

    *out = NULL;
    if (ndim < 1 || ndim > MR_MAX_DIMS || mr_dims_numel(ndim, dims) < 1)
        return MR_FAIL(MR_ERR_ARG, "FISTA: empty or invalid image shape");
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "FISTA solver");
    MR_CHECK(mr_array_init(&f->xo, MR_DTYPE_CF32, ndim, dims));
    MR_CHECK(mr_array_init(&f->z, MR_DTYPE_CF32, ndim, dims));
    MR_CHECK(mr_array_init(&f->g, MR_DTYPE_CF32, ndim, dims));
    *out = f;
    f = NULL;
out:
    mr_fista_free(f);
    return st;
}

void mr_fista_free(struct mr_fista *f)
{
    if (f == NULL)
        return;
    mr_array_cleanup(&f->xo);
    mr_array_cleanup(&f->z);
    mr_array_cleanup(&f->g);
    free(f);
}

/* x = 0 where support == 0 */
static void restrict_to(struct mr_array *x, const struct mr_array *support)
{
    const int64_t n = mr_array_numel(x);
    float complex *px = mr_array_cf32(x);
    const float *m = mr_array_f32(support);
    for (int64_t i = 0; i < n; i++)
        if (m[i] == 0.0f)
            px[i] = 0.0f;
}

mr_status mr_fista_solve(struct mr_fista *f, const struct mr_fista_config *cfg,
                         const struct mr_linop *op, const struct mr_prior *prior,
                         const struct mr_array *aty, struct mr_array *x)
{
    MR_ASSERT(mr_array_numel(x) == mr_array_numel(&f->z));
    MR_ASSERT(mr_array_numel(aty) == mr_array_numel(&f->z));
    MR_ASSERT(cfg->support == NULL || mr_array_numel(cfg->support) == mr_array_numel(&f->z));
    if (cfg->iters < 0 || !(cfg->step > 0.0f) || !(cfg->lambda >= 0.0f) ||
        !isfinite(cfg->step) || !isfinite(cfg->lambda))
        return MR_FAIL(MR_ERR_ARG, "FISTA: iterations %d, step %g and lambda %g must be "
                       "non-negative and finite (step > 0)",
                       cfg->iters, (double)cfg->step, (double)cfg->lambda);
    const float s = cfg->step;
    const float tau = cfg->step * cfg->lambda;
    double t = 1.0;

    mr_array_copy(&f->z, x);
    for (int it = 0; it < cfg->iters; it++) {
        mr_linop_normal(op, &f->g, &f->z);   /* g = A^H A z                  */
        mr_vec_xpay(&f->g, -s, &f->z);       /* g = z - s A^H A z            */
        mr_vec_axpy(&f->g, s, aty);          /* g = z - s (A^H A z - A^H y)  */
        mr_array_copy(&f->xo, x);
        mr_prior_prox(prior, tau, x, &f->g); /* x = prox_{τR}(g)             */
        if (cfg->support != NULL)
            restrict_to(x, cfg->support);
        double t_new = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t));
        mr_vec_extrapolate(&f->z, x, (float)((t - 1.0) / t_new), &f->xo);
        t = t_new;
        if (it % 10 == 9 && !isfinite(mr_vec_norm2(x)))
            return MR_FAIL(MR_ERR_DATA, "FISTA diverged at iteration %d", it + 1);
    }
    return MR_OK;
}

/* ---- L1-wavelet CS ---------------------------------------------------------------------- */

struct mr_cs {
    struct mr_cs_config cfg;
    struct mr_prior prior;
    struct mr_fista *fista;
    struct mr_array aty; /* (H, W) CF32: A^H y */
    float *mag;          /* H·W floats for the percentile */
};

mr_status mr_cs_create(int64_t h, int64_t w, const struct mr_cs_config *cfg, struct mr_cs **out)
{
    mr_status st = MR_OK;
    struct mr_cs *cs = NULL;
    const int64_t dims[2] = { h, w };

    *out = NULL;
    if (h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "CS image size %lldx%lld is empty", (long long)h,
                       (long long)w);
    if (cfg->iters < 0 || !(cfg->lambda >= 0.0f) || !isfinite(cfg->lambda))
        return MR_FAIL(MR_ERR_ARG, "CS iterations %d and lambda %g must be non-negative",
                       cfg->iters, (double)cfg->lambda);
    cs = calloc(1, sizeof(*cs));
    if (cs == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "CS solver");
    cs->cfg = *cfg;
    MR_CHECK(mr_wavelet_prior_init(&cs->prior, h, w, &cfg->wavelet));
    MR_CHECK(mr_fista_create(2, dims, &cs->fista));
    MR_CHECK(mr_array_init(&cs->aty, MR_DTYPE_CF32, 2, dims));
    cs->mag = malloc(sizeof(float) * (size_t)(h * w));
    if (cs->mag == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "CS solver scratch");
        goto out;
    }
    *out = cs;
    cs = NULL;
out:
    mr_cs_free(cs);
    return st;
}

void mr_cs_free(struct mr_cs *cs)
{
    if (cs == NULL)
        return;
    mr_prior_cleanup(&cs->prior);
    mr_fista_free(cs->fista);
    mr_array_cleanup(&cs->aty);
    free(cs->mag);
    free(cs);
}

/* k-th smallest of a[0..n) (Hoare quickselect, rearranges a) */
static float select_kth(float *a, int64_t n, int64_t k)
{
    int64_t lo = 0;
    int64_t hi = n - 1;
    while (lo < hi) {
        float pivot = a[lo + (hi - lo) / 2];
        int64_t i = lo;
        int64_t j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                float t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

double mr_cs_quantile_abs(const struct mr_array *x, double q, float *scratch)
{
    const int64_t n = mr_array_numel(x);
    const float complex *p = mr_array_cf32(x);
    for (int64_t i = 0; i < n; i++)
        scratch[i] = mr_cmag(p[i]);
    int64_t k = (int64_t)(q * (double)(n - 1) + 0.5);
    if (k < 0)
        k = 0;
    if (k > n - 1)
        k = n - 1;
    return (double)select_kth(scratch, n, k);
}

double mr_cs_scale_reference(const struct mr_array *x, float *scratch)
{
    const double med = mr_cs_quantile_abs(x, 0.5, scratch);
    const double p90 = mr_cs_quantile_abs(x, 0.9, scratch);
    const double max = mr_vec_max_abs(x);
    return max - p90 < 2.0 * (p90 - med) ? p90 : max;
}

mr_status mr_cs_solve(struct mr_cs *cs, const struct mr_linop *op, double lipschitz,
                      const struct mr_array *support, const struct mr_array *y,
                      struct mr_array *x)
{
    if (!(lipschitz > 0.0) || !isfinite(lipschitz))
        return MR_FAIL(MR_ERR_ARG, "CS: the Lipschitz constant %g must be positive", lipschitz);
    mr_linop_adjoint(op, &cs->aty, y);
    double ref = mr_cs_scale_reference(&cs->aty, cs->mag) / lipschitz;
    if (!(ref > 0.0) || !isfinite(ref))
        return MR_FAIL(MR_ERR_DATA, "CS: the zero-filled image A^H y is zero or not finite");

    /* τ = step · λ_abs = λ_rel · ref */
    const struct mr_fista_config fc = {
        .iters = cs->cfg.iters,
        .step = (float)(1.0 / lipschitz),
        .lambda = (float)((double)cs->cfg.lambda * ref * lipschitz),
        .support = support,
    };
    mr_array_zero(x);
    mr_wavelet_prior_seed(&cs->prior, cs->cfg.wavelet.seed); /* same input, same output */
    return mr_fista_solve(cs->fista, &fc, op, &cs->prior, &cs->aty, x);
}
