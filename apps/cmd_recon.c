/*
 * mrirecon recon: reconstruct every slice of a fastMRI-layout file with a classical method
 * (zero-filled, SENSE, CG-SENSE, L1-wavelet CS), optionally undersampling it retrospectively,
 * and write the magnitude images as a fastMRI reconstruction file, a PNG preview or NIfTI.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/ismrmrd_recon.h"
#include "apps/net_recon.h"
#include "apps/recon_output.h"
#include "io/ismrmrd.h"
#include "io/fastmri.h"
#include "io/npy.h"
#include "recon/classic.h"
#include "recon/espirit.h"
#include "recon/clock.h"

int mr_main_recon(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon recon [options] IN.h5 OUT.{h5,png,nii}\n"
    "Reconstruct every slice of a fastMRI-layout multi-coil file or an ISMRMRD raw dataset\n"
    "(detected by content; ISMRMRD output .h5 holds ISMRMRD images).\n"
    "\n"
    "  -m, --method M       zf | sense | cg | cs (default cs), or model (a network, with\n"
    "                       --weights; see README \"Networks\" for each architecture's pre- and\n"
    "                       post-processing), or pnp-lpn (plug-and-play with an LPN prior,\n"
    "                       --weights; --iters sets its iterations)\n"
    "  -w, --weights W.h5   weight file for --method model\n"
    "      --maps SRC       coil maps for sense/cg/cs: espirit (default), acs (low-resolution\n"
    "                       calibration images over their RSS), file (the input's\n"
    "                       sensitivity_map)\n"
    "      --mask FILE.npy  undersample retrospectively: a length-W column mask or an HxW mask\n"
    "                       (nonzero = keep); otherwise the file's own mask (or the sampled\n"
    "                       positions of its k-space) is used\n"
    "  -i, --iters N        iterations of cg / cs / pnp-lpn (default 30 / 50 / 20)\n"
    "  -l, --lambda L       regularisation weight, relative to the data (cg default 0.01,\n"
    "                       cs default 0.01; see README)\n"
    "      --espirit-crop C ESPIRiT eigenvalue crop in [0,1) (default 0: uncropped maps)\n"
    "      --slices A:B     reconstruct slices A..B-1 only\n"
    "      --no-crop        keep the full image (default: crop to the header's recon matrix)\n"
    "  -q, --quiet          no progress on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "OUT by extension: .h5 (fastMRI 'reconstruction' float32 (slices, H, W)), .png (windowed\n"
    "magnitude, slices tiled), .nii (NIfTI-1 float32). Exit: 0 ok, 1 failure, 2 usage.\n";

struct recon_opts {
    struct mr_classic_config cfg;
    bool model;
    const char *weights;
    int pnp_iters;
    const char *maps;
    const char *mask_path;
    float espirit_crop;
    int64_t slice0;
    int64_t slice1;
    bool crop;
    bool quiet;
    bool iters_set;
};

/* Loads a .npy mask (length W or (H, W)) as an (H, W) F32 mask. */
static mr_status load_mask(const char *path, int64_t h, int64_t w, struct mr_array *mask)
{
    mr_status st = MR_OK;
    struct mr_array m = { 0 };
    char buf[96];

    MR_CHECK(mr_npy_read(path, &m));
    MR_CHECK(mr_array_init_dims(mask, MR_DTYPE_F32, 2, h, w));
    if (m.dtype != MR_DTYPE_F32) {
        st = MR_FAIL(MR_ERR_FORMAT, "mask '%s' is complex; expected a real or boolean array",
                     path);
        goto out;
    }
    const float *src = mr_array_f32(&m);
    float *dst = mr_array_f32(mask);
    int64_t n = mr_array_numel(&m);
    if ((m.ndim == 1 && n == w) || (m.ndim == 2 && m.dims[0] == 1 && m.dims[1] == w)) {
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                dst[y * w + x] = src[x] != 0.0f ? 1.0f : 0.0f;
    } else if (m.ndim == 2 && m.dims[0] == h && m.dims[1] == w) {
        for (int64_t i = 0; i < h * w; i++)
            dst[i] = src[i] != 0.0f ? 1.0f : 0.0f;
    } else {
        st = MR_FAIL(MR_ERR_SHAPE,
                     "mask '%s' has shape %s; expected (%lld,) columns or (%lld, %lld) for "
                     "k-space of %lld x %lld",
                     path, mr_dims_str(m.ndim, m.dims, buf, sizeof(buf)), (long long)w,
                     (long long)h, (long long)w, (long long)h, (long long)w);
        goto out;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < h * w; i++)
        sum += (double)dst[i];
    if (sum == 0.0)
        st = MR_FAIL(MR_ERR_DATA, "mask '%s' samples nothing", path);
out:
    mr_array_cleanup(&m);
    if (st != MR_OK)
        mr_array_cleanup(mask);
    return st;
}

/* mask[y, x] = 1 where any coil has a nonzero sample */
static void mask_from_kspace(const struct mr_array *ksp, struct mr_array *mask)
{
    const int64_t nc = ksp->dims[0];
    const int64_t n = ksp->dims[1] * ksp->dims[2];
    const float complex *k = mr_array_cf32(ksp);
    float *m = mr_array_f32(mask);
    for (int64_t i = 0; i < n; i++) {
        m[i] = 0.0f;
        for (int64_t c = 0; c < nc; c++)
            if (k[c * n + i] != 0.0f) {
                m[i] = 1.0f;
                break;
            }
    }
}

static void apply_mask(struct mr_array *ksp, const struct mr_array *mask)
{
    const int64_t nc = ksp->dims[0];
    const int64_t n = ksp->dims[1] * ksp->dims[2];
    float complex *k = mr_array_cf32(ksp);
    const float *m = mr_array_f32(mask);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            k[c * n + i] = m[i] != 0.0f ? k[c * n + i] : 0.0f;
}

static mr_status run(const struct recon_opts *o, const char *in, const char *out_path)
{
    mr_status st = MR_OK;
    struct mr_fastmri *f = NULL;
    struct mr_classic *ctx = NULL;
    struct mr_array ksp = { 0 };
    struct mr_array mask = { 0 };
    struct mr_array sens = { 0 };
    struct mr_array img = { 0 };
    struct mr_array mag = { 0 };
    struct mr_array vol = { 0 };
    struct mr_espirit_config ecfg = mr_espirit_config_default;
    struct mr_net_recon *model = NULL;
    bool have_mask = false;
    bool need_maps = o->cfg.method != MR_CLASSIC_ZF;
    bool maps_file = strcmp(o->maps, "file") == 0;
    bool maps_espirit = strcmp(o->maps, "espirit") == 0;

    MR_CHECK(mr_fastmri_open(in, &f));
    const struct mr_fastmri_info *info = mr_fastmri_info(f);
    const int64_t nc = info->coils;
    const int64_t h = info->h;
    const int64_t w = info->w;
    int64_t s0 = o->slice0 < 0 ? 0 : o->slice0;
    int64_t s1 = o->slice1 < 0 ? info->slices : o->slice1;
    if (s0 >= s1 || s1 > info->slices) {
        st = MR_FAIL(MR_ERR_ARG, "--slices %lld:%lld is outside the %lld slices of '%s'",
                     (long long)s0, (long long)s1, (long long)info->slices, in);
        goto out;
    }
    struct mr_recon_output_shape shape;
    mr_recon_output_shape_init(&shape, info, h, w, o->crop);

    MR_CHECK(mr_array_init_dims(&ksp, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&sens, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&img, MR_DTYPE_CF32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&mag, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&vol, MR_DTYPE_F32, 3, s1 - s0, shape.h, shape.w));
    if (o->mask_path != NULL) {
        MR_CHECK(load_mask(o->mask_path, h, w, &mask));
        have_mask = true;
    } else {
        MR_CHECK(mr_array_init_dims(&mask, MR_DTYPE_F32, 2, h, w));
        if (info->has_mask) {
            MR_CHECK(mr_fastmri_read_mask(f, &mask));
            have_mask = true;
        }
    }
    if (o->model) {
        struct mr_net_recon_config ncfg = mr_net_recon_config_default;
        ncfg.weights = o->weights;
        ncfg.maps = strcmp(o->maps, "acs") == 0 ? MR_NET_RECON_MAPS_ACS
                                                : MR_NET_RECON_MAPS_ESPIRIT;
        ncfg.espirit_crop = o->espirit_crop;
        ncfg.classic = &o->cfg;
        ncfg.pnp_iters = o->pnp_iters;
        MR_CHECK(mr_net_recon_create(&ncfg, nc, h, w, &model));
        need_maps = mr_net_recon_needs_maps(model);
    } else {
        MR_CHECK(mr_classic_create(nc, h, w, &o->cfg, &ctx));
    }
    if (need_maps && maps_file && !info->has_sens) {
        st = MR_FAIL(MR_ERR_ARG, "--maps file: '%s' has no sensitivity_map dataset", in);
        goto out;
    }
    ecfg.crop = o->espirit_crop;
    const char *method_name = o->model ? mr_net_recon_name(model)
                                       : mr_classic_method_name(o->cfg.method);

    double t_all = mr_clock_now_s();
    for (int64_t s = s0; s < s1; s++) {
        double t = mr_clock_now_s();
        MR_CHECK(mr_fastmri_read_kspace(f, s, &ksp));
        if (have_mask)
            apply_mask(&ksp, &mask);
        else
            mask_from_kspace(&ksp, &mask);
        const struct mr_array *maps = NULL;
        if (need_maps && maps_file) {
            MR_CHECK(mr_fastmri_read_sens(f, s, &sens));
            maps = &sens;
        } else if (need_maps && maps_espirit) {
            st = mr_espirit_maps(&ecfg, &ksp, &sens);
            if (st != MR_OK) {
                mr_fail_context(st, "slice %lld of '%s': ESPIRiT maps", (long long)s, in);
                goto out;
            }
            maps = &sens;
        }
        if (o->model) {
            st = mr_net_recon_run(model, &ksp, &mask, maps, &mag);
        } else {
            st = mr_classic_run(ctx, &ksp, &mask, maps, &img);
            const float complex *x = mr_array_cf32(&img);
            float *m = mr_array_f32(&mag);
            for (int64_t i = 0; i < h * w; i++)
                m[i] = cabsf(x[i]);
        }
        if (st != MR_OK) {
            mr_fail_context(st, "slice %lld of '%s'", (long long)s, in);
            goto out;
        }
        struct mr_array dst;
        mr_array_slab(&dst, &vol, s - s0);
        mr_recon_output_crop(&dst, &mag);
        if (!o->quiet)
            fprintf(stderr, "mrirecon recon: slice %lld/%lld (%s) %.2f s\n",
                    (long long)(s - s0 + 1), (long long)(s1 - s0), method_name,
                    mr_clock_now_s() - t);
    }
    MR_CHECK(mr_recon_output_write(out_path, &vol, info, method_name));
    if (!o->quiet)
        fprintf(stderr, "mrirecon recon: wrote '%s' (%lld slices, %.2f s)\n", out_path,
                (long long)(s1 - s0), mr_clock_now_s() - t_all);
out:
    mr_net_recon_free(model);
    mr_classic_free(ctx);
    mr_fastmri_close(f);
    mr_array_cleanup(&ksp);
    mr_array_cleanup(&mask);
    mr_array_cleanup(&sens);
    mr_array_cleanup(&img);
    mr_array_cleanup(&mag);
    mr_array_cleanup(&vol);
    return st;
}

static bool parse_slices(const char *s, int64_t *a, int64_t *b)
{
    char *end = NULL;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end != ':')
        return false;
    const char *p = end + 1;
    long long y = strtoll(p, &end, 10);
    if (end == p || *end != '\0' || x < 0 || y <= x)
        return false;
    *a = x;
    *b = y;
    return true;
}

int mr_main_recon(int argc, char *argv[])
{
    struct recon_opts o = {
        .cfg = mr_classic_config_default,
        .maps = "espirit",
        .mask_path = NULL,
        .espirit_crop = 0.0f,
        .slice0 = -1,
        .slice1 = -1,
        .crop = true,
        .quiet = false,
    };
    static const struct option opts[] = {
        { "method", required_argument, NULL, 'm' },
        { "weights", required_argument, NULL, 'w' },
        { "maps", required_argument, NULL, 'M' },
        { "mask", required_argument, NULL, 'k' },
        { "iters", required_argument, NULL, 'i' },
        { "lambda", required_argument, NULL, 'l' },
        { "espirit-crop", required_argument, NULL, 'E' },
        { "slices", required_argument, NULL, 'S' },
        { "no-crop", no_argument, NULL, 'C' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    int iters = -1;
    float lambda = -1.0f;
    char *end = NULL;

    o.cfg.method = MR_CLASSIC_CS;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:w:i:l:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'w': o.weights = optarg; break;
        case 'm':
            o.model = strcmp(optarg, "model") == 0 || strcmp(optarg, "pnp-lpn") == 0;
            if (!o.model && mr_classic_method_parse(optarg, &o.cfg.method) != MR_OK) {
                fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
                return 2;
            }
            break;
        case 'M':
            if (strcmp(optarg, "espirit") != 0 && strcmp(optarg, "acs") != 0 &&
                strcmp(optarg, "file") != 0) {
                fprintf(stderr, "mrirecon recon: --maps must be espirit, acs or file, not '%s'\n",
                        optarg);
                return 2;
            }
            o.maps = optarg;
            break;
        case 'k': o.mask_path = optarg; break;
        case 'i':
            iters = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || iters < 1) {
                fprintf(stderr, "mrirecon recon: --iters needs a positive integer\n");
                return 2;
            }
            break;
        case 'l':
            lambda = strtof(optarg, &end);
            if (*end != '\0' || !(lambda >= 0.0f)) {
                fprintf(stderr, "mrirecon recon: --lambda needs a number >= 0\n");
                return 2;
            }
            break;
        case 'E':
            o.espirit_crop = strtof(optarg, &end);
            if (*end != '\0' || !(o.espirit_crop >= 0.0f && o.espirit_crop < 1.0f)) {
                fprintf(stderr, "mrirecon recon: --espirit-crop needs a number in [0, 1)\n");
                return 2;
            }
            break;
        case 'S':
            if (!parse_slices(optarg, &o.slice0, &o.slice1)) {
                fprintf(stderr, "mrirecon recon: --slices needs A:B with 0 <= A < B\n");
                return 2;
            }
            break;
        case 'C': o.crop = false; break;
        case 'q': o.quiet = true; break;
        case 'h': fputs(help, stdout); return 0;
        default:
            fprintf(stderr, "mrirecon recon: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            fputs(help, stderr);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fputs(help, stderr);
        return 2;
    }
    if (o.model != (o.weights != NULL)) {
        fprintf(stderr, "mrirecon recon: --method model/pnp-lpn and --weights go together\n");
        return 2;
    }
    if (iters > 0) {
        o.pnp_iters = iters;
        o.cfg.cg_iters = iters;
        o.cfg.cs.iters = iters;
    }
    if (lambda >= 0.0f) {
        o.cfg.cg_lambda = lambda;
        o.cfg.cs.lambda = lambda;
    }
    if (!mr_recon_output_format_known(argv[optind + 1])) {
        fprintf(stderr, "mrirecon recon: output '%s' must end in .h5, .png or .nii\n",
                argv[optind + 1]);
        return 2;
    }
    bool is_ismrmrd = false;
    if (mr_ismrmrd_probe(argv[optind], &is_ismrmrd) == MR_OK && is_ismrmrd) {
        if (strcmp(o.maps, "file") == 0) {
            fprintf(stderr, "mrirecon recon: --maps file does not apply to ISMRMRD raw data\n");
            return 2;
        }
        if (o.mask_path != NULL || o.slice0 >= 0) {
            fprintf(stderr, "mrirecon recon: --mask and --slices apply to fastMRI files only\n");
            return 2;
        }
        struct mr_stage_config sc = mr_stage_config_default;
        sc.classic = &o.cfg;
        sc.method = o.cfg.method;
        sc.maps = strcmp(o.maps, "acs") == 0 ? MR_STAGE_MAPS_ACS : MR_STAGE_MAPS_ESPIRIT;
        sc.espirit_crop = o.espirit_crop;
        if (o.model && mr_stage_config_set(&sc, "weights", o.weights) != MR_OK) {
            fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
            return 2;
        }
        if (mr_ismrmrd_recon_file(&sc, argv[optind], argv[optind + 1]) != MR_OK) {
            fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
            return 1;
        }
        return 0;
    }
    if (run(&o, argv[optind], argv[optind + 1]) != MR_OK) {
        fprintf(stderr, "mrirecon recon: %s\n", mr_last_error());
        return 1;
    }
    return 0;
}
