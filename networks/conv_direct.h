/*
 * Internal to networks/layers.c: a direct (implicit-GEMM) convolution kernel for AVX-512
 * CPUs, chosen at run time. It covers stride-1, zero-padded convolutions of any kernel size up
 * to 32 columns, any dilation, with or without bias: every conv of the U-Nets and most of
 * CIRIM / RecurrentVarNet. Everything else goes through im2col + SGEMM.
 *
 * Why: it reads the input rows in place (masked vector loads do the zero padding), so neither
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
