/*
 * Recurrent Variational Network (Yiasemis, Moriakov, Karkalousos, Caan, Teuwen, "Recurrent
 * Variational Network: A Deep Learning Inverse Problem Solver applied to the task of
 * Accelerated MRI Reconstruction", CVPR 2022) as DIRECT computes it: model, recurrent state
 * initializer and unrolled k-space updates (../shared/specs/recurrentvarnet.md §3).
 *
 * Complex products are those of DIRECT's complex_multiplication (re = ar·br − ai·bi,
 * im = ar·bi + ai·br, which C's float complex product computes alike), and coil sums
 * accumulate in float from coil 0 upwards, like torch's sum over a short axis
 * (recon/combine.h MR_COIL_SUM_FLOAT).
 */
#include "networks/recurrentvarnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/conv_weights.h"
#include "recon/combine.h"
#include "recon/dc.h"

#define MR_RVN_PAR_MIN ((int64_t)1 << 15)

const struct mr_recurrentvarnet_config mr_recurrentvarnet_config_default = {
    .num_steps = 15,
    .hidden = 64,
    .layers = 4,
    .no_parameter_sharing = true,
    .init = MR_RVN_INIT_NONE,
    .init_channels = { 32, 32, 64, 64 },
    .init_dilations = { 1, 1, 2, 4 },
    .n_init = 4,
    .multiscale = 1,
    .normalized = false,
    .fft = { .centered = true, .norm = MR_FFT_NORM_ORTHO },
};

struct mr_recurrentvarnet {
    struct mr_recurrentvarnet_config cfg;
    int64_t nblocks;
    struct mr_conv_gru *gru; /* nblocks */
    const float **alpha;     /* nblocks learning rates, borrowed (1,) tensors */

    /* recurrent state initializer (cfg.init != NONE) */
    struct mr_conv2d rsi_conv[MR_RVN_MAX_INIT];
    struct mr_conv2d rsi_out[MR_CONV_GRU_MAX_LAYERS];
    int64_t rsi_feat;      /* Σ c_i: every feature map, one contiguous (Σc, H, W) buffer */
    int64_t rsi_ms_offset; /* first channel of the m concatenated maps (they are the last) */

    /* prepared size and buffers */
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_fft2 *fft;
    struct mr_array tmp;   /* (C, H, W) CF32: coil images / expanded k-space */
    struct mr_array err;   /* (C, H, W) CF32: e */
    struct mr_array img;   /* (H, W) CF32 */
    struct mr_array xin;   /* (2, H, W) F32 */
    struct mr_array wout;  /* (2, H, W) F32 */
    struct mr_array state; /* (L, Hc, H, W) F32 */
    struct mr_array feat;  /* (Σc, H, W) F32 */
    float *work;
    struct mr_array work_store; /* owns work (an mr_array: huge pages when large) */
};

static mr_status parse_init(const char *s, enum mr_rvn_init *out)
{
    if (strcmp(s, "sense") == 0)
        *out = MR_RVN_INIT_SENSE;
    else if (strcmp(s, "zero_filled") == 0)
        *out = MR_RVN_INIT_ZERO_FILLED;
    else if (strcmp(s, "input_image") == 0)
        *out = MR_RVN_INIT_INPUT_IMAGE;
    else
        return MR_FAIL(MR_ERR_WEIGHTS,
                       "RecurrentVarNet: initializer_initialization '%s' is not one of "
                       "'sense', 'zero_filled', 'input_image'", s);
    return MR_OK;
}

mr_status mr_recurrentvarnet_config_parse(const struct mr_config *json,
                                          struct mr_recurrentvarnet_config *out)
{
    struct mr_recurrentvarnet_config c = mr_recurrentvarnet_config_default;
    const struct mr_recurrentvarnet_config *d = &mr_recurrentvarnet_config_default;
    int64_t in_channels = 2;
    bool learned = false;
    const char *mode = NULL;
    int nch = 0;
    int ndil = 0;
    mr_status st = MR_OK;

    MR_CHECK(mr_config_int(json, "in_channels", 2, &in_channels));
    if (in_channels != 2) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "RecurrentVarNet: in_channels %lld, only 2 is supported",
                     (long long)in_channels);
        goto out;
    }
    MR_CHECK(mr_config_int_in(json, "num_steps", d->num_steps, 1, MR_NET_MAX_BLOCKS,
                              &c.num_steps));
    MR_CHECK(mr_config_int_in(json, "recurrent_hidden_channels", d->hidden, 1,
                              MR_NET_MAX_CHANNELS, &c.hidden));
    MR_CHECK(mr_config_int_in(json, "recurrent_num_layers", d->layers, 1,
                              MR_CONV_GRU_MAX_LAYERS, &c.layers));
    MR_CHECK(mr_config_bool(json, "no_parameter_sharing", d->no_parameter_sharing,
                            &c.no_parameter_sharing));
    MR_CHECK(mr_config_bool(json, "learned_initializer", false, &learned));
    MR_CHECK(mr_config_string(json, "initializer_initialization", NULL, &mode));
    MR_CHECK(mr_config_int_array(json, "initializer_channels", d->init_channels, d->n_init,
                                 c.init_channels, MR_RVN_MAX_INIT, &nch));
    MR_CHECK(mr_config_int_array(json, "initializer_dilations", d->init_dilations, d->n_init,
                                 c.init_dilations, MR_RVN_MAX_INIT, &ndil));
    MR_CHECK(mr_config_int(json, "initializer_multiscale", d->multiscale, &c.multiscale));
    MR_CHECK(mr_config_bool(json, "normalized", d->normalized, &c.normalized));
    MR_CHECK(mr_config_bool(json, "fft_centered", d->fft.centered, &c.fft.centered));
    c.n_init = nch < ndil ? nch : ndil;
    c.init = MR_RVN_INIT_NONE;
    if (learned && mode != NULL) {
        if (strcmp(mode, "zeros") == 0) {
            st = MR_FAIL(MR_ERR_WEIGHTS, "RecurrentVarNet: initializer_initialization 'zeros' "
                                         "is rejected by DIRECT");
            goto out;
        }
        MR_CHECK(parse_init(mode, &c.init));
        /* the RSI is built: its sizes are used */
        for (int i = 0; i < c.n_init; i++) {
            MR_CHECK(mr_config_check_int("initializer_channels", i, c.init_channels[i], 1,
                                         MR_NET_MAX_CHANNELS));
            MR_CHECK(mr_config_check_int("initializer_dilations", i, c.init_dilations[i], 1,
                                         MR_NET_MAX_DILATION));
        }
        MR_CHECK(mr_config_check_int("initializer_multiscale", -1, c.multiscale, 1, c.n_init));
    }
    *out = c;
out:
    return st;
}

/* the buffers and plans of the prepared size */
static void release_buffers(struct mr_recurrentvarnet *net)
{
    mr_fft2_free(net->fft);
    net->fft = NULL;
    mr_array_cleanup(&net->tmp);
    mr_array_cleanup(&net->err);
    mr_array_cleanup(&net->img);
    mr_array_cleanup(&net->xin);
    mr_array_cleanup(&net->wout);
    mr_array_cleanup(&net->state);
    mr_array_cleanup(&net->feat);
    mr_array_cleanup(&net->work_store);
    net->work = NULL;
    net->nc = 0;
}

void mr_recurrentvarnet_free(struct mr_recurrentvarnet *net)
{
    if (net == NULL)
        return;
    release_buffers(net);
    if (net->gru != NULL)
        for (int64_t b = 0; b < net->nblocks; b++)
            mr_conv_gru_cleanup(&net->gru[b]);
    free(net->gru);
    free(net->alpha);
    free(net);
}

static mr_status load_conv(struct mr_conv2d *c, struct mr_weights *ws, const char *key,
                           int64_t cin, int64_t cout, int64_t k)
{
    *c = mr_conv2d_make(cin, cout, k, 0);
    return mr_conv2d_load(c, ws, key, true);
}

static mr_status load_rsi(struct mr_recurrentvarnet *net, struct mr_weights *ws,
                          const char *prefix)
{
    const struct mr_recurrentvarnet_config *c = &net->cfg;
    char key[512];
    int64_t cin = 2;
    mr_status st = MR_OK;

    if (c->n_init < 1)
        return MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: the initializer has no conv layers");
    if (c->multiscale < 1 || c->multiscale > c->n_init)
        return MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: initializer_multiscale %lld outside "
                       "[1, %d]", (long long)c->multiscale, c->n_init);
    net->rsi_feat = 0;
    for (int i = 0; i < c->n_init; i++) {
        struct mr_conv2d *cv = &net->rsi_conv[i];
        int64_t d = c->init_dilations[i];
        if (c->init_channels[i] < 1 || d < 1)
            return MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: initializer layer %d has %lld "
                           "channels, dilation %lld", i, (long long)c->init_channels[i],
                           (long long)d);
        snprintf(key, sizeof(key), "%sinitializer.conv_blocks.%d.1", prefix, i);
        MR_CHECK(load_conv(cv, ws, key, cin, c->init_channels[i], 3));
        cv->dilation[0] = d;
        cv->dilation[1] = d;
        for (int j = 0; j < 4; j++)
            cv->pad[j] = d;
        cv->pad_mode = MR_PAD_MODE_REPLICATE;
        cin = c->init_channels[i];
        net->rsi_feat += cin;
    }
    int64_t ms = 0;
    for (int64_t i = c->n_init - c->multiscale; i < c->n_init; i++)
        ms += c->init_channels[i];
    net->rsi_ms_offset = net->rsi_feat - ms;
    for (int64_t j = 0; j < c->layers; j++) {
        snprintf(key, sizeof(key), "%sinitializer.out_blocks.%lld.0", prefix, (long long)j);
        MR_CHECK(load_conv(&net->rsi_out[j], ws, key, ms, c->hidden, 1));
    }
out:
    return st;
}

mr_status mr_recurrentvarnet_create(struct mr_weights *ws, const char *prefix,
                                    const struct mr_recurrentvarnet_config *cfg,
                                    struct mr_recurrentvarnet **out)
{
    struct mr_recurrentvarnet *net = NULL;
    char key[512];
    mr_status st = MR_OK;

    if (cfg->num_steps < 1 || cfg->hidden < 1 || cfg->layers < 1 ||
        cfg->layers > MR_CONV_GRU_MAX_LAYERS) {
        st = MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: num_steps %lld, hidden %lld, layers %lld "
                     "(need ≥ 1, layers ≤ %d)", (long long)cfg->num_steps,
                     (long long)cfg->hidden, (long long)cfg->layers, MR_CONV_GRU_MAX_LAYERS);
        goto out;
    }
    net = calloc(1, sizeof(*net));
    if (net == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "RecurrentVarNet");
        goto out;
    }
    net->cfg = *cfg;
    net->nblocks = cfg->no_parameter_sharing ? cfg->num_steps : 1;
    net->gru = calloc((size_t)net->nblocks, sizeof(*net->gru));
    net->alpha = calloc((size_t)net->nblocks, sizeof(*net->alpha));
    if (net->gru == NULL || net->alpha == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "RecurrentVarNet: %lld blocks", (long long)net->nblocks);
        goto out;
    }
    if (cfg->init != MR_RVN_INIT_NONE)
        MR_CHECK(load_rsi(net, ws, prefix));
    for (int64_t b = 0; b < net->nblocks; b++) {
        const struct mr_array *lr = NULL;
        snprintf(key, sizeof(key), "%sblock_list.%lld.learning_rate", prefix, (long long)b);
        MR_CHECK(mr_weights_get(ws, key, 1, (const int64_t[]){ 1 }, &lr));
        net->alpha[b] = mr_array_f32(lr);
        snprintf(key, sizeof(key), "%sblock_list.%lld.regularizer.%s", prefix, (long long)b,
                 cfg->normalized ? "convgru." : "");
        MR_CHECK(mr_conv_gru_init(&net->gru[b], ws, key, cfg->hidden, cfg->layers,
                                  cfg->normalized));
    }
    *out = net;
    net = NULL;
out:
    mr_recurrentvarnet_free(net);
    return st;
}

const struct mr_recurrentvarnet_config *
mr_recurrentvarnet_get_config(const struct mr_recurrentvarnet *net)
{
    return &net->cfg;
}

mr_status mr_recurrentvarnet_prepare(struct mr_recurrentvarnet *net, int64_t nc, int64_t h,
                                     int64_t w)
{
    const struct mr_recurrentvarnet_config *c = &net->cfg;
    mr_status st = MR_OK;

    if (nc < 1 || h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: size %lld × %lld × %lld", (long long)nc,
                       (long long)h, (long long)w);
    if (c->normalized && h * w < 2)
        return MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: a normalised GRU needs ≥ 2 pixels");
    if (net->fft != NULL && net->nc == nc && net->h == h && net->w == w)
        return MR_OK;
    release_buffers(net);

    int64_t work = 0;
    for (int64_t b = 0; b < net->nblocks; b++) {
        int64_t s = mr_conv_gru_work_size(&net->gru[b], h, w);
        work = s > work ? s : work;
    }
    if (c->init != MR_RVN_INIT_NONE)
        for (int i = 0; i < c->n_init; i++) {
            int64_t s = mr_conv2d_scratch_size(&net->rsi_conv[i], h, w);
            work = s > work ? s : work;
        }
    MR_CHECK(mr_fft2_create(h, w, &c->fft, &net->fft));
    MR_CHECK(mr_array_init_dims(&net->tmp, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&net->err, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&net->img, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&net->xin, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    MR_CHECK(mr_array_init_dims(&net->wout, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    MR_CHECK(mr_array_init_dims(&net->state, MR_DTYPE_F32, 4, c->layers, c->hidden, h, w));
    if (c->init != MR_RVN_INIT_NONE)
        MR_CHECK(mr_array_init_dims(&net->feat, MR_DTYPE_F32, 3, net->rsi_feat, h, w));
    MR_CHECK(mr_array_init_dims(&net->work_store, MR_DTYPE_F32, 1, work > 0 ? work : 1));
    net->work = mr_array_f32(&net->work_store);
    net->nc = nc;
    net->h = h;
    net->w = w;
out:
    if (st != MR_OK)
        release_buffers(net);
    return st;
}

/* recurrent state initializer: state (L, Hc, H, W) from net->xin (2, H, W) */
static void run_rsi(struct mr_recurrentvarnet *net)
{
    const struct mr_recurrentvarnet_config *c = &net->cfg;
    const int64_t h = net->h;
    const int64_t w = net->w;
    struct mr_array scratch;
    struct mr_array in = net->xin;
    int64_t off = 0;

    for (int i = 0; i < c->n_init; i++) {
        struct mr_array o;
        int64_t s = mr_conv2d_scratch_size(&net->rsi_conv[i], h, w);
        mr_array_wrap(&scratch, MR_DTYPE_F32, 1, (const int64_t[]){ s > 0 ? s : 1 }, net->work);
        mr_channels_view(&o, &net->feat, off, c->init_channels[i]);
        mr_conv2d_forward(&net->rsi_conv[i], &o, &in, &scratch);
        mr_relu(&o);
        in = o;
        off += c->init_channels[i];
    }
    struct mr_array ms;
    mr_channels_view(&ms, &net->feat, net->rsi_ms_offset, net->rsi_feat - net->rsi_ms_offset);
    for (int64_t j = 0; j < c->layers; j++) {
        struct mr_array hj;
        mr_array_slab(&hj, &net->state, j);
        mr_conv2d_forward(&net->rsi_out[j], &hj, &ms, NULL);
        mr_relu(&hj);
    }
}

mr_status mr_recurrentvarnet_run(struct mr_recurrentvarnet *net, struct mr_array *out,
                                 const struct mr_array *y, const struct mr_array *mask,
                                 const struct mr_array *sens, const struct mr_array *initial,
                                 const struct mr_probe *probe)
{
    const struct mr_recurrentvarnet_config *c = &net->cfg;
    const int64_t nc = net->nc;
    const int64_t h = net->h;
    const int64_t w = net->w;
    const int64_t p = h * w;

    /* the registry (mr_net_run) checks the inputs of a slice: shapes are invariants here */
    MR_ASSERT(net->fft != NULL);
    MR_ASSERT(mr_array_same_shape(y, &net->tmp) && mr_array_same_shape(out, &net->tmp) &&
              mr_array_same_shape(sens, &net->tmp));
    MR_ASSERT(mask->dtype == MR_DTYPE_F32 && mask->ndim == 2 && mask->dims[0] == h &&
              mask->dims[1] == w);
    MR_ASSERT(out->data != y->data);
    if (c->init == MR_RVN_INIT_INPUT_IMAGE) {
        if (initial == NULL)
            return MR_FAIL(MR_ERR_ARG, "RecurrentVarNet: the \"input_image\" initializer "
                           "needs an initial image");
        MR_ASSERT(mr_array_same_shape(initial, &net->img));
    }

    const float complex *yk = mr_array_cf32(y);
    const float *m = mr_array_f32(mask);
    float complex *k = mr_array_cf32(out);
    float complex *tmp = mr_array_cf32(&net->tmp);
    float complex *img = mr_array_cf32(&net->img);
    float complex *e = mr_array_cf32(&net->err);
    const struct mr_fft2 *f = net->fft;

    /* h0 */
    if (c->init == MR_RVN_INIT_NONE) {
        mr_array_zero(&net->state);
    } else {
        switch (c->init) {
        case MR_RVN_INIT_SENSE:
            mr_fft2_inverse(f, tmp, yk, nc);
            mr_coil_reduce(&net->img, &net->tmp, sens, MR_COIL_SUM_FLOAT);
            mr_fft2_forward(f, img, img, 1);
            break;
        case MR_RVN_INIT_ZERO_FILLED:
            mr_fft2_inverse(f, tmp, yk, nc);
            mr_fft2_forward(f, tmp, tmp, nc);
            for (int64_t i = 0; i < p; i++) {
                float re = 0.0f;
                float im = 0.0f;
                for (int64_t cc = 0; cc < nc; cc++) {
                    re += crealf(tmp[cc * p + i]);
                    im += cimagf(tmp[cc * p + i]);
                }
                img[i] = CMPLXF(re, im);
            }
            break;
        case MR_RVN_INIT_INPUT_IMAGE:
        default:
            mr_fft2_forward(f, img, mr_array_cf32(initial), 1);
            break;
        }
        mr_complex_to_channels(&net->xin, &net->img);
        mr_probe_emit(probe, "initializer_input", -1, &net->xin);
        run_rsi(net);
    }
    mr_probe_emit(probe, "h0", -1, &net->state);

    memcpy(k, yk, sizeof(*k) * (size_t)(nc * p));
    mr_dc_emit(probe, 0, k, yk, m, nc, p); /* the report's numbers of each estimate */
    for (int64_t t = 0; t < c->num_steps; t++) {
        const int64_t b = c->no_parameter_sharing ? t : 0;
        struct mr_probe_prefix pp;
        const struct mr_probe *sp = mr_probe_prefix(&pp, probe, "step_%lld/", (long long)t);
        const float alpha = net->alpha[b][0];

        mr_fft2_inverse(f, tmp, k, nc);
        mr_coil_reduce(&net->img, &net->tmp, sens, MR_COIL_SUM_FLOAT);
        mr_complex_to_channels(&net->xin, &net->img);
        mr_probe_emit(sp, "regularizer_input", -1, &net->xin);
        mr_conv_gru_forward(&net->gru[b], &net->wout, &net->xin, &net->state, net->work,
                            t == 0 ? sp : NULL);
        mr_probe_emit(sp, "regularizer_output", -1, &net->wout);
        mr_probe_emit(sp, "hidden_state", -1, &net->state);
        /* F(S_c · w): w back to one complex image, expanded over the coils */
        mr_channels_to_complex(&net->img, &net->wout);
        mr_coil_expand(&net->tmp, &net->img, sens);
        mr_fft2_forward(f, tmp, tmp, nc);
        mr_probe_emit(sp, "recurrent_kspace_term", -1, &net->tmp);

#pragma omp parallel for if (nc * p > MR_RVN_PAR_MIN) schedule(static)
        for (int64_t cc = 0; cc < nc; cc++)
            for (int64_t i = 0; i < p; i++) {
                const int64_t j = cc * p + i;
                e[j] = m[i] != 0.0f ? k[j] - yk[j] : 0.0f;
                k[j] = (k[j] - alpha * e[j]) + tmp[j];
            }
        mr_probe_emit(sp, "kspace_error", -1, &net->err);
        mr_probe_emit(sp, "kspace", -1, out);
        mr_dc_emit(probe, t + 1, k, yk, m, nc, p);
    }
    return MR_OK;
}
