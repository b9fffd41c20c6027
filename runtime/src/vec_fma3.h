/* The vector layer for AVX2 + FMA (vec_avx512f.h says what this is), on 8-float vectors.
 * Internal to the runtime. */
#ifndef MCR_VEC_H
#define MCR_VEC_H

#include <immintrin.h>

#define MCR_VN 8
typedef __m256 mcr_v;
typedef __m256i mcr_vmask; /* lane i on when its sign bit is set (vmaskmovps) */

static inline mcr_v v_zero(void) { return _mm256_setzero_ps(); }
static inline mcr_v v_set1(float x) { return _mm256_set1_ps(x); }
static inline mcr_v v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, mcr_v v) { _mm256_storeu_ps(p, v); }
static inline mcr_v v_add(mcr_v a, mcr_v b) { return _mm256_add_ps(a, b); }
static inline mcr_v v_fma(mcr_v a, mcr_v b, mcr_v acc) { return _mm256_fmadd_ps(a, b, acc); }
static inline mcr_v v_max(mcr_v x, mcr_v m) { return _mm256_max_ps(x, m); }
static inline mcr_v v_min(mcr_v x, mcr_v m) { return _mm256_min_ps(x, m); }
static inline mcr_v v_mul(mcr_v a, mcr_v b) { return _mm256_mul_ps(a, b); }
static inline mcr_v v_div(mcr_v a, mcr_v b) { return _mm256_div_ps(a, b); }
static inline mcr_v v_sub(mcr_v a, mcr_v b) { return _mm256_sub_ps(a, b); }
/* 2^n for integral n in [-126, 128], built in the exponent bits (128: infinity) */
static inline mcr_v v_pow2i(mcr_v n)
{
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

/* the sum and the maximum of the lanes (max: v_max's order, a tree of them) */
static inline float v_hsum(mcr_v v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
static inline float v_hmax(mcr_v v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

static inline mcr_vmask v_mask(long n)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), iota);
}
static inline mcr_v v_load_part(const float *p, mcr_vmask m) { return _mm256_maskload_ps(p, m); }
static inline void v_store_part(float *p, mcr_vmask m, mcr_v v) { _mm256_maskstore_ps(p, m, v); }
/* v's lanes on the mask, 0 off it. */
static inline mcr_v v_and_mask(mcr_v v, mcr_vmask m)
{
    return _mm256_and_ps(v, _mm256_castsi256_ps(m));
}
/* Each of the low half's lanes twice (0 0 1 1 2 2 3 3), and the high half's. */
static inline mcr_v v_dup_lo(mcr_v v)
{
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
}
static inline mcr_v v_dup_hi(mcr_v v)
{
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
}

#define V_KEEP(v) __asm__("" : "+x"(v))

#endif
