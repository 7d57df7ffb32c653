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
#include "networks/conv_weights.h"
#include "networks/layout.h"
#include "recon/combine.h"
#include "recon/dc.h"
#include "recon/settings.h"
#include "weights/config.h"

#define CIRIM_PAR_MIN ((int64_t)1 << 16) /* elements; below, a parallel region costs more */

/* ---- the network ------------------------------------------------------------------------ */

struct cirim_cascade {
    struct mr_conv2d conv[3]; /* layers.0.convs, layers.1.convs, final_layer.0 */
    struct mr_array wino[3];  /* their Winograd-domain weights where that path is used */
    struct mr_rnn_cell cell[2];
};

struct cirim {
    struct mr_cirim_config cfg;
    bool inference; /* created for mr_net_infer */
    double ey;      /* the report's ‖M y‖² (image domain in the line-mask form) */
    int64_t steps;
    struct cirim_cascade *casc;

    /* prepared for nc coils of h×w */
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_fft2 *fft;
    /* line masks (whole columns or rows): the normal operator F⁻¹MF along one axis, and the
     * constant part F⁻¹(M y) of the gradient; NULL for 2-D masks (recon/fft.h) */
    struct mr_fft_linemask *linemask;
    struct mr_array ymask;   /* (C, H, W) CF32: F⁻¹(M ⊙ y) when linemask is set */
    struct mr_array coil;    /* (C, H, W) CF32 */
    struct mr_array x;       /* (H, W) CF32, the estimate */
    struct mr_array grad;    /* (H, W) CF32: the data-consistency gradient, then the update */
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
    char name[256];

    *c = mr_conv2d_make(cin, cout, k, d * (k - 1) / 2);
    c->dilation[0] = d;
    c->dilation[1] = d;
    c->pad_mode = MR_PAD_MODE_REPLICATE;
    snprintf(name, sizeof(name), "%s.conv_layer", prefix);
    return mr_conv2d_load(c, ws, name, bias);
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

static void cirim_free(void *ctx);

/* the network for cfg (checked) from the tensors of ws (borrowed) */
static mr_status cirim_build(struct mr_weights *ws, const struct mr_cirim_config *cfg,
                             struct cirim **out)
{
    mr_status st = MR_OK;
    struct cirim *net = NULL;

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
    cirim_free(net);
    return st;
}

static void release_buffers(struct cirim *net)
{
    mr_fft2_free(net->fft);
    net->fft = NULL;
    mr_fft_linemask_free(net->linemask);
    net->linemask = NULL;
    mr_array_cleanup(&net->ymask);
    mr_array_cleanup(&net->coil);
    mr_array_cleanup(&net->x);
    mr_array_cleanup(&net->grad);
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

static void cirim_free(void *ctx)
{
    struct cirim *net = ctx;

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

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* every buffer and the FFT plan for nc coils of h×w: (4·nc + F0c + F1c + F0 + F1 + 10)·h·w
 * floats, and scratch for the larger of one im2col band (layers.h) and the cell gates */
static mr_status prepare_buffers(struct cirim *net, int64_t nc, int64_t h, int64_t w)
{
    const struct mr_cirim_config *c = &net->cfg;
    mr_status st = MR_OK;
    int64_t scratch = 1;

    release_buffers(net);

    for (int64_t i = 0; i < c->num_cascades; i++) {
        const struct cirim_cascade *cc = &net->casc[i];
        for (int l = 0; l < 3; l++)
            scratch = max64(scratch, mr_conv2d_scratch_size(&cc->conv[l], h, w));
        for (int l = 0; l < 2; l++)
            scratch = max64(scratch, mr_rnn_cell_scratch_size(&cc->cell[l], h, w));
    }
    MR_CHECK(mr_fft2_create(h, w, &c->fft, &net->fft));
    MR_CHECK(mr_array_init_dims(&net->coil, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&net->ymask, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&net->x, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&net->grad, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&net->llg, MR_DTYPE_F32, 3, (int64_t)4, h, w));
    for (int l = 0; l < 2; l++) {
        MR_CHECK(mr_array_init_dims(&net->act[l], MR_DTYPE_F32, 3, c->conv_filters[l], h, w));
        MR_CHECK(mr_array_init_dims(&net->hid[l], MR_DTYPE_F32, 3, c->recurrent_filters[l], h,
                                    w));
    }
    MR_CHECK(mr_array_init_dims(&net->delta, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    MR_CHECK(mr_array_init_dims(&net->scratch, MR_DTYPE_F32, 1, scratch));
    if (net->inference)
        MR_CHECK(mr_atommic_inference_prepare(&net->atommic, nc, h, w));
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

/* x = CoilCombine(IFFT(y), S) (§9), sums in double; net->coil is clobbered */
static void starting_image(struct cirim *net, const struct mr_array *ksp,
                           const struct mr_array *sens)
{
    mr_fft2_inverse(net->fft, mr_array_cf32(&net->coil), mr_array_cf32(ksp), net->nc);
    if (net->cfg.combine == MR_CIRIM_COMBINE_RSS) /* on the stacked (re, im) tensor */
        mr_coil_rss_parts(&net->x, &net->coil, MR_COIL_SUM_DOUBLE);
    else
        mr_coil_reduce(&net->x, &net->coil, sens, MR_COIL_SUM_DOUBLE);
}

/* llg = [Re x, Im x, Re g, Im g], g = Σ_c conj(S_c) IFFT(M ⊙ (FFT(S_c x) − y_c)) / σ' (§5).
 * dc (NULL: not wanted) receives the report's energies of x from the same transforms (recon/
 * dc.h): dc[0] = Σ_{M≠0} |FFT(S x) − y|², dc[1] = Σ_{M=0} |FFT(S x)|², in the line-mask form
 * by their image-domain equals (‖P S x − F⁻¹(M y)‖², ‖S x‖² − ‖P S x‖²; M binary there). */
static void log_likelihood_gradient(struct cirim *net, const struct mr_array *ksp,
                                    const struct mr_array *mask, const struct mr_array *sens,
                                    float inv_sigma, double *dc)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    float complex *r = mr_array_cf32(&net->coil);
    const float complex *y = mr_array_cf32(ksp);
    const float *m = mr_array_f32(mask);
    float complex *g = mr_array_cf32(&net->grad);
    struct mr_array ch;

    mr_coil_expand(&net->coil, &net->x, sens);
    if (net->linemask != NULL) {
        /* line mask: F⁻¹(M ⊙ (F r − y)) = F⁻¹MF r − F⁻¹(M y), the first along one axis only */
        const float complex *ym = mr_array_cf32(&net->ymask);
        const double all = dc != NULL ? mr_dc_energy(r, NULL, 1, nc * n, true) : 0.0;
        mr_fft_linemask_apply(net->linemask, r, nc);
        if (dc != NULL) {
            dc[0] = mr_dc_residual_energy(r, ym, NULL, 1, nc * n);
            dc[1] = fmax(0.0, all - mr_dc_energy(r, NULL, 1, nc * n, true));
        }
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
        for (int64_t j = 0; j < nc * n; j++)
            r[j] = r[j] - ym[j];
    } else {
        mr_fft2_forward(net->fft, r, r, nc);
        if (dc != NULL) {
            dc[0] = mr_dc_residual_energy(r, y, m, nc, n);
            dc[1] = mr_dc_energy(r, m, nc, n, false);
        }
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
        for (int64_t c = 0; c < nc; c++)
            for (int64_t i = 0; i < n; i++)
                r[c * n + i] = m[i] * (r[c * n + i] - y[c * n + i]);
        mr_fft2_inverse(net->fft, r, r, nc);
    }
    mr_coil_reduce(&net->grad, &net->coil, sens, MR_COIL_SUM_DOUBLE);
    for (int64_t i = 0; i < n; i++)
        g[i] = g[i] * inv_sigma;
    mr_channels_view(&ch, &net->llg, 0, 2);
    mr_complex_to_channels(&ch, &net->x);
    mr_channels_view(&ch, &net->llg, 2, 2);
    mr_complex_to_channels(&ch, &net->grad);
}

/* DC mode (§8): k (C, H, W) = y − soft_dc − FFT(S_c x), soft_dc = 0 for the single cascade */
static void dc_kspace(struct cirim *net, struct mr_array *k, const struct mr_array *ksp,
                      const struct mr_array *sens)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    float complex *o = mr_array_cf32(k);
    const float complex *y = mr_array_cf32(ksp);

    mr_coil_expand(k, &net->x, sens);
    mr_fft2_forward(net->fft, o, o, nc);
#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t j = 0; j < nc * n; j++)
        o[j] = y[j] - o[j];
}

/* the report's numbers of the estimate x (recon/dc.h), k = FFT(S_c x) in net->coil: for the
 * result (the time steps report the estimate they start from, log_likelihood_gradient) */
static void report_estimate(struct cirim *net, int64_t index, const struct mr_net_inputs *in,
                            const struct mr_probe *probe)
{
    if (!mr_probe_wants_values(probe) || in->sens == NULL)
        return;
    mr_coil_expand(&net->coil, &net->x, in->sens);
    mr_fft2_forward(net->fft, mr_array_cf32(&net->coil), mr_array_cf32(&net->coil), net->nc);
    mr_dc_emit(probe, index, mr_array_cf32(&net->coil), mr_array_cf32(in->ksp),
               mr_array_f32(in->mask), net->nc, net->h * net->w);
}

/* one time step of one cascade: x ← x + Δ(LLG(x), hidden) */
static void time_step(struct cirim *net, const struct cirim_cascade *cc, int64_t i,
                      int64_t t, const struct mr_net_inputs *in, float inv_sigma,
                      const struct mr_probe *probe)
{
    static const char *const conv_name[2] = { "layer0_conv", "layer1_conv" };
    static const char *const hid_name[2] = { "layer0_hidden", "layer1_hidden" };
    const int64_t n = net->h * net->w;
    const struct mr_array *a = &net->llg;

    double dc[2];
    const bool report = mr_probe_wants_values(probe);
    log_likelihood_gradient(net, in->ksp, in->mask, in->sens, inv_sigma, report ? dc : NULL);
    if (report) { /* the estimate this step starts from, from the gradient's own transforms */
        const int64_t k = i * net->steps + t;
        mr_probe_emit_value(probe, "dc_residual", k,
                            net->ey > 0.0 ? sqrt(dc[0] / net->ey) : 0.0);
        mr_probe_emit_value(probe, "unsampled_energy", k,
                            net->ey > 0.0 ? sqrt(dc[1] / net->ey) : 0.0);
    }
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

    /* x += complex(Δ): the update's channels [Re, Im] as one complex image */
    float complex *x = mr_array_cf32(&net->x);
    const float complex *d = mr_array_cf32(&net->grad);
    mr_channels_to_complex(&net->grad, &net->delta);
    for (int64_t p = 0; p < n; p++)
        x[p] += d[p];
}

/* the line-mask operator for this mask (recon/fft.h) */
static mr_status prepare_linemask(struct cirim *net, const struct mr_array *mask)
{
    if (mr_settings_get()->cirim_full_fft) {
        mr_fft_linemask_free(net->linemask);
        net->linemask = NULL;
        return MR_OK;
    }
    return mr_fft_linemask_sync(&net->linemask, net->h, net->w, &net->cfg.fft,
                                mr_array_f32(mask));
}

/* ymask = F⁻¹(M ⊙ y) for the line-mask gradient */
static void masked_adjoint(struct cirim *net, const struct mr_array *ksp,
                           const struct mr_array *mask)
{
    const int64_t nc = net->nc;
    const int64_t n = net->h * net->w;
    const float *m = mr_array_f32(mask);
    const float complex *y = mr_array_cf32(ksp);
    float complex *z = mr_array_cf32(&net->ymask);

#pragma omp parallel for if (nc * n > CIRIM_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            z[c * n + i] = m[i] * y[c * n + i];
    mr_fft2_inverse(net->fft, z, z, nc);
}

/* the whole forward pass (inputs checked by the registry) */
static mr_status cirim_run(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                           const struct mr_probe *probe)
{
    struct cirim *net = ctx;
    const struct mr_cirim_config *c = &net->cfg;
    mr_status st = prepare_linemask(net, in->mask);

    if (st != MR_OK)
        return st;
    const float inv_sigma = 1.0f / (in->sigma > 1.0f ? in->sigma : 1.0f);
    if (net->linemask != NULL)
        masked_adjoint(net, in->ksp, in->mask);
    if (in->initial_prediction != NULL)
        mr_array_copy(&net->x, in->initial_prediction);
    else
        starting_image(net, in->ksp, in->sens);
    mr_probe_emit(probe, "initial_image", -1, &net->x);
    if (mr_probe_wants_values(probe)) /* in the domain log_likelihood_gradient reports in */
        net->ey = net->linemask != NULL
                      ? mr_dc_energy(mr_array_cf32(&net->ymask), NULL, 1,
                                     net->nc * net->h * net->w, true)
                      : mr_dc_energy(mr_array_cf32(in->ksp), mr_array_f32(in->mask), net->nc,
                                     net->h * net->w, true);
    for (int l = 0; l < 2; l++)
        mr_array_zero(&net->hid[l]);

    for (int64_t i = 0; i < c->num_cascades; i++)
        for (int64_t t = 0; t < net->steps; t++) {
            time_step(net, &net->casc[i], i, t, in, inv_sigma, probe);
            if (c->no_dc) {
                emit(probe, i, t, "prediction", &net->x);
            } else if (mr_probe_active(probe)) {
                dc_kspace(net, out, in->ksp, in->sens);
                emit(probe, i, t, "prediction", out);
            }
        }
    report_estimate(net, c->num_cascades * net->steps, in, probe); /* the result */
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
    struct cirim *net = NULL;
    mr_status st = mr_cirim_config_read(cfg, &c);

    if (st == MR_OK)
        st = cirim_build(ws, &c, &net);
    if (st == MR_OK) {
        net->inference = opt->inference;
        *out = net;
    }
    return st;
}

static mr_status cirim_prepare(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                               int64_t *out_dims, enum mr_dtype *out_dtype)
{
    struct cirim *net = ctx;
    mr_status st = prepare_buffers(net, nc, h, w);

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

/* |x|, or for a k-space output sqrt(Σ_c |IFFT(k_c)|²) */
static void cirim_image(void *ctx, struct mr_array *img, const struct mr_array *out)
{
    struct cirim *net = ctx;
    const int64_t n = net->h * net->w;
    float *d = mr_array_f32(img);

    if (out->ndim == 2) {
        const float complex *x = mr_array_cf32(out);
        for (int64_t i = 0; i < n; i++)
            d[i] = cabsf(x[i]);
        return;
    }
    mr_fft2_inverse(net->fft, mr_array_cf32(&net->coil), mr_array_cf32(out), net->nc);
    mr_coil_rss(img, &net->coil, MR_COIL_SUM_DOUBLE);
}

/* inference: ATOMMIC's max-SENSE k-space scaling */
static mr_status cirim_pre(void *ctx, struct mr_net_inputs *in, float *scale)
{
    struct cirim *net = ctx;
    return mr_atommic_inference_pre(&net->atommic, in, scale);
}

static void cirim_post(void *ctx, struct mr_array *img, float scale)
{
    (void)ctx;
    mr_atommic_inference_post(img, scale);
}

static bool cirim_scales_with_data(const void *ctx)
{
    (void)ctx;
    return true; /* ATOMMIC's max normalisation (pre / post) */
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
    .scales_with_data = cirim_scales_with_data,
};
