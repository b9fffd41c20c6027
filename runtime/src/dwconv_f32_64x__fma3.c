/* Depthwise micro-kernel, AVX2 + FMA: 64 outputs per tile in 8 ymm accumulators, enough
 * independent FMA chains to cover the FMA latency on two ports. The family's code is
 * dwconv_f32__template.h. */
#if defined(__AVX2__) && defined(__FMA__)
#include "vec_fma3.h"
#define DW_TILE 64
#define DW_UKERNEL mcr_dwconv_f32_64x__fma3
#include "dwconv_f32__template.h"
#else
typedef int mcr_dwconv_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
