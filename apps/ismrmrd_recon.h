/*
 * Reconstruction of an ISMRMRD raw-data file: every acquisition is pushed through the stage
 * (apps/stage.h) in file order, exactly as `mrirecon stage` would receive it over a stream,
 * and the images are written by the output's extension:
 *
 *   .h5   an ISMRMRD file: the input's XML header as /dataset/xml and the images under
 *         /dataset/image_<image_series_index> (image_0 by default), with their headers
 *   .png  the magnitude images tiled (io/png.h), in (set, phase, repetition, contrast, slice)
 *         order, slice fastest
 *   .nii  the same stack as NIfTI-1 float32 (io/nifti.h), voxel sizes from the reconSpace FOV
 *         (x / columns, y / rows, z = slice thickness)
 *
 * Every output appears atomically (temp file + rename) and only when the whole file was
 * reconstructed. Errors: those of io/ismrmrd.h (opening, reading), of the stage (named with the
 * acquisition index), MR_ERR_DATA (no image was produced), MR_ERR_ARG (unknown extension),
 * MR_ERR_IO (writing).
 */
#ifndef MR_APPS_ISMRMRD_RECON_H
#define MR_APPS_ISMRMRD_RECON_H

#include "apps/stage.h"

mr_status mr_ismrmrd_recon_file(const struct mr_stage_config *cfg, const char *in,
                                const char *out);

#endif
