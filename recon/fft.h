/*
 * 2-D FFTs over the last two axes (H, W) of C-order arrays, with the exact conventions of the
 * reference frameworks (../shared/specs/e2evn.md §2; the same in fastMRI, ATOMMIC and DIRECT):
 *
 *   forward kernel  exp(-2πi (ky·y/H + kx·x/W)),  inverse kernel with +.
 *   fftshift along an axis of length n:  out[i] = in[(i - n/2)     mod n]   (roll by n//2)
 *   ifftshift:                           out[i] = in[(i - (n+1)/2) mod n]   (roll by (n+1)//2)
 *   centred:      FFT(x) = fftshift(fft2(ifftshift(x))),  IFFT(x) = fftshift(ifft2(ifftshift(x)))
 *                 (ifftshift first in BOTH directions; DC of centred k-space at (H/2, W/2))
 *   uncentred:    plain fft2 / ifft2 (DC at (0, 0))
 *   normalisation (torch's `norm`):
 *     MR_FFT_NORM_ORTHO     both directions scaled by 1/sqrt(H·W)
 *     MR_FFT_NORM_BACKWARD  forward unscaled, inverse scaled by 1/(H·W)   (ATOMMIC "none" too)
 *     MR_FFT_NORM_FORWARD   forward scaled by 1/(H·W), inverse unscaled
 *
 * A plan is made once for one H×W size (mr_fft2_create, under the FFTW planner lock) and then
 * executed on any number of images; execution never allocates and is safe to call from several
 * threads at once on different data. Batches run in parallel with OpenMP over images; a single
 * large image uses FFTW's own threads when called outside a parallel region.
 *
 * Planning follows the plan mode, as the conv algorithms do (recon/settings.h conv_plan): in
 * ESTIMATE mode (the default) plans are FFTW_ESTIMATE, instant; in MEASURE mode the
 * single-threaded plans of images of at least 96×96 values are FFTW_MEASURE (a fraction of a
 * second per size, reused through FFTW's in-process wisdom; ~20-30 % faster transforms for
 * sizes such as 218 = 2·109), which pays when many slices share the plans. FFTW-threaded plans
 * are always FFTW_ESTIMATE. Wisdom imported with mr_fft_wisdom_import serves both modes (FFTW
 * uses measured wisdom for an ESTIMATE request), so a site measures once. The setting
 * fft_planner (MR_FFT_PLANNER=estimate|measure|patient in the apps' environment) forces one
 * rigour for the single-threaded plans of every size. Even H and W
 * apply the centring as an exact (-1)^(y+x) modulation instead of the rolls. Either choice
 * changes results by float rounding only.
 */
#ifndef MR_RECON_FFT_H
#define MR_RECON_FFT_H

#include <complex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "recon/array.h"
#include "recon/status.h"

enum mr_fft_norm {
    MR_FFT_NORM_ORTHO = 0,
    MR_FFT_NORM_BACKWARD = 1,
    MR_FFT_NORM_FORWARD = 2,
};

struct mr_fft_config {
    bool centered;
    enum mr_fft_norm norm;
};

/* centred, ortho: fastMRI's fft2c/ifft2c */
extern const struct mr_fft_config mr_fft_config_default;

/* FFTW's wisdom (the plans measured in this process and those imported) in FFTW's text format:
 * read merges a file's wisdom into the process's (errors: MR_ERR_IO, MR_ERR_FORMAT when f does
 * not hold FFTW single-precision wisdom; name is only for the message), write appends it to f
 * (the caller checks the stream and makes the file atomic). */
mr_status mr_fft_wisdom_read(FILE *f, const char *name);
void mr_fft_wisdom_write(FILE *f);

/* The scale factors of a normalisation for transforms of n values: the forward transform
 * multiplies by *s_fwd, the inverse by *s_inv (ortho 1/√n both; backward 1 and 1/n; forward 1/n
 * and 1). The one table of them: the plans use it, and the SENSE operator's adjoint gain. */
void mr_fft_norm_scales(enum mr_fft_norm norm, double n, double *s_fwd, double *s_inv);

/*
 * The centring index maps along an axis of length n (numpy: fftshift(x)[i] = x[(i − n/2) mod n],
 * which moves the DC from index 0 to n/2; ifftshift(x)[i] = x[(i + n/2) mod n]):
 *   mr_fft_centred_index(k, n)    (k + n/2) mod n, where uncentred index k (DC first) sits in
 *                                 centred order;
 *   mr_fft_uncentred_index(i, n)  (i − n/2) mod n, its inverse: where centred index i is stored
 *                                 in uncentred order.
 * Any integer argument is reduced mod n; n ≥ 1.
 */
static inline int64_t mr_fft_centred_index(int64_t k, int64_t n)
{
    return ((k + n / 2) % n + n) % n;
}

static inline int64_t mr_fft_uncentred_index(int64_t i, int64_t n)
{
    return ((i - n / 2) % n + n) % n;
}

/* Parses "ortho" | "backward" | "forward" | "none" (= backward). MR_ERR_ARG otherwise. */
mr_status mr_fft_norm_parse(const char *s, enum mr_fft_norm *out);
const char *mr_fft_norm_name(enum mr_fft_norm norm);

struct mr_fft2;

/* Plans forward and inverse transforms of one h×w image. Errors: MR_ERR_ARG (size < 1),
 * MR_ERR_NOMEM (allocation or FFTW planning failed). */
mr_status mr_fft2_create(int64_t h, int64_t w, const struct mr_fft_config *cfg,
                         struct mr_fft2 **out);
void mr_fft2_free(struct mr_fft2 *f);

int64_t mr_fft2_h(const struct mr_fft2 *f);
int64_t mr_fft2_w(const struct mr_fft2 *f);
const struct mr_fft_config *mr_fft2_config(const struct mr_fft2 *f);

/* dst[b] = FFT(src[b]) for b in [0, batch), each image h*w contiguous complex values.
 * dst may equal src (in place); otherwise they must not overlap. */
void mr_fft2_forward(const struct mr_fft2 *f, float complex *dst, const float complex *src,
                     int64_t batch);
/* dst[b] = IFFT(src[b]), same rules. */
void mr_fft2_inverse(const struct mr_fft2 *f, float complex *dst, const float complex *src,
                     int64_t batch);

/* Array forms: the last two dims of dst and src must be (h, w) and both CF32 with the same
 * number of elements (MR_ASSERT); every leading index is one image. */
void mr_fft2_forward_array(const struct mr_fft2 *f, struct mr_array *dst,
                           const struct mr_array *src);
void mr_fft2_inverse_array(const struct mr_fft2 *f, struct mr_array *dst,
                           const struct mr_array *src);

/* In-place numpy-exact shifts of one h×w complex image (both axes). */
void mr_fftshift2(float complex *x, int64_t h, int64_t w);
void mr_ifftshift2(float complex *x, int64_t h, int64_t w);
/* Same for real images. */
void mr_fftshift2_f32(float *x, int64_t h, int64_t w);
void mr_ifftshift2_f32(float *x, int64_t h, int64_t w);

/*
 * 1-D centred or uncentred FFT along the last axis of `rows` contiguous rows of length n
 * (used for readout processing of raw data). Same conventions as above.
 */
struct mr_fft1;
mr_status mr_fft1_create(int64_t n, const struct mr_fft_config *cfg, struct mr_fft1 **out);
void mr_fft1_free(struct mr_fft1 *f);
void mr_fft1_forward(const struct mr_fft1 *f, float complex *dst, const float complex *src,
                     int64_t rows);
void mr_fft1_inverse(const struct mr_fft1 *f, float complex *dst, const float complex *src,
                     int64_t rows);

/*
 * Masked normal operator of a Cartesian 2-D transform whose mask samples whole lines (1-D
 * undersampling): constant along H (sampled columns, the fastMRI / ATOMMIC mask (1, W)
 * broadcast over rows) or constant along W (sampled rows: ISMRMRD phase-encode lines with the
 * readout along W):
 *
 *   z ← F⁻¹(M ⊙ F z),   F the 2-D transform of `cfg`,
 *
 * for each of `nimg` h×w images, in place. Because F = F_H ⊗ F_W and F_A⁻¹F_A = I along the
 * axis A the mask does not vary on, this is a 1-D transform pair along the other axis: with
 * M[y, x] = m[x], z_row ← IDFT(m' ⊙ DFT(z_row)) / w for every row (and with M[y, x] = m[y] the
 * same along every column, / h), m' = m for an uncentred and ifftshift(m) for a centred
 * transform (the 1-D operator is circulant, so the centring shifts cancel; every normalisation
 * gives the same 1/n). Equal to the 2-D form up to float rounding, and cheaper: it skips one
 * axis' transforms (218 = 2·109 rows on a fastMRI knee). Lines are processed in cache-sized
 * blocks of 16, over OpenMP threads.
 */
struct mr_fft_linemask;
/* From an h×w mask that is constant along H or along W (values copied; a constant mask counts
 * as constant along H). Errors: MR_ERR_ARG (neither), MR_ERR_NOMEM. */
mr_status mr_fft_linemask_create(int64_t h, int64_t w, const struct mr_fft_config *cfg,
                                 const float *mask, struct mr_fft_linemask **out);
void mr_fft_linemask_free(struct mr_fft_linemask *op);
/* z = the operator on nimg h×w images, in place. */
void mr_fft_linemask_apply(const struct mr_fft_linemask *op, float complex *z, int64_t nimg);
/* dst = the operator on the nimg images src (dst may equal src; otherwise they must not
 * overlap). Along rows, the transforms run out of place between the rows and a slot of the
 * operator per OpenMP thread (FFTW buffers in-place transforms of lengths such as 180 = 2²·3²·5,
 * allocating on every call); a thread without a slot (of a caller's team larger than the thread
 * count at creation) transforms in place. Concurrent calls on one operator are safe only from
 * distinct threads of one OpenMP team (each uses the slot of its thread number). */
void mr_fft_linemask_apply_to(const struct mr_fft_linemask *op, float complex *dst,
                              const float complex *src, int64_t nimg);
/* True if the mask is constant along H (the transforms run along contiguous rows). */
bool mr_fft_linemask_along_rows(const struct mr_fft_linemask *op);
/* For an operator along rows: dst = the row operator on the row src (w values), in the calling
 * thread (for callers that parallelise over rows themselves), through that thread's slot as in
 * apply_to (same concurrency rule). dst may equal src. */
void mr_fft_linemask_row(const struct mr_fft_linemask *op, float complex *dst,
                         const float complex *src);

/* True if every row of the h×w mask equals its first row exactly (constant along H), resp.
 * every column its first column (constant along W). */
bool mr_mask_is_column_mask(const float *mask, int64_t h, int64_t w);
bool mr_mask_is_row_mask(const float *mask, int64_t h, int64_t w);

/* Keeps *op the operator above for the h×w `mask`, for networks that see a mask per run: kept
 * when it was made for the same size, transform and mask; otherwise freed and, if the mask
 * samples lines, made again; NULL afterwards when it does not. Errors: as create (*op NULL). */
mr_status mr_fft_linemask_sync(struct mr_fft_linemask **op, int64_t h, int64_t w,
                               const struct mr_fft_config *cfg, const float *mask);

#endif
