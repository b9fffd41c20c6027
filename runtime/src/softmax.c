/* Softmax over the last axis, max-subtracted so that large logits do not overflow. exp is
 * fastmath.h's, which vectorizes (a libm call per element does not). */
#include "fastmath.h"
#include "mcr.h"

void mcr_softmax_f32(const float *x, float *y, long rows, long n)
{
    for (long r = 0; r < rows; r++, x += n, y += n) {
        const float mx = mcr_max_f32(x, n);
        for (long i = 0; i < n; i++) y[i] = mcr_exp(x[i] - mx);
        /* Sum in double: rows of a few thousand elements lose digits in float. */
        const float inv = (float)(1.0 / mcr_sum_f64(y, n));
        for (long i = 0; i < n; i++) y[i] *= inv;
    }
}
