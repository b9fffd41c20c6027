/* Depthwise convolution over channels-last (NHWC) tensors, vectorized across channels:
 * x is [n][h][wd][c], y [n][oh][ow][c*mult], w [kh][kw][c*mult] (packed so at compile
 * time); dilation 1, any kernel size, stride and padding.
 *
 * The output is computed in groups of GROUP channels, each over the whole image. Each
 * output row needs kh input rows: for the group's channels, those are kept in a ring of kh
 * zero-padded rows in the scratch, each input row copied in once: row slot (iy mod kh),
 * columns t = ix + pl for t < wp = (ow-1)*sw + kw, the channels repeated `mult` times
 * (output channel oc reads input channel oc / mult), so that the micro-kernel
 * (dwconv_nhwc_ukernel.h) reads every tap as one unit-stride vector of channels and needs
 * no border tests. Rows above and below the image point at one zero row.
 *
 * Why channels-last here: the late stages' planes are 16x16 and 8x8 -- a row is one
 * vector or half of one, so vectorizing along pixels (dwconv.c) leaves most lanes idle,
 * while their 256..1024 channels fill every vector. */
#include <string.h>

#include "dwconv_nhwc_ukernel.h"
#include "internal.h"
#include "mcr.h"

/* Channels per pass over the image. One group's ring of kh rows (kh x wp x GROUP floats:
 * 31 KB for 7x7 on a 64-wide plane) stays in L1 from one output row to the next, where
 * the ring of all channels did not (125 KB for 64 channels). But each group reads the
 * whole input again: above BIG_INPUT floats (2 MB, twice L2 here) one group takes all
 * channels (MCi's stem depthwise, 4 MB in). Measured alone, AVX-512: 7x7 on 64x64x64
 * 129 -> 170 GFLOP/s, 7x7/2 x2 on 32x32x128 57 -> 65, 3x3 on 8x8x1024 29 -> 41; AVX2:
 * 7x7/2 x2 on 16x16x256 19 -> 32, 3x3 on 8x8x1024 18 -> 41. */
#define GROUP 16
#define BIG_INPUT (1L << 19)

static long group(long k, long h, long wd, long c)
{
    return k <= GROUP || h * wd * c > BIG_INPUT ? k : GROUP;
}

long mcr_dwconv2d_nhwc_scratch_floats(long k, long h, long wd, long c, long ow, long kh,
                                      long kw, long sw)
{
    return (kh + 1) * ((ow - 1) * sw + kw) * group(k, h, wd, c);
}

/* Padded copy of output channels [g0, g0 + kc) of input row xrow ([wd][c]) into dst
 * ([wp][kc]); output channel oc reads input channel oc / mult. */
static void fill_row(float *dst, const float *xrow, long wd, long c, long mult, long wp,
                     long pl, long g0, long kc)
{
    long t0, t1; /* columns t with 0 <= t - pl < wd */
    mcr_inside(-pl, 1, wd, wp, &t0, &t1);
    memset(dst, 0, (size_t)(t0 * kc) * sizeof(float));
    const float *xp = xrow + (t0 - pl) * c;
    float *dp = dst + t0 * kc;
    /* Loops the compiler vectorizes, with a constant trip count for a full group (a
     * memcpy call, or a loop of unknown length, per pixel costs more than the copy). */
    if (mult == 1 && kc == c) {
        memcpy(dp, xp, (size_t)((t1 - t0) * c) * sizeof(float));
    } else if (mult == 1 && kc == GROUP) {
        for (long t = t0; t < t1; t++, xp += c, dp += GROUP)
            for (long j = 0; j < GROUP; j++) dp[j] = xp[g0 + j];
    } else if (mult == 2 && kc == GROUP) { /* MCi's downsampling convs */
        for (long t = t0; t < t1; t++, xp += c, dp += GROUP)
            for (long j = 0; j < GROUP; j++) dp[j] = xp[(g0 + j) >> 1];
    } else if (mult == 2) {
        for (long t = t0; t < t1; t++, xp += c, dp += kc)
            for (long j = 0; j < kc; j++) dp[j] = xp[(g0 + j) >> 1];
    } else {
        for (long t = t0; t < t1; t++, xp += c, dp += kc)
            for (long j = 0; j < kc; j++) dp[j] = xp[(g0 + j) / mult];
    }
    memset(dst + t1 * kc, 0, (size_t)((wp - t1) * kc) * sizeof(float));
}

void mcr_dwconv2d_nhwc_f32(const float *x, const float *w, const float *bias, float *y,
                           float *scratch, long n, long c, long h, long wd, long mult,
                           long oh, long ow, long kh, long kw, long sh, long sw, long pt,
                           long pl, const struct mcr_epilogue *ep)
{
    const long k = c * mult, wp = (ow - 1) * sw + kw, gmax = group(k, h, wd, c);
    float *zero = scratch + kh * wp * gmax;
    const float *rows[MCR_DWCONV_MAX_TAPS]; /* kh <= kh * kw <= MCR_DWCONV_MAX_TAPS */
    long held[MCR_DWCONV_MAX_TAPS];         /* the input row in each ring slot, or -1 */
    memset(zero, 0, (size_t)(wp * gmax) * sizeof(float));
    for (long b = 0; b < n; b++) {
        const float *xb = x + b * h * wd * c;
        float *yb = y + b * oh * ow * k;
        for (long g0 = 0; g0 < k; g0 += gmax) {
            const long kc = k - g0 < gmax ? k - g0 : gmax;
            for (long s = 0; s < kh; s++) held[s] = -1;
            for (long oy = 0; oy < oh; oy++) {
                /* The window's kh input rows are consecutive, so their slots differ. */
                for (long r = 0; r < kh; r++) {
                    const long iy = oy * sh + r - pt;
                    if (iy < 0 || iy >= h) {
                        rows[r] = zero;
                        continue;
                    }
                    const long slot = iy % kh;
                    float *dst = scratch + slot * wp * kc;
                    if (held[slot] != iy) {
                        fill_row(dst, xb + iy * wd * c, wd, c, mult, wp, pl, g0, kc);
                        held[slot] = iy;
                    }
                    rows[r] = dst;
                }
                float *yrow = yb + oy * ow * k;
                MCR_DWCONV_NHWC_UKERNEL(rows, kh, kw, sw, w + g0, bias ? bias + g0 : NULL,
                                        yrow + g0, ow, kc, k);
                /* One group: the epilogue while the row is in L1. */
                if (gmax == k) mcr_epilogue_f32(ep, yrow, (b * oh + oy) * ow * k, ow * k);
            }
        }
        /* Several groups: the output rows are complete only now. */
        if (gmax < k) mcr_epilogue_f32(ep, yb, b * oh * ow * k, oh * ow * k);
    }
}
