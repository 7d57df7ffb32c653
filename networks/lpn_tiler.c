/*
 * The LPN's patch tiling (lpn/utils/lpn_for_inv.py lpn_denoise_patch; shared/specs/lpn.md §5)
 * and its plug-in prior on complex images (§8.2): lpn_tiler.h.
 */
#include "networks/lpn_tiler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "networks/layout.h"

const struct mr_lpn_tiling_config mr_lpn_tiling_config_default = {
    .stride = 0,
    .cover_border = false,
    .window = MR_LPN_WINDOW_UNIFORM,
};

struct mr_lpn_tiler {
    struct mr_lpn *lpn; /* borrowed */
    int64_t c;
    int64_t h;
    int64_t w;
    int64_t stride;
    int64_t nrows;
    int64_t ncols;
    int64_t *rows;
    int64_t *cols;
    double *patch_psi; /* nrows·ncols */
    double reg;
    struct mr_array count; /* (h, w) patches covering each pixel (summed weights) */
    float *win;            /* 128 per-axis window weights; NULL for the uniform window */
    struct mr_array acc;   /* (C, h, w) sum of patch proxes */
    struct mr_array chan;  /* (C, h, w) channels of a complex image */
    struct mr_array patch; /* (C, 128, 128) */
    struct mr_array pout;  /* (C, 128, 128) */
};

void mr_lpn_tiler_free(struct mr_lpn_tiler *t)
{
    if (t == NULL)
        return;
    free(t->rows);
    free(t->cols);
    free(t->patch_psi);
    free(t->win);
    mr_array_cleanup(&t->count);
    mr_array_cleanup(&t->acc);
    mr_array_cleanup(&t->chan);
    mr_array_cleanup(&t->patch);
    mr_array_cleanup(&t->pout);
    free(t);
}

/* Python range(0, n − 128 + 1, s), plus n − 128 if that does not reach the end and cover */
static mr_status tile_starts(int64_t n, int64_t s, bool cover, const char *axis,
                             int64_t **starts, int64_t *count)
{
    int64_t m = (n - MR_LPN_PATCH) / s + 1;
    const int64_t last = (m - 1) * s;
    const bool gap = last + MR_LPN_PATCH < n;

    if (gap && !cover)
        return MR_FAIL(MR_ERR_UNSUPPORTED,
                       "LPN tiling: stride %lld leaves the last %lld %s of %lld uncovered "
                       "(choose a stride dividing %lld, or cover the border)",
                       (long long)s, (long long)(n - last - MR_LPN_PATCH), axis, (long long)n,
                       (long long)(n - MR_LPN_PATCH));
    *starts = malloc(sizeof(**starts) * (size_t)(m + 1));
    if (*starts == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN tiling positions");
    for (int64_t i = 0; i < m; i++)
        (*starts)[i] = i * s;
    if (gap)
        (*starts)[m++] = n - MR_LPN_PATCH;
    *count = m;
    return MR_OK;
}

/* the largest stride ≤ 64 whose reference grid covers h×w exactly: a divisor of
 * gcd(h − 128, w − 128) (any stride when both are 128) */
static int64_t auto_stride(int64_t h, int64_t w)
{
    int64_t a = h - MR_LPN_PATCH;
    int64_t b = w - MR_LPN_PATCH;
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    if (a == 0)
        return 64;
    for (int64_t s = 64; s > 1; s--)
        if (a % s == 0)
            return s;
    return 1;
}

mr_status mr_lpn_tiler_create(struct mr_lpn *lpn, int64_t h, int64_t w,
                              const struct mr_lpn_tiling_config *cfg,
                              struct mr_lpn_tiler **out)
{
    mr_status st = MR_OK;
    struct mr_lpn_tiler *t = NULL;
    const int64_t c = mr_lpn_get_config(lpn)->in_dim;
    const int64_t p = MR_LPN_PATCH;

    if (cfg->stride < 0 || cfg->stride > p)
        return MR_FAIL(MR_ERR_ARG, "LPN tiling stride %lld is outside [0, %lld] (a larger one "
                       "leaves gaps between the patches)", (long long)cfg->stride, (long long)p);
    if (h < p || w < p)
        return MR_FAIL(MR_ERR_UNSUPPORTED,
                       "LPN needs images of at least %lld×%lld, got %lld×%lld (pad the image)",
                       (long long)p, (long long)p, (long long)h, (long long)w);
    const int64_t stride = cfg->stride > 0 ? cfg->stride : auto_stride(h, w);
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "LPN tiler");
    t->lpn = lpn;
    t->c = c;
    t->h = h;
    t->w = w;
    t->stride = stride;
    MR_CHECK(tile_starts(h, stride, cfg->cover_border, "rows", &t->rows, &t->nrows));
    MR_CHECK(tile_starts(w, stride, cfg->cover_border, "columns", &t->cols, &t->ncols));
    t->patch_psi = calloc((size_t)(t->nrows * t->ncols), sizeof(*t->patch_psi));
    if (t->patch_psi == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "LPN tiler");
        goto out;
    }
    MR_CHECK(mr_array_init_dims(&t->count, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&t->acc, MR_DTYPE_F32, 3, c, h, w));
    MR_CHECK(mr_array_init_dims(&t->chan, MR_DTYPE_F32, 3, c, h, w));
    MR_CHECK(mr_array_init_dims(&t->patch, MR_DTYPE_F32, 3, c, p, p));
    MR_CHECK(mr_array_init_dims(&t->pout, MR_DTYPE_F32, 3, c, p, p));
    if (cfg->window == MR_LPN_WINDOW_HANN) {
        t->win = malloc(sizeof(*t->win) * (size_t)p);
        if (t->win == NULL) {
            st = MR_FAIL(MR_ERR_NOMEM, "LPN tiler");
            goto out;
        }
        for (int64_t i = 0; i < p; i++) {
            const double v = sin(M_PI * ((double)i + 0.5) / (double)p);
            t->win[i] = (float)(v * v);
        }
    }
    float *cnt = mr_array_f32(&t->count);
    for (int64_t a = 0; a < t->nrows; a++)
        for (int64_t b = 0; b < t->ncols; b++)
            for (int64_t i = 0; i < p; i++)
                for (int64_t j = 0; j < p; j++)
                    cnt[(t->rows[a] + i) * w + t->cols[b] + j] +=
                        t->win != NULL ? t->win[i] * t->win[j] : 1.0f;
    *out = t;
    t = NULL;
out:
    mr_lpn_tiler_free(t);
    return st;
}

void mr_lpn_tiler_apply(struct mr_lpn_tiler *t, struct mr_array *dst, const struct mr_array *src)
{
    const int64_t c = t->c;
    const int64_t h = t->h;
    const int64_t w = t->w;
    const int64_t p = MR_LPN_PATCH;
    const float *x = mr_array_f32(src);
    float *acc = mr_array_f32(&t->acc);
    float *pin = mr_array_f32(&t->patch);
    const float *pout = mr_array_f32(&t->pout);

    MR_ASSERT(mr_array_numel(src) == c * h * w && mr_array_numel(dst) == c * h * w);
    mr_array_zero(&t->acc);
    t->reg = 0.0;
    for (int64_t a = 0; a < t->nrows; a++)
        for (int64_t b = 0; b < t->ncols; b++) {
            const int64_t r0 = t->rows[a];
            const int64_t c0 = t->cols[b];
            double psi = 0.0;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < p; i++)
                    memcpy(pin + (ch * p + i) * p, x + (ch * h + r0 + i) * w + c0,
                           sizeof(*pin) * (size_t)p);
            mr_lpn_prox_patch(t->lpn, &t->pout, &t->patch, &psi);
            t->patch_psi[a * t->ncols + b] = psi;
            /* R(prox(p)) = <p, f(p)> − ½‖f(p)‖² − ψ(p) */
            double dot = 0.0;
            double nrm = 0.0;
            for (int64_t i = 0; i < c * p * p; i++) {
                dot += (double)pin[i] * (double)pout[i];
                nrm += (double)pout[i] * (double)pout[i];
            }
            t->reg += dot - 0.5 * nrm - psi;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < p; i++) {
                    float *ar = acc + (ch * h + r0 + i) * w + c0;
                    const float *pr = pout + (ch * p + i) * p;
                    if (t->win == NULL) {
                        for (int64_t j = 0; j < p; j++)
                            ar[j] += pr[j];
                    } else {
                        const float wi = t->win[i];
                        for (int64_t j = 0; j < p; j++)
                            ar[j] += wi * t->win[j] * pr[j];
                    }
                }
        }
    const float *cnt = mr_array_f32(&t->count);
    float *y = mr_array_f32(dst);
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < h * w; i++)
            y[ch * h * w + i] = acc[ch * h * w + i] / cnt[i];
}

void mr_lpn_tiler_apply_complex(struct mr_lpn_tiler *t, struct mr_array *dst,
                                const struct mr_array *src)
{
    MR_ASSERT(t->c == 2);
    MR_ASSERT(src->dtype == MR_DTYPE_CF32 && dst->dtype == MR_DTYPE_CF32);
    MR_ASSERT(mr_array_numel(src) == t->h * t->w && mr_array_numel(dst) == t->h * t->w);
    mr_complex_to_channels(&t->chan, src);
    mr_lpn_tiler_apply(t, &t->chan, &t->chan);
    mr_channels_to_complex(dst, &t->chan);
}

double mr_lpn_tiler_last_regularizer(const struct mr_lpn_tiler *t)
{
    return t->reg;
}

void mr_lpn_tiler_grid(const struct mr_lpn_tiler *t, int64_t *nrows, const int64_t **rows,
                       int64_t *ncols, const int64_t **cols)
{
    *nrows = t->nrows;
    *rows = t->rows;
    *ncols = t->ncols;
    *cols = t->cols;
}

const double *mr_lpn_tiler_patch_psi(const struct mr_lpn_tiler *t)
{
    return t->patch_psi;
}

int64_t mr_lpn_tiler_stride(const struct mr_lpn_tiler *t)
{
    return t->stride;
}

const struct mr_array *mr_lpn_tiler_count(const struct mr_lpn_tiler *t)
{
    return &t->count;
}

/* ---- the prior ---------------------------------------------------------------------------- */

/* prox with unit step: the LPN's prox ignores lambda (spec §4) */
static void lpn_prior_prox(void *ctx, float lambda, struct mr_array *dst,
                           const struct mr_array *src)
{
    (void)lambda;
    mr_lpn_tiler_apply_complex(ctx, dst, src);
}

static void lpn_prior_free(void *ctx)
{
    mr_lpn_tiler_free(ctx);
}

/* Σ_patches R(prox(p)) of the last prox: exact for one patch, a diagnostic when tiled */
static double lpn_prior_last_value(const void *ctx)
{
    return mr_lpn_tiler_last_regularizer(ctx);
}

static const struct mr_prior_ops lpn_prior_ops = {
    .name = "lpn",
    .prox = lpn_prior_prox,
    .free = lpn_prior_free,
    .last_value = lpn_prior_last_value,
    .unit_prox = true,
};

mr_status mr_lpn_prior_create(struct mr_lpn *lpn, int64_t h, int64_t w,
                              const struct mr_lpn_tiling_config *cfg, struct mr_prior *out)
{
    struct mr_lpn_tiler *t = NULL;
    mr_status st;

    if (mr_lpn_get_config(lpn)->in_dim != 2)
        return MR_FAIL(MR_ERR_ARG,
                       "an LPN prior on complex images needs in_dim 2 ([Re, Im]), got %lld",
                       (long long)mr_lpn_get_config(lpn)->in_dim);
    st = mr_lpn_tiler_create(lpn, h, w, cfg, &t);
    if (st != MR_OK)
        return st;
    out->ops = &lpn_prior_ops;
    out->ctx = t;
    return MR_OK;
}

struct mr_lpn_tiler *mr_lpn_prior_tiler(const struct mr_prior *prior)
{
    if (prior->ops != &lpn_prior_ops)
        return NULL;
    return prior->ctx;
}
