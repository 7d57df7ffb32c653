/*
 * Offline evaluation of sampling masks over a dataset (see maskeval.h): the run. Volumes are
 * surveyed once, then every volume × mask × method task reconstructs the pending slices of its
 * volume through the pipeline (pipeline/pipeline.h) and scores them against the fully sampled
 * RSS; rows go into the result table (runs/results.h), checkpointed to results.csv as the run
 * goes, and each finished task into its task file (maskeval_files.c); the summary and report
 * come last (maskeval_report.c).
 *
 * Threads: the slices of one task are independent work items shared out by OpenMP; each thread
 * owns its pipeline and buffers (made once per task). HDF5 reads go through omp
 * critical(mr_hdf5); the row table, progress bar and checkpoints through omp
 * critical(mr_maskeval_rows). An error that stops the run is recorded with its message there.
 */
#include "runs/maskeval.h"

#include <complex.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/png.h"
#include "pipeline/output.h"
#include "pipeline/pipeline.h"
#include "recon/clock.h"
#include "recon/fft.h"
#include "runs/maskeval_run.h"
#include "runs/report.h"
#include "sampling/metrics.h"

const struct mr_maskeval_config mr_maskeval_config_default = {
    .slice0 = -1,
    .slice1 = -1,
    .jobs = 0,
    .gallery = 3,
    .checkpoint_s = 10.0,
    .tasks = { .shard_index = 0, .shard_count = 1, .mpi = false, .dynamic = true },
};

/* ---- progress and rows -------------------------------------------------------------------- */

static void format_time(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void progress(struct mr_maskeval_run *R, bool final)
{
    if (R->cfg->quiet || !R->serial || R->total == 0)
        return;
    double now = mr_clock_now_s();
    if (!final && now - R->last_print < 0.2)
        return;
    R->last_print = now;
    const int width = 30;
    double frac = (double)R->finished / (double)R->total;
    int fill = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[width] = '\0';
    char el[32];
    char eta[32];
    double elapsed = now - R->t0;
    format_time(el, sizeof(el), elapsed);
    if (R->finished > 0)
        format_time(eta, sizeof(eta),
                    elapsed / (double)R->finished * (double)(R->total - R->finished));
    else
        snprintf(eta, sizeof(eta), "?");
    fprintf(stderr, "\rmaskeval [%s] %lld/%lld rows %3.0f%%  elapsed %s  ETA %s ", bar,
            (long long)R->finished, (long long)R->total, 100.0 * frac, el, eta);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Records an error that stops the run, with this thread's message (thread-safe). */
static void set_fatal(struct mr_maskeval_run *R, mr_status st)
{
#pragma omp critical(mr_maskeval_rows)
    {
        if (R->fatal == MR_OK) {
            snprintf(R->fatal_msg, sizeof(R->fatal_msg), "%s", mr_last_error());
#pragma omp atomic write
            R->fatal = (int)st;
        }
    }
}

static bool fatal(struct mr_maskeval_run *R)
{
    int f;
#pragma omp atomic read
    f = R->fatal;
    return f != MR_OK;
}

/* Records a row (thread-safe); mi / ji -1: "*" */
static void add_row(struct mr_maskeval_run *R, int fi, int64_t slice, int mi, int ji,
                    double accel, const struct mr_metrics *m, double time_s, const char *error,
                    const struct mr_trust_report *rep)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const struct mr_result_row r = {
        .file = R->files.v[fi], .slice = slice,
        .mask = mi >= 0 ? cfg->masks[mi].label : "*",
        .method = ji >= 0 ? cfg->methods[ji].label : "*",
        .accel = accel, .ok = error == NULL, .nmse = m != NULL ? m->nmse : (double)NAN,
        .psnr = m != NULL ? m->psnr : (double)NAN, .ssim = m != NULL ? m->ssim : (double)NAN,
        .time_s = time_s, .error = error != NULL ? error : "",
        .residual = rep != NULL ? rep->residual : (double)NAN,
        .score = rep != NULL ? rep->score : (double)NAN, .flagged = rep != NULL && rep->flagged,
        .mask_ord = mi >= 0 ? mi : cfg->nmasks, .method_ord = ji >= 0 ? ji : cfg->nmethods,
    };
    mr_status st;
#pragma omp critical(mr_maskeval_rows)
    {
        st = mr_results_add(&R->rows, &r);
        R->counts.computed++;
        R->finished++;
        progress(R, false);
    }
    if (st != MR_OK)
        set_fatal(R, st);
}

/* Periodic checkpoint of results.csv and progress (thread-safe). */
static void after_item(struct mr_maskeval_run *R)
{
    mr_status st = MR_OK;
#pragma omp critical(mr_maskeval_rows)
    {
        double now = mr_clock_now_s();
        if (R->serial && now - R->last_checkpoint >= R->cfg->checkpoint_s && !fatal(R)) {
            R->last_checkpoint = now;
            st = mr_results_write_csv(&R->rows, R->csv_path);
        }
        progress(R, false);
    }
    if (st != MR_OK)
        set_fatal(R, st);
}

static bool done(const struct mr_maskeval_run *R, int fi, int64_t slice, int mi, int ji)
{
    return mr_results_done(&R->rows, R->files.v[fi], slice, R->cfg->masks[mi].label,
                           R->cfg->methods[ji].label);
}

/* ---- one task: one volume, one mask, one method ------------------------------------------- */

/* The mask of a volume, made once per volume for every task. */
struct vol_mask {
    struct mr_array mask; /* (H, W) 0/1 */
    mr_status st;
    char err[MR_MASKEVAL_MSG];
    double accel;
};

/* One thread's pipeline and buffers for one task. */
struct worker {
    struct mr_pipeline *pipe; /* NULL when it could not be made: its rows carry perr */
    char perr[MR_MASKEVAL_MSG];
    struct mr_fft2 *fft;
    struct mr_array ksp;  /* (C, H, W) fully sampled */
    struct mr_array ku;   /* undersampled */
    struct mr_array coil; /* coil images */
    struct mr_array mag;  /* (H, W) */
    struct mr_array rss;  /* (H, W) */
    struct mr_array tgt;  /* (ch, cw) */
    struct mr_array pred; /* (ch, cw) */
    struct mr_array err;  /* (ch, cw) */
    struct mr_trust_report *report; /* the slice's trust report */
};

static void worker_cleanup(struct worker *w)
{
    mr_pipeline_free(w->pipe);
    mr_fft2_free(w->fft);
    mr_array_cleanup(&w->ksp);
    mr_array_cleanup(&w->ku);
    mr_array_cleanup(&w->coil);
    mr_array_cleanup(&w->mag);
    mr_array_cleanup(&w->rss);
    mr_array_cleanup(&w->tgt);
    mr_array_cleanup(&w->pred);
    mr_array_cleanup(&w->err);
    free(w->report);
    memset(w, 0, sizeof(*w));
}

/* the scored crop of an H x W image: recon size, then fastMRI's (W', W') */
static void score_crop(const struct mr_maskeval_volume_info *vi, int64_t *ch, int64_t *cw)
{
    *cw = vi->recon_w;
    *ch = vi->recon_h < vi->recon_w ? vi->recon_h : vi->recon_w;
}

static void crop_to(struct mr_array *dst, const struct mr_array *src,
                    const struct mr_maskeval_volume_info *vi)
{
    const int64_t h = src->dims[0];
    const int64_t w = src->dims[1];
    const int64_t ch = dst->dims[0];
    const int64_t cw = dst->dims[1];
    const int64_t y0 = (h - vi->recon_h) / 2 + (vi->recon_h - ch) / 2;
    const int64_t x0 = (w - vi->recon_w) / 2 + (vi->recon_w - cw) / 2;
    const float *s = mr_array_f32(src);
    float *d = mr_array_f32(dst);
    for (int64_t y = 0; y < ch; y++)
        memcpy(d + y * cw, s + (y0 + y) * w + x0, sizeof(float) * (size_t)cw);
}

/* Buffers for the volume; the pipeline for the method (a method that cannot be made for this
 * size fails its rows, not the run). Errors: MR_ERR_NOMEM and the like (stop the run). */
static mr_status worker_init(struct worker *w, const struct mr_maskeval_method *me,
                             const struct mr_maskeval_volume_info *vi)
{
    mr_status st = MR_OK;
    int64_t ch;
    int64_t cw;
    score_crop(vi, &ch, &cw);
    memset(w, 0, sizeof(*w));
    MR_CHECK(mr_fft2_create(vi->h, vi->w, &mr_fft_config_default, &w->fft));
    MR_CHECK(mr_array_init_dims(&w->ksp, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->ku, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->coil, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->mag, MR_DTYPE_F32, 2, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->rss, MR_DTYPE_F32, 2, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->tgt, MR_DTYPE_F32, 2, ch, cw));
    MR_CHECK(mr_array_init_dims(&w->pred, MR_DTYPE_F32, 2, ch, cw));
    MR_CHECK(mr_array_init_dims(&w->err, MR_DTYPE_F32, 2, ch, cw));
    w->report = malloc(sizeof(*w->report));
    if (w->report == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "maskeval worker");
        goto out;
    }
    if (mr_pipeline_create(&me->cfg, vi->coils, vi->h, vi->w, &w->pipe) != MR_OK)
        snprintf(w->perr, sizeof(w->perr), "%s", mr_last_error());
out:
    return st;
}

static bool is_gallery(const struct mr_maskeval_run *R, int fi, int64_t slice)
{
    for (int g = 0; g < R->ngallery; g++)
        if (R->gallery[g].file == fi && R->gallery[g].slice == slice)
            return true;
    return false;
}

void mr_maskeval_gallery_name(char *buf, size_t len, const char *outdir, const char *file,
                              int64_t slice, const char *mask, const char *method,
                              const char *what)
{
    const unsigned long long fh = (unsigned long long)(mr_maskeval_hash(file) >> 16);
    const char *o = outdir != NULL ? outdir : "";
    const char *sep = outdir != NULL ? "/" : "";
    if (mask == NULL)
        snprintf(buf, len, "%s%sgallery/%012llx_s%lld_%s.png", o, sep, fh, (long long)slice,
                 what);
    else
        snprintf(buf, len, "%s%sgallery/%012llx_s%lld_%012llx_%012llx_%s.png", o, sep, fh,
                 (long long)slice, (unsigned long long)(mr_maskeval_hash(mask) >> 16),
                 (unsigned long long)(mr_maskeval_hash(method) >> 16), what);
}

/* target = RSS of the fully sampled coil images (double sums), cropped as fastMRI does */
static void make_target(struct worker *w, const struct mr_maskeval_volume_info *vi)
{
    const int64_t nc = vi->coils;
    const int64_t n = vi->h * vi->w;
    mr_fft2_inverse(w->fft, mr_array_cf32(&w->coil), mr_array_cf32(&w->ksp), nc);
    const float complex *ci = mr_array_cf32(&w->coil);
    float *rss = mr_array_f32(&w->rss);
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            double a = (double)cabsf(ci[c * n + i]);
            s += a * a;
        }
        rss[i] = (float)sqrt(s);
    }
    crop_to(&w->tgt, &w->rss, vi);
}

/* One row: slice `slice` of volume fi through method ji with mask mi. */
static void process_slice(struct mr_maskeval_run *R, struct worker *w, int fi, int64_t slice,
                          int mi, int ji, const struct mr_maskeval_source_ops *src, void *sctx,
                          const struct vol_mask *vm, const struct mr_maskeval_volume_info *vi)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const struct mr_maskeval_mask *mk = &cfg->masks[mi];
    const struct mr_maskeval_method *me = &cfg->methods[ji];
    const char *file = R->files.v[fi];
    const bool gallery = is_gallery(R, fi, slice);
    char msg[MR_MASKEVAL_MSG];
    char path[4600];
    mr_status st;

    if (w->pipe == NULL) {
        add_row(R, fi, slice, mi, ji, vm->accel, NULL, (double)NAN, w->perr, NULL);
        return;
    }
#pragma omp critical(mr_hdf5)
    st = src->read_slice(sctx, slice, &w->ksp);
    if (st != MR_OK) {
        snprintf(msg, sizeof(msg), "%s", mr_last_error());
        add_row(R, fi, slice, mi, ji, vm->accel, NULL, (double)NAN, msg, NULL);
        return;
    }
    make_target(w, vi);
    float lo = 0.0f;
    float hi = 1.0f;
    if (gallery) { /* a picture that cannot be written shows as missing in the report */
        (void)mr_png_auto_window(&w->tgt, 99.5, &lo, &hi);
        mr_maskeval_gallery_name(path, sizeof(path), cfg->outdir, file, slice, NULL, NULL,
                                 "target");
        (void)mr_report_write_gray_png(path, &w->tgt, lo, hi);
    }
    /* undersample: +0.0 off the mask (fastMRI's apply_mask) */
    const int64_t n = vi->h * vi->w;
    const float *m = mr_array_f32(&vm->mask);
    const float complex *k = mr_array_cf32(&w->ksp);
    float complex *u = mr_array_cf32(&w->ku);
    for (int64_t c = 0; c < vi->coils; c++)
        for (int64_t i = 0; i < n; i++)
            u[c * n + i] = m[i] != 0.0f ? k[c * n + i] : 0.0f;

    double t = mr_clock_now_s();
    const struct mr_slice sl = { .ksp = &w->ku, .mask = &vm->mask, .maps = NULL };
    st = mr_pipeline_run_report(w->pipe, &sl, &w->mag, w->report);
    double dt = mr_clock_now_s() - t;
    if (st != MR_OK) {
        snprintf(msg, sizeof(msg), "%s", mr_last_error());
        add_row(R, fi, slice, mi, ji, vm->accel, NULL, (double)NAN, msg, NULL);
        return;
    }
    crop_to(&w->pred, &w->mag, vi);
    const int64_t ch = w->tgt.dims[0];
    const int64_t cw = w->tgt.dims[1];
    struct mr_array t3;
    struct mr_array p3;
    mr_array_wrap(&t3, MR_DTYPE_F32, 3, (const int64_t[]){ 1, ch, cw }, w->tgt.data);
    mr_array_wrap(&p3, MR_DTYPE_F32, 3, (const int64_t[]){ 1, ch, cw }, w->pred.data);
    struct mr_metrics met;
    st = mr_metrics_fastmri(&t3, &p3, &met);
    if (st != MR_OK) {
        snprintf(msg, sizeof(msg), "metrics: %s", mr_last_error());
        add_row(R, fi, slice, mi, ji, vm->accel, NULL, dt, msg, NULL);
        return;
    }
    if (gallery) {
        const float *a = mr_array_f32(&w->pred);
        const float *b = mr_array_f32(&w->tgt);
        float *e = mr_array_f32(&w->err);
        for (int64_t i = 0; i < ch * cw; i++)
            e[i] = fabsf(a[i] - b[i]);
        mr_maskeval_gallery_name(path, sizeof(path), cfg->outdir, file, slice, mk->label,
                                 me->label, "recon");
        (void)mr_report_write_gray_png(path, &w->pred, lo, hi);
        mr_maskeval_gallery_name(path, sizeof(path), cfg->outdir, file, slice, mk->label,
                                 me->label, "err");
        (void)mr_report_write_color_png(path, &w->err, 0.0f,
                                        (float)(MR_MASKEVAL_ERR_SCALE * (double)hi));
    }
    add_row(R, fi, slice, mi, ji, vm->accel, &met, dt, NULL, w->report);
}

/* Every pending slice of volume fi with mask mi and method ji, the slices in parallel. */
static void process_task(struct mr_maskeval_run *R, int fi, int mi, int ji,
                         const int64_t *items, int64_t nitems,
                         const struct mr_maskeval_source_ops *src, void *sctx,
                         const struct vol_mask *vm)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const struct mr_maskeval_volume_info *vi = &R->infos[fi];
    int nthreads = cfg->jobs > 0 ? cfg->jobs : omp_get_max_threads();
    if (nthreads > nitems)
        nthreads = (int)nitems;
#pragma omp parallel num_threads(nthreads)
    {
        struct worker w;
        mr_status wst = worker_init(&w, &cfg->methods[ji], vi);
        if (wst != MR_OK)
            set_fatal(R, wst);
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < nitems; i++) {
            if (wst != MR_OK || fatal(R) || done(R, fi, items[i], mi, ji))
                continue;
            process_slice(R, &w, fi, items[i], mi, ji, src, sctx, vm, vi);
            after_item(R);
        }
        worker_cleanup(&w);
    }
}

/* ---- volumes ------------------------------------------------------------------------------ */

/* Generates or loads every mask for one volume; writes the report pictures once per mask. */
static void prepare_masks(struct mr_maskeval_run *R, int fi,
                          const struct mr_maskeval_volume_info *vi, struct vol_mask *vm)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const char *file = R->files.v[fi];
    for (int mi = 0; mi < cfg->nmasks; mi++) {
        const struct mr_maskeval_mask *mk = &cfg->masks[mi];
        struct mr_mask_stats stats;
        vm[mi].accel = (double)NAN;
        mr_status st = mr_maskeval_mask_make(mk, file, vi->h, vi->w, &vm[mi].mask);
        if (st == MR_OK)
            st = mr_mask_stats_compute(&vm[mi].mask, &stats);
        vm[mi].st = st;
        if (st != MR_OK) {
            snprintf(vm[mi].err, sizeof(vm[mi].err), "mask: %s", mr_last_error());
            continue;
        }
        vm[mi].accel = stats.accel;
        struct mr_maskeval_report_mask *rm = &R->rmasks[mi];
        if (rm->done)
            continue;
        char path[4300];
        uint64_t hsh = mr_maskeval_hash(mk->label) >> 16;
        snprintf(rm->mask_png, sizeof(rm->mask_png), "masks/%012llx_mask.png",
                 (unsigned long long)hsh);
        snprintf(rm->psf_png, sizeof(rm->psf_png), "masks/%012llx_psf.png",
                 (unsigned long long)hsh);
        snprintf(path, sizeof(path), "%s/%s", cfg->outdir, rm->mask_png);
        st = mr_report_write_gray_png(path, &vm[mi].mask, 0.0f, 1.0f);
        snprintf(path, sizeof(path), "%s/%s", cfg->outdir, rm->psf_png);
        if (st == MR_OK)
            st = mr_report_write_psf_png(path, &vm[mi].mask);
        if (st != MR_OK)
            continue; /* no picture; the rows are unaffected */
        rm->stats = stats;
        rm->w = vi->w;
        snprintf(rm->note, sizeof(rm->note), "%lld x %lld k-space of %s", (long long)vi->h,
                 (long long)vi->w, mr_maskeval_base_name(file));
        rm->done = true;
    }
}

static void slice_range(const struct mr_maskeval_config *cfg, int64_t slices, int64_t *s0,
                        int64_t *s1)
{
    if (cfg->middle_slice) {
        *s0 = slices / 2;
        *s1 = *s0 + 1;
        return;
    }
    *s0 = cfg->slice0 < 0 ? 0 : cfg->slice0;
    *s1 = cfg->slice1 < 0 || cfg->slice1 > slices ? slices : cfg->slice1;
    if (*s0 > *s1)
        *s0 = *s1;
}

/* The volume a worker has open: its masks (made once per volume, with the report pictures of
 * masks not yet shown) and its reader (opened by the first task that needs it). */
struct vol_cache {
    int fi; /* -1: none */
    struct vol_mask *vm;
    int64_t *items;
    const struct mr_maskeval_source_ops *src;
    void *sctx;
    bool opened;
    char msg[MR_MASKEVAL_MSG];
};

static void cache_close(const struct mr_maskeval_run *R, struct vol_cache *c)
{
    if (c->src != NULL)
        c->src->close(c->sctx);
    if (c->vm != NULL)
        for (int mi = 0; mi < R->cfg->nmasks; mi++)
            mr_array_cleanup(&c->vm[mi].mask);
    free(c->vm);
    free(c->items);
    memset(c, 0, sizeof(*c));
    c->fi = -1;
}

static mr_status cache_volume(struct mr_maskeval_run *R, struct vol_cache *c, int fi)
{
    int64_t s0;
    int64_t s1;
    if (c->fi == fi)
        return MR_OK;
    cache_close(R, c);
    slice_range(R->cfg, R->infos[fi].slices, &s0, &s1);
    c->items = calloc((size_t)(s1 - s0 + 1), sizeof(*c->items));
    c->vm = calloc((size_t)R->cfg->nmasks, sizeof(*c->vm));
    if (c->items == NULL || c->vm == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "work list of '%s'", R->files.v[fi]);
    prepare_masks(R, fi, &R->infos[fi], c->vm);
    c->fi = fi;
    return MR_OK;
}

/* Task (fi, mi, ji): every pending slice of volume fi with mask mi and method ji. Errors only
 * for what stops the run. */
static mr_status process_one(struct mr_maskeval_run *R, struct vol_cache *c, int fi, int mi,
                             int ji)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const char *file = R->files.v[fi];
    int64_t s0;
    int64_t s1;
    if (R->open_st[fi] != MR_OK) { /* could not be opened in the survey: one row */
        if (!done(R, fi, -1, mi, ji))
            add_row(R, fi, -1, mi, ji, (double)NAN, NULL, (double)NAN, R->open_err[fi], NULL);
        after_item(R);
        return MR_OK;
    }
    mr_status st = cache_volume(R, c, fi);
    if (st != MR_OK)
        return st;
    slice_range(cfg, R->infos[fi].slices, &s0, &s1);
    int64_t nitems = 0;
    for (int64_t s = s0; s < s1; s++)
        if (!done(R, fi, s, mi, ji))
            c->items[nitems++] = s;
    if (nitems == 0)
        return MR_OK;
    const struct vol_mask *vm = &c->vm[mi];
    if (vm->st != MR_OK) {
        for (int64_t i = 0; i < nitems; i++)
            add_row(R, fi, c->items[i], mi, ji, (double)NAN, NULL, (double)NAN, vm->err, NULL);
        return MR_OK;
    }
    if (!c->opened) {
        c->opened = true;
        if (mr_maskeval_source_open(file, &c->src, &c->sctx,
                                    &(struct mr_maskeval_volume_info){ 0 }) != MR_OK) {
            snprintf(c->msg, sizeof(c->msg), "%s", mr_last_error());
            c->src = NULL;
        }
    }
    if (c->src == NULL) { /* it opened in the survey: report and keep going */
        for (int64_t i = 0; i < nitems; i++)
            add_row(R, fi, c->items[i], mi, ji, vm->accel, NULL, (double)NAN, c->msg, NULL);
        return MR_OK;
    }
    process_task(R, fi, mi, ji, c->items, nitems, c->src, c->sctx, vm);
    return MR_OK;
}

/* Progress of the tasks on rank 0 of an MPI run or in a shard (the serial run has its bar). */
static void task_progress(const struct mr_maskeval_run *R, int64_t done_tasks, int64_t total)
{
    double el = mr_clock_now_s() - R->t0;
    double rate = el > 0.0 ? (double)done_tasks / el : 0.0;
    char a[32];
    char b[32] = "?";
    format_time(a, sizeof(a), el);
    if (rate > 0.0)
        format_time(b, sizeof(b), (double)(total - done_tasks) / rate);
    fprintf(stderr, "maskeval: %lld/%lld tasks  %.2f tasks/s  elapsed %s  ETA %s\n",
            (long long)done_tasks, (long long)total, rate, a, b);
}

/* Opens every volume once to learn its size (and count the work for the progress bar). */
static mr_status survey(struct mr_maskeval_run *R)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const size_t nf = R->files.n;
    R->infos = calloc(nf, sizeof(*R->infos));
    R->open_st = calloc(nf, sizeof(*R->open_st));
    R->open_err = calloc(nf, sizeof(*R->open_err));
    R->gallery = calloc(nf, sizeof(*R->gallery));
    if (R->infos == NULL || R->open_st == NULL || R->open_err == NULL || R->gallery == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "volume list");
    for (size_t fi = 0; fi < nf; fi++) {
        const struct mr_maskeval_source_ops *src = NULL;
        void *sctx = NULL;
        const char *file = R->files.v[fi];
        mr_status st = mr_maskeval_source_open(file, &src, &sctx, &R->infos[fi]);
        R->open_st[fi] = st;
        if (st != MR_OK) {
            snprintf(R->open_err[fi], sizeof(R->open_err[fi]), "%s", mr_last_error());
        } else {
            src->close(sctx);
            int64_t ch;
            int64_t cw;
            score_crop(&R->infos[fi], &ch, &cw);
            if (ch < 7 || cw < 7) {
                R->open_st[fi] = MR_ERR_SHAPE;
                snprintf(R->open_err[fi], sizeof(R->open_err[fi]), "'%s': the scored image is "
                         "%lld x %lld; SSIM needs at least 7 x 7", file, (long long)ch,
                         (long long)cw);
            }
        }
        int64_t s0 = -1; /* a volume that cannot be opened gets rows with slice -1 */
        int64_t s1 = 0;
        if (R->open_st[fi] == MR_OK)
            slice_range(cfg, R->infos[fi].slices, &s0, &s1);
        if (R->open_st[fi] == MR_OK && (int)fi < cfg->gallery && s1 > s0)
            R->gallery[R->ngallery++] =
                (struct mr_maskeval_gallery_slice){ (int)fi, s0 + (s1 - s0) / 2 };
        for (int64_t s = s0; s < s1; s++)
            for (int mi = 0; mi < cfg->nmasks; mi++)
                for (int ji = 0; ji < cfg->nmethods; ji++) {
                    if (done(R, (int)fi, s, mi, ji))
                        R->counts.skipped++;
                    else
                        R->total++;
                }
    }
    return MR_OK;
}

/* The folders, the result table (results.csv and task files), the inputs and their survey. */
static mr_status open_run(struct mr_maskeval_run *R, const struct mr_maskeval_config *cfg)
{
    mr_status st = MR_OK;
    char path[4300];
    memset(R, 0, sizeof(*R));
    R->cfg = cfg;
    R->serial = !cfg->tasks.mpi && cfg->tasks.shard_count <= 1;
    if (cfg->ninputs < 1 || cfg->nmasks < 1 || cfg->nmethods < 1 || cfg->outdir == NULL)
        return MR_FAIL(MR_ERR_ARG, "maskeval needs at least one input, mask and method and an "
                       "output folder");
    for (int k = 0; k < 3; k++) {
        static const char *const sub[] = { "masks", "gallery", "tasks" };
        snprintf(path, sizeof(path), "%s/%s/x", cfg->outdir, sub[k]);
        MR_CHECK(mr_make_parent_dirs(path));
    }
    if (snprintf(R->csv_path, sizeof(R->csv_path), "%s/results.csv", cfg->outdir) >=
        (int)sizeof(R->csv_path))
        return MR_FAIL(MR_ERR_ARG, "output folder name '%s' is too long", cfg->outdir);
    R->rmasks = calloc((size_t)cfg->nmasks, sizeof(*R->rmasks));
    if (R->rmasks == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "maskeval tables");
    MR_CHECK(mr_maskeval_expand_inputs(cfg, &R->files));
out:
    return st;
}

static mr_status load_and_survey(struct mr_maskeval_run *R)
{
    mr_status st = MR_OK;
    MR_CHECK(mr_maskeval_load_rows(R));
    mr_maskeval_set_orders(R);
    MR_CHECK(mr_results_index_done(&R->rows));
    MR_CHECK(survey(R));
out:
    return st;
}

static void close_run(struct mr_maskeval_run *R)
{
    mr_results_free(&R->rows);
    mr_strlist_free(&R->files);
    free(R->infos);
    free(R->open_st);
    free(R->open_err);
    free(R->rmasks);
    free(R->gallery);
}

/* results.csv, summary.json, report.html; then the task files go. from_files: the rows of
 * every worker come from the task files (reloaded), and the mask pictures of the report from
 * the first volumes in order, as a serial run makes them. */
static mr_status write_outputs(struct mr_maskeval_run *R, bool from_files)
{
    mr_status st = MR_OK;
    struct vol_cache c = { .fi = -1 };
    if (from_files) {
        mr_results_free(&R->rows);
        memset(&R->rows, 0, sizeof(R->rows));
        MR_CHECK(mr_maskeval_load_rows(R));
        mr_maskeval_set_orders(R);
        memset(R->rmasks, 0, (size_t)R->cfg->nmasks * sizeof(*R->rmasks));
        for (size_t fi = 0; fi < R->files.n; fi++) {
            bool all = true;
            for (int mi = 0; mi < R->cfg->nmasks; mi++)
                all = all && R->rmasks[mi].done;
            if (all)
                break;
            if (R->open_st[fi] == MR_OK)
                MR_CHECK(cache_volume(R, &c, (int)fi));
        }
    }
    MR_CHECK(mr_results_write_csv(&R->rows, R->csv_path));
    MR_CHECK(mr_maskeval_write_summary_and_report(R));
    MR_CHECK(mr_maskeval_remove_task_files(R));
out:
    cache_close(R, &c);
    return st;
}

mr_status mr_maskeval_run(const struct mr_maskeval_config *cfg,
                          struct mr_maskeval_counts *counts)
{
    mr_status st = MR_OK;
    struct mr_maskeval_run R;
    struct mr_tasks *sched = NULL;
    struct vol_cache cache = { .fi = -1 };
    char path[4400];

    MR_CHECK(open_run(&R, cfg));
    const int64_t nm = cfg->nmasks;
    const int64_t nj = cfg->nmethods;
    const int64_t ntasks = (int64_t)R.files.n * nm * nj;
    MR_CHECK(mr_tasks_create(&cfg->tasks, ntasks, &sched));
    const bool root = mr_tasks_rank(sched) == 0;
    int32_t ok = 1;
    if (root) {
        st = mr_maskeval_keep_args(&R);
        ok = st == MR_OK;
    }
    mr_status bs = mr_tasks_broadcast(sched, &ok, sizeof(ok));
    MR_CHECK(st);
    MR_CHECK(bs);
    if (!ok) {
        st = MR_FAIL(MR_ERR_ARG, "rank 0 refused the output folder '%s' (its message says "
                     "why)", cfg->outdir);
        goto out;
    }
    MR_CHECK(load_and_survey(&R));

    R.t0 = mr_clock_now_s();
    R.last_checkpoint = R.t0;
    progress(&R, false);
    int64_t t;
    while (!fatal(&R) && mr_tasks_next(sched, &t)) {
        const int fi = (int)(t / (nm * nj));
        const int mi = (int)(t / nj % nm);
        const int ji = (int)(t % nj);
        const size_t n0 = R.rows.n;
        MR_CHECK(process_one(&R, &cache, fi, mi, ji));
        if (!fatal(&R) && R.rows.n > n0) {
            mr_maskeval_task_file_name(path, sizeof(path), &R, fi, mi, ji);
            MR_CHECK(mr_results_write_rows_exact(&R.rows, n0, path));
        }
        int64_t finished = mr_tasks_finished(sched);
        if (!R.serial && root && !cfg->quiet)
            task_progress(&R, finished, ntasks);
    }
    if (fatal(&R)) {
        st = MR_FAIL((mr_status)R.fatal, "%s", R.fatal_msg);
        goto out;
    }
    progress(&R, true);
    MR_CHECK(mr_tasks_report(sched, "maskeval", !cfg->quiet && !R.serial));
    MR_CHECK(mr_tasks_sum(sched, &R.counts.computed, 1)); /* also: every rank is done */
    if (R.serial || (cfg->tasks.mpi && root))
        MR_CHECK(write_outputs(&R, !R.serial));
    else
        R.counts.rows = R.counts.computed + R.counts.skipped; /* this shard's; --merge: all */
    if (counts != NULL)
        *counts = R.counts;
out:
    cache_close(&R, &cache);
    mr_tasks_free(sched, st);
    close_run(&R);
    return st;
}

mr_status mr_maskeval_merge(const struct mr_maskeval_config *cfg,
                            struct mr_maskeval_counts *counts)
{
    mr_status st = MR_OK;
    struct mr_maskeval_run R;
    struct mr_maskeval_config c = *cfg;
    c.tasks = mr_tasks_config_default;
    c.quiet = true;
    MR_CHECK(open_run(&R, &c));
    MR_CHECK(load_and_survey(&R));
    R.counts.skipped = 0;
    MR_CHECK(write_outputs(&R, true));
    if (counts != NULL)
        *counts = R.counts;
out:
    close_run(&R);
    return st;
}
