/*
 * Noise prewhitening (see prewhiten.h): noise covariance, its Cholesky factor and the
 * per-sample forward substitution, as in Pruessmann et al., MRM 46:638, 2001, appendix, and
 * Gadgetron's NoiseAdjustGadget. The arithmetic (double sums, C99 complex products, the order
 * of every sum) is that of the ISMRMRD stage before this code moved here, so the stage's
 * output does not change by a bit.
 */
#include "recon/prewhiten.h"

#include <math.h>
#include <stdlib.h>

struct mr_prewhiten {
    int64_t nc;
    double complex *psi;  /* C×C, lower triangle: Σ n n^H */
    double noise_samples; /* N */
    float noise_dwell_us; /* 0: unknown */
    double complex *chol; /* C×C, lower triangle: L (valid when active) */
    double complex *v;    /* C scratch of apply */
    bool fixed;
    bool active;
};

mr_status mr_prewhiten_create(int64_t nc, struct mr_prewhiten **out)
{
    struct mr_prewhiten *pw = NULL;

    *out = NULL;
    if (nc < 1 || nc > MR_PREWHITEN_MAX_COILS)
        return MR_FAIL(MR_ERR_ARG, "prewhitening: %lld coils is outside 1..%d", (long long)nc,
                       MR_PREWHITEN_MAX_COILS);
    pw = calloc(1, sizeof(*pw));
    if (pw == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "prewhitening of %lld coils", (long long)nc);
    pw->nc = nc;
    pw->psi = calloc((size_t)(nc * nc), sizeof(*pw->psi));
    pw->chol = calloc((size_t)(nc * nc), sizeof(*pw->chol));
    pw->v = calloc((size_t)nc, sizeof(*pw->v));
    if (pw->psi == NULL || pw->chol == NULL || pw->v == NULL) {
        mr_prewhiten_free(pw);
        return MR_FAIL(MR_ERR_NOMEM, "prewhitening matrices of %lld coils", (long long)nc);
    }
    *out = pw;
    return MR_OK;
}

void mr_prewhiten_free(struct mr_prewhiten *pw)
{
    if (pw == NULL)
        return;
    free(pw->psi);
    free(pw->chol);
    free(pw->v);
    free(pw);
}

void mr_prewhiten_accumulate(struct mr_prewhiten *pw, const float complex *noise, int64_t ns,
                             float dwell_us)
{
    const int64_t nc = pw->nc;

    MR_ASSERT(!pw->fixed);
    MR_ASSERT(ns >= 0);
    for (int64_t i = 0; i < nc; i++)
        for (int64_t j = 0; j <= i; j++) {
            double complex acc = 0.0;
            for (int64_t t = 0; t < ns; t++)
                acc += (double complex)noise[i * ns + t] *
                       conj((double complex)noise[j * ns + t]);
            pw->psi[i * nc + j] += acc;
        }
    pw->noise_samples += (double)ns;
    if (dwell_us > 0.0f)
        pw->noise_dwell_us = dwell_us;
}

double mr_prewhiten_noise_samples(const struct mr_prewhiten *pw)
{
    return pw->noise_samples;
}

mr_status mr_prewhiten_cholesky(int64_t n, const double complex *a, double scale,
                                double complex *l)
{
    for (int64_t j = 0; j < n; j++) {
        double d = creal(a[j * n + j]) * scale;
        for (int64_t k = 0; k < j; k++)
            d -= creal(l[j * n + k] * conj(l[j * n + k]));
        if (!(d > 0.0) || !isfinite(d))
            return MR_FAIL(MR_ERR_DATA,
                           "not positive definite: pivot %g of coil %lld (of %lld) is not "
                           "positive and finite",
                           d, (long long)j, (long long)n);
        l[j * n + j] = sqrt(d);
        for (int64_t i = j + 1; i < n; i++) {
            double complex v = a[i * n + j] * scale;
            for (int64_t k = 0; k < j; k++)
                v -= l[i * n + k] * conj(l[j * n + k]);
            l[i * n + j] = v / creal(l[j * n + j]);
        }
    }
    return MR_OK;
}

mr_status mr_prewhiten_factor(struct mr_prewhiten *pw, float data_dwell_us)
{
    MR_ASSERT(!pw->fixed);
    if (pw->noise_samples > 0.0) {
        double scale = 1.0 / pw->noise_samples;
        if (pw->noise_dwell_us > 0.0f && data_dwell_us > 0.0f)
            scale *= (double)pw->noise_dwell_us / (double)data_dwell_us;
        mr_status st = mr_prewhiten_cholesky(pw->nc, pw->psi, scale, pw->chol);
        if (st != MR_OK)
            return mr_fail_context(st, "noise covariance of %.0f noise samples",
                                   pw->noise_samples);
        pw->active = true;
    }
    pw->fixed = true;
    return MR_OK;
}

bool mr_prewhiten_is_fixed(const struct mr_prewhiten *pw)
{
    return pw->fixed;
}

bool mr_prewhiten_is_active(const struct mr_prewhiten *pw)
{
    return pw->active;
}

const double complex *mr_prewhiten_factor_matrix(const struct mr_prewhiten *pw)
{
    return pw->active ? pw->chol : NULL;
}

void mr_prewhiten_apply(struct mr_prewhiten *pw, float complex *x, int64_t ns)
{
    const int64_t nc = pw->nc;
    const double complex *L = pw->chol;
    double complex *v = pw->v;

    MR_ASSERT(pw->fixed);
    if (!pw->active)
        return;
    for (int64_t t = 0; t < ns; t++) {
        for (int64_t i = 0; i < nc; i++) {
            double complex y = x[i * ns + t];
            for (int64_t k = 0; k < i; k++)
                y -= L[i * nc + k] * v[k];
            v[i] = y / creal(L[i * nc + i]);
        }
        for (int64_t i = 0; i < nc; i++)
            x[i * ns + t] = (float complex)v[i];
    }
}
