/*
 * Learned Proximal Network (Fang, Buchanan, Sulam, "What's in a Prior? Learned Proximal
 * Networks for Inverse Problems", ICLR 2024; reference lpn/networks/lpn_128.py, class LPN):
 * a convex potential ψ(x) on C×128×128 images whose gradient is a proximal operator,
 *
 *     prox(x) = ∇ψ(x) = argmin_u  R(u) + ½‖u − x‖²   for a learned regulariser R.
 *
 * Network (specs/lpn.md §2; C = in_dim, K = hidden, σ = Softplus(β, threshold 20)):
 *     z₀ = lin.0(x)                   z_k = lin.k(σ(z_{k−1})) + res.{k−1}(D x),  k = 1..6
 *     ψ(x) = lin.7(σ(z₆)) + α‖x‖²     (not α/2: the gradient of the last term is 2αx)
 * lin.1..lin.5 and res.0..res.4 are 3×3 convs (stride 2 for lin.1/3/5 and res.0/2/4), lin.6 and
 * res.5 are 16×16 convs to 64×1×1, lin.7 is Linear(64 → 1). res.0 sees x, res.1/2 D₂x, res.3/4
 * D₄x, res.5 D₈x, where D_f is torch's bilinear downsampling (align_corners=False), i.e. the
 * mean of the 2×2 pixels {f·i + f/2 − 1, f·i + f/2} in each direction.
 * The prox is a hand-written vector–Jacobian product through the network (§2.6), not autograd.
 * One deviation from torch's float arithmetic: activations and gradients below 2^-100 are
 * flushed to zero (saturated softplus units would otherwise make the GEMMs run on subnormal
 * floats, 10–25× slower on x86); the values dropped are < 1e-30.
 *
 * Weights are the training state_dict under its own names (§2.8): lin.0.weight (K, C, 3, 3),
 * lin.0.bias (K), lin.1..5.weight (K, K, 3, 3), lin.6.weight (64, K, 16, 16), lin.7.weight
 * (1, 64), lin.7.bias (1), res.0..4.weight (K, C, 3, 3) + bias (K), res.5.weight
 * (64, C, 16, 16) + bias (64). The network borrows them (the store must outlive it). Weight
 * file config (JSON, the constructor's names): in_dim, hidden, beta, alpha.
 *
 * Images of any size ≥ 128×128 go through the patch tiling of the reference
 * (lpn/utils/lpn_for_inv.py, lpn_denoise_patch; §5): 128×128 patches at rows 0, s, 2s, … ≤ H−128
 * and columns likewise (rows outer), outputs summed and divided by the per-pixel patch count.
 * A complex image is the two channels [Re, Im] (§8.2 option 1; in_dim must be 2).
 *
 * Threads: one mr_lpn (and everything made from it) is used by one thread at a time; the
 * kernels inside are OpenMP/BLAS-parallel. Patches are processed one after the other.
 */
#ifndef MR_NETWORKS_LPN_H
#define MR_NETWORKS_LPN_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/net.h"
#include "recon/array.h"
#include "recon/pnp.h"
#include "recon/prior.h"
#include "recon/status.h"
#include "weights/weights.h"

#define MR_LPN_PATCH 128 /* the only input size the network accepts (§2.1) */

struct mr_lpn_config {
    int64_t in_dim; /* input channels C (2 for a complex MR image) */
    int64_t hidden; /* hidden channels K */
    float beta;     /* softplus sharpness */
    float alpha;    /* strong-convexity weight: ψ includes α‖x‖² */
    bool check_nonneg; /* fail with MR_ERR_WEIGHTS if lin.1..lin.7 weights have entries < 0 */
};
/* in_dim 2, hidden 256, beta 100, alpha 1e-6 (the repo's image LPN), check_nonneg true */
extern const struct mr_lpn_config mr_lpn_config_default;

/* Reads in_dim, hidden, beta, alpha from a weight file's config (absent keys keep the values
 * already in *cfg). Errors: MR_ERR_WEIGHTS (wrong type, or a value out of range). */
mr_status mr_lpn_config_read(const struct mr_config *json, struct mr_lpn_config *cfg);

struct mr_lpn;

/* A tensor source: sets *out to `name`'s float data (C order) after checking it has rank ndim
 * and the given dims; the data must outlive the network. */
typedef mr_status (*mr_lpn_tensor_fn)(void *arg, const char *name, int ndim,
                                      const int64_t *dims, const float **out);

/* Builds the network for cfg from tensors given by `get`, and allocates every buffer a
 * 128×128 evaluation needs (about 3·K·128²·4 B + im2col scratch: 125 MiB RSS for K = 256). Errors: MR_ERR_ARG
 * (in_dim or hidden < 1, beta ≤ 0, alpha < 0), MR_ERR_WEIGHTS (from get, or negative
 * constrained weights with cfg->check_nonneg), MR_ERR_NOMEM. */
mr_status mr_lpn_create_from(const struct mr_lpn_config *cfg, mr_lpn_tensor_fn get, void *arg,
                             struct mr_lpn **out);

/* Same with the tensors borrowed from a weight store (ws must outlive the network) and the
 * config from its `config` attribute over mr_lpn_config_default. Errors: as above, and
 * MR_ERR_WEIGHTS if the store holds tensors the network does not use. */
mr_status mr_lpn_create(struct mr_weights *ws, struct mr_lpn **out);

void mr_lpn_free(struct mr_lpn *lpn);

const struct mr_lpn_config *mr_lpn_get_config(const struct mr_lpn *lpn);

/* ψ(x) for one patch x (C, 128, 128) F32 (forward pass only). Final sums in double. */
double mr_lpn_psi(struct mr_lpn *lpn, const struct mr_array *x);

/* dst (C, 128, 128) = ∇ψ(x) = prox(x); dst may equal x. *psi (may be NULL) receives ψ(x). */
void mr_lpn_prox_patch(struct mr_lpn *lpn, struct mr_array *dst, const struct mr_array *x,
                       double *psi);

/* Intermediates of the last mr_lpn_psi / mr_lpn_prox_patch call (borrowed; overwritten by the
 * next call): z_k the pre-activations (k = 0..6, shapes (K,128,128) … (64,1,1)); grad_z_k =
 * ∂ψ/∂z_k (prox only); x_down(f) = D_f x for f = 2, 4, 8; psi_net = lin.7 output (no α term). */
const struct mr_array *mr_lpn_z(const struct mr_lpn *lpn, int k);
const struct mr_array *mr_lpn_grad_z(const struct mr_lpn *lpn, int k);
const struct mr_array *mr_lpn_x_down(const struct mr_lpn *lpn, int f);
double mr_lpn_psi_net(const struct mr_lpn *lpn);

/* ---- patch tiling (§5) ------------------------------------------------------------------- */

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
    int64_t stride;    /* patch stride s ≥ 1 (the reference's stride_size); 0 = auto: the
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
 * patch and accumulator buffers. Borrows lpn. Errors: MR_ERR_ARG (stride < 0),
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

/* ---- PnP reconstruction of multi-coil k-space with the LPN prior (§8) --------------------- */

struct mr_lpn_pnp_config {
    bool admm;                          /* false: PnP-PGD (§8.3), true: PnP-ADMM (§8.4) */
    struct mr_pnp_config pnp;           /* iterations, step, ρ, s, CG, tol (recon/pnp.h) */
    struct mr_lpn_tiling_config tiling; /* patch stride, border cover */
    bool normalize; /* solve with y / c, c = max|Aᴴy|, and return c·x (§8.5; not in the
                       reference, whose goldens use no scaling) */
};
/* PGD, 20 iterations, step 1 (normalised maps), auto stride, no normalisation; ADMM settings
 * of mr_pnp_config_default (ρ 0.05, s ½, CG 30 / 1e-5) */
extern const struct mr_lpn_pnp_config mr_lpn_pnp_config_default;

/*
 * Reads the solver settings from a weight file config over *cfg (absent keys keep their
 * values). Keys (extensions of the reference config): "pnp_solver" "pgd" | "admm",
 * "pnp_iterations" int, "pnp_step" number, "pnp_tol" number, "patch_stride" int,
 * "cover_border" bool, "patch_window" "uniform" | "hann", "admm_rho", "admm_scale" numbers,
 * "cg_iterations" int, "cg_tol" number, "normalize" bool. Errors: MR_ERR_WEIGHTS (wrong type,
 * unknown solver or window).
 */
mr_status mr_lpn_pnp_config_read(const struct mr_config *json, struct mr_lpn_pnp_config *cfg);

/* The settings for measured data (mr_net_infer): k-space normalised by max|Aᴴy| (normalize),
 * the patch grid extended to cover the image borders (cover_border), stride 64 where the
 * config leaves it automatic, and `iterations` PnP iterations when > 0. */
void mr_lpn_pnp_config_for_inference(struct mr_lpn_pnp_config *cfg, int iterations);

struct mr_lpn_recon;

/* Plans a SENSE operator (centred orthonormal FFT, recon/sense.h), the solver and the LPN
 * prior for nc coils of h×w; borrows lpn. Errors: MR_ERR_ARG (in_dim ≠ 2, bad sizes),
 * MR_ERR_UNSUPPORTED (h or w < 128, or a stride that does not cover), MR_ERR_NOMEM. */
mr_status mr_lpn_recon_create(struct mr_lpn *lpn, const struct mr_lpn_pnp_config *cfg,
                              int64_t nc, int64_t h, int64_t w, struct mr_lpn_recon **out);
void mr_lpn_recon_free(struct mr_lpn_recon *r);

/*
 * img (h, w) CF32 = PnP reconstruction from masked k-space ksp (nc, h, w) CF32, mask (h, w) F32
 * and maps sens (nc, h, w) CF32 (normalised to Σ|S|² = 1 for step 1). info and probe may be
 * NULL; probe receives the solver's iterates (recon/pnp.h: "x_00", "z_<kk>", "x_<kk>").
 * Errors: MR_ERR_SHAPE (an input's shape), MR_ERR_DATA (non-finite maps or iterates).
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
 * The registry row "lpn" (networks/registry.c): create = mr_lpn_create's checks with the
 * config given; prepare plans mr_lpn_recon for the size (MR_ERR_SHAPE if the tiling cannot
 * cover it); run = mr_lpn_recon_run with the solver settings read by mr_lpn_pnp_config_read
 * from the same config (for inference, mr_lpn_pnp_config_for_inference on top); needs
 * sensitivity maps; output (H, W) complex64; image = magnitude.
 * Probes: "x_00" (= Aᴴy), then per iteration k "z_%02d" (PGD: prox input; ADMM: z) and
 * "x_%02d" (the iterate), as in the case_4 golden's /intermediate.
 */
extern const struct mr_net_ops mr_lpn_ops;

#endif
