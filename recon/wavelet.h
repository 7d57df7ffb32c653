/*
 * Orthonormal 2-D discrete wavelet transform (Mallat pyramid, separable, periodic boundaries)
 * and the L1-wavelet prior built on it (recon/prior.h).
 *
 * Filters (orthonormal Daubechies scaling filters h, Σh = √2; wavelet g[j] = (-1)^j h[L-1-j]):
 *   MR_WAVELET_HAAR  2 taps
 *   MR_WAVELET_DB2   4 taps  (Daubechies' D4, two vanishing moments; BART's default family)
 *   MR_WAVELET_DB4   8 taps  (pywt "db4", four vanishing moments)
 * One analysis step on a periodic signal x of even length n:
 *   a[k] = Σ_j h[j] x[(2k + j) mod n],   d[k] = Σ_j g[j] x[(2k + j) mod n],   k < n/2
 * applied to rows, then columns, of the top-left approximation block, `levels` times. The
 * coefficient array is (PH, PW) with the approximation of the last level in the top-left
 * (PH/2^levels, PW/2^levels) block and detail bands around it (Mallat layout).
 *
 * Sizes: an (H, W) image is embedded in the padded (PH, PW) grid, PH = H rounded up to a
 * multiple of 2^levels (same for W), with zeros elsewhere, after an optional circular shift
 * (sy, sx) on the padded grid (cycle spinning):  P_s x [(y + sy) mod PH][(x + sx) mod PW] =
 * x[y][x]. Zero padding rather than a non-dyadic transform keeps every level exactly
 * orthonormal; the padded band is background in MR images. Ψ_s = DWT ∘ P_s is an isometry
 * (||Ψ_s x|| = ||x||) with left inverse Ψ_s^H = P_s^H ∘ IDWT (crop after unshifting), which
 * is also its adjoint.
 *
 * Objects hold (PH, PW) scratch made at create; transforms never allocate; one object per
 * thread.
 */
#ifndef MR_RECON_WAVELET_H
#define MR_RECON_WAVELET_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/prior.h"

enum mr_wavelet_kind {
    MR_WAVELET_HAAR = 0,
    MR_WAVELET_DB2 = 1,
    MR_WAVELET_DB4 = 2,
};

/* Parses "haar" | "db2" | "db4". Errors: MR_ERR_ARG. */
mr_status mr_wavelet_kind_parse(const char *s, enum mr_wavelet_kind *out);
const char *mr_wavelet_kind_name(enum mr_wavelet_kind kind);

struct mr_wavelet;

/* Plans an h×w transform with `levels` levels (1..12). Errors: MR_ERR_ARG (size < 1, levels
 * out of range, unknown kind), MR_ERR_NOMEM. */
mr_status mr_wavelet_create(int64_t h, int64_t w, enum mr_wavelet_kind kind, int levels,
                            struct mr_wavelet **out);
void mr_wavelet_free(struct mr_wavelet *wt);

/* Padded coefficient grid (PH, PW) and the size of one cycle-spinning period (2^levels). */
int64_t mr_wavelet_ph(const struct mr_wavelet *wt);
int64_t mr_wavelet_pw(const struct mr_wavelet *wt);
int64_t mr_wavelet_period(const struct mr_wavelet *wt);

/* coef (PH, PW) CF32 = Ψ_s img (H, W) CF32, shift s = (sy, sx) in [0, PH) × [0, PW). */
void mr_wavelet_forward(struct mr_wavelet *wt, struct mr_array *coef, const struct mr_array *img,
                        int64_t sy, int64_t sx);

/* img (H, W) = Ψ_s^H coef (PH, PW): inverse DWT, unshift, crop. coef is not modified. */
void mr_wavelet_adjoint(struct mr_wavelet *wt, struct mr_array *img, const struct mr_array *coef,
                        int64_t sy, int64_t sx);

/*
 * dst = Ψ_s^H soft_τ(Ψ_s src) with complex soft thresholding soft_τ(c) = c · max(0, 1 - τ/|c|)
 * on every detail coefficient; the coarsest approximation band is kept (it holds the image
 * mean and is not sparse). This is the proximal operator of τ ||Ψ_s x||_1 (detail bands) up to
 * the zero padding, exactly so when H and W are multiples of 2^levels. dst may equal src.
 */
void mr_wavelet_soft_threshold(struct mr_wavelet *wt, float tau, struct mr_array *dst,
                               const struct mr_array *src, int64_t sy, int64_t sx);

/* Max |c| over the detail coefficients of Ψ_0 img (the λ reference of recon/cs.h). */
double mr_wavelet_max_detail(struct mr_wavelet *wt, const struct mr_array *img);

struct mr_wavelet_config {
    enum mr_wavelet_kind kind;
    int levels;
    bool randshift; /* a fresh random (sy, sx) per prox call (BART pics -R W ... with -R's
                       randshift); otherwise s = 0 */
    uint64_t seed;  /* seeds the shift sequence */
};
/* Haar, 4 levels, random shifts, seed 1 (see recon/cs.h for why Haar) */
extern const struct mr_wavelet_config mr_wavelet_config_default;

/*
 * Makes the L1-wavelet prior R(x) = ||Ψ_s x||_1 (detail bands) for h×w images: its prox is
 * mr_wavelet_soft_threshold with τ = λ. On success *prior owns a wavelet plan (free with
 * mr_prior_cleanup). Errors: as mr_wavelet_create.
 */
mr_status mr_wavelet_prior_init(struct mr_prior *prior, int64_t h, int64_t w,
                                const struct mr_wavelet_config *cfg);

/* Restarts the shift sequence of a prior made by mr_wavelet_prior_init (MR_ASSERTed), so a
 * solve is reproducible whatever ran before on the same prior. */
void mr_wavelet_prior_seed(struct mr_prior *prior, uint64_t seed);

#endif
