/* The classical rows of the method table: zf, sense, cg and cs of recon/classic.h. */
#include <complex.h>
#include <stdlib.h>

#include "pipeline/method_rows.h"

struct classic_method {
    struct mr_classic *ctx;
    enum mr_classic_method method;
    struct mr_array img; /* (H, W) CF32 */
};

static void classic_free(void *ctx)
{
    struct classic_method *m = ctx;
    if (m == NULL)
        return;
    mr_classic_free(m->ctx);
    mr_array_cleanup(&m->img);
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
    m->method = ccfg.method;
    MR_CHECK(mr_classic_create(nc, h, w, &ccfg, &m->ctx));
    MR_CHECK(mr_array_init_dims(&m->img, MR_DTYPE_CF32, 2, h, w));
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

static mr_status classic_run(void *ctx, const struct mr_slice *s, struct mr_array *mag)
{
    struct classic_method *m = ctx;
    mr_status st = mr_classic_run(m->ctx, s->ksp, s->mask, s->maps, &m->img);
    if (st != MR_OK)
        return st;
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
