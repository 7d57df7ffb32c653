/* The coil combinations (recon/combine.h): known values, every accumulation against a
 * double-precision reference, the float forms against the frameworks' loops bit for bit, and
 * the normalisation of maps. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#include "recon/combine.h"

static void test_coil_kernels_known_values(void **state)
{
    (void)state;
    /* 2 coils, 1x3 image */
    float complex sd[6] = { 1.0f, I, 0.0f, 2.0f, 1.0f - I, 0.0f };
    float complex xd[3] = { 3.0f, 1.0f + I, 5.0f };
    float complex cd[6];
    float complex rd[3];
    float fd[3];
    const int64_t cdims[3] = { 2, 1, 3 };
    const int64_t idims[2] = { 1, 3 };
    struct mr_array sens;
    struct mr_array x;
    struct mr_array coil;
    struct mr_array r;
    struct mr_array f;
    mr_array_wrap(&sens, MR_DTYPE_CF32, 3, cdims, sd);
    mr_array_wrap(&coil, MR_DTYPE_CF32, 3, cdims, cd);
    mr_array_wrap(&x, MR_DTYPE_CF32, 2, idims, xd);
    mr_array_wrap(&r, MR_DTYPE_CF32, 2, idims, rd);
    mr_array_wrap(&f, MR_DTYPE_F32, 2, idims, fd);

    mr_coil_expand(&coil, &x, &sens);
    assert_true(cd[0] == 3.0f && cd[1] == I * (1.0f + I) && cd[2] == 0.0f);
    assert_true(cd[3] == 6.0f && cd[4] == (1.0f - I) * (1.0f + I) && cd[5] == 0.0f);

    /* reduce: Σ conj(S) S x = Σ|S|² x = (5·3, 3·(1+i), 0) */
    mr_coil_reduce(&r, &coil, &sens, MR_COIL_SUM_FLOAT);
    assert_true(cabsf(rd[0] - 15.0f) < 1e-6f);
    assert_true(cabsf(rd[1] - 3.0f * (1.0f + I)) < 1e-6f);
    assert_true(rd[2] == 0.0f);

    /* SENSE combination inverts the expansion where Σ|S|² > 0 and is 0 elsewhere */
    mr_coil_sense_combine(&r, &coil, &sens);
    assert_true(cabsf(rd[0] - 3.0f) < 1e-6f);
    assert_true(cabsf(rd[1] - (1.0f + I)) < 1e-6f);
    assert_true(rd[2] == 0.0f);

    /* RSS of (3, 4i) = 5, of (1+i, 1-i) = 2, of (0, 0) = 0; F32 and CF32 outputs */
    float complex vd[6] = { 3.0f, 1.0f + I, 0.0f, 4.0f * I, 1.0f - I, 0.0f };
    struct mr_array v;
    mr_array_wrap(&v, MR_DTYPE_CF32, 3, cdims, vd);
    for (int sum = 0; sum < 3; sum++) {
        mr_coil_rss(&f, &v, (enum mr_coil_sum)sum);
        assert_true(fabsf(fd[0] - 5.0f) < 1e-6f && fabsf(fd[1] - 2.0f) < 1e-6f && fd[2] == 0.0f);
        mr_coil_rss(&r, &v, (enum mr_coil_sum)sum);
        assert_true(rd[0] == fd[0] && rd[1] == fd[1] && cimagf(rd[1]) == 0.0f);
    }
    /* per component: sqrt(3² + 1²) + i·sqrt(1² + 1²) for pixel 1's (1+i, 1−i) → (√2, √2) */
    mr_coil_rss_parts(&r, &v, MR_COIL_SUM_DOUBLE);
    assert_true(fabsf(crealf(rd[0]) - 3.0f) < 1e-6f && fabsf(cimagf(rd[0]) - 4.0f) < 1e-6f);
    assert_true(fabsf(crealf(rd[1]) - sqrtf(2.0f)) < 1e-6f);
}

/* the float forms are the frameworks' own loops, bit for bit; all forms are within float
 * rounding of a double reference */
static void test_coil_sums_variants(void **state)
{
    (void)state;
    const int64_t nc = 5;
    const int64_t h = 23;
    const int64_t w = 17;
    const int64_t n = h * w;
    struct mr_array coil;
    struct mr_array sens;
    struct mr_array img;
    struct mr_array ref;
    struct mr_array f;
    assert_int_equal(mr_array_init_dims(&coil, MR_DTYPE_CF32, 3, nc, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, nc, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_CF32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_CF32, 2, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&f, MR_DTYPE_F32, 2, h, w), MR_OK);
    mr_test_rand(&coil, 1);
    mr_test_rand(&sens, 2);
    const float complex *x = mr_array_cf32(&coil);
    const float complex *s = mr_array_cf32(&sens);

    /* reduce: double reference, and RecurrentVarNet's real-arithmetic float loop exactly */
    for (int64_t i = 0; i < n; i++) {
        double complex acc = 0.0;
        for (int64_t c = 0; c < nc; c++)
            acc += conj((double complex)s[c * n + i]) * (double complex)x[c * n + i];
        mr_array_cf32(&ref)[i] = (float complex)acc;
    }
    mr_coil_reduce(&img, &coil, &sens, MR_COIL_SUM_DOUBLE);
    assert_max_rel_below(&img, &ref, 1e-6);
    mr_coil_reduce(&img, &coil, &sens, MR_COIL_SUM_FLOAT);
    assert_max_rel_below(&img, &ref, 1e-5);
    for (int64_t i = 0; i < n; i++) {
        float re = 0.0f;
        float im = 0.0f;
        for (int64_t c = 0; c < nc; c++) {
            const float sr = crealf(s[c * n + i]);
            const float si = -cimagf(s[c * n + i]);
            const float xr = crealf(x[c * n + i]);
            const float xi = cimagf(x[c * n + i]);
            re += sr * xr - si * xi;
            im += sr * xi + si * xr;
        }
        assert_true(crealf(mr_array_cf32(&img)[i]) == re && cimagf(mr_array_cf32(&img)[i]) == im);
    }

    /* RSS: fastMRI's |x| squared in float, DIRECT's re² + im² in float, double */
    struct mr_array r_abs;
    struct mr_array r_flt;
    assert_int_equal(mr_array_init_like(&r_abs, &f), MR_OK);
    assert_int_equal(mr_array_init_like(&r_flt, &f), MR_OK);
    mr_coil_rss(&r_abs, &coil, MR_COIL_SUM_FLOAT_ABS);
    mr_coil_rss(&r_flt, &coil, MR_COIL_SUM_FLOAT);
    mr_coil_rss(&f, &coil, MR_COIL_SUM_DOUBLE);
    for (int64_t i = 0; i < n; i++) {
        float ss_abs = 0.0f;
        float ss = 0.0f;
        double sd = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const float a = cabsf(x[c * n + i]);
            const float re = crealf(x[c * n + i]);
            const float im = cimagf(x[c * n + i]);
            ss_abs += a * a;
            ss += re * re + im * im;
            sd += (double)re * (double)re + (double)im * (double)im;
        }
        assert_true(mr_array_f32(&r_abs)[i] == sqrtf(ss_abs));
        assert_true(mr_array_f32(&r_flt)[i] == sqrtf(ss));
        assert_true(mr_array_f32(&f)[i] == (float)sqrt(sd));
    }
    mr_array_cleanup(&r_abs);
    mr_array_cleanup(&r_flt);

    /* normalisation: Σ|S|² = 1 afterwards, zero pixels stay zero and are counted */
    for (int64_t c = 0; c < nc; c++)
        mr_array_cf32(&sens)[c * n + 7] = 0.0f;
    assert_int_equal(mr_coil_normalize(&sens, MR_COIL_SUM_FLOAT), 1);
    mr_coil_rss(&f, &sens, MR_COIL_SUM_DOUBLE);
    for (int64_t i = 0; i < n; i++)
        assert_true(i == 7 ? mr_array_f32(&f)[i] == 0.0f
                           : fabsf(mr_array_f32(&f)[i] - 1.0f) < 1e-6f);
    assert_int_equal(mr_coil_normalize(&sens, MR_COIL_SUM_FLOAT_ABS), 1);

    mr_array_cleanup(&coil);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&img);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coil_kernels_known_values),
        cmocka_unit_test(test_coil_sums_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
