/* `mrirecon apply` for LPN weight files (cmd_apply_lpn.h): the learned prox on /input, or
 * PnP-PGD / PnP-ADMM on /kspace + /mask + /sensitivity_map (Fang, Buchanan, Sulam, ICLR 2024;
 * shared/specs/lpn.md §5, §8). The algorithms live in networks/lpn.c and recon/pnp.c; this file
 * only reads, dispatches and writes. */
#include "apps/cmd_apply_lpn.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_settings.h"
#include "io/h5.h"
#include "networks/lpn_pnp.h"
#include "weights/weights.h"

const struct mr_apply_lpn_options mr_apply_lpn_options_default = {
    .solver = NULL,
    .iterations = -1,
    .step = 0.0f,
    .patch_stride = 0,
    .cover_border = -1,
    .window = NULL,
    .normalize = -1,
    .rho = 0.0f,
    .scale = 0.0f,
};

/* defaults < weight config < command line */
static mr_status resolve(const struct mr_weights *ws, const struct mr_apply_lpn_options *opt,
                         struct mr_lpn_pnp_config *cfg)
{
    mr_status st;

    *cfg = mr_lpn_pnp_config_default;
    st = mr_lpn_pnp_config_read(mr_weights_config(ws), cfg);
    if (st != MR_OK)
        return st;
    if (opt->solver != NULL) {
        if (strcmp(opt->solver, "pgd") != 0 && strcmp(opt->solver, "admm") != 0)
            return MR_FAIL(MR_ERR_ARG, "--solver '%s': use pgd or admm", opt->solver);
        cfg->solver.admm = strcmp(opt->solver, "admm") == 0;
    }
    if (opt->iterations >= 0)
        cfg->solver.pnp.iters = opt->iterations;
    if (opt->step > 0.0f)
        cfg->solver.pnp.step = opt->step;
    if (opt->patch_stride > 0)
        cfg->tiling.stride = opt->patch_stride;
    if (opt->cover_border >= 0)
        cfg->tiling.cover_border = opt->cover_border != 0;
    if (opt->window != NULL) {
        if (strcmp(opt->window, "uniform") != 0 && strcmp(opt->window, "hann") != 0)
            return MR_FAIL(MR_ERR_ARG, "--patch-window '%s': use uniform or hann", opt->window);
        cfg->tiling.window =
            strcmp(opt->window, "hann") == 0 ? MR_LPN_WINDOW_HANN : MR_LPN_WINDOW_UNIFORM;
    }
    if (opt->normalize >= 0)
        cfg->solver.normalize = opt->normalize != 0;
    if (opt->rho > 0.0f)
        cfg->solver.pnp.rho = opt->rho;
    if (opt->scale > 0.0f)
        cfg->solver.pnp.scale = opt->scale;
    return MR_OK;
}

static mr_status write_scalar(struct mr_h5 *h, const char *name, double v)
{
    float f = (float)v;
    struct mr_array a;
    mr_array_wrap(&a, MR_DTYPE_F32, 0, NULL, &f);
    return mr_h5_write(h, name, &a);
}

/* /input → /output = prox (tiled); /psi, /R_at_output for one patch */
static mr_status apply_prox(struct mr_lpn *lpn, const struct mr_lpn_pnp_config *cfg,
                            const struct mr_h5 *in, const char *ipath, struct mr_h5 *out)
{
    mr_status st = MR_OK;
    struct mr_array x = { 0 };
    struct mr_lpn_tiler *t = NULL;
    const int64_t c = mr_lpn_get_config(lpn)->in_dim;

    MR_CHECK(mr_h5_read(in, "/input", &x));
    const bool cplx = x.dtype == MR_DTYPE_CF32;
    const bool ok = cplx ? (x.ndim == 2 && c == 2)
                         : (x.ndim == 3 && x.dims[0] == c) || (x.ndim == 2 && c == 1);
    if (!ok) {
        char have[96];
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': /input is %s; this LPN (in_dim %lld) takes (%lld, H, W) "
                     "float32%s", ipath, mr_array_shape_str(&x, have, sizeof(have)),
                     (long long)c, (long long)c, c == 2 ? " or (H, W) complex64" : "");
        goto out;
    }
    const int64_t h = x.dims[x.ndim - 2];
    const int64_t w = x.dims[x.ndim - 1];
    MR_CHECK(mr_lpn_tiler_create(lpn, h, w, &cfg->tiling, &t));
    if (cplx)
        mr_lpn_tiler_apply_complex(t, &x, &x);
    else
        mr_lpn_tiler_apply(t, &x, &x);
    MR_CHECK(mr_h5_write(out, "/output", &x));

    int64_t nr = 0;
    int64_t nc = 0;
    const int64_t *rows = NULL;
    const int64_t *cols = NULL;
    mr_lpn_tiler_grid(t, &nr, &rows, &nc, &cols);
    MR_CHECK(mr_h5_write_attr_i64(out, "/", "patch_size", MR_LPN_PATCH));
    const int64_t stride = mr_lpn_tiler_stride(t);
    MR_CHECK(mr_h5_write_attr_i64(out, "/", "stride_size", stride));
    MR_CHECK(mr_h5_write_attr_i64(out, "/", "patches", nr * nc));
    const bool border = (rows[nr - 1] % stride) != 0 || (cols[nc - 1] % stride) != 0;
    MR_CHECK(mr_h5_write_attr_string(out, "/", "tiling",
                                     border ? "reference grid plus border-aligned patches "
                                              "(extension, not in the reference)"
                                            : "reference grid (lpn_denoise_patch)"));
    if (nr * nc == 1) {
        const double psi = mr_lpn_tiler_patch_psi(t)[0];
        const double reg = mr_lpn_tiler_last_regularizer(t);
        MR_CHECK(write_scalar(out, "/psi", psi));
        MR_CHECK(write_scalar(out, "/R_at_output", reg));
        MR_CHECK(mr_h5_write_attr_double(out, "/", "psi", psi));
        MR_CHECK(mr_h5_write_attr_double(out, "/", "R_at_output", reg));
    }
out:
    mr_lpn_tiler_free(t);
    mr_array_cleanup(&x);
    return st;
}

/* shape of a dataset with an optional leading slice axis: rank base or base + 1 */
static mr_status probe(const struct mr_h5 *h, const char *path, const char *name, int base,
                       bool want_complex, int64_t *ns, int64_t *dims)
{
    int ndim = 0;
    int64_t d[MR_MAX_DIMS];
    bool cplx = false;
    mr_status st = mr_h5_dims(h, name, &ndim, d, &cplx);

    if (st != MR_OK)
        return st;
    if (cplx != want_complex || (ndim != base && ndim != base + 1))
        return MR_FAIL(MR_ERR_FORMAT, "'%s': %s must be %s with %d or %d axes", path, name,
                       want_complex ? "complex" : "real", base, base + 1);
    *ns = ndim == base + 1 ? d[0] : 0;
    for (int i = 0; i < base; i++)
        dims[i] = d[ndim - base + i];
    return MR_OK;
}

/* /kspace, /mask, /sensitivity_map → /output (PnP iterate x_N of every slice) */
static mr_status apply_pnp(struct mr_lpn *lpn, const struct mr_lpn_pnp_config *cfg,
                           const struct mr_h5 *in, const char *ipath, struct mr_h5 *out)
{
    mr_status st = MR_OK;
    struct mr_lpn_recon *r = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array x = { 0 };
    struct mr_pnp_info info = { 0 };
    int64_t kd[3];
    int64_t md[2];
    int64_t sd[3];
    int64_t ns = 0;
    int64_t mns = 0;
    int64_t sns = 0;

    MR_CHECK(probe(in, ipath, "/kspace", 3, true, &ns, kd));
    MR_CHECK(probe(in, ipath, "/mask", 2, false, &mns, md));
    if (!mr_h5_exists(in, "/sensitivity_map")) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s': PnP with the LPN needs /sensitivity_map", ipath);
        goto out;
    }
    MR_CHECK(probe(in, ipath, "/sensitivity_map", 3, true, &sns, sd));
    if (md[0] != kd[1] || md[1] != kd[2] || sd[0] != kd[0] || sd[1] != kd[1] ||
        sd[2] != kd[2] || (mns > 0 && mns != ns) || (sns > 0 && sns != ns)) {
        st = MR_FAIL(MR_ERR_SHAPE, "'%s': /mask, /sensitivity_map and /kspace shapes (or slice "
                     "counts) disagree", ipath);
        goto out;
    }
    MR_CHECK(mr_lpn_recon_create(lpn, cfg, kd[0], kd[1], kd[2], &r));
    MR_CHECK(mr_array_init(&ksp, MR_DTYPE_CF32, 3, kd));
    MR_CHECK(mr_array_init(&sens, MR_DTYPE_CF32, 3, kd));
    MR_CHECK(mr_array_init(&mask, MR_DTYPE_F32, 2, md));
    MR_CHECK(mr_array_init(&x, MR_DTYPE_CF32, 2, md));
    if (ns > 0)
        MR_CHECK(mr_h5_create_dataset(out, "/output", MR_DTYPE_CF32, 3,
                                      (const int64_t[]){ ns, md[0], md[1] }));
    for (int64_t s = 0; s < (ns > 0 ? ns : 1); s++) {
        MR_CHECK(mr_h5_read_entry(in, "/kspace", ns > 0, s, &ksp));
        MR_CHECK(mr_h5_read_entry(in, "/mask", mns > 0, s, &mask));
        MR_CHECK(mr_h5_read_entry(in, "/sensitivity_map", sns > 0, s, &sens));
        st = mr_lpn_recon_run(r, &ksp, &mask, &sens, &x, &info, NULL);
        if (st != MR_OK) {
            mr_fail_context(st, "slice %lld of '%s'", (long long)s, ipath);
            goto out;
        }
        if (ns > 0)
            MR_CHECK(mr_h5_write_slab(out, "/output", s, &x));
        else
            MR_CHECK(mr_h5_write(out, "/output", &x));
    }
    MR_CHECK(mr_h5_write_attr_string(out, "/", "solver",
                                     cfg->solver.admm ? "pnp_admm" : "pnp_pgd"));
    MR_CHECK(mr_h5_write_attr_i64(out, "/", "num_iters", info.iters));
    MR_CHECK(mr_h5_write_attr_double(out, "/", "step_size", (double)cfg->solver.pnp.step));
    MR_CHECK(mr_h5_write_attr_i64(out, "/", "patch_size", MR_LPN_PATCH));
    MR_CHECK(mr_h5_write_attr_i64(out, "/", "stride_size",
                                  mr_lpn_tiler_stride(mr_lpn_recon_tiler(r))));
    MR_CHECK(mr_h5_write_attr_string(out, "/", "prox_channels", "[real, imag]"));
    MR_CHECK(mr_h5_write_attr_string(out, "/", "normalization",
                                     cfg->solver.normalize ? "y / max|A^H y|, result scaled back "
                                                      "(extension, not in the reference)"
                                                    : "none"));
    if (cfg->solver.admm) {
        MR_CHECK(mr_h5_write_attr_double(out, "/", "admm_rho", (double)cfg->solver.pnp.rho));
        MR_CHECK(mr_h5_write_attr_double(out, "/", "admm_scale", (double)cfg->solver.pnp.scale));
    } else {
        MR_CHECK(mr_h5_write_attr_double(out, "/", "R_at_output", mr_lpn_recon_regularizer(r)));
    }
out:
    mr_lpn_recon_free(r);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&x);
    return st;
}

mr_status mr_apply_lpn(const char *weights, const char *input, const char *output,
                       const struct mr_apply_lpn_options *opt)
{
    mr_status st = MR_OK;
    struct mr_weights *ws = NULL;
    struct mr_lpn *lpn = NULL;
    struct mr_h5 *in = NULL;
    struct mr_h5 *out = NULL;
    struct mr_lpn_pnp_config cfg;

    MR_CHECK(mr_weights_load(weights, &ws));
    MR_CHECK(mr_lpn_create(ws, &lpn));
    MR_CHECK(resolve(ws, opt, &cfg));
    MR_CHECK(mr_h5_open(input, &in));
    MR_CHECK(mr_h5_create(output, &out));
    if (mr_h5_exists(in, "/input"))
        MR_CHECK(apply_prox(lpn, &cfg, in, input, out));
    else if (mr_h5_exists(in, "/kspace"))
        MR_CHECK(apply_pnp(lpn, &cfg, in, input, out));
    else {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' has neither /input (prox) nor /kspace (PnP)", input);
        goto out;
    }
    MR_CHECK(mr_h5_write_attr_string(out, "/", "architecture",
                                     mr_weights_architecture_raw(ws)));
    MR_CHECK(mr_h5_write_attr_string(out, "/", "config", mr_weights_config_json(ws)));
    st = mr_h5_commit(out);
    out = NULL;
out:
    mr_h5_close(out);
    mr_h5_close(in);
    mr_lpn_free(lpn);
    mr_weights_free(ws);
    return st;
}

static const char help[] =
    "usage: mrirecon apply --weights LPN.h5 --input IN.h5 --output OUT.h5 [options]\n"
    "Learned proximal network (LPN): with /input in IN.h5, write its prox (/output; plus /psi\n"
    "and /R_at_output for one 128x128 patch); with /kspace, /mask and /sensitivity_map, run\n"
    "PnP reconstruction with the LPN prior and write the complex image /output.\n"
    "\n"
    "  -w, --weights F       LPN weight file (architecture \"lpn\")\n"
    "  -i, --input F         input arrays\n"
    "  -o, --output F        written atomically\n"
    "  -r, --raw             accepted as for every architecture: the LPN's output is always\n"
    "                        the raw one (the prox, or the complex PnP image)\n"
    "      --solver S        pgd (default) or admm\n"
    "  -n, --iterations N    PnP iterations (default 20)\n"
    "  -s, --step S          PGD step on 1/2||Ax - y||^2 (default 1; also sets the prior weight)\n"
    "  -k, --patch-stride K  patch stride of the 128x128 tiling; must cover the image, i.e.\n"
    "                        divide H-128 and W-128 (default: the largest such K <= 64)\n"
    "      --cover-border    add border-aligned patches where the stride does not cover\n"
    "                        (extension, not in the reference)\n"
    "      --patch-window W  average overlapping patches uniformly (the reference) or with a\n"
    "                        Hann window that hides patch seams (hann; extension)\n"
    "      --normalize       solve for y / max|A^H y| and scale back (extension)\n"
    "      --rho R           ADMM penalty (default 0.05)\n"
    "      --scale S         ADMM data weight s in s||y - Ax||^2 (default 0.5)\n"
    MR_CLI_PLAN_HELP
    "  -h, --help            this text\n"
    "Settings not given come from the weight file's config, then the defaults.\n"
    "Exit codes: 0 success, 1 failure, 2 usage error.\n";

int mr_main_apply_lpn(int argc, char *argv[])
{
    enum { OPT_SOLVER = 256, OPT_COVER, OPT_WINDOW, OPT_NORMALIZE, OPT_RHO, OPT_SCALE };
    static const struct option opts[] = {
        { "weights", required_argument, NULL, 'w' },
        { "input", required_argument, NULL, 'i' },
        { "output", required_argument, NULL, 'o' },
        { "raw", no_argument, NULL, 'r' },
        { "solver", required_argument, NULL, OPT_SOLVER },
        { "iterations", required_argument, NULL, 'n' },
        { "step", required_argument, NULL, 's' },
        { "patch-stride", required_argument, NULL, 'k' },
        { "cover-border", no_argument, NULL, OPT_COVER },
        { "patch-window", required_argument, NULL, OPT_WINDOW },
        { "normalize", no_argument, NULL, OPT_NORMALIZE },
        { "rho", required_argument, NULL, OPT_RHO },
        { "scale", required_argument, NULL, OPT_SCALE },
        MR_CLI_PLAN_OPTIONS,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct mr_apply_lpn_options opt = mr_apply_lpn_options_default;
    const char *weights = NULL;
    const char *input = NULL;
    const char *output = NULL;
    struct mr_cli_plan plan = { NULL, NULL };
    char *end = NULL;
    bool bad = false;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "w:i:o:rn:s:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'w': weights = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'r': break; /* the output is the raw one anyway */
        case OPT_SOLVER: opt.solver = optarg; break;
        case 'n':
            opt.iterations = (int)strtol(optarg, &end, 10);
            bad = bad || *end != '\0' || opt.iterations < 0;
            break;
        case 's':
            opt.step = strtof(optarg, &end);
            bad = bad || *end != '\0' || !(opt.step > 0.0f);
            break;
        case 'k':
            opt.patch_stride = strtoll(optarg, &end, 10);
            bad = bad || *end != '\0' || opt.patch_stride < 1;
            break;
        case OPT_COVER: opt.cover_border = 1; break;
        case OPT_WINDOW: opt.window = optarg; break;
        case OPT_NORMALIZE: opt.normalize = 1; break;
        case OPT_RHO:
            opt.rho = strtof(optarg, &end);
            bad = bad || *end != '\0' || !(opt.rho > 0.0f);
            break;
        case OPT_SCALE:
            opt.scale = strtof(optarg, &end);
            bad = bad || *end != '\0' || !(opt.scale > 0.0f);
            break;
        case MR_CLI_OPT_PLAN: plan.plan = optarg; break;
        case MR_CLI_OPT_WISDOM: plan.wisdom = optarg; break;
        case 'h': fputs(help, stdout); return 0;
        default: fputs(help, stderr); return 2;
        }
    }
    if (bad || optind != argc || weights == NULL || input == NULL || output == NULL) {
        fputs(help, stderr);
        return 2;
    }
    if (!mr_cli_settings_begin("apply", &plan))
        return 2;
    if (mr_apply_lpn(weights, input, output, &opt) != MR_OK) {
        fprintf(stderr, "mrirecon apply: %s\n", mr_last_error());
        return 1;
    }
    return mr_cli_settings_end("apply", &plan) ? 0 : 1;
}
