/* Reductions over the middle axis of [outer][r][inner]; global pooling is one of them.
 *
 * The r rows are walked in order, each adding into a chunk of `inner` accumulators: a
 * unit-stride loop that vectorizes, where walking one column at a time would stride
 * through the whole tensor once per column (a channels-last global pool: r = pixels,
 * inner = channels). */
#include <math.h>

#include "mcr.h"

/* Accumulators per chunk of inner (on the stack). */
#define CHUNK 256

void mcr_reduce_f32(enum mcr_reduce_op op, const float *x, float *y,
                    long outer, long r, long inner)
{
    /* Sums accumulate in double: global pools over 64x64 maps are long sums. */
    double acc[CHUNK];
    for (long o = 0; o < outer; o++) {
        for (long i0 = 0; i0 < inner; i0 += CHUNK) {
            const long ni = inner - i0 < CHUNK ? inner - i0 : CHUNK;
            const float *p = x + o * r * inner + i0;
            /* An empty max is -inf and an empty min +inf (ONNX's identities). */
            for (long i = 0; i < ni; i++) {
                acc[i] = (op == MCR_REDUCE_MEAN || op == MCR_REDUCE_SUM) ? 0.0
                         : r > 0 ? p[i] : (op == MCR_REDUCE_MAX ? -INFINITY : INFINITY);
            }
            for (long j = 0; j < r; j++) {
                const float *row = p + j * inner;
                switch (op) { /* outside the inner loops, so that each vectorizes */
                case MCR_REDUCE_MEAN:
                case MCR_REDUCE_SUM:
                    for (long i = 0; i < ni; i++) acc[i] += row[i];
                    break;
                case MCR_REDUCE_MAX:
                    for (long i = 0; i < ni; i++) acc[i] = row[i] > acc[i] ? row[i] : acc[i];
                    break;
                case MCR_REDUCE_MIN:
                    for (long i = 0; i < ni; i++) acc[i] = row[i] < acc[i] ? row[i] : acc[i];
                    break;
                }
            }
            for (long i = 0; i < ni; i++) {
                const double v = op == MCR_REDUCE_MEAN ? acc[i] / (double)r : acc[i];
                y[o * inner + i0 + i] = (float)v;
            }
        }
    }
}
