/* Engine settings from the environment and --plan/--wisdom (apps/cli_settings.h). */
#include "apps/cli_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "networks/conv_plan.h"
#include "recon/fft.h"
#include "recon/settings.h"

static const char *wisdom_path(const struct mr_cli_plan *p)
{
    const char *path = p->wisdom != NULL ? p->wisdom : getenv("MR_WISDOM");
    return path != NULL && path[0] != '\0' ? path : NULL;
}

/* the FFTW wisdom that goes with the conv wisdom file `path`: "<path>.fftw" (n bytes) */
static bool fftw_path(const char *path, char *out, size_t n)
{
    return snprintf(out, n, "%s.fftw", path) < (int)n;
}

/* imports "<path>.fftw" when it exists; false after printing the error */
static bool import_fftw(const char *cmd, const char *path)
{
    char fp[4096];
    if (!fftw_path(path, fp, sizeof fp) || access(fp, F_OK) != 0)
        return true;
    FILE *f = fopen(fp, "r");
    mr_status st = f == NULL ? MR_FAIL(MR_ERR_IO, "cannot open FFTW wisdom file '%s'", fp)
                             : mr_fft_wisdom_read(f, fp);
    if (f != NULL)
        fclose(f);
    if (st != MR_OK)
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
    return st == MR_OK;
}

/* writes the process's FFTW wisdom to "<path>.fftw" (atomic) */
static mr_status export_fftw(const char *path)
{
    char fp[4096];
    struct mr_atomic_file af;
    if (!fftw_path(path, fp, sizeof fp))
        return MR_FAIL(MR_ERR_IO, "wisdom file name too long: '%s'", path);
    mr_status st = mr_atomic_file_open(&af, fp);
    if (st != MR_OK)
        return st;
    mr_fft_wisdom_write(af.f);
    return mr_atomic_file_commit(&af);
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
    if (warning[0] != '\0') {
        fprintf(stderr, "mrirecon %s: warning: %s\n", cmd, warning);
        return true; /* its FFTW plans were measured on that other machine too */
    }
    return import_fftw(cmd, path);
}

bool mr_cli_settings_end(const char *cmd, const struct mr_cli_plan *p)
{
    const char *path = wisdom_path(p);
    if (path == NULL || mr_settings_get()->conv_plan != MR_CONV_PLAN_MEASURE)
        return true;
    if (mr_conv_wisdom_export(path) != MR_OK || export_fftw(path) != MR_OK) {
        fprintf(stderr, "mrirecon %s: %s\n", cmd, mr_last_error());
        return false;
    }
    return true;
}
