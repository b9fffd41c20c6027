/* GEMM micro-kernel, AArch64 Advanced SIMD: a 6x16 tile in 24 of the 32 q registers
 * (24 independent FMA chains: latency 4 x 2 pipes on Cortex-A76 / Neoverse N1 needs 8);
 * per step of k, 4 loads of b and 6 broadcast loads of a (ld1r) feed 24 FMAs, well
 * within two load pipes. The family's code is gemm_f32__template.h. */
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "vec_neon.h"
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_UKERNEL mcr_gemm_f32_6x16__neon
#define GEMM_UKERNEL_ROWS mcr_gemm_f32_6x16__neon_rows
#include "gemm_f32__template.h"
#else
typedef int mcr_gemm_neon_unavailable; /* ISO C wants a non-empty file */
#endif
