/*
 * mrirecon calibrate: fit a network's trust reference (pipeline/trust.h) on in-distribution
 * data and store it in its weight file (runs/calibrate.h), so that `recon --report`, the stage
 * and maskeval score and flag its reconstructions.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "apps/commands.h"
#include "runs/calibrate.h"

int mr_main_calibrate(int argc, char *argv[]);

#define MAX_MASKS 16

static const char help[] =
    "usage: mrirecon calibrate --weights W.h5 [options] DATA...\n"
    "\n"
    "Reconstructs every slice of DATA (fastMRI / ISMRMRD files, or folders: every *.h5, sorted)\n"
    "with the network W.h5 as `recon --method model` would, fits the trust reference (mean and\n"
    "spread of the log data-consistency residual and of the log unsampled k-space energy, and\n"
    "the flag threshold) and stores it as W.h5's 'trust_reference' attribute (the file is\n"
    "replaced atomically; everything else in it is kept). Use data the network will really see:\n"
    "in-distribution scans, undersampled as in use (their own mask, or --mask).\n"
    "\n"
    "  -w, --weights W.h5   the network's weight file (updated unless --dry-run)\n"
    "      --method M       model (default) or pnp-lpn\n"
    "      --mask FILE.npy  undersample retrospectively (fastMRI files), as recon --mask;\n"
    "                       repeat it (up to 16) to calibrate on every mask kind and\n"
    "                       acceleration the network is meant for (each input with each)\n"
    "      --maps SRC       espirit (default), acs or file, as recon --maps\n"
    "      --dry-run        print the reference, do not store it\n"
    "  -q, --quiet          no progress on stderr\n"
    MR_CLI_MAX_MEMORY_HELP
    "  -h, --help           this text\n"
    "\n"
    "Prints the reference as JSON on stdout. Exit: 0 ok, 1 failure, 2 usage.\n";

static void progress(void *arg, const char *file, int64_t done, int64_t total, int64_t slices)
{
    (void)arg;
    fprintf(stderr, "mrirecon calibrate: %lld/%lld %s (%lld slices)\n", (long long)done,
            (long long)total, file, (long long)slices);
}

int mr_main_calibrate(int argc, char *argv[])
{
    static const struct option opts[] = {
        { "weights", required_argument, NULL, 'w' },
        { "method", required_argument, NULL, 'm' },
        { "mask", required_argument, NULL, 'k' },
        { "maps", required_argument, NULL, 'M' },
        { "dry-run", no_argument, NULL, 'n' },
        { "quiet", no_argument, NULL, 'q' },
        MR_CLI_MAX_MEMORY_OPTION,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct mr_calibrate_config cfg = { 0 };
    struct mr_trust_reference ref;
    const char *weights = NULL;
    const char *method = "model";
    bool dry_run = false;
    bool quiet = false;
    const char *masks[MAX_MASKS];
    int nmasks = 0;
    int c;

    mr_volume_config_init(&cfg.volume);
    mr_cli_getopt_begin();
    while ((c = getopt_long(argc, argv, "w:m:qh", opts, NULL)) != -1) {
        mr_status st = MR_OK;
        switch (c) {
        case 'w': weights = optarg; break;
        case 'm': method = optarg; break;
        case 'k':
            if (nmasks == MAX_MASKS) {
                fprintf(stderr, "mrirecon calibrate: at most %d --mask options\n", MAX_MASKS);
                return 2;
            }
            masks[nmasks++] = optarg;
            break;
        case 'M': st = mr_method_config_set(&cfg.volume.method, "maps", optarg); break;
        case 'n': dry_run = true; break;
        case 'q': quiet = true; break;
        case MR_CLI_OPT_MAX_MEMORY:
            if (!mr_cli_max_memory("calibrate", optarg))
                return 2;
            break;
        case 'h': fputs(help, stdout); return 0;
        default: return mr_cli_unknown_option("calibrate", argv[optind - 1], help);
        }
        if (st != MR_OK) {
            fprintf(stderr, "mrirecon calibrate: %s\n", mr_last_error());
            return 2;
        }
    }
    if (weights == NULL || optind >= argc) {
        fprintf(stderr, "mrirecon calibrate: needs --weights W.h5 and DATA\n%s", help);
        return 2;
    }
    if (mr_method_config_set(&cfg.volume.method, "method", method) != MR_OK ||
        mr_method_config_set(&cfg.volume.method, "weights", weights) != MR_OK ||
        mr_method_config_set(&cfg.volume.method, "method", method) != MR_OK) {
        fprintf(stderr, "mrirecon calibrate: %s\n", mr_last_error());
        return 2;
    }
    cfg.masks = masks;
    cfg.nmasks = nmasks;
    cfg.inputs = (const char *const *)(argv + optind);
    cfg.ninputs = argc - optind;
    if (!quiet)
        cfg.progress = progress;
    if (mr_calibrate_run(&cfg, &ref) != MR_OK ||
        (!dry_run && mr_trust_reference_store(weights, &ref) != MR_OK)) {
        fprintf(stderr, "mrirecon calibrate: %s\n", mr_last_error());
        return 1;
    }
    char *text = mr_trust_reference_json(&ref);
    if (text == NULL) {
        fprintf(stderr, "mrirecon calibrate: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "mrirecon calibrate: cannot write to standard output\n");
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "mrirecon calibrate: %s '%s' (%lld slices, threshold %.2f)\n",
                dry_run ? "fitted, not stored in" : "stored the trust reference in", weights,
                (long long)ref.slices, ref.threshold);
    return 0;
}
