/*
 * Internal to networks/: element-wise sigmoid, tanh and softplus over float arrays, vectorised
 * with AVX-512 or AVX2 + FMA where the CPU has them (chosen at run time; AVX2 kernels in
 * vmath_avx2.c), libm otherwise.
 *
 * The vector exp is Cephes' expf (range reduction by ln 2 split in two parts, degree-6
 * polynomial, 2^n applied with vscalefps), within 2 ulp of the true value; tanh uses Cephes'
 * tanhf polynomial below |x| = 0.625 and 1 − 2/(e^{2|x|} + 1) above. Both stay within ~3e-7
 * absolute (and a few ulp relative for sigmoid) of the double-precision functions over the
 * whole float range, saturating exactly at 0 / ±1 (tests/networks/test_layers.c) — the same
 * class of accuracy as PyTorch's vectorised CPU kernels, whose exact bits they do not claim.
 */
#ifndef MR_NETWORKS_VMATH_H
#define MR_NETWORKS_VMATH_H

#include <math.h>
#include <stdint.h>

/* d[i] = 1 / (1 + exp(−d[i])) for i < n, in place. */
void mr_vsigmoid(float *d, int64_t n);

/* d[i] = tanh(d[i]) for i < n, in place. */
void mr_vtanh(float *d, int64_t n);

/* Mean and biased variance of p[0..n) accumulated in double, shifted by p[0] against
 * cancellation: mean = p0 + Σ(p − p0)/n, var = max(Σ(p − p0)²/n − (mean − p0)², 0). */
void mr_vmoments(const float *p, int64_t n, double *mean, double *var);

/* p[i] = max(v, slope·v), v = (p[i] − m)·inv, in place (0 <= slope <= 1: LeakyReLU). */
void mr_vnormalize_leaky(float *p, int64_t n, float m, float inv, float slope);

/*
 * torch Softplus(β, threshold) with a flush of tiny values (LPN, networks/lpn.c):
 *   σ(z) = z                     if β·z > threshold
 *          0                     if β·z < cut
 *          log1p(exp(β·z)) / β   otherwise, set to 0 where below `tiny`
 *   σ'(z) = 1 above the threshold, 0 below the cut, exp(β·z) / (exp(β·z) + 1) otherwise.
 * The vector log1p is Cephes' logf (mantissa and exponent by vgetmant/vgetexp) of u = 1 + e
 * with the correction (e − (u − 1))/u, within a few ulp of libm's log1pf.
 */
struct mr_softplus_param {
    float beta;
    float threshold;
    float cut;
    float tiny;
};

static inline float mr_flush_tiny(float v, float tiny)
{
    return fabsf(v) < tiny ? 0.0f : v;
}

static inline float mr_softplus_value(float z, const struct mr_softplus_param *p)
{
    const float bz = z * p->beta;
    if (bz > p->threshold)
        return z;
    if (bz < p->cut)
        return 0.0f;
    return mr_flush_tiny(log1pf(expf(bz)) / p->beta, p->tiny);
}

static inline float mr_softplus_grad(float z, const struct mr_softplus_param *p)
{
    const float bz = z * p->beta;
    if (bz > p->threshold)
        return 1.0f;
    if (bz < p->cut)
        return 0.0f;
    const float e = expf(bz);
    return e / (e + 1.0f);
}

/* dst[i] = σ(z[i]) for i < n (no threads: the caller splits the work). */
void mr_vsoftplus(float *dst, const float *z, int64_t n, const struct mr_softplus_param *p);

/* g[i] = flush(g[i] · σ'(z[i])) for i < n, in place (no threads). */
void mr_vmul_softplus_grad(float *g, const float *z, int64_t n,
                           const struct mr_softplus_param *p);

#endif
