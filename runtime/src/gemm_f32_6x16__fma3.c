/* GEMM micro-kernel, AVX2 + FMA: a 6x16 tile in 12 ymm accumulators (the BLIS Haswell
 * shape: 12 independent FMA chains cover latency 4 x 2 ports, and 2 loads of b plus 6
 * broadcasts of a feed 12 FMAs). The family's code is gemm_f32__template.h. */
#if defined(__AVX2__) && defined(__FMA__)
#include "vec_fma3.h"
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_UKERNEL mcr_gemm_f32_6x16__fma3
#define GEMM_UKERNEL_ROWS mcr_gemm_f32_6x16__fma3_rows
#include "gemm_f32__template.h"
#else
typedef int mcr_gemm_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
