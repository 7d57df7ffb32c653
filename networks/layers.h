/*
 * CNN layer kernels on mr_array feature maps, with PyTorch's exact semantics.
 *
 * Layout: a feature map is F32 (channels, H, W), C order (W fastest), exactly a PyTorch NCHW
 * tensor of batch 1. Conv weights are (out, in, kh, kw), transposed-conv weights
 * (in, out, kh, kw), biases (out) — the state_dict layouts, used with no transposes.
 *
 * Rules common to every kernel here:
 *   - No allocation: outputs and scratch are allocated by the caller (a network's prepare) and
 *     reused; each function states the scratch it needs.
 *   - Shapes are the caller's invariant: a mismatch is an MR_ASSERT, not an error status.
 *   - dst never aliases src unless the function says "in place".
 *   - OpenMP only inside, over the outermost loop, with a size threshold; no kernel calls BLAS
 *     from inside a parallel region (OpenBLAS threads itself). Do not call these from inside
 *     an OpenMP parallel region of your own unless OMP nesting is off (the default).
 *   - Reductions (norm statistics) are accumulated in double.
 */
#ifndef MR_NETWORKS_LAYERS_H
#define MR_NETWORKS_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "networks/layout.h"
#include "recon/array.h"

/* How a kernel reads outside the image (torch F.pad modes / Conv2d padding_mode). */
enum mr_pad_mode {
    MR_PAD_MODE_ZERO = 0,      /* 0 outside */
    MR_PAD_MODE_REPLICATE = 1, /* edge value repeated: x[clamp(i, 0, n-1)] */
    MR_PAD_MODE_REFLECT = 2,   /* mirror without repeating the edge: x[-1] = x[1], x[n] = x[n-2] */
};

/* Maps an index i in [-pad, n + pad) onto [0, n) for REPLICATE / REFLECT; returns -1 for ZERO
 * when i is outside. REFLECT requires pad < n (torch's rule). */
int64_t mr_pad_index(enum mr_pad_mode mode, int64_t i, int64_t n);

/* Which implementation mr_conv2d_forward uses. AUTO follows, in this order, the settings'
 * forced algorithm (recon/settings.h), the plan measured or loaded for the shape and input size
 * (networks/conv_plan.h), and otherwise these heuristics (estimate mode): Winograd when its
 * weights are prepared and the output has >= 512 pixels, then the direct AVX-512 kernel where the
 * CPU and shape allow it (stride 1, kernel up to 32×32, output width >= 8) unless OpenBLAS runs
 * AVX-512/AVX2 kernels and the conv is 1×1 or reduces over cin·kh·kw >= 1024 values (SGEMM is
 * faster there), and im2col + SGEMM otherwise; the others force one path (DIRECT falls back to
 * IM2COL where it cannot run; WINOGRAD and DNNL fall back to AUTO where the conv was not prepared
 * for them at this input size). */
enum mr_conv2d_algo {
    MR_CONV2D_ALGO_AUTO = 0,
    MR_CONV2D_ALGO_IM2COL = 1,
    MR_CONV2D_ALGO_DIRECT = 2,
    MR_CONV2D_ALGO_WINOGRAD = 3, /* needs c->wino (mr_conv2d_prepare_winograd), else as AUTO */
    MR_CONV2D_ALGO_DNNL = 4,     /* oneDNN (networks/conv_dnnl.h): needs c->dnnl, else as AUTO */
};

struct mr_conv_dnnl; /* oneDNN primitives prepared for one shape and input size (conv_dnnl.h) */

/*
 * 2-D convolution (PyTorch Conv2d: cross-correlation, groups 1):
 *   y[o, r, s] = b[o] + Σ_i Σ_a Σ_b w[o, i, a, b] · x̃[i, r·sh + a·dh − pt, s·sw + b·dw − pl]
 * where x̃ reads x with `pad_mode` outside the image. Output size
 *   Ho = (H + pt + pb − dh·(kh − 1) − 1) / sh + 1   (floor), likewise Wo.
 * A "replication pad then conv with padding 0" (CIRIM, RecurrentVarNet) is this with
 * MR_PAD_MODE_REPLICATE: the padding is fused into the gather, no padded copy is made.
 */
struct mr_conv2d {
    int64_t cin;
    int64_t cout;
    int64_t kh;
    int64_t kw;
    int64_t stride[2];   /* (h, w) */
    int64_t dilation[2]; /* (h, w) */
    int64_t pad[4];      /* top, bottom, left, right */
    enum mr_pad_mode pad_mode;
    const float *w; /* borrowed, (cout, cin, kh, kw) */
    const float *b; /* borrowed, (cout), or NULL for no bias */
    enum mr_conv2d_algo algo; /* AUTO (0) unless testing or benchmarking a path */
    const float *wino; /* borrowed Winograd-domain weights, or NULL: see below */
    const struct mr_conv_dnnl *dnnl; /* borrowed oneDNN primitives for one input size, or NULL */
    const float *dnnl_w;             /* borrowed: weights reordered for its forward, or NULL */
    const float *dnnl_gw;            /* borrowed: ... for its input-gradient, or NULL */
};

/* A conv of kernel k×k, stride 1, dilation 1, symmetric `pad` and ZERO padding with no
 * weights yet: the common case; edit the fields for anything else. */
struct mr_conv2d mr_conv2d_make(int64_t cin, int64_t cout, int64_t k, int64_t pad);

/*
 * Winograd F(4×4, 3×3) for a 3×3 stride-1 conv (networks/conv_winograd.h: 36 instead of 144
 * multiply-adds per 4×4 outputs and input channel; any dilation and padding mode). If this CPU
 * has the kernel (AVX-512, or AVX2 + FMA) and the shape is one where it is faster than the direct kernel
 * (cin and cout >= 24; AUTO also needs an output of >= 512 pixels, bench/bench_conv.c), or
 * `always` is set and the shape is 3×3 stride 1, fills `store` (an empty array; allocated here, the caller cleans it
 * up) with the transformed weights and points c->wino at them; otherwise leaves both alone.
 * Call after c->w is set and before mr_conv2d_scratch_size. Changes rounding only (about 1e-6
 * of the output's magnitude; tests/networks/test_layers.c). The settings (recon/settings.h)
 * change this: conv_force NO_WINOGRAD, IM2COL or DIRECT prepare nothing; WINOGRAD prepares every
 * 3×3 stride-1 conv and runs it as Winograd whatever the image size (A/B measurements, the
 * golden networks through it in the tests); conv_plan MEASURE, or wisdom that chose Winograd
 * for this shape (networks/conv_plan.h), prepare every supported shape.
 */
mr_status mr_conv2d_prepare_winograd(struct mr_conv2d *c, struct mr_array *store, bool always);

/* The same for a conv that will run on h×w inputs: prepares the Winograd weights where AUTO
 * would take that path at this size (by the plan of networks/conv_plan.h, measured here in
 * MEASURE mode, or the heuristics, or the forced algorithm), and frees them (c->wino
 * NULL) where it would not, so that layers too small for it do not hold the 4× larger
 * transformed weights (the U-Nets' deep levels). */
mr_status mr_conv2d_prepare_winograd_for(struct mr_conv2d *c, struct mr_array *store,
                                         int64_t h, int64_t w);

/*
 * The same for the forward and, with input_grad, mr_conv2d_input_grad on h×w inputs, with
 * oneDNN (MR_CONV2D_ALGO_DNNL) as a further prepared path: where the forced algorithm, the plan
 * (measured here in MEASURE mode, the input-gradient under its own key) or wisdom picks oneDNN
 * for either direction, the shape's oneDNN primitives are taken from conv_dnnl.h's process-wide
 * table (c->dnnl) and c's weights reordered once into oneDNN's layout of each such direction
 * in `store` (c->dnnl_w forward, c->dnnl_gw input-gradient, after the Winograd weights when
 * those are kept too). `store` owns everything the conv borrows: mr_array_cleanup(store) ends it
 * (set c->wino, c->dnnl_w, c->dnnl_gw to NULL, or prepare again).
 * A shape oneDNN cannot run (REPLICATE/REFLECT padding; dilation for the input-gradient) or has
 * no implementation for keeps the other paths. c->w must not change afterwards.
 * Errors: MR_ERR_NOMEM. (prepare_winograd_for(c, store, h, w) = prepare_for(..., false).)
 */
mr_status mr_conv2d_prepare_for(struct mr_conv2d *c, struct mr_array *store, int64_t h,
                                int64_t w, bool input_grad);

/* True if the direct kernel can run c on this CPU and c->algo allows it (AUTO, DIRECT). */
bool mr_conv2d_uses_direct(const struct mr_conv2d *c);

/* Floating-point operations (2 per multiply-add, as for a direct conv, whichever algorithm
 * ran) of every conv forward, conv input-gradient and 2×2 transposed conv run in this process
 * so far: benchmarks divide them by time for the achieved FLOP/s. _add is for those kernels. */
int64_t mr_conv2d_flops(void);
void mr_conv2d_flops_add(int64_t n);

/* Output size for an input of h×w (MR_ASSERT that it is ≥ 1). */
int64_t mr_conv2d_out_h(const struct mr_conv2d *c, int64_t h);
int64_t mr_conv2d_out_w(const struct mr_conv2d *c, int64_t w);

/* Number of floats of scratch mr_conv2d_forward needs for an h×w input (0 for a 1×1,
 * stride-1, unpadded conv, which multiplies the input directly, unless c->dnnl is prepared for
 * this size: then it covers oneDNN's copies and scratchpad too). Bounded: the im2col matrix is
 * built in bands of output rows of at most MR_CONV2D_BAND_FLOATS floats (or one row). With
 * c->wino set, or a shape that mr_conv2d_prepare_winograd_for would prepare at this size (so
 * that work buffers can be sized from shapes alone), it also covers the Winograd path at
 * omp_get_max_threads() threads (~1 MB per thread); with fewer floats
 * it runs on fewer threads. This is where a network plans its convs for an input size: in the
 * settings' MEASURE mode the candidates of a new shape are timed here (networks/conv_plan.h). */
#define MR_CONV2D_BAND_FLOATS ((int64_t)1 << 21)
int64_t mr_conv2d_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w);

/* dst (cout, Ho, Wo) = conv(src (cin, H, W)). scratch: F32 with at least
 * mr_conv2d_scratch_size floats (any shape; may be NULL when that is 0; the direct kernel does
 * not touch it). */
void mr_conv2d_forward(const struct mr_conv2d *c, struct mr_array *dst,
                       const struct mr_array *src, struct mr_array *scratch);

/*
 * The input-gradient of the conv (its transpose; the vector–Jacobian product with respect to
 * the input, as autograd forms it): for gout (cout, Ho, Wo) = ∂L/∂y,
 *   gin[i, m, n] (+)= Σ_o Σ_{a,b} w[o, i, a, b] · gout[o, r, s]  over r·sh + a − pt = m,
 *                                                                   s·sw + b − pl = n
 * gin (cin, H, W) is overwritten, or added to with accumulate. The bias plays no part. Needs
 * dilation 1 and ZERO padding (MR_ASSERT). Im2col's band loop run backwards: per band of output
 * rows, col = Wᵀ·gout (SGEMM) scattered back (col2im); or oneDNN's backward-data convolution
 * where c->dnnl holds it for this size and the forced algorithm, c->algo or the plan's
 * input-gradient key picks DNNL. scratch: F32 with at least
 * mr_conv2d_input_grad_scratch_size(c, H, W) floats (sized for the path prepared: call it after
 * mr_conv2d_prepare_for with input_grad).
 */
int64_t mr_conv2d_input_grad_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w);
void mr_conv2d_input_grad(const struct mr_conv2d *c, struct mr_array *gin,
                          const struct mr_array *gout, struct mr_array *scratch, bool accumulate);

/*
 * Transposed convolution with kernel 2, stride 2, padding 0 (U-Net up-sampling, no overlap):
 *   y[o, 2r + a, 2s + b] = bias[o] + Σ_i w[i, o, a, b] · x[i, r, s]
 * with PyTorch's ConvTranspose2d weight w (cin, cout, 2, 2). It runs as a 1×1 conv cin → 4·cout
 * (the direct kernel, or SGEMM) into scratch, then a scatter into the 2×2 blocks.
 * mr_tconv2x2_weights transposes w once, at load, into that conv's layout
 * wt[(o·2 + a)·2 + b][i] = w[i, o, a, b] (4·cout·cin floats, the caller's).
 * mr_tconv2x2_forward: wt as made by mr_tconv2x2_weights, borrowed; bias (cout) or NULL;
 * dst (cout, 2H, 2W), src (cin, H, W); scratch: F32 with at least mr_tconv2x2_scratch_size
 * floats.
 */
void mr_tconv2x2_weights(const float *w, int64_t cin, int64_t cout, float *wt);
int64_t mr_tconv2x2_scratch_size(int64_t cin, int64_t cout, int64_t h, int64_t w);
void mr_tconv2x2_forward(const float *wt, const float *bias, struct mr_array *dst,
                         const struct mr_array *src, struct mr_array *scratch);

/* In place, per channel over the H×W plane: x = (x − mean) / sqrt(var + eps), var the biased
 * variance (÷ H·W). torch InstanceNorm2d without affine or running stats. */
void mr_instance_norm(struct mr_array *x, float eps);

/* The same followed by LeakyReLU(slope), 0 <= slope <= 1, fused into one write pass
 * (the ConvBlock's "InstanceNorm2d, LeakyReLU(0.2)"). */
void mr_instance_norm_leaky_relu(struct mr_array *x, float eps, float slope);

/* Average pooling with kernel = stride = k, no padding, floor: dst (C, H/k, W/k) holds the
 * mean of each k×k block of src (C, H, W); trailing rows/columns that do not fill a block are
 * dropped (torch avg_pool2d(k, k)). */
void mr_avgpool2d(struct mr_array *dst, const struct mr_array *src, int64_t k);

/* dst (C, H + top + bottom, W + left + right) = src (C, H, W) padded with `mode` (torch F.pad).
 * REFLECT requires each pad < the size it extends. */
void mr_pad2d(struct mr_array *dst, const struct mr_array *src, enum mr_pad_mode mode,
              int64_t top, int64_t bottom, int64_t left, int64_t right);

/* dst (C, Ho, Wo) = src[:, top:top+Ho, left:left+Wo] (dst's dims give Ho, Wo). */
void mr_crop2d(struct mr_array *dst, const struct mr_array *src, int64_t top, int64_t left);

/* dst (Ca + Cb, H, W) = [a; b] along the channel axis (torch.cat(dim=1)). */
void mr_concat_channels(struct mr_array *dst, const struct mr_array *a,
                        const struct mr_array *b);

/* Channel view: channels [c0, c0 + n) of x (C, H, W) as a (n, H, W) array sharing x's data. */
void mr_channels_view(struct mr_array *view, const struct mr_array *x, int64_t c0, int64_t n);

/* Element-wise activations, in place on F32 arrays of any shape. */
void mr_leaky_relu(struct mr_array *x, float slope); /* x < 0 ? slope·x : x */
void mr_relu(struct mr_array *x);
void mr_sigmoid(struct mr_array *x);
void mr_tanh(struct mr_array *x);
/* torch Softplus(beta, threshold): β·x > threshold ? x : log1p(exp(β·x)) / β */
void mr_softplus(struct mr_array *x, float beta, float threshold);

#endif
