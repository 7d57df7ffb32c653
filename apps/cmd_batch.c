/*
 * mrirecon batch: reconstruct every file of a folder or list (runs/batch.h), serially, as one
 * shard of several processes, or over MPI ranks (runs/tasks.h). This file parses the options,
 * decides whether MPI is used (launched by mpirun / srun, or --mpi) and calls runs/.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_common.h"
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

/* The canonical text of the options that change the images (batch.options). */
static void options_text(char *buf, size_t len, const struct mr_cli_volume *v)
{
    const struct mr_volume_config *cfg = v->cfg;
    const char *iters = v->iters;
    const char *lambda = v->lambda;
    const char *crop = v->espirit_crop;
    snprintf(buf, len,
             "method=%s weights=%s maps=%s mask=%s iters=%s lambda=%s espirit_crop=%s "
             "slices=%lld:%lld crop=%s format=%s",
             cfg->method.name, cfg->method.weights[0] != '\0' ? cfg->method.weights : "-",
             mr_maps_source_name(cfg->method.maps),
             cfg->mask_path != NULL ? cfg->mask_path : "-", iters != NULL ? iters : "default",
             lambda != NULL ? lambda : "default", crop != NULL ? crop : "default",
             (long long)cfg->slice0, (long long)cfg->slice1, cfg->crop ? "on" : "off", v->format);
}

int mr_main_batch(int argc, char *argv[])
{
    static const struct option opts[] = {
        MR_CLI_VOLUME_OPTIONS,
        { "shard", required_argument, NULL, 's' },
        { "mpi", no_argument, NULL, 'P' },
        { "schedule", required_argument, NULL, 'D' },
        { "quiet", no_argument, NULL, 'q' },
        MR_CLI_MAX_MEMORY_OPTION,
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct mr_batch_config bc = { .tasks = mr_tasks_config_default };
    struct mr_volume_config *cfg = &bc.volume;
    struct mr_cli_volume v = { .cfg = cfg, .format = "h5" };
    bool want_mpi = false;
    int c;

    mr_volume_config_init(cfg);
    cfg->format = MR_OUTPUT_H5;
    mr_cli_getopt_begin();
    while ((c = mr_cli_volume_getopt("batch", argc, argv, opts, &v)) != -1) {
        mr_status st = MR_OK;
        switch (c) {
        case MR_CLI_VOLUME_USAGE: return 2;
        case 's':
            st = mr_tasks_parse_shard(optarg, &bc.tasks.shard_index, &bc.tasks.shard_count);
            break;
        case 'P': want_mpi = true; break;
        case 'D':
            if (!mr_cli_schedule("batch", optarg, &bc.tasks.dynamic))
                return 2;
            break;
        case 'q': bc.quiet = true; break;
        case MR_CLI_OPT_MAX_MEMORY:
            if (!mr_cli_max_memory("batch", optarg))
                return 2;
            break;
        case 'h': fputs(help, stdout); return 0;
        default: return mr_cli_unknown_option("batch", argv[optind - 1], help);
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
    if (!mr_cli_volume_finish("batch", &v))
        return 2;
    char text[8192];
    options_text(text, sizeof(text), &v);
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
