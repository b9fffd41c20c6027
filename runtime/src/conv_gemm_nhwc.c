/* Dense convolution (groups 1) writing channels-last (NHWC) output, as GEMMs over bands of
 * output pixels: for each band of up to BAND pixels, the band's im2col rows
 * [pixels][kh*kw*c] (tap-major, channels innermost) are gathered into the scratch and
 * multiplied by the weights [kh*kw*c][k], packed into the GEMM's panels at compile time;
 * the GEMM writes the band's pixels, each k contiguous channels, with the bias and the
 * epilogue fused. x may be NCHW (the graph's input image, read by the stem) or NHWC.
 *
 * Why bands: 128 rows keep the GEMM in full register tiles while the im2col
 * stays small (MCi's 3x3 stem: 27 floats per pixel; ViT-B/16's 16x16 patches: 768). */
#include <string.h>

#include "gemm.h"
#include "internal.h"

/* Output pixels per band. */
#define BAND 128

long mcr_conv2d_gemm_nhwc_scratch_floats(long c, long kh, long kw)
{
    return BAND * kh * kw * c;
}

/* First output column whose input column ox * sw + off is >= lim. */
static long first_col(long off, long lim, long sw)
{
    return off >= lim ? 0 : (lim - off + sw - 1) / sw;
}

/* The im2col rows (ckk apart, tap-major, channels innermost) of output pixels ox0..ox1-1
 * of output row oy. Per tap, the output columns that read inside the image are one range,
 * found once; the copy then runs along the row -- for an NCHW input with few channels (the
 * stem: 3) a loop per channel over the row, not one of 3 elements per pixel and tap
 * (measured on MCi's stem alone: 0.71 -> 0.60 ms under AVX2, 0.52 -> 0.41 under AVX-512). */
static void gather_row(const float *xb, int x_nhwc, float *rows, long ckk, long c, long h,
                       long wd, long oy, long ox0, long ox1, long kh, long kw, long sh,
                       long sw, long pt, long pl, long dh, long dw)
{
    for (long r = 0; r < kh; r++) {
        const long iy = oy * sh + r * dh - pt;
        for (long s = 0; s < kw; s++) {
            const long off = s * dw - pl; /* input column of output column ox: ox * sw + off */
            long lo = first_col(off, 0, sw), hi = first_col(off, wd, sw);
            if (iy < 0 || iy >= h) lo = hi = ox1;
            lo = lo < ox0 ? ox0 : (lo > ox1 ? ox1 : lo);
            hi = hi < lo ? lo : (hi > ox1 ? ox1 : hi);
            /* column ox's im2col row is at dst + (ox - ox0) * ckk; it reads input column
             * ox * sw + off */
            float *dst = rows + (r * kw + s) * c;
            for (long ox = ox0; ox < lo; ox++) {
                memset(dst + (ox - ox0) * ckk, 0, (size_t)c * sizeof(float));
            }
            for (long ox = hi; ox < ox1; ox++) {
                memset(dst + (ox - ox0) * ckk, 0, (size_t)c * sizeof(float));
            }
            if (lo == hi) continue; /* no pointer into x: iy may be outside it */
            if (x_nhwc) {
                for (long ox = lo; ox < hi; ox++) {
                    memcpy(dst + (ox - ox0) * ckk, xb + (iy * wd + ox * sw + off) * c,
                           (size_t)c * sizeof(float));
                }
            } else {
                for (long ic = 0; ic < c; ic++) {
                    const float *src = xb + (ic * h + iy) * wd;
                    for (long ox = lo; ox < hi; ox++) {
                        dst[(ox - ox0) * ckk + ic] = src[ox * sw + off];
                    }
                }
            }
        }
    }
}

void mcr_conv2d_gemm_nhwc_f32(const float *x, int x_nhwc, const float *wpacked,
                              const float *bias, float *y, float *scratch, long n, long c,
                              long h, long wd, long k, long oh, long ow, long kh, long kw,
                              long sh, long sw, long pt, long pl, long dh, long dw,
                              const struct mcr_epilogue *ep)
{
    const long ckk = kh * kw * c, np_all = oh * ow;
    for (long b = 0; b < n; b++) {
        const float *xb = x + b * c * h * wd;
        for (long p0 = 0; p0 < np_all; p0 += BAND) {
            const long np = np_all - p0 < BAND ? np_all - p0 : BAND;
            /* the band's pixels, one output row's run at a time */
            for (long p = p0; p < p0 + np;) {
                const long oy = p / ow, ox0 = p % ow;
                const long ox1 = ox0 + (p0 + np - p) < ow ? ox0 + (p0 + np - p) : ow;
                gather_row(xb, x_nhwc, scratch + (p - p0) * ckk, ckk, c, h, wd, oy, ox0, ox1,
                           kh, kw, sh, sw, pt, pl, dh, dw);
                p += ox1 - ox0;
            }
            const long y0 = (b * np_all + p0) * k;
            mcr_gemm_panels_f32(scratch, ckk, wpacked, 0, y + y0, k, np, ckk, k, 0, bias, ep,
                                y0, MCR_GEMM_B_PANELS);
        }
    }
}
