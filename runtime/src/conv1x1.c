/* 1x1, stride-1, unpadded, dense (groups 1) convolution over NCHW: per image the GEMM
 * y[k][p] = w[k][c] . x[c][p] + bias[k] over pixels p (gemm.c), then the epilogue.
 * Tested against mcr_conv2d_f32. */
#include "gemm.h"

void mcr_conv1x1_f32(const float *x, const float *w, const float *bias, float *y,
                     long n, long c, long k, long hw, const struct mcr_epilogue *ep)
{
    for (long b = 0; b < n; b++) {
        mcr_gemm_f32(w, c, x + b * c * hw, hw, y + b * k * hw, hw, k, c, hw, bias, 0, ep,
                     b * k * hw);
    }
}
