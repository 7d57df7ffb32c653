/* Mask spec strings: parsing, defaults, every error message, and generation through the spec
 * reproducing the golden masks (fastMRI per-file seeding included). */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "sampling/mask_spec.h"

static void test_mask_spec_parse(void **state)
{
    (void)state;
    struct mr_mask_spec s;
    assert_int_equal(mr_mask_spec_parse("equispaced:accel=4,center=0.08,seed=0", &s), MR_OK);
    assert_int_equal(s.kind, MR_MASK_KIND_EQUISPACED);
    assert_int_equal(s.naccel, 1);
    assert_true(s.accel[0] == 4.0 && s.center[0] == 0.08);
    assert_true(s.has_seed && s.seed == 0);
    assert_int_equal(s.offset, -1);
    assert_true(mr_mask_kind_is_1d(s.kind));

    assert_int_equal(mr_mask_spec_parse("random:accel=4/8,center=0.08/0.04,seed=file1.h5", &s),
                     MR_OK);
    assert_int_equal(s.naccel, 2);
    assert_true(s.accel[1] == 8.0 && s.center[1] == 0.04);
    assert_false(s.has_seed);
    assert_string_equal(s.seed_name, "file1.h5");

    assert_int_equal(mr_mask_spec_parse("gaussian2d", &s), MR_OK);
    assert_true(s.center[0] == 0.7 && s.accel[0] == 4.0 && s.scale == 0.02);
    assert_false(mr_mask_kind_is_1d(s.kind));
    assert_string_equal(mr_mask_kind_name(s.kind), "gaussian2d");
    assert_int_equal(mr_mask_spec_parse("bart-upat", &s), MR_OK);
    assert_true(s.accel_y == 1.0 && s.accel_z == 2.0);
    assert_int_equal(mr_mask_spec_parse("poisson2d:accel=4/6", &s), MR_OK);
    assert_int_equal(s.ncenter, 2);
}

static void expect_parse_error(const char *spec, const char *needle)
{
    struct mr_mask_spec s;
    assert_int_equal(mr_mask_spec_parse(spec, &s), MR_ERR_ARG);
    if (strstr(mr_last_error(), needle) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", spec, mr_last_error(), needle);
}

static void test_mask_spec_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("spiral:accel=4", "unknown kind 'spiral'");
    expect_parse_error("random:offset=3", "unknown key 'offset' for random (expected accel, "
                       "center, any, seed)");
    expect_parse_error("bart-poisson:accel=4", "unknown key 'accel' for bart-poisson");
    expect_parse_error("random:accel=four", "accel=four is invalid");
    expect_parse_error("random:accel=4/", "a number after '/'");
    expect_parse_error("random:accel=4/8,center=0.08", "2 accel values but 1 center");
    expect_parse_error("random:accel=4,", "trailing ','");
    expect_parse_error("random:accel", "is not KEY=VALUE");
    expect_parse_error("random:seed=-1", "seed=-1 is invalid");
    expect_parse_error("random:any=2", "0 or 1");
    expect_parse_error("equispaced:offset=1.5", "non-negative integer");
}

static void check_column(const struct mr_array *col, const char *golden)
{
    struct mr_array want;
    char rel[128];
    snprintf(rel, sizeof(rel), "sampling/%s", golden);
    assert_int_equal(mr_npy_read(mr_test_data(rel), &want), MR_OK);
    assert_true(mr_array_same_shape(col, &want));
    assert_memory_equal(col->data, want.data, mr_array_nbytes(col));
    mr_array_cleanup(&want);
}

static void gen_1d(const char *spec, int64_t w, const char *fname, const char *golden,
                   int64_t nlow)
{
    struct mr_mask_spec s;
    struct mr_array mask;
    struct mr_array col;
    struct mr_mask_result r;
    assert_int_equal(mr_mask_spec_parse(spec, &s), MR_OK);
    if (mr_mask_spec_generate(&s, 3, w, fname, &mask, &col, &r) != MR_OK)
        fail_msg("%s: %s", spec, mr_last_error());
    assert_int_equal(mask.ndim, 2);
    assert_int_equal(mask.dims[0], 3);
    assert_int_equal(r.nlow, nlow);
    check_column(&col, golden);
    for (int64_t i = 0; i < 3; i++)
        assert_memory_equal(mr_array_f32(&mask) + i * w, col.data, mr_array_nbytes(&col));
    mr_array_cleanup(&mask);
    mr_array_cleanup(&col);
}

static void test_mask_spec_generates_goldens(void **state)
{
    (void)state;
    gen_1d("random:accel=4,center=0.08,seed=42", 368, NULL, "fastmri_random_0.npy", 29);
    gen_1d("random:accel=4/8,center=0.08/0.04,seed=1234", 320, "ignored.h5",
           "fastmri_random_2.npy", 13);
    /* fastMRI's per-file seed: from the file name, or spelled out in the spec */
    gen_1d("random:accel=4,center=0.08", 368, "/data/knee/file1000001.h5",
           "fastmri_random_1.npy", 29);
    gen_1d("random:accel=4,center=0.08,seed=file1000001.h5", 368, NULL, "fastmri_random_1.npy",
           29);
    gen_1d("equispaced:accel=8,center=0.04,seed=7,offset=3", 368, NULL,
           "fastmri_equispaced_5.npy", 15);
    gen_1d("equispaced-fraction:accel=8,center=0.04", 320, "file1000001.h5",
           "fastmri_equispaced_fraction_7.npy", 13);
    gen_1d("magic:accel=4,center=0.08,seed=42", 368, NULL, "fastmri_magic_368_s42.npy", 29);

    struct mr_mask_spec s;
    struct mr_array mask;
    struct mr_array col;
    struct mr_mask_result r;
    assert_int_equal(mr_mask_spec_parse("bart-poisson:accel_y=2,accel_z=2,calib=8", &s), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&s, 48, 64, NULL, &mask, &col, &r), MR_OK);
    assert_null(col.data);
    assert_int_equal(r.points, 831);
    mr_array_cleanup(&mask);
    assert_int_equal(mr_mask_spec_parse("bart-upat:accel_y=2,accel_z=3,calib=4", &s), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&s, 24, 32, NULL, &mask, NULL, &r), MR_OK);
    assert_int_equal(r.points, 168);
    mr_array_cleanup(&mask);

    /* the same spec gives the same 2-D mask twice */
    struct mr_array again;
    assert_int_equal(mr_mask_spec_parse("gaussian2d:accel=6,seed=3", &s), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&s, 40, 36, NULL, &mask, NULL, &r), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&s, 40, 36, NULL, &again, NULL, NULL), MR_OK);
    assert_memory_equal(mask.data, again.data, mr_array_nbytes(&mask));
    assert_true(r.points >= 40 * 36 / 6);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&again);
    assert_int_equal(mr_mask_spec_parse("poisson2d:accel=4,seed=1", &s), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&s, 40, 32, NULL, &mask, NULL, &r), MR_OK);
    assert_true(r.points > 40 * 32 / 5 && r.points < 40 * 32 / 3);
    mr_array_cleanup(&mask);

    /* generator errors come back with the arrays left empty */
    assert_int_equal(mr_mask_spec_parse("equispaced:accel=2.5", &s), MR_OK);
    assert_int_equal(mr_mask_spec_generate(&s, 4, 64, NULL, &mask, &col, &r), MR_ERR_ARG);
    assert_null(mask.data);
    assert_null(col.data);
    assert_int_equal(mr_mask_spec_generate(&s, 0, 64, NULL, &mask, &col, &r), MR_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_spec_parse),
        cmocka_unit_test(test_mask_spec_parse_errors),
        cmocka_unit_test(test_mask_spec_generates_goldens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
