/*
 * ISMRMRD 1.8's HDF5 types (see ismrmrd_hdf5.h), built from tables of the struct members in
 * ismrmrd.h / waveform.h order, with the names and native types of ISMRMRD's dataset.c.
 */
#include "io/ismrmrd_hdf5.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum member_kind {
    M_U16,
    M_I16,
    M_U32,
    M_I32,
    M_U64,
    M_F32,
    M_ENCODING, /* ISMRMRD_EncodingCounters */
};

struct member {
    const char *name;
    size_t offset;
    enum member_kind kind;
    hsize_t count; /* 0: scalar; else a 1-D array of this length */
};

#define ACQ(f) #f, offsetof(ISMRMRD_AcquisitionHeader, f)
static const struct member acq_header[] = {
    { ACQ(version), M_U16, 0 },
    { ACQ(flags), M_U64, 0 },
    { ACQ(measurement_uid), M_U32, 0 },
    { ACQ(scan_counter), M_U32, 0 },
    { ACQ(acquisition_time_stamp), M_U32, 0 },
    { ACQ(physiology_time_stamp), M_U32, ISMRMRD_PHYS_STAMPS },
    { ACQ(number_of_samples), M_U16, 0 },
    { ACQ(available_channels), M_U16, 0 },
    { ACQ(active_channels), M_U16, 0 },
    { ACQ(channel_mask), M_U64, ISMRMRD_CHANNEL_MASKS },
    { ACQ(discard_pre), M_U16, 0 },
    { ACQ(discard_post), M_U16, 0 },
    { ACQ(center_sample), M_U16, 0 },
    { ACQ(encoding_space_ref), M_U16, 0 },
    { ACQ(trajectory_dimensions), M_U16, 0 },
    { ACQ(sample_time_us), M_F32, 0 },
    { ACQ(position), M_F32, 3 },
    { ACQ(read_dir), M_F32, 3 },
    { ACQ(phase_dir), M_F32, 3 },
    { ACQ(slice_dir), M_F32, 3 },
    { ACQ(patient_table_position), M_F32, 3 },
    { ACQ(idx), M_ENCODING, 0 },
    { ACQ(user_int), M_I32, ISMRMRD_USER_INTS },
    { ACQ(user_float), M_F32, ISMRMRD_USER_FLOATS },
};
#undef ACQ

#define ENC(f) #f, offsetof(ISMRMRD_EncodingCounters, f)
static const struct member encoding[] = {
    { ENC(kspace_encode_step_1), M_U16, 0 },
    { ENC(kspace_encode_step_2), M_U16, 0 },
    { ENC(average), M_U16, 0 },
    { ENC(slice), M_U16, 0 },
    { ENC(contrast), M_U16, 0 },
    { ENC(phase), M_U16, 0 },
    { ENC(repetition), M_U16, 0 },
    { ENC(set), M_U16, 0 },
    { ENC(segment), M_U16, 0 },
    { ENC(user), M_U16, ISMRMRD_USER_INTS },
};
#undef ENC

#define IMG(f) #f, offsetof(ISMRMRD_ImageHeader, f)
static const struct member image_header[] = {
    { IMG(version), M_U16, 0 },
    { IMG(data_type), M_U16, 0 },
    { IMG(flags), M_U64, 0 },
    { IMG(measurement_uid), M_U32, 0 },
    { IMG(matrix_size), M_U16, 3 },
    { IMG(field_of_view), M_F32, 3 },
    { IMG(channels), M_U16, 0 },
    { IMG(position), M_F32, 3 },
    { IMG(read_dir), M_F32, 3 },
    { IMG(phase_dir), M_F32, 3 },
    { IMG(slice_dir), M_F32, 3 },
    { IMG(patient_table_position), M_F32, 3 },
    { IMG(average), M_U16, 0 },
    { IMG(slice), M_U16, 0 },
    { IMG(contrast), M_U16, 0 },
    { IMG(phase), M_U16, 0 },
    { IMG(repetition), M_U16, 0 },
    { IMG(set), M_U16, 0 },
    { IMG(acquisition_time_stamp), M_U32, 0 },
    { IMG(physiology_time_stamp), M_U32, ISMRMRD_PHYS_STAMPS },
    { IMG(image_type), M_U16, 0 },
    { IMG(image_index), M_U16, 0 },
    { IMG(image_series_index), M_U16, 0 },
    { IMG(user_int), M_I32, ISMRMRD_USER_INTS },
    { IMG(user_float), M_F32, ISMRMRD_USER_FLOATS },
    { IMG(attribute_string_len), M_U32, 0 },
};
#undef IMG

#define WAV(f) #f, offsetof(ISMRMRD_WaveformHeader, f)
static const struct member wav_header[] = {
    { WAV(version), M_U16, 0 },
    { WAV(flags), M_U64, 0 },
    { WAV(measurement_uid), M_U32, 0 },
    { WAV(scan_counter), M_U32, 0 },
    { WAV(time_stamp), M_U32, 0 },
    { WAV(number_of_samples), M_U16, 0 },
    { WAV(channels), M_U16, 0 },
    { WAV(sample_time_us), M_F32, 0 },
    { WAV(waveform_id), M_U16, 0 },
};
#undef WAV

static hid_t compound(size_t size, const struct member *m, size_t n);

static hid_t member_type(const struct member *m)
{
    hid_t base = -1;
    switch (m->kind) {
    case M_U16: base = H5Tcopy(H5T_NATIVE_UINT16); break;
    case M_I16: base = H5Tcopy(H5T_NATIVE_INT16); break;
    case M_U32: base = H5Tcopy(H5T_NATIVE_UINT32); break;
    case M_I32: base = H5Tcopy(H5T_NATIVE_INT32); break;
    case M_U64: base = H5Tcopy(H5T_NATIVE_UINT64); break;
    case M_F32: base = H5Tcopy(H5T_NATIVE_FLOAT); break;
    case M_ENCODING:
        base = compound(sizeof(ISMRMRD_EncodingCounters), encoding,
                        sizeof(encoding) / sizeof(encoding[0]));
        break;
    }
    if (base < 0 || m->count == 0)
        return base;
    hid_t arr = H5Tarray_create2(base, 1, &m->count);
    H5Tclose(base);
    return arr;
}

static hid_t compound(size_t size, const struct member *m, size_t n)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    for (size_t i = 0; i < n && t >= 0; i++) {
        hid_t mt = member_type(&m[i]);
        if (mt < 0 || H5Tinsert(t, m[i].name, m[i].offset, mt) < 0) {
            H5Tclose(t);
            t = -1;
        }
        if (mt >= 0)
            H5Tclose(mt);
    }
    return t;
}

/* A compound of `size` bytes holding the given (name, offset, type) members; takes the types. */
static hid_t record(size_t size, size_t n, const char *const *names, const size_t *offsets,
                    hid_t *types)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    for (size_t i = 0; i < n; i++) {
        if (t >= 0 && (types[i] < 0 || H5Tinsert(t, names[i], offsets[i], types[i]) < 0)) {
            H5Tclose(t);
            t = -1;
        }
        if (types[i] >= 0)
            H5Tclose(types[i]);
    }
    return t;
}

static hid_t vlen_of(hid_t base)
{
    return H5Tvlen_create(base);
}

hid_t mr_ismrmrd_h5_acq_header_type(void)
{
    return compound(sizeof(ISMRMRD_AcquisitionHeader), acq_header,
                    sizeof(acq_header) / sizeof(acq_header[0]));
}

hid_t mr_ismrmrd_h5_acq_type(void)
{
    static const char *const names[] = { "head", "traj", "data" };
    const size_t offsets[] = { offsetof(struct mr_ismrmrd_h5_acq, head),
                               offsetof(struct mr_ismrmrd_h5_acq, traj),
                               offsetof(struct mr_ismrmrd_h5_acq, data) };
    hid_t types[] = { mr_ismrmrd_h5_acq_header_type(), vlen_of(H5T_NATIVE_FLOAT),
                      vlen_of(H5T_NATIVE_FLOAT) };
    return record(sizeof(struct mr_ismrmrd_h5_acq), 3, names, offsets, types);
}

hid_t mr_ismrmrd_h5_acq_head_only_type(void)
{
    static const char *const names[] = { "head" };
    const size_t offsets[] = { 0 };
    hid_t types[] = { mr_ismrmrd_h5_acq_header_type() };
    return record(sizeof(ISMRMRD_AcquisitionHeader), 1, names, offsets, types);
}

hid_t mr_ismrmrd_h5_wav_header_type(void)
{
    return compound(sizeof(ISMRMRD_WaveformHeader), wav_header,
                    sizeof(wav_header) / sizeof(wav_header[0]));
}

hid_t mr_ismrmrd_h5_wav_type(void)
{
    static const char *const names[] = { "head", "data" };
    const size_t offsets[] = { offsetof(struct mr_ismrmrd_h5_wav, head),
                               offsetof(struct mr_ismrmrd_h5_wav, data) };
    hid_t types[] = { mr_ismrmrd_h5_wav_header_type(), vlen_of(H5T_NATIVE_UINT32) };
    return record(sizeof(struct mr_ismrmrd_h5_wav), 2, names, offsets, types);
}

hid_t mr_ismrmrd_h5_wav_head_only_type(void)
{
    static const char *const names[] = { "head" };
    const size_t offsets[] = { 0 };
    hid_t types[] = { mr_ismrmrd_h5_wav_header_type() };
    return record(sizeof(ISMRMRD_WaveformHeader), 1, names, offsets, types);
}

hid_t mr_ismrmrd_h5_vlen_member_type(const char *member, hid_t base)
{
    const char *const names[] = { member };
    const size_t offsets[] = { 0 };
    hid_t types[] = { vlen_of(base) };
    return record(sizeof(hvl_t), 1, names, offsets, types);
}

hid_t mr_ismrmrd_h5_image_header_type(void)
{
    return compound(sizeof(ISMRMRD_ImageHeader), image_header,
                    sizeof(image_header) / sizeof(image_header[0]));
}

hid_t mr_ismrmrd_h5_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && H5Tset_size(t, H5T_VARIABLE) < 0) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

static hid_t complex_of(hid_t member)
{
    static const char *const names[] = { "real", "imag" };
    const size_t size = H5Tget_size(member);
    const size_t offsets[] = { 0, size };
    hid_t types[] = { H5Tcopy(member), H5Tcopy(member) };
    return record(2 * size, 2, names, offsets, types);
}

hid_t mr_ismrmrd_h5_image_data_type(uint16_t data_type)
{
    switch (data_type) {
    case ISMRMRD_USHORT: return H5Tcopy(H5T_NATIVE_UINT16);
    case ISMRMRD_SHORT: return H5Tcopy(H5T_NATIVE_INT16);
    case ISMRMRD_UINT: return H5Tcopy(H5T_NATIVE_UINT32);
    case ISMRMRD_INT: return H5Tcopy(H5T_NATIVE_INT32);
    case ISMRMRD_FLOAT: return H5Tcopy(H5T_NATIVE_FLOAT);
    case ISMRMRD_DOUBLE: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case ISMRMRD_CXFLOAT: return complex_of(H5T_NATIVE_FLOAT);
    case ISMRMRD_CXDOUBLE: return complex_of(H5T_NATIVE_DOUBLE);
    }
    return -1;
}

/* ---- checks ------------------------------------------------------------------------------- */

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    case H5T_ENUM: return "enum";
    default: return "another type";
    }
}

/* Compares have against want; on a mismatch writes the path of the member into where. */
static bool same_shape(hid_t have, hid_t want, char *where, size_t len)
{
    H5T_class_t hc = H5Tget_class(have);
    H5T_class_t wc = H5Tget_class(want);
    if (hc != wc) {
        snprintf(where, len, "is %s, expected %s", class_name(hc), class_name(wc));
        return false;
    }
    if (wc == H5T_ARRAY) {
        hsize_t hd[4] = { 0 };
        hsize_t wd[4] = { 0 };
        if (H5Tget_array_ndims(have) != 1 || H5Tget_array_dims2(have, hd) != 1 ||
            H5Tget_array_dims2(want, wd) != 1 || hd[0] != wd[0]) {
            snprintf(where, len, "is an array of another length (expected %llu)",
                     (unsigned long long)wd[0]);
            return false;
        }
    }
    if (wc == H5T_ARRAY || wc == H5T_VLEN) {
        hid_t hs = H5Tget_super(have);
        hid_t ws = H5Tget_super(want);
        bool ok = hs >= 0 && ws >= 0 && same_shape(hs, ws, where, len);
        if (hs >= 0)
            H5Tclose(hs);
        if (ws >= 0)
            H5Tclose(ws);
        return ok;
    }
    if (wc != H5T_COMPOUND)
        return true;
    int n = H5Tget_nmembers(want);
    for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(want, (unsigned)i);
        if (name == NULL) {
            snprintf(where, len, "cannot be inspected");
            return false;
        }
        int j = H5Tget_member_index(have, name);
        bool ok = j >= 0;
        char inner[256] = "";
        if (!ok) {
            snprintf(where, len, "has no member '%s'", name);
        } else {
            hid_t hm = H5Tget_member_type(have, (unsigned)j);
            hid_t wm = H5Tget_member_type(want, (unsigned)i);
            ok = hm >= 0 && wm >= 0 && same_shape(hm, wm, inner, sizeof(inner));
            if (!ok)
                snprintf(where, len, "member '%s' %s", name, inner);
            if (hm >= 0)
                H5Tclose(hm);
            if (wm >= 0)
                H5Tclose(wm);
        }
        H5free_memory(name);
        if (!ok)
            return false;
    }
    return true;
}

mr_status mr_ismrmrd_h5_check_type(hid_t have, hid_t want, const char *what,
                                   const char *expected)
{
    char where[512] = "";

    if (have < 0 || want < 0)
        return MR_FAIL(MR_ERR_FORMAT, "%s: cannot read its type", what);
    if (!same_shape(have, want, where, sizeof(where))) {
        H5Eclear2(H5E_DEFAULT);
        return MR_FAIL(MR_ERR_FORMAT, "%s %s; expected %s", what, where, expected);
    }
    return MR_OK;
}
