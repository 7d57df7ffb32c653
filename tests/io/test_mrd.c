/*
 * io/mrd: every message type written and read back over a descriptor, and the reader's caps on
 * crafted streams: text over the limit, acquisitions failing the header checks (centre outside
 * the readout), NaN/Inf samples, images whose size overflows ISMRMRD's int arithmetic or has an
 * unknown type, oversized waveforms, unknown ids and truncation; every error names the stream,
 * the message (id, number and first byte) and what was expected.
 */
#include "io_test.h"
#include "mr_test.h"

#include <complex.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/ismrmrd.h"
#include "io/mrd.h"

/* A scratch file for a stream: writers append to it, a reader reads it from the start. */
static int stream_open(const char *name)
{
    int fd = open(mr_test_tmp(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    return fd;
}

static void rewind_fd(int fd)
{
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
}

static void raw(int fd, const void *p, size_t n)
{
    assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void raw_id(int fd, uint16_t id)
{
    raw(fd, &id, sizeof(id));
}

static void make_acq(ISMRMRD_Acquisition *a, uint16_t ns, uint16_t nc)
{
    ismrmrd_init_acquisition(a);
    a->head.number_of_samples = ns;
    a->head.active_channels = nc;
    a->head.center_sample = ns / 2;
    a->head.scan_counter = 7;
    assert_int_equal(ismrmrd_make_consistent_acquisition(a), ISMRMRD_NOERROR);
    for (int k = 0; k < ns * nc; k++)
        a->data[k] = (float)k + 2.0f * I;
}

static void test_mrd_roundtrip(void **state)
{
    int fd = stream_open("round.mrd");
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    ISMRMRD_Acquisition a;
    ISMRMRD_Image im;
    ISMRMRD_WaveformHeader wh;
    uint32_t wd[6] = { 1, 2, 3, 4, 5, 6 };
    (void)state;

    make_acq(&a, 8, 2);
    ismrmrd_init_image(&im);
    im.head.data_type = ISMRMRD_FLOAT;
    im.head.matrix_size[0] = 4;
    im.head.matrix_size[1] = 3;
    im.head.matrix_size[2] = 1;
    im.head.channels = 1;
    im.head.attribute_string_len = 5;
    assert_int_equal(ismrmrd_make_consistent_image(&im), ISMRMRD_NOERROR);
    memcpy(im.attribute_string, "<a/>x", 5);
    for (int k = 0; k < 12; k++)
        ((float *)im.data)[k] = (float)k;
    ismrmrd_init_waveformheader(&wh);
    wh.channels = 2;
    wh.number_of_samples = 3;
    assert_int_equal(mr_mrd_write_config_file(fd, "cg.xml"), MR_OK);
    assert_int_equal(mr_mrd_write_text_message(fd, MR_MRD_HEADER, "<xml/>", 6), MR_OK);
    assert_int_equal(mr_mrd_write_acquisition(fd, &a), MR_OK);
    assert_int_equal(mr_mrd_write_image(fd, &im), MR_OK);
    assert_int_equal(mr_mrd_write_waveform(fd, &wh, wd), MR_OK);
    assert_int_equal(mr_mrd_write_error(fd, "bad"), MR_OK);
    assert_int_equal(mr_mrd_write_close(fd), MR_OK);
    rewind_fd(fd);

    mr_mrd_reader_init(&r, fd, "round.mrd");
    mr_mrd_message_init(&m);
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_int_equal(m.id, MR_MRD_CONFIG_FILE);
    assert_string_equal(m.text, "cg.xml");
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_string_equal(m.text, "<xml/>");
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_int_equal(m.id, MR_MRD_ACQUISITION);
    assert_memory_equal(&m.acq.head, &a.head, sizeof(a.head));
    assert_memory_equal(m.acq.data, a.data, 16 * sizeof(complex_float_t));
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_int_equal(m.id, MR_MRD_IMAGE);
    assert_memory_equal(m.image.data, im.data, 12 * sizeof(float));
    assert_string_equal(m.image.attribute_string, "<a/>x");
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_int_equal(m.id, MR_MRD_WAVEFORM);
    assert_memory_equal(m.waveform_data, wd, sizeof(wd));
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_string_equal(m.text, "bad");
    assert_int_equal(mr_mrd_read(&r, &m), MR_OK);
    assert_int_equal(m.id, MR_MRD_CLOSE);
    assert_int_equal(r.messages, 7);
    assert_int_equal(mr_mrd_read(&r, &m), MR_ERR_IO); /* the end, cleanly */
    assert_true(mr_mrd_reader_eof(&r));
    mr_mrd_message_cleanup(&m);
    ismrmrd_cleanup_acquisition(&a);
    ismrmrd_cleanup_image(&im);
    close(fd);
}

/* Reads messages until one fails; returns its status. */
static mr_status read_until_error(int fd, const char *what)
{
    struct mr_mrd_reader r;
    struct mr_mrd_message m;
    mr_status st = MR_OK;

    rewind_fd(fd);
    mr_mrd_reader_init(&r, fd, what);
    mr_mrd_message_init(&m);
    while ((st = mr_mrd_read(&r, &m)) == MR_OK && m.id != MR_MRD_CLOSE)
        ;
    mr_mrd_message_cleanup(&m);
    return st;
}

/* A stream of one IMAGE message cut after its header and attribute length: the reader must
 * refuse it from those alone. */
static void expect_bad_image(const ISMRMRD_ImageHeader *ih, uint64_t alen, const char *mention)
{
    int fd = stream_open("image.mrd");
    raw_id(fd, MR_MRD_IMAGE);
    raw(fd, ih, sizeof(*ih));
    raw(fd, &alen, sizeof(alen));
    assert_int_equal(read_until_error(fd, "peer"), MR_ERR_FORMAT);
    io_assert_error_mentions("IMAGE message 1", mention);
    close(fd);
}

static void test_mrd_reader_caps_and_names_messages(void **state)
{
    ISMRMRD_Acquisition a;
    int fd;
    (void)state;

    /* text over the limit: refused from its length alone */
    fd = stream_open("text.mrd");
    assert_int_equal(mr_mrd_write_text_message(fd, MR_MRD_HEADER, "<x/>", 4), MR_OK);
    raw_id(fd, MR_MRD_ERROR);
    uint64_t huge = (uint64_t)1 << 40;
    raw(fd, &huge, sizeof(huge));
    assert_int_equal(read_until_error(fd, "stdin"), MR_ERR_FORMAT);
    io_assert_error_mentions("stdin: ERROR message 2 (byte 10)", "1099511627776 bytes");
    close(fd);

    /* an acquisition whose centre lies outside its readout (an all-zero image downstream) */
    fd = stream_open("centre.mrd");
    make_acq(&a, 16, 2);
    assert_int_equal(mr_mrd_write_acquisition(fd, &a), MR_OK);
    a.head.center_sample = 300;
    a.head.scan_counter = 8;
    assert_int_equal(mr_mrd_write_acquisition(fd, &a), MR_OK);
    assert_int_equal(read_until_error(fd, "peer"), MR_ERR_FORMAT);
    io_assert_error_mentions("peer: ACQUISITION message 2 (byte 598) (scan_counter 8)",
                             "center_sample 300 is outside the readout of 16 samples");
    close(fd);

    /* an Inf sample, named as Inf at its channel and sample */
    fd = stream_open("inf.mrd");
    a.head.center_sample = 8;
    a.data[16 + 3] = CMPLXF(-INFINITY, 0.0f);
    assert_int_equal(mr_mrd_write_acquisition(fd, &a), MR_OK);
    assert_int_equal(read_until_error(fd, "peer"), MR_ERR_DATA);
    io_assert_error_mentions("ACQUISITION message 1",
                             "the real part of channel 1 sample 3 is -Inf");
    close(fd);
    ismrmrd_cleanup_acquisition(&a);

    /* an image whose element count overflows ISMRMRD's int sizes */
    ISMRMRD_ImageHeader ih;
    ismrmrd_init_image_header(&ih);
    ih.data_type = ISMRMRD_CXDOUBLE;
    ih.matrix_size[0] = 65535;
    ih.matrix_size[1] = 65535;
    ih.matrix_size[2] = 65535;
    ih.channels = 65535;
    expect_bad_image(&ih, 0, "over the limit");
    /* an unknown image data type */
    ih.matrix_size[1] = ih.matrix_size[2] = ih.channels = 1;
    ih.matrix_size[0] = 4;
    ih.data_type = 77;
    expect_bad_image(&ih, 0, "data_type 77");
    /* attributes over the limit */
    ih.data_type = ISMRMRD_FLOAT;
    expect_bad_image(&ih, (uint64_t)1 << 33, "attribute text of 8589934592 bytes");

    /* a waveform over the limit */
    ISMRMRD_WaveformHeader wh;
    ismrmrd_init_waveformheader(&wh);
    wh.channels = 65535;
    wh.number_of_samples = 65535;
    fd = stream_open("wave.mrd");
    raw_id(fd, MR_MRD_WAVEFORM);
    raw(fd, &wh, sizeof(wh));
    assert_int_equal(read_until_error(fd, "peer"), MR_ERR_FORMAT);
    io_assert_error_mentions("WAVEFORM message 1", "over the limit");
    close(fd);

    /* an unknown id, and a message cut short */
    fd = stream_open("unknown.mrd");
    assert_int_equal(mr_mrd_write_text_message(fd, MR_MRD_TEXT, "hello", 5), MR_OK);
    raw_id(fd, 999);
    assert_int_equal(read_until_error(fd, "peer"), MR_ERR_FORMAT);
    io_assert_error_mentions("unknown message id 999", "message 2, byte 11");
    close(fd);
    fd = stream_open("cut.mrd");
    raw_id(fd, MR_MRD_HEADER);
    uint32_t len = 100;
    raw(fd, &len, sizeof(len));
    raw(fd, "<ismrmrdHeader>", 15);
    assert_int_equal(read_until_error(fd, "peer"), MR_ERR_FORMAT);
    io_assert_error_mentions("truncated HEADER message 1 (byte 0)",
                             "needs 100 bytes, the stream ended after 15");
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mrd_roundtrip),
        cmocka_unit_test(test_mrd_reader_caps_and_names_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
