/*
 * The static HTML report of `mrirecon maskeval` and the pictures it shows: one self-contained
 * page (no scripts, no network) with
 *   - the masks and their point-spread functions (PNG files next to the page),
 *   - a table of mean ± std per mask × method,
 *   - NMSE / PSNR / SSIM and the trust report's data-consistency residual versus acceleration
 *     plots, inline SVG drawn here (one line per mask kind × method, points = the masks of
 *     that kind sorted by acceleration),
 *   - a gallery of reconstructions and colour error maps for a few slices,
 *   - the failed rows with their errors.
 * Image paths are relative to the page. All text is HTML-escaped.
 */
#ifndef MR_RUNS_REPORT_H
#define MR_RUNS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "sampling/mask_stats.h"

struct mr_report_mask {
    const char *label;
    const char *kind;     /* "equispaced", ..., "file" */
    const char *mask_png; /* NULL when no volume could use the mask */
    const char *psf_png;
    int64_t png_w; /* width of the pictures in pixels: shown at an integer zoom, never shrunk */
    bool have_stats;
    struct mr_mask_stats stats; /* of the mask for the first volume that could use it */
    const char *shape_note;     /* e.g. "for 72 x 60 k-space of ixi_axial2.h5" */
};

struct mr_report_cell {
    const char *mask;
    const char *kind;
    const char *method;
    int64_t n;      /* ok rows */
    int64_t failed; /* error rows */
    double accel;   /* mean actual acceleration of the ok rows */
    double mean[4]; /* NMSE, PSNR, SSIM, data-consistency residual (trust report; NaN when
                     * the rows have none) */
    double std[4];
    int64_t flagged; /* ok rows the trust report flagged */
    double time_s;
};

struct mr_report_image {
    const char *caption;
    const char *png;     /* NULL: not available (then note says why) */
    const char *err_png; /* colour error map, may be NULL */
    const char *note;    /* metric line or error message, may be NULL */
};

struct mr_report_gallery_row {
    const char *title; /* "ixi_axial2.h5, slice 1" */
    const char *target_png;
    const struct mr_report_image *images;
    int nimages;
};

struct mr_report_error {
    const char *where; /* "file slice mask method" */
    const char *message;
};

struct mr_report {
    const char *title;
    const char *subtitle; /* inputs and counts */
    const struct mr_report_mask *masks;
    int nmasks;
    const struct mr_report_cell *cells;
    int ncells;
    const struct mr_report_gallery_row *gallery;
    int ngallery;
    const struct mr_report_error *errors;
    int nerrors;
    int64_t nerrors_total; /* may exceed nerrors (the page lists the first ones) */
    double err_scale;      /* error maps show |pred - target| over [0, err_scale * window] */
};

/* Writes the page to path (temporary file + rename). Errors: MR_ERR_IO. */
mr_status mr_report_write_html(const char *path, const struct mr_report *r);

/* 8-bit grey PNG of an (H, W) F32 image windowed to [lo, hi] (rows top to bottom). */
mr_status mr_report_write_gray_png(const char *path, const struct mr_array *img, float lo,
                                   float hi);

/* RGB PNG of an (H, W) F32 image through a perceptual dark-to-bright colour map (inferno-like)
 * over [lo, hi]. */
mr_status mr_report_write_color_png(const char *path, const struct mr_array *img, float lo,
                                    float hi);

/* RGB PNG of the point-spread function of an (H, W) F32 mask: |IFFT2(mask)| (centred ortho),
 * divided by its peak, in dB over [-50, 0] through the colour map. Errors: MR_ERR_NOMEM. */
mr_status mr_report_write_psf_png(const char *path, const struct mr_array *mask);

#endif
