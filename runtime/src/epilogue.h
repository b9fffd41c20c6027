/* The epilogue (mcr.h, struct mcr_epilogue) on `rows` rows of n elements, ldy apart, as
 * an inline function: a caller whose n is a constant -- the GEMM on a full tile, NR
 * wide -- gets loops of constant length, which gcc compiles to straight vector code (a
 * call per row with a run-time length measured 28% slower for GELU under AVX-512, 13%
 * under AVX2), and the epilogue's kind is tested once per tile. Row r of the residual is
 * element offset + r * ldr (ldr is y's ldy, unless y is a copy of the rows elsewhere: a
 * GEMM tile in a buffer). mcr_epilogue_f32 is one row of it, out of line. Internal. */
#ifndef MCR_EPILOGUE_H
#define MCR_EPILOGUE_H

#include "fastmath.h"
#include "mcr.h"

static inline void mcr_epilogue_rows(const struct mcr_epilogue *ep, float *y, long ldy,
                                     long ldr, long rows, long n, long offset)
{
    if (!ep) return;
    if (ep->act == MCR_GELU_ERF) { /* the common case, as its own loop */
        for (long r = 0; r < rows; r++) {
            float *row = y + r * ldy;
            long i = 0;
#if defined(MCR_VEC_HEADER)
            /* The whole vectors' end computed first: with `i + MCR_VN <= n` as the test,
             * gcc 12 at -O2 (not -O3) took the tail loop below for one of 2^62 steps and
             * failed -Werror (-Waggressive-loop-optimizations) on a constant n. */
            const long nv = n - n % MCR_VN;
            for (; i < nv; i += MCR_VN) v_store(row + i, v_gelu(v_load(row + i)));
#endif
            for (; i < n; i++) row[i] = mcr_gelu(row[i]);
        }
    } else if (ep->act != MCR_IDENTITY) { /* the others call libm: out of line */
        for (long r = 0; r < rows; r++) {
            mcr_unary_f32(ep->act, y + r * ldy, y + r * ldy, n, ep->alpha, ep->beta, NULL);
        }
    }
    if (ep->residual) {
        for (long r = 0; r < rows; r++) {
            float *row = y + r * ldy;
            const float *res = ep->residual + offset + r * ldr;
            for (long i = 0; i < n; i++) row[i] += res[i];
        }
    }
}

#endif
