/*
 * ATOMMIC's inference-time processing of one slice (wdika/atommic: the SENSE-reconstruction
 * models trained on max-normalised data), shared by its rows (e2evn's ATOMMIC variant, cirim):
 * k-space divided by s = max |SENSE zero-filled image| (recon/kscale.h "SENSE max") before the
 * network, the final image multiplied by s after it. The maps are the caller's.
 */
#ifndef MR_NETWORKS_ATOMMIC_H
#define MR_NETWORKS_ATOMMIC_H

#include <stdint.h>

#include "networks/net.h"
#include "recon/kscale.h"

/* Zero-initialised = not prepared. */
struct mr_atommic_inference {
    struct mr_kscale_sense *kscale;
    struct mr_array ksp; /* (C, H, W) CF32: the scaled k-space */
};

/* Plans it for nc coils of h×w (releasing an earlier size). Errors: MR_ERR_NOMEM. */
mr_status mr_atommic_inference_prepare(struct mr_atommic_inference *a, int64_t nc, int64_t h,
                                       int64_t w);
void mr_atommic_inference_cleanup(struct mr_atommic_inference *a);

/* The pre hook (net.h): in->ksp ← in->ksp / s (the copy held in a), *scale = s. Needs
 * in->sens. Errors: as mr_kscale_sense_max. */
mr_status mr_atommic_inference_pre(struct mr_atommic_inference *a, struct mr_net_inputs *in,
                                   float *scale);

/* The post hook (net.h): img (H, W) F32 ·= scale. */
void mr_atommic_inference_post(struct mr_array *img, float scale);

#endif
