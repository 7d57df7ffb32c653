/*
 * FFTW-backed centred / uncentred 2-D and 1-D FFTs with torch's normalisation modes
 * (conventions in fft.h; ../shared/specs/e2evn.md §2).
 *
 * Centring is done with exact numpy rolls: out-of-place into dst when dst != src, in place by
 * three reversals otherwise, so odd sizes follow fftshift/ifftshift exactly and no scratch
 * memory is needed at execution time. Plans are in place; new-array execution picks the plan
 * made for the pointer's SIMD alignment (an FFTW_UNALIGNED twin covers odd offsets).
 */
#include "recon/fft.h"

#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "recon/cpu.h"
#include "recon/settings.h"

const struct mr_fft_config mr_fft_config_default = { .centered = true,
                                                     .norm = MR_FFT_NORM_ORTHO };

/* images of at least this many pixels use FFTW threads when transformed one at a time */
#define MR_FFT_MT_MIN_PIXELS (192 * 192)
/* a batch is transformed in parallel when it holds at least this many values in all */
#define MR_FFT_PAR_MIN_VALUES (1 << 15)
/* transforms of at least this many values are planned with FFTW_MEASURE (planner_flag) */
#define MR_FFT_MEASURE_MIN_VALUES (96 * 96)

enum { DIR_FWD = 0, DIR_INV = 1 };
enum { AL_ALIGNED = 0, AL_UNALIGNED = 1 };

struct mr_fft2 {
    int64_t h;
    int64_t w;
    struct mr_fft_config cfg;
    fftwf_plan plan[2][2];    /* [direction][alignment], single-threaded */
    fftwf_plan plan_mt[2][2]; /* same with FFTW threads; NULL when not worth it */
    int planned_alignment;
    float scale[2];
};

struct mr_fft1 {
    int64_t n;
    struct mr_fft_config cfg;
    fftwf_plan plan[2][2];
    int planned_alignment;
    float scale[2];
};

mr_status mr_fft_norm_parse(const char *s, enum mr_fft_norm *out)
{
    if (strcmp(s, "ortho") == 0)
        *out = MR_FFT_NORM_ORTHO;
    else if (strcmp(s, "backward") == 0 || strcmp(s, "none") == 0)
        *out = MR_FFT_NORM_BACKWARD;
    else if (strcmp(s, "forward") == 0)
        *out = MR_FFT_NORM_FORWARD;
    else
        return MR_FAIL(MR_ERR_ARG,
                       "unknown FFT normalisation '%s' (expected ortho, backward, forward or "
                       "none)",
                       s);
    return MR_OK;
}

const char *mr_fft_norm_name(enum mr_fft_norm norm)
{
    switch (norm) {
    case MR_FFT_NORM_ORTHO: return "ortho";
    case MR_FFT_NORM_BACKWARD: return "backward";
    case MR_FFT_NORM_FORWARD: return "forward";
    }
    return "?";
}

void mr_fft_norm_scales(enum mr_fft_norm norm, double n, double *s_fwd, double *s_inv)
{
    switch (norm) {
    case MR_FFT_NORM_ORTHO:
        *s_fwd = 1.0 / sqrt(n);
        *s_inv = 1.0 / sqrt(n);
        return;
    case MR_FFT_NORM_BACKWARD:
        *s_fwd = 1.0;
        *s_inv = 1.0 / n;
        return;
    case MR_FFT_NORM_FORWARD:
        *s_fwd = 1.0 / n;
        *s_inv = 1.0;
        return;
    }
    MR_ASSERT(!"unknown FFT normalisation");
}

/* a plan's float scales for n values */
static void norm_scales(enum mr_fft_norm norm, double n, float scale[2])
{
    double s_fwd;
    double s_inv;

    mr_fft_norm_scales(norm, n, &s_fwd, &s_inv);
    scale[DIR_FWD] = (float)s_fwd;
    scale[DIR_INV] = (float)s_inv;
}

static void threads_init_once(void)
{
    static int done = 0;
    /* called inside the planner critical section */
    if (!done) {
        fftwf_init_threads();
        done = 1;
    }
}

/*
 * Planner rigour for a transform of n values (fft.h "Planning"): with the fft_planner setting
 * AUTO, FFTW_MEASURE in the settings' plan MEASURE mode from MR_FFT_MEASURE_MIN_VALUES on
 * (network-sized images: ~20-30% faster transforms for sizes such as 218 = 2·109; measuring
 * costs ~0.3 s for the plans of one 230×180 CG-SENSE, more than 30 iterations gain), else
 * FFTW_ESTIMATE; the other settings apply to every size. Plans only change the order of
 * floating-point operations, never the maths. FFTW keeps the wisdom of every plan it measured
 * or imported for the life of the process and uses it for any rigour, so planning the same
 * size again is cheap.
 */
static unsigned planner_flag(int64_t n)
{
    switch (mr_settings_get()->fft_planner) {
    case MR_FFT_PLANNER_ESTIMATE:
        return FFTW_ESTIMATE;
    case MR_FFT_PLANNER_MEASURE:
        return FFTW_MEASURE;
    case MR_FFT_PLANNER_PATIENT:
        return FFTW_PATIENT;
    case MR_FFT_PLANNER_AUTO:
    default:
        return mr_settings_get()->conv_plan == MR_CONV_PLAN_MEASURE &&
                       n >= MR_FFT_MEASURE_MIN_VALUES
                   ? FFTW_MEASURE
                   : FFTW_ESTIMATE;
    }
}

mr_status mr_fft_wisdom_read(FILE *f, const char *name)
{
    int ok;
    /* FFTW accepts wisdom only from a planner with the same solvers: the threaded ones are
     * registered first, as in every process that plans (and exports) */
#pragma omp critical(mr_fftw_planner)
    {
        threads_init_once();
        ok = fftwf_import_wisdom_from_file(f);
    }
    if (ferror(f))
        return MR_FAIL(MR_ERR_IO, "cannot read FFTW wisdom file '%s'", name);
    if (!ok)
        return MR_FAIL(MR_ERR_FORMAT, "'%s' is not an FFTW (single precision) wisdom file",
                       name);
    return MR_OK;
}

void mr_fft_wisdom_write(FILE *f)
{
#pragma omp critical(mr_fftw_planner)
    {
        threads_init_once();
        fftwf_export_wisdom_to_file(f);
    }
}

/* buf is scratch: measuring planners overwrite it */
static fftwf_plan plan_2d(int64_t h, int64_t w, int sign, bool unaligned, int nthreads,
                          fftwf_complex *buf)
{
    fftwf_iodim64 dims[2] = {
        { .n = h, .is = w, .os = w },
        { .n = w, .is = 1, .os = 1 },
    };
    /* the unaligned twin only serves odd offsets: not worth measuring; measuring threaded
     * plans takes seconds (more on a loaded machine) for little gain */
    unsigned flags = unaligned ? FFTW_ESTIMATE | FFTW_UNALIGNED
                               : nthreads > 1 ? FFTW_ESTIMATE : planner_flag(h * w);
    fftwf_plan p;
#pragma omp critical(mr_fftw_planner)
    {
        threads_init_once();
        fftwf_plan_with_nthreads(nthreads);
        p = fftwf_plan_guru64_dft(2, dims, 0, NULL, buf, buf, sign, flags);
        fftwf_plan_with_nthreads(1);
    }
    return p;
}

/* `lines` transforms of length n with element stride `stride` and line distance `dist`
 * (rows: stride 1, dist n; columns: stride w, dist 1) from in to out (in == out: in place);
 * in and out are scratch for the planner */
static fftwf_plan plan_lines_to(int64_t n, int64_t stride, int64_t lines, int64_t dist, int sign,
                                bool unaligned, fftwf_complex *in, fftwf_complex *out)
{
    fftwf_iodim64 dims[1] = { { .n = n, .is = stride, .os = stride } };
    fftwf_iodim64 many[1] = { { .n = lines, .is = dist, .os = dist } };
    unsigned flags = unaligned ? FFTW_ESTIMATE | FFTW_UNALIGNED : planner_flag(n * lines);
    fftwf_plan p;
#pragma omp critical(mr_fftw_planner)
    {
        threads_init_once();
        fftwf_plan_with_nthreads(1);
        p = fftwf_plan_guru64_dft(1, dims, 1, many, in, out, sign, flags);
    }
    return p;
}

static fftwf_plan plan_lines(int64_t n, int64_t stride, int64_t lines, int64_t dist, int sign,
                             bool unaligned, fftwf_complex *buf)
{
    return plan_lines_to(n, stride, lines, dist, sign, unaligned, buf, buf);
}

static fftwf_plan plan_1d(int64_t n, int sign, bool unaligned, fftwf_complex *buf)
{
    return plan_lines(n, 1, 1, n, sign, unaligned, buf);
}

static void destroy_plan(fftwf_plan p)
{
    if (p != NULL) {
#pragma omp critical(mr_fftw_planner)
        fftwf_destroy_plan(p);
    }
}

mr_status mr_fft2_create(int64_t h, int64_t w, const struct mr_fft_config *cfg,
                         struct mr_fft2 **out)
{
    mr_status st = MR_OK;
    struct mr_fft2 *f = NULL;
    fftwf_complex *buf = NULL;
    int maxthreads = 1;

    *out = NULL;
    if (h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "FFT size %lldx%lld is empty", (long long)h, (long long)w);
    f = calloc(1, sizeof(*f));
    buf = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(h * w));
    if (f == NULL || buf == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "cannot allocate a %lldx%lld FFT plan", (long long)h,
                     (long long)w);
        goto out;
    }
    f->h = h;
    f->w = w;
    f->cfg = *cfg;
    norm_scales(cfg->norm, (double)h * (double)w, f->scale);
    f->planned_alignment = fftwf_alignment_of((float *)buf);
#ifdef _OPENMP
    maxthreads = omp_get_max_threads();
#endif
    for (int d = 0; d < 2; d++) {
        int sign = d == DIR_FWD ? FFTW_FORWARD : FFTW_BACKWARD;
        for (int a = 0; a < 2; a++) {
            f->plan[d][a] = plan_2d(h, w, sign, a == AL_UNALIGNED, 1, buf);
            if (f->plan[d][a] == NULL) {
                st = MR_FAIL(MR_ERR_NOMEM, "FFTW could not plan a %lldx%lld transform",
                             (long long)h, (long long)w);
                goto out;
            }
            if (maxthreads > 1 && h * w >= MR_FFT_MT_MIN_PIXELS)
                f->plan_mt[d][a] = plan_2d(h, w, sign, a == AL_UNALIGNED, maxthreads, buf);
        }
    }
    *out = f;
    f = NULL;
out:
    fftwf_free(buf);
    mr_fft2_free(f);
    return st;
}

void mr_fft2_free(struct mr_fft2 *f)
{
    if (f == NULL)
        return;
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 2; a++) {
            destroy_plan(f->plan[d][a]);
            destroy_plan(f->plan_mt[d][a]);
        }
    free(f);
}

int64_t mr_fft2_h(const struct mr_fft2 *f)
{
    return f->h;
}

int64_t mr_fft2_w(const struct mr_fft2 *f)
{
    return f->w;
}

const struct mr_fft_config *mr_fft2_config(const struct mr_fft2 *f)
{
    return &f->cfg;
}

/* ---- exact numpy rolls ---------------------------------------------------------------- */

#define DEFINE_ROLL(SUFFIX, T)                                                                   \
    static void reverse_##SUFFIX(T *x, int64_t n)                                                \
    {                                                                                            \
        for (int64_t i = 0, j = n - 1; i < j; i++, j--) {                                        \
            T t = x[i];                                                                          \
            x[i] = x[j];                                                                         \
            x[j] = t;                                                                            \
        }                                                                                        \
    }                                                                                            \
    static void swap_rows_##SUFFIX(T *a, T *b, int64_t w)                                        \
    {                                                                                            \
        for (int64_t i = 0; i < w; i++) {                                                        \
            T t = a[i];                                                                          \
            a[i] = b[i];                                                                         \
            b[i] = t;                                                                            \
        }                                                                                        \
    }                                                                                            \
    static void reverse_rows_##SUFFIX(T *x, int64_t r0, int64_t r1, int64_t w)                   \
    {                                                                                            \
        for (int64_t i = r0, j = r1 - 1; i < j; i++, j--)                                        \
            swap_rows_##SUFFIX(x + i * w, x + j * w, w);                                         \
    }                                                                                            \
    /* out[i][j] = in[(i - kh) mod h][(j - kw) mod w], in place */                               \
    static void roll2_inplace_##SUFFIX(T *x, int64_t h, int64_t w, int64_t kh, int64_t kw)       \
    {                                                                                            \
        if (kh % h != 0) {                                                                       \
            reverse_rows_##SUFFIX(x, 0, h, w);                                                   \
            reverse_rows_##SUFFIX(x, 0, kh, w);                                                  \
            reverse_rows_##SUFFIX(x, kh, h, w);                                                  \
        }                                                                                        \
        if (kw % w != 0)                                                                         \
            for (int64_t r = 0; r < h; r++) {                                                    \
                T *row = x + r * w;                                                              \
                reverse_##SUFFIX(row, w);                                                        \
                reverse_##SUFFIX(row, kw);                                                       \
                reverse_##SUFFIX(row + kw, w - kw);                                              \
            }                                                                                    \
    }

DEFINE_ROLL(c, float complex)
DEFINE_ROLL(f, float)

/* dst[i][j] = src[(i - kh) mod h][(j - kw) mod w], dst != src */
static void roll2_copy(float complex *dst, const float complex *src, int64_t h, int64_t w,
                       int64_t kh, int64_t kw)
{
    for (int64_t r = 0; r < h; r++) {
        const float complex *s = src + r * w;
        float complex *d = dst + ((r + kh) % h) * w;
        memcpy(d + kw, s, sizeof(*d) * (size_t)(w - kw));
        memcpy(d, s + (w - kw), sizeof(*d) * (size_t)kw);
    }
}

void mr_fftshift2(float complex *x, int64_t h, int64_t w)
{
    roll2_inplace_c(x, h, w, h / 2, w / 2);
}

void mr_ifftshift2(float complex *x, int64_t h, int64_t w)
{
    roll2_inplace_c(x, h, w, (h + 1) / 2, (w + 1) / 2);
}

void mr_fftshift2_f32(float *x, int64_t h, int64_t w)
{
    roll2_inplace_f(x, h, w, h / 2, w / 2);
}

void mr_ifftshift2_f32(float *x, int64_t h, int64_t w)
{
    roll2_inplace_f(x, h, w, (h + 1) / 2, (w + 1) / 2);
}

/* ---- execution ------------------------------------------------------------------------- */

static void scale_values(float complex *x, int64_t n, float s)
{
    if (s == 1.0f)
        return;
    for (int64_t i = 0; i < n; i++)
        x[i] *= s;
}

/*
 * dst[y][x] = s·(-1)^(y+x)·src[y][x] (dst may be src), for even w. For even H and W,
 * ifftshift and fftshift are both rolls by half the size, and
 *     fftshift(F(ifftshift(x)))[k] = (-1)^(H/2+W/2) · (-1)^(ky+kx) · F((-1)^(y+x)·x)[k]
 * for either direction, so a centred transform is two sign flips around the plain one
 * (sign flips are exact; the scaling rides along with the second).
 */
static void modulate(float complex *dst, const float complex *src, int64_t h, int64_t w,
                     float s)
{
    for (int64_t y = 0; y < h; y++) {
        const float sy = y % 2 == 0 ? s : -s;
        const float *in = (const float *)(src + y * w);
        float *o = (float *)(dst + y * w);
        for (int64_t x = 0; x < 2 * w; x += 4) {
            o[x] = sy * in[x];
            o[x + 1] = sy * in[x + 1];
            o[x + 2] = -sy * in[x + 2];
            o[x + 3] = -sy * in[x + 3];
        }
    }
}

static void fft2_one(const struct mr_fft2 *f, int dir, float complex *dst,
                     const float complex *src, bool threaded)
{
    const int64_t h = f->h;
    const int64_t w = f->w;
    const int64_t n = h * w;
    int al = fftwf_alignment_of((float *)dst) == f->planned_alignment ? AL_ALIGNED
                                                                      : AL_UNALIGNED;
    fftwf_plan p = threaded && f->plan_mt[dir][al] != NULL ? f->plan_mt[dir][al]
                                                           : f->plan[dir][al];

    if (f->cfg.centered && h % 2 == 0 && w % 2 == 0) {
        /* even sizes: shifts as a (-1)^(y+x) modulation, exact and fused with the scaling */
        modulate(dst, src, h, w, 1.0f);
        fftwf_execute_dft(p, (fftwf_complex *)dst, (fftwf_complex *)dst);
        modulate(dst, dst, h, w, ((h / 2 + w / 2) % 2 == 0 ? 1.0f : -1.0f) * f->scale[dir]);
        return;
    }
    if (f->cfg.centered) {
        if (dst != src)
            roll2_copy(dst, src, h, w, (h + 1) / 2, (w + 1) / 2);
        else
            roll2_inplace_c(dst, h, w, (h + 1) / 2, (w + 1) / 2);
    } else if (dst != src) {
        memcpy(dst, src, sizeof(*dst) * (size_t)n);
    }
    fftwf_execute_dft(p, (fftwf_complex *)dst, (fftwf_complex *)dst);
    if (f->cfg.centered)
        roll2_inplace_c(dst, h, w, h / 2, w / 2);
    scale_values(dst, n, f->scale[dir]);
}

static void fft2_batch(const struct mr_fft2 *f, int dir, float complex *dst,
                       const float complex *src, int64_t batch)
{
    const int64_t n = f->h * f->w;
    bool in_parallel = false;
#ifdef _OPENMP
    in_parallel = omp_in_parallel() != 0;
#endif
    if (batch == 1 || in_parallel) {
        for (int64_t b = 0; b < batch; b++)
            fft2_one(f, dir, dst + b * n, src + b * n, !in_parallel);
        return;
    }
#pragma omp parallel for if (batch * n >= MR_FFT_PAR_MIN_VALUES) schedule(static)
    for (int64_t b = 0; b < batch; b++)
        fft2_one(f, dir, dst + b * n, src + b * n, false);
}

void mr_fft2_forward(const struct mr_fft2 *f, float complex *dst, const float complex *src,
                     int64_t batch)
{
    fft2_batch(f, DIR_FWD, dst, src, batch);
}

void mr_fft2_inverse(const struct mr_fft2 *f, float complex *dst, const float complex *src,
                     int64_t batch)
{
    fft2_batch(f, DIR_INV, dst, src, batch);
}

static int64_t array_batch(const struct mr_fft2 *f, const struct mr_array *dst,
                           const struct mr_array *src)
{
    MR_ASSERT(src->ndim >= 2 && src->dims[src->ndim - 2] == f->h &&
              src->dims[src->ndim - 1] == f->w);
    MR_ASSERT(mr_array_numel(dst) == mr_array_numel(src));
    return mr_array_numel(src) / (f->h * f->w);
}

void mr_fft2_forward_array(const struct mr_fft2 *f, struct mr_array *dst,
                           const struct mr_array *src)
{
    int64_t batch = array_batch(f, dst, src);
    fft2_batch(f, DIR_FWD, mr_array_cf32(dst), mr_array_cf32(src), batch);
}

void mr_fft2_inverse_array(const struct mr_fft2 *f, struct mr_array *dst,
                           const struct mr_array *src)
{
    int64_t batch = array_batch(f, dst, src);
    fft2_batch(f, DIR_INV, mr_array_cf32(dst), mr_array_cf32(src), batch);
}

/* ---- 1-D ------------------------------------------------------------------------------- */

mr_status mr_fft1_create(int64_t n, const struct mr_fft_config *cfg, struct mr_fft1 **out)
{
    mr_status st = MR_OK;
    struct mr_fft1 *f = NULL;
    fftwf_complex *buf = NULL;

    *out = NULL;
    if (n < 1)
        return MR_FAIL(MR_ERR_ARG, "FFT length %lld is empty", (long long)n);
    f = calloc(1, sizeof(*f));
    buf = fftwf_malloc(sizeof(fftwf_complex) * (size_t)n);
    if (f == NULL || buf == NULL) {
        st = MR_FAIL(MR_ERR_NOMEM, "cannot allocate a length-%lld FFT plan", (long long)n);
        goto out;
    }
    f->n = n;
    f->cfg = *cfg;
    norm_scales(cfg->norm, (double)n, f->scale);
    f->planned_alignment = fftwf_alignment_of((float *)buf);
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 2; a++) {
            f->plan[d][a] = plan_1d(n, d == DIR_FWD ? FFTW_FORWARD : FFTW_BACKWARD,
                                    a == AL_UNALIGNED, buf);
            if (f->plan[d][a] == NULL) {
                st = MR_FAIL(MR_ERR_NOMEM, "FFTW could not plan a length-%lld transform",
                             (long long)n);
                goto out;
            }
        }
    *out = f;
    f = NULL;
out:
    fftwf_free(buf);
    mr_fft1_free(f);
    return st;
}

void mr_fft1_free(struct mr_fft1 *f)
{
    if (f == NULL)
        return;
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 2; a++)
            destroy_plan(f->plan[d][a]);
    free(f);
}

static void fft1_one(const struct mr_fft1 *f, int dir, float complex *dst,
                     const float complex *src)
{
    const int64_t n = f->n;
    int al = fftwf_alignment_of((float *)dst) == f->planned_alignment ? AL_ALIGNED
                                                                      : AL_UNALIGNED;
    if (f->cfg.centered) {
        if (dst != src)
            roll2_copy(dst, src, 1, n, 0, (n + 1) / 2);
        else
            roll2_inplace_c(dst, 1, n, 0, (n + 1) / 2);
    } else if (dst != src) {
        memcpy(dst, src, sizeof(*dst) * (size_t)n);
    }
    fftwf_execute_dft(f->plan[dir][al], (fftwf_complex *)dst, (fftwf_complex *)dst);
    if (f->cfg.centered)
        roll2_inplace_c(dst, 1, n, 0, n / 2);
    scale_values(dst, n, f->scale[dir]);
}

static void fft1_rows(const struct mr_fft1 *f, int dir, float complex *dst,
                      const float complex *src, int64_t rows)
{
    bool serial = rows == 1;
#ifdef _OPENMP
    serial = serial || omp_in_parallel() != 0;
#endif
    if (serial) { /* never open a nested parallel region */
        for (int64_t r = 0; r < rows; r++)
            fft1_one(f, dir, dst + r * f->n, src + r * f->n);
        return;
    }
#pragma omp parallel for if (rows * f->n >= MR_FFT_PAR_MIN_VALUES) schedule(static)
    for (int64_t r = 0; r < rows; r++)
        fft1_one(f, dir, dst + r * f->n, src + r * f->n);
}

void mr_fft1_forward(const struct mr_fft1 *f, float complex *dst, const float complex *src,
                     int64_t rows)
{
    fft1_rows(f, DIR_FWD, dst, src, rows);
}

void mr_fft1_inverse(const struct mr_fft1 *f, float complex *dst, const float complex *src,
                     int64_t rows)
{
    fft1_rows(f, DIR_INV, dst, src, rows);
}

/* ---- masked normal operator, line masks ------------------------------------------------ */

#define LINEMASK_BLOCK 16 /* lines per batched transform */

struct mr_fft_linemask {
    int64_t h;
    int64_t w;
    bool along_rows;          /* mask constant along H: transforms along W (rows) */
    int64_t n;                /* transform length: w along rows, h along columns */
    struct mr_fft_config cfg;
    float *src;               /* the n mask values it was made from */
    float *m;                 /* n values: m' / n */
    fftwf_plan block[2][2];   /* [direction][alignment]: LINEMASK_BLOCK lines in place */
    fftwf_plan one[2][2];     /* one line in place, for the remainder */
    /* along rows: out of place between the lines and a slot of LINEMASK_BLOCK·n values (FFTW
     * buffers the in-place plans of lengths such as 180 = 2²·3²·5, allocating on every call) */
    fftwf_plan block_to[2][2];
    fftwf_plan one_to[2][2];
    fftwf_complex *slots;     /* nslots slots, one per OpenMP thread of apply's loop */
    int nslots;
    int planned_alignment;
};

bool mr_mask_is_column_mask(const float *mask, int64_t h, int64_t w)
{
    for (int64_t y = 1; y < h; y++)
        if (memcmp(mask + y * w, mask, sizeof(*mask) * (size_t)w) != 0)
            return false;
    return true;
}

bool mr_mask_is_row_mask(const float *mask, int64_t h, int64_t w)
{
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 1; x < w; x++)
            if (memcmp(mask + y * w + x, mask + y * w, sizeof(*mask)) != 0)
                return false;
    return true;
}

mr_status mr_fft_linemask_create(int64_t h, int64_t w, const struct mr_fft_config *cfg,
                                 const float *mask, struct mr_fft_linemask **out)
{
    mr_status st = MR_OK;
    struct mr_fft_linemask *op = NULL;
    fftwf_complex *buf = NULL;

    *out = NULL;
    if (h < 1 || w < 1)
        return MR_FAIL(MR_ERR_ARG, "masked FFT of an empty %lldx%lld image", (long long)h,
                       (long long)w);
    const bool rows = mr_mask_is_column_mask(mask, h, w);
    if (!rows && !mr_mask_is_row_mask(mask, h, w))
        return MR_FAIL(MR_ERR_ARG, "the %lldx%lld mask samples neither whole rows nor whole "
                       "columns", (long long)h, (long long)w);
    const int64_t n = rows ? w : h;
    op = calloc(1, sizeof(*op));
    buf = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(rows ? w * LINEMASK_BLOCK : h * w));
    if (op != NULL) {
        op->m = malloc(sizeof(float) * (size_t)n);
        op->src = malloc(sizeof(float) * (size_t)n);
        if (rows) {
            op->nslots = mr_cpu_threads();
            op->slots = fftwf_malloc(sizeof(fftwf_complex) * (size_t)op->nslots *
                                     (size_t)(LINEMASK_BLOCK * n));
        }
    }
    if (op == NULL || buf == NULL || op->m == NULL || op->src == NULL ||
        (rows && op->slots == NULL)) {
        st = MR_FAIL(MR_ERR_NOMEM, "cannot allocate a masked FFT of %lldx%lld", (long long)h,
                     (long long)w);
        goto out;
    }
    op->h = h;
    op->w = w;
    op->along_rows = rows;
    op->n = n;
    op->cfg = *cfg;
    for (int64_t i = 0; i < n; i++)
        op->src[i] = rows ? mask[i] : mask[i * w];
    /* centred: F_c = fftshift ∘ F ∘ ifftshift, so M ⊙ F_c z = fftshift(ifftshift(M) ⊙ F(...)) */
    for (int64_t i = 0; i < n; i++) {
        int64_t from = cfg->centered ? (i + n / 2) % n : i;
        op->m[i] = op->src[from] / (float)n;
    }
    op->planned_alignment = fftwf_alignment_of((float *)buf);
    const int64_t stride = rows ? 1 : w;
    const int64_t dist = rows ? n : 1;
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 2; a++) {
            int sign = d == DIR_FWD ? FFTW_FORWARD : FFTW_BACKWARD;
            /* (columns: a block needs LINEMASK_BLOCK columns; narrower images use single ones) */
            const int64_t block = rows || w >= LINEMASK_BLOCK ? LINEMASK_BLOCK : 1;
            op->block[d][a] = plan_lines(n, stride, block, dist, sign, a == AL_UNALIGNED, buf);
            op->one[d][a] = plan_lines(n, stride, 1, dist, sign, a == AL_UNALIGNED, buf);
            if (rows) {
                op->block_to[d][a] = plan_lines_to(n, 1, LINEMASK_BLOCK, n, sign,
                                                   a == AL_UNALIGNED, buf, op->slots);
                op->one_to[d][a] = plan_lines_to(n, 1, 1, n, sign, a == AL_UNALIGNED, buf,
                                                 op->slots);
            }
            if (op->block[d][a] == NULL || op->one[d][a] == NULL ||
                (rows && (op->block_to[d][a] == NULL || op->one_to[d][a] == NULL))) {
                st = MR_FAIL(MR_ERR_NOMEM, "FFTW could not plan a length-%lld transform",
                             (long long)n);
                goto out;
            }
        }
    *out = op;
    op = NULL;
out:
    fftwf_free(buf);
    mr_fft_linemask_free(op);
    return st;
}

void mr_fft_linemask_free(struct mr_fft_linemask *op)
{
    if (op == NULL)
        return;
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 2; a++) {
            destroy_plan(op->block[d][a]);
            destroy_plan(op->one[d][a]);
            destroy_plan(op->block_to[d][a]);
            destroy_plan(op->one_to[d][a]);
        }
    fftwf_free(op->slots);
    free(op->m);
    free(op->src);
    free(op);
}

bool mr_fft_linemask_along_rows(const struct mr_fft_linemask *op)
{
    return op->along_rows;
}

mr_status mr_fft_linemask_sync(struct mr_fft_linemask **op, int64_t h, int64_t w,
                               const struct mr_fft_config *cfg, const float *mask)
{
    struct mr_fft_linemask *o = *op;
    if (o != NULL && o->h == h && o->w == w && o->cfg.centered == cfg->centered &&
        o->cfg.norm == cfg->norm) {
        bool same = o->along_rows ? mr_mask_is_column_mask(mask, h, w)
                                  : mr_mask_is_row_mask(mask, h, w) &&
                                        !mr_mask_is_column_mask(mask, h, w);
        for (int64_t i = 0; same && i < o->n; i++)
            same = memcmp(&o->src[i], o->along_rows ? &mask[i] : &mask[i * w], sizeof(float)) ==
                   0;
        if (same)
            return MR_OK;
    }
    mr_fft_linemask_free(o);
    *op = NULL;
    if (!mr_mask_is_column_mask(mask, h, w) && !mr_mask_is_row_mask(mask, h, w))
        return MR_OK;
    return mr_fft_linemask_create(h, w, cfg, mask, op);
}

/* the pair on `lines` lines starting at z (LINEMASK_BLOCK or 1): rows of length w, or columns
 * of length h with stride w */
static void linemask_lines(const struct mr_fft_linemask *op, float complex *z, int64_t lines)
{
    const int al = fftwf_alignment_of((float *)z) == op->planned_alignment ? AL_ALIGNED
                                                                           : AL_UNALIGNED;
    fftwf_plan const(*p)[2] = lines == 1 ? op->one : op->block;
    fftwf_execute_dft(p[DIR_FWD][al], (fftwf_complex *)z, (fftwf_complex *)z);
    if (op->along_rows) {
        for (int64_t r = 0; r < lines; r++) {
            float complex *row = z + r * op->w;
            for (int64_t x = 0; x < op->w; x++)
                row[x] *= op->m[x];
        }
    } else {
        for (int64_t y = 0; y < op->h; y++) {
            float complex *seg = z + y * op->w;
            const float my = op->m[y];
            for (int64_t x = 0; x < lines; x++)
                seg[x] *= my;
        }
    }
    fftwf_execute_dft(p[DIR_INV][al], (fftwf_complex *)z, (fftwf_complex *)z);
}

/* along rows: dst = the pair on `lines` rows of src (LINEMASK_BLOCK or 1), out of place
 * through slot (lines·w values); dst may equal src */
static void linemask_lines_to(const struct mr_fft_linemask *op, float complex *dst,
                              const float complex *src, int64_t lines, float complex *slot)
{
    const int pa = op->planned_alignment;
    const bool slot_al = fftwf_alignment_of((float *)slot) == pa;
    const int al_fwd = slot_al && fftwf_alignment_of((float *)src) == pa ? AL_ALIGNED
                                                                          : AL_UNALIGNED;
    const int al_inv = slot_al && fftwf_alignment_of((float *)dst) == pa ? AL_ALIGNED
                                                                         : AL_UNALIGNED;
    fftwf_plan const(*p)[2] = lines == 1 ? op->one_to : op->block_to;
    /* FFTW's new-array execute takes a non-const input; c2c out-of-place plans made without
     * FFTW_DESTROY_INPUT leave it unchanged */
    fftwf_execute_dft(p[DIR_FWD][al_fwd], (fftwf_complex *)src, (fftwf_complex *)slot);
    for (int64_t r = 0; r < lines; r++) {
        float complex *row = slot + r * op->w;
        for (int64_t x = 0; x < op->w; x++)
            row[x] *= op->m[x];
    }
    fftwf_execute_dft(p[DIR_INV][al_inv], (fftwf_complex *)slot, (fftwf_complex *)dst);
}

/* the calling thread's slot in apply_to's loop, or NULL when it has none (a thread of a
 * caller's larger team) */
static float complex *linemask_slot(const struct mr_fft_linemask *op)
{
    int tid = 0;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#endif
    if (tid >= op->nslots)
        return NULL;
    return (float complex *)op->slots + (int64_t)tid * LINEMASK_BLOCK * op->n;
}

/* along rows: dst = the pair on `lines` rows of src, through the thread's slot if it has one,
 * else in place in dst */
static void rows_to(const struct mr_fft_linemask *op, float complex *dst,
                    const float complex *src, int64_t lines)
{
    float complex *slot = linemask_slot(op);
    if (slot != NULL) {
        linemask_lines_to(op, dst, src, lines, slot);
        return;
    }
    if (dst != src)
        memcpy(dst, src, sizeof(*dst) * (size_t)(lines * op->w));
    linemask_lines(op, dst, lines);
}

void mr_fft_linemask_row(const struct mr_fft_linemask *op, float complex *dst,
                         const float complex *src)
{
    MR_ASSERT(op->along_rows);
    rows_to(op, dst, src, 1);
}

void mr_fft_linemask_apply(const struct mr_fft_linemask *op, float complex *z, int64_t nimg)
{
    mr_fft_linemask_apply_to(op, z, z, nimg);
}

void mr_fft_linemask_apply_to(const struct mr_fft_linemask *op, float complex *dst,
                              const float complex *src, int64_t nimg)
{
    bool par = nimg * op->h * op->w >= MR_FFT_PAR_MIN_VALUES;
#ifdef _OPENMP
    par = par && omp_in_parallel() == 0; /* never open a nested parallel region */
#endif
    if (op->along_rows) {
        const int64_t rows = nimg * op->h;
        const int64_t nblocks = rows / LINEMASK_BLOCK;
        const int64_t w = op->w;
        const int64_t bw = LINEMASK_BLOCK * w;
        if (par) {
#pragma omp parallel for schedule(static)
            for (int64_t b = 0; b < nblocks; b++)
                rows_to(op, dst + b * bw, src + b * bw, LINEMASK_BLOCK);
        } else { /* no region at all: inside an inactive one every thread would be number 0 */
            for (int64_t b = 0; b < nblocks; b++)
                rows_to(op, dst + b * bw, src + b * bw, LINEMASK_BLOCK);
        }
        for (int64_t r = nblocks * LINEMASK_BLOCK; r < rows; r++)
            rows_to(op, dst + r * w, src + r * w, 1);
        return;
    }
    float complex *z = dst;
    if (dst != src)
        memcpy(dst, src, sizeof(*dst) * (size_t)(nimg * op->h * op->w));
    /* columns: blocks of LINEMASK_BLOCK adjacent columns of one image, then single columns */
    const int64_t nb = op->w / LINEMASK_BLOCK;
    const int64_t per = nb + (op->w - nb * LINEMASK_BLOCK);
#pragma omp parallel for if (par) schedule(static)
    for (int64_t t = 0; t < nimg * per; t++) {
        float complex *img = z + (t / per) * op->h * op->w;
        const int64_t k = t % per;
        if (k < nb)
            linemask_lines(op, img + k * LINEMASK_BLOCK, LINEMASK_BLOCK);
        else
            linemask_lines(op, img + nb * LINEMASK_BLOCK + (k - nb), 1);
    }
}
