/* The ring of zero-padded input rows that feeds the channels-last depthwise micro-kernel
 * (dwconv_nhwc_ukernel.h), one rule for its two users: dwconv_nhwc.c, which copies the
 * rows from the input, and conv_gemm_nhwc.c's mcr_conv_dw_nhwc_f32, which computes them
 * by a convolution. kh slots of `size` floats; input row iy, once filled, lives in slot
 * iy mod kh until a later row takes the slot. A window's kh rows are consecutive, so they
 * never share a slot, and each row is filled once as the window slides down. Rows above
 * and below the input (iy < 0, iy >= h) are one zero row. A ring starts empty: a chunk of
 * output rows comes out as it does inside the whole image. Internal to the runtime. */
#ifndef MCR_DWCONV_RING_H
#define MCR_DWCONV_RING_H

#include "internal.h"
#include "mcr.h"

struct mcr_dw_ring {
    float *slots;       /* kh slots, `size` floats apart */
    const float *zero;  /* the zero row */
    long kh, size, h;   /* kh <= kh * kw <= MCR_DWCONV_MAX_TAPS */
    long held[MCR_DWCONV_MAX_TAPS]; /* the input row in each slot, or -1 */
};

/* Fills dst with input row iy (0 <= iy < h). */
typedef void (*mcr_dw_ring_fill)(const void *ctx, float *dst, long iy);

static inline void mcr_dw_ring_start(struct mcr_dw_ring *ring, float *slots, const float *zero,
                                     long kh, long size, long h)
{
    ring->slots = slots;
    ring->zero = zero;
    ring->kh = kh;
    ring->size = size;
    ring->h = h;
    for (long s = 0; s < kh; s++) ring->held[s] = -1;
}

static inline int mcr_dw_ring_holds(const struct mcr_dw_ring *ring, long iy)
{
    return ring->held[iy % ring->kh] == iy;
}

/* rows[r] for r < kh: input row iy0 + r, filling the slots of rows not held yet. Always
 * inlined, so that the fill is a direct call the compiler can inline in turn. */
MCR_ALWAYS_INLINE void mcr_dw_ring_window(struct mcr_dw_ring *ring, const float **rows, long iy0,
                                          mcr_dw_ring_fill fill, const void *ctx)
{
    for (long r = 0; r < ring->kh; r++) {
        const long iy = iy0 + r;
        if (iy < 0 || iy >= ring->h) {
            rows[r] = ring->zero;
            continue;
        }
        const long slot = iy % ring->kh;
        float *dst = ring->slots + slot * ring->size;
        if (ring->held[slot] != iy) {
            fill(ctx, dst, iy);
            ring->held[slot] = iy;
        }
        rows[r] = dst;
    }
}

#endif
