/*
 * Option parsing shared by recon and batch, and --slices (see cli_common.h).
 */
#include "apps/cli_common.h"

#include <stdio.h>
#include <stdlib.h>

bool mr_cli_parse_slices(const char *s, int64_t *a, int64_t *b)
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

/* The parse results of one option. */
enum parsed {
    PARSED_OTHER, /* not a volume option */
    PARSED_OK,
    PARSED_USAGE, /* a bad value, message printed */
};

static enum parsed volume_option(const char *cmd, int c, const char *arg,
                                 struct mr_cli_volume *v)
{
    struct mr_volume_config *cfg = v->cfg;
    mr_status st = MR_OK;
    switch (c) {
    case 'm': v->method = arg; break;
    case 'w': v->weights = arg; break;
    case 'M': st = mr_method_config_set(&cfg->method, "maps", arg); break;
    case 'k': cfg->mask_path = arg; break;
    case 'i':
        v->iters = arg;
        st = mr_method_config_set(&cfg->method, "iterations", arg);
        break;
    case 'l':
        v->lambda = arg;
        st = mr_method_config_set(&cfg->method, "lambda", arg);
        break;
    case 'E':
        v->espirit_crop = arg;
        st = mr_method_config_set(&cfg->method, "espirit_crop", arg);
        break;
    case 'S':
        if (!mr_cli_parse_slices(arg, &cfg->slice0, &cfg->slice1)) {
            fprintf(stderr, "mrirecon %s: --slices needs A:B with 0 <= A < B\n", cmd);
            return PARSED_USAGE;
        }
        break;
    case 'C': cfg->crop = false; break;
    case 'F':
        v->format = arg;
        st = mr_output_format_parse(arg, &cfg->format);
        break;
    default: return PARSED_OTHER;
    }
    if (st != MR_OK) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return PARSED_USAGE;
    }
    return PARSED_OK;
}

int mr_cli_volume_getopt(const char *cmd, int argc, char *argv[], const struct option *opts,
                         struct mr_cli_volume *v)
{
    int c;
    while ((c = getopt_long(argc, argv, "m:w:i:l:qh", opts, NULL)) != -1) {
        const enum parsed p = volume_option(cmd, c, optarg, v);
        if (p == PARSED_USAGE)
            return MR_CLI_VOLUME_USAGE;
        if (p == PARSED_OTHER)
            return c;
    }
    return -1;
}

bool mr_cli_volume_finish(const char *cmd, struct mr_cli_volume *v)
{
    struct mr_method_config *m = &v->cfg->method;
    if ((v->method != NULL && mr_method_config_set(m, "method", v->method) != MR_OK) ||
        (v->weights != NULL && mr_method_config_set(m, "weights", v->weights) != MR_OK)) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return false;
    }
    const struct mr_method_ops *ops = mr_method_lookup(m->name);
    if (ops->takes_weights && v->weights == NULL) {
        fprintf(stderr, "mrirecon %s: --method %s needs --weights\n", cmd, m->name);
        return false;
    }
    if (v->method != NULL && v->weights != NULL && !mr_method_lookup(v->method)->takes_weights) {
        fprintf(stderr, "mrirecon %s: --method %s takes no --weights\n", cmd, v->method);
        return false;
    }
    return true;
}
