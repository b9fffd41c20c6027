/* GEMM micro-kernel, AVX-512F: an 8x32 tile in 16 zmm accumulators (16 independent FMA
 * chains cover latency 4 x 2 ports; 2 loads of b plus 8 broadcasts of a feed 16 FMAs).
 * See gemm_ukernel.h. */
#include "gemm_ukernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#define ROW(r) \
    av = _mm512_set1_ps(a[(r) * lda + p]); \
    c##r##0 = _mm512_fmadd_ps(av, b0, c##r##0); \
    c##r##1 = _mm512_fmadd_ps(av, b1, c##r##1)

#define INIT(r)                                                        \
    __m512 c##r##0, c##r##1;                                           \
    if (accumulate) {                                                  \
        c##r##0 = _mm512_loadu_ps(c + (r) * ldc);                      \
        c##r##1 = _mm512_loadu_ps(c + (r) * ldc + 16);                 \
    } else if (rb) {                                                   \
        c##r##0 = c##r##1 = _mm512_set1_ps(rb[r]);                     \
    } else {                                                           \
        c##r##0 = cb ? _mm512_loadu_ps(cb) : _mm512_setzero_ps();      \
        c##r##1 = cb ? _mm512_loadu_ps(cb + 16) : _mm512_setzero_ps(); \
    }

#define STORE(r) \
    _mm512_storeu_ps(c + (r) * ldc, c##r##0), _mm512_storeu_ps(c + (r) * ldc + 16, c##r##1)

void mcr_gemm_f32_8x32__avx512f(MCR_GEMM_UKERNEL_ARGS)
{
    INIT(0)
    INIT(1)
    INIT(2)
    INIT(3)
    INIT(4)
    INIT(5)
    INIT(6)
    INIT(7)
    for (long p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(bp + p * ldbp), b1 = _mm512_loadu_ps(bp + p * ldbp + 16);
        __m512 av;
        ROW(0);
        ROW(1);
        ROW(2);
        ROW(3);
        ROW(4);
        ROW(5);
        ROW(6);
        ROW(7);
    }
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
    STORE(4);
    STORE(5);
    STORE(6);
    STORE(7);
}
#else
typedef int mcr_gemm_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
