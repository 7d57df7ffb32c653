/*
 * Convolutional IndRNN, GRU and MGU cells (rnn_cells.h), as ATOMMIC's rim_base/rnn_cells.py
 * computes them for the RIM (Lønning et al., Med. Image Anal. 53:64, 2019) and CIRIM
 * (Karkalousos et al., Phys. Med. Biol. 67:124001, 2022). The convolutions are layers.h's;
 * this file adds the gate arithmetic, fused into one pass over the pixels.
 */
#include "networks/rnn_cells.h"

#include <math.h>
#include <stdio.h>
#include <strings.h>

/* element count above which the gate loops run in parallel */
#define RNN_PAR_MIN ((int64_t)1 << 15)

mr_status mr_rnn_cell_type_parse(const char *s, enum mr_rnn_cell_type *out)
{
    if (strcasecmp(s, "indrnn") == 0)
        *out = MR_RNN_CELL_TYPE_INDRNN;
    else if (strcasecmp(s, "gru") == 0)
        *out = MR_RNN_CELL_TYPE_GRU;
    else if (strcasecmp(s, "mgu") == 0)
        *out = MR_RNN_CELL_TYPE_MGU;
    else
        return MR_FAIL(MR_ERR_UNSUPPORTED,
                       "recurrent layer '%s' is not one of IndRNN, GRU, MGU", s);
    return MR_OK;
}

const char *mr_rnn_cell_type_name(enum mr_rnn_cell_type type)
{
    switch (type) {
    case MR_RNN_CELL_TYPE_INDRNN: return "IndRNN";
    case MR_RNN_CELL_TYPE_GRU: return "GRU";
    case MR_RNN_CELL_TYPE_MGU: return "MGU";
    }
    return "?";
}

int64_t mr_rnn_cell_type_gates(enum mr_rnn_cell_type type)
{
    switch (type) {
    case MR_RNN_CELL_TYPE_INDRNN: return 1;
    case MR_RNN_CELL_TYPE_GRU: return 3;
    case MR_RNN_CELL_TYPE_MGU: return 2;
    }
    MR_ASSERT(false);
    return 0;
}

/* nn.Conv2d(cin, cout, k, padding = d·(k − 1) // 2, dilation = d): zero padding */
static struct mr_conv2d cell_conv(int64_t cin, int64_t cout, int64_t k, int64_t d)
{
    struct mr_conv2d c = mr_conv2d_make(cin, cout, k, d * (k - 1) / 2);
    c.dilation[0] = d;
    c.dilation[1] = d;
    return c;
}

mr_status mr_rnn_cell_load(struct mr_rnn_cell *c, struct mr_weights *ws, const char *prefix,
                           enum mr_rnn_cell_type type, int64_t cin, int64_t hidden, int64_t k,
                           int64_t d, bool bias)
{
    const int64_t g = mr_rnn_cell_type_gates(type);
    const struct mr_array *t = NULL;
    char name[256];
    mr_status st;

    if (cin < 1 || hidden < 1 || k < 1 || d < 1)
        return MR_FAIL(MR_ERR_ARG, "%s: cell sizes must be positive (in %lld, hidden %lld, "
                       "kernel %lld, dilation %lld)", prefix, (long long)cin,
                       (long long)hidden, (long long)k, (long long)d);
    if (k % 2 == 0)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "%s: even recurrent kernel %lld shrinks the image",
                       prefix, (long long)k);

    c->type = type;
    c->cin = cin;
    c->hidden = hidden;
    c->ih = cell_conv(cin, g * hidden, k, d);
    c->hh = cell_conv(hidden, g * hidden, k, d);
    c->hh_diag = NULL;

    snprintf(name, sizeof(name), "%s.ih.weight", prefix);
    st = mr_weights_get(ws, name, 4, (const int64_t[]){ g * hidden, cin, k, k }, &t);
    if (st != MR_OK)
        return st;
    c->ih.w = mr_array_f32(t);
    if (bias) {
        snprintf(name, sizeof(name), "%s.ih.bias", prefix);
        st = mr_weights_get(ws, name, 1, (const int64_t[]){ g * hidden }, &t);
        if (st != MR_OK)
            return st;
        c->ih.b = mr_array_f32(t);
    }
    if (type == MR_RNN_CELL_TYPE_INDRNN) {
        snprintf(name, sizeof(name), "%s.hh", prefix);
        st = mr_weights_get(ws, name, 4, (const int64_t[]){ 1, hidden, 1, 1 }, &t);
        if (st != MR_OK)
            return st;
        c->hh_diag = mr_array_f32(t);
        return MR_OK;
    }
    snprintf(name, sizeof(name), "%s.hh.weight", prefix);
    st = mr_weights_get(ws, name, 4, (const int64_t[]){ g * hidden, hidden, k, k }, &t);
    if (st != MR_OK)
        return st;
    c->hh.w = mr_array_f32(t);
    return MR_OK;
}

/* scratch layout: [gi (g·F·H·W) | gh (g·F·H·W, gated cells only) | conv scratch] */
int64_t mr_rnn_cell_scratch_size(const struct mr_rnn_cell *c, int64_t h, int64_t w)
{
    const int64_t gates = c->ih.cout * h * w;
    int64_t conv = mr_conv2d_scratch_size(&c->ih, h, w);

    if (c->type == MR_RNN_CELL_TYPE_INDRNN)
        return gates + conv;
    int64_t conv_hh = mr_conv2d_scratch_size(&c->hh, h, w);
    return 2 * gates + (conv_hh > conv ? conv_hh : conv);
}

static float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

void mr_rnn_cell_forward(const struct mr_rnn_cell *c, struct mr_array *hid,
                         const struct mr_array *a, struct mr_array *scratch)
{
    MR_ASSERT(hid->ndim == 3 && hid->dims[0] == c->hidden);
    MR_ASSERT(a->ndim == 3 && a->dims[0] == c->cin);
    MR_ASSERT(a->dims[1] == hid->dims[1] && a->dims[2] == hid->dims[2]);
    const int64_t h = hid->dims[1];
    const int64_t w = hid->dims[2];
    const int64_t n = h * w;
    const int64_t f = c->hidden;
    const int64_t gated = c->type == MR_RNN_CELL_TYPE_INDRNN ? 0 : 1;
    MR_ASSERT(mr_array_numel(scratch) >= mr_rnn_cell_scratch_size(c, h, w));

    float *base = mr_array_f32(scratch);
    const int64_t gdims[3] = { c->ih.cout, h, w };
    struct mr_array gi;
    struct mr_array gh;
    struct mr_array cs;
    const int64_t gates = c->ih.cout * n;
    const int64_t csize = mr_array_numel(scratch) - (1 + gated) * gates;
    mr_array_wrap(&gi, MR_DTYPE_F32, 3, gdims, base);
    mr_array_wrap(&gh, MR_DTYPE_F32, 3, gdims, base + gates);
    mr_array_wrap(&cs, MR_DTYPE_F32, 1, &csize, base + (1 + gated) * gates);

    float *y = mr_array_f32(hid);
    const float *p = mr_array_f32(&gi);
    mr_conv2d_forward(&c->ih, &gi, a, &cs);

    if (c->type == MR_RNN_CELL_TYPE_INDRNN) {
        /* h' = ReLU(ih(a) + hh ⊙ h) */
#pragma omp parallel for if (f * n > RNN_PAR_MIN) schedule(static)
        for (int64_t ch = 0; ch < f; ch++) {
            const float u = c->hh_diag[ch];
            for (int64_t i = 0; i < n; i++) {
                float v = p[ch * n + i] + u * y[ch * n + i];
                y[ch * n + i] = v > 0.0f ? v : 0.0f;
            }
        }
        return;
    }

    const float *q = mr_array_f32(&gh);
    mr_conv2d_forward(&c->hh, &gh, hid, &cs);
    if (c->type == MR_RNN_CELL_TYPE_GRU) {
        /* blocks [r, z, n]: h' = (1 − z)·tanh(ih_n + r·hh_n) + z·h */
#pragma omp parallel for if (f * n > RNN_PAR_MIN) schedule(static)
        for (int64_t ch = 0; ch < f; ch++) {
            for (int64_t i = 0; i < n; i++) {
                const int64_t j = ch * n + i;
                float r = sigmoidf(p[j] + q[j]);
                float z = sigmoidf(p[f * n + j] + q[f * n + j]);
                float nn = tanhf(p[2 * f * n + j] + r * q[2 * f * n + j]);
                y[j] = nn * (1.0f - z) + z * y[j];
            }
        }
        return;
    }
    /* MGU, blocks [f, c]: h' = c + f·(h − c) */
#pragma omp parallel for if (f * n > RNN_PAR_MIN) schedule(static)
    for (int64_t ch = 0; ch < f; ch++) {
        for (int64_t i = 0; i < n; i++) {
            const int64_t j = ch * n + i;
            float fg = sigmoidf(p[j] + q[j]);
            float cc = tanhf(p[f * n + j] + fg * q[f * n + j]);
            y[j] = cc + fg * (y[j] - cc);
        }
    }
}
