/*
 * Network configuration: a JSON object of constructor arguments (the weight file's `config`
 * attribute), read through typed accessors with defaults.
 *
 * Every accessor returns MR_OK and the default when the key is absent (or JSON null), the
 * value when it is present with the right type, and MR_ERR_WEIGHTS naming the key and the
 * expected type otherwise. "int" accepts JSON numbers that are whole; "bool" accepts true /
 * false (and 0 / 1). Strings are borrowed from the config.
 */
#ifndef MR_WEIGHTS_CONFIG_H
#define MR_WEIGHTS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "recon/status.h"

struct mr_config;

/* Parses a JSON object. Errors: MR_ERR_WEIGHTS (not JSON, or not an object), MR_ERR_NOMEM. */
mr_status mr_config_parse(const char *json, struct mr_config **out);
void mr_config_free(struct mr_config *cfg);

/* True if key is present and not null. */
bool mr_config_has(const struct mr_config *cfg, const char *key);

mr_status mr_config_int(const struct mr_config *cfg, const char *key, int64_t def,
                        int64_t *out);
mr_status mr_config_bool(const struct mr_config *cfg, const char *key, bool def, bool *out);
mr_status mr_config_double(const struct mr_config *cfg, const char *key, double def,
                           double *out);
mr_status mr_config_string(const struct mr_config *cfg, const char *key, const char *def,
                           const char **out);

/* The same with the value (given or default) checked: an integer in [lo, hi], a finite number
 * in [lo, hi], or a finite number in (0, hi]. Errors also: MR_ERR_WEIGHTS naming the key, the
 * value and the allowed range. */
mr_status mr_config_int_in(const struct mr_config *cfg, const char *key, int64_t def, int64_t lo,
                           int64_t hi, int64_t *out);
mr_status mr_config_double_in(const struct mr_config *cfg, const char *key, double def, double lo,
                              double hi, double *out);
mr_status mr_config_double_positive(const struct mr_config *cfg, const char *key, double def,
                                    double hi, double *out);

/* The range check of the above for a value read otherwise (entry `index` of an array key, or
 * −1 for a plain key): MR_OK when lo <= v <= hi, else MR_ERR_WEIGHTS naming key and range. */
mr_status mr_config_check_int(const char *key, int index, int64_t v, int64_t lo, int64_t hi);

/* An array of whole numbers: *n = its length and out[0..n) its values; absent gives the
 * ndef defaults. Errors: MR_ERR_WEIGHTS (wrong type, or more than max entries). */
mr_status mr_config_int_array(const struct mr_config *cfg, const char *key, const int64_t *def,
                              int ndef, int64_t *out, int max, int *n);

/* The same for an array of booleans (entries true / false, or 0 / 1). */
mr_status mr_config_bool_array(const struct mr_config *cfg, const char *key, const bool *def,
                               int ndef, bool *out, int max, int *n);

#endif
