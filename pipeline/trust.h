/*
 * Can this image be trusted? The per-reconstruction report of one slice, for every method and
 * network (pipeline.h mr_pipeline_run_report), and the out-of-distribution score of a network
 * against reference statistics stored in its weight file.
 *
 * The numbers (recon/dc.h), each a ratio, so independent of k-space scaling and FFT norm:
 *   residual          ‖M ⊙ (F S x) − y‖ / ‖M ⊙ y‖   of the result: how far the image's k-space
 *                     is from the measured samples (F S x: the method's own k-space estimate —
 *                     S x for SENSE-type methods and CIRIM / LPN, the cascades' multi-coil
 *                     k-space for E2EVN and RecurrentVarNet, the measured data for zf)
 *   unsampled         ‖(1 − M) ⊙ F S x‖ / ‖M ⊙ y‖   what the result holds where nothing was
 *                     measured, relative to the measured energy
 *   steps             both after every cascade / time step / iteration (index 0 = the initial
 *                     estimate), as the computation reports them through its probes
 *   objective, regularizer   LPN plug-and-play: the objective per iteration and R(x) of the
 *                     result, R evaluated per patch at the last prox (networks/lpn_tiler.h)
 *   unsampled_vs_cg   opt-in (mr_trust_config.cg_reference): unsampled / the same of a CG-SENSE
 *                     reconstruction of the slice (the k-space energy the network added beyond
 *                     what a linear reconstruction puts there)
 *
 * Input features (pipeline.h fills them from the slice's mask): the acceleration H·W / sampled
 * points and the mask's kind — columns (every sampled column fully sampled: 1-D along W, as
 * fastMRI's masks), rows (1-D along H), 2-D, or full.
 *
 * Out-of-distribution score: a weight file may carry the root attribute "trust_reference"
 * (JSON, weights/README.md): over in-distribution slices the mean μ and standard deviation σ
 * of log10(residual), log10(unsampled) and log10(reduction), reduction = the initial estimate's
 * residual / the result's (how much the network pulled its estimate towards the data; methods
 * with one estimate have none), the mask kinds and the acceleration range seen, and a
 * threshold. The score is the largest of
 *   (log10 residual − μ) / σ        a residual above the reference (below is never suspicious)
 *   |log10 unsampled − μ| / σ       unsampled energy too low or too high
 *   (μ − log10 reduction) / σ       the network moved its estimate less than it does in
 *                                   distribution
 *   (log10 outlier − μ) / σ         a measured line far stronger than its neighbours (a spike,
 *                                   a corrupted line: mr_trust_line_outlier)
 * (each σ at least MR_TRUST_SIGMA_MIN); the slice is flagged when score > threshold, or when its
 * mask kind was never seen in calibration, or its acceleration lies outside the calibrated range
 * by more than a factor MR_TRUST_ACCEL_MARGIN. Without a reference there is no score (NaN) and
 * no flag. `mrirecon calibrate` fits a reference (mr_trust_reference_fit) and stores it
 * (mr_trust_reference_store).
 */
#ifndef MR_PIPELINE_TRUST_H
#define MR_PIPELINE_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/probe.h"
#include "recon/status.h"

#define MR_TRUST_STEPS_MAX 1024      /* per-step values kept (later ones are counted only) */
#define MR_TRUST_SIGMA_MIN 0.05      /* decades: the least spread a reference may claim */
#define MR_TRUST_THRESHOLD_MIN 4.0   /* a fitted threshold is at least this many σ */
#define MR_TRUST_ACCEL_MARGIN 1.5   /* accelerations within [min / m, max · m] are in range */
#define MR_TRUST_ATTRIBUTE "trust_reference"

/* The mask kinds, as bits (a reference holds the set it saw). */
enum mr_trust_mask_kind {
    MR_TRUST_MASK_COLUMNS = 1,
    MR_TRUST_MASK_ROWS = 2,
    MR_TRUST_MASK_2D = 4,
    MR_TRUST_MASK_FULL = 8,
};
/* "columns", "rows", "2d", "full" (or "none" for 0). */
const char *mr_trust_mask_kind_name(unsigned kind);

/* The kind and acceleration of an (H, W) F32 mask (nonzero = sampled; accel 0 if none). */
void mr_trust_mask_features(const float *mask, int64_t h, int64_t w, unsigned *kind,
                            double *accel);

/* The largest ratio of a sampled k-space line's energy (Σ over coils and the line of |y|²) to
 * the median of its MR_TRUST_OUTLIER_NEIGHBOURS sampled neighbours nearest in distance from the
 * centre line (W/2 or H/2): ≫ 1 for a spike, a corrupted or mis-scaled line. ksp (C, H, W) CF32
 * complex data as float pairs; lines along the mask kind (columns or rows); NaN for other
 * kinds or fewer than MR_TRUST_OUTLIER_NEIGHBOURS + 1 lines. */
#define MR_TRUST_OUTLIER_NEIGHBOURS 4
double mr_trust_line_outlier(const float *ksp, const float *mask, int64_t nc, int64_t h,
                             int64_t w, unsigned kind);

/* What a reference is fitted to, per slice (from a report, mr_trust_features_of). */
struct mr_trust_features {
    double residual;
    double unsampled;
    double reduction; /* NaN: one estimate, or a zero residual */
    double outlier;   /* mr_trust_line_outlier of the measured k-space */
    double accel;
    unsigned mask_kind;
};

struct mr_trust_config {
    bool cg_reference; /* also reconstruct by CG-SENSE for unsampled_vs_cg (costs a CG) */
};

/* One slice's report. NaN marks what the method does not report. */
struct mr_trust_report {
    double residual;
    double unsampled;
    int nsteps;                              /* estimates reported (≤ MR_TRUST_STEPS_MAX kept) */
    double step_residual[MR_TRUST_STEPS_MAX];
    double step_unsampled[MR_TRUST_STEPS_MAX];
    int nobjective;
    double objective[MR_TRUST_STEPS_MAX];    /* LPN PnP, per iteration */
    double regularizer;                      /* LPN PnP: R of the result */
    double unsampled_vs_cg;                  /* opt-in */
    double reduction;                        /* step_residual[0] / residual, or NaN */
    double outlier;                          /* mr_trust_line_outlier of the input */
    double accel;                            /* of the mask */
    unsigned mask_kind;
    double score;                            /* NaN without a reference */
    bool flagged;
    char reason[160];                        /* why it was flagged ("" when not) */
};

/* Sets every number to NaN, counts to 0, no flag. */
void mr_trust_report_reset(struct mr_trust_report *r);

/* A probe (values only) that records a computation's numbers into r (borrowed): the last
 * "…dc_residual" / "…unsampled_energy" are the result's, "…objective" per iteration,
 * "…regularizer" the last one. */
struct mr_probe mr_trust_probe(struct mr_trust_report *r);

struct mr_trust_stat {
    double mean; /* of log10 of the feature */
    double std;  /* NaN: the feature is not used (no usable values in calibration) */
};

struct mr_trust_reference {
    int64_t slices;          /* how many slices it was fitted on */
    struct mr_trust_stat residual;
    struct mr_trust_stat unsampled;
    struct mr_trust_stat reduction;
    struct mr_trust_stat outlier;
    double accel_min;        /* accelerations seen */
    double accel_max;
    unsigned mask_kinds;     /* mask kinds seen (bits) */
    double threshold;        /* flag when score > threshold */
    char data[256];          /* what it was fitted on (free text) */
};

/* The features of a finished report (reduction set from its steps). */
struct mr_trust_features mr_trust_features_of(const struct mr_trust_report *r);

/* Sets r->score, r->flagged and r->reason against ref (see the top of this file). */
void mr_trust_score(struct mr_trust_report *r, const struct mr_trust_reference *ref);

/* Fits a reference to n slices' features (at least 2 with finite positive residual and
 * unsampled): the statistics of the logs (σ ≥ MR_TRUST_SIGMA_MIN), the mask kinds and
 * acceleration range, and the threshold max(MR_TRUST_THRESHOLD_MIN, 1.25 × the largest score
 * among them); data is free text naming them. Errors: MR_ERR_DATA (fewer than 2 usable). */
mr_status mr_trust_reference_fit(const struct mr_trust_features *f, int64_t n, const char *data,
                                 struct mr_trust_reference *out);

/* JSON text ↔ reference. _json returns malloc'd text (NULL: out of memory). _parse errors:
 * MR_ERR_FORMAT naming the field (what names the file for messages). */
char *mr_trust_reference_json(const struct mr_trust_reference *ref);
mr_status mr_trust_reference_parse(const char *json, const char *what,
                                   struct mr_trust_reference *out);

/* Reads the reference of a weight file: *present false when it has none. Errors: the HDF5
 * reader's, MR_ERR_FORMAT (a malformed attribute). */
mr_status mr_trust_reference_read(const char *weights, struct mr_trust_reference *out,
                                  bool *present);

/* Stores ref as the weight file's "trust_reference" attribute, replacing the file atomically
 * (everything else in it unchanged). Errors: MR_ERR_IO, the HDF5 writer's. */
mr_status mr_trust_reference_store(const char *weights, const struct mr_trust_reference *ref);

/* One slice's report as a JSON object text (malloc'd; NULL: out of memory): the numbers,
 * "steps" [{residual, unsampled}], "objective" [...], score, flagged, reason; NaN as null. */
char *mr_trust_report_json(const struct mr_trust_report *r);

/* One line for an image's comments (DICOM Image Comments): "mrirecon trust: dc_residual R,
 * score S, flag F[: reason]" as the stage's meta attributes give it (io/dicom.h). */
void mr_trust_report_summary(const struct mr_trust_report *r, char *buf, size_t len);

/*
 * The report file of one reconstruction (`recon --report FILE.json`):
 *   {"input": …, "method": …, "reference": {…} | null, "flagged": n, "max_score": …,
 *    "slices": [{"slice": i, <mr_trust_report_json>}, …]}
 * (ISMRMRD inputs: "image": k = 1, 2, … in output order instead of "slice").
 */
struct mr_trust_doc;

/* ref NULL: the method has no trust reference. Errors: MR_ERR_NOMEM. */
mr_status mr_trust_doc_create(const char *input, const char *method,
                              const struct mr_trust_reference *ref, struct mr_trust_doc **out);
void mr_trust_doc_free(struct mr_trust_doc *d);

/* Appends one slice's (key "slice") or image's (key "image") report. Errors: MR_ERR_NOMEM. */
mr_status mr_trust_doc_add(struct mr_trust_doc *d, const char *key, int64_t index,
                           const struct mr_trust_report *r);

/* Reports added so far that were flagged. */
int64_t mr_trust_doc_flagged(const struct mr_trust_doc *d);

/* The first flagged report's key, index and reason (for messages); false when none. */
bool mr_trust_doc_first_flag(const struct mr_trust_doc *d, const char **key, int64_t *index,
                             const char **reason);

/* Writes the document to path atomically (io/atomic_file.h). Errors: MR_ERR_IO. */
mr_status mr_trust_doc_write(const struct mr_trust_doc *d, const char *path);

#endif
