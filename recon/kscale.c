/* k-space scaling factors of the training frameworks (kscale.h). */
#include "recon/kscale.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "recon/combine.h"
#include "recon/fft.h"
#include "recon/sense.h"
#include "recon/vec.h"

struct mr_kscale_sense {
    struct mr_sense *sense; /* centred orthonormal FFT */
    struct mr_array coil;   /* (C, H, W) zero-filled coil images */
    struct mr_array img;    /* (H, W) SENSE zero-filled image */
};

mr_status mr_kscale_sense_create(int64_t nc, int64_t h, int64_t w,
                                 struct mr_kscale_sense **out)
{
    mr_status st = MR_OK;
    struct mr_kscale_sense *k = calloc(1, sizeof(*k));

    *out = NULL;
    if (k == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "k-space scaling plan");
    MR_CHECK(mr_sense_create(nc, h, w, &mr_fft_config_default, &k->sense));
    MR_CHECK(mr_array_init_dims(&k->coil, MR_DTYPE_CF32, 3, nc, h, w));
    MR_CHECK(mr_array_init_dims(&k->img, MR_DTYPE_CF32, 2, h, w));
    *out = k;
    k = NULL;
out:
    mr_kscale_sense_free(k);
    return st;
}

void mr_kscale_sense_free(struct mr_kscale_sense *k)
{
    if (k == NULL)
        return;
    mr_sense_free(k->sense);
    mr_array_cleanup(&k->coil);
    mr_array_cleanup(&k->img);
    free(k);
}

mr_status mr_kscale_sense_max(struct mr_kscale_sense *k, const struct mr_array *ksp,
                              const struct mr_array *sens, float *s)
{
    mr_status st = MR_OK;

    MR_CHECK(mr_sense_set_maps(k->sense, sens));
    mr_sense_coil_images(k->sense, &k->coil, ksp);
    mr_coil_sense_combine(&k->img, &k->coil, mr_sense_maps(k->sense));
    *s = (float)mr_vec_max_abs(&k->img);
    if (!(*s > 0.0f))
        st = MR_FAIL(MR_ERR_DATA, "the zero-filled SENSE image is zero: nothing to reconstruct");
out:
    return st;
}

void mr_kscale_divide(struct mr_array *dst, const struct mr_array *src, float s)
{
    const int64_t n = mr_array_numel(src);
    const float complex *x = mr_array_cf32(src);
    float complex *y = mr_array_cf32(dst);

    MR_ASSERT(mr_array_numel(dst) == n);
    for (int64_t i = 0; i < n; i++)
        y[i] = s == 0.0f ? 0.0f : x[i] / s;
}

mr_status mr_kscale_adjoint_max(const struct mr_linop *A, const struct mr_array *ksp,
                                struct mr_array *img, double *s)
{
    mr_linop_adjoint(A, img, ksp);
    *s = mr_vec_max_abs(img);
    if (!(*s > 0.0) || !isfinite(*s))
        return MR_FAIL(MR_ERR_DATA, "max|A^H y| = %g cannot normalise the k-space", *s);
    return MR_OK;
}

/* the k-th largest (k ≥ 1) of v[0..n), reordering v (Hoare selection) */
static float kth_largest(float *v, int64_t n, int64_t k)
{
    int64_t target = n - k; /* ascending index */
    int64_t lo = 0;
    int64_t hi = n - 1;

    while (lo < hi) {
        const float pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo;
        int64_t j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (target <= j)
            hi = j;
        else if (target >= i)
            lo = i;
        else
            break;
    }
    return v[target];
}

float mr_kscale_percentile(const struct mr_array *ksp, double q, float *mod)
{
    MR_ASSERT(ksp->ndim == 3 && ksp->dtype == MR_DTYPE_CF32);
    const int64_t nc = ksp->dims[0];
    const int64_t p = ksp->dims[1] * ksp->dims[2];
    const float complex *y = mr_array_cf32(ksp);
    int64_t n = 0;

    for (int64_t c = 0; c < nc; c++) {
        double sum = 0.0; /* re, im, re, im, ...: the order of the stacked real tensor */
        for (int64_t i = 0; i < p; i++) {
            sum += (double)crealf(y[c * p + i]);
            sum += (double)cimagf(y[c * p + i]);
        }
        if (sum == 0.0)
            continue;
        for (int64_t i = 0; i < p; i++) {
            const float re = crealf(y[c * p + i]);
            const float im = cimagf(y[c * p + i]);
            mod[n++] = sqrtf(re * re + im * im);
        }
    }
    if (n == 0)
        return 0.0f;
    int64_t k = (int64_t)((1.0 - q) * (double)n) + 1;
    if (k > n)
        k = n;
    return kth_largest(mod, n, k);
}
