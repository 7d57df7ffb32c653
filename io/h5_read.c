/*
 * Reading HDF5 datasets and attributes (data model in h5.h). Every size comes from the file,
 * so each is checked before anything is allocated: shapes through mr_dims_size (no product
 * wraps), bytes stored against bytes expected (mr_h5i_check_stored), and every allocation a
 * file decides against the memory limit (mr_memory_check). HDF5 converts float64 → float32
 * and integers → float during H5Dread; enums (h5py bool) are read as their base integer and
 * converted with H5Tconvert (HDF5 has no enum → float path).
 */
#include "io/h5.h"
#include "io/h5_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the selection (n elements) of a numeric dataset into dst as float (real kinds) or
 * float complex (MR_H5_KIND_COMPLEX). */
static mr_status read_numeric(const struct mr_h5 *h, const char *name, hid_t dset, hid_t ftype,
                              enum mr_h5_kind k, hid_t mspace, hid_t fspace, void *dst, size_t n)
{
    mr_status st = MR_OK;
    hid_t mtype = -1;
    hid_t base = -1;
    void *tmp = NULL;

    if (k == MR_H5_KIND_COMPLEX) {
        mtype = mr_h5i_complex_type(H5T_NATIVE_FLOAT);
    } else if (k == MR_H5_KIND_ENUM) {
        /* read the enum with a native base, then convert the base integers to float */
        mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
        hid_t super = mtype >= 0 ? H5Tget_super(mtype) : -1;
        base = super;
    } else {
        mtype = H5Tcopy(H5T_NATIVE_FLOAT);
    }
    if (mtype < 0 || (k == MR_H5_KIND_ENUM && base < 0)) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot convert '%s'", h->path, name);
        goto out;
    }
    if (k == MR_H5_KIND_ENUM) {
        size_t sz = H5Tget_size(base);
        size_t bytes = 0;
        if (sz < sizeof(float))
            sz = sizeof(float);
        if (__builtin_mul_overflow(sz, n > 0 ? n : 1, &bytes)) {
            st = MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has %zu-byte enum values, too many to "
                         "convert", h->path, name, sz);
            goto out;
        }
        char what[1200];
        snprintf(what, sizeof(what), "'%s': converting enum dataset '%s'", h->path, name);
        MR_CHECK(mr_memory_check(bytes, what));
        tmp = malloc(bytes);
        if (tmp == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading '%s' from '%s'", name, h->path);
            goto out;
        }
        if (H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, tmp) < 0 ||
            H5Tconvert(base, H5T_NATIVE_FLOAT, n, tmp, NULL, H5P_DEFAULT) < 0) {
            st = MR_H5_FAIL(MR_ERR_IO, "cannot read '%s' from '%s'", name, h->path);
            goto out;
        }
        memcpy(dst, tmp, n * sizeof(float));
    } else if (H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, dst) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot read '%s' from '%s'", name, h->path);
        goto out;
    }
out:
    free(tmp);
    mr_h5i_close_id(base);
    mr_h5i_close_id(mtype);
    return st;
}

mr_status mr_h5_read(const struct mr_h5 *h, const char *name, struct mr_array *out)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;
    enum mr_h5_kind k = MR_H5_KIND_OTHER;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];

    mr_h5i_quiet();
    memset(out, 0, sizeof(*out));
    MR_CHECK(mr_h5i_open_numeric(h, name, &dset, &type, &space, &k, &ndim, dims));
    enum mr_dtype dtype = k == MR_H5_KIND_COMPLEX ? MR_DTYPE_CF32 : MR_DTYPE_F32;
    int64_t nbytes = 0;
    char what[1400];
    char buf[200];
    snprintf(what, sizeof(what), "'%s': dataset '%s' %s", h->path, name,
             mr_dims_str(ndim, dims, buf, sizeof(buf)));
    st = mr_dims_size(ndim, dims, mr_dtype_size(dtype), NULL, &nbytes);
    if (st != MR_OK) {
        mr_fail_context(st, "%s", what);
        goto out;
    }
    MR_CHECK(mr_memory_check((uint64_t)nbytes, what));
    MR_CHECK(mr_array_init(out, dtype, ndim, dims));
    if (mr_array_numel(out) > 0)
        MR_CHECK(read_numeric(h, name, dset, type, k, H5S_ALL, H5S_ALL, out->data,
                              (size_t)mr_array_numel(out)));
out:
    if (st != MR_OK)
        mr_array_cleanup(out);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    mr_h5i_close_id(dset);
    return st;
}

mr_status mr_h5_read_slab(const struct mr_h5 *h, const char *name, int64_t index,
                          struct mr_array *out)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;
    hid_t mspace = -1;
    enum mr_h5_kind k = MR_H5_KIND_OTHER;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    char buf[160];

    mr_h5i_quiet();
    MR_CHECK(mr_h5i_open_numeric(h, name, &dset, &type, &space, &k, &ndim, dims));
    if (ndim < 1) {
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': '%s' is a scalar; cannot read an entry of axis 0",
                     h->path, name);
        goto out;
    }
    if (index < 0 || index >= dims[0]) {
        st = MR_FAIL(MR_ERR_ARG, "'%s': index %lld is outside '%s' %s", h->path,
                     (long long)index, name, mr_dims_str(ndim, dims, buf, sizeof(buf)));
        goto out;
    }
    enum mr_dtype want = k == MR_H5_KIND_COMPLEX ? MR_DTYPE_CF32 : MR_DTYPE_F32;
    int64_t n = mr_dims_numel(ndim - 1, dims + 1);
    if (out->dtype != want || mr_array_numel(out) != n) {
        char got[160];
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': an entry of '%s' %s is %s with %lld elements; the "
                     "destination is %s", h->path, name,
                     mr_dims_str(ndim, dims, buf, sizeof(buf)),
                     want == MR_DTYPE_CF32 ? "complex64" : "float32", (long long)n,
                     mr_array_shape_str(out, got, sizeof(got)));
        goto out;
    }
    hsize_t mdim = (hsize_t)n;
    mspace = H5Screate_simple(1, &mdim, NULL);
    if (mspace < 0 ||
        mr_h5i_select_entry(space, ndim, dims, index) < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "'%s': cannot select entry %lld of '%s'", h->path,
                        (long long)index, name);
        goto out;
    }
    if (n > 0)
        MR_CHECK(read_numeric(h, name, dset, type, k, mspace, space, out->data, (size_t)n));
out:
    mr_h5i_close_id(mspace);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    mr_h5i_close_id(dset);
    return st;
}

/* One integer from a scalar or one-element dataset/attribute (is_attr selects H5Aread). */
static mr_status read_one_int(const struct mr_h5 *h, const char *what, hid_t obj, bool is_attr,
                              int64_t *out)
{
    mr_status st = MR_OK;
    hid_t type = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mtype = -1;
    hid_t base = -1;
    long long v = 0;

    if (type < 0 || space < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of %s", h->path, what);
        goto out;
    }
    enum mr_h5_kind k = mr_h5i_classify(type);
    if (k != MR_H5_KIND_INT && k != MR_H5_KIND_ENUM) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s is %s, expected an integer", h->path, what,
                     mr_h5i_kind_name(k));
        goto out;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n != 1) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s holds %lld values, expected one integer",
                     h->path, what, (long long)n);
        goto out;
    }
    if (k == MR_H5_KIND_ENUM) {
        mtype = H5Tget_native_type(type, H5T_DIR_ASCEND);
        base = mtype >= 0 ? H5Tget_super(mtype) : -1;
        if (base < 0 || H5Tget_size(base) > sizeof(v)) {
            st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot convert %s", h->path, what);
            goto out;
        }
    } else {
        mtype = H5Tcopy(H5T_NATIVE_LLONG);
    }
    herr_t rc = is_attr ? H5Aread(obj, mtype, &v) : H5Dread(obj, mtype, H5S_ALL, H5S_ALL,
                                                            H5P_DEFAULT, &v);
    if (rc >= 0 && k == MR_H5_KIND_ENUM)
        rc = H5Tconvert(base, H5T_NATIVE_LLONG, 1, &v, NULL, H5P_DEFAULT);
    if (rc < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read %s as an int64", h->path, what);
        goto out;
    }
    *out = (int64_t)v;
out:
    mr_h5i_close_id(base);
    mr_h5i_close_id(mtype);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    return st;
}

/* A scalar (or one-element) string, fixed- or variable-length, into a malloc'd C string. */
/*
 * The stored length of a contiguous variable-length string dataset's one element, checked
 * before H5Dread: libhdf5 allocates a conversion buffer of that length (H5T__conv_vlen) before
 * our allocator and its memory limit are asked, so a damaged file claiming gigabytes would be
 * allocated (tests/fuzz/README.md, libhdf5 finding 1). On disk the element is a 4-byte
 * little-endian length followed by its global-heap ID; H5Dget_offset gives its file address.
 * Other layouts (compact, chunked) are left to libhdf5.
 */
static mr_status check_vlen_length(const struct mr_h5 *h, hid_t obj, const char *what)
{
    hid_t dcpl = H5Dget_create_plist(obj);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    mr_h5i_close_id(dcpl);
    haddr_t at = layout == H5D_CONTIGUOUS ? H5Dget_offset(obj) : HADDR_UNDEF;
    hsize_t file_size = 0;
    if (at == HADDR_UNDEF || H5Fget_filesize(h->file, &file_size) < 0)
        return MR_OK;
    uint8_t b[4];
    FILE *fp = fopen(h->path, "rb");
    bool ok = fp != NULL && fseeko(fp, (off_t)at, SEEK_SET) == 0 && fread(b, 1, 4, fp) == 4;
    if (fp != NULL)
        fclose(fp);
    if (!ok)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': cannot read the length of %s at byte %llu "
                       "(truncated?)", h->path, what, (unsigned long long)at);
    uint64_t len = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
                   (uint64_t)b[3] << 24;
    if (len > file_size)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': %s claims a string of %llu bytes, more than the "
                       "file's %llu bytes (damaged file)", h->path, what,
                       (unsigned long long)len, (unsigned long long)file_size);
    char full[1400];
    snprintf(full, sizeof(full), "'%s': %s", h->path, what);
    return mr_memory_check(len + 1, full);
}

static mr_status read_string(const struct mr_h5 *h, const char *what, hid_t obj, bool is_attr,
                             char **out, size_t *len)
{
    mr_status st = MR_OK;
    hid_t type = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mtype = -1;
    char *s = NULL;
    size_t n = 0;

    *out = NULL;
    if (type < 0 || space < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of %s", h->path, what);
        goto out;
    }
    enum mr_h5_kind k = mr_h5i_classify(type);
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    if (k == MR_H5_KIND_INT && !is_attr && H5Tget_size(type) == 1 &&
        H5Sget_simple_extent_ndims(space) == 1) {
        /* raw bytes (a uint8/int8 vector) */
        const int64_t d1 = npoints;
        char full[1400];
        snprintf(full, sizeof(full), "'%s': %s", h->path, what);
        if (npoints < 0) {
            st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the shape of %s", h->path, what);
            goto out;
        }
        MR_CHECK(mr_h5i_check_stored(h, what, obj, type, 1, &d1));
        MR_CHECK(mr_memory_check((uint64_t)npoints + 1, full));
        n = (size_t)npoints;
        s = malloc(n + 1);
        if (s == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading %s from '%s'", what, h->path);
            goto out;
        }
        if (n > 0 && H5Dread(obj, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
            st = MR_H5_FAIL(MR_ERR_IO, "cannot read %s from '%s'", what, h->path);
            goto out;
        }
        s[n] = '\0';
    } else if (k != MR_H5_KIND_STRING) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s is %s, expected a string", h->path, what,
                     mr_h5i_kind_name(k));
        goto out;
    } else if (npoints != 1) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s holds %lld strings, expected one", h->path, what,
                     (long long)npoints);
        goto out;
    } else if (H5Tis_variable_str(type) > 0) {
        char *v = NULL;
        mtype = H5Tcopy(H5T_C_S1);
        if (mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mtype, H5Tget_cset(type)) < 0) {
            st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot convert %s", h->path, what);
            goto out;
        }
        herr_t rc = -1;
        if (is_attr) {
            rc = H5Aread(obj, mtype, &v);
        } else {
            MR_CHECK(check_vlen_length(h, obj, what));
            /* the length is the file's word: HDF5 may allocate at most the memory limit */
            const uint64_t lim = mr_memory_limit();
            const size_t cap = lim < SIZE_MAX ? (size_t)lim : SIZE_MAX;
            hid_t dxpl = mr_h5i_xfer(&cap);
            if (dxpl >= 0)
                rc = H5Dread(obj, mtype, H5S_ALL, H5S_ALL, dxpl, &v);
            mr_h5i_close_id(dxpl);
        }
        if (rc < 0) {
            st = MR_H5_FAIL(MR_ERR_IO, "cannot read %s from '%s' (damaged, or longer than the "
                            "memory limit?)", what, h->path);
            goto out;
        }
        n = v != NULL ? strlen(v) : 0;
        s = malloc(n + 1);
        if (s != NULL) {
            if (n > 0)
                memcpy(s, v, n);
            s[n] = '\0';
        }
        if (is_attr)
            mr_h5_reclaim(mtype, space, &v);
        else
            free(v); /* from mr_h5i_xfer's allocator */
        if (s == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading %s from '%s'", what, h->path);
            goto out;
        }
    } else {
        size_t size = H5Tget_size(type);
        char full[1400];
        snprintf(full, sizeof(full), "'%s': %s", h->path, what);
        if (size == 0) {
            st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the string size of %s", h->path,
                            what);
            goto out;
        }
        MR_CHECK(mr_memory_check((uint64_t)size + 1, full));
        mtype = H5Tcopy(type);
        s = malloc(size + 1);
        if (mtype < 0 || s == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading %s from '%s'", what, h->path);
            goto out;
        }
        herr_t rc = is_attr ? H5Aread(obj, mtype, s)
                            : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
        if (rc < 0) {
            st = MR_H5_FAIL(MR_ERR_IO, "cannot read %s from '%s'", what, h->path);
            goto out;
        }
        s[size] = '\0';
        n = strlen(s); /* drops NUL padding; SPACEPAD strings keep their spaces */
    }
    *out = s;
    s = NULL;
    if (len != NULL)
        *len = n;
out:
    free(s);
    mr_h5i_close_id(mtype);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    return st;
}

/* An open attribute or dataset and its name for messages ("attribute 'ATTR' of 'OBJ'",
 * "dataset 'NAME'"). */
struct item {
    hid_t id; /* -1: not open */
    bool is_attr;
    char what[600];
};

/* Quiets HDF5's error printing and opens attribute attr of object obj into *a (a->id -1 on
 * failure, for mr_h5i_close_id). Errors: MR_ERR_FORMAT (no object, no attribute). */
static mr_status open_attr(const struct mr_h5 *h, const char *obj, const char *attr,
                           struct item *a)
{
    mr_h5i_quiet();
    a->id = -1;
    a->is_attr = true;
    snprintf(a->what, sizeof(a->what), "attribute '%s' of '%s'", attr, obj);
    if (!mr_h5i_exists(h->file, obj))
        return MR_FAIL(MR_ERR_FORMAT, "'%s' has no object '%s' (looking for attribute '%s')",
                       h->path, obj, attr);
    if (H5Aexists_by_name(h->file, obj, attr, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has no attribute '%s'", h->path, obj, attr);
    }
    a->id = H5Aopen_by_name(h->file, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
    if (a->id < 0)
        return MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot open attribute '%s' of '%s'", h->path, attr,
                          obj);
    return MR_OK;
}

bool mr_h5_has_attr(const struct mr_h5 *h, const char *obj, const char *attr)
{
    mr_h5i_quiet();
    bool r = mr_h5i_exists(h->file, obj) && H5Aexists_by_name(h->file, obj, attr, H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    return r;
}

/* Quiets HDF5's error printing and opens dataset name into *d (d->id -1 on failure).
 * Errors: those of mr_h5i_open_dataset. */
static mr_status open_dset(const struct mr_h5 *h, const char *name, struct item *d)
{
    mr_h5i_quiet();
    d->id = -1;
    d->is_attr = false;
    snprintf(d->what, sizeof(d->what), "dataset '%s'", name);
    return mr_h5i_open_dataset(h, name, &d->id);
}

/* Reads an open attribute or dataset into out (the type the public reader documents). */
typedef mr_status (*item_read_fn)(const struct mr_h5 *h, const struct item *it, void *out);

/* Opens attribute attr of obj (attr NULL: dataset obj), reads it with fn and closes it. */
static mr_status read_item(const struct mr_h5 *h, const char *obj, const char *attr,
                           item_read_fn fn, void *out)
{
    mr_status st = MR_OK;
    struct item it;

    MR_CHECK(attr != NULL ? open_attr(h, obj, attr, &it) : open_dset(h, obj, &it));
    st = fn(h, &it, out);
out:
    mr_h5i_close_id(it.id);
    return st;
}

/* out: a struct string_out */
struct string_out {
    char **s;
    size_t *len;
};

static mr_status item_string(const struct mr_h5 *h, const struct item *it, void *out)
{
    const struct string_out *o = out;
    return read_string(h, it->what, it->id, it->is_attr, o->s, o->len);
}

static mr_status item_i64(const struct mr_h5 *h, const struct item *it, void *out)
{
    return read_one_int(h, it->what, it->id, it->is_attr, out);
}

/* a number of any float or integer type (an enum as its integer value) as a double */
static mr_status attr_double(const struct mr_h5 *h, const struct item *a, void *out)
{
    mr_status st = MR_OK;
    hid_t type = H5Aget_type(a->id);
    hid_t space = H5Aget_space(a->id);
    double v = 0.0;

    enum mr_h5_kind k = type >= 0 ? mr_h5i_classify(type) : MR_H5_KIND_OTHER;
    if (k == MR_H5_KIND_ENUM) {
        int64_t i = 0;
        MR_CHECK(read_one_int(h, a->what, a->id, true, &i));
        *(double *)out = (double)i;
        goto out;
    }
    if (k != MR_H5_KIND_FLOAT && k != MR_H5_KIND_INT) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s is %s, expected a number", h->path, a->what,
                     mr_h5i_kind_name(k));
        goto out;
    }
    if (H5Sget_simple_extent_npoints(space) != 1) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s holds %lld values, expected one number", h->path,
                     a->what, (long long)H5Sget_simple_extent_npoints(space));
        goto out;
    }
    if (H5Aread(a->id, H5T_NATIVE_DOUBLE, &v) < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read %s as a double", h->path, a->what);
        goto out;
    }
    *(double *)out = v;
out:
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    return st;
}

mr_status mr_h5_read_attr_string(const struct mr_h5 *h, const char *obj, const char *attr,
                                 char **out)
{
    struct string_out o = { out, NULL };
    *out = NULL;
    return read_item(h, obj, attr, item_string, &o);
}

mr_status mr_h5_read_attr_double(const struct mr_h5 *h, const char *obj, const char *attr,
                                 double *out)
{
    return read_item(h, obj, attr, attr_double, out);
}

mr_status mr_h5_read_attr_i64(const struct mr_h5 *h, const char *obj, const char *attr,
                              int64_t *out)
{
    return read_item(h, obj, attr, item_i64, out);
}

mr_status mr_h5_read_entry(const struct mr_h5 *h, const char *name, bool sliced, int64_t index,
                           struct mr_array *out)
{
    struct mr_array tmp = { 0 };
    mr_status st;

    if (sliced)
        return mr_h5_read_slab(h, name, index, out);
    st = mr_h5_read(h, name, &tmp);
    if (st == MR_OK)
        mr_array_copy(out, &tmp);
    mr_array_cleanup(&tmp);
    return st;
}

mr_status mr_h5_read_i64(const struct mr_h5 *h, const char *name, int64_t *out)
{
    return read_item(h, name, NULL, item_i64, out);
}

mr_status mr_h5_read_string_dataset(const struct mr_h5 *h, const char *name, char **out,
                                    size_t *len)
{
    struct string_out o = { out, len };
    *out = NULL;
    return read_item(h, name, NULL, item_string, &o);
}
