/* Channels-last depthwise micro-kernel, AArch64 Advanced SIMD: tiles of 8 pixels x 4
 * channels in 8 q accumulators (with 7 weights and an input: 16 of the 32 registers).
 * The family's code is dwconv_nhwc_f32__template.h. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "vec_neon.h"
#define NHWC_UKERNEL mcr_dwconv_nhwc_f32_8x4__neon
#include "dwconv_nhwc_f32__template.h"
#else
typedef int mcr_dwconv_nhwc_neon_unavailable; /* ISO C wants a non-empty file */
#endif
