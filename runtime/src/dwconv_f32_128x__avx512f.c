/* Depthwise micro-kernel, AVX-512F: 128 outputs per tile in 8 zmm accumulators, enough
 * independent FMA chains to cover the FMA latency on two ports. The family's code is
 * dwconv_f32__template.h. */
#if defined(__AVX512F__)
#include "vec_avx512f.h"
#define DW_TILE 128
#define DW_UKERNEL mcr_dwconv_f32_128x__avx512f
#include "dwconv_f32__template.h"
#else
typedef int mcr_dwconv_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
