/* maskeval's summary.json and report.html from its result rows (maskeval_run.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "runs/maskeval_run.h"
#include "runs/report.h"

#define SLEN 1800 /* report strings: a mask and a method label fit */

static bool file_in_run(const struct mr_maskeval_run *R, const char *file)
{
    for (size_t i = 0; i < R->files.n; i++)
        if (strcmp(R->files.v[i], file) == 0)
            return true;
    return false;
}

static void mean_std(const double *v, int64_t n, double *mean, double *sd)
{
    double m = 0.0;
    double q = 0.0;
    for (int64_t i = 0; i < n; i++)
        m += v[i];
    m = n > 0 ? m / (double)n : (double)NAN;
    for (int64_t i = 0; i < n; i++)
        q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(q / (double)(n - 1)) : 0.0;
}

/* Summary cells (mask-major, in configuration order) from the latest rows. */
static mr_status summarise(struct mr_maskeval_run *R, const struct mr_result_row *const *v, size_t n,
                           struct mr_report_cell *cells)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    double *buf = malloc((n > 0 ? n : 1) * 6 * sizeof(double));
    if (buf == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "summary");
    R->counts.rows = 0;
    R->counts.failed = 0;
    for (int mi = 0; mi < cfg->nmasks; mi++)
        for (int ji = 0; ji < cfg->nmethods; ji++) {
            struct mr_report_cell *c = &cells[mi * cfg->nmethods + ji];
            double *col[6];
            int64_t k = 0;
            int64_t nres = 0;
            for (int q = 0; q < 6; q++)
                col[q] = buf + (size_t)q * (n > 0 ? n : 1);
            memset(c, 0, sizeof(*c));
            c->mask = cfg->masks[mi].label;
            c->kind = mr_maskeval_mask_kind(&cfg->masks[mi]);
            c->method = cfg->methods[ji].label;
            for (size_t i = 0; i < n; i++) {
                const struct mr_result_row *r = v[i];
                if (strcmp(r->mask, c->mask) != 0 || strcmp(r->method, c->method) != 0 ||
                    !file_in_run(R, r->file))
                    continue;
                R->counts.rows++;
                if (!r->ok) {
                    c->failed++;
                    R->counts.failed++;
                    continue;
                }
                col[0][k] = r->nmse;
                col[1][k] = r->psnr;
                col[2][k] = r->ssim;
                col[3][k] = r->accel;
                col[4][k] = r->time_s;
                if (isfinite(r->residual)) /* rows from before the trust report have none */
                    col[5][nres++] = r->residual;
                c->flagged += r->flagged;
                k++;
            }
            c->n = k;
            double sd;
            for (int q = 0; q < 3; q++)
                mean_std(col[q], k, &c->mean[q], &c->std[q]);
            mean_std(col[5], nres, &c->mean[3], &c->std[3]);
            mean_std(col[3], k, &c->accel, &sd);
            mean_std(col[4], k, &c->time_s, &sd);
        }
    free(buf);
    return MR_OK;
}

static mr_status write_summary(const struct mr_maskeval_run *R, const struct mr_report_cell *cells,
                               int ncells, const char *path)
{
    static const char *const names[3] = { "nmse", "psnr", "ssim" };
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    struct mr_atomic_file af = { 0 };
    mr_status st = MR_OK;
    if (root == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "summary");
    cJSON_AddStringToObject(root, "metrics", "fastMRI definitions per slice (data range = the "
                            "slice target's max), target = RSS of the fully sampled coil "
                            "images, centre-cropped as fastMRI evaluate.py; std = sample std");
    cJSON *in = cJSON_AddArrayToObject(root, "inputs");
    for (size_t i = 0; i < R->files.n; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(R->files.v[i]));
    cJSON_AddNumberToObject(root, "rows", (double)R->counts.rows);
    cJSON_AddNumberToObject(root, "failed", (double)R->counts.failed);
    cJSON *arr = cJSON_AddArrayToObject(root, "results");
    for (int i = 0; i < ncells; i++) {
        const struct mr_report_cell *c = &cells[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        cJSON_AddStringToObject(e, "mask", c->mask);
        cJSON_AddStringToObject(e, "kind", c->kind);
        cJSON_AddStringToObject(e, "method", c->method);
        cJSON_AddNumberToObject(e, "accel", c->accel);
        cJSON_AddNumberToObject(e, "n", (double)c->n);
        cJSON_AddNumberToObject(e, "failed", (double)c->failed);
        for (int q = 0; q < 3; q++) {
            cJSON *m = cJSON_AddObjectToObject(e, names[q]);
            cJSON_AddNumberToObject(m, "mean", c->mean[q]);
            cJSON_AddNumberToObject(m, "std", c->std[q]);
        }
        cJSON_AddNumberToObject(e, "time_s", c->time_s);
        if (isfinite(c->mean[3])) { /* the trust report */
            cJSON *m = cJSON_AddObjectToObject(e, "dc_residual");
            cJSON_AddNumberToObject(m, "mean", c->mean[3]);
            cJSON_AddNumberToObject(m, "std", c->std[3]);
        }
        cJSON_AddNumberToObject(e, "flagged", (double)c->flagged);
    }
    text = cJSON_Print(root);
    if (text == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "summary");
        goto out;
    }
    MR_CHECK(mr_atomic_file_open(&af, path));
    fputs(text, af.f);
    fputc('\n', af.f);
    st = mr_atomic_file_commit(&af);
out:
    mr_atomic_file_abort(&af);
    cJSON_free(text);
    cJSON_Delete(root);
    return st;
}

static const struct mr_result_row *find_row(const struct mr_result_row *const *v, size_t n, const char *file,
                                  int64_t slice, const char *mask, const char *method)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]->slice == slice && strcmp(v[i]->file, file) == 0 &&
            strcmp(v[i]->mask, mask) == 0 && strcmp(v[i]->method, method) == 0)
            return v[i];
    return NULL;
}

static mr_status write_report(struct mr_maskeval_run *R, const struct mr_result_row *const *v, size_t n,
                              const struct mr_report_cell *cells, int ncells)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const int per = cfg->nmasks * cfg->nmethods;
    const int nimg = R->ngallery * per;
    struct mr_report_mask *rm = calloc((size_t)cfg->nmasks, sizeof(*rm));
    struct mr_report_gallery_row *gr = calloc((size_t)(R->ngallery > 0 ? R->ngallery : 1),
                                              sizeof(*gr));
    struct mr_report_image *im = calloc((size_t)(nimg > 0 ? nimg : 1), sizeof(*im));
    char *strs = calloc((size_t)(nimg > 0 ? nimg : 1) * 4 + (size_t)R->ngallery * 2, SLEN);
    struct mr_report_error *errs = calloc(50, sizeof(*errs));
    char *errwhere = calloc(50, 700);
    char subtitle[512];
    char path[4300];
    mr_status st = MR_OK;
    size_t used = 0;

    if (rm == NULL || gr == NULL || im == NULL || strs == NULL || errs == NULL ||
        errwhere == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "report");
        goto out;
    }
#define STR() (strs + SLEN * used++)
    for (int mi = 0; mi < cfg->nmasks; mi++) {
        const struct mr_maskeval_report_mask *ri = &R->rmasks[mi];
        rm[mi].label = cfg->masks[mi].label;
        rm[mi].kind = mr_maskeval_mask_kind(&cfg->masks[mi]);
        rm[mi].have_stats = ri->done;
        if (ri->done) {
            rm[mi].mask_png = ri->mask_png;
            rm[mi].psf_png = ri->psf_png;
            rm[mi].stats = ri->stats;
            rm[mi].png_w = ri->w;
            rm[mi].shape_note = ri->note;
        } else {
            rm[mi].shape_note = "fits no input volume";
        }
    }
    for (int g = 0; g < R->ngallery; g++) {
        const char *file = R->files.v[R->gallery[g].file];
        const int64_t slice = R->gallery[g].slice;
        char *title = STR();
        char *tp = STR();
        snprintf(title, SLEN, "%s, slice %lld", file, (long long)slice);
        mr_maskeval_gallery_name(tp, SLEN, NULL, file, slice, NULL, NULL, "target");
        gr[g].title = title;
        gr[g].target_png = tp;
        gr[g].images = im + g * per;
        gr[g].nimages = per;
        for (int mi = 0; mi < cfg->nmasks; mi++)
            for (int ji = 0; ji < cfg->nmethods; ji++) {
                struct mr_report_image *x = &im[g * per + mi * cfg->nmethods + ji];
                const char *ml = cfg->masks[mi].label;
                const char *jl = cfg->methods[ji].label;
                const struct mr_result_row *r = find_row(v, n, file, slice, ml, jl);
                char *cap = STR();
                char *note = STR();
                char *png = STR();
                char *epng = STR();
                snprintf(cap, SLEN, "%s · %s", ml, jl);
                x->caption = cap;
                mr_maskeval_gallery_name(png, SLEN, NULL, file, slice, ml, jl, "recon");
                mr_maskeval_gallery_name(epng, SLEN, NULL, file, slice, ml, jl, "err");
                snprintf(path, sizeof(path), "%s/%s", cfg->outdir, png);
                if (r != NULL && r->ok && access(path, R_OK) == 0) {
                    x->png = png;
                    snprintf(path, sizeof(path), "%s/%s", cfg->outdir, epng);
                    x->err_png = access(path, R_OK) == 0 ? epng : NULL;
                    snprintf(note, SLEN, "NMSE %.4f, PSNR %.2f dB, SSIM %.4f", r->nmse, r->psnr,
                             r->ssim);
                } else {
                    snprintf(note, SLEN, "%s", r == NULL ? "not computed"
                                              : r->ok ? "picture missing" : r->error);
                }
                x->note = note;
            }
    }
#undef STR
    int ne = 0;
    int64_t netot = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mr_result_row *r = v[i];
        if (r->ok || !file_in_run(R, r->file) || r->mask_ord >= cfg->nmasks ||
            r->method_ord >= cfg->nmethods)
            continue;
        netot++;
        if (ne < 50) {
            char *w = errwhere + 700 * ne;
            snprintf(w, 700, "%s, slice %lld, %s, %s", r->file, (long long)r->slice, r->mask,
                     r->method);
            errs[ne].where = w;
            errs[ne].message = r->error;
            ne++;
        }
    }
    snprintf(subtitle, sizeof(subtitle), "%zu volume(s), %d mask(s), %d method(s): %lld rows, "
             "%lld failed. Metrics: fastMRI definitions per slice against the RSS of the fully "
             "sampled k-space, centre-cropped as fastMRI's evaluate.py.", R->files.n,
             cfg->nmasks, cfg->nmethods, (long long)R->counts.rows,
             (long long)R->counts.failed);
    struct mr_report rep = {
        .title = "mrirecon maskeval: sampling pattern evaluation",
        .subtitle = subtitle,
        .masks = rm, .nmasks = cfg->nmasks,
        .cells = cells, .ncells = ncells,
        .gallery = gr, .ngallery = R->ngallery,
        .errors = errs, .nerrors = ne, .nerrors_total = netot,
        .err_scale = MR_MASKEVAL_ERR_SCALE,
    };
    snprintf(path, sizeof(path), "%s/report.html", cfg->outdir);
    st = mr_report_write_html(path, &rep);
out:
    free(rm);
    free(gr);
    free(im);
    free(strs);
    free(errs);
    free(errwhere);
    return st;
}

mr_status mr_maskeval_write_summary_and_report(struct mr_maskeval_run *R)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const struct mr_result_row **latest = NULL;
    size_t nlatest = 0;
    const int ncells = cfg->nmasks * cfg->nmethods;
    struct mr_report_cell *cells = calloc((size_t)ncells, sizeof(*cells));
    char path[4300];
    mr_status st = MR_OK;

    if (cells == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "maskeval summary");
    MR_CHECK(mr_results_latest(&R->rows, &latest, &nlatest));
    MR_CHECK(summarise(R, latest, nlatest, cells));
    snprintf(path, sizeof(path), "%s/summary.json", cfg->outdir);
    MR_CHECK(write_summary(R, cells, ncells, path));
    MR_CHECK(write_report(R, latest, nlatest, cells, ncells));
out:
    free(latest);
    free(cells);
    return st;
}
