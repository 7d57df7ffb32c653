/*
 * mrirecon mask: write one undersampling mask (fastMRI, ATOMMIC or BART generator of
 * sampling/mask.h, chosen through the spec strings of sampling/mask_spec.h) as .npy, exactly
 * as numpy writes a uint8 mask, or as a .png to look at, and print its statistics
 * (sampling/mask_stats.h: acceleration, fully sampled centre, PSF side lobe, incoherence).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "pipeline/output.h"
#include "io/npy.h"
#include "io/png.h"
#include "sampling/mask_spec.h"
#include "sampling/mask_stats.h"

int mr_main_mask(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon mask --type T --shape HxW --accel R [--center-fraction F]\n"
    "                     [--seed S | --seed-name FILENAME] [type options] -o MASK.{npy,png}\n"
    "Write an undersampling mask for k-space of H rows x W columns (W = phase encodes, the\n"
    "last axis of fastMRI k-space) and print its statistics.\n"
    "\n"
    "  -t, --type T             random | equispaced | equispaced-fraction (fastMRI column\n"
    "                           masks), magic | magic-fraction (fastMRI), equispaced2d |\n"
    "                           gaussian1d | gaussian2d | poisson2d (ATOMMIC), bart-poisson |\n"
    "                           bart-upat (BART 0.8)\n"
    "  -s, --shape HxW          k-space rows x columns\n"
    "  -a, --accel R            acceleration; fastMRI/ATOMMIC accept a list 4/8 to choose from.\n"
    "                           bart-poisson: -y = -z = sqrt(R) (the achieved R is printed);\n"
    "                           bart-upat: every R-th column (-y R -z 1)\n"
    "  -c, --center-fraction F  fully sampled centre fraction (fastMRI, default 0.08; list as\n"
    "                           for --accel), FWHM for gaussian1d/2d (default 0.7); BART:\n"
    "                           calibration box of round(F * min(H, W)) (default none)\n"
    "      --seed S             numpy RandomState(S) (0 <= S < 2^32; bart-poisson: rand_r seed,\n"
    "                           default 11235)\n"
    "      --seed-name FILE     seed from FILE's base name, as fastMRI's data transforms do per\n"
    "                           volume (default without either: seed 0)\n"
    "  -o, --output PATH        .npy: uint8, a length-W vector for column masks (random,\n"
    "                           equispaced*, magic*, gaussian1d), (H, W) otherwise;\n"
    "                           .png: 8-bit picture of the (H, W) mask, sampled = white\n"
    "      --spec SPEC          a mask spec string instead of --type/--accel/... (see\n"
    "                           sampling/mask_spec.h), e.g. 'equispaced:accel=4,center=0.08'\n"
    "  -q, --quiet              do not print the statistics\n"
    "  -h, --help               this text\n"
    "type options (see sampling/mask_spec.h for the defaults):\n"
    "      --offset N           equispaced*, magic*: first sampled column (default drawn)\n"
    "      --any                fastMRI: choose centre and acceleration independently\n"
    "      --scale S            gaussian1d/2d, poisson2d: ATOMMIC center_scale (0.02)\n"
    "      --tol T              poisson2d: acceleration tolerance (0.3)\n"
    "      --accel-y A, --accel-z A   BART -y / -z (override --accel)\n"
    "      --calib N            BART -C (poisson) / -c (upat)\n"
    "      --vd V               bart-poisson variable density -V\n"
    "      --ellipse            bart-poisson -e\n"
    "\n"
    "Exit: 0 ok, 1 failure (e.g. parameters the generator rejects), 2 usage.\n";

struct mask_opts {
    const char *type;
    const char *spec;
    const char *accel;
    const char *center;
    const char *seed;
    const char *seed_name;
    const char *output;
    char extra[8][96]; /* "key=value" type options */
    int nextra;
    int64_t h;
    int64_t w;
    bool quiet;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool parse_shape(const char *s, int64_t *h, int64_t *w)
{
    char *end = NULL;
    long long a = strtoll(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X'))
        return false;
    const char *p = end + 1;
    long long b = strtoll(p, &end, 10);
    if (end == p || *end != '\0' || a < 1 || b < 1 || a > (1 << 20) || b > (1 << 20))
        return false;
    *h = a;
    *w = b;
    return true;
}

/* Appends ",key=value" (or ":key=value" for the first) to buf. */
static bool append_kv(char *buf, size_t len, const char *key, const char *value)
{
    size_t n = strlen(buf);
    int k = snprintf(buf + n, len - n, "%s%s=%s", strchr(buf, ':') != NULL ? "," : ":", key,
                     value);
    return k > 0 && (size_t)k < len - n;
}

static mr_status apply_seed(const struct mask_opts *o, struct mr_mask_spec *spec);

/* Builds the spec string of the options and parses it. */
static mr_status build_spec(const struct mask_opts *o, struct mr_mask_spec *spec)
{
    char buf[1024];
    char num[64];
    bool ok = true;

    if (o->spec != NULL) {
        mr_status st = mr_mask_spec_parse(o->spec, spec);
        return st != MR_OK ? st : apply_seed(o, spec);
    }
    if (strlen(o->type) >= 64 || strchr(o->type, ':') != NULL)
        return MR_FAIL(MR_ERR_ARG, "unknown mask type '%s'", o->type);
    snprintf(buf, sizeof(buf), "%s", o->type);
    const bool bart_poisson = strcmp(o->type, "bart-poisson") == 0;
    const bool bart_upat = strcmp(o->type, "bart-upat") == 0;
    bool accel_yz = false;
    for (int i = 0; i < o->nextra; i++)
        accel_yz = accel_yz || strncmp(o->extra[i], "accel_", 6) == 0;

    if ((bart_poisson || bart_upat) && !accel_yz && o->accel != NULL) {
        char *end = NULL;
        double r = strtod(o->accel, &end);
        if (end == o->accel || *end != '\0' || !(r >= 1.0 && r < 1e6))
            return MR_FAIL(MR_ERR_ARG, "--accel '%s' must be one number >= 1 for %s", o->accel,
                           o->type);
        if (bart_poisson) {
            snprintf(num, sizeof(num), "%.17g", sqrt(r));
            ok = ok && append_kv(buf, sizeof(buf), "accel_y", num);
            ok = ok && append_kv(buf, sizeof(buf), "accel_z", num);
        } else {
            ok = ok && append_kv(buf, sizeof(buf), "accel_y", o->accel);
            ok = ok && append_kv(buf, sizeof(buf), "accel_z", "1");
        }
    } else if (!bart_poisson && !bart_upat && o->accel != NULL) {
        ok = ok && append_kv(buf, sizeof(buf), "accel", o->accel);
    }
    if ((bart_poisson || bart_upat) && o->center != NULL) {
        char *end = NULL;
        double f = strtod(o->center, &end);
        if (end == o->center || *end != '\0' || !(f >= 0.0 && f <= 1.0))
            return MR_FAIL(MR_ERR_ARG, "--center-fraction '%s' must be in [0, 1] for %s",
                           o->center, o->type);
        snprintf(num, sizeof(num), "%.0f",
                 nearbyint(f * (double)(o->h < o->w ? o->h : o->w)));
        ok = ok && append_kv(buf, sizeof(buf), "calib", num);
    } else if (o->center != NULL) {
        ok = ok && append_kv(buf, sizeof(buf), "center", o->center);
    }
    for (int i = 0; i < o->nextra; i++) {
        size_t n = strlen(buf);
        int k = snprintf(buf + n, sizeof(buf) - n, "%s%s", strchr(buf, ':') != NULL ? "," : ":",
                         o->extra[i]);
        ok = ok && k > 0 && (size_t)k < sizeof(buf) - n;
    }
    if (!ok)
        return MR_FAIL(MR_ERR_ARG, "mask options are too long");
    mr_status st = mr_mask_spec_parse(buf, spec);
    return st != MR_OK ? st : apply_seed(o, spec);
}

/* --seed / --seed-name override any seed of the spec */
static mr_status apply_seed(const struct mask_opts *o, struct mr_mask_spec *spec)
{
    if (o->seed != NULL) {
        char *end = NULL;
        unsigned long long s = strtoull(o->seed, &end, 10);
        if (end == o->seed || *end != '\0' || o->seed[0] == '-' || s > 4294967295ull)
            return MR_FAIL(MR_ERR_ARG, "--seed '%s' must be an integer in [0, 2^32)", o->seed);
        spec->has_seed = true;
        spec->seed = (uint32_t)s;
        spec->seed_name[0] = '\0';
    } else if (o->seed_name != NULL) {
        if (strlen(o->seed_name) == 0 || strlen(o->seed_name) >= sizeof(spec->seed_name))
            return MR_FAIL(MR_ERR_ARG, "--seed-name needs a name of 1 to 255 bytes");
        spec->has_seed = false;
        snprintf(spec->seed_name, sizeof(spec->seed_name), "%s", o->seed_name);
    }
    return MR_OK;
}

static void print_stats(const struct mr_mask_spec *spec, const struct mr_mask_result *r,
                        const struct mr_mask_stats *s, int64_t h, int64_t w, const char *path)
{
    printf("mask         %s, %lld x %lld%s -> %s\n", mr_mask_kind_name(spec->kind),
           (long long)h, (long long)w, s->columns ? " (column mask)" : "", path);
    if (r->accel > 0.0)
        printf("requested    acceleration %g", r->accel);
    if (r->accel > 0.0 && r->center > 0.0)
        printf(", centre %g", r->center);
    if (r->accel > 0.0)
        printf("\n");
    printf("sampled      %lld of %lld (%.2f %%)\n", (long long)s->sampled, (long long)s->total,
           100.0 * s->fraction);
    printf("acceleration %.3f\n", s->accel);
    if (s->columns)
        printf("centre       %lld columns fully sampled\n", (long long)s->center_cols);
    else
        printf("centre       %lld x %lld fully sampled\n", (long long)s->center_h,
               (long long)s->center_w);
    if (spec->kind == MR_MASK_KIND_BART_POISSON)
        printf("points       %lld (BART's count)\n", (long long)r->points);
    printf("psf          peak side lobe %.4f, incoherence %.4f\n", s->psf_peak_sidelobe,
           s->psf_incoherence);
}

static mr_status run(const struct mask_opts *o)
{
    mr_status st = MR_OK;
    struct mr_mask_spec spec;
    struct mr_mask_result res;
    struct mr_mask_stats stats;
    struct mr_array mask = { 0 };
    struct mr_array column = { 0 };

    MR_CHECK(build_spec(o, &spec));
    MR_CHECK(mr_mask_spec_generate(&spec, o->h, o->w, NULL, &mask, &column, &res));
    const bool one_d = column.data != NULL;
    MR_CHECK(mr_mask_stats_compute(one_d ? &column : &mask, &stats));
    MR_CHECK(mr_make_parent_dirs(o->output));
    if (ends_with(o->output, ".npy")) {
        MR_CHECK(mr_npy_write(o->output, one_d ? &column : &mask, MR_NPY_TYPE_U8));
    } else {
        struct mr_png_config pc = mr_png_config_default;
        pc.lo = 0.0f;
        pc.hi = 1.0f;
        MR_CHECK(mr_png_write_gray(o->output, &mask, &pc));
    }
    if (!o->quiet)
        print_stats(&spec, &res, &stats, o->h, o->w, o->output);
out:
    mr_array_cleanup(&mask);
    mr_array_cleanup(&column);
    return st;
}

int mr_main_mask(int argc, char *argv[])
{
    struct mask_opts o = { 0 };
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' },
        { "shape", required_argument, NULL, 's' },
        { "accel", required_argument, NULL, 'a' },
        { "center-fraction", required_argument, NULL, 'c' },
        { "seed", required_argument, NULL, 'S' },
        { "seed-name", required_argument, NULL, 'N' },
        { "output", required_argument, NULL, 'o' },
        { "spec", required_argument, NULL, 'P' },
        { "offset", required_argument, NULL, 1000 },
        { "any", no_argument, NULL, 1001 },
        { "scale", required_argument, NULL, 1002 },
        { "tol", required_argument, NULL, 1003 },
        { "accel-y", required_argument, NULL, 1004 },
        { "accel-z", required_argument, NULL, 1005 },
        { "calib", required_argument, NULL, 1006 },
        { "vd", required_argument, NULL, 1007 },
        { "ellipse", no_argument, NULL, 1008 },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static const char *const keys[] = { "offset", "any", "scale", "tol", "accel_y",
                                        "accel_z", "calib", "vd", "ellipse" };
    bool have_shape = false;
    int c;

    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "t:s:a:c:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 't': o.type = optarg; break;
        case 's':
            if (!parse_shape(optarg, &o.h, &o.w)) {
                fprintf(stderr, "mrirecon mask: --shape needs HxW with positive integers, not "
                        "'%s'\n", optarg);
                return 2;
            }
            have_shape = true;
            break;
        case 'a': o.accel = optarg; break;
        case 'c': o.center = optarg; break;
        case 'S': o.seed = optarg; break;
        case 'N': o.seed_name = optarg; break;
        case 'o': o.output = optarg; break;
        case 'P': o.spec = optarg; break;
        case 'q': o.quiet = true; break;
        case 'h': fputs(help, stdout); return 0;
        case 1000: case 1001: case 1002: case 1003: case 1004: case 1005: case 1006: case 1007:
        case 1008: {
            const char *val = (c == 1001 || c == 1008) ? "1" : optarg;
            if (o.nextra == 8 || strlen(val) > 64) {
                fprintf(stderr, "mrirecon mask: too many or too long type options\n");
                return 2;
            }
            snprintf(o.extra[o.nextra], sizeof(o.extra[0]), "%s=%s", keys[c - 1000], val);
            o.nextra++;
            break;
        }
        default: return mr_cli_unknown_option("mask", argv[optind - 1], help);
        }
    }
    if (argc != optind || !have_shape || o.output == NULL ||
        (o.type == NULL) == (o.spec == NULL)) {
        fprintf(stderr, "mrirecon mask: needs --shape, -o and either --type or --spec\n");
        fputs(help, stderr);
        return 2;
    }
    struct mr_mask_spec probe;
    if (o.type != NULL && (strchr(o.type, ':') != NULL ||
                           mr_mask_spec_parse(o.type, &probe) != MR_OK)) {
        fprintf(stderr, "mrirecon mask: unknown --type '%s'\n", o.type);
        fputs(help, stderr);
        return 2;
    }
    if (o.type != NULL && o.accel == NULL && strncmp(o.type, "bart-", 5) != 0) {
        fprintf(stderr, "mrirecon mask: --type %s needs --accel\n", o.type);
        return 2;
    }
    if (!ends_with(o.output, ".npy") && !ends_with(o.output, ".png")) {
        fprintf(stderr, "mrirecon mask: output '%s' must end in .npy or .png\n", o.output);
        return 2;
    }
    if (o.seed != NULL && o.seed_name != NULL) {
        fprintf(stderr, "mrirecon mask: give --seed or --seed-name, not both\n");
        return 2;
    }
    if (run(&o) != MR_OK) {
        fprintf(stderr, "mrirecon mask: %s\n", mr_last_error());
        return 1;
    }
    return 0;
}
