/*
 * Where a reconstruction goes: the output size (the header's recon matrix, fastMRI's centre
 * crop) and the writer chosen by the output's extension (.h5 fastMRI reconstruction file,
 * .png tiled preview, .nii NIfTI-1) or named outright (MR_OUTPUT_DICOM: a series folder of
 * DICOM MR images, io/dicom.h, optionally stored to a PACS). Shared by every command that
 * writes images.
 *
 * DICOM series (mr_output_dicom_series, mr_output_write_dicom):
 *   identity    anonymous defaults, then the ISMRMRD header's subject / study / measurement /
 *               system / sequence fields (io/dicom.h lists them); Series Description
 *               "mrirecon <method>" plus " <network>" when the method's label differs from its
 *               name ("mrirecon model e2evn", "mrirecon cs"); Derivation Description naming
 *               method, network, weight file and input file (base names only)
 *   UIDs        unique, or name-based from uid_seed (io/dicom.h): the same input, method and
 *               series number then give the same study, series and instance UIDs
 *   intensity   one Rescale Slope / Intercept for the whole series (mr_dicom_scale_fit over
 *               every image), so values compare across slices
 *   files       <dir>/IM%05d.dcm of the Instance Number; the folder appears whole
 *               (mr_dicom_dir); then, with `send`, every file is stored with one association
 */
#ifndef MR_PIPELINE_OUTPUT_H
#define MR_PIPELINE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "io/dicom.h"
#include "io/fastmri.h"
#include "pipeline/method.h"
#include "recon/array.h"

enum mr_output_format {
    MR_OUTPUT_AUTO = 0, /* by the output name's extension */
    MR_OUTPUT_H5 = 1,
    MR_OUTPUT_PNG = 2,
    MR_OUTPUT_NIFTI = 3,
    MR_OUTPUT_DICOM = 4, /* a folder, whatever its name */
};

/* Parses "h5" | "png" | "nii" | "dicom". Errors: MR_ERR_ARG. */
mr_status mr_output_format_parse(const char *s, enum mr_output_format *out);

/* fmt, or for MR_OUTPUT_AUTO the format of path's extension (.h5, .png, .nii); MR_OUTPUT_AUTO
 * when it has none of them. */
enum mr_output_format mr_output_format_resolve(const char *path, enum mr_output_format fmt);

/* MR_OK when the output can be written as fmt; else MR_ERR_ARG saying what to name it (a
 * ".dcm" name without MR_OUTPUT_DICOM is pointed to the folder form). */
mr_status mr_output_check_name(const char *path, enum mr_output_format fmt);

/* DICOM settings of a reconstruction. */
struct mr_output_dicom {
    const char *uid_seed;             /* NULL: unique UIDs; else name-based from this text */
    const struct mr_dicom_peer *send; /* NULL: write only; else C-STORE the series there */
    const char *calling_aet;          /* NULL: MR_DICOM_CALLING_AET */
};

/* Output size for h×w images: the header's recon matrix (x rows, y columns, as fastMRI crops
 * its (H, W) images) when crop is set and it fits inside h×w, else h×w. */
void mr_output_shape(const struct mr_fastmri_info *info, int64_t h, int64_t w, bool crop,
                     int64_t *out_h, int64_t *out_w);

/* True for names ending in .h5, .png or .nii. */
bool mr_output_format_known(const char *path);

/*
 * The series of a reconstruction of the file `in` with method (its table name) and label (what
 * the pipeline calls it): see the top of this file. xml (len bytes) is the input's ISMRMRD
 * header or NULL. Errors: those of mr_dicom_series_from_ismrmrd_xml (named with in) and
 * mr_dicom_series_uids.
 */
mr_status mr_output_dicom_series(struct mr_dicom_series *s, const char *xml, size_t len,
                                 const char *in, const struct mr_method_config *method,
                                 const char *label, int64_t series_number,
                                 const struct mr_output_dicom *opts);

/* Writes the n images (their scale is replaced by one fitted to all of them) as the series
 * folder dir and stores them on opts->send if set. A failed send leaves the complete folder
 * and says so. Errors: io/dicom.h's. */
mr_status mr_output_write_dicom(const char *dir, const struct mr_dicom_series *s,
                                struct mr_dicom_image *ims, size_t n,
                                const struct mr_output_dicom *opts);

/* Creates the missing folders above path (like mkdir -p of its dirname). MR_ERR_IO. */
mr_status mr_make_parent_dirs(const char *path);

/* Writes vol (slices, H, W) F32 as fmt (MR_OUTPUT_AUTO: by the extension of path; not DICOM,
 * which needs geometry: mr_output_write_dicom), atomically; info (may be NULL) gives voxel
 * sizes for NIfTI; method is recorded where the format can hold it. */
mr_status mr_output_write(const char *path, enum mr_output_format fmt,
                          const struct mr_array *vol, const struct mr_fastmri_info *info,
                          const char *method);

#endif
