/*
 * mrirecon batch: reconstruct every file of a folder or list (runs/batch.h), serially, as one
 * shard of several processes, or over MPI ranks (runs/tasks.h). This file parses the options,
 * decides whether MPI is used (launched by mpirun / srun, or --mpi) and calls runs/.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "pipeline/output.h"
#include "pipeline/volume.h"
#include "runs/batch.h"

int mr_main_batch(int argc, char *argv[]);

static const char help[] =
    "usage: mrirecon batch [options] IN_DIR_OR_LIST OUT_DIR\n"
    "Reconstruct every .h5 file below IN_DIR (fastMRI or ISMRMRD raw data, as `mrirecon recon`)\n"
    "or every file listed in a text file (one per line, relative to the list's folder), one\n"
    "output per input at the same relative path under OUT_DIR with the format's extension.\n"
    "\n"
    "reconstruction (as `mrirecon recon`):\n"
    "  -m, --method M       zf, sense, cg, cs (default), model, pnp-lpn, ...\n"
    "  -w, --weights W.h5   network weight file (alone it implies model)\n"
    "      --maps SRC       espirit (default), acs, file\n"
    "      --mask FILE.npy  retrospective undersampling mask (fastMRI files)\n"
    "  -i, --iters N        iterations of cg / cs / pnp-lpn\n"
    "  -l, --lambda L       regularisation weight of cg / cs\n"
    "      --espirit-crop C ESPIRiT eigenvalue crop in [0,1)\n"
    "      --slices A:B     slices A..B-1 of each fastMRI file\n"
    "      --no-crop        keep the full image\n"
    "      --format F       h5 (default), png, nii or dicom (a series folder per input)\n"
    "\n"
    "scheduling:\n"
    "      --shard I/N      do only tasks t with t mod N == I (independent processes sharing\n"
    "                       OUT_DIR: Slurm job arrays, GNU parallel)\n"
    "      --mpi            use MPI even when not started by mpirun/srun (builds with\n"
    "                       -DMR_MPI=ON; under a launcher MPI is used automatically)\n"
    "      --schedule S     MPI: dynamic (default: next task to the first free rank) or static\n"
    "                       (task t to rank t mod P; for comparison)\n"
    "  -q, --quiet          no progress on stderr\n"
    MR_CLI_MAX_MEMORY_HELP
    "  -h, --help           this text\n"
    "\n"
    "OUT_DIR keeps batch.jsonl (one line per computed task: file, slices, status, error,\n"
    "seconds), batch.summary.json, and batch.options: a rerun skips the outputs that exist and\n"
    "retries failed ones, and is refused when its reconstruction options differ. OUT_DIR may\n"
    "not be IN_DIR or inside it. Exit: 0 all tasks ok, 1 a task or the run failed, 2 usage.\n";

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

/* The canonical text of the options that change the images (batch.options). */
static void options_text(char *buf, size_t len, const struct mr_volume_config *cfg,
                         const char *iters, const char *lambda, const char *crop,
                         const char *format)
{
    snprintf(buf, len,
             "method=%s weights=%s maps=%s mask=%s iters=%s lambda=%s espirit_crop=%s "
             "slices=%lld:%lld crop=%s format=%s",
             cfg->method.name, cfg->method.weights[0] != '\0' ? cfg->method.weights : "-",
             mr_maps_source_name(cfg->method.maps),
             cfg->mask_path != NULL ? cfg->mask_path : "-", iters != NULL ? iters : "default",
             lambda != NULL ? lambda : "default", crop != NULL ? crop : "default",
             (long long)cfg->slice0, (long long)cfg->slice1, cfg->crop ? "on" : "off", format);
}

int mr_main_batch(int argc, char *argv[])
{
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
        { "format", required_argument, NULL, 'F' },
        { "shard", required_argument, NULL, 's' },
        { "mpi", no_argument, NULL, 'P' },
        { "schedule", required_argument, NULL, 'D' },
        { "quiet", no_argument, NULL, 'q' },
        { "max-memory", required_argument, NULL, 0x100 },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct mr_batch_config bc = { .tasks = mr_tasks_config_default };
    struct mr_volume_config *cfg = &bc.volume;
    const char *method = NULL;
    const char *weights = NULL;
    const char *iters = NULL;
    const char *lambda = NULL;
    const char *ecrop = NULL;
    const char *format = "h5";
    bool want_mpi = false;
    int c;

    mr_volume_config_init(cfg);
    cfg->format = MR_OUTPUT_H5;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:w:i:l:qh", opts, NULL)) != -1) {
        mr_status st = MR_OK;
        switch (c) {
        case 'm': method = optarg; break;
        case 'w': weights = optarg; break;
        case 'M': st = mr_method_config_set(&cfg->method, "maps", optarg); break;
        case 'k': cfg->mask_path = optarg; break;
        case 'i':
            iters = optarg;
            st = mr_method_config_set(&cfg->method, "iterations", optarg);
            break;
        case 'l':
            lambda = optarg;
            st = mr_method_config_set(&cfg->method, "lambda", optarg);
            break;
        case 'E':
            ecrop = optarg;
            st = mr_method_config_set(&cfg->method, "espirit_crop", optarg);
            break;
        case 'S':
            if (!parse_slices(optarg, &cfg->slice0, &cfg->slice1)) {
                fprintf(stderr, "mrirecon batch: --slices needs A:B with 0 <= A < B\n");
                return 2;
            }
            break;
        case 'C': cfg->crop = false; break;
        case 'F':
            format = optarg;
            st = mr_output_format_parse(optarg, &cfg->format);
            break;
        case 's':
            st = mr_tasks_parse_shard(optarg, &bc.tasks.shard_index, &bc.tasks.shard_count);
            break;
        case 'P': want_mpi = true; break;
        case 'D':
            if (!mr_cli_schedule("batch", optarg, &bc.tasks.dynamic))
                return 2;
            break;
        case 'q': bc.quiet = true; break;
        case 0x100:
            if (!mr_cli_max_memory("batch", optarg))
                return 2;
            break;
        case 'h': fputs(help, stdout); return 0;
        default:
            fprintf(stderr, "mrirecon batch: unknown or incomplete option '%s'\n",
                    argv[optind - 1]);
            fputs(help, stderr);
            return 2;
        }
        if (st != MR_OK) {
            fprintf(stderr, "mrirecon batch: %s\n", mr_last_error());
            return 2;
        }
    }
    if (argc - optind != 2) {
        fputs(help, stderr);
        return 2;
    }
    if ((method != NULL && mr_method_config_set(&cfg->method, "method", method) != MR_OK) ||
        (weights != NULL && mr_method_config_set(&cfg->method, "weights", weights) != MR_OK)) {
        fprintf(stderr, "mrirecon batch: %s\n", mr_last_error());
        return 2;
    }
    const struct mr_method_ops *ops = mr_method_lookup(cfg->method.name);
    if (ops->takes_weights && weights == NULL) {
        fprintf(stderr, "mrirecon batch: --method %s needs --weights\n", cfg->method.name);
        return 2;
    }
    if (method != NULL && weights != NULL && !mr_method_lookup(method)->takes_weights) {
        fprintf(stderr, "mrirecon batch: --method %s takes no --weights\n", method);
        return 2;
    }
    char text[8192];
    options_text(text, sizeof(text), cfg, iters, lambda, ecrop, format);
    bc.options = text;
    bc.input = argv[optind];
    bc.outdir = argv[optind + 1];

    int rc = mr_cli_mpi_setup("batch", want_mpi, bc.tasks.shard_count > 1, &bc.tasks.mpi);
    if (rc != 0)
        return rc;

    struct mr_batch_counts n = { 0 };
    mr_status st = mr_batch_run(&bc, &n);
    int rank = mr_mpi_rank();
    int code = 0;
    if (st != MR_OK) {
        fprintf(stderr, "mrirecon batch: %s\n", mr_last_error());
        code = st == MR_ERR_ARG ? 2 : 1;
        if (mr_mpi_size() > 1)
            mr_mpi_abort(code); /* a rank that fails ends the job; a rerun resumes */
    } else {
        if (rank == 0 && !bc.quiet)
            fprintf(stderr, "mrirecon batch: %lld tasks: %lld ok, %lld failed, %lld skipped "
                    "(output there) -> '%s'\n", (long long)n.tasks, (long long)n.ok,
                    (long long)n.failed, (long long)n.skipped, bc.outdir);
        if (n.failed > 0)
            code = 1;
    }
    mr_mpi_finalize();
    return code;
}
