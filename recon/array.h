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

/* glibc's <complex.h> defines CMPLXF and CMPLX only for GCC >= 4.7, which clang (the libFuzzer build,
 * tests/fuzz) does not claim to be; both compilers have __builtin_complex. */
#ifndef CMPLXF
#define CMPLXF(x, y) __builtin_complex((float)(x), (float)(y))
#endif
#ifndef CMPLX
#define CMPLX(x, y) __builtin_complex((double)(x), (double)(y))
#endif

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

/*
 * Sizes. Every size that comes from outside the program (a file, a stream, a command line) is
 * turned into counts by mr_dims_size, which checks each multiplication: a shape whose element
 * or byte count does not fit in int64_t (2^63 - 1) is refused, never wrapped. Arrays made by
 * mr_array_init went through it, so mr_dims_numel / mr_array_numel / mr_array_nbytes on them
 * cannot overflow; on any other dims they abort (MR_ASSERT) instead of wrapping.
 */

/* numel = dims[0] * ... * dims[ndim-1] and nbytes = numel * elem_size, both checked to fit in
 * int64_t (elem_size 1 gives the element count alone); the product of the non-zero dims must
 * fit too, so no partial product of an accepted shape can overflow, whatever axis a loop takes
 * first. Either output may be NULL; outputs are
 * written only on success. ndim 0 is a scalar (1 element). Errors: MR_ERR_SHAPE (ndim outside
 * 0..MR_MAX_DIMS, a negative dim, or a count past 2^63 - 1; the message gives the dims). */
mr_status mr_dims_size(int ndim, const int64_t *dims, size_t elem_size, int64_t *numel,
                       int64_t *nbytes);

/* Product of dims[0..ndim) of dims known to be valid (our own arrays); MR_ASSERT on a negative
 * dim or an overflow. For sizes read from outside, use mr_dims_size. */
int64_t mr_dims_numel(int ndim, const int64_t *dims);

/* The size check of an operator made for nc coils of h x w: MR_OK when all three are >= 1,
 * else MR_ERR_ARG "<what> size NC coils x HxW is empty". */
mr_status mr_dims_check_coils(const char *what, int64_t nc, int64_t h, int64_t w);

/*
 * Memory limit for allocations that file or stream contents decide (a k-space slice, a weight
 * tensor, an acquisition, a mask, a header string): readers call mr_memory_check with the
 * bytes a file asks for before allocating, so a crafted or damaged file fails with a message
 * instead of exhausting the machine. The limit applies to each such request (and to the sum
 * where a reader keeps many, e.g. all tensors of a weight file), not to the process as a whole.
 *
 * Default: half of the physical memory (sysconf(_SC_PHYS_PAGES) * _SC_PAGESIZE / 2; 4 GiB if
 * that is unknown). The application may change it once at start-up (e.g. from a --max-memory
 * option); library code never reads the environment. Thread-safe (atomic).
 */
#define MR_MEMORY_LIMIT_DEFAULT_FRACTION 2 /* physical memory / 2 */

/* The limit in bytes now in force. */
uint64_t mr_memory_limit(void);

/* Sets the limit in bytes; 0 restores the default. */
void mr_memory_limit_set(uint64_t bytes);

/* MR_OK if nbytes <= mr_memory_limit(); else MR_ERR_NOMEM "<what> needs N bytes (x.y GiB),
 * over the memory limit of M bytes (z.w GiB)". `what` names the file and the object. */
mr_status mr_memory_check(uint64_t nbytes, const char *what);

/* Allocates a zeroed array. Errors: MR_ERR_ARG (ndim out of range, negative dim),
 * MR_ERR_SHAPE (more than 2^63 - 1 bytes, see mr_dims_size), MR_ERR_NOMEM. On failure *a is
 * left empty (cleanup is still safe). Does not apply the memory limit: readers check it with
 * mr_memory_check where they know which file and object the size came from. */
mr_status mr_array_init(struct mr_array *a, enum mr_dtype dtype, int ndim, const int64_t *dims);

/* Same, with the dims given inline: mr_array_init_dims(&a, MR_DTYPE_CF32, 3, nc, h, w). */
mr_status mr_array_init_dims(struct mr_array *a, enum mr_dtype dtype, int ndim, ...);

/* Allocates an array of the same dtype and shape as src (zeroed, not copied). */
mr_status mr_array_init_like(struct mr_array *a, const struct mr_array *src);

/* Allocates a copy of src. */
mr_status mr_array_init_copy(struct mr_array *a, const struct mr_array *src);

/* Non-owning view of data with the given shape (MR_ASSERT: ndim in range, mr_dims_size ok). */
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
