/* io/ismrmrd_header: a full header (the ISMRMRD test-suite shape), defaults for optional
 * fields, a header without namespace, several encodings, and each malformed-XML error. */
#include "mr_test.h"

#include <string.h>

#include "io/ismrmrd_header.h"

static const char full[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
    "  <acquisitionSystemInformation>\n"
    "    <systemFieldStrength_T>2.89362</systemFieldStrength_T>\n"
    "    <receiverChannels> 15 </receiverChannels>\n"
    "  </acquisitionSystemInformation>\n"
    "  <encoding>\n"
    "    <encodedSpace><matrixSize><x>640</x><y>368</y><z>1</z></matrixSize>\n"
    "      <fieldOfView_mm><x>280</x><y>161</y><z>4.5</z></fieldOfView_mm></encodedSpace>\n"
    "    <reconSpace><matrixSize><x>320</x><y>320</y><z>1</z></matrixSize>\n"
    "      <fieldOfView_mm><x>140</x><y>140</y><z>3</z></fieldOfView_mm></reconSpace>\n"
    "    <trajectory>cartesian</trajectory>\n"
    "    <encodingLimits>\n"
    "      <kspace_encoding_step_1><minimum>0</minimum><maximum>366</maximum>"
    "<center>185</center></kspace_encoding_step_1>\n"
    "      <kspace_encoding_step_2><minimum>0</minimum><maximum>0</maximum>"
    "<center>0</center></kspace_encoding_step_2>\n"
    "      <slice><minimum>0</minimum><maximum>34</maximum><center>17</center></slice>\n"
    "    </encodingLimits>\n"
    "    <parallelImaging><accelerationFactor><kspace_encoding_step_1>2"
    "</kspace_encoding_step_1><kspace_encoding_step_2>1</kspace_encoding_step_2>"
    "</accelerationFactor></parallelImaging>\n"
    "  </encoding>\n"
    "  <encoding><encodedSpace><matrixSize><x>8</x><y>8</y></matrixSize></encodedSpace>"
    "<reconSpace><matrixSize><x>8</x><y>8</y></matrixSize></reconSpace></encoding>\n"
    "</ismrmrdHeader>\n";

static void test_ismrmrd_header_full(void **state)
{
    struct mr_ismrmrd_header h;
    (void)state;

    assert_int_equal(mr_ismrmrd_header_parse(full, strlen(full), "full", &h), MR_OK);
    assert_int_equal(h.n_encodings, 2);
    assert_int_equal(h.enc_matrix[0], 640);
    assert_int_equal(h.enc_matrix[1], 368);
    assert_int_equal(h.enc_matrix[2], 1);
    assert_true(h.enc_fov_mm[0] == 280.0 && h.enc_fov_mm[2] == 4.5);
    assert_int_equal(h.recon_matrix[0], 320);
    assert_true(h.recon_fov_mm[1] == 140.0);
    assert_true(h.kspace_encoding_step_1.present);
    assert_int_equal(h.kspace_encoding_step_1.maximum, 366);
    assert_int_equal(h.kspace_encoding_step_1.center, 185);
    assert_true(h.kspace_encoding_step_2.present);
    assert_int_equal(h.slice.maximum, 34);
    assert_string_equal(h.trajectory, "cartesian");
    assert_int_equal(h.accel[0], 2);
    assert_int_equal(h.accel[1], 1);
    assert_int_equal(h.receiver_channels, 15); /* whitespace trimmed */
    assert_true(h.field_strength_t == 2.89362);
}

static void test_ismrmrd_header_minimal_without_namespace(void **state)
{
    static const char xml[] = "<ismrmrdHeader><encoding><encodedSpace><matrixSize><x>4</x>"
                              "<y>6</y></matrixSize></encodedSpace><reconSpace><matrixSize>"
                              "<x>2</x><y>3</y></matrixSize></reconSpace></encoding>"
                              "</ismrmrdHeader>";
    struct mr_ismrmrd_header h;
    (void)state;

    /* not NUL-terminated at len: parse only the given bytes */
    char buf[sizeof(xml) + 8];
    memcpy(buf, xml, sizeof(xml) - 1);
    memcpy(buf + sizeof(xml) - 1, "garbage", 8);
    assert_int_equal(mr_ismrmrd_header_parse(buf, sizeof(xml) - 1, "min", &h), MR_OK);
    assert_int_equal(h.n_encodings, 1);
    assert_int_equal(h.enc_matrix[2], 1); /* z defaults to 1 */
    assert_int_equal(h.recon_matrix[1], 3);
    assert_true(h.enc_fov_mm[0] == 0.0);
    assert_false(h.kspace_encoding_step_1.present);
    assert_false(h.slice.present);
    assert_string_equal(h.trajectory, "");
    assert_int_equal(h.accel[0], 1);
    assert_int_equal(h.accel[1], 1);
    assert_int_equal(h.receiver_channels, 0);
}

static void expect_bad(const char *xml, const char *m1, const char *m2)
{
    struct mr_ismrmrd_header h;
    assert_int_equal(mr_ismrmrd_header_parse(xml, strlen(xml), "'f.h5' xml", &h),
                     MR_ERR_FORMAT);
    const char *msg = mr_last_error();
    if (strstr(msg, "'f.h5' xml") == NULL || strstr(msg, m1) == NULL ||
        (m2 != NULL && strstr(msg, m2) == NULL))
        fail_msg("error '%s' should mention '%s' and '%s'", msg, m1, m2 != NULL ? m2 : "");
}

#define ENC(body) "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>" body \
                  "</encoding></ismrmrdHeader>"
#define SPACES(ex, rx)                                                                        \
    "<encodedSpace><matrixSize><x>" ex "</x><y>4</y></matrixSize></encodedSpace>"              \
    "<reconSpace><matrixSize><x>" rx "</x><y>4</y></matrixSize></reconSpace>"

static void test_ismrmrd_header_errors(void **state)
{
    (void)state;
    expect_bad("", "not well-formed", NULL);
    expect_bad("<ismrmrdHeader><encoding>", "not well-formed", "line");
    expect_bad("<a></b>", "not well-formed", NULL);
    expect_bad("<header/>", "<header>", "<ismrmrdHeader>");
    expect_bad("<ismrmrdHeader xmlns=\"urn:other\"/>", "urn:other", MR_ISMRMRD_NAMESPACE);
    expect_bad("<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"/>", "no <encoding>", NULL);
    expect_bad(ENC("<reconSpace/>"), "encodedSpace/matrixSize", NULL);
    expect_bad(ENC(SPACES("abc", "4")), "encodedSpace/matrixSize/x", "'abc'");
    expect_bad(ENC(SPACES("4", "0")), "reconSpace/matrixSize/x", "1..65535");
    /* sizes the stage allocates from: bounded as the schema's unsignedShort */
    expect_bad(ENC(SPACES("1099511627776", "4")), "encodedSpace/matrixSize/x", "1..65535");
    expect_bad(ENC(SPACES("4", "4") "<encodingLimits><kspace_encoding_step_1><minimum>0"
                   "</minimum><maximum>70000</maximum><center>2</center>"
                   "</kspace_encoding_step_1></encodingLimits>"),
               "encodingLimits/kspace_encoding_step_1", "maximum 70000");
    expect_bad(ENC(SPACES("4", "4") "<encodingLimits><slice><minimum>3</minimum><maximum>1"
                   "</maximum><center>0</center></slice></encodingLimits>"),
               "encodingLimits/slice", "maximum <= 65535");
    expect_bad(ENC(SPACES("4", "4") "<encodingLimits><kspace_encoding_step_1><minimum>0"
                   "</minimum><maximum>3</maximum></kspace_encoding_step_1></encodingLimits>"),
               "kspace_encoding_step_1/center", NULL);
    expect_bad(ENC(SPACES("4", "4") "<parallelImaging><accelerationFactor>"
                   "<kspace_encoding_step_1>0</kspace_encoding_step_1></accelerationFactor>"
                   "</parallelImaging>"),
               "acceleration", NULL);
    expect_bad(ENC("<encodedSpace><matrixSize><x>4</x><y>4</y></matrixSize><fieldOfView_mm>"
                   "<x>1e</x></fieldOfView_mm></encodedSpace>"),
               "fieldOfView_mm/x", "expected a number");
    /* elements of another namespace do not count as ISMRMRD's */
    expect_bad("<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\" xmlns:o=\"urn:o\">"
               "<o:encoding>" SPACES("4", "4") "</o:encoding></ismrmrdHeader>",
               "no <encoding>", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ismrmrd_header_full),
        cmocka_unit_test(test_ismrmrd_header_minimal_without_namespace),
        cmocka_unit_test(test_ismrmrd_header_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
