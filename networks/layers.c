/*
 * CNN layer kernels (conventions in layers.h): PyTorch Conv2d / ConvTranspose2d /
 * InstanceNorm2d / avg_pool2d / F.pad semantics on C-order (channels, H, W) maps.
 *
 * Convolution picks one of four paths: im2col + SGEMM (conv_im2col.c, with its transpose,
 * the input-gradient), Winograd F(4×4, 3×3) (conv_winograd.c), on AVX-512 CPUs the direct
 * kernel of conv_direct.c for stride-1 convs (about twice as fast as im2col + OpenBLAS there,
 * and independent of OpenBLAS's CPU detection), and oneDNN's convolution and backward-data
 * convolution (conv_dnnl.c) where the plan or the settings pick it.
 */
#include "networks/layers.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "networks/conv_direct.h"
#include "networks/conv_dnnl.h"
#include "networks/conv_im2col.h"
#include "networks/conv_plan.h"
#include "networks/conv_winograd.h"
#include "networks/vmath.h"
#include "recon/cpu.h"
#include "recon/settings.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* element count above which a leaf kernel runs its outer loop in parallel: about 50 us of
 * copying, so a fork/join (microseconds on idle cores, a time slice on busy ones) pays off */
#define MR_LAYERS_PAR_MIN ((int64_t)1 << 17)

int64_t mr_pad_index(enum mr_pad_mode mode, int64_t i, int64_t n)
{
    if (i >= 0 && i < n)
        return i;
    switch (mode) {
    case MR_PAD_MODE_REPLICATE:
        return i < 0 ? 0 : n - 1;
    case MR_PAD_MODE_REFLECT:
        if (n == 1)
            return 0;
        /* mirror about 0 and n-1 without repeating them (period 2n-2) */
        {
            int64_t p = 2 * n - 2;
            int64_t j = ((i % p) + p) % p;
            return j < n ? j : p - j;
        }
    case MR_PAD_MODE_ZERO:
    default:
        return -1;
    }
}

struct mr_conv2d mr_conv2d_make(int64_t cin, int64_t cout, int64_t k, int64_t pad)
{
    struct mr_conv2d c = {
        .cin = cin,
        .cout = cout,
        .kh = k,
        .kw = k,
        .stride = { 1, 1 },
        .dilation = { 1, 1 },
        .pad = { pad, pad, pad, pad },
        .pad_mode = MR_PAD_MODE_ZERO,
        .w = NULL,
        .b = NULL,
        .algo = MR_CONV2D_ALGO_AUTO,
    };
    return c;
}

/* bench/bench_conv.c on AVX-512 (218×170 and U-Net levels): Winograd wins 1.4–2.9× from 36
 * channels up, loses with 18 (padded to 32 lanes) and on images of fewer than ~32 tiles (the
 * 13×10 U-Net bottleneck), where the direct kernel or SGEMM stays */
#define MR_CONV2D_WINOGRAD_MIN_CHANNELS 24
#define MR_CONV2D_WINOGRAD_MIN_PIXELS 512

/* a shape AUTO runs as Winograd once its weights are prepared (shape only, no weights) */
static bool winograd_candidate(const struct mr_conv2d *c)
{
    return mr_conv2d_winograd_supported(c) && c->cin >= MR_CONV2D_WINOGRAD_MIN_CHANNELS &&
           c->cout >= MR_CONV2D_WINOGRAD_MIN_CHANNELS;
}

/* the settings' forced algorithm (recon/settings.h conv_force) as a conv algorithm */
static enum mr_conv2d_algo forced_algo(void)
{
    switch (mr_settings_get()->conv_force) {
    case MR_CONV_FORCE_IM2COL:
        return MR_CONV2D_ALGO_IM2COL;
    case MR_CONV_FORCE_DIRECT:
        return MR_CONV2D_ALGO_DIRECT;
    case MR_CONV_FORCE_WINOGRAD:
        return MR_CONV2D_ALGO_WINOGRAD;
    case MR_CONV_FORCE_DNNL:
        return MR_CONV2D_ALGO_DNNL;
    case MR_CONV_FORCE_AUTO:
    case MR_CONV_FORCE_NO_WINOGRAD:
    default:
        return MR_CONV2D_ALGO_AUTO;
    }
}

static bool measuring(void)
{
    return mr_settings_get()->conv_plan == MR_CONV_PLAN_MEASURE;
}

/* Winograd weights are allowed by the settings and the CPU for c */
static bool winograd_allowed(const struct mr_conv2d *c)
{
    const enum mr_conv_force force = mr_settings_get()->conv_force;
    return mr_conv2d_winograd_supported(c) && force != MR_CONV_FORCE_NO_WINOGRAD &&
           force != MR_CONV_FORCE_IM2COL && force != MR_CONV_FORCE_DIRECT &&
           force != MR_CONV_FORCE_DNNL;
}

/* Winograd weights are kept for every supported shape when the algorithm is forced to it or
 * chosen by measurement (which may pick it for any supported shape) */
mr_status mr_conv2d_prepare_winograd(struct mr_conv2d *c, struct mr_array *store, bool always)
{
    MR_ASSERT(c->w != NULL);
    const enum mr_conv_force force = mr_settings_get()->conv_force;
    if (!winograd_allowed(c))
        return MR_OK;
    if (!always && force != MR_CONV_FORCE_WINOGRAD && !winograd_candidate(c) && !measuring() &&
        !mr_conv_plan_any_winograd(c))
        return MR_OK;
    mr_status st = mr_array_init_dims(store, MR_DTYPE_F32, 1, mr_conv2d_winograd_weights_size(c));
    if (st != MR_OK)
        return st;
    mr_conv2d_winograd_weights(c, mr_array_f32(store));
    c->wino = mr_array_f32(store);
    return MR_OK;
}

/* a candidate shape whose output at this input size is large enough for AUTO to take it */
static bool winograd_pays(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    /* (sizes the conv cannot run on at all are left to the callers' shape errors) */
    if (!winograd_candidate(c) || h + c->pad[0] + c->pad[1] < 1 + c->dilation[0] * 2 ||
        w + c->pad[2] + c->pad[3] < 1 + c->dilation[1] * 2)
        return false;
    return mr_conv2d_out_h(c, h) * mr_conv2d_out_w(c, w) >= MR_CONV2D_WINOGRAD_MIN_PIXELS;
}

/* the algorithm the wisdom (measured now in MEASURE mode) or the settings give c at h×w, or
 * AUTO for the heuristics */
static enum mr_conv2d_algo planned_algo(const struct mr_conv2d *c, int64_t h, int64_t w,
                                        bool may_measure)
{
    if (c->algo != MR_CONV2D_ALGO_AUTO)
        return c->algo;
    const enum mr_conv2d_algo f = forced_algo();
    if (f != MR_CONV2D_ALGO_AUTO)
        return f;
    if (mr_settings_get()->conv_force == MR_CONV_FORCE_NO_WINOGRAD)
        return MR_CONV2D_ALGO_AUTO;
    const enum mr_conv2d_algo a =
        may_measure ? mr_conv_plan_choose(c, h, w) : mr_conv_plan_lookup(c, h, w);
#ifdef _OPENMP
    /* Inside a parallel region of the caller's (E2EVN's sensitivity U-Nets, one coil per
     * thread) the convs run single-threaded side by side; a oneDNN primitive serves one call
     * at a time (conv_dnnl.h), so a planned oneDNN choice would serialise the threads: the
     * heuristics run those convs instead. */
    if (a == MR_CONV2D_ALGO_DNNL && omp_in_parallel())
        return MR_CONV2D_ALGO_AUTO;
#endif
    return a;
}

/* the input-gradient's algorithm (im2col, or DNNL where forced, set on c or planned), as
 * planned_algo: AUTO means im2col */
static enum mr_conv2d_algo planned_grad_algo(const struct mr_conv2d *c, int64_t h, int64_t w,
                                             bool may_measure)
{
    if (c->algo != MR_CONV2D_ALGO_AUTO)
        return c->algo == MR_CONV2D_ALGO_DNNL ? MR_CONV2D_ALGO_DNNL : MR_CONV2D_ALGO_IM2COL;
    if (forced_algo() != MR_CONV2D_ALGO_AUTO)
        return forced_algo() == MR_CONV2D_ALGO_DNNL ? MR_CONV2D_ALGO_DNNL
                                                    : MR_CONV2D_ALGO_IM2COL;
    return may_measure ? mr_conv_plan_choose_grad(c, h, w) : mr_conv_plan_lookup_grad(c, h, w);
}

mr_status mr_conv2d_prepare_for(struct mr_conv2d *c, struct mr_array *store, int64_t h,
                                int64_t w, bool input_grad)
{
    MR_ASSERT(c->w != NULL);
    const enum mr_conv2d_algo fa = planned_algo(c, h, w, true);
    const enum mr_conv2d_algo ga = input_grad && mr_conv_dnnl_grad_supported(c)
                                       ? planned_grad_algo(c, h, w, true)
                                       : MR_CONV2D_ALGO_IM2COL;
    const bool want_wino = winograd_allowed(c) &&
                           (fa == MR_CONV2D_ALGO_WINOGRAD ||
                            (fa == MR_CONV2D_ALGO_AUTO && winograd_pays(c, h, w)));
    const struct mr_conv_dnnl *p = NULL;
    if ((fa == MR_CONV2D_ALGO_DNNL || ga == MR_CONV2D_ALGO_DNNL) && mr_conv_dnnl_supported(c)) {
        const mr_status st = mr_conv_dnnl_get(c, h, w, &p);
        if (st == MR_ERR_NOMEM)
            return st;
        if (st != MR_OK)
            p = NULL; /* oneDNN has no implementation for it: the other paths */
    }
    const bool want_fwd = p != NULL && fa == MR_CONV2D_ALGO_DNNL;
    const bool want_grad = p != NULL && ga == MR_CONV2D_ALGO_DNNL && mr_conv_dnnl_has_grad(p);
    if (!want_fwd && !want_grad)
        p = NULL;
    if ((c->wino != NULL) == want_wino && c->dnnl == p && (c->dnnl_w != NULL) == want_fwd &&
        (c->dnnl_gw != NULL) == want_grad)
        return MR_OK;
    mr_array_cleanup(store);
    c->wino = NULL;
    c->dnnl = NULL;
    c->dnnl_w = NULL;
    c->dnnl_gw = NULL;
    const int64_t nwino = want_wino ? mr_conv2d_winograd_weights_size(c) : 0;
    const int64_t nfwd = want_fwd ? mr_conv_dnnl_weights_size(p, false) : 0;
    const int64_t ngrad = want_grad ? mr_conv_dnnl_weights_size(p, true) : 0;
    if (nwino + nfwd + ngrad == 0)
        return MR_OK;
    /* each part a multiple of 16 floats: the oneDNN parts stay 64-byte aligned */
    const mr_status st = mr_array_init_dims(store, MR_DTYPE_F32, 1, nwino + nfwd + ngrad);
    if (st != MR_OK)
        return st;
    float *u = mr_array_f32(store);
    if (want_wino) {
        mr_conv2d_winograd_weights(c, u);
        c->wino = u;
    }
    c->dnnl = p;
    if (want_fwd) {
        mr_conv_dnnl_weights(p, false, c->w, u + nwino);
        c->dnnl_w = u + nwino;
    }
    if (want_grad) {
        mr_conv_dnnl_weights(p, true, c->w, u + nwino + nfwd);
        c->dnnl_gw = u + nwino + nfwd;
    }
    return MR_OK;
}

mr_status mr_conv2d_prepare_winograd_for(struct mr_conv2d *c, struct mr_array *store,
                                         int64_t h, int64_t w)
{
    return mr_conv2d_prepare_for(c, store, h, w, false);
}

bool mr_conv2d_uses_direct(const struct mr_conv2d *c)
{
    return c->algo != MR_CONV2D_ALGO_IM2COL && mr_conv2d_direct_supported(c);
}

static atomic_int_fast64_t flops;

void mr_conv2d_flops_add(int64_t n)
{
    atomic_fetch_add_explicit(&flops, n, memory_order_relaxed);
}

int64_t mr_conv2d_flops(void)
{
    return atomic_load_explicit(&flops, memory_order_relaxed);
}

int64_t mr_conv2d_out_h(const struct mr_conv2d *c, int64_t h)
{
    int64_t span = c->dilation[0] * (c->kh - 1) + 1;
    int64_t n = h + c->pad[0] + c->pad[1] - span;
    MR_ASSERT(n >= 0);
    return n / c->stride[0] + 1;
}

int64_t mr_conv2d_out_w(const struct mr_conv2d *c, int64_t w)
{
    int64_t span = c->dilation[1] * (c->kw - 1) + 1;
    int64_t n = w + c->pad[2] + c->pad[3] - span;
    MR_ASSERT(n >= 0);
    return n / c->stride[1] + 1;
}

/*
 * AUTO's choice between the direct kernel and (im2col +) SGEMM, measured on a Xeon with
 * AVX-512 and OpenBLAS's SkylakeX kernels (CIRIM 12×218×170: 3.8 → 3.3 s; RecurrentVarNet:
 * 9.8 → 7.9 s, one thread): SGEMM wins for 1×1 convs (no im2col at all) and for reductions
 * of at least MR_CONV2D_GEMM_MIN_KDIM = cin·kh·kw (RecurrentVarNet's 128-channel 3×3 GRU
 * convs), where the im2col copy is small next to the GEMM. OpenBLAS 0.3.21 falls back to SSE3
 * "Prescott" kernels on CPUs it does not know (apps/openblas_fix.h): then the direct kernel
 * stays. The two paths differ only in float summation order.
 */
#define MR_CONV2D_GEMM_MIN_KDIM 1024

static bool conv_prefers_gemm(const struct mr_conv2d *c)
{
    if (c->algo != MR_CONV2D_ALGO_AUTO)
        return false;
    if (!mr_conv2d_is_pointwise(c) && c->cin * c->kh * c->kw < MR_CONV2D_GEMM_MIN_KDIM)
        return false;
    const char *core = openblas_get_corename();
    return core != NULL && strcmp(core, "Prescott") != 0;
}

/* c's oneDNN primitives for h×w when algorithm a (DNNL, or AUTO) may run them: the prepared
 * ones, or for sizing from shapes alone (a == DNNL) the table's (NULL when oneDNN cannot) */
static const struct mr_conv_dnnl *dnnl_for(const struct mr_conv2d *c, int64_t h, int64_t w,
                                           enum mr_conv2d_algo a)
{
    if (c->dnnl != NULL && mr_conv_dnnl_matches(c->dnnl, c, h, w))
        return c->dnnl;
    const struct mr_conv_dnnl *p = NULL;
    if (a == MR_CONV2D_ALGO_DNNL && mr_conv_dnnl_supported(c) &&
        mr_conv_dnnl_get(c, h, w, &p) != MR_OK)
        p = NULL;
    return p;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t mr_conv2d_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    const enum mr_conv2d_algo a = planned_algo(c, h, w, true);
    const struct mr_conv_dnnl *p = dnnl_for(c, h, w, a);
    const int64_t nd = p != NULL ? mr_conv_dnnl_scratch_size(p, false) : 0;
    if (mr_conv2d_is_pointwise(c))
        return nd;
    int64_t n = max64(nd, mr_conv2d_im2col_scratch_size(c, h, w));
    if (c->wino != NULL || a == MR_CONV2D_ALGO_WINOGRAD || winograd_pays(c, h, w))
        n = max64(n, mr_conv2d_winograd_scratch_size(c, h, w, mr_cpu_threads()));
    return n;
}

/* scratch's floats and data (0 and NULL for no scratch) */
static int64_t scratch_floats(const struct mr_array *scratch)
{
    return scratch != NULL ? mr_array_numel(scratch) : 0;
}

static float *scratch_data(struct mr_array *scratch)
{
    return scratch != NULL ? mr_array_f32(scratch) : NULL;
}

void mr_conv2d_forward(const struct mr_conv2d *c, struct mr_array *dst,
                       const struct mr_array *src, struct mr_array *scratch)
{
    MR_ASSERT(src->ndim == 3 && dst->ndim == 3);
    MR_ASSERT(src->dims[0] == c->cin && dst->dims[0] == c->cout);
    const int64_t h = src->dims[1];
    const int64_t w = src->dims[2];
    const int64_t ho = mr_conv2d_out_h(c, h);
    const int64_t wo = mr_conv2d_out_w(c, w);
    MR_ASSERT(dst->dims[1] == ho && dst->dims[2] == wo);
    MR_ASSERT(c->w != NULL);
    mr_conv2d_flops_add(2 * c->cout * c->cin * c->kh * c->kw * ho * wo);

    float *y = mr_array_f32(dst);
    const float *x = mr_array_f32(src);

    enum mr_conv2d_algo a = planned_algo(c, h, w, false);
    if (a == MR_CONV2D_ALGO_DNNL) {
        if (c->dnnl_w != NULL && mr_conv_dnnl_matches(c->dnnl, c, h, w)) {
            /* the scratch was sized by mr_conv2d_scratch_size after the conv was prepared */
            mr_conv_dnnl_forward(c->dnnl, c->dnnl_w, c->b, y, x, scratch_data(scratch),
                                 scratch_floats(scratch));
            return;
        }
        a = MR_CONV2D_ALGO_AUTO; /* a shape or size oneDNN was not prepared for */
    }
    if (a == MR_CONV2D_ALGO_WINOGRAD && c->wino == NULL)
        a = MR_CONV2D_ALGO_AUTO; /* a shape the Winograd path cannot run */
    const bool no_wino = a == MR_CONV2D_ALGO_AUTO &&
                         mr_settings_get()->conv_force == MR_CONV_FORCE_NO_WINOGRAD;
    if (c->wino != NULL && (a == MR_CONV2D_ALGO_WINOGRAD ||
                            (a == MR_CONV2D_ALGO_AUTO && !no_wino &&
                             ho * wo >= MR_CONV2D_WINOGRAD_MIN_PIXELS))) {
        /* the scratch was sized by mr_conv2d_scratch_size after the weights were prepared */
        MR_ASSERT(scratch != NULL &&
                  mr_array_numel(scratch) >= mr_conv2d_winograd_scratch_size(c, h, w, 1));
        mr_conv2d_winograd(c, c->wino, y, x, h, w, ho, wo, mr_array_f32(scratch),
                           mr_array_numel(scratch));
        return;
    }
    /* AUTO (no wisdom for this size) leaves outputs narrower than a quarter of the kernel's
     * 32-lane strip to im2col, and shapes where an AVX-512/AVX2 SGEMM wins (conv_prefers_gemm) */
    if (mr_conv2d_direct_supported(c) &&
        (a == MR_CONV2D_ALGO_DIRECT ||
         (a == MR_CONV2D_ALGO_AUTO && wo >= 8 && !conv_prefers_gemm(c)))) {
        mr_conv2d_direct(c, y, x, h, w, ho, wo);
        return;
    }
    mr_conv2d_im2col(c, y, x, h, w, ho, wo, scratch);
}

/* the prepared oneDNN input-gradient when the plan runs it for c at h×w, or NULL */
static const struct mr_conv_dnnl *grad_dnnl(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    if (c->dnnl_gw == NULL || !mr_conv_dnnl_matches(c->dnnl, c, h, w) ||
        planned_grad_algo(c, h, w, false) != MR_CONV2D_ALGO_DNNL)
        return NULL;
    return c->dnnl;
}

int64_t mr_conv2d_input_grad_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    const struct mr_conv_dnnl *p = grad_dnnl(c, h, w);
    const int64_t n = mr_conv2d_im2col_input_grad_scratch_size(c, h, w);
    return p != NULL ? max64(n, mr_conv_dnnl_scratch_size(p, true)) : n;
}

void mr_conv2d_input_grad(const struct mr_conv2d *c, struct mr_array *gin,
                          const struct mr_array *gout, struct mr_array *scratch, bool accumulate)
{
    MR_ASSERT(gin->ndim == 3 && gout->ndim == 3);
    MR_ASSERT(gin->dims[0] == c->cin && gout->dims[0] == c->cout);
    const int64_t h = gin->dims[1];
    const int64_t w = gin->dims[2];
    const int64_t ho = gout->dims[1];
    const int64_t wo = gout->dims[2];
    MR_ASSERT(mr_conv2d_out_h(c, h) == ho && mr_conv2d_out_w(c, w) == wo);
    MR_ASSERT(c->dilation[0] == 1 && c->dilation[1] == 1 && c->pad_mode == MR_PAD_MODE_ZERO);
    mr_conv2d_flops_add(2 * c->cout * c->cin * c->kh * c->kw * ho * wo);
    const struct mr_conv_dnnl *p = grad_dnnl(c, h, w);
    if (p != NULL) {
        mr_conv_dnnl_input_grad(p, c->dnnl_gw, mr_array_f32(gin), mr_array_f32(gout),
                                scratch_data(scratch), scratch_floats(scratch), accumulate);
        return;
    }
    mr_conv2d_im2col_input_grad(c, mr_array_f32(gin), mr_array_f32(gout), h, w, ho, wo, scratch,
                                accumulate);
}

void mr_tconv2x2_weights(const float *w, int64_t cin, int64_t cout, float *wt)
{
    for (int64_t q = 0; q < cout * 4; q++)
        for (int64_t i = 0; i < cin; i++)
            wt[q * cin + i] = w[i * cout * 4 + q];
}

int64_t mr_tconv2x2_scratch_size(int64_t cin, int64_t cout, int64_t h, int64_t w)
{
    (void)cin;
    return cout * 4 * h * w;
}

void mr_tconv2x2_forward(const float *wt, const float *bias, struct mr_array *dst,
                         const struct mr_array *src, struct mr_array *scratch)
{
    MR_ASSERT(src->ndim == 3 && dst->ndim == 3);
    const int64_t cin = src->dims[0];
    const int64_t h = src->dims[1];
    const int64_t wd = src->dims[2];
    const int64_t cout = dst->dims[0];
    MR_ASSERT(dst->dims[1] == 2 * h && dst->dims[2] == 2 * wd);
    MR_ASSERT(scratch != NULL &&
              mr_array_numel(scratch) >= mr_tconv2x2_scratch_size(cin, cout, h, wd));
    const int64_t npix = h * wd;
    mr_conv2d_flops_add(2 * cin * cout * 4 * npix);
    float *t = mr_array_f32(scratch);
    const float *x = mr_array_f32(src);
    float *y = mr_array_f32(dst);

    /* t[(o·2 + a)·2 + b, p] = Σ_i wt[(o·2 + a)·2 + b, i] · x[i, p]: a 1×1 conv (cout·4, cin) */
    struct mr_conv2d pw = mr_conv2d_make(cin, cout * 4, 1, 0);
    pw.w = wt;
    if (mr_conv2d_uses_direct(&pw))
        mr_conv2d_direct(&pw, t, x, h, wd, h, wd);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(cout * 4), (int)npix,
                    (int)cin, 1.0f, wt, (int)cin, x, (int)npix, 0.0f, t, (int)npix);

    /* each output row 2r + a interleaves row r of the planes (o, a, 0) and (o, a, 1): one
     * sequential write per row */
#pragma omp parallel for if (cout * npix * 4 > MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t o = 0; o < cout; o++) {
        const float bo = bias != NULL ? bias[o] : 0.0f;
        float *yo = y + o * 4 * npix;
        for (int64_t a = 0; a < 2; a++) {
            const float *t0 = t + (o * 2 + a) * 2 * npix;
            const float *t1 = t0 + npix;
            for (int64_t r = 0; r < h; r++) {
                float *yr = yo + (2 * r + a) * (2 * wd);
                const float *r0 = t0 + r * wd;
                const float *r1 = t1 + r * wd;
                for (int64_t s = 0; s < wd; s++) {
                    yr[2 * s] = r0[s] + bo;
                    yr[2 * s + 1] = r1[s] + bo;
                }
            }
        }
    }
}

/* mean and biased variance of n floats in double: one pass, shifted by p[0] against
 * cancellation, four independent accumulators so the loop is not one long dependency chain */

void mr_instance_norm_leaky_relu(struct mr_array *x, float eps, float slope)
{
    MR_ASSERT(x->ndim == 3);
    MR_ASSERT(slope >= 0.0f && slope <= 1.0f);
    const int64_t nch = x->dims[0];
    const int64_t n = x->dims[1] * x->dims[2];
    float *d = mr_array_f32(x);

#pragma omp parallel for if (nch * n > MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t ch = 0; ch < nch; ch++) {
        float *p = d + ch * n;
        double mean;
        double var;
        mr_vmoments(p, n, &mean, &var);
        /* for 0 <= slope <= 1, leaky_relu(v) = max(v, slope·v) */
        mr_vnormalize_leaky(p, n, (float)mean, (float)(1.0 / sqrt(var + (double)eps)), slope);
    }
}

void mr_instance_norm(struct mr_array *x, float eps)
{
    mr_instance_norm_leaky_relu(x, eps, 1.0f);
}

void mr_avgpool2d(struct mr_array *dst, const struct mr_array *src, int64_t k)
{
    MR_ASSERT(src->ndim == 3 && dst->ndim == 3 && k >= 1);
    const int64_t nch = src->dims[0];
    const int64_t h = src->dims[1];
    const int64_t w = src->dims[2];
    const int64_t ho = h / k;
    const int64_t wo = w / k;
    MR_ASSERT(dst->dims[0] == nch && dst->dims[1] == ho && dst->dims[2] == wo);
    const float *x = mr_array_f32(src);
    float *y = mr_array_f32(dst);
    const float inv = 1.0f / (float)(k * k);

#pragma omp parallel for if (nch * h * w > MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t ch = 0; ch < nch; ch++) {
        const float *xc = x + ch * h * w;
        float *yc = y + ch * ho * wo;
        for (int64_t r = 0; r < ho; r++)
            for (int64_t s = 0; s < wo; s++) {
                float acc = 0.0f;
                for (int64_t a = 0; a < k; a++)
                    for (int64_t b = 0; b < k; b++)
                        acc += xc[(r * k + a) * w + s * k + b];
                yc[r * wo + s] = acc * inv;
            }
    }
}

void mr_pad2d(struct mr_array *dst, const struct mr_array *src, enum mr_pad_mode mode,
              int64_t top, int64_t bottom, int64_t left, int64_t right)
{
    MR_ASSERT(src->ndim == 3 && dst->ndim == 3);
    const int64_t nch = src->dims[0];
    const int64_t h = src->dims[1];
    const int64_t w = src->dims[2];
    const int64_t ho = h + top + bottom;
    const int64_t wo = w + left + right;
    MR_ASSERT(top >= 0 && bottom >= 0 && left >= 0 && right >= 0);
    MR_ASSERT(dst->dims[0] == nch && dst->dims[1] == ho && dst->dims[2] == wo);
    if (mode == MR_PAD_MODE_REFLECT)
        MR_ASSERT(top < h && bottom < h && left < w && right < w);
    const float *x = mr_array_f32(src);
    float *y = mr_array_f32(dst);

#pragma omp parallel for if (nch * ho * wo > MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t ch = 0; ch < nch; ch++) {
        const float *xc = x + ch * h * w;
        float *yc = y + ch * ho * wo;
        for (int64_t r = 0; r < ho; r++) {
            float *yr = yc + r * wo;
            int64_t sr = mr_pad_index(mode, r - top, h);
            if (sr < 0) {
                memset(yr, 0, sizeof(*yr) * (size_t)wo);
                continue;
            }
            const float *xr = xc + sr * w;
            for (int64_t s = 0; s < left; s++) {
                int64_t ss = mr_pad_index(mode, s - left, w);
                yr[s] = ss < 0 ? 0.0f : xr[ss];
            }
            memcpy(yr + left, xr, sizeof(*yr) * (size_t)w);
            for (int64_t s = left + w; s < wo; s++) {
                int64_t ss = mr_pad_index(mode, s - left, w);
                yr[s] = ss < 0 ? 0.0f : xr[ss];
            }
        }
    }
}

void mr_crop2d(struct mr_array *dst, const struct mr_array *src, int64_t top, int64_t left)
{
    MR_ASSERT(src->ndim == 3 && dst->ndim == 3 && dst->dims[0] == src->dims[0]);
    const int64_t nch = src->dims[0];
    const int64_t h = src->dims[1];
    const int64_t w = src->dims[2];
    const int64_t ho = dst->dims[1];
    const int64_t wo = dst->dims[2];
    MR_ASSERT(top >= 0 && left >= 0 && top + ho <= h && left + wo <= w);
    const float *x = mr_array_f32(src);
    float *y = mr_array_f32(dst);

    for (int64_t ch = 0; ch < nch; ch++)
        for (int64_t r = 0; r < ho; r++)
            memcpy(y + (ch * ho + r) * wo, x + (ch * h + top + r) * w + left,
                   sizeof(*y) * (size_t)wo);
}

void mr_concat_channels(struct mr_array *dst, const struct mr_array *a,
                        const struct mr_array *b)
{
    MR_ASSERT(dst->ndim == 3 && a->ndim == 3 && b->ndim == 3);
    MR_ASSERT(a->dims[1] == b->dims[1] && a->dims[2] == b->dims[2]);
    MR_ASSERT(dst->dims[0] == a->dims[0] + b->dims[0] && dst->dims[1] == a->dims[1] &&
              dst->dims[2] == a->dims[2]);
    float *y = mr_array_f32(dst);
    size_t na = (size_t)mr_array_numel(a);
    memcpy(y, mr_array_f32(a), sizeof(*y) * na);
    memcpy(y + na, mr_array_f32(b), sizeof(*y) * (size_t)mr_array_numel(b));
}

void mr_channels_view(struct mr_array *view, const struct mr_array *x, int64_t c0, int64_t n)
{
    MR_ASSERT(x->ndim == 3 && x->dtype == MR_DTYPE_F32);
    MR_ASSERT(c0 >= 0 && n >= 0 && c0 + n <= x->dims[0]);
    const int64_t dims[3] = { n, x->dims[1], x->dims[2] };
    mr_array_wrap(view, MR_DTYPE_F32, 3, dims,
                  mr_array_f32(x) + c0 * x->dims[1] * x->dims[2]);
}

void mr_leaky_relu(struct mr_array *x, float slope)
{
    const int64_t n = mr_array_numel(x);
    float *d = mr_array_f32(x);

#pragma omp parallel for if (n > 4 * MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float v = d[i];
        float sv = slope * v;
        d[i] = v < 0.0f ? sv : v;
    }
}

void mr_relu(struct mr_array *x)
{
    const int64_t n = mr_array_numel(x);
    float *d = mr_array_f32(x);

#pragma omp parallel for if (n > 4 * MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float v = d[i];
        d[i] = v > 0.0f ? v : 0.0f;
    }
}

void mr_sigmoid(struct mr_array *x)
{
    mr_vsigmoid(mr_array_f32(x), mr_array_numel(x));
}

void mr_tanh(struct mr_array *x)
{
    mr_vtanh(mr_array_f32(x), mr_array_numel(x));
}

void mr_softplus(struct mr_array *x, float beta, float threshold)
{
    const int64_t n = mr_array_numel(x);
    float *d = mr_array_f32(x);

#pragma omp parallel for if (n > MR_LAYERS_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float bx = beta * d[i];
        d[i] = bx > threshold ? d[i] : log1pf(expf(bx)) / beta;
    }
}

/* number of complex images in a (n, H, W) or (H, W) CF32 array */
static int64_t complex_count(const struct mr_array *a)
{
    MR_ASSERT(a->ndim == 2 || a->ndim == 3);
    return a->ndim == 3 ? a->dims[0] : 1;
}

void mr_complex_to_channels(struct mr_array *dst, const struct mr_array *src)
{
    const int64_t n = complex_count(src);
    const int64_t npix = mr_array_numel(src) / n;
    MR_ASSERT(dst->dtype == MR_DTYPE_F32 && mr_array_numel(dst) == 2 * n * npix);
    const float complex *x = mr_array_cf32(src);
    float *re = mr_array_f32(dst);
    float *im = re + n * npix;

    for (int64_t i = 0; i < n * npix; i++) {
        re[i] = crealf(x[i]);
        im[i] = cimagf(x[i]);
    }
}

void mr_channels_to_complex(struct mr_array *dst, const struct mr_array *src)
{
    const int64_t n = complex_count(dst);
    const int64_t npix = mr_array_numel(dst) / n;
    MR_ASSERT(src->dtype == MR_DTYPE_F32 && mr_array_numel(src) == 2 * n * npix);
    const float *re = mr_array_f32(src);
    const float *im = re + n * npix;
    float complex *y = mr_array_cf32(dst);

    for (int64_t i = 0; i < n * npix; i++)
        y[i] = CMPLXF(re[i], im[i]);
}
