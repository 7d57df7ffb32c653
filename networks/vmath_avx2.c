/* AVX2 + FMA element-wise kernels (networks/vmath_isa.h). */
#include "networks/vmath_isa.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline

AVX2 __m256 set1(float v)
{
    return _mm256_set1_ps(v);
}

/* Σ c[k]·x^(n−1−k) by Horner's rule, c highest degree first */
AVX2 __m256 horner8(const float *c, int n, __m256 x)
{
    __m256 p = set1(c[0]);
    for (int k = 1; k < n; k++)
        p = _mm256_fmadd_ps(p, x, set1(c[k]));
    return p;
}

/* exp(x), x clamped to [−87.3, 88.7] (2^n built in the exponent field stays normal): Cephes */
AVX2 __m256 vexp8(__m256 x)
{
    x = _mm256_max_ps(set1(-87.3f), _mm256_min_ps(set1(88.7f), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, set1(MR_VM_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, set1(MR_VM_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, set1(MR_VM_LN2_LO), r);
    __m256 p = horner8(mr_vm_exp_poly, MR_VM_EXP_DEG, r);
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, set1(1.0f)));
    const __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* log(u) for u >= 1 finite: Cephes logf on the mantissa in [√½, √2) */
AVX2 __m256 vlog_ge1_8(__m256 u)
{
    const __m256i bits = _mm256_castps_si256(u);
    __m256 k = _mm256_cvtepi32_ps(
        _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f800000)));
    const __m256 big = _mm256_cmp_ps(m, set1(MR_VM_SQRT2), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, set1(0.5f)), big);
    k = _mm256_blendv_ps(k, _mm256_add_ps(k, set1(1.0f)), big);
    const __m256 x = _mm256_sub_ps(m, set1(1.0f));
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 y = horner8(mr_vm_log_poly, MR_VM_LOG_DEG, x);
    y = _mm256_mul_ps(_mm256_mul_ps(y, x), z);
    y = _mm256_fmadd_ps(k, set1(MR_VM_LN2_LO), y);
    y = _mm256_fnmadd_ps(z, set1(0.5f), y);
    return _mm256_fmadd_ps(k, set1(MR_VM_LN2_HI), _mm256_add_ps(x, y));
}

AVX2 __m256 vsigmoid8(__m256 x)
{
    /* NaN propagates: max/min return their second operand when one is NaN */
    const __m256 t = _mm256_max_ps(set1(-88.0f),
                                   _mm256_min_ps(set1(88.0f), _mm256_sub_ps(set1(0.0f), x)));
    return _mm256_div_ps(set1(1.0f), _mm256_add_ps(set1(1.0f), vexp8(t)));
}

AVX2 __m256 vtanh8(__m256 x)
{
    const __m256 one = set1(1.0f);
    const __m256 signbit = set1(-0.0f);
    const __m256 ax = _mm256_andnot_ps(signbit, x);
    const __m256 e = vexp8(_mm256_min_ps(set1(88.0f), _mm256_add_ps(ax, ax)));
    const __m256 big = _mm256_sub_ps(one, _mm256_div_ps(set1(2.0f), _mm256_add_ps(e, one)));
    const __m256 z = _mm256_mul_ps(x, x);
    const __m256 p = horner8(mr_vm_tanh_poly, MR_VM_TANH_DEG, z);
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    const __m256 is_small = _mm256_cmp_ps(ax, set1(0.625f), _CMP_LT_OQ);
    const __m256 big_signed = _mm256_or_ps(big, _mm256_and_ps(x, signbit));
    /* NaN: the comparison is false, and big is NaN */
    return _mm256_blendv_ps(big_signed, small, is_small);
}

/* exp(β·z) and the masks of the regions above the threshold and below the cut */
struct sp8 {
    __m256 above;
    __m256 below;
    __m256 e;
};

AVX2 struct sp8 sp_regions8(__m256 z, const struct mr_softplus_param *p)
{
    const __m256 bz = _mm256_mul_ps(z, set1(p->beta));
    struct sp8 v;
    v.above = _mm256_cmp_ps(bz, set1(p->threshold), _CMP_GT_OQ);
    v.below = _mm256_cmp_ps(bz, set1(p->cut), _CMP_LT_OQ);
    v.e = vexp8(_mm256_max_ps(set1(-87.0f), _mm256_min_ps(set1(88.0f), bz)));
    return v;
}

/* 0 where |v| < tiny */
AVX2 __m256 vflush8(__m256 v, float tiny)
{
    const __m256 keep = _mm256_cmp_ps(_mm256_andnot_ps(set1(-0.0f), v), set1(tiny), _CMP_GE_OQ);
    return _mm256_and_ps(v, keep);
}

AVX2 __m256 vsoftplus8(__m256 z, const struct mr_softplus_param *p)
{
    const struct sp8 v = sp_regions8(z, p);
    const __m256 one = set1(1.0f);
    const __m256 u = _mm256_add_ps(one, v.e);
    const __m256 corr = _mm256_div_ps(_mm256_sub_ps(v.e, _mm256_sub_ps(u, one)), u);
    const __m256 l = _mm256_add_ps(vlog_ge1_8(u), corr);
    __m256 r = vflush8(_mm256_div_ps(l, set1(p->beta)), p->tiny);
    r = _mm256_blendv_ps(r, z, v.above);
    return _mm256_andnot_ps(v.below, r);
}

AVX2 __m256 vsoftplus_grad8(__m256 z, const struct mr_softplus_param *p)
{
    const struct sp8 v = sp_regions8(z, p);
    __m256 r = _mm256_div_ps(v.e, _mm256_add_ps(v.e, set1(1.0f)));
    r = _mm256_blendv_ps(r, set1(1.0f), v.above);
    return _mm256_andnot_ps(v.below, r);
}

__attribute__((target("avx2,fma"))) int64_t mr_vsigmoid_avx2(float *d, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, vsigmoid8(_mm256_loadu_ps(d + i)));
    return i;
}

__attribute__((target("avx2,fma"))) int64_t mr_vtanh_avx2(float *d, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, vtanh8(_mm256_loadu_ps(d + i)));
    return i;
}

__attribute__((target("avx2,fma"))) int64_t
mr_vsoftplus_avx2(float *dst, const float *z, int64_t n, const struct mr_softplus_param *p)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, vsoftplus8(_mm256_loadu_ps(z + i), p));
    return i;
}

__attribute__((target("avx2,fma"))) int64_t
mr_vmul_softplus_grad_avx2(float *g, const float *z, int64_t n, const struct mr_softplus_param *p)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_mul_ps(_mm256_loadu_ps(g + i),
                                       vsoftplus_grad8(_mm256_loadu_ps(z + i), p));
        _mm256_storeu_ps(g + i, vflush8(d, p->tiny));
    }
    return i;
}

#else
typedef int mr_vmath_avx2_unused; /* not x86-64: vmath.c uses the scalar functions */
#endif
