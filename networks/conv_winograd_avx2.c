/*
 * The Winograd F(4×4, 3×3) kernels (conv_winograd.c) for x86-64 CPUs with AVX2 + FMA but no
 * AVX-512: the same layouts and transforms on 8-lane vectors (each 16-channel group is two
 * halves), a 6-tile × 16-channel GEMM register block (12 accumulators of the 16 ymm), and 8×8
 * register transposes. Chosen at run time; the setting isa=avx2 forces it on AVX-512 CPUs,
 * which is how the tests reach it.
 */
#include "networks/conv_winograd_isa.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define AVX2_MR 6 /* tiles per GEMM register block */

/* lanes [0, n) of 8 set (maskload / maskstore) */
__attribute__((target("avx2,fma"))) static inline __m256i lanes8(int64_t n)
{
    const int k = n >= 8 ? 8 : n <= 0 ? 0 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* r[i][j] ← r[j][i] for an 8×8 block in 8 ymm */
__attribute__((target("avx2,fma"), always_inline)) static inline void transpose8(__m256 r[8])
{
    __m256 t[8];
    __m256 u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* kernels.transpose_row (conv_winograd_isa.h) */
__attribute__((target("avx2,fma"))) static void
transpose_row_avx2(const float *x, float *xr, int64_t cin, int64_t cin16, int64_t h, int64_t w,
                   int64_t r)
{
    for (int64_t s0 = 0; s0 < w; s0 += 8) {
        const int64_t ns = w - s0 < 8 ? w - s0 : 8;
        const __m256i ms = lanes8(ns);
        for (int64_t i0 = 0; i0 < cin16; i0 += 8) {
            __m256 v[8];
            for (int k = 0; k < 8; k++)
                v[k] = i0 + k < cin ? _mm256_maskload_ps(x + ((i0 + k) * h + r) * w + s0, ms)
                                    : _mm256_setzero_ps();
            transpose8(v);
            for (int64_t k = 0; k < ns; k++)
                _mm256_storeu_ps(xr + (s0 + k) * cin16 + i0, v[k]);
        }
    }
}

__attribute__((target("avx2,fma"))) static void
input_transform_avx2(const float *xt, int64_t w, int64_t cin16, const int64_t rows[6],
                     const int64_t cols[6], float *v, int64_t ldt, int64_t j)
{
    const __m256 zero = _mm256_setzero_ps();
    const __m256 c2 = _mm256_set1_ps(2.0f);
    const __m256 c4 = _mm256_set1_ps(4.0f);
    const __m256 c5 = _mm256_set1_ps(5.0f);

    for (int64_t g = 0; g < cin16; g += 8) {
        __m256 t[6][6];
        for (int k = 0; k < 6; k++) {
            __m256 d[6];
            for (int l = 0; l < 6; l++)
                d[l] = rows[k] < 0 || cols[l] < 0
                           ? zero
                           : _mm256_loadu_ps(xt + (rows[k] * w + cols[l]) * cin16 + g);
            t[k][0] = _mm256_fmadd_ps(c4, d[0], _mm256_fnmadd_ps(c5, d[2], d[4]));
            t[k][1] = _mm256_fnmadd_ps(c4, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
            t[k][2] = _mm256_fmadd_ps(c4, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
            t[k][3] = _mm256_fmadd_ps(c2, _mm256_sub_ps(d[3], d[1]), _mm256_sub_ps(d[4], d[2]));
            t[k][4] = _mm256_fmadd_ps(c2, _mm256_sub_ps(d[1], d[3]), _mm256_sub_ps(d[4], d[2]));
            t[k][5] = _mm256_fmadd_ps(c4, d[1], _mm256_fnmadd_ps(c5, d[3], d[5]));
        }
        for (int b = 0; b < 6; b++) {
            const __m256 e0 = t[0][b], e1 = t[1][b], e2 = t[2][b];
            const __m256 e3 = t[3][b], e4 = t[4][b], e5 = t[5][b];
            __m256 o[6];
            o[0] = _mm256_fmadd_ps(c4, e0, _mm256_fnmadd_ps(c5, e2, e4));
            o[1] = _mm256_fnmadd_ps(c4, _mm256_add_ps(e1, e2), _mm256_add_ps(e3, e4));
            o[2] = _mm256_fmadd_ps(c4, _mm256_sub_ps(e1, e2), _mm256_sub_ps(e4, e3));
            o[3] = _mm256_fmadd_ps(c2, _mm256_sub_ps(e3, e1), _mm256_sub_ps(e4, e2));
            o[4] = _mm256_fmadd_ps(c2, _mm256_sub_ps(e1, e3), _mm256_sub_ps(e4, e2));
            o[5] = _mm256_fmadd_ps(c4, e1, _mm256_fnmadd_ps(c5, e3, e5));
            for (int a = 0; a < 6; a++)
                _mm256_storeu_ps(v + ((a * 6 + b) * ldt + j) * cin16 + g, o[a]);
        }
    }
}

/* m[jj·cout16 + n0 ..16] = Σ_k v[jj·cin16 + k] · u[k·cout16 + n0 ..16] for jj < rows */
__attribute__((target("avx2,fma"), always_inline)) static inline void
gemm_block_avx2(const float *v, const float *u, float *m, int64_t cin16, int64_t cout16,
                const int rows)
{
    __m256 acc0[AVX2_MR];
    __m256 acc1[AVX2_MR];
    for (int jj = 0; jj < rows; jj++) {
        acc0[jj] = _mm256_setzero_ps();
        acc1[jj] = _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < cin16; k++) {
        const __m256 b0 = _mm256_loadu_ps(u + k * cout16);
        const __m256 b1 = _mm256_loadu_ps(u + k * cout16 + 8);
        for (int jj = 0; jj < rows; jj++) {
            const __m256 a = _mm256_broadcast_ss(v + jj * cin16 + k);
            acc0[jj] = _mm256_fmadd_ps(a, b0, acc0[jj]);
            acc1[jj] = _mm256_fmadd_ps(a, b1, acc1[jj]);
        }
    }
    for (int jj = 0; jj < rows; jj++) {
        _mm256_storeu_ps(m + jj * cout16, acc0[jj]);
        _mm256_storeu_ps(m + jj * cout16 + 8, acc1[jj]);
    }
}

__attribute__((target("avx2,fma"))) static void
gemm_avx2(const float *v, const float *u, float *m, int64_t nt, int64_t cin16, int64_t cout16)
{
    for (int64_t n0 = 0; n0 < cout16; n0 += 16)
        for (int64_t j0 = 0; j0 < nt; j0 += AVX2_MR) {
            const float *vb = v + j0 * cin16;
            float *mb = m + j0 * cout16 + n0;
            switch (nt - j0 < AVX2_MR ? nt - j0 : AVX2_MR) {
            case 6: gemm_block_avx2(vb, u + n0, mb, cin16, cout16, 6); break;
            case 5: gemm_block_avx2(vb, u + n0, mb, cin16, cout16, 5); break;
            case 4: gemm_block_avx2(vb, u + n0, mb, cin16, cout16, 4); break;
            case 3: gemm_block_avx2(vb, u + n0, mb, cin16, cout16, 3); break;
            case 2: gemm_block_avx2(vb, u + n0, mb, cin16, cout16, 2); break;
            default: gemm_block_avx2(vb, u + n0, mb, cin16, cout16, 1); break;
            }
        }
}

__attribute__((target("avx2,fma"))) static void
output_transform_avx2(const float *mbuf, int64_t ldt, const float *bias, int64_t cout,
                      int64_t cout16, int64_t j, float *yrow, int64_t wo, int64_t s0,
                      int64_t dw, int na, int nb)
{
    const __m256 c2 = _mm256_set1_ps(2.0f);
    const __m256 c4 = _mm256_set1_ps(4.0f);
    const __m256 c8 = _mm256_set1_ps(8.0f);

    for (int64_t g = 0; g < cout16; g += 8) {
        __m256 s[4][6];
        const __m256 bv = bias != NULL && g < cout ? _mm256_maskload_ps(bias + g, lanes8(cout - g))
                                                   : _mm256_setzero_ps();
        for (int b = 0; b < 6; b++) {
            __m256 m[6];
            for (int a = 0; a < 6; a++)
                m[a] = _mm256_loadu_ps(mbuf + ((a * 6 + b) * ldt + j) * cout16 + g);
            const __m256 p12 = _mm256_add_ps(m[1], m[2]);
            const __m256 d12 = _mm256_sub_ps(m[1], m[2]);
            const __m256 p34 = _mm256_add_ps(m[3], m[4]);
            const __m256 d34 = _mm256_sub_ps(m[3], m[4]);
            s[0][b] = _mm256_add_ps(_mm256_add_ps(m[0], p12), p34);
            s[1][b] = _mm256_fmadd_ps(c2, d34, d12);
            s[2][b] = _mm256_fmadd_ps(c4, p34, p12);
            s[3][b] = _mm256_add_ps(_mm256_fmadd_ps(c8, d34, d12), m[5]);
        }
        for (int a = 0; a < na; a++) {
            const __m256 p12 = _mm256_add_ps(s[a][1], s[a][2]);
            const __m256 d12 = _mm256_sub_ps(s[a][1], s[a][2]);
            const __m256 p34 = _mm256_add_ps(s[a][3], s[a][4]);
            const __m256 d34 = _mm256_sub_ps(s[a][3], s[a][4]);
            __m256 o[4];
            o[0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[a][0], p12), p34), bv);
            o[1] = _mm256_add_ps(_mm256_fmadd_ps(c2, d34, d12), bv);
            o[2] = _mm256_add_ps(_mm256_fmadd_ps(c4, p34, p12), bv);
            o[3] = _mm256_add_ps(_mm256_add_ps(_mm256_fmadd_ps(c8, d34, d12), s[a][5]), bv);
            float *dst = yrow + (a * wo + s0) * cout16 + g;
            for (int b = 0; b < nb; b++)
                _mm256_storeu_ps(dst + dw * b * cout16, o[b]);
        }
    }
}

__attribute__((target("avx2,fma"))) static void
store_row_avx2(float *y, const float *yrow, int64_t cout, int64_t cout16, int64_t ho,
               int64_t wo, int64_t r)
{
    for (int64_t s0 = 0; s0 < wo; s0 += 8) {
        const int64_t ns = wo - s0 < 8 ? wo - s0 : 8;
        const __m256i ms = lanes8(ns);
        for (int64_t o0 = 0; o0 < cout; o0 += 8) {
            __m256 v[8];
            for (int k = 0; k < 8; k++)
                v[k] = k < ns ? _mm256_loadu_ps(yrow + (s0 + k) * cout16 + o0)
                              : _mm256_setzero_ps();
            transpose8(v);
            const int64_t no = cout - o0 < 8 ? cout - o0 : 8;
            for (int64_t k = 0; k < no; k++) {
                float *dst = y + ((o0 + k) * ho + r) * wo + s0;
                if (ns == 8)
                    _mm256_storeu_ps(dst, v[k]);
                else
                    _mm256_maskstore_ps(dst, ms, v[k]);
            }
        }
    }
}

const struct mr_wg_kernels mr_wg_kernels_avx2 = {
    .name = "avx2",
    .transpose_row = transpose_row_avx2,
    .input_transform = input_transform_avx2,
    .gemm = gemm_avx2,
    .output_transform = output_transform_avx2,
    .store_row = store_row_avx2,
};

#else
/* not x86-64: nothing here (conv_winograd.c reports the path unsupported) */
typedef int mr_conv_winograd_avx2_unused;
#endif
