/*
 * Internal to networks/conv_winograd*.c: the instruction-set-specific kernels of the Winograd
 * path (layouts in conv_winograd.c). conv_winograd.c holds the AVX-512 set and the driver;
 * conv_winograd_avx2.c the AVX2 + FMA set, for x86-64 CPUs without AVX-512.
 */
#ifndef MR_NETWORKS_CONV_WINOGRAD_ISA_H
#define MR_NETWORKS_CONV_WINOGRAD_ISA_H

#include <stdint.h>

#define MR_WG_NP 36 /* transform-domain positions (6×6) */

struct mr_wg_kernels {
    const char *name;
    /* row r of x (cin, h, w) transposed: xr[s·cin16 + i] = x[(i·h + r)·w + s], zeros for
     * i >= cin */
    void (*transpose_row)(const float *x, float *xr, int64_t cin, int64_t cin16, int64_t h,
                          int64_t w, int64_t r);
    /* v[(p·ldt + j)·cin16 + i] = (Bᵀ d B)[p] of tile j, d its 6×6 patch at rows × cols of xt,
     * the transposed rows xt[(row·w + col)·cin16 + i] (−1: zero padding) */
    void (*input_transform)(const float *xt, int64_t w, int64_t cin16, const int64_t rows[6],
                            const int64_t cols[6], float *v, int64_t ldt, int64_t j);
    /* m (nt × cout16) = v (nt × cin16) · u (cin16 × cout16), row-major, one position */
    void (*gemm)(const float *v, const float *u, float *m, int64_t nt, int64_t cin16,
                 int64_t cout16);
    /* (Aᵀ M A)[a][b] + bias of tile j into yrow[(a·wo + s0 + dw·b)·cout16 + o] for a < na,
     * b < nb */
    void (*output_transform)(const float *mbuf, int64_t ldt, const float *bias, int64_t cout,
                             int64_t cout16, int64_t j, float *yrow, int64_t wo, int64_t s0,
                             int64_t dw, int na, int nb);
    /* y[o, r, s] = yrow[s·cout16 + o] for o < cout, s < wo */
    void (*store_row)(float *y, const float *yrow, int64_t cout, int64_t cout16, int64_t ho,
                      int64_t wo, int64_t r);
};

#if defined(__GNUC__) && defined(__x86_64__)
extern const struct mr_wg_kernels mr_wg_kernels_avx2;
#endif

#endif
