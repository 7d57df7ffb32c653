/*
 * The maskeval HTML report (see report.h): plain HTML + CSS + inline SVG, written in one pass,
 * and the PNG pictures (grey images, colour error maps, PSFs) it links to.
 */
#include "runs/report.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/png.h"
#include "recon/fft.h"

/* ---- pictures ----------------------------------------------------------------------------- */

/* inferno-like colour map: control points at 0, 1/4, 1/2, 3/4, 1 */
static void colormap(double t, uint8_t rgb[3])
{
    static const double stops[5][3] = {
        { 0, 0, 4 }, { 87, 16, 110 }, { 188, 55, 84 }, { 249, 142, 9 }, { 252, 255, 164 },
    };
    if (!(t > 0.0))
        t = 0.0;
    if (t > 1.0)
        t = 1.0;
    double x = t * 4.0;
    int i = (int)x;
    if (i > 3)
        i = 3;
    double f = x - (double)i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lrint(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]));
}

mr_status mr_report_write_gray_png(const char *path, const struct mr_array *img, float lo,
                                   float hi)
{
    struct mr_png_config pc = mr_png_config_default;
    pc.lo = lo;
    pc.hi = hi > lo ? hi : lo + 1.0f;
    return mr_png_write_gray(path, img, &pc);
}

mr_status mr_report_write_color_png(const char *path, const struct mr_array *img, float lo,
                                    float hi)
{
    const int64_t h = img->dims[0];
    const int64_t w = img->dims[1];
    const float *v = mr_array_f32(img);
    uint8_t *rgb = malloc((size_t)(3 * h * w));
    if (rgb == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "colour picture '%s'", path);
    const double span = hi > lo ? (double)hi - (double)lo : 1.0;
    for (int64_t i = 0; i < h * w; i++)
        colormap(((double)v[i] - (double)lo) / span, rgb + 3 * i);
    mr_status st = mr_png_write_rgb(path, rgb, h, w);
    free(rgb);
    return st;
}

mr_status mr_report_write_psf_png(const char *path, const struct mr_array *mask)
{
    mr_status st = MR_OK;
    const int64_t h = mask->dims[0];
    const int64_t w = mask->dims[1];
    struct mr_fft2 *fft = NULL;
    struct mr_array x = { 0 };
    struct mr_array db = { 0 };

    MR_CHECK(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&db, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_fft2_create(h, w, &mr_fft_config_default, &fft));
    float complex *c = mr_array_cf32(&x);
    const float *m = mr_array_f32(mask);
    for (int64_t i = 0; i < h * w; i++)
        c[i] = m[i] != 0.0f ? 1.0f : 0.0f;
    mr_fft2_inverse(fft, c, c, 1);
    double peak = 0.0;
    for (int64_t i = 0; i < h * w; i++)
        peak = fmax(peak, (double)cabsf(c[i]));
    float *d = mr_array_f32(&db);
    for (int64_t i = 0; i < h * w; i++) {
        double r = peak > 0.0 ? (double)cabsf(c[i]) / peak : 0.0;
        d[i] = (float)(r > 1e-6 ? 20.0 * log10(r) : -120.0);
    }
    /* a column mask (all rows equal) has a 1-D PSF along the row through the centre: show
     * that profile on every row so its side lobes are visible */
    bool columns = true;
    for (int64_t y = 1; y < h && columns; y++)
        columns = memcmp(m, m + y * w, sizeof(float) * (size_t)w) == 0;
    if (columns)
        for (int64_t y = 0; y < h; y++)
            if (y != h / 2)
                memcpy(d + y * w, d + (h / 2) * w, sizeof(float) * (size_t)w);
    MR_CHECK(mr_report_write_color_png(path, &db, -50.0f, 0.0f));
out:
    mr_fft2_free(fft);
    mr_array_cleanup(&x);
    mr_array_cleanup(&db);
    return st;
}

/* ---- HTML helpers ------------------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

static const char *const metric_names[4] = { "NMSE", "PSNR (dB)", "SSIM", "DC residual" };
static const char *const palette[10] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                         "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                         "#7f7f7f", "#bcbd22" };
static const char *const dashes[6] = { "", "7 4", "2 3", "9 3 2 3", "4 4", "1 5" };

/* "nice" tick step for a range spanning `span` with about n ticks */
static double tick_step(double span, int n)
{
    double raw = span / (double)n;
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

/* index of s among the distinct values of field `which` (0 kind, 1 method) of the cells, in
 * order of first appearance: the colour (kind) and dash pattern (method) of a line */
static int style_index(const struct mr_report *r, int which, const char *s)
{
    int k = 0;
    for (int i = 0; i < r->ncells; i++) {
        const char *v = which == 0 ? r->cells[i].kind : r->cells[i].method;
        bool first = true;
        for (int j = 0; j < i && first; j++)
            first = strcmp(which == 0 ? r->cells[j].kind : r->cells[j].method, v) != 0;
        if (!first)
            continue;
        if (strcmp(v, s) == 0)
            return k;
        k++;
    }
    return 0;
}

struct series {
    const char *kind;
    const char *method;
};

static int find_series(const struct series *s, int n, const char *kind, const char *method)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].kind, kind) == 0 && strcmp(s[i].method, method) == 0)
            return i;
    return -1;
}

/* One metric-versus-acceleration plot as inline SVG. */
static void svg_plot(FILE *f, const struct mr_report *r, int metric)
{
    const double W = 430.0;
    const double H = 320.0;
    const double L = 64.0;
    const double R = 16.0;
    const double T = 30.0;
    const double B = 48.0;
    struct series ser[64];
    int nser = 0;
    double x0 = INFINITY;
    double x1 = -INFINITY;
    double y0 = INFINITY;
    double y1 = -INFINITY;

    for (int i = 0; i < r->ncells; i++) {
        const struct mr_report_cell *c = &r->cells[i];
        if (c->n == 0 || !isfinite(c->mean[metric]) || !isfinite(c->accel))
            continue;
        if (find_series(ser, nser, c->kind, c->method) < 0 && nser < 64)
            ser[nser++] = (struct series){ c->kind, c->method };
        x0 = fmin(x0, c->accel);
        x1 = fmax(x1, c->accel);
        y0 = fmin(y0, c->mean[metric]);
        y1 = fmax(y1, c->mean[metric]);
    }
    fprintf(f, "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", W, H);
    fprintf(f, "<text x=\"%.1f\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" "
            "font-weight=\"bold\">%s vs acceleration</text>\n", L + (W - L - R) / 2.0,
            metric_names[metric]);
    if (nser == 0) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">no "
                "successful rows</text>\n</svg>\n", W / 2.0, H / 2.0);
        return;
    }
    /* pad the ranges; a single value gets a symmetric window */
    double xs = x1 - x0;
    double ys = y1 - y0;
    if (xs <= 0.0)
        xs = fmax(1.0, fabs(x0) * 0.2);
    if (ys <= 0.0)
        ys = fmax(fabs(y0) * 0.2, 1e-3);
    x0 -= 0.08 * xs;
    x1 = x0 + 1.16 * xs;
    y0 -= 0.1 * ys;
    y1 = y0 + 1.2 * ys;
    const double pw = W - L - R;
    const double ph = H - T - B;
#define PX(x) (L + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (T + ph - ((y) - y0) / (y1 - y0) * ph)
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#444\"/>\n", L, T, pw, ph);
    double st = tick_step(x1 - x0, 5);
    for (double t = ceil(x0 / st) * st; t <= x1 + 1e-12; t += st) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                PX(t), T, PX(t), T + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%g"
                "</text>\n", PX(t), T + ph + 15.0, t);
    }
    st = tick_step(y1 - y0, 5);
    for (double t = ceil(y0 / st) * st; t <= y1 + 1e-12 * fabs(y1); t += st) {
        double tv = fabs(t) < 1e-9 * st ? 0.0 : t;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                L, PY(tv), L + pw, PY(tv));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.4g"
                "</text>\n", L - 5.0, PY(tv) + 4.0, tv);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">"
            "acceleration R (measured)</text>\n", L + pw / 2.0, H - 10.0);
    fprintf(f, "<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\" "
            "font-size=\"12\">%s</text>\n", T + ph / 2.0, metric_names[metric]);
    for (int s = 0; s < nser; s++) {
        const char *col = palette[style_index(r, 0, ser[s].kind) % 10];
        const char *dash = dashes[style_index(r, 1, ser[s].method) % 6];
        double px[64];
        double py[64];
        int np = 0;
        for (int i = 0; i < r->ncells && np < 64; i++) {
            const struct mr_report_cell *c = &r->cells[i];
            if (c->n == 0 || !isfinite(c->mean[metric]) || !isfinite(c->accel) ||
                strcmp(c->kind, ser[s].kind) != 0 || strcmp(c->method, ser[s].method) != 0)
                continue;
            px[np] = c->accel;
            py[np] = c->mean[metric];
            np++;
        }
        for (int i = 1; i < np; i++) /* insertion sort by acceleration */
            for (int j = i; j > 0 && px[j - 1] > px[j]; j--) {
                double t = px[j];
                px[j] = px[j - 1];
                px[j - 1] = t;
                t = py[j];
                py[j] = py[j - 1];
                py[j - 1] = t;
            }
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-dasharray=\"%s\" points=\"", col, dash);
        for (int i = 0; i < np; i++)
            fprintf(f, "%s%.1f,%.1f", i > 0 ? " " : "", PX(px[i]), PY(py[i]));
        fputs("\"/>\n", f);
        for (int i = 0; i < np; i++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>R %.2f: "
                    "%.5g</title></circle>\n", PX(px[i]), PY(py[i]), col, px[i], py[i]);
    }
#undef PX
#undef PY
    fputs("</svg>\n", f);
}

/* one legend for the three plots: colour = mask kind, dash pattern = method */
static void write_legend(FILE *f, const struct mr_report *r)
{
    fputs("<div class=\"legend\">", f);
    for (int i = 0; i < r->ncells; i++) {
        const struct mr_report_cell *c = &r->cells[i];
        bool first = true;
        for (int j = 0; j < i && first; j++)
            first = strcmp(r->cells[j].kind, c->kind) != 0 ||
                    strcmp(r->cells[j].method, c->method) != 0;
        if (!first)
            continue;
        fprintf(f, "<span><svg width=\"34\" height=\"10\"><line x1=\"1\" y1=\"5\" "
                "x2=\"33\" y2=\"5\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-dasharray=\"%s\"/></svg> ", palette[style_index(r, 0, c->kind) % 10],
                dashes[style_index(r, 1, c->method) % 6]);
        esc(f, c->kind);
        fputs(" &middot; ", f);
        esc(f, c->method);
        fputs("</span>\n", f);
    }
    fputs("</div>\n", f);
}

static const char style[] =
    "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px;color:#222;"
    "max-width:1400px}\n"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
    "padding:3px 8px;text-align:right}th{background:#f0f0f0}td.l,th.l{text-align:left}\n"
    ".row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}\n"
    "figure{margin:0;font-size:12px;max-width:230px}\n"
    "figure img{width:200px;image-rendering:pixelated;display:block;background:#000}\n"
    "figcaption{margin-top:3px;word-break:break-all}\n"
    ".err{color:#b00;font-size:12px}.note{color:#555;font-size:12px}\n"
    ".plots{display:flex;flex-wrap:wrap;gap:12px}\n"
    ".legend{font-size:12px;display:flex;flex-wrap:wrap;gap:6px 18px;max-width:1320px;"
    "margin-top:6px}\n"
    ".masks figure{max-width:none}.masks figcaption{max-width:290px}"
    ".masks figure img{display:inline-block;margin-right:4px;vertical-align:top}\n";

static void write_masks(FILE *f, const struct mr_report *r)
{
    fputs("<h2>Masks and point-spread functions</h2>\n<p class=\"note\">Mask: white = "
          "sampled (rows = readout, columns = phase encodes). PSF: |IFFT(mask)| / peak in dB, "
          "colour scale -50 dB (black) to 0 dB (yellow); for column masks the 1-D PSF along the "
          "phase encodes is repeated on every row.</p>\n<div class=\"row masks\">\n", f);
    for (int i = 0; i < r->nmasks; i++) {
        const struct mr_report_mask *m = &r->masks[i];
        fputs("<figure>", f);
        if (m->mask_png != NULL) {
            /* integer zoom up to about 130 pixels, so no sampled line is dropped */
            int64_t pw = m->png_w >= 1 ? m->png_w : 130;
            int64_t shown = pw * (pw < 130 ? (130 + pw - 1) / pw : 1);
            fprintf(f, "<img class=\"mask\" style=\"width:%lldpx\" src=\"", (long long)shown);
            esc(f, m->mask_png);
            fprintf(f, "\" alt=\"mask\"><img class=\"psf\" style=\"width:%lldpx\" src=\"",
                    (long long)shown);
            esc(f, m->psf_png);
            fputs("\" alt=\"PSF\">", f);
        }
        fputs("<figcaption><b>", f);
        esc(f, m->label);
        fputs("</b>", f);
        if (m->have_stats) {
            const struct mr_mask_stats *s = &m->stats;
            fprintf(f, "<br>R = %.2f (%.1f %% sampled)<br>", s->accel, 100.0 * s->fraction);
            if (s->columns)
                fprintf(f, "centre %lld columns", (long long)s->center_cols);
            else
                fprintf(f, "centre %lld &times; %lld", (long long)s->center_h,
                        (long long)s->center_w);
            fprintf(f, "<br>PSF side lobe %.3f, incoherence %.4f", s->psf_peak_sidelobe,
                    s->psf_incoherence);
        }
        if (m->shape_note != NULL) {
            fputs("<br><span class=\"note\">", f);
            esc(f, m->shape_note);
            fputs("</span>", f);
        }
        fputs("</figcaption></figure>\n", f);
    }
    fputs("</div>\n", f);
}

static void write_table(FILE *f, const struct mr_report *r)
{
    fputs("<h2>Results (mean &plusmn; sample std over slices)</h2>\n<table>\n<tr><th "
          "class=\"l\">mask</th><th class=\"l\">method</th><th>R</th><th>slices</th>"
          "<th>failed</th><th>NMSE</th><th>PSNR (dB)</th><th>SSIM</th><th>time (s)</th></tr>\n",
          f);
    for (int i = 0; i < r->ncells; i++) {
        const struct mr_report_cell *c = &r->cells[i];
        fputs("<tr><td class=\"l\">", f);
        esc(f, c->mask);
        fputs("</td><td class=\"l\">", f);
        esc(f, c->method);
        fputs("</td>", f);
        if (c->n > 0)
            fprintf(f, "<td>%.2f</td><td>%lld</td><td>%lld</td><td>%.4f &plusmn; %.4f</td>"
                    "<td>%.2f &plusmn; %.2f</td><td>%.4f &plusmn; %.4f</td><td>%.2f</td></tr>\n",
                    c->accel, (long long)c->n, (long long)c->failed, c->mean[0], c->std[0],
                    c->mean[1], c->std[1], c->mean[2], c->std[2], c->time_s);
        else
            fprintf(f, "<td>-</td><td>0</td><td>%lld</td><td>-</td><td>-</td><td>-</td>"
                    "<td>-</td></tr>\n", (long long)c->failed);
    }
    fputs("</table>\n", f);
}

static void write_gallery(FILE *f, const struct mr_report *r)
{
    fprintf(f, "<h2>Gallery</h2>\n<p class=\"note\">Top: magnitude with the target's window. "
            "Bottom: |reconstruction &minus; target| on [0, %.2g &times; window] (black to "
            "yellow).</p>\n", r->err_scale);
    for (int g = 0; g < r->ngallery; g++) {
        const struct mr_report_gallery_row *row = &r->gallery[g];
        fputs("<h3>", f);
        esc(f, row->title);
        fputs("</h3>\n<div class=\"row\">\n<figure><img class=\"recon\" src=\"", f);
        esc(f, row->target_png);
        fputs("\" alt=\"target\"><figcaption><b>fully sampled RSS</b></figcaption></figure>\n",
              f);
        for (int i = 0; i < row->nimages; i++) {
            const struct mr_report_image *im = &row->images[i];
            fputs("<figure>", f);
            if (im->png != NULL) {
                fputs("<img class=\"recon\" src=\"", f);
                esc(f, im->png);
                fputs("\" alt=\"reconstruction\">", f);
            }
            if (im->err_png != NULL) {
                fputs("<img class=\"errmap\" src=\"", f);
                esc(f, im->err_png);
                fputs("\" alt=\"error map\">", f);
            }
            fputs("<figcaption><b>", f);
            esc(f, im->caption);
            fputs("</b>", f);
            if (im->note != NULL) {
                fprintf(f, "<br><span class=\"%s\">", im->png != NULL ? "note" : "err");
                esc(f, im->note);
                fputs("</span>", f);
            }
            fputs("</figcaption></figure>\n", f);
        }
        fputs("</div>\n", f);
    }
}

static void write_errors(FILE *f, const struct mr_report *r)
{
    if (r->nerrors_total == 0)
        return;
    fprintf(f, "<h2>Failed rows (%lld)</h2>\n<table>\n<tr><th class=\"l\">row</th><th "
            "class=\"l\">error</th></tr>\n", (long long)r->nerrors_total);
    for (int i = 0; i < r->nerrors; i++) {
        fputs("<tr><td class=\"l\">", f);
        esc(f, r->errors[i].where);
        fputs("</td><td class=\"l err\">", f);
        esc(f, r->errors[i].message);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (r->nerrors_total > r->nerrors)
        fprintf(f, "<p class=\"note\">%lld more in results.csv.</p>\n",
                (long long)(r->nerrors_total - r->nerrors));
}

mr_status mr_report_write_html(const char *path, const struct mr_report *r)
{
    struct mr_atomic_file af = { 0 };
    mr_status st = mr_atomic_file_open(&af, path);
    if (st != MR_OK)
        return st;
    FILE *f = af.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    esc(f, r->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
    esc(f, r->title);
    fputs("</h1>\n<p class=\"note\">", f);
    esc(f, r->subtitle);
    fputs(" Data: <a href=\"results.csv\">results.csv</a>, <a href=\"summary.json\">"
          "summary.json</a>.</p>\n", f);
    write_masks(f, r);
    write_table(f, r);
    fputs("<h2>Metrics versus acceleration</h2>\n<div class=\"plots\">\n", f);
    bool residuals = false; /* results from before the trust report have none */
    for (int i = 0; i < r->ncells; i++)
        residuals = residuals || (r->cells[i].n > 0 && isfinite(r->cells[i].mean[3]));
    for (int k = 0; k < (residuals ? 4 : 3); k++)
        svg_plot(f, r, k);
    fputs("</div>\n", f);
    write_legend(f, r);
    write_gallery(f, r);
    write_errors(f, r);
    fputs("</body>\n</html>\n", f);
    return mr_atomic_file_commit(&af);
}
