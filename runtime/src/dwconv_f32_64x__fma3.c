/* Depthwise micro-kernel, AVX2 + FMA: 64 outputs per tile in 8 ymm accumulators, enough
 * independent FMA chains to cover the FMA latency on two ports (dwconv_ukernel.h). */
#include "dwconv_ukernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

void mcr_dwconv_f32_64x__fma3(const float *src, const long *off, const float *w,
                              long taps, float bias, float *out)
{
    const __m256 b = _mm256_set1_ps(bias); /* added last: dwconv_ukernel.h */
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
           a7 = a0;
    for (long t = 0; t < taps; t++) {
        const float *s = src + off[t];
        const __m256 wv = _mm256_broadcast_ss(w + t);
        a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s), a0);
        a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 8), a1);
        a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 16), a2);
        a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 24), a3);
        a4 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 32), a4);
        a5 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 40), a5);
        a6 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 48), a6);
        a7 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 56), a7);
    }
    _mm256_storeu_ps(out, _mm256_add_ps(a0, b));
    _mm256_storeu_ps(out + 8, _mm256_add_ps(a1, b));
    _mm256_storeu_ps(out + 16, _mm256_add_ps(a2, b));
    _mm256_storeu_ps(out + 24, _mm256_add_ps(a3, b));
    _mm256_storeu_ps(out + 32, _mm256_add_ps(a4, b));
    _mm256_storeu_ps(out + 40, _mm256_add_ps(a5, b));
    _mm256_storeu_ps(out + 48, _mm256_add_ps(a6, b));
    _mm256_storeu_ps(out + 56, _mm256_add_ps(a7, b));
}
#else
typedef int mcr_dwconv_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
