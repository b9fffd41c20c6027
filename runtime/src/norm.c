/* Normalizations: layer norm over rows, and the per-channel affine that an inference
 * BatchNorm becomes once its statistics are folded at compile time. */
#include <math.h>

#include "fastmath.h"
#include "mcr.h"
#include "parallel.h"

struct layernorm_args {
    const float *x, *scale, *bias;
    float *y, *mean, *invstd;
    long n;
    float eps;
};

/* Rows [r0, r1). */
static void layernorm_rows(const void *args, long r0, long r1)
{
    const struct layernorm_args *a = args;
    const long n = a->n;
    const float *x = a->x + r0 * n, *scale = a->scale, *bias = a->bias;
    float *y = a->y + r0 * n;
    for (long r = r0; r < r1; r++, x += n, y += n) {
        /* Two passes in double: mean first, then the centred variance, so a large mean
         * does not cancel the variance away. */
        const double mean = mcr_sum_f64(x, n) / (double)n;
        const double var = mcr_sumsq_dev_f64(x, n, mean) / (double)n;
        const float inv = (float)(1.0 / sqrt(var + a->eps));
        const float m = (float)mean;
        if (a->mean) a->mean[r] = m;
        if (a->invstd) a->invstd[r] = inv;
        for (long i = 0; i < n; i++) {
            const float v = (x[i] - m) * inv * scale[i];
            y[i] = bias ? v + bias[i] : v;
        }
    }
}

void mcr_layernorm_f32(const float *x, const float *scale, const float *bias, float *y,
                       float *mean, float *invstd, long rows, long n, float eps,
                       const struct mcr_threads *th)
{
    const struct layernorm_args a = {x, scale, bias, y, mean, invstd, n, eps};
    mcr_parallel_for(th, rows, (double)rows * n, MCR_TASK_MIN_ELEMENTS, layernorm_rows, &a);
}

struct affine_args {
    const float *x, *scale, *shift;
    float *y;
    long c, inner;
};

/* Planes [p0, p1) of the outer * c planes of `inner` elements. */
static void affine_planes(const void *args, long p0, long p1)
{
    const struct affine_args *a = args;
    for (long p = p0; p < p1; p++) {
        const long ch = p % a->c;
        const float s = a->scale[ch], t = a->shift[ch];
        const float *x = a->x + p * a->inner;
        float *y = a->y + p * a->inner;
        for (long i = 0; i < a->inner; i++) y[i] = x[i] * s + t;
    }
}

void mcr_channel_affine_f32(const float *x, const float *scale, const float *shift,
                            float *y, long outer, long c, long inner,
                            const struct mcr_threads *th)
{
    const struct affine_args a = {x, scale, shift, y, c, inner};
    mcr_parallel_for(th, outer * c, (double)outer * c * inner, MCR_TASK_MIN_ELEMENTS,
                     affine_planes, &a);
}
