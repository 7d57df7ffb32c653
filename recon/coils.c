/*
 * Coil sensitivities from the ACS (coils.h): detect the calibration block, window it, inverse
 * FFT to low-resolution coil images and normalise by their root sum of squares (Pruessmann et
 * al., MRM 1999; McKenzie et al., MRM 2002).
 */
#include "recon/coils.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/combine.h"
#include "recon/sense.h"

const struct mr_coils_config mr_coils_config_default = {
    .window = 0.25f, .threshold = 0.05f, .refine = 2, .refine_size = 24, .refine_window = 1.0f,
};

struct mr_coils {
    int64_t nc;
    int64_t h;
    int64_t w;
    bool centered;
    struct mr_fft2 *fft;
    struct mr_array lowres; /* (C, H, W) CF32 */
    struct mr_array full;   /* (C, H, W) CF32: completed k-space for a refinement */
    struct mr_array rss;    /* (H, W) F32 */
    float *win_y;           /* h window values */
    float *win_x;           /* w window values */
};

/* stored index of centred index i on an axis of length n */
static int64_t stored(int64_t i, int64_t n, bool centered)
{
    return centered ? i : mr_fft_uncentred_index(i, n);
}

struct mask_view {
    const float *m;
    int64_t stride;
    int64_t h;
    int64_t w;
    bool centered;
};

/* sampled at centred coordinates (y, x) */
static bool at(const struct mask_view *v, int64_t y, int64_t x)
{
    return v->m[stored(y, v->h, v->centered) * v->stride + stored(x, v->w, v->centered)] != 0.0f;
}

static bool row_full(const struct mask_view *v, int64_t y, int64_t x0, int64_t x1)
{
    for (int64_t x = x0; x < x1; x++)
        if (!at(v, y, x))
            return false;
    return true;
}

static bool col_full(const struct mask_view *v, int64_t x, int64_t y0, int64_t y1)
{
    for (int64_t y = y0; y < y1; y++)
        if (!at(v, y, x))
            return false;
    return true;
}

static bool col_empty(const struct mask_view *v, int64_t x)
{
    for (int64_t y = 0; y < v->h; y++)
        if (at(v, y, x))
            return false;
    return true;
}

const struct mr_acs_config mr_acs_config_default = {
    .rule = MR_ACS_RULE_BLOCK,
    .centered = true,
    .num_low_frequencies = 0,
};

/* the largest run of sampled columns containing column W/2, or a grown rectangle (BLOCK) */
static mr_status acs_block(const struct mask_view *v, struct mr_acs *acs)
{
    const int64_t h = v->h;
    const int64_t w = v->w;
    const int64_t cy = h / 2;
    const int64_t cx = w / 2;

    if (!at(v, cy, cx))
        return MR_FAIL(MR_ERR_DATA, "the k-space centre (%lld, %lld) is not sampled: no "
                       "calibration region", (long long)cy, (long long)cx);
    bool columns = true;
    for (int64_t x = 0; x < w && columns; x++)
        columns = col_full(v, x, 0, h) || col_empty(v, x);

    struct mr_acs a = { .y0 = cy, .y1 = cy + 1, .x0 = cx, .x1 = cx + 1 };
    if (columns) {
        a.y0 = 0;
        a.y1 = h;
        while (a.x0 > 0 && col_full(v, a.x0 - 1, 0, h))
            a.x0--;
        while (a.x1 < w && col_full(v, a.x1, 0, h))
            a.x1++;
    } else {
        bool grown = true;
        while (grown) {
            grown = false;
            if (a.y0 > 0 && row_full(v, a.y0 - 1, a.x0, a.x1)) {
                a.y0--;
                grown = true;
            }
            if (a.y1 < h && row_full(v, a.y1, a.x0, a.x1)) {
                a.y1++;
                grown = true;
            }
            if (a.x0 > 0 && col_full(v, a.x0 - 1, a.y0, a.y1)) {
                a.x0--;
                grown = true;
            }
            if (a.x1 < w && col_full(v, a.x1, a.y0, a.y1)) {
                a.x1++;
                grown = true;
            }
        }
    }
    *acs = a;
    return MR_OK;
}

/* the nlf central columns of all rows */
static void acs_columns(int64_t h, int64_t w, int64_t nlf, struct mr_acs *acs)
{
    const int64_t pad = (w - nlf + 1) / 2;
    *acs = (struct mr_acs){ .y0 = 0, .y1 = h, .x0 = pad, .x1 = pad + nlf };
}

/* fastMRI's symmetric run around W/2 in row 0 (argmin quirks included) */
static int64_t acs_fastmri_columns(const struct mask_view *v)
{
    const int64_t w = v->w;
    const int64_t cent = w / 2;
    int64_t left = 0;
    int64_t right = 0;

    while (left < cent && at(v, 0, cent - 1 - left))
        left++;
    if (left == cent)
        left = 0; /* argmin over an all-sampled half returns 0 */
    while (cent + right < w && at(v, 0, cent + right))
        right++;
    if (cent + right == w)
        right = 0;
    const int64_t n = 2 * (left < right ? left : right);
    return n < 1 ? 1 : n;
}

/* DIRECT: a line mask's run through W/2, else the largest sampled disc around the centre */
static mr_status acs_direct(const struct mask_view *v, struct mr_acs *acs)
{
    const int64_t h = v->h;
    const int64_t w = v->w;
    bool lines = true;

    if (!at(v, h / 2, w / 2))
        return MR_FAIL(MR_ERR_DATA, "DIRECT framework: the k-space centre (%lld, %lld) is not "
                       "sampled, no ACS region to estimate sensitivities from",
                       (long long)(h / 2), (long long)(w / 2));
    for (int64_t i = 1; i < h && lines; i++)
        for (int64_t j = 0; j < w && lines; j++)
            lines = at(v, i, j) == at(v, 0, j);
    *acs = (struct mr_acs){ .y0 = 0, .y1 = h, .x0 = w / 2, .x1 = w / 2 + 1 };
    if (lines) {
        while (acs->x0 > 0 && at(v, 0, acs->x0 - 1))
            acs->x0--;
        while (acs->x1 < w && at(v, 0, acs->x1))
            acs->x1++;
        return MR_OK;
    }
    /* the nearest unsampled point bounds the disc; points with d² below it are all sampled */
    double r2min = INFINITY;
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++)
            if (!at(v, i, j)) {
                const double di = (double)(i - h / 2);
                const double dj = (double)(j - w / 2);
                if (di * di + dj * dj < r2min)
                    r2min = di * di + dj * dj;
            }
    acs->x0 = 0;
    acs->x1 = w;
    acs->disc_r2 = r2min;
    return MR_OK;
}

mr_status mr_acs_detect(const struct mr_array *mask, int64_t h, int64_t w,
                        const struct mr_acs_config *cfg, struct mr_acs *acs)
{
    const bool as_stored = cfg->rule != MR_ACS_RULE_BLOCK || cfg->centered;
    struct mask_view v = { .h = h, .w = w, .centered = as_stored };
    mr_status st = mr_sense_mask_layout(mask, h, w, &v.stride);

    if (st != MR_OK)
        return st;
    v.m = mr_array_f32(mask);
    if (cfg->num_low_frequencies > w)
        return MR_FAIL(MR_ERR_ARG, "num_low_frequencies %lld exceeds the %lld k-space columns",
                       (long long)cfg->num_low_frequencies, (long long)w);
    if (cfg->num_low_frequencies > 0) {
        acs_columns(h, w, cfg->num_low_frequencies, acs);
        return MR_OK;
    }
    switch (cfg->rule) {
    case MR_ACS_RULE_FASTMRI:
        acs_columns(h, w, acs_fastmri_columns(&v), acs);
        return MR_OK;
    case MR_ACS_RULE_DIRECT:
        return acs_direct(&v, acs);
    case MR_ACS_RULE_BLOCK:
    default:
        return acs_block(&v, acs);
    }
}

void mr_acs_fill(const struct mr_acs *acs, struct mr_array *dst)
{
    MR_ASSERT(dst->dtype == MR_DTYPE_F32 && dst->ndim == 2);
    const int64_t h = dst->dims[0];
    const int64_t w = dst->dims[1];
    float *o = mr_array_f32(dst);

    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++) {
            const double di = (double)(i - h / 2);
            const double dj = (double)(j - w / 2);
            const bool in = i >= acs->y0 && i < acs->y1 && j >= acs->x0 && j < acs->x1 &&
                            (acs->disc_r2 <= 0.0 || di * di + dj * dj < acs->disc_r2);
            o[i * w + j] = in ? 1.0f : 0.0f;
        }
}

mr_status mr_coils_create(int64_t nc, int64_t h, int64_t w, const struct mr_fft_config *fft,
                          struct mr_coils **out)
{
    mr_status st = MR_OK;
    struct mr_coils *c = NULL;

    *out = NULL;
    MR_CHECK(mr_dims_check_coils("coil estimation", nc, h, w));
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "coil estimator");
    c->nc = nc;
    c->h = h;
    c->w = w;
    c->centered = fft->centered;
    MR_CHECK(mr_fft2_create(h, w, fft, &c->fft));
    MR_CHECK(mr_array_init_dims(&c->lowres, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&c->full, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&c->rss, MR_DTYPE_F32, 2, h, w));
    c->win_y = malloc(sizeof(float) * (size_t)h);
    c->win_x = malloc(sizeof(float) * (size_t)w);
    if (c->win_y == NULL || c->win_x == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "coil estimator windows");
        goto out;
    }
    *out = c;
    c = NULL;
out:
    mr_coils_free(c);
    return st;
}

void mr_coils_free(struct mr_coils *c)
{
    if (c == NULL)
        return;
    mr_fft2_free(c->fft);
    mr_array_cleanup(&c->lowres);
    mr_array_cleanup(&c->full);
    mr_array_cleanup(&c->rss);
    free(c->win_y);
    free(c->win_x);
    free(c);
}

/* Tukey window of taper fraction alpha over n samples, evaluated at sample centres */
static void tukey(float *win, int64_t n, double alpha)
{
    for (int64_t i = 0; i < n; i++) {
        double u = ((double)i + 0.5) / (double)n;
        double t = u < 0.5 ? u : 1.0 - u; /* distance to the nearer end, in (0, 0.5] */
        win[i] = alpha > 0.0 && t < alpha / 2.0 ? (float)(0.5 - 0.5 * cos(2.0 * M_PI * t / alpha))
                                                : 1.0f;
    }
}

mr_status mr_coils_estimate(struct mr_coils *c, const struct mr_coils_config *cfg,
                            const struct mr_array *ksp, const struct mr_array *mask,
                            const struct mr_acs *acs, struct mr_array *sens)
{
    char buf[128];
    struct mr_acs a;
    mr_status st;
    const int64_t nc = c->nc;
    const int64_t h = c->h;
    const int64_t w = c->w;
    const int64_t n = h * w;

    if (!mr_array_same_shape(ksp, &c->lowres))
        return MR_FAIL(MR_ERR_SHAPE, "k-space is %s, expected (%lld, %lld, %lld) complex64",
                       mr_array_shape_str(ksp, buf, sizeof(buf)), (long long)nc, (long long)h,
                       (long long)w);
    if (!mr_array_same_shape(sens, &c->lowres))
        return MR_FAIL(MR_ERR_SHAPE, "coil maps are %s, expected (%lld, %lld, %lld) complex64",
                       mr_array_shape_str(sens, buf, sizeof(buf)), (long long)nc, (long long)h,
                       (long long)w);
    if (!(cfg->window >= 0.0f && cfg->window <= 1.0f) ||
        !(cfg->threshold >= 0.0f && cfg->threshold < 1.0f))
        return MR_FAIL(MR_ERR_ARG, "coil estimation window %g / threshold %g outside [0, 1]",
                       (double)cfg->window, (double)cfg->threshold);
    if (acs != NULL) {
        a = *acs;
        if (a.y0 < 0 || a.y1 > h || a.y0 >= a.y1 || a.x0 < 0 || a.x1 > w || a.x0 >= a.x1 ||
            a.disc_r2 > 0.0)
            return MR_FAIL(MR_ERR_ARG,
                           "calibration region rows [%lld, %lld) x columns [%lld, %lld) is "
                           "empty, outside %lldx%lld or not a rectangle",
                           (long long)a.y0, (long long)a.y1, (long long)a.x0, (long long)a.x1,
                           (long long)h, (long long)w);
    } else {
        struct mr_acs_config acfg = mr_acs_config_default;
        acfg.centered = c->centered;
        st = mr_acs_detect(mask, h, w, &acfg, &a);
        if (st != MR_OK)
            return st;
    }

    /* 1. windowed ACS block, written at its stored positions */
    const int64_t ny = a.y1 - a.y0;
    const int64_t nx = a.x1 - a.x0;
    tukey(c->win_y, ny, (double)cfg->window);
    tukey(c->win_x, nx, (double)cfg->window);
    float complex *lo = mr_array_cf32(&c->lowres);
    const float complex *k = mr_array_cf32(ksp);
    mr_array_zero(&c->lowres);
    for (int64_t ch = 0; ch < nc; ch++)
        for (int64_t y = a.y0; y < a.y1; y++) {
            int64_t sy = stored(y, h, c->centered);
            for (int64_t x = a.x0; x < a.x1; x++) {
                int64_t i = ch * n + sy * w + stored(x, w, c->centered);
                lo[i] = k[i] * (c->win_y[y - a.y0] * c->win_x[x - a.x0]);
            }
        }

    /* 2. low-resolution coil images */
    mr_fft2_inverse(c->fft, lo, lo, nc);

    /* 3. normalise by the RSS above the threshold */
    mr_coil_rss(&c->rss, &c->lowres, MR_COIL_SUM_DOUBLE);
    const float *r = mr_array_f32(&c->rss);
    float rmax = 0.0f;
    for (int64_t i = 0; i < n; i++)
        if (r[i] > rmax)
            rmax = r[i];
    if (!(rmax > 0.0f) || !isfinite(rmax))
        return MR_FAIL(MR_ERR_DATA, "the calibration region rows [%lld, %lld) x columns "
                       "[%lld, %lld) holds no finite signal",
                       (long long)a.y0, (long long)a.y1, (long long)a.x0, (long long)a.x1);
    const float thr = cfg->threshold * rmax;
    float complex *s = mr_array_cf32(sens);
#pragma omp parallel for if (nc * n >= (1 << 15)) schedule(static)
    for (int64_t ch = 0; ch < nc; ch++)
        for (int64_t i = 0; i < n; i++)
            s[ch * n + i] = r[i] > thr ? lo[ch * n + i] / r[i] : 0.0f;
    return MR_OK;
}

mr_status mr_coils_refine(struct mr_coils *c, const struct mr_coils_config *cfg,
                          const struct mr_array *ksp, const struct mr_array *mask,
                          const struct mr_array *img, struct mr_array *sens)
{
    char buf[128];
    const int64_t nc = c->nc;
    const int64_t h = c->h;
    const int64_t w = c->w;
    const int64_t n = h * w;
    int64_t stride = 0;

    if (!mr_array_same_shape(ksp, &c->full) || !mr_array_same_shape(sens, &c->full))
        return MR_FAIL(MR_ERR_SHAPE, "k-space and maps must be (%lld, %lld, %lld) complex64",
                       (long long)nc, (long long)h, (long long)w);
    if (img->dtype != MR_DTYPE_CF32 || mr_array_numel(img) != n)
        return MR_FAIL(MR_ERR_SHAPE, "image is %s, expected (%lld, %lld) complex64",
                       mr_array_shape_str(img, buf, sizeof(buf)), (long long)h, (long long)w);
    if (cfg->refine_size < 1 || !(cfg->refine_window >= 0.0f && cfg->refine_window <= 1.0f))
        return MR_FAIL(MR_ERR_ARG, "coil map refinement block %lld / window %g: the block must "
                       "be >= 1 and the window in [0, 1]",
                       (long long)cfg->refine_size, (double)cfg->refine_window);
    if (mask != NULL) {
        mr_status st = mr_sense_mask_layout(mask, h, w, &stride);
        if (st != MR_OK)
            return st;
    }

    /* K_c = y_c where sampled, FFT(S_c x) elsewhere */
    mr_coil_expand(&c->full, img, sens);
    float complex *k = mr_array_cf32(&c->full);
    const float complex *y = mr_array_cf32(ksp);
    const float *m = mask != NULL ? mr_array_f32(mask) : NULL;
    mr_fft2_forward(c->fft, k, k, nc);
#pragma omp parallel for if (nc * n >= (1 << 15)) schedule(static)
    for (int64_t ch = 0; ch < nc; ch++)
        for (int64_t i = 0; i < n; i++)
            if (m == NULL || m[(i / w) * stride + i % w] != 0.0f)
                k[ch * n + i] = y[ch * n + i];

    const int64_t ny = cfg->refine_size < h ? cfg->refine_size : h;
    const int64_t nx = cfg->refine_size < w ? cfg->refine_size : w;
    const struct mr_acs block = {
        .y0 = h / 2 - ny / 2, .y1 = h / 2 - ny / 2 + ny, .x0 = w / 2 - nx / 2,
        .x1 = w / 2 - nx / 2 + nx,
    };
    struct mr_coils_config est = *cfg;
    est.window = cfg->refine_window;
    return mr_coils_estimate(c, &est, &c->full, NULL, &block, sens);
}
