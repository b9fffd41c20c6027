/* Depthwise micro-kernel, AArch64 Advanced SIMD: 32 outputs per tile in 8 q accumulators,
 * enough independent FMA chains for latency 4 x 2 pipes. The family's code is
 * dwconv_f32__template.h. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "vec_neon.h"
#define DW_TILE 32
#define DW_UKERNEL mcr_dwconv_f32_32x__neon
#include "dwconv_f32__template.h"
#else
typedef int mcr_dwconv_neon_unavailable; /* ISO C wants a non-empty file */
#endif
