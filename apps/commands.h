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

/* The --max-memory option of the commands that read files: SIZE in MiB, or with a suffix K, M,
 * G or T (binary units), sets the limit on allocations driven by file contents
 * (recon/array.h mr_memory_limit_set; default: half the physical memory). Returns false (after
 * printing "mrirecon CMD: ..." on stderr) when SIZE does not parse. */
bool mr_cli_max_memory(const char *cmd, const char *size);

/* The help line of that option, for the commands' usage texts. */
#define MR_CLI_MAX_MEMORY_HELP                                                                  \
    "      --max-memory SIZE  limit on memory driven by file contents, in MiB or with K/M/G/T\n" \
    "                       (default: half the physical memory)\n"

#endif
