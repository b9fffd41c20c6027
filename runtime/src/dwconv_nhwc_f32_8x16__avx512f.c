/* Channels-last depthwise micro-kernel, AVX-512F: tiles of 8 pixels x 16 channels in 8
 * zmm accumulators. The family's code is dwconv_nhwc_f32__template.h. */
#if defined(__AVX512F__)
#include "vec_avx512f.h"
#define NHWC_UKERNEL mcr_dwconv_nhwc_f32_8x16__avx512f
#include "dwconv_nhwc_f32__template.h"
#else
typedef int mcr_dwconv_nhwc_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
