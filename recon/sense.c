/*
 * The SENSE encoding operator (sense.h; Pruessmann et al., MRM 1999). Everything the per-call
 * paths need is allocated in mr_sense_create; the kernels are parallel over coils or pixels (outermost loop)
 * above a size threshold.
 */
#include "recon/sense.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recon/combine.h"

/* below this many values a kernel runs on the calling thread */
#define MR_SENSE_PAR_MIN (1 << 15)

struct mr_sense {
    int64_t nc;
    int64_t h;
    int64_t w;
    struct mr_fft2 *fft;
    struct mr_fft_config fft_cfg;
    struct mr_fft_linemask *linemask; /* a mask of whole columns or rows (1-D undersampling):
                                         the normal operator's F⁻¹MF along one axis; else
                                         NULL (recon/fft.h) */
    double gain;           /* s_fwd² · H·W: ||FFT||² */
    float adj_scale;       /* g = s_fwd / s_inv */
    double max_sos;        /* max over pixels of Σ_c |S_c|² */
    struct mr_array maps;  /* (C, H, W) CF32 */
    struct mr_array mask;  /* (H, W) F32, 0/1 */
    struct mr_array sos;   /* (H, W) F32: Σ_c |S_c|² */
    struct mr_array coil;  /* (C, H, W) CF32 scratch */
};

/* ---- plan ------------------------------------------------------------------------------ */

mr_status mr_sense_create(int64_t nc, int64_t h, int64_t w, const struct mr_fft_config *fft,
                          struct mr_sense **out)
{
    mr_status st = MR_OK;
    struct mr_sense *s = NULL;
    double s_fwd;
    double s_inv;

    *out = NULL;
    MR_CHECK(mr_dims_check_coils("SENSE operator", nc, h, w));
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "SENSE operator");
    s->nc = nc;
    s->h = h;
    s->w = w;
    mr_fft_norm_scales(fft->norm, (double)h * (double)w, &s_fwd, &s_inv);
    s->gain = s_fwd * s_fwd * (double)h * (double)w;
    s->adj_scale = (float)(s_fwd / s_inv);
    MR_CHECK(mr_fft2_create(h, w, fft, &s->fft));
    s->fft_cfg = *fft;
    MR_CHECK(mr_array_init_dims(&s->maps, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&s->coil, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&s->mask, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_array_init_dims(&s->sos, MR_DTYPE_F32, 2, h, w));
    MR_CHECK(mr_sense_set_mask(s, NULL));
    *out = s;
    s = NULL;
out:
    mr_sense_free(s);
    return st;
}

void mr_sense_free(struct mr_sense *s)
{
    if (s == NULL)
        return;
    mr_fft2_free(s->fft);
    mr_fft_linemask_free(s->linemask);
    mr_array_cleanup(&s->maps);
    mr_array_cleanup(&s->mask);
    mr_array_cleanup(&s->sos);
    mr_array_cleanup(&s->coil);
    free(s);
}

mr_status mr_sense_set_maps(struct mr_sense *s, const struct mr_array *sens)
{
    char buf[128];
    mr_status st;

    if (!mr_array_same_shape(sens, &s->maps))
        return MR_FAIL(MR_ERR_SHAPE, "coil maps are %s, expected (%lld, %lld, %lld) complex64",
                       mr_array_shape_str(sens, buf, sizeof(buf)), (long long)s->nc,
                       (long long)s->h, (long long)s->w);
    st = mr_array_check_finite(sens, "coil maps");
    if (st != MR_OK)
        return st;
    mr_array_copy(&s->maps, sens);

    const int64_t n = s->h * s->w;
    const float complex *m = mr_array_cf32(&s->maps);
    float *sos = mr_array_f32(&s->sos);
    double mx = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (int64_t c = 0; c < s->nc; c++) {
            double re = (double)crealf(m[c * n + i]);
            double im = (double)cimagf(m[c * n + i]);
            acc += re * re + im * im;
        }
        sos[i] = (float)acc;
        if (acc > mx)
            mx = acc;
    }
    s->max_sos = mx;
    return MR_OK;
}

mr_status mr_sense_mask_layout(const struct mr_array *mask, int64_t h, int64_t w,
                               int64_t *stride)
{
    char buf[128];
    bool full = mask->ndim == 2 && mask->dims[0] == h && mask->dims[1] == w;
    bool cols = (mask->ndim == 1 && mask->dims[0] == w) ||
                (mask->ndim == 2 && mask->dims[0] == 1 && mask->dims[1] == w);
    if (mask->dtype != MR_DTYPE_F32 || !(full || cols))
        return MR_FAIL(MR_ERR_SHAPE, "mask is %s, expected (%lld, %lld) or (%lld) float32",
                       mr_array_shape_str(mask, buf, sizeof(buf)), (long long)h, (long long)w,
                       (long long)w);
    *stride = full ? w : 0;
    return MR_OK;
}

mr_status mr_sense_set_mask(struct mr_sense *s, const struct mr_array *mask)
{
    float *dst = mr_array_f32(&s->mask);
    const int64_t h = s->h;
    const int64_t w = s->w;

    if (mask == NULL) {
        for (int64_t i = 0; i < h * w; i++)
            dst[i] = 1.0f;
        return mr_fft_linemask_sync(&s->linemask, h, w, &s->fft_cfg, dst);
    }
    int64_t stride = 0;
    mr_status st = mr_sense_mask_layout(mask, h, w, &stride);
    if (st != MR_OK)
        return st;
    const float *src = mr_array_f32(mask);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            dst[y * w + x] = src[y * stride + x] != 0.0f ? 1.0f : 0.0f;
    return mr_fft_linemask_sync(&s->linemask, h, w, &s->fft_cfg, dst);
}

/* k[c] = scale · M ⊙ k[c] for every coil */
static void apply_mask(const struct mr_sense *s, float complex *k, float scale)
{
    const int64_t n = s->h * s->w;
    const int64_t nc = s->nc;
    const float *m = mr_array_f32(&s->mask);

#pragma omp parallel for if (nc * n >= MR_SENSE_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            k[c * n + i] *= scale * m[i];
}

static void check_img(const struct mr_sense *s, const struct mr_array *img)
{
    MR_ASSERT(img->dtype == MR_DTYPE_CF32 && mr_array_numel(img) == s->h * s->w);
}

static void check_ksp(const struct mr_sense *s, const struct mr_array *ksp)
{
    MR_ASSERT(ksp->dtype == MR_DTYPE_CF32 && mr_array_numel(ksp) == s->nc * s->h * s->w);
}

/* a (C, H, W) view of any array of that many values */
static void coil_view(const struct mr_sense *s, struct mr_array *view, void *data)
{
    const int64_t dims[3] = { s->nc, s->h, s->w };
    mr_array_wrap(view, MR_DTYPE_CF32, 3, dims, data);
}

void mr_sense_forward(struct mr_sense *s, struct mr_array *ksp, const struct mr_array *img)
{
    struct mr_array k;
    check_img(s, img);
    check_ksp(s, ksp);
    coil_view(s, &k, ksp->data);
    mr_coil_expand(&k, img, &s->maps);
    mr_fft2_forward(s->fft, mr_array_cf32(&k), mr_array_cf32(&k), s->nc);
    apply_mask(s, mr_array_cf32(&k), 1.0f);
}

void mr_sense_adjoint(struct mr_sense *s, struct mr_array *img, const struct mr_array *ksp)
{
    float complex *k = mr_array_cf32(&s->coil);
    check_img(s, img);
    check_ksp(s, ksp);
    memcpy(k, mr_array_cf32(ksp), sizeof(*k) * (size_t)(s->nc * s->h * s->w));
    apply_mask(s, k, s->adj_scale);
    mr_fft2_inverse(s->fft, k, k, s->nc);
    mr_coil_reduce(img, &s->coil, &s->maps, MR_COIL_SUM_FLOAT);
}

/*
 * With a column mask M(y, x) = m(x), IFFT2(M ⊙ FFT2(z)) = IFFT_x(m ⊙ FFT_x(z)): the 2-D
 * transforms are separable (centring included) and the transform along y cancels because
 * IFFT_y ∘ FFT_y = I for every normalisation (recon/fft.h mr_fft_linemask). So the normal
 * operator needs only 1-D FFTs along the rows, and every image row is independent: one
 * parallel loop over rows runs expand, the row operator and reduce for all coils of a row while
 * it is in cache (row y of every coil's scratch is private to the iteration; the row transforms
 * go through the line-mask operator's slot of the thread); the adjoint's scale g is applied in
 * the reduce. dst may equal src: row y of src is read before row y of dst is written.
 */
static void normal_columns(struct mr_sense *s, float complex *dst, const float complex *src)
{
    const int64_t nc = s->nc;
    const int64_t h = s->h;
    const int64_t w = s->w;
    const float g = s->adj_scale;
    const float complex *sm = mr_array_cf32(&s->maps);
    float complex *k = mr_array_cf32(&s->coil);

#pragma omp parallel for if (nc * h * w >= MR_SENSE_PAR_MIN) schedule(static)
    for (int64_t y = 0; y < h; y++) {
        const float complex *x = src + y * w;
        for (int64_t c = 0; c < nc; c++) {
            const float complex *sr = sm + (c * h + y) * w;
            float complex *r = k + (c * h + y) * w;
            for (int64_t i = 0; i < w; i++)
                r[i] = sr[i] * x[i];
            mr_fft_linemask_row(s->linemask, r, r);
        }
        float complex *d = dst + y * w;
        for (int64_t i = 0; i < w; i++) {
            float complex acc = 0.0f;
            for (int64_t c = 0; c < nc; c++)
                acc += conjf(sm[(c * h + y) * w + i]) * k[(c * h + y) * w + i];
            d[i] = g * acc;
        }
    }
}

void mr_sense_normal(struct mr_sense *s, struct mr_array *dst, const struct mr_array *src)
{
    float complex *k = mr_array_cf32(&s->coil);
    check_img(s, src);
    check_img(s, dst);
    if (s->linemask != NULL && mr_fft_linemask_along_rows(s->linemask)) {
        normal_columns(s, mr_array_cf32(dst), mr_array_cf32(src));
        return;
    }
    mr_coil_expand(&s->coil, src, &s->maps);
    if (s->linemask != NULL) {
        /* sampled rows (ISMRMRD phase-encode lines): the pair along columns only, the
         * adjoint's scale g applied to the reduced image */
        const float g = s->adj_scale;
        float complex *d = mr_array_cf32(dst);
        mr_fft_linemask_apply(s->linemask, k, s->nc);
        mr_coil_reduce(dst, &s->coil, &s->maps, MR_COIL_SUM_FLOAT);
        if (g != 1.0f)
            for (int64_t i = 0; i < s->h * s->w; i++)
                d[i] *= g;
        return;
    }
    mr_fft2_forward(s->fft, k, k, s->nc);
    apply_mask(s, k, s->adj_scale);
    mr_fft2_inverse(s->fft, k, k, s->nc);
    mr_coil_reduce(dst, &s->coil, &s->maps, MR_COIL_SUM_FLOAT);
}

void mr_sense_coil_images(const struct mr_sense *s, struct mr_array *coil_img,
                          const struct mr_array *ksp)
{
    check_ksp(s, ksp);
    check_ksp(s, coil_img);
    mr_fft2_inverse(s->fft, mr_array_cf32(coil_img), mr_array_cf32(ksp), s->nc);
}

double mr_sense_lipschitz(const struct mr_sense *s)
{
    return s->gain * s->max_sos;
}

const struct mr_array *mr_sense_sos(const struct mr_sense *s)
{
    return &s->sos;
}

const struct mr_array *mr_sense_maps(const struct mr_sense *s)
{
    return &s->maps;
}

int64_t mr_sense_nc(const struct mr_sense *s)
{
    return s->nc;
}

int64_t mr_sense_h(const struct mr_sense *s)
{
    return s->h;
}

int64_t mr_sense_w(const struct mr_sense *s)
{
    return s->w;
}

const struct mr_fft2 *mr_sense_fft(const struct mr_sense *s)
{
    return s->fft;
}

/* ---- linear operator views ------------------------------------------------------------- */

static void op_forward(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    mr_sense_forward(ctx, dst, src);
}

static void op_adjoint(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    mr_sense_adjoint(ctx, dst, src);
}

static void op_normal(void *ctx, struct mr_array *dst, const struct mr_array *src)
{
    mr_sense_normal(ctx, dst, src);
}

static const struct mr_linop_ops sense_ops = {
    .name = "sense", .forward = op_forward, .adjoint = op_adjoint, .normal = op_normal,
};

/* N = A^H A is self-adjoint; its own normal N² goes through the default scratch path */
static const struct mr_linop_ops sense_normal_ops = {
    .name = "sense_normal", .forward = op_normal, .adjoint = op_normal,
};

mr_status mr_sense_linop_create(struct mr_sense *s, struct mr_linop **out)
{
    const int64_t in[2] = { s->h, s->w };
    const int64_t outd[3] = { s->nc, s->h, s->w };
    return mr_linop_create(&sense_ops, s, 2, in, 3, outd, out);
}

mr_status mr_sense_normal_linop_create(struct mr_sense *s, struct mr_linop **out)
{
    const int64_t in[2] = { s->h, s->w };
    return mr_linop_create(&sense_normal_ops, s, 2, in, 2, in, out);
}
