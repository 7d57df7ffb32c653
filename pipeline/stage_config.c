/* The stage's configuration and its config text (see stage.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ismrmrd.h"
#include "pipeline/stage.h"

void mr_stage_config_init(struct mr_stage_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    mr_method_config_init(&cfg->method);
    (void)mr_method_config_set(&cfg->method, "method", "cg");
    cfg->image_series_index = 0;
    cfg->max_open = 256;
}

mr_status mr_stage_config_set(struct mr_stage_config *cfg, const char *key, const char *value)
{
    if (strcmp(key, "series") == 0) {
        char *end = NULL;
        long l = strtol(value, &end, 10);
        if (end == value || *end != '\0' || l < 0 || l > 65535)
            return MR_FAIL(MR_ERR_ARG, "config: series must be in 0..65535, not '%s'", value);
        cfg->image_series_index = (uint16_t)l;
        return MR_OK;
    }
    static const char *const method_keys[] = { "method", "weights", "iterations", "lambda",
                                               "maps", "espirit_crop" };
    bool known = false;
    for (size_t i = 0; i < sizeof(method_keys) / sizeof(method_keys[0]); i++)
        known = known || strcmp(key, method_keys[i]) == 0;
    if (!known)
        return MR_FAIL(MR_ERR_ARG, "config: unknown key '%s' (known: method, weights, "
                       "iterations, lambda, maps, espirit_crop, series)", key);
    if (strcmp(key, "maps") == 0 && strcmp(value, "file") == 0)
        return MR_FAIL(MR_ERR_ARG, "config: maps must be espirit or acs in a stream");
    mr_status st = mr_method_config_set(&cfg->method, key, value);
    return st == MR_OK ? MR_OK : mr_fail_context(st, "config");
}

static mr_status set_property(void *ctx, const char *name, const char *value)
{
    return mr_stage_config_set(ctx, name, value);
}

mr_status mr_stage_config_parse_text(struct mr_stage_config *cfg, const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i < len && text[i] == '<')
        return mr_ismrmrd_config_properties(text, len, set_property, cfg);

    while (i < len) {
        char tok[1536];
        size_t k = 0;
        char c = text[i];
        if (c == '#') { /* comment to the end of the line */
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '\0') {
            i++;
            continue;
        }
        while (i < len && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
               text[i] != '\r' && text[i] != ';' && text[i] != '#' && text[i] != '\0') {
            if (k + 1 >= sizeof(tok))
                return MR_FAIL(MR_ERR_ARG, "config: a token is longer than %zu characters",
                               sizeof(tok) - 1);
            tok[k++] = text[i++];
        }
        tok[k] = '\0';
        char *eq = strchr(tok, '=');
        if (eq == NULL || eq == tok)
            return MR_FAIL(MR_ERR_ARG, "config: '%s' is not key=value", tok);
        *eq = '\0';
        mr_status st = mr_stage_config_set(cfg, tok, eq + 1);
        if (st != MR_OK)
            return st;
    }
    return MR_OK;
}
