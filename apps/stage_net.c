/* The stage's per-slice reconstruction by a network (mr_stage_recon_network, stage.h). */
#include <string.h>

#include "apps/net_recon.h"
#include "apps/stage.h"

static bool network_needs_maps(const struct mr_stage_config *cfg)
{
    (void)cfg;
    return true; /* estimated from the calibration lines; networks that do not take maps
                  * ignore them */
}

static mr_status network_create(const struct mr_stage_config *cfg, int64_t nc, int64_t h,
                                int64_t w, void **out)
{
    struct mr_net_recon_config ncfg = mr_net_recon_config_default;
    struct mr_classic_config ccfg;
    struct mr_net_recon *r = NULL;

    *out = NULL;
    if (cfg->weights[0] == '\0')
        return MR_FAIL(MR_ERR_ARG, "stage: a network reconstruction needs a weight file "
                                   "(config key 'weights' or --weights)");
    mr_stage_config_classic(cfg, &ccfg);
    ncfg.weights = cfg->weights;
    ncfg.maps = cfg->maps == MR_STAGE_MAPS_ACS ? MR_NET_RECON_MAPS_ACS
                                               : MR_NET_RECON_MAPS_ESPIRIT;
    ncfg.espirit_crop = cfg->espirit_crop;
    ncfg.classic = &ccfg;
    mr_status st = mr_net_recon_create(&ncfg, nc, h, w, &r);
    if (st == MR_OK)
        *out = r;
    return st;
}

static mr_status network_run(void *ctx, const struct mr_stage_slice *s, struct mr_array *img)
{
    return mr_net_recon_run(ctx, s->ksp, s->mask, s->sens, img);
}

static void network_free(void *ctx)
{
    mr_net_recon_free(ctx);
}

const struct mr_stage_recon_ops mr_stage_recon_network = {
    .name = "network",
    .needs_maps = network_needs_maps,
    .create = network_create,
    .run = network_run,
    .free = network_free,
};
