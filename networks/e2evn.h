/*
 * E2EVN, the End-to-End Variational Network (Sriram et al., MICCAI 2020), in the two reference
 * flavours of ../shared/specs/e2evn.md:
 *
 *   variant "fastmri"  fastmri.models.varnet.VarNet: sensitivities estimated from the ACS
 *                      columns by a NormUnet per coil; centred ortho FFT; output the real RSS
 *                      image (H, W) F32. Config keys (VarNet kwargs, defaults):
 *                      num_cascades 12, sens_chans 8, sens_pools 4, chans 18, pools 4,
 *                      mask_center true. Weights: sens_net.norm_unet.unet.*,
 *                      cascades.i.dc_weight [1], cascades.i.model.unet.*.
 *   variant "atommic"  atommic...reconstruction.nn.varnet.VarNet: sensitivities are an input;
 *                      FFT and output configurable. Config keys (ATOMMIC cfg, defaults):
 *                      num_cascades 8, channels 18, pooling_layers 4, padding_size 11,
 *                      normalize true, no_dc false, fft_centered false,
 *                      fft_normalization "backward", coil_combination_method "SENSE"
 *                      (output (H, W) CF32; "RSS" per-component, CF32; "RSS_COMPLEX" real
 *                      F32). Unsupported: estimate_coil_sensitivity_maps_with_nn true,
 *                      dimensionality != 2, consecutive_slices != 1.
 *                      Weights: cascades.i.dc_weight [1], cascades.i.model.unet.*.
 * The variant comes from the config key "variant"; without it, a config holding fastMRI-only
 * keys (sens_chans, sens_pools, mask_center) is fastMRI and one holding ATOMMIC-only keys
 * (channels, pooling_layers, model_name, ...) is ATOMMIC; an empty config is fastMRI.
 *
 * Cascade (both): k ← k − λ·[M≠0]·(k − y) − FFT(S · NormUnet(Σ_c conj(S_c)·IFFT(k_c)));
 * ATOMMIC no_dc: k ← FFT(S · NormUnet(...)).
 * With a line mask (whole columns or rows of M sampled) the cascades run on the coil images
 * IFFT(k) instead, the data-consistency term as a one-axis transform pair (e2evn.c
 * cascade_image):
 * the same maths without the 2-D FFTs, equal up to float rounding (the setting e2evn_kspace keeps
 * the k-space form, for A/B measurements).
 * Probes (recon/probe.h; [c]: index c, one coil): sens_acs_kspace, sens_coil_images,
 * sens_norm_mean/std[c], sens_unet_input/output[c], sens_maps_raw, sens_maps (fastMRI); per
 * cascade i: cascade_i_reg_input, cascade_i_unet_input, cascade_i_norm_mean/std,
 * cascade_i_unet_output, cascade_i_reg_output, and cascade_i_kspace (C, H, W) CF32, the
 * k-space estimate after cascade i (the network's own scale).
 */
#ifndef MR_NETWORKS_E2EVN_H
#define MR_NETWORKS_E2EVN_H

#include <stdint.h>

#include "networks/net.h"

extern const struct mr_net_ops mr_e2evn_ops;

#endif
