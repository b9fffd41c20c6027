/* Row-major matrix product: the portable reference for the GEMM kernels. */
#include "mcr.h"

void mcr_matmul_f32(const float *a, const float *b, const float *bias, float *c,
                    long m, long k, long n, long lda, long ldb, long ldc,
                    const struct mcr_epilogue *ep)
{
    for (long i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (long j = 0; j < n; j++) ci[j] = bias ? bias[j] : 0.0f;
        /* i-p-j order: the inner loop streams one row of b into one row of c. */
        for (long p = 0; p < k; p++) {
            const float av = a[i * lda + p];
            const float *bp = b + p * ldb;
            for (long j = 0; j < n; j++) ci[j] += av * bp[j];
        }
        mcr_epilogue_f32(ep, ci, i * ldc, n);
    }
}
