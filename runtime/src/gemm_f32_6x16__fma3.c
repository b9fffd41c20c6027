/* GEMM micro-kernel, AVX2 + FMA: a 6x16 tile in 12 ymm accumulators (the BLIS Haswell
 * shape: 12 independent FMA chains cover latency 4 x 2 ports, and 2 loads of b plus 6
 * broadcasts of a feed 12 FMAs); and the same for the first `rows` < 6 rows of a tile,
 * for the last rows of c (ViT-B/16's 197 tokens are 32 tiles and 5 rows), which then
 * cost rows/6 of a tile, not a whole one plus copies. See gemm_ukernel.h. */
#include "gemm_ukernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "internal.h"

/* Every sum starts from zero; the bias (or c's old value) is added at the end (STORE):
 * see gemm_ukernel.h. */
#define INIT(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();

#define ROW(r)                                                    \
    if ((r) < rows) {                                             \
        const __m256 av = _mm256_broadcast_ss(a + (r) * lda + p); \
        c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);               \
        c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);               \
    }

#define STORE(r)                                                                  \
    if ((r) < rows) {                                                             \
        if (accumulate) {                                                         \
            c##r##0 = _mm256_add_ps(_mm256_loadu_ps(c + (r) * ldc), c##r##0);     \
            c##r##1 = _mm256_add_ps(_mm256_loadu_ps(c + (r) * ldc + 8), c##r##1); \
        } else if (rb) {                                                          \
            const __m256 bias = _mm256_broadcast_ss(rb + (r));                    \
            c##r##0 = _mm256_add_ps(bias, c##r##0);                               \
            c##r##1 = _mm256_add_ps(bias, c##r##1);                               \
        } else if (cb) {                                                          \
            c##r##0 = _mm256_add_ps(_mm256_loadu_ps(cb), c##r##0);               \
            c##r##1 = _mm256_add_ps(_mm256_loadu_ps(cb + 8), c##r##1);           \
        }                                                                         \
        _mm256_storeu_ps(c + (r) * ldc, c##r##0);                                 \
        _mm256_storeu_ps(c + (r) * ldc + 8, c##r##1);                             \
    }

MCR_ALWAYS_INLINE void tile(const int rows, MCR_GEMM_UKERNEL_ARGS)
{
    INIT(0)
    INIT(1)
    INIT(2)
    INIT(3)
    INIT(4)
    INIT(5)
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(bp + p * ldbp), b1 = _mm256_loadu_ps(bp + p * ldbp + 8);
        ROW(0)
        ROW(1)
        ROW(2)
        ROW(3)
        ROW(4)
        ROW(5)
    }
    STORE(0)
    STORE(1)
    STORE(2)
    STORE(3)
    STORE(4)
    STORE(5)
}

void mcr_gemm_f32_6x16__fma3(MCR_GEMM_UKERNEL_ARGS)
{
    tile(6, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate);
}

void mcr_gemm_f32_6x16__fma3_rows(long rows, MCR_GEMM_UKERNEL_ARGS)
{
    switch (rows) {
    case 1: tile(1, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 2: tile(2, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 3: tile(3, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 4: tile(4, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 5: tile(5, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    default: tile(6, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    }
}
#else
typedef int mcr_gemm_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
