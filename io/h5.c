/*
 * HDF5 handles: opening (read-only, with the file's size and signature checked first),
 * atomic creation and commit (through io/atomic_file.h), error translation, the type
 * classification shared by the reader and the writer, and inspection (exists, dims, list).
 * Reading is in h5_read.c, writing in h5_write.c; the data model is described in h5.h.
 *
 * Every public entry switches HDF5's automatic error printing off and, on failure, appends the
 * innermost HDF5 error description to our message, so "truncated file: eof = ..." reaches the
 * user without HDF5 writing to stderr. Type handling follows h5py: complex is a compound
 * {r, i}; bool is an enum over int8.
 */
#include "io/h5.h"
#include "io/h5_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *mr_h5i_kind_name(enum mr_h5_kind k)
{
    switch (k) {
    case MR_H5_KIND_FLOAT: return "float";
    case MR_H5_KIND_INT: return "integer";
    case MR_H5_KIND_ENUM: return "enum";
    case MR_H5_KIND_COMPLEX: return "complex {r, i}";
    case MR_H5_KIND_STRING: return "string";
    case MR_H5_KIND_OTHER: break;
    }
    return "unsupported type";
}

void mr_h5i_quiet(void)
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

mr_status mr_h5i_fail(const char *file, int line, mr_status st, const char *fmt, ...)
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

char *mr_h5i_dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void mr_h5i_close_id(hid_t id)
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

enum mr_h5_kind mr_h5i_classify(hid_t type)
{
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: return MR_H5_KIND_FLOAT;
    case H5T_INTEGER: return MR_H5_KIND_INT;
    case H5T_STRING: return MR_H5_KIND_STRING;
    case H5T_ENUM: {
        hid_t super = H5Tget_super(type);
        bool is_int = super >= 0 && H5Tget_class(super) == H5T_INTEGER;
        mr_h5i_close_id(super);
        return is_int ? MR_H5_KIND_ENUM : MR_H5_KIND_OTHER;
    }
    case H5T_COMPOUND: {
        if (H5Tget_nmembers(type) != 2)
            return MR_H5_KIND_OTHER;
        bool ok = true;
        for (unsigned m = 0; m < 2 && ok; m++) {
            char *name = H5Tget_member_name(type, m);
            ok = name != NULL && strcmp(name, m == 0 ? "r" : "i") == 0 &&
                 H5Tget_member_class(type, m) == H5T_FLOAT;
            H5free_memory(name);
        }
        return ok ? MR_H5_KIND_COMPLEX : MR_H5_KIND_OTHER;
    }
    default: return MR_H5_KIND_OTHER;
    }
}

bool mr_h5i_is_numeric(enum mr_h5_kind k)
{
    return k == MR_H5_KIND_FLOAT || k == MR_H5_KIND_INT || k == MR_H5_KIND_ENUM ||
           k == MR_H5_KIND_COMPLEX;
}

/* compound {r: float, i: float}, the in-memory layout of float complex */
hid_t mr_h5i_complex_type(hid_t member)
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

/* ---- transfer properties -------------------------------------------------------------------- */

static void *capped_alloc(size_t size, void *info)
{
    const size_t *cap = info;
    return size <= *cap ? malloc(size > 0 ? size : 1) : NULL;
}

static void capped_free(void *p, void *info)
{
    (void)info;
    free(p);
}

hid_t mr_h5i_xfer(const size_t *cap)
{
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl >= 0 && (H5Pset_buffer(dxpl, (size_t)64 << 10, NULL, NULL) < 0 ||
                      (cap != NULL && H5Pset_vlen_mem_manager(dxpl, capped_alloc, (void *)cap,
                                                              capped_free, NULL) < 0))) {
        H5Pclose(dxpl);
        dxpl = -1;
    }
    return dxpl;
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

    mr_h5i_quiet();
    *out = NULL;
    if (stat(path, &sb) != 0)
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': not a regular file", path);
    if (access(path, R_OK) != 0)
        return MR_FAIL(MR_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    htri_t is = H5Fis_hdf5(path);
    if (is < 0)
        return MR_H5_FAIL(MR_ERR_IO, "cannot read '%s'", path);
    if (is == 0)
        return MR_FAIL(MR_ERR_FORMAT,
                       "'%s' is not an HDF5 file (no HDF5 signature; %lld bytes; empty or "
                       "truncated before the superblock?)",
                       path, (long long)sb.st_size);
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "HDF5 handle for '%s'", path);
    h->file = -1;
    h->path = mr_h5i_dup_str(path);
    if (h->path == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "HDF5 handle for '%s'", path);
        goto out;
    }
    fapl = file_access();
    h->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (h->file < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "cannot open HDF5 file '%s' (truncated or damaged?)", path);
        goto out;
    }
    *out = h;
    h = NULL;
out:
    mr_h5i_close_id(fapl);
    mr_h5_close(h);
    return st;
}

/* a writer handle for path with its reserved temporary file (no HDF5 file open yet) */
static mr_status new_writer(const char *path, struct mr_h5 **out)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "HDF5 writer for '%s'", path);
    h->file = -1;
    h->writer = true;
    h->out.fd = -1;
    h->path = mr_h5i_dup_str(path);
    if (h->path == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "HDF5 writer for '%s'", path);
        goto out;
    }
    MR_CHECK(mr_atomic_file_reserve(&h->out, path));
    *out = h;
    h = NULL;
out:
    mr_h5_close(h);
    return st;
}


/* copies the file `src` into the open descriptor fd (the reserved temporary file) */
static mr_status copy_into(const char *src, int fd, const char *tmp)
{
    mr_status st = MR_OK;
    char buf[1 << 16];
    int in = open(src, O_RDONLY | O_CLOEXEC);

    if (in < 0)
        return MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", src, strerror(errno));
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            st = MR_FAIL(MR_ERR_IO, "cannot read '%s': %s", src, strerror(errno));
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                st = MR_FAIL(MR_ERR_IO, "cannot write '%s' (copy of '%s'): %s", tmp, src,
                             strerror(errno));
                goto out;
            }
            done += w;
        }
    }
out:
    close(in);
    return st;
}

/* a writer on the temporary file for path: a new HDF5 file, or (update) a copy of path */
static mr_status make_writer(const char *path, bool update, struct mr_h5 **out)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    hid_t fapl = -1;

    mr_h5i_quiet();
    *out = NULL;
    if (update) { /* an HDF5 file, with the reader's messages */
        struct mr_h5 *probe = NULL;
        MR_CHECK(mr_h5_open(path, &probe));
        mr_h5_close(probe);
    }
    MR_CHECK(new_writer(path, &h));
    if (update)
        MR_CHECK(copy_into(path, h->out.fd, h->out.tmp));
    fapl = file_access();
    h->file = update ? H5Fopen(h->out.tmp, H5F_ACC_RDWR, fapl)
                     : H5Fcreate(h->out.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (h->file < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot %s the HDF5 file '%s' (temporary file for '%s')",
                        update ? "open" : "create", h->out.tmp, path);
        goto out;
    }
    *out = h;
    h = NULL;
out:
    mr_h5i_close_id(fapl);
    mr_h5_close(h); /* removes the temporary file if it was made */
    return st;
}

mr_status mr_h5_create(const char *path, struct mr_h5 **out)
{
    return make_writer(path, false, out);
}

mr_status mr_h5_update(const char *path, struct mr_h5 **out)
{
    return make_writer(path, true, out);
}

mr_status mr_h5_commit(struct mr_h5 *h)
{
    mr_status st = MR_OK;

    mr_h5i_quiet();
    if (!h->writer) {
        st = MR_FAIL(MR_ERR_ARG, "'%s' was opened for reading; nothing to commit", h->path);
        goto out;
    }
    herr_t rc = H5Fclose(h->file);
    h->file = -1;
    if (rc < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot finish writing '%s' (temporary file for '%s')",
                        h->out.tmp, h->path);
        goto out;
    }
    st = mr_atomic_file_commit(&h->out);
out:
    mr_h5_close(h);
    return st;
}

void mr_h5_close(struct mr_h5 *h)
{
    if (h == NULL)
        return;
    mr_h5i_quiet();
    if (h->file >= 0)
        H5Fclose(h->file);
    if (h->writer)
        mr_atomic_file_abort(&h->out);
    H5Eclear2(H5E_DEFAULT);
    free(h->path);
    free(h);
}

const char *mr_h5_path(const struct mr_h5 *h)
{
    return h->path;
}

/* ---- inspecting ------------------------------------------------------------------------- */

/* Walks the path one link at a time: H5Lexists fails (instead of answering false) when an
 * intermediate group is missing. */
bool mr_h5i_exists(hid_t file, const char *name)
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
    mr_h5i_quiet();
    bool r = mr_h5i_exists(h->file, name);
    H5Eclear2(H5E_DEFAULT);
    return r;
}

/* Opens a dataset with a message that says whether it is missing or something else. */
mr_status mr_h5i_open_dataset(const struct mr_h5 *h, const char *name, hid_t *out)
{
    if (!mr_h5i_exists(h->file, name))
        return MR_FAIL(MR_ERR_FORMAT, "'%s' has no dataset '%s'", h->path, name);
    *out = H5Dopen2(h->file, name, H5P_DEFAULT);
    if (*out < 0)
        return MR_H5_FAIL(MR_ERR_FORMAT, "'%s': '%s' is not a readable dataset", h->path, name);
    return MR_OK;
}

/* Dims of a dataspace; fails on null dataspaces and ranks above MR_MAX_DIMS. */
mr_status mr_h5i_space_dims(const struct mr_h5 *h, const char *name, hid_t space, int *ndim,
                            int64_t dims[MR_MAX_DIMS])
{
    hsize_t d[H5S_MAX_RANK];
    H5S_class_t cls = H5Sget_simple_extent_type(space);

    if (cls == H5S_NULL)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has no data (null dataspace)", h->path, name);
    int n = H5Sget_simple_extent_dims(space, d, NULL);
    if (n < 0)
        return MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the shape of '%s'", h->path, name);
    if (n > MR_MAX_DIMS)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' has rank %d; at most %d is supported",
                       h->path, name, n, MR_MAX_DIMS);
    for (int i = 0; i < n; i++)
        if (d[i] > (hsize_t)INT64_MAX)
            return MR_FAIL(MR_ERR_FORMAT, "'%s': dimension %d of '%s' is %llu, past 2^63 - 1",
                           h->path, i, name, (unsigned long long)d[i]);
    for (int i = 0; i < MR_MAX_DIMS; i++)
        dims[i] = i < n ? (int64_t)d[i] : 1;
    *ndim = n;
    return MR_OK;
}

mr_status mr_h5i_check_stored(const struct mr_h5 *h, const char *what, hid_t dset, hid_t type,
                              int ndim, const int64_t *dims)
{
    mr_status st = MR_OK;
    hid_t dcpl = -1;
    int64_t nbytes = 0;
    char buf[200];
    size_t esize = H5Tget_size(type);

    if (esize == 0)
        return MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the element size of %s", h->path, what);
    if (mr_dims_size(ndim, dims, esize, NULL, &nbytes) != MR_OK)
        return MR_FAIL(MR_ERR_FORMAT, "'%s': %s of shape %s and %zu-byte elements "
                       "holds more than 2^63 - 1 bytes (damaged file?)", h->path, what,
                       mr_dims_str(ndim, dims, buf, sizeof(buf)), esize);
    dcpl = H5Dget_create_plist(dset);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT)
        goto out; /* chunked (possibly compressed): bounded by the dims and the memory limit */
    hsize_t stored = H5Dget_storage_size(dset);
    if (stored == 0)
        goto out; /* not allocated yet: reads give the fill value */
    if (stored != (hsize_t)nbytes) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s of shape %s needs %lld bytes but the "
                     "file stores %llu (damaged file?)", h->path, what,
                     mr_dims_str(ndim, dims, buf, sizeof(buf)), (long long)nbytes,
                     (unsigned long long)stored);
        goto out;
    }
    haddr_t offset = layout == H5D_CONTIGUOUS ? H5Dget_offset(dset) : HADDR_UNDEF;
    hsize_t fsize = 0;
    if (offset != HADDR_UNDEF && H5Fget_filesize(h->file, &fsize) >= 0 &&
        (offset > fsize || stored > fsize - offset)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s of shape %s lies at bytes %llu..%llu, "
                     "past the end of the %llu-byte file (truncated?)", h->path, what,
                     mr_dims_str(ndim, dims, buf, sizeof(buf)), (unsigned long long)offset,
                     (unsigned long long)(offset + stored), (unsigned long long)fsize);
        goto out;
    }
out:
    H5Eclear2(H5E_DEFAULT);
    mr_h5i_close_id(dcpl);
    return st;
}

mr_status mr_h5i_open_numeric(const struct mr_h5 *h, const char *name, hid_t *dset,
                              hid_t *type, hid_t *space, enum mr_h5_kind *k, int *ndim,
                              int64_t *dims)
{
    mr_status st = mr_h5i_open_dataset(h, name, dset);
    if (st != MR_OK)
        return st;
    *type = H5Dget_type(*dset);
    *space = H5Dget_space(*dset);
    if (*type < 0 || *space < 0)
        return MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot read the type of '%s'", h->path, name);
    *k = mr_h5i_classify(*type);
    if (!mr_h5i_is_numeric(*k))
        return MR_FAIL(MR_ERR_FORMAT, "'%s': '%s' is %s, expected numbers or complex {r, i}",
                       h->path, name, mr_h5i_kind_name(*k));
    st = mr_h5i_space_dims(h, name, *space, ndim, dims);
    if (st != MR_OK)
        return st;
    char what[1100];
    snprintf(what, sizeof(what), "dataset '%s'", name);
    return mr_h5i_check_stored(h, what, *dset, *type, *ndim, dims);
}

/* Selects entry `index` along axis 0 of a dataspace of the given dims (the slab that
 * mr_h5_read_slab / mr_h5_write_slab move). */
herr_t mr_h5i_select_entry(hid_t space, int ndim, const int64_t *dims, int64_t index)
{
    hsize_t start[MR_MAX_DIMS] = { 0 };
    hsize_t count[MR_MAX_DIMS];
    start[0] = (hsize_t)index;
    count[0] = 1;
    for (int d = 1; d < ndim; d++)
        count[d] = (hsize_t)dims[d];
    return H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
}

mr_status mr_h5_dims(const struct mr_h5 *h, const char *name, int *ndim,
                     int64_t dims[MR_MAX_DIMS], bool *is_complex)
{
    mr_status st = MR_OK;
    hid_t dset = -1;
    hid_t type = -1;
    hid_t space = -1;
    enum mr_h5_kind k = MR_H5_KIND_OTHER;

    mr_h5i_quiet();
    MR_CHECK(mr_h5i_open_numeric(h, name, &dset, &type, &space, &k, ndim, dims));
    if (is_complex != NULL)
        *is_complex = k == MR_H5_KIND_COMPLEX;
out:
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    mr_h5i_close_id(dset);
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
    c->names[c->count] = mr_h5i_dup_str(name);
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

    mr_h5i_quiet();
    *names = NULL;
    *count = 0;
    if (!mr_h5i_exists(h->file, group)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' has no group '%s'", h->path, group);
        goto out;
    }
    grp = H5Gopen2(h->file, group, H5P_DEFAULT);
    if (grp < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': '%s' is not a group", h->path, group);
        goto out;
    }
    if (mr_h5_lvisit(grp, H5_INDEX_NAME, H5_ITER_INC, list_cb, &c) < 0) {
        st = c.nomem ? MR_FAIL(MR_ERR_NOMEM, "listing '%s' in '%s'", group, h->path)
                     : MR_H5_FAIL(MR_ERR_FORMAT, "'%s': cannot list group '%s'", h->path, group);
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
    mr_h5i_close_id(grp);
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
