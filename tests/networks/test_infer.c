/* mr_net_infer (networks/net.h): each framework's inference-time processing around the
 * reference forward, checked against the same processing written out here on the golden
 * cases (ATOMMIC's max-SENSE scaling, fastMRI as is, DIRECT's inference path, LPN's PnP
 * normalisation), and its argument and data errors. */
#include "mr_test.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/h5.h"
#include "networks/net.h"
#include "recon/fft.h"
#include "weights/weights.h"

struct slice {
    struct mr_weights *ws;
    struct mr_array ksp;
    struct mr_array mask;
    struct mr_array sens; /* empty when the case has none */
};

static void slice_load(struct slice *s, const char *rel)
{
    char path[1024];
    struct mr_h5 *h = NULL;

    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), "%s", mr_test_data(rel));
    assert_int_equal(mr_weights_load(path, &s->ws), MR_OK);
    assert_int_equal(mr_h5_open(path, &h), MR_OK);
    assert_int_equal(mr_h5_read(h, "/kspace", &s->ksp), MR_OK);
    assert_int_equal(mr_h5_read(h, "/mask", &s->mask), MR_OK);
    if (mr_h5_exists(h, "/sensitivity_map"))
        assert_int_equal(mr_h5_read(h, "/sensitivity_map", &s->sens), MR_OK);
    mr_h5_close(h);
}

static void slice_free(struct slice *s)
{
    mr_weights_free(s->ws);
    mr_array_cleanup(&s->ksp);
    mr_array_cleanup(&s->mask);
    mr_array_cleanup(&s->sens);
}

static struct mr_net *make_net(struct slice *s, bool inference, int iterations)
{
    const struct mr_net_options opt = { .inference = inference, .iterations = iterations };
    struct mr_net *net = NULL;

    assert_int_equal(mr_net_create_from_weights(s->ws, &opt, &net), MR_OK);
    assert_int_equal(mr_net_prepare(net, s->ksp.dims[0], s->ksp.dims[1], s->ksp.dims[2]), MR_OK);
    return net;
}

/* img = |reference forward of ksp / scale| · scale */
static void reference_image(struct slice *s, const struct mr_array *sens, double scale,
                            struct mr_array *img)
{
    struct mr_net *net = make_net(s, false, 0);
    struct mr_net_inputs in = mr_net_inputs_default;
    struct mr_array k = { 0 };
    struct mr_array out = { 0 };

    assert_int_equal(mr_array_init_copy(&k, &s->ksp), MR_OK);
    for (int64_t i = 0; i < mr_array_numel(&k); i++)
        mr_array_cf32(&k)[i] = (float complex)((double complex)mr_array_cf32(&k)[i] / scale);
    assert_int_equal(mr_net_output_init(net, &out), MR_OK);
    in.ksp = &k;
    in.mask = &s->mask;
    in.sens = sens;
    assert_int_equal(mr_net_run(net, &in, &out, NULL), MR_OK);
    mr_net_image(net, img, &out);
    for (int64_t i = 0; i < mr_array_numel(img); i++)
        mr_array_f32(img)[i] = (float)((double)mr_array_f32(img)[i] * scale);
    mr_array_cleanup(&k);
    mr_array_cleanup(&out);
    mr_net_free(net);
}

/* ATOMMIC's s = max |Σ conj(S) IFFT(y) / Σ|S|²| with the centred orthonormal FFT, in double */
static double sense_max(const struct slice *s)
{
    const int64_t nc = s->ksp.dims[0];
    const int64_t h = s->ksp.dims[1];
    const int64_t w = s->ksp.dims[2];
    struct mr_fft2 *f = NULL;
    struct mr_array coil = { 0 };
    double mx = 0.0;

    assert_int_equal(mr_fft2_create(h, w, &mr_fft_config_default, &f), MR_OK);
    assert_int_equal(mr_array_init_copy(&coil, &s->ksp), MR_OK);
    mr_fft2_inverse(f, mr_array_cf32(&coil), mr_array_cf32(&coil), nc);
    const float complex *x = mr_array_cf32(&coil);
    const float complex *m = mr_array_cf32(&s->sens);
    for (int64_t p = 0; p < h * w; p++) {
        double complex num = 0.0;
        double den = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            num += conj((double complex)m[c * h * w + p]) * (double complex)x[c * h * w + p];
            den += cabs((double complex)m[c * h * w + p]) * cabs((double complex)m[c * h * w + p]);
        }
        if (den > 0.0 && cabs(num / den) > mx)
            mx = cabs(num / den);
    }
    mr_array_cleanup(&coil);
    mr_fft2_free(f);
    return mx;
}

/* mr_net_infer = the reference on k/s times s, s the max-SENSE factor; tol relative */
static void check_atommic(const char *rel, double tol)
{
    struct slice s;
    struct mr_array got = { 0 };
    struct mr_array want = { 0 };

    slice_load(&s, rel);
    struct mr_net *net = make_net(&s, true, 0);
    assert_int_equal(mr_array_init_dims(&got, MR_DTYPE_F32, 2, s.ksp.dims[1], s.ksp.dims[2]),
                     MR_OK);
    assert_int_equal(mr_array_init_like(&want, &got), MR_OK);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &got), MR_OK);
    reference_image(&s, &s.sens, sense_max(&s), &want);
    assert_max_rel_below(&got, &want, tol);
    /* the scaling matters: without it the image differs */
    reference_image(&s, &s.sens, 1.0, &want);
    assert_true(mr_test_max_rel_err(&got, &want) > 1e-3);
    mr_net_free(net);
    mr_array_cleanup(&got);
    mr_array_cleanup(&want);
    slice_free(&s);
}

static void test_atommic_e2evn(void **state)
{
    (void)state;
    check_atommic("e2evn/case_5.h5", 1e-5); /* normalize false: not scale-invariant */
}

static void test_atommic_cirim(void **state)
{
    (void)state;
    check_atommic("cirim/case_01_rim_gru_1casc.h5", 1e-5);
}

/* fastMRI's VarNet: the k-space as it is (its sensitivity U-Net makes the maps) */
static void test_fastmri_e2evn_as_is(void **state)
{
    struct slice s;
    struct mr_array got = { 0 };
    struct mr_array want = { 0 };
    (void)state;

    slice_load(&s, "e2evn/case_1.h5");
    struct mr_net *net = make_net(&s, true, 0);
    assert_int_equal(mr_array_init_dims(&got, MR_DTYPE_F32, 2, s.ksp.dims[1], s.ksp.dims[2]),
                     MR_OK);
    assert_int_equal(mr_array_init_like(&want, &got), MR_OK);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, NULL, &got), MR_OK);
    reference_image(&s, NULL, 1.0, &want);
    assert_max_rel_below(&got, &want, 1e-7);
    mr_net_free(net);
    mr_array_cleanup(&got);
    mr_array_cleanup(&want);
    slice_free(&s);
}

/* RecurrentVarNet: DIRECT's inference path, whatever maps are given */
static void test_direct_rvn_ignores_maps(void **state)
{
    struct slice s;
    struct mr_array got = { 0 };
    struct mr_array with_maps = { 0 };
    struct mr_array want = { 0 };
    struct mr_array maps = { 0 };
    (void)state;

    slice_load(&s, "recurrentvarnet/case_engine_1_calgary_style.h5");
    struct mr_net *net = make_net(&s, true, 0);
    assert_int_equal(mr_array_init_dims(&got, MR_DTYPE_F32, 2, s.ksp.dims[1], s.ksp.dims[2]),
                     MR_OK);
    assert_int_equal(mr_array_init_like(&with_maps, &got), MR_OK);
    assert_int_equal(mr_array_init_like(&want, &got), MR_OK);
    assert_int_equal(mr_array_init_like(&maps, &s.ksp), MR_OK);
    mr_test_rand(&maps, 7);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, NULL, &got), MR_OK);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &maps, &with_maps), MR_OK);
    const size_t bytes = sizeof(float) * (size_t)mr_array_numel(&got);
    assert_memory_equal(with_maps.data, got.data, bytes);
    reference_image(&s, NULL, 1.0, &want); /* the row without maps: the engine path */
    assert_memory_equal(want.data, got.data, bytes);
    mr_net_free(net);
    mr_array_cleanup(&got);
    mr_array_cleanup(&with_maps);
    mr_array_cleanup(&want);
    mr_array_cleanup(&maps);
    slice_free(&s);
}

/* LPN: PnP normalised by max|Aᴴy| (so scaling the data scales the image), iterations set */
static void test_lpn_normalised_pnp(void **state)
{
    struct slice s;
    struct mr_array a = { 0 };
    struct mr_array b = { 0 };
    (void)state;

    slice_load(&s, "lpn/case_4.h5");
    struct mr_net *net = make_net(&s, true, 2);
    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 2, s.ksp.dims[1], s.ksp.dims[2]),
                     MR_OK);
    assert_int_equal(mr_array_init_like(&b, &a), MR_OK);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &a), MR_OK);
    for (int64_t i = 0; i < mr_array_numel(&s.ksp); i++)
        mr_array_cf32(&s.ksp)[i] *= 1024.0f;
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &b), MR_OK);
    for (int64_t i = 0; i < mr_array_numel(&a); i++)
        mr_array_f32(&a)[i] *= 1024.0f;
    assert_max_rel_below(&b, &a, 1e-5);
    mr_net_free(net);
    /* one iteration gives another image */
    net = make_net(&s, true, 1);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &b), MR_OK);
    assert_true(mr_test_max_rel_err(&b, &a) > 1e-3);
    mr_net_free(net);
    mr_array_cleanup(&a);
    mr_array_cleanup(&b);
    slice_free(&s);
}

static void test_infer_errors(void **state)
{
    struct slice s;
    struct mr_array img = { 0 };
    struct mr_array small = { 0 };
    struct mr_net *net = NULL;
    const struct mr_net_options bad = { .inference = true, .iterations = -1 };
    (void)state;

    slice_load(&s, "cirim/case_01_rim_gru_1casc.h5");
    assert_int_equal(mr_array_init_dims(&img, MR_DTYPE_F32, 2, s.ksp.dims[1], s.ksp.dims[2]),
                     MR_OK);
    assert_int_equal(mr_array_init_dims(&small, MR_DTYPE_F32, 2, s.ksp.dims[1], (int64_t)3),
                     MR_OK);
    assert_int_equal(mr_net_create_from_weights(s.ws, &bad, &net), MR_ERR_ARG);
    /* a net for the reference forward does not infer */
    net = make_net(&s, false, 0);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &img), MR_ERR_ARG);
    mr_net_free(net);
    net = make_net(&s, true, 0);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, NULL, &img), MR_ERR_ARG); /* maps */
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &small), MR_ERR_SHAPE);
    assert_int_equal(mr_net_infer(net, &s.ksp, &img, &s.sens, &img), MR_OK); /* any F32 mask */
    mr_array_cf32(&s.ksp)[5] = NAN;
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &img), MR_ERR_DATA);
    mr_array_zero(&s.ksp);
    assert_int_equal(mr_net_infer(net, &s.ksp, &s.mask, &s.sens, &img), MR_ERR_DATA);
    mr_net_free(net);
    mr_array_cleanup(&img);
    mr_array_cleanup(&small);
    slice_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atommic_e2evn),
        cmocka_unit_test(test_atommic_cirim),
        cmocka_unit_test(test_fastmri_e2evn_as_is),
        cmocka_unit_test(test_direct_rvn_ignores_maps),
        cmocka_unit_test(test_lpn_normalised_pnp),
        cmocka_unit_test(test_infer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
