/*
 * The streaming reconstruction stage (see stage.h): raw Cartesian readouts in, images out.
 *
 * The raw-data handling follows what Gadgetron's NoiseAdjustGadget (Cholesky prewhitening,
 * Pruessmann et al., MRM 46:638, 2001, appendix), RemoveROOversamplingGadget and
 * BucketToBufferGadget (line placement by center_sample and the encoding limits' centre) do,
 * for one encoding space; the per-slice reconstruction is the pipeline (pipeline/pipeline.h).
 *
 * Memory: line scratch and FFT plans are made with the stage; each open slice takes one of
 * cfg.max_open pooled buffers, allocated at its first use and reused afterwards; the pipeline
 * and its output images are made once, at the first acquisition (when C is known).
 */
#include "pipeline/stage.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ismrmrd.h"
#include "pipeline/pipeline.h"
#include "recon/prewhiten.h"
#include "recon/readout.h"

/* ---- the stage ---------------------------------------------------------------------------- */

struct slice_key {
    uint16_t slice;
    uint16_t contrast;
    uint16_t phase;
    uint16_t repetition;
    uint16_t set;
};

/* One pooled buffer: an imaging slice or a slice's calibration lines. */
struct buf {
    bool used;
    bool calib;             /* calibration lines of key.slice */
    bool fresh;             /* no line added yet */
    bool have_center;       /* imaging: head is the centre row's header */
    struct slice_key key;
    uint64_t order;         /* opening order */
    struct mr_array ksp;    /* (C, H, W) CF32, allocated at first use */
    float *count;           /* H: lines added per row */
    ISMRMRD_AcquisitionHeader head;
};

/* Maps cached per slice index, made from that slice's calibration lines. */
struct maps_entry {
    uint16_t slice;
    struct mr_array sens; /* (C, H, W) CF32 */
};

struct mr_stage {
    struct mr_stage_config cfg;
    struct mr_stage_sink sink;
    struct mr_ismrmrd_header hdr;

    /* geometry */
    int64_t enc_x; /* encoded readout length */
    int64_t h;     /* k-space rows */
    int64_t w;     /* k-space columns = image columns */
    int64_t ny;    /* image rows (centre of h) */
    int64_t ky_offset;
    float fov[3];

    /* set at the first acquisition */
    int64_t nc;
    bool started;    /* the first non-noise acquisition was seen: whitening fixed */
    bool broken;     /* stage_start_channels failed: every later push fails */
    struct mr_pipeline *pipe;
    struct mr_trust_report *report; /* of the image being delivered (mr_stage_report) */
    bool needs_maps; /* the method uses coil maps: calibration lines are kept */
    struct mr_readout *ro;
    float complex *raw;  /* (C, ns) whitened copy of the samples */
    size_t raw_len;
    float complex *rs;   /* (C, W) resampled line */

    struct mr_prewhiten *pw;

    /* buffers */
    struct buf *bufs;
    int nbufs;
    uint64_t next_order;
    struct maps_entry *maps;
    int nmaps;
    int maps_cap;

    /* per-slice scratch */
    struct mr_array mask; /* (H, W) F32 */
    struct mr_array sens; /* (C, H, W) CF32 */
    struct mr_array img;  /* (H, W) F32 */
    ISMRMRD_Image out;    /* (W, ny) float image for the sink */
    int64_t images;
    int64_t acquisitions; /* pushed so far */
};

static bool flag(const ISMRMRD_AcquisitionHeader *h, int f)
{
    return MR_ISMRMRD_FLAG(h->flags, f) != 0;
}

mr_status mr_stage_create(const struct mr_stage_config *cfg, const char *xml, size_t len,
                          const struct mr_stage_sink *sink, struct mr_stage **out)
{
    mr_status st = MR_OK;
    struct mr_stage *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "stage");
    ismrmrd_init_image(&s->out);
    s->cfg = *cfg;
    s->sink = *sink;
    if (s->cfg.max_open < 1) {
        st = MR_FAIL(MR_ERR_ARG, "stage: max_open must be >= 1, not %d", s->cfg.max_open);
        goto out;
    }
    MR_CHECK(mr_ismrmrd_header_parse(xml, len, "stream header", &s->hdr));
    const struct mr_ismrmrd_header *hd = &s->hdr;
    if (hd->trajectory[0] != '\0' && strcmp(hd->trajectory, "cartesian") != 0) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "stage: trajectory '%s' (only cartesian is supported)",
                     hd->trajectory);
        goto out;
    }
    if (hd->enc_matrix[2] > 1) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED,
                     "stage: 3-D encoding (encodedSpace z = %lld) is not supported; 2-D "
                     "multi-slice only",
                     (long long)hd->enc_matrix[2]);
        goto out;
    }
    for (int d = 0; d < 2; d++)
        if (hd->enc_matrix[d] < 1 || hd->recon_matrix[d] < 1 || hd->enc_matrix[d] > 16384 ||
            hd->recon_matrix[d] > 16384) {
            st = MR_FAIL(MR_ERR_FORMAT,
                         "stage: matrix sizes encoded %lld x %lld, recon %lld x %lld are outside "
                         "1..16384",
                         (long long)hd->enc_matrix[0], (long long)hd->enc_matrix[1],
                         (long long)hd->recon_matrix[0], (long long)hd->recon_matrix[1]);
            goto out;
        }
    s->enc_x = hd->enc_matrix[0];
    s->w = hd->recon_matrix[0];
    s->ny = hd->recon_matrix[1];
    s->h = hd->enc_matrix[1] > s->ny ? hd->enc_matrix[1] : s->ny;
    s->ky_offset = hd->kspace_encoding_step_1.present
                       ? s->h / 2 - hd->kspace_encoding_step_1.center
                       : 0;
    for (int d = 0; d < 3; d++)
        s->fov[d] = (float)hd->recon_fov_mm[d];
    s->bufs = calloc((size_t)s->cfg.max_open, sizeof(*s->bufs));
    if (s->bufs == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "stage: %d slice buffers", s->cfg.max_open);
        goto out;
    }
    *out = s;
    s = NULL;
out:
    mr_stage_free(s);
    return st;
}

void mr_stage_free(struct mr_stage *s)
{
    if (s == NULL)
        return;
    mr_pipeline_free(s->pipe);
    free(s->report);
    mr_readout_free(s->ro);
    mr_prewhiten_free(s->pw);
    free(s->raw);
    free(s->rs);
    for (int i = 0; i < s->nbufs; i++) {
        mr_array_cleanup(&s->bufs[i].ksp);
        free(s->bufs[i].count);
    }
    free(s->bufs);
    for (int i = 0; i < s->nmaps; i++)
        mr_array_cleanup(&s->maps[i].sens);
    free(s->maps);
    mr_array_cleanup(&s->mask);
    mr_array_cleanup(&s->sens);
    mr_array_cleanup(&s->img);
    ismrmrd_cleanup_image(&s->out);
    free(s);
}

int mr_stage_open_slices(const struct mr_stage *s)
{
    int n = 0;
    for (int i = 0; i < s->nbufs; i++)
        n += s->bufs[i].used && !s->bufs[i].calib;
    return n;
}

int64_t mr_stage_images(const struct mr_stage *s)
{
    return s->images;
}

int64_t mr_stage_acquisitions(const struct mr_stage *s)
{
    return s->acquisitions;
}

const char *mr_stage_label(const struct mr_stage *s)
{
    return s->pipe != NULL ? mr_pipeline_label(s->pipe) : "";
}

const struct mr_ismrmrd_header *mr_stage_header(const struct mr_stage *s)
{
    return &s->hdr;
}

/* Sizes everything by the channel count (first acquisition of any kind). */
static mr_status stage_start_channels(struct mr_stage *s, int64_t nc)
{
    mr_status st = MR_OK;

    if (nc * s->h * s->w > ((int64_t)1 << 27))
        return MR_FAIL(MR_ERR_DATA,
                       "stage: a slice of %lld channels x %lld x %lld is over the limit of 2^27 "
                       "samples (1 GiB)",
                       (long long)nc, (long long)s->h, (long long)s->w);
    s->nc = nc;
    s->rs = malloc(sizeof(*s->rs) * (size_t)(nc * s->w));
    if (s->rs == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "stage: buffers for %lld channels", (long long)nc);
    MR_CHECK(mr_prewhiten_create(nc, &s->pw));
    MR_CHECK(mr_readout_create(nc, s->enc_x, s->w, &s->ro));
    MR_CHECK(mr_array_init_dims(&s->mask, MR_DTYPE_F32, 2, s->h, s->w));
    MR_CHECK(mr_array_init_dims(&s->img, MR_DTYPE_F32, 2, s->h, s->w));
    MR_CHECK(mr_pipeline_create(&s->cfg.method, nc, s->h, s->w, &s->pipe));
    MR_CHECK(mr_pipeline_set_trust(s->pipe, &s->cfg.trust));
    s->needs_maps = mr_pipeline_needs_maps(s->pipe);
    if (s->needs_maps)
        MR_CHECK(mr_array_init_dims(&s->sens, MR_DTYPE_CF32, 3, nc, s->h, s->w));

    ISMRMRD_ImageHeader *ih = &s->out.head;
    ismrmrd_init_image_header(ih);
    ih->data_type = ISMRMRD_FLOAT;
    ih->image_type = ISMRMRD_IMTYPE_MAGNITUDE;
    ih->matrix_size[0] = (uint16_t)s->w;
    ih->matrix_size[1] = (uint16_t)s->ny;
    ih->matrix_size[2] = 1;
    ih->channels = 1;
    for (int d = 0; d < 3; d++)
        ih->field_of_view[d] = s->fov[d];
    ih->attribute_string_len = 0;
    if (ismrmrd_make_consistent_image(&s->out) != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_NOMEM, "stage: output image");
        goto out;
    }
    s->report = malloc(sizeof(*s->report));
    if (s->report == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "stage: trust report");
        goto out;
    }
    mr_trust_report_reset(s->report);
out:
    return st;
}

/* a number for the meta XML: %.6g, or "nan" */
static void meta_number(char *buf, size_t len, double v)
{
    if (isfinite(v))
        snprintf(buf, len, "%.6g", v);
    else
        snprintf(buf, len, "nan");
}

/* the image's meta attributes (ISMRMRD meta XML): the method and the trust report, so a
 * downstream node or a PACS sees the flag: mrirecon.recon, mrirecon.dc_residual,
 * mrirecon.unsampled_energy, mrirecon.trust_score, mrirecon.trust_flag (0/1),
 * mrirecon.trust_reason (only when flagged) */
static mr_status set_meta(struct mr_stage *s)
{
    const struct mr_trust_report *r = s->report;
    char res[32];
    char uns[32];
    char score[32];
    char meta[1024];

    meta_number(res, sizeof(res), r->residual);
    meta_number(uns, sizeof(uns), r->unsampled);
    meta_number(score, sizeof(score), r->score);
    int n = snprintf(meta, sizeof(meta),
                     "<?xml version=\"1.0\"?><ismrmrdMeta>"
                     "<meta><name>mrirecon.recon</name><value>%s</value></meta>"
                     "<meta><name>mrirecon.dc_residual</name><value>%s</value></meta>"
                     "<meta><name>mrirecon.unsampled_energy</name><value>%s</value></meta>"
                     "<meta><name>mrirecon.trust_score</name><value>%s</value></meta>"
                     "<meta><name>mrirecon.trust_flag</name><value>%d</value></meta>%s%s%s"
                     "</ismrmrdMeta>",
                     mr_pipeline_label(s->pipe), res, uns, score, r->flagged ? 1 : 0,
                     r->flagged ? "<meta><name>mrirecon.trust_reason</name><value>" : "",
                     r->flagged ? r->reason : "", r->flagged ? "</value></meta>" : "");
    if (n < 0 || (size_t)n >= sizeof(meta))
        return MR_FAIL(MR_ERR_ARG, "stage: image attributes longer than %zu bytes",
                       sizeof(meta));
    char *attr = realloc(s->out.attribute_string, (size_t)n + 1);
    if (attr == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "stage: image attributes");
    memcpy(attr, meta, (size_t)n + 1);
    s->out.attribute_string = attr;
    s->out.head.attribute_string_len = (uint32_t)n;
    return MR_OK;
}

/* ---- buffers ------------------------------------------------------------------------------ */

static bool key_equal(const struct slice_key *a, const struct slice_key *b)
{
    return a->slice == b->slice && a->contrast == b->contrast && a->phase == b->phase &&
           a->repetition == b->repetition && a->set == b->set;
}

/* Finds the open buffer (imaging, or calibration of key->slice), or opens one. */
static mr_status buf_get(struct mr_stage *s, const struct slice_key *key, bool calib,
                         struct buf **out)
{
    struct buf *free_slot = NULL;

    for (int i = 0; i < s->nbufs; i++) {
        struct buf *b = &s->bufs[i];
        if (!b->used) {
            if (free_slot == NULL)
                free_slot = b;
            continue;
        }
        if (b->calib != calib)
            continue;
        if (calib ? b->key.slice == key->slice : key_equal(&b->key, key)) {
            *out = b;
            return MR_OK;
        }
    }
    if (free_slot == NULL) {
        if (s->nbufs >= s->cfg.max_open)
            return MR_FAIL(MR_ERR_DATA,
                           "stage: more than %d slices open at once (slice %u, contrast %u, "
                           "repetition %u); are LAST_IN_SLICE flags missing?",
                           s->cfg.max_open, key->slice, key->contrast, key->repetition);
        free_slot = &s->bufs[s->nbufs++];
    }
    struct buf *b = free_slot;
    if (b->ksp.data == NULL) {
        mr_status st = mr_array_init_dims(&b->ksp, MR_DTYPE_CF32, 3, s->nc, s->h, s->w);
        if (st != MR_OK)
            return st;
        b->count = calloc((size_t)s->h, sizeof(*b->count));
        if (b->count == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "stage: slice buffer");
    } else {
        mr_array_zero(&b->ksp);
        memset(b->count, 0, sizeof(*b->count) * (size_t)s->h);
    }
    b->used = true;
    b->calib = calib;
    b->fresh = true;
    b->have_center = false;
    b->key = *key;
    b->order = s->next_order++;
    *out = b;
    return MR_OK;
}

static void buf_release(struct buf *b)
{
    b->used = false;
}

/* Adds the processed line s->rs (C, W) to row `row` of b. */
static void buf_add_line(const struct mr_stage *s, struct buf *b, int64_t row)
{
    const int64_t hw = s->h * s->w;
    float complex *k = mr_array_cf32(&b->ksp);
    for (int64_t c = 0; c < s->nc; c++) {
        float complex *dst = k + c * hw + row * s->w;
        const float complex *src = s->rs + c * s->w;
        for (int64_t x = 0; x < s->w; x++)
            dst[x] += src[x];
    }
    b->count[row] += 1.0f;
}

/* Averages repeated rows (idempotent) and fills s->mask with the acquired rows. */
static void buf_finish(struct mr_stage *s, struct buf *b)
{
    const int64_t hw = s->h * s->w;
    float complex *k = mr_array_cf32(&b->ksp);
    float *m = mr_array_f32(&s->mask);

    for (int64_t y = 0; y < s->h; y++) {
        float cnt = b->count[y];
        for (int64_t x = 0; x < s->w; x++)
            m[y * s->w + x] = cnt > 0.0f ? 1.0f : 0.0f;
        if (cnt > 1.0f) {
            for (int64_t c = 0; c < s->nc; c++)
                for (int64_t x = 0; x < s->w; x++)
                    k[c * hw + y * s->w + x] /= cnt;
            b->count[y] = 1.0f; /* averaged: finishing twice changes nothing */
        }
    }
}

/* ---- coil maps ---------------------------------------------------------------------------- */

static mr_status estimate_maps(struct mr_stage *s, const struct mr_array *ksp,
                               const struct mr_array *mask, struct mr_array *sens)
{
    return mr_pipeline_maps(s->pipe, ksp, mask, sens);
}

static struct maps_entry *maps_find(struct mr_stage *s, uint16_t slice)
{
    for (int i = 0; i < s->nmaps; i++)
        if (s->maps[i].slice == slice)
            return &s->maps[i];
    return NULL;
}

/* The maps for imaging buffer b: from its slice's calibration lines (cached), else from b. */
static mr_status maps_for(struct mr_stage *s, struct buf *b, const struct mr_array **out)
{
    mr_status st = MR_OK;
    struct buf *cal = NULL;

    for (int i = 0; i < s->nbufs; i++)
        if (s->bufs[i].used && s->bufs[i].calib && s->bufs[i].key.slice == b->key.slice)
            cal = &s->bufs[i];
    struct maps_entry *e = maps_find(s, b->key.slice);

    if (cal != NULL) { /* new calibration data: (re)compute the maps */
        if (e == NULL) {
            if (s->nmaps >= s->cfg.max_open)
                return MR_FAIL(MR_ERR_DATA,
                               "stage: calibration data for more than %d slices", s->nmaps);
            if (s->nmaps == s->maps_cap) {
                int cap = s->maps_cap > 0 ? 2 * s->maps_cap : 8;
                struct maps_entry *m = realloc(s->maps, sizeof(*m) * (size_t)cap);
                if (m == NULL)
                    return MR_FAIL(MR_ERR_NOMEM, "stage: coil map cache");
                s->maps = m;
                s->maps_cap = cap;
            }
            e = &s->maps[s->nmaps];
            memset(e, 0, sizeof(*e));
            MR_CHECK(mr_array_init_dims(&e->sens, MR_DTYPE_CF32, 3, s->nc, s->h, s->w));
            e->slice = b->key.slice;
            s->nmaps++;
        }
        /* calibration rows: averaged, mask of their own (the imaging mask is rebuilt later) */
        buf_finish(s, cal);
        st = estimate_maps(s, &cal->ksp, &s->mask, &e->sens);
        if (st != MR_OK) {
            mr_fail_context(st, "coil maps from the calibration lines of slice %u",
                            b->key.slice);
            goto out;
        }
        buf_release(cal); /* maps made; the next calibration line opens a fresh buffer */
    }
    if (e != NULL) {
        *out = &e->sens;
        return MR_OK;
    }
    /* no calibration lines for this slice: the fully sampled centre of its own data */
    buf_finish(s, b);
    st = estimate_maps(s, &b->ksp, &s->mask, &s->sens);
    if (st != MR_OK) {
        mr_fail_context(st, "coil maps of slice %u (no calibration lines; its own k-space)",
                        b->key.slice);
        goto out;
    }
    *out = &s->sens;
out:
    return st;
}

/* ---- reconstruction and output ------------------------------------------------------------ */

static mr_status recon_buffer(struct mr_stage *s, struct buf *b)
{
    mr_status st = MR_OK;
    const struct mr_array *sens = NULL;

    if (s->needs_maps)
        MR_CHECK(maps_for(s, b, &sens));
    buf_finish(s, b);
    const struct mr_slice sl = { .ksp = &b->ksp, .mask = &s->mask, .maps = sens };
    st = mr_pipeline_run_report(s->pipe, &sl, &s->img, s->report);
    if (st != MR_OK) {
        mr_fail_context(st, "slice %u contrast %u repetition %u", b->key.slice, b->key.contrast,
                        b->key.repetition);
        goto out;
    }

    ISMRMRD_ImageHeader *ih = &s->out.head;
    const ISMRMRD_AcquisitionHeader *ah = &b->head;
    ih->measurement_uid = ah->measurement_uid;
    for (int d = 0; d < 3; d++) {
        ih->position[d] = ah->position[d];
        ih->read_dir[d] = ah->read_dir[d];
        ih->phase_dir[d] = ah->phase_dir[d];
        ih->slice_dir[d] = ah->slice_dir[d];
        ih->patient_table_position[d] = ah->patient_table_position[d];
    }
    ih->average = 0;
    ih->slice = b->key.slice;
    ih->contrast = b->key.contrast;
    ih->phase = b->key.phase;
    ih->repetition = b->key.repetition;
    ih->set = b->key.set;
    ih->acquisition_time_stamp = ah->acquisition_time_stamp;
    for (int i = 0; i < ISMRMRD_PHYS_STAMPS; i++)
        ih->physiology_time_stamp[i] = ah->physiology_time_stamp[i];
    ih->image_index = (uint16_t)(s->images + 1);
    ih->image_series_index = s->cfg.image_series_index;

    /* centre rows of the (H, W) image */
    const int64_t y0 = (s->h - s->ny) / 2;
    const float *src = mr_array_f32(&s->img);
    float *dst = s->out.data;
    memcpy(dst, src + y0 * s->w, sizeof(float) * (size_t)(s->ny * s->w));
    MR_CHECK(set_meta(s));
    st = s->sink.image(s->sink.ctx, &s->out);
    if (st != MR_OK)
        goto out;
    s->images++;
out:
    buf_release(b);
    return st;
}

/* Reconstructs the open imaging buffers selected by (all, or repetition == rep), in opening
 * order. */
static mr_status recon_open(struct mr_stage *s, bool all, uint16_t rep)
{
    for (;;) {
        struct buf *next = NULL;
        for (int i = 0; i < s->nbufs; i++) {
            struct buf *b = &s->bufs[i];
            if (!b->used || b->calib || (!all && b->key.repetition != rep))
                continue;
            if (next == NULL || b->order < next->order)
                next = b;
        }
        if (next == NULL)
            return MR_OK;
        mr_status st = recon_buffer(s, next);
        if (st != MR_OK)
            return st;
    }
}

/* ---- push / close ------------------------------------------------------------------------- */

static bool skipped(const ISMRMRD_AcquisitionHeader *h)
{
    static const int skip[] = {
        ISMRMRD_ACQ_IS_NAVIGATION_DATA,   ISMRMRD_ACQ_IS_PHASECORR_DATA,
        ISMRMRD_ACQ_IS_HPFEEDBACK_DATA,   ISMRMRD_ACQ_IS_DUMMYSCAN_DATA,
        ISMRMRD_ACQ_IS_RTFEEDBACK_DATA,   ISMRMRD_ACQ_IS_SURFACECOILCORRECTIONSCAN_DATA,
        ISMRMRD_ACQ_IS_PHASE_STABILIZATION_REFERENCE, ISMRMRD_ACQ_IS_PHASE_STABILIZATION,
    };
    if (h->encoding_space_ref != 0)
        return true;
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (flag(h, skip[i]))
            return true;
    return false;
}

mr_status mr_stage_push(struct mr_stage *s, const ISMRMRD_Acquisition *acq)
{
    mr_status st = MR_OK;
    const ISMRMRD_AcquisitionHeader *h = &acq->head;
    char what[64];

    s->acquisitions++;
    snprintf(what, sizeof(what), "stage (scan_counter %u)", h->scan_counter);
    MR_CHECK(mr_ismrmrd_check_acquisition_header(h, what));
    if (s->broken) {
        st = MR_FAIL(MR_ERR_ARG, "stage: setting up for the first acquisition failed earlier");
        goto out;
    }
    if (s->nc == 0) {
        s->broken = true; /* until everything is set up */
        MR_CHECK(stage_start_channels(s, h->active_channels));
        s->broken = false;
    }
    if (h->active_channels != s->nc) {
        st = MR_FAIL(MR_ERR_DATA,
                     "stage: acquisition scan_counter %u has %u channels; the stream started "
                     "with %lld",
                     h->scan_counter, h->active_channels, (long long)s->nc);
        goto out;
    }
    if (flag(h, ISMRMRD_ACQ_IS_NOISE_MEASUREMENT)) {
        if (!s->started)
            mr_prewhiten_accumulate(s->pw, acq->data, h->number_of_samples, h->sample_time_us);
        return MR_OK;
    }
    const bool last_meas = flag(h, ISMRMRD_ACQ_LAST_IN_MEASUREMENT);
    if (skipped(h))
        return last_meas ? recon_open(s, true, 0) : MR_OK;

    if (!s->started) {
        s->started = true;
        st = mr_prewhiten_factor(s->pw, h->sample_time_us);
        if (st != MR_OK) {
            mr_fail_context(st, "stage");
            goto out;
        }
    }
    const int64_t ns = h->number_of_samples;
    const size_t need = (size_t)(s->nc * ns);
    if (need > s->raw_len) {
        float complex *r = realloc(s->raw, sizeof(*r) * need);
        if (r == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "stage: line of %lld samples", (long long)ns);
            goto out;
        }
        s->raw = r;
        s->raw_len = need;
    }
    if (ns > 0) {
        memcpy(s->raw, acq->data, sizeof(*s->raw) * need);
        mr_prewhiten_apply(s->pw, s->raw, ns);
    }

    const int64_t row = (int64_t)h->idx.kspace_encode_step_1 + s->ky_offset;
    if (row < 0 || row >= s->h) {
        st = MR_FAIL(MR_ERR_DATA,
                     "stage: line kspace_encode_step_1 = %u (scan_counter %u) lands on row "
                     "%lld, outside the %lld rows of the matrix",
                     h->idx.kspace_encode_step_1, h->scan_counter, (long long)row,
                     (long long)s->h);
        goto out;
    }
    const struct mr_readout_line line = {
        .samples = ns,
        .discard_pre = h->discard_pre,
        .discard_post = h->discard_post,
        .center_sample = h->center_sample,
        .reverse = flag(h, ISMRMRD_ACQ_IS_REVERSE),
    };
    st = mr_readout_process(s->ro, &line, s->raw, s->rs);
    if (st != MR_OK) {
        mr_fail_context(st, "stage: acquisition scan_counter %u", h->scan_counter);
        goto out;
    }
    const struct slice_key key = {
        .slice = h->idx.slice,
        .contrast = h->idx.contrast,
        .phase = h->idx.phase,
        .repetition = h->idx.repetition,
        .set = h->idx.set,
    };
    const bool cal_only = flag(h, ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION);
    const bool cal = cal_only || flag(h, ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING);
    if (cal && s->needs_maps) {
        struct buf *b = NULL;
        MR_CHECK(buf_get(s, &key, true, &b));
        buf_add_line(s, b, row);
    }
    if (!cal_only) {
        struct buf *b = NULL;
        MR_CHECK(buf_get(s, &key, false, &b));
        if (b->fresh || (row == s->h / 2 && !b->have_center)) {
            b->head = *h; /* reference header: the centre row's, else the first line's */
            b->have_center = row == s->h / 2;
            b->fresh = false;
        }
        buf_add_line(s, b, row);
        if (flag(h, ISMRMRD_ACQ_LAST_IN_SLICE))
            MR_CHECK(recon_buffer(s, b));
    }
    if (flag(h, ISMRMRD_ACQ_LAST_IN_REPETITION))
        MR_CHECK(recon_open(s, false, h->idx.repetition));
    if (last_meas)
        MR_CHECK(recon_open(s, true, 0));
out:
    return st;
}

mr_status mr_stage_close(struct mr_stage *s)
{
    return recon_open(s, true, 0);
}

const struct mr_trust_report *mr_stage_report(const struct mr_stage *s)
{
    return s->report;
}

bool mr_stage_trust_reference(const struct mr_stage *s, struct mr_trust_reference *ref)
{
    return s->pipe != NULL && mr_pipeline_trust_reference(s->pipe, ref);
}
