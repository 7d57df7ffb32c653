/*
 * Structure-aware harness: ISMRMRD HDF5 files (io/ismrmrd.h). The fuzzer's bytes decide
 * /dataset (group, dataset or absent), /dataset/xml (the header, tests/fuzz/fuzz_h5.h), the
 * acquisitions of /dataset/data and the waveforms of /dataset/waveforms as ISMRMRD's own
 * record types (io/ismrmrd_hdf5.h) or anything else: every header field the readers check
 * (samples, channels, trajectory dimensions, centre, discards, version, ...) and the lengths
 * of the stored trajectory and samples, consistent with the header or not; and an image
 * group (header, attributes, data of a fuzzed type and dims). The file is read as `recon` and
 * `info` read it: open, the XML parsed, every acquisition, waveform and image.
 */
#include <stdlib.h>
#include <string.h>

#include <ismrmrd/version.h>

#include "fuzz_common.h"
#include "fuzz_h5.h"
#include "io/ismrmrd.h"
#include "io/ismrmrd_hdf5.h"
#include "io/ismrmrd_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 4
#define MAX_FLOATS 4096

/* A small count, or now and then a large or odd one. */
static uint32_t count(struct fz *z)
{
    static const int64_t odd[] = {0, 255, 256, 1024, 65535, 65536, 1 << 24, 0x7fffffff,
                                  0xffffffff};
    uint8_t c = fz_u8(z);
    return c < 224 ? 1u + c % 8u : (uint32_t)odd[c % 9];
}

static void fill_floats(struct fz *z, hvl_t *v, size_t want)
{
    size_t n = !fz_rare(z) ? want : (size_t)fz_range(z, 0, 64);
    if (n > MAX_FLOATS)
        n = (size_t)fz_range(z, 0, 64);
    v->len = n;
    v->p = calloc(n > 0 ? n : 1, sizeof(float));
    if (v->p == NULL)
        abort();
    fzh_fill(z, v->p, n * sizeof(float), H5T_NATIVE_FLOAT);
}

static void write_records(hid_t g, const char *name, hid_t type, const void *recs, size_t n,
                          size_t rec_size)
{
    (void)rec_size;
    hsize_t dims[1] = {n};
    hsize_t maxd[1] = {H5S_UNLIMITED};
    hsize_t chunk[1] = {1};
    hid_t space = H5Screate_simple(1, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    hid_t d = H5Dcreate2(g, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        if (n > 0)
            H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
}

static void acquisitions(struct fz *z, hid_t g)
{
    if (fz_rare(z)) {
        fzh_object(z, g, "data", FZH_REAL, 1, NULL, 0);
        return;
    }
    struct mr_ismrmrd_h5_acq recs[MAX_RECORDS];
    size_t n = (size_t)((fz_range(z, 0, MAX_RECORDS) + 1) % (MAX_RECORDS + 1)); /* 0 byte: 1 */
    memset(recs, 0, sizeof recs);
    for (size_t i = 0; i < n; i++) {
        ISMRMRD_AcquisitionHeader *h = &recs[i].head;
        if (fz_range(z, 0, 7) == 7) {
            fz_bytes(z, h, sizeof *h);
        } else {
            h->version = fz_range(z, 0, 7) == 7 ? fz_u16(z) : ISMRMRD_VERSION_MAJOR;
            h->flags = fz_bool(z) ? fz_u64(z) : 0;
            h->scan_counter = (uint32_t)i;
            h->number_of_samples = (uint16_t)count(z);
            h->available_channels = (uint16_t)count(z);
            h->active_channels = (uint16_t)count(z);
            h->channel_mask[0] = fz_u64(z);
            h->discard_pre = (uint16_t)(count(z) - 1);
            h->discard_post = (uint16_t)(count(z) - 1);
            h->center_sample = (uint16_t)(count(z) - 1);
            h->encoding_space_ref = (uint16_t)(count(z) - 1);
            h->trajectory_dimensions = (uint16_t)(count(z) - 1);
            h->idx.kspace_encode_step_1 = (uint16_t)(count(z) - 1);
            h->idx.kspace_encode_step_2 = (uint16_t)(count(z) - 1);
            h->idx.slice = (uint16_t)(count(z) - 1);
            h->idx.contrast = (uint16_t)(count(z) - 1);
            h->idx.repetition = (uint16_t)(count(z) - 1);
            h->sample_time_us = fz_float(z);
        }
        fill_floats(z, &recs[i].traj, (size_t)h->number_of_samples * h->trajectory_dimensions);
        fill_floats(z, &recs[i].data, 2 * (size_t)h->number_of_samples * h->active_channels);
    }
    hid_t t = mr_ismrmrd_h5_acq_type();
    write_records(g, "data", t, recs, n, sizeof recs[0]);
    H5Tclose(t);
    for (size_t i = 0; i < n; i++) {
        free(recs[i].traj.p);
        free(recs[i].data.p);
    }
}

static void waveforms(struct fz *z, hid_t g)
{
    int kind = (int)fz_range(z, 0, 3);
    if (kind == 0)
        return;
    if (kind == 1) {
        fzh_object(z, g, "waveforms", FZH_INT, 1, NULL, 0);
        return;
    }
    struct mr_ismrmrd_h5_wav recs[MAX_RECORDS];
    size_t n = (size_t)((fz_range(z, 0, MAX_RECORDS) + 1) % (MAX_RECORDS + 1)); /* 0 byte: 1 */
    memset(recs, 0, sizeof recs);
    for (size_t i = 0; i < n; i++) {
        ISMRMRD_WaveformHeader *h = &recs[i].head;
        h->version = ISMRMRD_VERSION_MAJOR;
        h->number_of_samples = (uint16_t)count(z);
        h->channels = (uint16_t)count(z);
        h->waveform_id = fz_u16(z);
        size_t want = (size_t)h->number_of_samples * h->channels;
        fill_floats(z, &recs[i].data, want); /* uint32 payload: same size as float */
    }
    hid_t t = mr_ismrmrd_h5_wav_type();
    write_records(g, "waveforms", t, recs, n, sizeof recs[0]);
    H5Tclose(t);
    for (size_t i = 0; i < n; i++)
        free(recs[i].data.p);
}

static void images(struct fz *z, hid_t g)
{
    if (fz_rare(z))
        return;
    hid_t ig = H5Gcreate2(g, "image_0", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ig < 0)
        return;
    ISMRMRD_ImageHeader hs[MAX_RECORDS];
    size_t n = (size_t)((fz_range(z, 0, MAX_RECORDS) + 1) % (MAX_RECORDS + 1)); /* 0 byte: 1 */
    memset(hs, 0, sizeof hs);
    uint16_t dtype = (uint16_t)fz_range(z, 0, 8);
    uint16_t mx = (uint16_t)count(z);
    uint16_t my = (uint16_t)count(z);
    uint16_t ch = (uint16_t)count(z);
    for (size_t i = 0; i < n; i++) {
        hs[i].version = ISMRMRD_VERSION_MAJOR;
        hs[i].data_type = !fz_rare(z) ? dtype : fz_u16(z);
        hs[i].matrix_size[0] = !fz_rare(z) ? mx : (uint16_t)count(z);
        hs[i].matrix_size[1] = my;
        hs[i].matrix_size[2] = (uint16_t)(!fz_rare(z) ? 1 : count(z));
        hs[i].channels = ch;
        hs[i].attribute_string_len = !fz_rare(z) ? 0 : count(z);
        hs[i].image_index = (uint16_t)i;
    }
    hid_t t = mr_ismrmrd_h5_image_header_type();
    if (fz_range(z, 0, 5) != 5)
        write_records(ig, "header", t, hs, n, sizeof hs[0]);
    else
        fzh_object(z, ig, "header", FZH_INT, 1, NULL, 0);
    H5Tclose(t);
    size_t alen;
    const uint8_t *a = fz_chunk(z, 64, &alen);
    fzh_object(z, ig, "attributes", FZH_STRING, 1, (const char *)a, alen);
    /* data: (N, channels, z, y, x) of the header's type, or a fuzzed shape and type */
    hid_t dt = mr_ismrmrd_h5_image_data_type(dtype);
    if (dt >= 0 && !fz_rare(z)) {
        hsize_t dims[5] = {n, ch, 1, my, mx};
        hsize_t total = (hsize_t)n * ch * my * mx;
        hid_t space = H5Screate_simple(5, dims, NULL);
        hid_t d = H5Dcreate2(ig, "data", dt, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        size_t bytes = (size_t)total * H5Tget_size(dt);
        if (d >= 0 && total > 0 && bytes <= ((size_t)1 << 20)) {
            void *buf = calloc(bytes, 1);
            if (buf == NULL)
                abort();
            fzh_fill(z, buf, bytes, dt);
            H5Dwrite(d, dt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            free(buf);
        }
        if (d >= 0)
            H5Dclose(d);
        H5Sclose(space);
    } else {
        fzh_object(z, ig, "data", FZH_COMPLEX, 5, NULL, 0);
    }
    if (dt >= 0)
        H5Tclose(dt);
    H5Gclose(ig);
}

static void write_file(struct fz *z, const char *path)
{
    char xml[4096];
    size_t xlen = fzh_xml_header(z, xml, sizeof xml);
    hid_t fid = fzh_create(path);
    int kind = (int)fz_range(z, 0, 7);
    if (kind == 6) {
        fzh_object(z, fid, "dataset", FZH_INT, 1, NULL, 0);
    } else if (kind != 7) {
        hid_t g = H5Gcreate2(fid, "dataset", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0)
            abort();
        fzh_object(z, g, "xml", FZH_STRING, 1, xml, xlen);
        acquisitions(z, g);
        waveforms(z, g);
        images(z, g);
        H5Gclose(g);
    }
    H5Fclose(fid);
}

static void read_file(const char *path)
{
    struct mr_ismrmrd_file *f = NULL;
    if (mr_ismrmrd_open(path, &f) != MR_OK)
        return;
    const char *xml;
    size_t len;
    struct mr_ismrmrd_header hdr;
    if (mr_ismrmrd_require_xml(f, &xml, &len) == MR_OK)
        (void)mr_ismrmrd_header_parse(xml, len, "fuzz", &hdr);
    ISMRMRD_Acquisition acq;
    ismrmrd_init_acquisition(&acq);
    for (uint32_t i = 0, n = mr_ismrmrd_acquisition_count(f); i <= n && i < 16; i++)
        (void)mr_ismrmrd_read_acquisition(f, i, &acq);
    ismrmrd_cleanup_acquisition(&acq);
    ISMRMRD_Waveform wav;
    ismrmrd_init_waveform(&wav);
    for (uint32_t i = 0, n = mr_ismrmrd_waveform_count(f); i <= n && i < 16; i++)
        (void)mr_ismrmrd_read_waveform(f, i, &wav);
    free(wav.data);
    ISMRMRD_Image im;
    ismrmrd_init_image(&im);
    for (uint32_t i = 0, n = mr_ismrmrd_image_count(f, "image_0"); i <= n && i < 16; i++)
        (void)mr_ismrmrd_read_image(f, "image_0", i, &im);
    ismrmrd_cleanup_image(&im);
    mr_ismrmrd_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    struct fz z;
    fz_init(&z, data, size);
    const char *path = fz_scratch_path("ismrmrd.h5");
    write_file(&z, path);
    read_file(path);
    return 0;
}
