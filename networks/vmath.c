/* Vectorised sigmoid and tanh (see vmath.h). */
#include "networks/vmath.h"

#include <math.h>

#include "networks/vmath_isa.h"
#include "recon/cpu.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define MR_VMATH_X86 1
#include <immintrin.h>
#else
#define MR_VMATH_X86 0
#endif

#if MR_VMATH_X86

/* Σ c[k]·x^(n−1−k) by Horner's rule, c highest degree first */
__attribute__((target("avx512f"), always_inline)) static inline __m512 horner(const float *c,
                                                                               int n, __m512 x)
{
    __m512 p = _mm512_set1_ps(c[0]);
    for (int k = 1; k < n; k++)
        p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(c[k]));
    return p;
}

/* exp(x) for |x| <= 88.7 (callers clamp): Cephes expf */
__attribute__((target("avx512f"), always_inline)) static inline __m512 vexp(__m512 x)
{
    const __m512 log2e = _mm512_set1_ps(MR_VM_LOG2E);
    const __m512 c1 = _mm512_set1_ps(MR_VM_LN2_HI);
    const __m512 c2 = _mm512_set1_ps(MR_VM_LN2_LO);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, c1, x);
    r = _mm512_fnmadd_ps(n, c2, r);
    __m512 p = horner(mr_vm_exp_poly, MR_VM_EXP_DEG, r);
    const __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

__attribute__((target("avx512f"), always_inline)) static inline __m512 vsigmoid(__m512 x)
{
    /* exp(−x) is finite for x >= −88 and 1/(1 + e) rounds to 0 below x = −88 anyway */
    /* (min/max return their second operand when one is NaN: NaN propagates) */
    const __m512 t = _mm512_max_ps(_mm512_set1_ps(-88.0f),
                                   _mm512_min_ps(_mm512_set1_ps(88.0f),
                                                 _mm512_sub_ps(_mm512_setzero_ps(), x)));
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, vexp(t)));
}

__attribute__((target("avx512f"), always_inline)) static inline __m512 vtanh(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 ax = _mm512_abs_ps(x);
    /* |x| >= 0.625: 1 − 2/(e^{2|x|} + 1), e^{2|x|} clamped (tanh(9) is 1 in float) */
    const __m512 e = vexp(_mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_add_ps(ax, ax)));
    const __m512 big = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f),
                                                        _mm512_add_ps(e, one)));
    /* |x| < 0.625: x + x·z·P(z), z = x² */
    const __m512 z = _mm512_mul_ps(x, x);
    const __m512 p = horner(mr_vm_tanh_poly, MR_VM_TANH_DEG, z);
    const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    const __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
    /* sign of x onto the large branch (which is computed from |x|) */
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN));
    const __m512 big_signed = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(big), sign));
    return _mm512_mask_blend_ps(is_small, big_signed, small);
}

__attribute__((target("avx512f"))) static void sigmoid_avx512(float *d, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(d + i, vsigmoid(_mm512_loadu_ps(d + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(d + i, m, vsigmoid(_mm512_maskz_loadu_ps(m, d + i)));
    }
}

__attribute__((target("avx512f"))) static void tanh_avx512(float *d, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(d + i, vtanh(_mm512_loadu_ps(d + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(d + i, m, vtanh(_mm512_maskz_loadu_ps(m, d + i)));
    }
}

static bool have_avx512(void)
{
    return mr_cpu_isa() >= MR_ISA_AVX512;
}

static bool have_avx2(void)
{
    return mr_cpu_isa() >= MR_ISA_AVX2;
}

/* Σ(p − x0) and Σ(p − x0)² over 16-float blocks, in double (4 accumulator pairs of 8) */
__attribute__((target("avx512f"))) static int64_t moments_avx512(const float *p, int64_t n,
                                                                   double x0, double *s,
                                                                   double *q)
{
    const __m512d c = _mm512_set1_pd(x0);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    __m512d q0 = _mm512_setzero_pd(), q1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(p + i);
        const __m512d a = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), c);
        const __m512d b = _mm512_sub_pd(
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))),
            c);
        s0 = _mm512_add_pd(s0, a);
        s1 = _mm512_add_pd(s1, b);
        q0 = _mm512_fmadd_pd(a, a, q0);
        q1 = _mm512_fmadd_pd(b, b, q1);
    }
    *s = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    *q = _mm512_reduce_add_pd(_mm512_add_pd(q0, q1));
    return i;
}

__attribute__((target("avx512f"))) static int64_t normalize_leaky_avx512(float *p, int64_t n,
                                                                           float m, float inv,
                                                                           float slope)
{
    const __m512 vm = _mm512_set1_ps(m);
    const __m512 vi = _mm512_set1_ps(inv);
    const __m512 vs = _mm512_set1_ps(slope);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(p + i), vm), vi);
        _mm512_storeu_ps(p + i, _mm512_max_ps(v, _mm512_mul_ps(vs, v)));
    }
    return i;
}

/* log(u) for u >= 1 finite: Cephes logf on the mantissa in [√½, √2) */
__attribute__((target("avx512f"), always_inline)) static inline __m512 vlog_ge1(__m512 u)
{
    __m512 m = _mm512_getmant_ps(u, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src); /* [1, 2) */
    __m512 k = _mm512_getexp_ps(u);
    const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(MR_VM_SQRT2), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    k = _mm512_mask_add_ps(k, big, k, _mm512_set1_ps(1.0f));
    const __m512 x = _mm512_sub_ps(m, _mm512_set1_ps(1.0f));
    const __m512 z = _mm512_mul_ps(x, x);
    __m512 y = horner(mr_vm_log_poly, MR_VM_LOG_DEG, x);
    y = _mm512_mul_ps(_mm512_mul_ps(y, x), z);
    y = _mm512_fmadd_ps(k, _mm512_set1_ps(MR_VM_LN2_LO), y);
    y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
    const __m512 r = _mm512_add_ps(x, y);
    return _mm512_fmadd_ps(k, _mm512_set1_ps(MR_VM_LN2_HI), r);
}

/* the three regions of σ and σ' (vmath.h): above the threshold, below the cut, exp(β·z) */
struct sp_vec {
    __mmask16 above;
    __mmask16 below;
    __m512 e;
};

__attribute__((target("avx512f"), always_inline)) static inline struct sp_vec
sp_regions(__m512 z, const struct mr_softplus_param *p)
{
    const __m512 bz = _mm512_mul_ps(z, _mm512_set1_ps(p->beta));
    struct sp_vec v;
    v.above = _mm512_cmp_ps_mask(bz, _mm512_set1_ps(p->threshold), _CMP_GT_OQ);
    v.below = _mm512_cmp_ps_mask(bz, _mm512_set1_ps(p->cut), _CMP_LT_OQ);
    /* clamped so that the unused lanes stay finite */
    v.e = vexp(_mm512_max_ps(_mm512_set1_ps(-88.0f), _mm512_min_ps(_mm512_set1_ps(88.0f), bz)));
    return v;
}

/* 0 where |v| < tiny */
__attribute__((target("avx512f"), always_inline)) static inline __m512 vflush(__m512 v, float tiny)
{
    const __mmask16 keep = _mm512_cmp_ps_mask(_mm512_abs_ps(v), _mm512_set1_ps(tiny), _CMP_GE_OQ);
    return _mm512_maskz_mov_ps(keep, v);
}

__attribute__((target("avx512f"), always_inline)) static inline __m512
vsoftplus(__m512 z, const struct mr_softplus_param *p)
{
    const struct sp_vec v = sp_regions(z, p);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 u = _mm512_add_ps(one, v.e);
    /* log1p(e) = log(u) + (e − (u − 1)) / u */
    const __m512 corr = _mm512_div_ps(_mm512_sub_ps(v.e, _mm512_sub_ps(u, one)), u);
    const __m512 l = _mm512_add_ps(vlog_ge1(u), corr);
    __m512 r = vflush(_mm512_div_ps(l, _mm512_set1_ps(p->beta)), p->tiny);
    r = _mm512_mask_mov_ps(r, v.above, z);
    return _mm512_mask_mov_ps(r, v.below, _mm512_setzero_ps());
}

__attribute__((target("avx512f"), always_inline)) static inline __m512
vsoftplus_grad(__m512 z, const struct mr_softplus_param *p)
{
    const struct sp_vec v = sp_regions(z, p);
    __m512 r = _mm512_div_ps(v.e, _mm512_add_ps(v.e, _mm512_set1_ps(1.0f)));
    r = _mm512_mask_mov_ps(r, v.above, _mm512_set1_ps(1.0f));
    return _mm512_mask_mov_ps(r, v.below, _mm512_setzero_ps());
}

__attribute__((target("avx512f"))) static int64_t softplus_avx512(float *dst, const float *z,
                                                                    int64_t n,
                                                                    const struct mr_softplus_param *p)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, vsoftplus(_mm512_loadu_ps(z + i), p));
    return i;
}

__attribute__((target("avx512f"))) static int64_t
mul_softplus_grad_avx512(float *g, const float *z, int64_t n, const struct mr_softplus_param *p)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_mul_ps(_mm512_loadu_ps(g + i),
                                       vsoftplus_grad(_mm512_loadu_ps(z + i), p));
        _mm512_storeu_ps(g + i, vflush(d, p->tiny));
    }
    return i;
}

#endif

void mr_vsoftplus(float *dst, const float *z, int64_t n, const struct mr_softplus_param *p)
{
    int64_t i = 0;
#if MR_VMATH_X86
    if (have_avx512())
        i = softplus_avx512(dst, z, n, p);
    else if (have_avx2())
        i = mr_vsoftplus_avx2(dst, z, n, p);
#endif
    for (; i < n; i++)
        dst[i] = mr_softplus_value(z[i], p);
}

void mr_vmul_softplus_grad(float *g, const float *z, int64_t n,
                           const struct mr_softplus_param *p)
{
    int64_t i = 0;
#if MR_VMATH_X86
    if (have_avx512())
        i = mul_softplus_grad_avx512(g, z, n, p);
    else if (have_avx2())
        i = mr_vmul_softplus_grad_avx2(g, z, n, p);
#endif
    for (; i < n; i++)
        g[i] = mr_flush_tiny(g[i] * mr_softplus_grad(z[i], p), p->tiny);
}

void mr_vmoments(const float *p, int64_t n, double *mean, double *var)
{
    const double x0 = (double)p[0];
    double s = 0.0;
    double q = 0.0;
    int64_t i = 0;
#if MR_VMATH_X86
    if (have_avx512())
        i = moments_avx512(p, n, x0, &s, &q);
#endif
    for (; i < n; i++) {
        const double d = (double)p[i] - x0;
        s += d;
        q += d * d;
    }
    const double m = s / (double)n;
    const double v = q / (double)n - m * m;
    *mean = x0 + m;
    *var = v > 0.0 ? v : 0.0;
}

void mr_vnormalize_leaky(float *p, int64_t n, float m, float inv, float slope)
{
    int64_t i = 0;
#if MR_VMATH_X86
    if (have_avx512())
        i = normalize_leaky_avx512(p, n, m, inv, slope);
#endif
    for (; i < n; i++) {
        const float v = (p[i] - m) * inv;
        const float sv = slope * v;
        p[i] = v > sv ? v : sv;
    }
}

/* chunks of this many values per OpenMP iteration */
#define VMATH_CHUNK 4096
#define VMATH_PAR_MIN ((int64_t)1 << 17)

/* one in-place element-wise function: its AVX-512 kernel (all of the values), its AVX2 kernel
 * (whole blocks of 8) and the scalar function */
struct vmath_fn {
#if MR_VMATH_X86
    void (*avx512)(float *d, int64_t n);
    int64_t (*avx2)(float *d, int64_t n);
#endif
    float (*scalar)(float v);
};

static void apply_chunked(const struct vmath_fn *f, float *d, int64_t n)
{
#pragma omp parallel for if (n > VMATH_PAR_MIN) schedule(static)
    for (int64_t c = 0; c < n; c += VMATH_CHUNK) {
        const int64_t m = n - c < VMATH_CHUNK ? n - c : VMATH_CHUNK;
        int64_t i = c;
#if MR_VMATH_X86
        if (have_avx512()) {
            f->avx512(d + c, m);
            continue;
        }
        if (have_avx2())
            i = c + f->avx2(d + c, m);
#endif
        for (; i < c + m; i++)
            d[i] = f->scalar(d[i]);
    }
}

static float sigmoid_scalar(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

void mr_vsigmoid(float *d, int64_t n)
{
    static const struct vmath_fn f = {
#if MR_VMATH_X86
        .avx512 = sigmoid_avx512, .avx2 = mr_vsigmoid_avx2,
#endif
        .scalar = sigmoid_scalar,
    };
    apply_chunked(&f, d, n);
}

void mr_vtanh(float *d, int64_t n)
{
    static const struct vmath_fn f = {
#if MR_VMATH_X86
        .avx512 = tanh_avx512, .avx2 = mr_vtanh_avx2,
#endif
        .scalar = tanhf,
    };
    apply_chunked(&f, d, n);
}
