/* Depthwise micro-kernel, AVX2 + FMA, stride 1: dwconv_f32_rows__avx512f with 8-wide
 * vectors, blocks of 4 output rows x up to 2 vectors (8 ymm accumulators: AVX2 has 16
 * registers, and the loaded input vectors and the weight need their own). */
#include "dwconv_ukernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "internal.h"

/* Lanes [0, n) of a vector set, for masked stores. */
static __m256i lanes(long n)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), iota);
}

/* Output rows [oy0, oy0+R) x columns [x0, x0+8V), the last vector's lanes masked. */
MCR_ALWAYS_INLINE void
block(const float *pad, long wq, const float *w, long kh, long kw, float bias,
      float *y, long ow, long oy0, long x0, const int R, const int V,
      const __m256i last)
{
    __m256 acc[4][2];
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < V; v++) acc[r][v] = _mm256_setzero_ps(); /* bias added last */
    }
    for (long rho = 0; rho < R + kh - 1; rho++) {
        const float *row = pad + (oy0 + rho) * wq + x0;
        for (long s = 0; s < kw; s++) {
            __m256 xv[2];
            for (int v = 0; v < V; v++) xv[v] = _mm256_loadu_ps(row + 8 * v + s);
            for (int r = 0; r < R; r++) {
                const long i = rho - r; /* the kernel row joining input row rho to row r */
                if (i < 0 || i >= kh) continue;
                const __m256 wv = _mm256_broadcast_ss(w + i * kw + s);
                for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(wv, xv[v], acc[r][v]);
            }
        }
    }
    const __m256 b = _mm256_set1_ps(bias);
    for (int r = 0; r < R; r++) {
        float *yr = y + (oy0 + r) * ow + x0;
        for (int v = 0; v < V - 1; v++) _mm256_storeu_ps(yr + 8 * v, _mm256_add_ps(acc[r][v], b));
        _mm256_maskstore_ps(yr + 8 * (V - 1), last, _mm256_add_ps(acc[r][V - 1], b));
    }
}

/* One column block of the plane, all rows: blocks of 4 rows, then single rows. */
MCR_ALWAYS_INLINE void
column(const float *pad, long wq, const float *w, long kh, long kw, float bias,
       float *y, long oh, long ow, long x0, const int V, const __m256i last)
{
    long oy = 0;
    for (; oy + 4 <= oh; oy += 4) block(pad, wq, w, kh, kw, bias, y, ow, oy, x0, 4, V, last);
    for (; oy < oh; oy++) block(pad, wq, w, kh, kw, bias, y, ow, oy, x0, 1, V, last);
}

void mcr_dwconv_f32_rows__fma3(const float *pad, long wq, const float *w, long kh, long kw,
                               float bias, float *y, long oh, long ow)
{
    long x0 = 0;
    for (; x0 + 16 <= ow; x0 += 16) {
        column(pad, wq, w, kh, kw, bias, y, oh, ow, x0, 2, lanes(8));
    }
    for (; x0 < ow; x0 += 8) { /* the last columns, a vector at a time */
        column(pad, wq, w, kh, kw, bias, y, oh, ow, x0, 1, lanes(ow - x0));
    }
}
#else
typedef int mcr_dwconv_rows_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
