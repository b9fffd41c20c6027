/* GEMM micro-kernel, AVX-512F, for the edge of a 32-column panel that is at most 16 wide:
 * an 8x16 tile in 8 zmm accumulators (8 chains: latency 4 x 2 ports, just enough), one
 * load of b and 8 broadcasts of a a step. gemm.c takes it where the 8x32 would compute 16
 * zero columns: MCi2's 80 and 240 channels end in such an edge (a third of the panels of
 * its 80-channel layers), and that tile then wrote through a copy. The family's code is
 * gemm_f32__template.h. */
#if defined(__AVX512F__)
#include "vec_avx512f.h"
#define GEMM_MR 8
#define GEMM_NR 16
#define GEMM_UKERNEL mcr_gemm_f32_8x16__avx512f
#define GEMM_UKERNEL_ROWS mcr_gemm_f32_8x16__avx512f_rows
#include "gemm_f32__template.h"
#else
typedef int mcr_gemm_8x16_avx512f_unavailable; /* ISO C wants a non-empty file */
#endif
