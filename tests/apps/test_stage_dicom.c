/*
 * The stage emits DICOM too: `stage --dicom-dir DIR` writes each stream's images as one series
 * folder DIR/<Series Instance UID> at its CLOSE (pixels equal to the stream's ISMRMRD images
 * after scaling, geometry from their headers), and `--send` stores it on a PACS (DCMTK's
 * storescp on 127.0.0.1). A stream that fails writes no series.
 */
#include "mr_test.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../io/dicom_tools.h"
#include "io/h5.h"

int mr_main_stage(int argc, char *argv[]);
int mr_main_to_stream(int argc, char *argv[]);
int mr_main_from_stream(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char dump[65536];

static const char *source(const char *rel)
{
    static char buf[4096];
    const char *src = getenv("MR_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/%s", src != NULL ? src : ".", rel);
    return buf;
}

/* the one series folder inside dir */
static void series_folder(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            snprintf(out, cap, "%s/%s", dir, e->d_name);
            n++;
        }
    closedir(d);
    assert_int_equal(n, 1);
}

static void test_stage_writes_and_sends_a_series(void **state)
{
    char stream[4096];
    char resp[4096];
    char images[4096];
    char dir[4096];
    char rx[4096];
    char spec[64];
    char series[4400];
    char file[4600];
    (void)state;

    snprintf(stream, sizeof(stream), "%s", mr_test_tmp("sl.mrd"));
    snprintf(resp, sizeof(resp), "%s", mr_test_tmp("sl_resp.mrd"));
    snprintf(images, sizeof(images), "%s", mr_test_tmp("sl_images.h5"));
    snprintf(dir, sizeof(dir), "%s", mr_test_tmp("dicom"));
    snprintf(rx, sizeof(rx), "%s", mr_test_tmp("rx"));
    char cmd[20000];
    char out[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' && mkdir -p '%s' '%s'", dir, rx, dir, rx);
    assert_int_equal(dcm_run(cmd, out, sizeof(out)), 0);
    char *a[] = { "to-stream", "-o", stream, (char *)source("tests/data/pipeline/sl96_a2.h5") };
    assert_int_equal(mr_main_to_stream(ARGC(a), a), 0);

    int port = dcm_free_port();
    assert_true(port > 0);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d:STAGETEST", port);
    pid_t pid = dcm_storescp_start(port, "STAGETEST", rx);
    if (pid < 0)
        fail_msg("cannot start DCMTK's storescp on port %d (Debian package dcmtk)", port);
    char *b[] = { "stage", "-q", "-m", "zf", "--dicom-dir", dir, "--send", spec,
                  "--input", stream, "--output", resp };
    int rc = mr_main_stage(ARGC(b), b);
    dcm_storescp_stop(pid);
    assert_int_equal(rc, 0);
    char *c[] = { "from-stream", "-q", "-i", resp, images };
    assert_int_equal(mr_main_from_stream(ARGC(c), c), 0);

    /* one series of two images, the same pixels as the stream's images */
    series_folder(dir, series, sizeof(series));
    assert_int_equal(dcm_count(series, ".dcm"), 2);
    assert_int_equal(dcm_count(rx, "MR."), 2);
    struct mr_h5 *h = NULL;
    struct mr_array ref = { 0 };
    assert_int_equal(mr_h5_open(images, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "dataset/image_0/data", &ref), MR_OK);
    mr_h5_close(h);
    const int64_t n = ref.dims[ref.ndim - 1] * ref.dims[ref.ndim - 2];
    for (int i = 0; i < 2; i++) {
        snprintf(file, sizeof(file), "%s/IM%05d.dcm", series, i + 1);
        dcm_load(file, dump, sizeof(dump));
        dcm_expect(dump, "0028,0010", "96");
        dcm_expect(dump, "0028,0011", "96");
        char v[64];
        assert_true(dcm_get(dump, "0028,1053", v, sizeof(v))); /* rescale slope */
        const double slope = atof(v);
        size_t npx = 0;
        char scratch[4200];
        snprintf(scratch, sizeof(scratch), "%s", mr_test_tmp("raw"));
        uint16_t *px = dcm_dump_pixels(file, scratch, dump, sizeof(dump), &npx);
        assert_non_null(px);
        assert_int_equal(npx, (size_t)n);
        const float *r = mr_array_f32(&ref) + i * n;
        for (int64_t k = 0; k < n; k++)
            if (!(fabs((double)px[k] * slope - (double)r[k]) <= 0.5 * slope + 1e-12))
                fail_msg("image %d pixel %lld: %g vs %g", i, (long long)k,
                         (double)px[k] * slope, (double)r[k]);
        free(px);
    }
    mr_array_cleanup(&ref);

    /* a stream that fails (no CLOSE) writes no series */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && head -c 100000 '%s' > '%s.cut'",
             dir, dir, stream, stream);
    assert_int_equal(dcm_run(cmd, out, sizeof(out)), 0);
    char cut[4200];
    snprintf(cut, sizeof(cut), "%s.cut", stream);
    char *d[] = { "stage", "-q", "-m", "zf", "--dicom-dir", dir, "--input", cut,
                  "--output", resp };
    assert_int_equal(mr_main_stage(ARGC(d), d), 1);
    assert_int_equal(dcm_count(dir, ""), 0);
    /* --send needs --dicom-dir */
    char *e[] = { "stage", "-q", "--send", spec, "--input", stream, "--output", resp };
    assert_int_equal(mr_main_stage(ARGC(e), e), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_writes_and_sends_a_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
