/*
 * The subcommands of the mrirecon program. Each is `int mr_main_<name>(argc, argv)` with
 * argv[0] the subcommand name, returning the process exit code: 0 ok, 1 failure, 2 usage.
 * They live in the mr_apps library so tests call them in-process.
 */
#ifndef MR_APPS_COMMANDS_H
#define MR_APPS_COMMANDS_H

#include <stdbool.h>

struct mr_command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char *argv[]);
};

/* NULL-terminated table of subcommands (apps/commands.c). */
extern const struct mr_command mr_commands[];

/* Dispatches argv[1] to its subcommand; prints the overview for --help or no arguments. */
int mr_main(int argc, char *argv[]);

/* Before a command's getopt_long loop: rescans argv from its first option (commands run
 * in-process, several per process in the tests) and leaves unknown options to the command's
 * own message (opterr = 0). */
void mr_cli_getopt_begin(void);

/* The --max-memory option of the commands that read files: SIZE in MiB, or with a suffix K, M,
 * G or T (binary units), sets the limit on allocations driven by file contents
 * (recon/array.h mr_memory_limit_set; default: half the physical memory). Returns false (after
 * printing "mrirecon CMD: ..." on stderr) when SIZE does not parse. */
bool mr_cli_max_memory(const char *cmd, const char *size);

/* MPI for batch and maskeval (runs/tasks.h): used when want (--mpi) or when the process was
 * started by an MPI launcher (Open MPI's mpirun, MPICH/Hydra, Slurm's srun with PMI/PMIx:
 * OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment) in a -DMR_MPI=ON build; then
 * MR_FFT_PLANNER=estimate unless set (every rank plans its FFTs identically, recon/fft.h) and
 * MPI_Init_thread. *use says whether MPI is on. Returns 0, or the exit code after printing
 * "mrirecon CMD: ..." (--mpi with --shard or without MPI support: 2; under a launcher without
 * MPI support: 2, since every process would do every task; MPI failing to start: 1). */
int mr_cli_mpi_setup(const char *cmd, bool want, bool sharded, bool *use);

/* getopt_long's answer to an unknown option or one without its value (opt: argv[optind - 1]):
 * prints "mrirecon CMD: unknown or incomplete option 'OPT'" and help on stderr; returns 2, the
 * usage exit code. */
int mr_cli_unknown_option(const char *cmd, const char *opt, const char *help);

/* --schedule dynamic|static into *dynamic; false (after a message) for anything else. */
bool mr_cli_schedule(const char *cmd, const char *s, bool *dynamic);

/* Its getopt_long entry and code (a command's own long-only codes start at 0x101). */
#define MR_CLI_OPT_MAX_MEMORY 0x100
#define MR_CLI_MAX_MEMORY_OPTION { "max-memory", required_argument, NULL, MR_CLI_OPT_MAX_MEMORY }

/* The help line of that option, for the commands' usage texts. */
#define MR_CLI_MAX_MEMORY_HELP                                                                  \
    "      --max-memory SIZE  limit on memory driven by file contents, in MiB or with K/M/G/T\n" \
    "                       (default: half the physical memory)\n"

#endif
