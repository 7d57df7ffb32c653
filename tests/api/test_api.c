/*
 * The public C API (api/mrirecon.h) through the shared library, as a program linking
 * libmrirecon sees it: versions, errors and their thread-local messages, one slice against a
 * naive DFT (zf) and with caller maps (sense), unaligned caller memory, handles in two threads,
 * whole files, the memory limit, masks against the fastMRI goldens, metrics against the
 * fastMRI / ATOMMIC goldens.
 * (Only goldens are read with the engine's own .npy reader; everything under test is the .so.)
 */
#include <complex.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/mrirecon.h"
#include "io/npy.h"
#include "mr_test.h"

enum { NC = 3, H = 24, W = 20 };

static void assert_status(mrirecon_status st, mrirecon_status want)
{
    if (st != want)
        fail_msg("status %s, expected %s: %s", mrirecon_status_name(st),
                 mrirecon_status_name(want), mrirecon_last_error());
}

static void assert_error_mentions(const char *part)
{
    if (strstr(mrirecon_last_error(), part) == NULL)
        fail_msg("last error '%s' does not mention '%s'", mrirecon_last_error(), part);
}

/* max |a - b| / max |b| */
static double max_rel(const float *a, const float *b, size_t n)
{
    double d = 0.0;
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / m;
}

/* A smooth object seen by NC coils, its centred 2-D k-space (naive DFT), sampled on every
 * other column plus the centre. */
struct phantom {
    float complex ksp[NC * H * W];
    float mask[H * W];
};

static void centred_dft(float complex *x, int n, int stride, int sign)
{
    double complex tmp[H > W ? H : W];
    for (int u = 0; u < n; u++) {
        double complex acc = 0.0;
        for (int t = 0; t < n; t++)
            acc += (double complex)x[t * stride] *
                   cexp(CMPLX(0.0, sign * 2.0 * M_PI * (double)((u - n / 2) * (t - n / 2)) / n));
        tmp[u] = acc / sqrt((double)n);
    }
    for (int u = 0; u < n; u++)
        x[u * stride] = (float complex)tmp[u];
}

static void dft2(float complex *img, int sign)
{
    for (int y = 0; y < H; y++)
        centred_dft(img + y * W, W, 1, sign);
    for (int x = 0; x < W; x++)
        centred_dft(img + x, H, W, sign);
}

static void make_phantom(struct phantom *p, unsigned seed)
{
    struct mr_test_rng rng;
    mr_test_rng_seed(&rng, seed);
    for (int c = 0; c < NC; c++) {
        float complex *k = p->ksp + c * H * W;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double r2 = pow((y - H / 2) / (0.4 * H), 2) + pow((x - W / 2) / (0.4 * W), 2);
                double coil = exp(-((y - c * H / 2.0) * (y - c * H / 2.0)) / (H * H));
                double obj = r2 < 1.0 ? 1.0 + 0.3 * mr_test_rng_uniform(&rng) : 0.0;
                k[y * W + x] = (float complex)(coil * obj * cexp(CMPLX(0.0, 0.5 * c)));
            }
        dft2(k, -1);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            p->mask[y * W + x] = (x % 2 == 0 || abs(x - W / 2) < 4) ? 1.0f : 0.0f;
    for (int c = 0; c < NC; c++)
        for (int i = 0; i < H * W; i++)
            p->ksp[c * H * W + i] *= p->mask[i];
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", MRIRECON_VERSION_MAJOR, MRIRECON_VERSION_MINOR,
             MRIRECON_VERSION_PATCH);
    assert_string_equal(mrirecon_version(), want);
    assert_string_equal(mrirecon_version(), MRIRECON_VERSION_STRING);
    assert_int_equal(mrirecon_version_number(), MRIRECON_VERSION);
    assert_string_equal(mrirecon_status_name(MRIRECON_ERR_IO), "MRIRECON_ERR_IO");
    assert_string_equal(mrirecon_status_name(MRIRECON_OK), "MRIRECON_OK");
}

static void *fail_in_thread(void *arg)
{
    struct mrirecon_method *m = NULL;
    (void)arg;
    assert_status(mrirecon_method_create("cs:iters=0", NC, H, W, &m), MRIRECON_ERR_ARG);
    return NULL;
}

static void test_errors(void **state)
{
    (void)state;
    struct mrirecon_method *m = (struct mrirecon_method *)&m;
    float img[H * W];
    struct phantom p;

    assert_status(mrirecon_method_create("nosuch", NC, H, W, &m), MRIRECON_ERR_ARG);
    assert_null(m);
    assert_error_mentions("unknown method 'nosuch'");
    assert_status(mrirecon_method_create("cg", 0, H, W, &m), MRIRECON_ERR_ARG);
    assert_status(mrirecon_method_create(NULL, NC, H, W, &m), MRIRECON_ERR_ARG);
    assert_status(mrirecon_method_create("/nonexistent/w.h5", NC, H, W, &m), MRIRECON_ERR_IO);
    assert_error_mentions("/nonexistent/w.h5");

    /* the message is the calling thread's: another thread's failure leaves it alone */
    assert_status(mrirecon_method_create("cg:lambda=-1", NC, H, W, &m), MRIRECON_ERR_ARG);
    char mine[512];
    snprintf(mine, sizeof(mine), "%s", mrirecon_last_error());
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(mrirecon_last_error(), mine);

    make_phantom(&p, 1);
    assert_status(mrirecon_method_create("zf", NC, H, W, &m), MRIRECON_OK);
    assert_status(mrirecon_method_run(m, NULL, p.mask, NULL, img), MRIRECON_ERR_ARG);
    assert_error_mentions("ksp is NULL");
    assert_status(mrirecon_method_run(m, (const float *)p.ksp, p.mask, NULL, NULL),
                  MRIRECON_ERR_ARG);
    p.ksp[5] = NAN;
    assert_status(mrirecon_method_run(m, (const float *)p.ksp, p.mask, NULL, img),
                  MRIRECON_ERR_DATA);
    assert_error_mentions("k-space");
    mrirecon_method_free(m);
    mrirecon_method_free(NULL);
}

/* zf = root sum of squares of the centred orthonormal inverse DFT of each coil */
static void test_zf_is_rss_of_idft(void **state)
{
    (void)state;
    static struct phantom p;
    float complex coil[H * W];
    float want[H * W] = { 0 };
    float img[H * W];
    struct mrirecon_method *m = NULL;
    int64_t nc;
    int64_t h;
    int64_t w;

    make_phantom(&p, 2);
    for (int c = 0; c < NC; c++) {
        memcpy(coil, p.ksp + c * H * W, sizeof(coil));
        dft2(coil, +1);
        for (int i = 0; i < H * W; i++)
            want[i] += crealf(coil[i] * conjf(coil[i]));
    }
    for (int i = 0; i < H * W; i++)
        want[i] = sqrtf(want[i]);
    assert_status(mrirecon_method_create("zf", NC, H, W, &m), MRIRECON_OK);
    mrirecon_method_size(m, &nc, &h, &w);
    assert_true(nc == NC && h == H && w == W);
    assert_string_equal(mrirecon_method_label(m), "zf");
    assert_int_equal(mrirecon_method_needs_maps(m), 0);
    assert_null(mrirecon_method_report(m)); /* no run yet */
    assert_status(mrirecon_method_run(m, (const float *)p.ksp, p.mask, NULL, img), MRIRECON_OK);
    /* zero-filling keeps the measured data: residual 0, no reference so no score */
    const char *rep = mrirecon_method_report(m);
    assert_non_null(rep);
    assert_non_null(strstr(rep, "\"residual\":0"));
    assert_non_null(strstr(rep, "\"flagged\":false"));
    assert_non_null(strstr(rep, "\"score\":null"));
    assert_null(mrirecon_method_report(NULL));
    mrirecon_method_free(m);
    mr_test_assert_below("zf vs naive DFT", max_rel(img, want, H * W), 1e-5, __FILE__,
                         __LINE__);
}

/* sense with the maps mrirecon_method_maps returns = sense with its own maps; cg on caller
 * memory at an odd float offset (no SIMD alignment) = cg on aligned memory */
static void test_maps_and_alignment(void **state)
{
    (void)state;
    static struct phantom p;
    static float complex maps[NC * H * W];
    static float shifted[2 * NC * H * W + 1];
    static float shifted_mask[H * W + 1];
    float a[H * W];
    float b[H * W];
    struct mrirecon_method *m = NULL;

    make_phantom(&p, 3);
    assert_status(mrirecon_method_create("sense", NC, H, W, &m), MRIRECON_OK);
    assert_int_equal(mrirecon_method_needs_maps(m), 1);
    assert_status(mrirecon_method_maps(m, (const float *)p.ksp, p.mask, (float *)maps),
                  MRIRECON_OK);
    assert_status(mrirecon_method_run(m, (const float *)p.ksp, p.mask, NULL, a), MRIRECON_OK);
    assert_status(mrirecon_method_run(m, (const float *)p.ksp, p.mask, (const float *)maps, b),
                  MRIRECON_OK);
    mrirecon_method_free(m);
    mr_test_assert_below("sense, own vs given maps", max_rel(b, a, H * W), 1e-6, __FILE__,
                         __LINE__);

    assert_status(mrirecon_method_create("cg:iters=10", NC, H, W, &m), MRIRECON_OK);
    memcpy(shifted + 1, p.ksp, sizeof(p.ksp));
    memcpy(shifted_mask + 1, p.mask, sizeof(p.mask));
    assert_status(mrirecon_method_run(m, (const float *)p.ksp, p.mask, NULL, a), MRIRECON_OK);
    assert_status(mrirecon_method_run(m, shifted + 1, shifted_mask + 1, NULL, b), MRIRECON_OK);
    mrirecon_method_free(m);
    mr_test_assert_below("cg, unaligned vs aligned", max_rel(b, a, H * W), 1e-6, __FILE__,
                         __LINE__);
}

struct job {
    struct phantom p;
    float img[H * W];
    mrirecon_status st;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct mrirecon_method *m = NULL;
    j->st = mrirecon_method_create("cs:iters=20", NC, H, W, &m);
    for (int rep = 0; rep < 3 && j->st == MRIRECON_OK; rep++)
        j->st = mrirecon_method_run(m, (const float *)j->p.ksp, j->p.mask, NULL, j->img);
    mrirecon_method_free(m);
    return NULL;
}

/* one handle per thread: two threads at once give what each gives alone */
static void test_threads(void **state)
{
    (void)state;
    static struct job alone[2];
    static struct job together[2];
    pthread_t t[2];

    for (int i = 0; i < 2; i++) {
        make_phantom(&alone[i].p, 10 + (unsigned)i);
        together[i].p = alone[i].p;
        run_job(&alone[i]);
        assert_status(alone[i].st, MRIRECON_OK);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &together[i]), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_status(together[i].st, MRIRECON_OK);
        mr_test_assert_below("thread vs alone", max_rel(together[i].img, alone[i].img, H * W),
                             1e-6, __FILE__, __LINE__);
    }
}

static const char *sample(void)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/data/sample/brain8_poisson.h5", getenv("MR_SOURCE_DIR"));
    return path;
}

static void test_volume(void **state)
{
    (void)state;
    char out[1024];
    int64_t images = -1;
    struct stat sb;

    snprintf(out, sizeof(out), "%s", mr_test_tmp("zf.h5"));
    remove(out);
    const char *opts[] = { "slices", "0:1", "crop", "0", NULL };
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, opts, &images), MRIRECON_OK);
    assert_int_equal(images, 1);
    assert_int_equal(stat(out, &sb), 0);

    const char *unknown[] = { "colour", "red", NULL };
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, unknown, NULL),
                  MRIRECON_ERR_ARG);
    assert_error_mentions("unknown option 'colour'");
    const char *odd[] = { "crop", NULL };
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, odd, NULL), MRIRECON_ERR_ARG);
    assert_error_mentions("has no value");
    const char *slices[] = { "slices", "2:1", NULL };
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, slices, NULL),
                  MRIRECON_ERR_ARG);
    const char *beyond[] = { "slices", "0:5", NULL };
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, beyond, NULL),
                  MRIRECON_ERR_ARG);
    assert_error_mentions("outside the 1 slices");
    assert_status(mrirecon_volume_reconstruct("zf", "/nonexistent/in.h5", out, NULL, NULL),
                  MRIRECON_ERR_IO);
    assert_error_mentions("/nonexistent/in.h5");
    assert_status(mrirecon_volume_reconstruct("zf", sample(), NULL, NULL, NULL),
                  MRIRECON_ERR_ARG);
}

/* a file asking for more than the limit fails naming the limit; 0 restores the default */
static void test_memory_limit(void **state)
{
    (void)state;
    char out[1024];
    const uint64_t def = mrirecon_memory_limit();

    snprintf(out, sizeof(out), "%s", mr_test_tmp("limited.h5"));
    assert_true(def >= ((uint64_t)1 << 20));
    mrirecon_set_memory_limit(4096);
    assert_true(mrirecon_memory_limit() == 4096);
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, NULL, NULL),
                  MRIRECON_ERR_NOMEM);
    assert_error_mentions("memory limit");
    mrirecon_set_memory_limit(0);
    assert_true(mrirecon_memory_limit() == def);
    assert_status(mrirecon_volume_reconstruct("zf", sample(), out, NULL, NULL), MRIRECON_OK);
}

/* fastMRI RandomMaskFunc, seed 42 and seeded from a file name (tests/data/sampling) */
static void test_masks(void **state)
{
    (void)state;
    enum { MH = 3, MW = 368 };
    static float mask[MH * MW];
    struct mrirecon_mask_info info;
    struct mrirecon_mask_stats stats;
    struct mr_array golden = { 0 };
    const struct {
        const char *spec;
        const char *seed_name;
        const char *file;
        int64_t sampled;
    } cases[] = {
        { "random:accel=4,center=0.08,seed=42", NULL, "sampling/fastmri_random_0.npy", 99 },
        { "random:accel=4,center=0.08", "/data/file1000001.h5", "sampling/fastmri_random_1.npy",
          81 },
    };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_status(mrirecon_mask_generate(cases[k].spec, MH, MW, cases[k].seed_name, mask,
                                             &info),
                      MRIRECON_OK);
        assert_int_equal(mr_npy_read(mr_test_data(cases[k].file), &golden), MR_OK);
        assert_int_equal(mr_array_numel(&golden), MW);
        const float *g = mr_array_f32(&golden);
        for (int y = 0; y < MH; y++)
            for (int x = 0; x < MW; x++)
                if ((mask[y * MW + x] != 0.0f) != (g[x] != 0.0f))
                    fail_msg("%s: row %d column %d differs from %s", cases[k].spec, y, x,
                             cases[k].file);
        mr_array_cleanup(&golden);
        assert_int_equal(info.columns, 1);
        assert_int_equal(info.low_frequencies, 29);
        assert_int_equal(info.points, cases[k].sampled);
        assert_true(info.accel == 4.0);

        assert_status(mrirecon_mask_stats(mask, MH, MW, &stats), MRIRECON_OK);
        assert_int_equal(stats.columns, 1);
        assert_int_equal(stats.sampled, MH * cases[k].sampled);
        assert_int_equal(stats.total, MH * MW);
        assert_true(stats.center_cols >= 29 && stats.center_h == MH);
        assert_true(fabs(stats.accel - (double)MW / (double)cases[k].sampled) < 1e-12);
        assert_true(stats.psf_peak_sidelobe > 0.0 && stats.psf_peak_sidelobe < 1.0);
    }
    assert_status(mrirecon_mask_generate("random:accel=zero", MH, MW, NULL, mask, NULL),
                  MRIRECON_ERR_ARG);
    assert_error_mentions("random:accel=zero");
    assert_status(mrirecon_mask_generate("random", 0, MW, NULL, mask, NULL), MRIRECON_ERR_ARG);
    memset(mask, 0, sizeof(mask));
    assert_status(mrirecon_mask_stats(mask, MH, MW, &stats), MRIRECON_ERR_DATA);
}

/* the golden volume of tests/data/metrics: scikit-image / fastMRI evaluate.py numbers */
static void test_metrics(void **state)
{
    (void)state;
    struct mr_array t = { 0 };
    struct mr_array p = { 0 };
    struct mrirecon_metrics m;
    struct mrirecon_metrics per[10];

    assert_int_equal(mr_npy_read(mr_test_data("metrics/target_10x128x128_f32.npy"), &t), MR_OK);
    assert_int_equal(mr_npy_read(mr_test_data("metrics/pred_zerofilled_10x128x128_f32.npy"), &p),
                     MR_OK);
    const float *tf = mr_array_f32(&t);
    const float *pf = mr_array_f32(&p);
    assert_status(mrirecon_metrics_fastmri(tf, pf, 10, 128, 128, &m), MRIRECON_OK);
    assert_true(fabs(m.nmse - 0.21626649104568083) < 1e-5);
    assert_true(fabs(m.psnr - 28.79706076613769) < 1e-5);
    assert_true(fabs(m.ssim - 0.7737992054354862) < 1e-5);
    assert_status(mrirecon_metrics_atommic(tf, pf, 10, 128, 128, per), MRIRECON_OK);
    assert_true(fabs(per[0].nmse - 0.5306640251862831) < 1e-5);
    assert_true(fabs(per[0].psnr - 22.551123236607246) < 1e-5);
    assert_true(fabs(per[0].ssim - 0.6487654380097854) < 1e-5);
    assert_status(mrirecon_metrics_fastmri(tf, tf, 10, 128, 128, &m), MRIRECON_OK);
    assert_true(m.nmse == 0.0 && isinf(m.psnr) && fabs(m.ssim - 1.0) < 1e-12);

    assert_status(mrirecon_metrics_fastmri(tf, pf, 10, 6, 128, &m), MRIRECON_ERR_SHAPE);
    assert_status(mrirecon_metrics_fastmri(tf, NULL, 10, 128, 128, &m), MRIRECON_ERR_ARG);
    assert_status(mrirecon_metrics_fastmri(tf, pf, -1, 128, 128, &m), MRIRECON_ERR_ARG);
    mr_array_zero(&t);
    assert_status(mrirecon_metrics_fastmri(tf, pf, 10, 128, 128, &m), MRIRECON_ERR_DATA);
    mr_array_cleanup(&t);
    mr_array_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_zf_is_rss_of_idft),
        cmocka_unit_test(test_maps_and_alignment),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_volume),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
