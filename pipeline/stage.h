/*
 * The streaming reconstruction stage (STYLE.md: push acquisitions, images leave via a sink).
 * `mrirecon stage` (MRD stream over stdin or TCP) and `mrirecon recon` on ISMRMRD files both
 * drive one of these.
 *
 *   mr_stage_create(cfg, header XML, sink)   geometry from the header (io/ismrmrd_header.h)
 *   mr_stage_push(stage, acquisition)        one readout at a time, in acquisition order
 *   mr_stage_close(stage)                    reconstructs whatever is still buffered
 *   mr_stage_free(stage)
 *
 * Geometry (first <encoding>, Cartesian 2-D; 3-D encodings and non-Cartesian trajectories are
 * MR_ERR_UNSUPPORTED). x is the readout, y the phase encoding:
 *   W = reconSpace x, H = max(encodedSpace y, reconSpace y); every slice is k-space (C, H, W)
 *   CF32, C = active_channels of the first acquisition (all must agree), centred: DC at
 *   (H/2, W/2). Images are (ny, W) with ny = reconSpace y (the centre rows of H).
 *
 * What happens to each acquisition (flags are ISMRMRD_ACQ_* bit numbers):
 *   IS_NOISE_MEASUREMENT   accumulates the noise covariance Ψ = mean_s n_s n_s^H (C×C). At the
 *                          first other acquisition Ψ is scaled by noise dwell time / data dwell
 *                          time (noise power grows with bandwidth) and factored, Ψ = L L^H
 *                          (Cholesky); every later sample vector x is whitened, x <- L^-1 x, so
 *                          the coils' noise becomes white with unit variance. Noise lines after
 *                          that point are ignored. Without noise lines nothing is whitened.
 *   IS_NAVIGATION_DATA, IS_PHASECORR_DATA, IS_DUMMYSCAN_DATA, IS_HPFEEDBACK_DATA,
 *   IS_RTFEEDBACK_DATA, IS_SURFACECOILCORRECTIONSCAN_DATA, IS_PHASE_STABILIZATION(_REFERENCE),
 *   encoding_space_ref != 0: skipped.
 *   IS_PARALLEL_CALIBRATION            calibration only: kept per slice index for coil maps.
 *   IS_PARALLEL_CALIBRATION_AND_IMAGING both calibration and imaging.
 *   anything else                      imaging.
 * The numerics are recon/prewhiten.h (noise covariance, Cholesky, whitening) and
 * recon/readout.h (one line's samples into the W-long k-space row). Readout processing of a
 * line of ns samples:
 *   1. whiten (above); 2. samples [discard_pre, ns - discard_post) are kept, the rest zeroed
 *   (in acquisition order); 3. IS_REVERSE: the samples are reversed, r[s] = d[ns - 1 - s];
 *   4. sample s goes to readout position s + encX/2 - center_sample of an encX-long line
 *   (encX = encodedSpace x; center_sample 0 is read as ns/2, "unset"); samples outside are
 *   dropped and positions not reached stay zero (asymmetric echo zero-filled in place);
 *   5. when encX != W: centred 1-D IFFT over encX, keep (or zero-pad to) the centre W samples
 *   (start (encX - W)/2), centred 1-D FFT back over W (both orthonormal): readout
 *   oversampling removed.
 * The line then lands at row kspace_encode_step_1 + H/2 - encodingLimits.kspace_encoding_step_1
 * .center (offset 0 without limits in the header); a row outside [0, H) is MR_ERR_DATA.
 * Rows never acquired stay zero (partial Fourier zero-filled); the sampling mask marks the
 * acquired rows. Imaging lines accumulate per (slice, contrast, phase, repetition, set);
 * repeated rows (averages, or the same line twice) are averaged.
 *
 * Triggers: LAST_IN_SLICE reconstructs that buffer at once (so images leave while later slices
 * stream in); LAST_IN_REPETITION every open buffer of that repetition; LAST_IN_MEASUREMENT and
 * mr_stage_close every open buffer, in the order they were opened. Averages must therefore
 * arrive before their slice's LAST_IN_SLICE line.
 *
 * Coil maps (for methods that use them): from the slice's calibration lines when it has any
 * (ESPIRiT, or the low-resolution ACS maps of recon/coils.h, per `maps`: mr_pipeline_maps),
 * computed once and
 * reused for later repetitions/contrasts of that slice until new calibration lines arrive; else
 * from the fully sampled centre of the slice's own k-space.
 *
 * The per-slice reconstruction is the pipeline (pipeline/pipeline.h) with the configured method;
 * the stage passes the coil maps it made from the calibration lines to methods that use them.
 *
 * Images: ISMRMRD images, float magnitude, matrix (W, ny, 1), field of view = reconSpace FOV,
 * channels 1, position / read_dir / phase_dir / slice_dir / patient_table_position /
 * measurement_uid / time stamps copied from the acquisition at the centre row (or the first
 * imaging line), slice / contrast / phase / repetition / set from the buffer (average 0:
 * combined), image_type MAGNITUDE, image_index counting from 1, image_series_index from the
 * config, and meta XML attributes: the method (mrirecon.recon) and the image's trust report
 * (pipeline/trust.h): mrirecon.dc_residual, mrirecon.unsampled_energy, mrirecon.trust_score
 * ("nan" without a reference in the weight file), mrirecon.trust_flag (0 or 1) and, when
 * flagged, mrirecon.trust_reason.
 *
 * Errors: MR_ERR_FORMAT (header does not parse, inconsistent acquisition), MR_ERR_UNSUPPORTED
 * (geometry), MR_ERR_DATA (line outside the matrix, channel count changes, too many open
 * slices, noise covariance not positive definite, no calibration data, a readout whose
 * discard or center_sample leaves no sample in the line: recon/readout.h), MR_ERR_NOMEM, and
 * the pipeline's and sink's own. After an error the stage should be freed.
 */
#ifndef MR_PIPELINE_STAGE_H
#define MR_PIPELINE_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ismrmrd/ismrmrd.h>

#include "io/ismrmrd_header.h"
#include "pipeline/method.h"
#include "pipeline/trust.h"
#include "recon/array.h"

struct mr_stage_config {
    struct mr_method_config method; /* the per-slice reconstruction; maps: espirit | acs */
    uint16_t image_series_index;    /* written into every image (0: file group "image_0") */
    int max_open; /* >= 1: buffers open at once (slices + calibration), and slices with
                   * cached coil maps */
    struct mr_trust_config trust; /* the trust report's options (default: all off) */
};
/* *cfg = CG-SENSE (mr_method_config_init otherwise), series 0, 256 open buffers. */
void mr_stage_config_init(struct mr_stage_config *cfg);

/*
 * The config text of an MRD stream (message id 2) and of `mrirecon stage --config`:
 *
 *   key=value pairs separated by newlines, ';' or blanks; '#' starts a comment to the end of
 *   the line:          method=cs  iterations=50  lambda=0.005  maps=acs
 *   or XML (text starting with '<'), Gadgetron style: every <property name="KEY" value="V"/>
 *   element anywhere in the document is one pair; other elements are ignored, so an empty
 *   <configuration/> keeps the defaults.
 *
 * Keys: those of mr_method_config_set (method, weights, iterations, lambda, maps,
 * espirit_crop) and series (image_series_index, 0..65535). Unknown keys or bad values:
 * MR_ERR_ARG naming them (cfg may then be partly updated); malformed XML: MR_ERR_FORMAT.
 */
mr_status mr_stage_config_set(struct mr_stage_config *cfg, const char *key, const char *value);
mr_status mr_stage_config_parse_text(struct mr_stage_config *cfg, const char *text, size_t len);

/* Where images go. image: called once per image as soon as it is reconstructed; im is
 * borrowed for the call (copy what you keep). An error fails the push or close that
 * triggered it. */
struct mr_stage_sink {
    mr_status (*image)(void *ctx, const ISMRMRD_Image *im);
    void *ctx;
};

struct mr_stage;

/* Parses the XML header (len bytes) and prepares the geometry. cfg and sink are copied; the
 * pipeline and buffers are made at the first acquisition, when the channel count is known.
 * Errors: MR_ERR_FORMAT, MR_ERR_UNSUPPORTED, MR_ERR_ARG (config), MR_ERR_NOMEM. */
mr_status mr_stage_create(const struct mr_stage_config *cfg, const char *xml, size_t len,
                          const struct mr_stage_sink *sink, struct mr_stage **out);
void mr_stage_free(struct mr_stage *s);

/* One acquisition (borrowed for the call). May call the sink (triggers above). */
mr_status mr_stage_push(struct mr_stage *s, const ISMRMRD_Acquisition *acq);

/* Reconstructs every buffer still open (end of stream). */
mr_status mr_stage_close(struct mr_stage *s);

/* Imaging buffers currently open (slices waiting for their last line). */
int mr_stage_open_slices(const struct mr_stage *s);

/* Images emitted so far. */
int64_t mr_stage_images(const struct mr_stage *s);

/* Acquisitions pushed so far (every kind). */
int64_t mr_stage_acquisitions(const struct mr_stage *s);

/* The method as images record it ("cg", "cirim", ...; "" before the first acquisition). */
const char *mr_stage_label(const struct mr_stage *s);

/* The parsed header (borrowed). */
const struct mr_ismrmrd_header *mr_stage_header(const struct mr_stage *s);

/* The trust report (pipeline/trust.h) of the image being passed to the sink: valid during the
 * sink's image call (borrowed), NULL before the first acquisition. */
const struct mr_trust_report *mr_stage_report(const struct mr_stage *s);

/* Whether the stage's method has a trust reference (weight file), *ref = it; false before the
 * first acquisition created the method. */
bool mr_stage_trust_reference(const struct mr_stage *s, struct mr_trust_reference *ref);

#endif
