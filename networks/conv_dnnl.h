/*
 * Internal to networks/layers.c and conv_plan.c: the convolution of oneDNN (Debian libdnnl-dev,
 * the library PyTorch's own CPU convolutions run) as one more conv algorithm, MR_CONV2D_ALGO_DNNL,
 * for the forward (oneDNN convolution forward_inference) and the input-gradient (oneDNN
 * convolution backward_data). Only this file pair includes dnnl.h; built without oneDNN
 * (CMake MR_DNNL OFF) mr_conv_dnnl_supported is false and nothing else here may be called.
 *
 * Layouts: our maps stay plain (C, H, W) = oneDNN "nchw" with N = 1. oneDNN is asked for its
 * preferred ("any") activation layouts, as PyTorch's mkldnn path does, because with plain nchw
 * it falls back to its im2col + GEMM ("gemm:jit", about 2× slower on 3×3 64→64 at 128×128 than
 * its blocked "brgconv"/"jit" kernels). When it picks a blocked layout, each call reorders the
 * input into the scratch, runs the primitive and reorders the result back (the reorders are part
 * of the measured time). Weights are reordered into oneDNN's layout once, at prepare, into the
 * caller's store (mr_conv_dnnl_weights), for each direction the plan runs on oneDNN.
 *
 * Ownership: the primitives of one shape, input size, bias presence and thread count (a
 * "prepared" conv) live in a process-wide table, created on first use by mr_conv_dnnl_get and
 * kept for the life of the process (as FFTW keeps its plans' wisdom): they hold no weights, so
 * every conv of that shape shares them. Each conv's reordered weights live in its Winograd store
 * (layers.h mr_conv2d_prepare_for) with the Winograd weights' lifetime. Runs on one prepared
 * conv serialise on its mutex (the memory objects that name the buffers are per prepared conv);
 * a run allocates nothing: the blocked copies and oneDNN's scratchpad are in the caller's scratch.
 *
 * Threads: Debian builds oneDNN with its OpenMP runtime, so it runs omp_get_max_threads()
 * threads of the same OpenMP pool (OMP_NUM_THREADS, omp_set_num_threads), fixed when the
 * primitive is created; the thread count is part of the table's key.
 */
#ifndef MR_NETWORKS_CONV_DNNL_H
#define MR_NETWORKS_CONV_DNNL_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/layers.h"
#include "recon/status.h"

struct mr_conv_dnnl;

/* True if built with oneDNN and c is a conv it computes exactly as layers.h defines it: ZERO
 * padding (oneDNN has no replicate or reflect padding), any stride and dilation. */
bool mr_conv_dnnl_supported(const struct mr_conv2d *c);

/* The input-gradient as well: also needs dilation 1 (mr_conv2d_input_grad's own rule). */
bool mr_conv_dnnl_grad_supported(const struct mr_conv2d *c);

/*
 * The prepared conv for c's shape (weights not needed) on h×w inputs at the current thread
 * count, from the table or created now: the forward primitive and, where
 * mr_conv_dnnl_grad_supported, the backward-data one, with their reorders. Requires
 * mr_conv_dnnl_supported(c). Errors: MR_ERR_NOMEM, MR_ERR_UNSUPPORTED (oneDNN has no
 * implementation for it, or the table of MR_CONV_DNNL_MAX shapes is full), naming the shape.
 */
#define MR_CONV_DNNL_MAX 512
mr_status mr_conv_dnnl_get(const struct mr_conv2d *c, int64_t h, int64_t w,
                           const struct mr_conv_dnnl **out);

/* True if p was prepared for c's shape and bias presence at h×w (any thread count). */
bool mr_conv_dnnl_matches(const struct mr_conv_dnnl *p, const struct mr_conv2d *c, int64_t h,
                          int64_t w);

/* True if p has the input-gradient primitive. */
bool mr_conv_dnnl_has_grad(const struct mr_conv_dnnl *p);

/* Floats of one conv's weights reordered for the forward (grad false) or the input-gradient
 * (grad true; requires mr_conv_dnnl_has_grad) primitive (a multiple of 16 floats: the next part
 * of a store stays 64-byte aligned), and the reorder of w (cout, cin, kh, kw) into them. */
int64_t mr_conv_dnnl_weights_size(const struct mr_conv_dnnl *p, bool grad);
void mr_conv_dnnl_weights(const struct mr_conv_dnnl *p, bool grad, const float *w, float *dst);

/* Floats of scratch one forward (grad false) or input-gradient (grad true) run needs: the
 * blocked copies of its input and output, and oneDNN's scratchpad. */
int64_t mr_conv_dnnl_scratch_size(const struct mr_conv_dnnl *p, bool grad);

/* y (cout, ho, wo) = conv(x (cin, h, w)) + bias (bias NULL iff p was prepared without it), with
 * wts from mr_conv_dnnl_weights; scratch: nscratch >= mr_conv_dnnl_scratch_size(p, false)
 * floats, 64-byte aligned. */
void mr_conv_dnnl_forward(const struct mr_conv_dnnl *p, const float *wts, const float *bias,
                          float *y, const float *x, float *scratch, int64_t nscratch);

/* gin (cin, h, w) = (or += with accumulate) convᵀ(gout (cout, ho, wo)) (layers.h
 * mr_conv2d_input_grad), wts from mr_conv_dnnl_weights with grad true; requires
 * mr_conv_dnnl_has_grad(p); scratch as above with grad true. */
void mr_conv_dnnl_input_grad(const struct mr_conv_dnnl *p, const float *wts, float *gin,
                             const float *gout, float *scratch, int64_t nscratch,
                             bool accumulate);

/* oneDNN's name for the implementation p runs ("brgconv:avx512_core", "jit:avx2", ...) and
 * whether it reorders the activations; for benchmarks. */
const char *mr_conv_dnnl_impl(const struct mr_conv_dnnl *p, bool grad);
bool mr_conv_dnnl_blocked(const struct mr_conv_dnnl *p, bool grad);

/* "2.6.3" (the oneDNN version linked), or "none" when built without it (wisdom headers). */
const char *mr_conv_dnnl_version(void);

#endif
