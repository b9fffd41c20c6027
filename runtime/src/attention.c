/* Scaled dot-product attention, one query row at a time: scores = scale * (q . k),
 * softmax, then the weighted sum of v rows -- the portable matmul and softmax kernels on
 * one row, so the arithmetic is theirs, without the [M][N] score matrix. */
#include <stddef.h>

#include "mcr.h"

void mcr_attention_f32(const float *q, const float *k, const float *v, float *out,
                       float *scores, long batch, long m, long n, long d, long dv,
                       float scale)
{
    for (long b = 0; b < batch; b++) {
        const float *qb = q + b * m * d, *kb = k + b * d * n, *vb = v + b * n * dv;
        float *ob = out + b * m * dv;
        for (long i = 0; i < m; i++) {
            mcr_matmul_f32(qb + i * d, kb, NULL, scores, 1, d, n, d, n, n, NULL);
            for (long j = 0; j < n; j++) scores[j] *= scale;
            mcr_softmax_f32(scores, scores, 1, n);
            mcr_matmul_f32(scores, vb, NULL, ob + i * dv, 1, n, dv, n, dv, dv, NULL);
        }
    }
}
