/*
 * Generic HDF5 reading and atomic writing (see h5.h for the data model).
 *
 * Every public entry switches HDF5's automatic error printing off and, on failure, appends the
 * innermost HDF5 error description to our message, so "truncated file: eof = ..." reaches the
 * user without HDF5 writing to stderr. Type handling follows h5py: complex is a compound
 * {r, i}; bool is an enum over int8. HDF5 converts float64 → float32 and integers → float
 * during H5Dread; enums are read as their base integer and converted with H5Tconvert (HDF5
 * has no enum → float path).
 */
#include "io/h5.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#if H5_VERSION_GE(1, 12, 0)
#define MR_H5_LINFO H5L_info2_t
#define mr_h5_lvisit H5Lvisit2
#define mr_h5_reclaim(type, space, buf) H5Treclaim((type), (space), H5P_DEFAULT, (buf))
#else
#define MR_H5_LINFO H5L_info_t
#define mr_h5_lvisit H5Lvisit
#define mr_h5_reclaim(type, space, buf) H5Dvlen_reclaim((type), (space), H5P_DEFAULT, (buf))
#endif

struct mr_h5 {
    hid_t file;
    char *path; /* as given by the caller */
    char *tmp;  /* writer only: the temp file written until commit */
    bool writer;
};

/* What a dataset's or attribute's element type is, as far as we care. */
enum h5_kind {
    H5K_FLOAT,   /* IEEE float of any size */
    H5K_INT,     /* integer of any size and sign */
    H5K_ENUM,    /* enum over an integer (h5py bool) */
    H5K_COMPLEX, /* compound {r, i} of floats */
    H5K_STRING,
    H5K_OTHER,
};

static const char *kind_name(enum h5_kind k)
{
    switch (k) {
    case H5K_FLOAT: return "float";
    case H5K_INT: return "integer";
    case H5K_ENUM: return "enum";
    case H5K_COMPLEX: return "complex {r, i}";
    case H5K_STRING: return "string";
    case H5K_OTHER: break;
    }
    return "unsupported type";
}

static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t first_desc(unsigned n, const H5E_error2_t *err, void *data)
{
    char *buf = data;
    (void)n;
    if (buf[0] == '\0' && err->desc != NULL)
        snprintf(buf, 200, "%s", err->desc);
    return 0;
}

/* Fails with st and the message, plus HDF5's innermost error description if it has one. */
#define H5FAIL(st, ...) h5_fail(__FILE__, __LINE__, (st), __VA_ARGS__)
static mr_status h5_fail(const char *file, int line, mr_status st, const char *fmt, ...)
    MR_PRINTF_LIKE(4, 5);
static mr_status h5_fail(const char *file, int line, mr_status st, const char *fmt, ...)
{
    char msg[768];
    char detail[200] = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc, detail);
    H5Eclear2(H5E_DEFAULT);
    if (detail[0] != '\0')
        return mr_fail_at(file, line, st, "%s (HDF5: %s)", msg, detail);
    return mr_fail_at(file, line, st, "%s", msg);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static void close_id(hid_t id)
{
    if (id < 0)
        return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
}

static enum h5_kind classify(hid_t type)
{
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: return H5K_FLOAT;
    case H5T_INTEGER: return H5K_INT;
    case H5T_STRING: return H5K_STRING;
    case H5T_ENUM: {
        hid_t super = H5Tget_super(type);
        bool is_int = super >= 0 && H5Tget_class(super) == H5T_INTEGER;
        close_id(super);
        return is_int ? H5K_ENUM : H5K_OTHER;
    }
    case H5T_COMPOUND: {
        if (H5Tget_nmembers(type) != 2)
            return H5K_OTHER;
        bool ok = true;
        for (unsigned m = 0; m < 2 && ok; m++) {
            char *name = H5Tget_member_name(type, m);
            ok = name != NULL && strcmp(name, m == 0 ? "r" : "i") == 0 &&
                 H5Tget_member_class(type, m) == H5T_FLOAT;
            H5free_memory(name);
        }
        return ok ? H5K_COMPLEX : H5K_OTHER;
    }
    default: return H5K_OTHER;
    }
}

static bool is_numeric(enum h5_kind k)
{
    return k == H5K_FLOAT || k == H5K_INT || k == H5K_ENUM || k == H5K_COMPLEX;
}

/* compound {r: float, i: float}, the in-memory layout of float complex */
static hid_t complex_type(hid_t member)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, 2 * H5Tget_size(member));
    if (t < 0)
        return t;
    if (H5Tinsert(t, "r", 0, member) < 0 || H5Tinsert(t, "i", H5Tget_size(member), member) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* ---- opening ---------------------------------------------------------------------------- */

/* File access: closing the file closes everything in it (so a commit never renames a file
 * HDF5 still holds open). HDF5 >= 1.10.7 locks files; on file systems without locks (some
 * NFS, read-only mounts) that makes every open fail, so use locks only where they work. */
static hid_t file_access(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0)
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
#if H5_VERSION_GE(1, 10, 7)
    if (fapl >= 0)
        H5Pset_file_locking(fapl, 1, 1);
#endif
    return fapl >= 0 ? fapl : H5P_DEFAULT;
}

mr_status mr_h5_open(const char *path, struct mr_h5 **out)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    hid_t fapl = -1;
    struct stat sb;

    quiet();
    *out = NULL;
    if (stat(path, &sb) != 0)
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': not a regular file", path);
    if (access(path, R_OK) != 0)
        return MR_FAIL(MR_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    htri_t is = H5Fis_hdf5(path);
    if (is < 0)
        return H5FAIL(MR_ERR_IO, "cannot read '%s'", path);
    if (is == 0)
        return MR_FAIL(MR_ERR_FORMAT,
                       "'%s' is not an HDF5 file (no HDF5 signature; %lld bytes; empty or "
                       "truncated before the superblock?)",
                       path, (long long)sb.st_size);
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "HDF5 handle for '%s'", path);
    h->file = -1;
    h->path = dup_str(path);
    if (h->path == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "HDF5 handle for '%s'", path);
        goto out;
    }
    fapl = file_access();
    h->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (h->file < 0) {
        st = H5FAIL(MR_ERR_FORMAT, "cannot open HDF5 file '%s' (truncated or damaged?)", path);
        goto out;
    }
    *out = h;
    h = NULL;
out:
    close_id(fapl);
    mr_h5_close(h);
    return st;
}

mr_status mr_h5_create(const char *path, struct mr_h5 **out)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    hid_t fapl = -1;
    size_t n = strlen(path) + 32;

    quiet();
    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "HDF5 writer for '%s'", path);
    h->file = -1;
    h->writer = true;
    h->path = dup_str(path);
    h->tmp = malloc(n);
    if (h->path == NULL || h->tmp == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "HDF5 writer for '%s'", path);
        goto out;
    }
    snprintf(h->tmp, n, "%s.tmp-%ld", path, (long)getpid());
    fapl = file_access();
    h->file = H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (h->file < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot create '%s' (temp file for '%s')", h->tmp, path);
        free(h->tmp); /* nothing to remove */
        h->tmp = NULL;
        goto out;
    }
    *out = h;
    h = NULL;
out:
    close_id(fapl);
    mr_h5_close(h);
    return st;
}

static void free_handle(struct mr_h5 *h)
{
    free(h->path);
    free(h->tmp);
    free(h);
}

/* fsync, so that after the rename the new name never points at data still in flight */
static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

mr_status mr_h5_commit(struct mr_h5 *h)
{
    mr_status st = MR_OK;

    quiet();
    if (!h->writer) {
        st = MR_FAIL(MR_ERR_ARG, "'%s' was opened for reading; nothing to commit", h->path);
        mr_h5_close(h);
        return st;
    }
    herr_t rc = H5Fclose(h->file);
    h->file = -1;
    if (rc < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot finish writing '%s'", h->tmp);
        goto out;
    }
    if (sync_file(h->tmp) != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot flush '%s' to disk: %s", h->tmp, strerror(errno));
        goto out;
    }
    if (rename(h->tmp, h->path) != 0) {
        st = MR_FAIL(MR_ERR_IO, "cannot rename '%s' to '%s': %s", h->tmp, h->path,
                     strerror(errno));
        goto out;
    }
    free(h->tmp);
    h->tmp = NULL;
out:
    mr_h5_close(h);
    return st;
}

void mr_h5_close(struct mr_h5 *h)
{
    if (h == NULL)
        return;
    quiet();
    if (h->file >= 0)
        H5Fclose(h->file);
    if (h->writer && h->tmp != NULL)
        unlink(h->tmp);
    H5Eclear2(H5E_DEFAULT);
    free_handle(h);
}

const char *mr_h5_path(const struct mr_h5 *h)
{
    return h->path;
}

/* ---- inspecting ------------------------------------------------------------------------- */

/* Walks the path one link at a time: H5Lexists fails (instead of answering false) when an
 * intermediate group is missing. */
static bool exists(hid_t file, const char *name)
{
    char buf[1024];
    size_t n = strlen(name);

    if (n == 0 || strcmp(name, "/") == 0)
        return true;
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, name, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        bool skip = buf[i - 1] == '/'; /* "//" */
        if (!skip && H5Lexists(file, buf, H5P_DEFAULT) <= 0)
            return false;
        buf[i] = c;
    }
    return H5Oexists_by_name(file, name, H5P_DEFAULT) > 0;
}

bool mr_h5_exists(const struct mr_h5 *h, const char *name)
{
    quiet();
    bool r = exists(h->file, name);
    H5Eclear2(H5E_DEFAULT);
    return r;
}

/* Opens a dataset with a message that says whether it is missing or something else. */
static mr_status open_dataset(const struct mr_h5 *h, const char *name, hid_t *out)
{
    if (!exists(h->file, name))
        return MR_FAIL(MR_ERR_FORMAT, "'%s' has no dataset '%s'", h->path, name);
    *out = H5Dopen2(h->file, name, H5P_DEFAULT);
    if (*out < 0)
        return H5FAIL(MR_ERR_FORMAT, "'%s': '%s' is not a readable dataset", h->path, name);
    return MR_OK;
}

/* Dims of a dataspace; fails on null dataspaces and ranks above MR_MAX_DIMS. */
static mr_status space_dims(const struct mr_h5 *h, const char *name, hid_t space, int *ndim,
                            int64_t dims[MR_MAX_DIMS])
{
    hsize_t d[H5S_MAX_RANK];
    H5S_class_t cls = H5Sget_simple_extent_type(space);

    if (cls == H5S_NULL)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has no data (null dataspace)", h->path, name);
    int n = H5Sget_simple_extent_dims(space, d, NULL);
    if (n < 0)
        return H5FAIL(MR_ERR_FORMAT, "'%s': cannot read the shape of '%s'", h->path, name);
    if (n > MR_MAX_DIMS)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has rank %d; at most %d is supported",
                       h->path, name, n, MR_MAX_DIMS);
    for (int i = 0; i < MR_MAX_DIMS; i++)
        dims[i] = i < n ? (int64_t)d[i] : 1;
    *ndim = n;
    return MR_OK;
}

mr_status mr_h5_dims(const struct mr_h5 *h, const char *name, int *ndim,
                     int64_t dims[MR_MAX_DIMS], bool *is_complex)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;

    quiet();
    MR_CHECK(open_dataset(h, name, &dset));
    type = H5Dget_type(dset);
    space = H5Dget_space(dset);
    if (type < 0 || space < 0) {
        st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of '%s'", h->path, name);
        goto out;
    }
    enum h5_kind k = classify(type);
    if (!is_numeric(k)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' is %s, expected numbers or complex {r, i}",
                     h->path, name, kind_name(k));
        goto out;
    }
    MR_CHECK(space_dims(h, name, space, ndim, dims));
    if (is_complex != NULL)
        *is_complex = k == H5K_COMPLEX;
out:
    close_id(space);
    close_id(type);
    close_id(dset);
    return st;
}

struct list_ctx {
    char **names;
    size_t count;
    size_t cap;
    bool nomem;
};

static herr_t list_cb(hid_t group, const char *name, const MR_H5_LINFO *info, void *data)
{
    struct list_ctx *c = data;

    if (info->type != H5L_TYPE_HARD)
        return 0;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0)
        return 0;
    bool is_dset = H5Iget_type(obj) == H5I_DATASET;
    H5Oclose(obj);
    if (!is_dset)
        return 0;
    if (c->count == c->cap) {
        size_t cap = c->cap == 0 ? 16 : 2 * c->cap;
        char **p = realloc(c->names, cap * sizeof(*p));
        if (p == NULL) {
            c->nomem = true;
            return -1;
        }
        c->names = p;
        c->cap = cap;
    }
    c->names[c->count] = dup_str(name);
    if (c->names[c->count] == NULL) {
        c->nomem = true;
        return -1;
    }
    c->count++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

mr_status mr_h5_list(const struct mr_h5 *h, const char *group, char ***names, size_t *count)
{
    mr_status st = MR_OK;
    struct list_ctx c = { 0 };
    hid_t grp = -1;

    quiet();
    *names = NULL;
    *count = 0;
    if (!exists(h->file, group)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' has no group '%s'", h->path, group);
        goto out;
    }
    grp = H5Gopen2(h->file, group, H5P_DEFAULT);
    if (grp < 0) {
        st = H5FAIL(MR_ERR_FORMAT, "'%s': '%s' is not a group", h->path, group);
        goto out;
    }
    if (mr_h5_lvisit(grp, H5_INDEX_NAME, H5_ITER_INC, list_cb, &c) < 0) {
        st = c.nomem ? MR_FAIL(MR_ERR_NOMEM, "listing '%s' in '%s'", group, h->path)
                     : H5FAIL(MR_ERR_FORMAT, "'%s': cannot list group '%s'", h->path, group);
        goto out;
    }
    if (c.count > 1)
        qsort(c.names, c.count, sizeof(*c.names), cmp_names);
    *names = c.names;
    *count = c.count;
    c.names = NULL;
    c.count = 0;
out:
    mr_h5_free_names(c.names, c.count);
    close_id(grp);
    return st;
}

void mr_h5_free_names(char **names, size_t count)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Reads the selection (n elements) of a numeric dataset into dst as float (real kinds) or
 * float complex (H5K_COMPLEX). */
static mr_status read_numeric(const struct mr_h5 *h, const char *name, hid_t dset, hid_t ftype,
                              enum h5_kind k, hid_t mspace, hid_t fspace, void *dst, size_t n)
{
    mr_status st = MR_OK;
    hid_t mtype = -1;
    hid_t base = -1;
    void *tmp = NULL;

    if (k == H5K_COMPLEX) {
        mtype = complex_type(H5T_NATIVE_FLOAT);
    } else if (k == H5K_ENUM) {
        /* read the enum with a native base, then convert the base integers to float */
        mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
        hid_t super = mtype >= 0 ? H5Tget_super(mtype) : -1;
        base = super;
    } else {
        mtype = H5Tcopy(H5T_NATIVE_FLOAT);
    }
    if (mtype < 0 || (k == H5K_ENUM && base < 0)) {
        st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot convert '%s'", h->path, name);
        goto out;
    }
    if (k == H5K_ENUM) {
        size_t sz = H5Tget_size(base);
        tmp = malloc((sz > sizeof(float) ? sz : sizeof(float)) * (n > 0 ? n : 1));
        if (tmp == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading '%s' from '%s'", name, h->path);
            goto out;
        }
        if (H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, tmp) < 0 ||
            H5Tconvert(base, H5T_NATIVE_FLOAT, n, tmp, NULL, H5P_DEFAULT) < 0) {
            st = H5FAIL(MR_ERR_IO, "cannot read '%s' from '%s'", name, h->path);
            goto out;
        }
        memcpy(dst, tmp, n * sizeof(float));
    } else if (H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, dst) < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot read '%s' from '%s'", name, h->path);
        goto out;
    }
out:
    free(tmp);
    close_id(base);
    close_id(mtype);
    return st;
}

/* Opens a numeric dataset and reports kind and dims. */
static mr_status open_numeric(const struct mr_h5 *h, const char *name, hid_t *dset, hid_t *type,
                              hid_t *space, enum h5_kind *k, int *ndim, int64_t *dims)
{
    mr_status st = open_dataset(h, name, dset);
    if (st != MR_OK)
        return st;
    *type = H5Dget_type(*dset);
    *space = H5Dget_space(*dset);
    if (*type < 0 || *space < 0)
        return H5FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of '%s'", h->path, name);
    *k = classify(*type);
    if (!is_numeric(*k))
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' is %s, expected numbers or complex {r, i}",
                       h->path, name, kind_name(*k));
    return space_dims(h, name, *space, ndim, dims);
}

mr_status mr_h5_read(const struct mr_h5 *h, const char *name, struct mr_array *out)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;
    enum h5_kind k = H5K_OTHER;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];

    quiet();
    memset(out, 0, sizeof(*out));
    MR_CHECK(open_numeric(h, name, &dset, &type, &space, &k, &ndim, dims));
    MR_CHECK(mr_array_init(out, k == H5K_COMPLEX ? MR_DTYPE_CF32 : MR_DTYPE_F32, ndim, dims));
    if (mr_array_numel(out) > 0)
        MR_CHECK(read_numeric(h, name, dset, type, k, H5S_ALL, H5S_ALL, out->data,
                              (size_t)mr_array_numel(out)));
out:
    if (st != MR_OK)
        mr_array_cleanup(out);
    close_id(space);
    close_id(type);
    close_id(dset);
    return st;
}

/* Selects entry `index` along axis 0 of a dataspace of the given dims (the slab that
 * mr_h5_read_slab / mr_h5_write_slab move). */
static herr_t select_entry(hid_t space, int ndim, const int64_t *dims, int64_t index)
{
    hsize_t start[MR_MAX_DIMS] = { 0 };
    hsize_t count[MR_MAX_DIMS];
    start[0] = (hsize_t)index;
    count[0] = 1;
    for (int d = 1; d < ndim; d++)
        count[d] = (hsize_t)dims[d];
    return H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
}

mr_status mr_h5_read_slab(const struct mr_h5 *h, const char *name, int64_t index,
                          struct mr_array *out)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;
    hid_t mspace = -1;
    enum h5_kind k = H5K_OTHER;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    char buf[160];

    quiet();
    MR_CHECK(open_numeric(h, name, &dset, &type, &space, &k, &ndim, dims));
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
    enum mr_dtype want = k == H5K_COMPLEX ? MR_DTYPE_CF32 : MR_DTYPE_F32;
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
        select_entry(space, ndim, dims, index) < 0) {
        st = H5FAIL(MR_ERR_IO, "'%s': cannot select entry %lld of '%s'", h->path,
                    (long long)index, name);
        goto out;
    }
    if (n > 0)
        MR_CHECK(read_numeric(h, name, dset, type, k, mspace, space, out->data, (size_t)n));
out:
    close_id(mspace);
    close_id(space);
    close_id(type);
    close_id(dset);
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
        st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of %s", h->path, what);
        goto out;
    }
    enum h5_kind k = classify(type);
    if (k != H5K_INT && k != H5K_ENUM) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s is %s, expected an integer", h->path, what,
                     kind_name(k));
        goto out;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n != 1) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s holds %lld values, expected one integer",
                     h->path, what, (long long)n);
        goto out;
    }
    if (k == H5K_ENUM) {
        mtype = H5Tget_native_type(type, H5T_DIR_ASCEND);
        base = mtype >= 0 ? H5Tget_super(mtype) : -1;
        if (base < 0 || H5Tget_size(base) > sizeof(v)) {
            st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot convert %s", h->path, what);
            goto out;
        }
    } else {
        mtype = H5Tcopy(H5T_NATIVE_LLONG);
    }
    herr_t rc = is_attr ? H5Aread(obj, mtype, &v) : H5Dread(obj, mtype, H5S_ALL, H5S_ALL,
                                                            H5P_DEFAULT, &v);
    if (rc >= 0 && k == H5K_ENUM)
        rc = H5Tconvert(base, H5T_NATIVE_LLONG, 1, &v, NULL, H5P_DEFAULT);
    if (rc < 0) {
        st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot read %s as an int64", h->path, what);
        goto out;
    }
    *out = (int64_t)v;
out:
    close_id(base);
    close_id(mtype);
    close_id(space);
    close_id(type);
    return st;
}

mr_status mr_h5_read_i64(const struct mr_h5 *h, const char *name, int64_t *out)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    char what[600];

    quiet();
    MR_CHECK(open_dataset(h, name, &dset));
    snprintf(what, sizeof(what), "dataset '%s'", name);
    MR_CHECK(read_one_int(h, what, dset, false, out));
out:
    close_id(dset);
    return st;
}

/* A scalar (or one-element) string, fixed- or variable-length, into a malloc'd C string. */
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
        st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of %s", h->path, what);
        goto out;
    }
    enum h5_kind k = classify(type);
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    if (k == H5K_INT && !is_attr && H5Tget_size(type) == 1 &&
        H5Sget_simple_extent_ndims(space) == 1) {
        /* raw bytes (a uint8/int8 vector) */
        n = (size_t)npoints;
        s = malloc(n + 1);
        if (s == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading %s from '%s'", what, h->path);
            goto out;
        }
        if (n > 0 && H5Dread(obj, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
            st = H5FAIL(MR_ERR_IO, "cannot read %s from '%s'", what, h->path);
            goto out;
        }
        s[n] = '\0';
    } else if (k != H5K_STRING) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s is %s, expected a string", h->path, what,
                     kind_name(k));
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
            st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot convert %s", h->path, what);
            goto out;
        }
        herr_t rc = is_attr ? H5Aread(obj, mtype, &v)
                            : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
        if (rc < 0) {
            st = H5FAIL(MR_ERR_IO, "cannot read %s from '%s'", what, h->path);
            goto out;
        }
        n = v != NULL ? strlen(v) : 0;
        s = malloc(n + 1);
        if (s != NULL) {
            if (n > 0)
                memcpy(s, v, n);
            s[n] = '\0';
        }
        mr_h5_reclaim(mtype, space, &v);
        if (s == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading %s from '%s'", what, h->path);
            goto out;
        }
    } else {
        size_t size = H5Tget_size(type);
        mtype = H5Tcopy(type);
        s = malloc(size + 1);
        if (mtype < 0 || s == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "reading %s from '%s'", what, h->path);
            goto out;
        }
        herr_t rc = is_attr ? H5Aread(obj, mtype, s)
                            : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
        if (rc < 0) {
            st = H5FAIL(MR_ERR_IO, "cannot read %s from '%s'", what, h->path);
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
    close_id(mtype);
    close_id(space);
    close_id(type);
    return st;
}

mr_status mr_h5_read_string_dataset(const struct mr_h5 *h, const char *name, char **out,
                                    size_t *len)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    char what[600];

    quiet();
    *out = NULL;
    MR_CHECK(open_dataset(h, name, &dset));
    snprintf(what, sizeof(what), "dataset '%s'", name);
    MR_CHECK(read_string(h, what, dset, false, out, len));
out:
    close_id(dset);
    return st;
}

static mr_status open_attr(const struct mr_h5 *h, const char *obj, const char *attr, hid_t *out)
{
    if (!exists(h->file, obj))
        return MR_FAIL(MR_ERR_FORMAT, "'%s' has no object '%s' (looking for attribute '%s')",
                       h->path, obj, attr);
    if (H5Aexists_by_name(h->file, obj, attr, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has no attribute '%s'", h->path, obj, attr);
    }
    *out = H5Aopen_by_name(h->file, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
    if (*out < 0)
        return H5FAIL(MR_ERR_FORMAT, "'%s': cannot open attribute '%s' of '%s'", h->path, attr,
                      obj);
    return MR_OK;
}

bool mr_h5_has_attr(const struct mr_h5 *h, const char *obj, const char *attr)
{
    quiet();
    bool r = exists(h->file, obj) && H5Aexists_by_name(h->file, obj, attr, H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    return r;
}

mr_status mr_h5_read_attr_string(const struct mr_h5 *h, const char *obj, const char *attr,
                                 char **out)
{
    mr_status st = MR_OK;
    hid_t a = -1;
    char what[600];

    quiet();
    *out = NULL;
    MR_CHECK(open_attr(h, obj, attr, &a));
    snprintf(what, sizeof(what), "attribute '%s' of '%s'", attr, obj);
    MR_CHECK(read_string(h, what, a, true, out, NULL));
out:
    close_id(a);
    return st;
}

mr_status mr_h5_read_attr_double(const struct mr_h5 *h, const char *obj, const char *attr,
                                 double *out)
{
    mr_status st = MR_OK;
    hid_t a = -1;
    hid_t type = -1;
    hid_t space = -1;
    double v = 0.0;

    quiet();
    MR_CHECK(open_attr(h, obj, attr, &a));
    type = H5Aget_type(a);
    space = H5Aget_space(a);
    enum h5_kind k = type >= 0 ? classify(type) : H5K_OTHER;
    if (k == H5K_ENUM) {
        int64_t i = 0;
        char what[600];
        snprintf(what, sizeof(what), "attribute '%s' of '%s'", attr, obj);
        MR_CHECK(read_one_int(h, what, a, true, &i));
        *out = (double)i;
        goto out;
    }
    if (k != H5K_FLOAT && k != H5K_INT) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': attribute '%s' of '%s' is %s, expected a number",
                     h->path, attr, obj, kind_name(k));
        goto out;
    }
    if (H5Sget_simple_extent_npoints(space) != 1) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': attribute '%s' of '%s' holds %lld values, expected "
                     "one number", h->path, attr, obj,
                     (long long)H5Sget_simple_extent_npoints(space));
        goto out;
    }
    if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) {
        st = H5FAIL(MR_ERR_FORMAT, "'%s': cannot read attribute '%s' of '%s' as a double",
                    h->path, attr, obj);
        goto out;
    }
    *out = v;
out:
    close_id(space);
    close_id(type);
    close_id(a);
    return st;
}

mr_status mr_h5_read_attr_i64(const struct mr_h5 *h, const char *obj, const char *attr,
                              int64_t *out)
{
    mr_status st = MR_OK;
    hid_t a = -1;
    char what[600];

    quiet();
    MR_CHECK(open_attr(h, obj, attr, &a));
    snprintf(what, sizeof(what), "attribute '%s' of '%s'", attr, obj);
    MR_CHECK(read_one_int(h, what, a, true, out));
out:
    close_id(a);
    return st;
}

/* ---- writing ---------------------------------------------------------------------------- */

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
        return complex_type(H5T_IEEE_F32LE);
    return H5Tcopy(H5T_IEEE_F32LE);
}

static hid_t mem_type(enum mr_dtype dtype)
{
    if (dtype == MR_DTYPE_CF32)
        return complex_type(H5T_NATIVE_FLOAT);
    return H5Tcopy(H5T_NATIVE_FLOAT);
}

/* Creates dataset `name` (intermediate groups too) with the given type and space. */
static mr_status make_dataset(struct mr_h5 *h, const char *name, hid_t type, hid_t space,
                              hid_t *out)
{
    mr_status st = MR_OK;
    hid_t lcpl = -1;

    *out = -1;
    if (exists(h->file, name)) {
        st = MR_FAIL(MR_ERR_ARG, "'%s': '%s' already exists", h->tmp, name);
        goto out;
    }
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        st = H5FAIL(MR_ERR_NOMEM, "HDF5 property list");
        goto out;
    }
    *out = H5Dcreate2(h->file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (*out < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot create dataset '%s' in '%s'", name, h->tmp);
        goto out;
    }
out:
    close_id(lcpl);
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

    quiet();
    MR_CHECK(need_writer(h, name));
    ftype = file_type(a->dtype);
    mtype = mem_type(a->dtype);
    space = simple_space(a->ndim, a->dims);
    if (ftype < 0 || mtype < 0 || space < 0) {
        st = H5FAIL(MR_ERR_NOMEM, "HDF5 types for '%s'", name);
        goto out;
    }
    MR_CHECK(make_dataset(h, name, ftype, space, &dset));
    if (mr_array_numel(a) > 0 &&
        H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot write dataset '%s' to '%s'", name, h->tmp);
        goto out;
    }
out:
    close_id(dset);
    close_id(space);
    close_id(mtype);
    close_id(ftype);
    return st;
}

mr_status mr_h5_create_dataset(struct mr_h5 *h, const char *name, enum mr_dtype dtype,
                               int ndim, const int64_t *dims)
{
    mr_status st = MR_OK;
    hid_t ftype = -1;
    hid_t space = -1;
    hid_t dset = -1;

    quiet();
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
        st = H5FAIL(MR_ERR_NOMEM, "HDF5 types for '%s'", name);
        goto out;
    }
    MR_CHECK(make_dataset(h, name, ftype, space, &dset));
out:
    close_id(dset);
    close_id(space);
    close_id(ftype);
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
    enum h5_kind k = H5K_OTHER;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    char buf[160];

    quiet();
    MR_CHECK(need_writer(h, name));
    MR_CHECK(open_numeric(h, name, &dset, &type, &space, &k, &ndim, dims));
    if (ndim < 1 || index < 0 || index >= dims[0]) {
        st = MR_FAIL(MR_ERR_ARG, "'%s': index %lld is outside '%s' %s", h->tmp,
                     (long long)index, name, mr_dims_str(ndim, dims, buf, sizeof(buf)));
        goto out;
    }
    int64_t n = mr_dims_numel(ndim - 1, dims + 1);
    if ((a->dtype == MR_DTYPE_CF32) != (k == H5K_COMPLEX) || mr_array_numel(a) != n) {
        char got[160];
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': an entry of '%s' %s has %lld %s elements; got %s",
                     h->tmp, name, mr_dims_str(ndim, dims, buf, sizeof(buf)), (long long)n,
                     k == H5K_COMPLEX ? "complex" : "real",
                     mr_array_shape_str(a, got, sizeof(got)));
        goto out;
    }
    hsize_t mdim = (hsize_t)n;
    mspace = H5Screate_simple(1, &mdim, NULL);
    mtype = mem_type(a->dtype);
    if (mspace < 0 || mtype < 0 ||
        select_entry(space, ndim, dims, index) < 0) {
        st = H5FAIL(MR_ERR_IO, "'%s': cannot select entry %lld of '%s'", h->tmp,
                    (long long)index, name);
        goto out;
    }
    if (n > 0 && H5Dwrite(dset, mtype, mspace, space, H5P_DEFAULT, a->data) < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot write entry %lld of '%s' to '%s'", (long long)index,
                    name, h->tmp);
        goto out;
    }
out:
    close_id(mtype);
    close_id(mspace);
    close_id(space);
    close_id(type);
    close_id(dset);
    return st;
}

mr_status mr_h5_write_string_dataset(struct mr_h5 *h, const char *name, const char *text)
{
    mr_status st = MR_OK;
    hid_t type = -1;
    hid_t space = -1;
    hid_t dset = -1;
    size_t n = strlen(text);

    quiet();
    MR_CHECK(need_writer(h, name));
    type = H5Tcopy(H5T_C_S1);
    space = H5Screate(H5S_SCALAR);
    if (type < 0 || space < 0 || H5Tset_size(type, n > 0 ? n : 1) < 0 ||
        H5Tset_strpad(type, H5T_STR_NULLPAD) < 0) {
        st = H5FAIL(MR_ERR_NOMEM, "HDF5 string type for '%s'", name);
        goto out;
    }
    MR_CHECK(make_dataset(h, name, type, space, &dset));
    if (n > 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot write dataset '%s' to '%s'", name, h->tmp);
        goto out;
    }
    if (n == 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, "") < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot write dataset '%s' to '%s'", name, h->tmp);
        goto out;
    }
out:
    close_id(dset);
    close_id(space);
    close_id(type);
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
    if (!exists(h->file, obj)) {
        st = MR_FAIL(MR_ERR_ARG, "'%s' has no object '%s' to put attribute '%s' on", h->tmp,
                     obj, attr);
        goto out;
    }
    if (H5Aexists_by_name(h->file, obj, attr, H5P_DEFAULT) > 0 &&
        H5Adelete_by_name(h->file, obj, attr, H5P_DEFAULT) < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot replace attribute '%s' of '%s' in '%s'", attr, obj,
                    h->tmp);
        goto out;
    }
    space = H5Screate(H5S_SCALAR);
    if (space < 0) {
        st = H5FAIL(MR_ERR_NOMEM, "HDF5 dataspace");
        goto out;
    }
    a = H5Acreate_by_name(h->file, obj, attr, ftype, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, value) < 0) {
        st = H5FAIL(MR_ERR_IO, "cannot write attribute '%s' of '%s' to '%s'", attr, obj,
                    h->tmp);
        goto out;
    }
out:
    close_id(a);
    close_id(space);
    return st;
}

mr_status mr_h5_write_attr_string(struct mr_h5 *h, const char *obj, const char *attr,
                                  const char *value)
{
    mr_status st = MR_OK;
    hid_t type = -1;

    quiet();
    type = H5Tcopy(H5T_C_S1);
    if (type < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
        st = H5FAIL(MR_ERR_NOMEM, "HDF5 string type");
        goto out;
    }
    MR_CHECK(write_attr(h, obj, attr, type, type, &value));
out:
    close_id(type);
    return st;
}

mr_status mr_h5_write_attr_double(struct mr_h5 *h, const char *obj, const char *attr,
                                  double value)
{
    quiet();
    return write_attr(h, obj, attr, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

mr_status mr_h5_write_attr_i64(struct mr_h5 *h, const char *obj, const char *attr,
                               int64_t value)
{
    long long v = value;
    quiet();
    return write_attr(h, obj, attr, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v);
}
