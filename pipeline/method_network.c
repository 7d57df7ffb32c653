/*
 * The network rows of the method table: "model" (any network of networks/registry.c, from its
 * weight file, with the inference-time processing of its framework) and "pnp-lpn" (the same row
 * under the name users know for LPN plug-and-play).
 *  - networks that take sensitivity maps (ATOMMIC E2EVN, CIRIM): maps from the pipeline (given,
 *    or ESPIRiT), or with MR_MAPS_ACS the low-resolution ACS maps of recon/coils.h; k-space
 *    divided by s = max |SENSE zero-filled image| (ATOMMIC's max normalisation of the input),
 *    the output image multiplied by s again;
 *  - fastMRI E2EVN: the masked k-space as it is (its sensitivity U-Net estimates maps from the
 *    ACS columns); RSS image;
 *  - RecurrentVarNet: DIRECT's engine path (networks/direct_engine.h);
 *  - LPN (a prior): plug-and-play with SENSE data consistency (networks/lpn.h) on the maps,
 *    k-space normalised by max|Aᴴy|, the 128×128 patch grid extended to cover the borders.
 */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "networks/lpn.h"
#include "networks/net.h"
#include "pipeline/method_rows.h"
#include "weights/weights.h"

struct network_method {
    struct mr_weights *ws;
    struct mr_net *net;          /* a network, or */
    struct mr_lpn *lpn;          /* the LPN prior ... */
    struct mr_lpn_recon *pnp;    /* ... in its PnP solver */
    struct mr_classic *sense;    /* SENSE zero-filled: normalisation and ACS maps */
    bool needs_sens;
    bool scales;                 /* output scales with the input */
    struct mr_array out;
    struct mr_array scaled;
    struct mr_array img;
};

static void network_free(void *ctx)
{
    struct network_method *r = ctx;
    if (r == NULL)
        return;
    mr_net_free(r->net);
    mr_lpn_recon_free(r->pnp);
    mr_lpn_free(r->lpn);
    mr_weights_free(r->ws);
    mr_classic_free(r->sense);
    mr_array_cleanup(&r->out);
    mr_array_cleanup(&r->scaled);
    mr_array_cleanup(&r->img);
    free(r);
}

static mr_status network_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                                int64_t w, void **out)
{
    mr_status st = MR_OK;
    struct network_method *r = calloc(1, sizeof(*r));
    struct mr_classic_config zcfg = cfg->classic;

    if (r == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "network reconstruction context");
    MR_CHECK(mr_weights_load(cfg->weights, &r->ws));
    r->scales = true;
    if (strcmp(mr_weights_architecture(r->ws), "lpn") == 0) {
        struct mr_lpn_pnp_config pcfg = mr_lpn_pnp_config_default;
        MR_CHECK(mr_lpn_create(r->ws, &r->lpn));
        MR_CHECK(mr_lpn_pnp_config_read(mr_weights_config(r->ws), &pcfg));
        pcfg.normalize = true;
        pcfg.tiling.cover_border = true;
        if (pcfg.tiling.stride == 0)
            pcfg.tiling.stride = 64; /* the reference's stride; borders covered above */
        if (cfg->iterations > 0)
            pcfg.pnp.iters = cfg->iterations;
        MR_CHECK(mr_lpn_recon_create(r->lpn, &pcfg, nc, h, w, &r->pnp));
        r->needs_sens = true;
    } else {
        MR_CHECK(mr_net_create_from_weights(r->ws, &r->net));
        MR_CHECK(mr_net_prepare(r->net, nc, h, w));
        MR_CHECK(mr_net_output_init(r->net, &r->out));
        r->needs_sens = (mr_net_needs(r->net) & MR_NET_NEED_SENS) != 0;
        r->scales = r->needs_sens || strcmp(mr_net_name(r->net), "e2evn") != 0;
    }
    if (r->needs_sens) {
        MR_CHECK(mr_array_init_dims(&r->scaled, MR_DTYPE_CF32, 3, nc, h, w));
        MR_CHECK(mr_array_init_dims(&r->img, MR_DTYPE_CF32, 2, h, w));
        zcfg.method = MR_CLASSIC_SENSE;
        MR_CHECK(mr_classic_create(nc, h, w, &zcfg, &r->sense));
    }
    *out = r;
    r = NULL;
out:
    network_free(r);
    return st;
}

static bool network_needs_maps(const void *ctx)
{
    const struct network_method *r = ctx;
    return r->needs_sens;
}

static bool network_scales_with_data(const void *ctx)
{
    const struct network_method *r = ctx;
    return r->scales;
}

static const char *network_label(const void *ctx)
{
    const struct network_method *r = ctx;
    return r->net != NULL ? mr_net_name(r->net) : "lpn";
}

static mr_status network_run(void *ctx, const struct mr_slice *s, struct mr_array *mag)
{
    struct network_method *r = ctx;
    mr_status st = MR_OK;
    struct mr_net_inputs in = mr_net_inputs_default;
    float scale = 1.0f;

    in.ksp = s->ksp;
    in.mask = s->mask;
    if (r->needs_sens) {
        /* maps NULL here (MR_MAPS_ACS): the SENSE context estimates ACS maps */
        MR_CHECK(mr_classic_run(r->sense, s->ksp, s->mask, s->maps, &r->img));
        if (r->pnp != NULL) { /* LPN: PnP on the maps, normalised inside the solver */
            MR_CHECK(mr_lpn_recon_run(r->pnp, s->ksp, s->mask, mr_classic_maps(r->sense),
                                      &r->img, NULL));
            const float complex *p = mr_array_cf32(&r->img);
            float *g = mr_array_f32(mag);
            for (int64_t i = 0; i < mr_array_numel(mag); i++)
                g[i] = cabsf(p[i]);
            goto out;
        }
        const float complex *x = mr_array_cf32(&r->img);
        float mx = 0.0f;
        for (int64_t i = 0; i < mr_array_numel(&r->img); i++)
            mx = fmaxf(mx, cabsf(x[i]));
        if (!(mx > 0.0f)) {
            st = MR_FAIL(MR_ERR_DATA, "the zero-filled SENSE image is zero: nothing to "
                                      "reconstruct");
            goto out;
        }
        scale = mx;
        const float complex *k = mr_array_cf32(s->ksp);
        float complex *d = mr_array_cf32(&r->scaled);
        for (int64_t i = 0; i < mr_array_numel(s->ksp); i++)
            d[i] = k[i] / scale;
        in.ksp = &r->scaled;
        in.sens = mr_classic_maps(r->sense);
    }
    MR_CHECK(mr_net_run(r->net, &in, &r->out, NULL));
    mr_net_image(r->net, mag, &r->out);
    float *g = mr_array_f32(mag);
    for (int64_t i = 0; i < mr_array_numel(mag); i++)
        g[i] *= scale;
out:
    return st;
}

const struct mr_method_ops mr_method_model = {
    .name = "model",
    .summary = "a network from its weight file (E2EVN, CIRIM, RecurrentVarNet; an LPN weight "
               "file: plug-and-play), with its framework's inference processing",
    .takes_weights = true,
    .create = network_create,
    .needs_maps = network_needs_maps,
    .scales_with_data = network_scales_with_data,
    .label = network_label,
    .run = network_run,
    .free = network_free,
};

const struct mr_method_ops mr_method_pnp_lpn = {
    .name = "pnp-lpn",
    .summary = "plug-and-play with a learned proximal network prior (an LPN weight file)",
    .takes_weights = true,
    .create = network_create,
    .needs_maps = network_needs_maps,
    .scales_with_data = network_scales_with_data,
    .label = network_label,
    .run = network_run,
    .free = network_free,
};
