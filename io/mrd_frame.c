/*
 * MRD stream framing for readers that cannot block (see mrd.h): how many bytes the message at
 * the start of a buffer needs, checked against the same limits as mr_mrd_read before anything
 * is allocated; and decoding a whole message held in memory through the same reader.
 */
#include <stdio.h>
#include <string.h>

#include "io/ismrmrd.h"
#include "io/mrd.h"

/* little-endian host (asserted in mrd.c): the wire integers are the host's */
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static mr_status text_size(uint16_t id, uint64_t len, size_t prefix, size_t max_text,
                           uint64_t *need)
{
    uint64_t cap = max_text < MR_MRD_MAX_TEXT ? (uint64_t)max_text : MR_MRD_MAX_TEXT;
    if (len > cap)
        return MR_FAIL(MR_ERR_FORMAT, "%s message of %llu bytes (limit %llu)",
                       mr_mrd_id_name(id), (unsigned long long)len, (unsigned long long)cap);
    *need = 2 + prefix + len;
    return MR_OK;
}

mr_status mr_mrd_frame_size(const void *buf, size_t have, size_t max_text, uint64_t *need)
{
    const uint8_t *b = buf;
    uint16_t id;

    *need = 0;
    if (have < 2)
        return MR_OK;
    memcpy(&id, b, 2);
    switch (id) {
    case MR_MRD_CLOSE:
        *need = 2;
        return MR_OK;
    case MR_MRD_CONFIG_FILE:
        *need = 2 + MR_MRD_CONFIG_FILE_LEN;
        return MR_OK;
    case MR_MRD_CONFIG_TEXT:
    case MR_MRD_HEADER:
    case MR_MRD_TEXT:
        return have < 6 ? MR_OK : text_size(id, get_u32(b + 2), 4, max_text, need);
    case MR_MRD_ERROR:
        return have < 10 ? MR_OK : text_size(id, get_u64(b + 2), 8, max_text, need);
    case MR_MRD_ACQUISITION: {
        ISMRMRD_AcquisitionHeader h;
        if (have < 2 + sizeof(h))
            return MR_OK;
        memcpy(&h, b + 2, sizeof(h));
        mr_status st = mr_ismrmrd_check_acquisition_header(&h, "ACQUISITION message");
        if (st != MR_OK)
            return st;
        const uint64_t ns = h.number_of_samples;
        *need = 2 + sizeof(h) + 4 * ns * h.trajectory_dimensions + 8 * ns * h.active_channels;
        return MR_OK;
    }
    case MR_MRD_IMAGE: {
        ISMRMRD_ImageHeader h;
        size_t nbytes = 0;
        if (have < 2 + sizeof(h) + 8)
            return MR_OK;
        memcpy(&h, b + 2, sizeof(h));
        const uint64_t alen = get_u64(b + 2 + sizeof(h));
        if (alen > MR_ISMRMRD_MAX_ATTRIBUTES)
            return MR_FAIL(MR_ERR_FORMAT, "IMAGE message with %llu attribute bytes (limit %llu)",
                           (unsigned long long)alen,
                           (unsigned long long)MR_ISMRMRD_MAX_ATTRIBUTES);
        h.attribute_string_len = (uint32_t)alen;
        mr_status st = mr_ismrmrd_check_image_header(&h, "IMAGE message", &nbytes);
        if (st != MR_OK)
            return st;
        *need = 2 + sizeof(h) + 8 + alen + nbytes;
        return MR_OK;
    }
    case MR_MRD_WAVEFORM: {
        ISMRMRD_WaveformHeader h;
        if (have < 2 + sizeof(h))
            return MR_OK;
        memcpy(&h, b + 2, sizeof(h));
        mr_status st = mr_ismrmrd_check_waveform_header(&h, "WAVEFORM message");
        if (st != MR_OK)
            return st;
        *need = 2 + sizeof(h) + (uint64_t)h.channels * h.number_of_samples * 4;
        return MR_OK;
    }
    }
    return MR_FAIL(MR_ERR_FORMAT, "unknown message id %u", id);
}

mr_status mr_mrd_decode(const void *buf, size_t len, const char *what,
                        struct mr_mrd_message *m)
{
    struct mr_mrd_reader r;
    mr_mrd_reader_init_memory(&r, buf, len, what);
    mr_status st = mr_mrd_read(&r, m);
    if (st == MR_OK && r.bytes != len)
        st = MR_FAIL(MR_ERR_FORMAT, "%s: %s message of %llu bytes followed by %llu more",
                     what, mr_mrd_id_name(m->id), (unsigned long long)r.bytes,
                     (unsigned long long)(len - r.bytes));
    return st;
}
