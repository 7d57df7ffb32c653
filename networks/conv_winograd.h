/*
 * Internal to networks/layers.c: 3×3 stride-1 convolution by Winograd's minimal filtering
 * algorithm F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * CVPR 2016) for AVX-512 CPUs, or AVX2 + FMA ones (conv_winograd_avx2.c), chosen at run time
 * (recon/cpu.h mr_cpu_isa: the setting isa=avx2 forces the AVX2 kernels).
 *
 * Each 4×4 block of outputs ("tile") of one output channel is
 *   Y = Aᵀ [ Σ_i U_i ⊙ V_i ] A,   U_i = G g_i Gᵀ (6×6),  V_i = Bᵀ d_i B (6×6)
 * where g_i is the 3×3 kernel from input channel i and d_i the 6×6 input patch under the tile.
 * For each of the 36 positions of the 6×6 transform domain the sum over i is one GEMM
 * (tiles × cin)·(cin × cout), so a 3×3 conv costs 36 instead of 144 multiply-adds per 4×4 outputs
 * and input channel, plus the transforms. Dilation d is handled by tiling each of the d×d
 * polyphase components of the output (a dilated 3×3 conv is a plain 3×3 conv on each
 * component), and every padding mode by mapping the patch's rows and columns through
 * mr_pad_index, so no padded copy is made.
 *
 * Rounding differs from the direct sum: the transforms use the points 0, ±1, ±2, ∞, and the
 * result agrees with a double-precision reference to about 1e-6 of the output's magnitude for
 * O(1) weights and inputs (tests/networks/test_layers.c measures it).
 */
#ifndef MR_NETWORKS_CONV_WINOGRAD_H
#define MR_NETWORKS_CONV_WINOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/layers.h"

/* True if this CPU can run the kernel (AVX-512F, or AVX2 + FMA) and c is a 3×3 stride-1
 * conv. */
bool mr_conv2d_winograd_supported(const struct mr_conv2d *c);

/* Floats of the transformed weights U of c (36 · cin16 · cout16, cin16 = cin rounded up to a
 * multiple of 16), and the transform itself: u[(p·cin16 + i)·cout16 + o] = (G g_{o,i} Gᵀ)[p]
 * with zeros for the padded channels. Computed in double from c->w. */
int64_t mr_conv2d_winograd_weights_size(const struct mr_conv2d *c);
void mr_conv2d_winograd_weights(const struct mr_conv2d *c, float *u);

/* Floats of scratch mr_conv2d_winograd needs for an h×w input when run on `threads` OpenMP
 * threads: per thread, the six input rows of a job transposed to (W, cin16) and the
 * transform-domain blocks (the height h does not matter). */
int64_t mr_conv2d_winograd_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w,
                                        int threads);

/* y (cout, ho, wo) = conv(x (cin, h, w)), bias included, with u from
 * mr_conv2d_winograd_weights. scratch holds nscratch floats, at least the size for one thread;
 * the kernel uses as many OpenMP threads as the scratch has room for. Requires supported(c). */
void mr_conv2d_winograd(const struct mr_conv2d *c, const float *u, float *y, const float *x,
                        int64_t h, int64_t w, int64_t ho, int64_t wo, float *scratch,
                        int64_t nscratch);

#endif
