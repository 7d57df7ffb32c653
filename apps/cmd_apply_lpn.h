/*
 * `mrirecon apply` for LPN weight files (networks/lpn.h): the learned proximal operator on an
 * image, or PnP reconstruction of multi-coil k-space with the LPN as the prior.
 *
 * Input file (HDF5, the golden layout):
 *   /input  (C, H, W) float32 with C = in_dim, or (H, W) complex64 for in_dim 2 ([Re, Im]),
 *           or (H, W) float32 for in_dim 1:  writes /output = prox(input) (same shape and
 *           type), tiled for any size ≥ 128 (patch 128, --patch-stride); for exactly one
 *           128×128 patch also /psi = ψ(input) and /R_at_output = R(prox(input)) (float64).
 *   or /kspace (C, H, W) or (S, C, H, W) complex64 (masked), /mask (H, W) or (S, H, W),
 *           /sensitivity_map (C, H, W) or (S, C, H, W) complex64 (normalised, Σ|S|² = 1):
 *           writes /output (H, W) or (S, H, W) complex64, the PnP iterate x_N of every slice,
 *           and the attribute R_at_output (R summed over the patches of the last prox, PGD).
 * Solver settings: the defaults of mr_lpn_pnp_config_default, then the weight file config's
 * keys (mr_lpn_pnp_config_read), then the options below. Both outputs are the LPN's raw ones
 * (what the reference computes), so `--raw`, which every architecture's `apply` accepts,
 * changes nothing here. Reached from `mrirecon apply` (cmd_apply.c) through its table of
 * per-architecture front-ends.
 */
#ifndef MR_APPS_CMD_APPLY_LPN_H
#define MR_APPS_CMD_APPLY_LPN_H

#include <stdint.h>

#include "recon/status.h"

struct mr_apply_lpn_options {
    const char *solver;   /* "pgd" | "admm"; NULL = from the weights / default */
    int iterations;       /* < 0: unset */
    float step;           /* <= 0: unset (PGD step η) */
    int64_t patch_stride; /* <= 0: unset (then auto: see mr_lpn_tiling_config) */
    int cover_border;     /* -1 unset, 0 / 1 */
    const char *window;   /* "uniform" | "hann"; NULL = from the weights / default */
    int normalize;        /* -1 unset, 0 / 1 */
    float rho;            /* <= 0: unset (ADMM ρ) */
    float scale;          /* <= 0: unset (ADMM s) */
};
/* everything unset */
extern const struct mr_apply_lpn_options mr_apply_lpn_options_default;

/* Runs the LPN of `weights` on `input` and writes `output` (atomically). Errors: from the
 * weight file, the input layout (MR_ERR_FORMAT / MR_ERR_SHAPE naming the dataset), the tiling
 * (MR_ERR_UNSUPPORTED) and the solver. */
mr_status mr_apply_lpn(const char *weights, const char *input, const char *output,
                       const struct mr_apply_lpn_options *opt);

/* The command line: mrirecon apply --weights W --input IN --output OUT [--raw]
 * [--solver pgd|admm] [--iterations N] [--step S] [--patch-stride K] [--cover-border]
 * [--patch-window W] [--normalize] [--rho R] [--scale S]. Exit codes 0 / 1 / 2. */
int mr_main_apply_lpn(int argc, char *argv[]);

#endif
