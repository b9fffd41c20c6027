/* Row-major matrix product with a per-column bias and an epilogue: the blocked GEMM
 * (gemm.c), tested against a naive product. */
#include "gemm.h"

void mcr_matmul_f32(const float *a, const float *b, const float *bias, float *c,
                    long m, long k, long n, long lda, long ldb, long ldc,
                    const struct mcr_epilogue *ep)
{
    mcr_gemm_f32(a, lda, b, ldb, c, ldc, m, k, n, 0, bias, ep, 0);
}

void mcr_matmul_packed_f32(const float *a, const float *bpacked, const float *bias, float *c,
                           long m, long k, long n, long lda, long ldc,
                           const struct mcr_epilogue *ep, const struct mcr_threads *th)
{
    mcr_gemm_threads_f32(th, a, lda, bpacked, 0, c, ldc, m, k, n, 0, bias, ep, 0,
                         MCR_GEMM_B_PANELS);
}
