/* Channels-last depthwise micro-kernel, AVX2+FMA (dwconv_nhwc_ukernel.h): tiles of 8
 * pixels x 8 channels in 8 ymm accumulators, one weight load per tap for the 8 pixels.
 * The last channels (k % 8) go through masked loads and stores, the last pixels (ow % 8)
 * one at a time. */
#include "dwconv_nhwc_ukernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "internal.h"

/* Plain loads when all 8 lanes are on (maskload is slower), masked ones in the last tile. */
#define LOAD(p) (masked ? _mm256_maskload_ps((p), mask) : _mm256_loadu_ps(p))

/* np: pixels, a constant once inlined, so that acc[] lives in registers. */
MCR_ALWAYS_INLINE void tile(long np, int masked, __m256i mask, const float *const *rows, long kh, long kw,
                            long sw, const float *w, const float *bias, float *y, long ox,
                            long ch, long k)
{
    __m256 acc[8];
    const __m256 b0 = bias ? LOAD(bias + ch) : _mm256_setzero_ps();
    for (long i = 0; i < np; i++) acc[i] = b0;
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * sw * k + ch;
        for (long s = 0; s < kw; s++) {
            const __m256 wv = LOAD(w + (r * kw + s) * k + ch);
            const float *xs = row + s * k;
            for (long i = 0; i < np; i++) {
                acc[i] = _mm256_fmadd_ps(wv, LOAD(xs + i * sw * k), acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) {
        if (masked) _mm256_maskstore_ps(y + (ox + i) * k + ch, mask, acc[i]);
        else _mm256_storeu_ps(y + (ox + i) * k + ch, acc[i]);
    }
}

void mcr_dwconv_nhwc_f32_8x8__fma3(MCR_DWCONV_NHWC_ARGS)
{
    /* Lane i of the mask is on when i < the channels left (maskload reads the sign bit). */
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i full = _mm256_set1_epi32(-1);
    const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(k % 8)), lanes);
    long ox = 0;
    for (; ox + 8 <= ow; ox += 8) {
        long ch = 0;
        for (; ch + 8 <= k; ch += 8) tile(8, 0, full, rows, kh, kw, sw, w, bias, y, ox, ch, k);
        if (ch < k) tile(8, 1, last, rows, kh, kw, sw, w, bias, y, ox, ch, k);
    }
    for (; ox < ow; ox++) {
        long ch = 0;
        for (; ch + 8 <= k; ch += 8) tile(1, 0, full, rows, kh, kw, sw, w, bias, y, ox, ch, k);
        if (ch < k) tile(1, 1, last, rows, kh, kw, sw, w, bias, y, ox, ch, k);
    }
}
#undef LOAD
#else
typedef int mcr_dwconv_nhwc_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
