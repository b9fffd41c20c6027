/* Scaled dot-product attention, one query row at a time: scores = scale * (q . k),
 * softmax, then the weighted sum of v rows. The same arithmetic, in the same order, as
 * MatMul -> Mul -> Softmax -> MatMul through the portable kernels, without the
 * [M][N] score matrix: only one row of scores lives at a time. */
#include <math.h>

#include "mcr.h"

void mcr_attention_f32(const float *q, const float *k, const float *v, float *out,
                       float *scores, long batch, long m, long n, long d, long dv,
                       float scale)
{
    for (long b = 0; b < batch; b++) {
        const float *qb = q + b * m * d, *kb = k + b * d * n, *vb = v + b * n * dv;
        float *ob = out + b * m * dv;
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) scores[j] = 0.0f;
            for (long p = 0; p < d; p++) {
                const float qv = qb[i * d + p];
                const float *kr = kb + p * n;
                for (long j = 0; j < n; j++) scores[j] += qv * kr[j];
            }
            float mx = -INFINITY;
            for (long j = 0; j < n; j++) {
                scores[j] *= scale;
                mx = scores[j] > mx ? scores[j] : mx;
            }
            double sum = 0.0;
            for (long j = 0; j < n; j++) {
                scores[j] = expf(scores[j] - mx);
                sum += scores[j];
            }
            const float inv = (float)(1.0 / sum);
            for (long j = 0; j < n; j++) scores[j] *= inv;
            float *orow = ob + i * dv;
            for (long c = 0; c < dv; c++) orow[c] = 0.0f;
            for (long j = 0; j < n; j++) {
                const float p = scores[j];
                const float *vr = vb + j * dv;
                for (long c = 0; c < dv; c++) orow[c] += p * vr[c];
            }
        }
    }
}
