/* GEMM micro-kernel, AVX2 + FMA: a 3x32 tile in 12 ymm accumulators (12 independent FMA
 * chains cover latency 4 x 2 ports). Per step, 3 broadcasts of a and 4 loads of b -- one
 * whole 128-byte row of a pre-packed panel (MCR_PANEL = 32) -- feed 12 FMAs; 12 + 3 + 1
 * registers are all 16 ymm (the template's A_OUTER order: 7 loads a step, no operand
 * loaded twice). The shape of onnxruntime's AVX2 NCHWc convolution kernel (3 outputs x 4
 * filter blocks of 8). Against the BLIS 6x16 it streams a once per 32 columns of c
 * instead of 16, and reads b's panel rows whole instead of every other line. Measured on
 * an AMD EPYC Zen 3 (32 KB L1d, 512 KB L2), one GEMM call at a time in a process that
 * also runs onnxruntime's 1x1 Conv of the same shape, medians of 40 calls: MCi's and
 * ViT-B/16's 1x1 and linear shapes take 0.82-0.95 of the 6x16's time (197x768x2304
 * 0.85-0.93, 1024x256x1024 0.88-0.93, 256x512x2048 0.91-0.93); the shortest k,
 * 4096x64x192, 0.94-1.27 (ARCHITECTURE.md, "The GEMM"). Whole models, in one process
 * against the 6x16, same bits: MCi4 0.87, MCi3 0.90 of the time, MCi0-2 and ViT-B/16
 * 0.96-1.05 (medians). The family's code is gemm_f32__template.h. */
#if defined(__AVX2__) && defined(__FMA__)
#include "vec_fma3.h"
#define GEMM_MR 3
#define GEMM_NR 32
#define GEMM_UKERNEL mcr_gemm_f32_3x32__fma3
#define GEMM_UKERNEL_ROWS mcr_gemm_f32_3x32__fma3_rows
#include "gemm_f32__template.h"
#else
typedef int mcr_gemm_fma3_unavailable; /* ISO C wants a non-empty file */
#endif
