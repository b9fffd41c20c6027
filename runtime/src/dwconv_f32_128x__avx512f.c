/* Depthwise micro-kernel, AVX-512F: 128 outputs per tile in 8 zmm accumulators, enough
 * independent FMA chains to cover the FMA latency on two ports (dwconv_ukernel.h). */
#include "dwconv_ukernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

void mcr_dwconv_f32_128x__avx512f(const float *src, const long *off, const float *w,
                                  long taps, float bias, float *out)
{
    const __m512 b = _mm512_set1_ps(bias); /* added last: dwconv_ukernel.h */
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
           a7 = a0;
    for (long t = 0; t < taps; t++) {
        const float *s = src + off[t];
        const __m512 wv = _mm512_set1_ps(w[t]);
        a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s), a0);
        a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 16), a1);
        a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 32), a2);
        a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 48), a3);
        a4 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 64), a4);
        a5 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 80), a5);
        a6 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 96), a6);
        a7 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 112), a7);
    }
    _mm512_storeu_ps(out, _mm512_add_ps(a0, b));
    _mm512_storeu_ps(out + 16, _mm512_add_ps(a1, b));
    _mm512_storeu_ps(out + 32, _mm512_add_ps(a2, b));
    _mm512_storeu_ps(out + 48, _mm512_add_ps(a3, b));
    _mm512_storeu_ps(out + 64, _mm512_add_ps(a4, b));
    _mm512_storeu_ps(out + 80, _mm512_add_ps(a5, b));
    _mm512_storeu_ps(out + 96, _mm512_add_ps(a6, b));
    _mm512_storeu_ps(out + 112, _mm512_add_ps(a7, b));
}
#else
typedef int mcr_dwconv_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
