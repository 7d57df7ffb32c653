/*
 * numpy .npy reader and writer (see npy.h for the format). The header is a small Python dict
 * literal; we parse exactly the three keys numpy writes ('descr', 'fortran_order', 'shape')
 * in any order, with either quote style, and reject anything else we cannot represent.
 * Data is little-endian on disk; this code assumes a little-endian host (x86-64, aarch64).
 */
#include "io/npy.h"

#include "io/atomic_file.h"

#include <complex.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

enum npy_kind {
    NPY_B1,
    NPY_U1,
    NPY_I4,
    NPY_I8,
    NPY_F4,
    NPY_F8,
    NPY_C8,
    NPY_C16,
};

static const struct {
    const char *descr;
    enum npy_kind kind;
    size_t itemsize;
} npy_types[] = {
    { "|b1", NPY_B1, 1 }, { "|u1", NPY_U1, 1 },  { "<i4", NPY_I4, 4 },   { "<i8", NPY_I8, 8 },
    { "<f4", NPY_F4, 4 }, { "<f8", NPY_F8, 8 },  { "<c8", NPY_C8, 8 },   { "<c16", NPY_C16, 16 },
};

struct npy_header {
    char descr[16];
    int fortran;
    int ndim;
    int64_t dims[MR_MAX_DIMS];
};

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Points just after `'key':` (or "key":), or NULL if the key is missing. */
static const char *find_key(const char *hdr, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = hdr; *p != '\0'; p++) {
        if ((*p == '\'' || *p == '"') && strncmp(p + 1, key, klen) == 0 && p[1 + klen] == *p) {
            const char *q = skip_space(p + 2 + klen);
            if (*q == ':')
                return skip_space(q + 1);
        }
    }
    return NULL;
}

static mr_status parse_header(const char *path, const char *hdr, struct npy_header *h)
{
    const char *p = find_key(hdr, "descr");
    if (p != NULL && *p == '[')
        return MR_FAIL(MR_ERR_UNSUPPORTED, "'%s' holds a structured dtype (expected one of |b1 "
                       "|u1 <i4 <i8 <f4 <f8 <c8 <c16): %s", path, hdr);
    if (p == NULL || (*p != '\'' && *p != '"'))
        return MR_FAIL(MR_ERR_FORMAT, "'%s': npy header has no 'descr' string: %s", path, hdr);
    const char *end = strchr(p + 1, *p);
    if (end == NULL || (size_t)(end - p - 1) >= sizeof(h->descr))
        return MR_FAIL(MR_ERR_UNSUPPORTED,
                       "'%s': unsupported npy dtype (expected one of |b1 |u1 <i4 <i8 <f4 <f8 <c8 "
                       "<c16): %s",
                       path, hdr);
    memcpy(h->descr, p + 1, (size_t)(end - p - 1));
    h->descr[end - p - 1] = '\0';

    p = find_key(hdr, "fortran_order");
    if (p != NULL && strncmp(p, "False", 5) == 0)
        h->fortran = 0;
    else if (p != NULL && strncmp(p, "True", 4) == 0)
        h->fortran = 1;
    else
        return MR_FAIL(MR_ERR_FORMAT, "'%s': npy header has no 'fortran_order' True/False: %s",
                       path, hdr);

    p = find_key(hdr, "shape");
    if (p == NULL || *p != '(')
        return MR_FAIL(MR_ERR_FORMAT, "'%s': npy header has no 'shape' tuple: %s", path, hdr);
    p = skip_space(p + 1);
    h->ndim = 0;
    while (*p != ')') {
        if (!isdigit((unsigned char)*p))
            return MR_FAIL(MR_ERR_FORMAT, "'%s': malformed npy shape (expected integers): %s",
                           path, hdr);
        if (h->ndim == MR_MAX_DIMS)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "'%s': npy array has more than %d dimensions",
                           path, MR_MAX_DIMS);
        errno = 0;
        char *num_end = NULL;
        long long v = strtoll(p, &num_end, 10);
        if (errno != 0 || v < 0)
            return MR_FAIL(MR_ERR_FORMAT, "'%s': npy shape entry out of range: %s", path, hdr);
        h->dims[h->ndim++] = (int64_t)v;
        p = skip_space(num_end);
        if (*p == ',')
            p = skip_space(p + 1);
        else if (*p != ')')
            return MR_FAIL(MR_ERR_FORMAT, "'%s': malformed npy shape (expected ',' or ')'): %s",
                           path, hdr);
    }
    return MR_OK;
}

static void convert(struct mr_array *a, const unsigned char *src, enum npy_kind kind, int64_t n)
{
    if (a->dtype == MR_DTYPE_CF32) {
        float complex *d = mr_array_cf32(a);
        if (kind == NPY_C8) {
            memcpy(d, src, (size_t)n * sizeof(*d));
            return;
        }
        for (int64_t i = 0; i < n; i++) {
            double v[2];
            memcpy(v, src + 16 * i, sizeof(v));
            d[i] = (float)v[0] + (float)v[1] * I;
        }
        return;
    }
    float *d = mr_array_f32(a);
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case NPY_B1: d[i] = src[i] != 0 ? 1.0f : 0.0f; break;
        case NPY_U1: d[i] = (float)src[i]; break;
        case NPY_I4: {
            int32_t v;
            memcpy(&v, src + 4 * i, sizeof(v));
            d[i] = (float)v;
            break;
        }
        case NPY_I8: {
            int64_t v;
            memcpy(&v, src + 8 * i, sizeof(v));
            d[i] = (float)v;
            break;
        }
        case NPY_F4: memcpy(&d[i], src + 4 * i, sizeof(float)); break;
        case NPY_F8: {
            double v;
            memcpy(&v, src + 8 * i, sizeof(v));
            d[i] = (float)v;
            break;
        }
        case NPY_C8:
        case NPY_C16: MR_ASSERT(0); break;
        }
    }
}

mr_status mr_npy_read(const char *path, struct mr_array *out)
{
    mr_status st = MR_OK;
    FILE *f = NULL;
    char *hdr = NULL;
    unsigned char *data = NULL;
    unsigned char pre[12];
    struct npy_header h = { .ndim = 0 };
    size_t hlen;
    size_t prelen;

    memset(out, 0, sizeof(*out));
    f = fopen(path, "rb");
    if (f == NULL) {
        st = MR_FAIL(MR_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    size_t got = fread(pre, 1, 10, f);
    if (got < NPY_MAGIC_LEN || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not a .npy file (expected magic \\x93NUMPY)", path);
        goto out;
    }
    if (got < 10) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is truncated inside the npy preamble", path);
        goto out;
    }
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        prelen = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            st = MR_FAIL(MR_ERR_FORMAT, "'%s' is truncated inside the npy preamble", path);
            goto out;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
        prelen = 12;
    } else {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': unsupported npy format version %d.%d (expected 1, 2 "
                     "or 3)", path, pre[6], pre[7]);
        goto out;
    }
    if (hlen > (1u << 24)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': implausible npy header length %zu", path, hlen);
        goto out;
    }
    hdr = malloc(hlen + 1);
    if (hdr == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "npy header of '%s'", path);
        goto out;
    }
    if (fread(hdr, 1, hlen, f) != hlen) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is truncated inside the npy header (expected %zu "
                     "bytes)", path, hlen);
        goto out;
    }
    hdr[hlen] = '\0';
    MR_CHECK(parse_header(path, hdr, &h));

    size_t t = 0;
    while (t < sizeof(npy_types) / sizeof(npy_types[0]) && strcmp(npy_types[t].descr, h.descr) != 0)
        t++;
    if (t == sizeof(npy_types) / sizeof(npy_types[0])) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "'%s': unsupported npy dtype '%s' (expected one of |b1 "
                     "|u1 <i4 <i8 <f4 <f8 <c8 <c16)", path, h.descr);
        goto out;
    }
    if (h.fortran) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "'%s' is stored with fortran_order True (expected C "
                     "order; save with np.ascontiguousarray)", path);
        goto out;
    }
    /* the shape is the file's word: check it against the bytes stored and the memory limit
     * before allocating anything */
    int64_t n = 0;
    int64_t stored_bytes = 0;
    char what[1200];
    char buf[200];
    if (mr_dims_size(h.ndim, h.dims, npy_types[t].itemsize, &n, &stored_bytes) != MR_OK) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': npy shape %s of %s is too large (past 2^63 - 1 "
                     "bytes)", path, mr_dims_str(h.ndim, h.dims, buf, sizeof(buf)), h.descr);
        goto out;
    }
    size_t nbytes = (size_t)stored_bytes;
    enum npy_kind kind = npy_types[t].kind;
    bool cplx = kind == NPY_C8 || kind == NPY_C16;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
        (uint64_t)sb.st_size - (prelen + hlen) < nbytes) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is truncated: expected %zu bytes of %s data after "
                     "the %zu-byte header (shape %s), found %lld", path, nbytes, h.descr,
                     prelen + hlen, mr_dims_str(h.ndim, h.dims, buf, sizeof(buf)),
                     (long long)sb.st_size - (long long)(prelen + hlen));
        goto out;
    }
    snprintf(what, sizeof(what), "'%s' (%s %s)", path,
             mr_dims_str(h.ndim, h.dims, buf, sizeof(buf)), h.descr);
    MR_CHECK(mr_memory_check((uint64_t)nbytes + (uint64_t)n * (cplx ? 8u : 4u), what));
    data = malloc(nbytes > 0 ? nbytes : 1);
    if (data == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "data of '%s' (%zu bytes)", path, nbytes);
        goto out;
    }
    got = fread(data, 1, nbytes, f);
    if (got != nbytes) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is truncated: expected %zu bytes of %s data after the "
                     "%zu-byte header, found %zu", path, nbytes, h.descr, prelen + hlen, got);
        goto out;
    }
    MR_CHECK(mr_array_init(out, cplx ? MR_DTYPE_CF32 : MR_DTYPE_F32, h.ndim, h.dims));
    convert(out, data, kind, n);
out:
    if (f != NULL)
        fclose(f);
    free(hdr);
    free(data);
    return st;
}

mr_status mr_npy_read_mask(const char *path, int64_t h, int64_t w, struct mr_array *mask)
{
    mr_status st = MR_OK;
    struct mr_array m = { 0 };
    char buf[160];

    memset(mask, 0, sizeof(*mask));
    MR_CHECK(mr_npy_read(path, &m));
    if (m.dtype != MR_DTYPE_F32) {
        st = MR_FAIL(MR_ERR_FORMAT, "mask '%s' is complex; expected a real or boolean array",
                     path);
        goto out;
    }
    const bool columns = (m.ndim == 1 && m.dims[0] == w) ||
                         (m.ndim == 2 && m.dims[0] == 1 && m.dims[1] == w);
    if (!columns && !(m.ndim == 2 && m.dims[0] == h && m.dims[1] == w)) {
        st = MR_FAIL(MR_ERR_SHAPE, "mask '%s' has shape %s; k-space of %lld x %lld needs "
                     "(%lld,) columns or (%lld, %lld)", path,
                     mr_dims_str(m.ndim, m.dims, buf, sizeof(buf)), (long long)h, (long long)w,
                     (long long)w, (long long)h, (long long)w);
        goto out;
    }
    const float *src = mr_array_f32(&m);
    const int64_t n = mr_array_numel(&m);
    bool any = false;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(src[i])) {
            st = MR_FAIL(MR_ERR_DATA, "mask '%s' holds %s at element %lld; expected 0 (not "
                         "sampled) or nonzero (sampled)", path, isnan(src[i]) ? "NaN" : "Inf",
                         (long long)i);
            goto out;
        }
        any = any || src[i] != 0.0f;
    }
    if (!any) {
        st = MR_FAIL(MR_ERR_DATA, "mask '%s' samples nothing (all zero)", path);
        goto out;
    }
    MR_CHECK(mr_array_init_dims(mask, MR_DTYPE_F32, 2, h, w));
    float *dst = mr_array_f32(mask);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            dst[y * w + x] = src[columns ? x : y * w + x] != 0.0f ? 1.0f : 0.0f;
out:
    mr_array_cleanup(&m);
    if (st != MR_OK)
        mr_array_cleanup(mask);
    return st;
}

static mr_status write_all(FILE *f, const void *p, size_t n, const char *path)
{
    if (fwrite(p, 1, n, f) != n)
        return MR_FAIL(MR_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    return MR_OK;
}

mr_status mr_npy_write(const char *path, const struct mr_array *a, enum mr_npy_type type)
{
    mr_status st = MR_OK;
    struct mr_atomic_file af = { 0 };
    unsigned char *u8 = NULL;
    const char *descr = a->dtype == MR_DTYPE_CF32 ? "<c8" : "<f4";
    int64_t n = mr_array_numel(a);

    if (type == MR_NPY_TYPE_U8) {
        if (a->dtype != MR_DTYPE_F32)
            return MR_FAIL(MR_ERR_ARG, "cannot write a complex array as uint8 to '%s'", path);
        u8 = malloc(n > 0 ? (size_t)n : 1);
        if (u8 == NULL)
            return MR_FAIL(MR_ERR_NOMEM, "uint8 copy for '%s'", path);
        const float *x = mr_array_f32(a);
        for (int64_t i = 0; i < n; i++) {
            if (!(x[i] >= 0.0f && x[i] <= 255.0f && x[i] == floorf(x[i]))) {
                st = MR_FAIL(MR_ERR_ARG, "cannot write '%s' as uint8: element %lld is %g (expected "
                             "an integer in [0, 255])", path, (long long)i, (double)x[i]);
                goto out;
            }
            u8[i] = (unsigned char)x[i];
        }
        descr = "|u1";
    }

    /* header: dict, spaces, '\n'; preamble + header a multiple of 64 bytes */
    char shape[MR_MAX_DIMS * 24 + 4];
    size_t pos = 0;
    shape[pos++] = '(';
    for (int d = 0; d < a->ndim; d++)
        pos += (size_t)snprintf(shape + pos, sizeof(shape) - pos, d + 1 < a->ndim ? "%lld, " :
                                a->ndim == 1 ? "%lld," : "%lld", (long long)a->dims[d]);
    snprintf(shape + pos, sizeof(shape) - pos, ")");
    char dict[MR_MAX_DIMS * 24 + 128];
    int dlen = snprintf(dict, sizeof(dict),
                        "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t padlen = 64 - (size_t)(10 + dlen + 1) % 64; /* numpy pads 64 when already aligned */
    size_t hlen = (size_t)dlen + padlen + 1;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8) };
    char hdr[sizeof(dict) + 128];
    memset(hdr, ' ', hlen);
    memcpy(hdr, dict, (size_t)dlen);
    hdr[hlen - 1] = '\n';

    MR_CHECK(mr_atomic_file_open(&af, path));
    MR_CHECK(write_all(af.f, pre, sizeof(pre), path));
    MR_CHECK(write_all(af.f, hdr, hlen, path));
    if (u8 != NULL)
        MR_CHECK(write_all(af.f, u8, (size_t)n, path));
    else
        MR_CHECK(write_all(af.f, a->data, mr_array_nbytes(a), path));
    st = mr_atomic_file_commit(&af);
out:
    mr_atomic_file_abort(&af);
    free(u8);
    return st;
}
