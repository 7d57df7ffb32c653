/*
 * Convolutional GRU of DIRECT (direct/nn/recurrent/recurrent.py: Conv2dGRU and NormConv2dGRU)
 * as RecurrentVarNet instantiates it: 2 input and 2 output channels, Hc hidden channels,
 * L conv+GRU layers, replication padding, 1×1 gates, no instance norm, no dense connections
 * (spec: ../shared/specs/recurrentvarnet.md §3.2-3.3).
 *
 * Conv layers conv_blocks[l], l = 0..L, all with bias, replication ("edge") padding:
 *   l = 0        2 → Hc,  5×5, dilation 1, pad 2
 *   l = 1        Hc → Hc (Hc → 2 when L = 1), 3×3, dilation 2, pad 2
 *   2 ≤ l < L    Hc → Hc, 3×3, dilation 1, pad 1
 *   l = L ≥ 2    Hc → 2,  3×3, dilation 1, pad 1
 * Forward, input x (2, H, W), state h (L, Hc, H, W):
 *   for l < L:  a = ReLU(conv_l(x));  z = σ(update_l[a, h_l]);  r = σ(reset_l[a, h_l]);
 *               n = tanh(out_l[a, r ⊙ h_l]);  h_l ← h_l ⊙ (1 − z) + n ⊙ z;  x = ReLU(h_l)
 *   w = conv_L(x)
 * The normalised variant standardises each of the two input channels with its mean and
 * unbiased standard deviation (no epsilon) and maps the output back: w = ŵ · std + mean.
 *
 * State layout here is (L, Hc, H, W) F32, layer slowest (DIRECT keeps (N, Hc, H, W, L)).
 *
 * A GRU borrows its weights from the store (valid while the store lives) and holds no
 * per-size buffers: the caller passes a workspace of mr_conv_gru_work_size floats, so the T
 * unshared GRUs of a RecurrentVarNet share one.
 */
#ifndef MR_NETWORKS_CONV_GRU_H
#define MR_NETWORKS_CONV_GRU_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/layers.h"
#include "recon/array.h"
#include "recon/probe.h"
#include "recon/status.h"
#include "weights/weights.h"

#define MR_CONV_GRU_MAX_LAYERS 16

struct mr_conv_gru {
    int64_t hidden; /* Hc */
    int64_t layers; /* L */
    bool normalized;
    struct mr_conv2d conv[MR_CONV_GRU_MAX_LAYERS + 1];
    struct mr_conv2d reset[MR_CONV_GRU_MAX_LAYERS];
    struct mr_conv2d update[MR_CONV_GRU_MAX_LAYERS];
    struct mr_conv2d out[MR_CONV_GRU_MAX_LAYERS];
    struct mr_array wino[MR_CONV_GRU_MAX_LAYERS + 1]; /* conv[l]'s Winograd weights, if used */
    /* update and reset gates stacked into one 1×1 conv (2Hc → 2Hc: [z; r]), so that one GEMM
     * packs their common input once; zr_store[l] owns its weights then bias */
    struct mr_conv2d zr[MR_CONV_GRU_MAX_LAYERS];
    struct mr_array zr_store[MR_CONV_GRU_MAX_LAYERS];
};

/* Borrows the weights of one GRU from ws: keys "<prefix>reset_gates.<l>.0.weight" etc. (the
 * prefix includes "convgru." for the normalised variant and ends with '.'), checking every
 * shape. Errors: MR_ERR_ARG (hidden < 1, layers outside [1, MR_CONV_GRU_MAX_LAYERS]),
 * MR_ERR_WEIGHTS (missing key or wrong shape), MR_ERR_NOMEM. Release with
 * mr_conv_gru_cleanup. */
mr_status mr_conv_gru_init(struct mr_conv_gru *g, struct mr_weights *ws, const char *prefix,
                           int64_t hidden, int64_t layers, bool normalized);

/* Frees what init allocated (the Winograd-domain weights of the wide 3×3 convs, layers.h);
 * safe on a zeroed or partly initialised g. */
void mr_conv_gru_cleanup(struct mr_conv_gru *g);

/* Floats of workspace mr_conv_gru_forward needs for an h×w image. */
int64_t mr_conv_gru_work_size(const struct mr_conv_gru *g, int64_t h, int64_t w);

/* One recurrent step: out (2, H, W) F32 = w, state (L, Hc, H, W) F32 updated in place (pass
 * zeros for DIRECT's initial None state). x (2, H, W) F32 is not modified. work: at least
 * mr_conv_gru_work_size floats. Cannot fail (shapes are asserted).
 * Probe (may be NULL): "gru_conv_<l>_preact", the conv_blocks[l] output before its activation
 * (l = 0..L; the last is the GRU output ŵ before de-normalisation). */
void mr_conv_gru_forward(const struct mr_conv_gru *g, struct mr_array *out,
                         const struct mr_array *x, struct mr_array *state, float *work,
                         const struct mr_probe *probe);

#endif
