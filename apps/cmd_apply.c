/* `mrirecon apply`: run a learned network from its weight file on the arrays of an HDF5 case
 * file (the golden layout: /kspace, /mask, optional /sensitivity_map and
 * /num_low_frequencies, optionally with a leading slice axis) and write /output. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_settings.h"
#include "apps/cmd_apply_lpn.h"
#include "io/h5.h"
#include "networks/net.h"
#include "weights/weights.h"

int mr_main_apply(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon apply --weights W.h5 --input CASE.h5 --output OUT.h5 [--raw]\n"
    "Run the network of a weight file (its `architecture` and `config` attributes) on every\n"
    "slice of CASE.h5 and write /output to OUT.h5.\n"
    "\n"
    "CASE.h5 holds /kspace (C,H,W) complex (masked, as the network expects it), /mask (H,W),\n"
    "and where the network uses them /sensitivity_map (C,H,W) complex and\n"
    "/num_low_frequencies (integer; 0 or absent = detect). A leading slice axis on /kspace\n"
    "(S,C,H,W) runs every slice; /mask, /sensitivity_map and /num_low_frequencies may then\n"
    "have it too or be shared by all slices.\n"
    "\n"
    "  -w, --weights W.h5   weight file (a golden case file is one too)\n"
    "  -i, --input CASE.h5  input arrays\n"
    "  -o, --output OUT.h5  written atomically; /output is (H,W) or (S,H,W)\n"
    "Optional inputs: /initial_prediction or /initial_image (H,W) complex, /sigma (scalar\n"
    "or one per slice). LPN weight files take /input too, and solver options (--help with an\n"
    "LPN file).\n"
    "  -r, --raw            write the network's raw output (what the reference forward\n"
    "                       returns: real or complex); default: the magnitude image, float32\n"
    "                       (an LPN writes its raw output either way)\n"
    MR_CLI_PLAN_HELP
    "  -h, --help           this text\n"
    "Exit codes: 0 success, 1 failure, 2 usage error.\n";

struct apply_inputs {
    struct mr_h5 *h;
    int64_t nslices; /* 0: no slice axis */
    int64_t nc;
    int64_t ny;
    int64_t nx;
    bool mask_sliced;
    bool has_sens;
    bool sens_sliced;
    bool has_nlf;
    struct mr_array nlf; /* (S,) F32 when per slice */
    int64_t nlf_shared;
    const char *init_name; /* "/initial_prediction" or "/initial_image", NULL if absent */
    bool init_sliced;
    bool has_sigma;
    struct mr_array sigma; /* scalar or (S,) F32 */
};

static mr_status probe_inputs(struct apply_inputs *a, const char *path)
{
    mr_status st = MR_OK;
    int ndim = 0;
    int64_t dims[MR_MAX_DIMS];
    bool cplx = false;

    MR_CHECK(mr_h5_dims(a->h, "/kspace", &ndim, dims, &cplx));
    if (!cplx || (ndim != 3 && ndim != 4)) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': /kspace must be complex (C,H,W) or (S,C,H,W)", path);
        goto out;
    }
    a->nslices = ndim == 4 ? dims[0] : 0;
    a->nc = dims[ndim - 3];
    a->ny = dims[ndim - 2];
    a->nx = dims[ndim - 1];

    MR_CHECK(mr_h5_dims(a->h, "/mask", &ndim, dims, &cplx));
    a->mask_sliced = ndim == 3;
    if (cplx || (ndim != 2 && !(ndim == 3 && a->nslices > 0 && dims[0] == a->nslices)) ||
        dims[ndim - 2] != a->ny || dims[ndim - 1] != a->nx) {
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': /mask must be real (H,W) = (%lld,%lld) or (S,H,W)",
                     path, (long long)a->ny, (long long)a->nx);
        goto out;
    }

    a->has_sens = mr_h5_exists(a->h, "/sensitivity_map");
    if (a->has_sens) {
        MR_CHECK(mr_h5_dims(a->h, "/sensitivity_map", &ndim, dims, &cplx));
        a->sens_sliced = ndim == 4;
        if (!cplx || (ndim != 3 && !(ndim == 4 && a->nslices > 0 && dims[0] == a->nslices)) ||
            dims[ndim - 3] != a->nc || dims[ndim - 2] != a->ny || dims[ndim - 1] != a->nx) {
            st = MR_FAIL(MR_ERR_SHAPE, "'%s': /sensitivity_map must be complex with the shape "
                         "of /kspace", path);
            goto out;
        }
    }

    a->has_nlf = mr_h5_exists(a->h, "/num_low_frequencies");
    if (a->has_nlf) {
        MR_CHECK(mr_h5_dims(a->h, "/num_low_frequencies", &ndim, dims, &cplx));
        if (ndim == 1 && a->nslices > 0 && dims[0] == a->nslices && a->nslices > 1) {
            MR_CHECK(mr_h5_read(a->h, "/num_low_frequencies", &a->nlf));
        } else {
            MR_CHECK(mr_h5_read_i64(a->h, "/num_low_frequencies", &a->nlf_shared));
        }
    }
    a->init_name = mr_h5_exists(a->h, "/initial_prediction") ? "/initial_prediction"
                   : mr_h5_exists(a->h, "/initial_image")    ? "/initial_image"
                                                              : NULL;
    if (a->init_name != NULL) {
        MR_CHECK(mr_h5_dims(a->h, a->init_name, &ndim, dims, &cplx));
        a->init_sliced = a->nslices > 0 && ndim == 3;
        if (!cplx || ndim < 2 || dims[ndim - 2] != a->ny || dims[ndim - 1] != a->nx ||
            (ndim == 3 && !a->init_sliced) || ndim > 3) {
            st = MR_FAIL(MR_ERR_SHAPE, "'%s': %s must be complex (H,W) = (%lld,%lld)%s",
                         path, a->init_name, (long long)a->ny, (long long)a->nx,
                         a->nslices > 0 ? " or (S,H,W)" : "");
            goto out;
        }
    }
    a->has_sigma = mr_h5_exists(a->h, "/sigma");
    if (a->has_sigma) {
        MR_CHECK(mr_h5_read(a->h, "/sigma", &a->sigma));
        if (a->sigma.dtype != MR_DTYPE_F32 ||
            (mr_array_numel(&a->sigma) != 1 &&
             mr_array_numel(&a->sigma) != (a->nslices > 0 ? a->nslices : 1))) {
            st = MR_FAIL(MR_ERR_SHAPE, "'%s': /sigma must be a real scalar or one per slice",
                         path);
            goto out;
        }
    }
out:
    return st;
}

static mr_status apply_file(const char *wpath, const char *ipath, const char *opath, bool raw)
{
    mr_status st = MR_OK;
    struct mr_weights *ws = NULL;
    struct mr_net *net = NULL;
    struct mr_h5 *out_h = NULL;
    struct apply_inputs a = { 0 };
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array out = { 0 };
    struct mr_array img = { 0 };
    struct mr_array init = { 0 };
    struct mr_net_inputs in = mr_net_inputs_default;

    MR_CHECK(mr_weights_load(wpath, &ws));
    MR_CHECK(mr_net_create_from_weights(ws, NULL, &net));
    MR_CHECK(mr_weights_check_unused(ws));
    MR_CHECK(mr_h5_open(ipath, &a.h));
    MR_CHECK(probe_inputs(&a, ipath));
    MR_CHECK(mr_net_prepare(net, a.nc, a.ny, a.nx));
    MR_CHECK(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, a.nc, a.ny, a.nx));
    MR_CHECK(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, a.ny, a.nx));
    if (a.has_sens)
        MR_CHECK(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, a.nc, a.ny, a.nx));
    if (a.init_name != NULL)
        MR_CHECK(mr_array_init_dims(&init, MR_DTYPE_CF32, 2, a.ny, a.nx));
    MR_CHECK(mr_net_output_init(net, &out));
    MR_CHECK(mr_array_init_dims(&img, MR_DTYPE_F32, 2, a.ny, a.nx));
    const struct mr_array *result = raw ? &out : &img;

    MR_CHECK(mr_h5_create(opath, &out_h));
    if (a.nslices > 0) {
        int64_t dims[MR_MAX_DIMS + 1];
        dims[0] = a.nslices;
        for (int d = 0; d < result->ndim; d++)
            dims[d + 1] = result->dims[d];
        MR_CHECK(mr_h5_create_dataset(out_h, "/output", result->dtype, result->ndim + 1, dims));
    }

    in.ksp = &ksp;
    in.mask = &mask;
    in.sens = a.has_sens ? &sens : NULL;
    in.num_low_frequencies = a.nlf_shared;
    in.initial_prediction = a.init_name != NULL ? &init : NULL;
    const int64_t ns = a.nslices > 0 ? a.nslices : 1;
    /* inputs shared by all slices are read once */
    if (!a.mask_sliced)
        MR_CHECK(mr_h5_read_entry(a.h, "/mask", false, 0, &mask));
    if (a.has_sens && !a.sens_sliced)
        MR_CHECK(mr_h5_read_entry(a.h, "/sensitivity_map", false, 0, &sens));
    if (a.init_name != NULL && !a.init_sliced)
        MR_CHECK(mr_h5_read_entry(a.h, a.init_name, false, 0, &init));
    for (int64_t s = 0; s < ns; s++) {
        MR_CHECK(mr_h5_read_entry(a.h, "/kspace", a.nslices > 0, s, &ksp));
        if (a.mask_sliced)
            MR_CHECK(mr_h5_read_entry(a.h, "/mask", true, s, &mask));
        if (a.has_sens && a.sens_sliced)
            MR_CHECK(mr_h5_read_entry(a.h, "/sensitivity_map", true, s, &sens));
        if (a.nlf.data != NULL)
            in.num_low_frequencies = (int64_t)mr_array_f32(&a.nlf)[s];
        if (a.init_name != NULL && a.init_sliced)
            MR_CHECK(mr_h5_read_entry(a.h, a.init_name, true, s, &init));
        if (a.has_sigma)
            in.sigma = mr_array_f32(&a.sigma)[mr_array_numel(&a.sigma) > 1 ? s : 0];
        st = mr_net_run(net, &in, &out, NULL);
        if (st != MR_OK) {
            mr_fail_context(st, "slice %lld of '%s'", (long long)s, ipath);
            goto out;
        }
        if (!raw)
            mr_net_image(net, &img, &out);
        if (a.nslices > 0)
            MR_CHECK(mr_h5_write_slab(out_h, "/output", s, result));
        else
            MR_CHECK(mr_h5_write(out_h, "/output", result));
    }
    MR_CHECK(mr_h5_write_attr_string(out_h, "/", "architecture",
                                     mr_weights_architecture_raw(ws)));
    MR_CHECK(mr_h5_write_attr_string(out_h, "/", "config", mr_weights_config_json(ws)));
    MR_CHECK(mr_h5_write_attr_string(out_h, "/output", "meaning",
                                     raw ? "raw network output (as the reference forward "
                                           "returns it)"
                                         : "magnitude image"));
    st = mr_h5_commit(out_h);
    out_h = NULL;
out:
    mr_h5_close(out_h);
    mr_array_cleanup(&img);
    mr_array_cleanup(&out);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&a.nlf);
    mr_array_cleanup(&a.sigma);
    mr_array_cleanup(&init);
    mr_h5_close(a.h);
    mr_net_free(net);
    mr_weights_free(ws);
    return st;
}

/* The weight file named by -w/--weights in argv, or NULL (before option parsing, so that an
 * architecture's front-end can take its own options). */
static const char *find_weights_arg(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-w") == 0 || strcmp(argv[i], "--weights") == 0) && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--weights=", 10) == 0)
            return argv[i] + 10;
    }
    return NULL;
}

/* Architectures whose `apply` reads inputs and takes options of its own (one row each); every
 * other architecture runs the reference forward of its registry row (apply_file above). The
 * LPN's: the bare prox on /input, PnP with its solver options on /kspace (cmd_apply_lpn.h). */
static const struct apply_frontend {
    const char *architecture; /* the registry name (networks/net.h) */
    int (*main)(int argc, char *argv[]);
} frontends[] = {
    { "lpn", mr_main_apply_lpn },
};

/* The front-end for the weight file's architecture (normalised as the weight loader does), or
 * NULL (also when the file cannot be read: the full load reports that). */
static const struct apply_frontend *frontend_of(const char *path)
{
    const struct apply_frontend *found = NULL;
    struct mr_h5 *h = NULL;
    struct mr_weights *ws = NULL;
    char *arch = NULL;

    if (mr_h5_open(path, &h) == MR_OK &&
        mr_h5_read_attr_string(h, "/", "architecture", &arch) == MR_OK &&
        mr_weights_create(&ws) == MR_OK && mr_weights_set_architecture(ws, arch) == MR_OK)
        for (size_t i = 0; i < sizeof(frontends) / sizeof(frontends[0]); i++)
            if (strcmp(mr_weights_architecture(ws), frontends[i].architecture) == 0)
                found = &frontends[i];
    mr_weights_free(ws);
    free(arch);
    mr_h5_close(h);
    return found;
}

int mr_main_apply(int argc, char *argv[])
{
    const char *wpath = find_weights_arg(argc, argv);
    const struct apply_frontend *fe = wpath != NULL ? frontend_of(wpath) : NULL;
    if (fe != NULL)
        return fe->main(argc, argv);

    static const struct option opts[] = {
        { "weights", required_argument, NULL, 'w' },
        { "input", required_argument, NULL, 'i' },
        { "output", required_argument, NULL, 'o' },
        { "raw", no_argument, NULL, 'r' },
        MR_CLI_PLAN_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *weights = NULL;
    const char *input = NULL;
    const char *output = NULL;
    struct mr_cli_plan plan = { NULL, NULL };
    bool raw = false;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "w:i:o:rh", opts, NULL)) != -1) {
        switch (c) {
        case 'w': weights = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'r': raw = true; break;
        case MR_CLI_OPT_PLAN: plan.plan = optarg; break;
        case MR_CLI_OPT_WISDOM: plan.wisdom = optarg; break;
        case 'h': fputs(help, stdout); return 0;
        default: fputs(help, stderr); return 2;
        }
    }
    if (optind != argc || weights == NULL || input == NULL || output == NULL) {
        fputs(help, stderr);
        return 2;
    }
    if (!mr_cli_settings_begin("apply", &plan))
        return 2;
    if (apply_file(weights, input, output, raw) != MR_OK) {
        fprintf(stderr, "mrirecon apply: %s\n", mr_last_error());
        return 1;
    }
    return mr_cli_settings_end("apply", &plan) ? 0 : 1;
}
