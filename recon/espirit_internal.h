/*
 * The pieces of recon/espirit.c's mr_espirit_maps, one concern per file (see espirit.h for the
 * algorithm; only recon/espirit*.c include this header):
 *
 *   espirit_eig.c     Hermitian eigen decomposition (Householder tridiagonalisation +
 *                     implicit QL, double precision)
 *   espirit_calib.c   calibration region, calibration matrix → signal-space projector,
 *                     principal coil (steps 1–2 and the phase reference of step 5)
 *   espirit_pixel.c   per-pixel matrices M(x) from the projector, power iterations, crop and
 *                     phase: the maps (steps 3–5)
 *   espirit.c         argument checks and the sequence
 */
#ifndef MR_RECON_ESPIRIT_INTERNAL_H
#define MR_RECON_ESPIRIT_INTERNAL_H

#include <complex.h>
#include <stdbool.h>
#include <stdint.h>

#include "recon/espirit.h"

/* Work below this many complex multiply-adds runs on one thread. */
#define MR_ESPIRIT_PAR_MIN_WORK (1 << 16)

/* a·b and conj(a)·b written out, so that loops vectorise (C99's complex product checks for
 * NaN and calls libgcc without -ffast-math, which this project never uses) */
static inline double complex mr_cmul(double complex a, double complex b)
{
    return CMPLX(creal(a) * creal(b) - cimag(a) * cimag(b),
                 creal(a) * cimag(b) + cimag(a) * creal(b));
}

static inline double complex mr_cmulc(double complex a, double complex b)
{
    return CMPLX(creal(a) * creal(b) + cimag(a) * cimag(b),
                 creal(a) * cimag(b) - cimag(a) * creal(b));
}

/* ---- espirit_eig.c ------------------------------------------------------------------------ */

/*
 * Eigenvalues (in d, unsorted) and eigenvectors (row i of zt, which must hold I on entry) of
 * the real symmetric tridiagonal matrix with diagonal d[0..n) and off-diagonal e[0..n-1), by
 * implicit QL. e[n-1] is scratch (its value on entry is never used); d and e are overwritten.
 * Returns false if the iteration budget (30 n + 60 sweeps) runs out.
 */
bool mr_tridiag_ql(int64_t n, double *d, double *e, double *zt);

/*
 * Eigen decomposition of an n×n Hermitian matrix a (row-major, both triangles filled):
 * a = Σ_k w[k] u_k u_k^H, w descending.
 *
 * a = Q T Q^H by Householder reflections H_j = I - 2 v_j v_j^H (Q = H_0 H_1 ... H_{n-2}),
 * T = D R D^H with D a diagonal of phases that makes the off-diagonal real, R = Z Λ Z^T by
 * implicit QL; u_k = Q D z_k. mr_herm_eig_init computes w and keeps what mr_herm_eig_vector
 * needs: v_j in row j of a right of the diagonal (a is overwritten and borrowed until
 * cleanup), D and Z.
 */
struct mr_herm_eig {
    int64_t n;
    double *w;               /* eigenvalues, descending */
    const double complex *a; /* v_j = a[j*n + j+1 .. j*n + n) */
    double complex *ph;      /* D */
    double *zt;              /* row i: eigenvector of R, unsorted */
    int64_t *order;          /* w[k] belongs to row order[k] of zt */
};

/* Decomposes a (n >= 1). Errors: MR_ERR_NOMEM, MR_ERR_DATA (QL did not converge); h is then
 * cleaned up. */
mr_status mr_herm_eig_init(struct mr_herm_eig *h, int64_t n, double complex *a);
void mr_herm_eig_cleanup(struct mr_herm_eig *h);

/* u (n) = eigenvector k (unit norm) of the k-th largest eigenvalue w[k]. */
void mr_herm_eig_vector(const struct mr_herm_eig *h, int64_t k, double complex *u);

/* ---- espirit_calib.c ---------------------------------------------------------------------- */

/* The calibration block of ksp (C, H, W): BART's calib_geom, a centred block grown from 1×1,
 * one column then one row per round, while every sample in it is nonzero in at least one
 * coil, up to cfg->calib. pos: its first row and column, size: its rows and columns.
 * Errors: MR_ERR_DATA (block smaller than the kernel), MR_ERR_NOMEM. */
mr_status mr_espirit_find_calib(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                                int64_t pos[2], int64_t size[2]);

/*
 * Signal-space projector of the calibration matrix A (L × N, N = C·ky·kx) of the calibration
 * block cal (C, size[0], size[1]): one row per kernel position, column a = (c·ky + oy)·kx + ox.
 * Writes proj (N × N) = Σ_{i<n} v_i v_i^H for the right singular vectors v_i with
 * s_i / s_0 > sqrt(cfg->threshold).
 * Errors: MR_ERR_DATA (no signal, eigen solver did not converge), MR_ERR_NOMEM.
 */
mr_status mr_espirit_signal_projector(const struct mr_espirit_config *cfg,
                                      const float complex *cal, int64_t nc,
                                      const int64_t size[2], double complex *proj);

/* r (C) = first principal component of the coils of cal (C, np): the top eigenvector of
 * Σ_p k_c(p) conj(k_c'(p)), turned so that its last entry is real and positive.
 * Errors: MR_ERR_DATA (eigen solver did not converge), MR_ERR_NOMEM. */
mr_status mr_espirit_principal_coil(const float complex *cal, int64_t nc, int64_t np,
                                    float complex *r);

/* ---- espirit_pixel.c ---------------------------------------------------------------------- */

/* sens (C, H, W) = the maps from the signal-space projector proj (N × N, N = C·ky·kx, of
 * mr_espirit_signal_projector) and the phase reference ref (C): per-pixel M(x) evaluated from
 * its Fourier coefficients, cfg->iters power iterations, crop and phase (espirit.h steps 3–5).
 * Rows run in parallel with OpenMP. Errors: MR_ERR_NOMEM. */
mr_status mr_espirit_maps_from_projector(const struct mr_espirit_config *cfg,
                                         const double complex *proj, const float complex *ref,
                                         struct mr_array *sens);

#endif
