/* JSON network configs (config.h) on top of cJSON. */
#include "weights/config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

struct mr_config {
    cJSON *root;
};

mr_status mr_config_parse(const char *json, struct mr_config **out)
{
    struct mr_config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "config");
    cfg->root = cJSON_Parse(json);
    if (cfg->root == NULL || !cJSON_IsObject(cfg->root)) {
        mr_config_free(cfg);
        return MR_FAIL(MR_ERR_WEIGHTS, "config is not a JSON object: '%.80s'", json);
    }
    *out = cfg;
    return MR_OK;
}

void mr_config_free(struct mr_config *cfg)
{
    if (cfg == NULL)
        return;
    cJSON_Delete(cfg->root);
    free(cfg);
}

static const cJSON *item(const struct mr_config *cfg, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(cfg->root, key);
    return cJSON_IsNull(it) ? NULL : it;
}

bool mr_config_has(const struct mr_config *cfg, const char *key)
{
    return item(cfg, key) != NULL;
}

static bool whole_number(const cJSON *it, int64_t *v)
{
    if (!cJSON_IsNumber(it))
        return false;
    double d = it->valuedouble;
    if (d != floor(d) || fabs(d) > 9.0e15)
        return false;
    *v = (int64_t)d;
    return true;
}

/* one boolean: true / false, or a whole 0 / 1 */
static bool boolean(const cJSON *it, bool *out)
{
    int64_t v;
    if (cJSON_IsBool(it)) {
        *out = cJSON_IsTrue(it);
        return true;
    }
    if (whole_number(it, &v) && (v == 0 || v == 1)) {
        *out = v == 1;
        return true;
    }
    return false;
}

mr_status mr_config_int(const struct mr_config *cfg, const char *key, int64_t def,
                        int64_t *out)
{
    const cJSON *it = item(cfg, key);

    if (it == NULL) {
        *out = def;
        return MR_OK;
    }
    if (!whole_number(it, out))
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' must be an integer", key);
    return MR_OK;
}

mr_status mr_config_bool(const struct mr_config *cfg, const char *key, bool def, bool *out)
{
    const cJSON *it = item(cfg, key);

    if (it == NULL) {
        *out = def;
        return MR_OK;
    }
    if (boolean(it, out))
        return MR_OK;
    return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' must be true or false", key);
}

/* The array under key, checked: *len its length, or, absent, *it NULL and *len = ndef (which
 * must fit in max). `what` names the element type in the error. */
static mr_status array_of(const struct mr_config *cfg, const char *key, const char *what,
                          int ndef, int max, const cJSON **it, int *len)
{
    *it = item(cfg, key);
    if (*it == NULL) {
        if (ndef > max)
            return MR_FAIL(MR_ERR_ARG, "default of config key '%s' has %d > %d entries", key,
                           ndef, max);
        *len = ndef;
        return MR_OK;
    }
    if (!cJSON_IsArray(*it))
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' must be an array of %s", key, what);
    *len = cJSON_GetArraySize(*it);
    if (*len > max)
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' has %d entries, at most %d allowed", key,
                       *len, max);
    return MR_OK;
}

mr_status mr_config_bool_array(const struct mr_config *cfg, const char *key, const bool *def,
                               int ndef, bool *out, int max, int *n)
{
    const cJSON *it = NULL;
    mr_status st = array_of(cfg, key, "booleans", ndef, max, &it, n);

    if (st != MR_OK)
        return st;
    for (int i = 0; i < *n; i++)
        if (it == NULL)
            out[i] = def[i];
        else if (!boolean(cJSON_GetArrayItem(it, i), &out[i]))
            return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' entry %d must be true or false",
                           key, i);
    return MR_OK;
}

mr_status mr_config_double(const struct mr_config *cfg, const char *key, double def,
                           double *out)
{
    const cJSON *it = item(cfg, key);

    if (it == NULL) {
        *out = def;
        return MR_OK;
    }
    if (!cJSON_IsNumber(it))
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' must be a number", key);
    *out = it->valuedouble;
    return MR_OK;
}

mr_status mr_config_string(const struct mr_config *cfg, const char *key, const char *def,
                           const char **out)
{
    const cJSON *it = item(cfg, key);

    if (it == NULL) {
        *out = def;
        return MR_OK;
    }
    if (!cJSON_IsString(it))
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' must be a string", key);
    *out = it->valuestring;
    return MR_OK;
}

mr_status mr_config_int_array(const struct mr_config *cfg, const char *key, const int64_t *def,
                              int ndef, int64_t *out, int max, int *n)
{
    const cJSON *it = NULL;
    mr_status st = array_of(cfg, key, "integers", ndef, max, &it, n);

    if (st != MR_OK)
        return st;
    for (int i = 0; i < *n; i++)
        if (it == NULL)
            out[i] = def[i];
        else if (!whole_number(cJSON_GetArrayItem(it, i), &out[i]))
            return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' entry %d must be an integer", key,
                           i);
    return MR_OK;
}

mr_status mr_config_check_int(const char *key, int index, int64_t v, int64_t lo, int64_t hi)
{
    if (v >= lo && v <= hi)
        return MR_OK;
    if (index >= 0)
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' entry %d = %lld is outside [%lld, %lld]",
                       key, index, (long long)v, (long long)lo, (long long)hi);
    return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' = %lld is outside [%lld, %lld]", key,
                   (long long)v, (long long)lo, (long long)hi);
}

mr_status mr_config_int_in(const struct mr_config *cfg, const char *key, int64_t def, int64_t lo,
                           int64_t hi, int64_t *out)
{
    mr_status st = mr_config_int(cfg, key, def, out);
    return st != MR_OK ? st : mr_config_check_int(key, -1, *out, lo, hi);
}

mr_status mr_config_double_in(const struct mr_config *cfg, const char *key, double def, double lo,
                              double hi, double *out)
{
    mr_status st = mr_config_double(cfg, key, def, out);
    if (st != MR_OK)
        return st;
    if (!(*out >= lo && *out <= hi))
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' = %g is outside [%g, %g]", key, *out, lo,
                       hi);
    return MR_OK;
}

mr_status mr_config_double_positive(const struct mr_config *cfg, const char *key, double def,
                                    double hi, double *out)
{
    mr_status st = mr_config_double(cfg, key, def, out);
    if (st != MR_OK)
        return st;
    if (!(*out > 0.0 && *out <= hi))
        return MR_FAIL(MR_ERR_WEIGHTS, "config key '%s' = %g is outside (0, %g]", key, *out, hi);
    return MR_OK;
}
