/* Depthwise stride-1 plane micro-kernel, AVX-512F: blocks of 4 rows x up to 4 vectors of
 * 16 columns (16 zmm accumulators). The family's code is dwconv_f32_rows__template.h. */
#if defined(__AVX512F__)
#include "vec_avx512f.h"
#define ROWS_VMAX 4
#define ROWS_UKERNEL mcr_dwconv_f32_rows__avx512f
#include "dwconv_f32_rows__template.h"
#else
typedef int mcr_dwconv_rows_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
