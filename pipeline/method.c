/* The method table and the method options (see method.h). */
#include "pipeline/method.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/method_rows.h"

/* The built-in rows. Adding a method: its own file with a `const struct mr_method_ops`, one
 * line in method_rows.h and one row here. */
static const struct mr_method_ops *const builtin[] = {
    &mr_method_zf, &mr_method_sense, &mr_method_cg, &mr_method_cs,
    &mr_method_model, &mr_method_pnp_lpn,
};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

#define MAX_REGISTERED 16
static const struct mr_method_ops *registered[MAX_REGISTERED];
static size_t nregistered;

void mr_method_config_init(struct mr_method_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->name, sizeof(cfg->name), "%s", "cs");
    cfg->classic = mr_classic_config_default;
    cfg->classic.method = MR_CLASSIC_CS;
    cfg->maps = MR_MAPS_ESPIRIT;
    /* `bart ecalib -m1` with crop 0: maps everywhere, as this project's SENSE-type
     * reconstructions use them */
    cfg->espirit = mr_espirit_config_default;
    cfg->espirit.crop = 0.0f;
}

const struct mr_method_ops *mr_method_at(size_t i)
{
    if (i < NBUILTIN)
        return builtin[i];
    i -= NBUILTIN;
    return i < nregistered ? registered[i] : NULL;
}

const struct mr_method_ops *mr_method_lookup(const char *name)
{
    const struct mr_method_ops *ops;
    for (size_t i = 0; (ops = mr_method_at(i)) != NULL; i++)
        if (strcmp(ops->name, name) == 0)
            return ops;
    return NULL;
}

const char *mr_method_names(char *buf, size_t len)
{
    const struct mr_method_ops *ops;
    size_t used = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; (ops = mr_method_at(i)) != NULL && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", ops->name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return buf;
}

mr_status mr_method_register(const struct mr_method_ops *ops)
{
    if (ops == NULL || ops->name == NULL || ops->create == NULL || ops->run == NULL ||
        ops->free == NULL)
        return MR_FAIL(MR_ERR_ARG, "a method row needs a name, create, run and free");
    if (strlen(ops->name) >= MR_METHOD_NAME_MAX)
        return MR_FAIL(MR_ERR_ARG, "method name '%s' is longer than %d characters", ops->name,
                       MR_METHOD_NAME_MAX - 1);
    if (mr_method_lookup(ops->name) != NULL)
        return MR_FAIL(MR_ERR_ARG, "a method called '%s' is already in the table", ops->name);
    if (nregistered == MAX_REGISTERED)
        return MR_FAIL(MR_ERR_ARG, "the method table is full (%d registered rows)",
                       MAX_REGISTERED);
    registered[nregistered++] = ops;
    return MR_OK;
}

mr_status mr_maps_source_parse(const char *s, enum mr_maps_source *out)
{
    if (strcmp(s, "espirit") == 0)
        *out = MR_MAPS_ESPIRIT;
    else if (strcmp(s, "acs") == 0)
        *out = MR_MAPS_ACS;
    else if (strcmp(s, "file") == 0)
        *out = MR_MAPS_FILE;
    else
        return MR_FAIL(MR_ERR_ARG, "maps must be espirit, acs or file, not '%s'", s);
    return MR_OK;
}

const char *mr_maps_source_name(enum mr_maps_source maps)
{
    return maps == MR_MAPS_ACS ? "acs" : maps == MR_MAPS_FILE ? "file" : "espirit";
}

static bool parse_long(const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    long x = strtol(v, &end, 10);
    if (end == v || *end != '\0' || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static bool parse_float(const char *v, float lo, float hi_excl, float *out)
{
    char *end = NULL;
    float x = strtof(v, &end);
    if (end == v || *end != '\0' || !(x >= lo && x < hi_excl))
        return false;
    *out = x;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static mr_status set_name(struct mr_method_config *cfg, const char *name)
{
    char known[256];
    if (mr_method_lookup(name) == NULL)
        return MR_FAIL(MR_ERR_ARG, "unknown method '%s' (known: %s)", name,
                       mr_method_names(known, sizeof(known)));
    snprintf(cfg->name, sizeof(cfg->name), "%s", name);
    /* the classical rows share one config; its method field says which one runs */
    (void)mr_classic_method_parse(name, &cfg->classic.method);
    return MR_OK;
}

mr_status mr_method_config_set(struct mr_method_config *cfg, const char *key, const char *value)
{
    long l = 0;
    float f = 0.0f;

    if (strcmp(key, "method") == 0)
        return set_name(cfg, value);
    if (strcmp(key, "weights") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof(cfg->weights))
            return MR_FAIL(MR_ERR_ARG, "weights must be a file path (< %zu bytes)",
                           sizeof(cfg->weights));
        memcpy(cfg->weights, value, strlen(value) + 1);
        const struct mr_method_ops *ops = mr_method_lookup(cfg->name);
        if (ops == NULL || !ops->takes_weights)
            snprintf(cfg->name, sizeof(cfg->name), "%s", "model");
        return MR_OK;
    }
    if (strcmp(key, "iterations") == 0 || strcmp(key, "iters") == 0) {
        if (!parse_long(value, 1, 100000, &l))
            return MR_FAIL(MR_ERR_ARG, "%s must be an integer in 1..100000, not '%s'", key,
                           value);
        cfg->iterations = (int)l;
        cfg->classic.cg_iters = (int)l;
        cfg->classic.cs.iters = (int)l;
        return MR_OK;
    }
    if (strcmp(key, "lambda") == 0) {
        if (!parse_float(value, 0.0f, INFINITY, &f))
            return MR_FAIL(MR_ERR_ARG, "lambda must be a number >= 0, not '%s'", value);
        cfg->classic.cg_lambda = f;
        cfg->classic.cs.lambda = f;
        return MR_OK;
    }
    if (strcmp(key, "maps") == 0)
        return mr_maps_source_parse(value, &cfg->maps);
    if (strcmp(key, "espirit_crop") == 0) {
        if (!parse_float(value, 0.0f, 1.0f, &f))
            return MR_FAIL(MR_ERR_ARG, "espirit_crop must be in [0, 1), not '%s'", value);
        cfg->espirit.crop = f;
        return MR_OK;
    }
    return MR_FAIL(MR_ERR_ARG, "unknown option '%s' (known: method, weights, iterations, "
                   "lambda, maps, espirit_crop)", key);
}

mr_status mr_method_config_parse(struct mr_method_config *cfg, const char *spec)
{
    struct mr_method_config c = *cfg;
    char name[MR_METHOD_NAME_MAX];
    mr_status st;

    if (spec[0] == '\0')
        return MR_FAIL(MR_ERR_ARG, "an empty method");
    const char *colon = strchr(spec, ':');
    size_t n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    if (colon == NULL && ends_with(spec, ".h5")) { /* a weight file */
        st = mr_method_config_set(&c, "method", "model");
        if (st == MR_OK)
            st = mr_method_config_set(&c, "weights", spec);
        if (st != MR_OK)
            return mr_fail_context(st, "method '%s'", spec);
        *cfg = c;
        return MR_OK;
    }
    if (n >= sizeof(name))
        return MR_FAIL(MR_ERR_ARG, "method '%s': unknown method name", spec);
    memcpy(name, spec, n);
    name[n] = '\0';
    st = mr_method_config_set(&c, "method", name);
    if (st != MR_OK)
        return mr_fail_context(st, "method '%s'", spec);
    const char *p = colon != NULL ? colon + 1 : spec + n;
    if (colon != NULL && mr_method_lookup(name)->takes_weights && strchr(p, '=') == NULL) {
        /* "pnp-lpn:W.h5" */
        st = mr_method_config_set(&c, "weights", p);
        if (st != MR_OK)
            return mr_fail_context(st, "method '%s'", spec);
        *cfg = c;
        return MR_OK;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        char kv[MR_METHOD_PATH_MAX + 32];
        if ((size_t)(end - p) >= sizeof(kv))
            return MR_FAIL(MR_ERR_ARG, "method '%s': option too long", spec);
        memcpy(kv, p, (size_t)(end - p));
        kv[end - p] = '\0';
        char *eq = strchr(kv, '=');
        if (eq == NULL)
            return MR_FAIL(MR_ERR_ARG, "method '%s': '%s' is not key=value", spec, kv);
        *eq = '\0';
        st = mr_method_config_set(&c, kv, eq + 1);
        if (st != MR_OK)
            return mr_fail_context(st, "method '%s'", spec);
        p = comma != NULL ? comma + 1 : end;
    }
    *cfg = c;
    return MR_OK;
}
