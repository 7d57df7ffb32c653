/*
 * Mask specification strings (see mask_spec.h): a table of kinds, a table of keys with the
 * kinds that accept them, and one dispatch to the generators of sampling/mask.h.
 */
#include "sampling/mask_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampling/mask.h"
#include "sampling/rng.h"

#define K(kind) (1u << (kind))
#define K_FASTMRI                                                                                \
    (K(MR_MASK_KIND_RANDOM) | K(MR_MASK_KIND_EQUISPACED) | K(MR_MASK_KIND_EQUISPACED_FRACTION) | \
     K(MR_MASK_KIND_MAGIC) | K(MR_MASK_KIND_MAGIC_FRACTION))
#define K_OFFSET (K_FASTMRI & ~K(MR_MASK_KIND_RANDOM))
#define K_GAUSS (K(MR_MASK_KIND_GAUSSIAN1D) | K(MR_MASK_KIND_GAUSSIAN2D))
#define K_ATOMMIC (K(MR_MASK_KIND_EQUISPACED2D) | K_GAUSS | K(MR_MASK_KIND_POISSON2D))
#define K_BART (K(MR_MASK_KIND_BART_POISSON) | K(MR_MASK_KIND_BART_UPAT))

static const struct {
    const char *name;
    enum mr_mask_kind kind;
    bool one_d;
} kinds[] = {
    { "random", MR_MASK_KIND_RANDOM, true },
    { "equispaced", MR_MASK_KIND_EQUISPACED, true },
    { "equispaced-fraction", MR_MASK_KIND_EQUISPACED_FRACTION, true },
    { "magic", MR_MASK_KIND_MAGIC, true },
    { "magic-fraction", MR_MASK_KIND_MAGIC_FRACTION, true },
    { "equispaced2d", MR_MASK_KIND_EQUISPACED2D, false },
    { "gaussian1d", MR_MASK_KIND_GAUSSIAN1D, true },
    { "gaussian2d", MR_MASK_KIND_GAUSSIAN2D, false },
    { "poisson2d", MR_MASK_KIND_POISSON2D, false },
    { "bart-poisson", MR_MASK_KIND_BART_POISSON, false },
    { "bart-upat", MR_MASK_KIND_BART_UPAT, false },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

enum key_id {
    KEY_ACCEL,
    KEY_CENTER,
    KEY_ANY,
    KEY_SEED,
    KEY_OFFSET,
    KEY_SCALE,
    KEY_TOL,
    KEY_ACCEL_Y,
    KEY_ACCEL_Z,
    KEY_CALIB,
    KEY_VD,
    KEY_ELLIPSE,
    KEY_MINDIST,
};

static const struct {
    const char *name;
    enum key_id id;
    unsigned kinds;
} keys[] = {
    { "accel", KEY_ACCEL, K_FASTMRI | K_ATOMMIC },
    { "center", KEY_CENTER, K_FASTMRI | K(MR_MASK_KIND_EQUISPACED2D) | K_GAUSS },
    { "any", KEY_ANY, K_FASTMRI },
    { "seed", KEY_SEED, K_FASTMRI | K_ATOMMIC | K(MR_MASK_KIND_BART_POISSON) },
    { "offset", KEY_OFFSET, K_OFFSET },
    { "scale", KEY_SCALE, K_GAUSS | K(MR_MASK_KIND_POISSON2D) },
    { "tol", KEY_TOL, K(MR_MASK_KIND_POISSON2D) },
    { "accel_y", KEY_ACCEL_Y, K_BART },
    { "accel_z", KEY_ACCEL_Z, K_BART },
    { "calib", KEY_CALIB, K_BART },
    { "vd", KEY_VD, K(MR_MASK_KIND_BART_POISSON) },
    { "ellipse", KEY_ELLIPSE, K(MR_MASK_KIND_BART_POISSON) },
    { "mindist", KEY_MINDIST, K(MR_MASK_KIND_BART_POISSON) },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *mr_mask_kind_name(enum mr_mask_kind kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "?";
}

bool mr_mask_kind_is_1d(enum mr_mask_kind kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].one_d;
    return false;
}

static void set_defaults(struct mr_mask_spec *s, enum mr_mask_kind kind)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->naccel = 1;
    s->accel[0] = 4.0;
    s->ncenter = 1;
    s->center[0] = (K(kind) & K_GAUSS) != 0 ? 0.7 : 0.08;
    s->offset = -1;
    s->scale = 0.02;
    s->tol = 0.3;
    s->accel_y = 1.0;
    s->accel_z = kind == MR_MASK_KIND_BART_UPAT ? 2.0 : 1.0;
    s->mindist = (double)mr_bart_poisson_config_default.mindist;
}

/* strtod on the whole of [p, end) */
static bool parse_number(const char *p, const char *end, double *v)
{
    char buf[64];
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *e = NULL;
    errno = 0;
    *v = strtod(buf, &e);
    return errno == 0 && *e == '\0' && isfinite(*v);
}

static mr_status bad_value(const char *spec, const char *key, const char *p, const char *end,
                           const char *expected)
{
    return MR_FAIL(MR_ERR_ARG, "mask spec '%s': %s=%.*s is invalid (expected %s)", spec, key,
                   (int)(end - p), p, expected);
}

static mr_status parse_list(const char *spec, const char *key, const char *p, const char *end,
                            double *vals, int *n)
{
    int k = 0;
    while (p < end) {
        const char *sep = memchr(p, '/', (size_t)(end - p));
        const char *e = sep != NULL ? sep : end;
        if (k == MR_MASK_SPEC_MAX_CHOICES || !parse_number(p, e, &vals[k]))
            return bad_value(spec, key, p, end, "numbers separated by '/', at most 8");
        k++;
        p = sep != NULL ? sep + 1 : end;
        if (sep != NULL && p == end)
            return bad_value(spec, key, p, end, "a number after '/'");
    }
    if (k == 0)
        return bad_value(spec, key, p, end, "a number");
    *n = k;
    return MR_OK;
}

static mr_status parse_value(const char *spec, struct mr_mask_spec *s, enum key_id id,
                             const char *key, const char *p, const char *end)
{
    double v = 0.0;
    bool num = parse_number(p, end, &v);

    switch (id) {
    case KEY_ACCEL: return parse_list(spec, key, p, end, s->accel, &s->naccel);
    case KEY_CENTER: return parse_list(spec, key, p, end, s->center, &s->ncenter);
    case KEY_ANY:
    case KEY_ELLIPSE:
        if (!num || (v != 0.0 && v != 1.0))
            return bad_value(spec, key, p, end, "0 or 1");
        if (id == KEY_ANY)
            s->any_combination = v != 0.0;
        else
            s->ellipse = v != 0.0;
        return MR_OK;
    case KEY_SEED:
        if (num) {
            if (v < 0.0 || v > 4294967295.0 || v != floor(v))
                return bad_value(spec, key, p, end, "an integer in [0, 2^32) or a file name");
            s->has_seed = true;
            s->seed = (uint32_t)v;
            s->seed_name[0] = '\0';
            return MR_OK;
        }
        if ((size_t)(end - p) >= sizeof(s->seed_name) || end == p)
            return bad_value(spec, key, p, end, "a file name of 1 to 255 bytes");
        memcpy(s->seed_name, p, (size_t)(end - p));
        s->seed_name[end - p] = '\0';
        s->has_seed = false;
        return MR_OK;
    case KEY_OFFSET:
        if (!num || v < 0.0 || v != floor(v) || v > 1e9)
            return bad_value(spec, key, p, end, "a non-negative integer");
        s->offset = (int64_t)v;
        return MR_OK;
    case KEY_CALIB:
        if (!num || v < 0.0 || v != floor(v) || v > 1e6)
            return bad_value(spec, key, p, end, "a non-negative integer");
        s->calib = (int)v;
        return MR_OK;
    case KEY_SCALE:
    case KEY_TOL:
    case KEY_VD:
    case KEY_MINDIST:
    case KEY_ACCEL_Y:
    case KEY_ACCEL_Z:
        if (!num || v < 0.0)
            return bad_value(spec, key, p, end, "a non-negative number");
        if (id == KEY_SCALE)
            s->scale = v;
        else if (id == KEY_TOL)
            s->tol = v;
        else if (id == KEY_VD)
            s->vardens = v;
        else if (id == KEY_MINDIST)
            s->mindist = v;
        else if (id == KEY_ACCEL_Y)
            s->accel_y = v;
        else
            s->accel_z = v;
        return MR_OK;
    }
    return MR_FAIL(MR_ERR_ARG, "mask spec '%s': key %s", spec, key);
}

static void keys_of(enum mr_mask_kind kind, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS && pos < len; i++)
        if ((keys[i].kinds & K(kind)) != 0)
            pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos > 0 ? ", " : "",
                                    keys[i].name);
}

mr_status mr_mask_spec_parse(const char *spec, struct mr_mask_spec *out)
{
    const char *colon = strchr(spec, ':');
    size_t klen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    size_t k = 0;

    while (k < NKINDS &&
           !(strlen(kinds[k].name) == klen && strncmp(kinds[k].name, spec, klen) == 0))
        k++;
    if (k == NKINDS)
        return MR_FAIL(MR_ERR_ARG, "mask spec '%s': unknown kind '%.*s' (expected random, "
                       "equispaced, equispaced-fraction, magic, magic-fraction, equispaced2d, "
                       "gaussian1d, gaussian2d, poisson2d, bart-poisson or bart-upat)", spec,
                       (int)klen, spec);
    struct mr_mask_spec s;
    set_defaults(&s, kinds[k].kind);

    const char *p = colon != NULL ? colon + 1 : spec + klen;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL)
            return MR_FAIL(MR_ERR_ARG, "mask spec '%s': '%.*s' is not KEY=VALUE", spec,
                           (int)(end - p), p);
        char key[32];
        size_t kl = (size_t)(eq - p);
        size_t i = 0;
        if (kl < sizeof(key)) {
            memcpy(key, p, kl);
            key[kl] = '\0';
            while (i < NKEYS && !(strcmp(keys[i].name, key) == 0 &&
                                  (keys[i].kinds & K(s.kind)) != 0))
                i++;
        } else {
            i = NKEYS;
        }
        if (i == NKEYS) {
            char list[256];
            keys_of(s.kind, list, sizeof(list));
            return MR_FAIL(MR_ERR_ARG, "mask spec '%s': unknown key '%.*s' for %s (expected "
                           "%s)", spec, (int)kl, p, kinds[k].name, list);
        }
        mr_status st = parse_value(spec, &s, keys[i].id, key, eq + 1, end);
        if (st != MR_OK)
            return st;
        p = comma != NULL ? comma + 1 : end;
        if (comma != NULL && *p == '\0')
            return MR_FAIL(MR_ERR_ARG, "mask spec '%s': trailing ','", spec);
    }
    if (!s.any_combination && (K(s.kind) & (K_FASTMRI | K_ATOMMIC)) != 0 &&
        s.naccel != s.ncenter) {
        if (s.ncenter == 1 && (K(s.kind) & K(MR_MASK_KIND_POISSON2D)) != 0) {
            /* poisson2d ignores center: one value per accel */
            for (int i = 1; i < s.naccel; i++)
                s.center[i] = s.center[0];
            s.ncenter = s.naccel;
        } else {
            return MR_FAIL(MR_ERR_ARG, "mask spec '%s': %d accel values but %d center values "
                           "(equal counts are required unless any=1)", spec, s.naccel,
                           s.ncenter);
        }
    }
    *out = s;
    return MR_OK;
}

static mr_status seed_rng(const struct mr_mask_spec *s, const char *fname, struct mr_rng *rng)
{
    if (s->has_seed) {
        mr_rng_seed(rng, s->seed);
        return MR_OK;
    }
    if (s->seed_name[0] != '\0')
        return mr_rng_seed_name(rng, s->seed_name);
    if (fname != NULL)
        return mr_rng_seed_name(rng, fname);
    mr_rng_seed(rng, 0);
    return MR_OK;
}

static mr_status generate_1d(const struct mr_mask_spec *s, struct mr_rng *rng, int64_t w,
                             float *col, struct mr_mask_result *r)
{
    double cf;
    double acc;
    mr_mask_choose(rng, s->ncenter, s->center, s->naccel, s->accel, s->any_combination, &cf,
                   &acc);
    r->accel = acc;
    r->center = cf;
    switch (s->kind) {
    case MR_MASK_KIND_RANDOM: return mr_mask_fastmri_random(col, w, cf, acc, rng, &r->nlow);
    case MR_MASK_KIND_EQUISPACED:
        return mr_mask_fastmri_equispaced(col, w, cf, acc, s->offset, rng, &r->nlow);
    case MR_MASK_KIND_EQUISPACED_FRACTION:
        return mr_mask_fastmri_equispaced_fraction(col, w, cf, acc, s->offset, rng, &r->nlow);
    case MR_MASK_KIND_MAGIC:
        return mr_mask_fastmri_magic(col, w, cf, acc, s->offset, rng, &r->nlow);
    case MR_MASK_KIND_MAGIC_FRACTION:
        return mr_mask_fastmri_magic_fraction(col, w, cf, acc, s->offset, rng, &r->nlow);
    case MR_MASK_KIND_GAUSSIAN1D: return mr_mask_gaussian_1d(col, w, cf, acc, s->scale, rng);
    default: break;
    }
    MR_ASSERT(0);
    return MR_ERR_ARG;
}

static mr_status generate_2d(const struct mr_mask_spec *s, struct mr_rng *rng, int64_t h,
                             int64_t w, float *m, struct mr_mask_result *r)
{
    double cf = 0.0;
    double acc = 0.0;

    if ((K(s->kind) & K_ATOMMIC) != 0) {
        mr_mask_choose(rng, s->ncenter, s->center, s->naccel, s->accel, false, &cf, &acc);
        r->accel = acc;
        r->center = cf;
    }
    switch (s->kind) {
    case MR_MASK_KIND_EQUISPACED2D:
        return mr_mask_atommic_equispaced_2d(m, h, w, cf, acc, &r->accel);
    case MR_MASK_KIND_GAUSSIAN2D: return mr_mask_gaussian_2d(m, h, w, cf, acc, s->scale, rng);
    case MR_MASK_KIND_POISSON2D: {
        struct mr_poisson2d_config pc = mr_poisson2d_config_default;
        pc.center_scale = s->scale;
        pc.tol = s->tol;
        r->center = 0.0;
        return mr_mask_poisson_2d(m, h, w, acc, &pc, rng, NULL);
    }
    case MR_MASK_KIND_BART_POISSON: {
        struct mr_bart_poisson_config bc = mr_bart_poisson_config_default;
        if (h > 1 << 20 || w > 1 << 20)
            return MR_FAIL(MR_ERR_ARG, "bart-poisson: %lldx%lld is too large", (long long)h,
                           (long long)w);
        bc.y = (int)w;
        bc.z = (int)h;
        bc.accel_y = (float)s->accel_y;
        bc.accel_z = (float)s->accel_z;
        bc.calib = s->calib;
        bc.vardens = (float)s->vardens;
        bc.ellipse = s->ellipse;
        bc.mindist = (float)s->mindist;
        if (s->has_seed)
            bc.seed = s->seed;
        r->accel = s->accel_y * s->accel_z;
        return mr_mask_bart_poisson(m, &bc, &r->points);
    }
    case MR_MASK_KIND_BART_UPAT:
        if (s->accel_y != floor(s->accel_y) || s->accel_z != floor(s->accel_z) ||
            h > 1 << 20 || w > 1 << 20 || s->accel_y > 1e6 || s->accel_z > 1e6)
            return MR_FAIL(MR_ERR_ARG, "bart-upat: accel_y=%g, accel_z=%g must be integers",
                           s->accel_y, s->accel_z);
        r->accel = s->accel_y * s->accel_z;
        return mr_mask_bart_upat(m, (int)w, (int)h, (int)s->accel_y, (int)s->accel_z, s->calib);
    default: break;
    }
    MR_ASSERT(0);
    return MR_ERR_ARG;
}

mr_status mr_mask_spec_generate(const struct mr_mask_spec *spec, int64_t h, int64_t w,
                                const char *fname, struct mr_array *mask,
                                struct mr_array *column, struct mr_mask_result *result)
{
    mr_status st = MR_OK;
    struct mr_rng rng;
    struct mr_mask_result r = { 0 };
    const bool one_d = mr_mask_kind_is_1d(spec->kind);

    memset(mask, 0, sizeof(*mask));
    if (column != NULL)
        memset(column, 0, sizeof(*column));
    if (h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "%s mask: size %lldx%lld", mr_mask_kind_name(spec->kind),
                       (long long)h, (long long)w);
    MR_CHECK(seed_rng(spec, fname, &rng));
    MR_CHECK(mr_array_init_dims(mask, MR_DTYPE_F32, 2, h, w));
    if (one_d) {
        float *m = mr_array_f32(mask);
        MR_CHECK(generate_1d(spec, &rng, w, m, &r));
        for (int64_t i = 1; i < h; i++)
            memcpy(m + i * w, m, sizeof(float) * (size_t)w);
        if (column != NULL) {
            MR_CHECK(mr_array_init_dims(column, MR_DTYPE_F32, 1, w));
            memcpy(mr_array_f32(column), m, sizeof(float) * (size_t)w);
        }
    } else {
        MR_CHECK(generate_2d(spec, &rng, h, w, mr_array_f32(mask), &r));
    }
    if (spec->kind != MR_MASK_KIND_BART_POISSON) {
        const float *m = mr_array_f32(mask);
        int64_t n = one_d ? w : h * w;
        for (int64_t i = 0; i < n; i++)
            r.points += m[i] != 0.0f;
    }
    if (result != NULL)
        *result = r;
out:
    if (st != MR_OK) {
        mr_array_cleanup(mask);
        if (column != NULL)
            mr_array_cleanup(column);
    }
    return st;
}
