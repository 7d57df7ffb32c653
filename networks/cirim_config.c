/*
 * CIRIM's configuration (cirim.h): ATOMMIC's constructor kwargs read from a weight file's
 * config, with the values this implementation supports checked (shared/specs/cirim.md §1).
 */
#include "networks/cirim.h"

#include <string.h>
#include <strings.h>

#include "weights/config.h"

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

/* The status of reading list key into a buffer of len entries of which CIRIM needs n (more
 * are dropped, as the reference's zip does). */
static mr_status config_list_status(mr_status st, const char *key, int len, int n)
{
    if (st != MR_OK)
        return st;
    if (len < n)
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' has %d entries, CIRIM needs %d", key,
                       len, n);
    return MR_OK;
}

/* The first n entries of an integer list of at least n entries. */
static mr_status config_ints(const struct mr_config *js, const char *key, int64_t *dst, int n)
{
    int64_t v[16];
    int len = 0;
    mr_status st = mr_config_int_array(js, key, dst, n, v, 16, &len);
    st = config_list_status(st, key, len, n);
    if (st == MR_OK)
        memcpy(dst, v, sizeof(*dst) * (size_t)n);
    return st;
}

/* Same for a list of booleans (true / false or 0 / 1). */
static mr_status config_bools(const struct mr_config *js, const char *key, bool *dst, int n)
{
    bool v[16];
    int len = 0;
    mr_status st = mr_config_bool_array(js, key, dst, n, v, 16, &len);
    st = config_list_status(st, key, len, n);
    if (st == MR_OK)
        memcpy(dst, v, sizeof(*dst) * (size_t)n);
    return st;
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

/* v in [lo, hi], else MR_ERR_ARG naming the key (entry l of a list, or −1) and the range */
static mr_status in_range(const char *key, int l, int64_t v, int64_t lo, int64_t hi)
{
    if (v >= lo && v <= hi)
        return MR_OK;
    if (l >= 0)
        return MR_FAIL(MR_ERR_ARG, "CIRIM %s[%d] = %lld is outside [%lld, %lld]", key, l,
                       (long long)v, (long long)lo, (long long)hi);
    return MR_FAIL(MR_ERR_ARG, "CIRIM %s = %lld is outside [%lld, %lld]", key, (long long)v,
                   (long long)lo, (long long)hi);
}

mr_status mr_cirim_config_check(const struct mr_cirim_config *c)
{
    mr_status st;

    for (int l = 0; l < 3; l++) {
        if (c->conv_filters[l] < 1)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM conv_filters[%d] = %lld: a layer without "
                           "a conv is not supported", l, (long long)c->conv_filters[l]);
        if (c->conv_kernels[l] % 2 == 0)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM conv_kernels[%d] = %lld: only odd kernels "
                           "keep the image size", l, (long long)c->conv_kernels[l]);
        if ((st = in_range("conv_filters", l, c->conv_filters[l], 1, MR_NET_MAX_CHANNELS)) !=
                MR_OK ||
            (st = in_range("conv_kernels", l, c->conv_kernels[l], 1, MR_NET_MAX_KERNEL)) !=
                MR_OK ||
            (st = in_range("conv_dilations", l, c->conv_dilations[l], 1,
                           MR_NET_MAX_DILATION)) != MR_OK)
            return st;
    }
    if (c->conv_filters[2] != 2)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM conv_filters[2] = %lld: the final conv must "
                       "give 2 channels (re, im)", (long long)c->conv_filters[2]);
    for (int l = 0; l < 2; l++) {
        if (c->recurrent_filters[l] < 1)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM recurrent_filters[%d] = %lld: a layer "
                           "without a cell is not supported", l,
                           (long long)c->recurrent_filters[l]);
        if (c->recurrent_kernels[l] % 2 == 0)
            return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM recurrent_kernels[%d] = %lld: only odd "
                           "kernels keep the image size", l,
                           (long long)c->recurrent_kernels[l]);
        if ((st = in_range("recurrent_filters", l, c->recurrent_filters[l], 1,
                           MR_NET_MAX_CHANNELS)) != MR_OK ||
            (st = in_range("recurrent_kernels", l, c->recurrent_kernels[l], 1,
                           MR_NET_MAX_KERNEL)) != MR_OK ||
            (st = in_range("recurrent_dilations", l, c->recurrent_dilations[l], 1,
                           MR_NET_MAX_DILATION)) != MR_OK)
            return st;
    }
    if ((st = in_range("time_steps", -1, c->time_steps, 1, MR_NET_MAX_BLOCKS)) != MR_OK ||
        (st = in_range("num_cascades", -1, c->num_cascades, 1, MR_NET_MAX_BLOCKS)) != MR_OK)
        return st;
    if (!c->no_dc && c->num_cascades != 1)
        return MR_FAIL(MR_ERR_UNSUPPORTED, "CIRIM with no_dc = false only works with one "
                       "cascade in the reference (got %lld)", (long long)c->num_cascades);
    return MR_OK;
}

int64_t mr_cirim_config_steps(const struct mr_cirim_config *cfg)
{
    return 8 * ((cfg->time_steps + 7) / 8);
}
