/*
 * DIRECT's RecurrentVarNet inference path (NKI-AI/direct@50b9704: mri_transforms.py
 * EstimateSensitivityMap / Normalize, recurrentvarnet_engine.py, mri_models.py
 * _process_output; spec ../shared/specs/recurrentvarnet.md §6): sensitivity estimation from the
 * Gaussian-weighted ACS, the percentile k-space scaling, the per-coil sensitivity U-Net with
 * renormalisation, the model, padding and the RSS image. All arithmetic in float like DIRECT,
 * except reductions that only decide (coil exclusion) or are order-insensitive.
 */
#include "networks/direct_framework.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/layout.h"
#include "recon/combine.h"
#include "recon/kscale.h"

#define MR_DIRECT_PAR_MIN ((int64_t)1 << 15)

const struct mr_direct_framework_config mr_direct_framework_config_default = {
    .sens_gaussian = 0.7,
    .scale_percentile = 0.99,
};

struct mr_direct_framework {
    struct mr_direct_framework_config cfg;
    struct mr_recurrentvarnet *net;
    struct mr_unet *unet; /* NULL: no refinement */
    struct mr_unet_config ucfg;
    struct mr_unet_work *uwork;

    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_fft2 *fft;
    struct mr_array kz;    /* (C, H, W) CF32: input with padding zeroed, then y */
    struct mr_array tmp;   /* (C, H, W) CF32 */
    struct mr_array sens;  /* (C, H, W) CF32 */
    struct mr_array kout;  /* (C, H, W) CF32: model output */
    struct mr_array img;   /* (H, W) F32 */
    struct mr_array gauss; /* (W) F32 */
    struct mr_array mod;   /* (C·H·W) F32: moduli for the percentile */
    struct mr_array uin;   /* (2, H, W) F32 */
    struct mr_array uout;  /* (2, H, W) F32 */
};

mr_status mr_direct_framework_config_parse(const struct mr_config *json,
                                           struct mr_direct_framework_config *out)
{
    struct mr_direct_framework_config c = mr_direct_framework_config_default;
    mr_status st = MR_OK;

    if (mr_config_has(json, "sensitivity_maps_gaussian"))
        MR_CHECK(mr_config_double_in(json, "sensitivity_maps_gaussian", c.sens_gaussian, 0.0,
                                     1e3, &c.sens_gaussian));
    MR_CHECK(mr_config_double(json, "scale_percentile", c.scale_percentile,
                              &c.scale_percentile));
    if (!(c.scale_percentile > 0.0 && c.scale_percentile < 1.0)) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "DIRECT framework: scale_percentile %g outside (0, 1)",
                     c.scale_percentile);
        goto out;
    }
    *out = c;
out:
    return st;
}

mr_status mr_direct_unet_config_parse(const struct mr_config *json, struct mr_unet_config *out)
{
    struct mr_unet_config c = { .in_chans = 2, .out_chans = 2, .chans = 16, .num_pools = 4 };
    double dropout = 0.0;
    mr_status st = MR_OK;

    MR_CHECK(mr_config_int(json, "in_channels", c.in_chans, &c.in_chans));
    MR_CHECK(mr_config_int(json, "out_channels", c.out_chans, &c.out_chans));
    MR_CHECK(mr_config_int_in(json, "num_filters", c.chans, 1, MR_NET_MAX_CHANNELS, &c.chans));
    MR_CHECK(mr_config_int_in(json, "num_pool_layers", c.num_pools, 1, MR_UNET_MAX_POOLS,
                              &c.num_pools));
    MR_CHECK(mr_config_double(json, "dropout_probability", 0.0, &dropout)); /* inference: off */
    if (c.in_chans != 2 || c.out_chans != 2) {
        st = MR_FAIL(MR_ERR_WEIGHTS, "DIRECT sensitivity U-Net: %lld → %lld channels, expected "
                     "2 → 2", (long long)c.in_chans, (long long)c.out_chans);
        goto out;
    }
    *out = c;
out:
    return st;
}

static void framework_release_buffers(struct mr_direct_framework *e)
{
    mr_fft2_free(e->fft);
    e->fft = NULL;
    mr_unet_work_free(e->uwork);
    e->uwork = NULL;
    mr_array_cleanup(&e->kz);
    mr_array_cleanup(&e->tmp);
    mr_array_cleanup(&e->sens);
    mr_array_cleanup(&e->kout);
    mr_array_cleanup(&e->img);
    mr_array_cleanup(&e->gauss);
    mr_array_cleanup(&e->mod);
    mr_array_cleanup(&e->uin);
    mr_array_cleanup(&e->uout);
    e->nc = 0;
}

void mr_direct_framework_free(struct mr_direct_framework *e)
{
    if (e == NULL)
        return;
    framework_release_buffers(e);
    mr_unet_free(e->unet);
    mr_recurrentvarnet_free(e->net);
    free(e);
}

mr_status mr_direct_framework_create(struct mr_weights *ws, const char *model_prefix,
                                     const struct mr_recurrentvarnet_config *model_cfg,
                                     const char *unet_prefix, const struct mr_unet_config *unet_cfg,
                                     const struct mr_direct_framework_config *cfg,
                                     struct mr_direct_framework **out)
{
    struct mr_direct_framework *e = calloc(1, sizeof(*e));
    mr_status st = MR_OK;

    if (e == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "DIRECT framework");
    e->cfg = *cfg;
    MR_CHECK(mr_recurrentvarnet_create(ws, model_prefix, model_cfg, &e->net));
    if (unet_cfg != NULL) {
        e->ucfg = *unet_cfg;
        MR_CHECK(mr_unet_create(ws, unet_prefix, unet_cfg, &e->unet));
    }
    *out = e;
    e = NULL;
out:
    mr_direct_framework_free(e);
    return st;
}

/* torch.linspace(-1, 1, n) in float32 (both halves stepped from their own end) */
static float linspace_at(int64_t i, int64_t n)
{
    if (n == 1)
        return -1.0f;
    const float step = 2.0f / (float)(n - 1);
    if (i < n / 2)
        return -1.0f + step * (float)i;
    return 1.0f - step * (float)(n - 1 - i);
}

mr_status mr_direct_framework_prepare(struct mr_direct_framework *e, int64_t nc, int64_t h,
                                      int64_t w)
{
    const struct mr_recurrentvarnet_config *mc = mr_recurrentvarnet_get_config(e->net);
    mr_status st = MR_OK;

    if (e->fft != NULL && e->nc == nc && e->h == h && e->w == w)
        return MR_OK;
    framework_release_buffers(e);
    MR_CHECK(mr_recurrentvarnet_prepare(e->net, nc, h, w));
    if (e->unet != NULL && nc > 1) {
        MR_CHECK(mr_unet_prepare_size(e->unet, h, w));
        MR_CHECK(mr_unet_work_create(&e->ucfg, h, w, &e->uwork));
    }
    MR_CHECK(mr_fft2_create(h, w, &mc->fft, &e->fft));
    MR_CHECK(mr_array_init_dims(&e->kz, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&e->tmp, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&e->sens, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&e->kout, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&e->img, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&e->gauss, MR_DTYPE_F32, 1, w));
    MR_CHECK(mr_array_init_dims(&e->mod, MR_DTYPE_F32, 1, nc * h * w));
    MR_CHECK(mr_array_init_dims(&e->uin, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    MR_CHECK(mr_array_init_dims(&e->uout, MR_DTYPE_F32, 3, (int64_t)2, h, w));
    float *g = mr_array_f32(&e->gauss);
    for (int64_t j = 0; j < w; j++) {
        if (e->cfg.sens_gaussian > 0.0) {
            const float l = linspace_at(j, w) / (float)e->cfg.sens_gaussian;
            g[j] = expf(-(l * l));
        } else {
            g[j] = 1.0f;
        }
    }
    e->nc = nc;
    e->h = h;
    e->w = w;
out:
    if (st != MR_OK)
        framework_release_buffers(e);
    return st;
}

void mr_direct_rss_image(const struct mr_fft2 *f, struct mr_array *img, const struct mr_array *k,
                         struct mr_array *tmp)
{
    MR_ASSERT(k->ndim == 3 && mr_array_same_shape(k, tmp));
    mr_fft2_inverse(f, mr_array_cf32(tmp), mr_array_cf32(k), k->dims[0]);
    mr_coil_rss(img, tmp, MR_COIL_SUM_FLOAT);
}

struct mr_recurrentvarnet *mr_direct_framework_model(struct mr_direct_framework *e)
{
    return e->net;
}

mr_status mr_direct_framework_run_model(struct mr_direct_framework *e, struct mr_array *out,
                                        const struct mr_array *y, const struct mr_array *mask,
                                        const struct mr_array *sens, const struct mr_array *initial,
                                        const struct mr_probe *probe)
{
    return mr_recurrentvarnet_run(e->net, out, y, mask, sens, initial, probe);
}

mr_status mr_direct_framework_run(struct mr_direct_framework *e, const struct mr_array *ksp,
                                  const struct mr_array *mask, const struct mr_array *acs,
                                  const struct mr_array *padding, struct mr_array *img,
                                  struct mr_array *ksp_out, float *scale,
                                  const struct mr_probe *probe)
{
    const int64_t nc = e->nc;
    const int64_t h = e->h;
    const int64_t w = e->w;
    const int64_t p = h * w;
    mr_status st = MR_OK;

    /* the registry (mr_net_run) checks the inputs of a slice: shapes are invariants here */
    MR_ASSERT(e->fft != NULL);
    MR_ASSERT(mr_array_same_shape(ksp, &e->kz) && mr_array_same_shape(mask, &e->img) &&
              mr_array_same_shape(acs, &e->img));
    MR_ASSERT(padding == NULL || mr_array_same_shape(padding, &e->img));
    MR_ASSERT(img == NULL || mr_array_same_shape(img, &e->img));
    MR_ASSERT(ksp_out == NULL || mr_array_same_shape(ksp_out, ksp));

    const float *m = mr_array_f32(mask);
    const float *a = mr_array_f32(acs);
    const float *pad = padding != NULL ? mr_array_f32(padding) : NULL;
    const float *g = mr_array_f32(&e->gauss);
    const float complex *kin = mr_array_cf32(ksp);
    float complex *kz = mr_array_cf32(&e->kz);
    float complex *t = mr_array_cf32(&e->tmp);

    /* padding removed; the Gaussian-weighted ACS for the sensitivity estimate */
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < p; i++) {
            const int64_t j = c * p + i;
            kz[j] = pad != NULL && pad[i] != 0.0f ? 0.0f : kin[j];
            t[j] = kz[j] * (a[i] != 0.0f ? g[i % w] : 0.0f);
        }
    /* rss_estimate: S = I ⊘ RSS(I), then renormalised (both safe divisions in float) */
    mr_fft2_inverse(e->fft, mr_array_cf32(&e->sens), t, nc);
    mr_coil_normalize(&e->sens, MR_COIL_SUM_FLOAT);
    mr_coil_normalize(&e->sens, MR_COIL_SUM_FLOAT);
    mr_probe_emit(probe, "sensitivity_map_estimated", -1, &e->sens);

    /* y_raw and the percentile scaling (recon/kscale.h) */
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < p; i++)
            if (m[i] == 0.0f)
                kz[c * p + i] = 0.0f;
    const float sc = mr_kscale_percentile(&e->kz, e->cfg.scale_percentile, mr_array_f32(&e->mod));
    if (!isfinite(sc)) {
        st = MR_FAIL(MR_ERR_DATA, "DIRECT framework: scaling factor is %g (non-finite k-space)",
                     (double)sc);
        goto out;
    }
    mr_kscale_divide(&e->kz, &e->kz, sc);
    if (mr_probe_active(probe)) {
        struct mr_array s0;
        float sv = sc;
        mr_array_wrap(&s0, MR_DTYPE_F32, 0, NULL, &sv);
        mr_probe_emit(probe, "scaling_factor", -1, &s0);
    }
    mr_probe_emit(probe, "masked_kspace_normalized", -1, &e->kz);

    /* sensitivity refinement, one coil at a time as [Re, Im] channels, then renormalisation */
    if (e->unet != NULL && nc > 1) {
        for (int64_t c = 0; c < nc; c++) {
            struct mr_array sc_c;
            mr_array_slab(&sc_c, &e->sens, c);
            mr_complex_to_channels(&e->uin, &sc_c);
            mr_probe_emit(probe, "sensitivity_unet_input", c, &e->uin);
            mr_unet_forward(e->unet, e->uwork, &e->uout, &e->uin);
            mr_probe_emit(probe, "sensitivity_unet_output", c, &e->uout);
            mr_channels_to_complex(&sc_c, &e->uout);
        }
    }
    mr_coil_normalize(&e->sens, MR_COIL_SUM_FLOAT);
    mr_probe_emit(probe, "sensitivity_map_refined", -1, &e->sens);

    MR_CHECK(mr_recurrentvarnet_run(e->net, &e->kout, &e->kz, mask, &e->sens, NULL, probe));
    mr_probe_emit(probe, "model_output_kspace", -1, &e->kout);
    float complex *ko = mr_array_cf32(&e->kout);
    if (pad != NULL)
        for (int64_t c = 0; c < nc; c++)
            for (int64_t i = 0; i < p; i++)
                if (pad[i] != 0.0f)
                    ko[c * p + i] = 0.0f;
    mr_direct_rss_image(e->fft, &e->img, &e->kout, &e->tmp);
    mr_probe_emit(probe, "output_image_normalized", -1, &e->img);
    if (img != NULL) {
        const float *x = mr_array_f32(&e->img);
        float *o = mr_array_f32(img);
        for (int64_t i = 0; i < p; i++)
            o[i] = x[i] * sc;
    }
    if (ksp_out != NULL) {
        float complex *o = mr_array_cf32(ksp_out);
        for (int64_t j = 0; j < nc * p; j++)
            o[j] = ko[j] * sc;
    }
    if (scale != NULL)
        *scale = sc;
out:
    return st;
}

static bool column_empty(const float *m, int64_t h, int64_t w, int64_t j)
{
    for (int64_t i = 0; i < h; i++)
        if (m[i * w + j] != 0.0f)
            return false;
    return true;
}

int64_t mr_direct_padding_from_mask(struct mr_array *padding, const struct mr_array *mask)
{
    MR_ASSERT(mask->dtype == MR_DTYPE_F32 && mask->ndim == 2 &&
              mr_array_same_shape(padding, mask));
    const int64_t h = mask->dims[0];
    const int64_t w = mask->dims[1];
    const float *m = mr_array_f32(mask);
    float *o = mr_array_f32(padding);
    bool lines = true;
    int64_t lo = 0;
    int64_t hi = w;

    mr_array_zero(padding);
    for (int64_t i = 1; i < h && lines; i++)
        for (int64_t j = 0; j < w && lines; j++)
            lines = (m[i * w + j] != 0.0f) == (m[j] != 0.0f);
    if (lines)
        return 0;
    while (lo < w && column_empty(m, h, w, lo))
        lo++;
    while (hi > lo && column_empty(m, h, w, hi - 1))
        hi--;
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++)
            o[i * w + j] = (j < lo || j >= hi) ? 1.0f : 0.0f;
    return lo + (w - hi);
}
