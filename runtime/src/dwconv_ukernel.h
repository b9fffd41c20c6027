/* Depthwise-convolution micro-kernels (internal to the runtime), XNNPACK-style: one file
 * per variant, named dwconv_f32_<tile>__<isa>, each computing one tile of outputs:
 *
 *   out[j] = bias + sum over t < taps of w[t] * src[off[t] + j],   j < tile,
 *
 * summed in tap order from zero, the bias added last (dwconv_nhwc_ukernel.h says why).
 * dwconv.c lays a padded input plane out so that every tap of every
 * output in a tile is such a unit-stride read. Every variant is tested against the
 * scalar one and against mcr_conv2d_f32 (tests/runtime/test_kernels.c). */
#ifndef MCR_DWCONV_UKERNEL_H
#define MCR_DWCONV_UKERNEL_H

#define MCR_DWCONV_ARGS \
    const float *src, const long *off, const float *w, long taps, float bias, float *out
typedef void (*mcr_dwconv_ukernel)(MCR_DWCONV_ARGS);

/* The variants (config.h says which ISA has which, and which one the target uses); the
 * SIMD ones are one template (dwconv_f32__template.h). */
void mcr_dwconv_f32_32x__scalar(MCR_DWCONV_ARGS);
void mcr_dwconv_f32_64x__fma3(MCR_DWCONV_ARGS);
void mcr_dwconv_f32_128x__avx512f(MCR_DWCONV_ARGS);
void mcr_dwconv_f32_32x__neon(MCR_DWCONV_ARGS);

/* Stride 1 only: a whole output plane of one channel (y, rows ow apart) from its padded
 * copy (rows wq apart), in blocks of output rows that share their input rows. */
#define MCR_DWCONV_ROWS_ARGS                                                       \
    const float *pad, long wq, const float *w, long kh, long kw, float bias, float *y, \
        long oh, long ow
typedef void (*mcr_dwconv_rows_ukernel)(MCR_DWCONV_ROWS_ARGS);
void mcr_dwconv_f32_rows__fma3(MCR_DWCONV_ROWS_ARGS);
void mcr_dwconv_f32_rows__avx512f(MCR_DWCONV_ROWS_ARGS);
void mcr_dwconv_f32_rows__neon(MCR_DWCONV_ROWS_ARGS);

#include "config.h"

#endif
