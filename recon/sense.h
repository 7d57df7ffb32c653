/*
 * SENSE: the multi-coil Cartesian encoding operator (Pruessmann et al., MRM 42:952, 1999); the
 * coil combinations it uses are recon/combine.h's (float sums). Shapes (C order): image x
 * (H, W) CF32; coil images and k-space (C, H, W) CF32; sensitivity maps S (C, H, W) CF32;
 * sampling mask M (H, W) F32, nonzero = sampled (a 1-D column pattern is the same (H, W) array
 * with constant columns; (W) and (1, W) are accepted too and broadcast over rows).
 *
 *   expand     coil_img[c] = S_c ⊙ x
 *   reduce     x = Σ_c conj(S_c) ⊙ coil_img[c]
 *   forward    A x   = M ⊙ FFT(S_c ⊙ x)                         for every coil c
 *   adjoint    A^H y = g · Σ_c conj(S_c) ⊙ IFFT(M ⊙ y_c)
 *   normal     A^H A x = g · Σ_c conj(S_c) ⊙ IFFT(M ⊙ FFT(S_c ⊙ x))
 *
 * FFT/IFFT are recon/fft.h's transforms for the plan's mr_fft_config (centred or not, any
 * norm). g makes the adjoint exact for every normalisation: g = s_fwd / s_inv where s_fwd and
 * s_inv are the forward and inverse scale factors (ortho: g = 1, so A^H uses the plain IFFT;
 * backward: g = H·W; forward: g = 1/(H·W)). The mask is used as a 0/1 indicator (M² = M).
 *
 * When every row of the mask is the same (a column pattern), the normal operator uses 1-D FFTs
 * along the rows only (the transforms along y cancel): the same result for less than half the
 * work.
 *
 * The plan (mr_sense_create) owns an mr_fft2 and an mr_fft1 (rows), a copy of the maps and
 * mask, and (C, H, W) scratch; forward/adjoint/normal never allocate. A plan is used by one
 * thread at a time.
 */
#ifndef MR_RECON_SENSE_H
#define MR_RECON_SENSE_H

#include <complex.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/fft.h"
#include "recon/linop.h"

/* ---- the encoding operator ------------------------------------------------------------- */

struct mr_sense;

/* Plans the operator for nc coils of h×w. Maps start as all zeros and the mask as fully
 * sampled: call mr_sense_set_maps before use. Errors: MR_ERR_ARG (nc, h or w < 1),
 * MR_ERR_NOMEM. */
mr_status mr_sense_create(int64_t nc, int64_t h, int64_t w, const struct mr_fft_config *fft,
                          struct mr_sense **out);
void mr_sense_free(struct mr_sense *s);

/* Copies the maps (C, H, W) CF32 into the plan. Errors: MR_ERR_SHAPE (wrong shape or
 * dtype), MR_ERR_DATA (non-finite values). */
mr_status mr_sense_set_maps(struct mr_sense *s, const struct mr_array *sens);

/* Copies the mask ((H, W), (1, W) or (W) F32; nonzero = sampled) into the plan; NULL means
 * fully sampled. Errors: MR_ERR_SHAPE. */
mr_status mr_sense_set_mask(struct mr_sense *s, const struct mr_array *mask);

/* The layouts a sampling mask of an (h, w) k-space may have, as a row stride: (h, w) F32 ->
 * w; (w) or (1, w) F32, one column pattern for every row -> 0. Errors: MR_ERR_SHAPE (any
 * other shape or dtype; the message gives both). */
mr_status mr_sense_mask_layout(const struct mr_array *mask, int64_t h, int64_t w,
                               int64_t *stride);

/* ksp (C, H, W) = A img (H, W). */
void mr_sense_forward(struct mr_sense *s, struct mr_array *ksp, const struct mr_array *img);
/* img (H, W) = A^H ksp (C, H, W). */
void mr_sense_adjoint(struct mr_sense *s, struct mr_array *img, const struct mr_array *ksp);
/* dst (H, W) = A^H A src (H, W); dst may equal src. */
void mr_sense_normal(struct mr_sense *s, struct mr_array *dst, const struct mr_array *src);

/* coil_img (C, H, W) = IFFT(ksp) per coil, no mask and no g: the zero-filled coil images.
 * coil_img may equal ksp. */
void mr_sense_coil_images(const struct mr_sense *s, struct mr_array *coil_img,
                          const struct mr_array *ksp);

/* Upper bound of ||A^H A||: (s_fwd² · H·W) · max_pixel Σ_c |S_c|², i.e. max Σ|S|² for an
 * orthonormal FFT (1 for normalised maps). A safe 1/step for gradient methods. */
double mr_sense_lipschitz(const struct mr_sense *s);

/* Σ_c |S_c|² per pixel, (H, W) F32 (borrowed view; updated by mr_sense_set_maps). Zero
 * marks the null space of A: pixels no coil sees (maps cropped to the object). */
const struct mr_array *mr_sense_sos(const struct mr_sense *s);

/* The maps as copied into the plan, (C, H, W) CF32 (borrowed view). */
const struct mr_array *mr_sense_maps(const struct mr_sense *s);

int64_t mr_sense_nc(const struct mr_sense *s);
int64_t mr_sense_h(const struct mr_sense *s);
int64_t mr_sense_w(const struct mr_sense *s);
const struct mr_fft2 *mr_sense_fft(const struct mr_sense *s);

/* Linear operator views of a plan, which they borrow (s must outlive them; later
 * set_maps/set_mask calls take effect): A: (H, W) -> (C, H, W) with the plan's normal, and
 * N = A^H A: (H, W) -> (H, W) (self-adjoint). Errors: MR_ERR_NOMEM. */
mr_status mr_sense_linop_create(struct mr_sense *s, struct mr_linop **out);
mr_status mr_sense_normal_linop_create(struct mr_sense *s, struct mr_linop **out);

#endif
