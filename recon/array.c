/* The project's array type: allocation, views and small helpers (see array.h). */
#include "recon/array.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MR_ALIGN 64

/*
 * Arrays of at least MR_HUGE_MIN bytes are aligned to 2 MiB and marked for transparent huge
 * pages (madvise(MADV_HUGEPAGE); Debian's default THP mode is "madvise", so nothing else asks
 * for them). The kernels walk several feature maps of tens of MiB in channel-strided order
 * (64 planes per output row in a conv); with 4 KiB pages every such row is a burst of TLB
 * misses, which on a virtual machine cost more than the arithmetic (a 64-channel Winograd
 * conv at 218×170 spent 40 % of its time in the stores of its output). First touches cost too:
 * zeroing a fresh 4 KiB page is a page fault, and on a virtual machine the faults of the
 * buffers of one CG-SENSE slice (8 coils, 230×180: 2.6 MiB arrays) took half of a 0.25 s run;
 * one fault per 2 MiB instead halves it. Hence every array of at least 2 MiB starts on a
 * 2 MiB boundary and its whole 2 MiB blocks are marked; the tail stays in 4 KiB pages, so no
 * memory is used beyond the array (rounding the advice up to whole huge pages cost E2EVN
 * 80 MiB of peak RSS). Without THP support the advice is ignored and the memory is ordinary.
 */
#define MR_HUGE_ALIGN ((size_t)2 << 20)

static void *array_alloc(size_t nbytes)
{
#ifdef MADV_HUGEPAGE
    if (nbytes >= MR_HUGE_ALIGN) {
        /* posix_memalign: C11 aligned_alloc wants a size that is a multiple of the alignment */
        void *p = NULL;
        if (posix_memalign(&p, MR_HUGE_ALIGN, nbytes) != 0)
            return NULL;
        (void)madvise(p, nbytes / MR_HUGE_ALIGN * MR_HUGE_ALIGN, MADV_HUGEPAGE);
        return p;
    }
#endif
    return aligned_alloc(MR_ALIGN, nbytes);
}

size_t mr_dtype_size(enum mr_dtype dtype)
{
    return dtype == MR_DTYPE_CF32 ? sizeof(float complex) : sizeof(float);
}

mr_status mr_dims_size(int ndim, const int64_t *dims, size_t elem_size, int64_t *numel,
                       int64_t *nbytes)
{
    int64_t n = 1;
    int64_t b = 0;
    char buf[200];

    if (ndim < 0 || ndim > MR_MAX_DIMS)
        return MR_FAIL(MR_ERR_SHAPE, "array rank %d is outside 0..%d", ndim, MR_MAX_DIMS);
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 0)
            return MR_FAIL(MR_ERR_SHAPE, "shape %s has a negative dimension",
                           mr_dims_str(ndim, dims, buf, sizeof(buf)));
    /* zeros count as 1 here, so that no partial product of a valid shape overflows */
    bool empty = false;
    for (int d = 0; d < ndim; d++) {
        empty = empty || dims[d] == 0;
        if (__builtin_mul_overflow(n, dims[d] > 0 ? dims[d] : 1, &n))
            return MR_FAIL(MR_ERR_SHAPE, "shape %s has more than 2^63 - 1 elements",
                           mr_dims_str(ndim, dims, buf, sizeof(buf)));
    }
    if (elem_size > (size_t)INT64_MAX || __builtin_mul_overflow(n, (int64_t)elem_size, &b))
        return MR_FAIL(MR_ERR_SHAPE, "shape %s of %zu-byte elements has more than 2^63 - 1 "
                       "bytes", mr_dims_str(ndim, dims, buf, sizeof(buf)), elem_size);
    if (empty) {
        n = 0;
        b = 0;
    }
    if (numel != NULL)
        *numel = n;
    if (nbytes != NULL)
        *nbytes = b;
    return MR_OK;
}

int64_t mr_dims_numel(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        MR_ASSERT(dims[d] >= 0);
        MR_ASSERT(!__builtin_mul_overflow(n, dims[d], &n));
    }
    return n;
}

/* ---- memory limit ------------------------------------------------------------------------- */

static _Atomic uint64_t memory_limit; /* 0: the default */

static _Atomic uint64_t memory_default; /* computed once (a race computes it twice, alike) */

static uint64_t memory_limit_default(void)
{
    uint64_t v = atomic_load(&memory_default);
    if (v != 0)
        return v;
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    v = (uint64_t)4 << 30; /* unknown: 4 GiB */
    if (pages > 0 && page > 0)
        v = (uint64_t)pages * (uint64_t)page / MR_MEMORY_LIMIT_DEFAULT_FRACTION;
    atomic_store(&memory_default, v);
    return v;
}

uint64_t mr_memory_limit(void)
{
    uint64_t v = atomic_load(&memory_limit);
    return v != 0 ? v : memory_limit_default();
}

void mr_memory_limit_set(uint64_t bytes)
{
    atomic_store(&memory_limit, bytes);
}

/* "1.5 GiB", "2.5 MiB": a size as a person reads it */
static const char *human_size(uint64_t n, char *buf, size_t len)
{
    const double mib = (double)(1u << 20);
    if ((double)n >= 1024.0 * mib)
        snprintf(buf, len, "%.1f GiB", (double)n / (1024.0 * mib));
    else
        snprintf(buf, len, "%.1f MiB", (double)n / mib);
    return buf;
}

mr_status mr_memory_check(uint64_t nbytes, const char *what)
{
    const uint64_t limit = mr_memory_limit();
    char a[32];
    char b[32];

    if (nbytes <= limit)
        return MR_OK;
    return MR_FAIL(MR_ERR_NOMEM, "%s needs %llu bytes (%s), over the memory limit of %llu "
                   "bytes (%s)", what, (unsigned long long)nbytes,
                   human_size(nbytes, a, sizeof(a)), (unsigned long long)limit,
                   human_size(limit, b, sizeof(b)));
}

static void set_shape(struct mr_array *a, enum mr_dtype dtype, int ndim, const int64_t *dims)
{
    a->dtype = dtype;
    a->ndim = ndim;
    for (int d = 0; d < MR_MAX_DIMS; d++)
        a->dims[d] = d < ndim ? dims[d] : 1;
}

mr_status mr_array_init(struct mr_array *a, enum mr_dtype dtype, int ndim, const int64_t *dims)
{
    memset(a, 0, sizeof(*a));
    if (ndim < 0 || ndim > MR_MAX_DIMS)
        return MR_FAIL(MR_ERR_ARG, "array rank %d is outside 0..%d", ndim, MR_MAX_DIMS);
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 0)
            return MR_FAIL(MR_ERR_ARG, "array dimension %d is negative (%lld)", d,
                           (long long)dims[d]);
    int64_t total = 0;
    mr_status st = mr_dims_size(ndim, dims, mr_dtype_size(dtype), NULL, &total);
    if (st != MR_OK)
        return st;
    set_shape(a, dtype, ndim, dims);
    size_t nbytes = (size_t)total;
    size_t alloc = (nbytes + MR_ALIGN - 1) / MR_ALIGN * MR_ALIGN;
    if (alloc == 0)
        alloc = MR_ALIGN;
    void *p = array_alloc(alloc);
    if (p == NULL) {
        char buf[128];
        mr_dims_str(ndim, dims, buf, sizeof(buf));
        memset(a, 0, sizeof(*a));
        return MR_FAIL(MR_ERR_NOMEM, "cannot allocate an array of %s (%zu bytes)", buf, nbytes);
    }
    memset(p, 0, alloc);
    a->data = p;
    a->owned = true;
    return MR_OK;
}

mr_status mr_array_init_dims(struct mr_array *a, enum mr_dtype dtype, int ndim, ...)
{
    int64_t dims[MR_MAX_DIMS] = { 0 };
    va_list ap;

    if (ndim < 0 || ndim > MR_MAX_DIMS) {
        memset(a, 0, sizeof(*a));
        return MR_FAIL(MR_ERR_ARG, "array rank %d is outside 0..%d", ndim, MR_MAX_DIMS);
    }
    va_start(ap, ndim);
    for (int d = 0; d < ndim; d++)
        dims[d] = va_arg(ap, int64_t);
    va_end(ap);
    return mr_array_init(a, dtype, ndim, dims);
}

mr_status mr_array_init_like(struct mr_array *a, const struct mr_array *src)
{
    return mr_array_init(a, src->dtype, src->ndim, src->dims);
}

mr_status mr_array_init_copy(struct mr_array *a, const struct mr_array *src)
{
    mr_status st = mr_array_init_like(a, src);
    if (st == MR_OK)
        memcpy(a->data, src->data, mr_array_nbytes(src));
    return st;
}

void mr_array_wrap(struct mr_array *a, enum mr_dtype dtype, int ndim, const int64_t *dims,
                   void *data)
{
    MR_ASSERT(ndim >= 0 && ndim <= MR_MAX_DIMS);
    MR_ASSERT(mr_dims_size(ndim, dims, mr_dtype_size(dtype), NULL, NULL) == MR_OK);
    memset(a, 0, sizeof(*a));
    set_shape(a, dtype, ndim, dims);
    a->data = data;
    a->owned = false;
}

void mr_array_cleanup(struct mr_array *a)
{
    if (a == NULL)
        return;
    if (a->owned)
        free(a->data);
    memset(a, 0, sizeof(*a));
}

int64_t mr_array_numel(const struct mr_array *a)
{
    return mr_dims_numel(a->ndim, a->dims);
}

size_t mr_array_nbytes(const struct mr_array *a)
{
    int64_t b = 0;
    MR_ASSERT(!__builtin_mul_overflow(mr_array_numel(a), (int64_t)mr_dtype_size(a->dtype), &b));
    return (size_t)b;
}

bool mr_array_same_shape(const struct mr_array *a, const struct mr_array *b)
{
    if (a->dtype != b->dtype || a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

float *mr_array_f32(const struct mr_array *a)
{
    MR_ASSERT(a->dtype == MR_DTYPE_F32);
    return a->data;
}

float complex *mr_array_cf32(const struct mr_array *a)
{
    MR_ASSERT(a->dtype == MR_DTYPE_CF32);
    return a->data;
}

void mr_array_slab(struct mr_array *view, const struct mr_array *a, int64_t i)
{
    MR_ASSERT(a->ndim >= 1 && i >= 0 && i < a->dims[0]);
    int64_t inner = mr_dims_numel(a->ndim - 1, a->dims + 1);
    char *base = a->data;
    mr_array_wrap(view, a->dtype, a->ndim - 1, a->dims + 1,
                  base + (size_t)(i * inner) * mr_dtype_size(a->dtype));
}

void mr_array_zero(struct mr_array *a)
{
    if (a->data != NULL)
        memset(a->data, 0, mr_array_nbytes(a));
}

void mr_array_copy(struct mr_array *dst, const struct mr_array *src)
{
    MR_ASSERT(dst->dtype == src->dtype && mr_array_numel(dst) == mr_array_numel(src));
    if (dst->data != src->data)
        memmove(dst->data, src->data, mr_array_nbytes(src));
}

mr_status mr_dims_check_coils(const char *what, int64_t nc, int64_t h, int64_t w)
{
    if (nc < 1 || h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "%s size %lld coils x %lldx%lld is empty", what,
                       (long long)nc, (long long)h, (long long)w);
    return MR_OK;
}

const char *mr_dims_str(int ndim, const int64_t *dims, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, len - used, "(");
    for (int d = 0; d < ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", d > 0 ? ", " : "",
                                 (long long)dims[d]);
    if (used < len)
        snprintf(buf + used, len - used, ")");
    return buf;
}

const char *mr_array_shape_str(const struct mr_array *a, char *buf, size_t len)
{
    char dims[160];
    mr_dims_str(a->ndim, a->dims, dims, sizeof(dims));
    snprintf(buf, len, "%s %s", dims, a->dtype == MR_DTYPE_CF32 ? "complex64" : "float32");
    return buf;
}

mr_status mr_array_check_finite(const struct mr_array *a, const char *what)
{
    const float *f = a->data;
    int64_t n = mr_array_numel(a) * (a->dtype == MR_DTYPE_CF32 ? 2 : 1);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(f[i]))
            return MR_FAIL(MR_ERR_DATA, "%s holds a non-finite value (%s) at element %lld",
                           what, isnan(f[i]) ? "NaN" : "Inf",
                           (long long)(a->dtype == MR_DTYPE_CF32 ? i / 2 : i));
    return MR_OK;
}
