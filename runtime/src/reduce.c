/* Reductions over the middle axis of [outer][r][inner]; global pooling is one of them.
 *
 * The r rows are walked in order, each adding into a chunk of `inner` accumulators: a
 * unit-stride loop that vectorizes, where walking one column at a time would stride
 * through the whole tensor once per column (a channels-last global pool: r = pixels,
 * inner = channels). */
#include <math.h>

#include "mcr.h"
#include "parallel.h"

/* Accumulators per chunk of inner (on the stack). */
#define CHUNK 256

struct reduce_args {
    enum mcr_reduce_op op;
    const float *x;
    float *y;
    long r, inner, chunks;
};

/* Units [u0, u1) of the outer * chunks chunks of `inner`: each is all of its outputs' sums,
 * so a split among threads changes no sum's order. */
static void reduce_chunks(const void *args, long u0, long u1)
{
    const struct reduce_args *a = args;
    const enum mcr_reduce_op op = a->op;
    const long r = a->r, inner = a->inner;
    /* Sums accumulate in double: global pools over 64x64 maps are long sums. */
    double acc[CHUNK];
    for (long u = u0; u < u1; u++) {
        const long o = u / a->chunks, i0 = (u % a->chunks) * CHUNK;
        const long ni = inner - i0 < CHUNK ? inner - i0 : CHUNK;
        const float *p = a->x + o * r * inner + i0;
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
            a->y[o * inner + i0 + i] = (float)v;
        }
    }
}

void mcr_reduce_f32(enum mcr_reduce_op op, const float *x, float *y,
                    long outer, long r, long inner, const struct mcr_threads *th)
{
    const long chunks = (inner + CHUNK - 1) / CHUNK;
    const struct reduce_args a = {op, x, y, r, inner, chunks};
    mcr_parallel_for(th, outer * chunks, (double)outer * r * inner, MCR_TASK_MIN_ELEMENTS,
                     reduce_chunks, &a);
}
