/*
 * The LPN on images of any size ≥ 128×128, after the patch tiling of the reference
 * (lpn/utils/lpn_for_inv.py, lpn_denoise_patch; shared/specs/lpn.md §5): 128×128 patches at
 * rows 0, s, 2s, … ≤ H−128 and columns likewise (rows outer), the patch proxes summed and
 * divided by the per-pixel patch count; and as the plug-in prior of recon/prior.h on complex
 * images, the two channels [Re, Im] (§8.2 option 1; in_dim must be 2).
 *
 * Threads: one tiler (or prior) per thread, as the network it borrows.
 */
#ifndef MR_NETWORKS_LPN_TILER_H
#define MR_NETWORKS_LPN_TILER_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/lpn.h"
#include "recon/array.h"
#include "recon/prior.h"
#include "recon/status.h"

/*
 * Averaging of overlapping patches. UNIFORM is the reference: every patch output counts fully,
 * so the prox's weaker pixels at a patch's edges (its convs see zero padding there) land on
 * the same image rows and columns, one stride apart, and PnP iterates that into a visible grid.
 * HANN (an extension) weights a patch's pixel (i, j) by h(i)·h(j), h(i) = sin²(π(i + ½)/128),
 * and divides by the summed weights: the centre of some patch dominates every pixel, and the
 * grid disappears. Both equal the bare prox on a single 128×128 patch.
 */
enum mr_lpn_window {
    MR_LPN_WINDOW_UNIFORM = 0,
    MR_LPN_WINDOW_HANN = 1,
};

struct mr_lpn_tiling_config {
    int64_t stride;    /* patch stride s in 1..128 (the reference's stride_size); 0 = auto: the
                          largest s ≤ 64 dividing gcd(H − 128, W − 128), so that the
                          reference grid covers the image (64 for 320×320 or 512×512, 3 for
                          131×134; 1 in the worst case, which is slow but exact) */
    bool cover_border; /* if the last patch does not end at H (W), add one at H − 128
                          (W − 128): an extension not in the reference; false = the
                          reference's grid only, which must cover the image */
    enum mr_lpn_window window; /* how overlapping patch outputs are averaged */
};
/* stride 0 (auto), cover_border false, uniform window (the reference) */
extern const struct mr_lpn_tiling_config mr_lpn_tiling_config_default;

struct mr_lpn_tiler;

/* Plans the tiling of h×w images (patch positions, per-pixel counts) and allocates the
 * patch and accumulator buffers. Borrows lpn. Errors: MR_ERR_ARG (stride outside [0, 128]),
 * MR_ERR_UNSUPPORTED (h or w < 128, or the grid leaves pixels uncovered and cover_border is
 * false — the reference would produce NaN there), MR_ERR_NOMEM. */
mr_status mr_lpn_tiler_create(struct mr_lpn *lpn, int64_t h, int64_t w,
                              const struct mr_lpn_tiling_config *cfg,
                              struct mr_lpn_tiler **out);
void mr_lpn_tiler_free(struct mr_lpn_tiler *t);

/* dst (C, h, w) = tiled prox of src (C, h, w), F32; dst may equal src. */
void mr_lpn_tiler_apply(struct mr_lpn_tiler *t, struct mr_array *dst, const struct mr_array *src);

/* The same for a complex image (h, w) CF32 through channels [Re, Im] (requires in_dim 2);
 * dst may equal src. */
void mr_lpn_tiler_apply_complex(struct mr_lpn_tiler *t, struct mr_array *dst,
                                const struct mr_array *src);

/* Σ over patches of R(prox(p)) = ⟨p, ∇ψ(p)⟩ − ½‖∇ψ(p)‖² − ψ(p) (§6, per patch, up to a
 * constant) for the patches p of the last apply; R is exact for a single patch, and for a
 * tiled image this sum is only a diagnostic (the averaged operator has no potential). */
double mr_lpn_tiler_last_regularizer(const struct mr_lpn_tiler *t);

/* Patch grid (borrowed): rows[0..nrows), cols[0..ncols); ψ of each patch of the last apply,
 * row-major (nrows·ncols); per-pixel patch counts (h, w) F32 (summed window weights for
 * MR_LPN_WINDOW_HANN). */
void mr_lpn_tiler_grid(const struct mr_lpn_tiler *t, int64_t *nrows, const int64_t **rows,
                       int64_t *ncols, const int64_t **cols);
const double *mr_lpn_tiler_patch_psi(const struct mr_lpn_tiler *t);
/* The stride in use (the resolved one for stride 0). */
int64_t mr_lpn_tiler_stride(const struct mr_lpn_tiler *t);
const struct mr_array *mr_lpn_tiler_count(const struct mr_lpn_tiler *t);

/* ---- the plug-in prior (recon/prior.h) ---------------------------------------------------- */

/*
 * A prior on complex (h, w) images whose prox is the tiled LPN prox through [Re, Im]. The LPN
 * is always applied with unit step: the prox's lambda is ignored (§4; the prior weight is set
 * by the solver's step). Borrows lpn (it must outlive the prior). On success *out holds the
 * prior (it owns a tiler); release it with mr_prior_cleanup.
 * Errors: as mr_lpn_tiler_create, MR_ERR_ARG (in_dim ≠ 2).
 */
mr_status mr_lpn_prior_create(struct mr_lpn *lpn, int64_t h, int64_t w,
                              const struct mr_lpn_tiling_config *cfg, struct mr_prior *out);

/* The tiler inside a prior made by mr_lpn_prior_create (borrowed; for its grid, per-patch ψ
 * and mr_lpn_tiler_last_regularizer after a solve), or NULL for any other prior. */
struct mr_lpn_tiler *mr_lpn_prior_tiler(const struct mr_prior *prior);

#endif
