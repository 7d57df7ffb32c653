/*
 * PnP reconstruction of multi-coil k-space with the LPN prior (shared/specs/lpn.md §8): the
 * solvers and SENSE data consistency of recon/pnp.h with the tiled LPN prior of
 * networks/lpn_tiler.h, the settings a weight file may carry, and the registry row "lpn".
 */
#ifndef MR_NETWORKS_LPN_PNP_H
#define MR_NETWORKS_LPN_PNP_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/lpn.h"
#include "networks/lpn_tiler.h"
#include "networks/net.h"
#include "recon/pnp.h"
#include "recon/probe.h"
#include "recon/status.h"
#include "weights/config.h"

struct mr_lpn_pnp_config {
    /* PGD (§8.3) or ADMM (§8.4), iterations, step, ρ, s, CG, tol, and the normalisation by
     * max|Aᴴy| (§8.5; not in the reference, whose goldens use no scaling): recon/pnp.h */
    struct mr_pnp_sense_config solver;
    struct mr_lpn_tiling_config tiling; /* patch stride, border cover, window */
};
/* MR_PNP_SENSE_CONFIG_DEFAULT (PGD, 20 iterations, step 1 for normalised maps, ADMM ρ 0.05,
 * s ½, CG 30 / 1e-5, no normalisation) and mr_lpn_tiling_config_default (auto stride) */
extern const struct mr_lpn_pnp_config mr_lpn_pnp_config_default;

/*
 * Reads the solver settings from a weight file config over *cfg (absent keys keep their
 * values). Keys (extensions of the reference config): "pnp_solver" "pgd" | "admm",
 * "pnp_iterations" int, "pnp_step" number, "pnp_tol" number, "patch_stride" int,
 * "cover_border" bool, "patch_window" "uniform" | "hann", "admm_rho", "admm_scale" numbers,
 * "cg_iterations" int, "cg_tol" number, "normalize" bool. Errors: MR_ERR_WEIGHTS (wrong type,
 * unknown solver or window, a value outside its range, named: iterations
 * 0..MR_NET_MAX_ITERATIONS, step, ρ and s in (0, 1e6], tolerances in [0, 1], patch_stride
 * 0..128).
 */
mr_status mr_lpn_pnp_config_read(const struct mr_config *json, struct mr_lpn_pnp_config *cfg);

/* The settings for measured data (mr_net_infer): k-space normalised by max|Aᴴy| (normalize),
 * the patch grid extended to cover the image borders (cover_border), stride 64 where the
 * config leaves it automatic, and `iterations` PnP iterations when > 0. */
void mr_lpn_pnp_config_for_inference(struct mr_lpn_pnp_config *cfg, int iterations);

struct mr_lpn_recon;

/* Plans the PnP reconstruction (recon/pnp.h mr_pnp_sense) and the LPN prior for nc coils of
 * h×w; borrows lpn. Errors: MR_ERR_ARG (in_dim ≠ 2, bad sizes), MR_ERR_UNSUPPORTED (h or w
 * < 128, or a stride that does not cover), MR_ERR_NOMEM. */
mr_status mr_lpn_recon_create(struct mr_lpn *lpn, const struct mr_lpn_pnp_config *cfg,
                              int64_t nc, int64_t h, int64_t w, struct mr_lpn_recon **out);
void mr_lpn_recon_free(struct mr_lpn_recon *r);

/*
 * img (h, w) CF32 = mr_pnp_sense_run with the LPN prior: PnP reconstruction from masked
 * k-space ksp (nc, h, w) CF32, mask (h, w) F32 and maps sens (nc, h, w) CF32 (normalised to
 * Σ|S|² = 1 for step 1). info and probe may be NULL; probe receives the solver's iterates
 * (recon/pnp.h: "x_00", "z_<kk>", "x_<kk>"). Errors: as mr_pnp_sense_run.
 */
mr_status mr_lpn_recon_run(struct mr_lpn_recon *r, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *sens,
                           struct mr_array *img, struct mr_pnp_info *info,
                           const struct mr_probe *probe);

/* R (§6) summed over the patches of the last prox of the last run: for PGD that prox gave the
 * output, so this is R at the output (exact for a single 128×128 patch; a diagnostic for tiled
 * images); for ADMM it is R at the last z. */
double mr_lpn_recon_regularizer(const struct mr_lpn_recon *r);

/* The prior's tiler (borrowed: grid, resolved stride, per-patch ψ of the last prox). */
const struct mr_lpn_tiler *mr_lpn_recon_tiler(const struct mr_lpn_recon *r);

/*
 * The registry row "lpn" (networks/registry.c): create = mr_lpn_create_config (in_dim 2);
 * prepare plans mr_lpn_recon for the size (MR_ERR_SHAPE if the tiling cannot cover it);
 * run = mr_lpn_recon_run with the solver settings read by mr_lpn_pnp_config_read from the
 * same config (for inference, mr_lpn_pnp_config_for_inference on top); needs sensitivity
 * maps; output (H, W) complex64; image = magnitude.
 * Probes: "x_00" (= Aᴴy), then per iteration k "z_%02d" (PGD: prox input; ADMM: z) and
 * "x_%02d" (the iterate), as in the case_4 golden's /intermediate.
 */
extern const struct mr_net_ops mr_lpn_ops;

#endif
