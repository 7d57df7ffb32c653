/* The pipeline tests' undersampled slice (slice_data.h). */
#include "slice_data.h"

#include <complex.h>

#include "io/fastmri.h"
#include "mr_test.h"

int slice_data_load(struct slice_data *sd, const char *rel, int every, int centre)
{
    struct mr_fastmri *f = NULL;
    if (mr_fastmri_open(mr_test_data(rel), &f) != MR_OK)
        return -1;
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    sd->nc = in->coils;
    sd->h = in->h;
    sd->w = in->w;
    if (mr_array_init_dims(&sd->ksp, MR_DTYPE_CF32, 3, sd->nc, sd->h, sd->w) != MR_OK ||
        mr_array_init_dims(&sd->mask, MR_DTYPE_F32, 2, sd->h, sd->w) != MR_OK ||
        mr_fastmri_read_kspace(f, 0, &sd->ksp) != MR_OK) {
        mr_fastmri_close(f);
        return -1;
    }
    mr_fastmri_close(f);
    float *m = mr_array_f32(&sd->mask);
    float complex *k = mr_array_cf32(&sd->ksp);
    for (int64_t y = 0; y < sd->h; y++)
        for (int64_t x = 0; x < sd->w; x++)
            m[y * sd->w + x] =
                (x % every == 0 || (x >= sd->w / 2 - centre / 2 && x < sd->w / 2 + centre / 2))
                    ? 1.0f
                    : 0.0f;
    for (int64_t c = 0; c < sd->nc; c++)
        for (int64_t i = 0; i < sd->h * sd->w; i++)
            if (m[i] == 0.0f)
                k[c * sd->h * sd->w + i] = 0.0f;
    return 0;
}

void slice_data_cleanup(struct slice_data *sd)
{
    mr_array_cleanup(&sd->ksp);
    mr_array_cleanup(&sd->mask);
}
