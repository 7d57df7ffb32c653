/*
 * CIRIM and RIM forward pass (cirim.h), following ATOMMIC's CIRIM / RIMBlock
 * (Karkalousos et al., Phys. Med. Biol. 67(12), 2022; Lønning et al., Med. Image Anal. 53,
 * 2019) to the letter: ../shared/specs/cirim.md is the reference, and every quirk it lists is
 * reproduced (time steps rounded up to a multiple of 8, hidden states carried across
 * cascades, replicate padding in the feature convs but zero padding in the cells, the
 * channel-wise RSS starting image, σ clamped to ≥ 1, the literal DC-mode k-space output).
 *
 * The cascades run as one loop: cascade i > 0 starts from the last estimate of cascade i − 1
 * and keeps its hidden states, so switching cascades only switches weights. Everything is
 * allocated in prepare; a run does no allocation.
 */
#include "networks/cirim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "networks/atommic.h"
#include "weights/config.h"

#define CIRIM_PAR_MIN ((int64_t)1 << 16) /* elements; below, a parallel region costs more */

const struct mr_cirim_config mr_cirim_config_default = {
    .cell = MR_RNN_CELL_TYPE_INDRNN,
    .conv_filters = { 64, 64, 2 },
    .conv_kernels = { 5, 3, 3 },
    .conv_dilations = { 1, 2, 1 },
    .conv_bias = { true, true, false },
    .recurrent_filters = { 64, 64 },
    .recurrent_kernels = { 1, 1 },
    .recurrent_dilations = { 1, 1 },
    .recurrent_bias = { true, true },
    .time_steps = 8,
    .num_cascades = 5,
    .no_dc = true,
    .combine = MR_CIRIM_COMBINE_SENSE,
    .fft = { .centered = true, .norm = MR_FFT_NORM_ORTHO },
};

/* ---- configuration ---------------------------------------------------------------------- */

/* The first n entries of an integer list of at least n entries (more are dropped, as the
 * reference's zip does). */
static mr_status config_ints(const struct mr_config *js, const char *key, int64_t *dst, int n)
{
    int64_t v[16];
    int len = 0;
    mr_status st = mr_config_int_array(js, key, dst, n, v, 16, &len);

    if (st != MR_OK)
        return st;
    if (len < n)
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' has %d entries, CIRIM needs %d", key,
                       len, n);
    for (int i = 0; i < n; i++)
        dst[i] = v[i];
    return MR_OK;
}

/* Same for a list of booleans (true / false or 0 / 1). */
static mr_status config_bools(const struct mr_config *js, const char *key, bool *dst, int n)
{
    bool v[16];
    int len = 0;
    mr_status st = mr_config_bool_array(js, key, dst, n, v, 16, &len);

    if (st != MR_OK)
        return st;
    if (len < n)
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' has %d entries, CIRIM needs %d", key,
                       len, n);
    for (int i = 0; i < n; i++)
        dst[i] = v[i];
    return MR_OK;
}

/* Keys that must hold one particular integer value for this implementation. */
static mr_status config_expect_int(const struct mr_config *js, const char *key, int64_t want)
{
    int64_t v = 0;
    mr_status st = mr_config_int(js, key, want, &v);

    if (st != MR_OK)
        return st;
    if (v != want)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM config '%s' = %lld is not supported (only %lld)",
                       key, (long long)v, (long long)want);
    return MR_OK;
}

static mr_status config_read(const struct mr_config *js, struct mr_cirim_config *c)
{
    const char *s = NULL;
    bool b = false;
    int64_t three[3];
    int64_t spatial[2] = { -2, -1 };
    mr_status st;

    if ((st = mr_config_string(js, "recurrent_layer", mr_rnn_cell_type_name(c->cell), &s)) !=
            MR_OK ||
        (st = mr_rnn_cell_type_parse(s, &c->cell)) != MR_OK)
        return st;
    if ((st = config_ints(js, "conv_filters", c->conv_filters, 3)) != MR_OK ||
        (st = config_ints(js, "conv_kernels", c->conv_kernels, 3)) != MR_OK ||
        (st = config_ints(js, "conv_dilations", c->conv_dilations, 3)) != MR_OK ||
        (st = config_bools(js, "conv_bias", c->conv_bias, 3)) != MR_OK)
        return st;
    /* the recurrent lists are zipped with the conv lists: three entries, the third unused */
    three[0] = c->recurrent_filters[0];
    three[1] = c->recurrent_filters[1];
    three[2] = 0;
    if ((st = config_ints(js, "recurrent_filters", three, 3)) != MR_OK)
        return st;
    c->recurrent_filters[0] = three[0];
    c->recurrent_filters[1] = three[1];
    three[0] = c->recurrent_kernels[0];
    three[1] = c->recurrent_kernels[1];
    three[2] = 0;
    if ((st = config_ints(js, "recurrent_kernels", three, 3)) != MR_OK)
        return st;
    c->recurrent_kernels[0] = three[0];
    c->recurrent_kernels[1] = three[1];
    three[0] = c->recurrent_dilations[0];
    three[1] = c->recurrent_dilations[1];
    three[2] = 0;
    if ((st = config_ints(js, "recurrent_dilations", three, 3)) != MR_OK)
        return st;
    c->recurrent_dilations[0] = three[0];
    c->recurrent_dilations[1] = three[1];
    bool rb[3] = { c->recurrent_bias[0], c->recurrent_bias[1], false };
    if ((st = config_bools(js, "recurrent_bias", rb, 3)) != MR_OK)
        return st;
    c->recurrent_bias[0] = rb[0];
    c->recurrent_bias[1] = rb[1];

    if ((st = mr_config_int(js, "time_steps", c->time_steps, &c->time_steps)) != MR_OK ||
        (st = mr_config_int(js, "num_cascades", c->num_cascades, &c->num_cascades)) != MR_OK ||
        (st = mr_config_bool(js, "no_dc", c->no_dc, &c->no_dc)) != MR_OK)
        return st;

    if ((st = mr_config_string(js, "coil_combination_method", "SENSE", &s)) != MR_OK)
        return st;
    if (strcasecmp(s, "SENSE") == 0)
        c->combine = MR_CIRIM_COMBINE_SENSE;
    else if (strcasecmp(s, "RSS") == 0)
        c->combine = MR_CIRIM_COMBINE_RSS;
    else
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM coil_combination_method '%s' is not supported "
                       "(SENSE or RSS)", s);

    if ((st = mr_config_bool(js, "fft_centered", c->fft.centered, &c->fft.centered)) != MR_OK ||
        (st = mr_config_string(js, "fft_normalization", mr_fft_norm_name(c->fft.norm), &s)) !=
            MR_OK ||
        (st = mr_fft_norm_parse(s, &c->fft.norm)) != MR_OK)
        return st;

    if ((st = config_expect_int(js, "depth", 2)) != MR_OK ||
        (st = config_expect_int(js, "conv_dim", 2)) != MR_OK ||
        (st = config_expect_int(js, "dimensionality", 2)) != MR_OK ||
        (st = config_expect_int(js, "consecutive_slices", 1)) != MR_OK ||
        (st = config_expect_int(js, "coil_dim", 1)) != MR_OK)
        return st;
    if ((st = config_ints(js, "spatial_dims", spatial, 2)) != MR_OK)
        return st;
    if (spatial[0] != -2 || spatial[1] != -1)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM spatial_dims must be [-2, -1]");
    if ((st = mr_config_bool(js, "estimate_coil_sensitivity_maps_with_nn", false, &b)) != MR_OK)
        return st;
    if (b)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM with estimate_coil_sensitivity_maps_with_nn "
                       "is not supported (estimate the maps outside the network)");
    return mr_cirim_config_check(c);
}

mr_status mr_cirim_config_read(const struct mr_config *cfg, struct mr_cirim_config *out)
{
    struct mr_cirim_config c = *out;
    mr_status st = config_read(cfg, &c);

    if (st == MR_OK)
        *out = c;
    return st;
}

mr_status mr_cirim_config_from_json(const char *json, struct mr_cirim_config *out)
{
    struct mr_config *js = NULL;
    mr_status st = mr_config_parse(json, &js);

    if (st == MR_OK)
        st = mr_cirim_config_read(js, out);
    mr_config_free(js);
    return st;
}

mr_status mr_cirim_config_check(const struct mr_cirim_config *c)
{
    static const char *const lname[3] = { "0", "1", "2 (final)" };

    for (int l = 0; l < 3; l++) {
        if (c->conv_filters[l] < 1)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM conv_filters[%s] = %lld: a layer without "
                           "a conv is not supported", lname[l], (long long)c->conv_filters[l]);
        if (c->conv_kernels[l] < 1 || c->conv_kernels[l] % 2 == 0)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM conv_kernels[%s] = %lld: only odd kernels "
                           "keep the image size", lname[l], (long long)c->conv_kernels[l]);
        if (c->conv_dilations[l] < 1)
            return MR_FAIL(MR_ERR_ARG, "CIRIM conv_dilations[%s] must be >= 1", lname[l]);
    }
    if (c->conv_filters[2] != 2)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM conv_filters[2] = %lld: the final conv must "
                       "give 2 channels (re, im)", (long long)c->conv_filters[2]);
    for (int l = 0; l < 2; l++) {
        if (c->recurrent_filters[l] < 1)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM recurrent_filters[%d] = %lld: a layer "
                           "without a cell is not supported", l,
                           (long long)c->recurrent_filters[l]);
        if (c->recurrent_kernels[l] < 1 || c->recurrent_kernels[l] % 2 == 0)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM recurrent_kernels[%d] = %lld: only odd "
                           "kernels keep the image size", l,
                           (long long)c->recurrent_kernels[l]);
        if (c->recurrent_dilations[l] < 1)
            return MR_FAIL(MR_ERR_ARG, "CIRIM recurrent_dilations[%d] must be >= 1", l);
    }
    if (c->time_steps < 1)
        return MR_FAIL(MR_ERR_ARG, "CIRIM time_steps must be >= 1, not %lld",
                       (long long)c->time_steps);
    if (c->num_cascades < 1)
        return MR_FAIL(MR_ERR_ARG, "CIRIM num_cascades must be >= 1, not %lld",
                       (long long)c->num_cascades);
    if (!c->no_dc && c->num_cascades != 1)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM with no_dc = false only works with one "
                       "cascade in the reference (got %lld)", (long long)c->num_cascades);
    return MR_OK;
}

int64_t mr_cirim_config_steps(const struct mr_cirim_config *cfg)
{
    return 8 * ((cfg->time_steps + 7) / 8);
}

/* ---- the network ------------------------------------------------------------------------ */

struct cirim_cascade {
    struct mr_conv2d conv[3]; /* layers.0.convs, layers.1.convs, final_layer.0 */
    struct mr_array wino[3];  /* their Winograd-domain weights where that path is used */
    struct mr_rnn_cell cell[2];
};

struct mr_cirim {
    struct mr_cirim_config cfg;
    bool inference; /* created for mr_net_infer */
    int64_t steps;
    struct cirim_cascade *casc;

    /* prepared for nc coils of h×w */
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_fft2 *fft;
    struct mr_array mask;    /* (H, W) F32, the broadcast mask */
    /* line masks (whole columns or rows): the normal operator F⁻¹MF along one axis, and the
     * constant part F⁻¹(M y) of the gradient; NULL for 2-D masks (recon/fft.h) */
    struct mr_fft_linemask *linemask;
    struct mr_array ymask;   /* (C, H, W) CF32: F⁻¹(M ⊙ y) when linemask is set */
    struct mr_array coil;    /* (C, H, W) CF32 */
    struct mr_array x;       /* (H, W) CF32, the estimate */
    struct mr_array llg;     /* (4, H, W) F32 */
    struct mr_array act[2];  /* (conv_filters[l], H, W) F32 */
    struct mr_array hid[2];  /* (recurrent_filters[l], H, W) F32 */
    struct mr_array delta;   /* (2, H, W) F32 */
    struct mr_array scratch; /* conv / cell scratch, F32 */
    struct mr_atommic_inference atommic; /* inference: ATOMMIC's k-space scaling */
};

/* ConvNonlinear: ReplicationPad(d·(k − 1)/2) then Conv2d(padding 0, dilation d), fused */
static mr_status load_feature_conv(struct mr_conv2d *c, struct mr_weights *ws,
                                   const char *prefix, int64_t cin, int64_t cout, int64_t k,
                                   int64_t d, bool bias)
{
    const struct mr_array *t = NULL;
    char name[256];
    mr_status st;

    *c = mr_conv2d_make(cin, cout, k, d * (k - 1) / 2);
    c->dilation[0] = d;
    c->dilation[1] = d;
    c->pad_mode = MR_PAD_MODE_REPLICATE;
    snprintf(name, sizeof(name), "%s.conv_layer.weight", prefix);
    st = mr_weights_get(ws, name, 4, (const int64_t[]){ cout, cin, k, k }, &t);
    if (st != MR_OK)
        return st;
    c->w = mr_array_f32(t);
    if (!bias)
        return MR_OK;
    snprintf(name, sizeof(name), "%s.conv_layer.bias", prefix);
    st = mr_weights_get(ws, name, 1, (const int64_t[]){ cout }, &t);
    if (st != MR_OK)
        return st;
    c->b = mr_array_f32(t);
    return MR_OK;
}

/* the 3×3 feature convs with many channels (the paper's dilated 64 → 64) run as Winograd */
static mr_status prepare_feature_convs(struct cirim_cascade *cc)
{
    for (int l = 0; l < 3; l++) {
        mr_status st = mr_conv2d_prepare_winograd(&cc->conv[l], &cc->wino[l], false);
        if (st != MR_OK)
            return st;
    }
    return MR_OK;
}

static mr_status load_cascade(struct cirim_cascade *cc, struct mr_weights *ws,
                              const struct mr_cirim_config *c, int64_t i)
{
    const struct mr_array *t = NULL;
    char prefix[128];
    mr_status st;
    int64_t cin = 4; /* 2·depth: Re x, Im x, Re g, Im g */

    if (!c->no_dc) {
        /* dc_weight scales the soft-DC term, which is identically 0 in the only supported
         * (single-cascade) DC configuration (§8); loaded for the shape check only */
        snprintf(prefix, sizeof(prefix), "reconstruction_module.%lld.dc_weight", (long long)i);
        st = mr_weights_get(ws, prefix, 1, (const int64_t[]){ 1 }, &t);
        if (st != MR_OK)
            return st;
    }
    for (int l = 0; l < 2; l++) {
        snprintf(prefix, sizeof(prefix), "reconstruction_module.%lld.layers.%d.convs",
                 (long long)i, l);
        st = load_feature_conv(&cc->conv[l], ws, prefix, cin, c->conv_filters[l],
                               c->conv_kernels[l], c->conv_dilations[l], c->conv_bias[l]);
        if (st != MR_OK)
            return st;
        snprintf(prefix, sizeof(prefix), "reconstruction_module.%lld.layers.%d.rnn",
                 (long long)i, l);
        st = mr_rnn_cell_load(&cc->cell[l], ws, prefix, c->cell, c->conv_filters[l],
                              c->recurrent_filters[l], c->recurrent_kernels[l],
                              c->recurrent_dilations[l], c->recurrent_bias[l]);
        if (st != MR_OK)
            return st;
        cin = c->recurrent_filters[l];
    }
    snprintf(prefix, sizeof(prefix), "reconstruction_module.%lld.final_layer.0", (long long)i);
    return load_feature_conv(&cc->conv[2], ws, prefix, cin, c->conv_filters[2],
                             c->conv_kernels[2], c->conv_dilations[2], c->conv_bias[2]);
}

mr_status mr_cirim_create(struct mr_weights *ws, const struct mr_cirim_config *cfg,
                          struct mr_cirim **out)
{
    mr_status st = MR_OK;
    struct mr_cirim *net = NULL;

    MR_CHECK(mr_cirim_config_check(cfg));
    net = calloc(1, sizeof(*net));
    if (net == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "CIRIM network");
        goto out;
    }
    net->cfg = *cfg;
    net->steps = mr_cirim_config_steps(cfg);
    net->casc = calloc((size_t)cfg->num_cascades, sizeof(*net->casc));
    if (net->casc == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "CIRIM: %lld cascades", (long long)cfg->num_cascades);
        goto out;
    }
    for (int64_t i = 0; i < cfg->num_cascades; i++) {
        MR_CHECK(load_cascade(&net->casc[i], ws, cfg, i));
        MR_CHECK(prepare_feature_convs(&net->casc[i]));
    }
    *out = net;
    net = NULL;
out:
    mr_cirim_free(net);
    return st;
}

static void release_buffers(struct mr_cirim *net)
{
    mr_fft2_free(net->fft);
    net->fft = NULL;
    mr_fft_linemask_free(net->linemask);
    net->linemask = NULL;
    mr_array_cleanup(&net->ymask);
    mr_array_cleanup(&net->mask);
    mr_array_cleanup(&net->coil);
    mr_array_cleanup(&net->x);
    mr_array_cleanup(&net->llg);
    for (int l = 0; l < 2; l++) {
        mr_array_cleanup(&net->act[l]);
        mr_array_cleanup(&net->hid[l]);
    }
    mr_array_cleanup(&net->delta);
    mr_array_cleanup(&net->scratch);
    mr_atommic_inference_cleanup(&net->atommic);
    net->nc = 0;
    net->h = 0;
    net->w = 0;
}

void mr_cirim_free(struct mr_cirim *net)
{
    if (net == NULL)
        return;
    release_buffers(net);
    if (net->casc != NULL)
        for (int64_t i = 0; i < net->cfg.num_cascades; i++)
            for (int l = 0; l < 3; l++)
                mr_array_cleanup(&net->casc[i].wino[l]);
    free(net->casc);
    free(net);
}

const struct mr_cirim_config *mr_cirim_get_config(const struct mr_cirim *net)
{
    return &net->cfg;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

mr_status mr_cirim_prepare(struct mr_cirim *net, int64_t nc, int64_t h, int64_t w)
{
    const struct mr_cirim_config *c = &net->cfg;
    mr_status st = MR_OK;
    int64_t scratch = 1;

    if (nc < 1 || h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "CIRIM: cannot prepare for %lld coils of %lldx%lld",
                       (long long)nc, (long long)h, (long long)w);
    if (net->fft != NULL && net->nc == nc && net->h == h && net->w == w)
        return MR_OK;
    release_buffers(net);

    for (int64_t i = 0; i < c->num_cascades; i++) {
        const struct cirim_cascade *cc = &net->casc[i];
        for (int l = 0; l < 3; l++)
            scratch = max64(scratch, mr_conv2d_scratch_size(&cc->conv[l], h, w));
        for (int l = 0; l < 2; l++)
            scratch = max64(scratch, mr_rnn_cell_scratch_size(&cc->cell[l], h, w));
    }
    MR_CHECK(mr_fft2_create(h, w, &c->fft, &net->fft));
    MR_CHECK(mr_array_init_dims(&net->mask, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&net->coil, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&net->ymask, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&net->x, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&net->llg, MR_DTYPE_F32, 3, (int64_t)4, h, w));
    for (int l = 0; l < 2; l++) {
        MR_CHECK(mr_array_init_dims(&net->act[l], MR_DTYPE_F32, 3, c->conv_filters[l], h, w));
        MR_CHECK(mr_array_init_dims(&net->hid[l], MR_DTYPE_F32, 3, c->recurrent_filters[l], h,
                                    w));
    }
    MR_CHECK(mr_array_init_dims(&net->delta, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    MR_CHECK(mr_array_init_dims(&net->scratch, MR_DTYPE_F32, 1, scratch));
    net->nc = nc;
    net->h = h;
    net->w = w;
out:
    if (st != MR_OK)
        release_buffers(net);
    return st;
}

/* ---- forward pass ----------------------------------------------------------------------- */

/* probe "cascade_{i}/time_step_{t}/{what}" (the goldens' /intermediate names) */
static void emit(const struct mr_probe *probe, int64_t i, int64_t t, const char *what,
                 const struct mr_array *a)
{
    mr_probe_emitf(probe, -1, a, "cascade_%lld/time_step_%lld/%s", (long long)i, (long long)t,
                   what);
}

/* x = CoilCombine(IFFT(y), S) (§9); net->coil is clobbered */
static void starting_image(struct mr_cirim *net, const struct mr_array *ksp,
                           const struct mr_array *sens)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    float complex *z = mr_array_cf32(&net->coil);
    const float complex *s = mr_array_cf32(sens);
    float *x = (float *)mr_array_cf32(&net->x); /* (re, im) pairs, as C11 lays them out */
    const bool rss = net->cfg.combine == MR_CIRIM_COMBINE_RSS;

    mr_fft2_inverse(net->fft, z, mr_array_cf32(ksp), nc);
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double re = 0.0;
        double im = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const float complex v = z[c * n + i];
            if (rss) {
                /* element-wise on the stacked (re, im) tensor: not the magnitude */
                re += (double)crealf(v) * (double)crealf(v);
                im += (double)cimagf(v) * (double)cimagf(v);
            } else {
                const float complex p = conjf(s[c * n + i]) * v;
                re += (double)crealf(p);
                im += (double)cimagf(p);
            }
        }
        x[2 * i] = (float)(rss ? sqrt(re) : re);
        x[2 * i + 1] = (float)(rss ? sqrt(im) : im);
    }
}

/* llg = [Re x, Im x, Re g, Im g], g = Σ_c conj(S_c) IFFT(M ⊙ (FFT(S_c x) − y_c)) / σ' (§5) */
static void log_likelihood_gradient(struct mr_cirim *net, const struct mr_array *ksp,
                                    const struct mr_array *sens, float inv_sigma)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    float complex *r = mr_array_cf32(&net->coil);
    const float complex *s = mr_array_cf32(sens);
    const float complex *y = mr_array_cf32(ksp);
    const float complex *x = mr_array_cf32(&net->x);
    const float *m = mr_array_f32(&net->mask);
    float *out = mr_array_f32(&net->llg);

#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            r[c * n + i] = s[c * n + i] * x[i];
    /* line mask: F⁻¹(M ⊙ (F r − y)) = F⁻¹MF r − F⁻¹(M y), the first along one axis only */
    const float complex *ym = NULL;
    if (net->linemask != NULL) {
        mr_fft_linemask_apply(net->linemask, r, nc);
        ym = mr_array_cf32(&net->ymask);
    } else {
        mr_fft2_forward(net->fft, r, r, nc);
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
        for (int64_t c = 0; c < nc; c++)
            for (int64_t i = 0; i < n; i++)
                r[c * n + i] = m[i] * (r[c * n + i] - y[c * n + i]);
        mr_fft2_inverse(net->fft, r, r, nc);
    }
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double re = 0.0;
        double im = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const float complex v = ym != NULL ? r[c * n + i] - ym[c * n + i] : r[c * n + i];
            const float complex p = conjf(s[c * n + i]) * v;
            re += (double)crealf(p);
            im += (double)cimagf(p);
        }
        out[i] = crealf(x[i]);
        out[n + i] = cimagf(x[i]);
        out[2 * n + i] = (float)re * inv_sigma;
        out[3 * n + i] = (float)im * inv_sigma;
    }
}

/* DC mode (§8): k (C, H, W) = y − soft_dc − FFT(S_c x), soft_dc = 0 for the single cascade */
static void dc_kspace(struct mr_cirim *net, struct mr_array *k, const struct mr_array *ksp,
                      const struct mr_array *sens)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    float complex *o = mr_array_cf32(k);
    const float complex *s = mr_array_cf32(sens);
    const float complex *y = mr_array_cf32(ksp);
    const float complex *x = mr_array_cf32(&net->x);

#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            o[c * n + i] = s[c * n + i] * x[i];
    mr_fft2_forward(net->fft, o, o, nc);
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            o[c * n + i] = y[c * n + i] - o[c * n + i];
}

/* one time step of one cascade: x ← x + Δ(LLG(x), hidden) */
static void time_step(struct mr_cirim *net, const struct cirim_cascade *cc, int64_t i,
                      int64_t t, const struct mr_array *ksp, const struct mr_array *sens,
                      float inv_sigma, const struct mr_probe *probe)
{
    static const char *const conv_name[2] = { "layer0_conv", "layer1_conv" };
    static const char *const hid_name[2] = { "layer0_hidden", "layer1_hidden" };
    const int64_t n = net->h * net->w;
    const struct mr_array *a = &net->llg;

    log_likelihood_gradient(net, ksp, sens, inv_sigma);
    emit(probe, i, t, "llg_input", &net->llg);
    for (int l = 0; l < 2; l++) {
        mr_conv2d_forward(&cc->conv[l], &net->act[l], a, &net->scratch);
        mr_relu(&net->act[l]);
        emit(probe, i, t, conv_name[l], &net->act[l]);
        mr_rnn_cell_forward(&cc->cell[l], &net->hid[l], &net->act[l], &net->scratch);
        emit(probe, i, t, hid_name[l], &net->hid[l]);
        a = &net->hid[l];
    }
    mr_conv2d_forward(&cc->conv[2], &net->delta, a, &net->scratch);
    emit(probe, i, t, "final_conv", &net->delta);

    float *x = (float *)mr_array_cf32(&net->x); /* (re, im) pairs */
    const float *d = mr_array_f32(&net->delta);
    for (int64_t p = 0; p < n; p++) {
        x[2 * p] += d[p];
        x[2 * p + 1] += d[n + p];
    }
}

static mr_status check_input(const struct mr_array *a, const char *what, enum mr_dtype dtype,
                             int ndim, const int64_t *dims)
{
    char got[96];
    char want[96];
    bool ok = a != NULL && a->dtype == dtype && a->ndim == ndim;

    for (int d = 0; ok && d < ndim; d++)
        ok = a->dims[d] == dims[d];
    if (ok)
        return MR_OK;
    if (a == NULL)
        return MR_FAIL(MR_ERR_SHAPE, "CIRIM: %s is missing", what);
    return MR_FAIL(MR_ERR_SHAPE, "CIRIM: %s is %s, expected %s %s", what,
                   mr_array_shape_str(a, got, sizeof(got)), mr_dims_str(ndim, dims, want,
                                                                        sizeof(want)),
                   dtype == MR_DTYPE_CF32 ? "complex64" : "float32");
}

/* net->mask (H, W) ← mask (H, W), or a column mask (1, W) / (W) repeated over rows */
/* the line-mask operator for the current mask (recon/fft.h) */
static mr_status prepare_linemask(struct mr_cirim *net)
{
    if (getenv("MR_CIRIM_FULL_FFT") != NULL) {
        mr_fft_linemask_free(net->linemask);
        net->linemask = NULL;
        return MR_OK;
    }
    return mr_fft_linemask_sync(&net->linemask, net->h, net->w, &net->cfg.fft,
                               mr_array_f32(&net->mask));
}

/* ymask = F⁻¹(M ⊙ y) for the line-mask gradient */
static void masked_adjoint(struct mr_cirim *net, const struct mr_array *ksp)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    const float *m = mr_array_f32(&net->mask);
    const float complex *y = mr_array_cf32(ksp);
    float complex *z = mr_array_cf32(&net->ymask);

#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            z[c * n + i] = m[i] * y[c * n + i];
    mr_fft2_inverse(net->fft, z, z, nc);
}

static mr_status load_mask(struct mr_cirim *net, const struct mr_array *mask)
{
    const int64_t h = net->h;
    const int64_t w = net->w;
    char got[96];

    if (mask == NULL || mask->dtype != MR_DTYPE_F32 || mask->ndim < 1 ||
        mask->dims[mask->ndim - 1] != w ||
        (mr_array_numel(mask) != h * w && mr_array_numel(mask) != w))
        return MR_FAIL(MR_ERR_SHAPE, "CIRIM: mask is %s, expected (%lld, %lld) or (%lld) "
                       "float32", mask != NULL ? mr_array_shape_str(mask, got, sizeof(got))
                                               : "missing",
                       (long long)h, (long long)w, (long long)w);
    const float *src = mr_array_f32(mask);
    float *dst = mr_array_f32(&net->mask);
    const bool column = mr_array_numel(mask) == w && h != 1;
    for (int64_t r = 0; r < h; r++)
        memcpy(dst + r * w, src + (column ? 0 : r * w), sizeof(*dst) * (size_t)w);
    return prepare_linemask(net);
}

mr_status mr_cirim_run(struct mr_cirim *net, const struct mr_cirim_inputs *in,
                       struct mr_array *out, const struct mr_probe *probe)
{
    const struct mr_cirim_config *c = &net->cfg;
    mr_status st;

    if (in->ksp == NULL || in->ksp->ndim != 3)
        return check_input(in->ksp, "k-space", MR_DTYPE_CF32, 3, (const int64_t[]){ 0, 0, 0 });
    const int64_t nc = in->ksp->dims[0];
    const int64_t h = in->ksp->dims[1];
    const int64_t w = in->ksp->dims[2];
    const int64_t cdims[3] = { nc, h, w };
    if ((st = check_input(in->ksp, "k-space", MR_DTYPE_CF32, 3, cdims)) != MR_OK ||
        (st = check_input(in->sens, "sensitivity maps", MR_DTYPE_CF32, 3, cdims)) != MR_OK)
        return st;
    if (in->init != NULL &&
        (st = check_input(in->init, "initial prediction", MR_DTYPE_CF32, 2, cdims + 1)) != MR_OK)
        return st;
    if ((st = check_input(out, "output", MR_DTYPE_CF32, c->no_dc ? 2 : 3,
                          c->no_dc ? cdims + 1 : cdims)) != MR_OK)
        return st;
    if ((st = mr_array_check_finite(in->ksp, "CIRIM k-space")) != MR_OK ||
        (st = mr_array_check_finite(in->sens, "CIRIM sensitivity maps")) != MR_OK ||
        (in->init != NULL &&
         (st = mr_array_check_finite(in->init, "CIRIM initial prediction")) != MR_OK))
        return st;
    if (!isfinite(in->sigma))
        return MR_FAIL(MR_ERR_DATA, "CIRIM: sigma is not finite");
    if ((st = mr_cirim_prepare(net, nc, h, w)) != MR_OK || (st = load_mask(net, in->mask)) != MR_OK)
        return st;

    const float inv_sigma = 1.0f / (in->sigma > 1.0f ? in->sigma : 1.0f);
    if (net->linemask != NULL)
        masked_adjoint(net, in->ksp);
    if (in->init != NULL)
        mr_array_copy(&net->x, in->init);
    else
        starting_image(net, in->ksp, in->sens);
    mr_probe_emit(probe, "initial_image", -1, &net->x);
    for (int l = 0; l < 2; l++)
        mr_array_zero(&net->hid[l]);

    for (int64_t i = 0; i < c->num_cascades; i++)
        for (int64_t t = 0; t < net->steps; t++) {
            time_step(net, &net->casc[i], i, t, in->ksp, in->sens, inv_sigma, probe);
            if (c->no_dc) {
                emit(probe, i, t, "prediction", &net->x);
            } else if (mr_probe_active(probe)) {
                dc_kspace(net, out, in->ksp, in->sens);
                emit(probe, i, t, "prediction", out);
            }
        }
    if (c->no_dc)
        mr_array_copy(out, &net->x);
    else
        dc_kspace(net, out, in->ksp, in->sens);
    return MR_OK;
}

/* ---- the registry row (net.h) ----------------------------------------------------------- */

static mr_status cirim_create(struct mr_weights *ws, const struct mr_config *cfg,
                              const struct mr_net_options *opt, void **out)
{
    struct mr_cirim_config c = mr_cirim_config_default;
    struct mr_cirim *net = NULL;
    mr_status st = mr_cirim_config_read(cfg, &c);

    if (st == MR_OK)
        st = mr_cirim_create(ws, &c, &net);
    if (st == MR_OK) {
        net->inference = opt->inference;
        *out = net;
    }
    return st;
}

static mr_status cirim_prepare(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                               int64_t *out_dims, enum mr_dtype *out_dtype)
{
    struct mr_cirim *net = ctx;
    mr_status st = mr_cirim_prepare(net, nc, h, w);

    if (st == MR_OK && net->inference)
        st = mr_atommic_inference_prepare(&net->atommic, nc, h, w);
    if (st != MR_OK)
        return st;
    *out_dtype = MR_DTYPE_CF32;
    if (net->cfg.no_dc) {
        *out_ndim = 2;
        out_dims[0] = h;
        out_dims[1] = w;
    } else {
        *out_ndim = 3;
        out_dims[0] = nc;
        out_dims[1] = h;
        out_dims[2] = w;
    }
    return MR_OK;
}

static mr_status cirim_run(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                           const struct mr_probe *probe)
{
    const struct mr_cirim_inputs cin = {
        .ksp = in->ksp,
        .mask = in->mask,
        .sens = in->sens,
        .init = in->initial_prediction,
        .sigma = in->sigma,
    };
    return mr_cirim_run(ctx, &cin, out, probe);
}

/* |x|, or for a k-space output sqrt(Σ_c |IFFT(k_c)|²) */
static void cirim_image(void *ctx, struct mr_array *img, const struct mr_array *out)
{
    struct mr_cirim *net = ctx;
    const int64_t n = net->h * net->w;
    float *d = mr_array_f32(img);

    if (out->ndim == 2) {
        const float complex *x = mr_array_cf32(out);
        for (int64_t i = 0; i < n; i++)
            d[i] = cabsf(x[i]);
        return;
    }
    float complex *z = mr_array_cf32(&net->coil);
    mr_fft2_inverse(net->fft, z, mr_array_cf32(out), net->nc);
    for (int64_t i = 0; i < n; i++) {
        double ss = 0.0;
        for (int64_t c = 0; c < net->nc; c++) {
            const float complex v = z[c * n + i];
            ss += (double)crealf(v) * (double)crealf(v) + (double)cimagf(v) * (double)cimagf(v);
        }
        d[i] = (float)sqrt(ss);
    }
}

static void cirim_free(void *ctx)
{
    mr_cirim_free(ctx);
}

/* inference: ATOMMIC's max-SENSE k-space scaling */
static mr_status cirim_pre(void *ctx, struct mr_net_inputs *in, float *scale)
{
    struct mr_cirim *net = ctx;
    return mr_atommic_inference_pre(&net->atommic, in, scale);
}

static void cirim_post(void *ctx, struct mr_array *img, float scale)
{
    (void)ctx;
    mr_atommic_inference_post(img, scale);
}

const struct mr_net_ops mr_cirim_ops = {
    .name = "cirim",
    .needs = MR_NET_NEED_SENS,
    .create = cirim_create,
    .prepare = cirim_prepare,
    .run = cirim_run,
    .image = cirim_image,
    .free = cirim_free,
    .pre = cirim_pre,
    .post = cirim_post,
};
