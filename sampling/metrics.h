/*
 * Image quality metrics with the definitions of fastMRI (`fastmri/evaluate.py`) and ATOMMIC
 * (`tools/evaluation/reconstruction.py`, per slice); ../shared/specs/ismrmrd.md §3.1-3.2.
 *
 * Volumes are F32 arrays (slices, H, W) (an (H, W) array is one slice); target and prediction
 * must have the same shape. All sums are in double.
 *
 *   NMSE(x, y)      = ||x - y||^2 / ||x||^2                         (x = target)
 *   PSNR(x, y; R)   = 10 log10(R^2 / mean((x - y)^2))
 *   SSIM(x, y; R)   = mean over the pixels at least 3 from every border of
 *                     (2 ux uy + C1)(2 vxy + C2) / ((ux^2 + uy^2 + C1)(vx + vy + C2))
 *                     with 7x7 box means ux, uy, and sample (co)variances vx, vy, vxy
 *                     (scaled by 49/48), C1 = (0.01 R)^2, C2 = (0.03 R)^2 — scikit-image's
 *                     structural_similarity defaults (Wang et al., IEEE TIP 13:600, 2004).
 *                     Needs H, W >= 7.
 *
 * fastMRI (per volume): R = max(target) over the volume; NMSE and PSNR over the whole volume;
 *   SSIM = mean over slices of the slice SSIM with that R. (evaluate.py first centre-crops
 *   both to (W, W) with W = target width; do that before calling.)
 * ATOMMIC (per slice): every slice of target and prediction is divided by its own max |.|
 *   and made absolute; R = max(ptp(target), ptp(prediction)) over the normalised volumes;
 *   per slice NMSE, PSNR with R, SSIM with max(R, 1).
 */
#ifndef MR_SAMPLING_METRICS_H
#define MR_SAMPLING_METRICS_H

#include <stdint.h>

#include "recon/array.h"

struct mr_metrics {
    double nmse;
    double psnr; /* dB */
    double ssim;
};

/* Building blocks on n contiguous values / one h x w image (cannot fail). NMSE is NaN for
 * an all-zero target, PSNR +inf for identical images. */
double mr_metric_nmse(const float *target, const float *pred, int64_t n);
double mr_metric_psnr(const float *target, const float *pred, int64_t n, double data_range);
/* h, w >= 7 (MR_ASSERT) */
double mr_metric_ssim(const float *target, const float *pred, int64_t h, int64_t w,
                      double data_range);

/* fastMRI evaluate.py numbers for one volume. Errors: MR_ERR_SHAPE (dtype, rank, mismatch,
 * H or W < 7), MR_ERR_DATA (all-zero target). */
mr_status mr_metrics_fastmri(const struct mr_array *target, const struct mr_array *pred,
                             struct mr_metrics *out);

/* ATOMMIC per-slice numbers: per_slice[s] for every slice s (caller provides `slices`
 * entries). Errors: as above, MR_ERR_DATA if a slice of either volume is all zero,
 * MR_ERR_NOMEM. */
mr_status mr_metrics_atommic(const struct mr_array *target, const struct mr_array *pred,
                             struct mr_metrics *per_slice);

#endif
