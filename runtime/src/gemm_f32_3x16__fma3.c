/* GEMM micro-kernel, AVX2 + FMA, for the edge of a 32-column panel that is at most 16 wide:
 * a 3x16 tile in 6 ymm accumulators, two loads of b and 3 broadcasts of a a step. 6 chains
 * fill 6 of the 8 that latency 4 x 2 ports needs, still more than the 3x32's useful half
 * where its other 16 columns are zeros (gemm.c; MCi2's 80 and 240 channels end in such an
 * edge). The family's code is gemm_f32__template.h. */
#if defined(__AVX2__) && defined(__FMA__)
#include "vec_fma3.h"
#define GEMM_MR 3
#define GEMM_NR 16
#define GEMM_UKERNEL mcr_gemm_f32_3x16__fma3
#define GEMM_UKERNEL_ROWS mcr_gemm_f32_3x16__fma3_rows
#include "gemm_f32__template.h"
#else
typedef int mcr_gemm_3x16_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
