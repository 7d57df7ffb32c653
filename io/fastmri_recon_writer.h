/*
 * Writer of fastMRI reconstruction files (fastmri/utils.py save_reconstructions; specs/
 * ismrmrd.md §3.1), what fastMRI's leaderboard and evaluate.py read: one HDF5 file per volume
 * with a single dataset
 *
 *   reconstruction   float32 (slices, crop_h, crop_w), magnitude images
 *
 * plus optional root attributes (e.g. "method" = "e2evn"). Every image is centre-cropped by
 * recon/crop.h (fastMRI's center_crop). The file appears under its final name only when
 * complete (io/atomic_file.h through io/h5.h), so an interrupted run never leaves a half file.
 */
#ifndef MR_IO_FASTMRI_RECON_WRITER_H
#define MR_IO_FASTMRI_RECON_WRITER_H

#include <stdint.h>

#include "recon/array.h"
#include "recon/status.h"

struct mr_fastmri_recon_writer;

/* Starts a file of `slices` images of crop_h x crop_w (all >= 1; MR_ERR_ARG otherwise).
 * Allocates everything it needs here. Errors: MR_ERR_ARG, MR_ERR_IO, MR_ERR_NOMEM. */
mr_status mr_fastmri_recon_writer_create(const char *path, int64_t slices, int64_t crop_h,
                                         int64_t crop_w, struct mr_fastmri_recon_writer **out);

/* Centre-crops img, an F32 (H, W) image with H >= crop_h and W >= crop_w (recon/crop.h), into
 * slice `slice`. Slices may come in any order. Errors: MR_ERR_ARG (slice out of range, not F32 or
 * not rank 2), MR_ERR_SHAPE (image smaller than the crop), MR_ERR_IO. */
mr_status mr_fastmri_recon_writer_write_slice(struct mr_fastmri_recon_writer *w, int64_t slice,
                                              const struct mr_array *img);

/* Root attributes, replaced if set twice. */
mr_status mr_fastmri_recon_writer_set_attr_string(struct mr_fastmri_recon_writer *w,
                                                  const char *name, const char *value);
mr_status mr_fastmri_recon_writer_set_attr_double(struct mr_fastmri_recon_writer *w,
                                                  const char *name, double value);

/* Finishes the file and moves it into place; fails (MR_ERR_ARG, naming the first missing
 * slice) unless every slice was written. Always frees w; on failure nothing is left at path. */
mr_status mr_fastmri_recon_writer_commit(struct mr_fastmri_recon_writer *w);

/* Abandons an uncommitted file (its temp file is removed) and frees w. NULL ok. */
void mr_fastmri_recon_writer_free(struct mr_fastmri_recon_writer *w);

/* The whole thing in one call: vol is F32 (slices, H, W); method may be NULL (no attribute). */
mr_status mr_fastmri_recon_write_volume(const char *path, const struct mr_array *vol,
                                        int64_t crop_h, int64_t crop_w, const char *method);

#endif
