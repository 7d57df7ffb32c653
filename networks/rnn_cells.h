/*
 * Convolutional recurrent cells of the RIM / CIRIM family (ATOMMIC rim_base/rnn_cells.py),
 * on feature maps (channels, H, W) F32 with PyTorch's exact semantics.
 *
 * Every cell holds an input→hidden conv `ih` (Cin → g·F, kernel k, dilation d, ZERO padding
 * floor(d·(k − 1)/2), optional bias) and computes, for input a (Cin, H, W) and hidden state
 * h (F, H, W), the new hidden state h' (which is also the cell's output):
 *
 *   IndRNN (g = 1), hh (F) one recurrent weight per channel (state_dict [1, F, 1, 1]):
 *       h' = ReLU( ih(a) + hh ⊙ h )
 *   GRU (g = 3), hh = Conv2d(F → 3F, same k and d, zero padding, no bias); gate blocks of F
 *   channels in the order [r, z, n]:
 *       r = σ(ih_r + hh_r(h)),  z = σ(ih_z + hh_z(h)),  n = tanh(ih_n + r ⊙ hh_n(h))
 *       h' = (1 − z) ⊙ n + z ⊙ h
 *   MGU (g = 2), hh = Conv2d(F → 2F, no bias); blocks [f, c]:
 *       f = σ(ih_f + hh_f(h)),  c = tanh(ih_c + f ⊙ hh_c(h)),  h' = c + f ⊙ (h − c)
 *
 * State dict keys under a prefix P ("reconstruction_module.0.layers.1.rnn"):
 *   IndRNN  P.hh [1, F, 1, 1], P.ih.weight [F, Cin, k, k], P.ih.bias [F] (if bias)
 *   GRU     P.ih.weight [3F, Cin, k, k], P.ih.bias [3F] (if bias), P.hh.weight [3F, F, k, k]
 *   MGU     P.ih.weight [2F, Cin, k, k], P.ih.bias [2F] (if bias), P.hh.weight [2F, F, k, k]
 */
#ifndef MR_NETWORKS_RNN_CELLS_H
#define MR_NETWORKS_RNN_CELLS_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/layers.h"
#include "recon/array.h"
#include "recon/status.h"
#include "weights/weights.h"

enum mr_rnn_cell_type {
    MR_RNN_CELL_TYPE_INDRNN = 0,
    MR_RNN_CELL_TYPE_GRU = 1,
    MR_RNN_CELL_TYPE_MGU = 2,
};

/* Parses "IndRNN" | "GRU" | "MGU" (case-insensitive, as ATOMMIC's .upper()).
 * Errors: MR_ERR_UNSUPPORTED naming the string. */
mr_status mr_rnn_cell_type_parse(const char *s, enum mr_rnn_cell_type *out);

/* "IndRNN", "GRU" or "MGU" (a static string). */
const char *mr_rnn_cell_type_name(enum mr_rnn_cell_type type);

/* Number of F-channel gate blocks of the ih/hh convs: 1 (IndRNN), 3 (GRU), 2 (MGU). */
int64_t mr_rnn_cell_type_gates(enum mr_rnn_cell_type type);

struct mr_rnn_cell {
    enum mr_rnn_cell_type type;
    int64_t cin;
    int64_t hidden;       /* F */
    struct mr_conv2d ih;  /* Cin → g·F, zero padding */
    struct mr_conv2d hh;  /* F → g·F, no bias (GRU, MGU; unused for IndRNN) */
    const float *hh_diag; /* IndRNN: F per-channel recurrent weights (borrowed); else NULL */
};

/* Loads a cell's tensors from ws under `prefix` (keys above) and fills c; the weights are
 * borrowed from the store. k must be odd and ≥ 1, d ≥ 1, cin and hidden ≥ 1.
 * Errors: MR_ERR_WEIGHTS (missing key or wrong shape), MR_ERR_UNSUPPORTED (even kernel),
 * MR_ERR_ARG (non-positive sizes). */
mr_status mr_rnn_cell_load(struct mr_rnn_cell *c, struct mr_weights *ws, const char *prefix,
                           enum mr_rnn_cell_type type, int64_t cin, int64_t hidden, int64_t k,
                           int64_t d, bool bias);

/* Floats of scratch mr_rnn_cell_forward needs for an h×w image. */
int64_t mr_rnn_cell_scratch_size(const struct mr_rnn_cell *c, int64_t h, int64_t w);

/* In place: hid (F, H, W) ← cell(a (Cin, H, W), hid). scratch: F32, any shape, with at least
 * mr_rnn_cell_scratch_size floats. Never allocates. */
void mr_rnn_cell_forward(const struct mr_rnn_cell *c, struct mr_array *hid,
                         const struct mr_array *a, struct mr_array *scratch);

#endif
