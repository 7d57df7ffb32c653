/*
 * Coil combination: the sums over coils of multi-coil images, each defined once, with the
 * accumulation each training framework uses as an explicit option (the frameworks' images
 * differ in float rounding only, but a faithful port reproduces them exactly).
 *
 * Shapes (C order): coil images and maps (C, H, W) CF32; images (H, W) CF32 (or F32 where
 * stated). Shapes are the caller's invariant (MR_ASSERT). The kernels run over pixels in
 * parallel above a size threshold; every pixel's sum is in coil order whatever the threads.
 */
#ifndef MR_RECON_COMBINE_H
#define MR_RECON_COMBINE_H

#include <stdint.h>

#include "recon/array.h"

/* How a sum over coils is formed. */
enum mr_coil_sum {
    /* products (conj(S_c)·x_c) in float complex, squares in double; sums in double, rounded to
     * float at the end (STYLE.md "reductions in double"; the classical reconstructions, CIRIM) */
    MR_COIL_SUM_DOUBLE = 0,
    /* terms and sums in float from coil 0 up, as torch sums a short axis (fastMRI and ATOMMIC
     * E2EVN, RecurrentVarNet and the DIRECT framework); squares as re² + im² */
    MR_COIL_SUM_FLOAT = 1,
    /* RSS only: as FLOAT with each |x_c| rounded to float before it is squared (fastMRI's
     * rss(complex_abs(x)), E2EVN's final image and sensitivity normalisation) */
    MR_COIL_SUM_FLOAT_ABS = 2,
};

/* coil_img (C, H, W) = sens (C, H, W) ⊙ img (H, W). */
void mr_coil_expand(struct mr_array *coil_img, const struct mr_array *img,
                    const struct mr_array *sens);

/* img (H, W) = Σ_c conj(sens[c]) ⊙ coil_img[c]; sum FLOAT or DOUBLE. */
void mr_coil_reduce(struct mr_array *img, const struct mr_array *coil_img,
                    const struct mr_array *sens, enum mr_coil_sum sum);

/* Root sum of squares over coils, sqrt(Σ_c |coil_img[c]|²). dst is (H, W) F32, or CF32 with a
 * zero imaginary part. */
void mr_coil_rss(struct mr_array *dst, const struct mr_array *coil_img, enum mr_coil_sum sum);

/* The RSS of each component: dst (H, W) CF32 = sqrt(Σ_c Re(x_c)²) + i·sqrt(Σ_c Im(x_c)²) (the
 * "RSS" of ATOMMIC, which combines the stacked real and imaginary channels separately); sum
 * FLOAT or DOUBLE. */
void mr_coil_rss_parts(struct mr_array *dst, const struct mr_array *coil_img,
                       enum mr_coil_sum sum);

/* SENSE (Roemer) combination: dst (H, W) CF32 = Σ_c conj(S_c) x_c / Σ_c |S_c|², and 0 where
 * Σ_c |S_c|² == 0, all in double. With maps normalised to Σ|S|² = 1 this is mr_coil_reduce. */
void mr_coil_sense_combine(struct mr_array *dst, const struct mr_array *coil_img,
                           const struct mr_array *sens);

/* Normalises maps in place: S_c ⊘= mr_coil_rss(S) per pixel, each component divided by the
 * (float) RSS, and S_c = 0 where the RSS is 0. Returns the number of such pixels. */
int64_t mr_coil_normalize(struct mr_array *sens, enum mr_coil_sum sum);

#endif
