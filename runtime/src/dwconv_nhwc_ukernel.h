/* Channels-last depthwise micro-kernels (internal to the runtime), one file per variant,
 * named dwconv_nhwc_f32_<pixels>x<channels>__<isa>, each computing one output row of a
 * group of kc channels:
 *
 *   y[ox*ld + ch] = bias[ch] + sum over r < kh, s < kw of
 *                   w[(r*kw + s)*ld + ch] * rows[r][(ox*sw + s)*kc + ch],
 *
 * for ox < ow, ch < kc, summed in tap order from zero, the bias added last (a sum
 * started from a BatchNorm-folded bias much larger than the result rounds every tap at
 * the bias's scale: MCi4's 7x7 ConvMlp convs were 4-5x onnxruntime's error against
 * float64); bias may be NULL (0). rows[r] is input row r
 * of the window for the group's channels only (kc per pixel), zero-padded and with its
 * channels already repeated `mult` times (dwconv_nhwc.c), so that every tap of every
 * output channel is a unit-stride read; y and w have all ld channels per pixel / tap.
 * Vectorized across channels: a tile is <pixels> output pixels x <channels> channels, each
 * weight vector loaded once per tap for all pixels of the tile. Every variant is tested
 * against the scalar one and against mcr_conv2d_f32 (tests/runtime/test_kernels.c). */
#ifndef MCR_DWCONV_NHWC_UKERNEL_H
#define MCR_DWCONV_NHWC_UKERNEL_H

#define MCR_DWCONV_NHWC_ARGS                                                           \
    const float *const *rows, long kh, long kw, long sw, const float *w, const float *bias, \
        float *y, long ow, long kc, long ld

typedef void (*mcr_dwconv_nhwc_ukernel)(MCR_DWCONV_NHWC_ARGS);

/* The variants (config.h says which ISA has which, and which one the target uses). */
void mcr_dwconv_nhwc_f32_4x8__scalar(MCR_DWCONV_NHWC_ARGS);
void mcr_dwconv_nhwc_f32_8x8__fma3(MCR_DWCONV_NHWC_ARGS);
void mcr_dwconv_nhwc_f32_16x16__avx512f(MCR_DWCONV_NHWC_ARGS);
void mcr_dwconv_nhwc_f32_8x4__neon(MCR_DWCONV_NHWC_ARGS);

#include "config.h"

#endif
