/* Two pointwise GEMMs in a row -- a 1x1 conv (or linear layer) expanding c channels to h,
 * its activation, and the 1x1 conv projecting h back to n (MCi's ConvFFN; a linear MLP
 * with small weights -- not ViT-B/16's, 18.9 MB, which fuse_mlp leaves apart) --
 * by blocks of rows: each block's h-channel hidden rows are written into the scratch and
 * projected at once, while they are still in L2, instead of the whole hidden tensor
 * (4096 x 192 floats, 3 MB, in MCi1's first stage) going out to L3 or memory and back.
 *
 * Each block is the two GEMMs of gemm.c on its rows, so every output element is the same
 * sum in the same order as with two matmul_packed calls: the bits do not change. The
 * weights are read once per block, so the compiler fuses only pairs whose weights are
 * small beside L2 (passes/fuse_mlp.py). Measured alone (AVX2, AMD EPYC Zen 3, 512 KB L2,
 * operands cold, both forms alternating in one process): 4096 x 64 -> 192 -> 64 0.78 of
 * the time of two calls, 1024 x 128 -> 384 -> 128 0.90-0.94, 256 x 256 -> 768 -> 256
 * (1.5 MB of weights) 0.97-0.98. */
#include <stddef.h>

#include "gemm.h"
#include "internal.h"
#include "parallel.h"

/* Hidden floats per block, 96 KB: blocks of 64-96 KB measured best on the shapes above.
 * Rows come in multiples of 24, whole micro-kernel tiles under every target (MR 3, 4,
 * 6, 8). */
#define MLP_HIDDEN_FLOATS 24576L
#define MLP_ROW_STEP 24L

static long mlp_rows(long h)
{
    const long rows = MLP_HIDDEN_FLOATS / h / MLP_ROW_STEP * MLP_ROW_STEP;
    return rows < MLP_ROW_STEP ? MLP_ROW_STEP : rows;
}

long mcr_mlp_packed_scratch_floats(long h)
{
    return mlp_rows(h) * h;
}

struct mlp_job {
    const float *x, *w1, *b1, *w2, *b2;
    const struct mcr_epilogue *ep1, *ep2;
    float *y, *scratch;
    const struct mcr_threads *th;
    long m, c, h, n, rows, blocks, tasks;
};

static void mlp_task(void *ctx, long t)
{
    const struct mlp_job *j = ctx;
    float *hs = mcr_task_scratch(j->th, j->scratch, mcr_mlp_packed_scratch_floats(j->h), t);
    long u0, u1;
    mcr_task_units(t, j->tasks, j->blocks, &u0, &u1);
    for (long u = u0; u < u1; u++) {
        const long r0 = u * j->rows, rn = j->m - r0 < j->rows ? j->m - r0 : j->rows;
        mcr_gemm_panels_f32(j->x + r0 * j->c, j->c, j->w1, 0, hs, j->h, rn, j->c, j->h, NULL,
                            j->b1, j->ep1, r0 * j->h, MCR_GEMM_B_PANELS);
        mcr_gemm_panels_f32(hs, j->h, j->w2, 0, j->y + r0 * j->n, j->n, rn, j->h, j->n, NULL,
                            j->b2, j->ep2, r0 * j->n, MCR_GEMM_B_PANELS);
    }
}

void mcr_mlp_packed_f32(const float *x, const float *w1, const float *b1,
                        const struct mcr_epilogue *ep1, const float *w2, const float *b2,
                        const struct mcr_epilogue *ep2, float *y, float *scratch, long m,
                        long c, long h, long n, const struct mcr_threads *th)
{
    if (m <= 0) return;
    const double work = (double)m * (double)h * (double)(c + n);
    /* Blocks no longer than the threads' shares, so that a short m (fewer rows than
     * threads x a block) still splits among them; the blocks do not change the bits. */
    const long steps = (m + MLP_ROW_STEP - 1) / MLP_ROW_STEP;
    const long most = mcr_tasks(th, steps, work, MCR_TASK_MIN_MACS);
    const long share = (steps + most - 1) / most * MLP_ROW_STEP;
    const long rows = share < mlp_rows(h) ? share : mlp_rows(h);
    const long blocks = (m + rows - 1) / rows;
    struct mlp_job j = {x, w1, b1, w2, b2, ep1, ep2, y, scratch, th, m, c, h, n, rows, blocks, 1};
    j.tasks = mcr_tasks(th, blocks, work, MCR_TASK_MIN_MACS);
    mcr_run_tasks(th, mlp_task, &j, j.tasks);
}
