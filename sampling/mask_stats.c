/*
 * Sampling-mask statistics (see mask_stats.h): acceleration, fully sampled centre and the
 * point-spread function's side lobes (Lustig, Donoho, Pauly, "Sparse MRI: The application of
 * compressed sensing for rapid MR imaging", MRM 58:1182-1195, 2007, §"Incoherence").
 */
#include "sampling/mask_stats.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "recon/fft.h"

/* greedy growth of the sampled rectangle around (h/2, w/2) */
static void center_rect(const float *m, int64_t h, int64_t w, int64_t *ch, int64_t *cw)
{
    int64_t r0 = h / 2;
    int64_t r1 = h / 2;
    int64_t c0 = w / 2;
    int64_t c1 = w / 2;

    *ch = 0;
    *cw = 0;
    if (m[r0 * w + c0] == 0.0f)
        return;
    bool grown = true;
    while (grown) {
        grown = false;
        for (int side = 0; side < 4; side++) {
            int64_t r = side == 0 ? r0 - 1 : side == 1 ? r1 + 1 : -1;
            int64_t c = side == 2 ? c0 - 1 : side == 3 ? c1 + 1 : -1;
            bool ok;
            if (side < 2) {
                ok = r >= 0 && r < h;
                for (int64_t j = c0; ok && j <= c1; j++)
                    ok = m[r * w + j] != 0.0f;
            } else {
                ok = c >= 0 && c < w;
                for (int64_t i = r0; ok && i <= r1; i++)
                    ok = m[i * w + c] != 0.0f;
            }
            if (!ok)
                continue;
            grown = true;
            if (side == 0)
                r0--;
            else if (side == 1)
                r1++;
            else if (side == 2)
                c0--;
            else
                c1++;
        }
    }
    *ch = r1 - r0 + 1;
    *cw = c1 - c0 + 1;
}

/* PSF side lobes of an h x w mask (h == 1: 1-D) */
static mr_status psf_sidelobes(const float *m, int64_t h, int64_t w, double *peak_sidelobe,
                               double *incoherence)
{
    mr_status st = MR_OK;
    struct mr_fft2 *f = NULL;
    const int64_t n = h * w;
    float complex *x = malloc(sizeof(float complex) * (size_t)n);

    if (x == NULL)
        return MR_FAIL(MR_ERR_NOMEM, "mask PSF of %lldx%lld", (long long)h, (long long)w);
    MR_CHECK(mr_fft2_create(h, w, &mr_fft_config_default, &f));
    for (int64_t i = 0; i < n; i++)
        x[i] = m[i] != 0.0f ? 1.0f : 0.0f;
    mr_fft2_inverse(f, x, x, 1);

    const int64_t centre = (h / 2) * w + w / 2;
    const double peak = cabs((double complex)x[centre]);
    double mx = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (i == centre)
            continue;
        double v = cabs((double complex)x[i]) / peak;
        mx = fmax(mx, v);
        s1 += v;
        s2 += v * v;
    }
    const double cnt = (double)(n - 1);
    *peak_sidelobe = n > 1 ? mx : 0.0;
    *incoherence = n > 1 ? sqrt(fmax(s2 / cnt - (s1 / cnt) * (s1 / cnt), 0.0)) : 0.0;
out:
    mr_fft2_free(f);
    free(x);
    return st;
}

mr_status mr_mask_stats_compute(const struct mr_array *mask, struct mr_mask_stats *out)
{
    char buf[96];
    int nd = mask->ndim;
    int lead = 0;

    while (lead < nd - 2 && mask->dims[lead] == 1)
        lead++;
    if (mask->dtype != MR_DTYPE_F32 || nd < 1 || nd - lead > 2)
        return MR_FAIL(MR_ERR_SHAPE, "mask statistics need a float32 vector or (H, W) mask, "
                       "got %s", mr_array_shape_str(mask, buf, sizeof(buf)));
    const int64_t h = nd - lead == 2 ? mask->dims[nd - 2] : 1;
    const int64_t w = mask->dims[nd - 1];
    const float *m = mr_array_f32(mask);
    const int64_t n = h * w;
    if (n < 1)
        return MR_FAIL(MR_ERR_SHAPE, "mask %s is empty", mr_array_shape_str(mask, buf,
                                                                         sizeof(buf)));

    struct mr_mask_stats s = { .h = h, .w = w, .total = n };
    s.columns = true;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(m[i]))
            return MR_FAIL(MR_ERR_DATA, "mask entry %lld is not finite", (long long)i);
        s.sampled += m[i] != 0.0f;
        if (s.columns && i >= w && (m[i] != 0.0f) != (m[i % w] != 0.0f))
            s.columns = false;
    }
    if (s.sampled == 0)
        return MR_FAIL(MR_ERR_DATA, "mask %s samples nothing",
                       mr_array_shape_str(mask, buf, sizeof(buf)));
    s.fraction = (double)s.sampled / (double)n;
    s.accel = (double)n / (double)s.sampled;
    center_rect(m, h, w, &s.center_h, &s.center_w);
    if (s.columns)
        s.center_cols = s.center_w;
    mr_status st = psf_sidelobes(m, s.columns ? 1 : h, w, &s.psf_peak_sidelobe,
                                 &s.psf_incoherence);
    if (st != MR_OK)
        return st;
    *out = s;
    return MR_OK;
}
