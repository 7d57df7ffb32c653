/*
 * A network reconstruction of one slice with the inference-time processing of the framework
 * the network comes from (shared by `recon --method model`, maskeval and the stage):
 *  - networks that take sensitivity maps (ATOMMIC E2EVN, CIRIM): maps as given, else
 *    estimated (ESPIRiT, `bart ecalib -m1 -c crop`, or the low-resolution ACS maps of
 *    recon/coils.h); k-space divided by s = max |SENSE zero-filled image| (ATOMMIC's max
 *    normalisation of the input), the output image multiplied by s again;
 *  - fastMRI E2EVN: the masked k-space as it is (its sensitivity U-Net estimates maps from
 *    the ACS columns); RSS image;
 *  - RecurrentVarNet: no maps, so the DIRECT engine path runs (ACS maps with the Gaussian
 *    weighting, the sensitivity U-Net when the weights carry one, 99th-percentile k-space
 *    scaling and its undoing, RSS);
 *  - LPN (a prior): plug-and-play reconstruction with SENSE data consistency (PnP-PGD, or
 *    ADMM when the weight file's config says so; networks/lpn.h) on maps as above, with the
 *    k-space normalised by max|Aᴴy| (the LPN was trained on intensities in [0, 1]) and the
 *    128×128 patch grid extended to cover the image borders.
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
    int pnp_iters;                    /* LPN PnP iterations; 0: the weight file's / 20 */
    const struct mr_classic_config *classic; /* FFT and ACS-map settings of the SENSE
                                              * estimate (borrowed for create; NULL:
                                              * mr_classic_config_default) */
};
/* no weights, ESPIRiT maps uncropped, mr_classic_config_default */
extern const struct mr_net_recon_config mr_net_recon_config_default;

struct mr_net_recon;

/* Loads the weights, creates the network (or the LPN PnP solver) and prepares it for nc
 * coils of h×w. Errors: from the weight file and the network. */
mr_status mr_net_recon_create(const struct mr_net_recon_config *cfg, int64_t nc, int64_t h,
                              int64_t w, struct mr_net_recon **out);
void mr_net_recon_free(struct mr_net_recon *r);

/* The architecture id ("e2evn", ..., "lpn"). */
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
