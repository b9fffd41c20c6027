/* The vector layer for AVX-512F: the few operations the SIMD micro-kernel templates
 * (*__template.h) are written in, on 16-float vectors. Each ISA's vec_<isa>.h defines the
 * same names; a variant file includes one of them and then its family's template.
 * Internal to the runtime. */
#ifndef MCR_VEC_H
#define MCR_VEC_H

#include <immintrin.h>

#define MCR_VN 16 /* floats per vector */
typedef __m512 mcr_v;
typedef __mmask16 mcr_vmask; /* lanes [0, n) of a vector: v_mask(n) */

static inline mcr_v v_zero(void) { return _mm512_setzero_ps(); }
static inline mcr_v v_set1(float x) { return _mm512_set1_ps(x); }
static inline mcr_v v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, mcr_v v) { _mm512_storeu_ps(p, v); }
static inline mcr_v v_add(mcr_v a, mcr_v b) { return _mm512_add_ps(a, b); }
/* acc + a * b, one rounding */
static inline mcr_v v_fma(mcr_v a, mcr_v b, mcr_v acc) { return _mm512_fmadd_ps(a, b, acc); }
/* x > m ? x : m per lane (maxps: the second operand where either is NaN) */
static inline mcr_v v_max(mcr_v x, mcr_v m) { return _mm512_max_ps(x, m); }
/* x < m ? x : m per lane (minps: the second operand where either is NaN) */
static inline mcr_v v_min(mcr_v x, mcr_v m) { return _mm512_min_ps(x, m); }
static inline mcr_v v_mul(mcr_v a, mcr_v b) { return _mm512_mul_ps(a, b); }
static inline mcr_v v_div(mcr_v a, mcr_v b) { return _mm512_div_ps(a, b); }
static inline mcr_v v_sub(mcr_v a, mcr_v b) { return _mm512_sub_ps(a, b); }
/* 2^n for integral n in [-126, 128], built in the exponent bits (128: infinity) */
static inline mcr_v v_pow2i(mcr_v n)
{
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}

/* the sum and the maximum of the lanes (max: v_max's order, a tree of them) */
static inline float v_hsum(mcr_v v) { return _mm512_reduce_add_ps(v); }
static inline float v_hmax(mcr_v v) { return _mm512_reduce_max_ps(v); }

static inline mcr_vmask v_mask(long n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}
/* The lanes off the mask read as 0 and are not touched in memory. */
static inline mcr_v v_load_part(const float *p, mcr_vmask m) { return _mm512_maskz_loadu_ps(m, p); }
static inline void v_store_part(float *p, mcr_vmask m, mcr_v v) { _mm512_mask_storeu_ps(p, m, v); }
/* v's lanes on the mask, 0 off it. */
static inline mcr_v v_and_mask(mcr_v v, mcr_vmask m) { return _mm512_maskz_mov_ps(m, v); }
/* Each of the low half's lanes twice (0 0 1 1 ... 7 7), and the high half's (8 8 ... 15 15):
 * a depthwise conv of multiplier 2 reads every input channel twice. */
static inline mcr_v v_dup_lo(mcr_v v)
{
    return _mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7), v);
}
static inline mcr_v v_dup_hi(mcr_v v)
{
    return _mm512_permutexvar_ps(
        _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15), v);
}

/* Keeps v in a register: else gcc folds a load into each of the FMAs that use it, and the
 * loads, not the FMAs, bound the speed. */
#define V_KEEP(v) __asm__("" : "+v"(v))

#endif
