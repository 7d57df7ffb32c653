/*
 * ESPIRiT calibration (espirit_internal.h; BART 0.8 src/calib/calib.c calib_geom, calmat.c,
 * cc.c): the fully sampled centre block, the calibration matrix's signal-space projector
 * through the eigen decomposition of the smaller of A^H A and A A^H, and the first principal
 * component of the coils used as the maps' phase reference.
 */
#include <complex.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "recon/espirit_internal.h"

static bool block_sampled(const bool *pat, int64_t w, const int64_t pos[2], const int64_t size[2])
{
    for (int64_t y = pos[0]; y < pos[0] + size[0]; y++)
        for (int64_t x = pos[1]; x < pos[1] + size[1]; x++)
            if (!pat[y * w + x])
                return false;
    return true;
}

/* BART's calib_geom: grow a centred block from 1×1, one column then one row per round, while
 * it stays fully sampled, up to cfg->calib. */
mr_status mr_espirit_find_calib(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                                int64_t pos[2], int64_t size[2])
{
    const int64_t nc = ksp->dims[0];
    const int64_t h = ksp->dims[1];
    const int64_t w = ksp->dims[2];
    const int64_t dims[2] = { h, w };
    const float complex *k = mr_array_cf32(ksp);
    const int64_t lim[2] = { cfg->calib[0] < h ? cfg->calib[0] : h,
                             cfg->calib[1] < w ? cfg->calib[1] : w };
    /* pattern of the centre lim[0] × lim[1]: sampled where any coil is nonzero */
    const int64_t off[2] = { (h - lim[0]) / 2, (w - lim[1]) / 2 };
    bool *pat = calloc((size_t)(h * w), sizeof(*pat));
    bool stop[2] = { false, false };

    if (pat == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "calibration pattern of %lldx%lld", (long long)h,
                       (long long)w);
    for (int64_t y = off[0]; y < off[0] + lim[0]; y++)
        for (int64_t x = off[1]; x < off[1] + lim[1]; x++)
            for (int64_t c = 0; c < nc && !pat[y * w + x]; c++)
                pat[y * w + x] = k[(c * h + y) * w + x] != 0.0f;

    size[0] = 1;
    size[1] = 1;
    while (!stop[0] || !stop[1]) {
        for (int i = 1; i >= 0; i--) { /* columns first: BART's first axis is ours last */
            if (size[i] >= lim[i])
                stop[i] = true;
            if (stop[i])
                continue;
            size[i]++;
            pos[0] = (dims[0] - size[0]) / 2;
            pos[1] = (dims[1] - size[1]) / 2;
            if (!block_sampled(pat, w, pos, size)) {
                size[i]--;
                stop[i] = true;
            }
        }
    }
    pos[0] = (dims[0] - size[0]) / 2;
    pos[1] = (dims[1] - size[1]) / 2;
    free(pat);
    if (size[0] < cfg->kernel[0] || size[1] < cfg->kernel[1])
        return MR_FAIL(MR_ERR_DATA,
                       "the fully sampled k-space centre is only %lldx%lld, smaller than the "
                       "%lldx%lld ESPIRiT kernel (is the calibration region sampled and the "
                       "k-space centred?)",
                       (long long)size[0], (long long)size[1], (long long)cfg->kernel[0],
                       (long long)cfg->kernel[1]);
    return MR_OK;
}

/*
 * Signal-space projector of the calibration matrix A (L × N, N = C·ky·kx): one row per
 * kernel position, column a = (c·ky + oy)·kx + ox. Writes P = Σ_{i<n} v_i v_i^H (N × N) for
 * the right singular vectors v_i with s_i / s_0 > sqrt(threshold), s_i^2 the eigenvalues of
 * the smaller of A^H A and A A^H = X X^H for X = A^H (N × L) or A; then v_i = A^H u_i / s_i.
 */
mr_status mr_espirit_signal_projector(const struct mr_espirit_config *cfg,
                                      const float complex *cal, int64_t nc,
                                      const int64_t size[2], double complex *proj)
{
    mr_status st = MR_OK;
    const int64_t ky = cfg->kernel[0];
    const int64_t kx = cfg->kernel[1];
    const int64_t py = size[0] - ky + 1;
    const int64_t px = size[1] - kx + 1;
    const int64_t nl = py * px;
    const int64_t nn = nc * ky * kx;
    const bool by_rows = nl < nn; /* X = A, eigenvectors u_i of A A^H */
    const int64_t ng = by_rows ? nl : nn;
    const int64_t nt = by_rows ? nn : nl;
    double complex *xm = malloc(sizeof(*xm) * (size_t)(nl * nn));
    double complex *g = malloc(sizeof(*g) * (size_t)(ng * ng));
    double complex *u = malloc(sizeof(*u) * (size_t)ng);
    double complex *v = NULL;
    struct mr_herm_eig eig = { 0 };

    if (xm == NULL || g == NULL || u == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT calibration matrix %lldx%lld", (long long)nl,
                     (long long)nn);
        goto out;
    }
    for (int64_t y = 0; y < py; y++)
        for (int64_t x = 0; x < px; x++)
            for (int64_t c = 0; c < nc; c++)
                for (int64_t oy = 0; oy < ky; oy++)
                    for (int64_t ox = 0; ox < kx; ox++) {
                        const int64_t l = y * px + x;
                        const int64_t a = (c * ky + oy) * kx + ox;
                        const double complex val =
                            (double complex)cal[(c * size[0] + y + oy) * size[1] + x + ox];
                        if (by_rows)
                            xm[l * nn + a] = val;
                        else
                            xm[a * nl + l] = conj(val);
                    }

    /* g = X X^H, lower triangle computed, upper mirrored */
#pragma omp parallel for if (ng * ng * nt > MR_ESPIRIT_PAR_MIN_WORK) schedule(dynamic, 8)
    for (int64_t i = 0; i < ng; i++) {
        const double complex *xi = xm + i * nt;
        for (int64_t j = 0; j <= i; j++) {
            const double complex *xj = xm + j * nt;
            double complex acc = 0.0;
            for (int64_t t = 0; t < nt; t++)
                acc += mr_cmulc(xj[t], xi[t]);
            g[i * ng + j] = acc;
            g[j * ng + i] = conj(acc);
        }
    }
    MR_CHECK(mr_herm_eig_init(&eig, ng, g));

    /* singular values s_i = sqrt(max(ev_i, 0)); keep s_i / s_0 > sqrt(threshold) */
    if (!(eig.w[0] > 0.0)) {
        st = MR_FAIL(MR_ERR_DATA, "the k-space calibration region has no signal");
        goto out;
    }
    const double s0 = sqrt(eig.w[0]);
    const double thr = sqrt((double)cfg->threshold);
    int64_t nk = 0;
    while (nk < ng && eig.w[nk] > 0.0 && sqrt(eig.w[nk]) / s0 > thr)
        nk++;

    v = malloc(sizeof(*v) * (size_t)((nk > 0 ? nk : 1) * nn));
    if (v == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT kernels (%lld x %lld)", (long long)nk,
                     (long long)nn);
        goto out;
    }
    for (int64_t i = 0; i < nk; i++) {
        double complex *vi = v + i * nn;
        if (!by_rows) {
            mr_herm_eig_vector(&eig, i, vi);
            continue;
        }
        mr_herm_eig_vector(&eig, i, u); /* v_i[a] = Σ_l conj(A[l][a]) u_i[l] / s_i */
        const double s = sqrt(eig.w[i]);
        for (int64_t a = 0; a < nn; a++)
            vi[a] = 0.0;
        for (int64_t l = 0; l < nl; l++) {
            const double complex ul = u[l] / s;
            const double complex *row = xm + l * nn;
            for (int64_t a = 0; a < nn; a++)
                vi[a] += mr_cmulc(row[a], ul);
        }
    }

    /* P = Σ_i v_i v_i^H */
#pragma omp parallel for if (nn * nn * nk > MR_ESPIRIT_PAR_MIN_WORK) schedule(static)
    for (int64_t a = 0; a < nn; a++) {
        double complex *pa = proj + a * nn;
        for (int64_t b = 0; b < nn; b++)
            pa[b] = 0.0;
        for (int64_t i = 0; i < nk; i++) {
            const double complex t = v[i * nn + a];
            const double complex *vi = v + i * nn;
            for (int64_t b = 0; b < nn; b++)
                pa[b] += mr_cmulc(vi[b], t);
        }
    }
out:
    mr_herm_eig_cleanup(&eig);
    free(xm);
    free(g);
    free(u);
    free(v);
    return st;
}

/* First principal component of the calibration block's coils (top eigenvector of
 * Σ_p k_c(p) conj(k_c'(p))), turned so that its last entry is real and positive. */
mr_status mr_espirit_principal_coil(const float complex *cal, int64_t nc, int64_t np,
                                    float complex *r)
{
    mr_status st = MR_OK;
    double complex *cov = malloc(sizeof(*cov) * (size_t)(nc * nc));
    double complex *u = malloc(sizeof(*u) * (size_t)nc);
    struct mr_herm_eig eig = { 0 };

    if (cov == NULL || u == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "coil covariance %lldx%lld", (long long)nc, (long long)nc);
        goto out;
    }
    for (int64_t c = 0; c < nc; c++)
        for (int64_t d = 0; d < nc; d++) {
            double complex acc = 0.0;
            for (int64_t i = 0; i < np; i++)
                acc += mr_cmulc((double complex)cal[d * np + i], (double complex)cal[c * np + i]);
            cov[c * nc + d] = acc;
        }
    MR_CHECK(mr_herm_eig_init(&eig, nc, cov));
    mr_herm_eig_vector(&eig, 0, u);
    const double complex last = u[nc - 1];
    const double complex rot = cabs(last) > 0.0 ? conj(last) / cabs(last) : 1.0;
    for (int64_t c = 0; c < nc; c++)
        r[c] = (float complex)mr_cmul(u[c], rot);
out:
    mr_herm_eig_cleanup(&eig);
    free(cov);
    free(u);
    return st;
}
