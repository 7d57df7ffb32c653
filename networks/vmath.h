/*
 * Internal to networks/: element-wise sigmoid and tanh over float arrays, vectorised with
 * AVX-512 where the CPU has it (chosen at run time), libm otherwise.
 *
 * The vector exp is Cephes' expf (range reduction by ln 2 split in two parts, degree-6
 * polynomial, 2^n applied with vscalefps), within 2 ulp of the true value; tanh uses Cephes'
 * tanhf polynomial below |x| = 0.625 and 1 − 2/(e^{2|x|} + 1) above. Both stay within ~3e-7
 * absolute (and a few ulp relative for sigmoid) of the double-precision functions over the
 * whole float range, saturating exactly at 0 / ±1 (tests/networks/test_layers.c) — the same
 * class of accuracy as PyTorch's vectorised CPU kernels, whose exact bits they do not claim.
 */
#ifndef MR_NETWORKS_VMATH_H
#define MR_NETWORKS_VMATH_H

#include <stdint.h>

/* d[i] = 1 / (1 + exp(−d[i])) for i < n, in place. */
void mr_vsigmoid(float *d, int64_t n);

/* d[i] = tanh(d[i]) for i < n, in place. */
void mr_vtanh(float *d, int64_t n);

#endif
