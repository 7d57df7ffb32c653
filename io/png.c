/*
 * PNG previews with libpng's simplified write API (png_image_write_to_stdio), which keeps
 * libpng's setjmp/longjmp error handling inside libpng and reports failure by return value.
 * Windowing: fixed or 0 .. 99.5th percentile (numpy's linear interpolation between the two
 * nearest ranks) — see png.h.
 */
#include "io/png.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

const struct mr_png_config mr_png_config_default = {
    .lo = 0.0f, .hi = 0.0f, .percentile = 99.5, .tile_cols = 0,
};

/* Picture limit: libpng's simplified API takes 32-bit sizes; previews never come near. */
#define MR_PNG_MAX_SIDE 65536

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a;
    float y = *(const float *)b;
    return (x > y) - (x < y);
}

static float value_at(const struct mr_array *img, int64_t i)
{
    if (img->dtype == MR_DTYPE_CF32)
        return cabsf(mr_array_cf32(img)[i]);
    return mr_array_f32(img)[i];
}

mr_status mr_png_auto_window(const struct mr_array *img, double percentile, float *lo,
                             float *hi)
{
    const int64_t n = mr_array_numel(img);

    if (n < 1 || !(percentile >= 0.0 && percentile <= 100.0))
        return MR_FAIL(MR_ERR_ARG, "PNG window: %lld values, percentile %g (expected >= 1 "
                       "value and 0..100)", (long long)n, percentile);
    float *v = malloc((size_t)n * sizeof(*v));
    if (v == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "PNG window over %lld values", (long long)n);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        float x = value_at(img, i);
        if (isfinite(x)) /* NaN/Inf would poison the sort; they are clamped when drawn */
            v[m++] = x;
    }
    float top = 0.0f;
    if (m > 0) {
        qsort(v, (size_t)m, sizeof(*v), cmp_float);
        double pos = percentile / 100.0 * (double)(m - 1);
        int64_t k = (int64_t)floor(pos);
        double frac = pos - (double)k;
        double a = v[k];
        double b = v[k + 1 < m ? k + 1 : k];
        top = (float)(a + (b - a) * frac);
    }
    free(v);
    *lo = 0.0f;
    *hi = top;
    return MR_OK;
}

/* Writes a finished 8-bit buffer through a temp file and rename. */
static mr_status write_png(const char *path, const uint8_t *buf, int64_t h, int64_t w,
                           png_uint_32 format, int channels)
{
    mr_status st = MR_OK;
    struct mr_atomic_file af = { 0 };
    png_image im;

    if (h < 1 || w < 1 || h > MR_PNG_MAX_SIDE || w > MR_PNG_MAX_SIDE)
        return MR_FAIL(MR_ERR_ARG, "PNG '%s': %lld x %lld pixels (expected 1..%d per side)",
                       path, (long long)h, (long long)w, MR_PNG_MAX_SIDE);
    MR_CHECK(mr_atomic_file_open(&af, path));
    memset(&im, 0, sizeof(im));
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = format;
    if (png_image_write_to_stdio(&im, af.f, 0, buf, (png_int_32)(w * channels), NULL) == 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot write PNG '%s': %s", path, im.message);
        png_image_free(&im);
        goto out;
    }
    png_image_free(&im);
    st = mr_atomic_file_commit(&af);
out:
    mr_atomic_file_abort(&af);
    return st;
}

mr_status mr_png_write_rgb(const char *path, const uint8_t *rgb, int64_t h, int64_t w)
{
    return write_png(path, rgb, h, w, PNG_FORMAT_RGB, 3);
}

mr_status mr_png_write_gray8(const char *path, const uint8_t *gray, int64_t h, int64_t w)
{
    return write_png(path, gray, h, w, PNG_FORMAT_GRAY, 1);
}

mr_status mr_png_write_gray(const char *path, const struct mr_array *img,
                            const struct mr_png_config *cfg)
{
    mr_status st = MR_OK;
    uint8_t *pix = NULL;
    char buf[160];

    if (cfg == NULL)
        cfg = &mr_png_config_default;
    if (img->ndim != 2 && img->ndim != 3) {
        st = MR_FAIL(MR_ERR_ARG, "PNG '%s': image is %s, expected (H, W) or (n, H, W)", path,
                     mr_array_shape_str(img, buf, sizeof(buf)));
        goto out;
    }
    const int64_t n = img->ndim == 3 ? img->dims[0] : 1;
    const int64_t h = img->dims[img->ndim - 2];
    const int64_t w = img->dims[img->ndim - 1];
    if (n < 1 || h < 1 || w < 1 || cfg->tile_cols < 0) {
        st = MR_FAIL(MR_ERR_ARG, "PNG '%s': image is %s with %lld tiles per row; nothing to "
                     "draw", path, mr_array_shape_str(img, buf, sizeof(buf)),
                     (long long)cfg->tile_cols);
        goto out;
    }
    int64_t cols = cfg->tile_cols;
    if (cols == 0)
        cols = (int64_t)ceil(sqrt((double)n));
    if (cols > n)
        cols = n;
    const int64_t rows = (n + cols - 1) / cols;
    const int64_t ph = rows * h;
    const int64_t pw = cols * w;
    if (ph > MR_PNG_MAX_SIDE || pw > MR_PNG_MAX_SIDE) {
        st = MR_FAIL(MR_ERR_ARG, "PNG '%s': %lld x %lld pixels is too large", path,
                     (long long)ph, (long long)pw);
        goto out;
    }

    float lo = cfg->lo;
    float hi = cfg->hi;
    if (!(hi > lo))
        MR_CHECK(mr_png_auto_window(img, cfg->percentile, &lo, &hi));
    const double scale = hi > lo ? 255.0 / ((double)hi - (double)lo) : 0.0;

    pix = calloc((size_t)(ph * pw), 1);
    if (pix == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "PNG '%s': %lld x %lld pixels", path, (long long)ph,
                     (long long)pw);
        goto out;
    }
    for (int64_t s = 0; s < n; s++) {
        const int64_t ty = s / cols;
        const int64_t tx = s % cols;
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                double v = ((double)value_at(img, (s * h + y) * w + x) - (double)lo) * scale;
                if (!(v > 0.0)) /* also NaN */
                    v = 0.0;
                if (v > 255.0)
                    v = 255.0;
                pix[(ty * h + y) * pw + tx * w + x] = (uint8_t)lround(v);
            }
    }
    MR_CHECK(write_png(path, pix, ph, pw, PNG_FORMAT_GRAY, 1));
out:
    free(pix);
    return st;
}
