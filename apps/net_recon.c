/* One-slice network reconstruction with its framework's pre/post-processing (net_recon.h). */
#include "apps/net_recon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "networks/lpn.h"
#include "networks/net.h"
#include "recon/espirit.h"
#include "weights/weights.h"

const struct mr_net_recon_config mr_net_recon_config_default = {
    .weights = NULL,
    .maps = MR_NET_RECON_MAPS_ESPIRIT,
    .espirit_crop = 0.0f,
    .pnp_iters = 0,
    .classic = NULL,
};

struct mr_net_recon {
    struct mr_weights *ws;
    struct mr_net *net;          /* a network, or */
    struct mr_lpn *lpn;          /* the LPN prior ... */
    struct mr_lpn_recon *pnp;    /* ... in its PnP solver */
    struct mr_classic *zf; /* SENSE zero-filled: normalisation and ACS maps */
    enum mr_net_recon_maps maps_mode;
    float espirit_crop;
    bool needs_sens;
    struct mr_array out;
    struct mr_array scaled;
    struct mr_array sens;
    struct mr_array img;
};

void mr_net_recon_free(struct mr_net_recon *r)
{
    if (r == NULL)
        return;
    mr_net_free(r->net);
    mr_lpn_recon_free(r->pnp);
    mr_lpn_free(r->lpn);
    mr_weights_free(r->ws);
    mr_classic_free(r->zf);
    mr_array_cleanup(&r->out);
    mr_array_cleanup(&r->scaled);
    mr_array_cleanup(&r->sens);
    mr_array_cleanup(&r->img);
    free(r);
}

mr_status mr_net_recon_create(const struct mr_net_recon_config *cfg, int64_t nc, int64_t h,
                              int64_t w, struct mr_net_recon **out)
{
    mr_status st = MR_OK;
    struct mr_net_recon *r = calloc(1, sizeof(*r));
    struct mr_classic_config zcfg =
        cfg->classic != NULL ? *cfg->classic : mr_classic_config_default;

    *out = NULL;
    if (r == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "network reconstruction context");
    if (cfg->weights == NULL) {
        st = MR_FAIL(MR_ERR_ARG, "a network reconstruction needs a weight file");
        goto out;
    }
    r->maps_mode = cfg->maps;
    r->espirit_crop = cfg->espirit_crop;
    MR_CHECK(mr_weights_load(cfg->weights, &r->ws));
    if (strcmp(mr_weights_architecture(r->ws), "lpn") == 0) {
        struct mr_lpn_pnp_config pcfg = mr_lpn_pnp_config_default;
        MR_CHECK(mr_lpn_create(r->ws, &r->lpn));
        MR_CHECK(mr_lpn_pnp_config_read(mr_weights_config(r->ws), &pcfg));
        pcfg.normalize = true;
        pcfg.tiling.cover_border = true;
        if (pcfg.tiling.stride == 0)
            pcfg.tiling.stride = 64; /* the reference's stride; borders covered above */
        if (cfg->pnp_iters > 0)
            pcfg.pnp.iters = cfg->pnp_iters;
        MR_CHECK(mr_lpn_recon_create(r->lpn, &pcfg, nc, h, w, &r->pnp));
        r->needs_sens = true;
    } else {
        MR_CHECK(mr_net_create_from_weights(r->ws, &r->net));
        MR_CHECK(mr_net_prepare(r->net, nc, h, w));
        MR_CHECK(mr_net_output_init(r->net, &r->out));
        r->needs_sens = (mr_net_needs(r->net) & MR_NET_NEED_SENS) != 0;
    }
    if (r->needs_sens) {
        MR_CHECK(mr_array_init_dims(&r->scaled, MR_DTYPE_CF32, 3, nc, h, w));
        MR_CHECK(mr_array_init_dims(&r->sens, MR_DTYPE_CF32, 3, nc, h, w));
        MR_CHECK(mr_array_init_dims(&r->img, MR_DTYPE_CF32, 2, h, w));
        zcfg.method = MR_CLASSIC_SENSE;
        MR_CHECK(mr_classic_create(nc, h, w, &zcfg, &r->zf));
    }
    *out = r;
    r = NULL;
out:
    mr_net_recon_free(r);
    return st;
}

const char *mr_net_recon_name(const struct mr_net_recon *r)
{
    return r->net != NULL ? mr_net_name(r->net) : "lpn";
}

bool mr_net_recon_needs_maps(const struct mr_net_recon *r)
{
    return r->needs_sens;
}

mr_status mr_net_recon_run(struct mr_net_recon *r, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *maps,
                           struct mr_array *mag)
{
    mr_status st = MR_OK;
    struct mr_net_inputs in = mr_net_inputs_default;
    float scale = 1.0f;

    in.ksp = ksp;
    in.mask = mask;
    if (r->needs_sens) {
        if (maps == NULL && r->maps_mode == MR_NET_RECON_MAPS_ESPIRIT) {
            struct mr_espirit_config ecfg = mr_espirit_config_default;
            ecfg.crop = r->espirit_crop;
            MR_CHECK(mr_espirit_maps(&ecfg, ksp, &r->sens));
            maps = &r->sens;
        }
        /* maps NULL here: the SENSE context estimates ACS maps */
        MR_CHECK(mr_classic_run(r->zf, ksp, mask, maps, &r->img));
        if (r->pnp != NULL) { /* LPN: PnP on the maps, normalised inside the solver */
            MR_CHECK(mr_lpn_recon_run(r->pnp, ksp, mask, mr_classic_maps(r->zf), &r->img,
                                      NULL));
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
        const float complex *k = mr_array_cf32(ksp);
        float complex *d = mr_array_cf32(&r->scaled);
        for (int64_t i = 0; i < mr_array_numel(ksp); i++)
            d[i] = k[i] / scale;
        in.ksp = &r->scaled;
        in.sens = mr_classic_maps(r->zf);
    }
    MR_CHECK(mr_net_run(r->net, &in, &r->out, NULL));
    mr_net_image(r->net, mag, &r->out);
    float *g = mr_array_f32(mag);
    for (int64_t i = 0; i < mr_array_numel(mag); i++)
        g[i] *= scale;
out:
    return st;
}
