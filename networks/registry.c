/*
 * The network registry (a table, after FFTW's SOLVTAB) and the generic mr_net wrapper that
 * checks inputs once for every network. Adding a network: its own file with a
 * `const struct mr_net_ops`, and one row here.
 */
#include "networks/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networks/cirim.h"
#include "networks/e2evn.h"
#include "networks/lpn_pnp.h"
#include "networks/recurrentvarnet.h"

static const struct mr_net_ops *const registry[] = {
    &mr_e2evn_ops,
    &mr_cirim_ops,
    &mr_recurrentvarnet_ops,
    &mr_lpn_ops,
};

#define REGISTRY_LEN (sizeof(registry) / sizeof(registry[0]))

const struct mr_net_options mr_net_options_default = {
    .inference = false,
    .iterations = 0,
};

const struct mr_net_inputs mr_net_inputs_default = {
    .ksp = NULL,
    .mask = NULL,
    .sens = NULL,
    .num_low_frequencies = 0,
    .initial_prediction = NULL,
    .sigma = 1.0f,
};

struct mr_net {
    const struct mr_net_ops *ops;
    void *ctx;
    struct mr_net_options opt;
    bool prepared;
    int64_t nc;
    int64_t h;
    int64_t w;
    int out_ndim;
    int64_t out_dims[MR_MAX_DIMS];
    enum mr_dtype out_dtype;
    struct mr_array out; /* inference: the raw output of mr_net_infer's run */
};

const struct mr_net_ops *mr_net_lookup(const char *name)
{
    for (size_t i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const char *mr_net_registered(size_t i)
{
    return i < REGISTRY_LEN ? registry[i]->name : NULL;
}

/* "a, b, c" into buf */
static const char *known_names(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < REGISTRY_LEN && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", registry[i]->name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return buf;
}

mr_status mr_net_create(const char *name, struct mr_weights *ws, const struct mr_config *cfg,
                        const struct mr_net_options *opt, struct mr_net **out)
{
    mr_status st = MR_OK;
    const struct mr_net_ops *ops = mr_net_lookup(name);
    struct mr_config *empty = NULL;
    struct mr_net *net = NULL;

    char known[256];

    if (ops == NULL)
        return MR_FAIL(MR_ERR_ARG, "unknown network '%s' (known: %s)", name,
                       known_names(known, sizeof(known)));
    if (cfg == NULL) {
        MR_CHECK(mr_config_parse("{}", &empty));
        cfg = empty;
    }
    net = calloc(1, sizeof(*net));
    if (net == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "network");
        goto out;
    }
    net->ops = ops;
    net->opt = opt != NULL ? *opt : mr_net_options_default;
    if (net->opt.iterations < 0 || net->opt.iterations > MR_NET_MAX_ITERATIONS) {
        st = MR_FAIL(MR_ERR_ARG, "%s: option iterations = %d is outside [0, %d]", name,
                     net->opt.iterations, MR_NET_MAX_ITERATIONS);
        goto out;
    }
    MR_CHECK(ops->create(ws, cfg, &net->opt, &net->ctx));
    *out = net;
    net = NULL;
out:
    mr_config_free(empty);
    mr_net_free(net);
    return st;
}

mr_status mr_net_create_from_weights(struct mr_weights *ws, const struct mr_net_options *opt,
                                     struct mr_net **out)
{
    const char *arch = mr_weights_architecture(ws);
    char known[256];

    if (mr_net_lookup(arch) == NULL)
        return MR_FAIL(MR_ERR_WEIGHTS, "weights are for architecture '%s', which has no "
                       "network here (known: %s)", mr_weights_architecture_raw(ws),
                       known_names(known, sizeof(known)));
    return mr_net_create(arch, ws, mr_weights_config(ws), opt, out);
}

void mr_net_free(struct mr_net *net)
{
    if (net == NULL)
        return;
    if (net->ctx != NULL)
        net->ops->free(net->ctx);
    mr_array_cleanup(&net->out);
    free(net);
}

const char *mr_net_name(const struct mr_net *net)
{
    return net->ops->name;
}

bool mr_net_scales_with_data(const struct mr_net *net)
{
    return net->ops->scales_with_data != NULL && net->ops->scales_with_data(net->ctx);
}

unsigned mr_net_needs(const struct mr_net *net)
{
    return net->ops->needs_of != NULL ? net->ops->needs_of(net->ctx) : net->ops->needs;
}

mr_status mr_net_prepare(struct mr_net *net, int64_t nc, int64_t h, int64_t w)
{
    mr_status st;

    if (nc < 1 || h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "%s: cannot prepare for %lld coils of %lldx%lld",
                       net->ops->name, (long long)nc, (long long)h, (long long)w);
    net->prepared = false;
    mr_array_cleanup(&net->out);
    st = net->ops->prepare(net->ctx, nc, h, w, &net->out_ndim, net->out_dims, &net->out_dtype);
    if (st != MR_OK)
        return st;
    if (net->opt.inference) {
        st = mr_array_init(&net->out, net->out_dtype, net->out_ndim, net->out_dims);
        if (st != MR_OK)
            return st;
    }
    net->nc = nc;
    net->h = h;
    net->w = w;
    net->prepared = true;
    return MR_OK;
}

mr_status mr_net_output_init(const struct mr_net *net, struct mr_array *out)
{
    MR_ASSERT(net->prepared);
    return mr_array_init(out, net->out_dtype, net->out_ndim, net->out_dims);
}

static mr_status check_input(const struct mr_array *a, const char *what, enum mr_dtype dtype,
                             int ndim, const int64_t *dims)
{
    char have[96];
    char want[96];
    bool ok = a->dtype == dtype && a->ndim == ndim;

    for (int d = 0; ok && d < ndim; d++)
        ok = a->dims[d] == dims[d];
    if (ok)
        return MR_OK;
    return MR_FAIL(MR_ERR_SHAPE, "%s is %s, expected %s %s", what,
                   mr_array_shape_str(a, have, sizeof(have)),
                   mr_dims_str(ndim, dims, want, sizeof(want)),
                   dtype == MR_DTYPE_CF32 ? "complex64" : "float32");
}

/* presence, shapes (against the prepared size) and finiteness of one slice's inputs */
static mr_status check_inputs(const struct mr_net *net, const struct mr_net_inputs *in)
{
    mr_status st = MR_OK;
    const int64_t kdims[3] = { net->nc, net->h, net->w };
    const unsigned needs = mr_net_needs(net);

    if (in->ksp == NULL || in->mask == NULL)
        return MR_FAIL(MR_ERR_ARG, "needs k-space and a mask");
    MR_CHECK(check_input(in->ksp, "k-space", MR_DTYPE_CF32, 3, kdims));
    MR_CHECK(check_input(in->mask, "mask", MR_DTYPE_F32, 2, kdims + 1));
    if (in->sens != NULL)
        MR_CHECK(check_input(in->sens, "sensitivity maps", MR_DTYPE_CF32, 3, kdims));
    else if (needs & MR_NET_NEED_SENS)
        return MR_FAIL(MR_ERR_ARG, "needs sensitivity maps");
    if (in->initial_prediction != NULL)
        MR_CHECK(check_input(in->initial_prediction, "initial prediction", MR_DTYPE_CF32, 2,
                             kdims + 1));
    else if (needs & MR_NET_NEED_INITIAL_PREDICTION)
        return MR_FAIL(MR_ERR_ARG, "needs an initial prediction");
    MR_CHECK(mr_array_check_finite(in->ksp, "k-space"));
    if (in->sens != NULL)
        MR_CHECK(mr_array_check_finite(in->sens, "sensitivity maps"));
    if (in->initial_prediction != NULL)
        MR_CHECK(mr_array_check_finite(in->initial_prediction, "initial prediction"));
    if (!isfinite(in->sigma))
        return MR_FAIL(MR_ERR_DATA, "sigma is not finite");
out:
    return st;
}

mr_status mr_net_run(struct mr_net *net, const struct mr_net_inputs *in, struct mr_array *out,
                     const struct mr_probe *probe)
{
    mr_status st = MR_OK;

    if (!net->prepared)
        return MR_FAIL(MR_ERR_ARG, "%s: run before prepare", net->ops->name);
    MR_CHECK(check_inputs(net, in));
    MR_CHECK(check_input(out, "output", net->out_dtype, net->out_ndim, net->out_dims));
    return net->ops->run(net->ctx, in, out, probe);
out:
    return mr_fail_context(st, "%s", net->ops->name);
}

void mr_net_image(const struct mr_net *net, struct mr_array *img, const struct mr_array *out)
{
    MR_ASSERT(net->prepared);
    MR_ASSERT(img->dtype == MR_DTYPE_F32 && img->ndim == 2 && img->dims[0] == net->h &&
              img->dims[1] == net->w);
    net->ops->image(net->ctx, img, out);
}

mr_status mr_net_infer(struct mr_net *net, const struct mr_array *ksp, const struct mr_array *mask,
                       const struct mr_array *sens, struct mr_array *mag)
{
    return mr_net_infer_probed(net, ksp, mask, sens, mag, NULL);
}

mr_status mr_net_infer_probed(struct mr_net *net, const struct mr_array *ksp,
                              const struct mr_array *mask, const struct mr_array *sens,
                              struct mr_array *mag, const struct mr_probe *probe)
{
    mr_status st = MR_OK;
    struct mr_net_inputs in = mr_net_inputs_default;
    float scale = 1.0f;

    if (!net->opt.inference)
        return MR_FAIL(MR_ERR_ARG, "%s: created for the reference forward, not for inference",
                       net->ops->name);
    if (!net->prepared)
        return MR_FAIL(MR_ERR_ARG, "%s: inference before prepare", net->ops->name);
    in.ksp = ksp;
    in.mask = mask;
    in.sens = sens;
    MR_CHECK(check_inputs(net, &in));
    MR_CHECK(check_input(mag, "output image", MR_DTYPE_F32, 2,
                         (const int64_t[]){ net->h, net->w }));
    if (net->ops->pre != NULL)
        MR_CHECK(net->ops->pre(net->ctx, &in, &scale));
    MR_CHECK(net->ops->run(net->ctx, &in, &net->out, probe));
    mr_net_image(net, mag, &net->out);
    if (net->ops->post != NULL)
        net->ops->post(net->ctx, mag, scale);
out:
    return st == MR_OK ? st : mr_fail_context(st, "%s", net->ops->name);
}
