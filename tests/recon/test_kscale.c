/* The k-space scaling factors (recon/kscale.h) against references written out here: the
 * SENSE-max factor, max|Aᴴy|, DIRECT's percentile with its zero-coil guard, and the division. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "recon/fft.h"
#include "recon/kscale.h"
#include "recon/sense.h"

#define NC 3
#define H 12
#define W 10

static int cmp_float_desc(const void *a, const void *b)
{
    const float x = *(const float *)a;
    const float y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_kscale_sense_max(void **state)
{
    (void)state;
    struct mr_array ksp;
    struct mr_array sens;
    struct mr_array coil;
    struct mr_kscale_sense *k = NULL;
    struct mr_fft2 *f = NULL;
    float s = 0.0f;

    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    assert_int_equal(mr_array_init_like(&coil, &ksp), MR_OK);
    mr_test_rand(&ksp, 1);
    mr_test_rand(&sens, 2);
    assert_int_equal(mr_kscale_sense_create(NC, H, W, &k), MR_OK);
    assert_int_equal(mr_kscale_sense_max(k, &ksp, &sens, &s), MR_OK);
    /* max over pixels of |Σ conj(S) IFFT(y) / Σ|S|²|, centred orthonormal FFT, in double */
    assert_int_equal(mr_fft2_create(H, W, &mr_fft_config_default, &f), MR_OK);
    mr_fft2_inverse(f, mr_array_cf32(&coil), mr_array_cf32(&ksp), NC);
    double want = 0.0;
    for (int64_t p = 0; p < H * W; p++) {
        double complex num = 0.0;
        double den = 0.0;
        for (int64_t c = 0; c < NC; c++) {
            const double complex sc = mr_array_cf32(&sens)[c * H * W + p];
            num += conj(sc) * (double complex)mr_array_cf32(&coil)[c * H * W + p];
            den += creal(sc) * creal(sc) + cimag(sc) * cimag(sc);
        }
        want = fmax(want, cabs(num / den));
    }
    assert_true(fabs((double)s - want) <= 1e-6 * want);
    /* nothing to reconstruct, and non-finite maps */
    mr_array_zero(&ksp);
    assert_int_equal(mr_kscale_sense_max(k, &ksp, &sens, &s), MR_ERR_DATA);
    mr_array_cf32(&sens)[4] = NAN;
    assert_int_equal(mr_kscale_sense_max(k, &ksp, &sens, &s), MR_ERR_DATA);

    mr_fft2_free(f);
    mr_kscale_sense_free(k);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&coil);
}

static void test_kscale_adjoint_max(void **state)
{
    (void)state;
    struct mr_array ksp;
    struct mr_array sens;
    struct mr_array img;
    struct mr_sense *se = NULL;
    struct mr_linop *A = NULL;
    double s = 0.0;

    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&sens, &ksp), MR_OK);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    mr_test_rand(&ksp, 3);
    mr_test_rand(&sens, 4);
    assert_int_equal(mr_sense_create(NC, H, W, &mr_fft_config_default, &se), MR_OK);
    assert_int_equal(mr_sense_set_maps(se, &sens), MR_OK);
    assert_int_equal(mr_sense_linop_create(se, &A), MR_OK);
    assert_int_equal(mr_kscale_adjoint_max(A, &ksp, &img, &s), MR_OK);
    double want = 0.0;
    for (int64_t p = 0; p < H * W; p++)
        want = fmax(want, (double)cabsf(mr_array_cf32(&img)[p]));
    assert_true(s == want && s > 0.0);
    mr_array_zero(&ksp);
    assert_int_equal(mr_kscale_adjoint_max(A, &ksp, &img, &s), MR_ERR_DATA);

    mr_linop_free(A);
    mr_sense_free(se);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&img);
}

/* the k-th largest modulus of the coils that do not sum to zero, k = int((1 − q)·n) + 1 */
static void test_kscale_percentile(void **state)
{
    (void)state;
    struct mr_array ksp;
    float mod[NC * H * W];
    float ref[NC * H * W];

    assert_int_equal(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    mr_test_rand(&ksp, 5);
    for (int64_t i = 0; i < H * W; i++) /* coil 1: a zero-padded coil, left out */
        mr_array_cf32(&ksp)[H * W + i] = 0.0f;
    int64_t n = 0;
    for (int64_t c = 0; c < NC; c++)
        if (c != 1)
            for (int64_t i = 0; i < H * W; i++) {
                const float complex v = mr_array_cf32(&ksp)[c * H * W + i];
                ref[n++] = sqrtf(crealf(v) * crealf(v) + cimagf(v) * cimagf(v));
            }
    qsort(ref, (size_t)n, sizeof(*ref), cmp_float_desc);
    for (int t = 0; t < 4; t++) {
        const double q[4] = { 0.99, 0.5, 0.0001, 0.9999 };
        int64_t k = (int64_t)((1.0 - q[t]) * (double)n) + 1;
        assert_true(mr_kscale_percentile(&ksp, q[t], mod) == ref[(k > n ? n : k) - 1]);
    }
    mr_array_zero(&ksp);
    assert_true(mr_kscale_percentile(&ksp, 0.99, mod) == 0.0f);
    mr_array_cleanup(&ksp);
}

static void test_kscale_divide(void **state)
{
    (void)state;
    float complex x[3] = { 2.0f + 4.0f * I, -1.0f, 0.5f * I };
    float complex y[3];
    struct mr_array a;
    struct mr_array b;
    mr_array_wrap(&a, MR_DTYPE_CF32, 1, (const int64_t[]){ 3 }, x);
    mr_array_wrap(&b, MR_DTYPE_CF32, 1, (const int64_t[]){ 3 }, y);
    mr_kscale_divide(&b, &a, 2.0f);
    assert_true(y[0] == 1.0f + 2.0f * I && y[1] == -0.5f && y[2] == 0.25f * I);
    mr_kscale_divide(&b, &a, 0.0f); /* DIRECT's guard */
    assert_true(y[0] == 0.0f && y[1] == 0.0f && y[2] == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kscale_sense_max),
        cmocka_unit_test(test_kscale_adjoint_max),
        cmocka_unit_test(test_kscale_percentile),
        cmocka_unit_test(test_kscale_divide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
