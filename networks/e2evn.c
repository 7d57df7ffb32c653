/*
 * E2EVN (Sriram, Zbontar, Murrell, Defazio, Zitnick, Yakubova, Knoll, Johnson, "End-to-End
 * Variational Networks for Accelerated MRI Reconstruction", MICCAI 2020): the fastMRI and
 * ATOMMIC reference forwards of ../shared/specs/e2evn.md, float32 like the references.
 *
 * Data flow per slice (C coils, H×W):
 *   fastMRI only: ACS k-space → IFFT → per-coil NormUnet → divide by RSS over coils = S
 *   k = y; for each cascade: k = k − λ·M·(k − y) − E(NormUnet(R(k)))   (no_dc: k = E(...))
 *     with R(k) = Σ_c conj(S_c)·IFFT(k_c), E(x)_c = FFT(S_c·x)
 *   output: fastMRI sqrt(Σ_c |IFFT(k_c)|²) real; ATOMMIC SENSE Σ_c conj(S_c)·IFFT(k_c) or the
 *   per-component "RSS".
 * All cascades share one set of NormUnet buffers (they have the same shape).
 */
#include "networks/e2evn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "networks/atommic.h"
#include "networks/unet.h"
#include "recon/cpu.h"
#include "recon/coils.h"
#include "recon/combine.h"
#include "recon/dc.h"
#include "recon/fft.h"
#include "recon/settings.h"

#define E2EVN_PAR_MIN ((int64_t)1 << 17) /* see MR_LAYERS_PAR_MIN in layers.c */

enum e2evn_variant {
    E2EVN_FASTMRI = 0,
    E2EVN_ATOMMIC = 1,
};

enum e2evn_combine {
    E2EVN_COMBINE_RSS_REAL = 0, /* fastMRI: sqrt(Σ|x_c|²), real */
    E2EVN_COMBINE_SENSE = 1,    /* ATOMMIC SENSE, complex */
    E2EVN_COMBINE_RSS_PARTS = 2, /* ATOMMIC "RSS": per component, complex */
    E2EVN_COMBINE_RSS_COMPLEX = 3, /* ATOMMIC "RSS_COMPLEX": sqrt(Σ|x_c|²), real */
};

struct e2evn {
    enum e2evn_variant variant;
    bool inference;                      /* created for mr_net_infer */
    int64_t num_cascades;
    bool mask_center;
    bool no_dc;
    enum e2evn_combine combine;
    struct mr_fft_config fft_cfg;
    struct mr_normunet_config reg_cfg;
    struct mr_normunet_config sens_cfg;
    struct mr_normunet *sens_net; /* fastMRI only */
    struct mr_normunet **reg;     /* [num_cascades] */
    float *dc_weight;             /* [num_cascades] */

    /* prepared for nc × h × w */
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_fft2 *fft;
    struct mr_normunet_work *reg_work;
    struct mr_normunet_work **sens_work; /* [sens_nwork]: one per thread (estimate_sens) */
    int sens_nwork;
    struct mr_array k;     /* (C, H, W) current k-space */
    struct mr_array cimg;  /* (C, H, W) coil images / expanded k-space */
    struct mr_array sens;  /* (C, H, W) estimated maps (fastMRI) */
    struct mr_array img;   /* (H, W) reduced image */
    struct mr_array reg_out; /* (H, W) */
    /* line masks: the cascades run on coil images X = IFFT(k) (see cascade_image) */
    struct mr_fft_linemask *linemask; /* IFFT([M≠0] ⊙ FFT(·)), NULL for 2-D masks */
    struct mr_array bmask;   /* (H, W) [M ≠ 0] */
    struct mr_array ymask;   /* (C, H, W) IFFT([M ≠ 0] ⊙ y) */
    struct mr_atommic_inference atommic; /* ATOMMIC variant for inference: its scaling */
};

static void e2evn_release_prepared(struct e2evn *e)
{
    mr_fft2_free(e->fft);
    e->fft = NULL;
    mr_normunet_work_free(e->reg_work);
    e->reg_work = NULL;
    for (int i = 0; i < e->sens_nwork; i++)
        mr_normunet_work_free(e->sens_work[i]);
    free(e->sens_work);
    e->sens_work = NULL;
    e->sens_nwork = 0;
    mr_array_cleanup(&e->k);
    mr_array_cleanup(&e->cimg);
    mr_array_cleanup(&e->sens);
    mr_array_cleanup(&e->img);
    mr_array_cleanup(&e->reg_out);
    mr_fft_linemask_free(e->linemask);
    e->linemask = NULL;
    mr_array_cleanup(&e->bmask);
    mr_array_cleanup(&e->ymask);
    mr_atommic_inference_cleanup(&e->atommic);
}

static void e2evn_free(void *ctx)
{
    struct e2evn *e = ctx;

    if (e == NULL)
        return;
    e2evn_release_prepared(e);
    mr_normunet_free(e->sens_net);
    if (e->reg != NULL)
        for (int64_t i = 0; i < e->num_cascades; i++)
            mr_normunet_free(e->reg[i]);
    free(e->reg);
    free(e->dc_weight);
    free(e);
}

static mr_status pick_variant(const struct mr_config *cfg, enum e2evn_variant *out)
{
    static const char *const atommic_keys[] = {
        "channels", "pooling_layers", "padding_size", "normalize", "no_dc", "fft_centered",
        "fft_normalization", "coil_combination_method", "model_name",
    };
    const char *v = NULL;
    mr_status st = mr_config_string(cfg, "variant", NULL, &v);

    if (st != MR_OK)
        return st;
    if (v != NULL) {
        if (strcmp(v, "fastmri") == 0)
            *out = E2EVN_FASTMRI;
        else if (strcmp(v, "atommic") == 0)
            *out = E2EVN_ATOMMIC;
        else
            return MR_FAIL(MR_ERR_WEIGHTS, "e2evn: unknown variant '%s' (fastmri or atommic)",
                           v);
        return MR_OK;
    }
    *out = E2EVN_FASTMRI;
    for (size_t i = 0; i < sizeof(atommic_keys) / sizeof(atommic_keys[0]); i++)
        if (mr_config_has(cfg, atommic_keys[i]))
            *out = E2EVN_ATOMMIC;
    return MR_OK;
}

static mr_status read_fastmri_config(struct e2evn *e, const struct mr_config *cfg)
{
    mr_status st = MR_OK;
    int64_t sens_chans;
    int64_t sens_pools;
    int64_t chans;
    int64_t pools;

    MR_CHECK(mr_config_int_in(cfg, "num_cascades", 12, 1, MR_NET_MAX_BLOCKS, &e->num_cascades));
    MR_CHECK(mr_config_int_in(cfg, "sens_chans", 8, 1, MR_NET_MAX_CHANNELS, &sens_chans));
    MR_CHECK(mr_config_int_in(cfg, "sens_pools", 4, 1, MR_UNET_MAX_POOLS, &sens_pools));
    MR_CHECK(mr_config_int_in(cfg, "chans", 18, 1, MR_NET_MAX_CHANNELS, &chans));
    MR_CHECK(mr_config_int_in(cfg, "pools", 4, 1, MR_UNET_MAX_POOLS, &pools));
    MR_CHECK(mr_config_bool(cfg, "mask_center", true, &e->mask_center));
    e->fft_cfg = mr_fft_config_default; /* fastmri.fft2c: centred, ortho */
    e->combine = E2EVN_COMBINE_RSS_REAL;
    e->no_dc = false;
    e->reg_cfg = (struct mr_normunet_config){
        .chans = chans, .num_pools = pools, .normalize = true, .padding_size = 15,
    };
    e->sens_cfg = (struct mr_normunet_config){
        .chans = sens_chans, .num_pools = sens_pools, .normalize = true, .padding_size = 15,
    };
out:
    return st;
}

static mr_status read_atommic_config(struct e2evn *e, const struct mr_config *cfg)
{
    mr_status st = MR_OK;
    int64_t chans;
    int64_t pools;
    int64_t padding;
    int64_t dimensionality;
    int64_t slices;
    bool normalize;
    bool nn_maps;
    const char *norm = NULL;
    const char *comb = NULL;

    MR_CHECK(mr_config_int_in(cfg, "num_cascades", 8, 1, MR_NET_MAX_BLOCKS, &e->num_cascades));
    MR_CHECK(mr_config_int_in(cfg, "channels", 18, 1, MR_NET_MAX_CHANNELS, &chans));
    MR_CHECK(mr_config_int_in(cfg, "pooling_layers", 4, 1, MR_UNET_MAX_POOLS, &pools));
    MR_CHECK(mr_config_int_in(cfg, "padding_size", 11, 0, MR_NET_MAX_PADDING, &padding));
    MR_CHECK(mr_config_bool(cfg, "normalize", true, &normalize));
    MR_CHECK(mr_config_bool(cfg, "no_dc", false, &e->no_dc));
    MR_CHECK(mr_config_bool(cfg, "fft_centered", false, &e->fft_cfg.centered));
    MR_CHECK(mr_config_string(cfg, "fft_normalization", "backward", &norm));
    MR_CHECK(mr_config_string(cfg, "coil_combination_method", "SENSE", &comb));
    MR_CHECK(mr_config_bool(cfg, "estimate_coil_sensitivity_maps_with_nn", false, &nn_maps));
    MR_CHECK(mr_config_int(cfg, "dimensionality", 2, &dimensionality));
    MR_CHECK(mr_config_int(cfg, "consecutive_slices", 1, &slices));
    st = mr_fft_norm_parse(norm, &e->fft_cfg.norm);
    if (st != MR_OK) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "e2evn: fft_normalization '%s' is not ortho, backward, "
                     "forward or none", norm);
        goto out;
    }
    if (strcmp(comb, "SENSE") == 0) {
        e->combine = E2EVN_COMBINE_SENSE;
    } else if (strcmp(comb, "RSS") == 0) {
        e->combine = E2EVN_COMBINE_RSS_PARTS;
    } else if (strcmp(comb, "RSS_COMPLEX") == 0) {
        e->combine = E2EVN_COMBINE_RSS_COMPLEX;
    } else {
        st = MR_FAIL(MR_ERR_WEIGHTS, "e2evn: coil_combination_method '%s' is not SENSE, RSS or "
                     "RSS_COMPLEX", comb);
        goto out;
    }
    if (nn_maps || dimensionality != 2 || slices != 1) {
        st = MR_FAIL(MR_ERR_UNSUPPORTED, "e2evn (atommic): estimate_coil_sensitivity_maps_with_nn"
                     ", dimensionality != 2 and consecutive_slices != 1 are not supported");
        goto out;
    }
    e->mask_center = false;
    e->reg_cfg = (struct mr_normunet_config){
        .chans = chans, .num_pools = pools, .normalize = normalize, .padding_size = padding,
    };
out:
    return st;
}

static mr_status e2evn_create(struct mr_weights *ws, const struct mr_config *cfg,
                              const struct mr_net_options *opt, void **out)
{
    mr_status st = MR_OK;
    struct e2evn *e = calloc(1, sizeof(*e));
    char prefix[128];
    const struct mr_array *t = NULL;

    if (e == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "e2evn");
    e->inference = opt->inference;
    MR_CHECK(pick_variant(cfg, &e->variant));
    if (e->variant == E2EVN_FASTMRI)
        MR_CHECK(read_fastmri_config(e, cfg));
    else
        MR_CHECK(read_atommic_config(e, cfg));
    e->reg = calloc((size_t)e->num_cascades, sizeof(*e->reg));
    e->dc_weight = calloc((size_t)e->num_cascades, sizeof(*e->dc_weight));
    if (e->reg == NULL || e->dc_weight == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "e2evn cascades");
        goto out;
    }
    if (e->variant == E2EVN_FASTMRI)
        MR_CHECK(mr_normunet_create(ws, "sens_net.norm_unet.", &e->sens_cfg, &e->sens_net));
    for (int64_t i = 0; i < e->num_cascades; i++) {
        snprintf(prefix, sizeof(prefix), "cascades.%lld.dc_weight", (long long)i);
        MR_CHECK(mr_weights_get(ws, prefix, 1, (const int64_t[]){ 1 }, &t));
        e->dc_weight[i] = mr_array_f32(t)[0];
        snprintf(prefix, sizeof(prefix), "cascades.%lld.model.", (long long)i);
        MR_CHECK(mr_normunet_create(ws, prefix, &e->reg_cfg, &e->reg[i]));
    }
    *out = e;
    e = NULL;
out:
    e2evn_free(e);
    return st;
}

static mr_status e2evn_prepare(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                               int64_t *out_dims, enum mr_dtype *out_dtype)
{
    mr_status st = MR_OK;
    struct e2evn *e = ctx;

    e2evn_release_prepared(e);
    e->nc = nc;
    e->h = h;
    e->w = w;
    MR_CHECK(mr_fft2_create(h, w, &e->fft_cfg, &e->fft));
    for (int64_t i = 0; i < e->num_cascades; i++)
        MR_CHECK(mr_normunet_prepare_size(e->reg[i], h, w));
    MR_CHECK(mr_normunet_work_create(&e->reg_cfg, h, w, &e->reg_work));
    MR_CHECK(mr_array_init_dims(&e->k, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&e->cimg, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&e->img, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&e->reg_out, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&e->bmask, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&e->ymask, MR_DTYPE_CF32, 3, nc, h, w));
    if (e->variant == E2EVN_FASTMRI) {
        MR_CHECK(mr_normunet_prepare_size(e->sens_net, h, w));
        const int nwork = (int)(nc < mr_cpu_threads() ? nc : mr_cpu_threads());
        e->sens_work = calloc((size_t)nwork, sizeof(*e->sens_work));
        if (e->sens_work == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "e2evn: sensitivity buffers");
            goto out;
        }
        e->sens_nwork = nwork;
        for (int i = 0; i < nwork; i++)
            MR_CHECK(mr_normunet_work_create(&e->sens_cfg, h, w, &e->sens_work[i]));
        MR_CHECK(mr_array_init_dims(&e->sens, MR_DTYPE_CF32, 3, nc, h, w));
    }
    if (e->inference && e->variant == E2EVN_ATOMMIC)
        MR_CHECK(mr_atommic_inference_prepare(&e->atommic, nc, h, w));
    *out_ndim = 2;
    out_dims[0] = h;
    out_dims[1] = w;
    *out_dtype = e->combine == E2EVN_COMBINE_SENSE || e->combine == E2EVN_COMBINE_RSS_PARTS
                     ? MR_DTYPE_CF32
                     : MR_DTYPE_F32;
out:
    if (st != MR_OK)
        e2evn_release_prepared(e);
    return st;
}

/* fastMRI SensitivityModel (e2evn.md §5): e->sens from the measured k-space */
static mr_status estimate_sens(struct e2evn *e, const struct mr_net_inputs *in,
                               const struct mr_probe *probe)
{
    const int64_t nc = e->nc;
    const int64_t h = e->h;
    const int64_t w = e->w;
    float complex *x = mr_array_cf32(&e->cimg);
    int64_t pad = 0;
    int64_t nlf = w;

    mr_array_copy(&e->cimg, in->ksp);
    if (e->mask_center) {
        const struct mr_acs_config acfg = { .rule = MR_ACS_RULE_FASTMRI,
                                            .num_low_frequencies = in->num_low_frequencies };
        struct mr_acs acs;
        mr_status st = mr_acs_detect(in->mask, h, w, &acfg, &acs);
        if (st != MR_OK)
            return st;
        pad = acs.x0;
        nlf = acs.x1 - acs.x0;
        for (int64_t r = 0; r < nc * h; r++)
            for (int64_t col = 0; col < w; col++)
                if (col < pad || col >= pad + nlf)
                    x[r * w + col] = 0.0f;
    }
    mr_probe_emit(probe, "sens_acs_kspace", -1, &e->cimg);
    mr_fft2_inverse(e->fft, x, x, nc);
    mr_probe_emit(probe, "sens_coil_images", -1, &e->cimg);
    /* The coils' U-Nets are independent: one coil per thread, each U-Net single-threaded (its
     * kernels' parallel loops are nested, hence inactive). The small 8-channel U-Net gains
     * little from parallel layers; whole coils per thread scale with the threads. A probe sees
     * each coil's intermediates in coil order (the ordered section runs before the thread's
     * next coil reuses its buffers); the arithmetic is the same with or without a probe. */
    const int nwork = (int)(mr_cpu_threads() < e->sens_nwork ? mr_cpu_threads() : e->sens_nwork);
#pragma omp parallel for ordered num_threads(nwork) if (nwork > 1) schedule(static, 1)
    for (int64_t c = 0; c < nc; c++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        struct mr_normunet_work *wk = e->sens_work[tid];
        struct mr_array xc;
        struct mr_array sc;
        mr_array_slab(&xc, &e->cimg, c);
        mr_array_slab(&sc, &e->sens, c);
        mr_normunet_forward(e->sens_net, wk, &sc, &xc);
#pragma omp ordered
        {
            mr_probe_emit(probe, "sens_norm_mean", c, mr_normunet_work_mean(wk));
            mr_probe_emit(probe, "sens_norm_std", c, mr_normunet_work_std(wk));
            mr_probe_emit(probe, "sens_unet_input", c, mr_normunet_work_unet_input(wk));
            mr_probe_emit(probe, "sens_unet_output", c, mr_normunet_work_unet_output(wk));
        }
    }
    mr_probe_emit(probe, "sens_maps_raw", -1, &e->sens);
    /* S_c = r_c / sqrt(Σ_c' |r_c'|²) (fastMRI's rss(complex_abs)), no epsilon: the reference
     * divides by zero, here that is an error */
    const int64_t zeros = mr_coil_normalize(&e->sens, MR_COIL_SUM_FLOAT_ABS);
    if (zeros > 0)
        return MR_FAIL(MR_ERR_DATA, "e2evn: the estimated coil sensitivities vanish at %lld "
                       "pixels (RSS normalisation divides by zero)", (long long)zeros);
    mr_probe_emit(probe, "sens_maps", -1, &e->sens);
    return MR_OK;
}

/* the probes of cascade i's regulariser (its input e->img, NormUnet stats and U-Net
 * input / output, its output e->reg_out); nothing without a probe */
static void emit_regularizer(const struct e2evn *e, int64_t i, const struct mr_probe *probe)
{
    const long long c = (long long)i;

    mr_probe_emitf(probe, -1, &e->img, "cascade_%lld_reg_input", c);
    mr_probe_emitf(probe, -1, mr_normunet_work_mean(e->reg_work), "cascade_%lld_norm_mean", c);
    mr_probe_emitf(probe, -1, mr_normunet_work_std(e->reg_work), "cascade_%lld_norm_std", c);
    mr_probe_emitf(probe, -1, mr_normunet_work_unet_input(e->reg_work),
                   "cascade_%lld_unet_input", c);
    mr_probe_emitf(probe, -1, mr_normunet_work_unet_output(e->reg_work),
                   "cascade_%lld_unet_output", c);
    mr_probe_emitf(probe, -1, &e->reg_out, "cascade_%lld_reg_output", c);
}

static void cascade(struct e2evn *e, int64_t i, const struct mr_net_inputs *in,
                    const struct mr_array *sens, const struct mr_probe *probe)
{
    const int64_t nc = e->nc;
    const int64_t npix = e->h * e->w;
    float complex *k = mr_array_cf32(&e->k);
    float complex *x = mr_array_cf32(&e->cimg);
    const float complex *y = mr_array_cf32(in->ksp);
    const float *m = mr_array_f32(in->mask);
    const float lambda = e->dc_weight[i];

    /* regulariser input R(k) = Σ_c conj(S_c) · IFFT(k_c) */
    mr_fft2_inverse(e->fft, x, k, nc);
    mr_coil_reduce(&e->img, &e->cimg, sens, MR_COIL_SUM_FLOAT);
    mr_normunet_forward(e->reg[i], e->reg_work, &e->reg_out, &e->img);
    emit_regularizer(e, i, probe);
    /* E(r)_c = FFT(S_c · r) */
    mr_coil_expand(&e->cimg, &e->reg_out, sens);
    mr_fft2_forward(e->fft, x, x, nc);
    if (e->no_dc) {
        mr_array_copy(&e->k, &e->cimg);
    } else {
        /* k − λ·[M ≠ 0]·(k − y) − E(r), both terms from the same incoming k */
#pragma omp parallel for if (nc * npix > E2EVN_PAR_MIN) schedule(static)
        for (int64_t c = 0; c < nc; c++)
            for (int64_t p = 0; p < npix; p++) {
                int64_t j = c * npix + p;
                float complex dc = m[p] != 0.0f ? (k[j] - y[j]) * lambda : 0.0f;
                k[j] = k[j] - dc - x[j];
            }
    }
    mr_probe_emitf(probe, -1, &e->k, "cascade_%lld_kspace", (long long)i);
    mr_dc_emit(probe, i + 1, k, y, m, nc, npix);
}

/*
 * The same cascade on coil images X = IFFT(k), for a line mask (whole columns or rows):
 *   X ← X − λ·(P X − IFFT(B ⊙ y)) − S·NormUnet(Σ_c conj(S_c) X_c),   B = [M ≠ 0],
 * with P = IFFT(B ⊙ FFT(·)) applied along one axis only (recon/fft.h mr_fft_linemask) and
 * IFFT(B ⊙ y) computed once per run: IFFT of the k-space update term by term, so equal to the
 * k-space form up to float rounding, without the 2-D transforms (the H-axis FFTs cancel).
 * e->k holds X here.
 */
static void cascade_image(struct e2evn *e, int64_t i, const struct mr_array *sens,
                          const struct mr_probe *probe)
{
    const int64_t nc = e->nc;
    const int64_t npix = e->h * e->w;
    float complex *xk = mr_array_cf32(&e->k);
    float complex *t = mr_array_cf32(&e->cimg);
    const float complex *s = mr_array_cf32(sens);
    const float complex *r = mr_array_cf32(&e->reg_out);
    const float lambda = e->dc_weight[i];

    mr_coil_reduce(&e->img, &e->k, sens, MR_COIL_SUM_FLOAT);
    mr_normunet_forward(e->reg[i], e->reg_work, &e->reg_out, &e->img);
    emit_regularizer(e, i, probe);
    if (e->no_dc) {
        mr_coil_expand(&e->k, &e->reg_out, sens);
    } else {
        const float complex *z0 = mr_array_cf32(&e->ymask);
        mr_fft_linemask_apply_to(e->linemask, t, xk, nc);
#pragma omp parallel for if (nc * npix > E2EVN_PAR_MIN) schedule(static)
        for (int64_t c = 0; c < nc; c++)
            for (int64_t p = 0; p < npix; p++) {
                const int64_t j = c * npix + p;
                xk[j] = xk[j] - (t[j] - z0[j]) * lambda - r[p] * s[j];
            }
    }
    if (mr_probe_active(probe)) {
        /* the probe shows k-space, as the k-space form has it */
        mr_fft2_forward(e->fft, t, xk, nc);
        mr_probe_emitf(probe, -1, &e->cimg, "cascade_%lld_kspace", (long long)i);
    }
    if (mr_probe_wants_values(probe)) { /* the report's numbers, by P X against IFFT(B ⊙ y) */
        mr_fft_linemask_apply_to(e->linemask, t, xk, nc);
        mr_dc_emit_projected(probe, i + 1, t, mr_array_cf32(&e->ymask), xk, nc * npix);
    }
}

/* the line-mask form's operator and constant term, or linemask NULL for 2-D masks */
static mr_status prepare_image_domain(struct e2evn *e, const struct mr_net_inputs *in)
{
    const int64_t nc = e->nc;
    const int64_t npix = e->h * e->w;
    const float *m = mr_array_f32(in->mask);
    float *b = mr_array_f32(&e->bmask);

    for (int64_t p = 0; p < npix; p++)
        b[p] = m[p] != 0.0f ? 1.0f : 0.0f;
    if (mr_settings_get()->e2evn_kspace) {
        mr_fft_linemask_free(e->linemask);
        e->linemask = NULL;
        return MR_OK;
    }
    mr_status st = mr_fft_linemask_sync(&e->linemask, e->h, e->w, &e->fft_cfg, b);
    if (st != MR_OK || e->linemask == NULL)
        return st; /* (no_dc uses the constant term only for the report's residuals) */
    const float complex *y = mr_array_cf32(in->ksp);
    float complex *z = mr_array_cf32(&e->ymask);
#pragma omp parallel for if (nc * npix > E2EVN_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t p = 0; p < npix; p++)
            z[c * npix + p] = b[p] * y[c * npix + p];
    mr_fft2_inverse(e->fft, z, z, nc);
    return MR_OK;
}

/* out = the coil combination of the coil images in e->cimg, in float like the references */
static void combine(struct e2evn *e, struct mr_array *out, const struct mr_array *sens)
{
    switch (e->combine) {
    case E2EVN_COMBINE_SENSE:
        mr_coil_reduce(out, &e->cimg, sens, MR_COIL_SUM_FLOAT);
        break;
    case E2EVN_COMBINE_RSS_PARTS:
        mr_coil_rss_parts(out, &e->cimg, MR_COIL_SUM_FLOAT);
        break;
    case E2EVN_COMBINE_RSS_REAL:
    case E2EVN_COMBINE_RSS_COMPLEX:
        mr_coil_rss(out, &e->cimg, MR_COIL_SUM_FLOAT_ABS);
        break;
    }
}

static mr_status e2evn_run(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                           const struct mr_probe *probe)
{
    struct e2evn *e = ctx;
    const struct mr_array *sens = in->sens;

    if (e->variant == E2EVN_FASTMRI) {
        mr_status st = estimate_sens(e, in, probe);
        if (st != MR_OK)
            return st;
        sens = &e->sens;
    }
    mr_status st = prepare_image_domain(e, in);
    if (st != MR_OK)
        return st;
    if (e->linemask != NULL) {
        mr_fft2_inverse(e->fft, mr_array_cf32(&e->k), mr_array_cf32(in->ksp), e->nc);
        mr_dc_emit_projected(probe, 0, mr_array_cf32(&e->ymask), mr_array_cf32(&e->ymask),
                             mr_array_cf32(&e->k), e->nc * e->h * e->w);
        for (int64_t i = 0; i < e->num_cascades; i++)
            cascade_image(e, i, sens, probe);
        mr_array_copy(&e->cimg, &e->k);
    } else {
        mr_array_copy(&e->k, in->ksp);
        mr_dc_emit(probe, 0, mr_array_cf32(&e->k), mr_array_cf32(in->ksp),
                   mr_array_f32(in->mask), e->nc, e->h * e->w);
        for (int64_t i = 0; i < e->num_cascades; i++)
            cascade(e, i, in, sens, probe);
        mr_fft2_inverse(e->fft, mr_array_cf32(&e->cimg), mr_array_cf32(&e->k), e->nc);
    }
    combine(e, out, sens);
    return MR_OK;
}

static void e2evn_image(void *ctx, struct mr_array *img, const struct mr_array *out)
{
    struct e2evn *e = ctx;
    const int64_t npix = e->h * e->w;
    float *d = mr_array_f32(img);

    if (out->dtype == MR_DTYPE_CF32) {
        const float complex *o = mr_array_cf32(out);
        for (int64_t i = 0; i < npix; i++)
            d[i] = cabsf(o[i]);
    } else {
        mr_array_copy(img, out);
    }
}

/* inference: ATOMMIC's max-SENSE k-space scaling; fastMRI's VarNet takes k-space as it is */
static mr_status e2evn_pre(void *ctx, struct mr_net_inputs *in, float *scale)
{
    struct e2evn *e = ctx;

    *scale = 1.0f;
    if (e->variant != E2EVN_ATOMMIC)
        return MR_OK;
    return mr_atommic_inference_pre(&e->atommic, in, scale);
}

static void e2evn_post(void *ctx, struct mr_array *img, float scale)
{
    const struct e2evn *e = ctx;

    if (e->variant == E2EVN_ATOMMIC)
        mr_atommic_inference_post(img, scale);
}

static unsigned e2evn_needs_of(const void *ctx)
{
    const struct e2evn *e = ctx;
    return e->variant == E2EVN_ATOMMIC ? MR_NET_NEED_SENS : 0u;
}

/* ATOMMIC's variant normalises by max|SENSE zero-filled|; fastMRI's takes raw k-space */
static bool e2evn_scales_with_data(const void *ctx)
{
    const struct e2evn *e = ctx;
    return e->variant == E2EVN_ATOMMIC;
}

const struct mr_net_ops mr_e2evn_ops = {
    .name = "e2evn",
    .needs = 0, /* the ATOMMIC variant needs maps: see e2evn_needs_of */
    .needs_of = e2evn_needs_of,
    .create = e2evn_create,
    .prepare = e2evn_prepare,
    .run = e2evn_run,
    .image = e2evn_image,
    .free = e2evn_free,
    .pre = e2evn_pre,
    .post = e2evn_post,
    .scales_with_data = e2evn_scales_with_data,
};
