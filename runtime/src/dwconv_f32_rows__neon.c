/* Depthwise stride-1 plane micro-kernel, AArch64 Advanced SIMD: blocks of 4 rows x up to
 * 4 vectors of 4 columns (16 of the 32 q registers as accumulators, 4 for the input
 * vectors, 1 for the weight). The family's code is dwconv_f32_rows__template.h. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "vec_neon.h"
#define ROWS_VMAX 4
#define ROWS_UKERNEL mcr_dwconv_f32_rows__neon
#include "dwconv_f32_rows__template.h"
#else
typedef int mcr_dwconv_rows_neon_unavailable; /* ISO C wants a non-empty file */
#endif
