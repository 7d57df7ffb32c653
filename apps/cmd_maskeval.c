/*
 * mrirecon maskeval: which mask, at which acceleration, with which reconstruction, gives the
 * best images over a dataset? Options in, one call to mr_maskeval_run (runs/maskeval.h), the
 * error out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_settings.h"
#include "runs/maskeval.h"

int mr_main_maskeval(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon maskeval --data DIR|FILE [--data ...] --mask SPEC|FILE.npy [--mask ...]\n"
    "                         --method M [--method ...] -o OUTDIR [options] [FILE ...]\n"
    "Evaluate sampling masks on fully sampled multi-coil data: for every file x slice x mask x\n"
    "method, undersample, reconstruct, and score against the fully sampled RSS (fastMRI NMSE,\n"
    "PSNR, SSIM per slice, cropped as fastMRI's evaluate.py).\n"
    "\n"
    "  -d, --data PATH      a fully sampled fastMRI-layout file, or a folder of them (*.h5);\n"
    "                       repeatable; extra arguments are inputs too\n"
    "  -m, --mask M         a mask spec (e.g. 'equispaced:accel=4,center=0.08', see\n"
    "                       'mrirecon mask --help'; seeded per file from its name unless the\n"
    "                       spec has seed=) or a .npy mask (length W or H x W); repeatable\n"
    "  -M, --method M       zf | sense | cg | cs, with options as cs:iters=50,lambda=0.005;\n"
    "                       WEIGHTS.h5 (a network; an LPN file runs PnP-LPN, also as\n"
    "                       pnp-lpn:WEIGHTS.h5);\n"
    "                       repeatable\n"
    "  -o, --output DIR     output folder: results.csv, summary.json, report.html, masks/,\n"
    "                       gallery/\n"
    "  -s, --slices A:B     slices A..B-1 of every volume (clamped), or 'mid' for the middle\n"
    "                       slice only (default: all)\n"
    "  -j, --jobs N         threads over slices (default: OpenMP's default)\n"
    "  -g, --gallery N      volumes whose middle slice is shown in the gallery (default 3)\n"
    "      --espirit-crop C ESPIRiT eigenvalue crop in [0, 1) for sense/cg/cs maps (default 0)\n"
    "  -q, --quiet          no progress bar\n"
    "  -h, --help           this text\n"
    "\n"
    "Failures of single rows (a mask that does not fit, a slice that cannot be read or\n"
    "reconstructed) are written to results.csv with their error and the run goes on. A rerun\n"
    "into the same folder skips rows already computed (status ok) and retries failed ones.\n"
    "Exit: 0 ok (also with failed rows; see the summary line), 1 failure, 2 usage.\n";

static bool parse_slices(const char *s, int64_t *a, int64_t *b, bool *mid)
{
    if (strcmp(s, "mid") == 0) {
        *mid = true;
        return true;
    }
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
    *mid = false;
    return true;
}

int mr_main_maskeval(int argc, char *argv[])
{
    struct mr_maskeval_config cfg = mr_maskeval_config_default;
    struct mr_maskeval_counts counts = { 0 };
    static const struct option opts[] = {
        { "data", required_argument, NULL, 'd' },
        { "mask", required_argument, NULL, 'm' },
        { "method", required_argument, NULL, 'M' },
        { "output", required_argument, NULL, 'o' },
        { "slices", required_argument, NULL, 's' },
        { "jobs", required_argument, NULL, 'j' },
        { "gallery", required_argument, NULL, 'g' },
        { "espirit-crop", required_argument, NULL, 'E' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char **inputs = calloc((size_t)argc + 1, sizeof(*inputs));
    const char **specs = calloc((size_t)argc + 1, sizeof(*specs));
    const char *crop = NULL;
    struct mr_maskeval_mask *masks = calloc((size_t)argc + 1, sizeof(*masks));
    struct mr_maskeval_method *methods = calloc((size_t)argc + 1, sizeof(*methods));
    int ret = 2;
    int c;
    char *end = NULL;

    if (inputs == NULL || specs == NULL || masks == NULL || methods == NULL) {
        fprintf(stderr, "mrirecon maskeval: out of memory\n");
        ret = 1;
        goto out;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:m:M:o:s:j:g:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': inputs[cfg.ninputs++] = optarg; break;
        case 'm':
            if (mr_maskeval_mask_parse(optarg, &masks[cfg.nmasks]) != MR_OK) {
                fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
                goto out;
            }
            cfg.nmasks++;
            break;
        case 'M': specs[cfg.nmethods++] = optarg; break;
        case 'o': cfg.outdir = optarg; break;
        case 's':
            if (!parse_slices(optarg, &cfg.slice0, &cfg.slice1, &cfg.middle_slice)) {
                fprintf(stderr, "mrirecon maskeval: --slices needs A:B with 0 <= A < B, or "
                        "mid\n");
                goto out;
            }
            break;
        case 'j':
            cfg.jobs = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || cfg.jobs < 1 || cfg.jobs > 4096) {
                fprintf(stderr, "mrirecon maskeval: --jobs needs a positive integer\n");
                goto out;
            }
            break;
        case 'g':
            cfg.gallery = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || cfg.gallery < 0 || cfg.gallery > 1000) {
                fprintf(stderr, "mrirecon maskeval: --gallery needs an integer >= 0\n");
                goto out;
            }
            break;
        case 'E': crop = optarg; break;
        case 'q': cfg.quiet = true; break;
        case 'h':
            fputs(help, stdout);
            ret = 0;
            goto out;
        default:
            fprintf(stderr, "mrirecon maskeval: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            fputs(help, stderr);
            goto out;
        }
    }
    for (int i = optind; i < argc; i++)
        inputs[cfg.ninputs++] = argv[i];
    if (cfg.ninputs == 0 || cfg.nmasks == 0 || cfg.nmethods == 0 || cfg.outdir == NULL) {
        fprintf(stderr, "mrirecon maskeval: needs --data, --mask, --method and -o\n");
        fputs(help, stderr);
        goto out;
    }
    for (int j = 0; j < cfg.nmethods; j++) { /* after the options: --espirit-crop for all */
        if (mr_maskeval_method_parse(specs[j], &methods[j]) != MR_OK ||
            (crop != NULL &&
             mr_method_config_set(&methods[j].cfg, "espirit_crop", crop) != MR_OK)) {
            fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
            goto out;
        }
    }
    cfg.inputs = inputs;
    cfg.masks = masks;
    cfg.methods = methods;
    const struct mr_cli_plan plan = { NULL, NULL }; /* the environment's settings, MR_WISDOM */
    if (!mr_cli_settings_begin("maskeval", &plan))
        goto out;
    if (mr_maskeval_run(&cfg, &counts) != MR_OK) {
        fprintf(stderr, "mrirecon maskeval: %s\n", mr_last_error());
        ret = 1;
        goto out;
    }
    if (!cfg.quiet)
        fprintf(stderr, "mrirecon maskeval: %lld rows (%lld computed, %lld already done, %lld "
                "failed) in '%s/report.html'\n", (long long)counts.rows,
                (long long)counts.computed, (long long)counts.skipped,
                (long long)counts.failed, cfg.outdir);
    ret = 0;
out:
    free(inputs);
    free(specs);
    free(masks);
    free(methods);
    return ret;
}
