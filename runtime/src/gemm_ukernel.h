/* GEMM micro-kernels (internal to the runtime), one file per variant, named
 * gemm_f32_<MR>x<NR>__<isa>:
 *
 *   c[i][j] = init[i][j] + sum over p < kc of a[i * lda + p] * bp[p * ldbp + j],
 *
 * for i < MR, j < NR, where bp is a packed panel of b (NR or more consecutive columns per
 * row, ldbp apart, zero-padded) and init is c's old value when `accumulate`, else rb[i]
 * when rb is not NULL, else cb[j] when cb is not NULL (NR values), else 0. Taking the bias
 * here, not from a first pass over c, means c is written once when k fits one block.
 * The sum always starts from zero and init is added to it at the end: c's old value
 * (blocked summation: the rounding error of a long k grows with the block, not with k)
 * and the bias alike -- a chain of additions started from a bias much larger than the
 * result (BatchNorm-folded biases are) rounds every step at the bias's scale: MCi4's
 * stem 1x1 conv had 2.4x the portable kernel's error against float64 under AVX-512 when
 * its sums started from the bias. A long kc is summed in chunks of MCR_GEMM_CHUNK
 * (config.h), each from zero: the SIMD variants add each chunk to c as above (the first
 * to init), so that one call gives the bits of one call per chunk, `accumulate` after
 * the first (gemm.c's slabs rely on it); the portable one adds its chunks into
 * a running sum and init last.
 *
 * While it computes, a micro-kernel also prefetches pf_rows rows of b (NR floats each,
 * ldbp apart, from pf; pf_rows 0: none), spread evenly over its kc steps: gemm.c hands
 * each tile its share of the next block or slab of pre-packed weights (gemm.c says
 * why). It changes no result.
 * gemm.c packs the panels and handles the edges. The SIMD variants are one template
 * (gemm_f32__template.h); every variant is tested against the formula
 * (tests/runtime/test_kernels.c). */
#ifndef MCR_GEMM_UKERNEL_H
#define MCR_GEMM_UKERNEL_H

#define MCR_GEMM_UKERNEL_ARGS                                                      \
    long kc, const float *a, long lda, const float *bp, long ldbp, float *c, long ldc, \
        const float *rb, const float *cb, int accumulate, const float *pf, long pf_rows

typedef void (*mcr_gemm_ukernel)(MCR_GEMM_UKERNEL_ARGS);

/* The variants (config.h says which ISA has which, and which one the target uses). The
 * _rows forms compute the first `rows` (1..MR) rows of the tile only: a reads and c
 * writes no other row. */
void mcr_gemm_f32_4x16__scalar(MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_3x32__fma3(MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_3x32__fma3_rows(long rows, MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_3x16__fma3(MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_3x16__fma3_rows(long rows, MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_8x32__avx512f(MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_8x32__avx512f_rows(long rows, MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_8x16__avx512f(MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_8x16__avx512f_rows(long rows, MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_6x16__neon(MCR_GEMM_UKERNEL_ARGS);
void mcr_gemm_f32_6x16__neon_rows(long rows, MCR_GEMM_UKERNEL_ARGS);
typedef void (*mcr_gemm_rows_ukernel)(long rows, MCR_GEMM_UKERNEL_ARGS);

#include "config.h"

#endif
