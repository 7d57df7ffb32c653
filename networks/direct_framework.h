/*
 * The DIRECT framework (NKI-AI/direct; not to be confused with direct convolution,
 * networks/conv_direct.h): its inference path around RecurrentVarNet (RecurrentVarNetEngine
 * and the default pre-processing transforms, DIRECT HEAD; spec
 * ../shared/specs/recurrentvarnet.md §6), for one slice of already undersampled k-space:
 *
 *   kz    = where(padding, 0, ksp)                               (padding: optional input)
 *   S⁰    = rss_estimate(kz · ACS · g):  I_c = F⁻¹(kz_c · ACS · g),  S⁰_c = I_c ⊘ RSS(I),
 *           then S⁰_c ⊘= sqrt(Σ_c |S⁰_c|²)                         (⊘ = safe divide: 0 where ÷0)
 *           g(w) = exp(−(ℓ_w / σ)²), ℓ = linspace(−1, 1, W) along W only, σ = 0.7
 *   y_raw = where(mask == 0, 0, kz);  s = k-th largest |y_raw| (k = int((1 − 0.99)·n) + 1,
 *           coils whose values sum to exactly 0 left out);  y = y_raw / s  (0 if s = 0)
 *   S     = per coil UnetModel2d([Re S⁰_c, Im S⁰_c]) (only if C > 1 and a U-Net is given),
 *           then always S_c ⊘= sqrt(Σ_c |S_c|²)
 *   k     = where(padding, 0, RecurrentVarNet(y, mask, S))
 *   image = s · RSS_c(F⁻¹(k_c))                                   (H, W) F32, no crop
 *
 * F is the network's FFT (the Calgary-Campinas configs use the uncentred transform on DC-centred
 * k-space; that is reproduced, not corrected). UnetModel2d is the fastMRI U-Net layout
 * (networks/unet.h) with DIRECT's keys.
 */
#ifndef MR_NETWORKS_DIRECT_FRAMEWORK_H
#define MR_NETWORKS_DIRECT_FRAMEWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/recurrentvarnet.h"
#include "networks/unet.h"
#include "recon/array.h"
#include "recon/status.h"
#include "weights/config.h"
#include "weights/weights.h"

struct mr_direct_framework_config {
    double sens_gaussian;    /* σ of the ACS weighting along W; ≤ 0: none (DIRECT's None) */
    double scale_percentile; /* 0.99 */
};

/* σ 0.7, percentile 0.99 (DIRECT's TransformsConfig defaults) */
extern const struct mr_direct_framework_config mr_direct_framework_config_default;

/* Reads "sensitivity_maps_gaussian" and "scale_percentile" (DIRECT's transforms keys) over the
 * defaults. Errors: MR_ERR_WEIGHTS (wrong type, percentile outside (0, 1)). */
mr_status mr_direct_framework_config_parse(const struct mr_config *json,
                                           struct mr_direct_framework_config *out);

/* Reads UnetModel2d's constructor keys (in_channels 2, out_channels 2, num_filters 16,
 * num_pool_layers 4 by default). Errors: MR_ERR_WEIGHTS. */
mr_status mr_direct_unet_config_parse(const struct mr_config *json, struct mr_unet_config *out);

struct mr_direct_framework;

/* Builds the model from "<model_prefix>…" keys and, when unet_cfg is not NULL, the sensitivity
 * U-Net from "<unet_prefix>…" keys (both borrowed from ws, which must outlive the framework).
 * Errors: as mr_recurrentvarnet_create and mr_unet_create. */
mr_status mr_direct_framework_create(struct mr_weights *ws, const char *model_prefix,
                                     const struct mr_recurrentvarnet_config *model_cfg,
                                     const char *unet_prefix, const struct mr_unet_config *unet_cfg,
                                     const struct mr_direct_framework_config *cfg,
                                     struct mr_direct_framework **out);
void mr_direct_framework_free(struct mr_direct_framework *e);

/* Buffers and FFT plans for nc coils of h×w. Errors: MR_ERR_ARG, MR_ERR_SHAPE (image too small
 * for the U-Net), MR_ERR_NOMEM. */
mr_status mr_direct_framework_prepare(struct mr_direct_framework *e, int64_t nc, int64_t h,
                                      int64_t w);

/* One slice. ksp (C, H, W) CF32 raw (un-normalised) undersampled k-space; mask (H, W) F32
 * sampling mask; acs (H, W) F32 autocalibration region (≠ 0 inside, must lie in the sampled
 * set); padding (H, W) F32 or NULL (≠ 0 = zero-padded position of the acquisition).
 * Outputs (either may be NULL): img (H, W) F32 final magnitude; ksp_out (C, H, W) CF32 the
 * model's k-space after padding, multiplied back by s (so RSS(F⁻¹(ksp_out)) = img);
 * *scale = s. Shapes are those of the prepared size (MR_ASSERT: the registry's mr_net_run
 * checks a slice's inputs). Errors: MR_ERR_DATA (no finite scaling factor).
 * Probe (recon/probe.h; may be NULL; names as the framework golden's /intermediate group, index
 * −1, or the coil for "sensitivity_unet_input/output" (2, H, W)): "sensitivity_map_estimated",
 * "scaling_factor" (0-d), "masked_kspace_normalized", "sensitivity_map_refined", the model's
 * own (mr_recurrentvarnet_run: "step_<t>/kspace" etc., k-space divided by s),
 * "model_output_kspace" (before padding), "output_image_normalized". */
mr_status mr_direct_framework_run(struct mr_direct_framework *e, const struct mr_array *ksp,
                                  const struct mr_array *mask, const struct mr_array *acs,
                                  const struct mr_array *padding, struct mr_array *img,
                                  struct mr_array *ksp_out, float *scale,
                                  const struct mr_probe *probe);

/* The framework's model (borrowed; for running the model alone on given maps). */
struct mr_recurrentvarnet *mr_direct_framework_model(struct mr_direct_framework *e);

/* The model alone on the framework's prepared buffers: out (C, H, W) CF32 =
 * RecurrentVarNet(y, mask, sens[, initial]), probes as mr_recurrentvarnet_run. Errors as
 * mr_recurrentvarnet_run. */
mr_status mr_direct_framework_run_model(struct mr_direct_framework *e, struct mr_array *out,
                                        const struct mr_array *y, const struct mr_array *mask,
                                        const struct mr_array *sens, const struct mr_array *initial,
                                        const struct mr_probe *probe);

/* Zero-padded columns of Calgary-Campinas-style data, recovered from a 2-D sampling mask
 * (H, W) F32 when the acquisition geometry is not at hand: the runs of columns touching the
 * left or right border in which no row is sampled (a Poisson-disc mask leaves no whole column
 * empty elsewhere). Line masks (every row equal) get none: their unsampled columns are not
 * padding. Writes padding (H, W) F32 (1 = padded) and returns the number of padded columns.
 * Never DIRECT's per-point rule, which would flag every unsampled point of masked data. */
int64_t mr_direct_padding_from_mask(struct mr_array *padding, const struct mr_array *mask);

/* The RSS image (H, W) F32 of multi-coil k-space (C, H, W) CF32 with the FFT f: RSS_c(F⁻¹(k_c));
 * tmp (C, H, W) CF32 scratch. */
void mr_direct_rss_image(const struct mr_fft2 *f, struct mr_array *img, const struct mr_array *k,
                         struct mr_array *tmp);

#endif
