/*
 * Winograd F(4×4, 3×3) convolution: the driver and the AVX-512 kernels (see conv_winograd.h;
 * the AVX2 kernels are in conv_winograd_avx2.c).
 *
 * Layout. A job is one row of tiles of one polyphase component of the output rows: the output
 * rows pr + dh·(4·ty + m), m = 0..3, across the whole width (every column residue ps and tile
 * column tx), one job per OpenMP iteration, consecutive jobs to a thread. Per job:
 *   0. the six input rows it reads are transposed to (W, cin16) in the thread's buffer, so that
 *      one patch element of 16 input channels is one zmm load;
 *   1. input transform: V[p][t][i] = (Bᵀ d_{t,i} B)[p], vectorised over 16 input channels;
 *   2. 36 GEMMs M[p][t][o] = Σ_i V[p][t][i] · U[p][i][o], a 12-tile × 32-channel register block
 *      (24 accumulators; each U row is two zmm loads, each V element one broadcast);
 *   3. output transform Y = Aᵀ M A (+ bias), vectorised over 16 output channels, into four
 *      (Wo, cout16) output rows, which 16×16 register transposes write into the (cout, Ho, Wo)
 *      planes with full-width stores.
 * V and M of one job (36 · 43 · 64 floats each for 64 channels and 170 columns) stay in the
 * core's L2.
 *
 * The transform matrices (Lavin & Gray 2016, interpolation points 0, ±1, ±2, ∞):
 *   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
 *   G  = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
 *   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
 * They compute the cross-correlation y[m] = Σ_a g[a] d[m + a], i.e. PyTorch's Conv2d.
 */
#include "networks/conv_winograd.h"

#include <stdbool.h>
#include <stdlib.h>

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "networks/conv_winograd_isa.h"
#include "recon/cpu.h"
#include "recon/status.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define MR_CONV_WINOGRAD_X86 1
#include <immintrin.h>
#else
#define MR_CONV_WINOGRAD_X86 0
#endif

#define WG_MR 12 /* tiles per GEMM register block */
#define WG_NP MR_WG_NP

static int64_t round16(int64_t n)
{
    return (n + 15) & ~(int64_t)15;
}

int64_t mr_conv2d_winograd_weights_size(const struct mr_conv2d *c)
{
    return WG_NP * round16(c->cin) * round16(c->cout);
}

void mr_conv2d_winograd_weights(const struct mr_conv2d *c, float *u)
{
    static const double g_mat[6][3] = {
        { 1.0 / 4.0, 0.0, 0.0 },
        { -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0 },
        { -1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0 },
        { 1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0 },
        { 1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0 },
        { 0.0, 0.0, 1.0 },
    };
    const int64_t cin16 = round16(c->cin);
    const int64_t cout16 = round16(c->cout);

    MR_ASSERT(c->kh == 3 && c->kw == 3);
    memset(u, 0, sizeof(*u) * (size_t)mr_conv2d_winograd_weights_size(c));
    for (int64_t o = 0; o < c->cout; o++)
        for (int64_t i = 0; i < c->cin; i++) {
            const float *g = c->w + (o * c->cin + i) * 9;
            double t[6][3];
            for (int a = 0; a < 6; a++)
                for (int q = 0; q < 3; q++)
                    t[a][q] = g_mat[a][0] * (double)g[q] + g_mat[a][1] * (double)g[3 + q] +
                              g_mat[a][2] * (double)g[6 + q];
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {
                    double v = t[a][0] * g_mat[b][0] + t[a][1] * g_mat[b][1] +
                               t[a][2] * g_mat[b][2];
                    u[((a * 6 + b) * cin16 + i) * cout16 + o] = (float)v;
                }
        }
}

/* tiles of one polyphase component along one axis: outputs p + d·k, k >= 0, below n */
static int64_t tiles_of(int64_t n, int64_t p, int64_t d)
{
    if (n <= p)
        return 0;
    int64_t sub = (n - p + d - 1) / d; /* outputs of this residue */
    return (sub + 3) / 4;
}

/* tiles of one job (a tile row across the whole width: every column residue) */
static int64_t job_tiles(const struct mr_conv2d *c, int64_t wo)
{
    int64_t t = 0;
    for (int64_t ps = 0; ps < c->dilation[1]; ps++)
        t += tiles_of(wo, ps, c->dilation[1]);
    return t;
}

static int64_t per_thread_floats(const struct mr_conv2d *c, int64_t w, int64_t wo)
{
    const int64_t nt = job_tiles(c, wo);
    /* the job's six input rows transposed (W, cin16), V, M, four output rows (Wo, cout16) */
    return 6 * w * round16(c->cin) + WG_NP * nt * (round16(c->cin) + round16(c->cout)) +
           4 * wo * round16(c->cout);
}

int64_t mr_conv2d_winograd_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w,
                                        int threads)
{
    (void)h;
    if (threads < 1)
        threads = 1;
    return (int64_t)threads * per_thread_floats(c, w, mr_conv2d_out_w(c, w));
}

#if MR_CONV_WINOGRAD_X86

static const struct mr_wg_kernels wg_avx512;

/* one kernel table per instruction-set level (recon/cpu.h; the setting isa=avx2 selects the
 * AVX2 set on AVX-512 machines, to test it); none for generic CPUs */
static const struct mr_wg_kernels *pick_kernels(void)
{
    switch (mr_cpu_isa()) {
    case MR_ISA_AVX512:
        return &wg_avx512;
    case MR_ISA_AVX2:
        return &mr_wg_kernels_avx2;
    case MR_ISA_GENERIC:
    default:
        return NULL;
    }
}

bool mr_conv2d_winograd_supported(const struct mr_conv2d *c)
{
    return pick_kernels() != NULL && c->kh == 3 && c->kw == 3 && c->stride[0] == 1 &&
           c->stride[1] == 1 && c->dilation[0] >= 1 && c->dilation[1] >= 1;
}

/* r[i][j] ← r[j][i] for a 16×16 block held in 16 zmm (unpack, then 4×4 and 8×8 lane swaps) */
__attribute__((target("avx512f"), always_inline)) static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

static __mmask16 lanes(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* kernels.transpose_row (conv_winograd_isa.h) */
__attribute__((target("avx512f"))) static void
transpose_row_avx512(const float *x, float *xr, int64_t cin, int64_t cin16, int64_t h, int64_t w,
                     int64_t r)
{
    for (int64_t s0 = 0; s0 < w; s0 += 16) {
        const __mmask16 ms = lanes(w - s0);
        const int64_t ns = w - s0 < 16 ? w - s0 : 16;
        for (int64_t i0 = 0; i0 < cin16; i0 += 16) {
            __m512 v[16];
            for (int k = 0; k < 16; k++)
                v[k] = i0 + k < cin
                           ? _mm512_maskz_loadu_ps(ms, x + ((i0 + k) * h + r) * w + s0)
                           : _mm512_setzero_ps();
            transpose16(v);
            for (int64_t k = 0; k < ns; k++)
                _mm512_storeu_ps(xr + (s0 + k) * cin16 + i0, v[k]);
        }
    }
}

/* V[(p·ldt + j)·cin16 + 16g ..] = (Bᵀ d B)[p] for tile j of the job */
__attribute__((target("avx512f"))) static void
input_transform_avx512(const float *xt, int64_t w, int64_t cin16, const int64_t rows[6],
                const int64_t cols[6], float *v, int64_t ldt, int64_t j)
{
    const __m512 zero = _mm512_setzero_ps();
    const __m512 c2 = _mm512_set1_ps(2.0f);
    const __m512 c4 = _mm512_set1_ps(4.0f);
    const __m512 c5 = _mm512_set1_ps(5.0f);

    for (int64_t g = 0; g < cin16; g += 16) {
        __m512 t[6][6];
        for (int k = 0; k < 6; k++) {
            __m512 d[6];
            for (int l = 0; l < 6; l++)
                d[l] = rows[k] < 0 || cols[l] < 0
                           ? zero
                           : _mm512_loadu_ps(xt + (rows[k] * w + cols[l]) * cin16 + g);
            /* Bᵀ along the row */
            t[k][0] = _mm512_fmadd_ps(c4, d[0], _mm512_fnmadd_ps(c5, d[2], d[4]));
            t[k][1] = _mm512_fnmadd_ps(c4, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
            t[k][2] = _mm512_fmadd_ps(c4, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
            t[k][3] = _mm512_fmadd_ps(c2, _mm512_sub_ps(d[3], d[1]), _mm512_sub_ps(d[4], d[2]));
            t[k][4] = _mm512_fmadd_ps(c2, _mm512_sub_ps(d[1], d[3]), _mm512_sub_ps(d[4], d[2]));
            t[k][5] = _mm512_fmadd_ps(c4, d[1], _mm512_fnmadd_ps(c5, d[3], d[5]));
        }
        for (int b = 0; b < 6; b++) {
            const __m512 e0 = t[0][b], e1 = t[1][b], e2 = t[2][b];
            const __m512 e3 = t[3][b], e4 = t[4][b], e5 = t[5][b];
            __m512 o[6];
            /* Bᵀ along the column */
            o[0] = _mm512_fmadd_ps(c4, e0, _mm512_fnmadd_ps(c5, e2, e4));
            o[1] = _mm512_fnmadd_ps(c4, _mm512_add_ps(e1, e2), _mm512_add_ps(e3, e4));
            o[2] = _mm512_fmadd_ps(c4, _mm512_sub_ps(e1, e2), _mm512_sub_ps(e4, e3));
            o[3] = _mm512_fmadd_ps(c2, _mm512_sub_ps(e3, e1), _mm512_sub_ps(e4, e2));
            o[4] = _mm512_fmadd_ps(c2, _mm512_sub_ps(e1, e3), _mm512_sub_ps(e4, e2));
            o[5] = _mm512_fmadd_ps(c4, e1, _mm512_fnmadd_ps(c5, e3, e5));
            for (int a = 0; a < 6; a++)
                _mm512_storeu_ps(v + ((a * 6 + b) * ldt + j) * cin16 + g, o[a]);
        }
    }
}

/* m[(j0 + jj)·ldm + n0 ..] = Σ_k v[(j0 + jj)·ldv + k] · u[k·ldu + n0 ..] for jj < rows and
 * 32 (two) or 16 columns */
__attribute__((target("avx512f"), always_inline)) static inline void
gemm_block(const float *v, int64_t ldv, const float *u, int64_t ldu, float *m, int64_t ldm,
           int64_t kdim, const int rows, const bool two)
{
    __m512 acc0[WG_MR];
    __m512 acc1[WG_MR];
    for (int jj = 0; jj < rows; jj++) {
        acc0[jj] = _mm512_setzero_ps();
        acc1[jj] = _mm512_setzero_ps();
    }
    for (int64_t k = 0; k < kdim; k++) {
        const __m512 b0 = _mm512_loadu_ps(u + k * ldu);
        const __m512 b1 = two ? _mm512_loadu_ps(u + k * ldu + 16) : _mm512_setzero_ps();
        for (int jj = 0; jj < rows; jj++) {
            const __m512 a = _mm512_set1_ps(v[jj * ldv + k]);
            acc0[jj] = _mm512_fmadd_ps(a, b0, acc0[jj]);
            if (two)
                acc1[jj] = _mm512_fmadd_ps(a, b1, acc1[jj]);
        }
    }
    for (int jj = 0; jj < rows; jj++) {
        _mm512_storeu_ps(m + jj * ldm, acc0[jj]);
        if (two)
            _mm512_storeu_ps(m + jj * ldm + 16, acc1[jj]);
    }
}

__attribute__((target("avx512f"))) static void
gemm_rows(const float *v, int64_t ldv, const float *u, int64_t ldu, float *m, int64_t ldm,
          int64_t kdim, int rows, bool two)
{
    switch (rows) {
#define WG_ROWS(n)                                                                               \
    case n:                                                                                      \
        if (two)                                                                                 \
            gemm_block(v, ldv, u, ldu, m, ldm, kdim, n, true);                                   \
        else                                                                                     \
            gemm_block(v, ldv, u, ldu, m, ldm, kdim, n, false);                                  \
        break;
        WG_ROWS(12)
        WG_ROWS(11)
        WG_ROWS(10)
        WG_ROWS(9)
        WG_ROWS(8)
        WG_ROWS(7)
        WG_ROWS(6)
        WG_ROWS(5)
        WG_ROWS(4)
        WG_ROWS(3)
        WG_ROWS(2)
        WG_ROWS(1)
#undef WG_ROWS
    default:
        MR_ASSERT(!"bad GEMM block");
    }
}

/* m (nt × cout16) = v (nt × cin16) · u (cin16 × cout16) for one position */
static void gemm_avx512(const float *v, const float *u, float *m, int64_t nt, int64_t cin16,
                        int64_t cout16)
{
    for (int64_t n0 = 0; n0 < cout16; n0 += 32) {
        const bool two = cout16 - n0 >= 32;
        for (int64_t j0 = 0; j0 < nt; j0 += WG_MR) {
            const int rows = (int)(nt - j0 < WG_MR ? nt - j0 : WG_MR);
            gemm_rows(v + j0 * cin16, cin16, u + n0, cout16, m + j0 * cout16 + n0, cout16,
                      cin16, rows, two);
        }
    }
}

/* (Aᵀ M A)[a][b] + bias of tile j into the output rows: yrow[(a·wo + s0 + dw·b)·cout16 + 16g]
 * for the outputs inside the image (na rows, nb columns) */
__attribute__((target("avx512f"))) static void
output_transform_avx512(const float *mbuf, int64_t ldt, const float *bias, int64_t cout,
                 int64_t cout16, int64_t j, float *yrow, int64_t wo, int64_t s0, int64_t dw,
                 int na, int nb)
{
    const __m512 c2 = _mm512_set1_ps(2.0f);
    const __m512 c4 = _mm512_set1_ps(4.0f);
    const __m512 c8 = _mm512_set1_ps(8.0f);

    for (int64_t g = 0; g < cout16; g += 16) {
        __m512 s[4][6];
        const __m512 bv = bias != NULL ? _mm512_maskz_loadu_ps(lanes(cout - g), bias + g)
                                       : _mm512_setzero_ps();
        for (int b = 0; b < 6; b++) {
            __m512 m[6];
            for (int a = 0; a < 6; a++)
                m[a] = _mm512_loadu_ps(mbuf + ((a * 6 + b) * ldt + j) * cout16 + g);
            const __m512 p12 = _mm512_add_ps(m[1], m[2]);
            const __m512 d12 = _mm512_sub_ps(m[1], m[2]);
            const __m512 p34 = _mm512_add_ps(m[3], m[4]);
            const __m512 d34 = _mm512_sub_ps(m[3], m[4]);
            /* Aᵀ along the column */
            s[0][b] = _mm512_add_ps(_mm512_add_ps(m[0], p12), p34);
            s[1][b] = _mm512_fmadd_ps(c2, d34, d12);
            s[2][b] = _mm512_fmadd_ps(c4, p34, p12);
            s[3][b] = _mm512_add_ps(_mm512_fmadd_ps(c8, d34, d12), m[5]);
        }
        for (int a = 0; a < na; a++) {
            const __m512 p12 = _mm512_add_ps(s[a][1], s[a][2]);
            const __m512 d12 = _mm512_sub_ps(s[a][1], s[a][2]);
            const __m512 p34 = _mm512_add_ps(s[a][3], s[a][4]);
            const __m512 d34 = _mm512_sub_ps(s[a][3], s[a][4]);
            __m512 o[4];
            /* Aᵀ along the row */
            o[0] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[a][0], p12), p34), bv);
            o[1] = _mm512_add_ps(_mm512_fmadd_ps(c2, d34, d12), bv);
            o[2] = _mm512_add_ps(_mm512_fmadd_ps(c4, p34, p12), bv);
            o[3] = _mm512_add_ps(_mm512_add_ps(_mm512_fmadd_ps(c8, d34, d12), s[a][5]), bv);
            float *dst = yrow + (a * wo + s0) * cout16 + g;
            for (int b = 0; b < nb; b++)
                _mm512_storeu_ps(dst + dw * b * cout16, o[b]);
        }
    }
}

/* y[o, r, :] = yrow[:, o] for o < cout: 16×16 transposes, full-width stores */
__attribute__((target("avx512f"))) static void
store_row_avx512(float *y, const float *yrow, int64_t cout, int64_t cout16, int64_t ho, int64_t wo,
          int64_t r)
{
    for (int64_t s0 = 0; s0 < wo; s0 += 16) {
        const int64_t ns = wo - s0 < 16 ? wo - s0 : 16;
        const __mmask16 ms = lanes(ns);
        for (int64_t o0 = 0; o0 < cout; o0 += 16) {
            __m512 v[16];
            for (int k = 0; k < 16; k++)
                v[k] = k < ns ? _mm512_loadu_ps(yrow + (s0 + k) * cout16 + o0)
                              : _mm512_setzero_ps();
            transpose16(v);
            const int64_t no = cout - o0 < 16 ? cout - o0 : 16;
            if (ns == 16)
                for (int64_t k = 0; k < no; k++)
                    _mm512_storeu_ps(y + ((o0 + k) * ho + r) * wo + s0, v[k]);
            else
                for (int64_t k = 0; k < no; k++)
                    _mm512_mask_storeu_ps(y + ((o0 + k) * ho + r) * wo + s0, ms, v[k]);
        }
    }
}

static const struct mr_wg_kernels wg_avx512 = {
    .name = "avx512",
    .transpose_row = transpose_row_avx512,
    .input_transform = input_transform_avx512,
    .gemm = gemm_avx512,
    .output_transform = output_transform_avx512,
    .store_row = store_row_avx512,
};

/* the output rows a job writes: na rows r0 + dh·a of every plane, nlines cache lines each */
struct out_rows {
    float *y;
    int64_t ho, wo, r0, dh, na, cout, nlines;
};

/* prefetch part q of nq of the job's output lines (the stores of store_row then hit the cache
 * instead of waiting for read-for-ownership from L3 / memory) */
static void prefetch_out(const struct out_rows *o, int q, int nq)
{
    const int64_t total = o->na * o->cout * o->nlines;
    for (int64_t i = total * q / nq; i < total * (q + 1) / nq; i++) {
        const int64_t line = i % o->nlines;
        const int64_t ch = (i / o->nlines) % o->cout;
        const int64_t a = i / (o->nlines * o->cout);
        const char *p = (const char *)(o->y + (ch * o->ho + o->r0 + o->dh * a) * o->wo);
        _mm_prefetch(p + 64 * line, _MM_HINT_T0);
    }
}

/* M[p] = V[p] · U[p] for the nt tiles of a job (row stride ldt tiles) */
static void job_gemm(const struct mr_wg_kernels *k, const float *v, const float *u, float *m,
                     int64_t nt, int64_t ldt, int64_t cin16, int64_t cout16,
                     const struct out_rows *out)
{
    for (int p = 0; p < WG_NP; p++) {
        prefetch_out(out, p, WG_NP);
        k->gemm(v + p * ldt * cin16, u + p * cin16 * cout16, m + p * ldt * cout16, nt, cin16,
                cout16);
    }
}

/* The six transposed input rows of a thread's buffer: slot k holds input row row[k] (−1:
 * none). Consecutive tile rows share two input rows, which stay. */
struct row_slots {
    int64_t row[6];
};

/* rows[k] = the slot holding input row want[k] (−1 stays −1 for zero padding), transposing
 * into free slots the rows not yet held */
static void fill_slots(const struct mr_wg_kernels *kern, const struct mr_conv2d *c,
                       const float *x, int64_t h, int64_t w, float *xt, struct row_slots *sl,
                       const int64_t want[6], int64_t rows[6])
{
    const int64_t cin16 = round16(c->cin);
    bool used[6] = { false, false, false, false, false, false };
    for (int k = 0; k < 6; k++) {
        rows[k] = -1;
        for (int q = 0; q < 6 && want[k] >= 0; q++)
            if (sl->row[q] == want[k]) {
                rows[k] = q;
                used[q] = true;
                break;
            }
    }
    for (int k = 0; k < 6; k++) {
        if (want[k] < 0 || rows[k] >= 0)
            continue;
        int q = 0;
        while (used[q])
            q++;
        kern->transpose_row(x, xt + q * w * cin16, c->cin, cin16, h, w, want[k]);
        sl->row[q] = want[k];
        used[q] = true;
        rows[k] = q;
        for (int k2 = k + 1; k2 < 6; k2++) /* a repeated row (reflect / replicate padding) */
            if (want[k2] == want[k])
                rows[k2] = q;
    }
}

/* one job: output rows pr + dh·(4·ty + a), a = 0..3, across the whole width. The job
 * transposes the input rows it reads into its thread's buffer (keeping the two it shares with
 * the thread's previous tile row): every thread works on data it wrote itself, in its own
 * cache, with no image-wide transpose and barrier before the jobs (that pass, and the reads of
 * rows another core transposed, kept the driver from scaling beyond ~1.3× on two cores). */
static void run_job(const struct mr_wg_kernels *kern, const struct mr_conv2d *c, const float *u,
                    float *y, const float *x, int64_t h, int64_t w, int64_t ho, int64_t wo,
                    int64_t pr, int64_t ty, float *buf, struct row_slots *sl)
{
    const int64_t cin16 = round16(c->cin);
    const int64_t cout16 = round16(c->cout);
    const int64_t dh = c->dilation[0];
    const int64_t dw = c->dilation[1];
    const int64_t ldt = job_tiles(c, wo);
    float *xt = buf;
    float *v = xt + 6 * w * cin16;
    float *m = v + WG_NP * ldt * cin16;
    float *yrow = m + WG_NP * ldt * cout16;
    const int64_t r0 = pr + dh * 4 * ty;
    int64_t rows[6];
    int na = 0;

    int64_t want[6];
    for (int k = 0; k < 6; k++)
        want[k] = mr_pad_index(c->pad_mode, r0 + dh * k - c->pad[0], h);
    fill_slots(kern, c, x, h, w, xt, sl, want, rows);
    while (na < 4 && r0 + dh * na < ho)
        na++;
    int64_t j = 0;
    for (int64_t ps = 0; ps < dw; ps++)
        for (int64_t tx = 0; tx < tiles_of(wo, ps, dw); tx++, j++) {
            const int64_t s0 = ps + dw * 4 * tx;
            int64_t cols[6];
            for (int k = 0; k < 6; k++)
                cols[k] = mr_pad_index(c->pad_mode, s0 + dw * k - c->pad[2], w);
            kern->input_transform(xt, w, cin16, rows, cols, v, ldt, j);
        }
    MR_ASSERT(j == ldt);
    const struct out_rows out = {
        .y = y, .ho = ho, .wo = wo, .r0 = r0, .dh = dh, .na = na, .cout = c->cout,
        .nlines = (wo * (int64_t)sizeof(float) + 63) / 64 + 1,
    };
    job_gemm(kern, v, u, m, ldt, ldt, cin16, cout16, &out);
    j = 0;
    for (int64_t ps = 0; ps < dw; ps++)
        for (int64_t tx = 0; tx < tiles_of(wo, ps, dw); tx++, j++) {
            const int64_t s0 = ps + dw * 4 * tx;
            int nb = 0;
            while (nb < 4 && s0 + dw * nb < wo)
                nb++;
            kern->output_transform(m, ldt, c->b, c->cout, cout16, j, yrow, wo, s0, dw, na, nb);
        }
    for (int a = 0; a < na; a++)
        kern->store_row(y, yrow + a * wo * cout16, c->cout, cout16, ho, wo, r0 + dh * a);
}

void mr_conv2d_winograd(const struct mr_conv2d *c, const float *u, float *y, const float *x,
                        int64_t h, int64_t w, int64_t ho, int64_t wo, float *scratch,
                        int64_t nscratch)
{
    const struct mr_wg_kernels *kern = pick_kernels();
    MR_ASSERT(kern != NULL && c->kh == 3 && c->kw == 3 && c->stride[0] == 1 &&
              c->stride[1] == 1);
    const int64_t per = per_thread_floats(c, w, wo);
    const int64_t dh = c->dilation[0];
    int64_t njobs = 0;
    for (int64_t pr = 0; pr < dh; pr++)
        njobs += tiles_of(ho, pr, dh);
    int64_t fit = nscratch / per;
    int nthr = 1;
#ifdef _OPENMP
    nthr = omp_get_max_threads();
#endif
    MR_ASSERT(fit >= 1);
    if (fit < nthr)
        nthr = (int)fit;
    if (njobs < nthr)
        nthr = (int)njobs;
    if (nthr < 1)
        nthr = 1;

    /* static: equal shares of consecutive tile rows, each thread's input rows mostly its own */
#pragma omp parallel num_threads(nthr) if (nthr > 1)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *buf = scratch + tid * per;
        struct row_slots sl = { { -1, -1, -1, -1, -1, -1 } };
#pragma omp for schedule(static)
        for (int64_t job = 0; job < njobs; job++) {
            int64_t pr = 0;
            int64_t ty = job;
            while (ty >= tiles_of(ho, pr, dh)) {
                ty -= tiles_of(ho, pr, dh);
                pr++;
            }
            run_job(kern, c, u, y, x, h, w, ho, wo, pr, ty, buf, &sl);
        }
    }
}

#else

bool mr_conv2d_winograd_supported(const struct mr_conv2d *c)
{
    (void)c;
    return false;
}

void mr_conv2d_winograd(const struct mr_conv2d *c, const float *u, float *y, const float *x,
                        int64_t h, int64_t w, int64_t ho, int64_t wo, float *scratch,
                        int64_t nscratch)
{
    (void)c;
    (void)u;
    (void)y;
    (void)x;
    (void)h;
    (void)w;
    (void)ho;
    (void)wo;
    (void)scratch;
    (void)nscratch;
    MR_ASSERT(!"Winograd convolution kernel not built for this target");
}

#endif
