/*
 * CIRIM — Cascades of Independently Recurrent Inference Machines (Karkalousos et al., Phys.
 * Med. Biol. 67(12), 2022) — and the plain RIM (Lønning et al., Med. Image Anal. 53, 2019),
 * which is CIRIM with one cascade, exactly as ATOMMIC (wdika/atommic@1abb819) computes them.
 * Full reference: ../shared/specs/cirim.md; section numbers below refer to it.
 *
 * Model (§3–§6). x is a complex image (H, W); y the masked k-space (C, H, W); S the maps
 * (C, H, W); M the mask; σ' = max(σ, 1); T = 8·ceil(time_steps / 8).
 *
 *   x ← initial prediction, or CoilCombine(IFFT(y), S) (SENSE: Σ conj(S_c) z_c; RSS: the
 *       real and imaginary channels combined separately, sqrt(Σ Re²) + i·sqrt(Σ Im²))
 *   h0, h1 ← 0                              (once per run: carried across steps AND cascades)
 *   for cascade i, for t < T:
 *       g  = Σ_c conj(S_c) IFFT(M ⊙ (FFT(S_c x) − y_c)) / σ'
 *       a  = [Re x, Im x, Re g, Im g]                                     (4, H, W)
 *       h0 = Cell_0(ReLU(Conv_0(a)),  h0)       Conv_l: replicate padding d·(k − 1)/2
 *       h1 = Cell_1(ReLU(Conv_1(h0)), h1)       Cell_l: rnn_cells.h, zero padding
 *       x  = x + complex(Final(h1))             Final: replicate padding, no nonlinearity
 *   output: x after the last step of the last cascade, (H, W) CF32;
 *   explicit DC (no_dc = false, one cascade only): y − FFT(S_c x) per coil, (C, H, W) CF32
 *   (the reference's literal k-space output, §8; its soft-DC term is 0 for cascade 0).
 *
 * Weights: the state_dict keys of §13 ("reconstruction_module.{i}.layers.{l}.convs.
 * conv_layer.weight", ...), borrowed from an mr_weights store that must outlive the network
 * (networks/cirim_config.c reads the config, networks/cirim.c is the network).
 * Config: the weight file's `config` JSON holds ATOMMIC's constructor kwargs (§1); absent keys
 * take the paper defaults (mr_cirim_config_default).
 *
 * Speed (bench/RESULTS.md): the 3×3 convs with >= 16 channels (the paper's dilated 64 → 64)
 * run as Winograd F(4×4, 3×3) (networks/conv_winograd.h). With a line mask (whole columns or
 * whole rows sampled: 1-D Cartesian undersampling) the gradient uses
 *       IFFT(M ⊙ (FFT(S_c x) − y_c)) = F⁻¹MF (S_c x) − IFFT(M ⊙ y_c)
 * with F⁻¹MF applied along one axis only (recon/fft.h mr_fft_linemask: the other axis'
 * transforms cancel) and the second term computed once per run. Both change float rounding only (the
 * goldens hold either way); the settings conv-winograd=never and cirim-full-fft turn them off.
 *
 * Threads: one network object per thread; the kernels inside use OpenMP.
 */
#ifndef MR_NETWORKS_CIRIM_H
#define MR_NETWORKS_CIRIM_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/net.h"
#include "networks/rnn_cells.h"
#include "recon/array.h"
#include "recon/fft.h"
#include "recon/status.h"
#include "weights/weights.h"

/* How the starting image is formed when no initial prediction is given (§9). */
enum mr_cirim_combine {
    MR_CIRIM_COMBINE_SENSE = 0, /* Σ_c conj(S_c) z_c, no normalisation by Σ|S|² */
    MR_CIRIM_COMBINE_RSS = 1,   /* sqrt(Σ Re(z_c)²) + i·sqrt(Σ Im(z_c)²): ATOMMIC's quirk */
};

struct mr_cirim_config {
    enum mr_rnn_cell_type cell;    /* recurrent_layer */
    int64_t conv_filters[3];       /* the last must be 2 */
    int64_t conv_kernels[3];       /* odd */
    int64_t conv_dilations[3];
    bool conv_bias[3];
    int64_t recurrent_filters[2];  /* the config's third entry is ignored (it builds nothing) */
    int64_t recurrent_kernels[2];  /* odd */
    int64_t recurrent_dilations[2];
    bool recurrent_bias[2];
    int64_t time_steps;            /* as configured; the model runs 8·ceil(time_steps/8) */
    int64_t num_cascades;
    bool no_dc;                    /* true: image output; false: k-space output (1 cascade) */
    enum mr_cirim_combine combine; /* coil_combination_method */
    struct mr_fft_config fft;      /* fft_centered, fft_normalization */
};

/* The paper's CIRIM: IndRNN, conv 64-64-2 with kernels 5-3-3 and dilations 1-2-1, biases
 * true-true-false, 1×1 cells of 64 with bias, 8 time steps, 5 cascades, implicit DC, SENSE,
 * centred orthonormal FFT. */
extern const struct mr_cirim_config mr_cirim_config_default;

/* Reads ATOMMIC's constructor kwargs (a parsed config, e.g. the weight file's) over the
 * defaults in *out (the boolean lists conv_bias and recurrent_bias as true / false or 0 / 1).
 * Keys: recurrent_layer, conv_filters, conv_kernels, conv_dilations, conv_bias,
 * recurrent_filters, recurrent_kernels, recurrent_dilations, recurrent_bias, time_steps,
 * num_cascades, no_dc, coil_combination_method ("SENSE" | "RSS"), fft_centered,
 * fft_normalization; checked and otherwise ignored: depth (2), conv_dim (2), dimensionality
 * (2), consecutive_slices (1), coil_dim (1), spatial_dims ([-2, -1]),
 * estimate_coil_sensitivity_maps_with_nn (false); keep_prediction and accumulate_predictions
 * have no effect on the output (§7) and are ignored.
 * Errors: MR_ERR_WEIGHTS (not JSON, wrong types, lists shorter than 3),
 * MR_ERR_UNSUPPORTED (values outside the list above, or what mr_cirim_config_check rejects). */
mr_status mr_cirim_config_read(const struct mr_config *cfg, struct mr_cirim_config *out);

/* Same from the JSON text alone. Errors as above, and MR_ERR_WEIGHTS for invalid JSON. */
mr_status mr_cirim_config_from_json(const char *json, struct mr_cirim_config *out);

/* Checks a config: filters 1..MR_NET_MAX_CHANNELS (conv_filters[2] == 2), odd kernels
 * 1..MR_NET_MAX_KERNEL, dilations 1..MR_NET_MAX_DILATION, time_steps and num_cascades
 * 1..MR_NET_MAX_BLOCKS (net.h), and num_cascades == 1 when no_dc is false (the reference fails
 * otherwise, §8). Errors: MR_ERR_UNSUPPORTED (a shape this network cannot run), MR_ERR_ARG (a
 * value outside its range), naming the key and the range. */
mr_status mr_cirim_config_check(const struct mr_cirim_config *cfg);

/* Effective number of time steps per cascade: 8·ceil(time_steps / 8). */
int64_t mr_cirim_config_steps(const struct mr_cirim_config *cfg);

/*
 * The registry row (net.h), architecture "cirim": create reads the config as
 * mr_cirim_config_read and borrows the tensors of the weight store (which must outlive the
 * network; MR_ERR_WEIGHTS names a missing key or wrong shape). Needs sensitivity maps (C, H, W)
 * CF32; uses initial_prediction (H, W) CF32 and sigma when given (σ' = max(σ, 1)); the mask
 * multiplies the residual (a weight where it is not 0/1). Output: (H, W) CF32 image, or
 * (C, H, W) CF32 k-space with no_dc = false. image(): |x| for an image output; for a k-space
 * output the root sum of squares of its per-coil IFFT. Memory after prepare: (4·C + F0c + F1c
 * + F0 + F1 + 10)·H·W floats plus scratch for the larger of one im2col band (layers.h) and the
 * cell gates. Inference (mr_net_infer): ATOMMIC's max-SENSE k-space scaling (atommic.h).
 * Probes (recon/probe.h, index −1), named as in the golden files' /intermediate group:
 *   "initial_image"                           the starting image (H, W) CF32
 *   "cascade_{i}/time_step_{t}/llg_input"     (4, H, W) F32 network input
 *   ".../layer0_conv", ".../layer1_conv"      (F_lc, H, W) after conv and ReLU
 *   ".../layer0_hidden", ".../layer1_hidden"  (F_l, H, W) new hidden states
 *   ".../final_conv"                          (2, H, W) the update (channel 0 = Re, 1 = Im)
 *   ".../prediction"                          the estimate after step t of cascade i: (H, W)
 *                                             image, or (C, H, W) k-space in DC mode
 */
extern const struct mr_net_ops mr_cirim_ops;

#endif
