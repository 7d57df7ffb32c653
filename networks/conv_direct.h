/*
 * Internal to networks/layers.c: a direct (implicit-GEMM) convolution kernel for AVX-512
 * CPUs, chosen at run time. It covers stride-1 convolutions with kernels up to 32×32, any
 * dilation and padding mode, with or without bias: every conv of the U-Nets, CIRIM and
 * RecurrentVarNet. Strided convs go through im2col + SGEMM.
 *
 * Why: it reads the input rows in place (masked loads / gathers do the padding), so neither
 * the im2col copy nor BLAS packing is needed, and it does not depend on OpenBLAS recognising
 * the CPU (0.3.21 falls back to SSE3 kernels on Sapphire Rapids).
 */
#ifndef MR_NETWORKS_CONV_DIRECT_H
#define MR_NETWORKS_CONV_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/layers.h"

/* True if this CPU can run the kernel and c has a shape it covers. */
bool mr_conv2d_direct_supported(const struct mr_conv2d *c);

/* y (cout, ho, wo) = conv(x (cin, h, w)), bias included; requires supported(c). */
void mr_conv2d_direct(const struct mr_conv2d *c, float *y, const float *x, int64_t h,
                      int64_t w, int64_t ho, int64_t wo);

#endif
