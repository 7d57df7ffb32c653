/*
 * io/ismrmrd: files written by the ISMRMRD library read here and files written here read by
 * the library (the same HDF5 layout), and the #15 findings on crafted files: headers claiming
 * more samples, channels or trajectory than stored (read before any check, over-read / memcpy
 * from NULL), /dataset/data as a group or of the wrong type (a crash even in `info`), the
 * misleading messages (truncated file, missing XML header, Inf reported as NaN), centre and
 * discards outside the readout (an all-zero image), and a full disk under the image writer
 * (a segfault after "cannot append an image").
 */
#include "io_test.h"
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/ismrmrd.h"
#include "io/ismrmrd_hdf5.h"

static const char xml[] =
    "<?xml version=\"1.0\"?><ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
    "<encodedSpace><matrixSize><x>16</x><y>4</y><z>1</z></matrixSize></encodedSpace>"
    "</encoding></ismrmrdHeader>";

enum { NS = 16, NC = 2, TD = 2, NACQ = 7 };

/* Acquisition i: NS samples x NC channels x TD trajectory dims, values from i. */
static void make_acq(ISMRMRD_Acquisition *a, uint32_t i)
{
    ismrmrd_init_acquisition(a);
    a->head.number_of_samples = NS;
    a->head.active_channels = NC;
    a->head.available_channels = NC;
    a->head.trajectory_dimensions = TD;
    a->head.center_sample = NS / 2;
    a->head.scan_counter = 100 + i;
    a->head.idx.kspace_encode_step_1 = (uint16_t)i;
    a->head.user_float[7] = 0.5f * (float)i;
    a->head.channel_mask[15] = 0x8000000000000001ull;
    assert_int_equal(ismrmrd_make_consistent_acquisition(a), ISMRMRD_NOERROR);
    for (int k = 0; k < NS * NC; k++)
        a->data[k] = (float)(i * 1000 + (uint32_t)k) + 0.25f * I;
    for (int k = 0; k < NS * TD; k++)
        a->traj[k] = (float)k - 0.5f * (float)i;
}

static void make_image(ISMRMRD_Image *im, uint16_t index, const char *attr)
{
    ismrmrd_init_image(im);
    im->head.data_type = ISMRMRD_CXFLOAT;
    im->head.matrix_size[0] = 5;
    im->head.matrix_size[1] = 3;
    im->head.matrix_size[2] = 1;
    im->head.channels = 2;
    im->head.image_index = index;
    im->head.field_of_view[1] = 220.0f;
    im->head.attribute_string_len = (uint32_t)strlen(attr);
    assert_int_equal(ismrmrd_make_consistent_image(im), ISMRMRD_NOERROR);
    if (strlen(attr) > 0) /* no buffer for an empty text */
        memcpy(im->attribute_string, attr, strlen(attr));
    complex_float_t *d = im->data;
    for (int k = 0; k < 5 * 3 * 2; k++)
        d[k] = (float)(k + index) - 1.0f * I;
}

static void make_waveform(ISMRMRD_Waveform *w, uint16_t id)
{
    ismrmrd_init_waveform(w);
    w->head.channels = 2;
    w->head.number_of_samples = 6;
    w->head.waveform_id = id;
    assert_int_equal(ismrmrd_make_consistent_waveform(w), ISMRMRD_NOERROR);
    for (int k = 0; k < 12; k++)
        w->data[k] = (uint32_t)(k * 3 + id);
}

static void assert_acq_equal(const ISMRMRD_Acquisition *a, const ISMRMRD_Acquisition *b)
{
    assert_memory_equal(&a->head, &b->head, sizeof(a->head));
    assert_memory_equal(a->data, b->data, NS * NC * sizeof(complex_float_t));
    assert_memory_equal(a->traj, b->traj, NS * TD * sizeof(float));
}

/* ---- compatibility with the ISMRMRD library, both ways ----------------------------------- */

static void test_ismrmrd_reads_library_files(void **state)
{
    char path[1024];
    ISMRMRD_Dataset d;
    ISMRMRD_Acquisition a;
    ISMRMRD_Acquisition b;
    ISMRMRD_Image im;
    ISMRMRD_Image back;
    ISMRMRD_Waveform w;
    ISMRMRD_Waveform wb;
    struct mr_ismrmrd_file *f = NULL;
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("library.h5"));
    io_test_clean(path);
    assert_int_equal(ismrmrd_init_dataset(&d, path, "/dataset"), ISMRMRD_NOERROR);
    assert_int_equal(ismrmrd_open_dataset(&d, true), ISMRMRD_NOERROR);
    assert_int_equal(ismrmrd_write_header(&d, xml), ISMRMRD_NOERROR);
    for (uint32_t i = 0; i < NACQ; i++) {
        make_acq(&a, i);
        assert_int_equal(ismrmrd_append_acquisition(&d, &a), ISMRMRD_NOERROR);
        ismrmrd_cleanup_acquisition(&a);
    }
    make_waveform(&w, 3);
    assert_int_equal(ismrmrd_append_waveform(&d, &w), ISMRMRD_NOERROR);
    free(w.data);
    for (uint16_t k = 0; k < 2; k++) {
        make_image(&im, k, k == 0 ? "<meta/>" : "<ismrmrdMeta>x</ismrmrdMeta>");
        assert_int_equal(ismrmrd_append_image(&d, "image_0", &im), ISMRMRD_NOERROR);
        ismrmrd_cleanup_image(&im);
    }
    assert_int_equal(ismrmrd_close_dataset(&d), ISMRMRD_NOERROR);

    assert_int_equal(mr_ismrmrd_open(path, &f), MR_OK);
    size_t len = 0;
    const char *x = NULL;
    assert_int_equal(mr_ismrmrd_require_xml(f, &x, &len), MR_OK);
    assert_string_equal(x, xml);
    assert_int_equal(len, strlen(xml));
    assert_int_equal(mr_ismrmrd_acquisition_count(f), NACQ);
    assert_int_equal(mr_ismrmrd_waveform_count(f), 1);
    assert_int_equal(mr_ismrmrd_image_count(f, "image_0"), 2);
    assert_int_equal(mr_ismrmrd_image_count(f, "image_9"), 0);
    ismrmrd_init_acquisition(&b);
    for (uint32_t i = 0; i < NACQ; i++) {
        make_acq(&a, i);
        assert_int_equal(mr_ismrmrd_read_acquisition(f, i, &b), MR_OK);
        assert_acq_equal(&a, &b);
        ismrmrd_cleanup_acquisition(&a);
    }
    assert_int_equal(mr_ismrmrd_read_acquisition(f, NACQ, &b), MR_ERR_ARG);
    ismrmrd_cleanup_acquisition(&b);
    ismrmrd_init_waveform(&wb);
    make_waveform(&w, 3);
    assert_int_equal(mr_ismrmrd_read_waveform(f, 0, &wb), MR_OK);
    assert_memory_equal(&w.head, &wb.head, sizeof(w.head));
    assert_memory_equal(w.data, wb.data, 12 * sizeof(uint32_t));
    free(w.data);
    free(wb.data);
    ismrmrd_init_image(&back);
    for (uint16_t k = 0; k < 2; k++) {
        make_image(&im, k, k == 0 ? "<meta/>" : "<ismrmrdMeta>x</ismrmrdMeta>");
        assert_int_equal(mr_ismrmrd_read_image(f, "image_0", k, &back), MR_OK);
        assert_memory_equal(&im.head, &back.head, sizeof(im.head));
        assert_memory_equal(im.data, back.data, 5 * 3 * 2 * sizeof(complex_float_t));
        assert_memory_equal(im.attribute_string, back.attribute_string,
                            im.head.attribute_string_len);
        ismrmrd_cleanup_image(&im);
    }
    ismrmrd_cleanup_image(&back);
    mr_ismrmrd_close(f);

    /* the XML header is a variable-length string: HDF5 may not allocate past the limit */
    mr_memory_limit_set(64);
    assert_int_equal(mr_ismrmrd_open(path, &f), MR_ERR_NOMEM);
    io_assert_error_mentions("/dataset/xml", "memory limit");
    mr_memory_limit_set(0);
}

static void test_ismrmrd_writer_files_read_by_library(void **state)
{
    char path[1024];
    struct mr_ismrmrd_writer *wr = NULL;
    ISMRMRD_Dataset d;
    ISMRMRD_Acquisition a;
    ISMRMRD_Acquisition b;
    ISMRMRD_Image im;
    ISMRMRD_Image back;
    ISMRMRD_Waveform w;
    ISMRMRD_Waveform wb;
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("ours.h5"));
    io_test_clean(path);
    assert_int_equal(mr_ismrmrd_writer_create(path, &wr), MR_OK);
    assert_int_equal(mr_ismrmrd_writer_header(wr, xml), MR_OK);
    assert_int_equal(mr_ismrmrd_writer_header(wr, xml), MR_ERR_ARG);
    for (uint32_t i = 0; i < NACQ; i++) {
        make_acq(&a, i);
        assert_int_equal(mr_ismrmrd_writer_acquisition(wr, &a), MR_OK);
        ismrmrd_cleanup_acquisition(&a);
    }
    make_waveform(&w, 5);
    assert_int_equal(mr_ismrmrd_writer_waveform(wr, &w), MR_OK);
    free(w.data);
    for (uint16_t k = 0; k < 3; k++) {
        make_image(&im, k, k == 1 ? "" : "<meta>attr</meta>");
        assert_int_equal(mr_ismrmrd_writer_image(wr, "image_1", &im), MR_OK);
        ismrmrd_cleanup_image(&im);
    }
    /* one group holds one image shape */
    make_image(&im, 9, "");
    im.head.matrix_size[0] = 4;
    assert_int_equal(ismrmrd_make_consistent_image(&im), ISMRMRD_NOERROR);
    assert_int_equal(mr_ismrmrd_writer_image(wr, "image_1", &im), MR_ERR_FORMAT);
    io_assert_error_mentions("image_1", "another shape");
    ismrmrd_cleanup_image(&im);
    assert_false(io_test_exists(path)); /* nothing at the target before commit */
    assert_int_equal(mr_ismrmrd_writer_commit(wr), MR_OK);
    assert_int_equal(io_test_count_tmp(path), 0);

    assert_int_equal(ismrmrd_init_dataset(&d, path, "/dataset"), ISMRMRD_NOERROR);
    assert_int_equal(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    char *x = ismrmrd_read_header(&d);
    assert_string_equal(x, xml);
    free(x);
    assert_int_equal(ismrmrd_get_number_of_acquisitions(&d), NACQ);
    ismrmrd_init_acquisition(&b);
    for (uint32_t i = 0; i < NACQ; i++) {
        make_acq(&a, i);
        assert_int_equal(ismrmrd_read_acquisition(&d, i, &b), ISMRMRD_NOERROR);
        assert_acq_equal(&a, &b);
        ismrmrd_cleanup_acquisition(&a);
    }
    ismrmrd_cleanup_acquisition(&b);
    assert_int_equal(ismrmrd_get_number_of_waveforms(&d), 1);
    make_waveform(&w, 5);
    ismrmrd_init_waveform(&wb);
    assert_int_equal(ismrmrd_read_waveform(&d, 0, &wb), ISMRMRD_NOERROR);
    assert_memory_equal(w.data, wb.data, 12 * sizeof(uint32_t));
    free(w.data);
    free(wb.data);
    assert_int_equal(ismrmrd_get_number_of_images(&d, "image_1"), 3);
    for (uint16_t k = 0; k < 3; k++) {
        make_image(&im, k, k == 1 ? "" : "<meta>attr</meta>");
        ismrmrd_init_image(&back);
        assert_int_equal(ismrmrd_read_image(&d, "image_1", k, &back), ISMRMRD_NOERROR);
        assert_memory_equal(&im.head, &back.head, sizeof(im.head));
        assert_memory_equal(im.data, back.data, 5 * 3 * 2 * sizeof(complex_float_t));
        if (im.head.attribute_string_len > 0)
            assert_memory_equal(im.attribute_string, back.attribute_string,
                                im.head.attribute_string_len);
        ismrmrd_cleanup_image(&back);
        ismrmrd_cleanup_image(&im);
    }
    ismrmrd_close_dataset(&d);
}

/* ---- crafted files ------------------------------------------------------------------------ */

/* A file with /dataset/xml and n raw acquisition records whose vlen lengths the test sets. */
static const char *write_records(const char *name, const struct mr_ismrmrd_h5_acq *recs,
                                 hsize_t n)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s", mr_test_tmp(name));
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/dataset", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = mr_ismrmrd_h5_acq_type();
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, "/dataset/data", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
    H5Fclose(f);
    return path;
}

/* Reads every acquisition of path; returns the first failure (MR_OK if all read). */
static mr_status read_all(const char *path, uint32_t *failed_at)
{
    struct mr_ismrmrd_file *f = NULL;
    ISMRMRD_Acquisition a;
    mr_status st = mr_ismrmrd_open(path, &f);
    ismrmrd_init_acquisition(&a);
    for (uint32_t i = 0; st == MR_OK && i < mr_ismrmrd_acquisition_count(f); i++) {
        st = mr_ismrmrd_read_acquisition(f, i, &a);
        *failed_at = i;
    }
    ismrmrd_cleanup_acquisition(&a);
    mr_ismrmrd_close(f);
    return st;
}

/* #15: headers claiming more than is stored were read by ismrmrd_read_acquisition before any
 * check (heap over-read, memcpy from NULL); now each is refused naming the acquisition. */
static void test_ismrmrd_acquisition_sizes_match_what_is_stored(void **state)
{
    static float data[2 * NS * NC * 2];
    static float traj[NS * TD];
    struct mr_ismrmrd_h5_acq r[2];
    uint32_t at = 99;
    (void)state;

    for (int k = 0; k < 2; k++) {
        memset(&r[k], 0, sizeof(r[k]));
        r[k].head.number_of_samples = NS;
        r[k].head.active_channels = NC;
        r[k].head.trajectory_dimensions = TD;
        r[k].head.scan_counter = (uint32_t)(40 + k);
        r[k].traj = (hvl_t){ NS * TD, traj };
        r[k].data = (hvl_t){ 2 * NS * NC, data };
    }
    assert_int_equal(read_all(write_records("acq_ok.h5", r, 2), &at), MR_OK);

    r[1].head.number_of_samples = 2 * NS; /* more samples than stored */
    assert_int_equal(read_all(write_records("acq_ns.h5", r, 2), &at), MR_ERR_FORMAT);
    assert_int_equal(at, 1);
    io_assert_error_mentions("acq_ns.h5' acquisition 1", "scan_counter 41");
    io_assert_error_mentions("declares 32 samples x 2 channels (128 floats)", "stores 64");

    r[1].head.number_of_samples = NS;
    r[1].head.active_channels = 4; /* more channels than stored */
    assert_int_equal(read_all(write_records("acq_nc.h5", r, 2), &at), MR_ERR_FORMAT);
    io_assert_error_mentions("acquisition 1", "x 4 channels");

    r[1].head.active_channels = NC;
    r[1].traj = (hvl_t){ 0, NULL }; /* trajectory declared, none stored: memcpy from NULL */
    assert_int_equal(read_all(write_records("acq_td.h5", r, 2), &at), MR_ERR_FORMAT);
    io_assert_error_mentions("acquisition 1", "2 trajectory dimensions");

    r[1].traj = (hvl_t){ NS * TD, traj };
    r[1].data = (hvl_t){ 2 * NS * NC * 2, data }; /* more stored than declared */
    assert_int_equal(read_all(write_records("acq_more.h5", r, 2), &at), MR_ERR_FORMAT);
    io_assert_error_mentions("acquisition 1", "more than the 256 bytes its header declares");

    r[1].data = (hvl_t){ 2 * NS * NC, data };
    r[0].head.active_channels = 0;
    assert_int_equal(read_all(write_records("acq_nochan.h5", r, 2), &at), MR_ERR_FORMAT);
    assert_int_equal(at, 0);
    io_assert_error_mentions("acquisition 0", "no active channel");

    /* an acquisition over the memory limit is refused before its data is read */
    r[0].head.active_channels = NC;
    mr_memory_limit_set(100);
    assert_int_equal(read_all(write_records("acq_limit.h5", r, 2), &at), MR_ERR_NOMEM);
    io_assert_error_mentions("acquisition 0", "memory limit of 100 bytes");
    mr_memory_limit_set(0);
}

/* #15: center_sample beyond the readout or discards that leave no sample gave an all-zero
 * image; the header check (file, stream and stage) refuses them. */
static void test_ismrmrd_centre_and_discards_inside_the_readout(void **state)
{
    static float data[2 * NS * NC];
    struct mr_ismrmrd_h5_acq r[1];
    uint32_t at = 0;
    (void)state;

    memset(r, 0, sizeof(r));
    r[0].head.number_of_samples = NS;
    r[0].head.active_channels = NC;
    r[0].data = (hvl_t){ 2 * NS * NC, data };
    r[0].head.center_sample = NS;
    assert_int_equal(read_all(write_records("centre.h5", r, 1), &at), MR_ERR_FORMAT);
    io_assert_error_mentions("center_sample 16 is outside the readout of 16 samples", NULL);
    r[0].head.center_sample = NS - 1;
    r[0].head.discard_pre = 9;
    r[0].head.discard_post = 7;
    assert_int_equal(read_all(write_records("discard.h5", r, 1), &at), MR_ERR_FORMAT);
    io_assert_error_mentions("discard_pre 9 + discard_post 7", "16 samples");
    r[0].head.discard_post = 6; /* one sample left: fine */
    assert_int_equal(read_all(write_records("discard_ok.h5", r, 1), &at), MR_OK);

    /* the same check as a function, as the stage calls it */
    ISMRMRD_AcquisitionHeader h = r[0].head;
    h.center_sample = 40;
    assert_int_equal(mr_ismrmrd_check_acquisition_header(&h, "stream"), MR_ERR_FORMAT);
    io_assert_error_mentions("stream (scan_counter 0)", "center_sample 40");
    h.center_sample = 0; /* "not set" */
    h.number_of_samples = 0; /* no samples: nothing to place, nothing to check */
    h.discard_pre = 3;
    assert_int_equal(mr_ismrmrd_check_acquisition_header(&h, "stream"), MR_OK);
}

/* Writes a file whose /dataset/data is not ISMRMRD's acquisition dataset. */
static const char *write_odd_data(const char *name, int kind)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s", mr_test_tmp(name));
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/dataset", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = { 3, 2 };
    hid_t sp = H5Screate_simple(kind == 3 ? 2 : 1, dims, NULL);
    hid_t o = -1;
    if (kind == 0) { /* a group */
        o = H5Gcreate2(f, "/dataset/data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Gclose(o);
    } else if (kind == 1) { /* float32 */
        o = H5Dcreate2(f, "/dataset/data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT);
        H5Dclose(o);
    } else { /* 2: records without "traj"; 3: records of rank 2 */
        hid_t t = kind == 2 ? H5Tcreate(H5T_COMPOUND, sizeof(struct mr_ismrmrd_h5_acq))
                            : mr_ismrmrd_h5_acq_type();
        if (kind == 2) {
            hid_t h = mr_ismrmrd_h5_acq_header_type();
            hid_t v = H5Tvlen_create(H5T_NATIVE_FLOAT);
            H5Tinsert(t, "head", 0, h);
            H5Tinsert(t, "data", offsetof(struct mr_ismrmrd_h5_acq, data), v);
            H5Tclose(v);
            H5Tclose(h);
        }
        o = H5Dcreate2(f, "/dataset/data", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dclose(o);
        H5Tclose(t);
    }
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(f);
    return path;
}

/* #15: /dataset/data as a group crashed even `info`; a wrongly typed one was reported as
 * "acquisition 0 has no active channel". Both now fail at open, saying what is wrong. */
static void test_ismrmrd_open_checks_the_acquisition_dataset(void **state)
{
    struct mr_ismrmrd_file *f = NULL;
    (void)state;

    assert_int_equal(mr_ismrmrd_open(write_odd_data("data_group.h5", 0), &f), MR_ERR_FORMAT);
    assert_null(f);
    io_assert_error_mentions("data_group.h5': /dataset/data is a group", "ISMRMRD acquisitions");
    assert_int_equal(mr_ismrmrd_open(write_odd_data("data_float.h5", 1), &f), MR_ERR_FORMAT);
    io_assert_error_mentions("/dataset/data is float", "expected ISMRMRD acquisitions");
    assert_int_equal(mr_ismrmrd_open(write_odd_data("data_notraj.h5", 2), &f), MR_ERR_FORMAT);
    io_assert_error_mentions("/dataset/data has no member 'traj'", NULL);
    assert_int_equal(mr_ismrmrd_open(write_odd_data("data_rank2.h5", 3), &f), MR_ERR_FORMAT);
    io_assert_error_mentions("/dataset/data has shape (3, 2)", NULL);
}

/* #15: a truncated file was "not an ISMRMRD file", a missing XML header "no dataset 'kspace'"
 * (the file was not recognised), an Inf "NaN" at the wrong acquisition. */
static void test_ismrmrd_messages_say_what_is_wrong(void **state)
{
    char path[1024];
    char cut[1024];
    struct mr_ismrmrd_writer *wr = NULL;
    struct mr_ismrmrd_file *f = NULL;
    ISMRMRD_Acquisition a;
    bool yes = false;
    (void)state;

    /* no XML header: recognised, opened, and the raw-data reader says what is missing */
    snprintf(path, sizeof(path), "%s", mr_test_tmp("noxml.h5"));
    assert_int_equal(mr_ismrmrd_writer_create(path, &wr), MR_OK);
    for (uint32_t i = 0; i < NACQ; i++) {
        make_acq(&a, i);
        if (i == 5)
            a.data[NS * 1 + 7] = CMPLXF(1.0f, INFINITY); /* channel 1, sample 7 */
        if (i == 6)
            a.data[3] = NAN;
        assert_int_equal(mr_ismrmrd_writer_acquisition(wr, &a), MR_OK);
        ismrmrd_cleanup_acquisition(&a);
    }
    assert_int_equal(mr_ismrmrd_writer_commit(wr), MR_OK);
    assert_int_equal(mr_ismrmrd_probe(path, &yes), MR_OK);
    assert_true(yes);
    assert_int_equal(mr_ismrmrd_open(path, &f), MR_OK);
    const char *x = NULL;
    assert_int_equal(mr_ismrmrd_require_xml(f, &x, NULL), MR_ERR_FORMAT);
    io_assert_error_mentions("noxml.h5' has no XML header (/dataset/xml)", NULL);

    /* Inf named as Inf, at its acquisition, channel and sample */
    ismrmrd_init_acquisition(&a);
    assert_int_equal(mr_ismrmrd_read_acquisition(f, 4, &a), MR_OK);
    assert_int_equal(mr_ismrmrd_read_acquisition(f, 5, &a), MR_ERR_DATA);
    io_assert_error_mentions("noxml.h5' acquisition 5 (scan_counter 105)",
                             "the imaginary part of channel 1 sample 7 is +Inf");
    assert_int_equal(mr_ismrmrd_read_acquisition(f, 6, &a), MR_ERR_DATA);
    io_assert_error_mentions("acquisition 6", "the real part of channel 0 sample 3 is NaN");
    ismrmrd_cleanup_acquisition(&a);
    mr_ismrmrd_close(f);

    /* a truncated file: said to be truncated */
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    snprintf(cut, sizeof(cut), "%s", mr_test_tmp("cut.h5"));
    FILE *out = fopen(cut, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(buf, 1, n / 2, out), n / 2);
    fclose(out);
    assert_int_equal(mr_ismrmrd_open(cut, &f), MR_ERR_FORMAT);
    io_assert_error_mentions("cut.h5", "truncated");
    assert_null(strstr(mr_last_error(), "not an ISMRMRD file"));
}

/* ---- a full disk under the writer --------------------------------------------------------- */

struct full_disk {
    const char *path;
    int images;
    uint16_t side; /* images of side x side x 2 channels, complex float */
};

/* In the child: append images until the file limit stops the writer; then every further call
 * must be refused, and freeing must leave nothing. Returns the first failure's status. */
static mr_status fill_disk(void *arg)
{
    const struct full_disk *fd = arg;
    struct mr_ismrmrd_writer *wr = NULL;
    ISMRMRD_Image im;
    mr_status st = mr_ismrmrd_writer_create(fd->path, &wr);
    if (st != MR_OK)
        return st;
    make_image(&im, 0, "<meta/>");
    im.head.matrix_size[0] = fd->side;
    im.head.matrix_size[1] = fd->side;
    if (ismrmrd_make_consistent_image(&im) != ISMRMRD_NOERROR)
        return MR_ERR_NOMEM;
    memset(im.data, 0, ismrmrd_size_of_image_data(&im));
    for (int k = 0; k < fd->images && st == MR_OK; k++)
        st = mr_ismrmrd_writer_image(wr, "image_0", &im);
    if (st == MR_OK)
        st = mr_ismrmrd_writer_commit(wr);
    else if (mr_ismrmrd_writer_image(wr, "image_0", &im) != MR_ERR_ARG)
        st = MR_ERR_UNSUPPORTED; /* a broken writer must refuse */
    else
        mr_ismrmrd_writer_free(wr);
    ismrmrd_cleanup_image(&im);
    return st;
}

static void test_ismrmrd_writer_on_a_full_disk(void **state)
{
    char path[1024];
    char msg[1024];
    (void)state;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("full.h5"));
    io_test_clean(path);
    struct full_disk fd = { .path = path, .images = 40, .side = 512 };
    int rc = io_test_with_fsize_limit(fill_disk, &fd, 3 << 20, msg, sizeof(msg));
    if (rc == -1000)
        fail_msg("the writer crashed on a full disk");
    assert_int_equal(rc, MR_ERR_IO);
    assert_non_null(strstr(msg, "full.h5"));
    assert_false(io_test_exists(path));
    assert_int_equal(io_test_count_tmp(path), 0);

    /* small images stay in HDF5's caches: the failure comes at commit, with the same result */
    fd = (struct full_disk){ .path = path, .images = 60, .side = 8 };
    rc = io_test_with_fsize_limit(fill_disk, &fd, 8 << 10, msg, sizeof(msg));
    if (rc == -1000)
        fail_msg("the writer crashed on a full disk");
    assert_int_equal(rc, MR_ERR_IO);
    assert_non_null(strstr(msg, "full.h5"));
    assert_false(io_test_exists(path));
    assert_int_equal(io_test_count_tmp(path), 0);

    /* the same run with room enough commits a complete file */
    fd.images = 3;
    assert_int_equal(io_test_with_fsize_limit(fill_disk, &fd, 1 << 30, msg, sizeof(msg)), MR_OK);
    struct mr_ismrmrd_file *f = NULL;
    assert_int_equal(mr_ismrmrd_open(path, &f), MR_OK);
    assert_int_equal(mr_ismrmrd_image_count(f, "image_0"), 3);
    mr_ismrmrd_close(f);
}

/* ---- image and waveform headers ------------------------------------------------------------ */

static void test_ismrmrd_image_and_waveform_headers_are_bounded(void **state)
{
    ISMRMRD_ImageHeader h;
    ISMRMRD_WaveformHeader wh;
    size_t bytes = 0;
    (void)state;

    ismrmrd_init_image_header(&h);
    h.data_type = ISMRMRD_CXFLOAT;
    h.matrix_size[0] = 64;
    h.matrix_size[1] = 32;
    h.matrix_size[2] = 1;
    h.channels = 2;
    assert_int_equal(mr_ismrmrd_check_image_header(&h, "img", &bytes), MR_OK);
    assert_int_equal(bytes, 64 * 32 * 2 * 8);
    /* ISMRMRD sizes this in int: 65535^2 * 2 elements overflow it */
    h.matrix_size[0] = 65535;
    h.matrix_size[1] = 65535;
    assert_int_equal(mr_ismrmrd_check_image_header(&h, "img", &bytes), MR_ERR_FORMAT);
    io_assert_error_mentions("img: image of 65535 x 65535 x 1 x 2 channels", "over the limit");
    h.matrix_size[0] = 64;
    h.matrix_size[1] = 32;
    h.data_type = 42;
    assert_int_equal(mr_ismrmrd_check_image_header(&h, "img", &bytes), MR_ERR_FORMAT);
    io_assert_error_mentions("data_type 42", NULL);
    h.data_type = ISMRMRD_FLOAT;
    h.channels = 0;
    assert_int_equal(mr_ismrmrd_check_image_header(&h, "img", &bytes), MR_ERR_FORMAT);
    io_assert_error_mentions("empty axis", NULL);

    ismrmrd_init_waveformheader(&wh);
    wh.channels = 65535;
    wh.number_of_samples = 65535;
    assert_int_equal(mr_ismrmrd_check_waveform_header(&wh, "wav"), MR_ERR_FORMAT);
    io_assert_error_mentions("wav: waveform of 65535 channels x 65535 samples", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ismrmrd_reads_library_files),
        cmocka_unit_test(test_ismrmrd_writer_files_read_by_library),
        cmocka_unit_test(test_ismrmrd_acquisition_sizes_match_what_is_stored),
        cmocka_unit_test(test_ismrmrd_centre_and_discards_inside_the_readout),
        cmocka_unit_test(test_ismrmrd_open_checks_the_acquisition_dataset),
        cmocka_unit_test(test_ismrmrd_messages_say_what_is_wrong),
        cmocka_unit_test(test_ismrmrd_writer_on_a_full_disk),
        cmocka_unit_test(test_ismrmrd_image_and_waveform_headers_are_bounded),
        cmocka_unit_test(io_test_no_open_h5_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
