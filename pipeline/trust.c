/* The per-reconstruction report and the out-of-distribution score (trust.h). */
#include "pipeline/trust.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/h5.h"

void mr_trust_report_reset(struct mr_trust_report *r)
{
    memset(r, 0, sizeof(*r));
    r->residual = NAN;
    r->unsampled = NAN;
    r->regularizer = NAN;
    r->unsampled_vs_cg = NAN;
    r->score = NAN;
}

static bool ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s);
    const size_t m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void record(void *ctx, const char *name, int64_t index, double v)
{
    struct mr_trust_report *r = ctx;
    (void)index; /* values arrive in estimate order */

    if (ends_with(name, "dc_residual")) {
        r->residual = v;
        if (r->nsteps < MR_TRUST_STEPS_MAX) {
            r->step_residual[r->nsteps] = v;
            r->step_unsampled[r->nsteps] = NAN;
        }
        r->nsteps++;
    } else if (ends_with(name, "unsampled_energy")) {
        r->unsampled = v; /* emitted right after its estimate's dc_residual */
        if (r->nsteps > 0 && r->nsteps <= MR_TRUST_STEPS_MAX)
            r->step_unsampled[r->nsteps - 1] = v;
    } else if (ends_with(name, "objective")) {
        if (r->nobjective < MR_TRUST_STEPS_MAX)
            r->objective[r->nobjective] = v;
        r->nobjective++;
    } else if (ends_with(name, "regularizer")) {
        r->regularizer = v;
    }
}

struct mr_probe mr_trust_probe(struct mr_trust_report *r)
{
    return (struct mr_probe){ .fn = NULL, .ctx = r, .value = record };
}

static double sigma(double s)
{
    return s > MR_TRUST_SIGMA_MIN ? s : MR_TRUST_SIGMA_MIN;
}

/* the score's two terms; NaN when the value is not usable */
static double score_of(double residual, double unsampled, const struct mr_trust_reference *ref,
                       int *which)
{
    double zr = NAN;
    double zu = NAN;
    if (residual > 0.0 && isfinite(residual))
        zr = (log10(residual) - ref->residual_mean) / sigma(ref->residual_std);
    else if (residual == 0.0)
        zr = 0.0; /* exactly consistent */
    if (unsampled > 0.0 && isfinite(unsampled))
        zu = fabs(log10(unsampled) - ref->unsampled_mean) / sigma(ref->unsampled_std);
    else if (unsampled == 0.0)
        zu = INFINITY; /* nothing added where a network always adds something */
    if (isnan(zr) && isnan(zu))
        return NAN;
    if (isnan(zu) || (!isnan(zr) && zr >= zu)) {
        *which = 0;
        return zr;
    }
    *which = 1;
    return zu;
}

void mr_trust_score(struct mr_trust_report *r, const struct mr_trust_reference *ref)
{
    int which = 0;
    r->score = score_of(r->residual, r->unsampled, ref, &which);
    r->flagged = isfinite(r->score) ? r->score > ref->threshold : r->score > 0.0;
    r->reason[0] = '\0';
    if (!r->flagged)
        return;
    if (which == 0)
        snprintf(r->reason, sizeof(r->reason),
                 "data-consistency residual %.3g is %.1f sigma above the reference (10^%.2f)",
                 r->residual, r->score, ref->residual_mean);
    else
        snprintf(r->reason, sizeof(r->reason),
                 "k-space energy at unsampled points %.3g is %.1f sigma from the reference "
                 "(10^%.2f)", r->unsampled, r->score, ref->unsampled_mean);
}

mr_status mr_trust_reference_fit(const struct mr_trust_report *reps, int64_t n, const char *data,
                                 struct mr_trust_reference *out)
{
    double sr = 0.0;
    double sr2 = 0.0;
    double su = 0.0;
    double su2 = 0.0;
    int64_t k = 0;

    for (int64_t i = 0; i < n; i++) {
        const double r = reps[i].residual;
        const double u = reps[i].unsampled;
        if (!(r > 0.0) || !(u > 0.0) || !isfinite(r) || !isfinite(u))
            continue;
        sr += log10(r);
        sr2 += log10(r) * log10(r);
        su += log10(u);
        su2 += log10(u) * log10(u);
        k++;
    }
    if (k < 2)
        return MR_FAIL(MR_ERR_DATA, "trust reference: %lld usable slices (a finite, positive "
                       "residual and unsampled energy), at least 2 are needed", (long long)k);
    memset(out, 0, sizeof(*out));
    out->slices = k;
    out->residual_mean = sr / (double)k;
    out->unsampled_mean = su / (double)k;
    out->residual_std = sqrt(fmax(0.0, sr2 / (double)k - out->residual_mean * out->residual_mean)
                             * (double)k / (double)(k - 1));
    out->unsampled_std = sqrt(fmax(0.0, su2 / (double)k -
                                   out->unsampled_mean * out->unsampled_mean) *
                              (double)k / (double)(k - 1));
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int which = 0;
        const double s = score_of(reps[i].residual, reps[i].unsampled, out, &which);
        if (isfinite(s) && s > worst)
            worst = s;
    }
    out->threshold = fmax(MR_TRUST_THRESHOLD_MIN, 1.25 * worst);
    snprintf(out->data, sizeof(out->data), "%s", data != NULL ? data : "");
    return MR_OK;
}

static void add_stats(cJSON *obj, const char *name, double mean, double std)
{
    cJSON *f = cJSON_AddObjectToObject(obj, name);
    if (f == NULL)
        return;
    cJSON_AddNumberToObject(f, "log10_mean", mean);
    cJSON_AddNumberToObject(f, "log10_std", std);
}

char *mr_trust_reference_json(const struct mr_trust_reference *ref)
{
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    if (root == NULL)
        return NULL;
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "slices", (double)ref->slices);
    add_stats(root, "residual", ref->residual_mean, ref->residual_std);
    add_stats(root, "unsampled", ref->unsampled_mean, ref->unsampled_std);
    cJSON_AddNumberToObject(root, "threshold", ref->threshold);
    cJSON_AddStringToObject(root, "data", ref->data);
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static mr_status number(const cJSON *obj, const char *name, const char *what, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: '%s' must be a finite number", what,
                       name);
    *out = v->valuedouble;
    return MR_OK;
}

static mr_status stats(const cJSON *root, const char *name, const char *what, double *mean,
                       double *std)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, name);
    mr_status st = MR_OK;
    if (!cJSON_IsObject(f))
        return MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: no object '%s'", what, name);
    MR_CHECK(number(f, "log10_mean", what, mean));
    MR_CHECK(number(f, "log10_std", what, std));
    if (*std < 0.0)
        st = MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: %s.log10_std %g is negative", what,
                     name, *std);
out:
    return st;
}

mr_status mr_trust_reference_parse(const char *json, const char *what,
                                   struct mr_trust_reference *out)
{
    mr_status st = MR_OK;
    cJSON *root = cJSON_Parse(json);
    double slices = 0.0;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(root)) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference is not a JSON object", what);
        goto out;
    }
    MR_CHECK(number(root, "slices", what, &slices));
    out->slices = (int64_t)slices;
    MR_CHECK(stats(root, "residual", what, &out->residual_mean, &out->residual_std));
    MR_CHECK(stats(root, "unsampled", what, &out->unsampled_mean, &out->unsampled_std));
    MR_CHECK(number(root, "threshold", what, &out->threshold));
    if (!(out->threshold > 0.0)) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: threshold %g must be positive", what,
                     out->threshold);
        goto out;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (cJSON_IsString(d))
        snprintf(out->data, sizeof(out->data), "%s", d->valuestring);
out:
    cJSON_Delete(root);
    return st;
}

mr_status mr_trust_reference_read(const char *weights, struct mr_trust_reference *out,
                                  bool *present)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    char *text = NULL;

    *present = false;
    MR_CHECK(mr_h5_open(weights, &h));
    if (!mr_h5_has_attr(h, "/", MR_TRUST_ATTRIBUTE))
        goto out;
    MR_CHECK(mr_h5_read_attr_string(h, "/", MR_TRUST_ATTRIBUTE, &text));
    MR_CHECK(mr_trust_reference_parse(text, weights, out));
    *present = true;
out:
    free(text);
    mr_h5_close(h);
    return st;
}

mr_status mr_trust_reference_store(const char *weights, const struct mr_trust_reference *ref)
{
    mr_status st = MR_OK;
    struct mr_h5 *h = NULL;
    char *text = mr_trust_reference_json(ref);

    if (text == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "trust reference text");
    MR_CHECK(mr_h5_update(weights, &h));
    MR_CHECK(mr_h5_write_attr_string(h, "/", MR_TRUST_ATTRIBUTE, text));
    st = mr_h5_commit(h);
    h = NULL;
out:
    mr_h5_close(h);
    free(text);
    return st;
}

/* a number, or null when not finite (JSON has no NaN) */
static void add_num(cJSON *obj, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(obj, name, v);
    else
        cJSON_AddNullToObject(obj, name);
}

char *mr_trust_report_json(const struct mr_trust_report *r)
{
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    if (root == NULL)
        return NULL;
    add_num(root, "residual", r->residual);
    add_num(root, "unsampled", r->unsampled);
    add_num(root, "unsampled_vs_cg", r->unsampled_vs_cg);
    add_num(root, "regularizer", r->regularizer);
    add_num(root, "score", r->score);
    cJSON_AddBoolToObject(root, "flagged", r->flagged);
    cJSON_AddStringToObject(root, "reason", r->reason);
    cJSON *steps = cJSON_AddArrayToObject(root, "steps");
    const int ns = r->nsteps < MR_TRUST_STEPS_MAX ? r->nsteps : MR_TRUST_STEPS_MAX;
    for (int i = 0; steps != NULL && i < ns; i++) {
        cJSON *s = cJSON_CreateObject();
        if (s == NULL)
            break;
        add_num(s, "residual", r->step_residual[i]);
        add_num(s, "unsampled", r->step_unsampled[i]);
        cJSON_AddItemToArray(steps, s);
    }
    cJSON *obj = cJSON_AddArrayToObject(root, "objective");
    const int no = r->nobjective < MR_TRUST_STEPS_MAX ? r->nobjective : MR_TRUST_STEPS_MAX;
    for (int i = 0; obj != NULL && i < no; i++)
        cJSON_AddItemToArray(obj, isfinite(r->objective[i])
                                      ? cJSON_CreateNumber(r->objective[i])
                                      : cJSON_CreateNull());
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

struct mr_trust_doc {
    cJSON *root;
    cJSON *slices;
    int64_t flagged;
    double max_score;
    char first_key[16];
    int64_t first_index;
    char first_reason[sizeof(((struct mr_trust_report *)0)->reason)];
};

mr_status mr_trust_doc_create(const char *input, const char *method,
                              const struct mr_trust_reference *ref, struct mr_trust_doc **out)
{
    struct mr_trust_doc *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (d == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "trust report");
    d->max_score = NAN;
    d->root = cJSON_CreateObject();
    if (d->root != NULL) {
        cJSON_AddStringToObject(d->root, "input", input);
        cJSON_AddStringToObject(d->root, "method", method);
        char *text = ref != NULL ? mr_trust_reference_json(ref) : NULL;
        cJSON *r = text != NULL ? cJSON_Parse(text) : cJSON_CreateNull();
        free(text);
        if (r != NULL)
            cJSON_AddItemToObject(d->root, "reference", r);
        d->slices = cJSON_CreateArray();
    }
    if (d->root == NULL || d->slices == NULL) {
        mr_trust_doc_free(d);
        return MR_FAIL(MR_ERR_NOMEM, "trust report");
    }
    *out = d;
    return MR_OK;
}

void mr_trust_doc_free(struct mr_trust_doc *d)
{
    if (d == NULL)
        return;
    cJSON_Delete(d->root);
    cJSON_Delete(d->slices); /* kept apart from root until written */
    free(d);
}

mr_status mr_trust_doc_add(struct mr_trust_doc *d, const char *key, int64_t index,
                           const struct mr_trust_report *r)
{
    char *text = mr_trust_report_json(r);
    cJSON *item = text != NULL ? cJSON_Parse(text) : NULL;
    free(text);
    if (item == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "trust report");
    cJSON_AddItemToObject(item, key, cJSON_CreateNumber((double)index));
    cJSON_AddItemToArray(d->slices, item);
    if (isfinite(r->score) && !(r->score <= d->max_score))
        d->max_score = r->score;
    if (r->flagged) {
        if (d->flagged == 0) {
            snprintf(d->first_key, sizeof(d->first_key), "%s", key);
            d->first_index = index;
            snprintf(d->first_reason, sizeof(d->first_reason), "%s", r->reason);
        }
        d->flagged++;
    }
    return MR_OK;
}

int64_t mr_trust_doc_flagged(const struct mr_trust_doc *d)
{
    return d->flagged;
}

bool mr_trust_doc_first_flag(const struct mr_trust_doc *d, const char **key, int64_t *index,
                             const char **reason)
{
    if (d->flagged == 0)
        return false;
    *key = d->first_key;
    *index = d->first_index;
    *reason = d->first_reason;
    return true;
}

mr_status mr_trust_doc_write(const struct mr_trust_doc *d, const char *path)
{
    mr_status st = MR_OK;
    struct mr_atomic_file af;
    cJSON *copy = cJSON_Duplicate(d->root, 1);
    char *text = NULL;

    if (copy != NULL) {
        cJSON_AddNumberToObject(copy, "flagged", (double)d->flagged);
        if (isfinite(d->max_score))
            cJSON_AddNumberToObject(copy, "max_score", d->max_score);
        else
            cJSON_AddNullToObject(copy, "max_score");
        cJSON *sl = cJSON_Duplicate(d->slices, 1);
        if (sl != NULL)
            cJSON_AddItemToObject(copy, "slices", sl);
        text = cJSON_Print(copy);
    }
    cJSON_Delete(copy);
    if (text == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "trust report '%s'", path);
    MR_CHECK(mr_atomic_file_open(&af, path));
    fputs(text, af.f);
    fputc('\n', af.f);
    st = mr_atomic_file_commit(&af);
out:
    free(text);
    return st;
}
