/* apps/maskeval + cmd_maskeval in-process on real data: the IXI-derived fully sampled 8-coil
 * volume of tests/data/maskeval (CS beats zero filling at 4x; a mask that does not fit and a
 * file that is not HDF5 become error rows while the run goes on; a rerun skips the finished
 * rows and retries the failed ones; results do not depend on the thread count), the bundled
 * brain sample (CG-SENSE with ESPIRiT maps beats zero filling), and the HTML report rendered
 * by headless Chromium (every picture loads; skipped when chromium is not installed). */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "runs/maskeval.h"
#include "io/npy.h"

int mr_main_maskeval(int argc, char *argv[]);

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)
#define MAXROWS 64

static char outdir[1024]; /* the end-to-end run's folder, reused by the browser test */

struct csvrow {
    char file[512];
    long slice;
    char mask[256];
    char method[128];
    char status[16];
    double nmse;
    double ssim;
    char line[2048];
};

/* splits one CSV line (RFC 4180 quotes, no embedded newlines) into at most max fields */
static int csv_split(const char *line, char fields[][512], int max)
{
    int n = 0;
    const char *p = line;
    while (n < max) {
        char *o = fields[n];
        size_t k = 0;
        if (*p == '"') {
            p++;
            while (*p != '\0' && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                if (k < 511)
                    o[k++] = *p;
                p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p != '\0' && *p != ',' && *p != '\n')
                if (k < 511)
                    o[k++] = *p++;
        }
        o[k] = '\0';
        n++;
        if (*p != ',')
            break;
        p++;
    }
    return n;
}

static int read_csv(const char *dir, struct csvrow *rows, int max)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/results.csv", dir);
    char *text = mr_test_slurp(path, NULL);
    assert_non_null(text);
    static const char header[] = "file,slice,mask,method,accel,status,nmse,psnr,ssim,time_s,"
                                 "error,dc_residual,trust_score,flagged\n";
    assert_memory_equal(text, header, sizeof(header) - 1);
    int n = 0;
    char *save = NULL;
    char *line = strtok_r(strchr(text, '\n') + 1, "\n", &save);
    char (*f)[512] = malloc(14 * 512);
    assert_non_null(f);
    for (; line != NULL; line = strtok_r(NULL, "\n", &save)) {
        assert_true(n < max);
        assert_int_equal(csv_split(line, f, 14), 14);
        struct csvrow *r = &rows[n++];
        snprintf(r->file, sizeof(r->file), "%s", f[0]);
        r->slice = strtol(f[1], NULL, 10);
        snprintf(r->mask, sizeof(r->mask), "%s", f[2]);
        snprintf(r->method, sizeof(r->method), "%s", f[3]);
        snprintf(r->status, sizeof(r->status), "%s", f[5]);
        r->nmse = f[6][0] != '\0' ? strtod(f[6], NULL) : (double)NAN;
        r->ssim = f[8][0] != '\0' ? strtod(f[8], NULL) : (double)NAN;
        snprintf(r->line, sizeof(r->line), "%s", line);
        if (strcmp(r->status, "error") == 0)
            snprintf(r->line, sizeof(r->line), "%s", f[10]); /* the message */
        else /* every reconstructed row has its trust report's residual */
            assert_true(f[11][0] != '\0' && strtod(f[11], NULL) >= 0.0);
    }
    free(f);
    free(text);
    return n;
}

static const struct csvrow *find(const struct csvrow *rows, int n, long slice, const char *mask,
                                 const char *method)
{
    for (int i = 0; i < n; i++)
        if (rows[i].slice == slice && strcmp(rows[i].mask, mask) == 0 &&
            strcmp(rows[i].method, method) == 0)
            return &rows[i];
    fail_msg("no row for slice %ld, %s, %s", slice, mask, method);
    return NULL;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_maskeval_ixi_end_to_end_and_resume(void **state)
{
    char data[1024];
    char bad_mask[1024];
    char broken[1024];
    struct mr_array m;
    struct csvrow *rows = calloc(MAXROWS, sizeof(*rows));
    struct csvrow *again = calloc(MAXROWS, sizeof(*again));
    (void)state;
    assert_non_null(rows);
    assert_non_null(again);
    snprintf(data, sizeof(data), "%s", mr_test_data("maskeval/ixi_axial2.h5"));
    snprintf(outdir, sizeof(outdir), "%s", mr_test_tmp("ixi_run"));
    snprintf(bad_mask, sizeof(bad_mask), "%s", mr_test_tmp("cols59.npy"));
    snprintf(broken, sizeof(broken), "%s", mr_test_tmp("broken.h5"));
    /* a fresh start: results from an earlier ctest run would make every row "already done" */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", outdir);
    assert_int_equal(system(cmd), 0);
    /* injected failures: a 59-column mask for 60-column k-space; a file that is not HDF5 */
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 1, (int64_t)59), MR_OK);
    for (int i = 0; i < 59; i += 3)
        mr_array_f32(&m)[i] = 1.0f;
    assert_int_equal(mr_npy_write(bad_mask, &m, MR_NPY_TYPE_U8), MR_OK);
    mr_array_cleanup(&m);
    FILE *f = fopen(broken, "w");
    assert_non_null(f);
    fputs("not an HDF5 file\n", f);
    fclose(f);

    char *argv[] = { "maskeval", "--data", data, "--data", broken,
                     "--mask", "equispaced:accel=4,center=0.12",
                     "--mask", "random:accel=8,center=0.12", "--mask", bad_mask,
                     "--method", "zf", "--method", "cs:iters=60", "-o", outdir, "-j", "2", "-q",
                     NULL };
    assert_int_equal(mr_main_maskeval(ARGC(argv), argv), 0);
    int n = read_csv(outdir, rows, MAXROWS);
    /* ixi: 2 slices x 3 masks x 2 methods; broken: one slice -1 row per mask x method */
    assert_int_equal(n, 12 + 6);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        const struct csvrow *r = &rows[i];
        bool bad = strcmp(r->mask, bad_mask) == 0 || strcmp(r->file, broken) == 0;
        assert_string_equal(r->status, bad ? "error" : "ok");
        failed += bad;
        if (strcmp(r->file, broken) == 0) {
            assert_int_equal(r->slice, -1);
            assert_non_null(strstr(r->line, "broken.h5"));
        } else if (bad) {
            assert_non_null(strstr(r->line, "shape (59)")); /* the message names the shape */
        } else {
            assert_true(r->nmse > 0.0 && r->nmse < 0.2);
            assert_true(r->ssim > 0.3 && r->ssim < 1.0);
        }
    }
    assert_int_equal(failed, 4 + 6);
    /* compressed sensing beats zero filling at 4x on both real slices */
    for (long s = 0; s < 2; s++) {
        const struct csvrow *zf = find(rows, n, s, "equispaced:accel=4,center=0.12", "zf");
        const struct csvrow *cs = find(rows, n, s, "equispaced:accel=4,center=0.12",
                                       "cs:iters=60");
        assert_true(cs->nmse < 0.7 * zf->nmse);
        assert_true(cs->ssim > zf->ssim + 0.1);
        /* and zero filling loses more at 8x than at 4x */
        const struct csvrow *zf8 = find(rows, n, s, "random:accel=8,center=0.12", "zf");
        assert_true(zf8->nmse > zf->nmse);
    }

    /* summary.json: one entry per mask x method; the bad mask has no successful row */
    char path[1100];
    snprintf(path, sizeof(path), "%s/summary.json", outdir);
    char *text = mr_test_slurp(path, NULL);
    assert_non_null(text);
    cJSON *sum = cJSON_Parse(text);
    free(text);
    assert_non_null(sum);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(sum, "results");
    assert_int_equal(cJSON_GetArraySize(res), 6);
    const cJSON *c0 = cJSON_GetArrayItem(res, 1); /* equispaced x cs */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c0, "method")->valuestring,
                        "cs:iters=60");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c0, "n")->valueint, 2);
    double mean = cJSON_GetObjectItemCaseSensitive(
                      cJSON_GetObjectItemCaseSensitive(c0, "nmse"), "mean")->valuedouble;
    const struct csvrow *a = find(rows, n, 0, "equispaced:accel=4,center=0.12", "cs:iters=60");
    const struct csvrow *b = find(rows, n, 1, "equispaced:accel=4,center=0.12", "cs:iters=60");
    assert_true(fabs(mean - 0.5 * (a->nmse + b->nmse)) < 1e-6 * mean);
    const cJSON *c4 = cJSON_GetArrayItem(res, 4); /* bad mask x zf */
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c4, "n")->valueint, 0);
    /* 2 slices of the IXI volume + the broken file's row */
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c4, "failed")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sum, "failed")->valueint, 10);
    cJSON_Delete(sum);

    /* report.html: four plots (NMSE, PSNR, SSIM, the trust report's DC residual), mask + PSF
     * pictures for the two good masks, a gallery */
    snprintf(path, sizeof(path), "%s/report.html", outdir);
    text = mr_test_slurp(path, NULL);
    assert_non_null(text);
    assert_int_equal(count(text, "<svg class=\"plot\""), 4);
    assert_int_equal(count(text, "class=\"mask\""), 2);
    assert_int_equal(count(text, "class=\"psf\""), 2);
    assert_int_equal(count(text, "class=\"errmap\""), 4); /* slice 1: 2 good masks x 2 methods */
    assert_non_null(strstr(text, "Failed rows (10)"));
    assert_null(strstr(text, "<script"));
    free(text);

    /* resume through the library: the 8 finished rows are skipped, the 10 failed retried */
    struct mr_maskeval_config cfg = mr_maskeval_config_default;
    struct mr_maskeval_mask masks[3];
    struct mr_maskeval_method methods[2];
    struct mr_maskeval_counts counts;
    const char *inputs[2] = { data, broken };
    assert_int_equal(mr_maskeval_mask_parse("equispaced:accel=4,center=0.12", &masks[0]), MR_OK);
    assert_int_equal(mr_maskeval_mask_parse("random:accel=8,center=0.12", &masks[1]), MR_OK);
    assert_int_equal(mr_maskeval_mask_parse(bad_mask, &masks[2]), MR_OK);
    assert_int_equal(mr_maskeval_method_parse("zf", &methods[0]), MR_OK);
    assert_int_equal(mr_maskeval_method_parse("cs:iters=60", &methods[1]), MR_OK);
    cfg.inputs = inputs;
    cfg.ninputs = 2;
    cfg.masks = masks;
    cfg.nmasks = 3;
    cfg.methods = methods;
    cfg.nmethods = 2;
    cfg.outdir = outdir;
    cfg.quiet = true;
    assert_int_equal(mr_maskeval_run(&cfg, &counts), MR_OK);
    assert_int_equal(counts.skipped, 8);
    assert_int_equal(counts.computed, 10);
    assert_int_equal(counts.failed, 10);
    assert_int_equal(counts.rows, 18);
    int n2 = read_csv(outdir, again, MAXROWS);
    assert_int_equal(n2, n);
    for (int i = 0; i < n; i++) /* finished rows untouched, same order */
        if (strcmp(rows[i].status, "ok") == 0)
            assert_string_equal(again[i].line, rows[i].line);
    free(rows);
    free(again);
}

/* One thread or two: the same numbers (up to float rounding inside the solvers). */
static void test_maskeval_thread_count_does_not_change_results(void **state)
{
    char data[1024];
    char d1[1024];
    char d2[1024];
    struct csvrow *r1 = calloc(MAXROWS, sizeof(*r1));
    struct csvrow *r2 = calloc(MAXROWS, sizeof(*r2));
    (void)state;
    snprintf(data, sizeof(data), "%s", mr_test_data("maskeval/ixi_axial2.h5"));
    snprintf(d1, sizeof(d1), "%s", mr_test_tmp("jobs1"));
    snprintf(d2, sizeof(d2), "%s", mr_test_tmp("jobs2"));
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", d1, d2);
    assert_int_equal(system(cmd), 0);
    char *a1[] = { "maskeval", "-d", data, "-m", "equispaced-fraction:accel=4,center=0.12",
                   "-M", "zf", "-M", "sense", "-M", "cg:iters=10", "-o", d1, "-j", "1", "-q",
                   "-g", "0", NULL };
    char *a2[] = { "maskeval", "-d", data, "-m", "equispaced-fraction:accel=4,center=0.12",
                   "-M", "zf", "-M", "sense", "-M", "cg:iters=10", "-o", d2, "-j", "2", "-q",
                   "-g", "0", NULL };
    assert_int_equal(mr_main_maskeval(ARGC(a1), a1), 0);
    assert_int_equal(mr_main_maskeval(ARGC(a2), a2), 0);
    int n1 = read_csv(d1, r1, MAXROWS);
    int n2 = read_csv(d2, r2, MAXROWS);
    assert_int_equal(n1, 6);
    assert_int_equal(n2, 6);
    for (int i = 0; i < n1; i++) {
        assert_string_equal(r1[i].status, "ok");
        assert_string_equal(r1[i].method, r2[i].method);
        assert_int_equal(r1[i].slice, r2[i].slice);
        assert_true(fabs(r1[i].nmse - r2[i].nmse) <= 1e-4 * r1[i].nmse);
        assert_true(fabs(r1[i].ssim - r2[i].ssim) <= 1e-4);
    }
    /* CG-SENSE with ESPIRiT maps beats the zero-filled RSS */
    for (long s = 0; s < 2; s++)
        assert_true(find(r1, n1, s, "equispaced-fraction:accel=4,center=0.12", "cg:iters=10")
                        ->nmse < find(r1, n1, s, "equispaced-fraction:accel=4,center=0.12",
                                      "zf")->nmse);
    free(r1);
    free(r2);
}

/* The bundled sample: 8 real coil profiles, 230 x 180; scored on fastMRI's 180 x 180 crop. */
static void test_maskeval_brain_sample(void **state)
{
    char data[1024];
    char dir[1024];
    struct csvrow rows[4];
    const char *src = getenv("MR_SOURCE_DIR");
    (void)state;
    snprintf(data, sizeof(data), "%s/data/sample/brain8_full.h5", src != NULL ? src : ".");
    if (access(data, R_OK) != 0)
        skip();
    snprintf(dir, sizeof(dir), "%s", mr_test_tmp("brain8"));
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    char *argv[] = { "maskeval", "-d", data, "-m", "equispaced:accel=4,center=0.08,seed=3",
                     "-M", "zf", "-M", "cg:iters=10", "-o", dir, "-q", NULL };
    assert_int_equal(mr_main_maskeval(ARGC(argv), argv), 0);
    assert_int_equal(read_csv(dir, rows, 4), 2);
    const struct csvrow *zf = find(rows, 2, 0, "equispaced:accel=4,center=0.08,seed=3", "zf");
    const struct csvrow *cg = find(rows, 2, 0, "equispaced:accel=4,center=0.08,seed=3",
                                   "cg:iters=10");
    assert_string_equal(cg->status, "ok");
    assert_true(zf->nmse > 0.02 && zf->nmse < 0.2);
    assert_true(cg->nmse < 0.5 * zf->nmse);
    assert_true(cg->ssim > zf->ssim);
}

/* Every row fails: the run still succeeds and writes its files; the progress bar with its ETA
 * goes to stderr; usage errors exit 2. */
static void test_maskeval_all_rows_fail_still_reports(void **state)
{
    char data[1024];
    char dir[1024];
    char bad_mask[1024];
    char errpath[1100];
    struct csvrow rows[4];
    (void)state;
    snprintf(data, sizeof(data), "%s", mr_test_data("maskeval/ixi_axial2.h5"));
    snprintf(dir, sizeof(dir), "%s", mr_test_tmp("allfail"));
    snprintf(bad_mask, sizeof(bad_mask), "%s", mr_test_tmp("hw_10x10.npy"));
    snprintf(errpath, sizeof(errpath), "%s", mr_test_tmp("allfail_stderr.txt"));
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    struct mr_array m;
    assert_int_equal(mr_array_init_dims(&m, MR_DTYPE_F32, 2, (int64_t)10, (int64_t)10), MR_OK);
    mr_array_f32(&m)[0] = 1.0f;
    assert_int_equal(mr_npy_write(bad_mask, &m, MR_NPY_TYPE_U8), MR_OK);
    mr_array_cleanup(&m);

    char *argv[] = { "maskeval", "-d", data, "-m", bad_mask, "-M", "zf", "-o", dir, NULL };
    fflush(stderr);
    int saved = dup(fileno(stderr));
    FILE *err = fopen(errpath, "w+");
    assert_non_null(err);
    assert_true(dup2(fileno(err), fileno(stderr)) >= 0);
    int rc = mr_main_maskeval(ARGC(argv), argv);
    fflush(stderr);
    assert_true(dup2(saved, fileno(stderr)) >= 0);
    close(saved);
    fclose(err);
    assert_int_equal(rc, 0);
    char *text = mr_test_slurp(errpath, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "ETA"));
    assert_non_null(strstr(text, "2/2 rows"));
    assert_non_null(strstr(text, "2 failed"));
    free(text);
    assert_int_equal(read_csv(dir, rows, 4), 2);
    assert_string_equal(rows[0].status, "error");
    assert_non_null(strstr(rows[1].line, "(10, 10)"));
    char path[1100];
    snprintf(path, sizeof(path), "%s/report.html", dir);
    text = mr_test_slurp(path, NULL);
    assert_non_null(text);
    assert_int_equal(count(text, "no successful rows"), 3);
    assert_non_null(strstr(text, "fits no input volume"));
    free(text);

    char *no_method[] = { "maskeval", "-d", data, "-m", bad_mask, "-o", dir, NULL };
    assert_int_equal(mr_main_maskeval(ARGC(no_method), no_method), 2);
    char *bad_method[] = { "maskeval", "-d", data, "-m", bad_mask, "-M", "cs:iters=0", "-o",
                           dir, NULL };
    assert_int_equal(mr_main_maskeval(ARGC(bad_method), bad_method), 2);
    char *bad_spec[] = { "maskeval", "-d", data, "-m", "spiral:accel=4", "-M", "zf", "-o", dir,
                         NULL };
    assert_int_equal(mr_main_maskeval(ARGC(bad_spec), bad_spec), 2);
}

static bool find_chromium(char *path, size_t len)
{
    const char *env = getenv("MR_CHROMIUM");
    static const char *const names[] = { "/usr/bin/chromium", "/usr/bin/chromium-browser",
                                         "/usr/bin/google-chrome" };
    if (env != NULL && env[0] != '\0') { /* MR_CHROMIUM=BROWSER, or =none to skip */
        snprintf(path, len, "%s", env);
        return access(env, X_OK) == 0;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (access(names[i], X_OK) == 0) {
            snprintf(path, len, "%s", names[i]);
            return true;
        }
    return false;
}

/* Headless Chromium loads the report: a copy of it with a probe script (the report itself has
 * no scripts) lists every <img> that did not decode; the screenshot is a real page. Debian's
 * `chromium` package; skipped when no browser is installed (or MR_CHROMIUM=none). */
static void test_maskeval_report_renders_in_chromium(void **state)
{
    char chrome[256];
    char path[1100];
    char check[1100];
    char shot[1100];
    char cmd[4096];
    (void)state;
    if (!find_chromium(chrome, sizeof(chrome)) || outdir[0] == '\0')
        skip();
    snprintf(path, sizeof(path), "%s/report.html", outdir);
    char *html = mr_test_slurp(path, NULL);
    assert_non_null(html);
    int nimg = count(html, "<img ");
    assert_true(nimg >= 8);
    char *body = strstr(html, "</body>");
    assert_non_null(body);
    *body = '\0';
    snprintf(check, sizeof(check), "%s/check.html", outdir);
    FILE *f = fopen(check, "w");
    assert_non_null(f);
    fputs(html, f);
    fputs("<script>\nwindow.addEventListener('load', function () {\n"
          "  var im = document.images, bad = [];\n"
          "  for (var i = 0; i < im.length; i++)\n"
          "    if (!im[i].complete || im[i].naturalWidth === 0) bad.push(im[i].src);\n"
          "  var d = document.createElement('pre');\n"
          "  d.textContent = 'MR-IMAGES ' + im.length + ' BAD ' + bad.length + ' ' +\n"
          "    bad.join(' ');\n"
          "  document.body.appendChild(d);\n});\n</script>\n</body>\n</html>\n", f);
    fclose(f);
    free(html);

    const char *flags = "--headless --disable-gpu --no-sandbox --no-first-run "
                        "--disable-dev-shm-usage --allow-file-access-from-files";
    snprintf(cmd, sizeof(cmd), "timeout 120 '%s' %s --user-data-dir='%s' "
             "--virtual-time-budget=10000 --dump-dom 'file://%s' 2>/dev/null", chrome, flags,
             mr_test_tmp("chromium-profile"), check);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char dom[1 << 20];
    size_t n = fread(dom, 1, sizeof(dom) - 1, p);
    dom[n] = '\0';
    pclose(p);
    char want[64];
    snprintf(want, sizeof(want), "MR-IMAGES %d BAD 0", nimg);
    if (strstr(dom, want) == NULL) {
        const char *got = strstr(dom, "MR-IMAGES");
        fail_msg("chromium: expected '%s', got '%.300s'", want, got != NULL ? got : "no probe");
    }
    assert_int_equal(count(dom, "<svg class=\"plot\""), 4);

    snprintf(shot, sizeof(shot), "%s/screenshot.png", outdir);
    remove(shot);
    snprintf(cmd, sizeof(cmd), "timeout 120 '%s' %s --user-data-dir='%s' --hide-scrollbars "
             "--window-size=1280,1600 --screenshot='%s' 'file://%s/report.html' >/dev/null "
             "2>&1", chrome, flags, mr_test_tmp("chromium-profile"), shot, outdir);
    assert_int_equal(system(cmd), 0);
    f = fopen(shot, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    assert_true(size > 40000); /* a blank page compresses to a few kB */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maskeval_ixi_end_to_end_and_resume),
        cmocka_unit_test(test_maskeval_thread_count_does_not_change_results),
        cmocka_unit_test(test_maskeval_brain_sample),
        cmocka_unit_test(test_maskeval_all_rows_fail_still_reports),
        cmocka_unit_test(test_maskeval_report_renders_in_chromium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
