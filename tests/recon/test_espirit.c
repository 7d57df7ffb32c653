/* ESPIRiT maps: against `bart ecalib -m1` (and -S -P) on a real 8-coil brain slice
 * (tests/data/espirit, see its README) and unit norm over coils there, recovery of known
 * smooth maps from synthetic k-space of odd size, and every error path. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recon/espirit.h"
#include "recon/espirit_internal.h"
#include "recon/fft.h"

/* Reads a little-endian complex64, C-order .npy of rank 3 into a new array. */
static void load_npy_cf32(const char *rel, struct mr_array *a)
{
    const char *path = mr_test_data(rel);
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    char hdr[512];
    long long d[3];

    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fread(pre, 1, 10, f), 10);
    assert_memory_equal(pre, "\x93NUMPY\x01\x00", 8);
    size_t hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    assert_true(hlen < sizeof(hdr));
    assert_int_equal(fread(hdr, 1, hlen, f), hlen);
    hdr[hlen] = '\0';
    assert_non_null(strstr(hdr, "'descr': '<c8'"));
    assert_non_null(strstr(hdr, "'fortran_order': False"));
    const char *sh = strstr(hdr, "'shape': (");
    assert_non_null(sh);
    assert_int_equal(sscanf(sh, "'shape': (%lld, %lld, %lld)", &d[0], &d[1], &d[2]), 3);
    assert_int_equal(mr_array_init_dims(a, MR_DTYPE_CF32, 3, (int64_t)d[0], (int64_t)d[1],
                                        (int64_t)d[2]),
                     MR_OK);
    assert_int_equal(fread(a->data, sizeof(float complex), (size_t)mr_array_numel(a), f),
                     (size_t)mr_array_numel(a));
    fclose(f);
}

/* Per-pixel comparison of maps a and b (C, H, W): pixels where exactly one is zero, the
 * smallest |<a, b>| where both are nonzero, and ||a - b|| / ||b|| without any phase
 * alignment. */
struct map_agreement {
    int64_t support_a;
    int64_t support_b;
    int64_t mismatch;
    double min_inner;
    double nrmse;
};

static struct map_agreement compare_maps(const struct mr_array *a, const struct mr_array *b)
{
    const int64_t nc = a->dims[0];
    const int64_t np = a->dims[1] * a->dims[2];
    const float complex *x = mr_array_cf32(a);
    const float complex *y = mr_array_cf32(b);
    struct map_agreement r = { 0, 0, 0, 1.0, 0.0 };

    for (int64_t i = 0; i < np; i++) {
        double na = 0.0;
        double nb = 0.0;
        double complex ip = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const double complex u = x[c * np + i];
            const double complex v = y[c * np + i];
            na += creal(u * conj(u));
            nb += creal(v * conj(v));
            ip += u * conj(v);
        }
        r.support_a += na > 0.0;
        r.support_b += nb > 0.0;
        if ((na > 0.0) != (nb > 0.0))
            r.mismatch++;
        else if (na > 0.0 && cabs(ip) < r.min_inner)
            r.min_inner = cabs(ip);
    }
    r.nrmse = mr_test_nrmse(a, b);
    return r;
}

/* every pixel of hard-cropped maps is unit norm over coils or exactly zero */
static void check_unit_norm_or_zero(const struct mr_array *sens)
{
    const int64_t nc = sens->dims[0];
    const int64_t np = sens->dims[1] * sens->dims[2];
    const float complex *s = mr_array_cf32(sens);
    int64_t nonzero = 0;
    for (int64_t i = 0; i < np; i++) {
        double n2 = 0.0;
        for (int64_t c = 0; c < nc; c++)
            n2 += (double)(crealf(s[c * np + i]) * crealf(s[c * np + i]) +
                           cimagf(s[c * np + i]) * cimagf(s[c * np + i]));
        if (n2 == 0.0)
            continue;
        nonzero++;
        assert_true(fabs(sqrt(n2) - 1.0) < 1e-5);
    }
    assert_true(nonzero > np / 4 && nonzero < np);
}

static void check_against_bart(const char *maps_file, bool soft_crop, bool rotate_phase)
{
    struct mr_array ksp;
    struct mr_array ref;
    struct mr_array sens;
    struct mr_espirit_config cfg = mr_espirit_config_default;

    cfg.soft_crop = soft_crop;
    cfg.rotate_phase = rotate_phase;
    load_npy_cf32("espirit/brain8_ksp.npy", &ksp);
    load_npy_cf32(maps_file, &ref);
    assert_true(mr_array_same_shape(&ksp, &ref));
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    assert_int_equal(mr_espirit_maps(&cfg, &ksp, &sens), MR_OK);

    struct map_agreement r = compare_maps(&sens, &ref);
    print_message("vs bart ecalib -m1%s: support %lld (bart %lld), mismatch %lld, "
                  "min |<S, S_bart>| %.7f (hard crop only), nrmse %.2e\n",
                  soft_crop ? " -S -P" : "", (long long)r.support_a, (long long)r.support_b,
                  (long long)r.mismatch, r.min_inner, r.nrmse);
    assert_true(r.support_b > 1000);
    assert_true(r.mismatch <= r.support_b / 200); /* eigenvalues within float noise of crop */
    if (!soft_crop) {
        assert_true(r.min_inner > 0.9999);
        check_unit_norm_or_zero(&sens);
    }
    assert_true(r.nrmse < 1e-4); /* measured 4e-6 (default) and 9e-6 (-S -P) */

    mr_array_cleanup(&ksp);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&sens);
}

static void test_espirit_matches_bart_ecalib_unit_norm(void **state)
{
    (void)state;
    check_against_bart("espirit/brain8_bart_maps.npy", false, true);
}

static void test_espirit_soft_crop_coil0_phase_matches_bart(void **state)
{
    (void)state;
    check_against_bart("espirit/brain8_bart_maps_SP.npy", true, false);
}

/*
 * Synthetic: C smooth complex maps (Gaussians around the image, linear phases), an object
 * with an inner structure and its own phase, k-space = FFT(maps · image) + weak noise, on an
 * odd × even grid. ESPIRiT must return T / |T| up to one phase per pixel inside the object.
 */
static void make_synthetic(int64_t nc, int64_t h, int64_t w, float noise, struct mr_array *ksp,
                           struct mr_array *truth, float *object)
{
    struct mr_fft2 *f = NULL;
    struct mr_array coil;
    struct mr_test_rng rng;

    assert_int_equal(mr_array_init_dims(truth, MR_DTYPE_CF32, 3, nc, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&coil, truth), MR_OK);
    assert_int_equal(mr_array_init_like(ksp, truth), MR_OK);
    float complex *t = mr_array_cf32(truth);
    float complex *ci = mr_array_cf32(&coil);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            const double yy = (double)(y - h / 2) / (double)h;
            const double xx = (double)(x - w / 2) / (double)w;
            const bool in = (xx / 0.36) * (xx / 0.36) + (yy / 0.42) * (yy / 0.42) < 1.0;
            const bool spot = (xx - 0.1) * (xx - 0.1) + (yy + 0.12) * (yy + 0.12) < 0.015;
            const double complex img =
                (in ? 1.0 + 0.6 * spot : 0.0) * cexp(CMPLX(0.0, 1.5 * xx));
            object[y * w + x] = in ? 1.0f : 0.0f;
            for (int64_t c = 0; c < nc; c++) {
                const double a = 2.0 * M_PI * (double)c / (double)nc;
                const double cy = 0.6 * sin(a);
                const double cx = 0.6 * cos(a);
                const double r2 = (xx - cx) * (xx - cx) + (yy - cy) * (yy - cy);
                const double complex s =
                    exp(-r2 / (2.0 * 0.4 * 0.4)) *
                    cexp(CMPLX(0.0, a + 2.0 * (xx * cos(a) + yy * sin(a))));
                t[(c * h + y) * w + x] = (float complex)s;
                ci[(c * h + y) * w + x] = (float complex)(s * img);
            }
        }
    assert_int_equal(mr_fft2_create(h, w, &mr_fft_config_default, &f), MR_OK);
    mr_fft2_forward_array(f, ksp, &coil);
    mr_test_rng_seed(&rng, 3);
    float complex *k = mr_array_cf32(ksp);
    for (int64_t i = 0; i < mr_array_numel(ksp); i++)
        k[i] += noise * ((float)mr_test_rng_normal(&rng) + I * (float)mr_test_rng_normal(&rng));
    mr_fft2_free(f);
    mr_array_cleanup(&coil);
}

static void test_espirit_recovers_known_smooth_maps(void **state)
{
    (void)state;
    const int64_t nc = 6;
    const int64_t h = 63;
    const int64_t w = 52;
    const int64_t np = h * w;
    struct mr_array ksp;
    struct mr_array truth;
    struct mr_array sens;
    float *object = calloc((size_t)np, sizeof(*object));

    make_synthetic(nc, h, w, 1e-4f, &ksp, &truth, object);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    assert_int_equal(mr_espirit_maps(&mr_espirit_config_default, &ksp, &sens), MR_OK);

    const float complex *s = mr_array_cf32(&sens);
    const float complex *t = mr_array_cf32(&truth);
    double worst = 1.0;
    double sum = 0.0;
    int64_t count = 0;
    for (int64_t y = 2; y < h - 2; y++)
        for (int64_t x = 2; x < w - 2; x++) {
            /* interior: the object and its 2-pixel neighbourhood */
            bool inside = true;
            for (int64_t dy = -2; dy <= 2; dy++)
                for (int64_t dx = -2; dx <= 2; dx++)
                    inside = inside && object[(y + dy) * w + x + dx] > 0.0f;
            if (!inside)
                continue;
            const int64_t i = y * w + x;
            double nt = 0.0;
            double complex ip = 0.0;
            for (int64_t c = 0; c < nc; c++) {
                nt += (double)(crealf(t[c * np + i]) * crealf(t[c * np + i]) +
                               cimagf(t[c * np + i]) * cimagf(t[c * np + i]));
                ip += (double complex)s[c * np + i] * conj((double complex)t[c * np + i]);
            }
            const double v = cabs(ip) / sqrt(nt);
            worst = v < worst ? v : worst;
            sum += v;
            count++;
        }
    print_message("synthetic %lldx%lldx%lld: %lld interior pixels, |<S, T/|T|>| min %.6f "
                  "mean %.6f\n",
                  (long long)nc, (long long)h, (long long)w, (long long)count, worst,
                  sum / (double)count);
    assert_true(count > np / 4);
    assert_true(worst > 0.999);   /* measured 0.99994; maps one pixel off on the odd axis */
    assert_true(sum / (double)count > 0.9999); /* give 0.99882 and 0.99932 */

    free(object);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&truth);
    mr_array_cleanup(&sens);
}

/* Noiseless data with many coils makes the calibration Gram matrix numerically rank
 * deficient; its eigen decomposition needs far more QL sweeps for a few eigenvalues than the
 * textbook 30-per-eigenvalue limit (a 16-coil noiseless scan once failed with "did not
 * converge"). */
static void test_espirit_noiseless_many_coils(void **state)
{
    (void)state;
    const int64_t nc = 16;
    const int64_t h = 64;
    const int64_t w = 64;
    struct mr_array ksp;
    struct mr_array truth;
    struct mr_array sens;
    float *object = calloc((size_t)(h * w), sizeof(*object));

    make_synthetic(nc, h, w, 0.0f, &ksp, &truth, object);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    mr_status st = mr_espirit_maps(&mr_espirit_config_default, &ksp, &sens);
    if (st != MR_OK)
        fail_msg("%s", mr_last_error());
    free(object);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&truth);
    mr_array_cleanup(&sens);
}

/* a failed call leaves sens untouched */
static void expect_failure(const struct mr_espirit_config *cfg, const struct mr_array *ksp,
                           struct mr_array *sens, mr_status want, const char *text)
{
    for (int64_t i = 0; i < mr_array_numel(sens) && sens->dtype == MR_DTYPE_CF32; i++)
        mr_array_cf32(sens)[i] = 7.0f;
    assert_int_equal(mr_espirit_maps(cfg, ksp, sens), want);
    if (strstr(mr_last_error(), text) == NULL)
        fail_msg("error '%s' does not mention '%s'", mr_last_error(), text);
    for (int64_t i = 0; i < mr_array_numel(sens) && sens->dtype == MR_DTYPE_CF32; i++)
        assert_true(mr_array_cf32(sens)[i] == 7.0f);
}

static void test_espirit_errors(void **state)
{
    (void)state;
    struct mr_array ksp;
    struct mr_array sens;
    struct mr_array other;
    struct mr_espirit_config cfg = mr_espirit_config_default;
    const int64_t h = 40;
    const int64_t w = 36;

    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)4, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    mr_test_rand(&ksp, 9);

    /* shapes */
    assert_int_equal(mr_array_init_dims(&other, MR_DTYPE_CF32, 3, (int64_t)4, h, w + 1), MR_OK);
    expect_failure(&cfg, &ksp, &other, MR_ERR_SHAPE, "do not match");
    mr_array_cleanup(&other);
    assert_int_equal(mr_array_init_dims(&other, MR_DTYPE_F32, 3, (int64_t)4, h, w), MR_OK);
    expect_failure(&cfg, &other, &sens, MR_ERR_SHAPE, "complex64");
    mr_array_cleanup(&other);
    assert_int_equal(mr_array_init_dims(&other, MR_DTYPE_CF32, 3, (int64_t)4, (int64_t)5, w),
                     MR_OK);
    {
        struct mr_array small;
        assert_int_equal(mr_array_init_like(&small, &other), MR_OK);
        expect_failure(&cfg, &other, &small, MR_ERR_SHAPE, "larger than");
        mr_array_cleanup(&small);
    }
    mr_array_cleanup(&other);

    /* config */
    cfg.crop = 1.0f;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_ARG, "crop");
    cfg = mr_espirit_config_default;
    cfg.threshold = -0.5f;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_ARG, "threshold");
    cfg = mr_espirit_config_default;
    cfg.kernel[1] = 0;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_ARG, "kernel");
    cfg = mr_espirit_config_default;
    cfg.calib[0] = 5;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_ARG, "calibration size");
    cfg = mr_espirit_config_default;
    cfg.iters = 0;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_ARG, "power iteration");
    cfg = mr_espirit_config_default;

    /* data: a hole 8 rows above DC only shrinks the calibration block (to 15 rows); one next
     * to DC leaves a single row; NaN; all zero */
    const int64_t far = ((int64_t)1 * h + h / 2 - 8) * w + w / 2;
    const int64_t near = ((int64_t)1 * h + h / 2 - 1) * w + w / 2;
    const float complex keep_far = mr_array_cf32(&ksp)[far];
    const float complex keep_near = mr_array_cf32(&ksp)[near];
    for (int64_t c = 0; c < 4; c++)
        mr_array_cf32(&ksp)[far + (c - 1) * h * w] = 0.0f;
    assert_int_equal(mr_espirit_maps(&cfg, &ksp, &sens), MR_OK);
    for (int64_t c = 0; c < 4; c++)
        mr_array_cf32(&ksp)[near + (c - 1) * h * w] = 0.0f;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_DATA, "fully sampled");
    mr_array_cf32(&ksp)[near] = keep_near; /* one coil is enough to count as sampled */
    mr_array_cf32(&ksp)[far] = keep_far;
    assert_int_equal(mr_espirit_maps(&cfg, &ksp, &sens), MR_OK);
    mr_array_cf32(&ksp)[5] = NAN;
    expect_failure(&cfg, &ksp, &sens, MR_ERR_DATA, "ESPIRiT k-space");
    mr_array_zero(&ksp);
    expect_failure(&cfg, &ksp, &sens, MR_ERR_DATA, "fully sampled");

    mr_array_cleanup(&ksp);
    mr_array_cleanup(&sens);
}

/* The QL eigen solver never reads the scratch entry e[n - 1]: whatever it holds (malloc'd
 * garbage before this was fixed, which made the maps vary from run to run), the eigenvalues
 * are those of the tridiagonal matrix. */
static void test_tridiag_ql_ignores_scratch_entry(void **state)
{
    enum { N = 6 };
    const double d0[N] = { 4.0, 1.0, -2.0, 3.0, 0.5, 2.0 };
    const double e0[N - 1] = { 1.0, 0.5, 0.25, 2.0, 1.5 };
    const double scratch[] = { 0.0, 1e300, NAN, -7.0 };
    double ref[N];
    (void)state;

    for (size_t k = 0; k < sizeof(scratch) / sizeof(scratch[0]); k++) {
        double d[N];
        double e[N];
        double zt[N * N] = { 0 };
        memcpy(d, d0, sizeof(d));
        memcpy(e, e0, sizeof(e0));
        e[N - 1] = scratch[k];
        for (int i = 0; i < N; i++)
            zt[i * N + i] = 1.0;
        assert_true(mr_tridiag_ql(N, d, e, zt));
        /* trace and Frobenius norm are invariants of the matrix */
        double tr = 0.0;
        double fro = 0.0;
        double tr0 = 0.0;
        double fro0 = 0.0;
        for (int i = 0; i < N; i++) {
            tr += d[i];
            fro += d[i] * d[i];
            tr0 += d0[i];
            fro0 += d0[i] * d0[i] + (i < N - 1 ? 2.0 * e0[i] * e0[i] : 0.0);
        }
        assert_true(fabs(tr - tr0) < 1e-12 && fabs(fro - fro0) < 1e-10);
        if (k == 0)
            memcpy(ref, d, sizeof(ref));
        for (int i = 0; i < N; i++)
            assert_true(d[i] == ref[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_espirit_matches_bart_ecalib_unit_norm),
        cmocka_unit_test(test_espirit_soft_crop_coil0_phase_matches_bart),
        cmocka_unit_test(test_espirit_recovers_known_smooth_maps),
        cmocka_unit_test(test_espirit_noiseless_many_coils),
        cmocka_unit_test(test_espirit_errors),
        cmocka_unit_test(test_tridiag_ql_ignores_scratch_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
