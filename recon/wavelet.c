/*
 * Periodic orthonormal 2-D DWT (wavelet.h; Daubechies, "Ten Lectures on Wavelets", 1992,
 * Table 6.1 for the filters; Mallat, IEEE PAMI 11:674, 1989 for the pyramid) and the
 * L1-wavelet prior with cycle spinning (Figueiredo & Nowak, IEEE TIP 12:906, 2003; as BART's
 * wavthresh with random shifts).
 *
 * Both axes use the gather form of the filter bank so every output value is written by one
 * loop iteration: rows are transformed per row into the scratch grid, columns row-vector by
 * row-vector (contiguous inner loops), each parallel over its outermost loop.
 */
#include "recon/wavelet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/vec.h"

/* values per level pass before it goes parallel (every pass is element- or row-wise, so the
 * result does not depend on the thread count; see MR_VEC_MAP_PAR_MIN in vec.c) */
#define MR_WAVELET_PAR_MIN (1 << 13)
#define MR_WAVELET_MAX_TAPS 8

const struct mr_wavelet_config mr_wavelet_config_default = {
    .kind = MR_WAVELET_HAAR, .levels = 4, .randshift = true, .seed = 1,
};

static const double haar[2] = { 0.70710678118654752440, 0.70710678118654752440 };
static const double db2[4] = {
    0.48296291314453414337, 0.83651630373780790557, 0.22414386804201338102,
    -0.12940952255126038117,
};
static const double db4[8] = {
    0.23037781330889650086, 0.71484657055291564709, 0.63088076792985890788,
    -0.02798376941685985421, -0.18703481171909308407, 0.03084138183556076362,
    0.03288301166688519973, -0.01059740178506903211,
};

struct mr_wavelet {
    int64_t h;
    int64_t w;
    int64_t ph;
    int64_t pw;
    int levels;
    int taps;
    float lo[MR_WAVELET_MAX_TAPS];
    float hi[MR_WAVELET_MAX_TAPS];
    float complex *buf; /* (PH, PW) working grid */
    float complex *tmp; /* (PH, PW) scratch */
};

mr_status mr_wavelet_kind_parse(const char *s, enum mr_wavelet_kind *out)
{
    if (strcmp(s, "haar") == 0)
        *out = MR_WAVELET_HAAR;
    else if (strcmp(s, "db2") == 0)
        *out = MR_WAVELET_DB2;
    else if (strcmp(s, "db4") == 0)
        *out = MR_WAVELET_DB4;
    else
        return MR_FAIL(MR_ERR_ARG, "unknown wavelet '%s' (expected haar, db2 or db4)", s);
    return MR_OK;
}

const char *mr_wavelet_kind_name(enum mr_wavelet_kind kind)
{
    switch (kind) {
    case MR_WAVELET_HAAR: return "haar";
    case MR_WAVELET_DB2: return "db2";
    case MR_WAVELET_DB4: return "db4";
    }
    return "?";
}

mr_status mr_wavelet_create(int64_t h, int64_t w, enum mr_wavelet_kind kind, int levels,
                            struct mr_wavelet **out)
{
    mr_status st = MR_OK;
    struct mr_wavelet *wt = NULL;
    const double *f = NULL;
    int taps = 0;

    *out = NULL;
    switch (kind) {
    case MR_WAVELET_HAAR: f = haar; taps = 2; break;
    case MR_WAVELET_DB2: f = db2; taps = 4; break;
    case MR_WAVELET_DB4: f = db4; taps = 8; break;
    }
    if (f == NULL)
        return MR_FAIL(MR_ERR_ARG, "unknown wavelet kind %d", (int)kind);
    if (h < 1 || w < 1 || levels < 1 || levels > 12)
        return MR_FAIL(MR_ERR_ARG, "wavelet transform of %lldx%lld with %d levels: sizes must "
                       "be >= 1 and levels in 1..12", (long long)h, (long long)w, levels);
    wt = calloc(1, sizeof(*wt));
    if (wt == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "wavelet transform");
    const int64_t p = (int64_t)1 << levels;
    wt->h = h;
    wt->w = w;
    wt->ph = (h + p - 1) / p * p;
    wt->pw = (w + p - 1) / p * p;
    wt->levels = levels;
    wt->taps = taps;
    for (int j = 0; j < taps; j++) {
        wt->lo[j] = (float)f[j];
        wt->hi[j] = (float)((j % 2 == 0 ? 1.0 : -1.0) * f[taps - 1 - j]);
    }
    wt->buf = malloc(sizeof(float complex) * (size_t)(wt->ph * wt->pw));
    wt->tmp = malloc(sizeof(float complex) * (size_t)(wt->ph * wt->pw));
    if (wt->buf == NULL || wt->tmp == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "wavelet transform of %lldx%lld", (long long)h, (long long)w);
        goto out;
    }
    *out = wt;
    wt = NULL;
out:
    mr_wavelet_free(wt);
    return st;
}

void mr_wavelet_free(struct mr_wavelet *wt)
{
    if (wt == NULL)
        return;
    free(wt->buf);
    free(wt->tmp);
    free(wt);
}

int64_t mr_wavelet_ph(const struct mr_wavelet *wt)
{
    return wt->ph;
}

int64_t mr_wavelet_pw(const struct mr_wavelet *wt)
{
    return wt->pw;
}

int64_t mr_wavelet_period(const struct mr_wavelet *wt)
{
    return (int64_t)1 << wt->levels;
}

/* ---- one level on the top-left (n_rows, n_cols) block of a grid of row stride pw ---------- */

/* rows: analysis of each row of length nc into [a | d] */
static void rows_analysis(const struct mr_wavelet *wt, float complex *x, float complex *t,
                          int64_t nr, int64_t nc)
{
    const int64_t pw = wt->pw;
    const int64_t half = nc / 2;
#pragma omp parallel for if (nr * nc >= MR_WAVELET_PAR_MIN) schedule(static)
    for (int64_t r = 0; r < nr; r++) {
        const float complex *in = x + r * pw;
        float complex *o = t + r * pw;
        for (int64_t k = 0; k < half; k++) {
            float complex a = 0.0f;
            float complex d = 0.0f;
            for (int j = 0; j < wt->taps; j++) {
                float complex v = in[(2 * k + j) % nc];
                a += wt->lo[j] * v;
                d += wt->hi[j] * v;
            }
            o[k] = a;
            o[half + k] = d;
        }
        memcpy(x + r * pw, o, sizeof(*o) * (size_t)nc);
    }
}

/* rows: synthesis x[m] = Σ_{j, k: 2k + j ≡ m} h[j] a[k] + g[j] d[k] */
static void rows_synthesis(const struct mr_wavelet *wt, float complex *x, float complex *t,
                           int64_t nr, int64_t nc)
{
    const int64_t pw = wt->pw;
    const int64_t half = nc / 2;
#pragma omp parallel for if (nr * nc >= MR_WAVELET_PAR_MIN) schedule(static)
    for (int64_t r = 0; r < nr; r++) {
        const float complex *in = x + r * pw;
        float complex *o = t + r * pw;
        for (int64_t m = 0; m < nc; m++) {
            float complex acc = 0.0f;
            for (int j = 0; j < wt->taps; j++) {
                int64_t q = ((m - j) % nc + nc) % nc; /* = 2k mod nc; nc even */
                if (q % 2 != 0)
                    continue;
                int64_t k = q / 2;
                acc += wt->lo[j] * in[k] + wt->hi[j] * in[half + k];
            }
            o[m] = acc;
        }
        memcpy(x + r * pw, o, sizeof(*o) * (size_t)nc);
    }
}

/* columns: output row k (approximation) and half + k (detail) from input rows 2k + j */
static void cols_analysis(const struct mr_wavelet *wt, float complex *x, float complex *t,
                          int64_t nr, int64_t nc)
{
    const int64_t pw = wt->pw;
    const int64_t half = nr / 2;
#pragma omp parallel for if (nr * nc >= MR_WAVELET_PAR_MIN) schedule(static)
    for (int64_t k = 0; k < half; k++) {
        float complex *a = t + k * pw;
        float complex *d = t + (half + k) * pw;
        for (int64_t c = 0; c < nc; c++) {
            a[c] = 0.0f;
            d[c] = 0.0f;
        }
        for (int j = 0; j < wt->taps; j++) {
            const float complex *in = x + ((2 * k + j) % nr) * pw;
            const float lo = wt->lo[j];
            const float hi = wt->hi[j];
            for (int64_t c = 0; c < nc; c++) {
                a[c] += lo * in[c];
                d[c] += hi * in[c];
            }
        }
    }
    for (int64_t r = 0; r < nr; r++)
        memcpy(x + r * pw, t + r * pw, sizeof(*x) * (size_t)nc);
}

static void cols_synthesis(const struct mr_wavelet *wt, float complex *x, float complex *t,
                           int64_t nr, int64_t nc)
{
    const int64_t pw = wt->pw;
    const int64_t half = nr / 2;
#pragma omp parallel for if (nr * nc >= MR_WAVELET_PAR_MIN) schedule(static)
    for (int64_t m = 0; m < nr; m++) {
        float complex *o = t + m * pw;
        for (int64_t c = 0; c < nc; c++)
            o[c] = 0.0f;
        for (int j = 0; j < wt->taps; j++) {
            int64_t q = ((m - j) % nr + nr) % nr;
            if (q % 2 != 0)
                continue;
            const float complex *a = x + (q / 2) * pw;
            const float complex *d = x + (half + q / 2) * pw;
            const float lo = wt->lo[j];
            const float hi = wt->hi[j];
            for (int64_t c = 0; c < nc; c++)
                o[c] += lo * a[c] + hi * d[c];
        }
    }
    for (int64_t r = 0; r < nr; r++)
        memcpy(x + r * pw, t + r * pw, sizeof(*x) * (size_t)nc);
}

static void dwt(const struct mr_wavelet *wt, float complex *x)
{
    int64_t nr = wt->ph;
    int64_t nc = wt->pw;
    for (int l = 0; l < wt->levels; l++) {
        rows_analysis(wt, x, wt->tmp, nr, nc);
        cols_analysis(wt, x, wt->tmp, nr, nc);
        nr /= 2;
        nc /= 2;
    }
}

static void idwt(const struct mr_wavelet *wt, float complex *x)
{
    for (int l = wt->levels - 1; l >= 0; l--) {
        int64_t nr = wt->ph >> l;
        int64_t nc = wt->pw >> l;
        cols_synthesis(wt, x, wt->tmp, nr, nc);
        rows_synthesis(wt, x, wt->tmp, nr, nc);
    }
}

/* ---- embedding P_s and its adjoint ------------------------------------------------------ */

static void check_img(const struct mr_wavelet *wt, const struct mr_array *img)
{
    MR_ASSERT(img->dtype == MR_DTYPE_CF32 && mr_array_numel(img) == wt->h * wt->w);
}

static void check_coef(const struct mr_wavelet *wt, const struct mr_array *coef)
{
    MR_ASSERT(coef->dtype == MR_DTYPE_CF32 && mr_array_numel(coef) == wt->ph * wt->pw);
}

/* grid = P_s img */
static void embed(const struct mr_wavelet *wt, float complex *grid, const float complex *img,
                  int64_t sy, int64_t sx)
{
    memset(grid, 0, sizeof(*grid) * (size_t)(wt->ph * wt->pw));
    for (int64_t y = 0; y < wt->h; y++) {
        float complex *row = grid + ((y + sy) % wt->ph) * wt->pw;
        for (int64_t x = 0; x < wt->w; x++)
            row[(x + sx) % wt->pw] = img[y * wt->w + x];
    }
}

/* img = P_s^H grid */
static void extract(const struct mr_wavelet *wt, float complex *img, const float complex *grid,
                    int64_t sy, int64_t sx)
{
    for (int64_t y = 0; y < wt->h; y++) {
        const float complex *row = grid + ((y + sy) % wt->ph) * wt->pw;
        for (int64_t x = 0; x < wt->w; x++)
            img[y * wt->w + x] = row[(x + sx) % wt->pw];
    }
}

static void check_shift(const struct mr_wavelet *wt, int64_t sy, int64_t sx)
{
    MR_ASSERT(sy >= 0 && sy < wt->ph && sx >= 0 && sx < wt->pw);
}

void mr_wavelet_forward(struct mr_wavelet *wt, struct mr_array *coef, const struct mr_array *img,
                        int64_t sy, int64_t sx)
{
    check_img(wt, img);
    check_coef(wt, coef);
    check_shift(wt, sy, sx);
    embed(wt, wt->buf, mr_array_cf32(img), sy, sx);
    dwt(wt, wt->buf);
    memcpy(mr_array_cf32(coef), wt->buf, sizeof(float complex) * (size_t)(wt->ph * wt->pw));
}

void mr_wavelet_adjoint(struct mr_wavelet *wt, struct mr_array *img, const struct mr_array *coef,
                        int64_t sy, int64_t sx)
{
    check_img(wt, img);
    check_coef(wt, coef);
    check_shift(wt, sy, sx);
    memcpy(wt->buf, mr_array_cf32(coef), sizeof(float complex) * (size_t)(wt->ph * wt->pw));
    idwt(wt, wt->buf);
    extract(wt, mr_array_cf32(img), wt->buf, sy, sx);
}

void mr_wavelet_soft_threshold(struct mr_wavelet *wt, float tau, struct mr_array *dst,
                               const struct mr_array *src, int64_t sy, int64_t sx)
{
    check_img(wt, src);
    check_img(wt, dst);
    check_shift(wt, sy, sx);
    embed(wt, wt->buf, mr_array_cf32(src), sy, sx);
    dwt(wt, wt->buf);

    const int64_t ah = wt->ph >> wt->levels; /* coarsest approximation band, kept */
    const int64_t aw = wt->pw >> wt->levels;
    const int64_t ph = wt->ph;
    const int64_t pw = wt->pw;
    float complex *c = wt->buf;
#pragma omp parallel for if (ph * pw >= MR_WAVELET_PAR_MIN) schedule(static)
    for (int64_t y = 0; y < ph; y++)
        for (int64_t x = 0; x < pw; x++) {
            if (y < ah && x < aw)
                continue;
            float complex v = c[y * pw + x];
            float m = mr_cmag(v);
            c[y * pw + x] = m > tau ? v * (1.0f - tau / m) : 0.0f;
        }

    idwt(wt, wt->buf);
    extract(wt, mr_array_cf32(dst), wt->buf, sy, sx);
}

double mr_wavelet_max_detail(struct mr_wavelet *wt, const struct mr_array *img)
{
    check_img(wt, img);
    embed(wt, wt->buf, mr_array_cf32(img), 0, 0);
    dwt(wt, wt->buf);
    const int64_t ah = wt->ph >> wt->levels;
    const int64_t aw = wt->pw >> wt->levels;
    float m = 0.0f;
    for (int64_t y = 0; y < wt->ph; y++)
        for (int64_t x = 0; x < wt->pw; x++)
            if (y >= ah || x >= aw) {
                float a = mr_cmag(wt->buf[y * wt->pw + x]);
                if (a > m)
                    m = a;
            }
    return (double)m;
}

/* ---- the L1-wavelet prior --------------------------------------------------------------- */

struct wavelet_prior {
    struct mr_wavelet *wt;
    bool randshift;
    uint64_t rng;
};

static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void wavelet_prox(void *ctx, float lambda, struct mr_array *dst, const struct mr_array *src)
{
    struct wavelet_prior *p = ctx;
    int64_t sy = 0;
    int64_t sx = 0;
    if (p->randshift) {
        /* a shift by a multiple of the period leaves the pyramid unchanged */
        const uint64_t period = (uint64_t)mr_wavelet_period(p->wt);
        sy = (int64_t)(next_u64(&p->rng) % period);
        sx = (int64_t)(next_u64(&p->rng) % period);
    }
    mr_wavelet_soft_threshold(p->wt, lambda, dst, src, sy, sx);
}

static void wavelet_prior_free(void *ctx)
{
    struct wavelet_prior *p = ctx;
    if (p == NULL)
        return;
    mr_wavelet_free(p->wt);
    free(p);
}

static const struct mr_prior_ops wavelet_prior_ops = {
    .name = "l1-wavelet", .prox = wavelet_prox, .free = wavelet_prior_free,
};

void mr_wavelet_prior_seed(struct mr_prior *prior, uint64_t seed)
{
    MR_ASSERT(prior->ops == &wavelet_prior_ops);
    struct wavelet_prior *p = prior->ctx;
    p->rng = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (p->rng == 0)
        p->rng = 1;
}

mr_status mr_wavelet_prior_init(struct mr_prior *prior, int64_t h, int64_t w,
                                const struct mr_wavelet_config *cfg)
{
    mr_status st = MR_OK;
    struct wavelet_prior *p = calloc(1, sizeof(*p));

    prior->ops = NULL;
    prior->ctx = NULL;
    if (p == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "wavelet prior");
    MR_CHECK(mr_wavelet_create(h, w, cfg->kind, cfg->levels, &p->wt));
    p->randshift = cfg->randshift;
    prior->ops = &wavelet_prior_ops;
    prior->ctx = p;
    mr_wavelet_prior_seed(prior, cfg->seed);
    p = NULL;
out:
    wavelet_prior_free(p);
    return st;
}
