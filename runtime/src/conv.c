/* Direct 2-D convolution over NCHW: the portable reference for every conv variant. */
#include "internal.h"
#include "mcr.h"

void mcr_conv2d_f32(const float *x, const float *w, const float *bias, float *y,
                    long n, long c, long h, long wd, long k, long oh, long ow,
                    long kh, long kw, long sh, long sw, long pt, long pl, long dh, long dw,
                    long groups, const struct mcr_epilogue *ep)
{
    const long cg = c / groups, kg = k / groups;
    for (long b = 0; b < n; b++) {
        for (long oc = 0; oc < k; oc++) {
            const long g = oc / kg;
            float *yp = y + (b * k + oc) * oh * ow;
            const float init = bias ? bias[oc] : 0.0f;
            for (long i = 0; i < oh * ow; i++) yp[i] = init;
            for (long ic = 0; ic < cg; ic++) {
                const float *xp = x + (b * c + g * cg + ic) * h * wd;
                const float *wp = w + (oc * cg + ic) * kh * kw;
                for (long r = 0; r < kh; r++) {
                    for (long s = 0; s < kw; s++) {
                        const float wv = wp[r * kw + s];
                        /* Output columns whose input column lies inside the image:
                         * 0 <= ox*sw + s*dw - pl < wd. Computed once so the inner loop
                         * has no branch. */
                        const long off = s * dw - pl;
                        long x0, x1;
                        mcr_inside(off, sw, wd, ow, &x0, &x1);
                        for (long oy = 0; oy < oh; oy++) {
                            const long iy = oy * sh + r * dh - pt;
                            if (iy < 0 || iy >= h) continue;
                            /* An index, not a pointer: the row start shifted by off may
                             * lie before the plane, which C leaves undefined. */
                            const long base = iy * wd + off;
                            float *out = yp + oy * ow;
                            for (long ox = x0; ox < x1; ox++) out[ox] += wv * xp[base + ox * sw];
                        }
                    }
                }
            }
            mcr_epilogue_f32(ep, yp, (b * k + oc) * oh * ow, oh * ow);
        }
    }
}
