/* Channels-last depthwise micro-kernel, AVX2 + FMA: tiles of 8 pixels x 8 channels in 8
 * ymm accumulators. The family's code is dwconv_nhwc_f32__template.h. */
#if defined(__AVX2__) && defined(__FMA__)
#include "vec_fma3.h"
#define NHWC_UKERNEL mcr_dwconv_nhwc_f32_8x8__fma3
#include "dwconv_nhwc_f32__template.h"
#else
typedef int mcr_dwconv_nhwc_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
