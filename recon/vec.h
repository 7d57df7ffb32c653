/*
 * BLAS-1 style helpers on CF32 arrays (any shape; only the element count matters), used by the
 * iterative solvers. Reductions accumulate in double (STYLE.md "Threads"); the kernels are
 * parallel over the flat index (sums above MR_VEC_PAR_MIN elements, element-wise maps and
 * maxima above MR_VEC_MAP_PAR_MIN; see vec.c) and never allocate.
 *
 * All functions MR_ASSERT that their arrays are CF32 with equal element counts; they cannot
 * fail otherwise. Aliasing: x and y may be the same array in every function.
 */
#ifndef MR_RECON_VEC_H
#define MR_RECON_VEC_H

#include <complex.h>
#include <stdint.h>

#include "recon/array.h"

#include <math.h>

/*
 * |z| of a complex float: the square root of re² + im² summed in double, rounded to float. This
 * is what glibc's cabsf/hypotf compute for finite values (the double sum cannot overflow), inline
 * so that loops over it vectorise; for an infinite part with a NaN other part it gives NaN where
 * hypotf gives inf. The solvers' magnitudes (soft thresholds, maxima, quantiles) use it.
 */
static inline float mr_cmag(float complex z)
{
    const double re = (double)crealf(z);
    const double im = (double)cimagf(z);
    return (float)sqrt(re * re + im * im);
}

/* <x, y> = Σ_i conj(x_i) y_i, accumulated in double. */
double complex mr_vec_dot(const struct mr_array *x, const struct mr_array *y);

/* Re<x, y> = Σ_i Re(conj(x_i) y_i), accumulated in double. */
double mr_vec_dot_real(const struct mr_array *x, const struct mr_array *y);

/* ||x||² = Σ_i |x_i|², accumulated in double. */
double mr_vec_norm2(const struct mr_array *x);

/* ||x|| = sqrt(Σ_i |x_i|²). */
double mr_vec_norm(const struct mr_array *x);

/* max_i |x_i|. */
double mr_vec_max_abs(const struct mr_array *x);

/* y = y + a x. */
void mr_vec_axpy(struct mr_array *y, float complex a, const struct mr_array *x);

/* y = x + a y (the conjugate-gradient direction update). */
void mr_vec_xpay(struct mr_array *y, float complex a, const struct mr_array *x);

/* dst = x + a (x - y)   (the FISTA momentum step; dst may alias x or y). */
void mr_vec_extrapolate(struct mr_array *dst, const struct mr_array *x, float a,
                        const struct mr_array *y);

/* x = a x. */
void mr_vec_scale(struct mr_array *x, float complex a);

/* Pointer forms of the above on n contiguous values (the array forms call these). */
double complex mr_cdot(int64_t n, const float complex *x, const float complex *y);
double mr_cnorm2(int64_t n, const float complex *x);
void mr_caxpy(int64_t n, float complex *y, float complex a, const float complex *x);
void mr_cscale(int64_t n, float complex *x, float complex a);

#endif
