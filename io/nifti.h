/*
 * NIfTI-1 single-file (.nii) writer for float32 magnitude volumes (nifti1.h, NIfTI DFWG 2004).
 *
 * File: 348-byte little-endian header, 4 zero extension bytes, then the voxels (vox_offset
 * 352), datatype FLOAT32 (16), bitpix 32, scl_slope 1, scl_inter 0, units mm (xyzt_units 2).
 *
 * Axes: dim = {3, W, H, slices}: i runs along the image columns (W, fastest), j along the rows,
 * k along the slices. Viewers draw j upwards, while our row 0 is the TOP of the picture (as in
 * numpy/matplotlib and io/png.h), so rows are stored bottom-up:
 *     voxel (i, j, k) = vol[k][H - 1 - j][i]
 * and every common viewer (FSLeyes, ITK-SNAP, 3D Slicer, nibabel + matplotlib with
 * origin="lower") shows the image upright, same as the PNG preview.
 *
 * Geometry: pixdim = voxel sizes in mm (i, j, k); qform and sform both encode the same
 * axis-aligned affine
 *     x = dx * i - dx * (W - 1) / 2,  y = dy * j - dy * (H - 1) / 2,  z = dz * k - dz * (S - 1) / 2
 * (identity rotation, volume centred on the origin, qfac 1) with code 2 (ALIGNED_ANAT): the
 * orientation relative to the patient is not known from fastMRI files, so we claim only the
 * voxel geometry.
 *
 * Voxel sizes from an ISMRMRD header (mr_nifti_voxel_from_header): the fastMRI image rows are
 * the readout (ISMRMRD x) and the columns the phase encoding (ISMRMRD y), so
 *     dj = reconSpace fov_x / matrix_x,  di = fov_y / matrix_y,  dk = fov_z / matrix_z
 * and any that is unknown (FOV 0) becomes 1 mm.
 */
#ifndef MR_IO_NIFTI_H
#define MR_IO_NIFTI_H

#include "io/ismrmrd_header.h"
#include "recon/array.h"
#include "recon/status.h"

struct mr_nifti_config {
    double voxel_mm[3];  /* along i (W), j (H), k (slices); <= 0 or not finite: 1 mm */
    const char *descrip; /* up to 79 characters kept; NULL: "mrirecon" */
};
extern const struct mr_nifti_config mr_nifti_config_default; /* 1 mm isotropic */

/* Voxel sizes (i, j, k) in mm for a fastMRI-layout image from the header's reconSpace. */
void mr_nifti_voxel_from_header(const struct mr_ismrmrd_header *hdr, double voxel_mm[3]);

/* Writes vol, F32 (slices, H, W) or (H, W) (one slice), as path (atomically: temp file and
 * rename). cfg may be NULL. Errors: MR_ERR_ARG (dtype/rank, a side above 32767), MR_ERR_IO,
 * MR_ERR_NOMEM. */
mr_status mr_nifti_write(const char *path, const struct mr_array *vol,
                         const struct mr_nifti_config *cfg);

#endif
