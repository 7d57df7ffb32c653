/* io/fastmri_recon_writer: slice-by-slice and whole-volume writing read back through io/h5
 * (centre crop as recon/crop.h), attributes, and that incomplete or failed files never appear
 * under their final name. */
#include "io_test.h"
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/h5.h"
#include "io/fastmri_recon_writer.h"

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* vol[s, y, x] = 1000 s + 10 y + x, so a value says where it came from */
static void fill_coded(struct mr_array *vol)
{
    for (int64_t s = 0; s < vol->dims[0]; s++)
        for (int64_t y = 0; y < vol->dims[1]; y++)
            for (int64_t x = 0; x < vol->dims[2]; x++)
                mr_array_f32(vol)[(s * vol->dims[1] + y) * vol->dims[2] + x] =
                    (float)(1000 * s + 10 * y + x);
}

static void test_recon_writer_slices_in_any_order(void **state)
{
    char *path = strdup(mr_test_tmp("recon_slices.h5"));
    struct mr_fastmri_recon_writer *w = NULL;
    struct mr_array vol;
    struct mr_array back;
    struct mr_h5 *h = NULL;
    char *method = NULL;
    (void)state;

    io_test_clean(path);
    assert_int_equal(mr_array_init_dims(&vol, MR_DTYPE_F32, 3, (int64_t)3, (int64_t)9,
                                        (int64_t)8), MR_OK);
    fill_coded(&vol);
    assert_int_equal(mr_fastmri_recon_writer_create(path, 3, 4, 3, &w), MR_OK);
    for (int64_t s = 2; s >= 0; s--) {
        struct mr_array img;
        mr_array_slab(&img, &vol, s);
        assert_int_equal(mr_fastmri_recon_writer_write_slice(w, s, &img), MR_OK);
        assert_false(file_exists(path));
    }
    assert_int_equal(mr_fastmri_recon_writer_set_attr_string(w, "method", "zero-filled"), MR_OK);
    assert_int_equal(mr_fastmri_recon_writer_set_attr_double(w, "lambda", 0.25), MR_OK);
    assert_int_equal(mr_fastmri_recon_writer_commit(w), MR_OK);

    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    char **names = NULL;
    size_t count = 0;
    assert_int_equal(mr_h5_list(h, "/", &names, &count), MR_OK);
    assert_int_equal(count, 1); /* only "reconstruction", as fastMRI's save_reconstructions */
    assert_string_equal(names[0], "reconstruction");
    mr_h5_free_names(names, count);
    assert_int_equal(mr_h5_read(h, "reconstruction", &back), MR_OK);
    assert_int_equal(back.ndim, 3);
    assert_int_equal(back.dims[0], 3);
    assert_int_equal(back.dims[1], 4);
    assert_int_equal(back.dims[2], 3);
    /* rows start at (9 - 4) // 2 = 2, columns at (8 - 3) // 2 = 2 */
    for (int64_t s = 0; s < 3; s++)
        for (int64_t y = 0; y < 4; y++)
            for (int64_t x = 0; x < 3; x++)
                assert_true(mr_array_f32(&back)[(s * 4 + y) * 3 + x] ==
                            (float)(1000 * s + 10 * (y + 2) + (x + 2)));
    assert_int_equal(mr_h5_read_attr_string(h, "/", "method", &method), MR_OK);
    assert_string_equal(method, "zero-filled");
    free(method);
    mr_h5_close(h);

    mr_array_cleanup(&back);
    mr_array_cleanup(&vol);
    free(path);
}

static void test_recon_write_volume(void **state)
{
    char *path = strdup(mr_test_tmp("recon_volume.h5"));
    struct mr_array vol;
    struct mr_array back;
    struct mr_h5 *h = NULL;
    char *method = NULL;
    (void)state;

    assert_int_equal(mr_array_init_dims(&vol, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)5,
                                        (int64_t)5), MR_OK);
    fill_coded(&vol);
    assert_int_equal(mr_fastmri_recon_write_volume(path, &vol, 5, 5, "e2evn"), MR_OK);
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "reconstruction", &back), MR_OK);
    assert_true(mr_array_same_shape(&back, &vol));
    assert_memory_equal(back.data, vol.data, mr_array_nbytes(&vol));
    assert_int_equal(mr_h5_read_attr_string(h, "/", "method", &method), MR_OK);
    assert_string_equal(method, "e2evn");
    free(method);
    mr_h5_close(h);
    mr_array_cleanup(&back);

    assert_int_equal(mr_fastmri_recon_write_volume(path, &vol, 6, 5, NULL), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "smaller than"));
    mr_array_cleanup(&vol);
    free(path);
}

static void test_recon_writer_errors_leave_no_file(void **state)
{
    char *path = strdup(mr_test_tmp("recon_bad.h5"));
    struct mr_fastmri_recon_writer *w = NULL;
    struct mr_array img;
    struct mr_array cimg;
    (void)state;

    io_test_clean(path);
    assert_int_equal(mr_fastmri_recon_writer_create(path, 0, 4, 4, &w), MR_ERR_ARG);
    assert_null(w);
    assert_int_equal(mr_fastmri_recon_writer_create(path, 2, 4, 4, &w), MR_OK);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, (int64_t)6, (int64_t)3),
                     MR_OK);
    assert_int_equal(mr_array_init_dims(&cimg, MR_DTYPE_CF32, 2, (int64_t)6, (int64_t)6),
                     MR_OK);
    /* 3 < 4 wide */
    assert_int_equal(mr_fastmri_recon_writer_write_slice(w, 0, &img), MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "recon_bad.h5"));
    assert_int_equal(mr_fastmri_recon_writer_write_slice(w, 0, &cimg), MR_ERR_ARG);
    assert_int_equal(mr_fastmri_recon_writer_write_slice(w, 2, &img), MR_ERR_ARG);
    mr_array_cleanup(&img);
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, (int64_t)4, (int64_t)4),
                     MR_OK);
    assert_int_equal(mr_fastmri_recon_writer_write_slice(w, 1, &img), MR_OK);
    assert_int_equal(mr_fastmri_recon_writer_commit(w), MR_ERR_ARG); /* slice 0 missing */
    assert_non_null(strstr(mr_last_error(), "slice 0 of 2"));
    assert_false(file_exists(path));

    assert_int_equal(mr_fastmri_recon_writer_create(path, 1, 4, 4, &w), MR_OK);
    mr_fastmri_recon_writer_free(w); /* abandoned */
    assert_false(file_exists(path));
    assert_int_equal(io_test_count_tmp(path), 0);

    assert_int_equal(mr_fastmri_recon_writer_create(mr_test_tmp("missing/dir/r.h5"), 1, 4, 4,
                                                    &w),
                     MR_ERR_IO);
    mr_fastmri_recon_writer_free(NULL);
    mr_array_cleanup(&img);
    mr_array_cleanup(&cimg);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recon_writer_slices_in_any_order),
        cmocka_unit_test(test_recon_write_volume),
        cmocka_unit_test(test_recon_writer_errors_leave_no_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
