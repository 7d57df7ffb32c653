/*
 * The input gradient of a stride-1 convolution as a forward convolution, so that a network's
 * hand-written backward pass (LPN's prox, networks/lpn.c) runs on the same measured algorithms
 * as its forward convs (Winograd, direct, im2col; networks/conv_plan.h) instead of the
 * SGEMM + col2im of mr_conv2d_input_grad.
 *
 * For c of stride 1, dilation 1 and zero padding (pt, pb, pl, pr) with pads below the kernel
 * size, the gradient of y = conv(x) with respect to x for an output gradient g is
 *   ∂x[i, r, s] = Σ_o Σ_a Σ_b g[o, r − a + pt, s − b + pl] · w[o, i, a, b]
 *              = conv(g; w̃)[i, r, s],  w̃[i, o, a, b] = w[o, i, kh − 1 − a, kw − 1 − b]
 * with padding (kh − 1 − pt, kh − 1 − pb, kw − 1 − pl, kw − 1 − pr) and no bias: the "adjoint
 * twin" of c. Same sums as mr_conv2d_input_grad in another order (float rounding only).
 */
#ifndef MR_NETWORKS_CONV_ADJOINT_H
#define MR_NETWORKS_CONV_ADJOINT_H

#include <stdbool.h>

#include "networks/layers.h"
#include "recon/array.h"
#include "recon/status.h"

/* True if c has an adjoint twin (stride 1, dilation 1, zero padding, every pad < kernel). */
bool mr_conv2d_adjoint_supported(const struct mr_conv2d *c);

/* Fills *twin (cin and cout swapped, the padding above, no bias, algorithm AUTO, no Winograd
 * weights yet) and store (an empty array, allocated here: the flipped weights w̃, which the
 * twin borrows; the caller cleans it up). Requires supported(c) and c->w. Errors:
 * MR_ERR_NOMEM. */
mr_status mr_conv2d_adjoint_make(const struct mr_conv2d *c, struct mr_conv2d *twin,
                                 struct mr_array *store);

#endif
