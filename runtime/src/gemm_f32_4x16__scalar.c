/* GEMM micro-kernel, portable: a 4x16 tile (gemm_ukernel.h). Hand-unrolled over the four
 * rows so that the compiler keeps the 64 accumulators in registers where it can: written
 * as a loop over rows, gcc spills them to memory (measured 5x slower under AVX2). */
#include "gemm_ukernel.h"

void mcr_gemm_f32_4x16__scalar(MCR_GEMM_UKERNEL_ARGS)
{
    float c0[16], c1[16], c2[16], c3[16];
    for (int j = 0; j < 16; j++) {
        if (accumulate) {
            c0[j] = c[j];
            c1[j] = c[ldc + j];
            c2[j] = c[2 * ldc + j];
            c3[j] = c[3 * ldc + j];
        } else if (rb) {
            c0[j] = rb[0], c1[j] = rb[1], c2[j] = rb[2], c3[j] = rb[3];
        } else {
            c0[j] = c1[j] = c2[j] = c3[j] = cb ? cb[j] : 0.0f;
        }
    }
    for (long p = 0; p < kc; p++) {
        const float *br = bp + p * ldbp;
        const float a0 = a[p], a1 = a[lda + p], a2 = a[2 * lda + p], a3 = a[3 * lda + p];
        for (int j = 0; j < 16; j++) {
            const float bv = br[j];
            c0[j] += a0 * bv;
            c1[j] += a1 * bv;
            c2[j] += a2 * bv;
            c3[j] += a3 * bv;
        }
    }
    for (int j = 0; j < 16; j++) {
        c[j] = c0[j];
        c[ldc + j] = c1[j];
        c[2 * ldc + j] = c2[j];
        c[3 * ldc + j] = c3[j];
    }
}
