/*
 * The public API's masks and metrics (mrirecon.h): sampling/mask_spec.h, sampling/mask_stats.h
 * and sampling/metrics.h on caller memory.
 */
#include "api/mrirecon.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "recon/array.h"
#include "sampling/mask_spec.h"
#include "sampling/mask_stats.h"
#include "sampling/metrics.h"

/* n >= 1 images of h × w floats, without overflowing a byte count. */
static mr_status check_sizes(const char *fn, int64_t n, int64_t h, int64_t w)
{
    if (n < 1 || h < 1 || w < 1 || h > INT64_MAX / w || n > INT64_MAX / (h * w) / 8)
        return MR_FAIL(MR_ERR_ARG, "%s: sizes %lld x %lld x %lld", fn, (long long)n,
                       (long long)h, (long long)w);
    return MR_OK;
}

mrirecon_status mrirecon_mask_generate(const char *spec, int64_t h, int64_t w,
                                       const char *seed_name, float *mask,
                                       struct mrirecon_mask_info *info)
{
    mr_status st = MR_OK;
    struct mr_mask_spec s;
    struct mr_mask_result r;
    struct mr_array m = { 0 };

    if (spec == NULL || mask == NULL)
        return (mrirecon_status)MR_FAIL(MR_ERR_ARG, "mrirecon_mask_generate: %s is NULL",
                                        spec == NULL ? "the spec" : "mask");
    MR_CHECK(check_sizes("mrirecon_mask_generate", 1, h, w));
    MR_CHECK(mr_mask_spec_parse(spec, &s));
    MR_CHECK(mr_mask_spec_generate(&s, h, w, seed_name, &m, NULL, &r));
    memcpy(mask, m.data, mr_array_nbytes(&m));
    if (info != NULL) {
        info->accel = r.accel;
        info->center = r.center;
        info->low_frequencies = r.nlow;
        info->points = r.points;
        info->columns = mr_mask_kind_is_1d(s.kind) ? 1 : 0;
    }
out:
    mr_array_cleanup(&m);
    return (mrirecon_status)st;
}

mrirecon_status mrirecon_mask_stats(const float *mask, int64_t h, int64_t w,
                                    struct mrirecon_mask_stats *out)
{
    struct mr_mask_stats s;
    struct mr_array m;

    if (mask == NULL || out == NULL)
        return (mrirecon_status)MR_FAIL(MR_ERR_ARG, "mrirecon_mask_stats: %s is NULL",
                                        mask == NULL ? "mask" : "out");
    mr_status st = check_sizes("mrirecon_mask_stats", 1, h, w);
    if (st != MR_OK)
        return (mrirecon_status)st;
    const int64_t dims[2] = { h, w };
    mr_array_wrap(&m, MR_DTYPE_F32, 2, dims, (void *)mask);
    st = mr_mask_stats_compute(&m, &s);
    if (st != MR_OK)
        return (mrirecon_status)st;
    *out = (struct mrirecon_mask_stats){
        .sampled = s.sampled,
        .total = s.total,
        .fraction = s.fraction,
        .accel = s.accel,
        .columns = s.columns ? 1 : 0,
        .center_cols = s.center_cols,
        .center_h = s.center_h,
        .center_w = s.center_w,
        .psf_peak_sidelobe = s.psf_peak_sidelobe,
        .psf_incoherence = s.psf_incoherence,
    };
    return MRIRECON_OK;
}

/* Views of two (slices, h, w) volumes after checking the arguments. */
static mr_status wrap_volumes(const char *fn, const float *target, const float *pred,
                              int64_t slices, int64_t h, int64_t w, const void *out,
                              struct mr_array *t, struct mr_array *p)
{
    if (target == NULL || pred == NULL || out == NULL)
        return MR_FAIL(MR_ERR_ARG, "%s: %s is NULL", fn,
                       target == NULL ? "target" : pred == NULL ? "pred" : "the output");
    mr_status st = check_sizes(fn, slices, h, w);
    if (st != MR_OK)
        return st;
    const int64_t dims[3] = { slices, h, w };
    mr_array_wrap(t, MR_DTYPE_F32, 3, dims, (void *)target);
    mr_array_wrap(p, MR_DTYPE_F32, 3, dims, (void *)pred);
    return MR_OK;
}

static void metrics_out(const struct mr_metrics *m, struct mrirecon_metrics *out)
{
    out->nmse = m->nmse;
    out->psnr = m->psnr;
    out->ssim = m->ssim;
}

mrirecon_status mrirecon_metrics_fastmri(const float *target, const float *pred,
                                         int64_t slices, int64_t h, int64_t w,
                                         struct mrirecon_metrics *out)
{
    struct mr_array t;
    struct mr_array p;
    struct mr_metrics m;

    mr_status st = wrap_volumes("mrirecon_metrics_fastmri", target, pred, slices, h, w, out, &t,
                                &p);
    if (st == MR_OK)
        st = mr_metrics_fastmri(&t, &p, &m);
    if (st == MR_OK)
        metrics_out(&m, out);
    return (mrirecon_status)st;
}

mrirecon_status mrirecon_metrics_atommic(const float *target, const float *pred,
                                         int64_t slices, int64_t h, int64_t w,
                                         struct mrirecon_metrics *per_slice)
{
    mr_status st = MR_OK;
    struct mr_array t;
    struct mr_array p;
    struct mr_metrics *ms = NULL;

    MR_CHECK(wrap_volumes("mrirecon_metrics_atommic", target, pred, slices, h, w, per_slice,
                          &t, &p));
    ms = calloc((size_t)slices, sizeof(*ms));
    if (ms == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "mrirecon_metrics_atommic: metrics of %lld slices",
                     (long long)slices);
        goto out;
    }
    MR_CHECK(mr_metrics_atommic(&t, &p, ms));
    for (int64_t s = 0; s < slices; s++)
        metrics_out(&ms[s], &per_slice[s]);
out:
    free(ms);
    return (mrirecon_status)st;
}
