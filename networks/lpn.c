/*
 * Learned Proximal Network as a plug-in prior (Fang, Buchanan, Sulam, ICLR 2024; reference
 * github:ZhenghanFang/learned-proximal-networks lpn/networks/lpn_128.py and
 * lpn/utils/lpn_for_inv.py; the spec is shared/specs/lpn.md).
 *
 * ψ is an input-convex network; its gradient is the proximal operator. The reference gets the
 * gradient from autograd; here the backward pass is written out (spec §2.6): starting from
 * ∂ψ/∂z₆ = w₇ ⊙ σ'(z₆) it runs the input-gradient of every conv (a transposed convolution:
 * Wᵀ·g by SGEMM into a column matrix, then a col2im scatter-add, the mirror image of the
 * forward im2col + SGEMM of networks/layers.c), multiplies by σ'(z_k) at each activation, and
 * routes the res-path gradients back through the adjoints of the bilinear downsamplings. No
 * weight gradients are formed. All pre-activations z_k are kept from the forward pass.
 *
 * Rounding: the forward matches torch's float32 arithmetic up to summation order; the
 * downsampling is bit-exact (see downsample()); ψ's final sums are in double.
 */
#include "networks/lpn.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/layers.h"
#include "recon/sense.h"
#include "recon/vec.h"

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

const struct mr_lpn_tiling_config mr_lpn_tiling_config_default = {
    .stride = 0,
    .cover_border = false,
    .window = MR_LPN_WINDOW_UNIFORM,
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
    struct mr_array tmp;         /* a res conv's output: max(K·64², 64) floats */
    struct mr_array scratch;     /* im2col / col2im band */
    double psi;
    double psi_net;
};

/* ---- element-wise pieces -------------------------------------------------------------- */

/*
 * torch Softplus(beta, threshold 20) and its derivative, in float as torch computes them, with
 * one deliberate difference: results below 2^-100 are flushed to zero (and β·z < −80, where
 * both are below e^-80 ≈ 1.8e-35, gives zero directly). Saturated units (β = 100 makes that
 * every z < −0.8) otherwise fill the activations and gradients with subnormal floats, and
 * every GEMM that touches them runs 10–100 times slower on x86 (microcode assists). The
 * values dropped are < 1e-30 in absolute terms, far below float32 resolution of any sum they
 * enter; the goldens do not move.
 */
#define LPN_TINY 7.88860905e-31f /* 2^-100 */
#define LPN_CUT (-80.0f)

static inline float flush_tiny(float v)
{
    return fabsf(v) < LPN_TINY ? 0.0f : v;
}

static inline float softplus(float z, float beta)
{
    const float bz = z * beta;
    if (bz > LPN_THRESHOLD)
        return z;
    if (bz < LPN_CUT)
        return 0.0f;
    return flush_tiny(log1pf(expf(bz)) / beta);
}

static inline float softplus_grad(float z, float beta)
{
    const float bz = z * beta;
    if (bz > LPN_THRESHOLD)
        return 1.0f;
    if (bz < LPN_CUT)
        return 0.0f;
    const float e = expf(bz);
    return e / (e + 1.0f);
}

/* dst = σ(z) elementwise (n values) */
static void softplus_array(float *dst, const float *z, int64_t n, float beta)
{
#pragma omp parallel for if (n > LPN_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        dst[i] = softplus(z[i], beta);
}

/* g *= σ'(z) elementwise */
static void mul_softplus_grad(struct mr_array *g, const struct mr_array *z, float beta)
{
    const int64_t n = mr_array_numel(g);
    float *gd = mr_array_f32(g);
    const float *zd = mr_array_f32(z);

    MR_ASSERT(mr_array_numel(z) == n);
#pragma omp parallel for if (n > LPN_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        gd[i] = flush_tiny(gd[i] * softplus_grad(zd[i], beta));
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

/* ---- the input-gradient of a convolution (transposed convolution) ---------------------- */

/* output rows per band of the backward column matrix (same bound as the forward im2col) */
static int64_t grad_band_rows(const struct mr_conv2d *c, int64_t ho, int64_t wo)
{
    const int64_t kdim = c->cin * c->kh * c->kw;
    int64_t rows = MR_CONV2D_BAND_FLOATS / (kdim * wo);
    if (rows < 1)
        rows = 1;
    return rows < ho ? rows : ho;
}

static int64_t grad_scratch_size(const struct mr_conv2d *c, int64_t h, int64_t w)
{
    const int64_t ho = mr_conv2d_out_h(c, h);
    const int64_t wo = mr_conv2d_out_w(c, w);
    return c->cin * c->kh * c->kw * grad_band_rows(c, ho, wo) * wo;
}

/* gin[i, (r0+r)·sh + a − pt, s·sw + b − pl] += col[(i·kh + a)·kw + b, r·wo + s] (taps inside
 * the image only). Parallel over input channels: each writes only its own plane. */
static void col2im_add(const struct mr_conv2d *c, float *gin, const float *col, int64_t h,
                       int64_t w, int64_t r0, int64_t nr, int64_t wo)
{
    const int64_t ncol = nr * wo;
    const int64_t sh = c->stride[0];
    const int64_t sw = c->stride[1];
    const int64_t pt = c->pad[0];
    const int64_t pl = c->pad[2];

#pragma omp parallel for if (c->cin * c->kh * c->kw * ncol > LPN_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < c->cin; i++) {
        float *gi = gin + i * h * w;
        for (int64_t a = 0; a < c->kh; a++)
            for (int64_t b = 0; b < c->kw; b++) {
                const float *row = col + ((i * c->kh + a) * c->kw + b) * ncol;
                /* columns s whose target s·sw + off lies in [0, w) */
                const int64_t off = b - pl;
                int64_t s0 = off >= 0 ? 0 : (-off + sw - 1) / sw;
                int64_t s1 = (w - 1 - off) >= 0 ? (w - 1 - off) / sw + 1 : 0;
                if (s1 > wo)
                    s1 = wo;
                for (int64_t r = 0; r < nr; r++) {
                    const int64_t y = (r0 + r) * sh + a - pt;
                    if (y < 0 || y >= h)
                        continue;
                    float *dst = gi + y * w + off;
                    const float *src = row + r * wo;
                    for (int64_t s = s0; s < s1; s++)
                        dst[s * sw] += src[s];
                }
            }
    }
}

/*
 * gin (cin, H, W) (+)= convᵀ(gout (cout, Ho, Wo)): the vector–Jacobian product of the conv
 * with respect to its input, g_x[c,m,n] = Σ w[o,c,u,v]·g_y[o,i,j] over s·i + u − p = m, … .
 * Bias plays no part. Per band of output rows: col = Wᵀ·g (SGEMM), then col2im.
 */
static void conv_input_grad(const struct mr_conv2d *c, struct mr_array *gin,
                            const struct mr_array *gout, struct mr_array *scratch,
                            bool accumulate)
{
    const int64_t h = gin->dims[1];
    const int64_t w = gin->dims[2];
    const int64_t ho = gout->dims[1];
    const int64_t wo = gout->dims[2];
    const int64_t kdim = c->cin * c->kh * c->kw;
    const int64_t npix = ho * wo;
    float *gi = mr_array_f32(gin);
    const float *go = mr_array_f32(gout);

    MR_ASSERT(gin->dims[0] == c->cin && gout->dims[0] == c->cout);
    MR_ASSERT(mr_conv2d_out_h(c, h) == ho && mr_conv2d_out_w(c, w) == wo);
    MR_ASSERT(c->dilation[0] == 1 && c->dilation[1] == 1 && c->pad_mode == MR_PAD_MODE_ZERO);
    if (!accumulate)
        mr_array_zero(gin);
    const int64_t band = grad_band_rows(c, ho, wo);
    MR_ASSERT(mr_array_numel(scratch) >= kdim * band * wo);
    float *col = mr_array_f32(scratch);
    for (int64_t r0 = 0; r0 < ho; r0 += band) {
        const int64_t nr = ho - r0 < band ? ho - r0 : band;
        /* col (kdim × nr·wo) = Wᵀ (kdim × cout) · g[:, band] (cout × nr·wo, ld npix) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kdim, (int)(nr * wo),
                    (int)c->cout, 1.0f, c->w, (int)kdim, go + r0 * wo, (int)npix, 0.0f, col,
                    (int)(nr * wo));
        col2im_add(c, gi, col, h, w, r0, nr, wo);
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

    MR_CHECK(mr_config_int(json, "in_dim", cfg->in_dim, &in_dim));
    MR_CHECK(mr_config_int(json, "hidden", cfg->hidden, &hidden));
    MR_CHECK(mr_config_double(json, "beta", (double)cfg->beta, &beta));
    MR_CHECK(mr_config_double(json, "alpha", (double)cfg->alpha, &alpha));
    if (in_dim < 1 || hidden < 1 || !(beta > 0.0) || !(alpha >= 0.0) || !isfinite(beta) ||
        !isfinite(alpha)) {
        st = MR_FAIL(MR_ERR_WEIGHTS,
                     "LPN config out of range: in_dim %lld, hidden %lld, beta %g, alpha %g "
                     "(need in_dim, hidden >= 1, beta > 0, alpha >= 0)",
                     (long long)in_dim, (long long)hidden, beta, alpha);
        goto out;
    }
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
    MR_CHECK(mr_array_init_dims(&n->tmp, MR_DTYPE_F32, 1, max64(k * 64 * 64, LPN_TOP)));
    int64_t scratch = 1;
    for (int l = 0; l < LPN_NLIN; l++) {
        const int64_t in = l == 0 ? MR_LPN_PATCH : z_side[l - 1];
        scratch = max64(scratch, mr_conv2d_scratch_size(&n->lin[l], in, in));
        scratch = max64(scratch, grad_scratch_size(&n->lin[l], in, in));
    }
    for (int r = 0; r < LPN_NRES; r++) {
        const int64_t in = res_level[r] < 0 ? MR_LPN_PATCH : n->xd[res_level[r]].dims[1];
        scratch = max64(scratch, mr_conv2d_scratch_size(&n->res[r], in, in));
        scratch = max64(scratch, grad_scratch_size(&n->res[r], in, in));
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

/* the network from ws with the constructor arguments in json */
static mr_status lpn_create_json(struct mr_weights *ws, const struct mr_config *json,
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

    MR_CHECK(lpn_create_json(ws, mr_weights_config(ws), &n));
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
    for (int64_t o = 0; o < LPN_TOP; o++)
        s += (double)n->w7[o] * (double)softplus(z6[o], beta);
    const float *xd = mr_array_f32(x);
    const int64_t nx = mr_array_numel(x);
    double ss = 0.0;
    for (int64_t i = 0; i < nx; i++)
        ss += (double)xd[i] * (double)xd[i];
    n->psi_net = s;
    n->psi = s + (double)n->cfg.alpha * ss;
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
    for (int64_t o = 0; o < LPN_TOP; o++)
        g6[o] = flush_tiny(n->w7[o] * softplus_grad(z6[o], beta));

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
            conv_input_grad(&n->res[r], &gxv, &n->g[k], &n->scratch, true);
        } else {
            conv_input_grad(&n->res[r], &n->gxd[lv], &n->g[k], &n->scratch, !fresh[lv]);
            fresh[lv] = false;
        }
        conv_input_grad(&n->lin[k], &n->g[k - 1], &n->g[k], &n->scratch, false);
        mul_softplus_grad(&n->g[k - 1], &n->z[k - 1], beta);
    }
    conv_input_grad(&n->lin[0], &gxv, &n->g[0], &n->scratch, true);
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

/* ---- patch tiling ------------------------------------------------------------------------- */

struct mr_lpn_tiler {
    struct mr_lpn *lpn; /* borrowed */
    int64_t c;
    int64_t h;
    int64_t w;
    int64_t stride;
    int64_t nrows;
    int64_t ncols;
    int64_t *rows;
    int64_t *cols;
    double *patch_psi; /* nrows·ncols */
    double reg;
    struct mr_array count; /* (h, w) patches covering each pixel (summed weights) */
    float *win;            /* 128 per-axis window weights; NULL for the uniform window */
    struct mr_array acc;   /* (C, h, w) sum of patch proxes */
    struct mr_array chan;  /* (C, h, w) channels of a complex image */
    struct mr_array patch; /* (C, 128, 128) */
    struct mr_array pout;  /* (C, 128, 128) */
};

void mr_lpn_tiler_free(struct mr_lpn_tiler *t)
{
    if (t == NULL)
        return;
    free(t->rows);
    free(t->cols);
    free(t->patch_psi);
    free(t->win);
    mr_array_cleanup(&t->count);
    mr_array_cleanup(&t->acc);
    mr_array_cleanup(&t->chan);
    mr_array_cleanup(&t->patch);
    mr_array_cleanup(&t->pout);
    free(t);
}

/* Python range(0, n − 128 + 1, s), plus n − 128 if that does not reach the end and cover */
static mr_status tile_starts(int64_t n, int64_t s, bool cover, const char *axis,
                             int64_t **starts, int64_t *count)
{
    int64_t m = (n - MR_LPN_PATCH) / s + 1;
    const int64_t last = (m - 1) * s;
    const bool gap = last + MR_LPN_PATCH < n;

    if (gap && !cover)
        return MR_FAIL(MR_ERR_UNSUPPORTED,
                       "LPN tiling: stride %lld leaves the last %lld %s of %lld uncovered "
                       "(choose a stride dividing %lld, or cover the border)",
                       (long long)s, (long long)(n - last - MR_LPN_PATCH), axis, (long long)n,
                       (long long)(n - MR_LPN_PATCH));
    *starts = malloc(sizeof(**starts) * (size_t)(m + 1));
    if (*starts == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN tiling positions");
    for (int64_t i = 0; i < m; i++)
        (*starts)[i] = i * s;
    if (gap)
        (*starts)[m++] = n - MR_LPN_PATCH;
    *count = m;
    return MR_OK;
}

/* the largest stride ≤ 64 whose reference grid covers h×w exactly: a divisor of
 * gcd(h − 128, w − 128) (any stride when both are 128) */
static int64_t auto_stride(int64_t h, int64_t w)
{
    int64_t a = h - MR_LPN_PATCH;
    int64_t b = w - MR_LPN_PATCH;
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    if (a == 0)
        return 64;
    for (int64_t s = 64; s > 1; s--)
        if (a % s == 0)
            return s;
    return 1;
}

mr_status mr_lpn_tiler_create(struct mr_lpn *lpn, int64_t h, int64_t w,
                              const struct mr_lpn_tiling_config *cfg,
                              struct mr_lpn_tiler **out)
{
    mr_status st = MR_OK;
    struct mr_lpn_tiler *t = NULL;
    const int64_t c = lpn->cfg.in_dim;
    const int64_t p = MR_LPN_PATCH;

    if (cfg->stride < 0)
        return MR_FAIL(MR_ERR_ARG, "LPN tiling stride %lld < 0", (long long)cfg->stride);
    if (h < p || w < p)
        return MR_FAIL(MR_ERR_UNSUPPORTED,
                       "LPN needs images of at least %lld×%lld, got %lld×%lld (pad the image)",
                       (long long)p, (long long)p, (long long)h, (long long)w);
    const int64_t stride = cfg->stride > 0 ? cfg->stride : auto_stride(h, w);
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN tiler");
    t->lpn = lpn;
    t->c = c;
    t->h = h;
    t->w = w;
    t->stride = stride;
    MR_CHECK(tile_starts(h, stride, cfg->cover_border, "rows", &t->rows, &t->nrows));
    MR_CHECK(tile_starts(w, stride, cfg->cover_border, "columns", &t->cols, &t->ncols));
    t->patch_psi = calloc((size_t)(t->nrows * t->ncols), sizeof(*t->patch_psi));
    if (t->patch_psi == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "LPN tiler");
        goto out;
    }
    MR_CHECK(mr_array_init_dims(&t->count, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&t->acc, MR_DTYPE_F32, 3, c, h, w));
    MR_CHECK(mr_array_init_dims(&t->chan, MR_DTYPE_F32, 3, c, h, w));
    MR_CHECK(mr_array_init_dims(&t->patch, MR_DTYPE_F32, 3, c, p, p));
    MR_CHECK(mr_array_init_dims(&t->pout, MR_DTYPE_F32, 3, c, p, p));
    if (cfg->window == MR_LPN_WINDOW_HANN) {
        t->win = malloc(sizeof(*t->win) * (size_t)p);
        if (t->win == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "LPN tiler");
            goto out;
        }
        for (int64_t i = 0; i < p; i++) {
            const double v = sin(M_PI * ((double)i + 0.5) / (double)p);
            t->win[i] = (float)(v * v);
        }
    }
    float *cnt = mr_array_f32(&t->count);
    for (int64_t a = 0; a < t->nrows; a++)
        for (int64_t b = 0; b < t->ncols; b++)
            for (int64_t i = 0; i < p; i++)
                for (int64_t j = 0; j < p; j++)
                    cnt[(t->rows[a] + i) * w + t->cols[b] + j] +=
                        t->win != NULL ? t->win[i] * t->win[j] : 1.0f;
    *out = t;
    t = NULL;
out:
    mr_lpn_tiler_free(t);
    return st;
}

void mr_lpn_tiler_apply(struct mr_lpn_tiler *t, struct mr_array *dst, const struct mr_array *src)
{
    const int64_t c = t->c;
    const int64_t h = t->h;
    const int64_t w = t->w;
    const int64_t p = MR_LPN_PATCH;
    const float *x = mr_array_f32(src);
    float *acc = mr_array_f32(&t->acc);
    float *pin = mr_array_f32(&t->patch);
    const float *pout = mr_array_f32(&t->pout);

    MR_ASSERT(mr_array_numel(src) == c * h * w && mr_array_numel(dst) == c * h * w);
    mr_array_zero(&t->acc);
    t->reg = 0.0;
    for (int64_t a = 0; a < t->nrows; a++)
        for (int64_t b = 0; b < t->ncols; b++) {
            const int64_t r0 = t->rows[a];
            const int64_t c0 = t->cols[b];
            double psi = 0.0;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < p; i++)
                    memcpy(pin + (ch * p + i) * p, x + (ch * h + r0 + i) * w + c0,
                           sizeof(*pin) * (size_t)p);
            mr_lpn_prox_patch(t->lpn, &t->pout, &t->patch, &psi);
            t->patch_psi[a * t->ncols + b] = psi;
            /* R(prox(p)) = <p, f(p)> − ½‖f(p)‖² − ψ(p) */
            double dot = 0.0;
            double nrm = 0.0;
            for (int64_t i = 0; i < c * p * p; i++) {
                dot += (double)pin[i] * (double)pout[i];
                nrm += (double)pout[i] * (double)pout[i];
            }
            t->reg += dot - 0.5 * nrm - psi;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < p; i++) {
                    float *ar = acc + (ch * h + r0 + i) * w + c0;
                    const float *pr = pout + (ch * p + i) * p;
                    if (t->win == NULL) {
                        for (int64_t j = 0; j < p; j++)
                            ar[j] += pr[j];
                    } else {
                        const float wi = t->win[i];
                        for (int64_t j = 0; j < p; j++)
                            ar[j] += wi * t->win[j] * pr[j];
                    }
                }
        }
    const float *cnt = mr_array_f32(&t->count);
    float *y = mr_array_f32(dst);
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < h * w; i++)
            y[ch * h * w + i] = acc[ch * h * w + i] / cnt[i];
}

void mr_lpn_tiler_apply_complex(struct mr_lpn_tiler *t, struct mr_array *dst,
                                const struct mr_array *src)
{
    MR_ASSERT(t->c == 2);
    MR_ASSERT(src->dtype == MR_DTYPE_CF32 && dst->dtype == MR_DTYPE_CF32);
    MR_ASSERT(mr_array_numel(src) == t->h * t->w && mr_array_numel(dst) == t->h * t->w);
    mr_complex_to_channels(&t->chan, src);
    mr_lpn_tiler_apply(t, &t->chan, &t->chan);
    mr_channels_to_complex(dst, &t->chan);
}

double mr_lpn_tiler_last_regularizer(const struct mr_lpn_tiler *t)
{
    return t->reg;
}

void mr_lpn_tiler_grid(const struct mr_lpn_tiler *t, int64_t *nrows, const int64_t **rows,
                       int64_t *ncols, const int64_t **cols)
{
    *nrows = t->nrows;
    *rows = t->rows;
    *ncols = t->ncols;
    *cols = t->cols;
}

const double *mr_lpn_tiler_patch_psi(const struct mr_lpn_tiler *t)
{
    return t->patch_psi;
}

int64_t mr_lpn_tiler_stride(const struct mr_lpn_tiler *t)
{
    return t->stride;
}

const struct mr_array *mr_lpn_tiler_count(const struct mr_lpn_tiler *t)
{
    return &t->count;
}

/* ---- the prior ---------------------------------------------------------------------------- */

/* prox with unit step: the LPN's prox ignores lambda (spec §4) */
static void lpn_prior_prox(void *ctx, float lambda, struct mr_array *dst,
                           const struct mr_array *src)
{
    (void)lambda;
    mr_lpn_tiler_apply_complex(ctx, dst, src);
}

static void lpn_prior_free(void *ctx)
{
    mr_lpn_tiler_free(ctx);
}

static const struct mr_prior_ops lpn_prior_ops = {
    .name = "lpn",
    .prox = lpn_prior_prox,
    .free = lpn_prior_free,
};

mr_status mr_lpn_prior_create(struct mr_lpn *lpn, int64_t h, int64_t w,
                              const struct mr_lpn_tiling_config *cfg, struct mr_prior *out)
{
    struct mr_lpn_tiler *t = NULL;
    mr_status st;

    if (lpn->cfg.in_dim != 2)
        return MR_FAIL(MR_ERR_ARG,
                       "an LPN prior on complex images needs in_dim 2 ([Re, Im]), got %lld",
                       (long long)lpn->cfg.in_dim);
    st = mr_lpn_tiler_create(lpn, h, w, cfg, &t);
    if (st != MR_OK)
        return st;
    out->ops = &lpn_prior_ops;
    out->ctx = t;
    return MR_OK;
}

struct mr_lpn_tiler *mr_lpn_prior_tiler(const struct mr_prior *prior)
{
    if (prior->ops != &lpn_prior_ops)
        return NULL;
    return prior->ctx;
}

/* ---- PnP reconstruction ------------------------------------------------------------------- */

const struct mr_lpn_pnp_config mr_lpn_pnp_config_default = {
    .admm = false,
    .pnp = {
        .iters = 20,
        .step = 1.0f,
        .lambda = 1.0f,
        .tol = 0.0f,
        .warm_start = false,
        .rho = 0.05f,
        .scale = 0.5f,
        .cg_iters = 30,
        .cg_tol = 1e-5f,
    },
    .tiling = { .stride = 0, .cover_border = false, .window = MR_LPN_WINDOW_UNIFORM },
    .normalize = false,
};

mr_status mr_lpn_pnp_config_read(const struct mr_config *json, struct mr_lpn_pnp_config *cfg)
{
    mr_status st = MR_OK;
    const char *solver = NULL;
    const char *window = NULL;
    int64_t iters = 0;
    int64_t stride = 0;
    int64_t cg_iters = 0;
    double step = 0.0;
    double tol = 0.0;
    double rho = 0.0;
    double scale = 0.0;
    double cg_tol = 0.0;

    MR_CHECK(mr_config_string(json, "pnp_solver", cfg->admm ? "admm" : "pgd", &solver));
    if (strcmp(solver, "pgd") != 0 && strcmp(solver, "admm") != 0) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "pnp_solver '%s' is neither 'pgd' nor 'admm'", solver);
        goto out;
    }
    MR_CHECK(mr_config_int(json, "pnp_iterations", cfg->pnp.iters, &iters));
    MR_CHECK(mr_config_double(json, "pnp_step", (double)cfg->pnp.step, &step));
    MR_CHECK(mr_config_double(json, "pnp_tol", (double)cfg->pnp.tol, &tol));
    MR_CHECK(mr_config_int(json, "patch_stride", cfg->tiling.stride, &stride));
    MR_CHECK(mr_config_bool(json, "cover_border", cfg->tiling.cover_border,
                            &cfg->tiling.cover_border));
    MR_CHECK(mr_config_string(json, "patch_window",
                              cfg->tiling.window == MR_LPN_WINDOW_HANN ? "hann" : "uniform",
                              &window));
    if (strcmp(window, "uniform") != 0 && strcmp(window, "hann") != 0) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "patch_window '%s' is neither 'uniform' nor 'hann'",
                     window);
        goto out;
    }
    MR_CHECK(mr_config_double(json, "admm_rho", (double)cfg->pnp.rho, &rho));
    MR_CHECK(mr_config_double(json, "admm_scale", (double)cfg->pnp.scale, &scale));
    MR_CHECK(mr_config_int(json, "cg_iterations", cfg->pnp.cg_iters, &cg_iters));
    MR_CHECK(mr_config_double(json, "cg_tol", (double)cfg->pnp.cg_tol, &cg_tol));
    MR_CHECK(mr_config_bool(json, "normalize", cfg->normalize, &cfg->normalize));
    if (iters < 0 || iters > 1000000 || cg_iters < 0 || cg_iters > 1000000 || stride < 0) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "pnp_iterations %lld, cg_iterations %lld or patch_stride "
                     "%lld out of range", (long long)iters, (long long)cg_iters,
                     (long long)stride);
        goto out;
    }
    cfg->admm = strcmp(solver, "admm") == 0;
    cfg->pnp.iters = (int)iters;
    cfg->pnp.step = (float)step;
    cfg->pnp.tol = (float)tol;
    cfg->tiling.stride = stride;
    cfg->tiling.window = strcmp(window, "hann") == 0 ? MR_LPN_WINDOW_HANN : MR_LPN_WINDOW_UNIFORM;
    cfg->pnp.rho = (float)rho;
    cfg->pnp.scale = (float)scale;
    cfg->pnp.cg_iters = (int)cg_iters;
    cfg->pnp.cg_tol = (float)cg_tol;
out:
    return st;
}

void mr_lpn_pnp_config_for_inference(struct mr_lpn_pnp_config *cfg, int iterations)
{
    cfg->normalize = true;
    cfg->tiling.cover_border = true;
    if (cfg->tiling.stride == 0)
        cfg->tiling.stride = 64; /* the reference's stride; the borders are covered above */
    if (iterations > 0)
        cfg->pnp.iters = iterations;
}

struct mr_lpn_recon {
    struct mr_lpn_pnp_config cfg;
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_sense *sense;
    struct mr_linop *A;
    struct mr_pnp *pnp;
    struct mr_prior prior;
    struct mr_array y; /* scaled k-space when normalising */
};

void mr_lpn_recon_free(struct mr_lpn_recon *r)
{
    if (r == NULL)
        return;
    mr_prior_cleanup(&r->prior);
    mr_pnp_free(r->pnp);
    mr_linop_free(r->A);
    mr_sense_free(r->sense);
    mr_array_cleanup(&r->y);
    free(r);
}

mr_status mr_lpn_recon_create(struct mr_lpn *lpn, const struct mr_lpn_pnp_config *cfg,
                              int64_t nc, int64_t h, int64_t w, struct mr_lpn_recon **out)
{
    mr_status st = MR_OK;
    struct mr_lpn_recon *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN reconstruction");
    r->cfg = *cfg;
    r->nc = nc;
    r->h = h;
    r->w = w;
    MR_CHECK(mr_lpn_prior_create(lpn, h, w, &cfg->tiling, &r->prior));
    MR_CHECK(mr_sense_create(nc, h, w, &mr_fft_config_default, &r->sense));
    MR_CHECK(mr_sense_linop_create(r->sense, &r->A));
    MR_CHECK(mr_pnp_create(r->A, &r->pnp));
    if (cfg->normalize)
        MR_CHECK(mr_array_init_dims(&r->y, MR_DTYPE_CF32, 3, nc, h, w));
    *out = r;
    r = NULL;
out:
    mr_lpn_recon_free(r);
    return st;
}

/* a has dtype and dims (d0, d1, d2) for ndim 3, (d1, d2) for ndim 2 */
static mr_status check_dims(const struct mr_array *a, const char *what, enum mr_dtype dtype,
                            int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    const int64_t all[3] = { d0, d1, d2 };
    const int64_t *want = all + (3 - ndim);
    char have[96];
    char exp[96];
    bool ok = a->dtype == dtype && a->ndim == ndim;

    for (int d = 0; ok && d < ndim; d++)
        ok = a->dims[d] == want[d];
    if (!ok)
        return MR_FAIL(MR_ERR_SHAPE, "LPN reconstruction: %s is %s, expected %s %s", what,
                       mr_array_shape_str(a, have, sizeof(have)),
                       mr_dims_str(ndim, want, exp, sizeof(exp)),
                       dtype == MR_DTYPE_CF32 ? "complex64" : "float32");
    return MR_OK;
}

mr_status mr_lpn_recon_run(struct mr_lpn_recon *r, const struct mr_array *ksp,
                           const struct mr_array *mask, const struct mr_array *sens,
                           struct mr_array *img, struct mr_pnp_info *info,
                           const struct mr_probe *probe)
{
    mr_status st = MR_OK;
    const struct mr_array *y = ksp;
    double c = 1.0;

    MR_CHECK(check_dims(ksp, "k-space", MR_DTYPE_CF32, 3, r->nc, r->h, r->w));
    MR_CHECK(check_dims(sens, "sensitivity maps", MR_DTYPE_CF32, 3, r->nc, r->h, r->w));
    MR_CHECK(check_dims(mask, "mask", MR_DTYPE_F32, 2, r->nc, r->h, r->w));
    MR_CHECK(check_dims(img, "image", MR_DTYPE_CF32, 2, r->nc, r->h, r->w));
    MR_CHECK(mr_sense_set_maps(r->sense, sens));
    MR_CHECK(mr_sense_set_mask(r->sense, mask));
    if (r->cfg.normalize) {
        /* c = max|Aᴴy|; solve for y / c (the LPN expects intensities ~[0, 1]) */
        mr_linop_adjoint(r->A, img, ksp);
        c = mr_vec_max_abs(img);
        if (!(c > 0.0) || !isfinite(c)) {
            st = MR_FAIL(MR_ERR_DATA, "LPN reconstruction: max|A^H y| = %g cannot normalise",
                         c);
            goto out;
        }
        mr_array_copy(&r->y, ksp);
        mr_vec_scale(&r->y, (float)(1.0 / c));
        y = &r->y;
    }
    if (r->cfg.admm)
        MR_CHECK(mr_pnp_admm(r->pnp, &r->cfg.pnp, r->A, &r->prior, y, img, info, probe));
    else
        MR_CHECK(mr_pnp_pgd(r->pnp, &r->cfg.pnp, r->A, &r->prior, y, img, info, probe));
    if (r->cfg.normalize)
        mr_vec_scale(img, (float)c);
out:
    return st;
}

double mr_lpn_recon_regularizer(const struct mr_lpn_recon *r)
{
    return mr_lpn_tiler_last_regularizer(r->prior.ctx);
}

const struct mr_lpn_tiler *mr_lpn_recon_tiler(const struct mr_lpn_recon *r)
{
    return r->prior.ctx;
}

/* ---- the network interface (networks/net.h) ----------------------------------------------- */

struct lpn_net {
    struct mr_lpn *lpn;
    struct mr_lpn_pnp_config cfg;
    struct mr_lpn_recon *recon;
};

static void lpn_net_free(void *ctx)
{
    struct lpn_net *n = ctx;
    if (n == NULL)
        return;
    mr_lpn_recon_free(n->recon);
    mr_lpn_free(n->lpn);
    free(n);
}

static mr_status lpn_net_create(struct mr_weights *ws, const struct mr_config *json,
                                const struct mr_net_options *opt, void **ctx)
{
    mr_status st = MR_OK;
    struct lpn_net *n = calloc(1, sizeof(*n));

    if (n == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN network");
    n->cfg = mr_lpn_pnp_config_default;
    MR_CHECK(mr_lpn_pnp_config_read(json, &n->cfg));
    if (opt->inference)
        mr_lpn_pnp_config_for_inference(&n->cfg, opt->iterations);
    MR_CHECK(lpn_create_json(ws, json, &n->lpn));
    if (n->lpn->cfg.in_dim != 2) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "an LPN reconstructs complex MR images with in_dim 2 "
                     "([Re, Im]); this one has in_dim %lld", (long long)n->lpn->cfg.in_dim);
        goto out;
    }
    *ctx = n;
    n = NULL;
out:
    lpn_net_free(n);
    return st;
}

static mr_status lpn_net_prepare(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                                 int64_t *out_dims, enum mr_dtype *out_dtype)
{
    struct lpn_net *n = ctx;
    mr_status st;

    mr_lpn_recon_free(n->recon);
    n->recon = NULL;
    st = mr_lpn_recon_create(n->lpn, &n->cfg, nc, h, w, &n->recon);
    if (st == MR_ERR_UNSUPPORTED)
        return mr_fail_context(MR_ERR_SHAPE, "lpn");
    if (st != MR_OK)
        return st;
    *out_ndim = 2;
    out_dims[0] = h;
    out_dims[1] = w;
    *out_dtype = MR_DTYPE_CF32;
    return MR_OK;
}

static mr_status lpn_net_run(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                             const struct mr_probe *probe)
{
    struct lpn_net *n = ctx;
    return mr_lpn_recon_run(n->recon, in->ksp, in->mask, in->sens, out, NULL, probe);
}

static void lpn_net_image(void *ctx, struct mr_array *img, const struct mr_array *out)
{
    (void)ctx;
    const float complex *x = mr_array_cf32(out);
    float *m = mr_array_f32(img);
    const int64_t n = mr_array_numel(img);

    MR_ASSERT(mr_array_numel(out) == n);
    for (int64_t i = 0; i < n; i++)
        m[i] = cabsf(x[i]);
}

const struct mr_net_ops mr_lpn_ops = {
    .name = "lpn",
    .needs = MR_NET_NEED_SENS,
    .create = lpn_net_create,
    .prepare = lpn_net_prepare,
    .run = lpn_net_run,
    .image = lpn_net_image,
    .free = lpn_net_free,
};
