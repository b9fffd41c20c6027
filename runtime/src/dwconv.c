/* Depthwise convolution (groups == input channels, `mult` outputs per input channel),
 * dilation 1, any kernel size, stride and padding.
 *
 * Why this shape: the direct reference (conv.c) adds one tap at a time into the whole
 * output row, a load-add-store of the output per multiply. Here each input plane is
 * first copied, zero-padded, into the scratch, split into stride phases:
 *
 *   pad[rp][q][i][t] = x[i*sh + rp - pt][t*sw + q - pl]   (0 outside the image)
 *
 * with i < hq = oh + (kh-1)/sh and t < wq = ow + (kw-1)/sw. Then output (oy, ox) reads tap
 * (r, s) at phase (r % sh, s % sw), row oy + r/sh, column ox + s/sw: for a fixed tap, a
 * unit-stride run over "flat" output positions p = oy*wq + ox. So the whole output plane
 * is one 1-D stencil over p, computed tile by tile by a micro-kernel that keeps a tile of
 * accumulators in registers across all taps (dwconv_ukernel.h). The wq - ow columns past
 * each row's end are computed and dropped when the rows are copied out, which costs less
 * than ragged row tails on the 8- and 16-wide planes of the late stages.
 *
 * For stride 1 on AVX2 and AVX-512, a row-blocked micro-kernel (dwconv_f32_rows__*)
 * computes the plane straight from the padded copy instead: blocks of output rows share
 * their input rows, so each input vector is loaded once for several rows (MCi0's 7x7
 * on 64x64 planes: 83 -> 169 GFLOP/s under AVX-512). */
#include <string.h>

#include "dwconv_ukernel.h"
#include "internal.h"
#include "mcr.h"

long mcr_dwconv2d_scratch_floats(long oh, long ow, long kh, long kw, long sh, long sw)
{
    const long hq = oh + (kh - 1) / sh, wq = ow + (kw - 1) / sw;
    return sh * sw * hq * wq + oh * wq + 2 * MCR_DWCONV_TILE_MAX;
}

/* Fill the phase-split padded copy of one h x wd input plane (layout above). */
static void pad_plane(const float *x, long h, long wd, float *pad, long hq, long wq,
                      long sh, long sw, long pt, long pl)
{
    for (long rp = 0; rp < sh; rp++) {
        for (long q = 0; q < sw; q++) {
            /* Columns t with 0 <= t*sw + q - pl < wd: t in [t0, t1). */
            long t0, t1;
            mcr_inside(q - pl, sw, wd, wq, &t0, &t1);
            for (long i = 0; i < hq; i++) {
                float *row = pad + ((rp * sw + q) * hq + i) * wq;
                const long iy = i * sh + rp - pt;
                /* Plain loops, not memcpy/memset: the rows are a few hundred bytes, where
                 * a library call costs more than the copy (measured on 64x64 planes). */
                if (iy < 0 || iy >= h) {
                    for (long t = 0; t < wq; t++) row[t] = 0.0f;
                    continue;
                }
                const long base = iy * wd + q - pl; /* index of column t = 0 (may be < 0) */
                for (long t = 0; t < t0; t++) row[t] = 0.0f;
                if (sw == 1) {
                    for (long t = t0; t < t1; t++) row[t] = x[base + t];
                } else if (sw == 2) { /* a constant stride, which the compiler vectorizes */
                    for (long t = t0; t < t1; t++) row[t] = x[base + 2 * t];
                } else {
                    for (long t = t0; t < t1; t++) row[t] = x[base + t * sw];
                }
                for (long t = t1; t < wq; t++) row[t] = 0.0f;
            }
        }
    }
}

void mcr_dwconv2d_f32(const float *x, const float *w, const float *bias, float *y,
                      float *scratch, long n, long c, long h, long wd, long mult,
                      long oh, long ow, long kh, long kw, long sh, long sw, long pt, long pl,
                      const struct mcr_epilogue *ep)
{
    const long hq = oh + (kh - 1) / sh, wq = ow + (kw - 1) / sw;
    const long plane = sh * sw * hq * wq, nflat = oh * wq, taps = kh * kw;
    const long k = c * mult;
    float *pad = scratch, *flat = scratch + plane + MCR_DWCONV_TILE_MAX;
    long off[MCR_DWCONV_MAX_TAPS];
    for (long r = 0; r < kh; r++) {
        for (long s = 0; s < kw; s++) {
            off[r * kw + s] = (((r % sh) * sw + s % sw) * hq + r / sh) * wq + s / sw;
        }
    }
    /* The last tile of the last phase reads up to a tile past the plane: zeros. */
    memset(pad + plane, 0, MCR_DWCONV_TILE_MAX * sizeof(float));
    for (long b = 0; b < n; b++) {
        for (long ic = 0; ic < c; ic++) {
            pad_plane(x + (b * c + ic) * h * wd, h, wd, pad, hq, wq, sh, sw, pt, pl);
            for (long m = 0; m < mult; m++) {
                const long oc = ic * mult + m;
                const float *wk = w + oc * taps;
                const float bv = bias ? bias[oc] : 0.0f;
                float *yp = y + (b * k + oc) * oh * ow;
#if defined(MCR_DWCONV_ROWS)
                if (sh == 1 && sw == 1) {
                    MCR_DWCONV_ROWS(pad, wq, wk, kh, kw, bv, yp, oh, ow);
                    mcr_epilogue_f32(ep, yp, (b * k + oc) * oh * ow, oh * ow);
                    continue;
                }
#endif
                for (long p = 0; p < nflat; p += MCR_DWCONV_TILE) {
                    MCR_DWCONV_UKERNEL(pad + p, off, wk, taps, bv, flat + p);
                }
                for (long oy = 0; oy < oh; oy++) {
                    const float *src = flat + oy * wq;
                    float *dst = yp + oy * ow;
                    for (long ox = 0; ox < ow; ox++) dst[ox] = src[ox];
                }
                mcr_epilogue_f32(ep, yp, (b * k + oc) * oh * ow, oh * ow);
            }
        }
    }
}
