/* GEMM micro-kernel, AVX-512F: an 8x32 tile in 16 zmm accumulators (16 independent FMA
 * chains cover latency 4 x 2 ports; 2 loads of b plus 8 broadcasts of a feed 16 FMAs);
 * and the same for the first `rows` < 8 rows of a tile, for the last rows of c (ViT-B/16's
 * 197 tokens are 24 tiles and 5 rows), which then cost 5/8 of a tile, not a whole one
 * plus copies. See gemm_ukernel.h. */
#include "gemm_ukernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "internal.h"

#define ROW(r)                                           \
    if ((r) < rows) {                                    \
        const __m512 av = _mm512_set1_ps(a[(r) * lda + p]); \
        c##r##0 = _mm512_fmadd_ps(av, b0, c##r##0);      \
        c##r##1 = _mm512_fmadd_ps(av, b1, c##r##1);      \
    }

/* Every sum starts from zero; the bias (or c's old value) is added at the end (STORE):
 * see gemm_ukernel.h. */
#define INIT(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();

#define STORE(r)                                                                   \
    if ((r) < rows) {                                                              \
        if (accumulate) {                                                          \
            c##r##0 = _mm512_add_ps(_mm512_loadu_ps(c + (r) * ldc), c##r##0);      \
            c##r##1 = _mm512_add_ps(_mm512_loadu_ps(c + (r) * ldc + 16), c##r##1); \
        } else if (rb) {                                                           \
            const __m512 bias = _mm512_set1_ps(rb[r]);                             \
            c##r##0 = _mm512_add_ps(bias, c##r##0);                                \
            c##r##1 = _mm512_add_ps(bias, c##r##1);                                \
        } else if (cb) {                                                           \
            c##r##0 = _mm512_add_ps(_mm512_loadu_ps(cb), c##r##0);                \
            c##r##1 = _mm512_add_ps(_mm512_loadu_ps(cb + 16), c##r##1);            \
        }                                                                          \
        _mm512_storeu_ps(c + (r) * ldc, c##r##0);                                  \
        _mm512_storeu_ps(c + (r) * ldc + 16, c##r##1);                             \
    }

MCR_ALWAYS_INLINE void tile(const int rows, MCR_GEMM_UKERNEL_ARGS)
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
        ROW(0)
        ROW(1)
        ROW(2)
        ROW(3)
        ROW(4)
        ROW(5)
        ROW(6)
        ROW(7)
    }
    STORE(0)
    STORE(1)
    STORE(2)
    STORE(3)
    STORE(4)
    STORE(5)
    STORE(6)
    STORE(7)
}

void mcr_gemm_f32_8x32__avx512f(MCR_GEMM_UKERNEL_ARGS)
{
    tile(8, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate);
}

void mcr_gemm_f32_8x32__avx512f_rows(long rows, MCR_GEMM_UKERNEL_ARGS)
{
    switch (rows) {
    case 1: tile(1, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 2: tile(2, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 3: tile(3, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 4: tile(4, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 5: tile(5, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 6: tile(6, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    case 7: tile(7, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    default: tile(8, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate); break;
    }
}
#else
typedef int mcr_gemm_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
