/*
 * Undersampling mask generators, bit-exact with the reference implementations
 * (../shared/specs/sampling.md): fastMRI `subsample.py` (§1), ATOMMIC `subsample.py` (§2) and
 * BART 0.8.00 `poisson` / `upat` (§3).
 *
 * Mask layout (defined here once for the project): a mask is float 0/1.
 *   1-D column masks: a vector over the W k-space columns (phase encodes, the last axis of
 *     (coils, H, W) k-space), index = column; broadcast along H when applied.
 *   2-D masks: (H, W) C order, mask[r * W + c]. For BART masks H = Z (dims[2]) and W = Y
 *     (dims[1]): mask[iz * Y + iy], i.e. exactly the memory of BART's cfl (Y fastest).
 *   Centred: DC at index W/2 (and H/2), like fastMRI k-space, except where noted (ATOMMIC's
 *   Gaussian 1-D mask is returned uncentred, as ATOMMIC returns it).
 *
 * Randomness: every generator that draws takes a `struct mr_rng` (numpy's legacy RandomState,
 * sampling/rng.h) and consumes from it in exactly the reference order. A reference "mask
 * function call" is  [optional reseed] -> mr_mask_choose() -> generator  on the same rng
 * (fastMRI), or choose on the object's rng and draw the Gaussian samples on the global numpy
 * rng (ATOMMIC gaussian1d/2d: pass a second rng).
 *
 * Rounding: `rhe` = round half to even (Python round(), numpy.around) is nearbyint() under the
 * default rounding mode.
 *
 * All generators write into caller memory (n or h*w floats), overwrite every element, and fail
 * only on invalid arguments (MR_ERR_ARG, message names the generator and the value).
 */
#ifndef MR_SAMPLING_MASK_H
#define MR_SAMPLING_MASK_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/status.h"
#include "sampling/rng.h"

/* fastMRI MaskFunc.choose_acceleration (§1.1 step 2). Without any_combination, ncf == nacc and
 * i = randint(0, n) picks the pair (no draw when n == 1); with it, cf = choice(cfs) and then
 * acc = choice(accs). ATOMMIC's choice is the same as the default. */
void mr_mask_choose(struct mr_rng *rng, int ncf, const double *cfs, int nacc, const double *accs,
                    bool any_combination, double *cf, double *acc);

/* nlow = rhe(n * cf); mask[pad .. pad + nlow) = 1 with pad = (n - nlow + 1) / 2, rest 0.
 * Errors: cf outside [0, 1]. */
mr_status mr_mask_center_1d(float *mask, int64_t n, double cf, int64_t *nlow);

/* fastMRI RandomMaskFunc (§1.2): n uniforms u_j, column j sampled iff u_j < prob with
 * prob = (n/acc - nlow) / (n - nlow), OR the centre. nlow (may be NULL) receives the centre
 * width. Errors: n < 1, acc <= 0, cf outside [0, 1), nlow == n. */
mr_status mr_mask_fastmri_random(float *mask, int64_t n, double cf, double acc,
                                 struct mr_rng *rng, int64_t *nlow);

/* fastMRI EquiSpacedMaskFunc (§1.3): columns offset + k*acc (acc integer), offset =
 * randint(0, acc) when offset < 0, OR the centre (an offset >= n adds nothing, as in numpy).
 * Errors: acc not a positive integer. */
mr_status mr_mask_fastmri_equispaced(float *mask, int64_t n, double cf, double acc,
                                     int64_t offset, struct mr_rng *rng, int64_t *nlow);

/* fastMRI EquispacedMaskFractionFunc (§1.4) = ATOMMIC equispaced1d: spacing
 * adj = acc (nlow - n) / (nlow acc - n), offset = randint(0, rhe(adj)) when offset < 0,
 * columns rhe(numpy.arange(offset, n - 1, adj)), OR the centre.
 * Errors: n < 2, acc <= 1, nlow * acc >= n, rhe(adj) < 1. */
mr_status mr_mask_fastmri_equispaced_fraction(float *mask, int64_t n, double cf, double acc,
                                              int64_t offset, struct mr_rng *rng,
                                              int64_t *nlow);

/* fastMRI MagicMaskFunc (§1.5, Defazio 2019 conjugate-symmetric offsets), acc integer,
 * offset = randint(0, acc) when offset < 0. */
mr_status mr_mask_fastmri_magic(float *mask, int64_t n, double cf, double acc, int64_t offset,
                                struct mr_rng *rng, int64_t *nlow);

/* fastMRI MagicMaskFractionFunc (§1.5): centre of max(min(rhe(n cf), rhe(n/acc)), 1) columns,
 * Magic with acc' = rhe(n / (rhe(n/acc) - nlow)). Errors: no columns left for acc'. */
mr_status mr_mask_fastmri_magic_fraction(float *mask, int64_t n, double cf, double acc,
                                         int64_t offset, struct mr_rng *rng, int64_t *nlow);

/* ATOMMIC equispaced2d (§2): (h, w) mask, acc2 = trunc(acc/2), centre rectangle from cf/2 on
 * each axis, plus every (i, j) with i, j multiples of acc2. No randomness. *acc_out (may be
 * NULL) = 2 * acc2, the acceleration ATOMMIC reports. Errors: acc < 2. */
mr_status mr_mask_atommic_equispaced_2d(float *mask, int64_t h, int64_t w, double cf, double acc,
                                        double *acc_out);

/* ATOMMIC gaussian1d (§2): fwhm = the chosen "center fraction" (in units of k in [-1, 1]),
 * centre band of trunc(w * center_scale) columns, trunc(w/acc) distinct columns drawn with
 * choice(w, replace=False, p = normalised Gaussian) from rng, then rolled as ATOMMIC does
 * (DC at index 0 for even w). Errors: w < 2, fwhm <= 0, acc <= 0, too many samples. */
mr_status mr_mask_gaussian_1d(float *mask, int64_t w, double fwhm, double acc,
                              double center_scale, struct mr_rng *rng);

/* ATOMMIC gaussian2d (§2): (h, w) mask, centred; ellipse ((r - h/2)/(s h))^2 +
 * ((c - w/2)/(s w))^2 < 1 (s = center_scale) fully sampled, plus trunc(h w / acc) distinct
 * pixels drawn with choice(h*w, replace=False, p ∝ sqrt(g_h(r) g_w(c))) from rng.
 * Errors: h or w < 2, fwhm <= 0, acc <= 0, too many samples, out of memory. */
mr_status mr_mask_gaussian_2d(float *mask, int64_t h, int64_t w, double fwhm, double acc,
                              double center_scale, struct mr_rng *rng);

/* ATOMMIC poisson2d (§2; SigPy's variable-density Poisson disc, Bridson 2007): density
 * ∝ 1/(1 + s |r|) with a bisection on s in [0, 40] until |h w / count - acc| < tol, then OR-ed
 * with a centred disc of radius trunc(h * center_scale). ATOMMIC draws inside numba (not
 * reproducible); here all draws come from rng with numpy's randint/random semantics, so the
 * same algorithm run in numpy with a seeded global generator gives the same mask. */
struct mr_poisson2d_config {
    double center_scale; /* 0.02 */
    double calib[2];     /* (rows, cols) of a fully sampled box, (0, 0) */
    bool crop_corner;    /* true: drop points with normalised radius >= 1 */
    int max_attempts;    /* 30 */
    double tol;          /* 0.3 */
};
extern const struct mr_poisson2d_config mr_poisson2d_config_default;

/* Errors: h or w < 2, acc <= 1, MR_ERR_DATA when the target acceleration cannot be met
 * (ATOMMIC raises ValueError), MR_ERR_NOMEM. *acc_out (may be NULL) = the achieved h w / count
 * before the centre disc is added (the value ATOMMIC tests against tol). */
mr_status mr_mask_poisson_2d(float *mask, int64_t h, int64_t w, double acc,
                             const struct mr_poisson2d_config *cfg, struct mr_rng *rng,
                             double *acc_out);

/* BART 0.8.00 `poisson` (§3.2). Defaults = BART's. The output is (z, y) (see the layout note). */
struct mr_bart_poisson_config {
    int y;           /* -Y, 128 */
    int z;           /* -Z, 128 */
    float accel_y;   /* -y, 1 (>= 1) */
    float accel_z;   /* -z, 1 (>= 1) */
    int calib;       /* -C, 0 */
    float vardens;   /* -V, 0; BART's -v alone means 20 */
    bool ellipse;    /* -e */
    float mindist;   /* -D, 1/1.275 */
    unsigned seed;   /* -s, 11235 */
};
extern const struct mr_bart_poisson_config mr_bart_poisson_config_default;

/* mask: z*y floats. *points (may be NULL) = the count BART prints ("points: P"). BART's RNG is
 * glibc rand_r(), reimplemented here. Errors: sizes < 1, accel < 1, calib > min(y, z),
 * vardens < 0, MR_ERR_NOMEM. */
mr_status mr_mask_bart_poisson(float *mask, const struct mr_bart_poisson_config *cfg,
                               int64_t *points);

/* BART `upat` (§3.1): mask (z, y); sample (iy, iz) iff (iy % uy == 0 && iz % uz == 0) or
 * (|2 iy - y| < 2 cen && |2 iz - z| < 2 cen). BART defaults y = z = 128, uy = 1, uz = 2,
 * cen = 0. Errors: sizes or steps < 1, cen < 0. */
mr_status mr_mask_bart_upat(float *mask, int y, int z, int uy, int uz, int cen);

#endif
