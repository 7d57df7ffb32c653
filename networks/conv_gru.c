/*
 * Conv2dGRU / NormConv2dGRU of DIRECT (NKI-AI/direct, direct/nn/recurrent/recurrent.py), the
 * recurrent unit of the Recurrent Variational Network (Yiasemis et al., CVPR 2022). Conventions
 * and the exact layer table are in conv_gru.h; the math follows
 * ../shared/specs/recurrentvarnet.md §3.2-3.3.
 *
 * Each layer's concatenations are made free by construction: the conv output a is written into
 * the first Hc channels of one (2Hc, H, W) buffer and the state (then r ⊙ state) into the
 * second half, so the three 1×1 gate convs read [a, h] / [a, r ⊙ h] directly.
 */
#include "networks/conv_gru.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "networks/conv_weights.h"

#define MR_CONV_GRU_PAR_MIN ((int64_t)1 << 15)

static mr_status load_conv(struct mr_conv2d *c, struct mr_weights *ws, const char *prefix,
                           const char *name, int64_t cin, int64_t cout, int64_t k)
{
    char key[512];

    snprintf(key, sizeof(key), "%s%s", prefix, name);
    *c = mr_conv2d_make(cin, cout, k, 0);
    return mr_conv2d_load(c, ws, key, true);
}

mr_status mr_conv_gru_init(struct mr_conv_gru *g, struct mr_weights *ws, const char *prefix,
                           int64_t hidden, int64_t layers, bool normalized)
{
    char name[64];
    mr_status st = MR_OK;

    if (hidden < 1)
        return MR_FAIL(MR_ERR_ARG, "Conv2dGRU: hidden channels %lld < 1", (long long)hidden);
    if (layers < 1 || layers > MR_CONV_GRU_MAX_LAYERS)
        return MR_FAIL(MR_ERR_ARG, "Conv2dGRU: %lld layers, supported 1..%d", (long long)layers,
                       MR_CONV_GRU_MAX_LAYERS);
    memset(g, 0, sizeof(*g));
    g->hidden = hidden;
    g->layers = layers;
    g->normalized = normalized;

    for (int64_t l = 0; l < layers; l++) {
        snprintf(name, sizeof(name), "reset_gates.%lld.0", (long long)l);
        MR_CHECK(load_conv(&g->reset[l], ws, prefix, name, 2 * hidden, hidden, 1));
    }
    for (int64_t l = 0; l < layers; l++) {
        snprintf(name, sizeof(name), "update_gates.%lld.0", (long long)l);
        MR_CHECK(load_conv(&g->update[l], ws, prefix, name, 2 * hidden, hidden, 1));
    }
    for (int64_t l = 0; l < layers; l++) {
        snprintf(name, sizeof(name), "out_gates.%lld.0", (long long)l);
        MR_CHECK(load_conv(&g->out[l], ws, prefix, name, 2 * hidden, hidden, 1));
    }
    for (int64_t l = 0; l <= layers; l++) {
        int64_t cin = l == 0 ? 2 : hidden;
        int64_t cout = l == layers ? 2 : hidden;
        int64_t k = l == 0 ? 5 : 3;
        /* index 1 is dilated whatever its role (also the output layer when L = 1) */
        int64_t dil = l == 1 ? 2 : 1;
        int64_t pad = l <= 1 ? 2 : 1;
        struct mr_conv2d *c = &g->conv[l];

        snprintf(name, sizeof(name), "conv_blocks.%lld.1", (long long)l);
        MR_CHECK(load_conv(c, ws, prefix, name, cin, cout, k));
        c->dilation[0] = dil;
        c->dilation[1] = dil;
        for (int i = 0; i < 4; i++)
            c->pad[i] = pad;
        c->pad_mode = MR_PAD_MODE_REPLICATE;
        MR_CHECK(mr_conv2d_prepare_winograd(c, &g->wino[l], false));
    }
    for (int64_t l = 0; l < layers; l++) {
        const int64_t nw = 2 * hidden * 2 * hidden;
        struct mr_conv2d *zr = &g->zr[l];
        MR_CHECK(mr_array_init_dims(&g->zr_store[l], MR_DTYPE_F32, 1, nw + 2 * hidden));
        float *wz = mr_array_f32(&g->zr_store[l]);
        memcpy(wz, g->update[l].w, sizeof(float) * (size_t)(nw / 2));
        memcpy(wz + nw / 2, g->reset[l].w, sizeof(float) * (size_t)(nw / 2));
        memcpy(wz + nw, g->update[l].b, sizeof(float) * (size_t)hidden);
        memcpy(wz + nw + hidden, g->reset[l].b, sizeof(float) * (size_t)hidden);
        *zr = mr_conv2d_make(2 * hidden, 2 * hidden, 1, 0);
        zr->w = wz;
        zr->b = wz + nw;
    }
out:
    return st;
}

void mr_conv_gru_cleanup(struct mr_conv_gru *g)
{
    for (int l = 0; l <= MR_CONV_GRU_MAX_LAYERS; l++)
        mr_array_cleanup(&g->wino[l]);
    for (int l = 0; l < MR_CONV_GRU_MAX_LAYERS; l++)
        mr_array_cleanup(&g->zr_store[l]);
}

static int64_t conv_scratch_max(const struct mr_conv_gru *g, int64_t h, int64_t w)
{
    int64_t m = 0;
    for (int64_t l = 0; l <= g->layers; l++) {
        int64_t s = mr_conv2d_scratch_size(&g->conv[l], h, w);
        if (s > m)
            m = s;
    }
    return m;
}

/* workspace: cat (2Hc·P) | z (Hc·P) | r (Hc·P) | xin (Hc·P) | xn (2·P) | conv scratch */
int64_t mr_conv_gru_work_size(const struct mr_conv_gru *g, int64_t h, int64_t w)
{
    const int64_t p = h * w;
    return 5 * g->hidden * p + 2 * p + conv_scratch_max(g, h, w);
}

static void wrap3(struct mr_array *a, float *data, int64_t c, int64_t h, int64_t w)
{
    mr_array_wrap(a, MR_DTYPE_F32, 3, (const int64_t[]){ c, h, w }, data);
}

/* per-channel mean and unbiased std of x (2, P), then xn = (x − mean) / std */
static void gru_normalize(float *xn, const float *x, int64_t p, float mean[2], float std[2])
{
    for (int64_t c = 0; c < 2; c++) {
        const float *xc = x + c * p;
        double s = 0.0;
        for (int64_t i = 0; i < p; i++)
            s += (double)xc[i];
        double m = s / (double)p;
        double v = 0.0;
        for (int64_t i = 0; i < p; i++) {
            double d = (double)xc[i] - m;
            v += d * d;
        }
        mean[c] = (float)m;
        std[c] = (float)sqrt(v / (double)(p - 1)); /* torch.std: unbiased, no epsilon */
        for (int64_t i = 0; i < p; i++)
            xn[c * p + i] = (xc[i] - mean[c]) / std[c];
    }
}

/* h ← h ⊙ (1 − z) + n ⊙ z and xin = ReLU(h), over n elements */
static void gru_update(float *h, float *xin, const float *z, const float *nc, int64_t n)
{
#pragma omp parallel for if (n > MR_CONV_GRU_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float hn = h[i] * (1.0f - z[i]) + nc[i] * z[i];
        h[i] = hn;
        xin[i] = hn > 0.0f ? hn : 0.0f;
    }
}

static void mul_into(float *dst, const float *a, const float *b, int64_t n)
{
#pragma omp parallel for if (n > MR_CONV_GRU_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        dst[i] = a[i] * b[i];
}

void mr_conv_gru_forward(const struct mr_conv_gru *g, struct mr_array *out,
                         const struct mr_array *x, struct mr_array *state, float *work,
                         const struct mr_probe *probe)
{
    const int64_t hc = g->hidden;
    const int64_t nl = g->layers;
    MR_ASSERT(x->ndim == 3 && x->dims[0] == 2 && x->dtype == MR_DTYPE_F32);
    const int64_t h = x->dims[1];
    const int64_t w = x->dims[2];
    const int64_t p = h * w;
    MR_ASSERT(mr_array_same_shape(out, x));
    MR_ASSERT(state->dtype == MR_DTYPE_F32 && mr_array_numel(state) == nl * hc * p);

    float *cat = work;
    float *z = cat + 2 * hc * p;
    float *r = z + hc * p;
    float *xin = r + hc * p;
    float *xn = xin + hc * p;
    float *scr = xn + 2 * p;
    float *hs = mr_array_f32(state);
    float mean[2] = { 0.0f, 0.0f };
    float std[2] = { 1.0f, 1.0f };
    struct mr_array scratch;
    struct mr_array a_in;
    struct mr_array a_cat;
    struct mr_array a_feat;
    struct mr_array a_z;
    struct mr_array a_zr;
    struct mr_array a_r;
    struct mr_array a_xn;

    mr_array_wrap(&scratch, MR_DTYPE_F32, 1, (const int64_t[]){ conv_scratch_max(g, h, w) },
                  scr);
    wrap3(&a_cat, cat, 2 * hc, h, w);
    wrap3(&a_feat, cat, hc, h, w);
    wrap3(&a_z, z, hc, h, w);
    wrap3(&a_zr, z, 2 * hc, h, w);
    wrap3(&a_r, r, hc, h, w);
    wrap3(&a_in, xin, hc, h, w);
    wrap3(&a_xn, xn, 2, h, w);

    const struct mr_array *in = x;
    if (g->normalized) {
        gru_normalize(xn, mr_array_f32(x), p, mean, std);
        in = &a_xn;
    }
    for (int64_t l = 0; l < nl; l++) {
        float *hl = hs + l * hc * p;

        mr_conv2d_forward(&g->conv[l], &a_feat, in, &scratch);
        mr_probe_emitf(probe, -1, &a_feat, "gru_conv_%lld_preact", (long long)l);
        mr_relu(&a_feat);
        memcpy(cat + hc * p, hl, sizeof(float) * (size_t)(hc * p));
        /* z = σ(update(cat)), r = σ(reset(cat)): one stacked GEMM into z|r (adjacent) */
        mr_conv2d_forward(&g->zr[l], &a_zr, &a_cat, NULL);
        mr_sigmoid(&a_zr);
        mul_into(cat + hc * p, a_r.data, hl, hc * p);
        mr_conv2d_forward(&g->out[l], &a_r, &a_cat, NULL); /* candidate n overwrites r */
        mr_tanh(&a_r);
        gru_update(hl, xin, z, r, hc * p);
        in = &a_in;
    }
    mr_conv2d_forward(&g->conv[nl], out, in, &scratch);
    mr_probe_emitf(probe, -1, out, "gru_conv_%lld_preact", (long long)nl);
    if (g->normalized) {
        float *o = mr_array_f32(out);
        for (int64_t c = 0; c < 2; c++)
            for (int64_t i = 0; i < p; i++)
                o[c * p + i] = o[c * p + i] * std[c] + mean[c];
    }
}
