/* Channels-last depthwise micro-kernel, AVX-512F (dwconv_nhwc_ukernel.h): tiles of 8
 * pixels x 16 channels, 8 zmm accumulators -- enough independent FMA chains for two FMA
 * ports -- and one weight load per tap for the 8 pixels. The last channels (k % 16) go
 * through masked loads and stores, the last pixels (ow % 8) one at a time. */
#include "dwconv_nhwc_ukernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "internal.h"

/* mask: the channels of this tile (all 16 but in the last tile); np: pixels, a constant
 * once inlined, so that acc[] lives in registers. */
MCR_ALWAYS_INLINE void tile(long np, __mmask16 mask, const float *const *rows, long kh, long kw,
                            long sw, const float *w, const float *bias, float *y, long ox,
                            long ch, long k)
{
    __m512 acc[8];
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(mask, bias + ch) : _mm512_setzero_ps();
    for (long i = 0; i < np; i++) acc[i] = b0;
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * sw * k + ch;
        for (long s = 0; s < kw; s++) {
            const __m512 wv = _mm512_maskz_loadu_ps(mask, w + (r * kw + s) * k + ch);
            const float *xs = row + s * k;
            for (long i = 0; i < np; i++) {
                acc[i] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, xs + i * sw * k), acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) _mm512_mask_storeu_ps(y + (ox + i) * k + ch, mask, acc[i]);
}

void mcr_dwconv_nhwc_f32_8x16__avx512f(MCR_DWCONV_NHWC_ARGS)
{
    const __mmask16 full = 0xFFFF, last = (__mmask16)((1u << (k % 16)) - 1u);
    long ox = 0;
    for (; ox + 8 <= ow; ox += 8) {
        long ch = 0;
        for (; ch + 16 <= k; ch += 16) tile(8, full, rows, kh, kw, sw, w, bias, y, ox, ch, k);
        if (ch < k) tile(8, last, rows, kh, kw, sw, w, bias, y, ox, ch, k);
    }
    for (; ox < ow; ox++) {
        long ch = 0;
        for (; ch + 16 <= k; ch += 16) tile(1, full, rows, kh, kw, sw, w, bias, y, ox, ch, k);
        if (ch < k) tile(1, last, rows, kh, kw, sw, w, bias, y, ox, ch, k);
    }
}
#else
typedef int mcr_dwconv_nhwc_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
