/* One slice through any method, with maps, range handling and output checks (pipeline.h). */
#include "pipeline/pipeline.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recon/coils.h"
#include "recon/espirit.h"

struct mr_pipeline {
    struct mr_method_config cfg;
    const struct mr_method_ops *ops;
    void *ctx;
    bool needs_maps;
    bool scales_with_data;
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_espirit_config espirit; /* cfg.espirit fitted to the matrix */
    struct mr_array maps;             /* (C, H, W) CF32 scratch, when the method needs maps */
    struct mr_coils *coils;           /* ACS maps for mr_pipeline_maps */
    struct mr_array scaled;           /* (C, H, W) CF32, made the first time k-space is out of
                                       * range (a rare path: allocated there, not at create) */
    struct mr_trust_reference ref;    /* the weight file's trust reference, when has_ref */
    bool has_ref;
    struct mr_pipeline *cg;           /* the CG-SENSE reference of the report (opt-in) */
    struct mr_trust_report *cg_report;
    struct mr_array cg_mag;
};

void mr_pipeline_free(struct mr_pipeline *p)
{
    if (p == NULL)
        return;
    if (p->ctx != NULL)
        p->ops->free(p->ctx);
    mr_array_cleanup(&p->maps);
    mr_array_cleanup(&p->scaled);
    mr_coils_free(p->coils);
    mr_pipeline_free(p->cg);
    free(p->cg_report);
    mr_array_cleanup(&p->cg_mag);
    free(p);
}

mr_status mr_pipeline_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                             int64_t w, struct mr_pipeline **out)
{
    mr_status st = MR_OK;
    struct mr_pipeline *p = NULL;
    char known[256];

    *out = NULL;
    const struct mr_method_ops *ops = mr_method_lookup(cfg->name);
    if (ops == NULL)
        return MR_FAIL(MR_ERR_ARG, "unknown method '%s' (known: %s)", cfg->name,
                       mr_method_names(known, sizeof(known)));
    if (ops->takes_weights && cfg->weights[0] == '\0')
        return MR_FAIL(MR_ERR_ARG, "method '%s' needs a weight file", cfg->name);
    if (!ops->takes_weights && cfg->weights[0] != '\0')
        return MR_FAIL(MR_ERR_ARG, "method '%s' takes no weight file (got '%s')", cfg->name,
                       cfg->weights);
    if (nc < 1 || h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "method '%s': k-space of %lld coils x %lld x %lld",
                       cfg->name, (long long)nc, (long long)h, (long long)w);
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "pipeline for method '%s'", cfg->name);
    p->cfg = *cfg;
    p->ops = ops;
    p->nc = nc;
    p->h = h;
    p->w = w;
    st = ops->create(&p->cfg, nc, h, w, &p->ctx);
    if (st != MR_OK) {
        p->ctx = NULL;
        mr_fail_context(st, "method '%s'", cfg->name);
        goto out;
    }
    if (ops->takes_weights) {
        st = mr_trust_reference_read(cfg->weights, &p->ref, &p->has_ref);
        if (st != MR_OK)
            goto out;
    }
    p->needs_maps = ops->needs_maps != NULL && ops->needs_maps(p->ctx);
    p->scales_with_data = ops->scales_with_data == NULL || ops->scales_with_data(p->ctx);
    /* ESPIRiT's kernel and calibration block cannot exceed a small matrix */
    p->espirit = cfg->espirit;
    for (int d = 0; d < 2; d++) {
        int64_t n = d == 0 ? h : w;
        if (p->espirit.kernel[d] > n)
            p->espirit.kernel[d] = n;
        if (p->espirit.calib[d] < p->espirit.kernel[d])
            p->espirit.calib[d] = p->espirit.kernel[d];
    }
    if (p->needs_maps && cfg->maps == MR_MAPS_ESPIRIT) /* the slice's own maps, computed here */
        MR_CHECK(mr_array_init_dims(&p->maps, MR_DTYPE_CF32, 3, nc, h, w));
    if (p->needs_maps && cfg->maps == MR_MAPS_ACS)
        MR_CHECK(mr_coils_create(nc, h, w, &cfg->classic.fft, &p->coils));
    *out = p;
    p = NULL;
out:
    mr_pipeline_free(p);
    return st;
}

bool mr_pipeline_needs_maps(const struct mr_pipeline *p)
{
    return p->needs_maps;
}

const char *mr_pipeline_label(const struct mr_pipeline *p)
{
    return p->ops->label != NULL ? p->ops->label(p->ctx) : p->ops->name;
}

const struct mr_method_config *mr_pipeline_config(const struct mr_pipeline *p)
{
    return &p->cfg;
}

mr_status mr_pipeline_maps(struct mr_pipeline *p, const struct mr_array *ksp,
                           const struct mr_array *mask, struct mr_array *maps)
{
    if (p->cfg.maps == MR_MAPS_ACS) {
        if (p->coils == NULL) {
            mr_status st = mr_coils_create(p->nc, p->h, p->w, &p->cfg.classic.fft, &p->coils);
            if (st != MR_OK)
                return st;
        }
        return mr_coils_estimate(p->coils, &p->cfg.classic.coils, ksp, mask, NULL, maps);
    }
    return mr_espirit_maps(&p->espirit, ksp, maps);
}

static mr_status check_shapes(const struct mr_pipeline *p, const struct mr_slice *s,
                              const struct mr_array *mag)
{
    const int64_t kd[3] = { p->nc, p->h, p->w };
    char a[96];
    char b[96];

    if (s->ksp == NULL || s->ksp->dtype != MR_DTYPE_CF32 || s->ksp->ndim != 3 ||
        memcmp(s->ksp->dims, kd, sizeof(kd)) != 0)
        return MR_FAIL(MR_ERR_SHAPE, "k-space %s; method '%s' was made for complex (%s)",
                       s->ksp != NULL ? mr_array_shape_str(s->ksp, a, sizeof(a)) : "missing",
                       p->cfg.name, mr_dims_str(3, kd, b, sizeof(b)));
    if (s->mask == NULL || s->mask->dtype != MR_DTYPE_F32 || s->mask->ndim != 2 ||
        s->mask->dims[0] != p->h || s->mask->dims[1] != p->w)
        return MR_FAIL(MR_ERR_SHAPE, "mask %s; expected real (%s)",
                       s->mask != NULL ? mr_array_shape_str(s->mask, a, sizeof(a)) : "missing",
                       mr_dims_str(2, kd + 1, b, sizeof(b)));
    if (s->maps != NULL && (s->maps->dtype != MR_DTYPE_CF32 || s->maps->ndim != 3 ||
                            memcmp(s->maps->dims, kd, sizeof(kd)) != 0))
        return MR_FAIL(MR_ERR_SHAPE, "coil maps %s; expected complex (%s)",
                       mr_array_shape_str(s->maps, a, sizeof(a)),
                       mr_dims_str(3, kd, b, sizeof(b)));
    if (mag->dtype != MR_DTYPE_F32 || mag->ndim != 2 || mag->dims[0] != p->h ||
        mag->dims[1] != p->w)
        return MR_FAIL(MR_ERR_SHAPE, "output image %s; expected real (%s)",
                       mr_array_shape_str(mag, a, sizeof(a)),
                       mr_dims_str(2, kd + 1, b, sizeof(b)));
    return MR_OK;
}

/* The largest |k| (the data are finite: checked before). */
static float max_abs(const struct mr_array *ksp)
{
    const float complex *k = mr_array_cf32(ksp);
    const int64_t n = mr_array_numel(ksp);
    float mx = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        /* |re| + |im| bounds |k| within √2 without the overflow of re² + im² */
        float a = fabsf(crealf(k[i])) + fabsf(cimagf(k[i]));
        mx = a > mx ? a : mx;
    }
    return mx;
}

/* Power-of-two factor that brings k-space of largest magnitude mx to about 1 (1 if mx is in
 * the safe range): multiplying by it is exact. */
static float range_scale(float mx)
{
    if (mx == 0.0f || (mx <= MR_KSPACE_SAFE_MAX && mx >= MR_KSPACE_SAFE_MIN))
        return 1.0f;
    return ldexpf(1.0f, -ilogbf(mx));
}

static mr_status check_image(const struct mr_pipeline *p, const struct mr_array *mag,
                             float kmax)
{
    const float *g = mr_array_f32(mag);
    bool nonzero = false;

    for (int64_t y = 0; y < p->h; y++)
        for (int64_t x = 0; x < p->w; x++) {
            float v = g[y * p->w + x];
            if (!isfinite(v))
                return MR_FAIL(MR_ERR_DATA, "method '%s' produced a non-finite image (%s at "
                               "row %lld, column %lld): nothing is written",
                               mr_pipeline_label(p), isnan(v) ? "NaN" : "Inf", (long long)y,
                               (long long)x);
            nonzero = nonzero || v != 0.0f;
        }
    if (!nonzero && kmax > 0.0f)
        return MR_FAIL(MR_ERR_DATA, "method '%s' produced an all-zero image from nonzero "
                       "k-space: nothing is written", mr_pipeline_label(p));
    return MR_OK;
}

mr_status mr_pipeline_set_trust(struct mr_pipeline *p, const struct mr_trust_config *tc)
{
    mr_status st = MR_OK;

    mr_pipeline_free(p->cg);
    free(p->cg_report);
    mr_array_cleanup(&p->cg_mag);
    p->cg = NULL;
    p->cg_report = NULL;
    if (!tc->cg_reference)
        return MR_OK;
    struct mr_method_config cg = p->cfg;
    snprintf(cg.name, sizeof(cg.name), "cg");
    cg.weights[0] = '\0';
    if (cg.maps == MR_MAPS_FILE)
        cg.maps = MR_MAPS_ESPIRIT; /* when the slice brings none */
    p->cg_report = malloc(sizeof(*p->cg_report));
    if (p->cg_report == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "CG-SENSE reference report");
    MR_CHECK(mr_pipeline_create(&cg, p->nc, p->h, p->w, &p->cg));
    MR_CHECK(mr_array_init_dims(&p->cg_mag, MR_DTYPE_F32, 2, p->h, p->w));
out:
    if (st != MR_OK)
        mr_fail_context(st, "the report's CG-SENSE reference");
    return st;
}

bool mr_pipeline_trust_reference(const struct mr_pipeline *p, struct mr_trust_reference *ref)
{
    if (p->has_ref && ref != NULL)
        *ref = p->ref;
    return p->has_ref;
}

mr_status mr_pipeline_run(struct mr_pipeline *p, const struct mr_slice *s, struct mr_array *mag)
{
    return mr_pipeline_run_report(p, s, mag, NULL);
}

mr_status mr_pipeline_run_report(struct mr_pipeline *p, const struct mr_slice *s,
                                 struct mr_array *mag, struct mr_trust_report *report)
{
    mr_status st = MR_OK;
    struct mr_slice in = *s;
    struct mr_probe probe = { 0 };

    if (report != NULL) {
        mr_trust_report_reset(report);
        probe = mr_trust_probe(report);
    }

    MR_CHECK(check_shapes(p, s, mag));
    MR_CHECK(mr_array_check_finite(s->ksp, "k-space"));
    const float kmax = max_abs(s->ksp);
    const float scale = range_scale(kmax);
    if (scale != 1.0f) {
        if (!p->scales_with_data) {
            st = MR_FAIL(MR_ERR_DATA, "k-space magnitudes up to %g are outside the range "
                         "[%g, %g] that method '%s' can use (its output does not scale with "
                         "its input, so it cannot be rescaled): scale the data",
                         (double)kmax, (double)MR_KSPACE_SAFE_MIN, (double)MR_KSPACE_SAFE_MAX,
                         mr_pipeline_label(p));
            goto out;
        }
        if (p->scaled.data == NULL)
            MR_CHECK(mr_array_init_like(&p->scaled, s->ksp));
        const float complex *k = mr_array_cf32(s->ksp);
        float complex *d = mr_array_cf32(&p->scaled);
        const int64_t n = mr_array_numel(s->ksp);
        for (int64_t i = 0; i < n; i++)
            d[i] = k[i] * scale;
        in.ksp = &p->scaled;
    }
    if (p->needs_maps && in.maps == NULL) {
        if (p->cfg.maps == MR_MAPS_FILE) {
            st = MR_FAIL(MR_ERR_ARG, "method '%s' needs coil maps and none were given",
                         mr_pipeline_label(p));
            goto out;
        }
        if (p->cfg.maps == MR_MAPS_ESPIRIT) {
            st = mr_espirit_maps(&p->espirit, in.ksp, &p->maps);
            if (st != MR_OK) {
                mr_fail_context(st, "ESPIRiT maps");
                goto out;
            }
            in.maps = &p->maps;
        }
        /* MR_MAPS_ACS: the method estimates them from the ACS */
    }
    MR_CHECK(p->ops->run(p->ctx, &in, mag, report != NULL ? &probe : NULL));
    if (scale != 1.0f) {
        float *g = mr_array_f32(mag);
        const int64_t n = mr_array_numel(mag);
        for (int64_t i = 0; i < n; i++)
            g[i] /= scale;
    }
    MR_CHECK(check_image(p, mag, kmax));
    if (report != NULL) {
        mr_trust_mask_features(mr_array_f32(s->mask), p->h, p->w, &report->mask_kind,
                               &report->accel);
        report->reduction = mr_trust_features_of(report).reduction;
        report->outlier = mr_trust_line_outlier((const float *)mr_array_cf32(s->ksp),
                                                mr_array_f32(s->mask),
                                                p->nc, p->h, p->w, report->mask_kind);
        if (p->has_ref)
            mr_trust_score(report, &p->ref);
        if (p->cg != NULL) { /* the same slice (and maps) by CG-SENSE */
            const struct mr_slice cs = { .ksp = s->ksp, .mask = s->mask, .maps = in.maps };
            st = mr_pipeline_run_report(p->cg, &cs, &p->cg_mag, p->cg_report);
            if (st != MR_OK) {
                mr_fail_context(st, "the report's CG-SENSE reference");
                goto out;
            }
            if (p->cg_report->unsampled > 0.0)
                report->unsampled_vs_cg = report->unsampled / p->cg_report->unsampled;
        }
    }
out:
    return st;
}
