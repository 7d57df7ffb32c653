/* io/npy: every supported dtype and header version as numpy writes them
 * (tests/data/sampling/npy_*.npy), byte-identical writes (float32, uint8 masks, complex64),
 * round trips, and every error path on real malformed files. */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"

static char *slurp(const char *path, size_t *n)
{
    char *b = mr_test_slurp(path, n);
    assert_non_null(b);
    return b;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void read_ok(const char *rel, struct mr_array *a)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "sampling/%s", rel);
    if (mr_npy_read(mr_test_data(buf), a) != MR_OK)
        fail_msg("%s", mr_last_error());
}

static void test_npy_reads_every_dtype(void **state)
{
    (void)state;
    static const char *real[] = { "npy_u1.npy", "npy_i4.npy", "npy_i8.npy", "npy_f4.npy",
                                  "npy_f8.npy", "npy_v2.npy", "npy_v3.npy" };
    /* a = arange(6).reshape(2, 3): u1 = a, i4/i8 = a - 2, f4/f8/v2/v3 = a / 4 */
    for (size_t k = 0; k < sizeof(real) / sizeof(real[0]); k++) {
        struct mr_array a;
        read_ok(real[k], &a);
        assert_int_equal(a.dtype, MR_DTYPE_F32);
        assert_int_equal(a.ndim, 2);
        assert_int_equal(a.dims[0], 2);
        assert_int_equal(a.dims[1], 3);
        for (int i = 0; i < 6; i++) {
            float want = k == 0 ? (float)i : k < 3 ? (float)(i - 2) : (float)i / 4.0f;
            assert_true(mr_array_f32(&a)[i] == want);
        }
        mr_array_cleanup(&a);
    }
    struct mr_array b;
    read_ok("npy_b1.npy", &b);
    for (int i = 0; i < 6; i++)
        assert_true(mr_array_f32(&b)[i] == (float)(i % 2));
    mr_array_cleanup(&b);
    static const char *cplx[] = { "npy_c8.npy", "npy_c16.npy" };
    for (int k = 0; k < 2; k++) {
        struct mr_array c;
        read_ok(cplx[k], &c);
        assert_int_equal(c.dtype, MR_DTYPE_CF32);
        for (int i = 0; i < 6; i++)
            assert_true(mr_array_cf32(&c)[i] == (float)i + (float)(5 - i) * I);
        mr_array_cleanup(&c);
    }
    struct mr_array z;
    read_ok("npy_0d.npy", &z);
    assert_int_equal(z.ndim, 0);
    assert_true(mr_array_f32(&z)[0] == 2.5f);
    mr_array_cleanup(&z);
}

/* our writer produces the same bytes as np.save */
static void write_matches_numpy(const struct mr_array *a, enum mr_npy_type type, const char *rel)
{
    size_t n1;
    size_t n2;
    char ref[128];
    snprintf(ref, sizeof(ref), "%s", mr_test_data(rel));
    assert_int_equal(mr_npy_write(mr_test_tmp("out.npy"), a, type), MR_OK);
    char *got = slurp(mr_test_tmp("out.npy"), &n1);
    char *want = slurp(ref, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(got, want, n1);
    free(got);
    free(want);
}

static void test_npy_write_is_byte_identical_to_numpy(void **state)
{
    (void)state;
    struct mr_array a;
    read_ok("npy_f4.npy", &a);
    write_matches_numpy(&a, MR_NPY_TYPE_NATIVE, "sampling/npy_f4.npy");
    mr_array_cleanup(&a);
    read_ok("npy_c8.npy", &a);
    write_matches_numpy(&a, MR_NPY_TYPE_NATIVE, "sampling/npy_c8.npy");
    mr_array_cleanup(&a);
    read_ok("npy_f4_1d.npy", &a);
    write_matches_numpy(&a, MR_NPY_TYPE_NATIVE, "sampling/npy_f4_1d.npy");
    mr_array_cleanup(&a);
    /* a uint8 mask as fastMRI-style scripts save it */
    read_ok("fastmri_random_0.npy", &a);
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.dims[0], 368);
    write_matches_numpy(&a, MR_NPY_TYPE_U8, "sampling/fastmri_random_0.npy");
    /* round trip through float32 */
    struct mr_array b;
    assert_int_equal(mr_npy_write(mr_test_tmp("rt.npy"), &a, MR_NPY_TYPE_NATIVE), MR_OK);
    assert_int_equal(mr_npy_read(mr_test_tmp("rt.npy"), &b), MR_OK);
    assert_true(mr_array_same_shape(&a, &b));
    assert_memory_equal(a.data, b.data, mr_array_nbytes(&a));
    mr_array_cleanup(&b);
    /* uint8 needs integers in [0, 255]; the target is left alone on failure */
    mr_array_f32(&a)[3] = 0.5f;
    assert_int_equal(mr_npy_write(mr_test_tmp("rt.npy"), &a, MR_NPY_TYPE_U8), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "element 3"));
    assert_int_equal(mr_npy_read(mr_test_tmp("rt.npy"), &b), MR_OK);
    assert_true(mr_array_f32(&b)[3] == 0.0f);
    mr_array_cleanup(&b);
    assert_int_equal(mr_npy_write("/nonexistent-dir/x.npy", &a, MR_NPY_TYPE_NATIVE), MR_ERR_IO);
    assert_non_null(strstr(mr_last_error(), "/nonexistent-dir/x.npy"));
    mr_array_cleanup(&a);
}

static void expect_error(const char *path, mr_status want, const char *needle)
{
    struct mr_array a;
    mr_status st = mr_npy_read(path, &a);
    if (st != want)
        fail_msg("%s: status %s, want %s (%s)", path, mr_status_name(st), mr_status_name(want),
                 mr_last_error());
    assert_null(a.data);
    if (strstr(mr_last_error(), needle) == NULL || strstr(mr_last_error(), path) == NULL)
        fail_msg("message '%s' lacks '%s' or the path", mr_last_error(), needle);
}

static void test_npy_error_paths(void **state)
{
    (void)state;
    size_t n;
    char *good = slurp(mr_test_data("sampling/npy_f4.npy"), &n);
    char path[512];

    snprintf(path, sizeof(path), "%s", mr_test_tmp("truncated.npy"));
    spit(path, good, n - 5);
    expect_error(path, MR_ERR_FORMAT, "truncated: expected 24 bytes");

    snprintf(path, sizeof(path), "%s", mr_test_tmp("short_header.npy"));
    spit(path, good, 40);
    expect_error(path, MR_ERR_FORMAT, "inside the npy header");

    snprintf(path, sizeof(path), "%s", mr_test_tmp("preamble.npy"));
    spit(path, good, 8);
    expect_error(path, MR_ERR_FORMAT, "preamble");

    snprintf(path, sizeof(path), "%s", mr_test_tmp("magic.npy"));
    good[1] = 'X';
    spit(path, good, n);
    expect_error(path, MR_ERR_FORMAT, "magic");
    good[1] = 'N';

    snprintf(path, sizeof(path), "%s", mr_test_tmp("version.npy"));
    good[6] = 9;
    spit(path, good, n);
    expect_error(path, MR_ERR_FORMAT, "version 9");
    good[6] = 1;

    snprintf(path, sizeof(path), "%s", mr_test_tmp("shape.npy"));
    char *s = strstr(good + 10, "(2, 3)");
    assert_non_null(s);
    memcpy(s, "(2; 3)", 6);
    spit(path, good, n);
    expect_error(path, MR_ERR_FORMAT, "shape");
    memcpy(s, "(2, 3)", 6);

    snprintf(path, sizeof(path), "%s", mr_test_tmp("nodescr.npy"));
    s = strstr(good + 10, "descr");
    memcpy(s, "dexcr", 5);
    spit(path, good, n);
    expect_error(path, MR_ERR_FORMAT, "descr");
    free(good);

    char rel[512];
    snprintf(rel, sizeof(rel), "%s", mr_test_data("sampling/npy_u2.npy"));
    expect_error(rel, MR_ERR_UNSUPPORTED, "'<u2' (expected one of");
    snprintf(rel, sizeof(rel), "%s", mr_test_data("sampling/npy_bigendian.npy"));
    expect_error(rel, MR_ERR_UNSUPPORTED, "'>f4'");
    snprintf(rel, sizeof(rel), "%s", mr_test_data("sampling/npy_struct.npy"));
    expect_error(rel, MR_ERR_UNSUPPORTED, "structured dtype");
    snprintf(rel, sizeof(rel), "%s", mr_test_data("sampling/npy_fortran.npy"));
    expect_error(rel, MR_ERR_UNSUPPORTED, "fortran_order True");
    expect_error("/nonexistent-dir/x.npy", MR_ERR_IO, "cannot open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_reads_every_dtype),
        cmocka_unit_test(test_npy_write_is_byte_identical_to_numpy),
        cmocka_unit_test(test_npy_error_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
