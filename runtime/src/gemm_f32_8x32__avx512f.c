/* GEMM micro-kernel, AVX-512F: an 8x32 tile in 16 zmm accumulators (16 independent FMA
 * chains cover latency 4 x 2 ports; 2 loads of b plus 8 broadcasts of a feed 16 FMAs).
 * The family's code is gemm_f32__template.h. */
#if defined(__AVX512F__)
#include "vec_avx512f.h"
#define GEMM_MR 8
#define GEMM_NR 32
#define GEMM_UKERNEL mcr_gemm_f32_8x32__avx512f
#define GEMM_UKERNEL_ROWS mcr_gemm_f32_8x32__avx512f_rows
#include "gemm_f32__template.h"
#else
typedef int mcr_gemm_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
