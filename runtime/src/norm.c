/* Normalizations: layer norm over rows, and the per-channel affine that an inference
 * BatchNorm becomes once its statistics are folded at compile time. */
#include <math.h>

#include "fastmath.h"
#include "mcr.h"
#include "parallel.h"

static void layernorm_rows(const float *x, const float *scale, const float *bias, float *y,
                           float *mean_out, float *invstd_out, long r0, long r1, long n,
                           float eps)
{
    x += r0 * n, y += r0 * n;
    for (long r = r0; r < r1; r++, x += n, y += n) {
        /* Two passes in double: mean first, then the centred variance, so a large mean
         * does not cancel the variance away. */
        const double mean = mcr_sum_f64(x, n) / (double)n;
        const double var = mcr_sumsq_dev_f64(x, n, mean) / (double)n;
        const float inv = (float)(1.0 / sqrt(var + eps));
        const float m = (float)mean;
        if (mean_out) mean_out[r] = m;
        if (invstd_out) invstd_out[r] = inv;
        for (long i = 0; i < n; i++) {
            const float v = (x[i] - m) * inv * scale[i];
            y[i] = bias ? v + bias[i] : v;
        }
    }
}

struct layernorm_job {
    const float *x, *scale, *bias;
    float *y, *mean, *invstd;
    long rows, n, tasks;
    float eps;
};

static void layernorm_task(void *ctx, long t)
{
    const struct layernorm_job *j = ctx;
    long r0, r1;
    mcr_task_units(t, j->tasks, j->rows, &r0, &r1);
    layernorm_rows(j->x, j->scale, j->bias, j->y, j->mean, j->invstd, r0, r1, j->n, j->eps);
}

void mcr_layernorm_f32(const float *x, const float *scale, const float *bias, float *y,
                       float *mean, float *invstd, long rows, long n, float eps,
                       const struct mcr_threads *th)
{
    struct layernorm_job j = {x, scale, bias, y, mean, invstd, rows, n,
                              mcr_tasks(th, rows, (double)rows * n), eps};
    mcr_run_tasks(th, layernorm_task, &j, j.tasks);
}

void mcr_channel_affine_f32(const float *x, const float *scale, const float *shift,
                            float *y, long outer, long c, long inner)
{
    for (long o = 0; o < outer; o++) {
        for (long ch = 0; ch < c; ch++) {
            const float s = scale[ch], t = shift[ch];
            const long base = (o * c + ch) * inner;
            for (long i = 0; i < inner; i++) y[base + i] = x[base + i] * s + t;
        }
    }
}
