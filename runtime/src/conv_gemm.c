/* Dense and grouped convolution as GEMMs over bands of output rows: for each group and
 * each band of R output rows, the band's im2col matrix [cg*kh*kw][R*ow] is built in the
 * scratch, already in the GEMM's panels (mcr.h, MCR_PANEL) so that it is not copied a
 * second time, and multiplied by the group's weights [kg][cg*kh*kw] with the
 * register-blocked GEMM (gemm.c), which writes the band's rows of every output channel
 * in place (their R*ow pixels are contiguous in NCHW) with the bias and the epilogue
 * fused. Each im2col row is first gathered into a contiguous row buffer (a loop the
 * compiler vectorizes for strides 1 and 2), then copied into its panels.
 *
 * Why bands and not a full im2col: the panel stays small (MCi's 3x3 stem: 27 x 512
 * floats, 55 KB), so the arena does not grow by an image-sized buffer, while each GEMM
 * still sees hundreds of columns -- enough for full register blocks. */
#include "gemm.h"
#include "internal.h"

/* Output pixels per band: a few hundred columns keep the GEMM in full blocks. */
#define BAND_PIXELS 512

static long band_rows(long oh, long ow)
{
    const long r = BAND_PIXELS / ow;
    return r < 1 ? 1 : (r > oh ? oh : r);
}

static long round_up(long v, long m) { return (v + m - 1) / m * m; }

long mcr_conv2d_gemm_scratch_floats(long c, long oh, long ow, long kh, long kw, long groups)
{
    return (c / groups) * kh * kw * round_up(band_rows(oh, ow) * ow, MCR_PANEL) + ow;
}

/* rowbuf[ox] = x[base + ox * sw] for ox in [x0, x1) when the input row is inside the
 * image (inside), else 0. Indexes, not a pointer: x + base may lie before the plane,
 * which C leaves undefined. */
static void gather_row(float *rowbuf, const float *x, int inside, long base, long x0, long x1,
                       long ow, long sw)
{
    if (!inside) x0 = x1 = ow;
    for (long ox = 0; ox < x0; ox++) rowbuf[ox] = 0.0f;
    if (sw == 1) {
        for (long ox = x0; ox < x1; ox++) rowbuf[ox] = x[base + ox];
    } else if (sw == 2) { /* a constant stride: the compiler vectorizes it */
        for (long ox = x0; ox < x1; ox++) rowbuf[ox] = x[base + 2 * ox];
    } else {
        for (long ox = x0; ox < x1; ox++) rowbuf[ox] = x[base + ox * sw];
    }
    for (long ox = x1; ox < ow; ox++) rowbuf[ox] = 0.0f;
}

void mcr_conv2d_gemm_f32(const float *x, const float *w, const float *bias, float *y,
                         float *scratch, long n, long c, long h, long wd, long k, long oh,
                         long ow, long kh, long kw, long sh, long sw, long pt, long pl,
                         long dh, long dw, long groups, const struct mcr_epilogue *ep)
{
    const long cg = c / groups, kg = k / groups, ckk = cg * kh * kw;
    const long rows = band_rows(oh, ow), pw = MCR_PANEL; /* panel width */
    float *rowbuf = scratch + ckk * round_up(rows * ow, pw);
    for (long b = 0; b < n; b++) {
        for (long g = 0; g < groups; g++) {
            for (long oy0 = 0; oy0 < oh; oy0 += rows) {
                const long nr = oh - oy0 < rows ? oh - oy0 : rows, np = nr * ow;
                for (long ic = 0; ic < cg; ic++) {
                    const float *xp = x + (b * c + g * cg + ic) * h * wd;
                    for (long r = 0; r < kh; r++) {
                        for (long s = 0; s < kw; s++) {
                            const long q = (ic * kh + r) * kw + s; /* the im2col row */
                            /* Columns whose input lies inside the image. */
                            const long off = s * dw - pl;
                            long x0, x1;
                            mcr_inside(off, sw, wd, ow, &x0, &x1);
                            for (long i = 0; i < nr; i++) {
                                const long iy = (oy0 + i) * sh + r * dh - pt;
                                gather_row(rowbuf, xp, iy >= 0 && iy < h, iy * wd + off, x0,
                                           x1, ow, sw);
                                /* Into the panels, a run of pixels per panel. */
                                for (long ox = 0; ox < ow;) {
                                    const long j = i * ow + ox, lane = j % pw;
                                    const long len = pw - lane < ow - ox ? pw - lane : ow - ox;
                                    float *dst = scratch + (j / pw) * ckk * pw + q * pw + lane;
                                    for (long t = 0; t < len; t++) dst[t] = rowbuf[ox + t];
                                    ox += len;
                                }
                            }
                            for (long j = np; j < round_up(np, pw); j++) { /* last panel's pad */
                                scratch[(j / pw) * ckk * pw + q * pw + j % pw] = 0.0f;
                            }
                        }
                    }
                }
                const long y0 = ((b * k + g * kg) * oh + oy0) * ow;
                mcr_gemm_panels_f32(w + g * kg * ckk, ckk, scratch, 0, y + y0, oh * ow, kg,
                                    ckk, np, bias ? bias + g * kg : 0, 0, ep, y0,
                                    MCR_GEMM_B_PANELS);
            }
        }
    }
}
