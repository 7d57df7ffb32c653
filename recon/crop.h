/*
 * fastMRI's centre crop (fastmri/data/transforms.py center_crop / complex_center_crop), the
 * one definition of the convention every output, metric and score uses:
 *
 *   along an axis of length n cropped to c (0 <= c <= n), keep [s, s + c) with s = (n - c) / 2
 *
 * (floor division: an odd surplus drops one more element at the end than at the start). The
 * crop applies to the last two axes (H, W) of an array; leading axes (slices, coils) are kept.
 */
#ifndef MR_RECON_CROP_H
#define MR_RECON_CROP_H

#include <stdint.h>

#include "recon/array.h"
#include "recon/status.h"

/* The first kept index s = (n - c) / 2 along an axis of length n cropped to c (MR_ASSERT
 * 0 <= c <= n). */
int64_t mr_center_crop_start(int64_t n, int64_t c);

/* dst = the centre crop of src over its last two axes: dst[..., y, x] = src[..., y0 + y,
 * x0 + x] with y0 = mr_center_crop_start(H, ch), x0 = mr_center_crop_start(W, cw), where src
 * is (..., H, W) and dst (..., ch, cw), allocated by the caller. Any dtype; both of rank >= 2
 * with the same dtype, rank and leading dims, ch <= H and cw <= W. Errors: MR_ERR_SHAPE (the
 * message gives both shapes). */
mr_status mr_center_crop(struct mr_array *dst, const struct mr_array *src);

#endif
