/*
 * fastMRI file reader (layout in fastmri.h; facebookresearch/fastMRI fastmri/data/mri_data.py
 * and README). All validation that does not need k-space values happens at open, so a bad
 * file fails before any reconstruction starts; the values themselves are checked slice by
 * slice as they are read (a NaN in slice 30 of a knee volume is reported as slice 30, with its
 * coil and position).
 */
#include "io/fastmri.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"

#define KSPACE "kspace"
#define MASK "mask"
#define SENS "sensitivity_map"
#define HEADER "ismrmrd_header"

struct mr_fastmri {
    struct mr_h5 *h5;
    struct mr_fastmri_info info;
};

/* Python's floor division, for the padding formula. */
static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* The shape of a dataset as the checks below read it (rank, dims, complex or not). */
struct ds_shape {
    int ndim;
    int64_t d[MR_MAX_DIMS];
    bool cplx;
};

/* *found: whether f has dataset name; then its shape in *sh. Errors: mr_h5_dims's. */
static mr_status ds_shape_read(const struct mr_fastmri *f, const char *name, bool *found,
                               struct ds_shape *sh)
{
    memset(sh, 0, sizeof(*sh));
    *found = mr_h5_exists(f->h5, name);
    return *found ? mr_h5_dims(f->h5, name, &sh->ndim, sh->d, &sh->cplx) : MR_OK;
}

static mr_status check_kspace(struct mr_fastmri *f)
{
    struct mr_fastmri_info *in = &f->info;
    const char *path = mr_h5_path(f->h5);
    struct ds_shape sh;
    bool found = false;
    char buf[160];

    mr_status st = ds_shape_read(f, KSPACE, &found, &sh);
    if (st != MR_OK)
        return st;
    if (!found)
        return MR_FAIL(MR_ERR_FORMAT, "'%s' has no dataset 'kspace' (expected complex64 "
                       "(slices, coils, H, W) or (slices, H, W))", path);
    const int ndim = sh.ndim;
    const int64_t *d = sh.d;
    const bool cplx = sh.cplx;
    if (!cplx)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': dataset 'kspace' %s is real-valued, expected "
                       "complex64 (compound {r, i})", path, mr_dims_str(ndim, d, buf,
                                                                       sizeof(buf)));
    if (ndim != 3 && ndim != 4)
        return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'kspace' has shape %s, expected "
                       "(slices, coils, H, W) or (slices, H, W)", path,
                       mr_dims_str(ndim, d, buf, sizeof(buf)));
    for (int i = 0; i < ndim; i++)
        if (d[i] < 1)
            return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'kspace' has shape %s with an empty "
                           "axis", path, mr_dims_str(ndim, d, buf, sizeof(buf)));
    /* one slice is what a reader allocates at a time (several times: k-space, maps, images) */
    int64_t slice_bytes = 0;
    char what[1200];
    snprintf(what, sizeof(what), "'%s': one slice of dataset 'kspace' %s", path,
             mr_dims_str(ndim, d, buf, sizeof(buf)));
    st = mr_dims_size(ndim - 1, d + 1, sizeof(float complex), NULL, &slice_bytes);
    if (st == MR_OK)
        st = mr_memory_check((uint64_t)slice_bytes, what);
    if (st != MR_OK)
        return st;
    in->single_coil = ndim == 3;
    in->slices = d[0];
    in->coils = ndim == 4 ? d[1] : 1;
    in->h = d[ndim - 2];
    in->w = d[ndim - 1];
    in->padding_left = 0;
    in->padding_right = in->w;
    return MR_OK;
}

static mr_status check_mask(struct mr_fastmri *f)
{
    struct mr_fastmri_info *in = &f->info;
    const char *path = mr_h5_path(f->h5);
    struct ds_shape sh;
    bool found = false;
    char buf[160];

    mr_status st = ds_shape_read(f, MASK, &found, &sh);
    if (st != MR_OK || !found)
        return st;
    const int ndim = sh.ndim;
    const int64_t *d = sh.d;
    const bool cplx = sh.cplx;
    if (cplx)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': dataset 'mask' is complex, expected bool, integer "
                       "or float", path);
    if (ndim == 1 && d[0] != in->w)
        return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'mask' has length %lld, expected W = %lld "
                       "(the columns of 'kspace')", path, (long long)d[0], (long long)in->w);
    if (ndim == 2 && (d[0] != in->h || d[1] != in->w))
        return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'mask' has shape %s, expected (%lld, %lld) "
                       "(H, W of 'kspace')", path, mr_dims_str(ndim, d, buf, sizeof(buf)),
                       (long long)in->h, (long long)in->w);
    if (ndim != 1 && ndim != 2)
        return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'mask' has shape %s, expected (W) = (%lld) "
                       "or (H, W) = (%lld, %lld)", path, mr_dims_str(ndim, d, buf, sizeof(buf)),
                       (long long)in->w, (long long)in->h, (long long)in->w);
    in->has_mask = true;
    in->mask_ndim = ndim;
    return MR_OK;
}

static mr_status check_sens(struct mr_fastmri *f)
{
    struct mr_fastmri_info *in = &f->info;
    const char *path = mr_h5_path(f->h5);
    int kn = 0;
    int sn = 0;
    int64_t kd[MR_MAX_DIMS];
    int64_t sd[MR_MAX_DIMS];
    bool cplx = false;
    char kb[160];
    char sb[160];

    if (!mr_h5_exists(f->h5, SENS))
        return MR_OK;
    mr_status st = mr_h5_dims(f->h5, SENS, &sn, sd, &cplx);
    if (st == MR_OK)
        st = mr_h5_dims(f->h5, KSPACE, &kn, kd, NULL);
    if (st != MR_OK)
        return st;
    if (!cplx)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': dataset 'sensitivity_map' is real-valued, "
                       "expected complex64 like 'kspace'", path);
    bool same = sn == kn;
    for (int i = 0; i < kn && same; i++)
        same = sd[i] == kd[i];
    if (!same)
        return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'sensitivity_map' has shape %s, expected "
                       "%s (the shape of 'kspace')", path, mr_dims_str(sn, sd, sb, sizeof(sb)),
                       mr_dims_str(kn, kd, kb, sizeof(kb)));
    in->has_sens = true;
    return MR_OK;
}

static mr_status check_target(struct mr_fastmri *f)
{
    static const char *const names[] = { "reconstruction_rss", "reconstruction_esc" };
    struct mr_fastmri_info *in = &f->info;
    const char *path = mr_h5_path(f->h5);
    struct ds_shape sh;
    bool found = false;
    char buf[160];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        mr_status st = ds_shape_read(f, names[i], &found, &sh);
        if (st != MR_OK)
            return st;
        if (!found)
            continue;
        const int ndim = sh.ndim;
        const int64_t *d = sh.d;
        const bool cplx = sh.cplx;
        if (cplx || ndim != 3 || d[0] != in->slices || d[1] < 1 || d[2] < 1)
            return MR_FAIL(MR_ERR_SHAPE, "'%s': dataset '%s' is %s %s, expected float32 "
                           "(%lld, h, w) (one image per slice of 'kspace')", path, names[i],
                           cplx ? "complex" : "real", mr_dims_str(ndim, d, buf, sizeof(buf)),
                           (long long)in->slices);
        in->has_target = true;
        snprintf(in->target_name, sizeof(in->target_name), "%s", names[i]);
        for (int k = 0; k < 3; k++)
            in->target_dims[k] = d[k];
        return MR_OK;
    }
    return MR_OK;
}

static mr_status read_header(struct mr_fastmri *f)
{
    mr_status st = MR_OK;
    struct mr_fastmri_info *in = &f->info;
    char *xml = NULL;
    size_t len = 0;
    char what[1200];

    if (!mr_h5_exists(f->h5, HEADER))
        return MR_OK;
    MR_CHECK(mr_h5_read_string_dataset(f->h5, HEADER, &xml, &len));
    snprintf(what, sizeof(what), "'%s' dataset 'ismrmrd_header'", mr_h5_path(f->h5));
    MR_CHECK(mr_ismrmrd_header_parse(xml, len, what, &in->hdr));
    in->has_header = true;
    const struct mr_ismrmrd_limit *l = &in->hdr.kspace_encoding_step_1;
    if (l->present) {
        in->padding_left = floordiv(in->hdr.enc_matrix[1], 2) - l->center;
        in->padding_right = in->padding_left + l->maximum + 1;
    } else {
        in->padding_left = 0;
        in->padding_right = in->w;
    }
out:
    free(xml);
    return st;
}

static mr_status read_str_attr(struct mr_fastmri *f, const char *name, char *dst, size_t len)
{
    char *s = NULL;

    dst[0] = '\0';
    if (!mr_h5_has_attr(f->h5, "/", name))
        return MR_OK;
    mr_status st = mr_h5_read_attr_string(f->h5, "/", name, &s);
    if (st != MR_OK)
        return st;
    snprintf(dst, len, "%s", s);
    free(s);
    return MR_OK;
}

static mr_status read_int_attr(struct mr_fastmri *f, const char *name, int64_t *v)
{
    *v = 0;
    if (!mr_h5_has_attr(f->h5, "/", name))
        return MR_OK;
    return mr_h5_read_attr_i64(f->h5, "/", name, v);
}

static mr_status read_num_attr(struct mr_fastmri *f, const char *name, bool *has, double *v)
{
    *has = false;
    *v = 0.0;
    if (!mr_h5_has_attr(f->h5, "/", name))
        return MR_OK;
    mr_status st = mr_h5_read_attr_double(f->h5, "/", name, v);
    if (st == MR_OK)
        *has = true;
    return st;
}

mr_status mr_fastmri_open(const char *path, struct mr_fastmri **out)
{
    mr_status st = MR_OK;
    struct mr_fastmri *f = calloc(1, sizeof(*f));

    *out = NULL;
    if (f == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "fastMRI reader for '%s'", path);
    MR_CHECK(mr_h5_open(path, &f->h5));
    MR_CHECK(check_kspace(f));
    MR_CHECK(check_mask(f));
    MR_CHECK(check_sens(f));
    MR_CHECK(check_target(f));
    MR_CHECK(read_header(f));
    MR_CHECK(read_str_attr(f, "acquisition", f->info.acquisition,
                           sizeof(f->info.acquisition)));
    MR_CHECK(read_str_attr(f, "patient_id", f->info.patient_id, sizeof(f->info.patient_id)));
    MR_CHECK(read_num_attr(f, "max", &f->info.has_max, &f->info.max));
    MR_CHECK(read_num_attr(f, "norm", &f->info.has_norm, &f->info.norm));
    MR_CHECK(read_int_attr(f, "acceleration", &f->info.acceleration));
    MR_CHECK(read_int_attr(f, "num_low_frequency", &f->info.num_low_frequency));
    *out = f;
    f = NULL;
out:
    mr_fastmri_close(f);
    return st;
}

void mr_fastmri_close(struct mr_fastmri *f)
{
    if (f == NULL)
        return;
    mr_h5_close(f->h5);
    free(f);
}

const struct mr_fastmri_info *mr_fastmri_info(const struct mr_fastmri *f)
{
    return &f->info;
}

const char *mr_fastmri_path(const struct mr_fastmri *f)
{
    return mr_h5_path(f->h5);
}

static mr_status check_slice(const struct mr_fastmri *f, const char *name, int64_t slice)
{
    if (slice < 0 || slice >= f->info.slices)
        return MR_FAIL(MR_ERR_ARG, "'%s': slice %lld of '%s' requested; the file has %lld",
                       mr_h5_path(f->h5), (long long)slice, name, (long long)f->info.slices);
    return MR_OK;
}

/* Names the first non-finite value of one slice by coil, row and column. */
static mr_status check_finite(const struct mr_fastmri *f, const char *name, int64_t slice,
                              const struct mr_array *a)
{
    const struct mr_fastmri_info *in = &f->info;
    const float complex *x = mr_array_cf32(a);
    const int64_t n = in->h * in->w;

    for (int64_t c = 0; c < in->coils; c++)
        for (int64_t i = 0; i < n; i++) {
            float re = crealf(x[c * n + i]);
            float im = cimagf(x[c * n + i]);
            if (isfinite(re) && isfinite(im))
                continue;
            float bad = isfinite(re) ? im : re;
            return MR_FAIL(MR_ERR_DATA, "'%s': dataset '%s' slice %lld coil %lld holds %s at "
                           "(row %lld, column %lld)", mr_h5_path(f->h5), name,
                           (long long)slice, (long long)c, isnan(bad) ? "NaN" : "Inf",
                           (long long)(i / in->w), (long long)(i % in->w));
        }
    return MR_OK;
}

mr_status mr_fastmri_read_kspace(struct mr_fastmri *f, int64_t slice, struct mr_array *ksp)
{
    mr_status st = check_slice(f, KSPACE, slice);
    if (st == MR_OK)
        st = mr_h5_read_slab(f->h5, KSPACE, slice, ksp);
    if (st == MR_OK)
        st = check_finite(f, KSPACE, slice, ksp);
    return st;
}

mr_status mr_fastmri_read_sens(struct mr_fastmri *f, int64_t slice, struct mr_array *sens)
{
    if (!f->info.has_sens)
        return MR_FAIL(MR_ERR_ARG, "'%s' has no dataset 'sensitivity_map'", mr_h5_path(f->h5));
    mr_status st = check_slice(f, SENS, slice);
    if (st == MR_OK)
        st = mr_h5_read_slab(f->h5, SENS, slice, sens);
    if (st == MR_OK)
        st = check_finite(f, SENS, slice, sens);
    return st;
}

mr_status mr_fastmri_read_target(struct mr_fastmri *f, int64_t slice, struct mr_array *img)
{
    if (!f->info.has_target)
        return MR_FAIL(MR_ERR_ARG, "'%s' has no reconstruction_rss or reconstruction_esc",
                       mr_h5_path(f->h5));
    mr_status st = check_slice(f, f->info.target_name, slice);
    if (st == MR_OK)
        st = mr_h5_read_slab(f->h5, f->info.target_name, slice, img);
    return st;
}

/* Reads the stored mask into a new F32 array and checks its values. */
static mr_status load_mask(struct mr_fastmri *f, struct mr_array *m)
{
    const char *path = mr_h5_path(f->h5);

    if (!f->info.has_mask)
        return MR_FAIL(MR_ERR_ARG, "'%s' has no dataset 'mask'", path);
    mr_status st = mr_h5_read(f->h5, MASK, m);
    if (st != MR_OK)
        return st;
    const float *v = mr_array_f32(m);
    bool any = false;
    for (int64_t i = 0; i < mr_array_numel(m); i++) {
        if (!isfinite(v[i])) {
            mr_array_cleanup(m);
            return MR_FAIL(MR_ERR_DATA, "'%s': dataset 'mask' holds a non-finite value at %lld",
                           path, (long long)i);
        }
        any = any || v[i] != 0.0f;
    }
    if (!any) {
        mr_array_cleanup(m);
        return MR_FAIL(MR_ERR_DATA, "'%s': dataset 'mask' samples nothing (all zero)", path);
    }
    return MR_OK;
}

mr_status mr_fastmri_read_mask_columns(struct mr_fastmri *f, struct mr_array *cols)
{
    mr_status st = MR_OK;
    const struct mr_fastmri_info *in = &f->info;
    struct mr_array m = { 0 };
    char buf[160];

    if (in->has_mask && in->mask_ndim != 1) {
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': dataset 'mask' is 2-D (H, W), not a column vector",
                     mr_h5_path(f->h5));
        goto out;
    }
    if (in->has_mask && (cols->dtype != MR_DTYPE_F32 || mr_array_numel(cols) != in->w)) {
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': the mask is read as float32 (%lld); the destination "
                     "is %s", mr_h5_path(f->h5), (long long)in->w,
                     mr_array_shape_str(cols, buf, sizeof(buf)));
        goto out;
    }
    MR_CHECK(load_mask(f, &m));
    memcpy(mr_array_f32(cols), mr_array_f32(&m), (size_t)in->w * sizeof(float));
out:
    mr_array_cleanup(&m);
    return st;
}

mr_status mr_fastmri_read_mask(struct mr_fastmri *f, struct mr_array *mask)
{
    mr_status st = MR_OK;
    const struct mr_fastmri_info *in = &f->info;
    struct mr_array m = { 0 };
    char buf[160];

    if (in->has_mask && (mask->dtype != MR_DTYPE_F32 || mr_array_numel(mask) != in->h * in->w)) {
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': the mask is read as float32 (%lld, %lld); the "
                     "destination is %s", mr_h5_path(f->h5), (long long)in->h, (long long)in->w,
                     mr_array_shape_str(mask, buf, sizeof(buf)));
        goto out;
    }
    MR_CHECK(load_mask(f, &m));
    const float *src = mr_array_f32(&m);
    float *dst = mr_array_f32(mask);
    if (in->mask_ndim == 1)
        for (int64_t y = 0; y < in->h; y++)
            memcpy(dst + y * in->w, src, (size_t)in->w * sizeof(float));
    else
        memcpy(dst, src, (size_t)(in->h * in->w) * sizeof(float));
out:
    mr_array_cleanup(&m);
    return st;
}
