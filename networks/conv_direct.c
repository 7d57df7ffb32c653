/*
 * Direct convolution with AVX-512 (see conv_direct.h): the implicit-GEMM formulation of
 * convolution (as in cuDNN's IMPLICIT_GEMM and oneDNN's direct kernels), with a register block
 * of 12 output channels × 32 output columns of one output row:
 *
 *   y[o, r, s0+j] = b[o] + Σ_{i,a,b} w[o, i, a, b] · x̃[i, r + a·dh − pt, s0 + j + b·dw − pl]
 *
 * For each (i, a, b) the 32 inputs are one contiguous segment of an input row. Zero padding:
 * a lane mask zeroes the columns outside the image (and beyond the output width) and rows
 * outside the image are skipped. Replicate / reflect padding: rows are remapped, and the few
 * strips that cross the left or right edge gather their columns through the remapped indices.
 * Each weight is broadcast once per block and feeds 2 FMAs per output channel, so the loop is
 * FMA-bound. A last strip of at most 16 columns (e.g. 170 = 5·32 + 10) uses one zmm, so it costs
 * half the FMAs. Rows of the output are distributed over OpenMP threads.
 */
#include "networks/conv_direct.h"

#include "recon/cpu.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define MR_CONV_DIRECT_X86 1
#include <immintrin.h>
#else
#define MR_CONV_DIRECT_X86 0
#endif

#define DIRECT_MR 12 /* output channels per register block (24 accumulators) */
#define DIRECT_NR 32 /* output columns per register block (two zmm) */
#define DIRECT_MAXKH 32 /* kernel rows supported */
/* MACs above which the rows are split over threads */
#define DIRECT_PAR_MIN_MACS ((int64_t)1 << 22)

#if MR_CONV_DIRECT_X86

bool mr_conv2d_direct_supported(const struct mr_conv2d *c)
{
    return mr_cpu_isa() >= MR_ISA_AVX512 && c->stride[0] == 1 && c->stride[1] == 1 && c->kw >= 1 &&
           c->kw <= DIRECT_NR && c->kh >= 1 && c->kh <= DIRECT_MAXKH;
}

/* p + off floats, computed on integers: off may point before p's row for lanes that the
 * mask switches off (masked lanes are never accessed, AVX-512 suppresses their faults) */
static inline const float *offset_ptr(const float *p, int64_t off)
{
    return (const float *)((uintptr_t)p + (uintptr_t)(off * (int64_t)sizeof(float)));
}

/* where output column s0 + j reads for kernel column b, for one 32-column strip */
struct strip {
    int64_t xs[DIRECT_NR];     /* input column of lane 0 */
    __mmask16 m0[DIRECT_NR];   /* lanes 0..15 to load (the rest read as 0) */
    __mmask16 m1[DIRECT_NR];   /* lanes 16..31 */
    bool gather[DIRECT_NR];    /* replicate/reflect strip that crosses an edge */
    int32_t idx[DIRECT_NR][DIRECT_NR]; /* its per-lane input columns */
    __mmask16 st0;             /* output lanes to store */
    __mmask16 st1;
};

/* one register block: `rows` (≤ DIRECT_MR) output channels from o0 of the strip at s0 of
 * output row r; yrow[a] is the input row for kernel row a (−1: zero padding). kw is a
 * compile-time constant when the caller passes one (3: the U-Nets), so the kernel-column loop
 * unrolls and its masks stay in mask registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
direct_block(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
             int64_t ho, int64_t wo, int64_t r, int64_t o0, int64_t s0, const int rows,
             const int64_t kw, const bool two, const int64_t *yrow, const struct strip *st)
{
    const int64_t cin = c->cin;
    const int64_t kh = c->kh;
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
            if (yrow[a] < 0)
                continue;
            const float *xrow = x + (i * h + yrow[a]) * w;
            const float *wp = wbase + (i * kh + a) * kw;
            for (int64_t b = 0; b < kw; b++) {
                __m512 v0;
                __m512 v1;
                v1 = _mm512_setzero_ps();
                if (!st->gather[b]) {
                    v0 = _mm512_maskz_loadu_ps(st->m0[b], offset_ptr(xrow, st->xs[b]));
                    if (two)
                        v1 = _mm512_maskz_loadu_ps(st->m1[b],
                                                   offset_ptr(xrow, st->xs[b] + 16));
                } else {
                    const __m512i i0 = _mm512_loadu_si512((const void *)st->idx[b]);
                    v0 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), st->m0[b], i0, xrow, 4);
                    if (two) {
                        const __m512i i1 = _mm512_loadu_si512((const void *)(st->idx[b] + 16));
                        v1 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), st->m1[b], i1, xrow,
                                                      4);
                    }
                }
                for (int rr = 0; rr < rows; rr++) {
                    const __m512 wv = _mm512_set1_ps(wp[rr * kdim + b]);
                    acc0[rr] = _mm512_fmadd_ps(wv, v0, acc0[rr]);
                    if (two)
                        acc1[rr] = _mm512_fmadd_ps(wv, v1, acc1[rr]);
                }
            }
        }
    for (int rr = 0; rr < rows; rr++) {
        float *yp = y + ((o0 + rr) * ho + r) * wo + s0;
        _mm512_mask_storeu_ps(yp, st->st0, acc0[rr]);
        if (two && st->st1 != 0)
            _mm512_mask_storeu_ps(yp + 16, st->st1, acc1[rr]);
    }
}

/* all output-channel blocks of one column strip, for a fixed kw */
__attribute__((target("avx512f"), always_inline)) static inline void
direct_strip(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
             int64_t ho, int64_t wo, int64_t r, int64_t s0, const int64_t kw, const bool two,
             const int64_t *yrow, const struct strip *st)
{
    int64_t o0 = 0;
    for (; o0 + DIRECT_MR <= c->cout; o0 += DIRECT_MR)
        direct_block(c, y, x, h, w, ho, wo, r, o0, s0, DIRECT_MR, kw, two, yrow, st);
    switch (c->cout - o0) {
#define DIRECT_TAIL(n)                                                                           \
    case n:                                                                                      \
        direct_block(c, y, x, h, w, ho, wo, r, o0, s0, n, kw, two, yrow, st);                    \
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

/* the load pattern of the strip at s0 for every kernel column */
static void strip_init(const struct mr_conv2d *c, int64_t w, int64_t wo, int64_t s0,
                       struct strip *st)
{
    const int64_t ncols = wo - s0 < DIRECT_NR ? wo - s0 : DIRECT_NR;
    const uint64_t live = ((uint64_t)1 << ncols) - 1;

    for (int64_t b = 0; b < c->kw; b++) {
        const int64_t xs = s0 + b * c->dilation[1] - c->pad[2];
        uint64_t m = live;
        st->xs[b] = xs;
        st->gather[b] = false;
        if (xs < 0 || xs + ncols > w) {
            if (c->pad_mode == MR_PAD_MODE_ZERO) {
                /* lanes j with 0 <= xs + j < w */
                int64_t lo = xs < 0 ? -xs : 0;
                int64_t hi = w - xs;
                m = 0;
                if (lo < DIRECT_NR && hi > 0) {
                    if (hi > DIRECT_NR)
                        hi = DIRECT_NR;
                    m = (((uint64_t)1 << hi) - 1) & ~(((uint64_t)1 << lo) - 1);
                }
                m &= live;
            } else {
                st->gather[b] = true;
                for (int64_t j = 0; j < DIRECT_NR; j++)
                    st->idx[b][j] =
                        j < ncols ? (int32_t)mr_pad_index(c->pad_mode, xs + j, w) : 0;
            }
        }
        st->m0[b] = (__mmask16)(m & 0xffffu);
        st->m1[b] = (__mmask16)(m >> 16);
    }
    st->st0 = (__mmask16)(live & 0xffffu);
    st->st1 = (__mmask16)(live >> 16);
}

__attribute__((target("avx512f"))) static void
direct_row(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
           int64_t ho, int64_t wo, int64_t r)
{
    struct strip st;
    int64_t yrow[DIRECT_MAXKH];
    const int64_t kw = c->kw;

    for (int64_t a = 0; a < c->kh; a++)
        yrow[a] = mr_pad_index(c->pad_mode, r + a * c->dilation[0] - c->pad[0], h);
    for (int64_t s0 = 0; s0 < wo; s0 += DIRECT_NR) {
        strip_init(c, w, wo, s0, &st);
        /* a last strip of at most 16 columns runs on one zmm: half the FMAs */
        if (st.st1 != 0) {
            if (kw == 3)
                direct_strip(c, y, x, h, w, ho, wo, r, s0, 3, true, yrow, &st);
            else if (kw == 1)
                direct_strip(c, y, x, h, w, ho, wo, r, s0, 1, true, yrow, &st);
            else
                direct_strip(c, y, x, h, w, ho, wo, r, s0, kw, true, yrow, &st);
        } else {
            if (kw == 3)
                direct_strip(c, y, x, h, w, ho, wo, r, s0, 3, false, yrow, &st);
            else if (kw == 1)
                direct_strip(c, y, x, h, w, ho, wo, r, s0, 1, false, yrow, &st);
            else
                direct_strip(c, y, x, h, w, ho, wo, r, s0, kw, false, yrow, &st);
        }
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
