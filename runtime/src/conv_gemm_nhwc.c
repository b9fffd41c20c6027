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

void mcr_conv2d_gemm_nhwc_f32(const float *x, int x_nhwc, const float *wpacked,
                              const float *bias, float *y, float *scratch, long n, long c,
                              long h, long wd, long k, long oh, long ow, long kh, long kw,
                              long sh, long sw, long pt, long pl, long dh, long dw,
                              const struct mcr_epilogue *ep)
{
    const long ckk = kh * kw * c, np_all = oh * ow;
    /* Element strides of x's channel, row and column. */
    const long cs = x_nhwc ? 1 : h * wd, hs = x_nhwc ? wd * c : wd, ws = x_nhwc ? c : 1;
    for (long b = 0; b < n; b++) {
        const float *xb = x + b * c * h * wd;
        for (long p0 = 0; p0 < np_all; p0 += BAND) {
            const long np = np_all - p0 < BAND ? np_all - p0 : BAND;
            for (long i = 0; i < np; i++) {
                const long oy = (p0 + i) / ow, ox = (p0 + i) % ow;
                float *row = scratch + i * ckk;
                for (long r = 0; r < kh; r++) {
                    const long iy = oy * sh + r * dh - pt;
                    for (long s = 0; s < kw; s++) {
                        const long ix = ox * sw + s * dw - pl;
                        float *dst = row + (r * kw + s) * c;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                            memset(dst, 0, (size_t)c * sizeof(float));
                        } else if (x_nhwc) {
                            memcpy(dst, xb + iy * hs + ix * ws, (size_t)c * sizeof(float));
                        } else {
                            const float *src = xb + iy * hs + ix * ws;
                            for (long ic = 0; ic < c; ic++) dst[ic] = src[ic * cs];
                        }
                    }
                }
            }
            const long y0 = (b * np_all + p0) * k;
            mcr_gemm_panels_f32(scratch, ckk, wpacked, 0, y + y0, k, np, ckk, k, 0, bias, ep,
                                y0, MCR_GEMM_B_PANELS);
        }
    }
}
