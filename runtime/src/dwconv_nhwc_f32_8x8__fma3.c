/* Channels-last depthwise micro-kernel, AVX2+FMA (dwconv_nhwc_ukernel.h): tiles of 8
 * pixels x 8 channels in 8 ymm accumulators, one weight load per tap for the 8 pixels.
 * For strides 1 and 2 and kernel widths 3 and 7, tiles of 8 pixels (4 in rows of 4 to 7)
 * slide along the row, loading each input vector once. The last channels (kc % 8) go
 * through masked loads and stores. */
#include "dwconv_nhwc_ukernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "internal.h"

/* Plain loads when all 8 lanes are on (maskload is slower), masked ones in the last tile. */
#define LOAD(p) (masked ? _mm256_maskload_ps((p), mask) : _mm256_loadu_ps(p))
#define STORE(p, v)                                          \
    do {                                                     \
        if (masked) _mm256_maskstore_ps((p), mask, (v));     \
        else _mm256_storeu_ps((p), (v));                     \
    } while (0)

/* np: pixels, a constant once inlined, so that acc[] lives in registers. */
MCR_ALWAYS_INLINE void tile(long np, int masked, __m256i mask, const float *const *rows,
                            long kh, long kw, long sw, const float *w, const float *bias,
                            float *y, long ox, long ch, long kc, long ld)
{
    __m256 acc[8];
    const __m256 b0 = bias ? LOAD(bias + ch) : _mm256_setzero_ps();
    for (long i = 0; i < np; i++) acc[i] = _mm256_setzero_ps(); /* bias added last */
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * sw * kc + ch;
        for (long s = 0; s < kw; s++) {
            const __m256 wv = LOAD(w + (r * kw + s) * ld + ch);
            const float *xs = row + s * kc;
            for (long i = 0; i < np; i++) {
                acc[i] = _mm256_fmadd_ps(wv, LOAD(xs + i * sw * kc), acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) STORE(y + (ox + i) * ld + ch, _mm256_add_ps(acc[i], b0));
}

/* Stride and width constants (1 or 2; 3 or 7): np (8 or 4) pixels, each input vector
 * loaded once. Why 8: each accumulator is a chain of dependent FMAs through all kh * kw
 * taps, and 4 chains kept only one of the two FMA ports busy; 8 accumulators + 7 weights
 * + 1 input fill the 16 ymm registers. 7x7 on MCi's shapes: 71-75 -> 90-100 GFLOP/s
 * (8x8 pixels x 512 channels: 49 -> 72). */
MCR_ALWAYS_INLINE void tile_slide(long np, long kwc, long swc, int masked, __m256i mask,
                                  const float *const *rows, long kh, const float *w,
                                  const float *bias, float *y, long ox, long ch, long kc,
                                  long ld)
{
    __m256 acc[8], wv[7];
    const __m256 b0 = bias ? LOAD(bias + ch) : _mm256_setzero_ps();
    for (long i = 0; i < np; i++) acc[i] = _mm256_setzero_ps(); /* bias added last */
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * swc * kc + ch;
        /* Unrolled whole, so that wv[] and acc[] are registers. */
#pragma GCC unroll 8
        for (long s = 0; s < kwc; s++) wv[s] = LOAD(w + (r * kwc + s) * ld + ch);
#pragma GCC unroll 32
        for (long j = 0; j < (np - 1) * swc + kwc; j++) {
            __m256 xv = LOAD(row + j * kc);
            __asm__("" : "+x"(xv)); /* one load, not one folded into each FMA */
#pragma GCC unroll 8
            for (long i = 0; i < np; i++) {
                const long s = j - i * swc;
                if (s >= 0 && s < kwc) acc[i] = _mm256_fmadd_ps(wv[s], xv, acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) STORE(y + (ox + i) * ld + ch, _mm256_add_ps(acc[i], b0));
}

/* tile_slide with every shape parameter a constant. */
MCR_ALWAYS_INLINE void slide(long np, int masked, __m256i mask, const float *const *rows,
                             long kh, long kw, long sw, const float *w, const float *bias,
                             float *y, long ox, long ch, long kc, long ld)
{
    if (sw == 1 && kw == 3) {
        tile_slide(np, 3, 1, masked, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    } else if (sw == 1) {
        tile_slide(np, 7, 1, masked, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    } else if (kw == 3) {
        tile_slide(np, 3, 2, masked, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    } else {
        tile_slide(np, 7, 2, masked, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    }
}

/* One vector of channels for the whole row. The row's last pixels go in one more sliding
 * tile that overlaps the one before (its pixels come out the same, summed in the same
 * order), not one at a time: a single pixel is one chain of dependent FMAs, and MCi's last
 * stage at 224x224 is 7 pixels wide. */
MCR_ALWAYS_INLINE void column(int masked, __m256i mask, const float *const *rows, long kh,
                              long kw, long sw, const float *w, const float *bias, float *y,
                              long ow, long ch, long kc, long ld)
{
    const int slides = (sw == 1 || sw == 2) && (kw == 3 || kw == 7);
    long ox = 0;
    if (slides && ow >= 8) {
        for (; ox + 8 <= ow; ox += 8) {
            slide(8, masked, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
        }
        if (ox < ow) slide(8, masked, mask, rows, kh, kw, sw, w, bias, y, ow - 8, ch, kc, ld);
        return;
    }
    if (slides && ow >= 4) { /* 4..7 pixels */
        slide(4, masked, mask, rows, kh, kw, sw, w, bias, y, 0, ch, kc, ld);
        slide(4, masked, mask, rows, kh, kw, sw, w, bias, y, ow - 4, ch, kc, ld);
        return;
    }
    for (; ox + 8 <= ow; ox += 8) {
        tile(8, masked, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
    }
    for (; ox < ow; ox++) tile(1, masked, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
}

void mcr_dwconv_nhwc_f32_8x8__fma3(MCR_DWCONV_NHWC_ARGS)
{
    /* Lane i of the mask is on when i < the channels left (maskload reads the sign bit). */
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(kc % 8)), lanes);
    long ch = 0;
    for (; ch + 8 <= kc; ch += 8) column(0, last, rows, kh, kw, sw, w, bias, y, ow, ch, kc, ld);
    if (ch < kc) column(1, last, rows, kh, kw, sw, w, bias, y, ow, ch, kc, ld);
}
#undef LOAD
#undef STORE
#else
typedef int mcr_dwconv_nhwc_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
