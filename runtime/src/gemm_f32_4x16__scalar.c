/* GEMM micro-kernel, portable: a 4x16 tile (gemm_ukernel.h). Hand-unrolled over the four
 * rows so that the compiler keeps the accumulators in registers where it can: written
 * as a loop over rows, gcc spills them to memory (measured 5x slower under AVX2).
 *
 * Summed in chunks of CHUNK terms, each from zero, then added to the running sum: without
 * fused multiply-adds (the generic target has none) every term is two roundings, and a
 * running sum over all k of them made the generic target's error 2-4x onnxruntime's on
 * MCi2 and ViT-B/16 (1.1e-6 and 1.4e-6 relative to float64; chunked: 1.8e-7 and 3.6e-7,
 * onnxruntime 2.9e-7 and 7.2e-7). */
#include "gemm_ukernel.h"

#define CHUNK 64

void mcr_gemm_f32_4x16__scalar(MCR_GEMM_UKERNEL_ARGS)
{
    (void)pf, (void)pf_rows; /* a reference: no prefetching */
    float c0[16] = {0}, c1[16] = {0}, c2[16] = {0}, c3[16] = {0}; /* init added at the end */
    for (long p0 = 0; p0 < kc; p0 += CHUNK) {
        const long p1 = kc - p0 < CHUNK ? kc : p0 + CHUNK;
        float d0[16] = {0}, d1[16] = {0}, d2[16] = {0}, d3[16] = {0};
        for (long p = p0; p < p1; p++) {
            const float *br = bp + p * ldbp;
            const float a0 = a[p], a1 = a[lda + p], a2 = a[2 * lda + p], a3 = a[3 * lda + p];
            for (int j = 0; j < 16; j++) {
                const float bv = br[j];
                d0[j] += a0 * bv;
                d1[j] += a1 * bv;
                d2[j] += a2 * bv;
                d3[j] += a3 * bv;
            }
        }
        for (int j = 0; j < 16; j++) {
            c0[j] += d0[j];
            c1[j] += d1[j];
            c2[j] += d2[j];
            c3[j] += d3[j];
        }
    }
    for (int j = 0; j < 16; j++) {
        if (accumulate) {
            c0[j] += c[j], c1[j] += c[ldc + j], c2[j] += c[2 * ldc + j], c3[j] += c[3 * ldc + j];
        } else if (rb) {
            c0[j] += rb[0], c1[j] += rb[1], c2[j] += rb[2], c3[j] += rb[3];
        } else if (cb) {
            c0[j] += cb[j], c1[j] += cb[j], c2[j] += cb[j], c3[j] += cb[j];
        }
        c[j] = c0[j], c[ldc + j] = c1[j], c[2 * ldc + j] = c2[j], c[3 * ldc + j] = c3[j];
    }
}
