/*
 * PNG previews (libpng's simplified API; no longjmp reaches our code).
 *
 * Grey previews of magnitude images: an F32 image (|x| of a CF32 one) is windowed to 8 bits,
 *   g = round(255 * clamp((v - lo) / (hi - lo), 0, 1)),
 * with the window [lo, hi] given, or by default lo = 0 and hi = the 99.5th percentile of the
 * values (numpy's default linear-interpolation percentile over every pixel written, all
 * slices together), so a few bright outliers do not darken the picture. A constant image
 * (hi <= lo) is written black. Row 0 of the array is the top row of the picture (as
 * matplotlib's imshow shows it); column 0 is the left.
 *
 * Several slices, (n, H, W), are tiled left to right, top to bottom, `tile_cols` per row
 * (0: ceil(sqrt(n))); unused tiles are black.
 *
 * Files are written as "<path>.tmp-<pid>" and renamed when complete.
 * Errors: MR_ERR_ARG (dtype/rank/size), MR_ERR_IO (cannot write), MR_ERR_NOMEM.
 */
#ifndef MR_IO_PNG_H
#define MR_IO_PNG_H

#include <stdint.h>

#include "recon/array.h"
#include "recon/status.h"

struct mr_png_config {
    float lo;          /* window; used when hi > lo, else automatic (see above) */
    float hi;
    double percentile; /* automatic window top, in percent (99.5) */
    int64_t tile_cols; /* slices per row of the tiling; 0: ceil(sqrt(n)) */
};
extern const struct mr_png_config mr_png_config_default;

/* The automatic window of img (F32 or CF32 → magnitude): *lo = 0, *hi = the given
 * percentile (0..100) of the values. Allocates a scratch copy. */
mr_status mr_png_auto_window(const struct mr_array *img, double percentile, float *lo,
                             float *hi);

/* Writes img, F32 or CF32 (magnitude), rank 2 (H, W) or 3 (n, H, W, tiled), as an 8-bit grey
 * PNG. cfg may be NULL (defaults). */
mr_status mr_png_write_gray(const char *path, const struct mr_array *img,
                            const struct mr_png_config *cfg);

/* Writes an 8-bit RGB PNG from h rows of w pixels, interleaved r, g, b bytes, row-major, top
 * row first (3 * w * h bytes). For colour error maps and plots. */
mr_status mr_png_write_rgb(const char *path, const uint8_t *rgb, int64_t h, int64_t w);

/* Writes an 8-bit grey PNG from h rows of w bytes, top row first. */
mr_status mr_png_write_gray8(const char *path, const uint8_t *gray, int64_t h, int64_t w);

#endif
