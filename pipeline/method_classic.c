/* The classical rows of the method table: zf, sense, cg and cs of recon/classic.h. */
#include <complex.h>
#include <stdlib.h>

#include "pipeline/method_rows.h"
#include "recon/combine.h"
#include "recon/dc.h"

struct classic_method {
    struct mr_classic *ctx;
    enum mr_classic_method method;
    struct mr_array img; /* (H, W) CF32 */
    struct mr_array coil; /* (C, H, W) CF32: F(S x) for the report */
    struct mr_fft2 *fft;  /* the classic config's FFT, for the report */
};

static void classic_free(void *ctx)
{
    struct classic_method *m = ctx;
    if (m == NULL)
        return;
    mr_classic_free(m->ctx);
    mr_array_cleanup(&m->img);
    mr_array_cleanup(&m->coil);
    mr_fft2_free(m->fft);
    free(m);
}

static mr_status classic_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                                int64_t w, void **out)
{
    mr_status st = MR_OK;
    struct classic_method *m = calloc(1, sizeof(*m));
    struct mr_classic_config ccfg = cfg->classic;

    if (m == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "method '%s'", cfg->name);
    MR_CHECK(mr_classic_method_parse(cfg->name, &ccfg.method));
    /* the pipeline brings the maps, but for "acs", where the method estimates (and refines) */
    ccfg.maps_always_given = cfg->maps != MR_MAPS_ACS;
    m->method = ccfg.method;
    MR_CHECK(mr_classic_create(nc, h, w, &ccfg, &m->ctx));
    MR_CHECK(mr_array_init_dims(&m->img, MR_DTYPE_CF32, 2, h, w));
    if (m->method != MR_CLASSIC_ZF) {
        MR_CHECK(mr_array_init_dims(&m->coil, MR_DTYPE_CF32, 3, nc, h, w));
        MR_CHECK(mr_fft2_create(h, w, &ccfg.fft, &m->fft));
    }
    *out = m;
    m = NULL;
out:
    classic_free(m);
    return st;
}

static bool classic_needs_maps(const void *ctx)
{
    const struct classic_method *m = ctx;
    return m->method != MR_CLASSIC_ZF;
}

/* the report's numbers of the result: the estimate is S x in the coil images (k = F(S x));
 * zero-filling keeps the measured k-space as it is (residual 0, nothing added) */
static void report_result(struct classic_method *m, const struct mr_slice *s,
                          const struct mr_probe *probe)
{
    const int64_t nc = s->ksp->dims[0];
    const int64_t npix = s->ksp->dims[1] * s->ksp->dims[2];
    const struct mr_array *maps = s->maps != NULL ? s->maps : mr_classic_maps(m->ctx);

    if (m->method == MR_CLASSIC_ZF) {
        mr_dc_emit(probe, 0, mr_array_cf32(s->ksp), mr_array_cf32(s->ksp), NULL, nc, npix);
        return;
    }
    if (maps == NULL)
        return;
    mr_coil_expand(&m->coil, &m->img, maps);
    mr_fft2_forward(m->fft, mr_array_cf32(&m->coil), mr_array_cf32(&m->coil), nc);
    mr_dc_emit(probe, 0, mr_array_cf32(&m->coil), mr_array_cf32(s->ksp), mr_array_f32(s->mask),
               nc, npix);
}

static mr_status classic_run(void *ctx, const struct mr_slice *s, struct mr_array *mag,
                             const struct mr_probe *probe)
{
    struct classic_method *m = ctx;
    mr_status st = mr_classic_run(m->ctx, s->ksp, s->mask, s->maps, &m->img);
    if (st != MR_OK)
        return st;
    if (mr_probe_wants_values(probe))
        report_result(m, s, probe);
    const float complex *x = mr_array_cf32(&m->img);
    float *g = mr_array_f32(mag);
    const int64_t n = mr_array_numel(mag);
    for (int64_t i = 0; i < n; i++)
        g[i] = cabsf(x[i]);
    return MR_OK;
}

#define CLASSIC_ROW(row, text)                                                                \
    const struct mr_method_ops mr_method_##row = {                                           \
        .name = #row, .summary = text, .create = classic_create,                              \
        .needs_maps = classic_needs_maps, .run = classic_run, .free = classic_free,           \
    }

CLASSIC_ROW(zf, "zero-filled, root sum of squares of the coil images");
CLASSIC_ROW(sense, "zero-filled, SENSE (Roemer) coil combination with the maps");
CLASSIC_ROW(cg, "CG-SENSE, Tikhonov-regularised (iterations, lambda)");
CLASSIC_ROW(cs, "L1-wavelet compressed sensing by FISTA (iterations, lambda)");
