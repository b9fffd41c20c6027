/* Depthwise micro-kernel, AVX-512F, stride 1: a whole output plane of one channel from
 * its padded copy (dwconv.c; rows wq = ow + kw - 1 apart), in blocks of R output rows x
 * V vectors of 16 columns, with R*V zmm accumulators.
 *
 * Why rows: output rows oy..oy+R-1 read the same input rows, shifted. Loading each input
 * vector once per block and feeding it to every output row that uses it cuts the loads
 * per multiply-add from ~1.1 (dwconv_f32_128x__avx512f, one tap at a time over a flat
 * tile, most loads split across cache lines) to (R+kh-1)/(R*kh) + 1/V. Each sum still
 * runs over the taps in (row, column) order from zero, the bias added last, as the flat
 * kernels'. */
#include "dwconv_ukernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "internal.h"

/* Output rows [oy0, oy0+R) x columns [x0, x0+16V), the last vector's lanes masked. */
MCR_ALWAYS_INLINE void
block(const float *pad, long wq, const float *w, long kh, long kw, float bias,
      float *y, long ow, long oy0, long x0, const int R, const int V,
      const __mmask16 last)
{
    __m512 acc[4][4];
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps(); /* bias added last */
    }
    for (long rho = 0; rho < R + kh - 1; rho++) {
        const float *row = pad + (oy0 + rho) * wq + x0;
        for (long s = 0; s < kw; s++) {
            __m512 xv[4];
            for (int v = 0; v < V; v++) xv[v] = _mm512_loadu_ps(row + 16 * v + s);
            for (int r = 0; r < R; r++) {
                const long i = rho - r; /* the kernel row joining input row rho to row r */
                if (i < 0 || i >= kh) continue;
                const __m512 wv = _mm512_set1_ps(w[i * kw + s]);
                for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        float *yr = y + (oy0 + r) * ow + x0;
        for (int v = 0; v < V; v++) {
            const __mmask16 m = v == V - 1 ? last : (__mmask16)0xFFFF;
            _mm512_mask_storeu_ps(yr + 16 * v, m, _mm512_add_ps(acc[r][v], _mm512_set1_ps(bias)));
        }
    }
}

/* One column block of the plane, all rows: blocks of R rows, then single rows. */
MCR_ALWAYS_INLINE void
column(const float *pad, long wq, const float *w, long kh, long kw, float bias,
       float *y, long oh, long ow, long x0, const int R, const int V,
       const __mmask16 last)
{
    long oy = 0;
    for (; oy + R <= oh; oy += R) block(pad, wq, w, kh, kw, bias, y, ow, oy, x0, R, V, last);
    for (; oy < oh; oy++) block(pad, wq, w, kh, kw, bias, y, ow, oy, x0, 1, V, last);
}

/* The blocks of one plane with V vectors fixed (a constant once inlined), R = 4 rows:
 * measured, 8 rows for narrower blocks spill accumulators and run slower. */
MCR_ALWAYS_INLINE void
plane(const float *pad, long wq, const float *w, long kh, long kw, float bias,
      float *y, long oh, long ow, const int V)
{
    const int R = 4;
    for (long x0 = 0; x0 < ow; x0 += 16 * V) {
        const long left = ow - x0 - 16 * (V - 1); /* columns in the block's last vector */
        const __mmask16 last = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        if (left <= 0) { /* a narrower last block: one vector at a time */
            for (long xs = x0; xs < ow; xs += 16) {
                const long l = ow - xs;
                const __mmask16 m = l >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << l) - 1u);
                column(pad, wq, w, kh, kw, bias, y, oh, ow, xs, R, 1, m);
            }
            break;
        }
        column(pad, wq, w, kh, kw, bias, y, oh, ow, x0, R, V, last);
    }
}

void mcr_dwconv_f32_rows__avx512f(const float *pad, long wq, const float *w, long kh, long kw,
                                  float bias, float *y, long oh, long ow)
{
    /* Blocks as wide as the row allows, up to 4 vectors (16 accumulators with 4 rows). */
    if (ow > 32) {
        plane(pad, wq, w, kh, kw, bias, y, oh, ow, 4);
    } else if (ow > 16) {
        plane(pad, wq, w, kh, kw, bias, y, oh, ow, 2);
    } else {
        plane(pad, wq, w, kh, kw, bias, y, oh, ow, 1);
    }
}
#else
typedef int mcr_dwconv_rows_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
