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

/* Mean and biased variance of p[0..n) accumulated in double, shifted by p[0] against
 * cancellation: mean = p0 + Σ(p − p0)/n, var = max(Σ(p − p0)²/n − (mean − p0)², 0). */
void mr_vmoments(const float *p, int64_t n, double *mean, double *var);

/* p[i] = max(v, slope·v), v = (p[i] − m)·inv, in place (0 <= slope <= 1: LeakyReLU). */
void mr_vnormalize_leaky(float *p, int64_t n, float m, float inv, float slope);

#endif
