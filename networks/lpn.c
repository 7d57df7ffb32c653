/*
 * Learned Proximal Network ψ and its prox (Fang, Buchanan, Sulam, ICLR 2024; reference
 * github:ZhenghanFang/learned-proximal-networks lpn/networks/lpn_128.py and
 * lpn/utils/lpn_for_inv.py; the spec is shared/specs/lpn.md).
 *
 * ψ is an input-convex network; its gradient is the proximal operator. The reference gets the
 * gradient from autograd; here the backward pass is written out (spec §2.6): starting from
 * ∂ψ/∂z₆ = w₇ ⊙ σ'(z₆) it runs the input-gradient of every conv (layers.h
 * mr_conv2d_input_grad, the transposed convolution), multiplies by σ'(z_k) at each activation, and
 * routes the res-path gradients back through the adjoints of the bilinear downsamplings. No
 * weight gradients are formed. All pre-activations z_k are kept from the forward pass.
 *
 * Rounding: the forward matches torch's float32 arithmetic up to summation order; the
 * downsampling is bit-exact (see downsample()); ψ's final sums are in double.
 */
#include "networks/lpn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/conv_adjoint.h"
#include "networks/layers.h"
#include "networks/vmath.h"
#include "networks/net.h"

#define LPN_PAR_MIN ((int64_t)1 << 18) /* elements (or adds) before a loop goes parallel */
#define LPN_THRESHOLD 20.0f /* torch Softplus threshold (fixed in the reference) */
#define LPN_NLIN 7          /* conv layers lin.0 … lin.6 (lin.7 is the Linear head) */
#define LPN_NRES 6
#define LPN_TOP 64 /* channels of lin.6 / res.5, inputs of lin.7 */

const struct mr_lpn_config mr_lpn_config_default = {
    .in_dim = 2,
    .hidden = 256,
    .beta = 100.0f,
    .alpha = 1e-6f,
    .check_nonneg = true,
};

/* side of z_k for a 128 input, and of the input res.r sees with its downsampling level */
static const int64_t z_side[LPN_NLIN] = { 128, 64, 64, 32, 32, 16, 1 };
static const int64_t lin_stride[LPN_NLIN] = { 1, 2, 1, 2, 1, 2, 1 };
static const int64_t res_stride[LPN_NRES] = { 2, 1, 2, 1, 2, 1 };
static const int res_level[LPN_NRES] = { -1, 0, 0, 1, 1, 2 }; /* -1: x, else xd[level] */
static const int64_t down_factor[3] = { 2, 4, 8 };

struct mr_lpn {
    struct mr_lpn_config cfg;
    struct mr_conv2d lin[LPN_NLIN];
    struct mr_conv2d res[LPN_NRES];
    const float *w7; /* lin.7.weight (1, 64) */
    float b7;        /* lin.7.bias */
    struct mr_array xd[3];  /* D₂x, D₄x, D₈x: (C, 64/32/16, same) */
    struct mr_array gxd[3]; /* ∂ψ/∂(D_f x) */
    struct mr_array z[LPN_NLIN];
    struct mr_array g[LPN_NLIN]; /* ∂ψ/∂z_k (the backward also uses g[k] for ∂ψ/∂a_k) */
    struct mr_array act;         /* σ(z_k) of one layer: K·128² floats */
    struct mr_array tmp; /* a res conv's output, an input gradient: max(K·64², C·128², 64) */
    struct mr_array scratch;     /* im2col / col2im band, Winograd or oneDNN buffers */
    struct mr_array wino[LPN_NLIN + LPN_NRES]; /* Winograd / oneDNN weights where planned */
    /* adjoint twins (networks/conv_adjoint.h) of the 3×3 stride-1 lin / res convs, whose input
     * gradients then run as forward convs on the planned algorithms; .w NULL for the others */
    struct mr_conv2d adj[LPN_NLIN + LPN_NRES];
    struct mr_array adj_w[LPN_NLIN + LPN_NRES];
    struct mr_array adj_wino[LPN_NLIN + LPN_NRES];
    double psi;
    double psi_net;
};

/* ---- element-wise pieces -------------------------------------------------------------- */

/*
 * torch Softplus(beta, threshold 20) and its derivative, in float as torch computes them (the
 * arrays vectorised by networks/vmath.h, within a few ulp of libm's expf / log1pf, as torch's
 * own vectorised kernels are), with one deliberate difference: results below 2^-100 are
 * flushed to zero (and β·z < −80, where
 * both are below e^-80 ≈ 1.8e-35, gives zero directly). Saturated units (β = 100 makes that
 * every z < −0.8) otherwise fill the activations and gradients with subnormal floats, and
 * every GEMM that touches them runs 10–100 times slower on x86 (microcode assists). The
 * values dropped are < 1e-30 in absolute terms, far below float32 resolution of any sum they
 * enter; the goldens do not move.
 */
#define LPN_TINY 7.88860905e-31f /* 2^-100 */
#define LPN_CUT (-80.0f)
#define LPN_CHUNK 4096 /* values per OpenMP iteration of the element-wise passes */

static struct mr_softplus_param softplus_param(float beta)
{
    const struct mr_softplus_param p = {
        .beta = beta, .threshold = LPN_THRESHOLD, .cut = LPN_CUT, .tiny = LPN_TINY,
    };
    return p;
}

/* dst = σ(z) elementwise (n values), vectorised (networks/vmath.h) */
static void softplus_array(float *dst, const float *z, int64_t n, float beta)
{
    const struct mr_softplus_param p = softplus_param(beta);
#pragma omp parallel for if (n > LPN_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < n; c += LPN_CHUNK)
        mr_vsoftplus(dst + c, z + c, n - c < LPN_CHUNK ? n - c : LPN_CHUNK, &p);
}

/* g *= σ'(z) elementwise, flushed */
static void mul_softplus_grad(struct mr_array *g, const struct mr_array *z, float beta)
{
    const struct mr_softplus_param p = softplus_param(beta);
    const int64_t n = mr_array_numel(g);
    float *gd = mr_array_f32(g);
    const float *zd = mr_array_f32(z);

    MR_ASSERT(mr_array_numel(z) == n);
#pragma omp parallel for if (n > LPN_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < n; c += LPN_CHUNK)
        mr_vmul_softplus_grad(gd + c, zd + c, n - c < LPN_CHUNK ? n - c : LPN_CHUNK, &p);
}

/*
 * torch interpolate(x, (S/f, S/f), mode="bilinear", align_corners=False) for an integer
 * factor f ≥ 2: the source coordinate f·i + f/2 − ½ lies halfway between pixels o = f·i + f/2 − 1
 * and o + 1, so each output is the mean of 4 taps. torch forms ½(½a + ½b) + ½(½c + ½d); the
 * halvings are exact, so that equals ¼((a + b) + (c + d)) bit for bit.
 */
static void downsample(struct mr_array *dst, const struct mr_array *src, int64_t f)
{
    const int64_t c = src->dims[0];
    const int64_t h = src->dims[1];
    const int64_t w = src->dims[2];
    const int64_t ho = dst->dims[1];
    const int64_t wo = dst->dims[2];
    const int64_t o = f / 2 - 1;
    const float *x = mr_array_f32(src);
    float *y = mr_array_f32(dst);

    MR_ASSERT(dst->dims[0] == c && ho * f == h && wo * f == w);
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < ho; i++) {
            const float *r0 = x + (ch * h + f * i + o) * w + o;
            const float *r1 = r0 + w;
            float *out = y + (ch * ho + i) * wo;
            for (int64_t j = 0; j < wo; j++)
                out[j] = 0.25f * ((r0[f * j] + r0[f * j + 1]) + (r1[f * j] + r1[f * j + 1]));
        }
}

/* gx += D_fᵀ g: ¼·g[c, i, j] onto each of the 4 taps of output (i, j) */
static void downsample_adjoint_add(float *gx, const struct mr_array *g, int64_t h, int64_t w,
                                   int64_t f)
{
    const int64_t c = g->dims[0];
    const int64_t ho = g->dims[1];
    const int64_t wo = g->dims[2];
    const int64_t o = f / 2 - 1;
    const float *gd = mr_array_f32(g);

    MR_ASSERT(ho * f == h && wo * f == w);
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < ho; i++) {
            float *r0 = gx + (ch * h + f * i + o) * w + o;
            float *r1 = r0 + w;
            const float *gi = gd + (ch * ho + i) * wo;
            for (int64_t j = 0; j < wo; j++) {
                const float q = 0.25f * gi[j];
                r0[f * j] += q;
                r0[f * j + 1] += q;
                r1[f * j] += q;
                r1[f * j + 1] += q;
            }
        }
}

/* ---- construction ------------------------------------------------------------------------ */

mr_status mr_lpn_config_read(const struct mr_config *json, struct mr_lpn_config *cfg)
{
    mr_status st = MR_OK;
    int64_t in_dim = 0;
    int64_t hidden = 0;
    double beta = 0.0;
    double alpha = 0.0;

    MR_CHECK(mr_config_int_in(json, "in_dim", cfg->in_dim, 1, MR_NET_MAX_CHANNELS, &in_dim));
    MR_CHECK(mr_config_int_in(json, "hidden", cfg->hidden, 1, MR_NET_MAX_CHANNELS, &hidden));
    MR_CHECK(mr_config_double_positive(json, "beta", (double)cfg->beta, 1e6, &beta));
    MR_CHECK(mr_config_double_in(json, "alpha", (double)cfg->alpha, 0.0, 1e6, &alpha));
    cfg->in_dim = in_dim;
    cfg->hidden = hidden;
    cfg->beta = (float)beta;
    cfg->alpha = (float)alpha;
out:
    return st;
}

void mr_lpn_free(struct mr_lpn *lpn)
{
    if (lpn == NULL)
        return;
    for (int i = 0; i < 3; i++) {
        mr_array_cleanup(&lpn->xd[i]);
        mr_array_cleanup(&lpn->gxd[i]);
    }
    for (int k = 0; k < LPN_NLIN; k++) {
        mr_array_cleanup(&lpn->z[k]);
        mr_array_cleanup(&lpn->g[k]);
    }
    mr_array_cleanup(&lpn->act);
    mr_array_cleanup(&lpn->tmp);
    mr_array_cleanup(&lpn->scratch);
    for (int k = 0; k < LPN_NLIN + LPN_NRES; k++) {
        mr_array_cleanup(&lpn->wino[k]);
        mr_array_cleanup(&lpn->adj_w[k]);
        mr_array_cleanup(&lpn->adj_wino[k]);
    }
    free(lpn);
}

static mr_status get_nonneg(mr_lpn_tensor_fn get, void *arg, const char *name, int ndim,
                            const int64_t *dims, bool check, const float **out)
{
    mr_status st = get(arg, name, ndim, dims, out);
    if (st != MR_OK || !check)
        return st;
    const int64_t n = mr_dims_numel(ndim, dims);
    for (int64_t i = 0; i < n; i++)
        if (!((*out)[i] >= 0.0f))
            return MR_FAIL(MR_ERR_WEIGHTS,
                           "LPN weight '%s' has a negative entry %g at %lld: the potential is "
                           "not convex (set check_nonneg false to run it anyway)",
                           name, (double)(*out)[i], (long long)i);
    return MR_OK;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

mr_status mr_lpn_create_from(const struct mr_lpn_config *cfg, mr_lpn_tensor_fn get, void *arg,
                             struct mr_lpn **out)
{
    mr_status st = MR_OK;
    struct mr_lpn *n = NULL;
    char name[64];

    if (cfg->in_dim < 1 || cfg->hidden < 1 || !(cfg->beta > 0.0f) || !(cfg->alpha >= 0.0f))
        return MR_FAIL(MR_ERR_ARG, "LPN: in_dim %lld, hidden %lld, beta %g, alpha %g out of range",
                       (long long)cfg->in_dim, (long long)cfg->hidden, (double)cfg->beta,
                       (double)cfg->alpha);
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN network");
    n->cfg = *cfg;
    const int64_t c = cfg->in_dim;
    const int64_t k = cfg->hidden;

    /* lin.0 … lin.6 */
    for (int l = 0; l < LPN_NLIN; l++) {
        const int64_t cin = l == 0 ? c : k;
        const int64_t cout = l == LPN_NLIN - 1 ? LPN_TOP : k;
        const int64_t ks = l == LPN_NLIN - 1 ? 16 : 3;
        struct mr_conv2d *cv = &n->lin[l];
        *cv = mr_conv2d_make(cin, cout, ks, ks == 3 ? 1 : 0);
        cv->stride[0] = cv->stride[1] = lin_stride[l];
        snprintf(name, sizeof(name), "lin.%d.weight", l);
        MR_CHECK(get_nonneg(get, arg, name, 4, (const int64_t[]){ cout, cin, ks, ks },
                            l > 0 && cfg->check_nonneg, &cv->w));
        if (l == 0)
            MR_CHECK(get(arg, "lin.0.bias", 1, (const int64_t[]){ k }, &cv->b));
    }
    MR_CHECK(get_nonneg(get, arg, "lin.7.weight", 2, (const int64_t[]){ 1, LPN_TOP },
                        cfg->check_nonneg, &n->w7));
    {
        const float *b7 = NULL;
        MR_CHECK(get(arg, "lin.7.bias", 1, (const int64_t[]){ 1 }, &b7));
        n->b7 = b7[0];
    }
    /* res.0 … res.5 */
    for (int r = 0; r < LPN_NRES; r++) {
        const int64_t cout = r == LPN_NRES - 1 ? LPN_TOP : k;
        const int64_t ks = r == LPN_NRES - 1 ? 16 : 3;
        struct mr_conv2d *cv = &n->res[r];
        *cv = mr_conv2d_make(c, cout, ks, ks == 3 ? 1 : 0);
        cv->stride[0] = cv->stride[1] = res_stride[r];
        snprintf(name, sizeof(name), "res.%d.weight", r);
        MR_CHECK(get(arg, name, 4, (const int64_t[]){ cout, c, ks, ks }, &cv->w));
        snprintf(name, sizeof(name), "res.%d.bias", r);
        MR_CHECK(get(arg, name, 1, (const int64_t[]){ cout }, &cv->b));
    }

    /* buffers for one 128×128 evaluation */
    for (int i = 0; i < 3; i++) {
        const int64_t s = MR_LPN_PATCH / down_factor[i];
        MR_CHECK(mr_array_init_dims(&n->xd[i], MR_DTYPE_F32, 3, c, s, s));
        MR_CHECK(mr_array_init_dims(&n->gxd[i], MR_DTYPE_F32, 3, c, s, s));
    }
    for (int l = 0; l < LPN_NLIN; l++) {
        const int64_t ch = l == LPN_NLIN - 1 ? LPN_TOP : k;
        MR_CHECK(mr_array_init_dims(&n->z[l], MR_DTYPE_F32, 3, ch, z_side[l], z_side[l]));
        MR_CHECK(mr_array_init_dims(&n->g[l], MR_DTYPE_F32, 3, ch, z_side[l], z_side[l]));
    }
    MR_CHECK(mr_array_init_dims(&n->act, MR_DTYPE_F32, 1, max64(k * 128 * 128, LPN_TOP)));
    MR_CHECK(mr_array_init_dims(&n->tmp, MR_DTYPE_F32, 1,
                                max64(max64(k * 64 * 64, c * 128 * 128), LPN_TOP)));
    int64_t scratch = 1;
    for (int i = 0; i < LPN_NLIN + LPN_NRES; i++) {
        const int r = i - LPN_NLIN;
        struct mr_conv2d *cv = i < LPN_NLIN ? &n->lin[i] : &n->res[r];
        const int64_t in = i < LPN_NLIN ? (i == 0 ? MR_LPN_PATCH : z_side[i - 1])
                           : res_level[r] < 0 ? MR_LPN_PATCH
                                              : n->xd[res_level[r]].dims[1];
        const bool twin = cv->kh == 3 && mr_conv2d_adjoint_supported(cv);
        /* each conv (and the input-gradient of those without a twin) takes Winograd or
         * oneDNN where the plan (or the heuristics, or the settings) picks them */
        MR_CHECK(mr_conv2d_prepare_for(cv, &n->wino[i], in, in, !twin));
        scratch = max64(scratch, mr_conv2d_scratch_size(cv, in, in));
        if (twin) {
            MR_CHECK(mr_conv2d_adjoint_make(cv, &n->adj[i], &n->adj_w[i]));
            MR_CHECK(mr_conv2d_prepare_for(&n->adj[i], &n->adj_wino[i], in, in, false));
            scratch = max64(scratch, mr_conv2d_scratch_size(&n->adj[i], in, in));
        } else {
            scratch = max64(scratch, mr_conv2d_input_grad_scratch_size(cv, in, in));
        }
    }
    MR_CHECK(mr_array_init_dims(&n->scratch, MR_DTYPE_F32, 1, scratch));
    *out = n;
    n = NULL;
out:
    mr_lpn_free(n);
    return st;
}

static mr_status weights_tensor(void *arg, const char *name, int ndim, const int64_t *dims,
                                const float **out)
{
    const struct mr_array *a = NULL;
    mr_status st = mr_weights_get(arg, name, ndim, dims, &a);
    if (st != MR_OK)
        return st;
    *out = mr_array_f32(a);
    return MR_OK;
}

mr_status mr_lpn_create_config(struct mr_weights *ws, const struct mr_config *json,
                               struct mr_lpn **out)
{
    mr_status st = MR_OK;
    struct mr_lpn_config cfg = mr_lpn_config_default;
    const char *arch = mr_weights_architecture(ws);

    if (arch[0] != '\0' && strcmp(arch, "lpn") != 0)
        return MR_FAIL(MR_ERR_WEIGHTS, "weights are for '%s', not an LPN", arch);
    MR_CHECK(mr_lpn_config_read(json, &cfg));
    MR_CHECK(mr_lpn_create_from(&cfg, weights_tensor, ws, out));
out:
    return st;
}

mr_status mr_lpn_create(struct mr_weights *ws, struct mr_lpn **out)
{
    mr_status st = MR_OK;
    struct mr_lpn *n = NULL;

    MR_CHECK(mr_lpn_create_config(ws, mr_weights_config(ws), &n));
    MR_CHECK(mr_weights_check_unused(ws));
    *out = n;
    n = NULL;
out:
    mr_lpn_free(n);
    return st;
}

const struct mr_lpn_config *mr_lpn_get_config(const struct mr_lpn *lpn)
{
    return &lpn->cfg;
}

/* ---- forward and backward ---------------------------------------------------------------- */

/* view of `buf`'s data with the given (C, H, W) */
static struct mr_array view3(const struct mr_array *buf, int64_t c, int64_t h, int64_t w)
{
    struct mr_array v;
    MR_ASSERT(c * h * w <= mr_array_numel(buf));
    mr_array_wrap(&v, MR_DTYPE_F32, 3, (const int64_t[]){ c, h, w }, buf->data);
    return v;
}

static const struct mr_array *res_input(const struct mr_lpn *n, const struct mr_array *x, int r)
{
    return res_level[r] < 0 ? x : &n->xd[res_level[r]];
}

/* z_k, D_f x, ψ_net and ψ for one patch */
static void lpn_forward(struct mr_lpn *n, const struct mr_array *x)
{
    const float beta = n->cfg.beta;

    MR_ASSERT(x->dtype == MR_DTYPE_F32 && x->ndim == 3 && x->dims[0] == n->cfg.in_dim &&
              x->dims[1] == MR_LPN_PATCH && x->dims[2] == MR_LPN_PATCH);
    for (int i = 0; i < 3; i++)
        downsample(&n->xd[i], x, down_factor[i]);

    mr_conv2d_forward(&n->lin[0], &n->z[0], x, &n->scratch);
    for (int k = 1; k < LPN_NLIN; k++) {
        const struct mr_array *zp = &n->z[k - 1];
        struct mr_array a = view3(&n->act, zp->dims[0], zp->dims[1], zp->dims[2]);
        struct mr_array r = view3(&n->tmp, n->z[k].dims[0], n->z[k].dims[1], n->z[k].dims[2]);

        softplus_array(mr_array_f32(&a), mr_array_f32(zp), mr_array_numel(zp), beta);
        mr_conv2d_forward(&n->lin[k], &n->z[k], &a, &n->scratch);
        mr_conv2d_forward(&n->res[k - 1], &r, res_input(n, x, k - 1), &n->scratch);
        /* z_k = lin.k(a_{k−1}) + res.{k−1}(D x) */
        float *zk = mr_array_f32(&n->z[k]);
        const float *rk = mr_array_f32(&r);
        const int64_t nk = mr_array_numel(&n->z[k]);
        for (int64_t i = 0; i < nk; i++)
            zk[i] = zk[i] + rk[i];
    }

    /* head: mean over the 1×1 map (identity), Linear(64 → 1), then + α‖x‖² */
    const float *z6 = mr_array_f32(&n->z[LPN_NLIN - 1]);
    double s = (double)n->b7;
    const struct mr_softplus_param sp = softplus_param(beta);
    for (int64_t o = 0; o < LPN_TOP; o++)
        s += (double)n->w7[o] * (double)mr_softplus_value(z6[o], &sp);
    const float *xd = mr_array_f32(x);
    const int64_t nx = mr_array_numel(x);
    double ss = 0.0;
    for (int64_t i = 0; i < nx; i++)
        ss += (double)xd[i] * (double)xd[i];
    n->psi_net = s;
    n->psi = s + (double)n->cfg.alpha * ss;
}

/* gin (+)= ∂/∂x of conv i (lin.0…6, then res.0…5) for the output gradient gout: by its
 * adjoint twin where it has one (into n->tmp first when accumulating), else by the planned
 * input-gradient (SGEMM + col2im, or oneDNN) */
static void conv_input_grad(struct mr_lpn *n, int i, struct mr_array *gin,
                            const struct mr_array *gout, bool accumulate)
{
    const struct mr_conv2d *cv = i < LPN_NLIN ? &n->lin[i] : &n->res[i - LPN_NLIN];
    if (n->adj[i].w == NULL) {
        mr_conv2d_input_grad(cv, gin, gout, &n->scratch, accumulate);
        return;
    }
    if (!accumulate) {
        mr_conv2d_forward(&n->adj[i], gin, gout, &n->scratch);
        return;
    }
    struct mr_array t = view3(&n->tmp, gin->dims[0], gin->dims[1], gin->dims[2]);
    mr_conv2d_forward(&n->adj[i], &t, gout, &n->scratch);
    float *gd = mr_array_f32(gin);
    const float *td = mr_array_f32(&t);
    const int64_t m = mr_array_numel(gin);
#pragma omp parallel for if (m > LPN_PAR_MIN) schedule(static)
    for (int64_t j = 0; j < m; j++)
        gd[j] += td[j];
}

/* gx (C, 128, 128) = ∇ψ(x) from the stored forward state (spec §2.6); gx may alias x. */
static void lpn_backward(struct mr_lpn *n, struct mr_array *gx, const struct mr_array *x)
{
    const float beta = n->cfg.beta;
    const float two_alpha = 2.0f * n->cfg.alpha;
    const int64_t h = MR_LPN_PATCH;
    const int last = LPN_NLIN - 1;

    MR_ASSERT(gx->dtype == MR_DTYPE_F32 && mr_array_numel(gx) == mr_array_numel(x));
    struct mr_array gxv = view3(gx, n->cfg.in_dim, h, h);

    /* ∂ψ/∂z₆ = w₇ ⊙ σ'(z₆) (the 1×1 mean passes it through unchanged) */
    float *g6 = mr_array_f32(&n->g[last]);
    const float *z6 = mr_array_f32(&n->z[last]);
    const struct mr_softplus_param sp = softplus_param(beta);
    for (int64_t o = 0; o < LPN_TOP; o++)
        g6[o] = mr_flush_tiny(n->w7[o] * mr_softplus_grad(z6[o], &sp), LPN_TINY);

    /* gx = 2αx first: x is not needed after this, so gx may be x */
    {
        const float *xd = mr_array_f32(x);
        float *gd = mr_array_f32(&gxv);
        const int64_t nx = mr_array_numel(x);
        for (int64_t i = 0; i < nx; i++)
            gd[i] = two_alpha * xd[i];
    }

    /* layers 6 … 1: route ∂ψ/∂z_k into the res input and down the lin path */
    bool fresh[3] = { true, true, true };
    for (int k = last; k >= 1; k--) {
        const int r = k - 1;
        const int lv = res_level[r];
        if (lv < 0) {
            conv_input_grad(n, LPN_NLIN + r, &gxv, &n->g[k], true);
        } else {
            conv_input_grad(n, LPN_NLIN + r, &n->gxd[lv], &n->g[k], !fresh[lv]);
            fresh[lv] = false;
        }
        conv_input_grad(n, k, &n->g[k - 1], &n->g[k], false);
        mul_softplus_grad(&n->g[k - 1], &n->z[k - 1], beta);
    }
    conv_input_grad(n, 0, &gxv, &n->g[0], true);
    for (int i = 0; i < 3; i++)
        downsample_adjoint_add(mr_array_f32(&gxv), &n->gxd[i], h, h, down_factor[i]);
}

double mr_lpn_psi(struct mr_lpn *lpn, const struct mr_array *x)
{
    lpn_forward(lpn, x);
    return lpn->psi;
}

void mr_lpn_prox_patch(struct mr_lpn *lpn, struct mr_array *dst, const struct mr_array *x,
                       double *psi)
{
    lpn_forward(lpn, x);
    lpn_backward(lpn, dst, x);
    if (psi != NULL)
        *psi = lpn->psi;
}

const struct mr_array *mr_lpn_z(const struct mr_lpn *lpn, int k)
{
    MR_ASSERT(k >= 0 && k < LPN_NLIN);
    return &lpn->z[k];
}

const struct mr_array *mr_lpn_grad_z(const struct mr_lpn *lpn, int k)
{
    MR_ASSERT(k >= 0 && k < LPN_NLIN);
    return &lpn->g[k];
}

const struct mr_array *mr_lpn_x_down(const struct mr_lpn *lpn, int f)
{
    for (int i = 0; i < 3; i++)
        if (down_factor[i] == f)
            return &lpn->xd[i];
    MR_ASSERT(!"downsampling factor is 2, 4 or 8");
    return NULL;
}

double mr_lpn_psi_net(const struct mr_lpn *lpn)
{
    return lpn->psi_net;
}

