/*
 * The engine settings of a command (recon/settings.h), which only the applications read from
 * the environment: MR_ISA, MR_FFT_PLANNER, MR_CONV_PLAN, MR_CONV_ALGO, MR_CONV_WINOGRAD,
 * MR_CIRIM_FULL_FFT, MR_E2EVN_KSPACE (recon/settings.h mr_settings_env_names), then the
 * command's options --plan estimate|measure and --wisdom FILE (default: MR_WISDOM), the conv
 * wisdom of networks/conv_plan.h. The plan mode also sets the FFTW planner (recon/fft.h); the
 * FFTW wisdom goes with the conv wisdom, in "FILE.fftw", written and read with it (and ignored
 * with it when FILE was measured on another machine or configuration).
 */
#ifndef MR_APPS_CLI_SETTINGS_H
#define MR_APPS_CLI_SETTINGS_H

#include <stdbool.h>

struct mr_cli_plan {
    const char *plan;   /* --plan, or NULL for MR_CONV_PLAN / estimate */
    const char *wisdom; /* --wisdom, or NULL for MR_WISDOM / none */
};

/* Sets the settings from the defaults and the environment (mr_main does this for every
 * command). Returns false after printing "mrirecon CMD: ..." for a value that does not parse. */
bool mr_cli_settings_env(const char *cmd);

/* Sets the settings from the defaults, the environment and p, and imports the wisdom file if
 * there is one (a file measured elsewhere is ignored with a warning on stderr; a missing file
 * is created by mr_cli_settings_end in measure mode, a warning otherwise). Returns false after
 * printing "mrirecon CMD: ..." on stderr for a bad value or an unreadable file. */
bool mr_cli_settings_begin(const char *cmd, const struct mr_cli_plan *p);

/* In measure mode with a wisdom file: writes the wisdom (old and newly measured convs) to it.
 * Returns false after printing the error. */
bool mr_cli_settings_end(const char *cmd, const struct mr_cli_plan *p);

/* getopt_long values and help lines of the two options */
#define MR_CLI_OPT_PLAN 0x180
#define MR_CLI_OPT_WISDOM 0x181
#define MR_CLI_PLAN_OPTIONS                                                                      \
    { "plan", required_argument, NULL, MR_CLI_OPT_PLAN },                                        \
        { "wisdom", required_argument, NULL, MR_CLI_OPT_WISDOM }
#define MR_CLI_PLAN_HELP                                                                         \
    "      --plan MODE    conv algorithms and FFT plans: estimate (built-in choice, instant;\n" \
    "                       default) or measure (time each conv shape and FFT size once,\n"   \
    "                       keep the fastest: pays off over many slices or with --wisdom)\n"   \
    "      --wisdom FILE  conv and FFT plans measured before (default: $MR_WISDOM; FFT plans\n" \
    "                       in FILE.fftw); written back in measure mode; ignored with a\n"   \
    "                       warning if from another CPU, thread count or BLAS\n"

#endif
