/* Mask generators against the goldens in tests/data/sampling (numpy 1.24 RandomState in the
 * order of fastMRI subsample.py; real outputs of BART 0.8.00 poisson/upat) and against masks
 * written by numpy re-runs of the ATOMMIC/fastMRI algorithms (gen_masks.py). Every comparison
 * is exact. */
#include "mr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "sampling/mask.h"

enum gen { GEN_RANDOM, GEN_EQUI, GEN_EQUI_FRAC };

struct fastmri_case {
    const char *file;
    enum gen gen;
    int64_t n;
    int ncf;
    double cfs[2];
    double accs[2];
    uint32_t seed;      /* used when name == NULL */
    const char *name;   /* tuple(map(ord, name)) seed */
    int64_t offset;     /* -1: drawn */
    int64_t nlow;
    int64_t sampled;
};

static const struct fastmri_case cases[] = {
    { "fastmri_random_0.npy", GEN_RANDOM, 368, 1, { 0.08 }, { 4 }, 42, NULL, -1, 29, 99 },
    { "fastmri_random_1.npy", GEN_RANDOM, 368, 1, { 0.08 }, { 4 }, 0, "file1000001.h5", -1, 29,
      81 },
    { "fastmri_random_2.npy", GEN_RANDOM, 320, 2, { 0.08, 0.04 }, { 4, 8 }, 1234, NULL, -1, 13,
      46 },
    { "fastmri_random_3.npy", GEN_RANDOM, 372, 1, { 0.04 }, { 8 }, 0,
      "file_brain_AXT2_200_2000019.h5", -1, 15, 52 },
    { "fastmri_equispaced_4.npy", GEN_EQUI, 368, 1, { 0.08 }, { 4 }, 42, NULL, -1, 29, 113 },
    { "fastmri_equispaced_5.npy", GEN_EQUI, 368, 1, { 0.04 }, { 8 }, 7, NULL, 3, 15, 59 },
    { "fastmri_equispaced_fraction_6.npy", GEN_EQUI_FRAC, 368, 1, { 0.08 }, { 4 }, 42, NULL, -1,
      29, 91 },
    { "fastmri_equispaced_fraction_7.npy", GEN_EQUI_FRAC, 320, 1, { 0.04 }, { 8 }, 0,
      "file1000001.h5", -1, 13, 40 },
    { "fastmri_equispaced_fraction_8.npy", GEN_EQUI_FRAC, 96, 1, { 0.08 }, { 4 }, 0, NULL, -1, 8,
      24 },
};

static void assert_mask_equal(const float *got, const struct mr_array *want, int64_t n,
                              const char *what)
{
    int64_t bad = 0;
    assert_int_equal(mr_array_numel(want), n);
    for (int64_t i = 0; i < n; i++)
        bad += got[i] != mr_array_f32(want)[i];
    if (bad != 0)
        fail_msg("%s: %lld of %lld entries differ", what, (long long)bad, (long long)n);
}

static int64_t count(const float *m, int64_t n)
{
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++)
        s += m[i] != 0.0f;
    return s;
}

static void test_mask_fastmri_goldens(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct fastmri_case *k = &cases[c];
        struct mr_array want;
        struct mr_rng rng;
        float mask[400];
        double cf;
        double acc;
        int64_t nlow = -1;

        char rel[128];
        snprintf(rel, sizeof(rel), "sampling/%s", k->file);
        if (mr_npy_read(mr_test_data(rel), &want) != MR_OK)
            fail_msg("%s", mr_last_error());
        if (k->name != NULL)
            assert_int_equal(mr_rng_seed_name(&rng, k->name), MR_OK);
        else
            mr_rng_seed(&rng, k->seed);
        mr_mask_choose(&rng, k->ncf, k->cfs, k->ncf, k->accs, false, &cf, &acc);
        switch (k->gen) {
        case GEN_RANDOM:
            assert_int_equal(mr_mask_fastmri_random(mask, k->n, cf, acc, &rng, &nlow), MR_OK);
            break;
        case GEN_EQUI:
            assert_int_equal(mr_mask_fastmri_equispaced(mask, k->n, cf, acc, k->offset, &rng,
                                                        &nlow), MR_OK);
            break;
        case GEN_EQUI_FRAC:
            assert_int_equal(mr_mask_fastmri_equispaced_fraction(mask, k->n, cf, acc, k->offset,
                                                                 &rng, &nlow), MR_OK);
            break;
        }
        assert_int_equal(nlow, k->nlow);
        assert_int_equal(count(mask, k->n), k->sampled);
        assert_mask_equal(mask, &want, k->n, k->file);
        mr_array_cleanup(&want);
    }
}

/* BART cfl: complex64, first dim fastest; the real parts are the mask */
static float *read_cfl(const char *base, int64_t *n)
{
    char path[1024];
    char rel[256];
    snprintf(rel, sizeof(rel), "sampling/%s.cfl", base);
    snprintf(path, sizeof(path), "%s", mr_test_data(rel));
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    *n = bytes / 8;
    float *c = malloc((size_t)bytes);
    assert_int_equal(fread(c, 1, (size_t)bytes, f), (size_t)bytes);
    fclose(f);
    for (int64_t i = 0; i < *n; i++) {
        assert_true(c[2 * i + 1] == 0.0f);
        c[i] = c[2 * i];
    }
    return c;
}

static void check_bart(const char *base, const float *mask, int64_t n)
{
    int64_t m;
    float *want = read_cfl(base, &m);
    int64_t bad = 0;
    assert_int_equal(m, n);
    for (int64_t i = 0; i < n; i++)
        bad += want[i] != mask[i];
    free(want);
    if (bad != 0)
        fail_msg("%s: %lld of %lld entries differ", base, (long long)bad, (long long)n);
}

static void test_mask_bart_poisson_goldens(void **state)
{
    (void)state;
    struct mr_bart_poisson_config cfg = mr_bart_poisson_config_default;
    int64_t points = 0;
    float *mask = malloc(sizeof(float) * 128 * 128);

    cfg.y = 64;
    cfg.z = 48;
    cfg.accel_y = 2.0f;
    cfg.accel_z = 2.0f;
    cfg.calib = 8;
    assert_int_equal(mr_mask_bart_poisson(mask, &cfg, &points), MR_OK);
    assert_int_equal(points, 831);
    check_bart("bart_poisson_Y64_Z48_y2_z2_C8_s11235", mask, 64 * 48);

    cfg = mr_bart_poisson_config_default;
    cfg.accel_y = 3.0f;
    cfg.accel_z = 3.0f;
    cfg.calib = 16;
    cfg.vardens = 20.0f;
    cfg.ellipse = true;
    assert_int_equal(mr_mask_bart_poisson(mask, &cfg, &points), MR_OK);
    assert_int_equal(points, 1134);
    check_bart("bart_poisson_Y128_Z128_y3_z3_C16_v_e_default_seed", mask, 128 * 128);

    /* extra cases made with the same bart 0.8.00: odd sizes and calibration box, fractional
     * accelerations, -V without -e */
    cfg = mr_bart_poisson_config_default;
    cfg.y = 17;
    cfg.accel_z = 3.0f;
    cfg.calib = 3;
    cfg.vardens = 10.0f;
    cfg.seed = 99;
    assert_int_equal(mr_mask_bart_poisson(mask, &cfg, &points), MR_OK);
    assert_int_equal(points, 585);
    check_bart("bart_poisson_Y17_Z128_z3_C3_V10_s99", mask, 17 * 128);
    cfg = mr_bart_poisson_config_default;
    cfg.y = 50;
    cfg.z = 70;
    cfg.accel_y = 1.3f;
    cfg.accel_z = 2.2f;
    cfg.calib = 9;
    cfg.vardens = 5.0f;
    cfg.ellipse = true;
    cfg.seed = 42;
    assert_int_equal(mr_mask_bart_poisson(mask, &cfg, &points), MR_OK);
    assert_int_equal(points, 784);
    check_bart("bart_poisson_Y50_Z70_y1.3_z2.2_C9_V5_e_s42", mask, 50 * 70);

    cfg.accel_y = 0.5f;
    assert_int_equal(mr_mask_bart_poisson(mask, &cfg, &points), MR_ERR_ARG);
    free(mask);
}

static void test_mask_bart_upat_goldens(void **state)
{
    (void)state;
    float *mask = malloc(sizeof(float) * 128 * 128);
    assert_int_equal(mr_mask_bart_upat(mask, 32, 24, 2, 3, 4), MR_OK);
    assert_int_equal(count(mask, 32 * 24), 168);
    check_bart("bart_upat_Y32_Z24_y2_z3_c4", mask, 32 * 24);
    assert_int_equal(mr_mask_bart_upat(mask, 128, 128, 1, 2, 0), MR_OK);
    check_bart("bart_upat_default", mask, 128 * 128);
    assert_int_equal(mr_mask_bart_upat(mask, 33, 21, 3, 2, 5), MR_OK);
    check_bart("bart_upat_Y33_Z21_y3_z2_c5", mask, 33 * 21);
    assert_int_equal(mr_mask_bart_upat(mask, 128, 128, 0, 2, 0), MR_ERR_ARG);
    free(mask);
}

static void load_golden(const char *file, struct mr_array *want)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "sampling/%s", file);
    if (mr_npy_read(mr_test_data(rel), want) != MR_OK)
        fail_msg("%s", mr_last_error());
}

static void test_mask_atommic_goldens(void **state)
{
    (void)state;
    struct mr_array want;
    struct mr_rng obj;
    struct mr_rng glob;
    float *mask = malloc(sizeof(float) * 40 * 40);
    double cf;
    double acc;
    double got_acc;

    /* equispaced2d (37, 30), cfs (0.08, 0.16), accs (4, 6), seed 5 -> reports 6 */
    static const double cfs0[2] = { 0.08, 0.16 };
    static const double accs0[2] = { 4, 6 };
    mr_rng_seed(&obj, 5);
    mr_mask_choose(&obj, 2, cfs0, 2, accs0, false, &cf, &acc);
    assert_int_equal(mr_mask_atommic_equispaced_2d(mask, 37, 30, cf, acc, &got_acc), MR_OK);
    assert_true(got_acc == 6.0);
    load_golden("atommic_equispaced2d_37x30_s5.npy", &want);
    assert_mask_equal(mask, &want, 37 * 30, "equispaced2d");
    mr_array_cleanup(&want);

    /* gaussian1d: choice on RandomState(seed), samples on the global generator */
    static const double cfs1[1] = { 0.7 };
    static const double accs1[1] = { 4 };
    mr_rng_seed(&obj, 1);
    mr_rng_seed(&glob, 123);
    mr_mask_choose(&obj, 1, cfs1, 1, accs1, false, &cf, &acc);
    assert_int_equal(mr_mask_gaussian_1d(mask, 100, cf, acc, 0.02, &glob), MR_OK);
    load_golden("atommic_gaussian1d_100_s1_g123.npy", &want);
    assert_mask_equal(mask, &want, 100, "gaussian1d even");
    mr_array_cleanup(&want);

    static const double cfs2[2] = { 0.7, 0.5 };
    static const double accs2[2] = { 4, 8 };
    mr_rng_seed(&obj, 2);
    mr_rng_seed(&glob, 7);
    mr_mask_choose(&obj, 2, cfs2, 2, accs2, false, &cf, &acc);
    assert_int_equal(mr_mask_gaussian_1d(mask, 101, cf, acc, 0.02, &glob), MR_OK);
    load_golden("atommic_gaussian1d_101_s2_g7.npy", &want);
    assert_mask_equal(mask, &want, 101, "gaussian1d odd");
    mr_array_cleanup(&want);

    static const double accs3[1] = { 6 };
    mr_rng_seed(&obj, 3);
    mr_rng_seed(&glob, 11);
    mr_mask_choose(&obj, 1, cfs1, 1, accs3, false, &cf, &acc);
    assert_int_equal(mr_mask_gaussian_2d(mask, 40, 36, cf, acc, 0.02, &glob), MR_OK);
    load_golden("atommic_gaussian2d_40x36_s3_g11.npy", &want);
    assert_mask_equal(mask, &want, 40 * 36, "gaussian2d");
    mr_array_cleanup(&want);

    static const double cfs4[1] = { 0.08 };
    mr_rng_seed(&obj, 4);
    mr_rng_seed(&glob, 99);
    mr_mask_choose(&obj, 1, cfs4, 1, accs1, false, &cf, &acc);
    assert_int_equal(mr_mask_poisson_2d(mask, 40, 32, acc, &mr_poisson2d_config_default, &glob,
                                        &got_acc), MR_OK);
    assert_true(got_acc == 4.076433121019108);
    load_golden("atommic_poisson2d_40x32_s4_g99.npy", &want);
    assert_mask_equal(mask, &want, 40 * 32, "poisson2d");
    mr_array_cleanup(&want);
    free(mask);
}

static void test_mask_fastmri_magic_goldens(void **state)
{
    (void)state;
    struct mr_array want;
    struct mr_rng rng;
    float mask[400];
    double cf;
    double acc;
    int64_t nlow;
    static const double cfs[1] = { 0.08 };
    static const double accs[1] = { 4 };

    mr_rng_seed(&rng, 42);
    mr_mask_choose(&rng, 1, cfs, 1, accs, false, &cf, &acc);
    assert_int_equal(mr_mask_fastmri_magic(mask, 368, cf, acc, -1, &rng, &nlow), MR_OK);
    assert_int_equal(nlow, 29);
    load_golden("fastmri_magic_368_s42.npy", &want);
    assert_mask_equal(mask, &want, 368, "magic");
    mr_array_cleanup(&want);

    mr_rng_seed(&rng, 9);
    mr_mask_choose(&rng, 1, cfs, 1, accs, false, &cf, &acc);
    assert_int_equal(mr_mask_fastmri_magic_fraction(mask, 321, cf, acc, -1, &rng, &nlow), MR_OK);
    assert_int_equal(nlow, 26);
    load_golden("fastmri_magic_fraction_321_s9.npy", &want);
    assert_mask_equal(mask, &want, 321, "magic fraction");
    mr_array_cleanup(&want);
}

static void test_mask_argument_errors(void **state)
{
    (void)state;
    float mask[64];
    struct mr_rng rng;
    mr_rng_seed(&rng, 0);
    assert_int_equal(mr_mask_fastmri_random(mask, 64, 1.5, 4, &rng, NULL), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "1.5"));
    assert_int_equal(mr_mask_fastmri_random(mask, 64, 1.0, 4, &rng, NULL), MR_ERR_ARG);
    assert_int_equal(mr_mask_fastmri_equispaced(mask, 64, 0.08, 2.5, -1, &rng, NULL), MR_ERR_ARG);
    assert_int_equal(mr_mask_fastmri_equispaced_fraction(mask, 64, 0.5, 4, -1, &rng, NULL),
                     MR_ERR_ARG);
    assert_int_equal(mr_mask_atommic_equispaced_2d(mask, 8, 8, 0.08, 1, NULL), MR_ERR_ARG);
    assert_int_equal(mr_mask_gaussian_1d(mask, 64, 0.0, 4, 0.02, &rng), MR_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_fastmri_goldens),
        cmocka_unit_test(test_mask_bart_poisson_goldens),
        cmocka_unit_test(test_mask_bart_upat_goldens),
        cmocka_unit_test(test_mask_atommic_goldens),
        cmocka_unit_test(test_mask_fastmri_magic_goldens),
        cmocka_unit_test(test_mask_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
