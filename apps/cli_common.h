/*
 * Option parsing shared by the commands that reconstruct fastMRI volumes (recon, batch) and
 * the --slices A:B parser (also maskeval): one option table block, one switch, one check of
 * --method against --weights, so that the commands cannot drift apart.
 */
#ifndef MR_APPS_CLI_COMMON_H
#define MR_APPS_CLI_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "pipeline/volume.h"

/* Parses "A:B" with 0 <= A < B into [*a, *b). Returns false (outputs untouched) otherwise. */
bool mr_cli_parse_slices(const char *s, int64_t *a, int64_t *b);

/* The getopt_long entries of the volume options (short codes m w M k i l E S C F; a command
 * adds "m:w:i:l:" to its short option string). */
#define MR_CLI_VOLUME_OPTIONS                                                                     \
    { "method", required_argument, NULL, 'm' }, { "weights", required_argument, NULL, 'w' },      \
        { "maps", required_argument, NULL, 'M' }, { "mask", required_argument, NULL, 'k' },       \
        { "iters", required_argument, NULL, 'i' }, { "lambda", required_argument, NULL, 'l' },    \
        { "espirit-crop", required_argument, NULL, 'E' },                                         \
        { "slices", required_argument, NULL, 'S' }, { "no-crop", no_argument, NULL, 'C' },        \
        { "format", required_argument, NULL, 'F' }

/* What the volume options set: cfg (borrowed) and the option texts as given (NULL: not given;
 * format starts as the caller sets it). --method and --weights are applied by
 * mr_cli_volume_finish, after every option is read. */
struct mr_cli_volume {
    struct mr_volume_config *cfg;
    const char *method;
    const char *weights;
    const char *iters;
    const char *lambda;
    const char *espirit_crop;
    const char *format;
};

/* getopt_long's answer for a volume option with a bad value (message printed: exit 2). */
#define MR_CLI_VOLUME_USAGE (-2)

/* getopt_long(argc, argv, "m:w:i:l:qh", opts, NULL) that handles the volume options itself:
 * returns the code of the next other option (for the command's own switch), -1 after the
 * last, or MR_CLI_VOLUME_USAGE after printing "mrirecon CMD: ..." for a bad value. The caller
 * resets optind (and opterr) before the first call, as for getopt_long. */
int mr_cli_volume_getopt(const char *cmd, int argc, char *argv[], const struct option *opts,
                         struct mr_cli_volume *v);

/* Applies --method, then --weights (which select "model" unless the method takes them), and
 * checks that a method that needs weights has them and one that takes none has none. Returns
 * false after printing "mrirecon CMD: ..." on stderr (exit 2). */
bool mr_cli_volume_finish(const char *cmd, struct mr_cli_volume *v);

#endif
