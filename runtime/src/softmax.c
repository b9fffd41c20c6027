/* Softmax over the last axis, max-subtracted so that large logits do not overflow. exp is
 * fastmath.h's, which vectorizes (a libm call per element does not). */
#include "fastmath.h"
#include "mcr.h"

void mcr_softmax_f32(const float *x, float *y, long rows, long n)
{
    for (long r = 0; r < rows; r++, x += n, y += n) {
        float mx = x[0];
        for (long i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
        for (long i = 0; i < n; i++) y[i] = mcr_exp(x[i] - mx);
        /* Sum in double: rows of a few thousand elements lose digits in float. */
        double sum = 0.0;
        for (long i = 0; i < n; i++) sum += y[i];
        const float inv = (float)(1.0 / sum);
        for (long i = 0; i < n; i++) y[i] *= inv;
    }
}
