/*
 * Plug-and-play solvers with a proximal prior (recon/prior.h), for
 *
 *     min_x  ½‖A x − y‖² + R(x)        A: any linear operator (SENSE: recon/sense.h)
 *
 * where R is known only through its prox. The reference is the LPN paper's code
 * (github:ZhenghanFang/learned-proximal-networks, lpn/inverse_celeba.py main_celeba_pgd and
 * lpn/utils/admm.py; shared/specs/lpn.md §7–8). Images are CF32 of A's input shape.
 *
 * PGD (proximal gradient, §7.1 / §8.3):
 *     x₀ = Aᴴy   (or the caller's x with warm_start)
 *     z_k = x_{k−1} − η Aᴴ(A x_{k−1} − y)
 *     x_k = prox_{λη R}(z_k)
 *   η = step. A fixed point minimises ½‖Ax − y‖² + λR(x). With an LPN prior the prox has unit
 *   step whatever λη is, so η itself sets the prior weight (R/η).
 *
 * ADMM (scico's ADMM with order "132", §7.2 / §8.4), f(x) = s‖y − Ax‖², penalty ρ:
 *     x₀ = Aᴴy (or the caller's x), z = x₀, u = 0
 *     1. x ← (2s AᴴA + ρI)⁻¹ (2s Aᴴy + ρ(z − u))   by CG warm-started at x (recon/cg.h, solved
 *        as (AᴴA + ρ/(2s) I) x = Aᴴy + ρ/(2s)(z − u): the same system, the same relative
 *        residual test ‖r‖ ≤ cg_tol‖b‖)
 *     2. u ← u + x − z          (the old z)
 *     3. z ← prox_{(λ/ρ) R}(x + u)
 *   The solver returns x (not z).
 *
 * Stopping: `iters` iterations (the reference's only rule), or earlier when tol > 0 and
 * ‖x_k − x_{k−1}‖ ≤ tol·‖x_k‖.
 *
 * Probes (recon/probe.h; index −1): "x_00" the start x₀, then for every iteration k ≥ 1
 * "z_<kk>" (PGD: the prox input z_k; ADMM: the split variable z after step 3) and "x_<kk>"
 * the iterate x_k (kk two digits, as the LPN goldens name them). Numbers (values-only probes
 * too, recon/dc.h): "dc_residual" ‖A x_k − y‖/‖y‖ for every iterate k = 0 … N (PGD; ADMM
 * 1 … N), and where the prior evaluates R (mr_prior_last_value) "regularizer" R and
 * "objective" ½‖A x − y‖² + w·R (ADMM s‖A x − y‖² + w·R), w = λ, or for a unit-weight prox
 * (mr_prior_ops.unit_prox) the weight its unit step implies: 1/η (PGD), ρ (ADMM).
 *
 * A solver object holds the work arrays for one operator shape, allocated once; a solve
 * never allocates. One object per thread.
 */
#ifndef MR_RECON_PNP_H
#define MR_RECON_PNP_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/linop.h"
#include "recon/prior.h"
#include "recon/probe.h"
#include "recon/status.h"

struct mr_pnp_config {
    int iters;       /* number of outer iterations N */
    float step;      /* PGD: gradient step η on ½‖Ax − y‖² (η < 2/‖A‖² for convergence) */
    float lambda;    /* prior weight handed to the prox (λη for PGD, λ/ρ for ADMM); an LPN
                        ignores it */
    float tol;       /* relative-change stopping tolerance; 0 = always run `iters` */
    bool warm_start; /* start from the caller's x instead of Aᴴy */
    /* ADMM only */
    float rho;    /* penalty ρ > 0 */
    float scale;  /* data weight s in s‖y − Ax‖² (scico's default ½) */
    int cg_iters; /* CG iterations per x-update */
    float cg_tol; /* CG relative residual tolerance */
};
/* iters 20, step 1, lambda 1, tol 0, rho 0.05, scale 0.5, cg_iters 30, cg_tol 1e-5,
 * no warm start: MR_PNP_CONFIG_DEFAULT as an initializer (for configs that hold one) */
#define MR_PNP_CONFIG_DEFAULT                                                                    \
    {                                                                                            \
        .iters = 20, .step = 1.0f, .lambda = 1.0f, .tol = 0.0f, .warm_start = false,             \
        .rho = 0.05f, .scale = 0.5f, .cg_iters = 30, .cg_tol = 1e-5f,                            \
    }
extern const struct mr_pnp_config mr_pnp_config_default;

struct mr_pnp_info {
    int iters;         /* iterations run */
    double rel_change; /* ‖x_k − x_{k−1}‖ / ‖x_k‖ of the last iteration */
    bool converged;    /* stopped by tol */
    int cg_iters;      /* ADMM: CG iterations of the last x-update */
    double cg_resid;   /* ADMM: its relative residual */
};

struct mr_pnp;

/* Work arrays for the operator A's shapes (a residual of its output shape, four images of its
 * input shape, and a CG solver). A is only read here. Errors: MR_ERR_NOMEM. */
mr_status mr_pnp_create(const struct mr_linop *A, struct mr_pnp **out);
void mr_pnp_free(struct mr_pnp *p);

/*
 * PnP-PGD: x (A's input shape, CF32) receives x_N; y has A's output shape. info and probe may
 * be NULL.
 * Errors: MR_ERR_ARG (iters < 0, step ≤ 0 or not finite, tol < 0, no prior, shapes not those
 * of the solver), MR_ERR_DATA (an iterate became non-finite: x then holds it).
 */
mr_status mr_pnp_pgd(struct mr_pnp *p, const struct mr_pnp_config *cfg, const struct mr_linop *A,
                     const struct mr_prior *prior, const struct mr_array *y, struct mr_array *x,
                     struct mr_pnp_info *info, const struct mr_probe *probe);

/*
 * PnP-ADMM as above: x receives the last x-update. Errors: MR_ERR_ARG (as PGD, and rho ≤ 0,
 * scale ≤ 0, cg_iters < 0, cg_tol < 0), MR_ERR_DATA (from CG, or a non-finite iterate).
 */
mr_status mr_pnp_admm(struct mr_pnp *p, const struct mr_pnp_config *cfg,
                      const struct mr_linop *A, const struct mr_prior *prior,
                      const struct mr_array *y, struct mr_array *x, struct mr_pnp_info *info,
                      const struct mr_probe *probe);

/* ---- PnP reconstruction of multi-coil Cartesian k-space ------------------------------------ */

/*
 * The solvers above with A the SENSE operator of recon/sense.h (centred orthonormal FFT) for
 * given maps and mask, on k-space y (C, H, W) CF32, and optionally normalised (an extension,
 * not in the LPN reference): solve with y / c, c = max|Aᴴy| (recon/kscale.h "adjoint max"),
 * and return c·x, so that the prior sees intensities in about [0, 1] whatever the data's scale.
 */
struct mr_pnp_sense_config {
    bool admm;                 /* false: PnP-PGD, true: PnP-ADMM */
    struct mr_pnp_config pnp;  /* iterations, step, ρ, s, CG, tol */
    bool normalize;            /* y / max|Aᴴy| as above */
};
/* PGD with MR_PNP_CONFIG_DEFAULT, no normalisation (an initializer, and the object) */
#define MR_PNP_SENSE_CONFIG_DEFAULT                                                              \
    {                                                                                            \
        .admm = false, .pnp = MR_PNP_CONFIG_DEFAULT, .normalize = false,                         \
    }
extern const struct mr_pnp_sense_config mr_pnp_sense_config_default;

struct mr_pnp_sense;

/* Plans the SENSE operator and the solver for nc coils of h×w. Errors: MR_ERR_ARG (a size
 * < 1), MR_ERR_NOMEM. */
mr_status mr_pnp_sense_create(int64_t nc, int64_t h, int64_t w, struct mr_pnp_sense **out);
void mr_pnp_sense_free(struct mr_pnp_sense *s);

/*
 * img (H, W) CF32 = the PnP reconstruction from masked k-space ksp (C, H, W) CF32, mask (H, W)
 * F32 (or (W), (1, W)) and maps sens (C, H, W) CF32 (normalised, Σ|S|² = 1, for step 1) with the
 * prior. info and probe (the solver's iterates, in the normalised units) may be NULL.
 * Errors: MR_ERR_SHAPE (an input's shape), MR_ERR_DATA (non-finite maps, max|Aᴴy| not a
 * positive number when normalising, a non-finite iterate), MR_ERR_ARG (as the solvers).
 */
mr_status mr_pnp_sense_run(struct mr_pnp_sense *s, const struct mr_pnp_sense_config *cfg,
                           const struct mr_prior *prior, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *sens,
                           struct mr_array *img, struct mr_pnp_info *info,
                           const struct mr_probe *probe);

#endif
