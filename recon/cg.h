/*
 * Conjugate gradients for regularised least squares (Hestenes & Stiefel 1952; CG-SENSE:
 * Pruessmann et al., MRM 46:638, 2001):
 *
 *     solve (A^H A + λ I) x = b,   usually b = A^H y, i.e.  min_x ||A x - y||² + λ ||x||²
 *
 * A^H A is the operator's normal (mr_linop_normal). λ here is absolute, in the units of A^H A;
 * recon/classic.h scales a relative λ by ||A^H A|| so one default works for every data scale
 * and FFT normalisation. Inner products and norms are accumulated in double (recon/vec.h).
 *
 * A solver object holds the three work vectors for one image shape, allocated once; a solve
 * never allocates. One object per thread.
 */
#ifndef MR_RECON_CG_H
#define MR_RECON_CG_H

#include <stdint.h>

#include "recon/array.h"
#include "recon/linop.h"

struct mr_cg_config {
    int iters;    /* maximum iterations */
    float lambda; /* Tikhonov weight λ >= 0 */
    float tol;    /* stop when ||b - (A^H A + λ I) x|| <= tol · ||b|| */
};
/* 30 iterations, λ = 0, tol = 1e-6 */
extern const struct mr_cg_config mr_cg_config_default;

struct mr_cg_info {
    int iters;        /* iterations run */
    double rel_resid; /* final ||b - (A^H A + λ I) x|| / ||b|| (0 when b = 0) */
};

struct mr_cg;

/* Work vectors for CF32 images of the given shape. Errors: MR_ERR_ARG (invalid shape),
 * MR_ERR_NOMEM. */
mr_status mr_cg_create(int ndim, const int64_t *dims, struct mr_cg **out);
void mr_cg_free(struct mr_cg *cg);

/*
 * Runs CG from the initial guess in x (zero it for the usual start). b and x have the
 * operator's input shape and the solver's numel (MR_ASSERT). info may be NULL. Errors:
 * MR_ERR_ARG (iters < 0, λ < 0 or not finite), MR_ERR_DATA (b or the iterates stop being
 * finite; x is then not meaningful).
 */
mr_status mr_cg_solve(struct mr_cg *cg, const struct mr_cg_config *cfg, const struct mr_linop *op,
                      const struct mr_array *b, struct mr_array *x, struct mr_cg_info *info);

#endif
