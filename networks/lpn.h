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
 * Larger images: networks/lpn_tiler.h (patches, and the prior of recon/prior.h); PnP
 * reconstruction with this prior and the registry row "lpn": networks/lpn_pnp.h.
 *
 * Threads: one mr_lpn (and everything made from it) is used by one thread at a time; the
 * kernels inside are OpenMP/BLAS-parallel. Patches are processed one after the other.
 */
#ifndef MR_NETWORKS_LPN_H
#define MR_NETWORKS_LPN_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/status.h"
#include "weights/config.h"
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
 * already in *cfg). Errors: MR_ERR_WEIGHTS (wrong type, or a value out of its range, named:
 * in_dim and hidden 1..MR_NET_MAX_CHANNELS, beta in (0, 1e6], alpha in [0, 1e6]). */
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

/* The same with the constructor arguments read from json (over mr_lpn_config_default) and no
 * check for unused tensors (the registry row's create). Errors: MR_ERR_WEIGHTS (a store for
 * another architecture, config values), as mr_lpn_create_from. */
mr_status mr_lpn_create_config(struct mr_weights *ws, const struct mr_config *json,
                               struct mr_lpn **out);

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

#endif
