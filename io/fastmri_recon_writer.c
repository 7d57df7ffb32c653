/*
 * Writer of fastMRI reconstruction files (fastmri/utils.py save_reconstructions): dataset
 * "reconstruction" float32 (slices, crop_h, crop_w), each slice centre-cropped by
 * recon/crop.h. Built on io/h5's atomic writer; the crop buffer is allocated once at create.
 */
#include "io/fastmri_recon_writer.h"

#include <stdbool.h>
#include <stdlib.h>

#include "io/h5.h"
#include "recon/crop.h"

#define DATASET "reconstruction"

struct mr_fastmri_recon_writer {
    struct mr_h5 *h5;
    struct mr_array crop; /* (crop_h, crop_w) scratch */
    int64_t slices;
    bool *written;        /* per slice */
};

mr_status mr_fastmri_recon_writer_create(const char *path, int64_t slices, int64_t crop_h,
                                         int64_t crop_w, struct mr_fastmri_recon_writer **out)
{
    mr_status st = MR_OK;
    struct mr_fastmri_recon_writer *w = NULL;

    *out = NULL;
    if (slices < 1 || crop_h < 1 || crop_w < 1)
        return MR_FAIL(MR_ERR_ARG, "reconstruction file '%s': %lld slices of %lld x %lld; "
                       "all must be >= 1", path, (long long)slices, (long long)crop_h,
                       (long long)crop_w);
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "reconstruction writer for '%s'", path);
    w->slices = slices;
    w->written = calloc((size_t)slices, sizeof(*w->written));
    if (w->written == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "reconstruction writer for '%s'", path);
        goto out;
    }
    MR_CHECK(mr_array_init_dims(&w->crop, MR_DTYPE_F32, 2, crop_h, crop_w));
    MR_CHECK(mr_h5_create(path, &w->h5));
    MR_CHECK(mr_h5_create_dataset(w->h5, DATASET, MR_DTYPE_F32, 3,
                                  (const int64_t[]){ slices, crop_h, crop_w }));
    *out = w;
    w = NULL;
out:
    mr_fastmri_recon_writer_free(w);
    return st;
}

mr_status mr_fastmri_recon_writer_write_slice(struct mr_fastmri_recon_writer *w, int64_t slice,
                                              const struct mr_array *img)
{
    const int64_t ch = w->crop.dims[0];
    const int64_t cw = w->crop.dims[1];
    const char *path = mr_h5_path(w->h5);
    char buf[160];

    if (slice < 0 || slice >= w->slices)
        return MR_FAIL(MR_ERR_ARG, "'%s': slice %lld is outside 0..%lld", path,
                       (long long)slice, (long long)(w->slices - 1));
    if (img->dtype != MR_DTYPE_F32 || img->ndim != 2)
        return MR_FAIL(MR_ERR_ARG, "'%s': slice %lld is %s, expected a float32 (H, W) image",
                       path, (long long)slice, mr_array_shape_str(img, buf, sizeof(buf)));
    const int64_t h = img->dims[0];
    const int64_t wd = img->dims[1];
    if (h < ch || wd < cw)
        return MR_FAIL(MR_ERR_SHAPE, "'%s': slice %lld is %lld x %lld, smaller than the "
                       "%lld x %lld crop", path, (long long)slice, (long long)h, (long long)wd,
                       (long long)ch, (long long)cw);
    mr_status st = mr_center_crop(&w->crop, img);
    if (st == MR_OK)
        st = mr_h5_write_slab(w->h5, DATASET, slice, &w->crop);
    if (st == MR_OK)
        w->written[slice] = true;
    return st;
}

mr_status mr_fastmri_recon_writer_set_attr_string(struct mr_fastmri_recon_writer *w,
                                                  const char *name, const char *value)
{
    return mr_h5_write_attr_string(w->h5, "/", name, value);
}

mr_status mr_fastmri_recon_writer_set_attr_double(struct mr_fastmri_recon_writer *w,
                                                  const char *name, double value)
{
    return mr_h5_write_attr_double(w->h5, "/", name, value);
}

mr_status mr_fastmri_recon_writer_commit(struct mr_fastmri_recon_writer *w)
{
    mr_status st = MR_OK;

    for (int64_t s = 0; s < w->slices; s++)
        if (!w->written[s]) {
            st = MR_FAIL(MR_ERR_ARG, "'%s': slice %lld of %lld was never written; not saving "
                         "an incomplete reconstruction", mr_h5_path(w->h5), (long long)s,
                         (long long)w->slices);
            goto out;
        }
    st = mr_h5_commit(w->h5);
    w->h5 = NULL; /* commit released it */
out:
    mr_fastmri_recon_writer_free(w);
    return st;
}

void mr_fastmri_recon_writer_free(struct mr_fastmri_recon_writer *w)
{
    if (w == NULL)
        return;
    mr_h5_close(w->h5);
    mr_array_cleanup(&w->crop);
    free(w->written);
    free(w);
}

mr_status mr_fastmri_recon_write_volume(const char *path, const struct mr_array *vol,
                                        int64_t crop_h, int64_t crop_w, const char *method)
{
    mr_status st = MR_OK;
    struct mr_fastmri_recon_writer *w = NULL;
    char buf[160];

    if (vol->dtype != MR_DTYPE_F32 || vol->ndim != 3) {
        st = MR_FAIL(MR_ERR_ARG, "reconstruction for '%s' is %s, expected float32 "
                     "(slices, H, W)", path, mr_array_shape_str(vol, buf, sizeof(buf)));
        goto out;
    }
    MR_CHECK(mr_fastmri_recon_writer_create(path, vol->dims[0], crop_h, crop_w, &w));
    for (int64_t s = 0; s < vol->dims[0]; s++) {
        struct mr_array img;
        mr_array_slab(&img, vol, s);
        MR_CHECK(mr_fastmri_recon_writer_write_slice(w, s, &img));
    }
    if (method != NULL)
        MR_CHECK(mr_fastmri_recon_writer_set_attr_string(w, "method", method));
    st = mr_fastmri_recon_writer_commit(w);
    w = NULL;
out:
    mr_fastmri_recon_writer_free(w);
    return st;
}
