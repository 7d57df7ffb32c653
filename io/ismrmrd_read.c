/*
 * Reading ISMRMRD files through HDF5 directly (layout in ismrmrd_hdf5.h, contract in
 * ismrmrd.h). A record is read header first; its sizes are checked against the limits, the
 * memory limit and then the sizes actually stored before its payload is handed out, and the
 * variable-length payload is read with an allocator capped at what the header declares, so a
 * damaged length never makes HDF5 allocate or copy more than announced.
 */
#include "io/ismrmrd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5_internal.h"
#include "io/ismrmrd_hdf5.h"

struct mr_ismrmrd_file {
    struct mr_h5 *h5;
    char *xml;
    size_t xml_len;
    hid_t acq;  /* /dataset/data, or -1 */
    hid_t wav;  /* /dataset/waveforms, or -1 */
    hid_t xfer; /* small conversion buffer (h5_internal.h) */
    uint32_t nacq;
    uint32_t nwav;
};

#define ACQ_LAYOUT "ISMRMRD acquisitions (a 1-D dataset of compound {head: AcquisitionHeader, " \
                   "traj: vlen float, data: vlen float})"
#define WAV_LAYOUT "ISMRMRD waveforms (a 1-D dataset of compound {head: WaveformHeader, data: " \
                   "vlen uint32})"

/* The kind of object at name: H5I_DATASET, H5I_GROUP, ... or H5I_BADID when absent. */
static H5I_type_t object_kind(const struct mr_h5 *h, const char *name)
{
    if (!mr_h5i_exists(h->file, name))
        return H5I_BADID;
    hid_t o = H5Oopen(h->file, name, H5P_DEFAULT);
    H5I_type_t t = o >= 0 ? H5Iget_type(o) : H5I_BADID;
    if (o >= 0)
        H5Oclose(o);
    H5Eclear2(H5E_DEFAULT);
    return t;
}

/* Opens the dataset `name` and checks it against `want`: compounds member by member
 * (mr_ismrmrd_h5_check_type), other types by class and size (variable-length for strings);
 * *ndim and dims receive its shape. An absent object is *out = -1 and MR_OK when `optional`.
 * `layout` says what was expected in messages. On failure nothing is left open. */
static mr_status open_checked(const struct mr_h5 *h, const char *name, hid_t want,
                              const char *layout, bool optional, hid_t *out, int *ndim,
                              int64_t dims[MR_MAX_DIMS])
{
    mr_status st = MR_OK;
    hid_t type = -1;
    hid_t space = -1;
    char what[1200];

    *out = -1;
    snprintf(what, sizeof(what), "'%s': %s", h->path, name);
    H5I_type_t kind = object_kind(h, name);
    if (kind == H5I_BADID && optional)
        return MR_OK;
    if (kind != H5I_DATASET && kind != H5I_BADID)
        return MR_FAIL(MR_ERR_FORMAT, "%s is a %s, expected %s", what,
                       kind == H5I_GROUP ? "group" : "named type", layout);
    MR_CHECK(mr_h5i_open_dataset(h, name, out));
    type = H5Dget_type(*out);
    space = H5Dget_space(*out);
    if (type < 0 || space < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "%s: cannot read its type", what);
        goto out;
    }
    H5T_class_t have = H5Tget_class(type);
    H5T_class_t need = H5Tget_class(want);
    if (need == H5T_COMPOUND && have == H5T_COMPOUND) {
        MR_CHECK(mr_ismrmrd_h5_check_type(type, want, what, layout));
    } else if (have != need || (need != H5T_STRING && H5Tget_size(type) != H5Tget_size(want)) ||
               (need == H5T_STRING && H5Tis_variable_str(type) <= 0)) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s is %s of %zu bytes, expected %s", what,
                     mr_h5i_kind_name(mr_h5i_classify(type)), H5Tget_size(type), layout);
        goto out;
    }
    MR_CHECK(mr_h5i_space_dims(h, name, space, ndim, dims));
out:
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    if (st != MR_OK) {
        mr_h5i_close_id(*out);
        *out = -1;
    }
    return st;
}

/* Opens a 1-D dataset of records of type `want` (if present) and counts them. */
static mr_status open_records(const struct mr_h5 *h, const char *name, hid_t want,
                              const char *layout, hid_t *out, uint32_t *count)
{
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    char buf[160];

    *count = 0;
    mr_status st = open_checked(h, name, want, layout, true, out, &ndim, dims);
    if (st != MR_OK || *out < 0)
        return st;
    if (ndim != 1 || dims[0] > (int64_t)UINT32_MAX) {
        mr_h5i_close_id(*out);
        *out = -1;
        return MR_FAIL(MR_ERR_FORMAT, "'%s': %s has shape %s, expected %s with at most "
                       "2^32 - 1 records", h->path, name,
                       mr_dims_str(ndim, dims, buf, sizeof(buf)), layout);
    }
    *count = (uint32_t)dims[0];
    return MR_OK;
}

mr_status mr_ismrmrd_open(const char *path, struct mr_ismrmrd_file **out)
{
    mr_status st = MR_OK;
    struct mr_ismrmrd_file *f = calloc(1, sizeof(*f));
    hid_t acq_type = -1;
    hid_t wav_type = -1;

    *out = NULL;
    if (f == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "ISMRMRD reader for '%s'", path);
    f->acq = -1;
    f->wav = -1;
    f->xfer = mr_h5i_xfer(NULL);
    if (f->xfer < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD reader for '%s'", path);
        goto out;
    }
    MR_CHECK(mr_h5_open(path, &f->h5));
    H5I_type_t kind = object_kind(f->h5, "/dataset");
    if (kind == H5I_BADID) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not an ISMRMRD file (an HDF5 file without a "
                     "/dataset group)", path);
        goto out;
    }
    if (kind != H5I_GROUP) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': /dataset is not a group (not an ISMRMRD file)",
                     path);
        goto out;
    }
    if (mr_h5_exists(f->h5, "/dataset/xml"))
        MR_CHECK(mr_h5_read_string_dataset(f->h5, "/dataset/xml", &f->xml, &f->xml_len));
    else if ((f->xml = mr_h5i_dup_str("")) == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "ISMRMRD reader for '%s'", path);
        goto out;
    }
    acq_type = mr_ismrmrd_h5_acq_type();
    wav_type = mr_ismrmrd_h5_wav_type();
    if (acq_type < 0 || wav_type < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD record types");
        goto out;
    }
    MR_CHECK(open_records(f->h5, "/dataset/data", acq_type, ACQ_LAYOUT, &f->acq, &f->nacq));
    MR_CHECK(open_records(f->h5, "/dataset/waveforms", wav_type, WAV_LAYOUT, &f->wav,
                          &f->nwav));
    *out = f;
    f = NULL;
out:
    mr_h5i_close_id(wav_type);
    mr_h5i_close_id(acq_type);
    mr_ismrmrd_close(f);
    return st;
}

void mr_ismrmrd_close(struct mr_ismrmrd_file *f)
{
    if (f == NULL)
        return;
    mr_h5i_close_id(f->acq);
    mr_h5i_close_id(f->wav);
    mr_h5i_close_id(f->xfer);
    mr_h5_close(f->h5);
    free(f->xml);
    free(f);
}

const char *mr_ismrmrd_path(const struct mr_ismrmrd_file *f)
{
    return mr_h5_path(f->h5);
}

const char *mr_ismrmrd_xml(const struct mr_ismrmrd_file *f, size_t *len)
{
    if (len != NULL)
        *len = f->xml_len;
    return f->xml;
}

mr_status mr_ismrmrd_require_xml(const struct mr_ismrmrd_file *f, const char **xml, size_t *len)
{
    if (f->xml_len == 0)
        return MR_FAIL(MR_ERR_FORMAT, "'%s' has no XML header (/dataset/xml); ISMRMRD raw data "
                       "needs one", mr_ismrmrd_path(f));
    *xml = f->xml;
    if (len != NULL)
        *len = f->xml_len;
    return MR_OK;
}

uint32_t mr_ismrmrd_acquisition_count(const struct mr_ismrmrd_file *f)
{
    return f->nacq;
}

uint32_t mr_ismrmrd_waveform_count(const struct mr_ismrmrd_file *f)
{
    return f->nwav;
}

/* Reads record i of a 1-D dataset with memory type mtype into buf (through dxpl). */
static herr_t read_record(hid_t dset, hsize_t i, hid_t mtype, hid_t dxpl, void *buf)
{
    const hsize_t one = 1;
    hid_t fspace = H5Dget_space(dset);
    hid_t mspace = H5Screate_simple(1, &one, NULL);
    herr_t rc = -1;
    if (fspace >= 0 && mspace >= 0 &&
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &i, NULL, &one, NULL) >= 0)
        rc = H5Dread(dset, mtype, mspace, fspace, dxpl, buf);
    mr_h5i_close_id(mspace);
    mr_h5i_close_id(fspace);
    return rc;
}

/* Reads one variable-length member of record i (type from mr_ismrmrd_h5_vlen_member_type, or
 * a vlen string) into buf with allocations capped at cap bytes: a length beyond what the
 * header declares fails the read and allocates nothing. */
static mr_status read_vlen(hid_t dset, uint32_t i, hid_t vtype, size_t cap, void *buf,
                           const char *what, const char *part)
{
    hid_t dxpl = mr_h5i_xfer(&cap);
    herr_t rc = dxpl >= 0 ? read_record(dset, i, vtype, dxpl, buf) : -1;
    mr_h5i_close_id(dxpl);
    if (rc < 0)
        return MR_H5_FAIL(MR_ERR_FORMAT, "%s: cannot read its %s, or it stores more than the "
                          "%zu bytes its header declares", what, part, cap);
    return MR_OK;
}

mr_status mr_ismrmrd_read_acquisition(struct mr_ismrmrd_file *f, uint32_t i,
                                      ISMRMRD_Acquisition *acq)
{
    mr_status st = MR_OK;
    ISMRMRD_AcquisitionHeader head;
    hvl_t traj = { 0, NULL };
    hvl_t data = { 0, NULL };
    hid_t htype = -1;
    hid_t ttype = -1;
    hid_t dtype = -1;
    char what[1200];

    mr_h5i_quiet();
    if (i >= f->nacq)
        return MR_FAIL(MR_ERR_ARG, "acquisition %u of '%s' is out of range (%u stored)", i,
                       mr_ismrmrd_path(f), f->nacq);
    snprintf(what, sizeof(what), "'%s' acquisition %u", mr_ismrmrd_path(f), i);
    htype = mr_ismrmrd_h5_acq_head_only_type();
    ttype = mr_ismrmrd_h5_vlen_member_type("traj", H5T_NATIVE_FLOAT);
    dtype = mr_ismrmrd_h5_vlen_member_type("data", H5T_NATIVE_FLOAT);
    if (htype < 0 || ttype < 0 || dtype < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD acquisition types");
        goto out;
    }
    if (read_record(f->acq, i, htype, f->xfer, &head) < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "%s: cannot read its header", what);
        goto out;
    }
    MR_CHECK(mr_ismrmrd_check_acquisition_header(&head, what));
    const size_t ntraj = (size_t)head.number_of_samples * head.trajectory_dimensions;
    const size_t ndata = 2 * (size_t)head.number_of_samples * head.active_channels;
    MR_CHECK(read_vlen(f->acq, i, ttype, ntraj * sizeof(float), &traj, what, "trajectory"));
    MR_CHECK(read_vlen(f->acq, i, dtype, ndata * sizeof(float), &data, what, "samples"));
    if (traj.len != ntraj || data.len != ndata) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s (scan_counter %u): its header declares %u samples x %u "
                     "channels (%zu floats) and %u trajectory dimensions (%zu floats); the "
                     "file stores %zu and %zu", what, head.scan_counter,
                     head.number_of_samples, head.active_channels, ndata,
                     head.trajectory_dimensions, ntraj, data.len, traj.len);
        goto out;
    }
    /* hand the buffers over (malloc'd by the capped allocator, as ISMRMRD frees them) */
    free(acq->traj);
    free(acq->data);
    acq->head = head;
    acq->traj = traj.p;
    acq->data = data.p;
    traj.p = NULL;
    data.p = NULL;
    MR_CHECK(mr_ismrmrd_check_acquisition_data(acq, what));
out:
    free(traj.p);
    free(data.p);
    mr_h5i_close_id(dtype);
    mr_h5i_close_id(ttype);
    mr_h5i_close_id(htype);
    return st;
}

mr_status mr_ismrmrd_read_waveform(struct mr_ismrmrd_file *f, uint32_t i, ISMRMRD_Waveform *wav)
{
    mr_status st = MR_OK;
    ISMRMRD_WaveformHeader head;
    hvl_t p = { 0, NULL };
    hid_t htype = -1;
    hid_t ptype = -1;
    char what[1200];

    mr_h5i_quiet();
    if (i >= f->nwav)
        return MR_FAIL(MR_ERR_ARG, "waveform %u of '%s' is out of range (%u stored)", i,
                       mr_ismrmrd_path(f), f->nwav);
    snprintf(what, sizeof(what), "'%s' waveform %u", mr_ismrmrd_path(f), i);
    htype = mr_ismrmrd_h5_wav_head_only_type();
    ptype = mr_ismrmrd_h5_vlen_member_type("data", H5T_NATIVE_UINT32);
    if (htype < 0 || ptype < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD waveform types");
        goto out;
    }
    if (read_record(f->wav, i, htype, f->xfer, &head) < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "%s: cannot read its header", what);
        goto out;
    }
    MR_CHECK(mr_ismrmrd_check_waveform_header(&head, what));
    const size_t n = (size_t)head.channels * head.number_of_samples;
    MR_CHECK(read_vlen(f->wav, i, ptype, n * sizeof(uint32_t), &p, what, "samples"));
    if (p.len != n) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: its header declares %u channels x %u samples (%zu "
                     "values); the file stores %zu", what, head.channels,
                     head.number_of_samples, n, p.len);
        goto out;
    }
    free(wav->data);
    wav->head = head;
    wav->data = p.p;
    p.p = NULL;
out:
    free(p.p);
    mr_h5i_close_id(ptype);
    mr_h5i_close_id(htype);
    return st;
}

/* ---- images ------------------------------------------------------------------------------- */

static void image_path(char *buf, size_t len, const char *group, const char *part)
{
    snprintf(buf, len, "/dataset/%s/%s", group, part);
}

uint32_t mr_ismrmrd_image_count(const struct mr_ismrmrd_file *f, const char *group)
{
    char name[1100];
    hid_t dset = -1;
    hid_t space = -1;
    hsize_t n = 0;

    mr_h5i_quiet();
    image_path(name, sizeof(name), group, "header");
    if (object_kind(f->h5, name) != H5I_DATASET)
        return 0;
    dset = H5Dopen2(f->h5->file, name, H5P_DEFAULT);
    space = dset >= 0 ? H5Dget_space(dset) : -1;
    if (space < 0 || H5Sget_simple_extent_ndims(space) != 1 ||
        H5Sget_simple_extent_dims(space, &n, NULL) != 1 || n > UINT32_MAX)
        n = 0;
    mr_h5i_close_id(space);
    mr_h5i_close_id(dset);
    H5Eclear2(H5E_DEFAULT);
    return (uint32_t)n;
}

/* Opens /dataset/<group>/<part>, a dataset of rank `rank` whose type matches `want` and whose
 * first axis holds entry i; *dims receives its shape. */
static mr_status open_image_part(const struct mr_ismrmrd_file *f, const char *group,
                                 const char *part, int rank, hid_t want, uint32_t i,
                                 hid_t *out, int64_t dims[MR_MAX_DIMS])
{
    char name[1100];
    char buf[160];
    int ndim = 0;

    image_path(name, sizeof(name), group, part);
    mr_status st = open_checked(f->h5, name, want, "the type its image header declares", false,
                                out, &ndim, dims);
    if (st != MR_OK)
        return st;
    if (ndim != rank || dims[0] <= (int64_t)i) {
        mr_h5i_close_id(*out);
        *out = -1;
        return MR_FAIL(MR_ERR_FORMAT, "'%s': %s has shape %s; expected rank %d with an entry %u",
                       mr_ismrmrd_path(f), name, mr_dims_str(ndim, dims, buf, sizeof(buf)),
                       rank, i);
    }
    return MR_OK;
}

mr_status mr_ismrmrd_read_image(struct mr_ismrmrd_file *f, const char *group, uint32_t i,
                                ISMRMRD_Image *im)
{
    mr_status st = MR_OK;
    hid_t htype = mr_ismrmrd_h5_image_header_type();
    hid_t stype = mr_ismrmrd_h5_string_type();
    hid_t dtype = -1;
    hid_t hdset = -1;
    hid_t adset = -1;
    hid_t ddset = -1;
    ISMRMRD_ImageHeader head;
    char *attr = NULL;
    size_t data_bytes = 0;
    int64_t dims[MR_MAX_DIMS];
    char what[1200];

    mr_h5i_quiet();
    uint32_t n = mr_ismrmrd_image_count(f, group);
    if (i >= n) {
        st = MR_FAIL(MR_ERR_ARG, "image %u of '%s' /dataset/%s is out of range (%u stored)", i,
                     mr_ismrmrd_path(f), group, n);
        goto out;
    }
    snprintf(what, sizeof(what), "'%s' /dataset/%s image %u", mr_ismrmrd_path(f), group, i);
    if (htype < 0 || stype < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD image types");
        goto out;
    }
    MR_CHECK(open_image_part(f, group, "header", 1, htype, i, &hdset, dims));
    if (read_record(hdset, i, htype, f->xfer, &head) < 0) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "%s: cannot read its header", what);
        goto out;
    }
    MR_CHECK(mr_ismrmrd_check_image_header(&head, what, &data_bytes));
    dtype = mr_ismrmrd_h5_image_data_type(head.data_type);
    MR_CHECK(open_image_part(f, group, "data", 5, dtype, i, &ddset, dims));
    const uint16_t *ms = head.matrix_size;
    if (dims[1] != head.channels || dims[2] != ms[2] || dims[3] != ms[1] || dims[4] != ms[0]) {
        char buf[160];
        st = MR_FAIL(MR_ERR_FORMAT, "%s: its header declares %u channels of %u x %u x %u; "
                     "/dataset/%s/data holds %s", what, head.channels, ms[0], ms[1], ms[2],
                     group, mr_dims_str(5, dims, buf, sizeof(buf)));
        goto out;
    }
    MR_CHECK(open_image_part(f, group, "attributes", 1, stype, i, &adset, dims));
    size_t cap = (size_t)head.attribute_string_len + 1;
    MR_CHECK(read_vlen(adset, i, stype, cap, &attr, what, "attributes"));
    size_t alen = attr != NULL ? strlen(attr) : 0;
    if (alen != head.attribute_string_len) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: its header declares %u bytes of attributes; the file "
                     "stores %zu", what, head.attribute_string_len, alen);
        goto out;
    }
    im->head = head;
    if (ismrmrd_make_consistent_image(im) != ISMRMRD_NOERROR) {
        st = MR_FAIL(MR_ERR_NOMEM, "%s: %zu bytes of image data", what, data_bytes);
        goto out;
    }
    if (alen > 0)
        memcpy(im->attribute_string, attr, alen);
    /* the data entry: (1, channels, z, y, x) of the data_type, straight into im->data */
    hsize_t start[5] = { i, 0, 0, 0, 0 };
    hsize_t count[5] = { 1, head.channels, ms[2], ms[1], ms[0] };
    hid_t fspace = H5Dget_space(ddset);
    hid_t mspace = H5Screate_simple(5, count, NULL);
    herr_t rc = -1;
    if (fspace >= 0 && mspace >= 0 &&
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0)
        rc = H5Dread(ddset, dtype, mspace, fspace, f->xfer, im->data);
    mr_h5i_close_id(mspace);
    mr_h5i_close_id(fspace);
    if (rc < 0)
        st = MR_H5_FAIL(MR_ERR_FORMAT, "%s: cannot read its data", what);
out:
    free(attr);
    mr_h5i_close_id(adset);
    mr_h5i_close_id(ddset);
    mr_h5i_close_id(hdset);
    mr_h5i_close_id(dtype);
    mr_h5i_close_id(stype);
    mr_h5i_close_id(htype);
    return st;
}
