/*
 * Internal to networks/vmath.c: the AVX2 + FMA kernels of the element-wise functions
 * (networks/vmath_avx2.c), for CPUs without AVX-512. Each handles whole blocks of 8 and returns
 * how many values it did; the caller finishes the tail with the scalar functions. Same
 * algorithms and constants as the AVX-512 kernels in vmath.c, same accuracy.
 */
#ifndef MR_NETWORKS_VMATH_ISA_H
#define MR_NETWORKS_VMATH_ISA_H

#include <stdint.h>

#include "networks/vmath.h"

/* The constants of the vector exp, log and tanh (Cephes expf, logf, tanhf), shared by the AVX-512
 * kernels (vmath.c) and the AVX2 ones (vmath_avx2.c); polynomials highest degree first, for
 * Horner's rule. */
#define MR_VM_LOG2E 1.44269504088896341f
#define MR_VM_LN2_HI 0.693359375f /* ln 2 = HI + LO, HI exact in few bits */
#define MR_VM_LN2_LO (-2.12194440e-4f)
#define MR_VM_SQRT2 1.41421356237f
#define MR_VM_EXP_DEG 6
static const float mr_vm_exp_poly[MR_VM_EXP_DEG] = { 1.9875691500e-4f, 1.3981999507e-3f,
                                                     8.3334519073e-3f, 4.1665795894e-2f,
                                                     1.6666665459e-1f, 5.0000001201e-1f };
#define MR_VM_LOG_DEG 9
static const float mr_vm_log_poly[MR_VM_LOG_DEG] = {
    7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,  -1.2420140846e-1f,
    1.4249322787e-1f,  -1.6668057665e-1f, 2.0000714765e-1f,  -2.4999993993e-1f,
    3.3333331174e-1f,
};
#define MR_VM_TANH_DEG 5
static const float mr_vm_tanh_poly[MR_VM_TANH_DEG] = { -5.70498872745e-3f, 2.06390887954e-2f,
                                                       -5.37397155531e-2f, 1.33314422036e-1f,
                                                       -3.33332819422e-1f };

#if defined(__GNUC__) && defined(__x86_64__)
int64_t mr_vsigmoid_avx2(float *d, int64_t n);
int64_t mr_vtanh_avx2(float *d, int64_t n);
int64_t mr_vsoftplus_avx2(float *dst, const float *z, int64_t n,
                          const struct mr_softplus_param *p);
int64_t mr_vmul_softplus_grad_avx2(float *g, const float *z, int64_t n,
                                   const struct mr_softplus_param *p);
#endif

#endif
