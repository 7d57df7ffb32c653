/*
 * The public API's reconstruction calls (mrirecon.h): a method handle is a pipeline
 * (pipeline/pipeline.h) made from a method spec; caller memory is wrapped as engine arrays
 * (no copies); whole files go through pipeline/volume.h.
 */
#include "api/mrirecon.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "pipeline/volume.h"
#include "recon/array.h"

struct mrirecon_method {
    struct mr_pipeline *p;
    struct mr_trust_report *report; /* of the last run */
    bool reported;                  /* report holds a run's */
    char *report_json;              /* mrirecon_method_report's text (made on demand) */
    int64_t nc;
    int64_t h;
    int64_t w;
};

/* The engine's method config of a spec (pipeline/method.h mr_method_config_parse). */
static mr_status parse_spec(const char *spec, struct mr_method_config *cfg)
{
    if (spec == NULL)
        return MR_FAIL(MR_ERR_ARG, "no method spec (NULL)");
    mr_method_config_init(cfg);
    return mr_method_config_parse(cfg, spec);
}

mrirecon_status mrirecon_method_create(const char *spec, int64_t coils, int64_t h, int64_t w,
                                       struct mrirecon_method **out)
{
    mr_status st = MR_OK;
    struct mr_method_config cfg;
    struct mrirecon_method *m = NULL;

    if (out == NULL)
        return (mrirecon_status)MR_FAIL(MR_ERR_ARG, "mrirecon_method_create: out is NULL");
    *out = NULL;
    MR_CHECK(parse_spec(spec, &cfg));
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "method handle for '%s'", spec);
        goto out;
    }
    MR_CHECK(mr_pipeline_create(&cfg, coils, h, w, &m->p));
    m->nc = coils;
    m->h = h;
    m->w = w;
    *out = m;
    m = NULL;
out:
    mrirecon_method_free(m);
    return (mrirecon_status)st;
}

void mrirecon_method_free(struct mrirecon_method *m)
{
    if (m == NULL)
        return;
    mr_pipeline_free(m->p);
    free(m->report);
    free(m->report_json);
    free(m);
}

const char *mrirecon_method_label(const struct mrirecon_method *m)
{
    return mr_pipeline_label(m->p);
}

int mrirecon_method_needs_maps(const struct mrirecon_method *m)
{
    return mr_pipeline_needs_maps(m->p) ? 1 : 0;
}

void mrirecon_method_size(const struct mrirecon_method *m, int64_t *coils, int64_t *h,
                          int64_t *w)
{
    if (coils != NULL)
        *coils = m->nc;
    if (h != NULL)
        *h = m->h;
    if (w != NULL)
        *w = m->w;
}

/* Views of caller memory in the sizes the method was made for (the engine reads its inputs
 * only: the casts drop const for the array struct, not for the data's use). */
static void wrap_coils(const struct mrirecon_method *m, struct mr_array *a, const float *data)
{
    const int64_t dims[3] = { m->nc, m->h, m->w };
    mr_array_wrap(a, MR_DTYPE_CF32, 3, dims, (void *)data);
}

static void wrap_image(const struct mrirecon_method *m, struct mr_array *a, const float *data)
{
    const int64_t dims[2] = { m->h, m->w };
    mr_array_wrap(a, MR_DTYPE_F32, 2, dims, (void *)data);
}

/* Views of one slice's k-space and mask, after checking the arguments of fn (out, named
 * out_name, is the call's output). */
static mr_status slice_views(const char *fn, const struct mrirecon_method *m, const float *ksp,
                             const float *mask, const void *out, const char *out_name,
                             struct mr_array *k, struct mr_array *mk)
{
    if (m == NULL || ksp == NULL || mask == NULL || out == NULL)
        return MR_FAIL(MR_ERR_ARG, "%s: %s is NULL", fn,
                       m == NULL       ? "the method"
                       : ksp == NULL  ? "ksp"
                       : mask == NULL ? "mask"
                                      : out_name);
    wrap_coils(m, k, ksp);
    wrap_image(m, mk, mask);
    return MR_OK;
}

mrirecon_status mrirecon_method_run(struct mrirecon_method *m, const float *ksp,
                                    const float *mask, const float *maps, float *image)
{
    struct mr_array k;
    struct mr_array mk;
    struct mr_array s;
    struct mr_array img;

    mr_status st = slice_views("mrirecon_method_run", m, ksp, mask, image, "image", &k, &mk);
    if (st != MR_OK)
        return (mrirecon_status)st;
    wrap_image(m, &img, image);
    if (maps != NULL)
        wrap_coils(m, &s, maps);
    const struct mr_slice slice = { .ksp = &k, .mask = &mk, .maps = maps != NULL ? &s : NULL };
    if (m->report == NULL && (m->report = malloc(sizeof(*m->report))) == NULL)
        return (mrirecon_status)MR_FAIL(MR_ERR_NOMEM, "mrirecon_method_run: trust report");
    m->reported = false;
    free(m->report_json);
    m->report_json = NULL;
    st = mr_pipeline_run_report(m->p, &slice, &img, m->report);
    m->reported = st == MR_OK;
    return (mrirecon_status)st;
}

const char *mrirecon_method_report(struct mrirecon_method *m)
{
    if (m == NULL || !m->reported)
        return NULL;
    if (m->report_json == NULL)
        m->report_json = mr_trust_report_json(m->report);
    return m->report_json;
}

mrirecon_status mrirecon_method_maps(struct mrirecon_method *m, const float *ksp,
                                     const float *mask, float *maps)
{
    struct mr_array k;
    struct mr_array mk;
    struct mr_array s;

    mr_status st = slice_views("mrirecon_method_maps", m, ksp, mask, maps, "maps", &k, &mk);
    if (st == MR_OK)
        st = mr_array_check_finite(&k, "k-space");
    if (st != MR_OK)
        return (mrirecon_status)st;
    wrap_coils(m, &s, maps);
    return (mrirecon_status)mr_pipeline_maps(m->p, &k, &mk, &s);
}

/* A decimal integer in [lo, hi] that is the whole of s. */
static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "A:B" with 0 <= A < B */
static bool parse_slices(const char *s, int64_t *a, int64_t *b)
{
    char first[32];
    const char *colon = strchr(s, ':');
    long long x;
    long long y;
    if (colon == NULL || (size_t)(colon - s) >= sizeof(first))
        return false;
    memcpy(first, s, (size_t)(colon - s));
    first[colon - s] = '\0';
    if (!parse_int(first, 0, INT64_MAX - 1, &x) || !parse_int(colon + 1, x + 1, INT64_MAX, &y))
        return false;
    *a = x;
    *b = y;
    return true;
}

/* The key, value pairs of mrirecon_volume_reconstruct over *cfg. */
static mr_status volume_options(struct mr_volume_config *cfg, const char *const *options)
{
    long long v;
    for (size_t i = 0; options != NULL && options[i] != NULL; i += 2) {
        const char *key = options[i];
        const char *value = options[i + 1];
        if (value == NULL)
            return MR_FAIL(MR_ERR_ARG, "option '%s' has no value (options are key, value "
                           "pairs ending in NULL)", key);
        if (strcmp(key, "mask") == 0) {
            cfg->mask_path = value;
        } else if (strcmp(key, "slices") == 0) {
            if (!parse_slices(value, &cfg->slice0, &cfg->slice1))
                return MR_FAIL(MR_ERR_ARG, "option slices='%s': expected A:B with 0 <= A < B",
                               value);
        } else if (strcmp(key, "crop") == 0) {
            if (!parse_int(value, 0, 1, &v))
                return MR_FAIL(MR_ERR_ARG, "option crop='%s': expected 0 or 1", value);
            cfg->crop = v == 1;
        } else if (strcmp(key, "series") == 0) {
            if (!parse_int(value, 0, UINT16_MAX, &v))
                return MR_FAIL(MR_ERR_ARG, "option series='%s': expected 0 .. 65535", value);
            cfg->image_series_index = (uint16_t)v;
        } else {
            return MR_FAIL(MR_ERR_ARG, "unknown option '%s' (known: mask, slices, crop, "
                           "series)", key);
        }
    }
    return MR_OK;
}

mrirecon_status mrirecon_volume_reconstruct(const char *spec, const char *in, const char *out,
                                            const char *const *options, int64_t *images)
{
    mr_status st = MR_OK;
    struct mr_volume_config cfg;
    struct mr_volume_result res;

    if (in == NULL || out == NULL)
        return (mrirecon_status)MR_FAIL(MR_ERR_ARG, "mrirecon_volume_reconstruct: %s is NULL",
                                        in == NULL ? "the input path" : "the output path");
    mr_volume_config_init(&cfg);
    MR_CHECK(parse_spec(spec, &cfg.method));
    MR_CHECK(volume_options(&cfg, options));
    MR_CHECK(mr_volume_reconstruct(&cfg, in, out, &res));
    if (images != NULL)
        *images = res.images;
out:
    return (mrirecon_status)st;
}
