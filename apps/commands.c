/* The subcommand table and the top-level usage of mrirecon. */
#include "apps/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli_settings.h"
#include "recon/settings.h"
#include "recon/array.h"
#include "runs/tasks.h"

int mr_main_info(int argc, char *argv[]);
int mr_main_recon(int argc, char *argv[]);
int mr_main_apply(int argc, char *argv[]);
int mr_main_stage(int argc, char *argv[]);
int mr_main_mask(int argc, char *argv[]);
int mr_main_metrics(int argc, char *argv[]);
int mr_main_maskeval(int argc, char *argv[]);
int mr_main_batch(int argc, char *argv[]);
int mr_main_to_stream(int argc, char *argv[]);
int mr_main_from_stream(int argc, char *argv[]);
int mr_main_calibrate(int argc, char *argv[]);

const struct mr_command mr_commands[] = {
    { "info", "describe what a fastMRI / ISMRMRD / weight file holds", mr_main_info },
    { "recon", "reconstruct every slice of a file (zf, sense, cg, cs, model)", mr_main_recon },
    { "apply", "run a network's forward pass on inputs in the golden layout", mr_main_apply },
    { "mask", "write an undersampling mask (.npy/.png) and print its statistics", mr_main_mask },
    { "metrics", "NMSE/PSNR/SSIM of reconstructions (fastMRI or ATOMMIC), as JSON",
      mr_main_metrics },
    { "maskeval", "evaluate masks x methods over a dataset: CSV, JSON, HTML report",
      mr_main_maskeval },
    { "batch", "reconstruct every file of a folder or list (resumable; shards, MPI)",
      mr_main_batch },
    { "calibrate", "fit a network's trust reference on in-distribution data, store it",
      mr_main_calibrate },
    { "stage", "reconstruct an MRD stream (stdin/stdout, or TCP with --listen)", mr_main_stage },
    { "to-stream", "write an ISMRMRD file as an MRD stream on stdout", mr_main_to_stream },
    { "from-stream", "write an MRD stream from stdin as an ISMRMRD file", mr_main_from_stream },
    { NULL, NULL, NULL },
};

static void usage(FILE *f)
{
    fputs("usage: mrirecon COMMAND [options] ...\n"
          "Learned and classical MRI reconstruction from multi-coil k-space.\n\n"
          "commands:\n",
          f);
    for (const struct mr_command *c = mr_commands; c->name != NULL; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fputs("\nRun 'mrirecon COMMAND --help' for the options of a command, 'mrirecon --version'\n"
          "for the version. Exit codes: 0 success, 1 failure, 2 usage error.\n",
          f);
}

void mr_cli_getopt_begin(void)
{
    optind = 1;
    opterr = 0;
}

int mr_cli_unknown_option(const char *cmd, const char *opt, const char *help)
{
    fprintf(stderr, "mrirecon %s: unknown or incomplete option '%s'\n", cmd, opt);
    fputs(help, stderr);
    return 2;
}

bool mr_cli_max_memory(const char *cmd, const char *size)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(size, &end);
    double unit = 1024.0 * 1024.0;
    if (end != size && *end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 'K': case 'k': unit = 1024.0; end++; break;
        case 'M': case 'm': unit = 1024.0 * 1024.0; end++; break;
        case 'G': case 'g': unit = 1024.0 * 1024.0 * 1024.0; end++; break;
        case 'T': case 't': unit = 1024.0 * 1024.0 * 1024.0 * 1024.0; end++; break;
        }
    }
    const double bytes = v * unit;
    if (end == size || *end != '\0' || errno != 0 || !(bytes >= 1024.0 * 1024.0) ||
        bytes > 9.0e18) {
        fprintf(stderr, "mrirecon %s: --max-memory needs a size of at least 1 MiB, e.g. 4096 "
                "(MiB) or 8G, not '%s'\n", cmd, size);
        return false;
    }
    mr_memory_limit_set((uint64_t)bytes);
    return true;
}

/* A command whose output on stdout did not reach it (a full disk, /dev/full, a closed pipe)
 * has failed, whatever it returned: flush now and say so. */
static int stdout_checked(const char *name, int rc)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "mrirecon %s: cannot write to standard output: %s\n", name,
                errno != 0 ? strerror(errno) : "write error");
        return rc == 0 ? 1 : rc;
    }
    return rc;
}

int mr_main(int argc, char *argv[])
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("mrirecon " MR_VERSION);
        return 0;
    }
    for (const struct mr_command *c = mr_commands; c->name != NULL; c++)
        if (strcmp(c->name, argv[1]) == 0) {
            if (!mr_cli_settings_env(c->name)) /* recon, apply, stage: again, with --plan */
                return 2;
            return stdout_checked(c->name, c->main(argc - 1, argv + 1));
        }
    fprintf(stderr, "mrirecon: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

int mr_cli_mpi_setup(const char *cmd, bool want, bool sharded, bool *use)
{
    const bool launched = getenv("OMPI_COMM_WORLD_SIZE") != NULL ||
                          getenv("PMI_SIZE") != NULL || getenv("PMIX_RANK") != NULL;
    *use = false;
    if (!want && !launched)
        return 0;
    if (!mr_mpi_built()) {
        fprintf(stderr, "mrirecon %s: %s, but this mrirecon was built without MPI (cmake "
                "-DMR_MPI=ON)%s\n", cmd, want ? "--mpi asked for MPI" :
                "started by an MPI launcher", want ? "" : ": every process would do every "
                "task; use --shard I/N or an MPI build");
        return 2;
    }
    if (sharded) {
        fprintf(stderr, "mrirecon %s: --shard and MPI do not combine\n", cmd);
        return 2;
    }
    if (getenv("MR_FFT_PLANNER") == NULL) { /* every rank plans alike unless told otherwise */
        struct mr_settings set = *mr_settings_get();
        set.fft_planner = MR_FFT_PLANNER_ESTIMATE;
        mr_settings_set(&set);
    }
    if (mr_mpi_init(NULL, NULL) != MR_OK) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return 1;
    }
    *use = true;
    return 0;
}

bool mr_cli_schedule(const char *cmd, const char *s, bool *dynamic)
{
    if (strcmp(s, "dynamic") != 0 && strcmp(s, "static") != 0) {
        fprintf(stderr, "mrirecon %s: --schedule is dynamic or static, not '%s'\n", cmd, s);
        return false;
    }
    *dynamic = strcmp(s, "dynamic") == 0;
    return true;
}
