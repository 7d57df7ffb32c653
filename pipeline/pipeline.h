/*
 * "Reconstruct one slice", for every method (pipeline/method.h): the one place every command's
 * reconstruction passes through.
 *
 *   mr_pipeline_create(cfg, nc, h, w, &p)   the method for this size, plus map scratch
 *   mr_pipeline_run(p, &slice, mag)         one slice: maps as configured, the method, checks
 *   mr_pipeline_run_report(p, &slice, mag, &report)   the same with its trust report (trust.h)
 *   mr_pipeline_free(p)
 *
 * Coil maps for a method that needs them: the slice's own (slice.maps) when the caller has
 * them (a file's sensitivity_map, the stage's calibration lines, maps shared between methods);
 * otherwise by cfg->maps: MR_MAPS_ESPIRIT computes ESPIRiT of the slice's calibration region
 * (mr_pipeline_maps), MR_MAPS_ACS lets the method estimate them from the ACS itself (cg and cs
 * refine them, recon/classic.h), MR_MAPS_FILE without maps is MR_ERR_ARG.
 *
 * Checks on every slice (so no command writes a wrong image): the k-space must be finite; its
 * magnitude must stay inside the range where float arithmetic is safe (MR_KSPACE_SAFE_MAX):
 * larger (or tiny, below MR_KSPACE_SAFE_MIN) k-space is scaled by a power of two into range for
 * methods whose result scales with the data (zf, sense, cg, cs and the networks that normalise
 * their input), and the image scaled back — exact, since powers of two only move exponents;
 * a method whose output does not scale with its input fails with MR_ERR_DATA instead. The
 * image must be finite, and not all zero unless the k-space is (MR_ERR_DATA naming the method
 * otherwise).
 *
 * One pipeline per thread; everything is allocated at create.
 */
#ifndef MR_PIPELINE_PIPELINE_H
#define MR_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/method.h"
#include "pipeline/trust.h"
#include "recon/array.h"

/* k-space magnitudes in [MR_KSPACE_SAFE_MIN, MR_KSPACE_SAFE_MAX] are used as they are:
 * squares and sums over a 512² × 64-coil slice stay far from float overflow (3.4e38) and
 * from subnormals (1.2e-38). */
#define MR_KSPACE_SAFE_MAX 1e15f
#define MR_KSPACE_SAFE_MIN 1e-15f

struct mr_pipeline;

/* Looks cfg->name up and creates the method for nc coils of h×w (cfg is copied).
 * Errors: MR_ERR_ARG (unknown method, listing the known ones; a weight file missing or given
 * to a method that takes none), and the method's own, with the method named. */
mr_status mr_pipeline_create(const struct mr_method_config *cfg, int64_t nc, int64_t h,
                             int64_t w, struct mr_pipeline **out);
void mr_pipeline_free(struct mr_pipeline *p);

/* Whether the method uses coil maps (so a caller may share or cache them). */
bool mr_pipeline_needs_maps(const struct mr_pipeline *p);

/* The name outputs record: the row's label (e.g. "cg", "cirim"). */
const char *mr_pipeline_label(const struct mr_pipeline *p);

/* The configuration the pipeline was made with (borrowed). */
const struct mr_method_config *mr_pipeline_config(const struct mr_pipeline *p);

/*
 * maps (C, H, W) CF32 = ESPIRiT (cfg->espirit, with the kernel and calibration size clamped to
 * the matrix) of ksp (C, H, W), or with cfg->maps == MR_MAPS_ACS the low-resolution ACS maps of
 * recon/coils.h (no refinement). For callers that share maps between methods or cache them.
 * Errors: those of recon/espirit.h and recon/coils.h.
 */
mr_status mr_pipeline_maps(struct mr_pipeline *p, const struct mr_array *ksp,
                           const struct mr_array *mask, struct mr_array *maps);

/* mag (H, W) F32 = the method's reconstruction of one slice (see the top of this file).
 * Errors: MR_ERR_SHAPE (an input of the wrong shape), MR_ERR_DATA, the method's own. */
mr_status mr_pipeline_run(struct mr_pipeline *p, const struct mr_slice *s, struct mr_array *mag);

/* mr_pipeline_run, and *report = the slice's trust report (pipeline/trust.h; report NULL: none):
 * the method's numbers, scored against the weight file's trust reference when it has one, and
 * with mr_pipeline_set_trust's cg_reference the CG-SENSE comparison. Errors: as
 * mr_pipeline_run, and the CG-SENSE reference's (named so). */
mr_status mr_pipeline_run_report(struct mr_pipeline *p, const struct mr_slice *s,
                                 struct mr_array *mag, struct mr_trust_report *report);

/* Report options (default: all off): cg_reference creates a CG-SENSE pipeline for the same size
 * (allocation here, not per slice). Errors: the CG pipeline's. */
mr_status mr_pipeline_set_trust(struct mr_pipeline *p, const struct mr_trust_config *tc);

/* Whether the method's weight file carries a trust reference (read at create; a malformed one
 * fails create with MR_ERR_FORMAT); *ref = it when ref is not NULL. */
bool mr_pipeline_trust_reference(const struct mr_pipeline *p, struct mr_trust_reference *ref);

#endif
