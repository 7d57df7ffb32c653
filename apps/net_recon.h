/*
 * A network reconstruction of one slice with the inference-time processing of the framework
 * the network comes from (shared by `recon --method model`, maskeval and the stage): the
 * weight file's network created for inference (networks/net.h mr_net_options) and run by
 * mr_net_infer, which holds each framework's processing. Networks that take sensitivity maps
 * get them as given, else estimated here: ESPIRiT (`bart ecalib -m1 -c crop`) or the
 * low-resolution ACS maps of recon/coils.h (through a SENSE mr_classic context).
 * One object per thread; everything is allocated and planned at create.
 */
#ifndef MR_APPS_NET_RECON_H
#define MR_APPS_NET_RECON_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/classic.h"

enum mr_net_recon_maps {
    MR_NET_RECON_MAPS_ESPIRIT = 0,
    MR_NET_RECON_MAPS_ACS = 1,
};

struct mr_net_recon_config {
    const char *weights; /* weight file (borrowed for create only) */
    enum mr_net_recon_maps maps;
    float espirit_crop;               /* [0, 1) */
    int pnp_iters;                    /* > 0: iterations of a solver-based network (PnP with
                                       * a learned prior; mr_net_options.iterations); 0: the
                                       * weight file's */
    const struct mr_classic_config *classic; /* FFT and ACS-map settings of the SENSE
                                              * estimate (borrowed for create; NULL:
                                              * mr_classic_config_default) */
};
/* no weights, ESPIRiT maps uncropped, mr_classic_config_default */
extern const struct mr_net_recon_config mr_net_recon_config_default;

struct mr_net_recon;

/* Loads the weights, creates the network for inference and prepares it for nc coils of h×w.
 * Errors: from the weight file and the network. */
mr_status mr_net_recon_create(const struct mr_net_recon_config *cfg, int64_t nc, int64_t h,
                              int64_t w, struct mr_net_recon **out);
void mr_net_recon_free(struct mr_net_recon *r);

/* The architecture id (mr_net_name). */
const char *mr_net_recon_name(const struct mr_net_recon *r);

/* True if the network takes sensitivity maps (so a caller may pass its own to run). */
bool mr_net_recon_needs_maps(const struct mr_net_recon *r);

/* mag (H, W) F32 = the network's reconstruction of ksp (C, H, W) CF32 (zero where the mask
 * is zero), mask (H, W) F32. maps (C, H, W) CF32 or NULL (estimated as configured when the
 * network needs them; ignored otherwise). Errors: MR_ERR_SHAPE, MR_ERR_DATA (no signal, no
 * calibration region for the maps), the network's own. */
mr_status mr_net_recon_run(struct mr_net_recon *r, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *maps,
                           struct mr_array *mag);

#endif
