/* NMSE / PSNR / SSIM against tests/data/metrics/metrics_golden.json (scikit-image 0.19.3 on
 * a 10-slice MR volume and its zero-filled reconstruction), within 1e-5; identities and
 * error paths. */
#include "mr_test.h"

#include <math.h>
#include <string.h>

#include "io/npy.h"
#include "sampling/metrics.h"

static const struct mr_metrics golden_fastmri = { 0.21626649104568083, 28.79706076613769,
                                                  0.7737992054354862 };
static const struct mr_metrics golden_atommic[10] = {
    { 0.5306640251862831, 22.551123236607246, 0.6487654380097854 },
    { 1.4797578213293956, 20.31779929694693, 0.5657808413383424 },
    { 0.6021141588909253, 23.06785228276885, 0.6508000505202367 },
    { 1.404950172591434, 20.817945033287756, 0.5684616073283177 },
    { 1.5454873578903459, 20.067600265166618, 0.5547152069089323 },
    { 1.4227911322253648, 20.209374977409524, 0.5563289845126471 },
    { 1.2070552532393428, 20.70264872050499, 0.5742146988748732 },
    { 1.386722194446649, 19.97963728406613, 0.561344145659206 },
    { 1.494313462207752, 20.145350135674775, 0.5549079089959119 },
    { 1.1568131593579098, 19.91020168683113, 0.5705900248033254 },
};

struct vols {
    struct mr_array gt;
    struct mr_array pred;
};

static int setup(void **state)
{
    static struct vols v;
    if (mr_npy_read(mr_test_data("metrics/target_10x128x128_f32.npy"), &v.gt) != MR_OK ||
        mr_npy_read(mr_test_data("metrics/pred_zerofilled_10x128x128_f32.npy"), &v.pred) != MR_OK)
        return -1;
    *state = &v;
    return 0;
}

static int teardown(void **state)
{
    struct vols *v = *state;
    mr_array_cleanup(&v->gt);
    mr_array_cleanup(&v->pred);
    return 0;
}

static void assert_close(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.10f, want %.10f", what, got, want);
}

static void test_metrics_fastmri_golden(void **state)
{
    struct vols *v = *state;
    struct mr_metrics m;
    assert_int_equal(mr_metrics_fastmri(&v->gt, &v->pred, &m), MR_OK);
    assert_close(m.nmse, golden_fastmri.nmse, 1e-5, "nmse");
    assert_close(m.psnr, golden_fastmri.psnr, 1e-5, "psnr");
    assert_close(m.ssim, golden_fastmri.ssim, 1e-5, "ssim");
}

static void test_metrics_atommic_golden(void **state)
{
    struct vols *v = *state;
    struct mr_metrics m[10];
    assert_int_equal(mr_metrics_atommic(&v->gt, &v->pred, m), MR_OK);
    for (int s = 0; s < 10; s++) {
        assert_close(m[s].nmse, golden_atommic[s].nmse, 1e-5, "atommic nmse");
        assert_close(m[s].psnr, golden_atommic[s].psnr, 1e-5, "atommic psnr");
        assert_close(m[s].ssim, golden_atommic[s].ssim, 1e-5, "atommic ssim");
    }
}

static void test_metrics_identities_and_errors(void **state)
{
    struct vols *v = *state;
    struct mr_metrics m;
    assert_int_equal(mr_metrics_fastmri(&v->gt, &v->gt, &m), MR_OK);
    assert_true(m.nmse == 0.0);
    assert_true(isinf(m.psnr));
    assert_close(m.ssim, 1.0, 1e-12, "ssim(x, x)");

    struct mr_array small;
    struct mr_array zero;
    assert_int_equal(mr_array_init_dims(&small, MR_DTYPE_F32, 3, (int64_t)1, (int64_t)6,
                                        (int64_t)9), MR_OK);
    assert_int_equal(mr_metrics_fastmri(&small, &small, &m), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "(1, 6, 9)"));
    assert_int_equal(mr_metrics_fastmri(&small, &v->gt, &m), MR_ERR_SHAPE);
    assert_int_equal(mr_array_init_dims(&zero, MR_DTYPE_F32, 2, (int64_t)8, (int64_t)8), MR_OK);
    assert_int_equal(mr_metrics_fastmri(&zero, &zero, &m), MR_ERR_DATA);
    assert_int_equal(mr_metrics_atommic(&zero, &zero, &m), MR_ERR_DATA);
    mr_array_cleanup(&small);
    mr_array_cleanup(&zero);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_fastmri_golden),
        cmocka_unit_test(test_metrics_atommic_golden),
        cmocka_unit_test(test_metrics_identities_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
