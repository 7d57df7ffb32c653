/*
 * io/dicom: name-based UIDs against Python's uuid5, UID validity, the 16-bit intensity scaling,
 * text cleaning, the series from an ISMRMRD header (and its errors), ISMRMRD image geometry,
 * files read back by DCMTK's dcmdump (tags and pixel data), the series folder's atomic commit
 * and replacement, and every write error leaving nothing behind.
 */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom_tools.h"
#include "io/dicom.h"

static const char header_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
    " <subjectInformation><patientName>Doe^Jane</patientName><patientWeight_kg>61.5"
    "</patientWeight_kg><patientID> P-0042 </patientID><patientBirthdate>1980-02-29"
    "</patientBirthdate><patientGender>F</patientGender></subjectInformation>\n"
    " <studyInformation><studyDate>2024-05-17</studyDate><studyTime>13:45:07.123456789"
    "</studyTime><studyID>S1</studyID><accessionNumber>ACC9</accessionNumber>"
    "<referringPhysicianName>Who^Dr</referringPhysicianName><studyDescription>knee\\left"
    "</studyDescription><studyInstanceUID>1.2.3.4.5</studyInstanceUID>"
    "<bodyPartExamined>KNEE</bodyPartExamined></studyInformation>\n"
    " <measurementInformation><measurementID>m1</measurementID><seriesDate>2024-05-17"
    "</seriesDate><seriesTime>13:50:00Z</seriesTime><patientPosition>FFS</patientPosition>"
    "<initialSeriesNumber>7</initialSeriesNumber><protocolName>PD_FS</protocolName>"
    "<seriesDescription>raw</seriesDescription><frameOfReferenceUID>1.2.3.9"
    "</frameOfReferenceUID></measurementInformation>\n"
    " <acquisitionSystemInformation><systemVendor>ACME</systemVendor><systemModel>M3"
    "</systemModel><systemFieldStrength_T>2.89</systemFieldStrength_T><receiverChannels>8"
    "</receiverChannels><institutionName>Clinic</institutionName></acquisitionSystemInformation>\n"
    " <experimentalConditions><H1resonanceFrequency_Hz>123250000</H1resonanceFrequency_Hz>"
    "</experimentalConditions>\n"
    " <encoding><trajectory>cartesian</trajectory></encoding>\n"
    " <sequenceParameters><TR>2800</TR><TR>3000</TR><TE>27.5</TE><flipAngle_deg>150"
    "</flipAngle_deg></sequenceParameters>\n"
    "</ismrmrdHeader>\n";

static void test_dicom_uid_from_name_matches_python_uuid5(void **state)
{
    /* "2.25.%d" % uuid.uuid5(uuid.NAMESPACE_URL, name).int; lengths around SHA-1's padding
     * boundaries (16 namespace bytes + 39/40/47/48/111/112) */
    static const struct {
        const char *name;
        int repeat;
        const char *uid;
    } cases[] = {
        { "mrirecon:study:x", 1, "2.25.36933445541318010807750854323458663474" },
        { "", 1, "2.25.36292693063788229882697409986287399413" },
        { "a", 200, "2.25.169176422815243761497589219345997738306" },
        { "b", 39, "2.25.326225401199295370296885417030777368163" },
        { "b", 40, "2.25.50681929069351617442882409531915849258" },
        { "b", 47, "2.25.208720439739692773506986657541509522318" },
        { "b", 48, "2.25.209188565427510619205177984504848017728" },
        { "b", 111, "2.25.212078011260405750386774875034327230677" },
        { "b", 112, "2.25.100397081061224093486720973677747627300" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[256] = "";
        char uid[MR_DICOM_UID_SIZE];
        for (int k = 0; k < cases[i].repeat; k++)
            strcat(name, cases[i].name);
        mr_dicom_uid_from_name(name, uid);
        assert_string_equal(uid, cases[i].uid);
        assert_true(mr_dicom_uid_valid(uid));
    }
}

static void test_dicom_uid_valid(void **state)
{
    (void)state;
    assert_true(mr_dicom_uid_valid("1.2.840.10008.5.1.4.1.1.4"));
    assert_true(mr_dicom_uid_valid("0.1.0"));
    assert_false(mr_dicom_uid_valid(""));
    assert_false(mr_dicom_uid_valid("1..2"));
    assert_false(mr_dicom_uid_valid("1.2."));
    assert_false(mr_dicom_uid_valid(".1"));
    assert_false(mr_dicom_uid_valid("1.02"));
    assert_false(mr_dicom_uid_valid("1.2a"));
    assert_false(mr_dicom_uid_valid(
        "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25"));
}

static void test_dicom_scale_fit_covers_range_exactly(void **state)
{
    struct mr_test_rng r;
    float v[1000];
    struct mr_dicom_scale sc;
    (void)state;

    mr_test_rng_seed(&r, 3);
    for (int pass = 0; pass < 2; pass++) {
        double lo = pass == 0 ? 0.0 : -0.37;
        for (int i = 0; i < 1000; i++)
            v[i] = (float)(lo + (pass == 0 ? 1.234e-3 : 0.5) * mr_test_rng_uniform(&r));
        v[17] = pass == 0 ? 0.0f : (float)lo;
        assert_int_equal(mr_dicom_scale_fit(v, 1000, &sc), MR_OK);
        double vmin = v[0];
        double vmax = v[0];
        for (int i = 0; i < 1000; i++) {
            vmin = fmin(vmin, (double)v[i]);
            vmax = fmax(vmax, (double)v[i]);
        }
        /* intercept <= min(0, min), range covered, and both exactly their 10-digit text */
        assert_true(sc.intercept <= fmin(0.0, vmin));
        assert_true(sc.intercept + 65535.0 * sc.slope >= vmax);
        assert_true(65535.0 * sc.slope <= (vmax - fmin(0.0, vmin)) * (1.0 + 1e-8));
        char b[32];
        snprintf(b, sizeof(b), "%.10g", sc.slope);
        assert_true(strtod(b, NULL) == sc.slope);
        snprintf(b, sizeof(b), "%.10g", sc.intercept);
        assert_true(strtod(b, NULL) == sc.intercept);
        if (pass == 0)
            assert_true(sc.intercept == 0.0);
    }
    float zeros[4] = { 0 };
    assert_int_equal(mr_dicom_scale_fit(zeros, 4, &sc), MR_OK);
    assert_true(sc.slope == 1.0 && sc.intercept == 0.0);
    v[5] = NAN;
    assert_int_equal(mr_dicom_scale_fit(v, 1000, &sc), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "value 5 is NaN"));
    assert_int_equal(mr_dicom_scale_fit(v, 0, &sc), MR_ERR_ARG);
}

static void test_dicom_set_text_cleans_and_cuts_utf8(void **state)
{
    char b[8];
    (void)state;
    mr_dicom_set_text(b, sizeof(b), "  a\\b\tc  ");
    assert_string_equal(b, "a/b c");
    /* "ab" + é (2 bytes) + ü (2 bytes) + "xyz": 7 bytes fit, but that would split the ü */
    mr_dicom_set_text(b, sizeof(b), "ab\xc3\xa9\xc3\xbc\xc3\xbcz");
    assert_string_equal(b, "ab\xc3\xa9\xc3\xbc");
    mr_dicom_set_text(b, 4, "ab\xc3\xa9");
    assert_string_equal(b, "ab");
}

static void test_dicom_series_from_ismrmrd_header(void **state)
{
    struct mr_dicom_series s;
    (void)state;

    mr_dicom_series_init(&s);
    assert_string_equal(s.patient_name, "Anonymous");
    assert_string_equal(s.patient_id, "ANONYMOUS");
    assert_true(isnan(s.te_ms));
    assert_int_equal(mr_dicom_series_from_ismrmrd_xml(&s, header_xml, strlen(header_xml), "t"),
                     MR_OK);
    assert_string_equal(s.patient_name, "Doe^Jane");
    assert_string_equal(s.patient_id, "P-0042");
    assert_string_equal(s.patient_birth_date, "19800229");
    assert_string_equal(s.patient_sex, "F");
    assert_true(s.patient_weight_kg == 61.5);
    assert_string_equal(s.study_date, "20240517");
    assert_string_equal(s.study_time, "134507.123456");
    assert_string_equal(s.study_id, "S1");
    assert_string_equal(s.accession_number, "ACC9");
    assert_string_equal(s.referring_physician, "Who^Dr");
    assert_string_equal(s.study_description, "knee/left");
    assert_string_equal(s.study_uid, "1.2.3.4.5");
    assert_string_equal(s.body_part, "KNEE");
    assert_string_equal(s.series_date, "20240517");
    assert_string_equal(s.series_time, "135000");
    assert_string_equal(s.patient_position, "FFS");
    assert_string_equal(s.protocol_name, "PD_FS");
    assert_string_equal(s.frame_uid, "1.2.3.9");
    assert_string_equal(s.series_description, "mrirecon"); /* the raw series' is not taken */
    assert_int_equal(s.series_number, 1);
    assert_string_equal(s.manufacturer, "ACME");
    assert_string_equal(s.model, "M3");
    assert_string_equal(s.institution, "Clinic");
    assert_true(s.field_strength_t == 2.89);
    assert_true(fabs(s.imaging_frequency_mhz - 123.25) < 1e-12);
    assert_true(s.tr_ms == 2800.0 && s.te_ms == 27.5 && s.flip_angle_deg == 150.0);
    assert_true(isnan(s.ti_ms));

    /* a header with none of it (sl96_a2's): only the equipment's institution */
    static const char bare[] = "<ismrmrdHeader><acquisitionSystemInformation><institutionName>"
                               "Lab</institutionName></acquisitionSystemInformation>"
                               "</ismrmrdHeader>";
    mr_dicom_series_init(&s);
    assert_int_equal(mr_dicom_series_from_ismrmrd_xml(&s, bare, strlen(bare), "t"), MR_OK);
    assert_string_equal(s.patient_name, "Anonymous");
    assert_string_equal(s.institution, "Lab");
    assert_string_equal(s.study_uid, "");
}

/* header_xml with `from` replaced by `to` must fail with MR_ERR_FORMAT naming `expect`,
 * leaving the series untouched */
static void expect_bad(const char *from, const char *to, const char *expect)
{
    char xml[sizeof(header_xml) + 64];
    const char *at = strstr(header_xml, from);
    assert_non_null(at);
    snprintf(xml, sizeof(xml), "%.*s%s%s", (int)(at - header_xml), header_xml, to,
             at + strlen(from));
    struct mr_dicom_series s;
    mr_dicom_series_init(&s);
    assert_int_equal(mr_dicom_series_from_ismrmrd_xml(&s, xml, strlen(xml), "'x.h5'"),
                     MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), expect));
    assert_non_null(strstr(mr_last_error(), "'x.h5'"));
    assert_string_equal(s.patient_name, "Anonymous");
}

static void test_dicom_series_header_errors(void **state)
{
    (void)state;
    expect_bad("1980-02-29", "29.02.1980", "patientBirthdate> is '29.02.1980'");
    expect_bad("13:45:07.123456789", "1pm", "studyTime> is '1pm'");
    expect_bad(">F<", ">female<", "patientGender> is 'female'");
    expect_bad(">FFS<", ">prone<", "patientPosition> is 'prone'");
    expect_bad("1.2.3.4.5", "1.2.03", "studyInstanceUID> is '1.2.03', not a DICOM UID");
    expect_bad("<TE>27.5", "<TE>short", "TE> is 'short'");
    expect_bad("</ismrmrdHeader>", "", "not an ISMRMRD XML header");
    struct mr_dicom_series s;
    mr_dicom_series_init(&s);
    assert_int_equal(mr_dicom_series_from_ismrmrd_xml(&s, "<other/>", 8, "t"), MR_ERR_FORMAT);
}

static void test_dicom_series_uids_reproducible_or_unique(void **state)
{
    struct mr_dicom_series a;
    struct mr_dicom_series b;
    (void)state;

    mr_dicom_series_init(&a);
    mr_dicom_series_init(&b);
    assert_int_equal(mr_dicom_series_uids(&a, "in.h5"), MR_OK);
    assert_int_equal(mr_dicom_series_uids(&b, "in.h5"), MR_OK);
    assert_true(a.reproducible);
    assert_string_equal(a.study_uid, b.study_uid);
    assert_string_equal(a.series_uid, b.series_uid);
    assert_string_equal(a.frame_uid, b.frame_uid);
    char uid[MR_DICOM_UID_SIZE];
    mr_dicom_uid_from_name("mrirecon:study:in.h5", uid);
    assert_string_equal(a.study_uid, uid);
    mr_dicom_uid_from_name("mrirecon:series:in.h5:1:mrirecon", uid);
    assert_string_equal(a.series_uid, uid);

    /* another series of the same input: same study and frame, new series */
    mr_dicom_series_init(&b);
    b.series_number = 2;
    assert_int_equal(mr_dicom_series_uids(&b, "in.h5"), MR_OK);
    assert_string_equal(a.study_uid, b.study_uid);
    assert_string_not_equal(a.series_uid, b.series_uid);

    /* unique: DCMTK's roots, different every time; the header's UIDs are kept */
    mr_dicom_series_init(&a);
    mr_dicom_series_init(&b);
    snprintf(b.study_uid, sizeof(b.study_uid), "1.2.3");
    assert_int_equal(mr_dicom_series_uids(&a, NULL), MR_OK);
    assert_int_equal(mr_dicom_series_uids(&b, NULL), MR_OK);
    assert_false(a.reproducible);
    assert_true(strncmp(a.study_uid, "1.2.276.0.7230010.3.1.2.", 24) == 0);
    assert_true(strncmp(a.series_uid, "1.2.276.0.7230010.3.1.3.", 24) == 0);
    assert_true(mr_dicom_uid_valid(a.frame_uid));
    assert_string_not_equal(a.series_uid, b.series_uid);
    assert_string_equal(b.study_uid, "1.2.3");

    snprintf(a.series_uid, sizeof(a.series_uid), "1.x");
    assert_int_equal(mr_dicom_series_uids(&a, NULL), MR_ERR_ARG);
}

/* an ISMRMRD image of x = 7 columns, y = 5 rows, oblique, float magnitude */
static void make_ismrmrd_image(ISMRMRD_Image *im)
{
    ismrmrd_init_image(im);
    im->head.data_type = ISMRMRD_FLOAT;
    im->head.matrix_size[0] = 7;
    im->head.matrix_size[1] = 5;
    im->head.matrix_size[2] = 1;
    im->head.channels = 1;
    im->head.field_of_view[0] = 14.0f; /* 2 mm columns */
    im->head.field_of_view[1] = 15.0f; /* 3 mm rows */
    im->head.field_of_view[2] = 4.0f;
    const float pos[3] = { 10.0f, -20.0f, 30.0f };
    const float c = 0.6f;
    const float s = 0.8f;
    const float rd[3] = { c, s, 0.0f };
    const float pd[3] = { -s, c, 0.0f };
    memcpy(im->head.position, pos, sizeof(pos));
    memcpy(im->head.read_dir, rd, sizeof(rd));
    memcpy(im->head.phase_dir, pd, sizeof(pd));
    im->head.image_index = 3;
    assert_int_equal(ismrmrd_make_consistent_image(im), ISMRMRD_NOERROR);
    float *d = im->data;
    for (int i = 0; i < 35; i++)
        d[i] = 0.01f * (float)(i * i % 17) + (i == 12 ? 3.5f : 0.0f);
}

static void test_dicom_image_from_ismrmrd_geometry(void **state)
{
    ISMRMRD_Image im;
    struct mr_dicom_image d;
    (void)state;

    make_ismrmrd_image(&im);
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_OK);
    assert_int_equal(d.rows, 5);
    assert_int_equal(d.cols, 7);
    assert_int_equal(d.instance_number, 3);
    assert_true(d.pixel_spacing[0] == 3.0 && d.pixel_spacing[1] == 2.0);
    assert_true(d.slice_thickness == 4.0);
    /* pixel (2, 3) sits at the position: first pixel = pos - 3*2*read - 2*3*phase */
    const double rd[3] = { 0.6, 0.8, 0.0 };
    const double pd[3] = { -0.8, 0.6, 0.0 };
    const double pos[3] = { 10.0, -20.0, 30.0 };
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(d.position[i] - (pos[i] - 6.0 * rd[i] - 6.0 * pd[i])) < 1e-5);
        assert_true(fabs(d.row_dir[i] - rd[i]) < 1e-6 && fabs(d.col_dir[i] - pd[i]) < 1e-6);
    }
    assert_ptr_equal(d.data, im.data);

    /* no geometry recorded: axial default, the same centring */
    memset(im.head.read_dir, 0, sizeof(im.head.read_dir));
    memset(im.head.phase_dir, 0, sizeof(im.head.phase_dir));
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_OK);
    assert_true(d.row_dir[0] == 1.0 && d.col_dir[1] == 1.0);
    assert_true(fabs(d.position[0] - 4.0) < 1e-5 && fabs(d.position[1] + 26.0) < 1e-5);

    /* errors */
    im.head.read_dir[0] = 1.0f;
    im.head.phase_dir[0] = 1.0f;
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "not orthogonal unit vectors"));
    im.head.phase_dir[0] = 0.0f;
    im.head.phase_dir[1] = 1.0f;
    im.head.field_of_view[2] = 0.0f;
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_ERR_ARG);
    im.head.field_of_view[2] = 4.0f;
    ((float *)im.data)[4] = INFINITY;
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "image 3"));
    im.head.channels = 2;
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_ERR_ARG);
    ismrmrd_cleanup_image(&im);
}

/* the series of header_xml with reproducible UIDs */
static void header_series(struct mr_dicom_series *s)
{
    mr_dicom_series_init(s);
    assert_int_equal(mr_dicom_series_from_ismrmrd_xml(s, header_xml, strlen(header_xml), "t"),
                     MR_OK);
    snprintf(s->series_description, sizeof(s->series_description), "mrirecon cs");
    s->series_number = 4;
    assert_int_equal(mr_dicom_series_uids(s, "seed"), MR_OK);
}

/* dcmdump's listing of a file (DCMTK's dcmdump must be installed: Debian package dcmtk) */
static char dump[65536];

static void test_dicom_write_reads_back_with_dcmdump(void **state)
{
    ISMRMRD_Image im;
    struct mr_dicom_image d;
    struct mr_dicom_series s;
    char path[4096];
    char v[1024];
    (void)state;

    make_ismrmrd_image(&im);
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_OK);
    header_series(&s);
    snprintf(path, sizeof(path), "%s", mr_test_tmp("one.dcm"));
    assert_int_equal(mr_dicom_write(path, &s, &d), MR_OK);

    char cmd[8400];
    size_t n = 0;
    uint16_t *px = dcm_dump_pixels(path, mr_test_tmp("raw1"), dump, sizeof(dump), &n);
    if (px == NULL)
        fail_msg("dcmdump cannot read '%s' cleanly (is DCMTK's dcmdump installed?):\n%s", path,
                 dump);
    dcm_expect(dump, "0002,0010", "1.2.840.10008.1.2.1"); /* Explicit VR Little Endian */
    dcm_expect(dump, "0008,0016", "1.2.840.10008.5.1.4.1.1.4");
    dcm_expect(dump, "0002,0002", "1.2.840.10008.5.1.4.1.1.4");
    dcm_expect(dump, "0008,0008", "DERIVED\\SECONDARY");
    dcm_expect(dump, "0008,0060", "MR");
    dcm_expect(dump, "0008,103e", "mrirecon cs");
    dcm_expect(dump, "0010,0010", "Doe^Jane");
    dcm_expect(dump, "0010,0020", "P-0042");
    dcm_expect(dump, "0010,0030", "19800229");
    dcm_expect(dump, "0008,0020", "20240517");
    dcm_expect(dump, "0008,0030", "134507.123456");
    dcm_expect(dump, "0020,000d", "1.2.3.4.5");
    dcm_expect(dump, "0020,0052", "1.2.3.9");
    dcm_expect(dump, "0020,000e", s.series_uid);
    dcm_expect(dump, "0020,0011", "4");
    dcm_expect(dump, "0020,0013", "3");
    dcm_expect(dump, "0018,5100", "FFS");
    dcm_expect(dump, "0018,0081", "27.5");
    assert_false(dcm_get(dump, "0018,0082", v, sizeof(v))); /* TI unknown: type 3, absent */
    dcm_expect(dump, "0018,0080", "2800");
    dcm_expect(dump, "0028,0010", "5");
    dcm_expect(dump, "0028,0011", "7");
    dcm_expect(dump, "0028,0100", "16");
    dcm_expect(dump, "0028,0103", "0");
    dcm_expect(dump, "0028,0004", "MONOCHROME2");
    dcm_expect(dump, "0028,0030", "3\\2");
    dcm_expect(dump, "0018,0050", "4");
    char uid[MR_DICOM_UID_SIZE];
    char name[128];
    snprintf(name, sizeof(name), "mrirecon:instance:%s:3", s.series_uid);
    mr_dicom_uid_from_name(name, uid);
    dcm_expect(dump, "0008,0018", uid);

    double x[6];
    assert_true(dcm_get(dump, "0020,0032", v, sizeof(v)));
    assert_int_equal(dcm_doubles(v, x, 3), 3);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(x[i] - d.position[i]) < 1e-6);
    assert_true(dcm_get(dump, "0020,0037", v, sizeof(v)));
    assert_int_equal(dcm_doubles(v, x, 6), 6);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(x[i] - d.row_dir[i]) < 1e-7 && fabs(x[3 + i] - d.col_dir[i]) < 1e-7);

    /* pixels: stored x slope + intercept = the image within half a step */
    assert_true(dcm_get(dump, "0028,1053", v, sizeof(v)));
    double slope = strtod(v, NULL);
    assert_true(dcm_get(dump, "0028,1052", v, sizeof(v)));
    double icpt = strtod(v, NULL);
    assert_true(slope == d.scale.slope && icpt == d.scale.intercept);
    assert_int_equal(n, 35);
    const float *ref = im.data;
    uint16_t top = 0;
    for (size_t i = 0; i < n; i++) {
        double back = (double)px[i] * slope + icpt;
        assert_true(fabs(back - (double)ref[i]) <= 0.5 * slope * (1.0 + 1e-6));
        top = px[i] > top ? px[i] : top;
    }
    assert_true(top >= 65534); /* the maximum uses the full range */
    free(px);

    /* same series, same instance: the same bytes again (reproducible UIDs, no timestamps) */
    char again[4096];
    snprintf(again, sizeof(again), "%s", mr_test_tmp("again.dcm"));
    assert_int_equal(mr_dicom_write(again, &s, &d), MR_OK);
    snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", path, again);
    assert_int_equal(system(cmd), 0);
    ismrmrd_cleanup_image(&im);
}

static void test_dicom_write_errors_leave_nothing(void **state)
{
    ISMRMRD_Image im;
    struct mr_dicom_image d;
    struct mr_dicom_series s;
    char path[4096];
    (void)state;

    make_ismrmrd_image(&im);
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_OK);
    header_series(&s);

    /* a folder that is a file: MR_ERR_IO naming the path */
    snprintf(path, sizeof(path), "%s", mr_test_tmp("plainfile"));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/x.dcm", mr_test_tmp("plainfile"));
    assert_int_equal(mr_dicom_write(path, &s, &d), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "plainfile/x.dcm"));

    /* a NaN pixel, sizes, missing UIDs: nothing written */
    mkdir(mr_test_tmp("errs"), 0755);
    snprintf(path, sizeof(path), "%s/x.dcm", mr_test_tmp("errs"));
    ((float *)im.data)[8] = NAN;
    assert_int_equal(mr_dicom_write(path, &s, &d), MR_ERR_DATA);
    assert_non_null(strstr(mr_last_error(), "pixel (1, 1) is NaN"));
    ((float *)im.data)[8] = 0.0f;
    d.rows = 70000;
    assert_int_equal(mr_dicom_write(path, &s, &d), MR_ERR_ARG);
    d.rows = 5;
    d.instance_number = -1;
    assert_int_equal(mr_dicom_write(path, &s, &d), MR_ERR_ARG);
    d.instance_number = 1;
    d.pixel_spacing[0] = 0.0;
    assert_int_equal(mr_dicom_write(path, &s, &d), MR_ERR_ARG);
    d.pixel_spacing[0] = 3.0;
    struct mr_dicom_series bare;
    mr_dicom_series_init(&bare);
    assert_int_equal(mr_dicom_write(path, &bare, &d), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "mr_dicom_series_uids"));
    assert_int_equal(dcm_count(mr_test_tmp("errs"), ""), 0);
    ismrmrd_cleanup_image(&im);
}

/* writes instances first..first+n-1 of image `im` into a series folder; commit or not */
static mr_status write_series(const char *dir, int first, int n, bool commit)
{
    ISMRMRD_Image im;
    struct mr_dicom_image d;
    struct mr_dicom_series s;
    struct mr_dicom_dir *dd = NULL;
    mr_status st;

    make_ismrmrd_image(&im);
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_OK);
    header_series(&s);
    st = mr_dicom_dir_create(dir, &dd);
    for (int i = 0; i < n && st == MR_OK; i++) {
        d.instance_number = first + i;
        st = mr_dicom_dir_write(dd, &s, &d);
    }
    if (st == MR_OK && commit)
        st = mr_dicom_dir_commit(dd);
    else
        mr_dicom_dir_free(dd);
    ismrmrd_cleanup_image(&im);
    return st;
}

static void test_dicom_dir_appears_whole_and_replaces(void **state)
{
    char dir[4200];
    char parent[4096];
    char file[4400];
    (void)state;

    char out[256];
    snprintf(parent, sizeof(parent), "%s", mr_test_tmp("series_parent"));
    assert_true(snprintf(file, sizeof(file), "rm -rf '%s' && mkdir '%s'", parent, parent) <
                (int)sizeof(file));
    assert_int_equal(dcm_run(file, out, sizeof(out)), 0); /* fresh from earlier runs */
    snprintf(dir, sizeof(dir), "%s/s1/", parent); /* trailing slash: the folder s1 */

    /* abandoned: nothing at all */
    assert_int_equal(write_series(dir, 1, 2, false), MR_OK);
    assert_int_equal(dcm_count(parent, ""), 0);

    /* committed: exactly the series, no temporary left */
    assert_int_equal(write_series(dir, 1, 3, true), MR_OK);
    assert_int_equal(dcm_count(parent, ""), 1);
    assert_int_equal(dcm_count(dir, ".dcm"), 3);
    assert_int_equal(mr_dicom_file_name(dir, 2, file, sizeof(file)), MR_OK);
    assert_true(strstr(file, "s1/IM00002.dcm") != NULL && strstr(file, "//") == NULL);
    dcm_load(file, dump, sizeof(dump));
    dcm_expect(dump, "0020,0013", "2");

    /* a new series replaces the old one whole: 2 files, not 3 */
    assert_int_equal(write_series(dir, 10, 2, true), MR_OK);
    assert_int_equal(dcm_count(parent, ""), 1);
    assert_int_equal(dcm_count(dir, ".dcm"), 2);
    assert_int_equal(dcm_count(dir, "IM00010.dcm"), 1);

    /* twice the same instance number */
    struct mr_dicom_dir *dd = NULL;
    ISMRMRD_Image im;
    struct mr_dicom_image d;
    struct mr_dicom_series s;
    make_ismrmrd_image(&im);
    assert_int_equal(mr_dicom_image_from_ismrmrd(&im, &d), MR_OK);
    header_series(&s);
    assert_int_equal(mr_dicom_dir_create(dir, &dd), MR_OK);
    assert_int_equal(mr_dicom_dir_write(dd, &s, &d), MR_OK);
    assert_int_equal(mr_dicom_dir_write(dd, &s, &d), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "instance number 3 twice"));
    mr_dicom_dir_free(dd);
    ismrmrd_cleanup_image(&im);

    /* a folder holding something else is kept and refused, before anything is written */
    snprintf(file, sizeof(file), "%s/notes.txt", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(write_series(dir, 1, 1, true), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "holds 'notes.txt'"));
    assert_int_equal(dcm_count(dir, ""), 3);
    assert_int_equal(dcm_count(parent, ""), 1);

    /* a missing parent folder, a file in the way */
    snprintf(file, sizeof(file), "%s/no/such/s", parent);
    assert_int_equal(write_series(file, 1, 1, true), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "cannot create a folder next to"));
    snprintf(file, sizeof(file), "%s/notes.txt", dir);
    assert_int_equal(write_series(file, 1, 1, true), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "is not a folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dicom_uid_from_name_matches_python_uuid5),
        cmocka_unit_test(test_dicom_uid_valid),
        cmocka_unit_test(test_dicom_scale_fit_covers_range_exactly),
        cmocka_unit_test(test_dicom_set_text_cleans_and_cuts_utf8),
        cmocka_unit_test(test_dicom_series_from_ismrmrd_header),
        cmocka_unit_test(test_dicom_series_header_errors),
        cmocka_unit_test(test_dicom_series_uids_reproducible_or_unique),
        cmocka_unit_test(test_dicom_image_from_ismrmrd_geometry),
        cmocka_unit_test(test_dicom_write_reads_back_with_dcmdump),
        cmocka_unit_test(test_dicom_write_errors_leave_nothing),
        cmocka_unit_test(test_dicom_dir_appears_whole_and_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
