/* GEMM micro-kernel, AVX2 + FMA: a 6x16 tile in 12 ymm accumulators (the BLIS Haswell
 * shape: 12 independent FMA chains cover latency 4 x 2 ports, and 2 loads of b plus 6
 * broadcasts of a feed 12 FMAs). See gemm_ukernel.h. */
#include "gemm_ukernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

void mcr_gemm_f32_6x16__fma3(MCR_GEMM_UKERNEL_ARGS)
{
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (accumulate) {
        c00 = _mm256_loadu_ps(c), c01 = _mm256_loadu_ps(c + 8);
        c10 = _mm256_loadu_ps(c + ldc), c11 = _mm256_loadu_ps(c + ldc + 8);
        c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
        c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
        c40 = _mm256_loadu_ps(c + 4 * ldc), c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
        c50 = _mm256_loadu_ps(c + 5 * ldc), c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
    } else if (rb) {
        c00 = c01 = _mm256_broadcast_ss(rb);
        c10 = c11 = _mm256_broadcast_ss(rb + 1);
        c20 = c21 = _mm256_broadcast_ss(rb + 2);
        c30 = c31 = _mm256_broadcast_ss(rb + 3);
        c40 = c41 = _mm256_broadcast_ss(rb + 4);
        c50 = c51 = _mm256_broadcast_ss(rb + 5);
    } else {
        c00 = c10 = c20 = c30 = c40 = c50 = cb ? _mm256_loadu_ps(cb) : _mm256_setzero_ps();
        c01 = c11 = c21 = c31 = c41 = c51 = cb ? _mm256_loadu_ps(cb + 8) : _mm256_setzero_ps();
    }
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(bp + p * ldbp), b1 = _mm256_loadu_ps(bp + p * ldbp + 8);
        __m256 av = _mm256_broadcast_ss(a + p);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + lda + p);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2 * lda + p);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3 * lda + p);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4 * lda + p);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5 * lda + p);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    _mm256_storeu_ps(c, c00), _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + ldc, c10), _mm256_storeu_ps(c + ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40), _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50), _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}
#else
typedef int mcr_gemm_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
