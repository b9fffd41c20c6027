/* Softmax over the last axis, max-subtracted so that large logits do not overflow: rows
 * of fastmath.h's mcr_softmax_row (its exp vectorizes; a libm call per element does not). */
#include "fastmath.h"
#include "mcr.h"
#include "parallel.h"

struct softmax_args {
    const float *x;
    float *y;
    long n;
};

/* Rows [r0, r1). */
static void softmax_rows(const void *args, long r0, long r1)
{
    const struct softmax_args *a = args;
    const long n = a->n;
    const float *x = a->x + r0 * n;
    float *y = a->y + r0 * n;
    for (long r = r0; r < r1; r++, x += n, y += n) mcr_softmax_row(x, y, n, 1.0f);
}

void mcr_softmax_f32(const float *x, float *y, long rows, long n, const struct mcr_threads *th)
{
    const struct softmax_args a = {x, y, n};
    mcr_parallel_for(th, rows, (double)rows * n, MCR_TASK_MIN_ELEMENTS, softmax_rows, &a);
}
