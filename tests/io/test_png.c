/* io/png: windowing (fixed and numpy-style percentile), orientation (row 0 on top), tiling of
 * slices, magnitude of complex input, RGB — every file read back with libpng — and the error
 * paths. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <png.h>

#include "io/png.h"

/* Reads a PNG back in the given format; returns the pixels (malloc'd). */
static uint8_t *read_png(const char *path, png_uint_32 format, int64_t *h, int64_t *w)
{
    png_image im;
    memset(&im, 0, sizeof(im));
    im.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&im, path) != 0);
    im.format = format;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(im));
    assert_non_null(buf);
    assert_true(png_image_finish_read(&im, NULL, buf, 0, NULL) != 0);
    *h = im.height;
    *w = im.width;
    return buf;
}

static void test_png_gray_window_and_orientation(void **state)
{
    char *path = strdup(mr_test_tmp("gray.png"));
    struct mr_array img;
    struct mr_png_config cfg = mr_png_config_default;
    int64_t h = 0;
    int64_t w = 0;
    (void)state;

    /* 3 rows x 4 columns; value = 10 * row + column */
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, (int64_t)3, (int64_t)4), MR_OK);
    for (int i = 0; i < 12; i++)
        mr_array_f32(&img)[i] = (float)(10 * (i / 4) + i % 4);
    cfg.lo = 0.0f;
    cfg.hi = 20.0f;
    assert_int_equal(mr_png_write_gray(path, &img, &cfg), MR_OK);
    uint8_t *px = read_png(path, PNG_FORMAT_GRAY, &h, &w);
    assert_int_equal(h, 3);
    assert_int_equal(w, 4);
    for (int i = 0; i < 12; i++) {
        double v = 255.0 * (double)mr_array_f32(&img)[i] / 20.0;
        assert_int_equal(px[i], (int)lround(v > 255.0 ? 255.0 : v)); /* row 0 on top */
    }
    free(px);

    /* window [5, 15]: below clamps to 0, above to 255 */
    cfg.lo = 5.0f;
    cfg.hi = 15.0f;
    assert_int_equal(mr_png_write_gray(path, &img, &cfg), MR_OK);
    px = read_png(path, PNG_FORMAT_GRAY, &h, &w);
    assert_int_equal(px[0], 0);
    assert_int_equal(px[4 + 0], 128); /* 10 → 127.5 → 128 */
    assert_int_equal(px[11], 255);
    free(px);
    mr_array_cleanup(&img);
    free(path);
}

static void test_png_auto_window_is_numpy_percentile(void **state)
{
    struct mr_array img;
    float lo = -1.0f;
    float hi = -1.0f;
    (void)state;

    /* values 0..200: np.percentile(range(201), 99.5) = 199.0 */
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 1, (int64_t)201), MR_OK);
    for (int i = 0; i < 201; i++)
        mr_array_f32(&img)[(i * 37) % 201] = (float)i; /* shuffled */
    assert_int_equal(mr_png_auto_window(&img, 99.5, &lo, &hi), MR_OK);
    assert_true(lo == 0.0f);
    assert_float_equal(hi, 199.0f, 1e-4f);
    /* np.percentile(range(10), 99.5) = 8.955 */
    mr_array_cleanup(&img);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 1, (int64_t)10), MR_OK);
    for (int i = 0; i < 10; i++)
        mr_array_f32(&img)[i] = (float)(9 - i);
    assert_int_equal(mr_png_auto_window(&img, 99.5, &lo, &hi), MR_OK);
    assert_float_equal(hi, 8.955f, 1e-4f);
    assert_int_equal(mr_png_auto_window(&img, 101.0, &lo, &hi), MR_ERR_ARG);
    mr_array_cleanup(&img);
}

static void test_png_tiles_complex_slices(void **state)
{
    char *path = strdup(mr_test_tmp("tiles.png"));
    struct mr_array vol;
    struct mr_png_config cfg = mr_png_config_default;
    int64_t h = 0;
    int64_t w = 0;
    (void)state;

    /* 5 slices of 2 x 3, slice s constant |s * (3 + 4i)| = 5 s (exact in float) */
    assert_int_equal(mr_array_init_dims(&vol, MR_DTYPE_CF32, 3, (int64_t)5, (int64_t)2,
                                        (int64_t)3), MR_OK);
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < 6; i++)
            mr_array_cf32(&vol)[s * 6 + i] = (float)s * (3.0f + 4.0f * I);
    cfg.lo = 0.0f;
    cfg.hi = 20.0f;
    assert_int_equal(mr_png_write_gray(path, &vol, &cfg), MR_OK); /* ceil(sqrt(5)) = 3 per row */
    uint8_t *px = read_png(path, PNG_FORMAT_GRAY, &h, &w);
    assert_int_equal(h, 4);
    assert_int_equal(w, 9);
    static const int expect_tile[2][3] = { { 0, 1, 2 }, { 3, 4, -1 } };
    for (int ty = 0; ty < 2; ty++)
        for (int tx = 0; tx < 3; tx++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 3; x++) {
                    int s = expect_tile[ty][tx];
                    int want = s < 0 ? 0 : (int)lround(255.0 * 5.0 * s / 20.0);
                    assert_int_equal(px[(ty * 2 + y) * 9 + tx * 3 + x], want);
                }
    free(px);

    cfg.tile_cols = 5; /* one row */
    assert_int_equal(mr_png_write_gray(path, &vol, &cfg), MR_OK);
    px = read_png(path, PNG_FORMAT_GRAY, &h, &w);
    assert_int_equal(h, 2);
    assert_int_equal(w, 15);
    free(px);

    /* automatic window on a default config: hi = 99.5th percentile of all 30 magnitudes */
    assert_int_equal(mr_png_write_gray(path, &vol, NULL), MR_OK);
    px = read_png(path, PNG_FORMAT_GRAY, &h, &w);
    assert_int_equal(px[0], 0);
    assert_int_equal(px[4 * 9 - 1], 0);    /* the empty tile */
    assert_int_equal(px[2 * 9 + 3], 255);  /* slice 4 = the top value */
    free(px);
    mr_array_cleanup(&vol);
    free(path);
}

static void test_png_rgb_roundtrip(void **state)
{
    char *path = strdup(mr_test_tmp("rgb.png"));
    uint8_t rgb[2 * 3 * 3];
    int64_t h = 0;
    int64_t w = 0;
    (void)state;

    for (int i = 0; i < 18; i++)
        rgb[i] = (uint8_t)(i * 14);
    assert_int_equal(mr_png_write_rgb(path, rgb, 2, 3), MR_OK);
    uint8_t *px = read_png(path, PNG_FORMAT_RGB, &h, &w);
    assert_int_equal(h, 2);
    assert_int_equal(w, 3);
    assert_memory_equal(px, rgb, sizeof(rgb));
    free(px);
    assert_int_equal(mr_png_write_gray8(path, rgb, 3, 6), MR_OK);
    px = read_png(path, PNG_FORMAT_GRAY, &h, &w);
    assert_int_equal(h, 3);
    assert_memory_equal(px, rgb, sizeof(rgb));
    free(px);
    free(path);
}

static void test_png_errors(void **state)
{
    struct mr_array img;
    struct mr_array v1;
    uint8_t px[4] = { 0 };
    struct stat sb;
    (void)state;

    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, (int64_t)2, (int64_t)2), MR_OK);
    assert_int_equal(mr_array_init_dims(&v1, MR_DTYPE_F32, 1, (int64_t)4), MR_OK);
    assert_int_equal(mr_png_write_gray(mr_test_tmp("v1.png"), &v1, NULL), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "v1.png"));
    assert_int_equal(mr_png_write_gray(mr_test_tmp("no/dir/x.png"), &img, NULL), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "no/dir/x.png"));
    assert_int_equal(mr_png_write_rgb(mr_test_tmp("zero.png"), px, 0, 1), MR_ERR_ARG);
    assert_int_not_equal(stat(mr_test_tmp("zero.png"), &sb), 0);
    /* a constant image is black, not a division by zero */
    assert_int_equal(mr_png_write_gray(mr_test_tmp("const.png"), &img, NULL), MR_OK);
    mr_array_cleanup(&img);
    mr_array_cleanup(&v1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_gray_window_and_orientation),
        cmocka_unit_test(test_png_auto_window_is_numpy_percentile),
        cmocka_unit_test(test_png_tiles_complex_slices),
        cmocka_unit_test(test_png_rgb_roundtrip),
        cmocka_unit_test(test_png_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
