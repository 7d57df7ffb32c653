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
    r->reduction = NAN;
    r->outlier = NAN;
    r->accel = NAN;
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

const char *mr_trust_mask_kind_name(unsigned kind)
{
    switch (kind) {
    case MR_TRUST_MASK_COLUMNS: return "columns";
    case MR_TRUST_MASK_ROWS: return "rows";
    case MR_TRUST_MASK_2D: return "2d";
    case MR_TRUST_MASK_FULL: return "full";
    default: return "none";
    }
}

void mr_trust_mask_features(const float *mask, int64_t h, int64_t w, unsigned *kind,
                            double *accel)
{
    int64_t n = 0;
    bool cols = true; /* every column constant along H */
    bool rows = true; /* every row constant along W */

    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            const bool m = mask[y * w + x] != 0.0f;
            n += m;
            if (m != (mask[x] != 0.0f))
                cols = false;
            if (m != (mask[y * w] != 0.0f))
                rows = false;
        }
    *accel = n > 0 ? (double)(h * w) / (double)n : 0.0;
    if (n == 0)
        *kind = 0;
    else if (n == h * w)
        *kind = MR_TRUST_MASK_FULL;
    else if (cols)
        *kind = MR_TRUST_MASK_COLUMNS;
    else if (rows)
        *kind = MR_TRUST_MASK_ROWS;
    else
        *kind = MR_TRUST_MASK_2D;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

double mr_trust_line_outlier(const float *ksp, const float *mask, int64_t nc, int64_t h,
                             int64_t w, unsigned kind)
{
    if (kind != MR_TRUST_MASK_COLUMNS && kind != MR_TRUST_MASK_ROWS)
        return NAN;
    const bool cols = kind == MR_TRUST_MASK_COLUMNS;
    const int64_t nl = cols ? w : h;
    double *e = calloc((size_t)nl, sizeof(*e));
    int64_t *line = malloc(sizeof(*line) * (size_t)nl);
    double worst = NAN;
    int64_t ns = 0;

    if (e == NULL || line == NULL)
        goto out;
    for (int64_t c = 0; c < nc; c++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                const float *v = ksp + 2 * ((c * h + y) * w + x);
                e[cols ? x : y] += (double)v[0] * (double)v[0] + (double)v[1] * (double)v[1];
            }
    for (int64_t l = 0; l < nl; l++)
        if (mask[cols ? l : l * w] != 0.0f)
            line[ns++] = l;
    if (ns < MR_TRUST_OUTLIER_NEIGHBOURS + 1)
        goto out;
    worst = 0.0;
    for (int64_t i = 0; i < ns; i++) {
        /* the sampled lines nearest in |distance from the centre|, by a merge outwards */
        const int64_t d = llabs(line[i] - nl / 2);
        double nb[MR_TRUST_OUTLIER_NEIGHBOURS];
        int64_t best[MR_TRUST_OUTLIER_NEIGHBOURS];
        int k = 0;
        for (int64_t j = 0; j < ns; j++) {
            if (j == i)
                continue;
            const int64_t dj = llabs(llabs(line[j] - nl / 2) - d);
            int at = k < MR_TRUST_OUTLIER_NEIGHBOURS ? k++ : MR_TRUST_OUTLIER_NEIGHBOURS;
            while (at > 0 && llabs(llabs(line[best[at - 1]] - nl / 2) - d) > dj) {
                if (at < MR_TRUST_OUTLIER_NEIGHBOURS)
                    best[at] = best[at - 1];
                at--;
            }
            if (at < MR_TRUST_OUTLIER_NEIGHBOURS)
                best[at] = j;
        }
        for (int q = 0; q < k; q++)
            nb[q] = e[line[best[q]]];
        qsort(nb, (size_t)k, sizeof(nb[0]), cmp_double);
        const double med = 0.5 * (nb[(k - 1) / 2] + nb[k / 2]);
        if (med > 0.0 && e[line[i]] / med > worst)
            worst = e[line[i]] / med;
    }
out:
    free(e);
    free(line);
    return worst;
}

struct mr_trust_features mr_trust_features_of(const struct mr_trust_report *r)
{
    struct mr_trust_features f = { .residual = r->residual, .unsampled = r->unsampled,
                                   .reduction = NAN, .outlier = r->outlier, .accel = r->accel,
                                   .mask_kind = r->mask_kind };
    if (r->nsteps >= 2 && r->residual > 0.0 && isfinite(r->step_residual[0]))
        f.reduction = r->step_residual[0] / r->residual;
    return f;
}

static double sigma(double s)
{
    return s > MR_TRUST_SIGMA_MIN ? s : MR_TRUST_SIGMA_MIN;
}

/* how many σ log10(v) lies above (sign 1), below (sign -1) or away from (sign 0) the mean;
 * NaN when the feature is unused or v unusable */
static double zscore(const struct mr_trust_stat *st, double v, int sign)
{
    if (isnan(st->std) || isnan(v) || v < 0.0)
        return NAN;
    if (v == 0.0)
        return sign > 0 ? 0.0 : (double)INFINITY; /* exactly consistent / nothing at all */
    const double z = (log10(v) - st->mean) / sigma(st->std);
    return sign > 0 ? z : sign < 0 ? -z : fabs(z);
}

#define NFEATURES 4
static const char *const feature_name[NFEATURES] = {
    "data-consistency residual", "k-space energy at unsampled points",
    "residual reduction by the network", "strongest measured line over its neighbours",
};

/* feature i of f, and its statistics in ref */
static double feature(const struct mr_trust_features *f, int i)
{
    const double v[NFEATURES] = { f->residual, f->unsampled, f->reduction, f->outlier };
    return v[i];
}

static const struct mr_trust_stat *stat_of(const struct mr_trust_reference *ref, int i)
{
    const struct mr_trust_stat *st[NFEATURES] = { &ref->residual, &ref->unsampled,
                                                  &ref->reduction, &ref->outlier };
    return st[i];
}

/* the score (the largest z) and which feature gave it (-1: none) */
static double score_of(const struct mr_trust_features *f, const struct mr_trust_reference *ref,
                       int *which)
{
    static const int sign[NFEATURES] = { 1, 0, -1, 1 };
    double z[NFEATURES];
    for (int i = 0; i < NFEATURES; i++)
        z[i] = zscore(stat_of(ref, i), feature(f, i), sign[i]);
    double best = NAN;
    *which = -1;
    for (int i = 0; i < NFEATURES; i++)
        if (!isnan(z[i]) && !(z[i] <= best)) {
            best = z[i];
            *which = i;
        }
    return best;
}

void mr_trust_score(struct mr_trust_report *r, const struct mr_trust_reference *ref)
{
    const struct mr_trust_features f = mr_trust_features_of(r);
    int which = -1;

    r->reduction = f.reduction;
    r->score = score_of(&f, ref, &which);
    r->reason[0] = '\0';
    r->flagged = false;
    if (which >= 0 && r->score > ref->threshold) {
        const double v = feature(&f, which);
        const struct mr_trust_stat *st = stat_of(ref, which);
        snprintf(r->reason, sizeof(r->reason), "%s %.3g is %.1f sigma from the reference %.3g",
                 feature_name[which], v, r->score, pow(10.0, st->mean));
        r->flagged = true;
    } else if (ref->mask_kinds != 0 && (r->mask_kind & ref->mask_kinds) == 0) {
        snprintf(r->reason, sizeof(r->reason), "mask kind '%s' never seen in calibration",
                 mr_trust_mask_kind_name(r->mask_kind));
        r->flagged = true;
    } else if (ref->accel_max > 0.0 && (r->accel > ref->accel_max * MR_TRUST_ACCEL_MARGIN ||
                                        r->accel < ref->accel_min / MR_TRUST_ACCEL_MARGIN)) {
        snprintf(r->reason, sizeof(r->reason),
                 "acceleration %.2f outside the calibrated %.2f..%.2f", r->accel,
                 ref->accel_min, ref->accel_max);
        r->flagged = true;
    }
}

/* mean and (sample) standard deviation of log10 of the positive finite values; std NaN with
 * fewer than 2 */
static struct mr_trust_stat fit_stat(const struct mr_trust_features *f, int64_t n, int which)
{
    double s1 = 0.0;
    double s2 = 0.0;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        const double v = feature(&f[i], which);
        if (!(v > 0.0) || !isfinite(v))
            continue;
        s1 += log10(v);
        s2 += log10(v) * log10(v);
        k++;
    }
    struct mr_trust_stat st = { .mean = k > 0 ? s1 / (double)k : (double)NAN, .std = NAN };
    if (k >= 2)
        st.std = sqrt(fmax(0.0, (s2 - s1 * st.mean) / (double)(k - 1)));
    return st;
}

mr_status mr_trust_reference_fit(const struct mr_trust_features *f, int64_t n, const char *data,
                                 struct mr_trust_reference *out)
{
    int64_t usable = 0;
    for (int64_t i = 0; i < n; i++)
        usable += f[i].residual > 0.0 && isfinite(f[i].residual) && f[i].unsampled > 0.0 &&
                  isfinite(f[i].unsampled);
    if (usable < 2)
        return MR_FAIL(MR_ERR_DATA, "trust reference: %lld usable slices (a finite, positive "
                       "residual and unsampled energy), at least 2 are needed",
                       (long long)usable);
    memset(out, 0, sizeof(*out));
    out->slices = usable;
    out->residual = fit_stat(f, n, 0);
    out->unsampled = fit_stat(f, n, 1);
    out->reduction = fit_stat(f, n, 2);
    out->outlier = fit_stat(f, n, 3);
    out->accel_min = INFINITY;
    for (int64_t i = 0; i < n; i++) {
        out->mask_kinds |= f[i].mask_kind;
        if (f[i].accel > 0.0) {
            out->accel_min = fmin(out->accel_min, f[i].accel);
            out->accel_max = fmax(out->accel_max, f[i].accel);
        }
    }
    if (out->accel_max == 0.0)
        out->accel_min = 0.0;
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int which = -1;
        const double sc = score_of(&f[i], out, &which);
        if (isfinite(sc) && sc > worst)
            worst = sc;
    }
    out->threshold = fmax(MR_TRUST_THRESHOLD_MIN, 1.25 * worst);
    snprintf(out->data, sizeof(out->data), "%s", data != NULL ? data : "");
    return MR_OK;
}

static void add_stat(cJSON *obj, const char *name, const struct mr_trust_stat *st)
{
    if (isnan(st->std))
        return; /* unused feature */
    cJSON *f = cJSON_AddObjectToObject(obj, name);
    if (f == NULL)
        return;
    cJSON_AddNumberToObject(f, "log10_mean", st->mean);
    cJSON_AddNumberToObject(f, "log10_std", st->std);
}

char *mr_trust_reference_json(const struct mr_trust_reference *ref)
{
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    if (root == NULL)
        return NULL;
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "slices", (double)ref->slices);
    add_stat(root, "residual", &ref->residual);
    add_stat(root, "unsampled", &ref->unsampled);
    add_stat(root, "reduction", &ref->reduction);
    add_stat(root, "outlier", &ref->outlier);
    cJSON *kinds = cJSON_AddArrayToObject(root, "mask_kinds");
    for (unsigned k = 1; kinds != NULL && k <= MR_TRUST_MASK_FULL; k <<= 1)
        if (ref->mask_kinds & k)
            cJSON_AddItemToArray(kinds, cJSON_CreateString(mr_trust_mask_kind_name(k)));
    cJSON_AddNumberToObject(root, "accel_min", ref->accel_min);
    cJSON_AddNumberToObject(root, "accel_max", ref->accel_max);
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

/* a feature's statistics; absent (optional) = unused */
static mr_status parse_stat(const cJSON *root, const char *name, const char *what,
                            bool required, struct mr_trust_stat *st)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, name);
    mr_status s = MR_OK;
    st->mean = NAN;
    st->std = NAN;
    if (f == NULL && !required)
        return MR_OK;
    if (!cJSON_IsObject(f))
        return MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: no object '%s'", what, name);
    if ((s = number(f, "log10_mean", what, &st->mean)) != MR_OK ||
        (s = number(f, "log10_std", what, &st->std)) != MR_OK)
        return s;
    if (st->std < 0.0)
        return MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: %s.log10_std %g is negative", what,
                       name, st->std);
    return MR_OK;
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
    MR_CHECK(parse_stat(root, "residual", what, true, &out->residual));
    MR_CHECK(parse_stat(root, "unsampled", what, true, &out->unsampled));
    MR_CHECK(parse_stat(root, "reduction", what, false, &out->reduction));
    MR_CHECK(parse_stat(root, "outlier", what, false, &out->outlier));
    MR_CHECK(number(root, "threshold", what, &out->threshold));
    if (!(out->threshold > 0.0)) {
        st = MR_FAIL(MR_ERR_FORMAT, "%s: trust_reference: threshold %g must be positive", what,
                     out->threshold);
        goto out;
    }
    const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(root, "mask_kinds");
    const cJSON *k;
    cJSON_ArrayForEach(k, kinds)
    {
        for (unsigned b = 1; b <= MR_TRUST_MASK_FULL; b <<= 1)
            if (cJSON_IsString(k) && strcmp(k->valuestring, mr_trust_mask_kind_name(b)) == 0)
                out->mask_kinds |= b;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "accel_max") != NULL) {
        MR_CHECK(number(root, "accel_min", what, &out->accel_min));
        MR_CHECK(number(root, "accel_max", what, &out->accel_max));
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
    add_num(root, "reduction", r->reduction);
    add_num(root, "outlier", r->outlier);
    add_num(root, "accel", r->accel);
    cJSON_AddStringToObject(root, "mask_kind", mr_trust_mask_kind_name(r->mask_kind));
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

void mr_trust_report_summary(const struct mr_trust_report *r, char *buf, size_t len)
{
    char res[32];
    char score[32];
    snprintf(res, sizeof(res), isfinite(r->residual) ? "%.6g" : "nan", r->residual);
    snprintf(score, sizeof(score), isfinite(r->score) ? "%.6g" : "nan", r->score);
    snprintf(buf, len, "mrirecon trust: dc_residual %s, score %s, flag %d%s%s", res, score,
             r->flagged ? 1 : 0, r->flagged ? ": " : "", r->flagged ? r->reason : "");
}
