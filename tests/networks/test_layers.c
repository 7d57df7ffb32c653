/* Layer kernels against naive double-precision references written from the PyTorch
 * definitions: odd sizes, asymmetric kernels and padding, stride, dilation, every padding
 * mode, with and without bias, banded im2col, the conv input-gradient, transposed conv,
 * norms, pooling, padding, activations and complex packing. */
#include "mr_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "networks/conv_adjoint.h"
#include "networks/conv_dnnl.h"
#include "networks/layers.h"
#include "networks/vmath.h"

#define assert_near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (double)(tol))

/* torch F.pad index rules, written independently of mr_pad_index (pad < n for reflect) */
static int64_t ref_index(enum mr_pad_mode mode, int64_t i, int64_t n)
{
    if (i >= 0 && i < n)
        return i;
    if (mode == MR_PAD_MODE_ZERO)
        return -1;
    if (mode == MR_PAD_MODE_REPLICATE)
        return i < 0 ? 0 : n - 1;
    return i < 0 ? -i : 2 * (n - 1) - i;
}

static void fill(float *p, int64_t n, uint64_t seed)
{
    struct mr_test_rng r;
    mr_test_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)mr_test_rng_normal(&r);
}

/* c prepared for oneDNN (MR_CONV2D_ALGO_DNNL) at h×w in *cd (its weights in store) and a
 * scratch for it; false when this build or c's padding has no oneDNN path */
static bool prepare_dnnl(const struct mr_conv2d *c, struct mr_conv2d *cd, struct mr_array *store,
                         struct mr_array *scratch, int64_t h, int64_t w, bool grad)
{
    *cd = *c;
    cd->algo = MR_CONV2D_ALGO_DNNL;
    cd->wino = NULL;
    assert_int_equal(mr_conv2d_prepare_for(cd, store, h, w, grad), MR_OK);
    /* every ZERO-padded conv here has a oneDNN implementation */
    const float *wts = grad ? cd->dnnl_gw : cd->dnnl_w;
    assert_int_equal(wts != NULL, grad ? mr_conv_dnnl_grad_supported(c)
                                       : mr_conv_dnnl_supported(c));
    if (wts == NULL)
        return false;
    const int64_t n = grad ? mr_conv2d_input_grad_scratch_size(cd, h, w)
                           : mr_conv2d_scratch_size(cd, h, w);
    assert_int_equal(mr_array_init_dims(scratch, MR_DTYPE_F32, 1, n > 0 ? n : 1), MR_OK);
    return true;
}

static void check_conv(struct mr_conv2d c, int64_t h, int64_t w, bool bias, uint64_t seed)
{
    const int64_t nw = c.cout * c.cin * c.kh * c.kw;
    float *wt = malloc(sizeof(float) * (size_t)nw);
    float *b = malloc(sizeof(float) * (size_t)c.cout);
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array scratch = { 0 };
    struct mr_array wino = { 0 };

    fill(wt, nw, seed);
    fill(b, c.cout, seed + 1);
    c.w = wt;
    c.b = bias ? b : NULL;
    /* the Winograd path too, wherever the CPU and shape (3x3, stride 1) allow it */
    assert_int_equal(mr_conv2d_prepare_winograd(&c, &wino, true), MR_OK);
    const int64_t ho = mr_conv2d_out_h(&c, h);
    const int64_t wo = mr_conv2d_out_w(&c, w);
    /* torch: floor((n + p0 + p1 − d(k−1) − 1)/s) + 1 */
    assert_int_equal(ho, (h + c.pad[0] + c.pad[1] - c.dilation[0] * (c.kh - 1) - 1) /
                             c.stride[0] + 1);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, c.cin, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, c.cout, ho, wo), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_F32, 3, c.cout, ho, wo), MR_OK);
    int64_t ns = mr_conv2d_scratch_size(&c, h, w);
    if (ns > 0)
        assert_int_equal(mr_array_init_dims(&scratch, MR_DTYPE_F32, 1, ns), MR_OK);
    mr_test_rand(&x, seed + 2);
    const float *xd = mr_array_f32(&x);

    for (int64_t o = 0; o < c.cout; o++)
        for (int64_t r = 0; r < ho; r++)
            for (int64_t s = 0; s < wo; s++) {
                double acc = bias ? (double)b[o] : 0.0;
                for (int64_t i = 0; i < c.cin; i++)
                    for (int64_t a = 0; a < c.kh; a++)
                        for (int64_t q = 0; q < c.kw; q++) {
                            int64_t yy = ref_index(c.pad_mode, r * c.stride[0] +
                                                   a * c.dilation[0] - c.pad[0], h);
                            int64_t xx = ref_index(c.pad_mode, s * c.stride[1] +
                                                   q * c.dilation[1] - c.pad[2], w);
                            if (yy < 0 || xx < 0)
                                continue;
                            acc += (double)wt[((o * c.cin + i) * c.kh + a) * c.kw + q] *
                                   (double)xd[(i * h + yy) * w + xx];
                        }
                mr_array_f32(&ref)[(o * ho + r) * wo + s] = (float)acc;
            }
    /* every implementation: im2col + SGEMM, the direct kernel and Winograd where the CPU and
     * shape allow them (AUTO then takes Winograd or the direct kernel) */
    for (int algo = 0; algo < 4; algo++) {
        c.algo = (enum mr_conv2d_algo)algo;
        mr_array_zero(&y);
        mr_conv2d_forward(&c, &y, &x, ns > 0 ? &scratch : NULL);
        /* Winograd's transforms (points 0, ±1, ±2, ∞) round differently from a direct sum:
         * a few 1e-6 of the maximum for O(1) data, against ~1e-7 for the direct sums */
        if (c.wino != NULL && (algo == MR_CONV2D_ALGO_AUTO || algo == MR_CONV2D_ALGO_WINOGRAD))
            assert_max_rel_below(&y, &ref, 1e-5);
        else
            assert_max_rel_below(&y, &ref, 2e-6);
    }
    /* oneDNN's convolution, where it applies (ZERO padding) */
    struct mr_conv2d cd;
    struct mr_array dstore = { 0 };
    struct mr_array dscratch = { 0 };
    if (prepare_dnnl(&c, &cd, &dstore, &dscratch, h, w, false)) {
        mr_array_zero(&y);
        mr_conv2d_forward(&cd, &y, &x, &dscratch);
        assert_max_rel_below(&y, &ref, 2e-6);
    }
    mr_array_cleanup(&dstore);
    mr_array_cleanup(&dscratch);

    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&scratch);
    mr_array_cleanup(&wino);
    free(wt);
    free(b);
}

static void test_layers_conv_zero_pad_asymmetric_kernel(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(3, 5, 3, 1);
    c.kw = 5;
    c.pad[2] = c.pad[3] = 2;
    check_conv(c, 11, 13, true, 1);
    check_conv(c, 11, 13, false, 2);
}

static void test_layers_conv_stride_dilation_asymmetric_pad(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(4, 3, 3, 0);
    c.kw = 2;
    c.stride[0] = 2;
    c.stride[1] = 3;
    c.dilation[0] = 2;
    c.pad[0] = 2;
    c.pad[1] = 0;
    c.pad[2] = 1;
    c.pad[3] = 3;
    check_conv(c, 15, 17, false, 3);
    check_conv(c, 16, 14, true, 4);
}

/* CIRIM / RecurrentVarNet: replication padding d·(k−1)/2 fused into the conv */
static void test_layers_conv_replicate(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(4, 6, 3, 2);
    c.dilation[0] = c.dilation[1] = 2;
    c.pad_mode = MR_PAD_MODE_REPLICATE;
    check_conv(c, 9, 7, true, 5);
    c = mr_conv2d_make(2, 3, 5, 2);
    c.pad_mode = MR_PAD_MODE_REPLICATE;
    check_conv(c, 5, 19, true, 6);
    /* padding wider than the image is fine for replicate */
    c = mr_conv2d_make(1, 2, 7, 5);
    c.pad_mode = MR_PAD_MODE_REPLICATE;
    check_conv(c, 3, 4, false, 7);
}

static void test_layers_conv_reflect(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(3, 4, 5, 2);
    c.pad_mode = MR_PAD_MODE_REFLECT;
    check_conv(c, 7, 9, true, 8);
    c = mr_conv2d_make(2, 2, 3, 1);
    c.pad_mode = MR_PAD_MODE_REFLECT;
    c.stride[1] = 2;
    check_conv(c, 6, 11, false, 9);
}

static void test_layers_conv_pointwise_and_lpn_shapes(void **state)
{
    (void)state;
    check_conv(mr_conv2d_make(7, 2, 1, 0), 9, 11, true, 10);
    /* 1x1 with stride is not pointwise */
    struct mr_conv2d c = mr_conv2d_make(3, 2, 1, 0);
    c.stride[0] = c.stride[1] = 2;
    check_conv(c, 9, 11, true, 11);
    /* LPN: 3x3 stride 2 pad 1 on odd sizes; a 16x16 kernel collapsing 16x16 to 1x1 */
    c = mr_conv2d_make(2, 4, 3, 1);
    c.stride[0] = c.stride[1] = 2;
    check_conv(c, 17, 15, true, 12);
    check_conv(mr_conv2d_make(3, 5, 16, 0), 16, 16, false, 13);
}

/* the direct kernel's blocks: output widths around its 32-column strips, channel counts around
 * its 12-channel blocks, dilation and padding in both axes, a wide kernel */
static void test_layers_conv_direct_blocking(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(3, 13, 3, 1);
    check_conv(c, 5, 33, true, 15);
    check_conv(c, 4, 32, false, 16);
    check_conv(c, 3, 70, true, 17);
    c = mr_conv2d_make(2, 25, 3, 2);
    c.dilation[0] = 2;
    c.dilation[1] = 3;
    c.pad[2] = 3;
    c.pad[3] = 1;
    check_conv(c, 9, 41, true, 18);
    c = mr_conv2d_make(2, 12, 7, 3);
    c.kh = 2;
    c.pad[0] = 0;
    c.pad[1] = 1;
    check_conv(c, 6, 37, false, 19);
    check_conv(mr_conv2d_make(1, 24, 1, 0), 7, 65, true, 20);
    /* wider than the image on both sides */
    check_conv(mr_conv2d_make(2, 3, 5, 4), 3, 2, true, 21);
    if (!mr_conv2d_uses_direct(&c))
        print_message("direct convolution kernel not available on this CPU: im2col only\n");
}

/* Winograd F(4x4, 3x3): several 48-tile jobs, images not a multiple of the 4x4 tile, channel
 * counts off the 16-lane groups and the 32-channel GEMM block, dilations 1-3 (polyphase
 * components of unequal size), every padding mode, 1-row and 1-column images */
static void test_layers_conv_winograd_blocking(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(20, 40, 3, 1);
    check_conv(c, 37, 45, true, 30);
    c = mr_conv2d_make(64, 64, 3, 2);
    c.dilation[0] = c.dilation[1] = 2;
    c.pad_mode = MR_PAD_MODE_REPLICATE;
    check_conv(c, 29, 23, true, 31);
    c = mr_conv2d_make(17, 33, 3, 0);
    c.dilation[0] = 3;
    c.dilation[1] = 2;
    c.pad[0] = c.pad[1] = 3;
    c.pad[2] = c.pad[3] = 2;
    c.pad_mode = MR_PAD_MODE_REFLECT;
    check_conv(c, 19, 14, false, 32);
    c = mr_conv2d_make(16, 16, 3, 1);
    c.pad_mode = MR_PAD_MODE_REPLICATE;
    check_conv(c, 1, 9, true, 33);
    check_conv(c, 6, 1, true, 34);
    /* no padding: the output is smaller than the input */
    check_conv(mr_conv2d_make(16, 8, 3, 0), 11, 10, true, 35);
    struct mr_array store = { 0 };
    c = mr_conv2d_make(16, 16, 3, 1);
    float wt[16 * 16 * 9];
    fill(wt, 16 * 16 * 9, 36);
    c.w = wt;
    assert_int_equal(mr_conv2d_prepare_winograd(&c, &store, false), MR_OK);
    if (c.wino == NULL)
        print_message("Winograd kernel not available on this CPU: skipped\n");
    mr_array_cleanup(&store);
}

/* an image large enough for several im2col bands */
static void test_layers_conv_bands(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(16, 3, 3, 1);
    assert_true(16 * 9 * 150 * 101 > MR_CONV2D_BAND_FLOATS);
    assert_true(mr_conv2d_scratch_size(&c, 150, 101) <= MR_CONV2D_BAND_FLOATS);
    check_conv(c, 150, 101, true, 14);
}

/* the input-gradient (mr_conv2d_input_grad) against the transpose written out in double:
 * gin[i, m, n] = Σ w[o, i, a, b] · g[o, r, s] over r·sh + a − pt = m, s·sw + b − pl = n */
static void check_input_grad(struct mr_conv2d c, int64_t h, int64_t w, uint64_t seed)
{
    const int64_t nw = c.cout * c.cin * c.kh * c.kw;
    float *wt = malloc(sizeof(float) * (size_t)nw);
    struct mr_array g = { 0 };
    struct mr_array gin = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array scratch = { 0 };

    fill(wt, nw, seed);
    c.w = wt;
    const int64_t ho = mr_conv2d_out_h(&c, h);
    const int64_t wo = mr_conv2d_out_w(&c, w);
    assert_int_equal(mr_array_init_dims(&g, MR_DTYPE_F32, 3, c.cout, ho, wo), MR_OK);
    assert_int_equal(mr_array_init_dims(&gin, MR_DTYPE_F32, 3, c.cin, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_F32, 3, c.cin, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&scratch, MR_DTYPE_F32, 1,
                                        mr_conv2d_input_grad_scratch_size(&c, h, w)), MR_OK);
    mr_test_rand(&g, seed + 1);
    const float *gd = mr_array_f32(&g);
    for (int64_t i = 0; i < c.cin; i++)
        for (int64_t m = 0; m < h; m++)
            for (int64_t n = 0; n < w; n++) {
                double acc = 0.0;
                for (int64_t o = 0; o < c.cout; o++)
                    for (int64_t a = 0; a < c.kh; a++)
                        for (int64_t b = 0; b < c.kw; b++) {
                            const int64_t rr = m + c.pad[0] - a;
                            const int64_t ss = n + c.pad[2] - b;
                            if (rr < 0 || ss < 0 || rr % c.stride[0] != 0 ||
                                ss % c.stride[1] != 0 || rr / c.stride[0] >= ho ||
                                ss / c.stride[1] >= wo)
                                continue;
                            acc += (double)wt[((o * c.cin + i) * c.kh + a) * c.kw + b] *
                                   (double)gd[(o * ho + rr / c.stride[0]) * wo +
                                              ss / c.stride[1]];
                        }
                mr_array_f32(&ref)[(i * h + m) * w + n] = (float)acc;
            }
    mr_test_rand(&gin, seed + 2); /* overwritten */
    mr_conv2d_input_grad(&c, &gin, &g, &scratch, false);
    assert_max_rel_below(&gin, &ref, 2e-6);
    /* accumulate adds to what is there */
    mr_conv2d_input_grad(&c, &gin, &g, &scratch, true);
    for (int64_t i = 0; i < mr_array_numel(&ref); i++)
        mr_array_f32(&ref)[i] *= 2.0f;
    assert_max_rel_below(&gin, &ref, 4e-6);
    /* oneDNN's backward-data convolution, overwriting and accumulating */
    struct mr_conv2d cd;
    struct mr_array dstore = { 0 };
    struct mr_array dscratch = { 0 };
    if (prepare_dnnl(&c, &cd, &dstore, &dscratch, h, w, true)) {
        for (int64_t i = 0; i < mr_array_numel(&ref); i++)
            mr_array_f32(&ref)[i] *= 0.5f;
        mr_test_rand(&gin, seed + 3);
        mr_conv2d_input_grad(&cd, &gin, &g, &dscratch, false);
        assert_max_rel_below(&gin, &ref, 2e-6);
        mr_conv2d_input_grad(&cd, &gin, &g, &dscratch, true);
        for (int64_t i = 0; i < mr_array_numel(&ref); i++)
            mr_array_f32(&ref)[i] *= 2.0f;
        assert_max_rel_below(&gin, &ref, 4e-6);
    }
    mr_array_cleanup(&dstore);
    mr_array_cleanup(&dscratch);

    /* the adjoint twin (networks/conv_adjoint.h) computes the same as a forward conv, on the
     * path the settings force (direct / Winograd / im2col in the test variants) */
    assert_int_equal(mr_conv2d_adjoint_supported(&c),
                     c.stride[0] == 1 && c.stride[1] == 1 && c.pad[0] < c.kh &&
                         c.pad[1] < c.kh && c.pad[2] < c.kw && c.pad[3] < c.kw);
    if (mr_conv2d_adjoint_supported(&c)) {
        struct mr_conv2d twin;
        struct mr_array tw = { 0 };
        struct mr_array wino = { 0 };
        struct mr_array s2 = { 0 };
        assert_int_equal(mr_conv2d_adjoint_make(&c, &twin, &tw), MR_OK);
        assert_int_equal(mr_conv2d_prepare_winograd_for(&twin, &wino, ho, wo), MR_OK);
        assert_int_equal(mr_array_init_dims(&s2, MR_DTYPE_F32, 1,
                                            mr_conv2d_scratch_size(&twin, ho, wo) + 1),
                         MR_OK);
        mr_conv2d_forward(&twin, &gin, &g, &s2);
        for (int64_t i = 0; i < mr_array_numel(&ref); i++)
            mr_array_f32(&ref)[i] *= 0.5f;
        /* Winograd's rounding as in check_conv */
        assert_max_rel_below(&gin, &ref, twin.wino != NULL ? 1e-5 : 2e-6);
        mr_array_cleanup(&tw);
        mr_array_cleanup(&wino);
        mr_array_cleanup(&s2);
    }

    mr_array_cleanup(&g);
    mr_array_cleanup(&gin);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&scratch);
    free(wt);
}

static void test_layers_conv_input_grad(void **state)
{
    (void)state;
    struct mr_conv2d c = mr_conv2d_make(3, 5, 3, 1); /* LPN's 3×3, stride 1 and 2 */
    check_input_grad(c, 11, 13, 1);
    c.stride[0] = c.stride[1] = 2;
    check_input_grad(c, 16, 16, 2);
    c = mr_conv2d_make(2, 4, 3, 0); /* asymmetric kernel, strides and padding */
    c.kw = 2;
    c.stride[0] = 2;
    c.stride[1] = 3;
    c.pad[0] = 2;
    c.pad[2] = 1;
    c.pad[3] = 3;
    check_input_grad(c, 15, 17, 3);
    c = mr_conv2d_make(2, 6, 16, 0); /* LPN's 16×16 head conv to 1×1 */
    check_input_grad(c, 16, 16, 4);
    c = mr_conv2d_make(40, 32, 3, 1); /* wide enough for Winograd (twin 32 -> 40) */
    check_input_grad(c, 34, 29, 5);
    c = mr_conv2d_make(3, 4, 3, 0); /* asymmetric zero padding, stride 1 */
    c.pad[0] = 2;
    c.pad[3] = 1;
    check_input_grad(c, 9, 12, 6);
    check_input_grad(mr_conv2d_make(7, 5, 1, 0), 9, 11, 7); /* 1×1 */
}

static void test_layers_tconv2x2(void **state)
{
    (void)state;
    const int64_t cin = 5;
    const int64_t cout = 3;
    const int64_t h = 7;
    const int64_t w = 4;
    float wt[5 * 3 * 4];
    float wtc[5 * 3 * 4];
    float b[3];
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    struct mr_array ref = { 0 };
    struct mr_array scratch = { 0 };

    fill(wt, cin * cout * 4, 20);
    fill(b, cout, 21);
    mr_tconv2x2_weights(wt, cin, cout, wtc);
    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, cin, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, cout, 2 * h, 2 * w), MR_OK);
    assert_int_equal(mr_array_init_dims(&ref, MR_DTYPE_F32, 3, cout, 2 * h, 2 * w), MR_OK);
    assert_int_equal(mr_array_init_dims(&scratch, MR_DTYPE_F32, 1,
                                        mr_tconv2x2_scratch_size(cin, cout, h, w)), MR_OK);
    mr_test_rand(&x, 22);
    for (int bias = 0; bias < 2; bias++) {
        /* torch ConvTranspose2d(k=2, s=2): y[o, 2r+a, 2s+b] = Σ_i w[i, o, a, b] x[i, r, s] */
        for (int64_t o = 0; o < cout; o++)
            for (int64_t r = 0; r < 2 * h; r++)
                for (int64_t s = 0; s < 2 * w; s++) {
                    double acc = bias ? (double)b[o] : 0.0;
                    for (int64_t i = 0; i < cin; i++)
                        acc += (double)wt[((i * cout + o) * 2 + r % 2) * 2 + s % 2] *
                               (double)mr_array_f32(&x)[(i * h + r / 2) * w + s / 2];
                    mr_array_f32(&ref)[(o * 2 * h + r) * 2 * w + s] = (float)acc;
                }
        mr_tconv2x2_forward(wtc, bias ? b : NULL, &y, &x, &scratch);
        assert_max_rel_below(&y, &ref, 2e-6);
    }
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&ref);
    mr_array_cleanup(&scratch);
}

static void test_layers_instance_norm(void **state)
{
    (void)state;
    struct mr_array x = { 0 };
    struct mr_array ref = { 0 };
    const int64_t h = 5;
    const int64_t w = 7;

    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, (int64_t)3, h, w), MR_OK);
    mr_test_rand(&x, 30);
    for (int64_t i = 0; i < h * w; i++)
        mr_array_f32(&x)[h * w + i] = 3.0f + 0.001f * mr_array_f32(&x)[h * w + i];
    assert_int_equal(mr_array_init_copy(&ref, &x), MR_OK);
    for (int64_t ch = 0; ch < 3; ch++) {
        float *p = mr_array_f32(&ref) + ch * h * w;
        double m = 0.0;
        double v = 0.0;
        for (int64_t i = 0; i < h * w; i++)
            m += (double)p[i];
        m /= (double)(h * w);
        for (int64_t i = 0; i < h * w; i++)
            v += ((double)p[i] - m) * ((double)p[i] - m);
        v /= (double)(h * w); /* biased */
        for (int64_t i = 0; i < h * w; i++)
            p[i] = (float)(((double)p[i] - m) / sqrt(v + 1e-5));
    }
    struct mr_array fused = { 0 };
    assert_int_equal(mr_array_init_copy(&fused, &x), MR_OK);
    mr_instance_norm(&x, 1e-5f);
    assert_max_rel_below(&x, &ref, 1e-5);
    /* fused with LeakyReLU(0.2) == norm, then the activation */
    mr_instance_norm_leaky_relu(&fused, 1e-5f, 0.2f);
    mr_leaky_relu(&ref, 0.2f);
    assert_max_rel_below(&fused, &ref, 1e-5);
    mr_array_cleanup(&fused);
    mr_array_cleanup(&x);
    mr_array_cleanup(&ref);
}

static void test_layers_avgpool_floor(void **state)
{
    (void)state;
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };

    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)7,
                                        (int64_t)9), MR_OK);
    mr_test_rand(&x, 40);
    for (int64_t k = 2; k <= 4; k += 2) {
        const int64_t ho = 7 / k;
        const int64_t wo = 9 / k;
        assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, (int64_t)2, ho, wo), MR_OK);
        mr_avgpool2d(&y, &x, k);
        for (int64_t c = 0; c < 2; c++)
            for (int64_t r = 0; r < ho; r++)
                for (int64_t s = 0; s < wo; s++) {
                    double acc = 0.0;
                    for (int64_t a = 0; a < k; a++)
                        for (int64_t b = 0; b < k; b++)
                            acc += (double)mr_array_f32(&x)[(c * 7 + r * k + a) * 9 + s * k + b];
                    assert_near(mr_array_f32(&y)[(c * ho + r) * wo + s],
                                       acc / (double)(k * k), 1e-6);
                }
        mr_array_cleanup(&y);
    }
    mr_array_cleanup(&x);
}

static void test_layers_pad_modes(void **state)
{
    (void)state;
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    const int64_t h = 4;
    const int64_t w = 5;
    const int64_t t = 2;
    const int64_t bo = 1;
    const int64_t l = 3;
    const int64_t r = 2;

    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 3, (int64_t)2, h, w), MR_OK);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, (int64_t)2, h + t + bo,
                                        w + l + r), MR_OK);
    mr_test_rand(&x, 50);
    for (int mode = 0; mode < 3; mode++) {
        mr_pad2d(&y, &x, (enum mr_pad_mode)mode, t, bo, l, r);
        for (int64_t c = 0; c < 2; c++)
            for (int64_t i = 0; i < h + t + bo; i++)
                for (int64_t j = 0; j < w + l + r; j++) {
                    int64_t si = ref_index((enum mr_pad_mode)mode, i - t, h);
                    int64_t sj = ref_index((enum mr_pad_mode)mode, j - l, w);
                    float want = si < 0 || sj < 0 ? 0.0f
                                                  : mr_array_f32(&x)[(c * h + si) * w + sj];
                    assert_near(mr_array_f32(&y)[(c * (h + t + bo) + i) * (w + l + r) + j],
                                       want, 0.0);
                }
    }
    /* the U-Net's reflect pad by one on the right/bottom copies index n−2; corner x[h−2, w−2] */
    mr_array_cleanup(&y);
    assert_int_equal(mr_array_init_dims(&y, MR_DTYPE_F32, 3, (int64_t)2, h + 1, w + 1), MR_OK);
    mr_pad2d(&y, &x, MR_PAD_MODE_REFLECT, 0, 1, 0, 1);
    const float *xd = mr_array_f32(&x);
    const float *yd = mr_array_f32(&y);
    assert_near(yd[h * (w + 1) + w], xd[(h - 2) * w + w - 2], 0.0);
    assert_near(yd[0 * (w + 1) + w], xd[w - 2], 0.0);
    assert_near(yd[h * (w + 1) + 0], xd[(h - 2) * w], 0.0);
    for (int64_t i = -6; i < 12; i++) {
        assert_int_equal(mr_pad_index(MR_PAD_MODE_REPLICATE, i, 5), i < 0 ? 0 : (i > 4 ? 4 : i));
        if (i >= -4 && i < 9)
            assert_int_equal(mr_pad_index(MR_PAD_MODE_REFLECT, i, 5),
                             ref_index(MR_PAD_MODE_REFLECT, i, 5));
    }
    assert_int_equal(mr_pad_index(MR_PAD_MODE_ZERO, 5, 5), -1);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
}

static void test_layers_crop_concat_view(void **state)
{
    (void)state;
    struct mr_array a = { 0 };
    struct mr_array b = { 0 };
    struct mr_array cat = { 0 };
    struct mr_array crop = { 0 };
    struct mr_array v;

    assert_int_equal(mr_array_init_dims(&a, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)5,
                                        (int64_t)6), MR_OK);
    assert_int_equal(mr_array_init_dims(&b, MR_DTYPE_F32, 3, (int64_t)3, (int64_t)5,
                                        (int64_t)6), MR_OK);
    assert_int_equal(mr_array_init_dims(&cat, MR_DTYPE_F32, 3, (int64_t)5, (int64_t)5,
                                        (int64_t)6), MR_OK);
    mr_test_rand(&a, 60);
    mr_test_rand(&b, 61);
    mr_concat_channels(&cat, &a, &b);
    mr_channels_view(&v, &cat, 0, 2);
    assert_memory_equal(v.data, a.data, mr_array_nbytes(&a));
    mr_channels_view(&v, &cat, 2, 3);
    assert_int_equal(v.dims[0], 3);
    assert_memory_equal(v.data, b.data, mr_array_nbytes(&b));

    assert_int_equal(mr_array_init_dims(&crop, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)2,
                                        (int64_t)3), MR_OK);
    mr_crop2d(&crop, &a, 2, 1);
    for (int64_t c = 0; c < 2; c++)
        for (int64_t i = 0; i < 2; i++)
            for (int64_t j = 0; j < 3; j++)
                assert_near(mr_array_f32(&crop)[(c * 2 + i) * 3 + j],
                                   mr_array_f32(&a)[(c * 5 + 2 + i) * 6 + 1 + j], 0.0);
    mr_array_cleanup(&a);
    mr_array_cleanup(&b);
    mr_array_cleanup(&cat);
    mr_array_cleanup(&crop);
}

static void test_layers_activations(void **state)
{
    (void)state;
    struct mr_array x = { 0 };
    struct mr_array y = { 0 };
    const int64_t n = 257;

    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 1, n), MR_OK);
    mr_test_rand(&x, 70);
    float *xd = mr_array_f32(&x);
    xd[0] = 0.3f; /* softplus beta 100: 30 > threshold 20 takes the linear branch */
    xd[1] = -0.0f;
    for (int k = 0; k < 5; k++) {
        assert_int_equal(mr_array_init_copy(&y, &x), MR_OK);
        float *yd = mr_array_f32(&y);
        switch (k) {
        case 0: mr_leaky_relu(&y, 0.2f); break;
        case 1: mr_relu(&y); break;
        case 2: mr_sigmoid(&y); break;
        case 3: mr_tanh(&y); break;
        default: mr_softplus(&y, 100.0f, 20.0f); break;
        }
        for (int64_t i = 0; i < n; i++) {
            double v = xd[i];
            double want;
            switch (k) {
            case 0: want = v < 0 ? 0.2 * v : v; break;
            case 1: want = v < 0 ? 0.0 : v; break;
            case 2: want = 1.0 / (1.0 + exp(-v)); break;
            case 3: want = tanh(v); break;
            default: want = 100.0 * v > 20.0 ? v : log1p(exp(100.0 * v)) / 100.0; break;
            }
            assert_near(yd[i], want, 1e-6 * (1.0 + fabs(want)));
        }
        mr_array_cleanup(&y);
    }
    mr_array_cleanup(&x);
}

/* sigmoid and tanh over the whole float range (the vectorised path on AVX-512 CPUs): every
 * 997th float bit pattern of both signs plus the branch points and saturation, against double
 * precision, both absolute and in ulps of the result; NaN propagates */
static void test_layers_sigmoid_tanh_range(void **state)
{
    (void)state;
    const int64_t n = 1 << 16;
    struct mr_array x = { 0 };
    struct mr_array s = { 0 };
    struct mr_array t = { 0 };
    double worst_abs[2] = { 0.0, 0.0 };
    double worst_ulp[2] = { 0.0, 0.0 };

    assert_int_equal(mr_array_init_dims(&x, MR_DTYPE_F32, 1, n), MR_OK);
    float *xd = mr_array_f32(&x);
    for (int64_t i = 0; i < n; i++) {
        /* magnitudes from 1e-30 up to 200, then fixed special points */
        double v = pow(10.0, -30.0 + 32.3 * (double)(i / 2) / (double)(n / 2));
        xd[i] = (float)(i % 2 == 0 ? v : -v);
    }
    const float special[] = { 0.0f, -0.0f, 0.625f, -0.625f, 0.62499994f, 9.0f, -9.0f, 88.0f,
                              -88.0f, 88.5f, -88.5f, 1e30f, -1e30f, 15.9f, -16.7f, 1e-45f };
    for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++)
        xd[k] = special[k];
    xd[n - 1] = NAN;
    assert_int_equal(mr_array_init_copy(&s, &x), MR_OK);
    assert_int_equal(mr_array_init_copy(&t, &x), MR_OK);
    mr_sigmoid(&s);
    mr_tanh(&t);
    for (int64_t i = 0; i < n - 1; i++) {
        const double v = xd[i];
        const double want[2] = { 1.0 / (1.0 + exp(-v)), tanh(v) };
        const float got[2] = { mr_array_f32(&s)[i], mr_array_f32(&t)[i] };
        for (int f = 0; f < 2; f++) {
            double err = fabs((double)got[f] - want[f]);
            double ulp = fabs(want[f]) > 0.0 ? err / (fabs(want[f]) * 0x1p-23) : err;
            worst_abs[f] = fmax(worst_abs[f], err);
            /* ulps only where the result is a normal float not flushed by the exp clamp */
            if (fabs(want[f]) > 1e-37)
                worst_ulp[f] = fmax(worst_ulp[f], ulp);
        }
    }
    assert_true(isnan(mr_array_f32(&s)[n - 1]) && isnan(mr_array_f32(&t)[n - 1]));
    print_message("    sigmoid: %.2e abs, %.1f ulp; tanh: %.2e abs, %.1f ulp\n", worst_abs[0],
                  worst_ulp[0], worst_abs[1], worst_ulp[1]);
    mr_test_assert_below("sigmoid abs", worst_abs[0], 2e-7, __FILE__, __LINE__);
    mr_test_assert_below("tanh abs", worst_abs[1], 2e-7, __FILE__, __LINE__);
    mr_test_assert_below("sigmoid ulp", worst_ulp[0], 8.0, __FILE__, __LINE__);
    /* tanh's 1 − 2/(e + 1) branch loses relative accuracy only just above 0.625 */
    mr_test_assert_below("tanh ulp", worst_ulp[1], 8.0, __FILE__, __LINE__);
    mr_array_cleanup(&x);
    mr_array_cleanup(&s);
    mr_array_cleanup(&t);
}

/* LPN's softplus and its gradient (vectorised on AVX-512 CPUs) against double precision for
 * β = 100 and 10 over |z| from 1e-12 to 1e3 of both signs: the regions (z itself above the
 * threshold, 0 below the cut, values under `tiny` flushed) exactly, the rest within 8 ulp of
 * the functions of the float product β·z */
static void test_layers_softplus_range(void **state)
{
    (void)state;
    const int64_t n = 20011; /* not a multiple of 16: the scalar tail runs too */
    float *z = malloc(sizeof(float) * (size_t)n);
    float *y = malloc(sizeof(float) * (size_t)n);
    float *g = malloc(sizeof(float) * (size_t)n);
    assert_non_null(z);
    assert_non_null(y);
    assert_non_null(g);
    const float betas[] = { 100.0f, 10.0f };
    double worst[2] = { 0.0, 0.0 };
    for (int b = 0; b < 2; b++) {
        const struct mr_softplus_param p = { .beta = betas[b], .threshold = 20.0f,
                                             .cut = -80.0f, .tiny = 0x1p-100f };
        for (int64_t i = 0; i < n; i++) {
            const double v = pow(10.0, -12.0 + 15.0 * (double)(i / 2) / (double)(n / 2));
            z[i] = (float)(i % 2 == 0 ? v : -v);
            g[i] = 1.5f;
        }
        z[0] = 0.0f;
        z[2] = 20.0f / betas[b]; /* at the threshold: the log1p branch */
        mr_vsoftplus(y, z, n, &p);
        mr_vmul_softplus_grad(g, z, n, &p);
        for (int64_t i = 0; i < n; i++) {
            /* both compute β·z in float, as torch does: the reference takes that product */
            const float bzf = z[i] * betas[b];
            const double bz = (double)bzf;
            double want = bzf > 20.0f ? (double)z[i] : bzf < -80.0f ? 0.0
                                                      : log1p(exp(bz)) / (double)betas[b];
            double gw = bzf > 20.0f ? 1.5 : bzf < -80.0f ? 0.0 : 1.5 / (1.0 + exp(-bz));
            if (bzf > 20.0f) {
                assert_true(y[i] == z[i] && g[i] == 1.5f);
                continue;
            }
            if (bzf < -80.0f) {
                assert_true(y[i] == 0.0f && g[i] == 0.0f);
                continue;
            }
            const double vals[2][2] = { { y[i], want }, { g[i], gw } };
            for (int f = 0; f < 2; f++) {
                if (vals[f][1] < 0x1p-99) { /* flushed, or a tiny value at the flush edge */
                    assert_true(vals[f][0] < 0x1p-99);
                    continue;
                }
                const double ulp = fabs(vals[f][0] - vals[f][1]) / (vals[f][1] * 0x1p-23);
                worst[f] = fmax(worst[f], ulp);
            }
        }
    }
    print_message("    softplus: %.1f ulp; gradient: %.1f ulp\n", worst[0], worst[1]);
    mr_test_assert_below("softplus ulp", worst[0], 8.0, __FILE__, __LINE__);
    mr_test_assert_below("softplus gradient ulp", worst[1], 8.0, __FILE__, __LINE__);
    free(z);
    free(y);
    free(g);
}

static void test_layers_complex_packing(void **state)
{
    (void)state;
    struct mr_array z = { 0 };
    struct mr_array ch = { 0 };
    struct mr_array back = { 0 };

    /* n = 3 images: channel part·n + k */
    assert_int_equal(mr_array_init_dims(&z, MR_DTYPE_CF32, 3, (int64_t)3, (int64_t)4,
                                        (int64_t)5), MR_OK);
    assert_int_equal(mr_array_init_dims(&ch, MR_DTYPE_F32, 3, (int64_t)6, (int64_t)4,
                                        (int64_t)5), MR_OK);
    assert_int_equal(mr_array_init_like(&back, &z), MR_OK);
    mr_test_rand(&z, 80);
    mr_complex_to_channels(&ch, &z);
    for (int64_t k = 0; k < 3; k++)
        for (int64_t p = 0; p < 20; p++) {
            float complex v = mr_array_cf32(&z)[k * 20 + p];
            assert_near(mr_array_f32(&ch)[k * 20 + p], crealf(v), 0.0);
            assert_near(mr_array_f32(&ch)[(3 + k) * 20 + p], cimagf(v), 0.0);
        }
    mr_channels_to_complex(&back, &ch);
    assert_memory_equal(back.data, z.data, mr_array_nbytes(&z));
    mr_array_cleanup(&z);
    mr_array_cleanup(&ch);
    mr_array_cleanup(&back);

    /* a single (H, W) image gives [re, im] */
    assert_int_equal(mr_array_init_dims(&z, MR_DTYPE_CF32, 2, (int64_t)3, (int64_t)2), MR_OK);
    assert_int_equal(mr_array_init_dims(&ch, MR_DTYPE_F32, 3, (int64_t)2, (int64_t)3,
                                        (int64_t)2), MR_OK);
    mr_test_rand(&z, 81);
    mr_complex_to_channels(&ch, &z);
    assert_near(mr_array_f32(&ch)[6 + 5], cimagf(mr_array_cf32(&z)[5]), 0.0);
    mr_array_cleanup(&z);
    mr_array_cleanup(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_conv_zero_pad_asymmetric_kernel),
        cmocka_unit_test(test_layers_conv_stride_dilation_asymmetric_pad),
        cmocka_unit_test(test_layers_conv_replicate),
        cmocka_unit_test(test_layers_conv_reflect),
        cmocka_unit_test(test_layers_conv_pointwise_and_lpn_shapes),
        cmocka_unit_test(test_layers_conv_direct_blocking),
        cmocka_unit_test(test_layers_conv_winograd_blocking),
        cmocka_unit_test(test_layers_conv_bands),
        cmocka_unit_test(test_layers_conv_input_grad),
        cmocka_unit_test(test_layers_tconv2x2),
        cmocka_unit_test(test_layers_instance_norm),
        cmocka_unit_test(test_layers_avgpool_floor),
        cmocka_unit_test(test_layers_pad_modes),
        cmocka_unit_test(test_layers_crop_concat_view),
        cmocka_unit_test(test_layers_activations),
        cmocka_unit_test(test_layers_sigmoid_tanh_range),
        cmocka_unit_test(test_layers_softplus_range),
        cmocka_unit_test(test_layers_complex_packing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
