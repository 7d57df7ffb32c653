/* SENSE: adjoint and normal tests on odd, non-square sizes for every FFT configuration and
 * both mask layouts; the normal linop; the Lipschitz bound; coil expand/reduce, RSS and SENSE
 * combination on known values; error paths. */
#include "mr_test.h"

#include <math.h>
#include <string.h>

#include "linop_test_util.h"
#include "recon/sense.h"

enum { NC = 3, H = 7, W = 9 };

static void random_mask(struct mr_array *mask, uint64_t seed)
{
    struct mr_test_rng r;
    mr_test_rng_seed(&r, seed);
    for (int64_t i = 0; i < mr_array_numel(mask); i++)
        mr_array_f32(mask)[i] = mr_test_rng_uniform(&r) < 0.4 ? 0.0f : 1.0f;
}

/* the three normal paths: 2-D FFTs for a 2-D mask, 1-D FFTs along rows for a column mask and
 * along columns for a row mask */
static void test_sense_adjoint_and_normal_every_fft_config(void **state)
{
    (void)state;
    struct mr_array sens;
    struct mr_array mask;
    struct mr_array cols;
    struct mr_array rows;
    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&cols, MR_DTYPE_F32, 2, (int64_t)1, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&rows, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    mr_test_rand(&sens, 5);
    random_mask(&mask, 6);
    random_mask(&cols, 7);
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            mr_array_f32(&rows)[y * W + x] = (y * 7 + 3) % 5 < 2 ? 1.0f : 0.0f;
    for (int k = 0; k < 18; k++) {
        const int m = k / 6; /* 0: 2-D mask, 1: column mask, 2: row mask */
        struct mr_fft_config cfg = { .centered = (k / 3) % 2 != 0,
                                     .norm = (enum mr_fft_norm)(k % 3) };
        struct mr_sense *s = NULL;
        struct mr_linop *a = NULL;
        struct mr_linop *n = NULL;
        assert_int_equal(mr_sense_create(NC, H, W, &cfg, &s), MR_OK);
        assert_int_equal(mr_sense_set_maps(s, &sens), MR_OK);
        assert_int_equal(mr_sense_set_mask(s, m == 0 ? &mask : m == 1 ? &cols : &rows), MR_OK);
        assert_int_equal(mr_sense_linop_create(s, &a), MR_OK);
        assert_int_equal(mr_sense_normal_linop_create(s, &n), MR_OK);
        assert_true(mr_test_linop_adjoint(a, 11) < 1e-5);
        assert_true(mr_test_linop_normal(a, 12) < 1e-5);
        assert_true(mr_test_linop_adjoint(n, 13) < 1e-5); /* self-adjoint */
        mr_linop_free(a);
        mr_linop_free(n);
        mr_sense_free(s);
    }
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&cols);
    mr_array_cleanup(&rows);
}

/* a (W) column pattern equals the same pattern written out as (H, W); forward masks k-space */
static void test_sense_column_mask_layouts_agree(void **state)
{
    (void)state;
    struct mr_array sens;
    struct mr_array full;
    struct mr_array cols;
    struct mr_array x;
    struct mr_array k1;
    struct mr_array k2;
    struct mr_sense *s = NULL;
    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&full, MR_DTYPE_F32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&cols, MR_DTYPE_F32, 1, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_CF32, 2, (int64_t)H, (int64_t)W), MR_OK);
    assert_int_equal(mr_array_init_like(&k1, &sens), MR_OK);
    assert_int_equal(mr_array_init_like(&k2, &sens), MR_OK);
    mr_test_rand(&sens, 1);
    mr_test_rand(&x, 2);
    for (int64_t c = 0; c < W; c++) {
        float v = c % 3 == 0 ? 2.5f : 0.0f; /* any nonzero value means sampled */
        mr_array_f32(&cols)[c] = v;
        for (int64_t r = 0; r < H; r++)
            mr_array_f32(&full)[r * W + c] = v;
    }
    assert_int_equal(mr_sense_create(NC, H, W, &mr_fft_config_default, &s), MR_OK);
    assert_int_equal(mr_sense_set_maps(s, &sens), MR_OK);
    int64_t stride = -1;
    assert_int_equal(mr_sense_mask_layout(&full, H, W, &stride), MR_OK);
    assert_int_equal(stride, W);
    assert_int_equal(mr_sense_mask_layout(&cols, H, W, &stride), MR_OK);
    assert_int_equal(stride, 0);
    assert_int_equal(mr_sense_set_mask(s, &full), MR_OK);
    mr_sense_forward(s, &k1, &x);
    assert_int_equal(mr_sense_set_mask(s, &cols), MR_OK);
    mr_sense_forward(s, &k2, &x);
    assert_nrmse_below(&k1, &k2, 1e-7);
    for (int64_t c = 0; c < NC; c++)
        for (int64_t i = 0; i < H * W; i++)
            if ((i % W) % 3 != 0)
                assert_true(mr_array_cf32(&k1)[c * H * W + i] == 0.0f);
            else
                assert_true(mr_array_cf32(&k1)[c * H * W + i] != 0.0f);
    mr_sense_free(s);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&full);
    mr_array_cleanup(&cols);
    mr_array_cleanup(&x);
    mr_array_cleanup(&k1);
    mr_array_cleanup(&k2);
}

/* fully sampled, ortho: A^H A = diag(Σ|S|²), so the bound is the exact largest eigenvalue */
static void test_sense_lipschitz_bound(void **state)
{
    (void)state;
    struct mr_array sens;
    struct mr_sense *s = NULL;
    struct mr_linop *a = NULL;
    double eig = 0.0;
    assert_int_equal(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    mr_test_rand(&sens, 9);
    for (int norm = 0; norm < 3; norm++) {
        struct mr_fft_config cfg = { .centered = true, .norm = (enum mr_fft_norm)norm };
        assert_int_equal(mr_sense_create(NC, H, W, &cfg, &s), MR_OK);
        assert_int_equal(mr_sense_set_maps(s, &sens), MR_OK);
        assert_int_equal(mr_sense_linop_create(s, &a), MR_OK);
        assert_int_equal(mr_linop_normal_max_eig(a, 300, 1, &eig), MR_OK);
        double lip = mr_sense_lipschitz(s);
        assert_true(fabs(eig - lip) / lip < 1e-3);
        mr_linop_free(a);
        mr_sense_free(s);
    }
    mr_array_cleanup(&sens);
}

static void test_sense_errors(void **state)
{
    (void)state;
    struct mr_sense *s = NULL;
    struct mr_array bad;
    assert_int_equal(mr_sense_create(0, H, W, &mr_fft_config_default, &s), MR_ERR_ARG);
    assert_null(s);
    assert_int_equal(mr_sense_create(NC, H, W, &mr_fft_config_default, &s), MR_OK);
    assert_int_equal(mr_array_init_dims(&bad, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)W,
                                        (int64_t)H), MR_OK);
    assert_int_equal(mr_sense_set_maps(s, &bad), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "coil maps are (3, 9, 7)"));
    mr_array_cleanup(&bad);
    assert_int_equal(mr_array_init_dims(&bad, MR_DTYPE_F32, 2, (int64_t)W, (int64_t)H), MR_OK);
    assert_int_equal(mr_sense_set_mask(s, &bad), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "mask is (9, 7)"));
    int64_t stride = -1;
    assert_int_equal(mr_sense_mask_layout(&bad, H, W, &stride), MR_ERR_SHAPE);
    assert_int_equal(stride, -1);
    mr_array_cleanup(&bad);
    assert_int_equal(mr_array_init_dims(&bad, MR_DTYPE_CF32, 3, (int64_t)NC, (int64_t)H,
                                        (int64_t)W), MR_OK);
    mr_array_cf32(&bad)[4] = NAN;
    assert_int_equal(mr_sense_set_maps(s, &bad), MR_ERR_DATA);
    mr_array_cleanup(&bad);
    mr_sense_free(s);
    mr_sense_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sense_adjoint_and_normal_every_fft_config),
        cmocka_unit_test(test_sense_column_mask_layouts_agree),
        cmocka_unit_test(test_sense_lipschitz_bound),
        cmocka_unit_test(test_sense_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
