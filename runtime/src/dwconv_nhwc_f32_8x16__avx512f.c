/* Channels-last depthwise micro-kernel, AVX-512F (dwconv_nhwc_ukernel.h): tiles of 8
 * pixels x 16 channels, 8 zmm accumulators -- enough independent FMA chains for two FMA
 * ports -- and one weight load per tap for the 8 pixels. For strides 1 and 2 and kernel
 * widths 3 and 7 (all of MobileCLIP's), the tile slides along the row instead, loading
 * each input vector once: 64x64 planes of 64 channels, 7x7, in L1: 100 -> 208 GFLOP/s
 * (rows of 4 to 7 pixels: tiles of 4). The last channels (kc % 16) go through masked loads
 * and stores. */
#include "dwconv_nhwc_ukernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "internal.h"

/* mask: the channels of this tile (all 16 but in the last tile); np: pixels, a constant
 * once inlined, so that acc[] lives in registers. */
MCR_ALWAYS_INLINE void tile(long np, __mmask16 mask, const float *const *rows, long kh, long kw,
                            long sw, const float *w, const float *bias, float *y, long ox,
                            long ch, long kc, long ld)
{
    __m512 acc[8];
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(mask, bias + ch) : _mm512_setzero_ps();
    for (long i = 0; i < np; i++) acc[i] = _mm512_setzero_ps(); /* bias added last */
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * sw * kc + ch;
        for (long s = 0; s < kw; s++) {
            const __m512 wv = _mm512_maskz_loadu_ps(mask, w + (r * kw + s) * ld + ch);
            const float *xs = row + s * kc;
            for (long i = 0; i < np; i++) {
                acc[i] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, xs + i * sw * kc), acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) {
        _mm512_mask_storeu_ps(y + (ox + i) * ld + ch, mask, _mm512_add_ps(acc[i], b0));
    }
}

/* Stride and width constants (1 or 2; 3 or 7): np (8 or 4) pixels, each input vector of
 * a row loaded once for all the tile's pixels that read it ((np-1)*swc + kwc loads instead
 * of np*kwc), the row's kwc weight vectors held in registers. */
MCR_ALWAYS_INLINE void tile_slide(long np, long kwc, long swc, __mmask16 mask,
                                  const float *const *rows, long kh, const float *w,
                                  const float *bias, float *y, long ox, long ch, long kc,
                                  long ld)
{
    __m512 acc[8], wv[7];
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(mask, bias + ch) : _mm512_setzero_ps();
    for (long i = 0; i < np; i++) acc[i] = _mm512_setzero_ps(); /* bias added last */
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * swc * kc + ch;
        /* Unrolled whole, so that wv[] and acc[] are registers (gcc's default unrolling
         * stops short of these trip counts). */
#pragma GCC unroll 8
        for (long s = 0; s < kwc; s++) {
            wv[s] = _mm512_maskz_loadu_ps(mask, w + (r * kwc + s) * ld + ch);
        }
#pragma GCC unroll 24
        for (long j = 0; j < (np - 1) * swc + kwc; j++) {
            __m512 xv = _mm512_maskz_loadu_ps(mask, row + j * kc);
            /* Keep xv in a register: else gcc folds the load into each of its FMAs, and
             * the loads (not the FMAs) bound the speed. */
            __asm__("" : "+v"(xv));
#pragma GCC unroll 8
            for (long i = 0; i < np; i++) {
                const long s = j - i * swc;
                if (s >= 0 && s < kwc) acc[i] = _mm512_fmadd_ps(wv[s], xv, acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) {
        _mm512_mask_storeu_ps(y + (ox + i) * ld + ch, mask, _mm512_add_ps(acc[i], b0));
    }
}

/* tile_slide with every shape parameter a constant. */
MCR_ALWAYS_INLINE void slide(long np, __mmask16 mask, const float *const *rows, long kh,
                             long kw, long sw, const float *w, const float *bias, float *y,
                             long ox, long ch, long kc, long ld)
{
    if (sw == 1 && kw == 3) {
        tile_slide(np, 3, 1, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    } else if (sw == 1) {
        tile_slide(np, 7, 1, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    } else if (kw == 3) {
        tile_slide(np, 3, 2, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    } else {
        tile_slide(np, 7, 2, mask, rows, kh, w, bias, y, ox, ch, kc, ld);
    }
}

/* One vector of channels (mask) for the whole row: its weights and its lanes of the kh
 * input rows are what the row's pixel tiles share. The row's last pixels go in one more
 * sliding tile that overlaps the one before (its pixels come out the same, summed in the
 * same order), not one at a time: a single pixel is one chain of dependent FMAs, and MCi's
 * last stage at 224x224 is 7 pixels wide (7x7 there: 19 -> 55 GFLOP/s). */
MCR_ALWAYS_INLINE void column(__mmask16 mask, const float *const *rows, long kh, long kw,
                              long sw, const float *w, const float *bias, float *y, long ow,
                              long ch, long kc, long ld)
{
    const int slides = (sw == 1 || sw == 2) && (kw == 3 || kw == 7);
    long ox = 0;
    if (slides && ow >= 8) {
        for (; ox + 8 <= ow; ox += 8) {
            slide(8, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
        }
        if (ox < ow) slide(8, mask, rows, kh, kw, sw, w, bias, y, ow - 8, ch, kc, ld);
        return;
    }
    if (slides && ow >= 4) { /* 4..7 pixels */
        slide(4, mask, rows, kh, kw, sw, w, bias, y, 0, ch, kc, ld);
        slide(4, mask, rows, kh, kw, sw, w, bias, y, ow - 4, ch, kc, ld);
        return;
    }
    for (; ox + 8 <= ow; ox += 8) tile(8, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
    for (; ox < ow; ox++) tile(1, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
}

void mcr_dwconv_nhwc_f32_8x16__avx512f(MCR_DWCONV_NHWC_ARGS)
{
    long ch = 0;
    for (; ch + 16 <= kc; ch += 16) column(0xFFFF, rows, kh, kw, sw, w, bias, y, ow, ch, kc, ld);
    if (ch < kc) {
        const __mmask16 last = (__mmask16)((1u << (kc - ch)) - 1u);
        column(last, rows, kh, kw, sw, w, bias, y, ow, ch, kc, ld);
    }
}
#else
typedef int mcr_dwconv_nhwc_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
