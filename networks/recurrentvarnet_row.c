/*
 * The registry row "recurrentvarnet" (networks/net.h): RecurrentVarNet (networks/recurrentvarnet.h)
 * inside the DIRECT framework (networks/direct_framework.h; spec
 * ../shared/specs/recurrentvarnet.md). Two ways to run, chosen per slice by the inputs (for
 * inference, rvn_pre drops given maps, so the framework's whole path runs):
 *
 *   maps given (in->sens)  the model alone, exactly DIRECT's RecurrentVarNet.forward: the
 *                          k-space is used as given (already normalised), output = the model's
 *                          multi-coil k-space (C, H, W) CF32.
 *   no maps                DIRECT's inference path (networks/direct_framework.h) on raw
 *                          undersampled k-space: ACS found in the mask (num_low_frequencies > 0:
 *                          that many central columns), zero-padded border columns of 2-D masks
 *                          recovered from the mask (mr_direct_padding_from_mask; config
 *                          "padding_from_mask": false turns it off), maps estimated and
 *                          refined, percentile scaling; output = the model's k-space after
 *                          padding, multiplied back by the scale, so its image is DIRECT's
 *                          final one.
 * The image of either output is RSS_c(F⁻¹(out_c)) (H, W) F32.
 *
 * Config (weight file `config` JSON): DIRECT's constructor keys (mr_recurrentvarnet_config_parse,
 * "fft_centered" for the operators, default true = DIRECT's fft2 default; the
 * Calgary-Campinas paper configs need false), the transforms keys "sensitivity_maps_gaussian"
 * and "scale_percentile", and for the sensitivity U-Net, used when the weights hold
 * "sensitivity_model.*" keys: "sensitivity_model_num_filters" (default 8, the paper's) and
 * "sensitivity_model_num_pool_layers" (default 4).
 */
#include <stdlib.h>

#include "networks/direct_framework.h"
#include "networks/net.h"
#include "networks/recurrentvarnet.h"
#include "recon/coils.h"

#define RVN_UNET_PREFIX "sensitivity_model."

struct rvn_net {
    struct mr_direct_framework *direct;
    bool padding_from_mask;
    struct mr_array acs; /* (H, W) F32 */
    struct mr_array pad; /* (H, W) F32 */
    struct mr_array tmp; /* (C, H, W) CF32 for the image */
    struct mr_fft2 *fft;
};

static void rvn_free(void *ctx)
{
    struct rvn_net *r = ctx;
    if (r == NULL)
        return;
    mr_direct_framework_free(r->direct);
    mr_array_cleanup(&r->acs);
    mr_array_cleanup(&r->pad);
    mr_array_cleanup(&r->tmp);
    mr_fft2_free(r->fft);
    free(r);
}

static mr_status rvn_create(struct mr_weights *ws, const struct mr_config *cfg,
                           const struct mr_net_options *opt, void **ctx)
{
    struct rvn_net *r = calloc(1, sizeof(*r));
    struct mr_recurrentvarnet_config mc;
    struct mr_direct_framework_config ec;
    struct mr_unet_config uc = { .in_chans = 2, .out_chans = 2, .chans = 8, .num_pools = 4 };
    bool has_unet = mr_weights_has(ws, RVN_UNET_PREFIX "down_sample_layers.0.layers.0.weight");
    mr_status st = MR_OK;

    (void)opt; /* inference differs in the inputs only: see rvn_pre */
    if (r == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "recurrentvarnet");
    MR_CHECK(mr_recurrentvarnet_config_parse(cfg, &mc));
    MR_CHECK(mr_direct_framework_config_parse(cfg, &ec));
    MR_CHECK(mr_config_bool(cfg, "padding_from_mask", true, &r->padding_from_mask));
    MR_CHECK(mr_config_int_in(cfg, "sensitivity_model_num_filters", uc.chans, 1,
                              MR_NET_MAX_CHANNELS, &uc.chans));
    MR_CHECK(mr_config_int_in(cfg, "sensitivity_model_num_pool_layers", uc.num_pools, 1,
                              MR_UNET_MAX_POOLS, &uc.num_pools));
    MR_CHECK(mr_direct_framework_create(ws, "", &mc, RVN_UNET_PREFIX, has_unet ? &uc : NULL, &ec,
                                        &r->direct));
    *ctx = r;
    r = NULL;
out:
    rvn_free(r);
    return st;
}

static mr_status rvn_prepare(void *ctx, int64_t nc, int64_t h, int64_t w, int *out_ndim,
                             int64_t *out_dims, enum mr_dtype *out_dtype)
{
    struct rvn_net *r = ctx;
    const struct mr_recurrentvarnet_config *mc =
        mr_recurrentvarnet_get_config(mr_direct_framework_model(r->direct));
    mr_status st = MR_OK;

    mr_array_cleanup(&r->acs);
    mr_array_cleanup(&r->pad);
    mr_array_cleanup(&r->tmp);
    mr_fft2_free(r->fft);
    r->fft = NULL;
    MR_CHECK(mr_direct_framework_prepare(r->direct, nc, h, w));
    MR_CHECK(mr_array_init_dims(&r->acs, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&r->pad, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&r->tmp, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_fft2_create(h, w, &mc->fft, &r->fft));
    *out_ndim = 3;
    out_dims[0] = nc;
    out_dims[1] = h;
    out_dims[2] = w;
    *out_dtype = MR_DTYPE_CF32;
out:
    return st;
}

static mr_status rvn_run(void *ctx, const struct mr_net_inputs *in, struct mr_array *out,
                         const struct mr_probe *probe)
{
    struct rvn_net *r = ctx;
    mr_status st = MR_OK;

    if (in->sens != NULL)
        return mr_direct_framework_run_model(r->direct, out, in->ksp, in->mask, in->sens,
                                             in->initial_prediction, probe);
    const struct mr_acs_config acfg = { .rule = MR_ACS_RULE_DIRECT,
                                        .num_low_frequencies = in->num_low_frequencies };
    struct mr_acs acs;
    MR_CHECK(mr_acs_detect(in->mask, r->acs.dims[0], r->acs.dims[1], &acfg, &acs));
    mr_acs_fill(&acs, &r->acs);
    int64_t npad = r->padding_from_mask ? mr_direct_padding_from_mask(&r->pad, in->mask) : 0;
    MR_CHECK(mr_direct_framework_run(r->direct, in->ksp, in->mask, &r->acs,
                                     npad > 0 ? &r->pad : NULL, NULL, out, NULL, probe));
out:
    return st;
}

static void rvn_image(void *ctx, struct mr_array *img, const struct mr_array *out)
{
    struct rvn_net *r = ctx;
    mr_direct_rss_image(r->fft, img, out, &r->tmp);
}

/* inference: DIRECT's whole inference path, which estimates its own maps and scales the
 * k-space inside run: the given maps are not used */
static mr_status rvn_pre(void *ctx, struct mr_net_inputs *in, float *scale)
{
    (void)ctx;
    in->sens = NULL;
    *scale = 1.0f;
    return MR_OK;
}

static bool rvn_scales_with_data(const void *ctx)
{
    (void)ctx;
    return true; /* DIRECT's inference path scales by the 99th percentile and back */
}

const struct mr_net_ops mr_recurrentvarnet_ops = {
    .name = "recurrentvarnet",
    .needs = 0, /* maps optional: without them the DIRECT inference path runs */
    .create = rvn_create,
    .prepare = rvn_prepare,
    .run = rvn_run,
    .image = rvn_image,
    .free = rvn_free,
    .pre = rvn_pre,
    .scales_with_data = rvn_scales_with_data,
};
