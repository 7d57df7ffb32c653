/*
 * Noise prewhitening of multi-coil raw data (Pruessmann et al., "Advances in sensitivity
 * encoding with arbitrary k-space trajectories", MRM 46:638, 2001, appendix; what Gadgetron's
 * NoiseAdjustGadget does). Plain arrays: a line of ns samples of C coils is (C, ns) complex64,
 * coil-major (sample s of coil c at [c * ns + s]).
 *
 *   accumulate   Ψ += Σ_s n_s n_s^H over the noise samples n_s ∈ C^C (double sums; only the
 *                lower triangle is kept), N += ns
 *   factor       Ψ̂ = Ψ / N · (noise dwell time / data dwell time)   (noise power grows with
 *                the receiver bandwidth, i.e. with 1 / dwell time; the ratio is 1 when either
 *                dwell time is unknown), then Ψ̂ = L L^H, L lower triangular with a real
 *                positive diagonal (Cholesky, double)
 *   apply        x_s <- L^-1 x_s for every sample s (forward substitution in double, rounded
 *                to complex64), so noise with covariance Ψ̂ leaves with covariance I
 *
 * Life cycle: create -> accumulate* -> factor (fixes the whitening) -> apply*. Without any
 * noise sample, factor fixes the identity: apply leaves the data untouched (bit for bit).
 * Calling accumulate after factor, or factor twice, is a programming error (MR_ASSERT).
 *
 * Memory: create allocates everything (Ψ, L and one C-vector of scratch); accumulate, factor
 * and apply never allocate. apply uses the object's scratch: one object per thread.
 */
#ifndef MR_RECON_PREWHITEN_H
#define MR_RECON_PREWHITEN_H

#include <complex.h>
#include <stdbool.h>
#include <stdint.h>

#include "recon/status.h"

/* Coil counts accepted by mr_prewhiten_create (ISMRMRD's active_channels is 16-bit). */
#define MR_PREWHITEN_MAX_COILS 65535

struct mr_prewhiten;

/* A whitener for nc coils, with nothing accumulated yet.
 * Errors: MR_ERR_ARG (nc outside 1..MR_PREWHITEN_MAX_COILS), MR_ERR_NOMEM. */
mr_status mr_prewhiten_create(int64_t nc, struct mr_prewhiten **out);
void mr_prewhiten_free(struct mr_prewhiten *pw);

/* Adds the ns samples of one noise line, noise (C, ns) (borrowed), to Ψ and N. dwell_us > 0
 * records the noise dwell time (the last positive one wins); <= 0 leaves it unknown/unchanged.
 * ns == 0 changes nothing. */
void mr_prewhiten_accumulate(struct mr_prewhiten *pw, const float complex *noise, int64_t ns,
                             float dwell_us);

/* N, the noise samples accumulated so far. */
double mr_prewhiten_noise_samples(const struct mr_prewhiten *pw);

/* Fixes the whitening for data of dwell time data_dwell_us (<= 0: unknown): L from Ψ̂ as
 * above, or the identity when no noise sample was accumulated.
 * Errors: MR_ERR_DATA when Ψ̂ is not positive definite (the message names the coil whose
 * pivot is not positive and finite); the whitener is then unusable (free it). */
mr_status mr_prewhiten_factor(struct mr_prewhiten *pw, float data_dwell_us);

/* Whether factor has run (successfully). */
bool mr_prewhiten_is_fixed(const struct mr_prewhiten *pw);

/* Whether apply changes data: factor ran with at least one noise sample. */
bool mr_prewhiten_is_active(const struct mr_prewhiten *pw);

/* L (C×C, row-major, lower triangle; the strict upper triangle is 0), borrowed, or NULL
 * while not active. */
const double complex *mr_prewhiten_factor_matrix(const struct mr_prewhiten *pw);

/* x (C, ns) in place: x_s <- L^-1 x_s per sample; nothing when not active. Requires factor
 * to have run (MR_ASSERT). Never allocates. */
void mr_prewhiten_apply(struct mr_prewhiten *pw, float complex *x, int64_t ns);

/*
 * Cholesky factor of scale · A for a Hermitian n×n matrix A (row-major; only the lower
 * triangle, j <= i, is read): l (n×n, row-major) gets L, lower triangular with a real
 * positive diagonal, scale · A = L L^H; its strict upper triangle is left as it was. a and l
 * must not overlap. Column by column, j = 0 .. n-1:
 *   L_jj = sqrt(scale·A_jj - Σ_{k<j} |L_jk|²),
 *   L_ij = (scale·A_ij - Σ_{k<j} L_ik conj(L_jk)) / L_jj   for i > j.
 * Errors: MR_ERR_DATA when a pivot scale·A_jj - Σ|L_jk|² is not positive and finite (the
 * message names index j as the coil); l is then partly written.
 */
mr_status mr_prewhiten_cholesky(int64_t n, const double complex *a, double scale,
                                double complex *l);

#endif
