/*
 * ESPIRiT coil sensitivity estimation (Uecker et al., "ESPIRiT — an eigenvalue approach to
 * autocalibrating parallel MRI: where SENSE meets GRAPPA", MRM 71:990, 2014), computing what
 * BART 0.8's `bart ecalib -m1` computes, with the same defaults.
 *
 * Shapes (C order): k-space (C, H, W) CF32, centred (DC at (H/2, W/2), the centred FFT of
 * recon/fft.h), zero where not sampled; maps (C, H, W) CF32 in the image domain of that FFT.
 *
 * Algorithm:
 *   1. Calibration region: a centred block grown one column, then one row at a time (starting
 *      at 1×1, BART's calib_geom) while every sample in it is nonzero in at least one coil, up
 *      to cfg.calib. Block rows start at (H - h) / 2, columns at (W - w) / 2.
 *   2. Calibration matrix A: one row per position of a kernel-sized window inside the block,
 *      the window's samples of all coils as columns. Its right singular vectors v_i with
 *      s_i / s_0 > sqrt(threshold) span the signal space; P = Σ_i v_i v_i^H projects onto it.
 *   3. Per pixel x, the C×C matrix M(x) = (1/K) Σ_i conj(h_i(x)) h_i(x)^T, where
 *      h_i,c(x) = Σ_o v_i[o, c] exp(-2πi o·x / (H, W)) is the kernel's image-domain response
 *      and K the number of kernel positions. M(x) has eigenvalues in [0, 1]; the coil
 *      sensitivities at x are its eigenvector of eigenvalue 1. M is a trigonometric polynomial
 *      of degree < kernel, evaluated exactly from the diagonal sums of P (BART gets the same
 *      numbers through a 2·kernel grid and sinc interpolation).
 *   4. The top eigenvector by cfg.iters power iterations started at coil 0's unit vector and the
 *      eigenvalue as the norm of the last product (BART's orthiter, 30 iterations).
 *   5. Maps set to zero where the eigenvalue <= cfg.crop (or weighted by a smooth step with
 *      cfg.soft_crop), then each pixel's phase turned so that <S(x), r> is real and positive,
 *      r = first principal component of the calibration block's coil covariance with its last
 *      coil entry real and positive (or r = coil 0 without cfg.rotate_phase).
 *
 * The maps are unit-norm over coils (Σ_c |S_c|² = 1) where the eigenvalue passes the crop and
 * exactly 0 elsewhere (recon/coils.h makes maps of the same normalisation).
 */
#ifndef MR_RECON_ESPIRIT_H
#define MR_RECON_ESPIRIT_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"

struct mr_espirit_config {
    int64_t calib[2];  /* largest calibration block searched for (H, W); ecalib -r: 24 */
    int64_t kernel[2]; /* kernel size (H, W); ecalib -k: 6 */
    float threshold;   /* singular values kept: s_i / s_0 > sqrt(threshold); ecalib -t: 0.001 */
    float crop;        /* maps zeroed where the eigenvalue <= crop, in [0, 1); ecalib -c: 0.8 */
    bool soft_crop;    /* weight maps by a smooth step of sqrt(eigenvalue) instead; ecalib -S */
    int iters;         /* power iterations per pixel; BART's orthiter: 30 */
    bool rotate_phase; /* phase reference: first principal component (default), else coil 0
                        * (ecalib -P) */
};

/* { {24, 24}, {6, 6}, 0.001, 0.8, false, 30, true }: `bart ecalib -m1` */
extern const struct mr_espirit_config mr_espirit_config_default;

/*
 * sens = ESPIRiT maps (one set, ecalib -m1) estimated from the calibration region of ksp.
 * ksp: (C, H, W) CF32 centred k-space with kernel <= (H, W); sens: (C, H, W) CF32, allocated
 * by the caller, overwritten (written only on success). Runs with OpenMP over image rows;
 * no global state, so concurrent calls on different data are safe.
 * Errors: MR_ERR_SHAPE (ksp or sens not CF32 (C, H, W) with C >= 1, shapes differ, kernel
 * larger than the image), MR_ERR_ARG (config out of range: kernel < 1, calib < kernel,
 * threshold outside [0, 1], crop outside [0, 1), iters < 1), MR_ERR_DATA (non-finite
 * k-space; fully sampled centre smaller than the kernel; no signal in it), MR_ERR_NOMEM.
 */
mr_status mr_espirit_maps(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                          struct mr_array *sens);

#endif
