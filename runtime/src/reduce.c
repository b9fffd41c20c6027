/* Reductions over the middle axis of [outer][r][inner]; global pooling is one of them. */
#include <math.h>

#include "mcr.h"

void mcr_reduce_f32(enum mcr_reduce_op op, const float *x, float *y,
                    long outer, long r, long inner)
{
    for (long o = 0; o < outer; o++) {
        for (long i = 0; i < inner; i++) {
            const float *p = x + o * r * inner + i;
            /* Accumulate sums in double: global pools over 64x64 maps are long sums. */
            /* An empty max is -inf and an empty min +inf (ONNX's identities). */
            double acc = (op == MCR_REDUCE_MEAN || op == MCR_REDUCE_SUM) ? 0.0
                         : r > 0 ? p[0] : (op == MCR_REDUCE_MAX ? -INFINITY : INFINITY);
            for (long j = 0; j < r; j++) {
                const float v = p[j * inner];
                switch (op) {
                case MCR_REDUCE_MEAN:
                case MCR_REDUCE_SUM: acc += v; break;
                case MCR_REDUCE_MAX: acc = v > acc ? v : acc; break;
                case MCR_REDUCE_MIN: acc = v < acc ? v : acc; break;
                }
            }
            if (op == MCR_REDUCE_MEAN) acc /= (double)r;
            y[o * inner + i] = (float)acc;
        }
    }
}
