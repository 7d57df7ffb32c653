/*
 * Test oracles for recon/ operators and solvers (header-only; used by tests/recon/test_*.c):
 * the adjoint and normal tests for linear operators (BART src/linops/lintest.c), a
 * least-squares-scaled NMSE, and a multi-coil phantom with smooth coil maps and a 4x
 * equispaced column mask with a fully sampled centre. Include after mr_test.h.
 */
#ifndef MR_TESTS_RECON_LINOP_TEST_UTIL_H
#define MR_TESTS_RECON_LINOP_TEST_UTIL_H

#include <math.h>

#include "recon/fft.h"
#include "recon/linop.h"
#include "recon/vec.h"

/* |<A x, y> - <x, A^H y>| / (||A x|| ||y||) for seeded random x, y */
static inline double mr_test_linop_adjoint(const struct mr_linop *op, uint64_t seed)
{
    struct mr_array x;
    struct mr_array y;
    struct mr_array ax;
    struct mr_array aty;
    assert_int_equal(mr_array_init(&x, MR_DTYPE_CF32, op->in_ndim, op->in_dims), MR_OK);
    assert_int_equal(mr_array_init(&aty, MR_DTYPE_CF32, op->in_ndim, op->in_dims), MR_OK);
    assert_int_equal(mr_array_init(&y, MR_DTYPE_CF32, op->out_ndim, op->out_dims), MR_OK);
    assert_int_equal(mr_array_init(&ax, MR_DTYPE_CF32, op->out_ndim, op->out_dims), MR_OK);
    mr_test_rand(&x, seed);
    mr_test_rand(&y, seed + 1000);
    mr_linop_forward(op, &ax, &x);
    mr_linop_adjoint(op, &aty, &y);
    double complex lhs = mr_vec_dot(&ax, &y);
    double complex rhs = mr_vec_dot(&x, &aty);
    double scale = mr_vec_norm(&ax) * mr_vec_norm(&y);
    double err = cabs(lhs - rhs) / (scale > 0.0 ? scale : 1.0);
    mr_array_cleanup(&x);
    mr_array_cleanup(&y);
    mr_array_cleanup(&ax);
    mr_array_cleanup(&aty);
    return err;
}

/* ||normal(x) - A^H(A x)|| / ||A^H A x|| for a seeded random x */
static inline double mr_test_linop_normal(const struct mr_linop *op, uint64_t seed)
{
    struct mr_array x;
    struct mr_array n;
    struct mr_array ax;
    struct mr_array aha;
    assert_int_equal(mr_array_init(&x, MR_DTYPE_CF32, op->in_ndim, op->in_dims), MR_OK);
    assert_int_equal(mr_array_init(&n, MR_DTYPE_CF32, op->in_ndim, op->in_dims), MR_OK);
    assert_int_equal(mr_array_init(&aha, MR_DTYPE_CF32, op->in_ndim, op->in_dims), MR_OK);
    assert_int_equal(mr_array_init(&ax, MR_DTYPE_CF32, op->out_ndim, op->out_dims), MR_OK);
    mr_test_rand(&x, seed);
    mr_linop_normal(op, &n, &x);
    mr_linop_forward(op, &ax, &x);
    mr_linop_adjoint(op, &aha, &ax);
    double err = mr_test_nrmse(&n, &aha);
    mr_array_cleanup(&x);
    mr_array_cleanup(&n);
    mr_array_cleanup(&ax);
    mr_array_cleanup(&aha);
    return err;
}

/* ||a·|x| - gt||² / ||gt||² with the least-squares a (fastMRI NMSE after intensity scaling);
 * x CF32 (H, W), gt F32 (H, W) */
static inline double mr_test_nmse_scaled(const struct mr_array *x, const struct mr_array *gt)
{
    const int64_t n = mr_array_numel(gt);
    const float complex *px = mr_array_cf32(x);
    const float *pg = mr_array_f32(gt);
    double xg = 0.0;
    double xx = 0.0;
    double gg = 0.0;
    assert_int_equal(mr_array_numel(x), n);
    for (int64_t i = 0; i < n; i++) {
        double m = (double)cabsf(px[i]);
        xg += m * (double)pg[i];
        xx += m * m;
        gg += (double)pg[i] * (double)pg[i];
    }
    double a = xx > 0.0 ? xg / xx : 0.0;
    double err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = a * (double)cabsf(px[i]) - (double)pg[i];
        err += d * d;
    }
    return err / gg;
}

/* A piecewise-constant phantom rho (H, W) CF32 (real, >= 0) of ellipses and a rectangle. */
static inline void mr_test_phantom(struct mr_array *rho)
{
    const int64_t h = rho->dims[0];
    const int64_t w = rho->dims[1];
    static const double e[][6] = {
        /* value, centre y, centre x, radius y, radius x (fractions of the half sizes), add */
        { 1.0, 0.0, 0.0, 0.85, 0.70, 0 },
        { -0.6, 0.0, 0.0, 0.75, 0.60, 0 },
        { 0.5, -0.3, -0.2, 0.20, 0.15, 0 },
        { 0.3, 0.25, 0.2, 0.15, 0.25, 0 },
        { 0.4, 0.0, 0.25, 0.08, 0.08, 0 },
    };
    float complex *p = mr_array_cf32(rho);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            double u = ((double)y - (double)h / 2.0) / ((double)h / 2.0);
            double v = ((double)x - (double)w / 2.0) / ((double)w / 2.0);
            double val = 0.0;
            for (size_t k = 0; k < sizeof(e) / sizeof(e[0]); k++) {
                double a = (u - e[k][1]) / e[k][3];
                double b = (v - e[k][2]) / e[k][4];
                if (a * a + b * b <= 1.0)
                    val += e[k][0];
            }
            if (u > -0.5 && u < -0.35 && v > 0.1 && v < 0.35)
                val += 0.35; /* a rectangle */
            p[y * w + x] = (float)val;
        }
}

/* Smooth synthetic maps (C, H, W): Gaussian coil profiles around the FOV with a linear phase,
 * normalised so Σ_c |S_c|² = 1 at every pixel. */
static inline void mr_test_smooth_maps(struct mr_array *sens)
{
    const int64_t nc = sens->dims[0];
    const int64_t h = sens->dims[1];
    const int64_t w = sens->dims[2];
    float complex *s = mr_array_cf32(sens);
    for (int64_t c = 0; c < nc; c++) {
        double ang = 2.0 * M_PI * (double)c / (double)nc;
        double cy = 0.9 * sin(ang);
        double cx = 0.9 * cos(ang);
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                double u = ((double)y - (double)h / 2.0) / ((double)h / 2.0);
                double v = ((double)x - (double)w / 2.0) / ((double)w / 2.0);
                double mag = exp(-((u - cy) * (u - cy) + (v - cx) * (v - cx)) / 0.8);
                double ph = 0.8 * u * cos(ang) - 0.6 * v * sin(ang) + 0.3 * (double)c;
                s[(c * h + y) * w + x] = (float complex)(mag * cexp(CMPLX(0.0, ph)));
            }
    }
    for (int64_t i = 0; i < h * w; i++) {
        double sos = 0.0;
        for (int64_t c = 0; c < nc; c++)
            sos += pow(cabs((double complex)s[c * h * w + i]), 2);
        for (int64_t c = 0; c < nc; c++)
            s[c * h * w + i] = (float complex)((double complex)s[c * h * w + i] / sqrt(sos));
    }
}

/* Column mask (H, W) F32: every R-th column (from column W/2) plus `acs` centre columns. */
static inline void mr_test_column_mask(struct mr_array *mask, int64_t r, int64_t acs)
{
    const int64_t h = mask->dims[0];
    const int64_t w = mask->dims[1];
    float *m = mr_array_f32(mask);
    for (int64_t x = 0; x < w; x++) {
        bool centre = x >= w / 2 - acs / 2 && x < w / 2 + acs - acs / 2;
        bool on = ((x - w / 2) % r + r) % r == 0 || centre;
        for (int64_t y = 0; y < h; y++)
            m[y * w + x] = on ? 1.0f : 0.0f;
    }
}

/* ksp (C, H, W) = mask ⊙ FFT(S_c rho) + sigma · complex Gaussian noise (on sampled points) */
static inline void mr_test_simulate(struct mr_array *ksp, const struct mr_array *rho,
                                    const struct mr_array *sens, const struct mr_array *mask,
                                    const struct mr_fft_config *cfg, double sigma, uint64_t seed)
{
    const int64_t nc = ksp->dims[0];
    const int64_t h = ksp->dims[1];
    const int64_t w = ksp->dims[2];
    struct mr_fft2 *f = NULL;
    struct mr_test_rng r;
    float complex *k = mr_array_cf32(ksp);
    const float complex *s = mr_array_cf32(sens);
    const float complex *x = mr_array_cf32(rho);
    const float *m = mr_array_f32(mask);
    assert_int_equal(mr_fft2_create(h, w, cfg, &f), MR_OK);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < h * w; i++)
            k[c * h * w + i] = s[c * h * w + i] * x[i];
    mr_fft2_forward(f, k, k, nc);
    mr_test_rng_seed(&r, seed);
    for (int64_t c = 0; c < nc; c++)
        for (int64_t i = 0; i < h * w; i++) {
            float nr = (float)(sigma * mr_test_rng_normal(&r));
            float ni = (float)(sigma * mr_test_rng_normal(&r));
            k[c * h * w + i] = m[i] != 0.0f ? k[c * h * w + i] + nr + I * ni : 0.0f;
        }
    mr_fft2_free(f);
}

#endif
