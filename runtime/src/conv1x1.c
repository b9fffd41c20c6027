/* 1x1, stride-1, unpadded, dense (groups 1) convolution over NCHW: per image a GEMM,
 * y[k][p] = sum_c w[k][c] * x[c][p] + bias[k], then the epilogue.
 *
 * Blocked 4 output channels x 16 pixels: the 64 sums live in a local array the compiler
 * keeps in vector registers, so each loaded pixel row feeds 4 multiply-adds instead of a
 * load-add-store of the output per tap (what mcr_conv2d_f32 does). Pixel blocks are the
 * outer loop so that a block's c x 16 inputs stay in L1 across all output channels.
 * Each output is summed over c in order from its bias, as in mcr_conv2d_f32. */
#include "mcr.h"

#define KB 4
#define PB 16

void mcr_conv1x1_f32(const float *x, const float *w, const float *bias, float *y,
                     long n, long c, long k, long hw, const struct mcr_epilogue *ep)
{
    for (long b = 0; b < n; b++) {
        const float *xb = x + b * c * hw;
        float *yb = y + b * k * hw;
        for (long p0 = 0; p0 < hw; p0 += PB) {
            const long pn = hw - p0 < PB ? hw - p0 : PB;
            for (long k0 = 0; k0 < k; k0 += KB) {
                const long kn = k - k0 < KB ? k - k0 : KB;
                float acc[KB][PB];
                for (long r = 0; r < KB; r++) {
                    const float init = (bias && r < kn) ? bias[k0 + r] : 0.0f;
                    for (long j = 0; j < PB; j++) acc[r][j] = init;
                }
                if (kn == KB && pn == PB) {
                    for (long ci = 0; ci < c; ci++) {
                        const float *xr = xb + ci * hw + p0;
                        const float w0 = w[(k0 + 0) * c + ci], w1 = w[(k0 + 1) * c + ci];
                        const float w2 = w[(k0 + 2) * c + ci], w3 = w[(k0 + 3) * c + ci];
                        for (long j = 0; j < PB; j++) {
                            const float xv = xr[j];
                            acc[0][j] += w0 * xv;
                            acc[1][j] += w1 * xv;
                            acc[2][j] += w2 * xv;
                            acc[3][j] += w3 * xv;
                        }
                    }
                } else { /* edge blocks */
                    for (long ci = 0; ci < c; ci++) {
                        const float *xr = xb + ci * hw + p0;
                        for (long r = 0; r < kn; r++) {
                            const float wv = w[(k0 + r) * c + ci];
                            for (long j = 0; j < pn; j++) acc[r][j] += wv * xr[j];
                        }
                    }
                }
                for (long r = 0; r < kn; r++) {
                    float *yr = yb + (k0 + r) * hw + p0;
                    for (long j = 0; j < pn; j++) yr[j] = acc[r][j];
                    mcr_epilogue_f32(ep, yr, (b * k + k0 + r) * hw + p0, pn);
                }
            }
        }
    }
}
