/*
 * Direct convolution with AVX-512 (see conv_direct.h): the implicit-GEMM formulation of
 * convolution (as in cuDNN's IMPLICIT_GEMM and oneDNN's direct kernels), with a register block
 * of 12 output channels × 32 output columns of one output row:
 *
 *   y[o0+r, row, s0+j] = b[o0+r] + Σ_{i,a,b} w[o0+r, i, a, b] · x[i, row + a·dh − pt, s0 + j + b·dw − pl]
 *
 * For each (i, a, b) the 32 inputs are one contiguous segment of an input row, loaded with a
 * lane mask that zeroes the columns outside the image (the zero padding) and beyond the output
 * width; rows outside the image are skipped. Each weight is broadcast once per block and feeds
 * 2 FMAs per output channel, so the loop is FMA-bound. Rows of the output are distributed over
 * OpenMP threads.
 */
#include "networks/conv_direct.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define MR_CONV_DIRECT_X86 1
#include <immintrin.h>
#else
#define MR_CONV_DIRECT_X86 0
#endif

#define DIRECT_MR 12 /* output channels per register block (24 accumulators) */
#define DIRECT_NR 32 /* output columns per register block (two zmm) */
/* MACs above which the rows are split over threads */
#define DIRECT_PAR_MIN_MACS ((int64_t)1 << 22)

#if MR_CONV_DIRECT_X86

static bool cpu_has_avx512f(void)
{
    static int cached = -1; /* benign race: every thread computes the same value */
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return cached == 1;
}

bool mr_conv2d_direct_supported(const struct mr_conv2d *c)
{
    return cpu_has_avx512f() && c->stride[0] == 1 && c->stride[1] == 1 &&
           c->pad_mode == MR_PAD_MODE_ZERO && c->kw <= DIRECT_NR && c->kh >= 1 && c->kw >= 1;
}

/* p + off floats, computed on integers: off may point before p's row for lanes that the
 * mask switches off (masked lanes are never accessed, AVX-512 suppresses their faults) */
static inline const float *offset_ptr(const float *p, int64_t off)
{
    return (const float *)((uintptr_t)p + (uintptr_t)(off * (int64_t)sizeof(float)));
}

/* one register block: `rows` (≤ DIRECT_MR) output channels from o0, 32 columns from s0 of
 * output row r; xs[b] is the input column of output column s0 for kernel column b, m0/m1 its
 * lane masks. kw is a compile-time constant when the caller passes one (3: the U-Nets), so the
 * kernel-column loop unrolls and its masks stay in mask registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
direct_block(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
             int64_t ho, int64_t wo, int64_t r, int64_t o0, int64_t s0, const int rows,
             const int64_t kw, const int64_t *xs, const __mmask16 *m0, const __mmask16 *m1,
             __mmask16 st0, __mmask16 st1)
{
    const int64_t cin = c->cin;
    const int64_t kh = c->kh;
    const int64_t dh = c->dilation[0];
    const int64_t pt = c->pad[0];
    const int64_t kdim = cin * kh * kw;
    const float *wbase = c->w + o0 * kdim;
    __m512 acc0[DIRECT_MR];
    __m512 acc1[DIRECT_MR];

    for (int rr = 0; rr < rows; rr++) {
        acc0[rr] = _mm512_set1_ps(c->b != NULL ? c->b[o0 + rr] : 0.0f);
        acc1[rr] = acc0[rr];
    }
    for (int64_t i = 0; i < cin; i++)
        for (int64_t a = 0; a < kh; a++) {
            const int64_t yy = r + a * dh - pt;
            if (yy < 0 || yy >= h)
                continue;
            const float *xrow = x + (i * h + yy) * w;
            const float *wp = wbase + (i * kh + a) * kw;
            for (int64_t b = 0; b < kw; b++) {
                const __m512 v0 = _mm512_maskz_loadu_ps(m0[b], offset_ptr(xrow, xs[b]));
                const __m512 v1 = _mm512_maskz_loadu_ps(m1[b], offset_ptr(xrow, xs[b] + 16));
                for (int rr = 0; rr < rows; rr++) {
                    const __m512 wv = _mm512_set1_ps(wp[rr * kdim + b]);
                    acc0[rr] = _mm512_fmadd_ps(wv, v0, acc0[rr]);
                    acc1[rr] = _mm512_fmadd_ps(wv, v1, acc1[rr]);
                }
            }
        }
    for (int rr = 0; rr < rows; rr++) {
        float *yp = y + ((o0 + rr) * ho + r) * wo + s0;
        _mm512_mask_storeu_ps(yp, st0, acc0[rr]);
        if (st1 != 0)
            _mm512_mask_storeu_ps(yp + 16, st1, acc1[rr]);
    }
}

/* all output-channel blocks of one column strip, for a fixed kw */
__attribute__((target("avx512f"), always_inline)) static inline void
direct_strip(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
             int64_t ho, int64_t wo, int64_t r, int64_t s0, const int64_t kw, const int64_t *xs,
             const __mmask16 *m0, const __mmask16 *m1, __mmask16 st0, __mmask16 st1)
{
    int64_t o0 = 0;
    for (; o0 + DIRECT_MR <= c->cout; o0 += DIRECT_MR)
        direct_block(c, y, x, h, w, ho, wo, r, o0, s0, DIRECT_MR, kw, xs, m0, m1, st0, st1);
    switch (c->cout - o0) {
#define DIRECT_TAIL(n)                                                                           \
    case n:                                                                                      \
        direct_block(c, y, x, h, w, ho, wo, r, o0, s0, n, kw, xs, m0, m1, st0, st1);             \
        break;
    DIRECT_TAIL(11)
    DIRECT_TAIL(10)
    DIRECT_TAIL(9)
    DIRECT_TAIL(8)
    DIRECT_TAIL(7)
    DIRECT_TAIL(6)
    DIRECT_TAIL(5)
    DIRECT_TAIL(4)
    DIRECT_TAIL(3)
    DIRECT_TAIL(2)
    DIRECT_TAIL(1)
#undef DIRECT_TAIL
    default:
        break;
    }
}

__attribute__((target("avx512f"))) static void
direct_row(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
           int64_t ho, int64_t wo, int64_t r)
{
    int64_t xs[DIRECT_NR];
    __mmask16 m0[DIRECT_NR];
    __mmask16 m1[DIRECT_NR];
    const int64_t kw = c->kw;

    for (int64_t s0 = 0; s0 < wo; s0 += DIRECT_NR) {
        const int64_t ncols = wo - s0 < DIRECT_NR ? wo - s0 : DIRECT_NR;
        const uint64_t live = ((uint64_t)1 << ncols) - 1;
        for (int64_t b = 0; b < kw; b++) {
            /* lanes j with 0 <= xs + j < w and j < ncols */
            xs[b] = s0 + b * c->dilation[1] - c->pad[2];
            int64_t lo = xs[b] < 0 ? -xs[b] : 0;
            int64_t hi = w - xs[b];
            uint64_t m = 0;
            if (lo < DIRECT_NR && hi > 0) {
                if (hi > DIRECT_NR)
                    hi = DIRECT_NR;
                m = (((uint64_t)1 << hi) - 1) & ~(((uint64_t)1 << lo) - 1);
            }
            m &= live;
            m0[b] = (__mmask16)(m & 0xffffu);
            m1[b] = (__mmask16)(m >> 16);
        }
        const __mmask16 st0 = (__mmask16)(live & 0xffffu);
        const __mmask16 st1 = (__mmask16)(live >> 16);
        if (kw == 3)
            direct_strip(c, y, x, h, w, ho, wo, r, s0, 3, xs, m0, m1, st0, st1);
        else if (kw == 1)
            direct_strip(c, y, x, h, w, ho, wo, r, s0, 1, xs, m0, m1, st0, st1);
        else
            direct_strip(c, y, x, h, w, ho, wo, r, s0, kw, xs, m0, m1, st0, st1);
    }
}

void mr_conv2d_direct(const struct mr_conv2d *c, float *y, const float *x, int64_t h,
                      int64_t w, int64_t ho, int64_t wo)
{
    MR_ASSERT(mr_conv2d_direct_supported(c));
    const int64_t macs = c->cout * ho * wo * c->cin * c->kh * c->kw;

#pragma omp parallel for if (macs > DIRECT_PAR_MIN_MACS && ho > 1) schedule(static)
    for (int64_t r = 0; r < ho; r++)
        direct_row(c, y, x, h, w, ho, wo, r);
}

#else

bool mr_conv2d_direct_supported(const struct mr_conv2d *c)
{
    (void)c;
    return false;
}

void mr_conv2d_direct(const struct mr_conv2d *c, float *y, const float *x, int64_t h,
                      int64_t w, int64_t ho, int64_t wo)
{
    (void)c;
    (void)y;
    (void)x;
    (void)h;
    (void)w;
    (void)ho;
    (void)wo;
    MR_ASSERT(!"direct convolution kernel not built for this target");
}

#endif
