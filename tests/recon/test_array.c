/* recon/array: overflow-checked sizes and the memory limit for file-driven allocations. */
#include "mr_test.h"

#include <string.h>

#include "recon/array.h"

static void test_dims_size_counts_elements_and_bytes(void **state)
{
    int64_t numel = -1;
    int64_t nbytes = -1;
    (void)state;

    assert_int_equal(mr_dims_size(3, (const int64_t[]){ 15, 640, 368 }, 8, &numel, &nbytes),
                     MR_OK);
    assert_int_equal(numel, 15 * 640 * 368);
    assert_int_equal(nbytes, 8 * 15 * 640 * 368);
    assert_int_equal(mr_dims_size(0, NULL, 4, &numel, &nbytes), MR_OK); /* a scalar */
    assert_int_equal(numel, 1);
    assert_int_equal(nbytes, 4);
    assert_int_equal(mr_dims_size(2, (const int64_t[]){ 0, 7 }, 4, &numel, NULL), MR_OK);
    assert_int_equal(numel, 0);
    /* the largest count that still fits */
    assert_int_equal(mr_dims_size(1, (const int64_t[]){ INT64_MAX }, 1, &numel, &nbytes), MR_OK);
    assert_true(numel == INT64_MAX && nbytes == INT64_MAX);
}

/* Shapes a damaged file can hold: each product must be refused, never wrapped. */
static void test_dims_size_refuses_overflow(void **state)
{
    int64_t numel = 42;
    int64_t nbytes = 42;
    (void)state;

    /* 2^62 * 2 wraps to 2^63 (negative) */
    assert_int_equal(mr_dims_size(2, (const int64_t[]){ (int64_t)1 << 62, 2 }, 1, &numel, NULL),
                     MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "2^63"));
    /* (2^21)^3 = 2^63: one bit flip of a fastMRI dim can make this */
    const int64_t d21 = (int64_t)1 << 21;
    assert_int_equal(mr_dims_size(3, (const int64_t[]){ d21, d21, d21 }, 1, &numel, NULL),
                     MR_ERR_SHAPE);
    /* the product of elements fits, the bytes do not: 2^61 complex64 elements */
    assert_int_equal(mr_dims_size(1, (const int64_t[]){ (int64_t)1 << 61 }, 8, &numel, &nbytes),
                     MR_ERR_SHAPE);
    assert_non_null(strstr(mr_last_error(), "bytes"));
    /* products wrapping all the way round to a small positive number */
    assert_int_equal(mr_dims_size(4, (const int64_t[]){ 1 << 16, 1 << 16, 1 << 16, 1 << 16 }, 1,
                                  &numel, NULL),
                     MR_ERR_SHAPE);
    /* a zero axis does not hide an overflowing rest */
    assert_int_equal(mr_dims_size(3, (const int64_t[]){ 0, (int64_t)1 << 40, (int64_t)1 << 40 },
                                  1, &numel, NULL),
                     MR_ERR_SHAPE);
    assert_int_equal(mr_dims_size(2, (const int64_t[]){ 3, -1 }, 1, &numel, NULL), MR_ERR_SHAPE);
    assert_int_equal(mr_dims_size(MR_MAX_DIMS + 1, (const int64_t[MR_MAX_DIMS + 1]){ 1 }, 1,
                                  &numel, NULL),
                     MR_ERR_SHAPE);
    assert_true(numel == 42 && nbytes == 42); /* outputs untouched on failure */
}

static void test_array_init_refuses_overflowing_shapes(void **state)
{
    struct mr_array a;
    const int64_t d21 = (int64_t)1 << 21;
    (void)state;

    /* used to allocate numel * 8 bytes wrapped to 0 and hand out a 64-byte buffer */
    assert_int_equal(mr_array_init(&a, MR_DTYPE_CF32, 3, (const int64_t[]){ d21, d21, d21 }),
                     MR_ERR_SHAPE);
    assert_null(a.data);
    assert_int_equal(mr_array_init(&a, MR_DTYPE_CF32, 1, (const int64_t[]){ (int64_t)1 << 61 }),
                     MR_ERR_SHAPE);
    assert_null(a.data);
    mr_array_cleanup(&a);
    assert_int_equal(mr_array_init(&a, MR_DTYPE_F32, 2, (const int64_t[]){ 3, -2 }), MR_ERR_ARG);
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_CF32, 2, (int64_t)4, (int64_t)5), MR_OK);
    assert_int_equal(mr_array_nbytes(&a), 4 * 5 * 8);
    mr_array_cleanup(&a);
}

static void test_memory_limit_default_set_and_check(void **state)
{
    (void)state;

    const uint64_t def = mr_memory_limit();
    assert_true(def >= ((uint64_t)64 << 20)); /* half of any machine that runs the tests */
    assert_int_equal(mr_memory_check(def, "exactly the limit"), MR_OK);
    assert_int_equal(mr_memory_check(def + 1, "'x.h5': dataset 'kspace' slice"), MR_ERR_NOMEM);
    assert_non_null(strstr(mr_last_error(), "'x.h5': dataset 'kspace' slice"));
    assert_non_null(strstr(mr_last_error(), "memory limit"));

    mr_memory_limit_set(1000);
    assert_int_equal(mr_memory_limit(), 1000);
    assert_int_equal(mr_memory_check(1000, "a"), MR_OK);
    assert_int_equal(mr_memory_check(1001, "a weight tensor"), MR_ERR_NOMEM);
    assert_non_null(strstr(mr_last_error(), "1001 bytes"));
    assert_non_null(strstr(mr_last_error(), "limit of 1000 bytes"));
    mr_memory_limit_set(0); /* back to the default */
    assert_int_equal(mr_memory_limit(), def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dims_size_counts_elements_and_bytes),
        cmocka_unit_test(test_dims_size_refuses_overflow),
        cmocka_unit_test(test_array_init_refuses_overflowing_shapes),
        cmocka_unit_test(test_memory_limit_default_set_and_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
