/* Channels-last depthwise micro-kernel, AVX-512F: tiles of 16 pixels x 16 channels in 16
 * zmm accumulators on stride-1 rows of 16 pixels or more, else of 8 pixels. The family's
 * code is dwconv_nhwc_f32__template.h. */
#if defined(__AVX512F__)
#include "vec_avx512f.h"
#define NHWC_UKERNEL mcr_dwconv_nhwc_f32_16x16__avx512f
#define NHWC_WIDE_TILE 16
#include "dwconv_nhwc_f32__template.h"
#else
typedef int mcr_dwconv_nhwc_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
