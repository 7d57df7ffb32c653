/* Data-consistency measures (dc.h). */
#include "recon/dc.h"

#include <math.h>

/* work below this many values runs on one thread */
#define DC_PAR_MIN (1 << 16)

double mr_dc_energy(const float complex *a, const float *m, int64_t nc, int64_t npix,
                    bool sampled)
{
    double e = 0.0;
#pragma omp parallel for if (nc * npix > DC_PAR_MIN) reduction(+ : e) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        double ec = 0.0;
        for (int64_t p = 0; p < npix; p++) {
            if ((m == NULL || m[p] != 0.0f) != sampled)
                continue;
            const double re = (double)crealf(a[c * npix + p]);
            const double im = (double)cimagf(a[c * npix + p]);
            ec += re * re + im * im;
        }
        e += ec;
    }
    return e;
}

double mr_dc_residual_energy(const float complex *k, const float complex *y, const float *m,
                             int64_t nc, int64_t npix)
{
    double e = 0.0;
#pragma omp parallel for if (nc * npix > DC_PAR_MIN) reduction(+ : e) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        double ec = 0.0;
        for (int64_t p = 0; p < npix; p++) {
            if (m != NULL && m[p] == 0.0f)
                continue;
            const double re = (double)crealf(k[c * npix + p]) - (double)crealf(y[c * npix + p]);
            const double im = (double)cimagf(k[c * npix + p]) - (double)cimagf(y[c * npix + p]);
            ec += re * re + im * im;
        }
        e += ec;
    }
    return e;
}

double mr_dc_residual(const struct mr_array *k, const struct mr_array *y,
                      const struct mr_array *mask)
{
    MR_ASSERT(k->ndim == 3 && mr_array_same_shape(k, y) && k->dtype == MR_DTYPE_CF32 &&
              y->dtype == MR_DTYPE_CF32);
    MR_ASSERT(mask->ndim == 2 && mask->dims[0] == k->dims[1] && mask->dims[1] == k->dims[2]);
    const int64_t nc = k->dims[0];
    const int64_t npix = k->dims[1] * k->dims[2];
    const float *m = mr_array_f32(mask);
    const double ey = mr_dc_energy(mr_array_cf32(y), m, nc, npix, true);
    if (!(ey > 0.0))
        return 0.0;
    return sqrt(mr_dc_residual_energy(mr_array_cf32(k), mr_array_cf32(y), m, nc, npix) / ey);
}

void mr_dc_emit(const struct mr_probe *probe, int64_t index, const float complex *k,
                const float complex *y, const float *m, int64_t nc, int64_t npix)
{
    if (!mr_probe_wants_values(probe))
        return;
    const double ey = mr_dc_energy(y, m, nc, npix, true);
    const double er = mr_dc_residual_energy(k, y, m, nc, npix);
    const double eu = m != NULL ? mr_dc_energy(k, m, nc, npix, false) : 0.0;
    mr_probe_emit_value(probe, "dc_residual", index, ey > 0.0 ? sqrt(er / ey) : 0.0);
    mr_probe_emit_value(probe, "unsampled_energy", index, ey > 0.0 ? sqrt(eu / ey) : 0.0);
}

void mr_dc_emit_projected(const struct mr_probe *probe, int64_t index, const float complex *px,
                          const float complex *z0, const float complex *x, int64_t n)
{
    if (!mr_probe_wants_values(probe))
        return;
    const double ez = mr_dc_energy(z0, NULL, 1, n, true);
    const double er = mr_dc_residual_energy(px, z0, NULL, 1, n);
    const double eu = mr_dc_energy(x, NULL, 1, n, true) - mr_dc_energy(px, NULL, 1, n, true);
    mr_probe_emit_value(probe, "dc_residual", index, ez > 0.0 ? sqrt(er / ez) : 0.0);
    mr_probe_emit_value(probe, "unsampled_energy", index,
                        ez > 0.0 && eu > 0.0 ? sqrt(eu / ez) : 0.0);
}
