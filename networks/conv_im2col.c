/*
 * im2col + SGEMM convolution and its transpose, the input-gradient (conv_im2col.h, layers.h),
 * sharing one band loop: bands of output rows of at most MR_CONV2D_BAND_FLOATS column-matrix
 * floats. Padding of any mode is fused into the gather; the transpose supports zero padding
 * and no dilation (what the LPN's backward pass needs).
 */
#include "networks/conv_im2col.h"

#include <cblas.h>
#include <string.h>

/* column-matrix elements above which a gather / scatter runs its outer loop in parallel */
#define MR_IM2COL_PAR_MIN ((int64_t)1 << 17)

bool mr_conv2d_is_pointwise(const struct mr_conv2d *c)
{
    return c->kh == 1 && c->kw == 1 && c->stride[0] == 1 && c->stride[1] == 1 &&
           c->pad[0] == 0 && c->pad[1] == 0 && c->pad[2] == 0 && c->pad[3] == 0;
}

/* output rows per band for an output of width wo */
static int64_t band_rows(const struct mr_conv2d *c, int64_t ho, int64_t wo)
{
    const int64_t kdim = c->cin * c->kh * c->kw;
    int64_t rows = MR_CONV2D_BAND_FLOATS / (kdim * wo);
    if (rows < 1)
        rows = 1;
    return rows < ho ? rows : ho;
}

/* floats of one band's column matrix for an h×w input */
static int64_t band_floats(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    const int64_t ho = mr_conv2d_out_h(c, h);
    const int64_t wo = mr_conv2d_out_w(c, w);
    return c->cin * c->kh * c->kw * band_rows(c, ho, wo) * wo;
}

int64_t mr_conv2d_im2col_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    return mr_conv2d_is_pointwise(c) ? 0 : band_floats(c, h, w);
}

int64_t mr_conv2d_im2col_input_grad_scratch_size(const struct mr_conv2d *c, int64_t h,
                                                  int64_t w)
{
    return band_floats(c, h, w);
}

/* the output columns [s0, s1) whose input column s·sw + off lies in [0, w) */
static void inside_columns(int64_t off, int64_t sw, int64_t w, int64_t wo, int64_t *s0,
                           int64_t *s1)
{
    int64_t a = off >= 0 ? 0 : (-off + sw - 1) / sw;
    int64_t b = (w - 1 - off) >= 0 ? (w - 1 - off) / sw + 1 : 0;
    if (a > wo)
        a = wo;
    if (b > wo)
        b = wo;
    if (b < a)
        b = a;
    *s0 = a;
    *s1 = b;
}

/* col[q, (r - r0)·wo + s] for q = (i·kh + a)·kw + b and output rows [r0, r0 + nr) */
static void im2col(const struct mr_conv2d *c, float *col, const float *x, int64_t h, int64_t w,
                   int64_t r0, int64_t nr, int64_t wo)
{
    const int64_t kdim = c->cin * c->kh * c->kw;
    const int64_t ncol = nr * wo;
    const int64_t sh = c->stride[0];
    const int64_t sw = c->stride[1];
    const int64_t dh = c->dilation[0];
    const int64_t dw = c->dilation[1];
    const int64_t pt = c->pad[0];
    const int64_t pl = c->pad[2];

#pragma omp parallel for if (kdim * ncol > MR_IM2COL_PAR_MIN) schedule(static)
    for (int64_t q = 0; q < kdim; q++) {
        const int64_t i = q / (c->kh * c->kw);
        const int64_t a = (q / c->kw) % c->kh;
        const int64_t b = q % c->kw;
        const float *xi = x + i * h * w;
        float *row = col + q * ncol;
        const int64_t off = b * dw - pl;
        int64_t s0;
        int64_t s1;
        inside_columns(off, sw, w, wo, &s0, &s1);
        for (int64_t r = 0; r < nr; r++) {
            float *out = row + r * wo;
            int64_t y = mr_pad_index(c->pad_mode, (r0 + r) * sh + a * dh - pt, h);
            if (y < 0) {
                memset(out, 0, sizeof(*out) * (size_t)wo);
                continue;
            }
            const float *src = xi + y * w;
            if (c->pad_mode == MR_PAD_MODE_ZERO) {
                for (int64_t s = 0; s < s0; s++)
                    out[s] = 0.0f;
                for (int64_t s = s1; s < wo; s++)
                    out[s] = 0.0f;
            } else {
                for (int64_t s = 0; s < s0; s++)
                    out[s] = src[mr_pad_index(c->pad_mode, s * sw + off, w)];
                for (int64_t s = s1; s < wo; s++)
                    out[s] = src[mr_pad_index(c->pad_mode, s * sw + off, w)];
            }
            if (sw == 1)
                memcpy(out + s0, src + s0 + off, sizeof(*out) * (size_t)(s1 - s0));
            else
                for (int64_t s = s0; s < s1; s++)
                    out[s] = src[s * sw + off];
        }
    }
}

/* gin[i, (r0+r)·sh + a − pt, s·sw + b − pl] += col[(i·kh + a)·kw + b, r·wo + s] (taps inside
 * the image only; zero padding, no dilation). Parallel over input channels: each writes only
 * its own plane, so the sums are in the same order for any thread count. */
static void col2im_add(const struct mr_conv2d *c, float *gin, const float *col, int64_t h,
                       int64_t w, int64_t r0, int64_t nr, int64_t wo)
{
    const int64_t ncol = nr * wo;
    const int64_t sh = c->stride[0];
    const int64_t sw = c->stride[1];
    const int64_t pt = c->pad[0];
    const int64_t pl = c->pad[2];

#pragma omp parallel for if (c->cin * c->kh * c->kw * ncol > MR_IM2COL_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < c->cin; i++) {
        float *gi = gin + i * h * w;
        for (int64_t a = 0; a < c->kh; a++)
            for (int64_t b = 0; b < c->kw; b++) {
                const float *row = col + ((i * c->kh + a) * c->kw + b) * ncol;
                const int64_t off = b - pl;
                int64_t s0;
                int64_t s1;
                inside_columns(off, sw, w, wo, &s0, &s1);
                for (int64_t r = 0; r < nr; r++) {
                    const int64_t y = (r0 + r) * sh + a - pt;
                    if (y < 0 || y >= h)
                        continue;
                    float *dst = gi + y * w + off;
                    const float *src = row + r * wo;
                    for (int64_t s = s0; s < s1; s++)
                        dst[s * sw] += src[s];
                }
            }
    }
}

void mr_conv2d_im2col(const struct mr_conv2d *c, float *y, const float *x, int64_t h, int64_t w,
                      int64_t ho, int64_t wo, struct mr_array *scratch)
{
    const int64_t kdim = c->cin * c->kh * c->kw;
    const int64_t npix = ho * wo;
    float beta = 0.0f;

    if (c->b != NULL) {
        /* the bias, which SGEMM then adds to (beta 1): a pass over the whole output */
#pragma omp parallel for if (c->cout * npix > MR_IM2COL_PAR_MIN) schedule(static)
        for (int64_t o = 0; o < c->cout; o++)
            for (int64_t p = 0; p < npix; p++)
                y[o * npix + p] = c->b[o];
        beta = 1.0f;
    }
    if (mr_conv2d_is_pointwise(c)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->cout, (int)npix,
                    (int)kdim, 1.0f, c->w, (int)kdim, x, (int)npix, beta, y, (int)npix);
        return;
    }
    const int64_t band = band_rows(c, ho, wo);
    MR_ASSERT(scratch != NULL && mr_array_numel(scratch) >= kdim * band * wo);
    float *col = mr_array_f32(scratch);
    for (int64_t r0 = 0; r0 < ho; r0 += band) {
        const int64_t nr = ho - r0 < band ? ho - r0 : band;
        /* y[:, band] (cout × nr·wo, ld npix) += W (cout × kdim) · col (kdim × nr·wo) */
        im2col(c, col, x, h, w, r0, nr, wo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->cout, (int)(nr * wo),
                    (int)kdim, 1.0f, c->w, (int)kdim, col, (int)(nr * wo), beta, y + r0 * wo,
                    (int)npix);
    }
}

void mr_conv2d_im2col_input_grad(const struct mr_conv2d *c, float *gi, const float *go,
                                 int64_t h, int64_t w, int64_t ho, int64_t wo,
                                 struct mr_array *scratch, bool accumulate)
{
    const int64_t kdim = c->cin * c->kh * c->kw;
    const int64_t npix = ho * wo;

    if (!accumulate)
        memset(gi, 0, sizeof(*gi) * (size_t)(c->cin * h * w));
    const int64_t band = band_rows(c, ho, wo);
    MR_ASSERT(scratch != NULL && mr_array_numel(scratch) >= kdim * band * wo);
    float *col = mr_array_f32(scratch);
    for (int64_t r0 = 0; r0 < ho; r0 += band) {
        const int64_t nr = ho - r0 < band ? ho - r0 : band;
        /* col (kdim × nr·wo) = Wᵀ (kdim × cout) · g[:, band] (cout × nr·wo, ld npix) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kdim, (int)(nr * wo),
                    (int)c->cout, 1.0f, c->w, (int)kdim, go + r0 * wo, (int)npix, 0.0f, col,
                    (int)(nr * wo));
        col2im_add(c, gi, col, h, w, r0, nr, wo);
    }
}
