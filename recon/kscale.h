/*
 * k-space scaling: the factor s by which a framework divides the measured k-space before its
 * network runs (and multiplies the reconstructed image by after), so that the network sees
 * intensities of the range it was trained on. One definition per framework convention:
 *
 *   SENSE max (ATOMMIC inference of E2EVN and CIRIM):
 *       s = max_p |x_p|,  x = Σ_c conj(S_c) IFFT(y_c) / Σ_c |S_c|²   (0 where Σ|S|² = 0)
 *     the magnitude maximum of the SENSE zero-filled image (recon/sense.h
 *     mr_coil_sense_combine) with the centred orthonormal FFT, k-space used as given.
 *
 *   percentile (DIRECT's Normalize transform, RecurrentVarNet):
 *       s = the k-th largest |y| over the coils whose values do not sum to exactly 0 (DIRECT's
 *     guard for zero-padded coils), k = int((1 − q)·n) + 1 of their n values, q = 0.99; |y| as
 *     sqrtf(re² + im²) in float; applied as y / s, and y' = 0 when s = 0.
 *
 *   adjoint max (the LPN's PnP for measured data, an extension of its reference):
 *       s = max_p |(Aᴴy)_p|,  A any linear operator (recon/sense.h's SENSE operator with its
 *     mask and maps), applied as y · (1/s).
 *
 * Applying it: y' = y / s element by element (mr_kscale_divide), image' = s · image.
 */
#ifndef MR_RECON_KSCALE_H
#define MR_RECON_KSCALE_H

#include <stdint.h>

#include "recon/array.h"
#include "recon/linop.h"

/* The plan of the SENSE-max factor for nc coils of h×w: an FFT plan and (C, H, W) + (H, W)
 * scratch, made once. */
struct mr_kscale_sense;

/* Errors: MR_ERR_ARG (a size < 1), MR_ERR_NOMEM. */
mr_status mr_kscale_sense_create(int64_t nc, int64_t h, int64_t w,
                                 struct mr_kscale_sense **out);
void mr_kscale_sense_free(struct mr_kscale_sense *k);

/* *s = the SENSE-max factor of finite ksp (C, H, W) CF32 with maps sens (C, H, W) CF32 (shapes
 * of the plan). Errors: MR_ERR_SHAPE (maps), MR_ERR_DATA (non-finite maps; s = 0, i.e. nothing
 * to reconstruct). */
mr_status mr_kscale_sense_max(struct mr_kscale_sense *k, const struct mr_array *ksp,
                              const struct mr_array *sens, float *s);

/* *s = max |Aᴴ ksp| (double of the float maximum); img (A's input shape, CF32) receives Aᴴ ksp.
 * Errors: MR_ERR_DATA (s is 0 or not finite). */
mr_status mr_kscale_adjoint_max(const struct mr_linop *A, const struct mr_array *ksp,
                                struct mr_array *img, double *s);

/* DIRECT's percentile factor of ksp (C, H, W) CF32 (q in (0, 1)); mod: scratch of C·H·W
 * floats (overwritten). 0 when every coil sums to 0; not finite when ksp is not. */
float mr_kscale_percentile(const struct mr_array *ksp, double q, float *mod);

/* dst = src / s element by element, 0 when s = 0 (CF32 arrays of equal size; dst may equal
 * src). */
void mr_kscale_divide(struct mr_array *dst, const struct mr_array *src, float s);

#endif
