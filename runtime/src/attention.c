/* Scaled dot-product attention in tiles of query rows: for each tile of up to ATTN_ROWS
 * rows, scores = q_tile . k with the register-blocked GEMM into the scratch, then scale
 * and softmax each score row in place, then out_tile = scores . v with the GEMM again.
 * A tile is large enough for ViT-B/16's 197 queries to be one (measured: tiles of 64 rows
 * 1.07 ms per layer, 256 rows 0.90 ms, from fewer packings of k and v), and its scores
 * (197 x 197 floats, 155 KB) stay in L2 between the two products; longer sequences never
 * hold the whole [m][n] matrix. */
#include <stddef.h>

#include "fastmath.h"
#include "gemm.h"
#include "parallel.h"

#define ATTN_ROWS 256

long mcr_attention_scratch_floats(long m, long n)
{
    return (m < ATTN_ROWS ? m : ATTN_ROWS) * n;
}

/* softmax(scale * x) of each row, in place. For scale >= 0 the scaling goes into exp's
 * argument (mcr_softmax_row) instead of a pass of its own. */
static void scaled_softmax(float *s, long rows, long n, float scale)
{
    if (scale < 0.0f) {
        for (long i = 0; i < rows * n; i++) s[i] *= scale;
        mcr_softmax_f32(s, s, rows, n, NULL);
        return;
    }
    for (long r = 0; r < rows; r++, s += n) mcr_softmax_row(s, s, n, scale);
}

struct attention_job {
    const float *q, *k, *v;
    float *out, *scores;
    long batch, m, n, d, dv, tasks;
    float scale;
    const struct mcr_threads *th;
};

/* Task t: its share of the batch entries (heads), with its own scores. */
static void attention_task(void *ctx, long t)
{
    const struct attention_job *j = ctx;
    const long m = j->m, n = j->n, d = j->d, dv = j->dv;
    float *scores = mcr_task_scratch(j->th, j->scores, mcr_attention_scratch_floats(m, n), t);
    long b0, b1;
    mcr_task_units(t, j->tasks, j->batch, &b0, &b1);
    for (long b = b0; b < b1; b++) {
        const float *qb = j->q + b * m * d, *kb = j->k + b * d * n, *vb = j->v + b * n * dv;
        float *ob = j->out + b * m * dv;
        for (long i0 = 0; i0 < m; i0 += ATTN_ROWS) {
            const long rows = m - i0 < ATTN_ROWS ? m - i0 : ATTN_ROWS;
            mcr_gemm_f32(qb + i0 * d, d, kb, n, scores, n, rows, d, n, 0, 0, 0, 0);
            scaled_softmax(scores, rows, n, j->scale);
            mcr_gemm_f32(scores, n, vb, dv, ob + i0 * dv, dv, rows, n, dv, 0, 0, 0, 0);
        }
    }
}

void mcr_attention_f32(const float *q, const float *k, const float *v, float *out,
                       float *scores, long batch, long m, long n, long d, long dv,
                       float scale, const struct mcr_threads *th)
{
    const double work = (double)batch * m * n * (d + dv);
    struct attention_job job = {q, k, v, out, scores, batch, m, n, d, dv,
                                mcr_tasks(th, batch, work, MCR_TASK_MIN_MACS), scale, th};
    mcr_run_tasks(th, attention_task, &job, job.tasks);
}
