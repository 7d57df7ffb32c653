/*
 * Mask specification strings for the `mrirecon mask` / `maskeval` commands:
 *
 *   KIND[:KEY=VALUE[,KEY=VALUE...]]      e.g. "equispaced:accel=4,center=0.08,seed=0"
 *                                             "random:accel=4/8,center=0.08/0.04,seed=file1.h5"
 *                                             "bart-poisson:accel_y=2,accel_z=2,calib=24"
 *
 * A list value "a/b/c" gives the alternatives that fastMRI/ATOMMIC choose from per call.
 *
 * KIND                 generator (sampling/mask.h)              keys (default)
 * random               fastMRI RandomMaskFunc                    accel (4) center (0.08) any seed
 * equispaced           fastMRI EquiSpacedMaskFunc                accel center any seed offset
 * equispaced-fraction  fastMRI EquispacedMaskFractionFunc        accel center any seed offset
 *                      (= ATOMMIC equispaced1d)
 * magic                fastMRI MagicMaskFunc                     accel center any seed offset
 * magic-fraction       fastMRI MagicMaskFractionFunc             accel center any seed offset
 * equispaced2d         ATOMMIC Equispaced2DMaskFunc              accel center seed
 * gaussian1d           ATOMMIC Gaussian1DMaskFunc                accel center (FWHM, 0.7)
 *                                                                scale (0.02) seed
 * gaussian2d           ATOMMIC Gaussian2DMaskFunc                accel center (0.7) scale seed
 * poisson2d            ATOMMIC Poisson2DMaskFunc                 accel scale (0.02) tol (0.3)
 *                                                                seed
 * bart-poisson         bart poisson                              accel_y (1) accel_z (1)
 *                                                                calib (0) vd (0) ellipse (0)
 *                                                                mindist (1/1.275)
 *                                                                seed (11235)
 * bart-upat            bart upat                                 accel_y (1) accel_z (2)
 *                                                                calib (0)
 *
 * seed=N (0 <= N < 2^32) seeds numpy's RandomState(N); seed=NAME (anything not a number)
 * seeds it with the code points of NAME's base name, as fastMRI's transforms do per file.
 * Without a seed, the generate call seeds from the file name it is given (fastMRI's default
 * use_seed=True behaviour), or with 0 when it has none: masks are always reproducible.
 * any=1 lets fastMRI pick center and accel independently (allow_any_combination).
 * For gaussian1d/2d and poisson2d the samples are drawn from the same generator right after
 * the (center, accel) choice (ATOMMIC draws them from numpy's global generator; call the
 * sampling/mask.h functions with two generators to reproduce that split).
 * BART: the mask's H axis is BART's Z (dims[2]) and W is Y (dims[1]); accel_y/accel_z are -y/-z
 * (upat: the integer steps), calib is -C (upat: -c), vd is -V, ellipse -e.
 */
#ifndef MR_SAMPLING_MASK_SPEC_H
#define MR_SAMPLING_MASK_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"

enum mr_mask_kind {
    MR_MASK_KIND_RANDOM = 0,
    MR_MASK_KIND_EQUISPACED,
    MR_MASK_KIND_EQUISPACED_FRACTION,
    MR_MASK_KIND_MAGIC,
    MR_MASK_KIND_MAGIC_FRACTION,
    MR_MASK_KIND_EQUISPACED2D,
    MR_MASK_KIND_GAUSSIAN1D,
    MR_MASK_KIND_GAUSSIAN2D,
    MR_MASK_KIND_POISSON2D,
    MR_MASK_KIND_BART_POISSON,
    MR_MASK_KIND_BART_UPAT,
};

#define MR_MASK_SPEC_MAX_CHOICES 8

struct mr_mask_spec {
    enum mr_mask_kind kind;
    int naccel;
    double accel[MR_MASK_SPEC_MAX_CHOICES];
    int ncenter;
    double center[MR_MASK_SPEC_MAX_CHOICES];
    bool any_combination;
    bool has_seed;
    uint32_t seed;
    char seed_name[256]; /* non-empty: seed from these code points */
    int64_t offset;      /* -1: drawn */
    double scale;        /* ATOMMIC center_scale */
    double tol;          /* poisson2d */
    double accel_y;      /* BART */
    double accel_z;
    int calib;
    double vardens;
    bool ellipse;
    double mindist;
};

/* Parses `s` into *out (starting from the kind's defaults). Errors: MR_ERR_ARG naming the
 * spec and the offending kind, key or value (and what was expected). */
mr_status mr_mask_spec_parse(const char *s, struct mr_mask_spec *out);

/* Name of a kind ("equispaced-fraction"). */
const char *mr_mask_kind_name(enum mr_mask_kind kind);

/* True for the 1-D column kinds (random, equispaced*, magic*, gaussian1d). */
bool mr_mask_kind_is_1d(enum mr_mask_kind kind);

/* What a generate call chose and produced. */
struct mr_mask_result {
    double accel;  /* the acceleration chosen (ATOMMIC equispaced2d: 2 trunc(acc/2)) */
    double center; /* the centre fraction / FWHM chosen (0 where unused) */
    int64_t nlow;  /* fastMRI num_low_frequencies (1-D fastMRI kinds), else 0 */
    int64_t points; /* BART poisson: the count BART prints; else sampled entries (1-D: columns) */
};

/*
 * Generates the mask of `spec` for k-space of h rows and w columns:
 *   mask     initialised here as (h, w) F32 (1-D kinds broadcast along h); caller cleans up.
 *   column   may be NULL; for 1-D kinds initialised as the length-w column vector, for 2-D
 *            kinds left empty (data NULL).
 *   fname    may be NULL; used for seeding when the spec has no seed (see above).
 *   result   may be NULL.
 * Errors: MR_ERR_ARG (sizes, parameters the generator rejects), MR_ERR_DATA (poisson2d cannot
 * reach the acceleration), MR_ERR_NOMEM. On failure mask and column are left empty.
 */
mr_status mr_mask_spec_generate(const struct mr_mask_spec *spec, int64_t h, int64_t w,
                                const char *fname, struct mr_array *mask,
                                struct mr_array *column, struct mr_mask_result *result);

#endif
