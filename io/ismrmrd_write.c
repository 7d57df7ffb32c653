/*
 * Writing ISMRMRD files through HDF5 directly (layout in ismrmrd_hdf5.h, contract in
 * ismrmrd.h), into io/h5's atomic writer. Records are appended one at a time to chunked,
 * unlimited 1-D datasets exactly as ISMRMRD's append_element does (chunk = one record), so the
 * files read back with ISMRMRD's own API. The first failed HDF5 call breaks the writer: later
 * calls are refused and freeing it removes the temporary file, so a full disk ends in one
 * clear error and no half file.
 */
#include "io/ismrmrd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5_internal.h"
#include "io/ismrmrd_hdf5.h"

struct mr_ismrmrd_writer {
    struct mr_h5 *h5;
    hid_t xfer;   /* small conversion buffer (h5_internal.h) */
    bool broken;  /* an HDF5 write failed: nothing more is written */
    bool has_xml;
};

static mr_status writer_check(const struct mr_ismrmrd_writer *w)
{
    if (w->broken)
        return MR_FAIL(MR_ERR_ARG, "an earlier write to '%s' failed; nothing more is written",
                       mr_h5_path(w->h5));
    mr_h5i_quiet();
    return MR_OK;
}

/* Marks the writer broken and fails with HDF5's reason. */
#define WRITE_FAIL(w, ...) ((w)->broken = true, MR_H5_FAIL(MR_ERR_IO, __VA_ARGS__))

mr_status mr_ismrmrd_writer_create(const char *path, struct mr_ismrmrd_writer **out)
{
    mr_status st = MR_OK;
    struct mr_ismrmrd_writer *w = calloc(1, sizeof(*w));
    hid_t g = -1;

    *out = NULL;
    if (w == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "ISMRMRD writer for '%s'", path);
    w->xfer = mr_h5i_xfer(NULL);
    if (w->xfer < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD writer for '%s'", path);
        goto out;
    }
    MR_CHECK(mr_h5_create(path, &w->h5));
    g = H5Gcreate2(w->h5->file, "/dataset", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        st = MR_H5_FAIL(MR_ERR_IO, "cannot create /dataset in '%s'", mr_h5i_name(w->h5));
        goto out;
    }
    *out = w;
    w = NULL;
out:
    mr_h5i_close_id(g);
    mr_ismrmrd_writer_free(w);
    return st;
}

mr_status mr_ismrmrd_writer_header(struct mr_ismrmrd_writer *w, const char *xml)
{
    mr_status st = writer_check(w);
    const hsize_t one = 1;
    hid_t type = -1;
    hid_t space = -1;
    hid_t dset = -1;

    if (st != MR_OK)
        return st;
    if (w->has_xml)
        return MR_FAIL(MR_ERR_ARG, "'%s' already has its XML header", mr_h5_path(w->h5));
    type = mr_ismrmrd_h5_string_type();
    space = H5Screate_simple(1, &one, NULL);
    if (type >= 0 && space >= 0)
        dset = H5Dcreate2(w->h5->file, "/dataset/xml", type, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    if (dset < 0 || H5Dwrite(dset, type, H5S_ALL, H5S_ALL, w->xfer, &xml) < 0)
        st = WRITE_FAIL(w, "cannot write the XML header to '%s'", mr_h5i_name(w->h5));
    else
        w->has_xml = true;
    mr_h5i_close_id(dset);
    mr_h5i_close_id(space);
    mr_h5i_close_id(type);
    return st;
}

/* MR_OK unless the dataset `name` exists with entries of another shape than edims. */
static mr_status check_entry_shape(const struct mr_ismrmrd_writer *w, const char *name,
                                   int endim, const hsize_t *edims)
{
    mr_status st = MR_OK;
    hsize_t dims[6] = { 0 };

    if (!mr_h5i_exists(w->h5->file, name))
        return MR_OK;
    hid_t dset = H5Dopen2(w->h5->file, name, H5P_DEFAULT);
    hid_t space = dset >= 0 ? H5Dget_space(dset) : -1;
    if (space < 0 || H5Sget_simple_extent_ndims(space) != endim + 1 ||
        H5Sget_simple_extent_dims(space, dims, NULL) != endim + 1) {
        st = MR_H5_FAIL(MR_ERR_FORMAT, "'%s': %s is not a dataset of rank %d",
                        mr_h5_path(w->h5), name, endim + 1);
        goto out;
    }
    for (int d = 0; d < endim; d++)
        if (dims[d + 1] != edims[d]) {
            st = MR_FAIL(MR_ERR_FORMAT, "'%s': %s holds entries of another shape (axis %d is "
                         "%llu, this one %llu); ISMRMRD needs one shape per dataset",
                         mr_h5_path(w->h5), name, d + 1, (unsigned long long)dims[d + 1],
                         (unsigned long long)edims[d]);
            goto out;
        }
out:
    mr_h5i_close_id(space);
    mr_h5i_close_id(dset);
    return st;
}

/* Appends one element of type `type` and shape edims[0..endim) to the dataset `name`, created
 * chunked and unlimited along its first axis on first use (ISMRMRD's append_element). */
static mr_status append(struct mr_ismrmrd_writer *w, const char *name, hid_t type, int endim,
                        const hsize_t *edims, const void *elem)
{
    mr_status st = MR_OK;
    hsize_t dims[6] = { 0 };
    hsize_t maxd[6];
    hsize_t start[6] = { 0 };
    hsize_t count[6];
    hid_t dset = -1;
    hid_t fspace = -1;
    hid_t mspace = -1;
    hid_t dcpl = -1;
    hid_t lcpl = -1;
    const int rank = endim + 1;

    count[0] = 1;
    maxd[0] = H5S_UNLIMITED;
    for (int d = 0; d < endim; d++)
        count[d + 1] = maxd[d + 1] = edims[d];
    MR_CHECK(check_entry_shape(w, name, endim, edims));
    if (mr_h5i_exists(w->h5->file, name)) {
        dset = H5Dopen2(w->h5->file, name, H5P_DEFAULT);
        fspace = dset >= 0 ? H5Dget_space(dset) : -1;
        if (fspace < 0 || H5Sget_simple_extent_dims(fspace, dims, NULL) != rank) {
            st = WRITE_FAIL(w, "'%s': cannot append to %s", mr_h5i_name(w->h5), name);
            goto out;
        }
        mr_h5i_close_id(fspace);
        fspace = -1;
        dims[0]++;
        if (H5Dset_extent(dset, dims) < 0) {
            st = WRITE_FAIL(w, "'%s': cannot extend %s", mr_h5i_name(w->h5), name);
            goto out;
        }
    } else {
        dims[0] = 1;
        for (int d = 1; d < rank; d++)
            dims[d] = count[d];
        fspace = H5Screate_simple(rank, dims, maxd);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        lcpl = H5Pcreate(H5P_LINK_CREATE);
        if (fspace >= 0 && dcpl >= 0 && lcpl >= 0 && H5Pset_chunk(dcpl, rank, count) >= 0 &&
            H5Pset_create_intermediate_group(lcpl, 1) >= 0)
            dset = H5Dcreate2(w->h5->file, name, type, fspace, lcpl, dcpl, H5P_DEFAULT);
        mr_h5i_close_id(fspace);
        fspace = -1;
        if (dset < 0) {
            st = WRITE_FAIL(w, "'%s': cannot create %s", mr_h5i_name(w->h5), name);
            goto out;
        }
    }
    start[0] = dims[0] - 1;
    fspace = H5Dget_space(dset);
    mspace = H5Screate_simple(rank, count, NULL);
    if (fspace < 0 || mspace < 0 ||
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dwrite(dset, type, mspace, fspace, w->xfer, elem) < 0) {
        st = WRITE_FAIL(w, "cannot append to %s in '%s'", name, mr_h5i_name(w->h5));
        goto out;
    }
out:
    mr_h5i_close_id(lcpl);
    mr_h5i_close_id(dcpl);
    mr_h5i_close_id(mspace);
    mr_h5i_close_id(fspace);
    mr_h5i_close_id(dset);
    return st;
}

/* Appends one record to the 1-D dataset `name`; takes `type` (closes it; negative: failed). */
static mr_status append_record(struct mr_ismrmrd_writer *w, const char *name, hid_t type,
                               const void *rec)
{
    mr_status st = type >= 0 ? append(w, name, type, 0, NULL, rec)
                             : MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD record type for %s", name);
    mr_h5i_close_id(type);
    return st;
}

mr_status mr_ismrmrd_writer_acquisition(struct mr_ismrmrd_writer *w,
                                        const ISMRMRD_Acquisition *acq)
{
    mr_status st = writer_check(w);
    char what[1200];

    if (st != MR_OK)
        return st;
    snprintf(what, sizeof(what), "acquisition for '%s'", mr_h5_path(w->h5));
    st = mr_ismrmrd_check_acquisition_header(&acq->head, what);
    if (st != MR_OK)
        return st;
    const size_t ns = acq->head.number_of_samples;
    const struct mr_ismrmrd_h5_acq rec = {
        .head = acq->head,
        .traj = { ns * acq->head.trajectory_dimensions, acq->traj },
        .data = { 2 * ns * acq->head.active_channels, acq->data },
    };
    return append_record(w, "/dataset/data", mr_ismrmrd_h5_acq_type(), &rec);
}

mr_status mr_ismrmrd_writer_waveform(struct mr_ismrmrd_writer *w, const ISMRMRD_Waveform *wav)
{
    mr_status st = writer_check(w);
    char what[1200];

    if (st != MR_OK)
        return st;
    snprintf(what, sizeof(what), "waveform for '%s'", mr_h5_path(w->h5));
    st = mr_ismrmrd_check_waveform_header(&wav->head, what);
    if (st != MR_OK)
        return st;
    const struct mr_ismrmrd_h5_wav rec = {
        .head = wav->head,
        .data = { (size_t)wav->head.channels * wav->head.number_of_samples, wav->data },
    };
    return append_record(w, "/dataset/waveforms", mr_ismrmrd_h5_wav_type(), &rec);
}

mr_status mr_ismrmrd_writer_image(struct mr_ismrmrd_writer *w, const char *group,
                                  const ISMRMRD_Image *im)
{
    mr_status st = writer_check(w);
    hid_t htype = -1;
    hid_t stype = -1;
    hid_t dtype = -1;
    char *attr = NULL;
    char name[1100];
    char what[1200];

    if (st != MR_OK)
        return st;
    snprintf(what, sizeof(what), "image for '%s' /dataset/%s", mr_h5_path(w->h5), group);
    MR_CHECK(mr_ismrmrd_check_image_header(&im->head, what, NULL));
    /* ISMRMRD stores the attributes as a C string while the header counts bytes and the
     * buffer need not be terminated: write a terminated copy */
    const size_t alen = im->head.attribute_string_len;
    attr = malloc(alen + 1);
    if (attr == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "%s: attributes", what);
        goto out;
    }
    if (alen > 0)
        memcpy(attr, im->attribute_string, alen);
    attr[alen] = '\0';
    htype = mr_ismrmrd_h5_image_header_type();
    stype = mr_ismrmrd_h5_string_type();
    dtype = mr_ismrmrd_h5_image_data_type(im->head.data_type);
    if (htype < 0 || stype < 0 || dtype < 0) {
        st = MR_H5_FAIL(MR_ERR_NOMEM, "ISMRMRD image types");
        goto out;
    }
    const uint16_t *ms = im->head.matrix_size;
    const hsize_t ddims[4] = { im->head.channels, ms[2], ms[1], ms[0] };
    /* all three parts grow together: refuse a misfit before the first one is appended */
    snprintf(name, sizeof(name), "/dataset/%s/data", group);
    MR_CHECK(check_entry_shape(w, name, 4, ddims));
    snprintf(name, sizeof(name), "/dataset/%s/header", group);
    MR_CHECK(append(w, name, htype, 0, NULL, &im->head));
    snprintf(name, sizeof(name), "/dataset/%s/attributes", group);
    MR_CHECK(append(w, name, stype, 0, NULL, &attr));
    snprintf(name, sizeof(name), "/dataset/%s/data", group);
    MR_CHECK(append(w, name, dtype, 4, ddims, im->data));
out:
    free(attr);
    mr_h5i_close_id(dtype);
    mr_h5i_close_id(stype);
    mr_h5i_close_id(htype);
    return st;
}

mr_status mr_ismrmrd_writer_commit(struct mr_ismrmrd_writer *w)
{
    mr_status st = MR_OK;

    if (w == NULL)
        return MR_FAIL(MR_ERR_ARG, "no ISMRMRD writer to commit");
    st = writer_check(w);
    if (st == MR_OK) {
        st = mr_h5_commit(w->h5);
        w->h5 = NULL; /* commit released it */
    }
    mr_ismrmrd_writer_free(w);
    return st;
}

void mr_ismrmrd_writer_free(struct mr_ismrmrd_writer *w)
{
    if (w == NULL)
        return;
    mr_h5_close(w->h5); /* an uncommitted file: its temporary file is removed */
    mr_h5i_close_id(w->xfer);
    free(w);
}
