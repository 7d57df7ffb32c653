/*
 * The one array type of the project.
 *
 * Layout: C order (last index fastest), exactly as numpy, PyTorch and HDF5 lay data out, so
 * goldens, fastMRI files and state_dict tensors load with no transposes. dims[0] is the slowest
 * axis. Multi-coil k-space is (coils, H, W); feature maps are (channels, H, W); a volume of
 * k-space is (slices, coils, H, W).
 *
 * Element types: MR_DTYPE_F32 (float) and MR_DTYPE_CF32 (C99 float complex, i.e. interleaved
 * re, im — the same bytes as numpy complex64 and h5py's compound {r, i}).
 *
 * Ownership: mr_array_init allocates (64-byte aligned, zeroed) and the array owns its data;
 * mr_array_cleanup frees owned data and resets the struct (safe on a zeroed or cleaned array).
 * mr_array_wrap makes a non-owning view of memory someone else keeps alive.
 */
#ifndef MR_RECON_ARRAY_H
#define MR_RECON_ARRAY_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recon/status.h"

#define MR_MAX_DIMS 8

enum mr_dtype {
    MR_DTYPE_F32 = 0,
    MR_DTYPE_CF32 = 1,
};

struct mr_array {
    enum mr_dtype dtype;
    int ndim;
    int64_t dims[MR_MAX_DIMS]; /* dims[0] slowest; entries >= ndim are 1 */
    void *data;
    bool owned;
};

/* Size in bytes of one element of dtype. */
size_t mr_dtype_size(enum mr_dtype dtype);

/* Product of dims[0..ndim). */
int64_t mr_dims_numel(int ndim, const int64_t *dims);

/* Allocates a zeroed array. Errors: MR_ERR_ARG (ndim out of range, negative dim),
 * MR_ERR_NOMEM. On failure *a is left empty (cleanup is still safe). */
mr_status mr_array_init(struct mr_array *a, enum mr_dtype dtype, int ndim, const int64_t *dims);

/* Same, with the dims given inline: mr_array_init_dims(&a, MR_DTYPE_CF32, 3, nc, h, w). */
mr_status mr_array_init_dims(struct mr_array *a, enum mr_dtype dtype, int ndim, ...);

/* Allocates an array of the same dtype and shape as src (zeroed, not copied). */
mr_status mr_array_init_like(struct mr_array *a, const struct mr_array *src);

/* Allocates a copy of src. */
mr_status mr_array_init_copy(struct mr_array *a, const struct mr_array *src);

/* Non-owning view of data with the given shape. */
void mr_array_wrap(struct mr_array *a, enum mr_dtype dtype, int ndim, const int64_t *dims,
                   void *data);

/* Frees owned data; leaves an empty array. Accepts NULL. */
void mr_array_cleanup(struct mr_array *a);

int64_t mr_array_numel(const struct mr_array *a);
size_t mr_array_nbytes(const struct mr_array *a);

/* True if the arrays have the same dtype, rank and dims. */
bool mr_array_same_shape(const struct mr_array *a, const struct mr_array *b);

/* Typed data pointers; MR_ASSERT the dtype. */
float *mr_array_f32(const struct mr_array *a);
float complex *mr_array_cf32(const struct mr_array *a);

/* Non-owning view of the i-th slab along axis 0 (rank drops by one): e.g. slice i of a
 * (slices, coils, H, W) volume. */
void mr_array_slab(struct mr_array *view, const struct mr_array *a, int64_t i);

/* Sets every element to zero. */
void mr_array_zero(struct mr_array *a);

/* dst = src (same shape; MR_ASSERT). */
void mr_array_copy(struct mr_array *dst, const struct mr_array *src);

/* Formats the shape as "(4, 37, 45) complex64" into buf; returns buf. */
const char *mr_array_shape_str(const struct mr_array *a, char *buf, size_t len);

/* Formats ndim dims as "(4, 37, 45)" into buf; returns buf. */
const char *mr_dims_str(int ndim, const int64_t *dims, char *buf, size_t len);

/* Returns MR_OK if every element is finite, else MR_ERR_DATA naming `what` and the first
 * offending flat index. */
mr_status mr_array_check_finite(const struct mr_array *a, const char *what);

#endif
