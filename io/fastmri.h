/*
 * fastMRI HDF5 files (specs/ismrmrd.md §3.1; facebookresearch/fastMRI mri_data.py), one
 * volume per file:
 *
 *   kspace           complex64 (slices, coils, H, W) multi-coil, or (slices, H, W)
 *                    single-coil (read as coils = 1). H = rows = readout (often 2x
 *                    oversampled, 640), W = columns = phase encoding; k-space is centred.
 *   mask             optional (test/challenge files): 1-D of length W over the columns
 *                    (bool/uint8/float); this project's samples also use a 2-D (H, W) mask.
 *   sensitivity_map  optional, complex, same shape as kspace (ATOMMIC-style files).
 *   reconstruction_rss / reconstruction_esc   optional float32 (slices, h, w) targets.
 *   ismrmrd_header   optional scalar string/bytes dataset with the ISMRMRD XML.
 *   root attributes  acquisition (str), max (float), norm (float), patient_id (str), and in
 *                    test/challenge files acceleration and num_low_frequency (int); all
 *                    optional.
 *
 * Opening validates everything that does not need the k-space values: kspace present, complex,
 * rank 3 or 4, no empty axis, dims whose products fit and match the bytes the file stores
 * (io/h5.h), one slice within the memory limit (recon/array.h mr_memory_check); mask and
 * sensitivity_map shapes; the XML header; attribute types.
 * K-space, sensitivities and targets are then read one slice at a time by hyperslab, never the
 * whole volume, into arrays the caller allocated once.
 *
 * fastMRI's padding (mri_data.py, used to zero the VarNet mask outside the acquired band):
 *   padding_left  = enc_y // 2 - kspace_encoding_step_1.center
 *   padding_right = padding_left + kspace_encoding_step_1.maximum + 1
 * with enc_y = encodedSpace.matrixSize.y (floor division as in Python); without
 * kspace_encoding_step_1 limits in the header: 0 and W (the whole width).
 *
 * Errors name the file, the dataset and what was expected: MR_ERR_IO / MR_ERR_FORMAT from
 * opening (see io/h5.h), MR_ERR_FORMAT (missing kspace, real-valued kspace, bad XML, wrong
 * attribute type, sizes the file does not hold), MR_ERR_NOMEM (a slice over the memory
 * limit), MR_ERR_SHAPE (rank, empty axis, mask length, sensitivity shape, destination
 * array), MR_ERR_DATA (NaN/Inf in a slice's k-space: slice, coil and position are named; an
 * all-zero mask), MR_ERR_ARG (slice out of range, absent optional dataset requested).
 */
#ifndef MR_IO_FASTMRI_H
#define MR_IO_FASTMRI_H

#include <stdbool.h>
#include <stdint.h>

#include "io/ismrmrd_header.h"
#include "recon/array.h"
#include "recon/status.h"

struct mr_fastmri;

struct mr_fastmri_info {
    int64_t slices;
    int64_t coils; /* 1 for single-coil files */
    int64_t h;     /* rows (readout) */
    int64_t w;     /* columns (phase encoding) */
    bool single_coil;

    bool has_mask;
    int mask_ndim; /* 1: length W over the columns; 2: (H, W) */
    bool has_sens;
    bool has_target;       /* reconstruction_rss or reconstruction_esc */
    char target_name[32];  /* which one ("reconstruction_rss" preferred) */
    int64_t target_dims[3]; /* (slices, h, w) of the target */

    bool has_header;
    struct mr_ismrmrd_header hdr; /* valid when has_header */
    int64_t padding_left;         /* 0 and W without a header (see above) */
    int64_t padding_right;

    char acquisition[64]; /* "" when absent */
    char patient_id[128]; /* "" when absent */
    bool has_max;
    double max;
    bool has_norm;
    double norm;
    int64_t acceleration;      /* test/challenge files' attributes; 0 when absent */
    int64_t num_low_frequency;
};

/* Opens and validates a fastMRI file (see above). */
mr_status mr_fastmri_open(const char *path, struct mr_fastmri **out);
void mr_fastmri_close(struct mr_fastmri *f);

/* What was found at open (borrowed; valid until close). */
const struct mr_fastmri_info *mr_fastmri_info(const struct mr_fastmri *f);
const char *mr_fastmri_path(const struct mr_fastmri *f);

/* Reads slice `slice` of the k-space into ksp, a CF32 array of (coils, H, W) the caller
 * allocated (any shape with coils*H*W elements is accepted, e.g. (1, H, W) for single-coil),
 * and checks every value is finite. Reads only that slice from disk. */
mr_status mr_fastmri_read_kspace(struct mr_fastmri *f, int64_t slice, struct mr_array *ksp);

/* Reads the sampling mask into mask, an F32 array of H*W elements laid out as (H, W):
 * mask[y, x] = m[x] for a 1-D mask (the same column pattern on every row), or the 2-D mask as
 * stored. Values are the stored ones converted to float (bool/uint8 → 0/1). MR_ERR_DATA if
 * every value is zero or one is not finite; MR_ERR_ARG if the file has no mask. */
mr_status mr_fastmri_read_mask(struct mr_fastmri *f, struct mr_array *mask);

/* Reads a 1-D mask as stored, the column vector of sampling/mask.h: cols is F32 with W
 * elements, cols[x] = m[x]. MR_ERR_SHAPE if the file's mask is 2-D (use mr_fastmri_read_mask),
 * MR_ERR_ARG if there is none; the same value checks as mr_fastmri_read_mask. */
mr_status mr_fastmri_read_mask_columns(struct mr_fastmri *f, struct mr_array *cols);

/* Reads slice `slice` of sensitivity_map into sens (CF32, coils*H*W elements). MR_ERR_ARG if
 * the file has none. */
mr_status mr_fastmri_read_sens(struct mr_fastmri *f, int64_t slice, struct mr_array *sens);

/* Reads slice `slice` of the target (info.target_name) into img (F32, h*w elements of
 * info.target_dims[1..2]). MR_ERR_ARG if the file has none. */
mr_status mr_fastmri_read_target(struct mr_fastmri *f, int64_t slice, struct mr_array *img);

#endif
