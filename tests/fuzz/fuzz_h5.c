/* Structure-aware HDF5 file building for the fuzz harnesses (fuzz_h5.h). */
#include "fuzz_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZH_MAX_WRITE ((size_t)1 << 20) /* contents are written up to this many bytes */

hid_t fzh_create(const char *path)
{
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (fid < 0)
        abort();
    return fid;
}

static hid_t complex_type(hid_t base, const char *re, const char *im)
{
    size_t s = H5Tget_size(base);
    hid_t t = H5Tcreate(H5T_COMPOUND, 2 * s);
    H5Tinsert(t, re, 0, base);
    H5Tinsert(t, im, s, base);
    return t;
}

static hid_t bool_type(void)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t v = 0;
    H5Tenum_insert(t, "FALSE", &v);
    v = 1;
    H5Tenum_insert(t, "TRUE", &v);
    return t;
}

static hid_t string_type(bool variable, size_t fixed)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, variable ? H5T_VARIABLE : fixed);
    return t;
}

static hid_t any_type(struct fz *f)
{
    switch (fz_range(f, 0, 15)) {
    case 0: return complex_type(H5T_IEEE_F32LE, "r", "i");
    case 1: return complex_type(H5T_IEEE_F64LE, "r", "i");
    case 2: return complex_type(H5T_IEEE_F32LE, "real", "imag");
    case 3: return complex_type(H5T_STD_I32LE, "r", "i");
    case 4: return H5Tcopy(H5T_IEEE_F32LE);
    case 5: return H5Tcopy(H5T_IEEE_F64BE);
    case 6: return H5Tcopy(H5T_STD_U8LE);
    case 7: return H5Tcopy(H5T_STD_I64LE);
    case 8: return H5Tcopy(H5T_STD_U16BE);
    case 9: return bool_type();
    case 10: return string_type(true, 0);
    case 11: return string_type(false, (size_t)fz_range(f, 1, 16));
    case 12: {
        hsize_t n = (hsize_t)fz_range(f, 1, 4);
        return H5Tarray_create2(H5T_IEEE_F32LE, 1, &n);
    }
    case 13: return H5Tvlen_create(H5T_IEEE_F32LE);
    case 14: return H5Tcopy(H5T_STD_I16BE);
    default: {
        hid_t t = H5Tcreate(H5T_COMPOUND, 12);
        H5Tinsert(t, "r", 0, H5T_IEEE_F32LE);
        H5Tinsert(t, "x", 4, H5T_STD_I64LE);
        return t;
    }
    }
}

hid_t fzh_type(struct fz *f, enum fzh_kind preferred)
{
    if (fz_rare(f))
        return any_type(f);
    switch (preferred) {
    case FZH_COMPLEX: return complex_type(H5T_IEEE_F32LE, "r", "i");
    case FZH_REAL: return H5Tcopy(H5T_IEEE_F32LE);
    case FZH_MASK: {
        int c = (int)fz_range(f, 0, 2);
        return c == 0 ? bool_type() : H5Tcopy(c == 1 ? H5T_STD_U8LE : H5T_IEEE_F32LE);
    }
    case FZH_INT: return H5Tcopy(H5T_STD_I64LE);
    case FZH_FLOAT64: return H5Tcopy(H5T_IEEE_F64LE);
    case FZH_STRING: return string_type(!fz_rare(f), (size_t)fz_range(f, 1, 64));
    }
    return H5Tcopy(H5T_IEEE_F32LE);
}

static void put_float(void *dst, size_t size, double v)
{
    if (size == 4) {
        float x = (float)v;
        memcpy(dst, &x, 4);
    } else if (size == 8) {
        memcpy(dst, &v, 8);
    }
}

void fzh_fill(struct fz *f, void *buf, size_t n, hid_t type)
{
    uint8_t *b = buf;
    H5T_class_t cls = H5Tget_class(type);
    size_t fsize = cls == H5T_COMPOUND || cls == H5T_ARRAY ? 4 : H5Tget_size(type);
    bool floats = (cls == H5T_FLOAT || cls == H5T_COMPOUND || cls == H5T_ARRAY) &&
                  (fsize == 4 || fsize == 8) && H5Tget_order(type) != H5T_ORDER_BE;
    size_t len;
    const uint8_t *raw;
    switch (fz_range(f, 0, 3)) {
    case 1:
        raw = fz_chunk(f, 4096, &len);
        for (size_t i = 0; i < n; i++)
            b[i] = len > 0 ? raw[i % len] : 0;
        break;
    case 0:
        memset(b, 0, n);
        for (size_t i = 0; floats && i + fsize <= n; i += fsize)
            put_float(b + i, fsize, 1.0);
        if (!floats)
            for (size_t i = 0; i < n; i++)
                b[i] = 1;
        break;
    case 2:
        memset(b, 0, n);
        break;
    default:
        memset(b, 0, n);
        for (int k = 0, m = (int)fz_range(f, 1, 4); k < m && n >= fsize && floats; k++) {
            size_t at = (size_t)fz_range(f, 0, (int64_t)(n / fsize - 1)) * fsize;
            put_float(b + at, fsize, (double)fz_float(f));
        }
        break;
    }
}

/* Fills and writes a dataset or attribute whose element type is t and space holds n elems. */
static void write_contents(struct fz *f, hid_t obj, bool is_attr, hid_t t, hsize_t n,
                           const char *text, size_t len)
{
    H5T_class_t cls = H5Tget_class(t);
    if (cls == H5T_VLEN)
        return; /* left unwritten: reads give empty sequences */
    if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        if (n > 64)
            return;
        char *s = fz_strndup((const uint8_t *)text, len);
        const char *ptrs[64];
        for (hsize_t i = 0; i < n; i++)
            ptrs[i] = s;
        if (is_attr)
            H5Awrite(obj, t, ptrs);
        else
            H5Dwrite(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs);
        free(s);
        return;
    }
    size_t es = H5Tget_size(t);
    if (es == 0 || n > FZH_MAX_WRITE / es)
        return;
    size_t bytes = (size_t)n * es;
    uint8_t *buf = calloc(bytes > 0 ? bytes : 1, 1);
    if (buf == NULL)
        abort();
    if (cls == H5T_STRING)
        for (size_t i = 0; i < bytes; i++)
            buf[i] = len > 0 ? (uint8_t)text[i % es < len ? i % es : len - 1] : 0;
    else
        fzh_fill(f, buf, bytes, t);
    if (cls == H5T_ENUM)
        for (size_t i = 0; i < bytes; i++)
            buf[i] &= 1;
    if (is_attr)
        H5Awrite(obj, t, buf);
    else
        H5Dwrite(obj, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    free(buf);
}

/* A dataspace: scalar, or simple with rank_hint (or a fuzzed rank) and fuzzed dims. Sets *n
 * to the element count, or 0 when the product overflows. */
static hid_t make_space(struct fz *f, int rank_hint, int max_rank, hsize_t *dims, int *rank,
                        hsize_t *n)
{
    int r = !fz_rare(f) ? rank_hint : (int)fz_range(f, 0, max_rank);
    *rank = r;
    if (r == 0) {
        *n = 1;
        return H5Screate(H5S_SCALAR);
    }
    hsize_t total = 1;
    bool over = false;
    for (int i = 0; i < r; i++) {
        int64_t d = fz_dim(f);
        dims[i] = (hsize_t)d;
        if (d != 0 && total > UINT64_MAX / (hsize_t)d)
            over = true;
        else
            total *= (hsize_t)d;
    }
    *n = over ? 0 : total;
    return H5Screate_simple(r, dims, NULL);
}

void fzh_object(struct fz *f, hid_t loc, const char *name, enum fzh_kind preferred,
                int rank_hint, const char *text, size_t len)
{
    int kind = (int)fz_range(f, 0, 7);
    if (kind == 6)
        return; /* absent */
    if (kind == 7) {
        hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0)
            H5Gclose(g);
        return;
    }
    hid_t t = fzh_type(f, preferred);
    hsize_t dims[8];
    int rank;
    hsize_t n;
    hid_t space = make_space(f, rank_hint, 6, dims, &rank, &n);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (rank > 0 && fz_rare(f)) {
        hsize_t chunk[8];
        bool ok = true;
        for (int i = 0; i < rank; i++) {
            chunk[i] = dims[i] == 0 ? 1 : dims[i] < 64 ? dims[i] : 64;
            ok = ok && dims[i] < ((hsize_t)1 << 32);
        }
        if (ok)
            H5Pset_chunk(dcpl, rank, chunk);
    }
    hid_t d = H5Dcreate2(loc, name, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        if (n > 0)
            write_contents(f, d, false, t, n, text, len);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(t);
}

void fzh_attribute(struct fz *f, hid_t loc, const char *name, enum fzh_kind preferred,
                   const char *text, size_t len)
{
    if (fz_rare(f))
        return; /* absent */
    hid_t t = fzh_type(f, preferred);
    hsize_t dims[1] = {(hsize_t)fz_range(f, 0, 3)};
    bool scalar = !fz_rare(f);
    hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t a = H5Acreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        write_contents(f, a, true, t, scalar ? 1 : dims[0], text, len);
        H5Aclose(a);
    }
    H5Sclose(space);
    H5Tclose(t);
}

static long long xml_number(struct fz *f)
{
    static const int64_t odd[] = {-1, 0, 65535, 65536, 2147483648LL, 99999999999LL};
    uint8_t c = fz_u8(f);
    return c < 200 ? 1 + c % 16 : odd[c % 6];
}

size_t fzh_xml_header(struct fz *f, char *buf, size_t cap)
{
    if (fz_rare(f)) {
        size_t len;
        const uint8_t *raw = fz_chunk(f, cap - 1, &len);
        memcpy(buf, raw, len);
        buf[len] = '\0';
        return len;
    }
    long long v[14];
    for (int i = 0; i < 14; i++)
        v[i] = xml_number(f);
    int k = snprintf(
        buf, cap,
        "<?xml version=\"1.0\"?><ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">"
        "<acquisitionSystemInformation><receiverChannels>%lld</receiverChannels>"
        "</acquisitionSystemInformation><encoding><encodedSpace><matrixSize><x>%lld</x>"
        "<y>%lld</y><z>%lld</z></matrixSize><fieldOfView_mm><x>200</x><y>200</y><z>3</z>"
        "</fieldOfView_mm></encodedSpace><reconSpace><matrixSize><x>%lld</x><y>%lld</y>"
        "<z>%lld</z></matrixSize><fieldOfView_mm><x>200</x><y>200</y><z>3</z>"
        "</fieldOfView_mm></reconSpace><trajectory>cartesian</trajectory><encodingLimits>"
        "<kspace_encoding_step_1><minimum>%lld</minimum><maximum>%lld</maximum>"
        "<center>%lld</center></kspace_encoding_step_1><slice><minimum>0</minimum>"
        "<maximum>%lld</maximum><center>0</center></slice></encodingLimits>"
        "<parallelImaging><accelerationFactor><kspace_encoding_step_1>%lld"
        "</kspace_encoding_step_1><kspace_encoding_step_2>%lld</kspace_encoding_step_2>"
        "</accelerationFactor></parallelImaging></encoding></ismrmrdHeader>",
        v[0], v[1], v[2], v[3], v[4], v[5], v[6] - 1, v[7] - 1, v[8], v[9], v[10] - 1, v[11],
        v[12]);
    return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}
