/* Channels-last depthwise micro-kernel, portable C (dwconv_nhwc_ukernel.h): one pixel at a
 * time, the output row accumulating in place; the channel loops are unit-stride, which
 * compilers vectorize where the target has vectors. */
#include "dwconv_nhwc_ukernel.h"

void mcr_dwconv_nhwc_f32_1x1__scalar(MCR_DWCONV_NHWC_ARGS)
{
    for (long ox = 0; ox < ow; ox++) {
        float *yo = y + ox * k;
        for (long ch = 0; ch < k; ch++) yo[ch] = bias ? bias[ch] : 0.0f;
        for (long r = 0; r < kh; r++) {
            for (long s = 0; s < kw; s++) {
                const float *xi = rows[r] + (ox * sw + s) * k, *wt = w + (r * kw + s) * k;
                for (long ch = 0; ch < k; ch++) yo[ch] += wt[ch] * xi[ch];
            }
        }
    }
}
