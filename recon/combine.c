/*
 * Coil combinations (combine.h; Roemer et al., MRM 16:192, 1990 for the SENSE combination),
 * every framework's accumulation written once.
 */
#include "recon/combine.h"

#include <complex.h>
#include <math.h>

/* below this many values a kernel runs on the calling thread */
#define MR_COMBINE_PAR_MIN (1 << 15)

static int64_t coil_pixels(const struct mr_array *coil_img, const struct mr_array *img)
{
    MR_ASSERT(coil_img->ndim == 3 && coil_img->dtype == MR_DTYPE_CF32);
    MR_ASSERT(mr_array_numel(img) == coil_img->dims[1] * coil_img->dims[2]);
    return coil_img->dims[1] * coil_img->dims[2];
}

void mr_coil_expand(struct mr_array *coil_img, const struct mr_array *img,
                    const struct mr_array *sens)
{
    const int64_t n = coil_pixels(coil_img, img);
    const int64_t nc = coil_img->dims[0];
    MR_ASSERT(mr_array_same_shape(coil_img, sens) && img->dtype == MR_DTYPE_CF32);
    float complex *out = mr_array_cf32(coil_img);
    const float complex *x = mr_array_cf32(img);
    const float complex *s = mr_array_cf32(sens);

#pragma omp parallel for if (nc * n >= MR_COMBINE_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < n; i++)
            out[c * n + i] = s[c * n + i] * x[i];
}

void mr_coil_reduce(struct mr_array *img, const struct mr_array *coil_img,
                    const struct mr_array *sens, enum mr_coil_sum sum)
{
    const int64_t n = coil_pixels(coil_img, img);
    const int64_t nc = coil_img->dims[0];
    MR_ASSERT(mr_array_same_shape(coil_img, sens) && img->dtype == MR_DTYPE_CF32);
    MR_ASSERT(sum == MR_COIL_SUM_FLOAT || sum == MR_COIL_SUM_DOUBLE);
    float complex *out = mr_array_cf32(img);
    const float complex *x = mr_array_cf32(coil_img);
    const float complex *s = mr_array_cf32(sens);
    const bool dbl = sum == MR_COIL_SUM_DOUBLE;

#pragma omp parallel for if (nc * n >= MR_COMBINE_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        if (dbl) {
            double re = 0.0;
            double im = 0.0;
            for (int64_t c = 0; c < nc; c++) {
                const float complex p = conjf(s[c * n + i]) * x[c * n + i];
                re += (double)crealf(p);
                im += (double)cimagf(p);
            }
            out[i] = CMPLXF((float)re, (float)im);
        } else {
            float complex acc = 0.0f;
            for (int64_t c = 0; c < nc; c++)
                acc += conjf(s[c * n + i]) * x[c * n + i];
            out[i] = acc;
        }
    }
}

/* Σ_c |x_c|² of pixel i, as `sum` forms it (squared by the caller's sqrt) */
static double sum_squares(const float complex *x, int64_t nc, int64_t n, int64_t i,
                          enum mr_coil_sum sum)
{
    if (sum == MR_COIL_SUM_DOUBLE) {
        double acc = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            const double re = (double)crealf(x[c * n + i]);
            const double im = (double)cimagf(x[c * n + i]);
            acc += re * re + im * im;
        }
        return acc;
    }
    float acc = 0.0f;
    for (int64_t c = 0; c < nc; c++) {
        if (sum == MR_COIL_SUM_FLOAT_ABS) {
            const float a = cabsf(x[c * n + i]);
            acc += a * a;
        } else {
            const float re = crealf(x[c * n + i]);
            const float im = cimagf(x[c * n + i]);
            acc += re * re + im * im;
        }
    }
    return (double)acc;
}

/* the RSS of pixel i: sqrt in the precision of the sum */
static float rss_at(const float complex *x, int64_t nc, int64_t n, int64_t i,
                    enum mr_coil_sum sum)
{
    const double ss = sum_squares(x, nc, n, i, sum);
    return sum == MR_COIL_SUM_DOUBLE ? (float)sqrt(ss) : sqrtf((float)ss);
}

void mr_coil_rss(struct mr_array *dst, const struct mr_array *coil_img, enum mr_coil_sum sum)
{
    const int64_t n = coil_pixels(coil_img, dst);
    const int64_t nc = coil_img->dims[0];
    const float complex *x = mr_array_cf32(coil_img);
    const bool cplx = dst->dtype == MR_DTYPE_CF32;
    float *out_f = cplx ? NULL : mr_array_f32(dst);
    float complex *out_c = cplx ? mr_array_cf32(dst) : NULL;

#pragma omp parallel for if (nc * n >= MR_COMBINE_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const float v = rss_at(x, nc, n, i, sum);
        if (cplx)
            out_c[i] = v;
        else
            out_f[i] = v;
    }
}

void mr_coil_rss_parts(struct mr_array *dst, const struct mr_array *coil_img,
                       enum mr_coil_sum sum)
{
    const int64_t n = coil_pixels(coil_img, dst);
    const int64_t nc = coil_img->dims[0];
    MR_ASSERT(dst->dtype == MR_DTYPE_CF32);
    MR_ASSERT(sum == MR_COIL_SUM_FLOAT || sum == MR_COIL_SUM_DOUBLE);
    const float complex *x = mr_array_cf32(coil_img);
    float complex *out = mr_array_cf32(dst);

#pragma omp parallel for if (nc * n >= MR_COMBINE_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        if (sum == MR_COIL_SUM_DOUBLE) {
            double re = 0.0;
            double im = 0.0;
            for (int64_t c = 0; c < nc; c++) {
                re += (double)crealf(x[c * n + i]) * (double)crealf(x[c * n + i]);
                im += (double)cimagf(x[c * n + i]) * (double)cimagf(x[c * n + i]);
            }
            out[i] = CMPLXF((float)sqrt(re), (float)sqrt(im));
        } else {
            float re = 0.0f;
            float im = 0.0f;
            for (int64_t c = 0; c < nc; c++) {
                const float a = crealf(x[c * n + i]);
                const float b = cimagf(x[c * n + i]);
                re += a * a;
                im += b * b;
            }
            out[i] = CMPLXF(sqrtf(re), sqrtf(im));
        }
    }
}

void mr_coil_sense_combine(struct mr_array *dst, const struct mr_array *coil_img,
                           const struct mr_array *sens)
{
    const int64_t n = coil_pixels(coil_img, dst);
    const int64_t nc = coil_img->dims[0];
    MR_ASSERT(mr_array_same_shape(coil_img, sens) && dst->dtype == MR_DTYPE_CF32);
    float complex *out = mr_array_cf32(dst);
    const float complex *x = mr_array_cf32(coil_img);
    const float complex *s = mr_array_cf32(sens);

#pragma omp parallel for if (nc * n >= MR_COMBINE_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double complex num = 0.0;
        double den = 0.0;
        for (int64_t c = 0; c < nc; c++) {
            double complex sc = (double complex)s[c * n + i];
            num += conj(sc) * (double complex)x[c * n + i];
            den += creal(sc) * creal(sc) + cimag(sc) * cimag(sc);
        }
        out[i] = den > 0.0 ? (float complex)(num / den) : 0.0f;
    }
}

int64_t mr_coil_normalize(struct mr_array *sens, enum mr_coil_sum sum)
{
    MR_ASSERT(sens->ndim == 3 && sens->dtype == MR_DTYPE_CF32);
    const int64_t nc = sens->dims[0];
    const int64_t n = sens->dims[1] * sens->dims[2];
    float complex *s = mr_array_cf32(sens);
    int64_t zeros = 0;

#pragma omp parallel for if (nc * n >= MR_COMBINE_PAR_MIN) schedule(static) reduction(+ : zeros)
    for (int64_t i = 0; i < n; i++) {
        const float r = rss_at(s, nc, n, i, sum);
        if (r == 0.0f)
            zeros++;
        for (int64_t c = 0; c < nc; c++)
            s[c * n + i] = r == 0.0f ? 0.0f : s[c * n + i] / r;
    }
    return zeros;
}
