/*
 * Quality numbers of a sampling mask (../shared/specs/sampling.md §4), for `maskeval`.
 *
 * Input: an F32 mask, 0 = not sampled, anything else = sampled, either a length-W column
 * vector or (H, W) (leading dims of size 1 are allowed: (1, H, W)). An (H, W) mask whose rows
 * are all equal is a 1-D column mask broadcast along H and is evaluated as one.
 *
 *   sampled, total     non-zero entries / all entries (H*W, or W for a vector)
 *   fraction           sampled / total;   accel = total / sampled  (the acceleration R)
 *   center_cols        1-D: length of the run of sampled columns that contains column W/2
 *                      (fastMRI's num_low_frequencies for its masks; 0 if W/2 is not sampled)
 *   center_h, center_w the fully sampled rectangle around (H/2, W/2): start from that pixel
 *                      (0 x 0 if it is not sampled) and, in turn, add the row above, the row
 *                      below, the column left, the column right whenever that whole edge is
 *                      sampled, until nothing can be added. For BART's -C box and ATOMMIC's
 *                      equispaced2d centre this is the calibration region; for a 1-D mask it
 *                      is H x center_cols.
 *   PSF                |IFFT(mask)| with the centred orthonormal transform of recon/fft.h
 *                      (1-D over columns for a column mask), divided by its peak; the peak is
 *                      always at the centre pixel, PSF(0) = sampled / sqrt(total).
 *   psf_peak_sidelobe  max over all other pixels of the normalised PSF: the side-lobe-to-peak
 *                      ratio (SPR) of Lustig, Donoho, Pauly, "Sparse MRI", MRM 58:1182, 2007
 *   psf_incoherence    standard deviation (population) of the normalised PSF over all other
 *                      pixels: the level of the noise-like interference that random
 *                      undersampling spreads over the image (lower is more incoherent)
 */
#ifndef MR_SAMPLING_MASK_STATS_H
#define MR_SAMPLING_MASK_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/array.h"

struct mr_mask_stats {
    int64_t h; /* 1 for a vector */
    int64_t w;
    bool columns; /* evaluated as a 1-D column mask */
    int64_t total;
    int64_t sampled;
    double fraction;
    double accel; /* +inf when nothing is sampled */
    int64_t center_cols; /* 1-D masks only, else 0 */
    int64_t center_h;
    int64_t center_w;
    double psf_peak_sidelobe;
    double psf_incoherence;
};

/* Errors: MR_ERR_SHAPE (not F32, not a vector or (H, W) after dropping leading 1s),
 * MR_ERR_DATA (nothing sampled, non-finite entries), MR_ERR_NOMEM. */
mr_status mr_mask_stats_compute(const struct mr_array *mask, struct mr_mask_stats *out);

#endif
