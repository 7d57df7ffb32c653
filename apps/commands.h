/*
 * The subcommands of the mrirecon program. Each is `int mr_main_<name>(argc, argv)` with
 * argv[0] the subcommand name, returning the process exit code: 0 ok, 1 failure, 2 usage.
 * They live in the mr_apps library so tests call them in-process.
 */
#ifndef MR_APPS_COMMANDS_H
#define MR_APPS_COMMANDS_H

struct mr_command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char *argv[]);
};

/* NULL-terminated table of subcommands (apps/commands.c). */
extern const struct mr_command mr_commands[];

/* Dispatches argv[1] to its subcommand; prints the overview for --help or no arguments. */
int mr_main(int argc, char *argv[]);

#endif
