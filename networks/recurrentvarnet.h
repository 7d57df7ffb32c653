/*
 * Recurrent Variational Network (Yiasemis et al., CVPR 2022, arXiv:2111.09639) exactly as
 * DIRECT computes it (NKI-AI/direct@50b9704, direct/nn/recurrentvarnet/recurrentvarnet.py;
 * spec ../shared/specs/recurrentvarnet.md §2-4).
 *
 * Model (one slice): masked k-space y (C, H, W) CF32, mask M (H, W) F32 (≠ 0 ⇒ sampled),
 * sensitivity maps S (C, H, W) CF32, optionally an initial image (H, W) CF32 ("input_image"
 * initialiser only). F / F⁻¹ = 2-D FFT over (H, W), orthonormal, centred or not (fft config).
 *
 *   h = RSI(channels(Σ_axis F(u))) or 0       u: "sense" Σ_c conj(S_c) F⁻¹(y_c) (H, W);
 *                                                "zero_filled" F⁻¹(y_c) for every coil;
 *                                                "input_image" the initial image
 *   k = y
 *   for t < T:  e = where(M == 0, 0, k − y)
 *               x = channels(Σ_c conj(S_c) F⁻¹(k_c))          (2, H, W): [re, im]
 *               w, h = ConvGRU_t(x, h)                         (networks/conv_gru.h)
 *               k = k − α_t e + F(S_c · w)
 *   output k (C, H, W) CF32 (multi-coil k-space, not an image)
 *
 * The RSI (Recurrent State Initializer): K replication-padded dilated 3×3 convs + ReLU
 * (2 → c_0 → … → c_{K−1}), the last m feature maps concatenated (oldest first), then L 1×1
 * convs + ReLU to Hc channels, one per GRU layer.
 *
 * Weights are DIRECT's state_dict keys (§4) borrowed from an mr_weights store (which must
 * outlive the network). Work buffers are allocated by mr_recurrentvarnet_prepare for one
 * (C, H, W); run never allocates.
 */
#ifndef MR_NETWORKS_RECURRENTVARNET_H
#define MR_NETWORKS_RECURRENTVARNET_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/conv_gru.h"
#include "networks/net.h"
#include "recon/array.h"
#include "recon/fft.h"
#include "recon/status.h"
#include "weights/config.h"
#include "weights/weights.h"

#define MR_RVN_MAX_INIT 16

enum mr_rvn_init {
    MR_RVN_INIT_NONE = 0,        /* h0 = 0 */
    MR_RVN_INIT_SENSE = 1,       /* "sense" */
    MR_RVN_INIT_ZERO_FILLED = 2, /* "zero_filled" */
    MR_RVN_INIT_INPUT_IMAGE = 3, /* "input_image" */
};

/* DIRECT's constructor arguments (class defaults in mr_recurrentvarnet_config_default) plus the
 * FFT convention, which DIRECT passes as operators and the weights cannot tell. */
struct mr_recurrentvarnet_config {
    int64_t num_steps;             /* T */
    int64_t hidden;                /* recurrent_hidden_channels, Hc */
    int64_t layers;                /* recurrent_num_layers, L */
    bool no_parameter_sharing;     /* T blocks (true) or one reused block */
    enum mr_rvn_init init;         /* NONE unless learned_initializer and a mode are set */
    int64_t init_channels[MR_RVN_MAX_INIT];
    int64_t init_dilations[MR_RVN_MAX_INIT];
    int n_init;                    /* min(len(channels), len(dilations)): zip() */
    int64_t multiscale;            /* m */
    bool normalized;               /* NormConv2dGRU */
    struct mr_fft_config fft;      /* ortho; centred or not */
};

/* T 15, Hc 64, L 4, no sharing, no RSI, channels (32,32,64,64), dilations (1,1,2,4), m 1,
 * not normalised, centred ortho FFT (DIRECT's fft2 default). */
extern const struct mr_recurrentvarnet_config mr_recurrentvarnet_config_default;

/* Reads DIRECT's keys (num_steps, recurrent_hidden_channels, recurrent_num_layers,
 * no_parameter_sharing, learned_initializer, initializer_initialization, initializer_channels,
 * initializer_dilations, initializer_multiscale, normalized) and "fft_centered" (bool) from a
 * JSON config over the defaults. in_channels must be 2 if present. Errors: MR_ERR_WEIGHTS
 * (wrong type, unknown initializer mode, "zeros", in_channels ≠ 2, too many RSI layers, a
 * value outside its range, named: steps 1..MR_NET_MAX_BLOCKS, channels
 * 1..MR_NET_MAX_CHANNELS, layers 1..MR_CONV_GRU_MAX_LAYERS, dilations 1..MR_NET_MAX_DILATION,
 * multiscale 1..the number of RSI layers). */
mr_status mr_recurrentvarnet_config_parse(const struct mr_config *json,
                                          struct mr_recurrentvarnet_config *out);

struct mr_recurrentvarnet;

/* Builds the network from a store: keys "<prefix>initializer.*", "<prefix>block_list.<b>.*"
 * (prefix "" for a plain state_dict). Borrows the tensors: ws must outlive the network.
 * Errors: MR_ERR_ARG (bad config values), MR_ERR_WEIGHTS (missing key, wrong shape),
 * MR_ERR_NOMEM. */
mr_status mr_recurrentvarnet_create(struct mr_weights *ws, const char *prefix,
                                    const struct mr_recurrentvarnet_config *cfg,
                                    struct mr_recurrentvarnet **out);
void mr_recurrentvarnet_free(struct mr_recurrentvarnet *net);

const struct mr_recurrentvarnet_config *
mr_recurrentvarnet_get_config(const struct mr_recurrentvarnet *net);

/* Allocates the work buffers and FFT plans for nc coils of h×w (again only if the size
 * changes). Errors: MR_ERR_ARG (size < 1, or < 2 pixels with a normalised GRU),
 * MR_ERR_NOMEM. */
mr_status mr_recurrentvarnet_prepare(struct mr_recurrentvarnet *net, int64_t nc, int64_t h,
                                     int64_t w);

/* out (C, H, W) CF32 = RecurrentVarNet(y, mask, sens[, initial]) after prepare, shapes those
 * of the prepared size (MR_ASSERT: the registry's mr_net_run checks a slice's inputs).
 * initial (H, W) CF32 is required for the "input_image" initialiser (else MR_ERR_ARG) and
 * ignored otherwise.
 * Probe (recon/probe.h; may be NULL; index −1): "initializer_input" (2, H, W) (with an RSI),
 * "h0" (L, Hc, H, W), and per step t "step_<t>/" + "regularizer_input" (2, H, W),
 * "gru_conv_<l>_preact" (step 0 only), "regularizer_output" (2, H, W), "hidden_state"
 * (L, Hc, H, W), "recurrent_kspace_term", "kspace_error" and "kspace" (C, H, W) CF32: the
 * k-space estimate after step t (the last is the output). */
mr_status mr_recurrentvarnet_run(struct mr_recurrentvarnet *net, struct mr_array *out,
                                 const struct mr_array *y, const struct mr_array *mask,
                                 const struct mr_array *sens, const struct mr_array *initial,
                                 const struct mr_probe *probe);

/* The network-interface row "recurrentvarnet" (networks/recurrentvarnet_row.c): the model on given
 * maps, or DIRECT's whole inference path when no maps are given; probes those of
 * mr_recurrentvarnet_run, resp. mr_direct_framework_run. */
extern const struct mr_net_ops mr_recurrentvarnet_ops;

#endif
