/* Conv plans and their wisdom (networks/conv_plan.h), and the settings that drive them
 * (recon/settings.h, recon/cpu.h): measured choices written, read back with the same choices
 * and followed by mr_conv2d_forward (bit for bit the forced algorithm's output), files from
 * another CPU model, feature set, thread count or BLAS ignored with a warning naming the
 * difference, malformed files rejected, setting values parsed or rejected by name. */
#include "mr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/conv_dnnl.h"
#include "networks/conv_plan.h"
#include "networks/layers.h"
#include "recon/cpu.h"
#include "recon/settings.h"

/* small shapes: a 3×3 that every path can run, a 1×1 (SGEMM or direct), a padded 5×5 */
static struct mr_conv2d shape(int k)
{
    switch (k) {
    case 0:
        return mr_conv2d_make(8, 12, 3, 1);
    case 1:
        return mr_conv2d_make(16, 8, 1, 0);
    default: {
        struct mr_conv2d c = mr_conv2d_make(4, 6, 5, 2);
        c.pad_mode = MR_PAD_MODE_REPLICATE;
        return c;
    }
    }
}

enum { NSHAPES = 3, H = 20, W = 23 };

static void set_plan(enum mr_conv_plan plan)
{
    struct mr_settings s = *mr_settings_get();
    s.conv_plan = plan;
    mr_settings_set(&s);
}

static void measure_all(enum mr_conv2d_algo algos[NSHAPES])
{
    mr_conv_wisdom_forget();
    set_plan(MR_CONV_PLAN_MEASURE);
    for (int k = 0; k < NSHAPES; k++) {
        struct mr_conv2d c = shape(k);
        algos[k] = mr_conv_plan_choose(&c, H, W);
        assert_int_not_equal(algos[k], MR_CONV2D_ALGO_AUTO);
        assert_int_equal(mr_conv_plan_choose(&c, H, W), algos[k]); /* measured once */
    }
    set_plan(MR_CONV_PLAN_ESTIMATE);
    assert_int_equal(mr_conv_wisdom_count(), NSHAPES);
}

static void test_estimate_measures_nothing(void **state)
{
    (void)state;
    mr_conv_wisdom_forget();
    struct mr_conv2d c = shape(0);
    assert_int_equal(mr_conv_plan_choose(&c, H, W), MR_CONV2D_ALGO_AUTO);
    assert_int_equal(mr_conv2d_scratch_size(&c, H, W) >= 0, 1);
    assert_int_equal(mr_conv_wisdom_count(), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    enum mr_conv2d_algo algos[NSHAPES];
    measure_all(algos);
    const char *path = mr_test_tmp("wisdom.txt");
    assert_int_equal(mr_conv_wisdom_export(path), MR_OK);
    mr_conv_wisdom_forget();
    assert_int_equal(mr_conv_wisdom_count(), 0);
    char warning[1024];
    assert_int_equal(mr_conv_wisdom_import(path, warning, sizeof warning), MR_OK);
    assert_string_equal(warning, "");
    assert_int_equal(mr_conv_wisdom_count(), NSHAPES);
    for (int k = 0; k < NSHAPES; k++) {
        struct mr_conv2d c = shape(k);
        assert_int_equal(mr_conv_plan_lookup(&c, H, W), algos[k]);
        assert_int_equal(mr_conv_plan_lookup(&c, H + 1, W), MR_CONV2D_ALGO_AUTO);
    }
    /* importing again adds nothing */
    assert_int_equal(mr_conv_wisdom_import(path, warning, sizeof warning), MR_OK);
    assert_int_equal(mr_conv_wisdom_count(), NSHAPES);
    mr_conv_wisdom_forget();
}

/* forward with AUTO runs the planned algorithm: bit for bit the forced one's output */
static void test_forward_follows_plan(void **state)
{
    (void)state;
    enum mr_conv2d_algo algos[NSHAPES];
    measure_all(algos);
    for (int k = 0; k < NSHAPES; k++) {
        struct mr_conv2d c = shape(k);
        struct mr_array wt = { 0 };
        struct mr_array x = { 0 };
        struct mr_array y = { 0 };
        struct mr_array y_forced = { 0 };
        struct mr_array scratch = { 0 };
        struct mr_array wino = { 0 };
        assert_int_equal(mr_array_init_dims(&wt, MR_DTYPE_F32, 1, c.cout * c.cin * c.kh * c.kw),
                         MR_OK);
        mr_test_rand(&wt, 10 + (uint64_t)k);
        c.w = mr_array_f32(&wt);
        assert_int_equal(mr_conv2d_prepare_winograd_for(&c, &wino, H, W), MR_OK);
        assert_int_equal(c.wino != NULL, algos[k] == MR_CONV2D_ALGO_WINOGRAD);
        const int64_t ho = mr_conv2d_out_h(&c, H);
        const int64_t wo = mr_conv2d_out_w(&c, W);
        assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, c.cin, (int64_t)H, (int64_t)W),
                         MR_OK);
        mr_test_rand(&x, 20 + (uint64_t)k);
        assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, c.cout, ho, wo), MR_OK);
        assert_int_equal(mr_array_init_dims(&y_forced, MR_DTYPE_F32, 3, c.cout, ho, wo), MR_OK);
        const int64_t ns = mr_conv2d_scratch_size(&c, H, W);
        assert_int_equal(mr_array_init_dims(&scratch, MR_DTYPE_F32, 1, ns > 0 ? ns : 1), MR_OK);
        mr_conv2d_forward(&c, &y, &x, &scratch);
        c.algo = algos[k];
        mr_conv2d_forward(&c, &y_forced, &x, &scratch);
        assert_memory_equal(mr_array_f32(&y), mr_array_f32(&y_forced),
                            (size_t)mr_array_numel(&y) * sizeof(float));
        mr_array_cleanup(&wt);
        mr_array_cleanup(&x);
        mr_array_cleanup(&y);
        mr_array_cleanup(&y_forced);
        mr_array_cleanup(&scratch);
        mr_array_cleanup(&wino);
    }
    mr_conv_wisdom_forget();
}

/* rewrites header line `line` (0-based) of the exported wisdom and expects it ignored */
static void check_mismatch(int line, const char *expect_in_warning)
{
    enum mr_conv2d_algo algos[NSHAPES];
    measure_all(algos);
    char good[4096]; /* mr_test_tmp returns one static buffer */
    snprintf(good, sizeof good, "%s", mr_test_tmp("wisdom_good.txt"));
    assert_int_equal(mr_conv_wisdom_export(good), MR_OK);
    mr_conv_wisdom_forget();
    char bad[4096];
    snprintf(bad, sizeof bad, "%s", mr_test_tmp("wisdom_bad.txt"));
    FILE *in = fopen(good, "r");
    FILE *out = fopen(bad, "w");
    assert_non_null(in);
    assert_non_null(out);
    char buf[1024];
    for (int i = 0; fgets(buf, sizeof buf, in) != NULL; i++) {
        if (i == line) {
            char *sp = strchr(buf, ' ');
            assert_non_null(sp);
            snprintf(sp, sizeof buf - (size_t)(sp - buf), " something else\n");
        }
        fputs(buf, out);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
    char warning[1024];
    assert_int_equal(mr_conv_wisdom_import(bad, warning, sizeof warning), MR_OK);
    assert_int_equal(mr_conv_wisdom_count(), 0);
    assert_non_null(strstr(warning, "ignored"));
    assert_non_null(strstr(warning, expect_in_warning));
}

static void test_mismatch_cpu(void **state)
{
    (void)state;
    check_mismatch(1, "cpu ");
}

static void test_mismatch_features(void **state)
{
    (void)state;
    check_mismatch(2, "features ");
}

static void test_mismatch_threads(void **state)
{
    (void)state;
    check_mismatch(3, "threads ");
}

static void test_mismatch_blas(void **state)
{
    (void)state;
    check_mismatch(4, "blas ");
}

static void test_malformed(void **state)
{
    (void)state;
    enum mr_conv2d_algo algos[NSHAPES];
    measure_all(algos);
    const char *path = mr_test_tmp("wisdom_malformed.txt");
    assert_int_equal(mr_conv_wisdom_export(path), MR_OK);
    mr_conv_wisdom_forget();
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("conv 1 2 3 fast\n", f);
    assert_int_equal(fclose(f), 0);
    char warning[1024];
    assert_int_equal(mr_conv_wisdom_import(path, warning, sizeof warning), MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "line 9"));
    assert_int_equal(mr_conv_wisdom_import(mr_test_tmp("no_such_wisdom"), warning,
                                           sizeof warning),
                     MR_ERR_IO);
    mr_conv_wisdom_forget();
}

/* "dnnl" in wisdom files: a measured input-gradient key ("grad" line) and a forward key
 * choosing oneDNN written by hand, read back, written again, and followed by prepare */
static void test_wisdom_dnnl(void **state)
{
    (void)state;
    mr_conv_wisdom_forget();
    set_plan(MR_CONV_PLAN_MEASURE);
    struct mr_conv2d c = shape(0);
    const enum mr_conv2d_algo g = mr_conv_plan_choose_grad(&c, H, W);
    assert_true(g == MR_CONV2D_ALGO_IM2COL || g == MR_CONV2D_ALGO_DNNL);
    set_plan(MR_CONV_PLAN_ESTIMATE);
    assert_int_equal(mr_conv_plan_lookup(&c, H, W), MR_CONV2D_ALGO_AUTO); /* its own key */
    char path[4096];
    snprintf(path, sizeof path, "%s", mr_test_tmp("wisdom_dnnl.txt"));
    assert_int_equal(mr_conv_wisdom_export(path), MR_OK);
    mr_conv_wisdom_forget();
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "conv 8 12 3 3 1 1 1 1 1 1 1 1 0 %d %d dnnl 9.0 -1.0 -1.0 4.5\n", H + 1, W);
    assert_int_equal(fclose(f), 0);
    char warning[1024];
    assert_int_equal(mr_conv_wisdom_import(path, warning, sizeof warning), MR_OK);
    assert_string_equal(warning, "");
    assert_int_equal(mr_conv_wisdom_count(), 2);
    assert_int_equal(mr_conv_plan_lookup_grad(&c, H, W), g);
    assert_int_equal(mr_conv_plan_lookup(&c, H + 1, W), MR_CONV2D_ALGO_DNNL);
    assert_int_equal(mr_conv_plan_lookup_grad(&c, H + 1, W), MR_CONV2D_ALGO_AUTO);
    assert_string_equal(mr_conv2d_algo_name(MR_CONV2D_ALGO_DNNL), "dnnl");
    assert_int_equal(mr_conv_wisdom_export(path), MR_OK);
    mr_conv_wisdom_forget();
    assert_int_equal(mr_conv_wisdom_import(path, warning, sizeof warning), MR_OK);
    assert_int_equal(mr_conv_plan_lookup(&c, H + 1, W), MR_CONV2D_ALGO_DNNL);
    assert_int_equal(mr_conv_plan_lookup_grad(&c, H, W), g);
    /* the plan prepares oneDNN for that size, and forward runs it: bit for bit the forced
     * algorithm's output */
    struct mr_array wt = { 0 };
    struct mr_array store = { 0 };
    assert_int_equal(mr_array_init_dims(&wt, MR_DTYPE_F32, 1, c.cout * c.cin * c.kh * c.kw),
                     MR_OK);
    mr_test_rand(&wt, 40);
    c.w = mr_array_f32(&wt);
    assert_int_equal(mr_conv2d_prepare_winograd_for(&c, &store, H + 1, W), MR_OK);
    assert_int_equal(c.dnnl_w != NULL, mr_conv_dnnl_supported(&c));
    assert_null(c.dnnl_gw); /* the input-gradient was not asked for */
    assert_null(c.wino);
    mr_array_cleanup(&store);
    mr_array_cleanup(&wt);
    /* a "grad" line naming an algorithm the input-gradient does not have */
    f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "grad 8 12 3 3 1 1 1 1 1 1 1 1 0 %d %d winograd 1.0 1.0 1.0 1.0\n", H + 2, W);
    assert_int_equal(fclose(f), 0);
    mr_conv_wisdom_forget();
    assert_int_equal(mr_conv_wisdom_import(path, warning, sizeof warning), MR_ERR_FORMAT);
    assert_non_null(strstr(mr_last_error(), "'grad'"));
    mr_conv_wisdom_forget();
}

static void test_settings_parse(void **state)
{
    (void)state;
    struct mr_settings s = mr_settings_default;
    assert_int_equal(mr_settings_parse(&s, "conv-plan", "measure"), MR_OK);
    assert_int_equal(s.conv_plan, MR_CONV_PLAN_MEASURE);
    assert_int_equal(mr_settings_parse(&s, "conv-winograd", "never"), MR_OK);
    assert_int_equal(s.conv_force, MR_CONV_FORCE_NO_WINOGRAD);
    assert_int_equal(mr_settings_parse(&s, "conv-algo", "dnnl"), MR_OK);
    assert_int_equal(s.conv_force, MR_CONV_FORCE_DNNL);
    assert_int_equal(mr_settings_parse(&s, "isa", "avx2"), MR_OK);
    assert_int_equal(s.isa_max, MR_ISA_AVX2);
    assert_int_equal(mr_settings_parse(&s, "conv-plan", "patient"), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "'patient'"));
    assert_int_equal(mr_settings_parse(&s, "isa", "sse9"), MR_ERR_ARG);
    assert_int_equal(mr_settings_parse(&s, "colour", "red"), MR_ERR_ARG);
    assert_non_null(strstr(mr_last_error(), "colour"));
}

static void test_isa_cap(void **state)
{
    (void)state;
    const struct mr_settings saved = *mr_settings_get();
    struct mr_settings s = saved;
    s.isa_max = MR_ISA_GENERIC;
    mr_settings_set(&s);
    assert_int_equal(mr_cpu_isa(), MR_ISA_GENERIC);
    struct mr_conv2d c = shape(0);
    assert_false(mr_conv2d_uses_direct(&c)); /* the AVX-512 kernel is off */
    mr_settings_set(&saved);
    assert_true(mr_cpu_isa() <= mr_cpu_get()->isa);
    assert_true(strlen(mr_cpu_get()->model) > 0);
    char f[256];
    mr_cpu_features_string(f, sizeof f);
    assert_int_equal(strstr(f, "avx512f") != NULL, mr_cpu_get()->avx512f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_measures_nothing),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_forward_follows_plan),
        cmocka_unit_test(test_mismatch_cpu),
        cmocka_unit_test(test_mismatch_features),
        cmocka_unit_test(test_mismatch_threads),
        cmocka_unit_test(test_mismatch_blas),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_wisdom_dnnl),
        cmocka_unit_test(test_settings_parse),
        cmocka_unit_test(test_isa_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
