/* fastMRI's centre crop (see crop.h). */
#include "recon/crop.h"

#include <string.h>

int64_t mr_center_crop_start(int64_t n, int64_t c)
{
    MR_ASSERT(n >= c && c >= 0);
    return (n - c) / 2;
}

mr_status mr_center_crop(struct mr_array *dst, const struct mr_array *src)
{
    char have[160];
    char want[160];
    bool ok = src->ndim >= 2 && dst->ndim == src->ndim && dst->dtype == src->dtype;
    for (int d = 0; ok && d < src->ndim - 2; d++)
        ok = dst->dims[d] == src->dims[d];
    const int64_t h = ok ? src->dims[src->ndim - 2] : 0;
    const int64_t w = ok ? src->dims[src->ndim - 1] : 0;
    const int64_t ch = ok ? dst->dims[dst->ndim - 2] : 0;
    const int64_t cw = ok ? dst->dims[dst->ndim - 1] : 0;
    if (!ok || ch > h || cw > w)
        return MR_FAIL(MR_ERR_SHAPE, "cannot centre-crop %s to %s (same dtype and leading "
                       "axes, last two axes no larger)",
                       mr_array_shape_str(src, have, sizeof(have)),
                       mr_array_shape_str(dst, want, sizeof(want)));
    const int64_t y0 = mr_center_crop_start(h, ch);
    const int64_t x0 = mr_center_crop_start(w, cw);
    const int64_t planes = mr_dims_numel(src->ndim - 2, src->dims);
    const size_t es = mr_dtype_size(src->dtype);
    const char *s = src->data;
    char *d = dst->data;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t y = 0; y < ch; y++)
            memcpy(d + (size_t)((p * ch + y) * cw) * es,
                   s + (size_t)((p * h + y0 + y) * w + x0) * es, (size_t)cw * es);
    return MR_OK;
}
