/*
 * The fastMRI / ATOMMIC U-Net (Ronneberger et al. 2015, as in fastmri/models/unet.py; identical
 * code in ATOMMIC's unet_block.py) and the NormUnet wrapper around it (e2evn.md §3, §4).
 *
 * U-Net(in, out, chans c, pools p), ch_k = c·2^k:
 *   ConvBlock(a→b)  = [conv3x3(no bias, zero pad 1), InstanceNorm(eps 1e-5), LeakyReLU 0.2] × 2
 *   down k          = ConvBlock(ch_{k−1} → ch_k) (in → c for k = 0), skip_k, avg-pool 2 (floor)
 *   bottleneck      = ConvBlock(ch_{p−1} → ch_p)
 *   up j (level k = p−1−j) = tconv2x2 s2 (no bias) + InstanceNorm + LeakyReLU, reflect-pad by
 *                     one on the right / bottom where the skip is one larger, concat
 *                     [up, skip_k], ConvBlock(2ch_k → ch_k); the last adds conv1x1(c → out)+bias.
 * State-dict keys relative to the prefix: down_sample_layers.k.layers.{0,4}.weight,
 * conv.layers.{0,4}.weight, up_conv.j.layers.{0,4}.weight (j < p−1),
 * up_conv.(p−1).0.layers.{0,4}.weight, up_conv.(p−1).1.{weight,bias},
 * up_transpose_conv.j.layers.0.weight.
 *
 * Weights (struct mr_unet) and buffers for one image size (struct mr_unet_work) are separate
 * objects, so all cascades of a network share one set of buffers.
 */
#ifndef MR_NETWORKS_UNET_H
#define MR_NETWORKS_UNET_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "weights/weights.h"

#define MR_UNET_MAX_POOLS 8

struct mr_unet_config {
    int64_t in_chans;
    int64_t out_chans;
    int64_t chans;     /* c */
    int64_t num_pools; /* p, 1..MR_UNET_MAX_POOLS */
};

struct mr_unet;
struct mr_unet_work;

/* Borrows the U-Net's tensors "<prefix><key>" from ws (prefix e.g. "cascades.0.model.unet.").
 * Errors: MR_ERR_ARG (config out of range), MR_ERR_WEIGHTS (missing key, wrong shape),
 * MR_ERR_NOMEM. The weights must outlive the U-Net. */
mr_status mr_unet_create(struct mr_weights *ws, const char *prefix,
                         const struct mr_unet_config *cfg, struct mr_unet **out);
void mr_unet_free(struct mr_unet *u);
const struct mr_unet_config *mr_unet_get_config(const struct mr_unet *u);

/* Prepares the Winograd-domain weights of the 3×3 convs that take that path on h×w inputs
 * and frees those of the levels too small for it (layers.h mr_conv2d_prepare_winograd_for).
 * Optional (without it every conv runs direct / SGEMM); call before running on a new size.
 * Errors: MR_ERR_NOMEM. */
mr_status mr_unet_prepare_size(struct mr_unet *u, int64_t h, int64_t w);

/* Buffers for running any U-Net of config cfg on h×w inputs. Errors: MR_ERR_SHAPE (a level
 * would shrink to 0, or the bottleneck to a single pixel, which torch's instance norm
 * rejects), MR_ERR_NOMEM. */
mr_status mr_unet_work_create(const struct mr_unet_config *cfg, int64_t h, int64_t w,
                              struct mr_unet_work **out);
void mr_unet_work_free(struct mr_unet_work *wk);

/* dst (out_chans, h, w) = U-Net(src (in_chans, h, w)); wk made for u's config and this size
 * (MR_ASSERT). No allocation. */
void mr_unet_forward(const struct mr_unet *u, struct mr_unet_work *wk, struct mr_array *dst,
                     const struct mr_array *src);

/*
 * NormUnet for one complex image (n = 1), e2evn.md §4:
 *   [re, im] → (if normalize) per-part (x − mean)/std, std unbiased, no eps → zero-pad to
 *   ((n−1) | padding_size) + 1 per axis (none when padding_size is 0; fastMRI uses 15),
 *   top/left floor((Np − N)/2) → U-Net(2 → 2) → crop → (if normalize) y·std + mean → complex.
 */
struct mr_normunet_config {
    int64_t chans;
    int64_t num_pools;
    bool normalize;
    int64_t padding_size; /* 15 for fastMRI, ATOMMIC's padding_size (11 default), 0 = none */
};

struct mr_normunet;
struct mr_normunet_work;

/* Padded size of one axis: ((n − 1) | padding_size) + 1, or n when padding_size is 0. */
int64_t mr_normunet_padded_size(int64_t n, int64_t padding_size);

/* Borrows "<prefix>unet.<key>" (prefix e.g. "cascades.3.model."). Errors as mr_unet_create. */
mr_status mr_normunet_create(struct mr_weights *ws, const char *prefix,
                             const struct mr_normunet_config *cfg, struct mr_normunet **out);
void mr_normunet_free(struct mr_normunet *nu);

/* mr_unet_prepare_size for the padded size of h×w images. */
mr_status mr_normunet_prepare_size(struct mr_normunet *nu, int64_t h, int64_t w);

/* Buffers for h×w images. Errors as mr_unet_work_create (for the padded size). */
mr_status mr_normunet_work_create(const struct mr_normunet_config *cfg, int64_t h, int64_t w,
                                  struct mr_normunet_work **out);
void mr_normunet_work_free(struct mr_normunet_work *wk);

/* dst (h, w) CF32 = NormUnet(src (h, w) CF32); dst may equal src. No allocation. */
void mr_normunet_forward(const struct mr_normunet *nu, struct mr_normunet_work *wk,
                         struct mr_array *dst, const struct mr_array *src);

/* What the last forward saw, for tests and probes (borrowed from wk): the U-Net input and
 * output (2, Hp, Wp), and the group statistics mean[2], std[2] as (2,) arrays (mean 0, std 1
 * without normalisation). */
const struct mr_array *mr_normunet_work_unet_input(const struct mr_normunet_work *wk);
const struct mr_array *mr_normunet_work_unet_output(const struct mr_normunet_work *wk);
const struct mr_array *mr_normunet_work_mean(const struct mr_normunet_work *wk);
const struct mr_array *mr_normunet_work_std(const struct mr_normunet_work *wk);

#endif
