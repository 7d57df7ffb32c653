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

#if defined(__GNUC__) && defined(__x86_64__)
int64_t mr_vsigmoid_avx2(float *d, int64_t n);
int64_t mr_vtanh_avx2(float *d, int64_t n);
int64_t mr_vsoftplus_avx2(float *dst, const float *z, int64_t n,
                          const struct mr_softplus_param *p);
int64_t mr_vmul_softplus_grad_avx2(float *g, const float *z, int64_t n,
                                   const struct mr_softplus_param *p);
#endif

#endif
