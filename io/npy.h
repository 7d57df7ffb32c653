/*
 * numpy .npy files (format versions 1.0, 2.0 and 3.0), used for masks, goldens and small
 * arrays exchanged with Python.
 *
 * File layout (numpy/lib/format.py):
 *   bytes 0..5   magic "\x93NUMPY"
 *   byte  6, 7   major, minor version (1.0, 2.0 or 3.0)
 *   then         header length HLEN: uint16 little-endian (v1) or uint32 little-endian (v2, v3)
 *   then         HLEN bytes of header: a Python dict literal, ASCII (v1, v2) or UTF-8 (v3),
 *                  {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *                padded with spaces and ended by '\n' so that the data starts on a multiple of
 *                64 bytes (older numpy used 16; any padding is accepted)
 *   then         the raw data, C order (last index fastest), numel * itemsize bytes.
 *
 * Supported dtypes on read: |b1 |u1 <i4 <i8 <f4 <f8 (converted to MR_DTYPE_F32) and <c8 <c16
 * (converted to MR_DTYPE_CF32). Big-endian data, other dtypes, structured dtypes and
 * fortran_order True are rejected with MR_ERR_UNSUPPORTED. The shape maps to mr_array dims
 * unchanged (dims[0] = first tuple entry); a 0-d array gives ndim 0.
 *
 * On write, F32 arrays are stored as <f4 (or |u1 with MR_NPY_TYPE_U8, which is how numpy writes a
 * uint8 mask: `np.save(p, mask.astype(np.uint8))`), CF32 arrays as <c8. Files are written
 * atomically: the data goes to a temporary file in the same folder which is then renamed over
 * `path`, so a reader never sees a half-written file.
 */
#ifndef MR_IO_NPY_H
#define MR_IO_NPY_H

#include "recon/array.h"

enum mr_npy_type {
    MR_NPY_TYPE_NATIVE = 0, /* F32 -> <f4, CF32 -> <c8 */
    MR_NPY_TYPE_U8 = 1,     /* F32 -> |u1; every value must be an integer in [0, 255] */
};

/* Reads `path` into a newly initialised array *out (the caller cleans it up).
 * Errors (each message names the file and what was expected): MR_ERR_IO (cannot open/read),
 * MR_ERR_FORMAT (bad magic, bad version, malformed header, truncated data),
 * MR_ERR_UNSUPPORTED (dtype, byte order, fortran_order True, more than MR_MAX_DIMS dims),
 * MR_ERR_NOMEM. On failure *out is left empty. */
mr_status mr_npy_read(const char *path, struct mr_array *out);

/*
 * A k-space sampling mask from a .npy file, as `recon --mask` and `maskeval` take it: for
 * k-space of h rows x w columns, either a column mask of length w (shape (w,) or (1, w)),
 * applied to every row, or a full (h, w) mask. Any real dtype; nonzero = sampled. *mask is
 * initialised here as F32 (h, w) holding 0 and 1 (the caller cleans it up; left empty on
 * failure). Errors, each naming the file: those of mr_npy_read, MR_ERR_FORMAT (complex),
 * MR_ERR_SHAPE (another shape, naming it and the two expected), MR_ERR_DATA (a NaN or Inf
 * value with its index, or a mask that samples nothing).
 */
mr_status mr_npy_read_mask(const char *path, int64_t h, int64_t w, struct mr_array *mask);

/* Writes `a` to `path` (replacing it atomically) as described above. Errors: MR_ERR_ARG
 * (MR_NPY_TYPE_U8 on a CF32 array or a value that is not an integer in [0, 255]), MR_ERR_IO
 * (cannot create, write or rename; the temporary file is removed). */
mr_status mr_npy_write(const char *path, const struct mr_array *a, enum mr_npy_type type);

#endif
