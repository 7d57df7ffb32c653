/*
 * The network rows of the method table: "model" (any network of networks/registry.c, from its
 * weight file, with the inference-time processing of its framework: networks/net.h
 * mr_net_infer) and "pnp-lpn" (the same row under the name users know for LPN plug-and-play).
 * Networks that take coil maps get the pipeline's (given, or ESPIRiT); with MR_MAPS_ACS they
 * are the low-resolution ACS maps of recon/coils.h, estimated here as recon/classic.h's SENSE
 * context estimates them.
 */
#include <stdlib.h>

#include "networks/net.h"
#include "pipeline/method_rows.h"
#include "recon/coils.h"
#include "weights/weights.h"

struct network_method {
    struct mr_weights *ws;
    struct mr_net *net;
    struct mr_classic *acs; /* SENSE context whose ACS maps feed the network (MR_MAPS_ACS) */
    struct mr_array img;    /* its (unused) image */
};

static void network_free(void *ctx)
{
    struct network_method *m = ctx;
    if (m == NULL)
        return;
    mr_net_free(m->net);
    mr_weights_free(m->ws);
    mr_classic_free(m->acs);
    mr_array_cleanup(&m->img);
    free(m);
}

static bool network_needs_maps(const void *ctx)
{
    const struct network_method *m = ctx;
    return (mr_net_needs(m->net) & MR_NET_NEED_SENS) != 0;
}

static mr_status network_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                                int64_t w, void **out)
{
    mr_status st = MR_OK;
    struct network_method *m = calloc(1, sizeof(*m));
    const struct mr_net_options opt = { .inference = true, .iterations = cfg->iterations };

    if (m == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "network method");
    MR_CHECK(mr_weights_load(cfg->weights, &m->ws));
    MR_CHECK(mr_net_create_from_weights(m->ws, &opt, &m->net));
    MR_CHECK(mr_net_prepare(m->net, nc, h, w));
    if (network_needs_maps(m) && cfg->maps == MR_MAPS_ACS) {
        struct mr_classic_config ccfg = cfg->classic;
        ccfg.method = MR_CLASSIC_SENSE;
        MR_CHECK(mr_classic_create(nc, h, w, &ccfg, &m->acs));
        MR_CHECK(mr_array_init_dims(&m->img, MR_DTYPE_CF32, 2, h, w));
    }
    *out = m;
    m = NULL;
out:
    network_free(m);
    return st;
}

static bool network_scales_with_data(const void *ctx)
{
    const struct network_method *m = ctx;
    return mr_net_scales_with_data(m->net);
}

static const char *network_label(const void *ctx)
{
    const struct network_method *m = ctx;
    return mr_net_name(m->net);
}

static mr_status network_run(void *ctx, const struct mr_slice *s, struct mr_array *mag,
                             const struct mr_probe *probe)
{
    struct network_method *m = ctx;
    const struct mr_array *maps = network_needs_maps(m) ? s->maps : NULL;

    if (maps == NULL && m->acs != NULL) { /* MR_MAPS_ACS */
        mr_status st = mr_classic_run(m->acs, s->ksp, s->mask, NULL, &m->img);
        if (st != MR_OK)
            return st;
        maps = mr_classic_maps(m->acs);
    }
    return mr_net_infer_probed(m->net, s->ksp, s->mask, maps, mag, probe);
}

/* the two rows differ in name and summary only */
#define NETWORK_ROW(row, row_name, text)                                                     \
    const struct mr_method_ops mr_method_##row = {                                           \
        .name = row_name, .summary = text, .takes_weights = true, .create = network_create,  \
        .needs_maps = network_needs_maps, .scales_with_data = network_scales_with_data,      \
        .label = network_label, .run = network_run, .free = network_free,                    \
    }

NETWORK_ROW(model, "model",
            "a network from its weight file (E2EVN, CIRIM, RecurrentVarNet; an LPN weight "
            "file: plug-and-play), with its framework's inference processing");
NETWORK_ROW(pnp_lpn, "pnp-lpn",
            "plug-and-play with a learned proximal network prior (an LPN weight file)");
