/* numpy legacy RandomState port: first outputs for an int seed and for fastMRI's per-file
 * code-point seed (values from numpy 1.24, tests/data/sampling/fastmri_masks.json
 * "rng_checks"), randint's masked rejection, and choice(replace=False, p) against numpy. */
#include "mr_test.h"

#include <math.h>
#include <string.h>

#include "sampling/rng.h"

static void test_rng_uniform_int_seed(void **state)
{
    (void)state;
    static const double want[5] = { 0.3745401188473625, 0.9507143064099162, 0.7319939418114051,
                                    0.5986584841970366, 0.15601864044243652 };
    struct mr_rng r;
    mr_rng_seed(&r, 42);
    for (int i = 0; i < 5; i++)
        assert_true(mr_rng_uniform(&r) == want[i]);
}

static void test_rng_uniform_file_name_seed(void **state)
{
    (void)state;
    static const double want[5] = { 0.612301999047653, 0.7460485727519789, 0.1997717472660765,
                                    0.08586773064793174, 0.3634546995293306 };
    struct mr_rng r;
    struct mr_rng q;
    assert_int_equal(mr_rng_seed_name(&r, "/data/knee/file1000001.h5"), MR_OK);
    static const uint32_t key[] = { 102, 105, 108, 101, 49, 48, 48, 48, 48, 48, 49, 46, 104, 53 };
    mr_rng_seed_array(&q, key, sizeof(key) / sizeof(key[0]));
    for (int i = 0; i < 5; i++) {
        double u = mr_rng_uniform(&r);
        assert_true(u == want[i]);
        assert_true(mr_rng_uniform(&q) == u);
    }
    assert_int_equal(mr_rng_seed_name(&r, "dir/"), MR_ERR_ARG);
    assert_int_equal(mr_rng_seed_name(&r, "bad\xff.h5"), MR_ERR_ARG);
}

static void test_rng_randint(void **state)
{
    (void)state;
    static const int64_t want[8] = { 2, 3, 0, 2, 2, 3, 0, 0 };
    struct mr_rng r;
    mr_rng_seed(&r, 42);
    for (int i = 0; i < 8; i++)
        assert_int_equal(mr_rng_randint(&r, 4), want[i]);
    /* randint(0, 1) consumes nothing */
    struct mr_rng a;
    struct mr_rng b;
    mr_rng_seed(&a, 5);
    mr_rng_seed(&b, 5);
    assert_int_equal(mr_rng_randint(&a, 1), 0);
    assert_true(mr_rng_u32(&a) == mr_rng_u32(&b));
    /* numpy: RandomState(7).randint(0, 1000, size=4) = [175, 196, 537, 502] */
    mr_rng_seed(&r, 7);
    assert_int_equal(mr_rng_randint(&r, 1000), 175);
    assert_int_equal(mr_rng_randint(&r, 1000), 196);
    assert_int_equal(mr_rng_randint(&r, 1000), 537);
    assert_int_equal(mr_rng_randint(&r, 1000), 502);
}

static void test_rng_choice_without_replacement(void **state)
{
    (void)state;
    /* numpy: p = arange(1, 11) / 55; RandomState(3).choice(10, 6, replace=False, p=p) */
    static const int64_t want[6] = { 7, 8, 5, 9, 1, 2 };
    double p[10];
    int64_t got[6];
    struct mr_rng r;
    for (int i = 0; i < 10; i++)
        p[i] = (double)(i + 1) / 55.0;
    mr_rng_seed(&r, 3);
    assert_int_equal(mr_rng_choice_p(&r, 10, p, 6, got), MR_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(got[i], want[i]);
    p[0] = 0.0;
    assert_int_equal(mr_rng_choice_p(&r, 10, p, 10, got), MR_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_uniform_int_seed),
        cmocka_unit_test(test_rng_uniform_file_name_seed),
        cmocka_unit_test(test_rng_randint),
        cmocka_unit_test(test_rng_choice_without_replacement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
