/*
 * Where a reconstruction goes: the output size (the header's recon matrix, fastMRI's centre
 * crop) and the writer chosen by the output's extension (.h5 fastMRI reconstruction file,
 * .png tiled preview, .nii NIfTI-1). Shared by every command that writes images.
 */
#ifndef MR_PIPELINE_OUTPUT_H
#define MR_PIPELINE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "io/fastmri.h"
#include "recon/array.h"

/* Output size for h×w images: the header's recon matrix (x rows, y columns, as fastMRI crops
 * its (H, W) images) when crop is set and it fits inside h×w, else h×w. */
void mr_output_shape(const struct mr_fastmri_info *info, int64_t h, int64_t w, bool crop,
                     int64_t *out_h, int64_t *out_w);

/* True for names ending in .h5, .png or .nii. */
bool mr_output_format_known(const char *path);

/* Creates the missing folders above path (like mkdir -p of its dirname). MR_ERR_IO. */
mr_status mr_make_parent_dirs(const char *path);

/* Writes vol (slices, H, W) F32 by the extension of path, atomically; info (may be NULL) gives
 * voxel sizes for NIfTI; method is recorded where the format can hold it. */
mr_status mr_output_write(const char *path, const struct mr_array *vol,
                          const struct mr_fastmri_info *info, const char *method);

#endif
