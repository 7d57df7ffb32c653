/*
 * BLAS-1 helpers for the solvers (vec.h). Sums are accumulated in double, real and imaginary
 * parts as separate OpenMP reduction variables (C has no complex reduction in OpenMP); with a
 * fixed thread count the result is deterministic.
 */
#include "recon/vec.h"

#include <math.h>

/*
 * Below these many values a kernel runs on the calling thread. Sums (dot products, norms) stay
 * serial up to 2^18 values, so that the solvers' scalars for images of up to 512×512 do not
 * depend on the thread count. Element-wise maps and maxima give the same result on any number
 * of threads; they go parallel from 2^13 values: a 230×180 image's axpy takes ~20 µs on one
 * thread, a parallel region on a warm team ~2 µs, and a second thread left waiting through a
 * serial loop is half of a two-core machine.
 */
#define MR_VEC_PAR_MIN (1 << 18)
#define MR_VEC_MAP_PAR_MIN (1 << 13)

static int64_t check_pair(const struct mr_array *x, const struct mr_array *y)
{
    MR_ASSERT(x->dtype == MR_DTYPE_CF32 && y->dtype == MR_DTYPE_CF32);
    MR_ASSERT(mr_array_numel(x) == mr_array_numel(y));
    return mr_array_numel(x);
}

double complex mr_cdot(int64_t n, const float complex *x, const float complex *y)
{
    double re = 0.0;
    double im = 0.0;

#pragma omp parallel for if (n >= MR_VEC_PAR_MIN) reduction(+ : re, im) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double xr = (double)crealf(x[i]);
        double xi = (double)cimagf(x[i]);
        double yr = (double)crealf(y[i]);
        double yi = (double)cimagf(y[i]);
        re += xr * yr + xi * yi;
        im += xr * yi - xi * yr;
    }
    return CMPLX(re, im);
}

double mr_cnorm2(int64_t n, const float complex *x)
{
    double s = 0.0;

#pragma omp parallel for if (n >= MR_VEC_PAR_MIN) reduction(+ : s) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double xr = (double)crealf(x[i]);
        double xi = (double)cimagf(x[i]);
        s += xr * xr + xi * xi;
    }
    return s;
}

void mr_caxpy(int64_t n, float complex *y, float complex a, const float complex *x)
{
#pragma omp parallel for if (n >= MR_VEC_MAP_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

void mr_cscale(int64_t n, float complex *x, float complex a)
{
#pragma omp parallel for if (n >= MR_VEC_MAP_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        x[i] *= a;
}

double complex mr_vec_dot(const struct mr_array *x, const struct mr_array *y)
{
    int64_t n = check_pair(x, y);
    return mr_cdot(n, mr_array_cf32(x), mr_array_cf32(y));
}

double mr_vec_dot_real(const struct mr_array *x, const struct mr_array *y)
{
    return creal(mr_vec_dot(x, y));
}

double mr_vec_norm2(const struct mr_array *x)
{
    MR_ASSERT(x->dtype == MR_DTYPE_CF32);
    return mr_cnorm2(mr_array_numel(x), mr_array_cf32(x));
}

double mr_vec_norm(const struct mr_array *x)
{
    return sqrt(mr_vec_norm2(x));
}

double mr_vec_max_abs(const struct mr_array *x)
{
    MR_ASSERT(x->dtype == MR_DTYPE_CF32);
    const int64_t n = mr_array_numel(x);
    const float complex *p = mr_array_cf32(x);
    float m = 0.0f;

#pragma omp parallel for if (n >= MR_VEC_MAP_PAR_MIN) reduction(max : m) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float a = mr_cmag(p[i]);
        if (a > m)
            m = a;
    }
    return (double)m;
}

void mr_vec_axpy(struct mr_array *y, float complex a, const struct mr_array *x)
{
    int64_t n = check_pair(x, y);
    mr_caxpy(n, mr_array_cf32(y), a, mr_array_cf32(x));
}

void mr_vec_xpay(struct mr_array *y, float complex a, const struct mr_array *x)
{
    const int64_t n = check_pair(x, y);
    float complex *py = mr_array_cf32(y);
    const float complex *px = mr_array_cf32(x);

#pragma omp parallel for if (n >= MR_VEC_MAP_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        py[i] = px[i] + a * py[i];
}

void mr_vec_extrapolate(struct mr_array *dst, const struct mr_array *x, float a,
                        const struct mr_array *y)
{
    const int64_t n = check_pair(x, y);
    MR_ASSERT(check_pair(dst, x) == n);
    float complex *pd = mr_array_cf32(dst);
    const float complex *px = mr_array_cf32(x);
    const float complex *py = mr_array_cf32(y);

#pragma omp parallel for if (n >= MR_VEC_MAP_PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++)
        pd[i] = px[i] + a * (px[i] - py[i]);
}

void mr_vec_scale(struct mr_array *x, float complex a)
{
    MR_ASSERT(x->dtype == MR_DTYPE_CF32);
    mr_cscale(mr_array_numel(x), mr_array_cf32(x), a);
}
