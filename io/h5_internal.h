/*
 * Private to io/: the HDF5 handle and the helpers shared by io/h5.c (opening, errors, type
 * classification, inspection), io/h5_read.c, io/h5_write.c and the ISMRMRD file code
 * (io/ismrmrd_*.c), which reads and writes ISMRMRD's compound records through the same handle.
 * Nothing outside io/ includes this header.
 */
#ifndef MR_IO_H5_INTERNAL_H
#define MR_IO_H5_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <hdf5.h>

#include "io/atomic_file.h"
#include "io/h5.h"

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
    char *path;                /* as given by the caller */
    bool writer;
    struct mr_atomic_file out; /* writer only: the temporary file filled until commit */
};

/* The name of the file being written (the temporary one) or read, for messages. */
static inline const char *mr_h5i_name(const struct mr_h5 *h)
{
    return h->writer ? h->out.tmp : h->path;
}

/* What a dataset's or attribute's element type is, as far as we care. */
enum mr_h5_kind {
    MR_H5_KIND_FLOAT,   /* IEEE float of any size */
    MR_H5_KIND_INT,     /* integer of any size and sign */
    MR_H5_KIND_ENUM,    /* enum over an integer (h5py bool) */
    MR_H5_KIND_COMPLEX, /* compound {r, i} of floats */
    MR_H5_KIND_STRING,
    MR_H5_KIND_OTHER,
};

const char *mr_h5i_kind_name(enum mr_h5_kind k);
enum mr_h5_kind mr_h5i_classify(hid_t type);
bool mr_h5i_is_numeric(enum mr_h5_kind k);

/* Switches HDF5's automatic error printing off (every public entry calls it). */
void mr_h5i_quiet(void);

/* Fails with st and the message, plus HDF5's innermost error description if it has one. */
#define MR_H5_FAIL(st, ...) mr_h5i_fail(__FILE__, __LINE__, (st), __VA_ARGS__)
mr_status mr_h5i_fail(const char *file, int line, mr_status st, const char *fmt, ...)
    MR_PRINTF_LIKE(4, 5);

char *mr_h5i_dup_str(const char *s);

/* Closes any HDF5 id by its kind; ignores negative ids. */
void mr_h5i_close_id(hid_t id);

/* compound {r, i} of `member` (h5py's complex layout; `member` native for memory). */
hid_t mr_h5i_complex_type(hid_t member);

/* True if name resolves to an object, walking the path one link at a time. */
bool mr_h5i_exists(hid_t file, const char *name);

/* Opens a dataset; the message says whether it is missing or something else (a group). */
mr_status mr_h5i_open_dataset(const struct mr_h5 *h, const char *name, hid_t *out);

/* Dims of a simple dataspace (dims[0] slowest, the rest 1); fails on null dataspaces, ranks
 * above MR_MAX_DIMS and dims past INT64_MAX. */
mr_status mr_h5i_space_dims(const struct mr_h5 *h, const char *name, hid_t space, int *ndim,
                            int64_t dims[MR_MAX_DIMS]);

/* Checks that a dataset's dims times its element size fits in int64_t and, for contiguous
 * and compact layouts, that the bytes stored in the file are exactly that many (or none yet:
 * an unallocated dataset reads as its fill value) and lie inside the file. Chunked datasets
 * are bounded by their dims (the memory limit applies when they are read). `what` names the
 * object in messages ("dataset 'kspace'"). */
mr_status mr_h5i_check_stored(const struct mr_h5 *h, const char *what, hid_t dset, hid_t type,
                              int ndim, const int64_t *dims);

/* Opens a numeric dataset and reports kind and dims (after mr_h5i_check_stored). On failure
 * the ids opened so far are returned for the caller to close. */
mr_status mr_h5i_open_numeric(const struct mr_h5 *h, const char *name, hid_t *dset,
                              hid_t *type, hid_t *space, enum mr_h5_kind *k, int *ndim,
                              int64_t *dims);

/* A dataset transfer property list for small reads and writes: a 64 KiB type-conversion
 * buffer instead of HDF5's default 1 MiB, which HDF5 allocates and zeroes on every converting
 * H5Dread/H5Dwrite (2 MiB of memset per ISMRMRD record otherwise). With cap non-NULL,
 * variable-length allocations above *cap bytes fail (HDF5 then fails the read), so a damaged
 * length can never make HDF5 allocate what a header or the memory limit did not allow; that
 * memory comes from malloc (free()able). Caller closes; *cap must outlive the list. */
hid_t mr_h5i_xfer(const size_t *cap);

/* Selects entry `index` along axis 0 of a dataspace of the given dims. */
herr_t mr_h5i_select_entry(hid_t space, int ndim, const int64_t *dims, int64_t index);

#endif
