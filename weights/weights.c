/*
 * The tensor store and the HDF5 weight file (layout in weights.h and README.md). Reading and
 * writing go through io/h5.h; this file only knows the layout.
 */
#include "weights/weights.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5.h"

struct weight_entry {
    char *name;
    struct mr_array arr;
    bool used;
};

struct mr_weights {
    struct weight_entry *entries;
    size_t count;
    size_t cap;
    char *arch;     /* normalised */
    char *arch_raw; /* as stored */
    char *config_json;
    struct mr_config *config;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

mr_status mr_weights_create(struct mr_weights **out)
{
    mr_status st = MR_OK;
    struct mr_weights *ws = calloc(1, sizeof(*ws));

    if (ws == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "weight store");
    MR_CHECK(mr_weights_set_architecture(ws, ""));
    MR_CHECK(mr_weights_set_config(ws, "{}"));
    *out = ws;
    ws = NULL;
out:
    mr_weights_free(ws);
    return st;
}

void mr_weights_free(struct mr_weights *ws)
{
    if (ws == NULL)
        return;
    for (size_t i = 0; i < ws->count; i++) {
        free(ws->entries[i].name);
        mr_array_cleanup(&ws->entries[i].arr);
    }
    free(ws->entries);
    free(ws->arch);
    free(ws->arch_raw);
    free(ws->config_json);
    mr_config_free(ws->config);
    free(ws);
}

static struct weight_entry *find(const struct mr_weights *ws, const char *name)
{
    for (size_t i = 0; i < ws->count; i++)
        if (strcmp(ws->entries[i].name, name) == 0)
            return &ws->entries[i];
    return NULL;
}

mr_status mr_weights_add_take(struct mr_weights *ws, const char *name, struct mr_array *arr)
{
    mr_status st = MR_OK;

    if (arr->dtype != MR_DTYPE_F32) {
        st = MR_FAIL(MR_ERR_ARG, "weight '%s' must be float32", name);
        goto out;
    }
    if (find(ws, name) != NULL) {
        st = MR_FAIL(MR_ERR_ARG, "duplicate weight '%s'", name);
        goto out;
    }
    if (ws->count == ws->cap) {
        size_t cap = ws->cap == 0 ? 64 : 2 * ws->cap;
        struct weight_entry *e = realloc(ws->entries, cap * sizeof(*e));
        if (e == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "weight store entries");
            goto out;
        }
        ws->entries = e;
        ws->cap = cap;
    }
    struct weight_entry *e = &ws->entries[ws->count];
    e->name = dup_str(name);
    if (e->name == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "weight name");
        goto out;
    }
    e->arr = *arr;
    e->used = false;
    memset(arr, 0, sizeof(*arr));
    ws->count++;
out:
    mr_array_cleanup(arr);
    return st;
}

mr_status mr_weights_set_architecture(struct mr_weights *ws, const char *architecture)
{
    size_t n = 0;
    char *raw = dup_str(architecture);
    char *norm = NULL;

    while (isalnum((unsigned char)architecture[n]) || architecture[n] == '_')
        n++;
    norm = malloc(n + 1);
    if (raw == NULL || norm == NULL) {
        free(raw);
        free(norm);
        return MR_FAIL(MR_ERR_NOMEM, "architecture name");
    }
    for (size_t i = 0; i < n; i++)
        norm[i] = (char)tolower((unsigned char)architecture[i]);
    norm[n] = '\0';
    free(ws->arch);
    free(ws->arch_raw);
    ws->arch = norm;
    ws->arch_raw = raw;
    return MR_OK;
}

mr_status mr_weights_set_config(struct mr_weights *ws, const char *json)
{
    struct mr_config *cfg = NULL;
    mr_status st = mr_config_parse(json, &cfg);
    char *text = NULL;

    if (st != MR_OK)
        return st;
    text = dup_str(json);
    if (text == NULL) {
        mr_config_free(cfg);
        return MR_FAIL(MR_ERR_NOMEM, "config text");
    }
    mr_config_free(ws->config);
    free(ws->config_json);
    ws->config = cfg;
    ws->config_json = text;
    return MR_OK;
}

const char *mr_weights_architecture(const struct mr_weights *ws)
{
    return ws->arch;
}

const char *mr_weights_architecture_raw(const struct mr_weights *ws)
{
    return ws->arch_raw;
}

const char *mr_weights_config_json(const struct mr_weights *ws)
{
    return ws->config_json;
}

const struct mr_config *mr_weights_config(const struct mr_weights *ws)
{
    return ws->config;
}

mr_status mr_weights_get(struct mr_weights *ws, const char *name, int ndim,
                         const int64_t *dims, const struct mr_array **out)
{
    struct weight_entry *e = find(ws, name);
    char have[128];
    char want[128];

    if (e == NULL)
        return MR_FAIL(MR_ERR_WEIGHTS, "missing key '%s' in the weights (%s)", name,
                       ws->arch_raw);
    bool ok = e->arr.ndim == ndim;
    for (int d = 0; ok && d < ndim; d++)
        ok = e->arr.dims[d] == dims[d];
    if (!ok)
        return MR_FAIL(MR_ERR_WEIGHTS, "'%s' has shape %s in the weights, expected %s", name,
                       mr_dims_str(e->arr.ndim, e->arr.dims, have, sizeof(have)),
                       mr_dims_str(ndim, dims, want, sizeof(want)));
    e->used = true;
    *out = &e->arr;
    return MR_OK;
}

bool mr_weights_has(const struct mr_weights *ws, const char *name)
{
    return find(ws, name) != NULL;
}

size_t mr_weights_count(const struct mr_weights *ws)
{
    return ws->count;
}

const char *mr_weights_name(const struct mr_weights *ws, size_t i)
{
    MR_ASSERT(i < ws->count);
    return ws->entries[i].name;
}

bool mr_weights_used(const struct mr_weights *ws, size_t i)
{
    MR_ASSERT(i < ws->count);
    return ws->entries[i].used;
}

int64_t mr_weights_numel(const struct mr_weights *ws)
{
    int64_t n = 0;
    for (size_t i = 0; i < ws->count; i++)
        n += mr_array_numel(&ws->entries[i].arr);
    return n;
}

mr_status mr_weights_check_unused(const struct mr_weights *ws)
{
    char list[512];
    size_t len = 0;
    size_t unused = 0;

    list[0] = '\0';
    for (size_t i = 0; i < ws->count; i++) {
        if (ws->entries[i].used)
            continue;
        if (unused < 4 && len < sizeof(list)) {
            int k = snprintf(list + len, sizeof(list) - len, "%s'%s'", unused > 0 ? ", " : "",
                             ws->entries[i].name);
            if (k > 0)
                len += (size_t)k;
        }
        unused++;
    }
    if (unused == 0)
        return MR_OK;
    return MR_FAIL(MR_ERR_WEIGHTS, "%zu of %zu weights unused by the %s network: %s%s", unused,
                   ws->count, ws->arch, list, unused > 4 ? ", ..." : "");
}

void mr_weights_reset_used(struct mr_weights *ws)
{
    for (size_t i = 0; i < ws->count; i++)
        ws->entries[i].used = false;
}

/* A NaN or Inf weight gives a plausible but wrong image (7-21 % off), never an error later:
 * refuse it here, naming the tensor and the first bad element. */
static mr_status check_tensor_finite(const char *path, const char *name,
                                     const struct mr_array *a)
{
    const float *v = mr_array_f32(a);
    const int64_t n = mr_array_numel(a);
    char buf[160];

    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return MR_FAIL(MR_ERR_WEIGHTS, "weight '%s' %s in '%s' holds %s at element %lld; "
                           "every weight must be finite", name,
                           mr_dims_str(a->ndim, a->dims, buf, sizeof(buf)), path,
                           isnan(v[i]) ? "NaN" : (v[i] > 0.0f ? "+Inf" : "-Inf"),
                           (long long)i);
    return MR_OK;
}

mr_status mr_weights_load(const char *path, struct mr_weights **out)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    struct mr_weights *ws = NULL;
    char *arch = NULL;
    char *config = NULL;
    char **names = NULL;
    size_t count = 0;
    struct mr_array arr = { 0 };
    char full[1024];
    char what[1400];
    uint64_t total = 0;

    MR_CHECK(mr_h5_open(path, &h));
    MR_CHECK(mr_weights_create(&ws));
    if (!mr_h5_has_attr(h, "/", "architecture")) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not a weight file: no root attribute 'architecture'",
                     path);
        goto out;
    }
    MR_CHECK(mr_h5_read_attr_string(h, "/", "architecture", &arch));
    MR_CHECK(mr_weights_set_architecture(ws, arch));
    if (mr_h5_has_attr(h, "/", "config")) {
        MR_CHECK(mr_h5_read_attr_string(h, "/", "config", &config));
        st = mr_weights_set_config(ws, config);
        if (st != MR_OK) {
            mr_fail_context(st, "weight file '%s'", path);
            goto out;
        }
    }
    if (!mr_h5_exists(h, "/weights")) {
        st = MR_FAIL(MR_ERR_FORMAT, "'%s' is not a weight file: no /weights group", path);
        goto out;
    }
    MR_CHECK(mr_h5_list(h, "/weights", &names, &count));
    for (size_t i = 0; i < count; i++) {
        snprintf(full, sizeof(full), "/weights/%s", names[i]);
        MR_CHECK(mr_h5_read(h, full, &arr));
        if (arr.dtype != MR_DTYPE_F32) {
            st = MR_FAIL(MR_ERR_WEIGHTS, "weight '%s' in '%s' is complex; weights are real",
                         names[i], path);
            goto out;
        }
        MR_CHECK(check_tensor_finite(path, names[i], &arr));
        /* the store keeps every tensor: the file's total counts against the limit too */
        total += (uint64_t)mr_array_nbytes(&arr);
        snprintf(what, sizeof(what), "weight file '%s' (%zu tensors up to '%s')", path, i + 1,
                 names[i]);
        MR_CHECK(mr_memory_check(total, what));
        MR_CHECK(mr_weights_add_take(ws, names[i], &arr));
    }
    *out = ws;
    ws = NULL;
out:
    mr_array_cleanup(&arr);
    mr_h5_free_names(names, count);
    free(arch);
    free(config);
    mr_h5_close(h);
    mr_weights_free(ws);
    return st;
}

mr_status mr_weights_save(const struct mr_weights *ws, const char *path)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    char full[1024];

    MR_CHECK(mr_h5_create(path, &h));
    MR_CHECK(mr_h5_write_attr_string(h, "/", "architecture", ws->arch_raw));
    MR_CHECK(mr_h5_write_attr_string(h, "/", "config", ws->config_json));
    for (size_t i = 0; i < ws->count; i++) {
        snprintf(full, sizeof(full), "/weights/%s", ws->entries[i].name);
        MR_CHECK(mr_h5_write(h, full, &ws->entries[i].arr));
    }
    st = mr_h5_commit(h);
    h = NULL;
out:
    mr_h5_close(h);
    return st;
}
