/*
 * ESPIRiT maps from the signal-space projector (espirit_internal.h, espirit.h steps 3–5): the
 * per-pixel matrices M(x) evaluated exactly from their Fourier coefficients (the diagonal sums
 * of the projector) instead of BART's FFT to a 2·kernel grid and sinc interpolation, power
 * iterations for the top eigenvector (BART's orthiter), crop and phase.
 */
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "recon/espirit_internal.h"

/* BART's soft-crop step: 0 below -1, 1 above 1, a rational S in between */
static float scurve(float x)
{
    if (x <= -1.0f)
        return 0.0f;
    if (x >= 1.0f)
        return 1.0f;
    return 0.5f * (1.0f + 2.0f * x / (1.0f + x * x));
}

/*
 * The maps from the Fourier coefficients of M, stored transposed and split:
 * cre/cim[((dy·ndx + dx)·C + c')·C + c] = Re/Im m_(dy, dx)[c][c'] for frequency offsets
 * (dy - ky + 1, dx - kx + 1). M(y, x) = Σ_d m_d exp(-2πi (d_y y / H + d_x x / W)) with
 * y = row - H/2, x = column - W/2. Rows run in parallel, each thread with its own scratch;
 * within a row, PIX pixels at a time are the innermost (vectorised) index.
 */
#define PIX 8

struct pixel_ctx {
    const struct mr_espirit_config *cfg;
    int64_t nc;
    int64_t h;
    int64_t w;
    int64_t ndy;
    int64_t ndx;
    const float *cre;
    const float *cim;
    const float complex *ey; /* (H, ndy) */
    const float complex *ex; /* (W, ndx) */
    const float complex *ref;
    float complex *sens;
};

/* floats of scratch pixel_row needs */
static int64_t pixel_scratch(int64_t nc, int64_t ndx)
{
    return 2 * ndx * nc * nc + 2 * nc * nc * PIX + 4 * nc * PIX;
}

/* o += a · b over PIX lanes (split complex); restrict lets the compiler use SIMD */
static inline void lanes_cmac(float *restrict ore, float *restrict oim, const float *restrict are,
                              const float *restrict aim, const float *restrict bre,
                              const float *restrict bim)
{
    for (int l = 0; l < PIX; l++) {
        ore[l] += are[l] * bre[l] - aim[l] * bim[l];
        oim[l] += are[l] * bim[l] + aim[l] * bre[l];
    }
}

/* o += a · b over PIX lanes, a the same in every lane */
static inline void lanes_cmac_scalar(float *restrict ore, float *restrict oim, float are,
                                     float aim, const float *restrict bre,
                                     const float *restrict bim)
{
    for (int l = 0; l < PIX; l++) {
        ore[l] += are * bre[l] - aim * bim[l];
        oim[l] += are * bim[l] + aim * bre[l];
    }
}

/* Writes the maps of pixels [x0, x0 + nb) of row y from M (C, C, PIX) transposed. */
static void pixel_block(const struct pixel_ctx *p, int64_t y, int64_t x0, int64_t nb,
                        const float *mre, const float *mim, float *vre, float *vim, float *ure,
                        float *uim)
{
    const int64_t nc = p->nc;
    const float crop = p->cfg->crop;
    float val[PIX];

    /* power iteration from e_0: v <- M v / |M v|; the eigenvalue is |M v| of the last step */
    for (int64_t c = 0; c < nc; c++)
        for (int b = 0; b < PIX; b++) {
            vre[c * PIX + b] = c == 0 ? 1.0f : 0.0f;
            vim[c * PIX + b] = 0.0f;
        }
    for (int it = 0; it < p->cfg->iters; it++) {
        for (int64_t i = 0; i < nc * PIX; i++) {
            ure[i] = 0.0f;
            uim[i] = 0.0f;
        }
        for (int64_t d = 0; d < nc; d++) { /* u += column d of M times v[d] */
            const float *br = vre + d * PIX;
            const float *bi = vim + d * PIX;
            for (int64_t c = 0; c < nc; c++)
                lanes_cmac(ure + c * PIX, uim + c * PIX, mre + (d * nc + c) * PIX,
                           mim + (d * nc + c) * PIX, br, bi);
        }
        double n2[PIX] = { 0.0 };
        for (int64_t c = 0; c < nc; c++)
            for (int b = 0; b < PIX; b++)
                n2[b] += (double)(ure[c * PIX + b] * ure[c * PIX + b] +
                                  uim[c * PIX + b] * uim[c * PIX + b]);
        float inv[PIX];
        for (int b = 0; b < PIX; b++) {
            val[b] = (float)sqrt(n2[b]);
            inv[b] = val[b] > 0.0f ? 1.0f / val[b] : 0.0f;
        }
        for (int64_t c = 0; c < nc; c++)
            for (int b = 0; b < PIX; b++) {
                vre[c * PIX + b] = ure[c * PIX + b] * inv[b];
                vim[c * PIX + b] = uim[c * PIX + b] * inv[b];
            }
    }

    for (int64_t b = 0; b < nb; b++) {
        float weight;
        if (p->cfg->soft_crop)
            weight = scurve((sqrtf(val[b]) - crop) / (1.0f - crop));
        else
            weight = val[b] > crop ? 1.0f : 0.0f;
        if (val[b] == 0.0f)
            weight = 0.0f;
        /* phase: <S, ref> real and positive */
        double pr = 0.0;
        double pi = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const float sr = vre[c * PIX + b];
            const float si = vim[c * PIX + b];
            const float rr = crealf(p->ref[c]);
            const float ri = cimagf(p->ref[c]);
            pr += (double)(sr * rr + si * ri);
            pi += (double)(si * rr - sr * ri);
        }
        const double pm = hypot(pr, pi);
        const float cr = pm > 0.0 ? (float)(pr / pm) * weight : weight;
        const float ci = pm > 0.0 ? (float)(-pi / pm) * weight : 0.0f;
        float complex *out = p->sens + y * p->w + x0 + b;
        for (int64_t c = 0; c < nc; c++) {
            const float sr = vre[c * PIX + b];
            const float si = vim[c * PIX + b];
            out[c * p->h * p->w] = CMPLXF(sr * cr - si * ci, sr * ci + si * cr);
        }
    }
}

static void pixel_row(const struct pixel_ctx *p, int64_t y, float *scratch)
{
    const int64_t nc = p->nc;
    const int64_t c2 = nc * nc;
    const int64_t ndx = p->ndx;
    float *qre = scratch; /* (ndx, C, C): the row's partial sums over dy */
    float *qim = qre + ndx * c2;
    float *mre = qim + ndx * c2; /* (C, C, PIX): M^T at PIX pixels */
    float *mim = mre + c2 * PIX;
    float *vre = mim + c2 * PIX; /* (C, PIX) each */
    float *vim = vre + nc * PIX;
    float *ure = vim + nc * PIX;
    float *uim = ure + nc * PIX;

    for (int64_t i = 0; i < 2 * ndx * c2; i++)
        qre[i] = 0.0f;
    for (int64_t dy = 0; dy < p->ndy; dy++) {
        const float er = crealf(p->ey[y * p->ndy + dy]);
        const float ei = cimagf(p->ey[y * p->ndy + dy]);
        for (int64_t dx = 0; dx < ndx; dx++) {
            const float *sr = p->cre + (dy * ndx + dx) * c2;
            const float *si = p->cim + (dy * ndx + dx) * c2;
            float *tr = qre + dx * c2;
            float *ti = qim + dx * c2;
            for (int64_t i = 0; i < c2; i++) {
                tr[i] += sr[i] * er - si[i] * ei;
                ti[i] += sr[i] * ei + si[i] * er;
            }
        }
    }
    for (int64_t x0 = 0; x0 < p->w; x0 += PIX) {
        const int64_t nb = p->w - x0 < PIX ? p->w - x0 : PIX;
        for (int64_t i = 0; i < c2 * PIX; i++) {
            mre[i] = 0.0f;
            mim[i] = 0.0f;
        }
        for (int64_t dx = 0; dx < ndx; dx++) {
            float er[PIX] = { 0.0f };
            float ei[PIX] = { 0.0f }; /* lanes past the row end stay 0: M = 0 there */
            for (int64_t b = 0; b < nb; b++) {
                er[b] = crealf(p->ex[(x0 + b) * ndx + dx]);
                ei[b] = cimagf(p->ex[(x0 + b) * ndx + dx]);
            }
            const float *tr = qre + dx * c2;
            const float *ti = qim + dx * c2;
            for (int64_t i = 0; i < c2; i++)
                lanes_cmac_scalar(mre + i * PIX, mim + i * PIX, tr[i], ti[i], er, ei);
        }
        pixel_block(p, y, x0, nb, mre, mim, vre, vim, ure, uim);
    }
}

/* exp(-2πi d t / n) for t = i - n/2 (i < n), d = j - (k - 1) (j < 2k - 1) */
static void phase_table(float complex *tab, int64_t n, int64_t k)
{
    const int64_t nd = 2 * k - 1;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < nd; j++) {
            const double ang =
                -2.0 * M_PI * (double)((j - (k - 1)) * (i - n / 2)) / (double)n;
            tab[i * nd + j] = CMPLXF((float)cos(ang), (float)sin(ang));
        }
}

mr_status mr_espirit_maps_from_projector(const struct mr_espirit_config *cfg,
                                         const double complex *proj, const float complex *ref,
                                         struct mr_array *sens)
{
    mr_status st = MR_OK;
    const int64_t nc = sens->dims[0];
    const int64_t h = sens->dims[1];
    const int64_t w = sens->dims[2];
    const int64_t ky = cfg->kernel[0];
    const int64_t kx = cfg->kernel[1];
    const int64_t nn = nc * ky * kx;
    const int64_t ndy = 2 * ky - 1;
    const int64_t ndx = 2 * kx - 1;
    const int64_t c2 = nc * nc;
    float *cre = malloc(sizeof(*cre) * (size_t)(ndy * ndx * c2));
    float *cim = malloc(sizeof(*cim) * (size_t)(ndy * ndx * c2));
    float complex *ey = malloc(sizeof(*ey) * (size_t)(h * ndy));
    float complex *ex = malloc(sizeof(*ex) * (size_t)(w * ndx));
    float *scratch = NULL;

    if (cre == NULL || cim == NULL || ey == NULL || ex == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT work arrays for %lld coils", (long long)nc);
        goto out;
    }

    /* Fourier coefficients of M: m_d[c][c'] = (1/K) Σ_o P[(o + d, c'), (o, c)], stored
     * transposed (index [d][c'][c]) for the column-wise products of pixel_block */
    const double inv_k = 1.0 / (double)(ky * kx);
    for (int64_t dy = -(ky - 1); dy < ky; dy++)
        for (int64_t dx = -(kx - 1); dx < kx; dx++) {
            const int64_t base = ((dy + ky - 1) * ndx + dx + kx - 1) * c2;
            for (int64_t c1 = 0; c1 < nc; c1++)
                for (int64_t c0 = 0; c0 < nc; c0++) {
                    double complex acc = 0.0;
                    for (int64_t oy = 0; oy < ky; oy++) {
                        if (oy + dy < 0 || oy + dy >= ky)
                            continue;
                        for (int64_t ox = 0; ox < kx; ox++) {
                            if (ox + dx < 0 || ox + dx >= kx)
                                continue;
                            const int64_t a = (c1 * ky + oy + dy) * kx + ox + dx;
                            const int64_t b = (c0 * ky + oy) * kx + ox;
                            acc += proj[a * nn + b];
                        }
                    }
                    cre[base + c1 * nc + c0] = (float)(creal(acc) * inv_k);
                    cim[base + c1 * nc + c0] = (float)(cimag(acc) * inv_k);
                }
        }
    phase_table(ey, h, ky);
    phase_table(ex, w, kx);

    int nthreads = 1;
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
#endif
    const int64_t per_thread = pixel_scratch(nc, ndx);
    scratch = malloc(sizeof(*scratch) * (size_t)(per_thread * nthreads));
    if (scratch == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ESPIRiT per-thread scratch");
        goto out;
    }
    const struct pixel_ctx pc = {
        .cfg = cfg, .nc = nc, .h = h, .w = w, .ndy = ndy, .ndx = ndx, .cre = cre, .cim = cim,
        .ey = ey, .ex = ex, .ref = ref, .sens = mr_array_cf32(sens),
    };
#pragma omp parallel if (h * w * c2 * cfg->iters > MR_ESPIRIT_PAR_MIN_WORK)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *mine = scratch + per_thread * tid;
#pragma omp for schedule(dynamic, 4)
        for (int64_t y = 0; y < h; y++)
            pixel_row(&pc, y, mine);
    }
out:
    free(cre);
    free(cim);
    free(ey);
    free(ex);
    free(scratch);
    return st;
}
