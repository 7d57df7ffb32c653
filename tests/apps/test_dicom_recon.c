/*
 * mrirecon recon --format dicom, in-process, checked with DCMTK's dcmdump and storescp:
 *  - a fastMRI file (two slices, written here with a known field of view) and the bundled
 *    sample: geometry tags as documented for fastMRI (no position recorded), identity from the
 *    file, pixels × Rescale Slope + Intercept = the .h5 reconstruction of the same run within
 *    half a step;
 *  - an ISMRMRD file (tests/data/pipeline/sl96_a2.h5 copied with an oblique position and a
 *    patient/study header): Image Position / Orientation from the acquisitions, Pixel Spacing
 *    from the field of view, pixels = the ISMRMRD images of the same run;
 *  - --send to storescp on 127.0.0.1; reproducible UIDs;
 *  - every error path: exit 2 for usage (bad --send spec, --send without dicom, a .dcm name,
 *    a bad format or AE title), exit 1 with the reason for an unwritable folder, a folder
 *    holding other files, no PACS listening; never a half series or a temporary left.
 */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/dicom_tools.h"
#include "io/h5.h"
#include "io/ismrmrd.h"

int mr_main_recon(int argc, char *argv[]);

static char sample[4096];
static char two_slices[4096];
static char oblique[4096];
static char stderr_text[16384];

/* runs mr_main_recon with args; its stderr into stderr_text */
static int run(const char *const *args, int n)
{
    char *argv[32];
    char errpath[4096];
    assert_true(n < 32);
    for (int i = 0; i < n; i++)
        argv[i] = (char *)args[i];
    argv[n] = NULL;
    snprintf(errpath, sizeof(errpath), "%s", mr_test_tmp("stderr.txt"));
    FILE *err = fopen(errpath, "w+");
    assert_non_null(err);
    fflush(stderr);
    int saved = dup(fileno(stderr));
    assert_true(dup2(fileno(err), fileno(stderr)) >= 0);
    int rc = mr_main_recon(n, argv);
    fflush(stderr);
    assert_true(dup2(saved, fileno(stderr)) >= 0);
    close(saved);
    rewind(err);
    size_t k = fread(stderr_text, 1, sizeof(stderr_text) - 1, err);
    stderr_text[k] = '\0';
    fclose(err);
    return rc;
}

/* A fastMRI file of 2 slices, 1 coil, 16 rows x 12 columns, reconSpace FOV 32 x 36 x 5 mm
 * (2 mm rows, 3 mm columns), patient_id and acquisition attributes. */
static int write_two_slices(const char *path)
{
    static const char xml[] =
        "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
        "<encodedSpace><matrixSize><x>16</x><y>12</y><z>1</z></matrixSize>"
        "<fieldOfView_mm><x>32</x><y>36</y><z>5</z></fieldOfView_mm></encodedSpace>"
        "<reconSpace><matrixSize><x>16</x><y>12</y><z>1</z></matrixSize>"
        "<fieldOfView_mm><x>32</x><y>36</y><z>5</z></fieldOfView_mm></reconSpace>"
        "<trajectory>cartesian</trajectory></encoding>"
        "<sequenceParameters><TR>500</TR><TE>12</TE></sequenceParameters></ismrmrdHeader>";
    struct mr_array k = { 0 };
    struct mr_h5 *h = NULL;
    mr_status st = mr_array_init_dims(&k, MR_DTYPE_CF32, 4, (int64_t)2, (int64_t)1, (int64_t)16,
                                      (int64_t)12);
    if (st == MR_OK) {
        float complex *d = mr_array_cf32(&k);
        for (int64_t i = 0; i < 2 * 16 * 12; i++)
            d[i] = (float)((i * 7) % 11) - 4.0f + I * (float)((i * 5) % 13) * 0.25f;
        st = mr_h5_create(path, &h);
    }
    if (st == MR_OK)
        st = mr_h5_write(h, "kspace", &k);
    if (st == MR_OK)
        st = mr_h5_write_string_dataset(h, "ismrmrd_header", xml);
    if (st == MR_OK)
        st = mr_h5_write_attr_string(h, "/", "patient_id", "file-42");
    if (st == MR_OK)
        st = mr_h5_write_attr_string(h, "/", "acquisition", "CORPD_FBK");
    if (st == MR_OK) {
        st = mr_h5_commit(h);
        h = NULL;
    }
    mr_h5_close(h);
    mr_array_cleanup(&k);
    return st == MR_OK ? 0 : -1;
}

/* position, read_dir, phase_dir of every acquisition of the oblique copy */
static const float pos0[3] = { 10.0f, -20.0f, 30.0f };
static const float read0[3] = { 0.6f, 0.8f, 0.0f };
static const float phase0[3] = { -0.8f, 0.6f, 0.0f };

/* sl96_a2.h5 with every acquisition at pos0 along read0/phase0 and a patient/study header */
static int write_oblique(const char *in, const char *path)
{
    static const char subject[] =
        "<subjectInformation><patientName>Test^Phantom</patientName><patientID>PH-7"
        "</patientID><patientGender>O</patientGender></subjectInformation>"
        "<studyInformation><studyDate>2023-01-02</studyDate><studyInstanceUID>1.2.826.0.1.7"
        "</studyInstanceUID></studyInformation>"
        "<measurementInformation><patientPosition>HFS</patientPosition>"
        "</measurementInformation>";
    struct mr_ismrmrd_file *f = NULL;
    struct mr_ismrmrd_writer *w = NULL;
    ISMRMRD_Acquisition acq;
    char *xml = NULL;
    int rc = -1;

    ismrmrd_init_acquisition(&acq);
    if (mr_ismrmrd_open(in, &f) != MR_OK)
        goto out;
    size_t len = 0;
    const char *x = mr_ismrmrd_xml(f, &len);
    const char *at = strstr(x, "<acquisitionSystemInformation>");
    xml = malloc(len + sizeof(subject));
    if (at == NULL || xml == NULL)
        goto out;
    snprintf(xml, len + sizeof(subject), "%.*s%s%s", (int)(at - x), x, subject, at);
    if (mr_ismrmrd_writer_create(path, &w) != MR_OK || mr_ismrmrd_writer_header(w, xml) != MR_OK)
        goto out;
    for (uint32_t i = 0; i < mr_ismrmrd_acquisition_count(f); i++) {
        if (mr_ismrmrd_read_acquisition(f, i, &acq) != MR_OK)
            goto out;
        memcpy(acq.head.position, pos0, sizeof(pos0));
        memcpy(acq.head.read_dir, read0, sizeof(read0));
        memcpy(acq.head.phase_dir, phase0, sizeof(phase0));
        if (mr_ismrmrd_writer_acquisition(w, &acq) != MR_OK)
            goto out;
    }
    rc = mr_ismrmrd_writer_commit(w) == MR_OK ? 0 : -1;
    w = NULL;
out:
    mr_ismrmrd_writer_free(w);
    mr_ismrmrd_close(f);
    ismrmrd_cleanup_acquisition(&acq);
    free(xml);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("MR_SOURCE_DIR");
    snprintf(sample, sizeof(sample), "%s/data/sample/brain8_poisson.h5",
             src != NULL ? src : ".");
    snprintf(two_slices, sizeof(two_slices), "%s", mr_test_tmp("two_slices.h5"));
    snprintf(oblique, sizeof(oblique), "%s", mr_test_tmp("oblique.h5"));
    if (write_two_slices(two_slices) != 0)
        return -1;
    return write_oblique(mr_test_data("pipeline/sl96_a2.h5"), oblique);
}

/* a fresh, empty scratch folder `name`; its path into buf */
static void fresh(const char *name, char *buf, size_t cap)
{
    char cmd[8400];
    char out[256];
    snprintf(buf, cap, "%s", mr_test_tmp(name));
    assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", buf, buf) <
                (int)sizeof(cmd));
    assert_int_equal(dcm_run(cmd, out, sizeof(out)), 0);
}

static char dump[65536];

static double tag_number(const char *tag)
{
    char v[256];
    assert_true(dcm_get(dump, tag, v, sizeof(v)));
    return strtod(v, NULL);
}

/* file's pixels x slope + intercept against ref (rows x cols) within half a step; leaves the
 * file's listing in dump */
static void expect_pixels(const char *file, const float *ref, int64_t n)
{
    size_t np = 0;
    uint16_t *px = dcm_dump_pixels(file, mr_test_tmp("raw"), dump, sizeof(dump), &np);
    if (px == NULL)
        fail_msg("dcmdump cannot read '%s' cleanly (DCMTK's dcmdump installed?):\n%s", file,
                 dump);
    const double slope = tag_number("0028,1053");
    const double icpt = tag_number("0028,1052");
    assert_int_equal(np, (size_t)n);
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)px[i] * slope + icpt - (double)ref[i]));
    free(px);
    if (worst > 0.5 * slope * (1.0 + 1e-6))
        fail_msg("'%s': pixels differ from the image by %g, more than half a step %g", file,
                 worst, 0.5 * slope);
}

static void read_reconstruction(const char *path, struct mr_array *vol)
{
    struct mr_h5 *h = NULL;
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "reconstruction", vol), MR_OK);
    mr_h5_close(h);
}

static void test_dicom_from_fastmri_geometry_and_pixels(void **state)
{
    char dir[4096];
    char series[4200];
    char h5[4200];
    char file[4400];
    struct mr_array ref = { 0 };
    (void)state;

    fresh("fastmri", dir, sizeof(dir));
    snprintf(series, sizeof(series), "%s/series", dir);
    snprintf(h5, sizeof(h5), "%s/ref.h5", dir);
    const char *a[] = { "recon", "-q", "-m", "zf", "--format", "dicom", two_slices, series };
    assert_int_equal(run(a, 8), 0);
    const char *b[] = { "recon", "-q", "-m", "zf", two_slices, h5 };
    assert_int_equal(run(b, 6), 0);
    assert_int_equal(dcm_count(series, ".dcm"), 2);
    assert_int_equal(dcm_count(dir, ""), 2); /* series + ref.h5: no temporary left */
    read_reconstruction(h5, &ref);
    assert_int_equal(ref.dims[1], 16);
    assert_int_equal(ref.dims[2], 12);

    /* slice 1: IM00002.dcm; centre pixel (8, 6) at (0, 0, 1 x 5 mm) */
    snprintf(file, sizeof(file), "%s/IM00002.dcm", series);
    expect_pixels(file, mr_array_f32(&ref) + 16 * 12, 16 * 12);
    dcm_expect(dump, "0020,0013", "2");
    /* the slice's trust report in Image Comments: zero-filling keeps the data */
    dcm_expect(dump, "0020,4000", "mrirecon trust: dc_residual 0, score nan, flag 0");
    dcm_expect(dump, "0028,0010", "16");
    dcm_expect(dump, "0028,0011", "12");
    dcm_expect(dump, "0028,0030", "2\\3");
    dcm_expect(dump, "0018,0050", "5");
    dcm_expect(dump, "0020,0037", "1\\0\\0\\0\\1\\0");
    dcm_expect(dump, "0020,0032", "-18\\-16\\5");
    dcm_expect(dump, "0010,0020", "file-42");
    dcm_expect(dump, "0010,0010", "Anonymous");
    dcm_expect(dump, "0018,1030", "CORPD_FBK");
    dcm_expect(dump, "0018,0080", "500");
    dcm_expect(dump, "0018,0081", "12");
    dcm_expect(dump, "0008,103e", "mrirecon zf");
    dcm_expect(dump, "0008,0008", "DERIVED\\SECONDARY");
    snprintf(file, sizeof(file), "%s/IM00001.dcm", series);
    expect_pixels(file, mr_array_f32(&ref), 16 * 12);
    dcm_expect(dump, "0020,0032", "-18\\-16\\0");
    mr_array_cleanup(&ref);

    /* the bundled sample (one 230 x 180 slice, 1 mm): pixels, and its patient_id */
    snprintf(series, sizeof(series), "%s/brain", dir);
    snprintf(h5, sizeof(h5), "%s/brain.h5", dir);
    const char *c[] = { "recon", "-q", "-m", "zf", "--format", "dicom", sample, series };
    assert_int_equal(run(c, 8), 0);
    const char *d[] = { "recon", "-q", "-m", "zf", sample, h5 };
    assert_int_equal(run(d, 6), 0);
    read_reconstruction(h5, &ref);
    snprintf(file, sizeof(file), "%s/IM00001.dcm", series);
    expect_pixels(file, mr_array_f32(&ref), 230 * 180);
    dcm_expect(dump, "0010,0020", "sigpy-brain8");
    dcm_expect(dump, "0028,0030", "1\\1");
    dcm_expect(dump, "0020,0032", "-90\\-115\\0");
    mr_array_cleanup(&ref);
}

static void test_dicom_from_ismrmrd_geometry_and_pixels(void **state)
{
    char dir[4096];
    char series[4200];
    char h5[4200];
    char file[4400];
    struct mr_ismrmrd_file *f = NULL;
    ISMRMRD_Image im;
    (void)state;

    fresh("ismrmrd", dir, sizeof(dir));
    snprintf(series, sizeof(series), "%s/series/", dir); /* a trailing slash is the folder */
    snprintf(h5, sizeof(h5), "%s/images.h5", dir);
    const char *a[] = { "recon", "-q", "-m", "zf", "--format", "dicom", oblique, series };
    assert_int_equal(run(a, 8), 0);
    const char *b[] = { "recon", "-q", "-m", "zf", oblique, h5 };
    assert_int_equal(run(b, 6), 0);
    assert_int_equal(dcm_count(series, ".dcm"), 2); /* two repetitions */
    assert_int_equal(dcm_count(dir, ""), 2);

    /* 96 x 96 over 300 mm: 3.125 mm; pixel (48, 48) at the acquisitions' position */
    const double d = 3.125 * 48.0;
    char want[256];
    char v[256];
    double x[6];
    assert_int_equal(mr_ismrmrd_open(h5, &f), MR_OK);
    ismrmrd_init_image(&im);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(mr_ismrmrd_read_image(f, "image_0", i, &im), MR_OK);
        assert_int_equal(im.head.repetition, i);
        snprintf(file, sizeof(file), "%sIM%05u.dcm", series, i + 1);
        expect_pixels(file, im.data, 96 * 96);
        dcm_expect(dump, "0028,0030", "3.125\\3.125");
        dcm_expect(dump, "0018,0050", "6");
        dcm_expect(dump, "0010,0010", "Test^Phantom");
        dcm_expect(dump, "0010,0020", "PH-7");
        dcm_expect(dump, "0010,0040", "O");
        dcm_expect(dump, "0008,0020", "20230102");
        dcm_expect(dump, "0020,000d", "1.2.826.0.1.7");
        dcm_expect(dump, "0018,5100", "HFS");
        dcm_expect(dump, "0008,0080", "ISMRM Synthetic Imaging Lab");
        snprintf(want, sizeof(want), "%u", i + 1);
        dcm_expect(dump, "0020,0013", want);
        assert_true(dcm_get(dump, "0020,4000", v, sizeof(v))); /* the stage's trust report */
        assert_non_null(strstr(v, "mrirecon trust: dc_residual "));
        assert_non_null(strstr(v, ", flag 0"));
        assert_true(dcm_get(dump, "0020,0032", v, sizeof(v)));
        assert_int_equal(dcm_doubles(v, x, 3), 3);
        for (int k = 0; k < 3; k++) {
            double p = (double)pos0[k] - d * (double)read0[k] - d * (double)phase0[k];
            if (fabs(x[k] - p) > 1e-4)
                fail_msg("Image Position %s, expected %g at %d", v, p, k);
        }
        assert_true(dcm_get(dump, "0020,0037", v, sizeof(v)));
        assert_int_equal(dcm_doubles(v, x, 6), 6);
        for (int k = 0; k < 3; k++)
            assert_true(fabs(x[k] - (double)read0[k]) < 1e-6 &&
                        fabs(x[3 + k] - (double)phase0[k]) < 1e-6);
    }
    ismrmrd_cleanup_image(&im);
    mr_ismrmrd_close(f);
}

static void test_dicom_send_and_reproducible_uids(void **state)
{
    char dir[4096];
    char rx[4096];
    char s1[4200];
    char s2[4200];
    char spec[64];
    char f1[4400];
    char f2[4400];
    char uid[128];
    (void)state;

    fresh("send", dir, sizeof(dir));
    fresh("send_rx", rx, sizeof(rx));
    snprintf(s1, sizeof(s1), "%s/a", dir);
    snprintf(s2, sizeof(s2), "%s/b", dir);
    int port = dcm_free_port();
    assert_true(port > 0);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d:MRTEST", port);
    pid_t pid = dcm_storescp_start(port, "MRTEST", rx);
    if (pid < 0)
        fail_msg("cannot start DCMTK's storescp on port %d (Debian package dcmtk)", port);
    const char *a[] = { "recon", "-m", "zf", "--format", "dicom", "--reproducible-uids",
                        "--send", spec, "--calling-aet", "MRI_TEST", two_slices, s1 };
    int rc = run(a, 12);
    dcm_storescp_stop(pid);
    if (rc != 0)
        fail_msg("recon --send exited %d:\n%s", rc, stderr_text);
    assert_non_null(strstr(stderr_text, "stored the series on MRTEST@127.0.0.1"));
    assert_int_equal(dcm_count(rx, "MR."), 2);
    char got[4400];
    snprintf(f1, sizeof(f1), "%s/IM00002.dcm", s1);
    dcm_load(f1, dump, sizeof(dump));
    assert_true(dcm_get(dump, "0008,0018", uid, sizeof(uid)));
    snprintf(got, sizeof(got), "%s/MR.%s", rx, uid);
    dcm_load(got, dump, sizeof(dump));
    dcm_expect(dump, "0020,0013", "2");
    dcm_expect(dump, "0002,0016", "MRI_TEST"); /* storescp records the calling AE title */

    /* the same input and method again: the same UIDs, byte for byte the same files */
    const char *b[] = { "recon", "-q", "-m", "zf", "--format", "dicom", "--reproducible-uids",
                        two_slices, s2 };
    assert_int_equal(run(b, 9), 0);
    snprintf(f2, sizeof(f2), "%s/IM00002.dcm", s2);
    char cmd[9000];
    char out[256];
    snprintf(cmd, sizeof(cmd), "cmp '%s' '%s'", f1, f2);
    assert_int_equal(dcm_run(cmd, out, sizeof(out)), 0);
    /* without the option: new UIDs */
    const char *c[] = { "recon", "-q", "-m", "zf", "--format", "dicom", two_slices, s2 };
    assert_int_equal(run(c, 8), 0);
    dcm_load(f2, dump, sizeof(dump));
    char uid2[128];
    assert_true(dcm_get(dump, "0008,0018", uid2, sizeof(uid2)));
    assert_string_not_equal(uid, uid2);
}

/* run must exit `code` with `msg` on stderr */
static void expect_exit(const char *const *args, int n, int code, const char *msg)
{
    int rc = run(args, n);
    if (rc != code || strstr(stderr_text, msg) == NULL)
        fail_msg("exit %d (expected %d), stderr lacks '%s':\n%s", rc, code, msg, stderr_text);
}

static void test_dicom_errors_leave_no_half_series(void **state)
{
    char dir[4096];
    char out[4200];
    char spec[64];
    (void)state;

    fresh("errors", dir, sizeof(dir));
    snprintf(out, sizeof(out), "%s/series", dir);
    /* usage: exit 2, nothing written */
    const char *bad_spec[] = { "recon", "-q", "--format", "dicom", "--send", "pacs:0:AET",
                               two_slices, out };
    expect_exit(bad_spec, 8, 2, "the port must be a number 1..65535");
    const char *no_dicom[] = { "recon", "-q", "--send", "pacs:104:AET", two_slices, "x.h5" };
    expect_exit(no_dicom, 6, 2, "go with --format dicom");
    const char *dcm_name[] = { "recon", "-q", two_slices, "x.dcm" };
    expect_exit(dcm_name, 4, 2, "a DICOM series is a folder, written with --format dicom");
    const char *bad_fmt[] = { "recon", "-q", "--format", "jpeg", two_slices, out };
    expect_exit(bad_fmt, 6, 2, "unknown output format 'jpeg'");
    const char *bad_aet[] = { "recon", "-q", "--format", "dicom", "--calling-aet",
                              "MUCH_TOO_LONG_AE_TITLE", two_slices, out };
    expect_exit(bad_aet, 8, 2, "--calling-aet 'MUCH_TOO_LONG_AE_TITLE' must be");
    assert_int_equal(dcm_count(dir, ""), 0);

    /* an unwritable place: a file where the parent folder should be */
    char file[4200];
    snprintf(file, sizeof(file), "%s/plain", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(out, sizeof(out), "%s/plain/series", dir);
    const char *unwritable[] = { "recon", "-q", "-m", "zf", "--format", "dicom", two_slices,
                                 out };
    expect_exit(unwritable, 8, 1, "plain");
    assert_int_equal(dcm_count(dir, ""), 1);

    /* a folder holding other files is kept as it is */
    snprintf(out, sizeof(out), "%s/keep", dir);
    mkdir(out, 0755);
    snprintf(file, sizeof(file), "%s/keep/notes.txt", dir);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    const char *occupied[] = { "recon", "-q", "-m", "zf", "--format", "dicom", two_slices,
                               out };
    expect_exit(occupied, 8, 1, "holds 'notes.txt'");
    assert_int_equal(dcm_count(out, ""), 1);
    assert_int_equal(dcm_count(dir, ""), 2);

    /* no PACS listening: exit 1 naming the peer; the series is complete, no temporary */
    int port = dcm_free_port();
    snprintf(spec, sizeof(spec), "127.0.0.1:%d:NOBODY", port);
    snprintf(out, sizeof(out), "%s/sent", dir);
    const char *no_pacs[] = { "recon", "-q", "-m", "zf", "--format", "dicom", "--send", spec,
                              two_slices, out };
    char peer[64];
    snprintf(peer, sizeof(peer), "NOBODY@127.0.0.1:%d", port);
    expect_exit(no_pacs, 10, 1, peer);
    assert_non_null(strstr(stderr_text, "is written, but not stored"));
    assert_int_equal(dcm_count(out, ".dcm"), 2);
    assert_int_equal(dcm_count(dir, ""), 3);
}

int main(void)
{
    /* the tests compare the pixels of two runs: the same FFT plans in both (measured plans
     * vary with timing, under ASan visibly) */
    setenv("MR_FFT_PLANNER", "estimate", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dicom_from_fastmri_geometry_and_pixels),
        cmocka_unit_test(test_dicom_from_ismrmrd_geometry_and_pixels),
        cmocka_unit_test(test_dicom_send_and_reproducible_uids),
        cmocka_unit_test(test_dicom_errors_leave_no_half_series),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
