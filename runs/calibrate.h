/*
 * Trust-reference calibration (`mrirecon calibrate`): a network's reconstruction of every slice
 * of a user's in-distribution data, the slices' trust reports (pipeline/trust.h), and the
 * reference statistics fitted to them (mr_trust_reference_fit), for weight files converted from
 * ATOMMIC, DIRECT or fastMRI checkpoints (which carry none) or to re-calibrate for a site.
 *
 * Inputs: fastMRI or ISMRMRD files, or folders (every *.h5 in a folder, sorted), reconstructed
 * as `recon` would with cfg->volume (the method, its weight file, maps, slice range) — with
 * several retrospective masks, once per mask (every mask kind and acceleration the network is
 * meant for, so that none of them is flagged as unseen) — nothing written. The data should be what the network will see in use
 * (undersampled as at the scanner, or with the --mask that will be used).
 */
#ifndef MR_RUNS_CALIBRATE_H
#define MR_RUNS_CALIBRATE_H

#include <stdint.h>

#include "pipeline/trust.h"
#include "pipeline/volume.h"

struct mr_calibrate_config {
    struct mr_volume_config volume; /* volume.method must take a weight file */
    const char *const *inputs;      /* files or folders */
    int ninputs;
    const char *const *masks;       /* fastMRI: each input once with each of these .npy masks
                                     * (retrospective, as recon --mask); nmasks 0: as stored */
    int nmasks;
    /* after each file; NULL: silent */
    void (*progress)(void *arg, const char *file, int64_t done, int64_t total, int64_t slices);
    void *progress_arg;
};

/* Fits *out over every slice of the inputs (out->data names the inputs). Does not store it
 * (mr_trust_reference_store). Errors: MR_ERR_ARG (no weight file, no inputs), the
 * reconstruction's (naming the file), MR_ERR_DATA (fewer than 2 usable slices). */
mr_status mr_calibrate_run(const struct mr_calibrate_config *cfg, struct mr_trust_reference *out);

#endif
