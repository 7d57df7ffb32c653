/* The engine's run-time switches (recon/settings.h): one process-wide copy, set by the app. */
#include "recon/settings.h"

#include <string.h>

const struct mr_settings mr_settings_default = {
    .isa_max = MR_ISA_AVX512,
    .fft_planner = MR_FFT_PLANNER_AUTO,
    .conv_plan = MR_CONV_PLAN_ESTIMATE,
    .conv_force = MR_CONV_FORCE_AUTO,
    .cirim_full_fft = false,
    .e2evn_kspace = false,
};

static struct mr_settings current = {
    .isa_max = MR_ISA_AVX512,
};

const struct mr_settings *mr_settings_get(void)
{
    return &current;
}

void mr_settings_set(const struct mr_settings *s)
{
    current = *s;
}

const struct mr_settings_env_name mr_settings_env_names[] = {
    { "MR_ISA", "isa" },
    { "MR_FFT_PLANNER", "fft-planner" },
    { "MR_CONV_PLAN", "conv-plan" },
    { "MR_CONV_ALGO", "conv-algo" },
    { "MR_CONV_WINOGRAD", "conv-winograd" },
    { "MR_CIRIM_FULL_FFT", "cirim-full-fft" },
    { "MR_E2EVN_KSPACE", "e2evn-kspace" },
    { NULL, NULL },
};

/* index of value in the NULL-terminated names, or -1 */
static int lookup_name(const char *const *names, const char *value)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], value) == 0)
            return i;
    return -1;
}

mr_status mr_settings_parse(struct mr_settings *s, const char *key, const char *value)
{
    static const char *const isa[] = { "generic", "avx2", "avx512", NULL };
    static const char *const fft[] = { "auto", "estimate", "measure", "patient", NULL };
    static const char *const plan[] = { "estimate", "measure", NULL };
    static const char *const algo[] = { "auto",        "im2col", "direct", "winograd",
                                        "no-winograd", "dnnl",   NULL };
    static const char *const wino[] = { "always", "never", NULL };
    int i;
    if (strcmp(key, "isa") == 0) {
        if ((i = lookup_name(isa, value)) < 0)
            return MR_FAIL(MR_ERR_ARG, "isa: expected generic, avx2 or avx512, not '%s'", value);
        s->isa_max = (enum mr_isa)i;
    } else if (strcmp(key, "fft-planner") == 0) {
        if ((i = lookup_name(fft, value)) < 0)
            return MR_FAIL(MR_ERR_ARG,
                           "fft-planner: expected auto, estimate, measure or patient, not '%s'",
                           value);
        s->fft_planner = (enum mr_fft_planner)i;
    } else if (strcmp(key, "conv-plan") == 0) {
        if ((i = lookup_name(plan, value)) < 0)
            return MR_FAIL(MR_ERR_ARG, "plan: expected estimate or measure, not '%s'", value);
        s->conv_plan = (enum mr_conv_plan)i;
    } else if (strcmp(key, "conv-algo") == 0) {
        if ((i = lookup_name(algo, value)) < 0)
            return MR_FAIL(MR_ERR_ARG,
                           "conv-algo: expected auto, im2col, direct, winograd, no-winograd or "
                           "dnnl, not '%s'", value);
        s->conv_force = (enum mr_conv_force)i;
    } else if (strcmp(key, "conv-winograd") == 0) {
        if ((i = lookup_name(wino, value)) < 0)
            return MR_FAIL(MR_ERR_ARG, "conv-winograd: expected always or never, not '%s'",
                           value);
        s->conv_force = i == 0 ? MR_CONV_FORCE_WINOGRAD : MR_CONV_FORCE_NO_WINOGRAD;
    } else if (strcmp(key, "cirim-full-fft") == 0) {
        s->cirim_full_fft = true;
    } else if (strcmp(key, "e2evn-kspace") == 0) {
        s->e2evn_kspace = true;
    } else {
        return MR_FAIL(MR_ERR_ARG, "unknown setting '%s'", key);
    }
    return MR_OK;
}

mr_status mr_settings_parse_env(struct mr_settings *s, char *(*lookup)(const char *name))
{
    for (const struct mr_settings_env_name *e = mr_settings_env_names; e->env != NULL; e++) {
        const char *v = lookup(e->env);
        if (v == NULL)
            continue;
        mr_status st = mr_settings_parse(s, e->key, v);
        if (st != MR_OK)
            return mr_fail_context(st, "environment variable %s", e->env);
    }
    return MR_OK;
}
