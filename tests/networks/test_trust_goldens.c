/* The trust report's per-step data-consistency residual (recon/dc.h "dc_residual", emitted by
 * every network through its probe) equals the residual computed here, in double, from the
 * golden references' own intermediates: E2EVN's per-cascade k-space, RecurrentVarNet's per-step
 * k-space, CIRIM's per-time-step image predictions (through S and the configured FFT). The
 * networks' intermediates match the goldens within 1e-4 of their max, so the residuals agree
 * within RES_TOL relative (plus RES_ABS for residuals near zero). */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"
#include "networks/cirim.h"
#include "networks/net.h"
#include "networks/recurrentvarnet.h"
#include "weights/config.h"
#include "recon/combine.h"
#include "recon/dc.h"
#include "recon/fft.h"
#include "weights/weights.h"

#define RES_TOL 1e-3
#define RES_ABS 1e-5
#define MAX_STEPS 256

struct values {
    double residual[MAX_STEPS];
    int n;
};

static void collect(void *ctx, const char *name, int64_t index, double v)
{
    struct values *vals = ctx;
    size_t len = strlen(name);
    if (len < 11 || strcmp(name + len - 11, "dc_residual") != 0)
        return;
    assert_int_equal(index, vals->n); /* estimates in order: 0 = the initial one */
    assert_true(vals->n < MAX_STEPS);
    vals->residual[vals->n++] = v;
}

/* the golden case's inputs, the network run with a values probe */
struct run {
    struct mr_h5 *h;
    struct mr_weights *ws;
    struct mr_net *net;
    struct mr_array ksp, mask, sens, init, sigma, out;
    struct values vals;
};

static void run_case(struct run *r, const char *file)
{
    struct mr_net_inputs in = mr_net_inputs_default;
    struct mr_probe probe = { .fn = NULL, .ctx = &r->vals, .value = collect };
    const char *path = mr_test_data(file);

    memset(r, 0, sizeof(*r));
    assert_int_equal(mr_weights_load(path, &r->ws), MR_OK);
    assert_int_equal(mr_net_create_from_weights(r->ws, NULL, &r->net), MR_OK);
    assert_int_equal(mr_h5_open(path, &r->h), MR_OK);
    assert_int_equal(mr_h5_read(r->h, "/kspace", &r->ksp), MR_OK);
    assert_int_equal(mr_h5_read(r->h, "/mask", &r->mask), MR_OK);
    in.ksp = &r->ksp;
    in.mask = &r->mask;
    if (mr_h5_exists(r->h, "/sensitivity_map")) {
        assert_int_equal(mr_h5_read(r->h, "/sensitivity_map", &r->sens), MR_OK);
        in.sens = &r->sens;
    }
    if (mr_h5_exists(r->h, "/num_low_frequencies"))
        assert_int_equal(mr_h5_read_i64(r->h, "/num_low_frequencies", &in.num_low_frequencies),
                         MR_OK);
    if (mr_h5_exists(r->h, "/initial_prediction"))
        assert_int_equal(mr_h5_read(r->h, "/initial_prediction", &r->init), MR_OK);
    if (mr_h5_exists(r->h, "/initial_image"))
        assert_int_equal(mr_h5_read(r->h, "/initial_image", &r->init), MR_OK);
    if (r->init.data != NULL)
        in.initial_prediction = &r->init;
    if (mr_h5_exists(r->h, "/sigma")) {
        assert_int_equal(mr_h5_read(r->h, "/sigma", &r->sigma), MR_OK);
        in.sigma = mr_array_f32(&r->sigma)[0];
    }
    if (strcmp(mr_weights_architecture(r->ws), "recurrentvarnet") == 0) {
        /* RecurrentVarNet goldens state DIRECT's FFT convention in `fft`, outside the model's
         * config (as tests/networks/test_recurrentvarnet.c reads them): the model itself */
        struct mr_recurrentvarnet_config cfg;
        struct mr_recurrentvarnet *rvn = NULL;
        struct mr_config *fc = NULL;
        char *fft = NULL;
        assert_int_equal(mr_recurrentvarnet_config_parse(mr_weights_config(r->ws), &cfg), MR_OK);
        assert_int_equal(mr_h5_read_attr_string(r->h, "/", "fft", &fft), MR_OK);
        assert_int_equal(mr_config_parse(fft, &fc), MR_OK);
        assert_int_equal(mr_config_bool(fc, "centered", true, &cfg.fft.centered), MR_OK);
        assert_int_equal(mr_recurrentvarnet_create(r->ws, "", &cfg, &rvn), MR_OK);
        assert_int_equal(mr_recurrentvarnet_prepare(rvn, r->ksp.dims[0], r->ksp.dims[1],
                                                    r->ksp.dims[2]), MR_OK);
        assert_int_equal(mr_array_init_like(&r->out, &r->ksp), MR_OK);
        assert_int_equal(mr_recurrentvarnet_run(rvn, &r->out, &r->ksp, &r->mask, &r->sens,
                                                in.initial_prediction, &probe), MR_OK);
        mr_recurrentvarnet_free(rvn);
        mr_config_free(fc);
        free(fft);
        return;
    }
    assert_int_equal(mr_net_prepare(r->net, r->ksp.dims[0], r->ksp.dims[1], r->ksp.dims[2]),
                     MR_OK);
    assert_int_equal(mr_net_output_init(r->net, &r->out), MR_OK);
    assert_int_equal(mr_net_run(r->net, &in, &r->out, &probe), MR_OK);
}

static void run_free(struct run *r)
{
    mr_array_cleanup(&r->out);
    mr_array_cleanup(&r->sigma);
    mr_array_cleanup(&r->init);
    mr_array_cleanup(&r->sens);
    mr_array_cleanup(&r->mask);
    mr_array_cleanup(&r->ksp);
    mr_h5_close(r->h);
    mr_net_free(r->net);
    mr_weights_free(r->ws);
}

static void expect_residual(const char *what, double got, double want)
{
    print_message("  %-40s %.6e (golden %.6e)\n", what, got, want);
    assert_true(fabs(got - want) <= RES_TOL * want + RES_ABS);
}

/* residual of the golden's k-space estimate /intermediate/<name> */
static double golden_kspace_residual(const struct run *r, const char *name)
{
    struct mr_array k = { 0 };
    assert_int_equal(mr_h5_read(r->h, name, &k), MR_OK);
    double res = mr_dc_residual(&k, &r->ksp, &r->mask);
    mr_array_cleanup(&k);
    return res;
}

static void check_kspace_case(const char *file, const char *fmt, int nsteps)
{
    struct run r;
    char name[96];

    run_case(&r, file);
    print_message("%s\n", file);
    assert_int_equal(r.vals.n, nsteps + 1);
    assert_true(r.vals.residual[0] >= 0.0);
    for (int i = 0; i < nsteps; i++) {
        snprintf(name, sizeof(name), fmt, i);
        expect_residual(name, r.vals.residual[i + 1], golden_kspace_residual(&r, name));
    }
    run_free(&r);
}

static void test_e2evn_cascades(void **state)
{
    (void)state;
    for (int c = 1; c <= 5; c++) {
        char file[64];
        snprintf(file, sizeof(file), "e2evn/case_%d.h5", c);
        struct run r;
        run_case(&r, file); /* the number of cascades from the golden's intermediates */
        int n = 0;
        char name[96];
        for (;; n++) {
            snprintf(name, sizeof(name), "/intermediate/cascade_%d_kspace", n);
            if (!mr_h5_exists(r.h, name))
                break;
        }
        run_free(&r);
        assert_true(n >= 1);
        check_kspace_case(file, "/intermediate/cascade_%d_kspace", n);
    }
}

static void test_recurrentvarnet_steps(void **state)
{
    static const char *const cases[] = {
        "recurrentvarnet/case_1_sense_multiscale.h5", "recurrentvarnet/case_2_noinit_shared.h5",
        "recurrentvarnet/case_3_zerofilled_init.h5",
        "recurrentvarnet/case_4_inputimage_shared_normalized_L1.h5",
    };
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct run r;
        run_case(&r, cases[c]);
        int n = 0;
        char name[96];
        for (;; n++) {
            snprintf(name, sizeof(name), "/intermediate/step_%d/kspace", n);
            if (!mr_h5_exists(r.h, name))
                break;
        }
        run_free(&r);
        check_kspace_case(cases[c], "/intermediate/step_%d/kspace", n);
    }
}

/* CIRIM (implicit DC): the residual of each time step's image prediction x, F(S x) with the
 * network's configured FFT */
static void test_cirim_time_steps(void **state)
{
    static const char *const cases[] = {
        "cirim/case_01_rim_gru_1casc.h5", "cirim/case_02_cirim_indrnn_3casc.h5",
        "cirim/case_03_cirim_indrnn_rss_backward.h5",
    };
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct run r;
        struct mr_cirim_config cfg = mr_cirim_config_default; /* what the reader updates */
        struct mr_fft2 *fft = NULL;
        struct mr_array coil = { 0 };
        char name[128];

        run_case(&r, cases[c]);
        print_message("%s\n", cases[c]);
        assert_int_equal(mr_cirim_config_read(mr_weights_config(r.ws), &cfg), MR_OK);
        assert_true(cfg.no_dc);
        assert_int_equal(mr_fft2_create(r.ksp.dims[1], r.ksp.dims[2], &cfg.fft, &fft), MR_OK);
        assert_int_equal(mr_array_init_like(&coil, &r.ksp), MR_OK);
        int k = 1; /* estimate index: after cascade i, time step t */
        for (int i = 0;; i++) {
            snprintf(name, sizeof(name), "/intermediate/cascade_%d/time_step_0/prediction", i);
            if (!mr_h5_exists(r.h, name))
                break;
            for (int t = 0;; t++, k++) {
                struct mr_array x = { 0 };
                snprintf(name, sizeof(name), "/intermediate/cascade_%d/time_step_%d/prediction",
                         i, t);
                if (!mr_h5_exists(r.h, name))
                    break;
                assert_int_equal(mr_h5_read(r.h, name, &x), MR_OK);
                mr_coil_expand(&coil, &x, &r.sens);
                mr_fft2_forward(fft, mr_array_cf32(&coil), mr_array_cf32(&coil), r.ksp.dims[0]);
                assert_true(k < r.vals.n);
                expect_residual(name, r.vals.residual[k],
                                mr_dc_residual(&coil, &r.ksp, &r.mask));
                mr_array_cleanup(&x);
            }
        }
        assert_int_equal(k, r.vals.n); /* every reported estimate checked */
        mr_array_cleanup(&coil);
        mr_fft2_free(fft);
        run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2evn_cascades),
        cmocka_unit_test(test_recurrentvarnet_steps),
        cmocka_unit_test(test_cirim_time_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
