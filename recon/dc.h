/*
 * How well an estimate agrees with the measured k-space (data consistency), for the
 * per-reconstruction report (pipeline/trust.h) and the networks' per-cascade residuals:
 *
 *   E_s(a) = Σ_{c, p: m_p ≠ 0} |a_{c,p}|²        energy on the sampled points
 *   E_u(a) = Σ_{c, p: m_p = 0} |a_{c,p}|²        energy on the points not sampled
 *   residual(k) = sqrt(E_s(k − y)) / sqrt(E_s(y))   (0 when E_s(y) = 0)
 *
 * with k the estimate's multi-coil k-space and y the measured one, (C, H, W) in the same
 * domain. Only ratios are used, so any FFT centring or scaling that k and y share cancels; by
 * Parseval the same ratio can be formed from image-domain projections (an orthonormal FFT,
 * or any multiple of one). Sums in double.
 */
#ifndef MR_RECON_DC_H
#define MR_RECON_DC_H

#include <complex.h>
#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/probe.h"

/* E_s (sampled true) or E_u (sampled false) of a (nc images of npix pixels) under mask m (npix);
 * m NULL: every point is sampled. */
double mr_dc_energy(const float complex *a, const float *m, int64_t nc, int64_t npix,
                    bool sampled);

/* E_s(k − y): the squared residual on the sampled points. */
double mr_dc_residual_energy(const float complex *k, const float complex *y, const float *m,
                             int64_t nc, int64_t npix);

/* residual(k) above: k, y (C, H, W) CF32 of equal shape, mask (H, W) F32 (MR_ASSERT). */
double mr_dc_residual(const struct mr_array *k, const struct mr_array *y,
                      const struct mr_array *mask);

/*
 * The report's numbers of one estimate k of the measured y (nc images of npix points, mask m
 * (npix) F32 or NULL), to probe (when it wants values, recon/probe.h), as estimate `index`
 * (0 = the initial estimate, i = after step i):
 *   "dc_residual"       sqrt(E_s(k − y) / E_s(y))     how far k is from the measured data
 *   "unsampled_energy"  sqrt(E_u(k) / E_s(y))         what k holds where nothing was measured
 * (0 when E_s(y) = 0). For the networks' per-cascade residuals and the solvers' per-iteration
 * ones, in the computation's own units and FFT convention (only ratios are reported).
 */
void mr_dc_emit(const struct mr_probe *probe, int64_t index, const float complex *k,
                const float complex *y, const float *m, int64_t nc, int64_t npix);

/*
 * The same numbers from image-domain projections, for computations that keep coil images
 * X = F⁻¹k and apply P = F⁻¹ B F (B = [M ≠ 0]) along one axis (recon/fft.h line masks):
 * px = P X, z0 = F⁻¹(B ⊙ y), x = X, n values each; with F a multiple of a unitary transform
 *   dc_residual = ‖px − z0‖ / ‖z0‖,   unsampled_energy = sqrt(‖x‖² − ‖px‖²) / ‖z0‖.
 */
void mr_dc_emit_projected(const struct mr_probe *probe, int64_t index, const float complex *px,
                          const float complex *z0, const float complex *x, int64_t n);

#endif
