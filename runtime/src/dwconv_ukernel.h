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

/* The widest tile of any variant; dwconv.c's scratch slack is sized by it. */
#define MCR_DWCONV_TILE_MAX 128

typedef void (*mcr_dwconv_ukernel)(const float *src, const long *off, const float *w,
                                   long taps, float bias, float *out);

void mcr_dwconv_f32_32x__scalar(const float *src, const long *off, const float *w,
                                long taps, float bias, float *out);
#if defined(__AVX2__) && defined(__FMA__)
void mcr_dwconv_f32_64x__fma3(const float *src, const long *off, const float *w,
                              long taps, float bias, float *out);
#endif
#if defined(__AVX512F__)
void mcr_dwconv_f32_128x__avx512f(const float *src, const long *off, const float *w,
                                  long taps, float bias, float *out);
#endif

/* Stride 1 only: a whole output plane of one channel (y, rows ow apart) from its padded
 * copy (rows wq apart), in blocks of output rows that share their input rows. */
typedef void (*mcr_dwconv_rows_ukernel)(const float *pad, long wq, const float *w, long kh,
                                        long kw, float bias, float *y, long oh, long ow);
#if defined(__AVX2__) && defined(__FMA__)
void mcr_dwconv_f32_rows__fma3(const float *pad, long wq, const float *w, long kh, long kw,
                               float bias, float *y, long oh, long ow);
#endif
#if defined(__AVX512F__)
void mcr_dwconv_f32_rows__avx512f(const float *pad, long wq, const float *w, long kh, long kw,
                                  float bias, float *y, long oh, long ow);
#define MCR_DWCONV_ROWS mcr_dwconv_f32_rows__avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define MCR_DWCONV_ROWS mcr_dwconv_f32_rows__fma3
#endif

/* The variant the build's ISA flags allow: the widest. */
#if defined(__AVX512F__)
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_128x__avx512f
#define MCR_DWCONV_TILE 128
#elif defined(__AVX2__) && defined(__FMA__)
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_64x__fma3
#define MCR_DWCONV_TILE 64
#else
#define MCR_DWCONV_UKERNEL mcr_dwconv_f32_32x__scalar
#define MCR_DWCONV_TILE 32
#endif

#endif
