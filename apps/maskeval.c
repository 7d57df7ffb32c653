/*
 * Offline evaluation of sampling masks over a dataset (see maskeval.h): retrospective
 * undersampling, classical (and later learned) reconstruction, fastMRI metrics against the
 * fully sampled RSS, a resumable CSV, a JSON summary and an HTML report (apps/report.h).
 *
 * Threads: the slices of one volume are independent work items shared out by OpenMP; each
 * thread owns its buffers, FFT plan and method contexts (made once per volume, planned under
 * the FFTW lock inside recon/). HDF5 reads go through omp critical(mr_hdf5); the row table,
 * progress bar and checkpoints through omp critical(mr_maskeval_rows).
 */
#include "apps/maskeval.h"

#include "apps/net_recon.h"
#include "io/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <omp.h>

#include "apps/recon_output.h"
#include "apps/report.h"
#include "io/fastmri.h"
#include "io/h5.h"
#include "io/npy.h"
#include "io/png.h"
#include "recon/fft.h"
#include "sampling/mask_stats.h"
#include "sampling/metrics.h"
#include "recon/clock.h"

const struct mr_maskeval_config mr_maskeval_config_default = {
    .slice0 = -1,
    .slice1 = -1,
    .jobs = 0,
    .gallery = 3,
    .checkpoint_s = 10.0,
    /* mr_espirit_config_default (bart ecalib -m1) with crop 0: maps everywhere, as the
     * reference SENSE/CS reconstructions of this project use them */
    .espirit = { .calib = { 24, 24 }, .kernel = { 6, 6 }, .threshold = 0.001f, .crop = 0.0f,
                 .soft_crop = false, .iters = 30, .rotate_phase = true },
};

#define SLEN 1200     /* report strings */
#define ERR_SCALE 0.2 /* error maps span [0, ERR_SCALE * target window] */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b != NULL ? b + 1 : path;
}

/* FNV-1a, for stable picture names */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s != NULL ? s : "");
    char *d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s != NULL ? s : "", n + 1);
    return d;
}

/* ---- methods ------------------------------------------------------------------------------ */

struct classic_ctx {
    struct mr_classic *c;
    struct mr_array img; /* (H, W) CF32 */
};

static void classic_free(void *ctx)
{
    struct classic_ctx *c = ctx;
    if (c == NULL)
        return;
    mr_classic_free(c->c);
    mr_array_cleanup(&c->img);
    free(c);
}

static mr_status classic_create(const struct mr_maskeval_method *m, int64_t nc, int64_t h,
                                int64_t w, void **out)
{
    mr_status st = MR_OK;
    struct classic_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "method '%s'", m->label);
    MR_CHECK(mr_classic_create(nc, h, w, &m->classic, &c->c));
    MR_CHECK(mr_array_init_dims(&c->img, MR_DTYPE_CF32, 2, h, w));
    *out = c;
    c = NULL;
out:
    classic_free(c);
    return st;
}

static mr_status classic_run(void *ctx, const struct mr_array *ksp, const struct mr_array *mask,
                             const struct mr_array *maps, struct mr_array *mag)
{
    struct classic_ctx *c = ctx;
    mr_status st = mr_classic_run(c->c, ksp, mask, maps, &c->img);
    if (st != MR_OK)
        return st;
    const float complex *x = mr_array_cf32(&c->img);
    float *m = mr_array_f32(mag);
    for (int64_t i = 0; i < mr_array_numel(mag); i++)
        m[i] = cabsf(x[i]);
    return MR_OK;
}

static const struct mr_maskeval_method_ops zf_ops = {
    .name = "zf", .needs_maps = false, .create = classic_create, .run = classic_run,
    .free = classic_free,
};
static const struct mr_maskeval_method_ops sense_ops = {
    .name = "sense", .needs_maps = true, .create = classic_create, .run = classic_run,
    .free = classic_free,
};

/* weight files: apps/net_recon.h (maps estimated inside when the network takes them) */
static mr_status network_create(const struct mr_maskeval_method *m, int64_t nc, int64_t h,
                                 int64_t w, void **out)
{
    struct mr_net_recon_config cfg = mr_net_recon_config_default;
    struct mr_net_recon *r = NULL;

    *out = NULL;
    if (m->weights[0] == '\0')
        return MR_FAIL(MR_ERR_UNSUPPORTED, "method '%s': pnp-lpn needs an LPN weight file "
                       "(give its path as the method)", m->label);
    cfg.weights = m->weights;
    cfg.classic = &m->classic;
    mr_status st = mr_net_recon_create(&cfg, nc, h, w, &r);
    if (st != MR_OK)
        return mr_fail_context(st, "method '%s'", m->label);
    *out = r;
    return MR_OK;
}

/* networks that take maps get the slice's shared ESPIRiT maps (computed once per mask) */
static bool network_wants_maps(void *ctx)
{
    return mr_net_recon_needs_maps(ctx);
}

static mr_status network_run(void *ctx, const struct mr_array *ksp, const struct mr_array *mask,
                             const struct mr_array *maps, struct mr_array *mag)
{
    return mr_net_recon_run(ctx, ksp, mask, maps, mag);
}

static void network_free(void *ctx)
{
    mr_net_recon_free(ctx);
}

const struct mr_maskeval_method_ops mr_maskeval_network_ops = {
    .name = "network", .needs_maps = false, .wants_maps = network_wants_maps,
    .create = network_create, .run = network_run,
    .free = network_free,
};

mr_status mr_maskeval_method_parse(const char *s, struct mr_maskeval_method *out)
{
    struct mr_maskeval_method m;
    memset(&m, 0, sizeof(m));
    if (strlen(s) == 0 || strlen(s) >= sizeof(m.label))
        return MR_FAIL(MR_ERR_ARG, "method '%s': expected zf, sense, cg, cs, pnp-lpn or a "
                       "weight file .h5", s);
    snprintf(m.label, sizeof(m.label), "%s", s);
    m.classic = mr_classic_config_default;
    if (ends_with(s, ".h5") || strncmp(s, "pnp-lpn", 7) == 0) {
        /* "W.h5" (any network, or an LPN: PnP) or "pnp-lpn:W.h5" */
        const char *w = strncmp(s, "pnp-lpn:", 8) == 0 ? s + 8 : s;
        m.ops = &mr_maskeval_network_ops;
        if (ends_with(w, ".h5") && strlen(w) < sizeof(m.weights))
            snprintf(m.weights, sizeof(m.weights), "%s", w);
        *out = m;
        return MR_OK;
    }
    const char *colon = strchr(s, ':');
    char name[16];
    size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
    if (n >= sizeof(name))
        return MR_FAIL(MR_ERR_ARG, "method '%s': expected zf, sense, cg, cs, pnp-lpn or a "
                       "weight file .h5", s);
    memcpy(name, s, n);
    name[n] = '\0';
    if (mr_classic_method_parse(name, &m.classic.method) != MR_OK)
        return MR_FAIL(MR_ERR_ARG, "method '%s': expected zf, sense, cg, cs, pnp-lpn or a "
                       "weight file .h5", s);
    m.ops = m.classic.method == MR_CLASSIC_ZF ? &zf_ops : &sense_ops;
    const char *p = colon != NULL ? colon + 1 : s + n;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        char kv[64];
        if ((size_t)(end - p) >= sizeof(kv))
            return MR_FAIL(MR_ERR_ARG, "method '%s': option '%.*s' too long", s,
                           (int)(end - p), p);
        memcpy(kv, p, (size_t)(end - p));
        kv[end - p] = '\0';
        char *eq = strchr(kv, '=');
        char *e = NULL;
        if (eq != NULL)
            *eq = '\0';
        if (eq != NULL && strcmp(kv, "iters") == 0 && m.classic.method >= MR_CLASSIC_CG) {
            long v = strtol(eq + 1, &e, 10);
            if (e == eq + 1 || *e != '\0' || v < 1 || v > 100000)
                return MR_FAIL(MR_ERR_ARG, "method '%s': iters needs a positive integer", s);
            m.classic.cg_iters = (int)v;
            m.classic.cs.iters = (int)v;
        } else if (eq != NULL && strcmp(kv, "lambda") == 0 &&
                   m.classic.method >= MR_CLASSIC_CG) {
            float v = strtof(eq + 1, &e);
            if (e == eq + 1 || *e != '\0' || !(v >= 0.0f))
                return MR_FAIL(MR_ERR_ARG, "method '%s': lambda needs a number >= 0", s);
            m.classic.cg_lambda = v;
            m.classic.cs.lambda = v;
        } else {
            return MR_FAIL(MR_ERR_ARG, "method '%s': unknown option '%s' (cg and cs take "
                           "iters=N and lambda=L)", s, kv);
        }
        p = comma != NULL ? comma + 1 : end;
    }
    *out = m;
    return MR_OK;
}

/* ---- masks -------------------------------------------------------------------------------- */

mr_status mr_maskeval_mask_parse(const char *s, struct mr_maskeval_mask *out)
{
    struct mr_maskeval_mask m;
    memset(&m, 0, sizeof(m));
    if (strlen(s) == 0 || strlen(s) >= sizeof(m.label))
        return MR_FAIL(MR_ERR_ARG, "mask '%s': expected a mask spec or a .npy file", s);
    snprintf(m.label, sizeof(m.label), "%s", s);
    if (ends_with(s, ".npy")) {
        m.is_file = true;
    } else {
        mr_status st = mr_mask_spec_parse(s, &m.spec);
        if (st != MR_OK)
            return st;
    }
    *out = m;
    return MR_OK;
}

static const char *mask_kind(const struct mr_maskeval_mask *m)
{
    return m->is_file ? "file" : mr_mask_kind_name(m->spec.kind);
}

/* (H, W) 0/1 mask from a .npy file holding a length-W column mask or an (H, W) mask */
static mr_status load_mask_file(const char *path, int64_t h, int64_t w, struct mr_array *mask)
{
    mr_status st = MR_OK;
    struct mr_array m = { 0 };
    char buf[96];

    MR_CHECK(mr_npy_read(path, &m));
    if (m.dtype != MR_DTYPE_F32) {
        st = MR_FAIL(MR_ERR_FORMAT, "mask '%s' is complex; expected real or boolean", path);
        goto out;
    }
    MR_CHECK(mr_array_init_dims(mask, MR_DTYPE_F32, 2, h, w));
    const float *src = mr_array_f32(&m);
    float *dst = mr_array_f32(mask);
    if ((m.ndim == 1 && m.dims[0] == w) || (m.ndim == 2 && m.dims[0] == 1 && m.dims[1] == w)) {
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                dst[y * w + x] = src[x] != 0.0f ? 1.0f : 0.0f;
    } else if (m.ndim == 2 && m.dims[0] == h && m.dims[1] == w) {
        for (int64_t i = 0; i < h * w; i++)
            dst[i] = src[i] != 0.0f ? 1.0f : 0.0f;
    } else {
        st = MR_FAIL(MR_ERR_SHAPE, "mask '%s' has shape %s; k-space of %lld x %lld needs "
                     "(%lld,) or (%lld, %lld)", path,
                     mr_dims_str(m.ndim, m.dims, buf, sizeof(buf)), (long long)h, (long long)w,
                     (long long)w, (long long)h, (long long)w);
        goto out;
    }
out:
    mr_array_cleanup(&m);
    if (st != MR_OK)
        mr_array_cleanup(mask);
    return st;
}

/* ---- inputs ------------------------------------------------------------------------------- */

static bool fastmri_probe(const char *path)
{
    struct mr_h5 *h = NULL;
    if (mr_h5_open(path, &h) != MR_OK)
        return false;
    bool ok = mr_h5_exists(h, "kspace");
    mr_h5_close(h);
    return ok;
}

static mr_status fastmri_open(const char *path, void **ctx, struct mr_maskeval_volume_info *vi)
{
    struct mr_fastmri *f = NULL;
    mr_status st = mr_fastmri_open(path, &f);
    if (st != MR_OK)
        return st;
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    struct mr_recon_output_shape shape;
    mr_recon_output_shape_init(&shape, in, in->h, in->w, true);
    vi->slices = in->slices;
    vi->coils = in->coils;
    vi->h = in->h;
    vi->w = in->w;
    vi->recon_h = shape.h;
    vi->recon_w = shape.w;
    *ctx = f;
    return MR_OK;
}

static mr_status fastmri_read_slice(void *ctx, int64_t slice, struct mr_array *ksp)
{
    return mr_fastmri_read_kspace(ctx, slice, ksp);
}

static void fastmri_close(void *ctx)
{
    mr_fastmri_close(ctx);
}

static const struct mr_maskeval_source_ops fastmri_source = {
    .name = "fastmri", .probe = fastmri_probe, .open = fastmri_open,
    .read_slice = fastmri_read_slice, .close = fastmri_close,
};

/* Readers tried in order; the ISMRMRD dataset reader goes here. */
static const struct mr_maskeval_source_ops *const sources[] = { &fastmri_source };

static mr_status source_open(const char *path, const struct mr_maskeval_source_ops **ops,
                             void **ctx, struct mr_maskeval_volume_info *vi)
{
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (sources[i]->probe(path)) {
            *ops = sources[i];
            return sources[i]->open(path, ctx, vi);
        }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    fclose(f);
    return MR_FAIL(MR_ERR_FORMAT, "'%s' is not a fastMRI k-space file (no 'kspace' dataset)",
                   path);
}

struct strlist {
    char **v;
    size_t n;
    size_t cap;
};

static mr_status strlist_add(struct strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap > 0 ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "file list");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = dup_str(s);
    if (l->v[l->n] == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "file list");
    l->n++;
    return MR_OK;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* files as given; folders expanded to their *.h5 files, sorted */
static mr_status expand_inputs(const struct mr_maskeval_config *cfg, struct strlist *files)
{
    for (int i = 0; i < cfg->ninputs; i++) {
        const char *in = cfg->inputs[i];
        struct stat sb;
        if (stat(in, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            mr_status st = strlist_add(files, in);
            if (st != MR_OK)
                return st;
            continue;
        }
        DIR *d = opendir(in);
        if (d == NULL)
            return MR_FAIL(MR_ERR_IO, "cannot read folder '%s': %s", in, strerror(errno));
        size_t first = files->n;
        struct dirent *e;
        mr_status st = MR_OK;
        while (st == MR_OK && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || !ends_with(e->d_name, ".h5"))
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s%s%s", in, ends_with(in, "/") ? "" : "/",
                     e->d_name);
            st = strlist_add(files, path);
        }
        closedir(d);
        if (st != MR_OK)
            return st;
        if (files->n == first)
            return MR_FAIL(MR_ERR_ARG, "folder '%s' has no .h5 files", in);
        qsort(files->v + first, files->n - first, sizeof(char *), cmp_str);
    }
    return MR_OK;
}

/* ---- rows --------------------------------------------------------------------------------- */

struct row {
    const char *file; /* owned by the table (freed there) */
    int64_t slice;
    const char *mask;
    const char *method;
    double accel;
    bool ok;
    double nmse;
    double psnr;
    double ssim;
    double time_s;
    const char *error;
    int64_t seq;     /* insertion order: a later row replaces an earlier one with its key */
    int mask_ord;    /* index in the configuration (or nmasks) for sorting */
    int method_ord;
};

struct rowtab {
    struct row *v;
    size_t n;
    size_t cap;
    int64_t seq;
};

struct rowkey {
    const char *file;
    int64_t slice;
    const char *mask;
    const char *method;
};

static int cmp_key(const struct rowkey *a, const struct rowkey *b)
{
    int c = strcmp(a->file, b->file);
    if (c != 0)
        return c;
    if (a->slice != b->slice)
        return a->slice < b->slice ? -1 : 1;
    c = strcmp(a->mask, b->mask);
    return c != 0 ? c : strcmp(a->method, b->method);
}

static int cmp_key_v(const void *a, const void *b)
{
    return cmp_key(a, b);
}

static void rowtab_free(struct rowtab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free((char *)t->v[i].file);
        free((char *)t->v[i].mask);
        free((char *)t->v[i].method);
        free((char *)t->v[i].error);
    }
    free(t->v);
    memset(t, 0, sizeof(*t));
}

/* Appends a copy of r (strings duplicated). */
static mr_status rowtab_add(struct rowtab *t, const struct row *r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap > 0 ? 2 * t->cap : 256;
        struct row *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "result rows");
        t->v = v;
        t->cap = cap;
    }
    struct row c = *r;
    c.file = dup_str(r->file);
    c.mask = dup_str(r->mask);
    c.method = dup_str(r->method);
    c.error = dup_str(r->error);
    c.seq = t->seq++;
    if (c.file == NULL || c.mask == NULL || c.method == NULL || c.error == NULL) {
        free((char *)c.file);
        free((char *)c.mask);
        free((char *)c.method);
        free((char *)c.error);
        return MR_FAIL(MR_ERR_NOMEM, "result rows");
    }
    t->v[t->n++] = c;
    return MR_OK;
}

static const char csv_header[] = "file,slice,mask,method,accel,status,nmse,psnr,ssim,time_s,error";
#define CSV_COLS 11

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Parses one CSV record at *p into fields (pointers into buf, modified in place); advances *p.
 * Returns the number of fields, -1 for a malformed record. */
static int csv_record(char **p, char **fields, int maxf)
{
    char *s = *p;
    int n = 0;
    for (;;) {
        if (n == maxf)
            return -1;
        char *out = s;
        fields[n++] = out;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '\0')
                    return -1;
                if (*s == '"' && s[1] == '"') {
                    *out++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *out++ = *s++;
                }
            }
        } else {
            while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r')
                *out++ = *s++;
        }
        char sep = *s;
        *out = '\0'; /* may overwrite the separator itself (out == s): use sep from here */
        if (sep == ',') {
            s++;
            continue;
        }
        if (sep != '\0' && sep != '\n' && sep != '\r')
            return -1; /* text after a closing quote */
        if (sep != '\0')
            s++;
        if (sep == '\r' && *s == '\n')
            s++;
        *p = s;
        return n;
    }
}

static double parse_num(const char *s)
{
    if (*s == '\0')
        return (double)NAN;
    if (strcmp(s, "inf") == 0)
        return INFINITY;
    return strtod(s, NULL);
}

/* Loads an existing results.csv (absent: nothing). */
static mr_status load_csv(const char *path, struct rowtab *t)
{
    mr_status st = MR_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return MR_OK;
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot read '%s'", path);
        goto out;
    }
    long size = ftell(f);
    rewind(f);
    buf = malloc((size_t)(size > 0 ? size : 0) + 1);
    if (buf == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "reading '%s'", path);
        goto out;
    }
    if (size < 0 || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = MR_FAIL(MR_ERR_IO, "cannot read '%s'", path);
        goto out;
    }
    buf[size] = '\0';
    if (size == 0)
        goto out;
    char *p = buf;
    char *fl[CSV_COLS + 1];
    int nf = csv_record(&p, fl, CSV_COLS + 1);
    char hdr[sizeof(csv_header)];
    hdr[0] = '\0';
    for (int i = 0; i < nf && nf == CSV_COLS; i++) {
        strncat(hdr, fl[i], sizeof(hdr) - strlen(hdr) - 1);
        if (i + 1 < nf)
            strncat(hdr, ",", sizeof(hdr) - strlen(hdr) - 1);
    }
    if (nf != CSV_COLS || strcmp(hdr, csv_header) != 0) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not a maskeval results file (header should be "
                     "'%s')", path, csv_header);
        goto out;
    }
    int line = 1;
    while (*p != '\0') {
        line++;
        if (*p == '\n') {
            p++;
            continue;
        }
        nf = csv_record(&p, fl, CSV_COLS + 1);
        if (nf != CSV_COLS) {
            st = MR_FAIL(MR_ERR_FORMAT, "'%s' record %d: expected %d fields", path, line,
                         CSV_COLS);
            goto out;
        }
        struct row r = {
            .file = fl[0], .slice = strtoll(fl[1], NULL, 10), .mask = fl[2], .method = fl[3],
            .accel = parse_num(fl[4]), .ok = strcmp(fl[5], "ok") == 0, .nmse = parse_num(fl[6]),
            .psnr = parse_num(fl[7]), .ssim = parse_num(fl[8]), .time_s = parse_num(fl[9]),
            .error = fl[10],
        };
        MR_CHECK(rowtab_add(t, &r));
    }
out:
    free(buf);
    fclose(f);
    return st;
}

static int cmp_row_ptr(const void *a, const void *b)
{
    const struct row *x = *(const struct row *const *)a;
    const struct row *y = *(const struct row *const *)b;
    int c = strcmp(x->file, y->file);
    if (c != 0)
        return c;
    if (x->slice != y->slice)
        return x->slice < y->slice ? -1 : 1;
    if (x->mask_ord != y->mask_ord)
        return x->mask_ord < y->mask_ord ? -1 : 1;
    if ((c = strcmp(x->mask, y->mask)) != 0)
        return c;
    if (x->method_ord != y->method_ord)
        return x->method_ord < y->method_ord ? -1 : 1;
    if ((c = strcmp(x->method, y->method)) != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

static bool same_key(const struct row *a, const struct row *b)
{
    return strcmp(a->file, b->file) == 0 && a->slice == b->slice &&
           strcmp(a->mask, b->mask) == 0 && strcmp(a->method, b->method) == 0;
}

/* The latest row of every key, sorted; *out malloc'd array of pointers into t. */
static mr_status latest_rows(const struct rowtab *t, const struct row ***out, size_t *n)
{
    const struct row **v = malloc((t->n > 0 ? t->n : 1) * sizeof(*v));
    if (v == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "result rows");
    for (size_t i = 0; i < t->n; i++)
        v[i] = &t->v[i];
    qsort(v, t->n, sizeof(*v), cmp_row_ptr);
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (i + 1 < t->n && same_key(v[i], v[i + 1]))
            continue; /* a later row with the same key follows */
        v[k++] = v[i];
    }
    *out = v;
    *n = k;
    return MR_OK;
}

static void fmt_num(char *buf, size_t len, double v, const char *fmt)
{
    if (isnan(v))
        buf[0] = '\0';
    else if (isinf(v))
        snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, len, fmt, v);
}

static mr_status write_csv(const char *path, const struct rowtab *t)
{
    const struct row **v = NULL;
    size_t n = 0;
    struct mr_atomic_file af = { 0 };
    mr_status st = latest_rows(t, &v, &n);
    if (st != MR_OK)
        return st;
    st = mr_atomic_file_open(&af, path);
    if (st != MR_OK) {
        free(v);
        return st;
    }
    FILE *f = af.f;
    fprintf(f, "%s\n", csv_header);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = v[i];
        char a[32];
        char b[32];
        char c[32];
        char d[32];
        char e[32];
        csv_field(f, r->file);
        fprintf(f, ",%lld,", (long long)r->slice);
        csv_field(f, r->mask);
        fputc(',', f);
        csv_field(f, r->method);
        fmt_num(a, sizeof(a), r->accel, "%.6g");
        fmt_num(b, sizeof(b), r->nmse, "%.8g");
        fmt_num(c, sizeof(c), r->psnr, "%.8g");
        fmt_num(d, sizeof(d), r->ssim, "%.8g");
        fmt_num(e, sizeof(e), r->time_s, "%.3f");
        fprintf(f, ",%s,%s,%s,%s,%s,%s,", a, r->ok ? "ok" : "error", b, c, d, e);
        csv_field(f, r->error);
        fputc('\n', f);
    }
    free(v);
    return mr_atomic_file_commit(&af);
}

/* ---- the run ------------------------------------------------------------------------------ */

struct vol_mask {
    struct mr_array mask; /* (H, W) 0/1 */
    mr_status st;
    char err[512];
    double accel;
};

struct report_mask_info {
    bool done;
    char mask_png[64];
    char psf_png[64];
    struct mr_mask_stats stats;
    int64_t w; /* picture width */
    char note[600];
};

struct gallery_slice {
    int file;
    int64_t slice;
};

struct run {
    const struct mr_maskeval_config *cfg;
    struct strlist files;
    struct mr_maskeval_volume_info *infos;
    mr_status *open_st;
    char (*open_err)[512];
    struct rowtab rows;
    struct rowkey *done; /* sorted keys of ok rows from the previous run */
    size_t ndone;
    struct report_mask_info *rmasks;
    struct gallery_slice *gallery;
    int ngallery;
    char csv_path[4200];
    /* progress */
    int64_t total;
    int64_t finished;
    double t0;
    double last_print;
    double last_checkpoint;
    int fatal; /* mr_status of an error that stops the run; read and written atomically */
    struct mr_maskeval_counts counts;
};

static bool row_done(const struct run *R, const char *file, int64_t slice, const char *mask,
                     const char *method)
{
    struct rowkey k = { file, slice, mask, method };
    return R->ndone > 0 &&
           bsearch(&k, R->done, R->ndone, sizeof(k), cmp_key_v) != NULL;
}

static mr_status build_done(struct run *R)
{
    R->done = malloc((R->rows.n > 0 ? R->rows.n : 1) * sizeof(*R->done));
    if (R->done == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "result rows");
    for (size_t i = 0; i < R->rows.n; i++) {
        const struct row *r = &R->rows.v[i];
        if (r->ok)
            R->done[R->ndone++] = (struct rowkey){ r->file, r->slice, r->mask, r->method };
    }
    qsort(R->done, R->ndone, sizeof(*R->done), cmp_key_v);
    return MR_OK;
}

static void format_time(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void progress(struct run *R, bool final)
{
    if (R->cfg->quiet || R->total == 0)
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

/* Records a row (thread-safe). */
static void add_row(struct run *R, int fi, int64_t slice, int mi, int ji, double accel,
                    const struct mr_metrics *m, double time_s, const char *error)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    struct row r = {
        .file = R->files.v[fi], .slice = slice,
        .mask = mi >= 0 ? cfg->masks[mi].label : "*",
        .method = ji >= 0 ? cfg->methods[ji].label : "*",
        .accel = accel, .ok = error == NULL, .nmse = m != NULL ? m->nmse : (double)NAN,
        .psnr = m != NULL ? m->psnr : (double)NAN, .ssim = m != NULL ? m->ssim : (double)NAN,
        .time_s = time_s, .error = error != NULL ? error : "",
        .mask_ord = mi >= 0 ? mi : cfg->nmasks, .method_ord = ji >= 0 ? ji : cfg->nmethods,
    };
#pragma omp critical(mr_maskeval_rows)
    {
        mr_status st = rowtab_add(&R->rows, &r);
        if (st != MR_OK) {
#pragma omp atomic write
            R->fatal = (int)st;
        }
        R->counts.computed++;
        R->finished++;
        progress(R, false);
    }
}

/* Periodic checkpoint and progress (thread-safe). */
static void after_item(struct run *R)
{
#pragma omp critical(mr_maskeval_rows)
    {
        double now = mr_clock_now_s();
        int fatal;
#pragma omp atomic read
        fatal = R->fatal;
        if (now - R->last_checkpoint >= R->cfg->checkpoint_s && fatal == MR_OK) {
            R->last_checkpoint = now;
            mr_status st = write_csv(R->csv_path, &R->rows);
            if (st != MR_OK) {
#pragma omp atomic write
                R->fatal = (int)st;
            }
        }
        progress(R, false);
    }
}

/* Per-thread buffers and method contexts for one volume. */
struct worker {
    struct mr_fft2 *fft;
    struct mr_array ksp;  /* (C, H, W) fully sampled */
    struct mr_array ku;   /* undersampled */
    struct mr_array coil; /* coil images */
    struct mr_array maps;
    struct mr_array mag;  /* (H, W) */
    struct mr_array rss;  /* (H, W) */
    struct mr_array tgt;  /* (ch, cw) */
    struct mr_array pred; /* (ch, cw) */
    struct mr_array err;  /* (ch, cw) */
    void **mctx;
    mr_status *mst;
    char (*merr)[512];
    int nmethods;
};

static void worker_cleanup(struct worker *w, const struct mr_maskeval_config *cfg)
{
    for (int j = 0; j < w->nmethods; j++)
        if (w->mctx != NULL && w->mctx[j] != NULL)
            cfg->methods[j].ops->free(w->mctx[j]);
    free(w->mctx);
    free(w->mst);
    free(w->merr);
    mr_fft2_free(w->fft);
    mr_array_cleanup(&w->ksp);
    mr_array_cleanup(&w->ku);
    mr_array_cleanup(&w->coil);
    mr_array_cleanup(&w->maps);
    mr_array_cleanup(&w->mag);
    mr_array_cleanup(&w->rss);
    mr_array_cleanup(&w->tgt);
    mr_array_cleanup(&w->pred);
    mr_array_cleanup(&w->err);
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

static mr_status worker_init(struct worker *w, const struct mr_maskeval_config *cfg,
                             const struct mr_maskeval_volume_info *vi)
{
    mr_status st = MR_OK;
    int64_t ch;
    int64_t cw;
    score_crop(vi, &ch, &cw);
    memset(w, 0, sizeof(*w));
    w->nmethods = cfg->nmethods;
    w->mctx = calloc((size_t)cfg->nmethods, sizeof(*w->mctx));
    w->mst = calloc((size_t)cfg->nmethods, sizeof(*w->mst));
    w->merr = calloc((size_t)cfg->nmethods, sizeof(*w->merr));
    if (w->mctx == NULL || w->mst == NULL || w->merr == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "maskeval worker");
    MR_CHECK(mr_fft2_create(vi->h, vi->w, &mr_fft_config_default, &w->fft));
    MR_CHECK(mr_array_init_dims(&w->ksp, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->ku, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->coil, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->maps, MR_DTYPE_CF32, 3, vi->coils, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->mag, MR_DTYPE_F32, 2, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->rss, MR_DTYPE_F32, 2, vi->h, vi->w));
    MR_CHECK(mr_array_init_dims(&w->tgt, MR_DTYPE_F32, 2, ch, cw));
    MR_CHECK(mr_array_init_dims(&w->pred, MR_DTYPE_F32, 2, ch, cw));
    MR_CHECK(mr_array_init_dims(&w->err, MR_DTYPE_F32, 2, ch, cw));
    /* a method that cannot be made for this size fails its rows, not the run */
    for (int j = 0; j < cfg->nmethods; j++) {
        const struct mr_maskeval_method *m = &cfg->methods[j];
        w->mst[j] = m->ops->create(m, vi->coils, vi->h, vi->w, &w->mctx[j]);
        if (w->mst[j] != MR_OK)
            snprintf(w->merr[j], sizeof(w->merr[j]), "%s", mr_last_error());
    }
out:
    return st;
}

static bool is_gallery(const struct run *R, int fi, int64_t slice)
{
    for (int g = 0; g < R->ngallery; g++)
        if (R->gallery[g].file == fi && R->gallery[g].slice == slice)
            return true;
    return false;
}

static void gallery_name(char *buf, size_t len, const char *outdir, const char *file,
                         int64_t slice, const char *mask, const char *method, const char *what)
{
    if (mask == NULL)
        snprintf(buf, len, "%s%sgallery/%012llx_s%lld_%s.png", outdir != NULL ? outdir : "",
                 outdir != NULL ? "/" : "", (unsigned long long)(hash_str(file) >> 16),
                 (long long)slice, what);
    else
        snprintf(buf, len, "%s%sgallery/%012llx_s%lld_%012llx_%012llx_%s.png",
                 outdir != NULL ? outdir : "", outdir != NULL ? "/" : "",
                 (unsigned long long)(hash_str(file) >> 16), (long long)slice,
                 (unsigned long long)(hash_str(mask) >> 16),
                 (unsigned long long)(hash_str(method) >> 16), what);
}

/* One work item: every pending (mask, method) row of one slice. */
static void process_slice(struct run *R, struct worker *w, int fi, int64_t slice,
                          const struct mr_maskeval_source_ops *src, void *sctx,
                          const struct vol_mask *vm, const struct mr_maskeval_volume_info *vi)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const char *file = R->files.v[fi];
    mr_status st = MR_OK;
    char msg[600];
    const bool gallery = is_gallery(R, fi, slice);
    char path[4600];

#pragma omp critical(mr_hdf5)
    st = src->read_slice(sctx, slice, &w->ksp);
    if (st != MR_OK) {
        snprintf(msg, sizeof(msg), "%s", mr_last_error());
        for (int mi = 0; mi < cfg->nmasks; mi++)
            for (int ji = 0; ji < cfg->nmethods; ji++)
                if (!row_done(R, file, slice, cfg->masks[mi].label, cfg->methods[ji].label))
                    add_row(R, fi, slice, mi, ji, vm[mi].accel, NULL, (double)NAN, msg);
        return;
    }
    /* target: RSS of the fully sampled coil images, cropped as fastMRI does */
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
    float lo = 0.0f;
    float hi = 1.0f;
    if (gallery) { /* a picture that cannot be written shows as missing in the report */
        (void)mr_png_auto_window(&w->tgt, 99.5, &lo, &hi);
        gallery_name(path, sizeof(path), cfg->outdir, file, slice, NULL, NULL, "target");
        (void)mr_report_write_gray_png(path, &w->tgt, lo, hi);
    }
    const int64_t ch = w->tgt.dims[0];
    const int64_t cw = w->tgt.dims[1];
    struct mr_array t3;
    struct mr_array p3;
    mr_array_wrap(&t3, MR_DTYPE_F32, 3, (const int64_t[]){ 1, ch, cw }, w->tgt.data);
    mr_array_wrap(&p3, MR_DTYPE_F32, 3, (const int64_t[]){ 1, ch, cw }, w->pred.data);

    for (int mi = 0; mi < cfg->nmasks; mi++) {
        const struct mr_maskeval_mask *mk = &cfg->masks[mi];
        bool maps_done = false;
        mr_status maps_st = MR_OK;
        double maps_time = 0.0;
        char maps_err[600];
        maps_err[0] = '\0';
        for (int ji = 0; ji < cfg->nmethods; ji++) {
            const struct mr_maskeval_method *me = &cfg->methods[ji];
            if (row_done(R, file, slice, mk->label, me->label))
                continue;
            if (vm[mi].st != MR_OK) {
                add_row(R, fi, slice, mi, ji, (double)NAN, NULL, (double)NAN, vm[mi].err);
                continue;
            }
            if (w->mst[ji] != MR_OK) {
                add_row(R, fi, slice, mi, ji, vm[mi].accel, NULL, (double)NAN, w->merr[ji]);
                continue;
            }
            double t = mr_clock_now_s();
            if (!maps_done) { /* undersample once per mask: +0.0 off the mask (fastMRI) */
                const float *m = mr_array_f32(&vm[mi].mask);
                const float complex *k = mr_array_cf32(&w->ksp);
                float complex *u = mr_array_cf32(&w->ku);
                for (int64_t c = 0; c < nc; c++)
                    for (int64_t i = 0; i < n; i++)
                        u[c * n + i] = m[i] != 0.0f ? k[c * n + i] : 0.0f;
            }
            const bool need = me->ops->needs_maps ||
                              (me->ops->wants_maps != NULL && me->ops->wants_maps(w->mctx[ji]));
            if (need && !maps_done) {
                maps_st = mr_espirit_maps(&cfg->espirit, &w->ku, &w->maps);
                if (maps_st != MR_OK)
                    snprintf(maps_err, sizeof(maps_err), "ESPIRiT maps: %s", mr_last_error());
                maps_time = mr_clock_now_s() - t;
                t = mr_clock_now_s();
            }
            maps_done = maps_done || need;
            if (need && maps_st != MR_OK) {
                add_row(R, fi, slice, mi, ji, vm[mi].accel, NULL, (double)NAN, maps_err);
                continue;
            }
            st = me->ops->run(w->mctx[ji], &w->ku, &vm[mi].mask,
                              need ? &w->maps : NULL, &w->mag);
            if (st != MR_OK) {
                snprintf(msg, sizeof(msg), "%s", mr_last_error());
                add_row(R, fi, slice, mi, ji, vm[mi].accel, NULL, (double)NAN, msg);
                continue;
            }
            crop_to(&w->pred, &w->mag, vi);
            struct mr_metrics met;
            st = mr_metrics_fastmri(&t3, &p3, &met);
            double dt = mr_clock_now_s() - t + (need ? maps_time : 0.0);
            if (st != MR_OK) {
                snprintf(msg, sizeof(msg), "metrics: %s", mr_last_error());
                add_row(R, fi, slice, mi, ji, vm[mi].accel, NULL, dt, msg);
                continue;
            }
            if (gallery) {
                const float *a = mr_array_f32(&w->pred);
                const float *b = mr_array_f32(&w->tgt);
                float *e = mr_array_f32(&w->err);
                for (int64_t i = 0; i < ch * cw; i++)
                    e[i] = fabsf(a[i] - b[i]);
                gallery_name(path, sizeof(path), cfg->outdir, file, slice, mk->label, me->label,
                             "recon");
                (void)mr_report_write_gray_png(path, &w->pred, lo, hi);
                gallery_name(path, sizeof(path), cfg->outdir, file, slice, mk->label, me->label,
                             "err");
                (void)mr_report_write_color_png(path, &w->err, 0.0f,
                                                (float)(ERR_SCALE * (double)hi));
            }
            add_row(R, fi, slice, mi, ji, vm[mi].accel, &met, dt, NULL);
        }
    }
}

/* Generates or loads every mask for one volume; writes the report pictures once per mask. */
static void prepare_masks(struct run *R, int fi, const struct mr_maskeval_volume_info *vi,
                          struct vol_mask *vm)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const char *file = R->files.v[fi];
    for (int mi = 0; mi < cfg->nmasks; mi++) {
        const struct mr_maskeval_mask *mk = &cfg->masks[mi];
        struct mr_mask_stats stats;
        mr_status st;
        vm[mi].accel = (double)NAN;
        if (mk->is_file)
            st = load_mask_file(mk->label, vi->h, vi->w, &vm[mi].mask);
        else
            st = mr_mask_spec_generate(&mk->spec, vi->h, vi->w, base_name(file), &vm[mi].mask,
                                       NULL, NULL);
        if (st == MR_OK)
            st = mr_mask_stats_compute(&vm[mi].mask, &stats);
        vm[mi].st = st;
        if (st != MR_OK) {
            snprintf(vm[mi].err, sizeof(vm[mi].err), "mask: %s", mr_last_error());
            continue;
        }
        vm[mi].accel = stats.accel;
        struct report_mask_info *rm = &R->rmasks[mi];
        if (rm->done)
            continue;
        char path[4300];
        uint64_t hsh = hash_str(mk->label) >> 16;
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
                 (long long)vi->w, base_name(file));
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

static mr_status process_file(struct run *R, int fi)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    const char *file = R->files.v[fi];
    const struct mr_maskeval_volume_info *vi = &R->infos[fi];
    const struct mr_maskeval_source_ops *src = NULL;
    void *sctx = NULL;
    struct vol_mask *vm = NULL;
    int64_t *items = NULL;
    int64_t nitems = 0;
    int64_t s0;
    int64_t s1;
    mr_status st = MR_OK;

    if (R->open_st[fi] != MR_OK) { /* could not be opened in the survey: one row per pair */
        for (int mi = 0; mi < cfg->nmasks; mi++)
            for (int ji = 0; ji < cfg->nmethods; ji++)
                if (!row_done(R, file, -1, cfg->masks[mi].label, cfg->methods[ji].label))
                    add_row(R, fi, -1, mi, ji, (double)NAN, NULL, (double)NAN, R->open_err[fi]);
        after_item(R);
        return MR_OK;
    }
    slice_range(cfg, vi->slices, &s0, &s1);
    items = calloc((size_t)(s1 - s0 + 1), sizeof(*items));
    vm = calloc((size_t)cfg->nmasks, sizeof(*vm));
    if (items == NULL || vm == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "work list of '%s'", file);
        goto out;
    }
    for (int64_t s = s0; s < s1; s++) {
        bool pending = false;
        for (int mi = 0; mi < cfg->nmasks && !pending; mi++)
            for (int ji = 0; ji < cfg->nmethods && !pending; ji++)
                pending = !row_done(R, file, s, cfg->masks[mi].label, cfg->methods[ji].label);
        if (pending)
            items[nitems++] = s;
    }
    prepare_masks(R, fi, vi, vm);
    if (nitems == 0)
        goto out;
    st = source_open(file, &src, &sctx, &(struct mr_maskeval_volume_info){ 0 });
    if (st != MR_OK) { /* it opened in the survey: report and keep going */
        char msg[600];
        snprintf(msg, sizeof(msg), "%s", mr_last_error());
        for (int64_t i = 0; i < nitems; i++)
            for (int mi = 0; mi < cfg->nmasks; mi++)
                for (int ji = 0; ji < cfg->nmethods; ji++)
                    if (!row_done(R, file, items[i], cfg->masks[mi].label,
                                  cfg->methods[ji].label))
                        add_row(R, fi, items[i], mi, ji, vm[mi].accel, NULL, (double)NAN, msg);
        st = MR_OK;
        goto out;
    }
    int nthreads = cfg->jobs > 0 ? cfg->jobs : omp_get_max_threads();
    if (nthreads > nitems)
        nthreads = (int)nitems;
#pragma omp parallel num_threads(nthreads)
    {
        struct worker w;
        mr_status wst = worker_init(&w, cfg, vi);
        if (wst != MR_OK) {
#pragma omp atomic write
            R->fatal = (int)wst;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < nitems; i++) {
            int fatal;
#pragma omp atomic read
            fatal = R->fatal;
            if (wst != MR_OK || fatal != MR_OK)
                continue;
            process_slice(R, &w, fi, items[i], src, sctx, vm, vi);
            after_item(R);
        }
        worker_cleanup(&w, cfg);
    }
    st = (mr_status)R->fatal;
out:
    if (src != NULL)
        src->close(sctx);
    if (vm != NULL)
        for (int mi = 0; mi < cfg->nmasks; mi++)
            mr_array_cleanup(&vm[mi].mask);
    free(vm);
    free(items);
    return st;
}

/* Opens every volume once to learn its size (and count the work for the progress bar). */
static mr_status survey(struct run *R)
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
        mr_status st = source_open(file, &src, &sctx, &R->infos[fi]);
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
            R->gallery[R->ngallery++] = (struct gallery_slice){ (int)fi, s0 + (s1 - s0) / 2 };
        for (int64_t s = s0; s < s1; s++)
            for (int mi = 0; mi < cfg->nmasks; mi++)
                for (int ji = 0; ji < cfg->nmethods; ji++) {
                    if (row_done(R, file, s, cfg->masks[mi].label, cfg->methods[ji].label))
                        R->counts.skipped++;
                    else
                        R->total++;
                }
    }
    return MR_OK;
}

static bool file_in_run(const struct run *R, const char *file)
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
static mr_status summarise(struct run *R, const struct row *const *v, size_t n,
                           struct mr_report_cell *cells)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    double *buf = malloc((n > 0 ? n : 1) * 5 * sizeof(double));
    if (buf == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "summary");
    R->counts.rows = 0;
    R->counts.failed = 0;
    for (int mi = 0; mi < cfg->nmasks; mi++)
        for (int ji = 0; ji < cfg->nmethods; ji++) {
            struct mr_report_cell *c = &cells[mi * cfg->nmethods + ji];
            double *col[5];
            int64_t k = 0;
            for (int q = 0; q < 5; q++)
                col[q] = buf + (size_t)q * (n > 0 ? n : 1);
            memset(c, 0, sizeof(*c));
            c->mask = cfg->masks[mi].label;
            c->kind = mask_kind(&cfg->masks[mi]);
            c->method = cfg->methods[ji].label;
            for (size_t i = 0; i < n; i++) {
                const struct row *r = v[i];
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
                k++;
            }
            c->n = k;
            double sd;
            for (int q = 0; q < 3; q++)
                mean_std(col[q], k, &c->mean[q], &c->std[q]);
            mean_std(col[3], k, &c->accel, &sd);
            mean_std(col[4], k, &c->time_s, &sd);
        }
    free(buf);
    return MR_OK;
}

static mr_status write_summary(const struct run *R, const struct mr_report_cell *cells,
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

static const struct row *find_row(const struct row *const *v, size_t n, const char *file,
                                  int64_t slice, const char *mask, const char *method)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]->slice == slice && strcmp(v[i]->file, file) == 0 &&
            strcmp(v[i]->mask, mask) == 0 && strcmp(v[i]->method, method) == 0)
            return v[i];
    return NULL;
}

static mr_status write_report(struct run *R, const struct row *const *v, size_t n,
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
        const struct report_mask_info *ri = &R->rmasks[mi];
        rm[mi].label = cfg->masks[mi].label;
        rm[mi].kind = mask_kind(&cfg->masks[mi]);
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
        gallery_name(tp, SLEN, NULL, file, slice, NULL, NULL, "target");
        gr[g].title = title;
        gr[g].target_png = tp;
        gr[g].images = im + g * per;
        gr[g].nimages = per;
        for (int mi = 0; mi < cfg->nmasks; mi++)
            for (int ji = 0; ji < cfg->nmethods; ji++) {
                struct mr_report_image *x = &im[g * per + mi * cfg->nmethods + ji];
                const char *ml = cfg->masks[mi].label;
                const char *jl = cfg->methods[ji].label;
                const struct row *r = find_row(v, n, file, slice, ml, jl);
                char *cap = STR();
                char *note = STR();
                char *png = STR();
                char *epng = STR();
                snprintf(cap, SLEN, "%s · %s", ml, jl);
                x->caption = cap;
                gallery_name(png, SLEN, NULL, file, slice, ml, jl, "recon");
                gallery_name(epng, SLEN, NULL, file, slice, ml, jl, "err");
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
        const struct row *r = v[i];
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
        .err_scale = ERR_SCALE,
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

/* Sort keys of rows loaded from an old CSV. */
static void set_orders(struct run *R)
{
    const struct mr_maskeval_config *cfg = R->cfg;
    for (size_t i = 0; i < R->rows.n; i++) {
        struct row *r = &R->rows.v[i];
        r->mask_ord = cfg->nmasks;
        r->method_ord = cfg->nmethods;
        for (int mi = 0; mi < cfg->nmasks; mi++)
            if (strcmp(r->mask, cfg->masks[mi].label) == 0)
                r->mask_ord = mi;
        for (int ji = 0; ji < cfg->nmethods; ji++)
            if (strcmp(r->method, cfg->methods[ji].label) == 0)
                r->method_ord = ji;
    }
}

mr_status mr_maskeval_run(const struct mr_maskeval_config *cfg,
                          struct mr_maskeval_counts *counts)
{
    mr_status st = MR_OK;
    struct run R;
    const struct row **latest = NULL;
    size_t nlatest = 0;
    struct mr_report_cell *cells = NULL;
    char path[4300];

    memset(&R, 0, sizeof(R));
    R.cfg = cfg;
    if (cfg->ninputs < 1 || cfg->nmasks < 1 || cfg->nmethods < 1 || cfg->outdir == NULL)
        return MR_FAIL(MR_ERR_ARG, "maskeval needs at least one input, mask and method and an "
                       "output folder");
    snprintf(path, sizeof(path), "%s/masks/x", cfg->outdir);
    MR_CHECK(mr_make_parent_dirs(path));
    snprintf(path, sizeof(path), "%s/gallery/x", cfg->outdir);
    MR_CHECK(mr_make_parent_dirs(path));
    if (snprintf(R.csv_path, sizeof(R.csv_path), "%s/results.csv", cfg->outdir) >=
        (int)sizeof(R.csv_path)) {
        st = MR_FAIL(MR_ERR_ARG, "output folder name '%s' is too long", cfg->outdir);
        goto out;
    }
    R.rmasks = calloc((size_t)cfg->nmasks, sizeof(*R.rmasks));
    cells = calloc((size_t)(cfg->nmasks * cfg->nmethods), sizeof(*cells));
    if (R.rmasks == NULL || cells == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "maskeval tables");
        goto out;
    }
    MR_CHECK(load_csv(R.csv_path, &R.rows));
    set_orders(&R);
    MR_CHECK(build_done(&R));
    MR_CHECK(expand_inputs(cfg, &R.files));
    MR_CHECK(survey(&R));

    R.t0 = mr_clock_now_s();
    R.last_checkpoint = R.t0;
    progress(&R, false);
    for (size_t fi = 0; fi < R.files.n; fi++)
        MR_CHECK(process_file(&R, (int)fi));
    progress(&R, true);

    MR_CHECK(write_csv(R.csv_path, &R.rows));
    MR_CHECK(latest_rows(&R.rows, &latest, &nlatest));
    MR_CHECK(summarise(&R, latest, nlatest, cells));
    snprintf(path, sizeof(path), "%s/summary.json", cfg->outdir);
    MR_CHECK(write_summary(&R, cells, cfg->nmasks * cfg->nmethods, path));
    MR_CHECK(write_report(&R, latest, nlatest, cells, cfg->nmasks * cfg->nmethods));
    if (counts != NULL)
        *counts = R.counts;
out:
    free(latest);
    free(cells);
    free(R.done);
    rowtab_free(&R.rows);
    strlist_free(&R.files);
    free(R.infos);
    free(R.open_st);
    free(R.open_err);
    free(R.rmasks);
    free(R.gallery);
    return st;
}
