/* recon/crop: fastMRI's centre crop against a naive reference (odd and even surpluses, leading
 * axes, complex data) and its shape errors. */
#include "mr_test.h"

#include <string.h>

#include "recon/crop.h"

static void test_crop_start_is_fastmri_floor_division(void **state)
{
    (void)state;
    /* fastMRI center_crop: w_from = (shape - crop) // 2 */
    assert_int_equal(mr_center_crop_start(640, 320), 160);
    assert_int_equal(mr_center_crop_start(368, 320), 24);
    assert_int_equal(mr_center_crop_start(7, 4), 1); /* odd surplus: one more dropped at the end */
    assert_int_equal(mr_center_crop_start(5, 5), 0);
    assert_int_equal(mr_center_crop_start(3, 0), 1);
}

static void test_crop_matches_naive_reference(void **state)
{
    struct mr_array src;
    struct mr_array dst;
    (void)state;

    /* (slices 2, coils 3, H 9, W 8) complex -> (2, 3, 4, 5) */
    assert_int_equal(mr_array_init_dims(&src, MR_DTYPE_CF32, 4, (int64_t)2, (int64_t)3,
                                        (int64_t)9, (int64_t)8), MR_OK);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_CF32, 4, (int64_t)2, (int64_t)3,
                                        (int64_t)4, (int64_t)5), MR_OK);
    mr_test_rand(&src, 11);
    assert_int_equal(mr_center_crop(&dst, &src), MR_OK);
    const float complex *s = mr_array_cf32(&src);
    const float complex *d = mr_array_cf32(&dst);
    for (int p = 0; p < 6; p++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++) /* y0 = (9 - 4) // 2 = 2, x0 = (8 - 5) // 2 = 1 */
                assert_true(d[(p * 4 + y) * 5 + x] == s[(p * 9 + y + 2) * 8 + x + 1]);
    mr_array_cleanup(&src);
    mr_array_cleanup(&dst);

    /* (H, W) real, no crop: a copy */
    assert_int_equal(mr_array_init_dims(&src, MR_DTYPE_F32, 2, (int64_t)3, (int64_t)4), MR_OK);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_F32, 2, (int64_t)3, (int64_t)4), MR_OK);
    mr_test_rand(&src, 12);
    assert_int_equal(mr_center_crop(&dst, &src), MR_OK);
    assert_memory_equal(dst.data, src.data, mr_array_nbytes(&src));
    mr_array_cleanup(&src);
    mr_array_cleanup(&dst);
}

static void test_crop_refuses_bad_shapes(void **state)
{
    struct mr_array src;
    struct mr_array dst;
    (void)state;

    assert_int_equal(mr_array_init_dims(&src, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)6,
                                        (int64_t)6), MR_OK);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)7,
                                        (int64_t)4), MR_OK);
    assert_int_equal(mr_center_crop(&dst, &src), MR_ERR_SHAPE); /* larger than the source */
    assert_non_null(strstr(mr_last_error(), "(2, 6, 6) float32"));
    assert_non_null(strstr(mr_last_error(), "(2, 7, 4) float32"));
    mr_array_cleanup(&dst);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_F32, 3, (int64_t)3, (int64_t)4,
                                        (int64_t)4), MR_OK);
    assert_int_equal(mr_center_crop(&dst, &src), MR_ERR_SHAPE); /* another leading axis */
    mr_array_cleanup(&dst);
    assert_int_equal(mr_array_init_dims(&dst, MR_DTYPE_CF32, 3, (int64_t)2, (int64_t)4,
                                        (int64_t)4), MR_OK);
    assert_int_equal(mr_center_crop(&dst, &src), MR_ERR_SHAPE); /* another dtype */
    mr_array_cleanup(&dst);
    mr_array_cleanup(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop_start_is_fastmri_floor_division),
        cmocka_unit_test(test_crop_matches_naive_reference),
        cmocka_unit_test(test_crop_refuses_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
