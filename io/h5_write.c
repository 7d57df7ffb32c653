/*
 * Writing HDF5 files (data model in h5.h): datasets, slabs, strings and attributes, all into
 * the temporary file of a writer from mr_h5_create, which mr_h5_commit moves into place.
 * Complex arrays become compound {r, i} float32 (h5py complex64), real arrays little-endian
 * float32.
 */
#include "io/h5.h"
#include "io/h5_internal.h"

#include <stdio.h>
#include <string.h>

static mr_status need_writer(const struct mr_h5 *h, const char *what)
{
    if (!h->writer)
        return MR_FAIL(MR_ERR_ARG, "cannot write %s: '%s' was opened read-only", what, h->path);
    return MR_OK;
}

/* File type for a dtype: little-endian float32 or compound {r, i} of it (h5py complex64). */
static hid_t file_type(enum mr_dtype dtype)
{
    if (dtype == MR_DTYPE_CF32)
        return mr_h5i_complex_type(H5T_IEEE_F32LE);
    return H5Tcopy(H5T_IEEE_F32LE);
}

static hid_t mem_type(enum mr_dtype dtype)
{
    if (dtype == MR_DTYPE_CF32)
        return mr_h5i_complex_type(H5T_NATIVE_FLOAT);
    return H5Tcopy(H5T_NATIVE_FLOAT);
}

/* Creates dataset `name` (intermediate groups too) with the given type and space. */
static mr_status make_dataset(struct mr_h5 *h, const char *name, hid_t type, hid_t space,
                              hid_t *out)
{
    mr_status st = MR_OK;
    hid_t lcpl = -1;

    *out = -1;
    if (mr_h5i_exists(h->file, name)) {
        st = MR_FAIL(MR_ERR_ARG, "'%s': '%s' already mr_h5i_exists", mr_h5i_name(h), name);
        goto out;
    }
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "HDF5 property list");
        goto out;
    }
    *out = H5Dcreate2(h->file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (*out < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot create dataset '%s' in '%s'", name, mr_h5i_name(h));
        goto out;
    }
out:
    mr_h5i_close_id(lcpl);
    return st;
}

static hid_t simple_space(int ndim, const int64_t *dims)
{
    hsize_t d[MR_MAX_DIMS];
    if (ndim == 0)
        return H5Screate(H5S_SCALAR);
    for (int i = 0; i < ndim; i++)
        d[i] = (hsize_t)dims[i];
    return H5Screate_simple(ndim, d, NULL);
}

mr_status mr_h5_write(struct mr_h5 *h, const char *name, const struct mr_array *a)
{
    mr_status st = MR_OK;
    hid_t ftype = -1;
    hid_t mtype = -1;
    hid_t space = -1;
    hid_t dset = -1;

    mr_h5i_quiet();
    MR_CHECK(need_writer(h, name));
    ftype = file_type(a->dtype);
    mtype = mem_type(a->dtype);
    space = simple_space(a->ndim, a->dims);
    if (ftype < 0 || mtype < 0 || space < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "HDF5 types for '%s'", name);
        goto out;
    }
    MR_CHECK(make_dataset(h, name, ftype, space, &dset));
    if (mr_array_numel(a) > 0 &&
        H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot write dataset '%s' to '%s'", name, mr_h5i_name(h));
        goto out;
    }
out:
    mr_h5i_close_id(dset);
    mr_h5i_close_id(space);
    mr_h5i_close_id(mtype);
    mr_h5i_close_id(ftype);
    return st;
}

mr_status mr_h5_create_dataset(struct mr_h5 *h, const char *name, enum mr_dtype dtype,
                               int ndim, const int64_t *dims)
{
    mr_status st = MR_OK;
    hid_t ftype = -1;
    hid_t space = -1;
    hid_t dset = -1;

    mr_h5i_quiet();
    MR_CHECK(need_writer(h, name));
    if (ndim < 1 || ndim > MR_MAX_DIMS) {
        st = MR_FAIL(MR_ERR_ARG, "dataset '%s': rank %d is outside 1..%d", name, ndim,
                     MR_MAX_DIMS);
        goto out;
    }
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 0) {
            st = MR_FAIL(MR_ERR_ARG, "dataset '%s': dimension %d is negative", name, d);
            goto out;
        }
    ftype = file_type(dtype);
    space = simple_space(ndim, dims);
    if (ftype < 0 || space < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "HDF5 types for '%s'", name);
        goto out;
    }
    MR_CHECK(make_dataset(h, name, ftype, space, &dset));
out:
    mr_h5i_close_id(dset);
    mr_h5i_close_id(space);
    mr_h5i_close_id(ftype);
    return st;
}

mr_status mr_h5_write_slab(struct mr_h5 *h, const char *name, int64_t index,
                           const struct mr_array *a)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;
    hid_t mspace = -1;
    hid_t mtype = -1;
    enum mr_h5_kind k = MR_H5_KIND_OTHER;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    char buf[160];

    mr_h5i_quiet();
    MR_CHECK(need_writer(h, name));
    MR_CHECK(mr_h5i_open_numeric(h, name, &dset, &type, &space, &k, &ndim, dims));
    if (ndim < 1 || index < 0 || index >= dims[0]) {
        st = MR_FAIL(MR_ERR_ARG, "'%s': index %lld is outside '%s' %s", mr_h5i_name(h),
                     (long long)index, name, mr_dims_str(ndim, dims, buf, sizeof(buf)));
        goto out;
    }
    int64_t n = mr_dims_numel(ndim - 1, dims + 1);
    if ((a->dtype == MR_DTYPE_CF32) != (k == MR_H5_KIND_COMPLEX) || mr_array_numel(a) != n) {
        char got[160];
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': an entry of '%s' %s has %lld %s elements; got %s",
                     mr_h5i_name(h), name, mr_dims_str(ndim, dims, buf, sizeof(buf)), (long long)n,
                     k == MR_H5_KIND_COMPLEX ? "complex" : "real",
                     mr_array_shape_str(a, got, sizeof(got)));
        goto out;
    }
    hsize_t mdim = (hsize_t)n;
    mspace = H5Screate_simple(1, &mdim, NULL);
    mtype = mem_type(a->dtype);
    if (mspace < 0 || mtype < 0 ||
        mr_h5i_select_entry(space, ndim, dims, index) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "'%s': cannot select entry %lld of '%s'", mr_h5i_name(h),
                        (long long)index, name);
        goto out;
    }
    if (n > 0 && H5Dwrite(dset, mtype, mspace, space, H5P_DEFAULT, a->data) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot write entry %lld of '%s' to '%s'", (long long)index,
                        name, mr_h5i_name(h));
        goto out;
    }
out:
    mr_h5i_close_id(mtype);
    mr_h5i_close_id(mspace);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    mr_h5i_close_id(dset);
    return st;
}

mr_status mr_h5_write_string_dataset(struct mr_h5 *h, const char *name, const char *text)
{
    mr_status st = MR_OK;
    hid_t type = -1;
    hid_t space = -1;
    hid_t dset = -1;
    size_t n = strlen(text);

    mr_h5i_quiet();
    MR_CHECK(need_writer(h, name));
    type = H5Tcopy(H5T_C_S1);
    space = H5Screate(H5S_SCALAR);
    if (type < 0 || space < 0 || H5Tset_size(type, n > 0 ? n : 1) < 0 ||
        H5Tset_strpad(type, H5T_STR_NULLPAD) < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "HDF5 string type for '%s'", name);
        goto out;
    }
    MR_CHECK(make_dataset(h, name, type, space, &dset));
    if (n > 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot write dataset '%s' to '%s'", name, mr_h5i_name(h));
        goto out;
    }
    if (n == 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, "") < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot write dataset '%s' to '%s'", name, mr_h5i_name(h));
        goto out;
    }
out:
    mr_h5i_close_id(dset);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    return st;
}

/* Writes a scalar attribute of file type ftype from a value of memory type mtype. */
static mr_status write_attr(struct mr_h5 *h, const char *obj, const char *attr, hid_t ftype,
                            hid_t mtype, const void *value)
{
    mr_status st = MR_OK;
    hid_t space = -1;
    hid_t a = -1;

    MR_CHECK(need_writer(h, attr));
    if (!mr_h5i_exists(h->file, obj)) {
        st = MR_FAIL(MR_ERR_ARG, "'%s' has no object '%s' to put attribute '%s' on", mr_h5i_name(h),
                     obj, attr);
        goto out;
    }
    if (H5Aexists_by_name(h->file, obj, attr, H5P_DEFAULT) > 0 &&
        H5Adelete_by_name(h->file, obj, attr, H5P_DEFAULT) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot replace attribute '%s' of '%s' in '%s'", attr, obj,
                        mr_h5i_name(h));
        goto out;
    }
    space = H5Screate(H5S_SCALAR);
    if (space < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "HDF5 dataspace");
        goto out;
    }
    a = H5Acreate_by_name(h->file, obj, attr, ftype, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, value) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot write attribute '%s' of '%s' to '%s'", attr, obj,
                        mr_h5i_name(h));
        goto out;
    }
out:
    mr_h5i_close_id(a);
    mr_h5i_close_id(space);
    return st;
}

mr_status mr_h5_write_attr_string(struct mr_h5 *h, const char *obj, const char *attr,
                                  const char *value)
{
    mr_status st = MR_OK;
    hid_t type = -1;

    mr_h5i_quiet();
    type = H5Tcopy(H5T_C_S1);
    if (type < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "HDF5 string type");
        goto out;
    }
    MR_CHECK(write_attr(h, obj, attr, type, type, &value));
out:
    mr_h5i_close_id(type);
    return st;
}

mr_status mr_h5_write_attr_double(struct mr_h5 *h, const char *obj, const char *attr,
                                  double value)
{
    mr_h5i_quiet();
    return write_attr(h, obj, attr, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

mr_status mr_h5_write_attr_i64(struct mr_h5 *h, const char *obj, const char *attr,
                               int64_t value)
{
    long long v = value;
    mr_h5i_quiet();
    return write_attr(h, obj, attr, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v);
}
