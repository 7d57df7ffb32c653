/* k-space scaling factors of the training frameworks (kscale.h). */
#include "recon/kscale.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>

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
        y[i] = x[i] / s;
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
