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
 *   DICOM (format MR_OUTPUT_DICOM; out is a folder): one MR image per slice (pipeline/
 *         output.h), IM<slice + 1>.dcm with Instance Number slice + 1; identity from the
 *         file's ismrmrd_header, its patient_id attribute as Patient ID and its acquisition
 *         attribute as Protocol Name where the header has none; fastMRI files record no
 *         position or orientation, so: Pixel Spacing and Slice Thickness from the header's
 *         reconSpace (as .nii; 1 mm without a header), Image Orientation 1\0\0\0\1\0
 *         (axial, rows along x, columns along y) and the centre pixel (h/2, w/2) of slice s at
 *         (0, 0, s × thickness) mm
 *
 * ISMRMRD files (io/ismrmrd.h): every acquisition pushed through the stage (pipeline/stage.h)
 * in file order, exactly as `mrirecon stage` receives a stream; images by the extension:
 *   .h5   an ISMRMRD file: the input's XML header as /dataset/xml and the images under
 *         /dataset/image_<image_series_index>, with their headers
 *   .png  the magnitude images tiled in (set, phase, repetition, contrast, slice) order
 *   .nii  the same stack as NIfTI-1, voxel sizes from the reconSpace FOV
 *   DICOM the same stack, IM<k>.dcm with Instance Number k = 1, 2, ... in that order, geometry
 *         from each image header (io/dicom.h mr_dicom_image_from_ismrmrd: position, read_dir,
 *         phase_dir, field of view), identity from the XML header, Series Number
 *         image_series_index + 1
 * Retrospective masks and slice ranges do not apply there (MR_ERR_ARG).
 *
 * The output appears atomically and only when every slice was reconstructed (a DICOM folder
 * as a whole; with dicom.send it is then stored to the PACS, and a failed send leaves the
 * written folder); an output that is the input file is refused. The format is cfg->format, or
 * by the extension for MR_OUTPUT_AUTO. Every slice / image gets its trust report (pipeline/
 * trust.h; flagged ones are counted in the result, so a caller can fail on them after the
 * images were written); with report_path they are written there as JSON after the images.
 * Errors: MR_ERR_ARG (options, output name), the readers', the
 * pipeline's (named with the slice or acquisition), MR_ERR_IO (writing).
 */
#ifndef MR_PIPELINE_VOLUME_H
#define MR_PIPELINE_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/method.h"
#include "pipeline/output.h"
#include "pipeline/trust.h"

struct mr_volume_config {
    struct mr_method_config method;
    const char *mask_path;       /* fastMRI: .npy mask for retrospective undersampling, or NULL */
    int64_t slice0;              /* fastMRI: slices [slice0, slice1); -1: from the first ... */
    int64_t slice1;              /* ... to the last */
    bool crop;                   /* fastMRI: crop to the header's recon matrix */
    uint16_t image_series_index; /* ISMRMRD: series of the output images */
    enum mr_output_format format; /* MR_OUTPUT_AUTO: by the output's extension */
    struct mr_output_dicom dicom; /* MR_OUTPUT_DICOM: UIDs and sending (borrowed strings) */
    const char *report_path;      /* the trust report of every slice / image as JSON
                                   * (pipeline/trust.h mr_trust_doc), or NULL */
    struct mr_trust_config trust; /* its options */
    /* Called with each slice's (fastMRI: index = slice) or image's (ISMRMRD: 1, 2, ...) trust
     * report, borrowed for the call; an error stops the reconstruction. NULL: none. */
    mr_status (*on_report)(void *arg, int64_t index, const struct mr_trust_report *r);
    void *on_report_arg;
    /* Called after each slice (fastMRI) or image (ISMRMRD); NULL: silent. */
    void (*progress)(void *arg, const char *label, int64_t done, int64_t total, double seconds);
    void *progress_arg;
};
/* *cfg = mr_method_config_init's method, all slices, crop on, series 0, no progress, format
 * by extension, DICOM with unique UIDs and no sending. */
void mr_volume_config_init(struct mr_volume_config *cfg);

/* What a finished reconstruction did (for logs). */
struct mr_volume_result {
    int64_t images;                  /* images written */
    char label[MR_METHOD_NAME_MAX];  /* the method as outputs record it */
    int64_t flagged;                 /* slices / images the trust report flagged */
    char flag[256];                  /* the first flag: "slice 3: <reason>" ("" none) */
};

/* Reconstructs in and writes out (see the top of this file); out NULL: nothing is written
 * (the reports only, e.g. for calibration). result may be NULL. */
mr_status mr_volume_reconstruct(const struct mr_volume_config *cfg, const char *in,
                                const char *out, struct mr_volume_result *result);

/* The end of a reconstruction's report: the flag count and first flag into result (may be
 * NULL), the JSON file when cfg->report_path is set. Errors: MR_ERR_IO. */
mr_status mr_volume_finish_report(const struct mr_volume_config *cfg,
                                  const struct mr_trust_doc *doc,
                                  struct mr_volume_result *result);

/* The ISMRMRD path (volume_ismrmrd.c), for mr_volume_reconstruct. */
mr_status mr_volume_reconstruct_ismrmrd(const struct mr_volume_config *cfg, const char *in,
                                        const char *out, struct mr_volume_result *result);

#endif
