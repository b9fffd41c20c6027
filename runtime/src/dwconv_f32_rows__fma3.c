/* Depthwise stride-1 plane micro-kernel, AVX2 + FMA: blocks of 4 rows x up to 2 vectors
 * of 8 columns (8 ymm accumulators: AVX2 has 16 registers, and the loaded input vectors
 * and the weight need their own). The family's code is dwconv_f32_rows__template.h. */
#if defined(__AVX2__) && defined(__FMA__)
#include "vec_fma3.h"
#define ROWS_VMAX 2
#define ROWS_UKERNEL mcr_dwconv_f32_rows__fma3
#include "dwconv_f32_rows__template.h"
#else
typedef int mcr_dwconv_rows_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
