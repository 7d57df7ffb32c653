/* io/nifti: every header field a viewer reads (sizes, type, voxel sizes, offsets, qform and
 * sform, magic), the bottom-up row order, voxel sizes from an ISMRMRD header, and errors. */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/ismrmrd_header.h"
#include "io/nifti.h"

static uint8_t *slurp(const char *path, size_t *n)
{
    uint8_t *b = (uint8_t *)mr_test_slurp(path, n);
    assert_non_null(b);
    return b;
}

/* the test host is little-endian, as the file */
static int16_t i16_at(const uint8_t *p, size_t off)
{
    int16_t v;
    memcpy(&v, p + off, sizeof(v));
    return v;
}

static int32_t i32_at(const uint8_t *p, size_t off)
{
    int32_t v;
    memcpy(&v, p + off, sizeof(v));
    return v;
}

static float f32_at(const uint8_t *p, size_t off)
{
    float v;
    memcpy(&v, p + off, sizeof(v));
    return v;
}

static void test_nifti_header_and_data(void **state)
{
    char *path = strdup(mr_test_tmp("vol.nii"));
    struct mr_array vol;
    struct mr_nifti_config cfg = mr_nifti_config_default;
    size_t n = 0;
    (void)state;

    /* 2 slices of 3 rows x 4 columns; value = 100 s + 10 row + column */
    assert_int_equal(mr_array_init_dims(&vol, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)3,
                                        (int64_t)4), MR_OK);
    for (int s = 0; s < 2; s++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                mr_array_f32(&vol)[(s * 3 + y) * 4 + x] = (float)(100 * s + 10 * y + x);
    cfg.voxel_mm[0] = 0.5;
    cfg.voxel_mm[1] = 0.75;
    cfg.voxel_mm[2] = 3.0;
    cfg.descrip = "e2evn knee";
    assert_int_equal(mr_nifti_write(path, &vol, &cfg), MR_OK);

    uint8_t *b = slurp(path, &n);
    assert_int_equal(n, 352 + 2 * 3 * 4 * 4);
    assert_int_equal(i32_at(b, 0), 348);
    assert_int_equal(i16_at(b, 40), 3);
    assert_int_equal(i16_at(b, 42), 4); /* i = W */
    assert_int_equal(i16_at(b, 44), 3); /* j = H */
    assert_int_equal(i16_at(b, 46), 2); /* k = slices */
    assert_int_equal(i16_at(b, 70), 16);
    assert_int_equal(i16_at(b, 72), 32);
    assert_true(f32_at(b, 76) == 1.0f);
    assert_true(f32_at(b, 80) == 0.5f && f32_at(b, 84) == 0.75f && f32_at(b, 88) == 3.0f);
    assert_true(f32_at(b, 108) == 352.0f);
    assert_true(f32_at(b, 112) == 1.0f && f32_at(b, 116) == 0.0f);
    assert_int_equal(b[123], 2);
    assert_string_equal((const char *)b + 148, "e2evn knee");
    assert_int_equal(i16_at(b, 252), 2);
    assert_int_equal(i16_at(b, 254), 2);
    assert_true(f32_at(b, 256) == 0.0f && f32_at(b, 260) == 0.0f && f32_at(b, 264) == 0.0f);
    /* centred: -d (n - 1) / 2 */
    assert_true(f32_at(b, 268) == -0.75f && f32_at(b, 272) == -0.75f && f32_at(b, 276) == -1.5f);
    static const float srow[3][4] = {
        { 0.5f, 0.0f, 0.0f, -0.75f }, { 0.0f, 0.75f, 0.0f, -0.75f }, { 0.0f, 0.0f, 3.0f, -1.5f }
    };
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            assert_true(f32_at(b, 280 + 16 * r + 4 * c) == srow[r][c]);
    assert_memory_equal(b + 344, "n+1\0", 4);
    assert_memory_equal(b + 348, "\0\0\0\0", 4);
    /* voxel (i, j, k) = vol[k][H - 1 - j][i] */
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 4; i++)
                assert_true(f32_at(b, 352 + 4 * (size_t)((k * 3 + j) * 4 + i)) ==
                            (float)(100 * k + 10 * (2 - j) + i));
    free(b);

    /* one (H, W) image, default config */
    struct mr_array img;
    mr_array_slab(&img, &vol, 1);
    assert_int_equal(mr_nifti_write(path, &img, NULL), MR_OK);
    b = slurp(path, &n);
    assert_int_equal(n, 352 + 3 * 4 * 4);
    assert_int_equal(i16_at(b, 46), 1);
    assert_true(f32_at(b, 80) == 1.0f && f32_at(b, 88) == 1.0f);
    assert_string_equal((const char *)b + 148, "mrirecon");
    free(b);

    mr_array_cleanup(&vol);
    free(path);
}

static void test_nifti_voxel_from_header(void **state)
{
    struct mr_ismrmrd_header h;
    double v[3];
    (void)state;

    memset(&h, 0, sizeof(h));
    h.recon_matrix[0] = 320;
    h.recon_matrix[1] = 320;
    h.recon_matrix[2] = 1;
    h.recon_fov_mm[0] = 140.0; /* rows (readout) */
    h.recon_fov_mm[1] = 160.0; /* columns (phase) */
    h.recon_fov_mm[2] = 3.0;
    mr_nifti_voxel_from_header(&h, v);
    assert_float_equal(v[0], 0.5, 1e-12);   /* i: columns */
    assert_float_equal(v[1], 0.4375, 1e-12); /* j: rows */
    assert_float_equal(v[2], 3.0, 1e-12);
    h.recon_fov_mm[1] = 0.0; /* unknown → 1 mm */
    mr_nifti_voxel_from_header(&h, v);
    assert_float_equal(v[0], 1.0, 1e-12);
}

static void test_nifti_errors(void **state)
{
    struct mr_array c;
    struct mr_array v1;
    struct stat sb;
    (void)state;

    assert_int_equal(mr_array_init_dims(&c, MR_DTYPE_CF32, 2, (int64_t)2, (int64_t)2), MR_OK);
    assert_int_equal(mr_array_init_dims(&v1, MR_DTYPE_F32, 2, (int64_t)1, (int64_t)40000),
                     MR_OK);
    assert_int_equal(mr_nifti_write(mr_test_tmp("c.nii"), &c, NULL), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "c.nii"));
    assert_int_equal(mr_nifti_write(mr_test_tmp("wide.nii"), &v1, NULL), MR_ERR_ARG);
    assert_int_not_equal(stat(mr_test_tmp("wide.nii"), &sb), 0);
    mr_array_cleanup(&v1);
    assert_int_equal(mr_array_init_dims(&v1, MR_DTYPE_F32, 2, (int64_t)2, (int64_t)2), MR_OK);
    assert_int_equal(mr_nifti_write(mr_test_tmp("none/x.nii"), &v1, NULL), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "none/x.nii"));
    mr_array_cleanup(&v1);
    mr_array_cleanup(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nifti_header_and_data),
        cmocka_unit_test(test_nifti_voxel_from_header),
        cmocka_unit_test(test_nifti_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
