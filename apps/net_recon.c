/* One-slice network reconstruction with its framework's pre/post-processing (net_recon.h). */
#include "apps/net_recon.h"

#include <stdlib.h>

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
    struct mr_net *net;
    struct mr_classic *acs; /* SENSE context that estimates ACS maps (ACS mode, maps needed) */
    enum mr_net_recon_maps maps_mode;
    float espirit_crop;
    bool needs_sens;
    struct mr_array sens;   /* ESPIRiT maps */
    struct mr_array img;    /* the ACS context's SENSE image (unused) */
};

void mr_net_recon_free(struct mr_net_recon *r)
{
    if (r == NULL)
        return;
    mr_net_free(r->net);
    mr_weights_free(r->ws);
    mr_classic_free(r->acs);
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
    const struct mr_net_options opt = { .inference = true, .iterations = cfg->pnp_iters };

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
    MR_CHECK(mr_net_create_from_weights(r->ws, &opt, &r->net));
    MR_CHECK(mr_net_prepare(r->net, nc, h, w));
    r->needs_sens = (mr_net_needs(r->net) & MR_NET_NEED_SENS) != 0;
    if (r->needs_sens && r->maps_mode == MR_NET_RECON_MAPS_ESPIRIT)
        MR_CHECK(mr_array_init_dims(&r->sens, MR_DTYPE_CF32, 3, nc, h, w));
    if (r->needs_sens && r->maps_mode == MR_NET_RECON_MAPS_ACS) {
        MR_CHECK(mr_array_init_dims(&r->img, MR_DTYPE_CF32, 2, h, w));
        zcfg.method = MR_CLASSIC_SENSE;
        MR_CHECK(mr_classic_create(nc, h, w, &zcfg, &r->acs));
    }
    *out = r;
    r = NULL;
out:
    mr_net_recon_free(r);
    return st;
}

const char *mr_net_recon_name(const struct mr_net_recon *r)
{
    return mr_net_name(r->net);
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

    if (!r->needs_sens) {
        maps = NULL;
    } else if (maps == NULL && r->maps_mode == MR_NET_RECON_MAPS_ESPIRIT) {
        struct mr_espirit_config ecfg = mr_espirit_config_default;
        ecfg.crop = r->espirit_crop;
        MR_CHECK(mr_espirit_maps(&ecfg, ksp, &r->sens));
        maps = &r->sens;
    } else if (maps == NULL) { /* the SENSE context estimates ACS maps */
        MR_CHECK(mr_classic_run(r->acs, ksp, mask, NULL, &r->img));
        maps = mr_classic_maps(r->acs);
    }
    MR_CHECK(mr_net_infer(r->net, ksp, mask, maps, mag));
out:
    return st;
}
