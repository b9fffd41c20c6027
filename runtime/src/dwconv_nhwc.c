/* Depthwise convolution over channels-last (NHWC) tensors, vectorized across channels:
 * x is [n][h][wd][c], y [n][oh][ow][c*mult], w [kh][kw][c*mult] (packed so at compile
 * time); dilation 1, any kernel size, stride and padding.
 *
 * Each output row needs kh input rows. Those are kept in a ring of kh zero-padded rows in
 * the scratch, each input row copied in once: row slot (iy mod kh), columns
 * t = ix + pl for t < wp = (ow-1)*sw + kw, its channels repeated `mult` times (output
 * channel oc reads input channel oc / mult), so that the micro-kernel
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

long mcr_dwconv2d_nhwc_scratch_floats(long k, long ow, long kh, long kw, long sw)
{
    return (kh + 1) * ((ow - 1) * sw + kw) * k;
}

/* Padded copy of input row xrow ([wd][c]) into dst ([wp][c*mult]). */
static void fill_row(float *dst, const float *xrow, long wd, long c, long mult, long wp,
                     long pl)
{
    const long k = c * mult;
    long t0, t1; /* columns t with 0 <= t - pl < wd */
    mcr_inside(-pl, 1, wd, wp, &t0, &t1);
    memset(dst, 0, (size_t)(t0 * k) * sizeof(float));
    if (mult == 1) {
        memcpy(dst + t0 * k, xrow + (t0 - pl) * c, (size_t)((t1 - t0) * c) * sizeof(float));
    } else if (mult == 2) { /* MCi's downsampling convs; a loop the compiler vectorizes */
        const float *xp = xrow + (t0 - pl) * c;
        float *dp = dst + t0 * k;
        for (long i = 0; i < (t1 - t0) * c; i++) dp[2 * i] = dp[2 * i + 1] = xp[i];
    } else {
        for (long t = t0; t < t1; t++) {
            const float *xp = xrow + (t - pl) * c;
            float *dp = dst + t * k;
            for (long ic = 0; ic < c; ic++) {
                for (long m = 0; m < mult; m++) dp[ic * mult + m] = xp[ic];
            }
        }
    }
    memset(dst + t1 * k, 0, (size_t)((wp - t1) * k) * sizeof(float));
}

void mcr_dwconv2d_nhwc_f32(const float *x, const float *w, const float *bias, float *y,
                           float *scratch, long n, long c, long h, long wd, long mult,
                           long oh, long ow, long kh, long kw, long sh, long sw, long pt,
                           long pl, const struct mcr_epilogue *ep)
{
    const long k = c * mult, wp = (ow - 1) * sw + kw, rowlen = wp * k;
    float *zero = scratch + kh * rowlen;
    const float *rows[MCR_DWCONV_MAX_TAPS]; /* kh <= kh * kw <= MCR_DWCONV_MAX_TAPS */
    long held[MCR_DWCONV_MAX_TAPS];         /* the input row in each ring slot, or -1 */
    memset(zero, 0, (size_t)rowlen * sizeof(float));
    for (long b = 0; b < n; b++) {
        const float *xb = x + b * h * wd * c;
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
                float *dst = scratch + slot * rowlen;
                if (held[slot] != iy) {
                    fill_row(dst, xb + iy * wd * c, wd, c, mult, wp, pl);
                    held[slot] = iy;
                }
                rows[r] = dst;
            }
            float *yrow = y + (b * oh + oy) * ow * k;
            MCR_DWCONV_NHWC_UKERNEL(rows, kh, kw, sw, w, bias, yrow, ow, k);
            mcr_epilogue_f32(ep, yrow, (b * oh + oy) * ow * k, ow * k);
        }
    }
}
