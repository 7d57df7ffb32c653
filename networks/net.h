/*
 * The network interface: every unrolled reconstruction network (E2EVN, CIRIM,
 * RecurrentVarNet, ...) is a `struct mr_net_ops` row in networks/registry.c.
 *
 * Life cycle:
 *   mr_net_create(name, ws, cfg, opt, &net) borrow tensors from ws (must outlive net), read cfg
 *   mr_net_prepare(net, nc, h, w)          allocate every buffer and plan FFTs for one size
 *   mr_net_output_init(net, &out)          allocate an output array of the right shape/dtype
 *   mr_net_run(net, &inputs, &out, probe)  one slice; no allocation; repeat for every slice
 *   mr_net_free(net)
 * Preparing again for another size releases the old buffers. One net object per thread.
 *
 * Two uses (struct mr_net_options):
 *   reference  (inference false) the reference forward exactly as the goldens hold it, on
 *              inputs prepared as the reference receives them (`mrirecon apply`, the tests).
 *   inference  (inference true) reconstruction of measured data: mr_net_infer runs the
 *              framework's inference-time processing around the network (its k-space
 *              scaling through the row's pre/post hooks, DIRECT's whole inference path, LPN's
 *              PnP settings for real data) and returns the magnitude image.
 *
 * Inputs are one slice in the reference's layout (C order, e2evn.md §1):
 *   ksp   (C, H, W) CF32: masked k-space as the reference forward receives it (the networks
 *         do not mask it themselves), centred or not as the network's FFT config says.
 *   mask  (H, W) F32: sampled where != 0 (a 1-D column pattern as the full (H, W) array).
 *   sens  (C, H, W) CF32 or NULL: coil sensitivities, for networks that take them as input.
 *   num_low_frequencies: ACS width for networks that estimate sensitivities (0 = detect).
 *   initial_prediction (H, W) CF32 or NULL; sigma: noise level (reference default 1).
 * The output is exactly what the reference forward returns for one slice (shape and dtype
 * from mr_net_output_init); mr_net_image turns it into the final magnitude image (H, W) F32.
 *
 * Probes (recon/probe.h): mr_net_run reports intermediate tensors under the names of the
 * golden files' /intermediate group, documented in each network's header. Every unrolled
 * network reports the estimate after each of its unrolled steps (E2EVN "cascade_<i>_kspace",
 * CIRIM "cascade_<i>/time_step_<t>/prediction", RecurrentVarNet "step_<t>/kspace", LPN's PnP
 * "x_<kk>"), from which a caller can judge each step's data consistency.
 */
#ifndef MR_NETWORKS_NET_H
#define MR_NETWORKS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/probe.h"
#include "weights/weights.h"

struct mr_net_inputs {
    const struct mr_array *ksp;
    const struct mr_array *mask;
    const struct mr_array *sens;
    int64_t num_low_frequencies;
    const struct mr_array *initial_prediction;
    float sigma;
};

/* ksp/mask NULL, no maps, detect ACS, no initial prediction, sigma 1. */
extern const struct mr_net_inputs mr_net_inputs_default;

/*
 * Limits every row applies to the values of its config at create (MR_ERR_WEIGHTS or
 * MR_ERR_ARG naming the key and the allowed range): far beyond any published configuration,
 * they bound the work and memory a weight file can ask for (counts that no tensor shape
 * bounds, such as time steps, dilations and padding, most of all).
 */
#define MR_NET_MAX_BLOCKS 256    /* cascades, time steps, unrolled steps */
#define MR_NET_MAX_CHANNELS 4096 /* feature channels of a layer */
#define MR_NET_MAX_KERNEL 31     /* a conv kernel's side */
#define MR_NET_MAX_DILATION 64
#define MR_NET_MAX_PADDING 1024  /* pixels of padding added to an image */
#define MR_NET_MAX_ITERATIONS 1000000 /* solver iterations (PnP, CG) */

/* How a network is configured at create (see above). */
struct mr_net_options {
    bool inference; /* false: the reference forward; true: for mr_net_infer on measured data */
    int iterations; /* > 0: overrides the weight file's iteration count of a solver-based
                       reconstruction (LPN's PnP iterations); 0: the weight file's */
};
/* reference (inference false), iterations from the weight file */
extern const struct mr_net_options mr_net_options_default;

/* What a network needs beyond k-space and mask (bit flags of mr_net_ops.needs). */
enum mr_net_need {
    MR_NET_NEED_SENS = 1u << 0,
    MR_NET_NEED_INITIAL_PREDICTION = 1u << 1,
};

struct mr_net_ops {
    const char *name;
    unsigned needs; /* enum mr_net_need bits */
    /* Optional: the needs of this configured instance when they depend on its config (e.g.
     * E2EVN's ATOMMIC variant takes maps, the fastMRI one estimates them); NULL: `needs`. */
    unsigned (*needs_of)(const void *ctx);
    /* Builds ctx from the weights, config and options (never NULL). Errors: MR_ERR_WEIGHTS,
     * MR_ERR_ARG, MR_ERR_UNSUPPORTED, MR_ERR_NOMEM. */
    mr_status (*create)(struct mr_weights *ws, const struct mr_config *cfg,
                        const struct mr_net_options *opt, void **ctx);
    /* Allocates buffers and FFT plans for nc coils of h×w; sets the output shape.
     * Errors: MR_ERR_SHAPE (size the network cannot run on), MR_ERR_NOMEM. */
    mr_status (*prepare)(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                         int64_t *out_dims, enum mr_dtype *out_dtype);
    /* One slice; inputs already checked by mr_net_run (shapes, presence, finite values).
     * Errors: MR_ERR_DATA (inputs the network cannot use, e.g. a zero coil-sensitivity norm). */
    mr_status (*run)(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                     const struct mr_probe *probe);
    /* img (H, W) F32 = final magnitude image of a raw output. */
    void (*image)(void *ctx, struct mr_array *img, const struct mr_array *out);
    void (*free)(void *ctx);
    /* Optional, inference only (mr_net_infer; ctx created with opt->inference): the
     * framework's processing of the inputs before run, e.g. its k-space scaling. It may point
     * in->ksp (or other inputs) at arrays held in ctx, or drop inputs the framework does not
     * use, and sets *scale (1 when it does not scale). NULL: inputs as given, scale 1.
     * Errors: MR_ERR_DATA (inputs the scaling cannot use, e.g. no signal). */
    mr_status (*pre)(void *ctx, struct mr_net_inputs *in, float *scale);
    /* Optional, inference only: undoes pre's scaling on the final image img (H, W) F32. */
    void (*post)(void *ctx, struct mr_array *img, float scale);
    /* Optional, inference only: whether mr_net_infer's image scales with the k-space,
     * infer(a·y) = a·infer(y) up to rounding, because the framework normalises its input
     * (ATOMMIC's max, DIRECT's percentile, LPN's max|Aᴴy|). NULL: it does not (a network fed
     * raw k-space, such as fastMRI's VarNet). Callers may then rescale k-space outside the
     * float-safe range (pipeline/pipeline.h). */
    bool (*scales_with_data)(const void *ctx);
};

struct mr_net;

/* Looks name up in the registry and creates the network. Errors: MR_ERR_ARG (unknown name,
 * listing the known ones), and the network's own. cfg NULL means "{}" (all defaults); opt
 * NULL means mr_net_options_default (the reference forward). */
mr_status mr_net_create(const char *name, struct mr_weights *ws, const struct mr_config *cfg,
                        const struct mr_net_options *opt, struct mr_net **out);

/* Same with the architecture and config stored in the weight file. Errors: MR_ERR_WEIGHTS
 * (an architecture with no row here), and as mr_net_create. */
mr_status mr_net_create_from_weights(struct mr_weights *ws, const struct mr_net_options *opt,
                                     struct mr_net **out);

/* The registry row for name, or NULL. */
const struct mr_net_ops *mr_net_lookup(const char *name);

/* The i-th registered network name, or NULL past the end (for usage texts). */
const char *mr_net_registered(size_t i);

void mr_net_free(struct mr_net *net);
const char *mr_net_name(const struct mr_net *net);
unsigned mr_net_needs(const struct mr_net *net);

/* Prepares for nc coils of h×w (see above). Errors: MR_ERR_ARG (size < 1), the network's own. */
mr_status mr_net_prepare(struct mr_net *net, int64_t nc, int64_t h, int64_t w);

/* Allocates out with the prepared output shape and dtype (MR_ASSERT prepared). */
mr_status mr_net_output_init(const struct mr_net *net, struct mr_array *out);

/* Runs one slice. Checks, once for every network (rows do not check again): the inputs
 * against the prepared size (MR_ERR_SHAPE naming the input), their presence (MR_ERR_ARG, e.g.
 * "needs sensitivity maps"), their values (MR_ERR_DATA: non-finite k-space, maps, initial
 * prediction or sigma), and out's shape. Errors also: MR_ERR_ARG (not prepared), the
 * network's own. */
mr_status mr_net_run(struct mr_net *net, const struct mr_net_inputs *in, struct mr_array *out,
                     const struct mr_probe *probe);

/* img (H, W) F32 = the final magnitude image of out. */
void mr_net_image(const struct mr_net *net, struct mr_array *img, const struct mr_array *out);

/* Whether mr_net_infer's image scales with the input k-space (mr_net_ops.scales_with_data). */
bool mr_net_scales_with_data(const struct mr_net *net);

/*
 * mag (H, W) F32 = the network's reconstruction of one measured slice with its framework's
 * inference-time processing (net created with opt->inference and prepared for (C, H, W)):
 *   ATOMMIC E2EVN and CIRIM  k-space / s, s = max |SENSE zero-filled image| on the given maps
 *                            (recon/kscale.h), the network, its image · s;
 *   fastMRI E2EVN            the k-space as it is (maps estimated by its sensitivity U-Net);
 *   RecurrentVarNet          DIRECT's inference path (its own ACS maps, sensitivity U-Net,
 *                            percentile scaling and undoing; given maps are not used);
 *   LPN                      PnP with SENSE data consistency on the given maps, k-space
 *                            normalised by max|Aᴴy| (networks/lpn.h).
 * ksp (C, H, W) CF32 is zero where mask (H, W) F32 is zero; sens (C, H, W) CF32 or NULL, required
 * when mr_net_needs() has MR_NET_NEED_SENS (maps are estimated by the caller, not here).
 * Errors: MR_ERR_ARG (net not created for inference, or not prepared; missing maps),
 * MR_ERR_SHAPE (an array's shape), MR_ERR_DATA (non-finite k-space or maps, no signal), the
 * network's own.
 */
mr_status mr_net_infer(struct mr_net *net, const struct mr_array *ksp, const struct mr_array *mask,
                       const struct mr_array *sens, struct mr_array *mag);

/* mr_net_infer with a probe (may be NULL) for the network's run: arrays and numbers as the
 * network's header names them; every network reports "dc_residual" and "unsampled_energy"
 * (recon/dc.h) of each estimate (0 = the initial one, then after every cascade / time step /
 * iteration, the last one the result's) in its own units, and LPN PnP its "regularizer" and
 * "objective" (recon/pnp.h). */
mr_status mr_net_infer_probed(struct mr_net *net, const struct mr_array *ksp,
                              const struct mr_array *mask, const struct mr_array *sens,
                              struct mr_array *mag, const struct mr_probe *probe);

#endif
