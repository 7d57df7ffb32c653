/*
 * io/dicom C-STORE: the HOST:PORT:AET spec, a series stored on DCMTK's storescp (started on
 * 127.0.0.1 on a free port, stopped afterwards) and read back from its folder, and the errors
 * (nobody listening, a file that is not there) with messages naming the peer and the file.
 */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom_tools.h"
#include "io/dicom.h"

static void test_dicom_peer_parse(void **state)
{
    struct mr_dicom_peer p;
    (void)state;

    assert_int_equal(mr_dicom_peer_parse("pacs.example.org:104:ARCHIVE", &p), MR_OK);
    assert_string_equal(p.host, "pacs.example.org");
    assert_int_equal(p.port, 104);
    assert_string_equal(p.called_aet, "ARCHIVE");
    assert_int_equal(mr_dicom_peer_parse("[::1]:11112:A B", &p), MR_OK);
    assert_string_equal(p.host, "::1");
    assert_int_equal(p.port, 11112);
    assert_string_equal(p.called_aet, "A B");

    static const struct {
        const char *spec;
        const char *msg;
    } bad[] = {
        { "pacs", "expected HOST:PORT:AET" },
        { ":104:AET", "the host is empty" },
        { "pacs:0:AET", "the port must be" },
        { "pacs:65536:AET", "the port must be" },
        { "pacs:10x:AET", "the port must be" },
        { "pacs:104", "the port must be" },
        { "pacs:104:", "the AE title ''" },
        { "pacs:104:SEVENTEEN_CHARS_XX", "must be 1 to 16 characters" },
        { "pacs:104:A\\B", "no backslash" },
        { "pacs:104:   ", "not only spaces" },
        { "[::1:104:AET", "IPv6 as [ADDR]" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mr_dicom_peer_parse(bad[i].spec, &p), MR_ERR_ARG);
        if (strstr(mr_last_error(), bad[i].msg) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].spec, mr_last_error(), bad[i].msg);
    }
}

/* n instances of a 6 x 4 ramp in folder dir; names into files[] (static storage) */
static void write_files(const char *dir, int n, char files[][4096])
{
    float px[24];
    struct mr_dicom_series s;
    struct mr_dicom_image im;
    static const double c[3] = { 0.0, 0.0, 0.0 };
    static const double r[3] = { 1.0, 0.0, 0.0 };
    static const double k[3] = { 0.0, 1.0, 0.0 };

    mkdir(dir, 0755);
    for (int i = 0; i < 24; i++)
        px[i] = (float)i;
    mr_dicom_series_init(&s);
    assert_int_equal(mr_dicom_series_uids(&s, NULL), MR_OK);
    memset(&im, 0, sizeof(im));
    im.data = px;
    im.rows = 4;
    im.cols = 6;
    im.pixel_spacing[0] = 1.0;
    im.pixel_spacing[1] = 1.0;
    im.slice_thickness = 2.0;
    mr_dicom_image_place(&im, c, r, k);
    assert_int_equal(mr_dicom_scale_fit(px, 24, &im.scale), MR_OK);
    for (int i = 0; i < n; i++) {
        im.instance_number = i + 1;
        assert_int_equal(mr_dicom_file_name(dir, i + 1, files[i], 4096), MR_OK);
        assert_int_equal(mr_dicom_write(files[i], &s, &im), MR_OK);
    }
}

static void test_dicom_send_to_storescp(void **state)
{
    static char files[3][4096];
    const char *list[3] = { files[0], files[1], files[2] };
    char rx[4096];
    char cmd[8400];
    char out[1024];
    (void)state;

    write_files(mr_test_tmp("tx"), 3, files);
    snprintf(rx, sizeof(rx), "%s", mr_test_tmp("rx"));
    assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s'", rx, rx) <
                (int)sizeof(cmd));
    assert_int_equal(dcm_run(cmd, out, sizeof(out)), 0);
    int port = dcm_free_port();
    assert_true(port > 0);
    pid_t pid = dcm_storescp_start(port, "MRTEST", rx);
    if (pid < 0)
        fail_msg("cannot start DCMTK's storescp on port %d (Debian package dcmtk)", port);
    mr_status st = mr_dicom_send(list, 3, "127.0.0.1", port, "MRTEST", NULL);
    dcm_storescp_stop(pid);
    if (st != MR_OK)
        fail_msg("send: %s", mr_last_error());

    /* storescp names files MR.<SOP Instance UID>: one per instance, with the same UIDs and
     * pixel data as sent */
    assert_int_equal(dcm_count(rx, "MR."), 3);
    static char sent[8192];
    static char got[8192];
    const char *show = "dcmdump -q -Un +P 0008,0018 +P 0020,0013 +P 7fe0,0010";
    assert_true(snprintf(cmd, sizeof(cmd), "%s '%s' '%s' '%s' | sort", show, files[0], files[1],
                         files[2]) < (int)sizeof(cmd));
    assert_int_equal(dcm_run(cmd, sent, sizeof(sent)), 0);
    assert_true(snprintf(cmd, sizeof(cmd), "%s '%s'/MR.* | sort", show, rx) < (int)sizeof(cmd));
    assert_int_equal(dcm_run(cmd, got, sizeof(got)), 0);
    assert_non_null(strstr(sent, "(0020,0013) IS [3]"));
    assert_string_equal(sent, got);
}

static void test_dicom_send_errors(void **state)
{
    static char files[1][4096];
    const char *list[1] = { files[0] };
    (void)state;

    write_files(mr_test_tmp("tx1"), 1, files);
    int port = dcm_free_port();
    assert_true(port > 0);
    assert_int_equal(mr_dicom_send(list, 1, "127.0.0.1", port, "NOBODY", NULL), MR_ERR_IO);
    char peer[64];
    snprintf(peer, sizeof(peer), "NOBODY@127.0.0.1:%d", port);
    assert_non_null(strstr(mr_last_error(), peer));
    assert_null(strchr(mr_last_error(), '\n'));

    assert_int_equal(mr_dicom_send(list, 0, "127.0.0.1", port, "NOBODY", NULL), MR_ERR_ARG);
    assert_int_equal(mr_dicom_send(list, 1, "127.0.0.1", port, "", NULL), MR_ERR_ARG);
    assert_int_equal(mr_dicom_send(list, 1, "127.0.0.1", 0, "A", NULL), MR_ERR_ARG);
    assert_int_equal(mr_dicom_send(list, 1, "127.0.0.1", port, "A", "BAD\\AET"), MR_ERR_ARG);

    /* a file that is not there: the association is up, the file named */
    char rx[4096];
    snprintf(rx, sizeof(rx), "%s", mr_test_tmp("rx2"));
    mkdir(rx, 0755);
    pid_t pid = dcm_storescp_start(port, "MRTEST", rx);
    if (pid < 0)
        fail_msg("cannot start DCMTK's storescp on port %d", port);
    const char *missing[1] = { mr_test_tmp("tx1/none.dcm") };
    mr_status st = mr_dicom_send(missing, 1, "127.0.0.1", port, "MRTEST", NULL);
    dcm_storescp_stop(pid);
    assert_int_equal(st, MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "none.dcm"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dicom_peer_parse),
        cmocka_unit_test(test_dicom_send_to_storescp),
        cmocka_unit_test(test_dicom_send_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
