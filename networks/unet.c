/*
 * U-Net (Ronneberger, Fischer, Brox, "U-Net: Convolutional Networks for Biomedical Image
 * Segmentation", MICCAI 2015) in the fastMRI variant used by E2EVN (Sriram et al. 2020) and
 * ATOMMIC, plus the NormUnet wrapper (e2evn.md §3, §4; layer semantics in unet.h).
 *
 * Buffers: cat[k] (2·ch_k, h_k, w_k) per level holds [upsampled | skip]; the down path writes
 * the skip straight into its second half, so the concatenation costs only the copy of the
 * upsampled half. Two ping-pong maps a, b and one scratch (im2col / transposed-conv GEMM
 * output) serve every conv.
 */
#include "networks/unet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/conv_weights.h"
#include "networks/layers.h"

#define UNET_NORM_EPS 1e-5f
#define UNET_SLOPE 0.2f

struct conv_block {
    struct mr_conv2d c1;
    struct mr_conv2d c2;
    struct mr_array wino[2]; /* c1's and c2's Winograd weights where used (layers.h) */
};

struct mr_unet {
    struct mr_unet_config cfg;
    struct conv_block down[MR_UNET_MAX_POOLS];
    struct conv_block mid;
    struct conv_block up[MR_UNET_MAX_POOLS];
    struct mr_array up_wt[MR_UNET_MAX_POOLS]; /* up_transpose_conv.j (ch_{k+1}, ch_k, 2, 2)
                                                  as mr_tconv2x2_weights lays it out */
    struct mr_conv2d final;               /* 1x1, c → out, bias */
};

struct mr_unet_work {
    struct mr_unet_config cfg;
    int64_t hs[MR_UNET_MAX_POOLS + 1];
    int64_t ws[MR_UNET_MAX_POOLS + 1];
    struct mr_array cat[MR_UNET_MAX_POOLS];
    struct mr_array maps; /* a and b, maxmap floats each */
    float *a;
    float *b;
    struct mr_array scratch;
};

static int64_t ch(const struct mr_unet_config *cfg, int k)
{
    return cfg->chans << k;
}

static mr_status load_conv(struct mr_weights *ws, struct mr_conv2d *c, const char *prefix,
                           const char *key, int64_t cin, int64_t cout, int64_t k, bool bias)
{
    char name[512];

    *c = mr_conv2d_make(cin, cout, k, (k - 1) / 2);
    snprintf(name, sizeof(name), "%s%s", prefix, key);
    return mr_conv2d_load(c, ws, name, bias);
}

static mr_status load_block(struct mr_weights *ws, struct conv_block *b, const char *prefix,
                            const char *key, int64_t cin, int64_t cout)
{
    char k[272];
    mr_status st;

    snprintf(k, sizeof(k), "%s.layers.0", key);
    st = load_conv(ws, &b->c1, prefix, k, cin, cout, 3, false);
    if (st != MR_OK)
        return st;
    snprintf(k, sizeof(k), "%s.layers.4", key);
    return load_conv(ws, &b->c2, prefix, k, cout, cout, 3, false);
}

/* the block's Winograd weights for inputs of h×w (layers.h) */
static mr_status block_prepare_size(struct conv_block *b, int64_t h, int64_t w)
{
    mr_status st = mr_conv2d_prepare_winograd_for(&b->c1, &b->wino[0], h, w);
    if (st == MR_OK)
        st = mr_conv2d_prepare_winograd_for(&b->c2, &b->wino[1], h, w);
    return st;
}

static void block_cleanup(struct conv_block *b)
{
    mr_array_cleanup(&b->wino[0]);
    mr_array_cleanup(&b->wino[1]);
}

mr_status mr_unet_create(struct mr_weights *ws, const char *prefix,
                         const struct mr_unet_config *cfg, struct mr_unet **out)
{
    mr_status st = MR_OK;
    struct mr_unet *u = NULL;
    const int p = (int)cfg->num_pools;
    char key[256];
    const struct mr_array *t = NULL;

    if (cfg->num_pools < 1 || cfg->num_pools > MR_UNET_MAX_POOLS || cfg->chans < 1 ||
        cfg->in_chans < 1 || cfg->out_chans < 1)
        return MR_FAIL(MR_ERR_ARG, "U-Net '%s': unsupported config (in %lld, out %lld, chans "
                       "%lld, pools %lld)", prefix, (long long)cfg->in_chans,
                       (long long)cfg->out_chans, (long long)cfg->chans,
                       (long long)cfg->num_pools);
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "U-Net");
    u->cfg = *cfg;
    for (int k = 0; k < p; k++) {
        snprintf(key, sizeof(key), "down_sample_layers.%d", k);
        MR_CHECK(load_block(ws, &u->down[k], prefix, key, k == 0 ? cfg->in_chans : ch(cfg, k - 1),
                            ch(cfg, k)));
    }
    MR_CHECK(load_block(ws, &u->mid, prefix, "conv", ch(cfg, p - 1), ch(cfg, p)));
    for (int j = 0; j < p; j++) {
        int k = p - 1 - j;
        if (j < p - 1)
            snprintf(key, sizeof(key), "up_conv.%d", j);
        else
            snprintf(key, sizeof(key), "up_conv.%d.0", j);
        MR_CHECK(load_block(ws, &u->up[j], prefix, key, 2 * ch(cfg, k), ch(cfg, k)));
        char name[512];
        snprintf(name, sizeof(name), "%sup_transpose_conv.%d.layers.0.weight", prefix, j);
        MR_CHECK(mr_weights_get(ws, name, 4, (const int64_t[]){ ch(cfg, k + 1), ch(cfg, k), 2, 2 },
                                &t));
        MR_CHECK(mr_array_init_dims(&u->up_wt[j], MR_DTYPE_F32, 2, 4 * ch(cfg, k),
                                    ch(cfg, k + 1)));
        mr_tconv2x2_weights(mr_array_f32(t), ch(cfg, k + 1), ch(cfg, k),
                            mr_array_f32(&u->up_wt[j]));
    }
    snprintf(key, sizeof(key), "up_conv.%d.1", p - 1);
    MR_CHECK(load_conv(ws, &u->final, prefix, key, cfg->chans, cfg->out_chans, 1, true));
    *out = u;
    u = NULL;
out:
    mr_unet_free(u);
    return st;
}

void mr_unet_free(struct mr_unet *u)
{
    if (u == NULL)
        return;
    for (int k = 0; k < MR_UNET_MAX_POOLS; k++) {
        block_cleanup(&u->down[k]);
        block_cleanup(&u->up[k]);
        mr_array_cleanup(&u->up_wt[k]);
    }
    block_cleanup(&u->mid);
    free(u);
}

mr_status mr_unet_prepare_size(struct mr_unet *u, int64_t h, int64_t w)
{
    const int p = (int)u->cfg.num_pools;
    int64_t hk = h;
    int64_t wk = w;
    mr_status st = MR_OK;

    for (int k = 0; k < p && st == MR_OK; k++) {
        st = block_prepare_size(&u->down[k], hk, wk);
        if (st == MR_OK)
            st = block_prepare_size(&u->up[p - 1 - k], hk, wk);
        hk /= 2;
        wk /= 2;
    }
    if (st == MR_OK)
        st = block_prepare_size(&u->mid, hk, wk);
    return st;
}

const struct mr_unet_config *mr_unet_get_config(const struct mr_unet *u)
{
    return &u->cfg;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

mr_status mr_unet_work_create(const struct mr_unet_config *cfg, int64_t h, int64_t w,
                              struct mr_unet_work **out)
{
    mr_status st = MR_OK;
    struct mr_unet_work *wk = NULL;
    const int p = (int)cfg->num_pools;
    int64_t maxmap = 0;
    int64_t maxscr = 1;

    MR_ASSERT(p >= 1 && p <= MR_UNET_MAX_POOLS);
    wk = calloc(1, sizeof(*wk));
    if (wk == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "U-Net buffers");
    wk->cfg = *cfg;
    wk->hs[0] = h;
    wk->ws[0] = w;
    for (int k = 1; k <= p; k++) {
        wk->hs[k] = wk->hs[k - 1] / 2;
        wk->ws[k] = wk->ws[k - 1] / 2;
    }
    if (wk->hs[p] < 1 || wk->ws[p] < 1 || wk->hs[p] * wk->ws[p] < 2) {
        st = MR_FAIL(MR_ERR_SHAPE, "U-Net with %d pools cannot run on %lldx%lld: the bottleneck "
                     "would be %lldx%lld (needs more than one pixel)", p, (long long)h,
                     (long long)w, (long long)wk->hs[p], (long long)wk->ws[p]);
        goto out;
    }
    struct mr_conv2d c3 = mr_conv2d_make(1, 1, 3, 1);
    for (int k = 0; k <= p; k++) {
        /* every 3x3 conv input width at this level: block inputs, the mid map, the concat */
        const int64_t cins[3] = { k == 0 ? cfg->in_chans : ch(cfg, k - 1), ch(cfg, k),
                                  2 * ch(cfg, k) };
        maxmap = max64(maxmap, ch(cfg, k) * wk->hs[k] * wk->ws[k]);
        c3.cout = ch(cfg, k);
        for (int i = 0; i < 3; i++) {
            c3.cin = cins[i];
            maxscr = max64(maxscr, mr_conv2d_scratch_size(&c3, wk->hs[k], wk->ws[k]));
        }
        if (k < p) {
            MR_CHECK(mr_array_init_dims(&wk->cat[k], MR_DTYPE_F32, 3, 2 * ch(cfg, k), wk->hs[k],
                                        wk->ws[k]));
            maxscr = max64(maxscr, mr_tconv2x2_scratch_size(ch(cfg, k + 1), ch(cfg, k),
                                                            wk->hs[k + 1], wk->ws[k + 1]));
        }
    }
    MR_CHECK(mr_array_init_dims(&wk->scratch, MR_DTYPE_F32, 1, maxscr));
    MR_CHECK(mr_array_init_dims(&wk->maps, MR_DTYPE_F32, 1, 2 * maxmap));
    wk->a = mr_array_f32(&wk->maps);
    wk->b = wk->a + maxmap;
    *out = wk;
    wk = NULL;
out:
    mr_unet_work_free(wk);
    return st;
}

void mr_unet_work_free(struct mr_unet_work *wk)
{
    if (wk == NULL)
        return;
    for (int k = 0; k < MR_UNET_MAX_POOLS; k++)
        mr_array_cleanup(&wk->cat[k]);
    mr_array_cleanup(&wk->scratch);
    mr_array_cleanup(&wk->maps);
    free(wk);
}

static void map3(struct mr_array *v, float *data, int64_t c, int64_t h, int64_t w)
{
    mr_array_wrap(v, MR_DTYPE_F32, 3, (const int64_t[]){ c, h, w }, data);
}

/* dst = lrelu(norm(conv(src))) */
static void conv_norm_act(const struct mr_conv2d *c, struct mr_array *dst,
                          const struct mr_array *src, struct mr_array *scratch)
{
    mr_conv2d_forward(c, dst, src, scratch);
    mr_instance_norm_leaky_relu(dst, UNET_NORM_EPS, UNET_SLOPE);
}

/* dst = block(src), using tmp for the map between the two convs */
static void conv_block_forward(const struct conv_block *b, struct mr_array *dst,
                               const struct mr_array *src, float *tmp, struct mr_array *scratch)
{
    struct mr_array t;
    map3(&t, tmp, b->c1.cout, src->dims[1], src->dims[2]);
    conv_norm_act(&b->c1, &t, src, scratch);
    conv_norm_act(&b->c2, dst, &t, scratch);
}

void mr_unet_forward(const struct mr_unet *u, struct mr_unet_work *wk, struct mr_array *dst,
                     const struct mr_array *src)
{
    const struct mr_unet_config *cfg = &u->cfg;
    const int p = (int)cfg->num_pools;
    struct mr_array x;
    struct mr_array skip;
    struct mr_array up;
    struct mr_array y;

    MR_ASSERT(memcmp(&wk->cfg, cfg, sizeof(*cfg)) == 0);
    MR_ASSERT(src->ndim == 3 && src->dims[0] == cfg->in_chans && src->dims[1] == wk->hs[0] &&
              src->dims[2] == wk->ws[0]);
    MR_ASSERT(dst->ndim == 3 && dst->dims[0] == cfg->out_chans && dst->dims[1] == wk->hs[0] &&
              dst->dims[2] == wk->ws[0]);

    /* down path: x is the level-k input (src, then the pooled map in b) */
    x = *src;
    for (int k = 0; k < p; k++) {
        mr_channels_view(&skip, &wk->cat[k], ch(cfg, k), ch(cfg, k));
        conv_block_forward(&u->down[k], &skip, &x, wk->a, &wk->scratch);
        map3(&x, wk->b, ch(cfg, k), wk->hs[k + 1], wk->ws[k + 1]);
        mr_avgpool2d(&x, &skip, 2);
    }
    map3(&y, wk->b, ch(cfg, p), wk->hs[p], wk->ws[p]);
    {
        /* bottleneck: x (in b) → a → b; conv1 reads b before conv2 overwrites it */
        struct mr_array t;
        map3(&t, wk->a, ch(cfg, p), wk->hs[p], wk->ws[p]);
        conv_norm_act(&u->mid.c1, &t, &x, &wk->scratch);
        conv_norm_act(&u->mid.c2, &y, &t, &wk->scratch);
    }
    /* up path: y (in b) is the level-(k+1) output */
    for (int j = 0; j < p; j++) {
        const int k = p - 1 - j;
        const int64_t hu = 2 * wk->hs[k + 1];
        const int64_t wu = 2 * wk->ws[k + 1];
        map3(&up, wk->a, ch(cfg, k), hu, wu);
        mr_tconv2x2_forward(mr_array_f32(&u->up_wt[j]), NULL, &up, &y, &wk->scratch);
        mr_instance_norm_leaky_relu(&up, UNET_NORM_EPS, UNET_SLOPE);
        struct mr_array half;
        mr_channels_view(&half, &wk->cat[k], 0, ch(cfg, k));
        mr_pad2d(&half, &up, MR_PAD_MODE_REFLECT, 0, wk->hs[k] - hu, 0, wk->ws[k] - wu);
        map3(&y, wk->b, ch(cfg, k), wk->hs[k], wk->ws[k]);
        conv_block_forward(&u->up[j], &y, &wk->cat[k], wk->a, &wk->scratch);
    }
    mr_conv2d_forward(&u->final, dst, &y, &wk->scratch);
}

/* ---- NormUnet ---------------------------------------------------------------------------- */

struct mr_normunet {
    struct mr_normunet_config cfg;
    struct mr_unet *unet;
};

struct mr_normunet_work {
    struct mr_normunet_config cfg;
    int64_t h;
    int64_t w;
    int64_t top;
    int64_t left;
    struct mr_array chan;   /* (2, h, w) */
    struct mr_array padded; /* (2, hp, wp): U-Net input */
    struct mr_array uout;   /* (2, hp, wp): U-Net output */
    struct mr_array mean;   /* (2,) */
    struct mr_array std;    /* (2,) */
    struct mr_unet_work *uw;
};

mr_status mr_normunet_prepare_size(struct mr_normunet *nu, int64_t h, int64_t w)
{
    return mr_unet_prepare_size(nu->unet, mr_normunet_padded_size(h, nu->cfg.padding_size),
                                mr_normunet_padded_size(w, nu->cfg.padding_size));
}

int64_t mr_normunet_padded_size(int64_t n, int64_t padding_size)
{
    if (padding_size <= 0)
        return n;
    return ((n - 1) | padding_size) + 1;
}

static struct mr_unet_config normunet_unet_config(const struct mr_normunet_config *cfg)
{
    struct mr_unet_config u = {
        .in_chans = 2, .out_chans = 2, .chans = cfg->chans, .num_pools = cfg->num_pools,
    };
    return u;
}

mr_status mr_normunet_create(struct mr_weights *ws, const char *prefix,
                             const struct mr_normunet_config *cfg, struct mr_normunet **out)
{
    mr_status st = MR_OK;
    struct mr_normunet *nu = calloc(1, sizeof(*nu));
    char p[512];
    struct mr_unet_config ucfg = normunet_unet_config(cfg);

    if (nu == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "NormUnet");
    nu->cfg = *cfg;
    snprintf(p, sizeof(p), "%sunet.", prefix);
    MR_CHECK(mr_unet_create(ws, p, &ucfg, &nu->unet));
    *out = nu;
    nu = NULL;
out:
    mr_normunet_free(nu);
    return st;
}

void mr_normunet_free(struct mr_normunet *nu)
{
    if (nu == NULL)
        return;
    mr_unet_free(nu->unet);
    free(nu);
}

mr_status mr_normunet_work_create(const struct mr_normunet_config *cfg, int64_t h, int64_t w,
                                  struct mr_normunet_work **out)
{
    mr_status st = MR_OK;
    struct mr_normunet_work *wk = calloc(1, sizeof(*wk));
    const int64_t hp = mr_normunet_padded_size(h, cfg->padding_size);
    const int64_t wp = mr_normunet_padded_size(w, cfg->padding_size);
    struct mr_unet_config ucfg = normunet_unet_config(cfg);

    if (wk == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "NormUnet buffers");
    wk->cfg = *cfg;
    wk->h = h;
    wk->w = w;
    wk->top = (hp - h) / 2;
    wk->left = (wp - w) / 2;
    MR_CHECK(mr_array_init_dims(&wk->chan, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    MR_CHECK(mr_array_init_dims(&wk->padded, MR_DTYPE_F32, 3, (int64_t)2, hp, wp));
    MR_CHECK(mr_array_init_dims(&wk->uout, MR_DTYPE_F32, 3, (int64_t)2, hp, wp));
    MR_CHECK(mr_array_init_dims(&wk->mean, MR_DTYPE_F32, 1, (int64_t)2));
    MR_CHECK(mr_array_init_dims(&wk->std, MR_DTYPE_F32, 1, (int64_t)2));
    MR_CHECK(mr_unet_work_create(&ucfg, hp, wp, &wk->uw));
    *out = wk;
    wk = NULL;
out:
    mr_normunet_work_free(wk);
    return st;
}

void mr_normunet_work_free(struct mr_normunet_work *wk)
{
    if (wk == NULL)
        return;
    mr_array_cleanup(&wk->chan);
    mr_array_cleanup(&wk->padded);
    mr_array_cleanup(&wk->uout);
    mr_array_cleanup(&wk->mean);
    mr_array_cleanup(&wk->std);
    mr_unet_work_free(wk->uw);
    free(wk);
}

/* mean and unbiased std (no eps) of each of the two channels of x (2, h, w) */
static void group_stats(const struct mr_array *x, float *mean, float *std)
{
    const int64_t n = x->dims[1] * x->dims[2];
    const float *d = mr_array_f32(x);

    for (int g = 0; g < 2; g++) {
        const float *p = d + g * n;
        double s = 0.0;
        for (int64_t i = 0; i < n; i++)
            s += (double)p[i];
        double m = s / (double)n;
        double ss = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double t = (double)p[i] - m;
            ss += t * t;
        }
        mean[g] = (float)m;
        std[g] = (float)sqrt(ss / (double)(n - 1));
    }
}

void mr_normunet_forward(const struct mr_normunet *nu, struct mr_normunet_work *wk,
                         struct mr_array *dst, const struct mr_array *src)
{
    const int64_t n = wk->h * wk->w;
    float *mean = mr_array_f32(&wk->mean);
    float *std = mr_array_f32(&wk->std);
    float *c = mr_array_f32(&wk->chan);

    MR_ASSERT(nu->cfg.chans == wk->cfg.chans && nu->cfg.num_pools == wk->cfg.num_pools &&
              nu->cfg.padding_size == wk->cfg.padding_size);
    MR_ASSERT(mr_array_numel(src) == n && mr_array_numel(dst) == n);
    mr_complex_to_channels(&wk->chan, src);
    if (nu->cfg.normalize) {
        group_stats(&wk->chan, mean, std);
        for (int g = 0; g < 2; g++)
            for (int64_t i = 0; i < n; i++)
                c[g * n + i] = (c[g * n + i] - mean[g]) / std[g];
    } else {
        mean[0] = mean[1] = 0.0f;
        std[0] = std[1] = 1.0f;
    }
    const int64_t hp = wk->padded.dims[1];
    const int64_t wp = wk->padded.dims[2];
    mr_pad2d(&wk->padded, &wk->chan, MR_PAD_MODE_ZERO, wk->top, hp - wk->h - wk->top, wk->left,
             wp - wk->w - wk->left);
    mr_unet_forward(nu->unet, wk->uw, &wk->uout, &wk->padded);
    mr_crop2d(&wk->chan, &wk->uout, wk->top, wk->left);
    if (nu->cfg.normalize)
        for (int g = 0; g < 2; g++)
            for (int64_t i = 0; i < n; i++)
                c[g * n + i] = c[g * n + i] * std[g] + mean[g];
    mr_channels_to_complex(dst, &wk->chan);
}

const struct mr_array *mr_normunet_work_unet_input(const struct mr_normunet_work *wk)
{
    return &wk->padded;
}

const struct mr_array *mr_normunet_work_unet_output(const struct mr_normunet_work *wk)
{
    return &wk->uout;
}

const struct mr_array *mr_normunet_work_mean(const struct mr_normunet_work *wk)
{
    return &wk->mean;
}

const struct mr_array *mr_normunet_work_std(const struct mr_normunet_work *wk)
{
    return &wk->std;
}
