/* FFT: against a naive double-precision DFT on odd and even sizes, every normalisation,
 * centred and uncentred; numpy's shift conventions; unitarity of ortho; in place == out of
 * place; batches and unaligned pointers. */
#include "mr_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "recon/cpu.h"
#include "recon/fft.h"
#include "recon/settings.h"

static int64_t roll_index(int64_t i, int64_t n, int64_t k)
{
    return ((i - k) % n + n) % n;
}

/* numpy-style reference: centred = fftshift(dft(ifftshift(x))) */
static void naive_fft2(double complex *out, const float complex *in, int64_t h, int64_t w,
                       const struct mr_fft_config *cfg, bool inverse)
{
    double complex *x = calloc((size_t)(h * w), sizeof(*x));
    double complex *y = calloc((size_t)(h * w), sizeof(*y));
    for (int64_t r = 0; r < h; r++)
        for (int64_t c = 0; c < w; c++) {
            int64_t sr = cfg->centered ? roll_index(r, h, (h + 1) / 2) : r;
            int64_t sc = cfg->centered ? roll_index(c, w, (w + 1) / 2) : c;
            x[r * w + c] = (double complex)in[sr * w + sc];
        }
    double sign = inverse ? 1.0 : -1.0;
    for (int64_t kr = 0; kr < h; kr++)
        for (int64_t kc = 0; kc < w; kc++) {
            double complex acc = 0.0;
            for (int64_t r = 0; r < h; r++)
                for (int64_t c = 0; c < w; c++) {
                    double ph = sign * 2.0 * M_PI *
                                ((double)(kr * r) / (double)h + (double)(kc * c) / (double)w);
                    acc += x[r * w + c] * cexp((double complex)I * ph);
                }
            y[kr * w + kc] = acc;
        }
    double n = (double)(h * w);
    double scale = 1.0;
    if (cfg->norm == MR_FFT_NORM_ORTHO)
        scale = 1.0 / sqrt(n);
    else if (cfg->norm == MR_FFT_NORM_BACKWARD && inverse)
        scale = 1.0 / n;
    else if (cfg->norm == MR_FFT_NORM_FORWARD && !inverse)
        scale = 1.0 / n;
    for (int64_t r = 0; r < h; r++)
        for (int64_t c = 0; c < w; c++) {
            int64_t sr = cfg->centered ? roll_index(r, h, h / 2) : r;
            int64_t sc = cfg->centered ? roll_index(c, w, w / 2) : c;
            out[r * w + c] = y[sr * w + sc] * scale;
        }
    free(x);
    free(y);
}

static void check_against_naive(int64_t h, int64_t w, bool centered, enum mr_fft_norm norm)
{
    struct mr_fft_config cfg = { .centered = centered, .norm = norm };
    struct mr_fft2 *f = NULL;
    struct mr_array x;
    struct mr_array y;
    struct mr_array ref;
    double complex *tmp = calloc((size_t)(h * w), sizeof(*tmp));

    assert_int_equal(mr_fft2_create(h, w, &cfg, &f), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_CF32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_CF32, 2, h, w), MR_OK);
    mr_test_rand(&x, (uint64_t)(h * 31 + w));
    for (int inv = 0; inv < 2; inv++) {
        naive_fft2(tmp, mr_array_cf32(&x), h, w, &cfg, inv != 0);
        for (int64_t i = 0; i < h * w; i++)
            mr_array_cf32(&ref)[i] = (float complex)tmp[i];
        if (inv)
            mr_fft2_inverse_array(f, &y, &x);
        else
            mr_fft2_forward_array(f, &y, &x);
        assert_nrmse_below(&y, &ref, 1e-5);
    }
    free(tmp);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&ref);
    mr_fft2_free(f);
}

static void test_fft_matches_naive_dft_odd_and_even(void **state)
{
    (void)state;
    static const int64_t sizes[][2] = { { 7, 5 }, { 8, 6 }, { 9, 4 }, { 1, 5 }, { 6, 11 } };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (int c = 0; c < 2; c++)
            for (int n = 0; n < 3; n++)
                check_against_naive(sizes[s][0], sizes[s][1], c != 0, (enum mr_fft_norm)n);
}

static void test_fft_shifts_match_numpy(void **state)
{
    (void)state;
    /* numpy: fftshift([0..4]) = [3 4 0 1 2], ifftshift([0..4]) = [2 3 4 0 1] */
    float complex x[5] = { 0, 1, 2, 3, 4 };
    mr_fftshift2(x, 1, 5);
    assert_true(crealf(x[0]) == 3.0f && crealf(x[2]) == 0.0f && crealf(x[4]) == 2.0f);
    float complex y[5] = { 0, 1, 2, 3, 4 };
    mr_ifftshift2(y, 1, 5);
    assert_true(crealf(y[0]) == 2.0f && crealf(y[2]) == 4.0f && crealf(y[4]) == 1.0f);
    /* 2-D, 3x4: ifftshift then fftshift is the identity */
    float z[12];
    for (int i = 0; i < 12; i++)
        z[i] = (float)i;
    mr_ifftshift2_f32(z, 3, 4);
    assert_true(z[0] == 6.0f); /* row (0-2) mod 3 = 1, col (0-2) mod 4 = 2 -> 1*4+2 */
    mr_fftshift2_f32(z, 3, 4);
    for (int i = 0; i < 12; i++)
        assert_true(z[i] == (float)i);
}

/* the centring index maps agree with the shifts (numpy's), odd and even n, and invert */
static void test_fft_centring_index(void **state)
{
    (void)state;
    for (int64_t n = 1; n <= 9; n++) {
        float x[9];
        float y[9];
        for (int64_t i = 0; i < n; i++)
            x[i] = y[i] = (float)i;
        mr_fftshift2_f32(x, 1, n);  /* x[i] = i0[(i − n/2) mod n] */
        mr_ifftshift2_f32(y, 1, n); /* y[i] = i0[(i + n/2) mod n] */
        for (int64_t i = 0; i < n; i++) {
            assert_true(x[i] == (float)mr_fft_uncentred_index(i, n));
            assert_true(y[i] == (float)mr_fft_centred_index(i, n));
            assert_int_equal(mr_fft_uncentred_index(mr_fft_centred_index(i, n), n), i);
            assert_true(x[mr_fft_centred_index(i, n)] == (float)i); /* k lands there */
        }
        /* the DC (uncentred 0) sits at n/2 in centred order; any integer reduces mod n */
        assert_int_equal(mr_fft_centred_index(0, n), n / 2);
        assert_int_equal(mr_fft_uncentred_index(-1 - n, n), mr_fft_uncentred_index(-1, n));
    }
}

/* the normalisation table, and the plans apply it: a unit impulse's transform is s_fwd
 * everywhere, an inverse of ones is s_inv·n at DC */
static void test_fft_norm_scales(void **state)
{
    (void)state;
    const double n = 12.0;
    double f;
    double b;
    mr_fft_norm_scales(MR_FFT_NORM_ORTHO, n, &f, &b);
    assert_true(f == 1.0 / sqrt(n) && b == 1.0 / sqrt(n));
    mr_fft_norm_scales(MR_FFT_NORM_BACKWARD, n, &f, &b);
    assert_true(f == 1.0 && b == 1.0 / n);
    mr_fft_norm_scales(MR_FFT_NORM_FORWARD, n, &f, &b);
    assert_true(f == 1.0 / n && b == 1.0);
    for (int norm = 0; norm < 3; norm++) {
        const struct mr_fft_config cfg = { .centered = false, .norm = (enum mr_fft_norm)norm };
        struct mr_fft2 *p = NULL;
        float complex x[12] = { 1.0f };
        float complex o[12];
        for (int i = 0; i < 12; i++)
            o[i] = 1.0f;
        mr_fft_norm_scales(cfg.norm, n, &f, &b);
        assert_int_equal(mr_fft2_create(3, 4, &cfg, &p), MR_OK);
        mr_fft2_forward(p, x, x, 1);
        mr_fft2_inverse(p, o, o, 1);
        for (int i = 0; i < 12; i++)
            assert_true(fabs((double)crealf(x[i]) - f) < 1e-6 && fabs((double)cimagf(x[i])) < 1e-6);
        assert_true(fabs((double)crealf(o[0]) - b * n) < 1e-5);
        mr_fft2_free(p);
    }
}

static void test_fft_ortho_is_unitary_and_inverts(void **state)
{
    (void)state;
    const int64_t b = 3;
    const int64_t h = 37;
    const int64_t w = 45;
    struct mr_fft2 *f = NULL;
    struct mr_array x;
    struct mr_array k;
    struct mr_array y;
    assert_int_equal(mr_fft2_create(h, w, &mr_fft_config_default, &f), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 3, b, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&k, &x), MR_OK);
    assert_int_equal(mr_array_init_like(&y, &x), MR_OK);
    mr_test_rand(&x, 3);
    mr_fft2_forward_array(f, &k, &x);
    double ex = 0.0;
    double ek = 0.0;
    for (int64_t i = 0; i < mr_array_numel(&x); i++) {
        ex += pow(cabsf(mr_array_cf32(&x)[i]), 2);
        ek += pow(cabsf(mr_array_cf32(&k)[i]), 2);
    }
    assert_true(fabs(ex - ek) / ex < 1e-5);
    mr_fft2_inverse_array(f, &y, &k);
    assert_nrmse_below(&y, &x, 1e-6);
    /* in place gives the same as out of place */
    mr_array_copy(&y, &x);
    mr_fft2_forward(f, mr_array_cf32(&y), mr_array_cf32(&y), b);
    assert_nrmse_below(&y, &k, 1e-7);
    mr_array_cleanup(&x);
    mr_array_cleanup(&k);
    mr_array_cleanup(&y);
    mr_fft2_free(f);
}

static void test_fft_unaligned_pointer(void **state)
{
    (void)state;
    const int64_t h = 5;
    const int64_t w = 7; /* odd image: the second image of a batch starts misaligned */
    struct mr_fft2 *f = NULL;
    struct mr_array x;
    struct mr_array k1;
    struct mr_array k2;
    assert_int_equal(mr_fft2_create(h, w, &mr_fft_config_default, &f), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 3, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&k1, &x), MR_OK);
    assert_int_equal(mr_array_init_like(&k2, &x), MR_OK);
    mr_test_rand(&x, 11);
    memcpy(mr_array_cf32(&x), mr_array_cf32(&x) + h * w, sizeof(float complex) * (size_t)(h * w));
    mr_fft2_forward_array(f, &k1, &x);
    for (int64_t i = 0; i < h * w; i++)
        assert_true(cabsf(mr_array_cf32(&k1)[i] - mr_array_cf32(&k1)[h * w + i]) < 1e-6f);
    mr_array_cleanup(&x);
    mr_array_cleanup(&k1);
    mr_array_cleanup(&k2);
    mr_fft2_free(f);
}

static void test_fft_large_threaded_matches_batched(void **state)
{
    (void)state;
    const int64_t h = 256;
    const int64_t w = 200;
    struct mr_fft2 *f = NULL;
    struct mr_fft_config cfg = { .centered = false, .norm = MR_FFT_NORM_BACKWARD };
    struct mr_array x;
    struct mr_array a;
    struct mr_array b;
    assert_int_equal(mr_fft2_create(h, w, &cfg, &f), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 3, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_like(&a, &x), MR_OK);
    assert_int_equal(mr_array_init_like(&b, &x), MR_OK);
    mr_test_rand(&x, 5);
    mr_fft2_forward_array(f, &a, &x); /* parallel over the batch */
    for (int64_t i = 0; i < 2; i++)   /* one at a time: FFTW threads */
        mr_fft2_forward(f, mr_array_cf32(&b) + i * h * w, mr_array_cf32(&x) + i * h * w, 1);
    assert_nrmse_below(&a, &b, 1e-6);
    mr_fft2_inverse_array(f, &b, &a);
    assert_nrmse_below(&b, &x, 1e-5);
    mr_array_cleanup(&x);
    mr_array_cleanup(&a);
    mr_array_cleanup(&b);
    mr_fft2_free(f);
}

static void test_fft1_matches_fft2_on_a_row(void **state)
{
    (void)state;
    const int64_t n = 9;
    struct mr_fft1 *f1 = NULL;
    struct mr_fft2 *f2 = NULL;
    float complex x[9];
    float complex a[9];
    float complex b[9];
    struct mr_test_rng r;
    mr_test_rng_seed(&r, 1);
    for (int i = 0; i < n; i++)
        x[i] = (float)mr_test_rng_normal(&r) + I * (float)mr_test_rng_normal(&r);
    assert_int_equal(mr_fft1_create(n, &mr_fft_config_default, &f1), MR_OK);
    assert_int_equal(mr_fft2_create(1, n, &mr_fft_config_default, &f2), MR_OK);
    mr_fft1_inverse(f1, a, x, 1);
    mr_fft2_inverse(f2, b, x, 1);
    for (int i = 0; i < n; i++)
        assert_true(cabsf(a[i] - b[i]) < 1e-6f);
    mr_fft1_free(f1);
    mr_fft2_free(f2);
}

/* F⁻¹(M ⊙ F z) along rows only equals the 2-D form for a mask constant along H: every
 * centring and normalisation, odd and even sizes, a weighted mask, a stack of images whose
 * row count is not a multiple of the 16-row blocks, and 2 threads; for masks along rows also
 * the out-of-place one-row form (mr_fft_linemask_row) */
static void check_linemask(int64_t h, int64_t w, bool centered, enum mr_fft_norm norm,
                           int64_t nimg, uint64_t seed, bool row_lines)
{
    const struct mr_fft_config cfg = { .centered = centered, .norm = norm };
    struct mr_fft2 *f2 = NULL;
    struct mr_fft_linemask *op = NULL;
    struct mr_array z = { 0 };
    struct mr_array ref = { 0 };
    float *mask = malloc(sizeof(float) * (size_t)(h * w));
    struct mr_test_rng r;

    assert_non_null(mask);
    mr_test_rng_seed(&r, seed);
    /* column lines: M[y, x] = m[x]; row lines: M[y, x] = m[y] */
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            const int64_t i = row_lines ? y : x;
            mask[y * w + x] = i % 3 == 0 ? 1.0f : i % 3 == 1 ? 0.0f : (float)(0.5 + 0.1 * (double)i);
        }
    assert_true(row_lines ? mr_mask_is_row_mask(mask, h, w) : mr_mask_is_column_mask(mask, h, w));
    assert_int_equal(mr_array_init_dims(&z, MR_DTYPE_CF32, 3, nimg, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_CF32, 3, nimg, h, w), MR_OK);
    mr_test_rand(&z, seed);
    assert_int_equal(mr_fft2_create(h, w, &cfg, &f2), MR_OK);
    assert_int_equal(mr_fft_linemask_create(h, w, &cfg, mask, &op), MR_OK);
    float complex *q = mr_array_cf32(&ref);
    mr_fft2_forward(f2, q, mr_array_cf32(&z), nimg);
    for (int64_t i = 0; i < nimg * h * w; i++)
        q[i] *= mask[i % (h * w)];
    mr_fft2_inverse(f2, q, q, nimg);
    assert_true(mr_fft_linemask_along_rows(op) == (!row_lines || h == 1));
    if (mr_fft_linemask_along_rows(op)) {
        /* the one-row form, row by row: into another array (odd rows start off the 16-byte
         * alignment when w is odd) and in place */
        struct mr_array y = { 0 };
        assert_int_equal(mr_array_init_like(&y, &z), MR_OK);
        float complex *zp = mr_array_cf32(&z);
        float complex *yp = mr_array_cf32(&y);
        for (int64_t row = 0; row < nimg * h; row++)
            mr_fft_linemask_row(op, yp + row * w, zp + row * w);
        assert_max_rel_below(&y, &ref, 2e-6);
        mr_array_copy(&y, &z);
        for (int64_t row = 0; row < nimg * h; row++)
            mr_fft_linemask_row(op, yp + row * w, yp + row * w);
        assert_max_rel_below(&y, &ref, 2e-6);
        mr_array_cleanup(&y);
    }
    {
        /* out of place, into another array (z unchanged); then one image per thread of a team
         * larger than the thread count the operator was made for (the last thread has no slot
         * and transforms in place) */
        struct mr_array y = { 0 };
        struct mr_array z0 = { 0 };
        assert_int_equal(mr_array_init_like(&y, &z), MR_OK);
        assert_int_equal(mr_array_init_copy(&z0, &z), MR_OK);
        mr_fft_linemask_apply_to(op, mr_array_cf32(&y), mr_array_cf32(&z), nimg);
        assert_max_rel_below(&y, &ref, 2e-6);
        assert_memory_equal(z.data, z0.data, mr_array_nbytes(&z));
        mr_array_zero(&y);
        const int team = mr_cpu_threads() + 1;
        float complex *zp = mr_array_cf32(&z);
        float complex *yp = mr_array_cf32(&y);
#pragma omp parallel num_threads(team)
        {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            for (int64_t i = tid; i < nimg; i += team)
                mr_fft_linemask_apply_to(op, yp + i * h * w, zp + i * h * w, 1);
        }
        assert_max_rel_below(&y, &ref, 2e-6);
        mr_array_cleanup(&y);
        mr_array_cleanup(&z0);
    }
    mr_fft_linemask_apply(op, mr_array_cf32(&z), nimg);
    assert_max_rel_below(&z, &ref, 2e-6);
    if (h > 1 && w > 1) {
        mask[w + 1] = mask[w] + 1.0f; /* one value differs: neither whole rows nor columns */
        assert_false(mr_mask_is_column_mask(mask, h, w) || mr_mask_is_row_mask(mask, h, w));
        struct mr_fft_linemask *bad = NULL;
        assert_int_equal(mr_fft_linemask_create(h, w, &cfg, mask, &bad), MR_ERR_ARG);
        assert_null(bad);
        assert_int_equal(mr_fft_linemask_sync(&op, h, w, &cfg, mask), MR_OK);
        assert_null(op);
    }
    mr_fft_linemask_free(op);
    mr_fft2_free(f2);
    mr_array_cleanup(&z);
    mr_array_cleanup(&ref);
    free(mask);
}

static void test_fft_linemask_matches_fft2(void **state)
{
    (void)state;
    const enum mr_fft_norm norms[3] = { MR_FFT_NORM_ORTHO, MR_FFT_NORM_BACKWARD,
                                        MR_FFT_NORM_FORWARD };
    for (int rl = 0; rl < 2; rl++) {
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < 3; k++) {
                check_linemask(7, 9, c == 1, norms[k], 3, (uint64_t)(10 + 3 * c + k), rl == 1);
                check_linemask(10, 12, c == 1, norms[k], 2, (uint64_t)(20 + 3 * c + k),
                               rl == 1);
                /* row lines: two 16-column blocks and 3 single columns */
                check_linemask(9, 35, c == 1, norms[k], 2, (uint64_t)(40 + 3 * c + k), rl == 1);
            }
        check_linemask(1, 5, true, MR_FFT_NORM_ORTHO, 1, 30, rl == 1);
        check_linemask(218, 170, true, MR_FFT_NORM_ORTHO, 3, 31, rl == 1); /* parallel */
    }
}

static void test_fft_norm_parse(void **state)
{
    (void)state;
    enum mr_fft_norm n;
    assert_int_equal(mr_fft_norm_parse("none", &n), MR_OK);
    assert_int_equal(n, MR_FFT_NORM_BACKWARD);
    assert_int_equal(mr_fft_norm_parse("orth", &n), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "orth"));
    struct mr_fft2 *f = NULL;
    assert_int_equal(mr_fft2_create(0, 4, &mr_fft_config_default, &f), MR_ERR_ARG);
    assert_null(f);
}

/* the planner follows the plan mode; wisdom written by a MEASURE run reads back; a file that is
 * not FFTW wisdom is a format error naming it */
static void test_fft_wisdom_round_trip(void **state)
{
    (void)state;
    struct mr_settings set = mr_settings_default;
    set.conv_plan = MR_CONV_PLAN_MEASURE;
    mr_settings_set(&set);
    struct mr_fft2 *f = NULL;
    assert_int_equal(mr_fft2_create(128, 96, &mr_fft_config_default, &f), MR_OK);
    mr_fft2_free(f);
    mr_settings_set(&mr_settings_default);

    const char *path = mr_test_tmp("fft_wisdom.txt");
    FILE *w = fopen(path, "w");
    assert_non_null(w);
    mr_fft_wisdom_write(w);
    assert_int_equal(fclose(w), 0);
    char head[64] = { 0 };
    FILE *r = fopen(path, "r");
    assert_non_null(r);
    assert_non_null(fgets(head, sizeof head, r));
    assert_non_null(strstr(head, "fftwf_wisdom")); /* measured plans were recorded */
    rewind(r);
    assert_int_equal(mr_fft_wisdom_read(r, path), MR_OK);
    fclose(r);

    r = fopen(path, "w");
    assert_non_null(r);
    fputs("conv 1 2 3\n", r);
    fclose(r);
    r = fopen(path, "r");
    assert_int_equal(mr_fft_wisdom_read(r, path), MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "fft_wisdom.txt"));
    fclose(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fft_matches_naive_dft_odd_and_even),
        cmocka_unit_test(test_fft_shifts_match_numpy),
        cmocka_unit_test(test_fft_centring_index),
        cmocka_unit_test(test_fft_norm_scales),
        cmocka_unit_test(test_fft_ortho_is_unitary_and_inverts),
        cmocka_unit_test(test_fft_unaligned_pointer),
        cmocka_unit_test(test_fft_large_threaded_matches_batched),
        cmocka_unit_test(test_fft1_matches_fft2_on_a_row),
        cmocka_unit_test(test_fft_linemask_matches_fft2),
        cmocka_unit_test(test_fft_norm_parse),
        cmocka_unit_test(test_fft_wisdom_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
