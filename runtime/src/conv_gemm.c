/* Dense and grouped convolution as GEMMs over bands of output rows: for each group and
 * each band of R output rows, the band's im2col panel [cg*kh*kw][R*ow] is built in the
 * scratch and multiplied by the group's weights [kg][cg*kh*kw] with the register-blocked
 * GEMM (gemm.c), which writes the band's rows of every output channel in place (their
 * R*ow pixels are contiguous in NCHW) with the bias and the epilogue fused.
 *
 * Why bands and not a full im2col: the panel stays small (MCi's 3x3 stem: 27 x 512
 * floats, 55 KB), so the arena does not grow by an image-sized buffer, while each GEMM
 * still sees hundreds of columns -- enough for full register blocks. */
#include "gemm.h"

/* Output pixels per band: a few hundred columns keep the GEMM in full blocks. */
#define BAND_PIXELS 512

static long band_rows(long oh, long ow)
{
    const long r = BAND_PIXELS / ow;
    return r < 1 ? 1 : (r > oh ? oh : r);
}

long mcr_conv2d_gemm_scratch_floats(long c, long oh, long ow, long kh, long kw, long groups)
{
    return (c / groups) * kh * kw * band_rows(oh, ow) * ow;
}

/* floor(a / b) for b > 0, also for negative a. */
static long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static long clamp(long v, long lo, long hi) { return v < lo ? lo : (v > hi ? hi : v); }

void mcr_conv2d_gemm_f32(const float *x, const float *w, const float *bias, float *y,
                         float *scratch, long n, long c, long h, long wd, long k, long oh,
                         long ow, long kh, long kw, long sh, long sw, long pt, long pl,
                         long dh, long dw, long groups, const struct mcr_epilogue *ep)
{
    const long cg = c / groups, kg = k / groups, ckk = cg * kh * kw;
    const long rows = band_rows(oh, ow);
    for (long b = 0; b < n; b++) {
        for (long g = 0; g < groups; g++) {
            for (long oy0 = 0; oy0 < oh; oy0 += rows) {
                const long nr = oh - oy0 < rows ? oh - oy0 : rows, np = nr * ow;
                for (long ic = 0; ic < cg; ic++) {
                    const float *xp = x + (b * c + g * cg + ic) * h * wd;
                    for (long r = 0; r < kh; r++) {
                        for (long s = 0; s < kw; s++) {
                            float *panel = scratch + ((ic * kh + r) * kw + s) * np;
                            /* Columns whose input lies inside the image. */
                            const long off = s * dw - pl;
                            const long x0 = clamp(floor_div(-off + sw - 1, sw), 0, ow);
                            const long x1 = clamp(floor_div(wd - 1 - off, sw) + 1, x0, ow);
                            for (long i = 0; i < nr; i++) {
                                float *dst = panel + i * ow;
                                const long iy = (oy0 + i) * sh + r * dh - pt;
                                if (iy < 0 || iy >= h) {
                                    for (long ox = 0; ox < ow; ox++) dst[ox] = 0.0f;
                                    continue;
                                }
                                /* Indexes, not a pointer: row + off may point before
                                 * the plane, which C leaves undefined. */
                                const long base = iy * wd + off;
                                for (long ox = 0; ox < x0; ox++) dst[ox] = 0.0f;
                                for (long ox = x0; ox < x1; ox++) dst[ox] = xp[base + ox * sw];
                                for (long ox = x1; ox < ow; ox++) dst[ox] = 0.0f;
                            }
                        }
                    }
                }
                const long y0 = ((b * k + g * kg) * oh + oy0) * ow;
                mcr_gemm_f32(w + g * kg * ckk, ckk, scratch, np, y + y0, oh * ow, kg, ckk, np,
                             bias ? bias + g * kg : 0, 0, ep, y0);
            }
        }
    }
}
