/* Depthwise micro-kernel, portable: 32 outputs per tile (dwconv_ukernel.h). The
 * accumulators are a local array so that the compiler may keep them in registers. */
#include "dwconv_ukernel.h"

void mcr_dwconv_f32_32x__scalar(const float *src, const long *off, const float *w,
                                long taps, float bias, float *out)
{
    float acc[32];
    for (int j = 0; j < 32; j++) acc[j] = 0.0f; /* bias added last: dwconv_ukernel.h */
    for (long t = 0; t < taps; t++) {
        const float *s = src + off[t];
        const float wv = w[t];
        for (int j = 0; j < 32; j++) acc[j] += wv * s[j];
    }
    for (int j = 0; j < 32; j++) out[j] = acc[j] + bias;
}
