/* io/fastmri: h5py-written fixtures (multi-coil with 1-D mask and sensitivities, single-coil),
 * the project's real sample (2-D mask), the ISMRMRD header fields and fastMRI's padding, and
 * every validation error on real files written here with HDF5 (missing/real-valued/empty
 * k-space, NaN and Inf located by slice and coil, mask and sensitivity shapes, bad XML,
 * truncated file). */
#include "mr_test.h"
#include "io_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/fastmri.h"
#include "io/h5.h"

static void test_fastmri_reads_multicoil_fixture(void **state)
{
    struct mr_fastmri *f = NULL;
    struct mr_h5 *h = NULL;
    struct mr_array ksp;
    struct mr_array all;
    struct mr_array mask;
    struct mr_array sens;
    (void)state;

    assert_int_equal(mr_fastmri_open(mr_test_data("io/fastmri_multicoil.h5"), &f), MR_OK);
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    assert_int_equal(in->slices, 3);
    assert_int_equal(in->coils, 4);
    assert_int_equal(in->h, 12);
    assert_int_equal(in->w, 10);
    assert_false(in->single_coil);
    assert_true(in->has_mask);
    assert_int_equal(in->mask_ndim, 1);
    assert_true(in->has_sens);
    assert_false(in->has_target);
    assert_string_equal(in->acquisition, "CORPD_FBK");
    assert_string_equal(in->patient_id, "fixture-0001");
    assert_true(in->has_max && in->max == 3.25);
    assert_true(in->has_norm && in->norm == 12.5);
    assert_int_equal(in->acceleration, 4);
    assert_int_equal(in->num_low_frequency, 3);

    assert_true(in->has_header);
    assert_int_equal(in->hdr.n_encodings, 1);
    assert_int_equal(in->hdr.enc_matrix[0], 24);
    assert_int_equal(in->hdr.enc_matrix[1], 12);
    assert_int_equal(in->hdr.enc_matrix[2], 1);
    assert_int_equal(in->hdr.recon_matrix[0], 12);
    assert_int_equal(in->hdr.recon_matrix[1], 10);
    assert_true(in->hdr.enc_fov_mm[0] == 12.0 && in->hdr.enc_fov_mm[1] == 6.0 &&
                in->hdr.enc_fov_mm[2] == 3.0);
    assert_true(in->hdr.recon_fov_mm[0] == 6.0 && in->hdr.recon_fov_mm[1] == 5.0);
    assert_true(in->hdr.kspace_encoding_step_1.present);
    assert_int_equal(in->hdr.kspace_encoding_step_1.minimum, 0);
    assert_int_equal(in->hdr.kspace_encoding_step_1.maximum, 9);
    assert_int_equal(in->hdr.kspace_encoding_step_1.center, 5);
    assert_false(in->hdr.kspace_encoding_step_2.present);
    assert_true(in->hdr.slice.present);
    assert_int_equal(in->hdr.slice.maximum, 2);
    assert_int_equal(in->hdr.accel[0], 4);
    assert_int_equal(in->hdr.accel[1], 1);
    assert_int_equal(in->hdr.receiver_channels, 4);
    assert_string_equal(in->hdr.trajectory, "cartesian");
    /* fastMRI: padding_left = 12 // 2 - 5 = 1, padding_right = 1 + 9 + 1 = 11 */
    assert_int_equal(in->padding_left, 1);
    assert_int_equal(in->padding_right, 11);

    /* each slice equals the matching part of the whole volume */
    assert_int_equal(mr_h5_open(mr_test_data("io/fastmri_multicoil.h5"), &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "kspace", &all), MR_OK);
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)4, (int64_t)12,
                                        (int64_t)10), MR_OK);
    for (int64_t s = 0; s < 3; s++) {
        struct mr_array view;
        mr_array_slab(&view, &all, s);
        assert_int_equal(mr_fastmri_read_kspace(f, s, &ksp), MR_OK);
        assert_memory_equal(ksp.data, view.data, mr_array_nbytes(&ksp));
    }
    mr_array_cleanup(&all);
    assert_int_equal(mr_h5_read(h, "sensitivity_map", &all), MR_OK);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    assert_int_equal(mr_fastmri_read_sens(f, 2, &sens), MR_OK);
    struct mr_array view;
    mr_array_slab(&view, &all, 2);
    assert_memory_equal(sens.data, view.data, mr_array_nbytes(&sens));
    mr_array_cleanup(&all);
    mr_h5_close(h);

    /* 1-D mask over the columns, repeated on every row */
    static const float cols_expect[10] = { 1, 0, 0, 0, 1, 1, 1, 0, 0, 1 };
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)12, (int64_t)10),
                     MR_OK);
    assert_int_equal(mr_fastmri_read_mask(f, &mask), MR_OK);
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 10; x++)
            assert_true(mr_array_f32(&mask)[y * 10 + x] == cols_expect[x]);

    struct mr_array cols;
    assert_int_equal(mr_array_init_dims(&cols, MR_DTYPE_F32, 1, (int64_t)10), MR_OK);
    assert_int_equal(mr_fastmri_read_mask_columns(f, &cols), MR_OK);
    assert_memory_equal(cols.data, cols_expect, sizeof(cols_expect));
    mr_array_cleanup(&cols);
    assert_int_equal(mr_array_init_dims(&cols, MR_DTYPE_F32, 1, (int64_t)12), MR_OK);
    assert_int_equal(mr_fastmri_read_mask_columns(f, &cols), MR_ERR_SHAPE);
    mr_array_cleanup(&cols);

    /* errors on a good file */
    assert_int_equal(mr_fastmri_read_kspace(f, 3, &ksp), MR_ERR_ARG);
    io_assert_error_mentions("slice 3", "fastmri_multicoil.h5");
    assert_int_equal(mr_fastmri_read_kspace(f, -1, &ksp), MR_ERR_ARG);
    assert_int_equal(mr_fastmri_read_kspace(f, 0, &mask), MR_ERR_SHAPE); /* F32 destination */
    assert_int_equal(mr_fastmri_read_target(f, 0, &mask), MR_ERR_ARG);
    io_assert_error_mentions("reconstruction_rss", NULL);
    mr_array_cleanup(&mask);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 1, (int64_t)10), MR_OK);
    assert_int_equal(mr_fastmri_read_mask(f, &mask), MR_ERR_SHAPE); /* needs H*W */

    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&ksp);
    mr_fastmri_close(f);
}

static void test_fastmri_reads_singlecoil_fixture(void **state)
{
    struct mr_fastmri *f = NULL;
    struct mr_array ksp;
    (void)state;

    assert_int_equal(mr_fastmri_open(mr_test_data("io/fastmri_singlecoil.h5"), &f), MR_OK);
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    assert_true(in->single_coil);
    assert_int_equal(in->slices, 2);
    assert_int_equal(in->coils, 1);
    assert_int_equal(in->h, 8);
    assert_int_equal(in->w, 6);
    assert_false(in->has_mask);
    assert_false(in->has_sens);
    assert_false(in->has_max);
    assert_string_equal(in->acquisition, "");
    assert_int_equal(in->acceleration, 0);
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)1, (int64_t)8,
                                        (int64_t)6), MR_OK);
    assert_int_equal(mr_fastmri_read_kspace(f, 1, &ksp), MR_OK);
    assert_true(cabsf(mr_array_cf32(&ksp)[0]) > 0.0f);
    assert_int_equal(mr_fastmri_read_mask(f, &ksp), MR_ERR_ARG); /* no mask */
    assert_int_equal(mr_fastmri_read_sens(f, 0, &ksp), MR_ERR_ARG);
    mr_array_cleanup(&ksp);
    mr_fastmri_close(f);
}

/* The project's real sample: 8 coils, 2-D Poisson mask, k-space zero off the mask. */
static void test_fastmri_reads_real_sample(void **state)
{
    char path[1024];
    struct mr_fastmri *f = NULL;
    struct mr_array ksp;
    struct mr_array mask;
    const char *src = getenv("MR_SOURCE_DIR");
    (void)state;

    snprintf(path, sizeof(path), "%s/data/sample/brain8_poisson.h5", src != NULL ? src : ".");
    FILE *probe = fopen(path, "rb");
    if (probe == NULL)
        skip();
    fclose(probe);
    assert_int_equal(mr_fastmri_open(path, &f), MR_OK);
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    assert_int_equal(in->coils, 8);
    assert_int_equal(in->h, 230);
    assert_int_equal(in->w, 180);
    assert_int_equal(in->mask_ndim, 2);
    assert_string_equal(in->acquisition, "AXT1");
    assert_int_equal(in->hdr.receiver_channels, 8);
    assert_int_equal(in->padding_left, 0);    /* 180 // 2 - 90 */
    assert_int_equal(in->padding_right, 180); /* 0 + 179 + 1 */
    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)8, (int64_t)230,
                                        (int64_t)180), MR_OK);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)230, (int64_t)180),
                     MR_OK);
    assert_int_equal(mr_fastmri_read_kspace(f, 0, &ksp), MR_OK);
    assert_int_equal(mr_fastmri_read_mask(f, &mask), MR_OK);
    assert_int_equal(mr_fastmri_read_mask_columns(f, &mask), MR_ERR_SHAPE); /* 2-D mask */
    int64_t n = 230 * 180;
    int64_t sampled = 0;
    for (int64_t i = 0; i < n; i++) {
        float m = mr_array_f32(&mask)[i];
        sampled += m != 0.0f;
        if (m == 0.0f)
            for (int c = 0; c < 8; c++)
                assert_true(mr_array_cf32(&ksp)[c * n + i] == 0.0f);
    }
    assert_in_range(sampled * 1000 / n, 120, 130); /* 12.4 % */
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_fastmri_close(f);
}

/* ---- malformed files, written with the real HDF5 library -------------------------------- */

static const char good_xml[] =
    "<?xml version=\"1.0\"?>\n<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">"
    "<encoding><encodedSpace><matrixSize><x>16</x><y>7</y><z>1</z></matrixSize></encodedSpace>"
    "<reconSpace><matrixSize><x>8</x><y>6</y><z>1</z></matrixSize></reconSpace>"
    "<encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>5</maximum>"
    "<center>3</center></kspace_encoding_step_1></encodingLimits></encoding></ismrmrdHeader>";

struct fm_spec {
    int ndim;          /* of kspace; 0: no kspace */
    int64_t dims[5];
    bool real_kspace;  /* float32 instead of complex */
    bool bad;          /* put bad_value at (bad_slice, coil 2, row 1, col 3) */
    int64_t bad_slice;
    float bad_value;
    int mask_ndim;     /* 0: none */
    int64_t mask_dims[3];
    bool mask_zero;
    bool mask_complex;
    int sens;          /* 0: none, 1: same shape, 2: one coil fewer, 3: real-valued */
    const char *xml;
    bool max_is_string;
};

/* kspace (4-D) is (3, 4, 6, 5) unless the spec says otherwise */
static const char *write_fm(const char *name, const struct fm_spec *sp)
{
    static char path[1024];
    struct mr_h5 *h = NULL;
    struct mr_array k;

    snprintf(path, sizeof(path), "%s", mr_test_tmp(name));
    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    if (sp->ndim > 0) {
        assert_int_equal(mr_array_init(&k, sp->real_kspace ? MR_DTYPE_F32 : MR_DTYPE_CF32,
                                       sp->ndim, sp->dims), MR_OK);
        mr_test_rand(&k, 5);
        if (sp->bad) {
            int64_t at = ((sp->bad_slice * sp->dims[1] + 2) * sp->dims[2] + 1) * sp->dims[3] + 3;
            mr_array_cf32(&k)[at] = sp->bad_value + 1.0f * I;
        }
        assert_int_equal(mr_h5_write(h, "kspace", &k), MR_OK);
        if (sp->sens > 0) {
            struct mr_array s;
            int64_t d[5];
            memcpy(d, sp->dims, sizeof(d));
            if (sp->sens == 2)
                d[1]--;
            assert_int_equal(mr_array_init(&s, sp->sens == 3 ? MR_DTYPE_F32 : MR_DTYPE_CF32,
                                           sp->ndim, d), MR_OK);
            assert_int_equal(mr_h5_write(h, "sensitivity_map", &s), MR_OK);
            mr_array_cleanup(&s);
        }
        mr_array_cleanup(&k);
    } else {
        assert_int_equal(mr_array_init_dims(&k, MR_DTYPE_CF32, 1, (int64_t)4), MR_OK);
        assert_int_equal(mr_h5_write(h, "ksp", &k), MR_OK); /* a near miss */
        mr_array_cleanup(&k);
    }
    if (sp->mask_ndim > 0) {
        struct mr_array m;
        assert_int_equal(mr_array_init(&m, sp->mask_complex ? MR_DTYPE_CF32 : MR_DTYPE_F32,
                                       sp->mask_ndim, sp->mask_dims), MR_OK);
        if (!sp->mask_zero && !sp->mask_complex)
            mr_array_f32(&m)[0] = 1.0f;
        assert_int_equal(mr_h5_write(h, "mask", &m), MR_OK);
        mr_array_cleanup(&m);
    }
    if (sp->xml != NULL)
        assert_int_equal(mr_h5_write_string_dataset(h, "ismrmrd_header", sp->xml), MR_OK);
    if (sp->max_is_string)
        assert_int_equal(mr_h5_write_attr_string(h, "/", "max", "big"), MR_OK);
    else
        assert_int_equal(mr_h5_write_attr_double(h, "/", "max", 2.0), MR_OK);
    assert_int_equal(mr_h5_commit(h), MR_OK);
    return path;
}

#define FM_DEFAULT .ndim = 4, .dims = { 3, 4, 6, 5 }

static void expect_open_fails(const struct fm_spec *sp, const char *name, mr_status want,
                              const char *m1, const char *m2)
{
    struct mr_fastmri *f = (struct mr_fastmri *)0x1;
    assert_int_equal(mr_fastmri_open(write_fm(name, sp), &f), want);
    assert_null(f);
    io_assert_error_mentions(name, m1);
    if (m2 != NULL)
        io_assert_error_mentions(m2, NULL);
}

static void test_fastmri_open_rejects_malformed_files(void **state)
{
    (void)state;
    expect_open_fails(&(struct fm_spec){ .ndim = 0 }, "no_kspace.h5",
                      MR_ERR_FORMAT, "no dataset 'kspace'", "complex64");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .real_kspace = true }, "real_kspace.h5",
                      MR_ERR_FORMAT, "'kspace'", "real-valued");
    expect_open_fails(&(struct fm_spec){ .ndim = 2, .dims = { 6, 5 } },
                      "rank2.h5", MR_ERR_SHAPE, "(6, 5)", "(slices, coils, H, W)");
    expect_open_fails(&(struct fm_spec){ .ndim = 5, .dims = { 1, 3, 4, 6, 5 } },
                      "rank5.h5", MR_ERR_SHAPE, "(1, 3, 4, 6, 5)", NULL);
    expect_open_fails(&(struct fm_spec){ .ndim = 4, .dims = { 0, 4, 6, 5 } },
                      "empty.h5", MR_ERR_SHAPE, "empty axis", NULL);
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .mask_ndim = 1, .mask_dims = { 6 } },
                      "mask_len.h5", MR_ERR_SHAPE, "length 6", "W = 5");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .mask_ndim = 2, .mask_dims = { 5, 6 } },
                      "mask_2d.h5", MR_ERR_SHAPE, "(5, 6)", "(6, 5)");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .mask_ndim = 3, .mask_dims = { 3, 6, 5 } },
                      "mask_3d.h5", MR_ERR_SHAPE, "'mask'", NULL);
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .mask_ndim = 1, .mask_dims = { 5 },
                                         .mask_complex = true },
                      "mask_cplx.h5", MR_ERR_FORMAT, "'mask' is complex", NULL);
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .sens = 2 }, "sens_shape.h5", MR_ERR_SHAPE,
                      "'sensitivity_map' has shape (3, 3, 6, 5)", "(3, 4, 6, 5)");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .sens = 3 }, "sens_real.h5", MR_ERR_FORMAT,
                      "'sensitivity_map' is real-valued", NULL);
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .max_is_string = true }, "max_str.h5",
                      MR_ERR_FORMAT, "'max'", "expected a number");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .xml = "<ismrmrdHeader><encoding>" },
                      "xml_cut.h5", MR_ERR_FORMAT, "'ismrmrd_header'", "not well-formed");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .xml = "<header/>" }, "xml_root.h5",
                      MR_ERR_FORMAT, "<header>", "<ismrmrdHeader>");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .xml = "<ismrmrdHeader xmlns=\"urn:x\">"
                                                            "</ismrmrdHeader>" },
                      "xml_ns.h5", MR_ERR_FORMAT, "urn:x", "http://www.ismrm.org/ISMRMRD");
    expect_open_fails(&(struct fm_spec){ FM_DEFAULT, .xml = "<ismrmrdHeader xmlns=\"http://"
                                                            "www.ismrm.org/ISMRMRD\"><encoding>"
                                                            "</encoding></ismrmrdHeader>" },
                      "xml_nomatrix.h5", MR_ERR_FORMAT, "encodedSpace/matrixSize", NULL);
}

static void test_fastmri_reports_nonfinite_by_slice_and_coil(void **state)
{
    struct mr_fastmri *f = NULL;
    struct mr_array ksp;
    struct mr_array mask;
    (void)state;

    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)4, (int64_t)6,
                                        (int64_t)5), MR_OK);
    assert_int_equal(mr_fastmri_open(write_fm("nan.h5", &(struct fm_spec){
                                                  FM_DEFAULT, .bad = true, .bad_slice = 1,
                                                  .bad_value = NAN, .xml = good_xml }),
                                     &f), MR_OK);
    assert_int_equal(mr_fastmri_read_kspace(f, 0, &ksp), MR_OK);
    assert_int_equal(mr_fastmri_read_kspace(f, 1, &ksp), MR_ERR_DATA);
    io_assert_error_mentions("nan.h5", "slice 1 coil 2 holds NaN at (row 1, column 3)");
    assert_int_equal(mr_fastmri_read_kspace(f, 2, &ksp), MR_OK);
    const struct mr_fastmri_info *in = mr_fastmri_info(f);
    assert_int_equal(in->padding_left, 0);  /* 7 // 2 - 3 */
    assert_int_equal(in->padding_right, 6); /* 0 + 5 + 1 */
    assert_int_equal(in->hdr.accel[0], 1);
    assert_int_equal(in->hdr.receiver_channels, 0);
    mr_fastmri_close(f);

    assert_int_equal(mr_fastmri_open(write_fm("inf.h5", &(struct fm_spec){
                                                  FM_DEFAULT, .bad = true, .bad_slice = 2,
                                                  .bad_value = -INFINITY }),
                                     &f), MR_OK);
    assert_int_equal(mr_fastmri_read_kspace(f, 2, &ksp), MR_ERR_DATA);
    io_assert_error_mentions("inf.h5", "slice 2 coil 2 holds Inf");
    assert_false(mr_fastmri_info(f)->has_header);
    assert_int_equal(mr_fastmri_info(f)->padding_right, 5);
    mr_fastmri_close(f);

    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)6, (int64_t)5), MR_OK);
    assert_int_equal(mr_fastmri_open(write_fm("mask_zero.h5", &(struct fm_spec){
                                                  FM_DEFAULT, .mask_ndim = 1,
                                                  .mask_dims = { 5 }, .mask_zero = true }),
                                     &f), MR_OK);
    assert_int_equal(mr_fastmri_read_mask(f, &mask), MR_ERR_DATA);
    io_assert_error_mentions("mask_zero.h5", "all zero");
    mr_fastmri_close(f);

    mr_array_cleanup(&mask);
    mr_array_cleanup(&ksp);
}

static void test_fastmri_rejects_truncated_and_missing_files(void **state)
{
    struct mr_fastmri *f = NULL;
    char path[1024];
    (void)state;

    assert_int_equal(mr_fastmri_open(mr_test_tmp("absent.h5"), &f), MR_ERR_IO);
    io_assert_error_mentions("absent.h5", NULL);

    /* the multi-coil fixture cut in the middle of its k-space */
    FILE *in = fopen(mr_test_data("io/fastmri_multicoil.h5"), "rb");
    assert_non_null(in);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    assert_int_equal(n, sizeof(buf));
    snprintf(path, sizeof(path), "%s", mr_test_tmp("cut.h5"));
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(out);
    assert_int_equal(mr_fastmri_open(path, &f), MR_ERR_FORMAT);
    io_assert_error_mentions("cut.h5", "truncated");
    assert_null(f);
}

/* ---- sizes the file does not hold (#15: one bit flip of a valid file used to crash) ---------- */

/* A complex64 "kspace" of the given dims, contiguous and never written (HDF5 allocates
 * nothing), so the dims can claim anything. */
static const char *write_claimed_kspace(const char *name, int ndim, const hsize_t *dims)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s", mr_test_tmp(name));
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t ct = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(ct, "r", 0, H5T_IEEE_F32LE);
    H5Tinsert(ct, "i", 4, H5T_IEEE_F32LE);
    hid_t sp = H5Screate_simple(ndim, dims, NULL);
    hid_t d = H5Dcreate2(f, "kspace", ct, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(ct);
    H5Fclose(f);
    return path;
}

/* Overwrites the first run of ndim little-endian uint64 values equal to from[] with to[]. */
static void patch_dims(const char *path, int ndim, const uint64_t *from, const uint64_t *to)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    size_t len = (size_t)ndim * 8;
    size_t at = 0;
    for (; at + len <= n && memcmp(buf + at, from, len) != 0; at++)
        ;
    assert_true(at + len <= n);
    memcpy(buf + at, to, len);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(buf, 1, n, fp), n);
    fclose(fp);
}

/* A valid (2, 2, 3, 4) complex64 kspace written by io/h5. */
static void write_small_kspace(const char *name, char *path, size_t len)
{
    struct mr_h5 *h = NULL;
    struct mr_array k;

    snprintf(path, len, "%s", mr_test_tmp(name));
    assert_int_equal(mr_array_init_dims(&k, MR_DTYPE_CF32, 4, (int64_t)2, (int64_t)2,
                                        (int64_t)3, (int64_t)4), MR_OK);
    mr_test_rand(&k, 3);
    assert_int_equal(mr_h5_create(path, &h), MR_OK);
    assert_int_equal(mr_h5_write(h, "kspace", &k), MR_OK);
    assert_int_equal(mr_h5_commit(h), MR_OK);
    mr_array_cleanup(&k);
}

static void test_fastmri_refuses_sizes_the_file_does_not_hold(void **state)
{
    struct mr_fastmri *f = (struct mr_fastmri *)0x1;
    (void)state;

    /* coils * H * W = 3 * 6148914691236517206 = 2^64 + 2: wrapped, a 16-byte buffer for a
     * slice that HDF5 would then fill */
    const hsize_t wrap[4] = { 2, 3, 6148914691236517206ull, 1 };
    assert_int_equal(mr_fastmri_open(write_claimed_kspace("wrap.h5", 4, wrap), &f),
                     MR_ERR_FORMAT);
    assert_null(f);
    io_assert_error_mentions("wrap.h5", "'kspace'");
    io_assert_error_mentions("2^63", NULL);
    /* one bit of a valid file flipped: W 4 -> 5, the stored bytes stay those of W = 4 */
    char path[1024];
    write_small_kspace("flip.h5", path, sizeof(path));
    patch_dims(path, 4, (const uint64_t[]){ 2, 2, 3, 4 }, (const uint64_t[]){ 2, 2, 3, 5 });
    assert_int_equal(mr_fastmri_open(path, &f), MR_ERR_FORMAT);
    assert_null(f);
    io_assert_error_mentions("flip.h5", "'kspace'");
    io_assert_error_mentions("needs 480 bytes but the file stores 384", NULL);
    /* the top bit of H flipped: 2^63 + 3 reads as a negative int64 */
    write_small_kspace("neg.h5", path, sizeof(path));
    patch_dims(path, 4, (const uint64_t[]){ 2, 2, 3, 4 },
               (const uint64_t[]){ 2, 2, ((uint64_t)1 << 63) + 3, 4 });
    assert_int_equal(mr_fastmri_open(path, &f), MR_ERR_FORMAT);
    assert_null(f);
    io_assert_error_mentions("neg.h5", NULL);

    /* a valid file over the memory limit: named, with the limit */
    mr_memory_limit_set(1000);
    assert_int_equal(mr_fastmri_open(mr_test_data("io/fastmri_multicoil.h5"), &f), MR_ERR_NOMEM);
    io_assert_error_mentions("fastmri_multicoil.h5", "one slice of dataset 'kspace'");
    io_assert_error_mentions("memory limit of 1000 bytes", NULL);
    mr_memory_limit_set(0);
    assert_int_equal(mr_fastmri_open(mr_test_data("io/fastmri_multicoil.h5"), &f), MR_OK);
    mr_fastmri_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fastmri_reads_multicoil_fixture),
        cmocka_unit_test(test_fastmri_reads_singlecoil_fixture),
        cmocka_unit_test(test_fastmri_reads_real_sample),
        cmocka_unit_test(test_fastmri_open_rejects_malformed_files),
        cmocka_unit_test(test_fastmri_reports_nonfinite_by_slice_and_coil),
        cmocka_unit_test(test_fastmri_rejects_truncated_and_missing_files),
        cmocka_unit_test(test_fastmri_refuses_sizes_the_file_does_not_hold),
        cmocka_unit_test(io_test_no_open_h5_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
