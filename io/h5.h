/*
 * Generic HDF5 access: the one place (with io/fastmri.h and the writers) that calls libhdf5.
 *
 * Data model:
 *   - Names are HDF5 paths ("/weights/cascades.0.dc_weight"); dots are ordinary characters.
 *     A name without a leading '/' is taken from the root.
 *   - Arrays come back in C order with the file's dims (dims[0] slowest), exactly as h5py and
 *     numpy show them; nothing is transposed.
 *   - Complex data is a compound of two members named "r" and "i" (h5py's layout for
 *     complex64/complex128), float32 or float64 members; it is read as MR_DTYPE_CF32.
 *   - Real data (float32/float64, signed/unsigned integers of any size, h5py's bool, i.e. an
 *     enum over an 8-bit integer) is read as MR_DTYPE_F32 by value conversion. Integers above
 *     2^24 lose precision: use mr_h5_read_i64 for counts.
 *   - A scalar dataset is read as an array with ndim 0 (one element).
 *
 * Sizes come from the file, so every one is checked before it is used: a dataset's dims must
 * multiply (times its element size) to at most 2^63 - 1 bytes (recon/array.h mr_dims_size), a
 * contiguous or compact dataset must store exactly that many bytes inside the file, and every
 * allocation the file decides (mr_h5_read, strings) must pass recon/array.h's mr_memory_check.
 * A damaged file fails with MR_ERR_FORMAT naming the file and the dataset, an oversized one
 * with MR_ERR_NOMEM naming the limit.
 *
 * Writing never leaves a half file behind: mr_h5_create writes a temporary file next to the
 * target (io/atomic_file.h) and only mr_h5_commit syncs and renames it onto <path>; closing an
 * uncommitted writer, or any failure, removes the temporary file.
 * Complex arrays are written as compound {r: float32, i: float32} (8 bytes), which h5py reads
 * back as complex64; real arrays as little-endian float32.
 *
 * HDF5's automatic error printing is switched off for every call made through this API;
 * failures come back as mr_status with a message naming the file, the object and what was
 * expected. Errors: MR_ERR_IO (missing/unreadable file, failed read or write),
 * MR_ERR_FORMAT (not HDF5, truncated, missing object, wrong type), MR_ERR_SHAPE (dims do not
 * match what the caller asked for), MR_ERR_ARG (bad name, writing to a reader), MR_ERR_NOMEM.
 *
 * Threads: libhdf5 here is not thread-safe; use one handle, on one thread, at a time.
 */
#ifndef MR_IO_H5_H
#define MR_IO_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/array.h"
#include "recon/status.h"

struct mr_h5;

/* ---- opening ---------------------------------------------------------------------------- */

/* Opens an existing file read-only. Errors: MR_ERR_IO (missing or unreadable file),
 * MR_ERR_FORMAT (not an HDF5 file, or truncated / damaged). */
mr_status mr_h5_open(const char *path, struct mr_h5 **out);

/* Creates a new file for writing under a temporary name next to <path>; nothing appears at
 * <path> until mr_h5_commit. Errors: MR_ERR_IO (directory missing or not writable, HDF5 cannot
 * create the file: the temporary file is removed again). */
mr_status mr_h5_create(const char *path, struct mr_h5 **out);

/* Changes an existing file atomically: copies it under a temporary name next to it and opens
 * the copy read-write (the writer functions below work on it); mr_h5_commit renames it onto
 * path, mr_h5_close abandons it (path untouched). Errors: those of mr_h5_open and
 * mr_h5_create, MR_ERR_IO (copying). */
mr_status mr_h5_update(const char *path, struct mr_h5 **out);

/* Writer: closes the file, fsyncs it, renames it onto <path> (replacing any old file) and
 * fsyncs the folder. Always releases the handle, also on failure (then the temporary file is
 * removed and <path> is untouched). Errors: MR_ERR_IO (a write error, disk full), MR_ERR_ARG
 * (h is a reader). */
mr_status mr_h5_commit(struct mr_h5 *h);

/* Closes a reader, or abandons an uncommitted writer (its temp file is removed). NULL ok. */
void mr_h5_close(struct mr_h5 *h);

/* The path given to open/create (borrowed, valid until close). */
const char *mr_h5_path(const struct mr_h5 *h);

/* ---- inspecting ------------------------------------------------------------------------- */

/* True if name is an existing group or dataset ("/" always exists). Never fails: a malformed
 * name or broken link is simply absent. */
bool mr_h5_exists(const struct mr_h5 *h, const char *name);

/* Shape of a numeric (real or {r,i} complex) dataset: *ndim (0 for a scalar), dims[0..ndim)
 * slowest first, *is_complex. Errors: MR_ERR_FORMAT (missing, not a dataset, not numeric, rank
 * > MR_MAX_DIMS, a size that does not fit or does not match the bytes stored; see above).
 * is_complex may be NULL. */
mr_status mr_h5_dims(const struct mr_h5 *h, const char *name, int *ndim,
                     int64_t dims[MR_MAX_DIMS], bool *is_complex);

/* Lists the datasets under group (recursively), as paths relative to the group
 * ("cascades.0.dc_weight", "sub/x"), sorted by name. *names is a malloc'd array of malloc'd
 * strings; free with mr_h5_free_names. An empty group gives count 0 (and *names may be NULL).
 * Errors: MR_ERR_FORMAT (group missing or not a group), MR_ERR_NOMEM. */
mr_status mr_h5_list(const struct mr_h5 *h, const char *group, char ***names, size_t *count);
void mr_h5_free_names(char **names, size_t count);

/* ---- reading ---------------------------------------------------------------------------- */

/* Reads a whole numeric dataset into a newly allocated *out (initialised by this call; clean
 * up with mr_array_cleanup): complex → CF32, real → F32 (see the data model above), scalar →
 * ndim 0. On failure *out is left empty. Errors: MR_ERR_FORMAT, MR_ERR_IO, MR_ERR_NOMEM (also
 * when the array would pass the memory limit). */
mr_status mr_h5_read(const struct mr_h5 *h, const char *name, struct mr_array *out);

/* Reads entry `index` along axis 0 of a numeric dataset of rank >= 1 into an array the caller
 * has already allocated (e.g. slice s of (slices, coils, H, W) into a (coils, H, W) array):
 * out must have the dataset's element kind (CF32 for complex, F32 for real) and exactly
 * dims[1] * ... * dims[ndim-1] elements (its own dims are not otherwise checked, so a (1, H, W)
 * array can receive an (H, W) slab). Reads only that hyperslab from disk; does not allocate
 * arrays. Errors: MR_ERR_ARG (index out of range), MR_ERR_SHAPE (element kind or count),
 * MR_ERR_FORMAT, MR_ERR_IO. */
mr_status mr_h5_read_slab(const struct mr_h5 *h, const char *name, int64_t index,
                          struct mr_array *out);

/* Entry index of a dataset with a leading slice axis (sliced: mr_h5_read_slab), or the whole
 * dataset when it has none (index ignored), into out, which the caller has allocated with
 * that many elements (mr_array_copy's conditions). Errors: those of mr_h5_read_slab and
 * mr_h5_read. */
mr_status mr_h5_read_entry(const struct mr_h5 *h, const char *name, bool sliced, int64_t index,
                           struct mr_array *out);

/* Reads an integer scalar dataset (any integer size/sign, or h5py bool; a one-element 1-D
 * dataset is accepted too). Errors: MR_ERR_FORMAT (missing, not an integer, not one element). */
mr_status mr_h5_read_i64(const struct mr_h5 *h, const char *name, int64_t *out);

/* Reads a scalar string dataset, fixed- or variable-length (e.g. fastMRI's "ismrmrd_header",
 * which h5py stores as fixed-length bytes); a 1-D int8/uint8 dataset is read as raw bytes too.
 * *out is malloc'd and NUL-terminated; *len (may be NULL) is its length without the NUL
 * (trailing NUL padding of fixed-length strings removed). Errors: MR_ERR_FORMAT, MR_ERR_NOMEM. */
mr_status mr_h5_read_string_dataset(const struct mr_h5 *h, const char *name, char **out,
                                    size_t *len);

/* Attributes of the object obj ("/" for the file's root, or a group/dataset path).
 * _string: scalar fixed- or variable-length string; *out malloc'd, NUL-terminated.
 * _double: scalar (or one-element) float or integer attribute, converted to double.
 * _i64:    scalar (or one-element) integer attribute.
 * Errors: MR_ERR_FORMAT (object or attribute missing, wrong type or size), MR_ERR_NOMEM. */
mr_status mr_h5_read_attr_string(const struct mr_h5 *h, const char *obj, const char *attr,
                                 char **out);
mr_status mr_h5_read_attr_double(const struct mr_h5 *h, const char *obj, const char *attr,
                                 double *out);
mr_status mr_h5_read_attr_i64(const struct mr_h5 *h, const char *obj, const char *attr,
                              int64_t *out);

/* True if obj exists and carries the attribute attr. */
bool mr_h5_has_attr(const struct mr_h5 *h, const char *obj, const char *attr);

/* ---- writing (writers from mr_h5_create only) ------------------------------------------- */

/* Writes a whole array as a new dataset `name` (CF32 → compound {r,i} float32, F32 → float32,
 * ndim 0 → scalar), creating intermediate groups. Errors: MR_ERR_ARG (reader handle, dataset
 * already exists), MR_ERR_IO. */
mr_status mr_h5_write(struct mr_h5 *h, const char *name, const struct mr_array *a);

/* Creates an empty dataset of the given dtype and dims (rank >= 1), to be filled with
 * mr_h5_write_slab (entries never written read back as zero). */
mr_status mr_h5_create_dataset(struct mr_h5 *h, const char *name, enum mr_dtype dtype,
                               int ndim, const int64_t *dims);

/* Writes entry `index` along axis 0 of a dataset made by mr_h5_create_dataset (or mr_h5_write);
 * a must have the same dtype and dims[1] * ... elements. Errors: MR_ERR_ARG, MR_ERR_SHAPE,
 * MR_ERR_IO. */
mr_status mr_h5_write_slab(struct mr_h5 *h, const char *name, int64_t index,
                           const struct mr_array *a);

/* Writes a scalar fixed-length byte string dataset (as h5py does for a `bytes` value), e.g.
 * an ISMRMRD XML header. */
mr_status mr_h5_write_string_dataset(struct mr_h5 *h, const char *name, const char *text);

/* Sets (or replaces) a scalar attribute on an existing object (obj "/" = root): string as
 * variable-length UTF-8 (h5py's str), double as float64, i64 as int64. */
mr_status mr_h5_write_attr_string(struct mr_h5 *h, const char *obj, const char *attr,
                                  const char *value);
mr_status mr_h5_write_attr_double(struct mr_h5 *h, const char *obj, const char *attr,
                                  double value);
mr_status mr_h5_write_attr_i64(struct mr_h5 *h, const char *obj, const char *attr,
                               int64_t value);

#endif
