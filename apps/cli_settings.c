/* Engine settings from the environment and --plan/--wisdom (apps/cli_settings.h). */
#include "apps/cli_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "networks/conv_plan.h"
#include "recon/settings.h"

static const char *wisdom_path(const struct mr_cli_plan *p)
{
    const char *path = p->wisdom != NULL ? p->wisdom : getenv("MR_WISDOM");
    return path != NULL && path[0] != '\0' ? path : NULL;
}

/* the defaults and the environment, then --plan when given */
static bool settings_from(const char *cmd, const char *plan)
{
    struct mr_settings s = mr_settings_default;
    if (mr_settings_parse_env(&s, getenv) != MR_OK ||
        (plan != NULL && mr_settings_parse(&s, "conv-plan", plan) != MR_OK)) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return false;
    }
    mr_settings_set(&s);
    return true;
}

bool mr_cli_settings_env(const char *cmd)
{
    return settings_from(cmd, NULL);
}

bool mr_cli_settings_begin(const char *cmd, const struct mr_cli_plan *p)
{
    if (!settings_from(cmd, p->plan))
        return false;
    const struct mr_settings s = *mr_settings_get();
    const char *path = wisdom_path(p);
    if (path == NULL)
        return true;
    if (access(path, F_OK) != 0) {
        if (s.conv_plan != MR_CONV_PLAN_MEASURE)
            fprintf(stderr, "mrirecon %s: warning: no wisdom file '%s' yet (run with --plan "
                    "measure to write it)\n", cmd, path);
        return true;
    }
    char warning[1024];
    if (mr_conv_wisdom_import(path, warning, sizeof warning) != MR_OK) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return false;
    }
    if (warning[0] != '\0')
        fprintf(stderr, "mrirecon %s: warning: %s\n", cmd, warning);
    return true;
}

bool mr_cli_settings_end(const char *cmd, const struct mr_cli_plan *p)
{
    const char *path = wisdom_path(p);
    if (path == NULL || mr_settings_get()->conv_plan != MR_CONV_PLAN_MEASURE)
        return true;
    if (mr_conv_wisdom_export(path) != MR_OK) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return false;
    }
    return true;
}
