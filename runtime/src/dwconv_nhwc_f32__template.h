/* The SIMD channels-last depthwise micro-kernel family, written once over the vector
 * layer (vec_<isa>.h); dwconv_nhwc_ukernel.h states the contract. A variant file defines
 * NHWC_UKERNEL, includes its vec_<isa>.h, then this.
 *
 * Tiles of 8 pixels x one vector of channels, 8 accumulators -- enough independent FMA
 * chains for latency 4 x 2 FMA pipes -- and one weight load per tap for the 8 pixels. For
 * strides 1 and 2 and kernel widths 3 and 7 (all of MobileCLIP's), the tile slides along
 * the row instead, loading each input vector once (AVX-512, 64x64 planes of 64 channels,
 * 7x7, in L1: 100 -> 208 GFLOP/s; AVX2, 7x7 on MCi's shapes: 71-75 -> 90-100); rows of 4
 * to 7 pixels take tiles of 4. 8 accumulators + 7 weights + 1 input are 16 registers, all
 * AVX2 has. A variant with 32 registers defines NHWC_WIDE_TILE 16: stride-1 rows of 16
 * pixels or more slide tiles of 16 (16 + 7 + 1 = 24 zmm), twice the independent chains and
 * each input vector feeding up to 7 FMAs twice as often per weight load (AVX-512 on Zen 5,
 * per call alone: 7x7 on MCi's 16-, 32- and 64-wide planes 0.91 of the time, 3x3 0.92-0.99;
 * stride 2 level, so it keeps tiles of 8). Not adopted: the 16-pixel tile tap by tap (each
 * tap's 16 FMAs independent, the input vectors as their memory operands, 119 loads a row
 * instead of 29): load-bound, 0.78-0.87 of the GFLOP/s on four of MCi's planes, level on
 * the fifth (Zen 5). Alone in L1, the sliding 16-pixel tile runs 7x7 at 238-247 GFLOP/s
 * and 3x3 at 189-221 (Zen 5, AVX-512, peak 276-283); in the convolution, with the ring's
 * copy (perf: 16% of a 7x7's time, mostly its loads) and L1 misses, 155-205 and 75-120.
 * The last channels (kc % VN) go through masked loads and stores; full vectors through
 * plain ones (a masked load is slower, and NEON has none). */
#include "dwconv_nhwc_ukernel.h"
#include "internal.h"

#ifndef NHWC_WIDE_TILE
#define NHWC_WIDE_TILE 8
#endif

#define LOAD(p) (masked ? v_load_part((p), mask) : v_load(p))
#define STORE(p, v)                                 \
    do {                                            \
        if (masked) v_store_part((p), mask, (v));   \
        else v_store((p), (v));                     \
    } while (0)

/* np: pixels, a constant once inlined, so that acc[] lives in registers. */
MCR_ALWAYS_INLINE void tile(long np, int masked, mcr_vmask mask, const float *const *rows,
                            long kh, long kw, long sw, const float *w, const float *bias,
                            float *y, long ox, long ch, long kc, long ld)
{
    mcr_v acc[8];
    const mcr_v b0 = bias ? LOAD(bias + ch) : v_zero();
    for (long i = 0; i < np; i++) acc[i] = v_zero(); /* bias added last */
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * sw * kc + ch;
        for (long s = 0; s < kw; s++) {
            const mcr_v wv = LOAD(w + (r * kw + s) * ld + ch);
            const float *xs = row + s * kc;
            for (long i = 0; i < np; i++) acc[i] = v_fma(wv, LOAD(xs + i * sw * kc), acc[i]);
        }
    }
    for (long i = 0; i < np; i++) STORE(y + (ox + i) * ld + ch, v_add(acc[i], b0));
}

/* Stride and width constants (1 or 2; 3 or 7): np (8 or 4) pixels, each input vector of
 * a row loaded once for all the tile's pixels that read it ((np-1)*swc + kwc loads instead
 * of np*kwc), the row's kwc weight vectors held in registers. */
MCR_ALWAYS_INLINE void tile_slide(long np, long kwc, long swc, int masked, mcr_vmask mask,
                                  const float *const *rows, long kh, const float *w,
                                  const float *bias, float *y, long ox, long ch, long kc,
                                  long ld)
{
    mcr_v acc[NHWC_WIDE_TILE > 8 ? NHWC_WIDE_TILE : 8], wv[7];
    const mcr_v b0 = bias ? LOAD(bias + ch) : v_zero();
    for (long i = 0; i < np; i++) acc[i] = v_zero(); /* bias added last */
    for (long r = 0; r < kh; r++) {
        const float *row = rows[r] + ox * swc * kc + ch;
        /* Unrolled whole, so that wv[] and acc[] are registers (gcc's default unrolling
         * stops short of these trip counts). */
#pragma GCC unroll 8
        for (long s = 0; s < kwc; s++) wv[s] = LOAD(w + (r * kwc + s) * ld + ch);
        /* The input vectors through one pointer stepped by kc, hidden from gcc after each
         * step: it otherwise holds every offset j*kc in a register of its own and spills
         * them to the stack, reloading one per input vector (18 in a 16-pixel 3x3 row).
         * Per call alone (Zen 5): 3x3 0.70-0.89 of the time, 7x7 0.88-0.94 under AVX-512,
         * 0.78-0.84 and 0.86-0.98 under AVX2. */
        const float *xp = row;
#pragma GCC unroll 32
        for (long j = 0; j < (np - 1) * swc + kwc; j++, xp += kc) {
            mcr_v xv = LOAD(xp);
            V_KEEP(xv); /* one load, not one folded into each FMA */
            __asm__("" : "+r"(xp));
#pragma GCC unroll 16
            for (long i = 0; i < np; i++) {
                const long s = j - i * swc;
                if (s >= 0 && s < kwc) acc[i] = v_fma(wv[s], xv, acc[i]);
            }
        }
    }
    for (long i = 0; i < np; i++) STORE(y + (ox + i) * ld + ch, v_add(acc[i], b0));
}

/* tile_slide with every shape parameter a constant. */
MCR_ALWAYS_INLINE void slide(long np, int masked, mcr_vmask mask, const float *const *rows,
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

/* One vector of channels for the whole row: its weights and its lanes of the kh input
 * rows are what the row's pixel tiles share. The row's last pixels go in one more sliding
 * tile that overlaps the one before (its pixels come out the same, summed in the same
 * order), not one at a time: a single pixel is one chain of dependent FMAs, and MCi's
 * last stage at 224x224 is 7 pixels wide (AVX-512 7x7 there: 19 -> 55 GFLOP/s). */
MCR_ALWAYS_INLINE void column(int masked, mcr_vmask mask, const float *const *rows, long kh,
                              long kw, long sw, const float *w, const float *bias, float *y,
                              long ow, long ch, long kc, long ld)
{
    const int slides = (sw == 1 || sw == 2) && (kw == 3 || kw == 7);
    long ox = 0;
    if (NHWC_WIDE_TILE > 8 && slides && sw == 1 && ow >= NHWC_WIDE_TILE) {
        for (; ox + NHWC_WIDE_TILE <= ow; ox += NHWC_WIDE_TILE) {
            slide(NHWC_WIDE_TILE, masked, mask, rows, kh, kw, sw, w, bias, y, ox, ch, kc, ld);
        }
        if (ox < ow) {
            slide(NHWC_WIDE_TILE, masked, mask, rows, kh, kw, sw, w, bias, y, ow - NHWC_WIDE_TILE,
                  ch, kc, ld);
        }
        return;
    }
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

void NHWC_UKERNEL(MCR_DWCONV_NHWC_ARGS)
{
    const mcr_vmask last = v_mask(kc % MCR_VN);
    long ch = 0;
    for (; ch + MCR_VN <= kc; ch += MCR_VN) {
        column(0, last, rows, kh, kw, sw, w, bias, y, ow, ch, kc, ld);
    }
    if (ch < kc) column(1, last, rows, kh, kw, sw, w, bias, y, ow, ch, kc, ld);
}
#undef LOAD
#undef STORE
#undef NHWC_WIDE_TILE
