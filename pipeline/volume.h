/*
 * One input file in, its images out: every slice of a fastMRI-layout file or an ISMRMRD raw
 * dataset (told apart by content) through the pipeline (pipeline.h), written by the output's
 * extension. `mrirecon recon` is this call; batch runs make it once per volume.
 *
 * fastMRI files (io/fastmri.h): slices [slice0, slice1) of /kspace (C, H, W) in turn; the mask
 * is the --mask file (retrospective undersampling: k-space zeroed off it), else the file's
 * /mask, else the positions where any coil has a nonzero sample; maps by cfg->method.maps
 * (MR_MAPS_FILE: the file's /sensitivity_map). Images are centre-cropped to the header's recon
 * matrix (fastMRI's crop) unless crop is off, and written as one (slices, h, w) volume:
 *   .h5   fastMRI reconstruction file ('reconstruction' float32, attribute 'method')
 *   .png  the magnitude images tiled, windowed (io/png.h)
 *   .nii  NIfTI-1 float32, voxel size from the header
 *
 * ISMRMRD files (io/ismrmrd.h): every acquisition pushed through the stage (pipeline/stage.h)
 * in file order, exactly as `mrirecon stage` receives a stream; images by the extension:
 *   .h5   an ISMRMRD file: the input's XML header as /dataset/xml and the images under
 *         /dataset/image_<image_series_index>, with their headers
 *   .png  the magnitude images tiled in (set, phase, repetition, contrast, slice) order
 *   .nii  the same stack as NIfTI-1, voxel sizes from the reconSpace FOV
 * Retrospective masks and slice ranges do not apply there (MR_ERR_ARG).
 *
 * The output appears atomically and only when every slice was reconstructed; an output that is
 * the input file is refused. Errors: MR_ERR_ARG (options, output name), the readers', the
 * pipeline's (named with the slice or acquisition), MR_ERR_IO (writing).
 */
#ifndef MR_PIPELINE_VOLUME_H
#define MR_PIPELINE_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/method.h"

struct mr_volume_config {
    struct mr_method_config method;
    const char *mask_path;       /* fastMRI: .npy mask for retrospective undersampling, or NULL */
    int64_t slice0;              /* fastMRI: slices [slice0, slice1); -1: from the first ... */
    int64_t slice1;              /* ... to the last */
    bool crop;                   /* fastMRI: crop to the header's recon matrix */
    uint16_t image_series_index; /* ISMRMRD: series of the output images */
    /* Called after each slice (fastMRI) or image (ISMRMRD); NULL: silent. */
    void (*progress)(void *arg, const char *label, int64_t done, int64_t total, double seconds);
    void *progress_arg;
};
/* *cfg = mr_method_config_init's method, all slices, crop on, series 0, no progress. */
void mr_volume_config_init(struct mr_volume_config *cfg);

/* What a finished reconstruction did (for logs). */
struct mr_volume_result {
    int64_t images;                  /* images written */
    char label[MR_METHOD_NAME_MAX];  /* the method as outputs record it */
};

/* Reconstructs in and writes out (see the top of this file). result may be NULL. */
mr_status mr_volume_reconstruct(const struct mr_volume_config *cfg, const char *in,
                                const char *out, struct mr_volume_result *result);

/* The ISMRMRD path (volume_ismrmrd.c), for mr_volume_reconstruct. */
mr_status mr_volume_reconstruct_ismrmrd(const struct mr_volume_config *cfg, const char *in,
                                        const char *out, struct mr_volume_result *result);

#endif
