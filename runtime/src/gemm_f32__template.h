/* The SIMD GEMM micro-kernel family, written once over the vector layer (vec_<isa>.h);
 * gemm_ukernel.h states the contract. A variant file defines GEMM_MR, GEMM_NR (a multiple
 * of the vector width) and the two names, includes its ISA's vec_<isa>.h, then this.
 *
 * An MR x NR tile of c lives in MR * NR/VN vector accumulators. Per step p of k, NR/VN
 * vectors of the packed row of b are loaded once and each row's a[p] is broadcast once
 * (in the order A_OUTER below picks):
 * NR/VN + MR loads feed MR * NR/VN independent FMA chains, as many as the FMA latency
 * times the FMA pipes needs (the config's tile per ISA says how many that is). The
 * `rows` form computes the first rows < MR of a tile only: the last rows of c (ViT-B/16's
 * 197 tokens) then cost rows/MR of a tile, not a whole one plus copies.
 *
 * The loops over the tile have constant trip counts and are unrolled whole, inside
 * always-inlined functions, so that the accumulator arrays become registers. */
#include <stdint.h>

#include "gemm_ukernel.h"
#include "internal.h"

#define NV (GEMM_NR / MCR_VN)
#define PREFETCH_LINES (GEMM_NR * (int)sizeof(float) / 64) /* lines of one row of the tile */
/* Which operand is held in registers across the step: b's NV vectors, each row's
 * broadcast then feeding NV FMAs (MR * NV + NV + 1 live vectors), or a's MR broadcasts,
 * each vector of b then feeding MR FMAs (MR * NV + MR + 1). The smaller wins: held b for
 * AVX-512's 8x32 and NEON's 6x16 (19 and 29 of 32 registers; 25 and 31 the other way),
 * held a for AVX2's 3x32 (16 of 16, where held b needs 17 and the compiler reloads one
 * vector of b for every row: 11 loads a step instead of 7). */
#define A_OUTER (GEMM_MR < NV)

MCR_ALWAYS_INLINE void tile(const int rows, MCR_GEMM_UKERNEL_ARGS)
{
    mcr_v acc[GEMM_MR][NV];
    /* The span of pf's rows in kc equal steps, one line at each, two when a step is more
     * than a line (a share is at most a block, kc rows, so at most a row a step -- only
     * when a block has one or two tiles): the misses trickle out, never more at once
     * than the core tracks. The step is in 1/256 bytes: in whole bytes it was truncated
     * (MCi1's 768 x 256 layer, 86 tiles: 1.5 bytes a step taken as 1, so 12 of a tile's
     * 18 lines were asked for with one prefetch a step, 14 with the two before). Without
     * a share it touches b's first line, a hit.
     * One prefetch a step, not every line of a tile row at every step (2 under AVX2 and
     * AVX-512, most of them of a line already asked for): MCi1's 1x1 shapes (256 x 768 x
     * 256, 256 x 256 x 768, 1024 x 128 x 384, 64 x 1536 x 512) took 0.85-0.96 of the time
     * in the median, level at the fastest (AMD EPYC Zen 3, AVX2, warm operands,
     * alternating with onnxruntime's 1x1 Conv in one process); MCi4's 16 x 2048 x 8192
     * from memory level. */
    const uintptr_t q = (uintptr_t)(pf_rows > 0 ? pf : bp);
    const uintptr_t span = (uintptr_t)(pf_rows > 0 ? pf_rows * ldbp * (long)sizeof(float) : 0);
    const uintptr_t inc = span ? (span << 8) / (uintptr_t)kc : 0; /* bytes a step, x 256 */
    const int wide = PREFETCH_LINES > 1 && inc > (64u << 8);
    uintptr_t off = 0; /* q's offset, times 256 */
    /* In chunks of MCR_GEMM_CHUNK steps, each summed from zero and then added to c (the
     * first to init): the same sums, in the same order, as one call per chunk. */
    for (long p0 = 0; p0 < kc; p0 += MCR_GEMM_CHUNK) {
        const long p1 = kc - p0 < MCR_GEMM_CHUNK ? kc : p0 + MCR_GEMM_CHUNK;
#pragma GCC unroll 16
        for (int r = 0; r < GEMM_MR; r++) {
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) acc[r][v] = v_zero();
        }
        for (long p = p0; p < p1; p++, off += inc) {
            MCR_PREFETCH(q + (off >> 8));
            if (wide) MCR_PREFETCH(q + (off >> 8) + 64u);
            if (A_OUTER) {
                mcr_v av[GEMM_MR];
#pragma GCC unroll 16
                for (int r = 0; r < GEMM_MR; r++) {
                    if (r < rows) av[r] = v_set1(a[r * lda + p]);
                }
#pragma GCC unroll 16
                for (int v = 0; v < NV; v++) {
                    const mcr_v bv = v_load(bp + p * ldbp + v * MCR_VN);
#pragma GCC unroll 16
                    for (int r = 0; r < GEMM_MR; r++) {
                        if (r < rows) acc[r][v] = v_fma(av[r], bv, acc[r][v]);
                    }
                }
            } else {
                mcr_v bv[NV];
#pragma GCC unroll 16
                for (int v = 0; v < NV; v++) bv[v] = v_load(bp + p * ldbp + v * MCR_VN);
#pragma GCC unroll 16
                for (int r = 0; r < GEMM_MR; r++) {
                    if (r < rows) {
                        const mcr_v av = v_set1(a[r * lda + p]);
#pragma GCC unroll 16
                        for (int v = 0; v < NV; v++) acc[r][v] = v_fma(av, bv[v], acc[r][v]);
                    }
                }
            }
        }
        /* The chunk's sum started from zero; init or c's running sum is added now
         * (gemm_ukernel.h). */
        const int add_c = accumulate || p0 > 0;
#pragma GCC unroll 16
        for (int r = 0; r < GEMM_MR; r++) {
            if (r >= rows) break;
            float *cr = c + r * ldc;
#pragma GCC unroll 16
            for (int v = 0; v < NV; v++) {
                mcr_v s = acc[r][v];
                if (add_c) {
                    s = v_add(v_load(cr + v * MCR_VN), s);
                } else if (rb) {
                    s = v_add(v_set1(rb[r]), s);
                } else if (cb) {
                    s = v_add(v_load(cb + v * MCR_VN), s);
                }
                v_store(cr + v * MCR_VN, s);
            }
        }
    }
}

void GEMM_UKERNEL(MCR_GEMM_UKERNEL_ARGS)
{
    tile(GEMM_MR, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate, pf, pf_rows);
}

/* One copy of the tile per row count, each with constant loops. */
void GEMM_UKERNEL_ROWS(long rows, MCR_GEMM_UKERNEL_ARGS)
{
    switch (rows) {
#define ROWS_CASE(n)                                                                     \
    case n:                                                                              \
        tile(n < GEMM_MR ? n : GEMM_MR, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate, pf, \
             pf_rows);                                                                \
        break;
    ROWS_CASE(1)
    ROWS_CASE(2)
    ROWS_CASE(3)
    ROWS_CASE(4)
    ROWS_CASE(5)
    ROWS_CASE(6)
    ROWS_CASE(7)
#undef ROWS_CASE
    default: tile(GEMM_MR, kc, a, lda, bp, ldbp, c, ldc, rb, cb, accumulate, pf, pf_rows); break;
    }
}
#undef NV
#undef PREFETCH_LINES
#undef A_OUTER
