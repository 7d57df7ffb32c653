/*
 * Internal to networks/layers.c: the im2col + SGEMM convolution (Chellapilla et al., "High
 * Performance Convolutional Neural Networks for Document Processing", 2006) and its
 * transpose, the input-gradient (layers.h mr_conv2d_input_grad), over the same bands of
 * output rows: the forward gathers a (cin·kh·kw) × (rows·Wo) column matrix for a band and
 * multiplies it by the (cout) × (cin·kh·kw) weight matrix into that band of the output
 * (ldc = Ho·Wo); the transpose multiplies the weights' transpose by the band of the output
 * gradient into the column matrix and scatters it back (col2im). Bands of at most
 * MR_CONV2D_BAND_FLOATS floats bound the scratch memory and keep the column matrix in cache.
 */
#ifndef MR_NETWORKS_CONV_IM2COL_H
#define MR_NETWORKS_CONV_IM2COL_H

#include <stdbool.h>
#include <stdint.h>

#include "networks/layers.h"

/* True for a 1×1, stride-1, unpadded conv: a plain GEMM on the input, no column matrix. */
bool mr_conv2d_is_pointwise(const struct mr_conv2d *c);

/* Floats of column-matrix scratch for an h×w input (one band; 0 when pointwise). */
int64_t mr_conv2d_im2col_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w);

/* y (cout, ho, wo) = conv(x (cin, h, w)), bias included, padding of any mode fused into the
 * gather; scratch: at least mr_conv2d_im2col_scratch_size floats (may be NULL when 0). */
void mr_conv2d_im2col(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
                      int64_t ho, int64_t wo, struct mr_array *scratch);

/* The input-gradient (layers.h mr_conv2d_input_grad) on gi (cin, h, w) from go (cout, ho, wo),
 * and the floats of scratch it needs (one band's column matrix). */
int64_t mr_conv2d_im2col_input_grad_scratch_size(const struct mr_conv2d *c, int64_t h,
                                                  int64_t w);
void mr_conv2d_im2col_input_grad(const struct mr_conv2d *c, float *gi, const float *go,
                                 int64_t h, int64_t w, int64_t ho, int64_t wo,
                                 struct mr_array *scratch, bool accumulate);

#endif
