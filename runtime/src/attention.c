/* Scaled dot-product attention, one head (batch entry) at a time, over strided views.
 *
 * q, kᵀ, v and out are views (mcr.h): an exporter's q, k and v are slices of one qkv
 * matrix ([tokens][3 * heads * dim]), and its output is transposed back into
 * [tokens][heads * dim]. Reading and writing those in place spares ViT-B/16 four copies
 * per layer (1.8 ms of 143 at one thread). Per head, k and v are packed once into the
 * GEMM's panel layout (mcr.h, MCR_PANEL) -- from any strides, so the GEMM never packs
 * them again -- then for each tile of up to ATTN_ROWS query rows: scores = q_tile . kᵀ
 * into the scratch, softmax of each score row in place (its division left to the
 * output row), out_tile = scores . v.
 *
 * The scores' rows are padded to whole panels and the q . kᵀ product runs over whole
 * micro-kernel tiles of columns, or a half-width one where the target has a half-width
 * kernel (kᵀ's padding is zero): ViT-B/16's 197 keys would otherwise end in a 5-column
 * edge tile, computed through copies; padded to 208 (not 224) they end in a 16-column
 * tile computed in place by the half-width kernel (gemm.h, MCR_GEMM_INPLACE_COLS). The
 * padding columns are never read. A tile of 256 rows holds ViT-B/16's 197 queries
 * (measured: tiles of 64 rows 1.07 ms per layer, 256 rows 0.90 ms, from fewer packings of
 * k and v), and its scores (197 x 224 floats, 176 KB) stay in L2 between the two
 * products; longer sequences never hold the whole [m][n] matrix. */
#include <stddef.h>
#include <string.h>

#include "fastmath.h"
#include "gemm.h"
#include "parallel.h"

#define ATTN_ROWS 256
#define PANEL MCR_GEMM_PANEL

static long round_up(long x, long to) { return (x + to - 1) / to * to; }

long mcr_attention_scratch_floats(long m, long n, long d, long dv)
{
    const long ld = round_up(n, PANEL); /* a score row; kᵀ's packed width */
    return (m < ATTN_ROWS ? m : ATTN_ROWS) * ld + d * ld + n * round_up(dv, PANEL);
}

/* x [rows][cols] at strides (rs, cs) into panels (mcr.h), zero-padded to whole panels.
 * v comes as rows (cs = 1): copied a run at a time; kᵀ as k's rows (rs = 1): read along
 * them, written a column of a panel at a time (the panel, d x PANEL floats, stays in L1). */
static void pack_panels(const float *x, long rs, long cs, long rows, long cols, float *dst)
{
    const long width = round_up(cols, PANEL);
    if (cs == 1) {
        for (long j0 = 0; j0 < width; j0 += PANEL) {
            const long run = cols - j0 < PANEL ? cols - j0 : PANEL;
            float *panel = dst + j0 * rows;
            for (long i = 0; i < rows; i++) {
                memcpy(panel + i * PANEL, x + i * rs + j0, (size_t)run * sizeof(float));
                for (long j = run; j < PANEL; j++) panel[i * PANEL + j] = 0.0f;
            }
        }
        return;
    }
    for (long j = 0; j < width; j++) {
        float *col = dst + (j / PANEL) * rows * PANEL + j % PANEL;
        const float *src = x + j * cs;
        for (long i = 0; i < rows; i++) col[i * PANEL] = j < cols ? src[i * rs] : 0.0f;
    }
}

/* softmax(scale * x) of the first n elements of each row (ld apart), in place, but for
 * its division: each row is left as exp(scale * x - max) and 1 / its sum goes into
 * inv[row], for the output row to be multiplied by -- dv products a row instead of n, and
 * the row's sum, a chain of latencies (the lanes' tree, double, a division), no longer
 * holds up a pass over the row (ViT-B/16's attention, 197 x 197 scores, AMD EPYC Zen 5,
 * AVX-512: softmax was 18% of its time; this made it 1.016x as fast). For scale >= 0
 * the scaling goes into exp's argument (mcr_exp_sum_row) instead of a pass of its own. */
static void scaled_softmax(float *s, long rows, long n, long ld, float scale, float *inv)
{
    for (long r = 0; r < rows; r++, s += ld) {
        float in_exp = scale;
        if (scale < 0.0f) { /* then the max of scale * x is not scale * max(x) */
            for (long j = 0; j < n; j++) s[j] *= scale;
            in_exp = 1.0f;
        }
        inv[r] = (float)(1.0 / mcr_exp_sum_row(s, s, n, in_exp));
    }
}

struct attention_job {
    const float *q, *kt, *v;
    float *out, *scratch;
    const long *qs, *ks, *vs, *os;
    long entries, heads, m, n, d, dv, tasks;
    float scale;
    const struct mcr_threads *th;
};

/* Task t: its share of the batch entries (heads), with its own scratch. */
static void attention_task(void *ctx, long t)
{
    const struct attention_job *j = ctx;
    const long m = j->m, n = j->n, d = j->d, dv = j->dv, ld = round_up(n, PANEL);
    float *scores = mcr_task_scratch(j->th, j->scratch,
                                     mcr_attention_scratch_floats(m, n, d, dv), t);
    float *kp = scores + (m < ATTN_ROWS ? m : ATTN_ROWS) * ld, *vp = kp + d * ld;
    long b0, b1;
    mcr_task_units(t, j->tasks, j->entries, &b0, &b1);
    for (long b = b0; b < b1; b++) {
        const long outer = b / j->heads, head = b % j->heads;
#define AT(x, s) ((x) + outer * (s)[0] + head * (s)[1])
        const float *qb = AT(j->q, j->qs);
        float *ob = AT(j->out, j->os);
        pack_panels(AT(j->kt, j->ks), j->ks[2], j->ks[3], d, n, kp);
        pack_panels(AT(j->v, j->vs), j->vs[2], j->vs[3], n, dv, vp);
#undef AT
        for (long i0 = 0; i0 < m; i0 += ATTN_ROWS) {
            const long rows = m - i0 < ATTN_ROWS ? m - i0 : ATTN_ROWS;
            mcr_gemm_panels_f32(qb + i0 * j->qs[2], j->qs[2], kp, 0, scores, ld, rows, d,
                                round_up(n, MCR_GEMM_INPLACE_COLS), NULL, NULL, NULL, 0,
                                MCR_GEMM_B_PANELS);
            float inv[ATTN_ROWS];
            scaled_softmax(scores, rows, n, ld, j->scale, inv);
            float *ot = ob + i0 * j->os[2];
            mcr_gemm_panels_f32(scores, ld, vp, 0, ot, j->os[2], rows, n, dv, NULL, NULL, NULL,
                                0, MCR_GEMM_B_PANELS);
            for (long r = 0; r < rows; r++) {
                float *o = ot + r * j->os[2];
                for (long c = 0; c < dv; c++) o[c] *= inv[r];
            }
        }
    }
}

void mcr_attention_f32(const float *q, const long qs[4], const float *kt, const long ks[4],
                       const float *v, const long vs[4], float *out, const long os[4],
                       float *scratch, long batch, long heads, long m, long n, long d,
                       long dv, float scale, const struct mcr_threads *th)
{
    const long entries = batch * heads;
    const double work = (double)entries * m * n * (d + dv);
    struct attention_job job = {q, kt, v, out, scratch, qs, ks, vs, os, entries, heads, m, n, d, dv,
                                mcr_tasks(th, entries, work, MCR_TASK_MIN_MACS), scale, th};
    mcr_run_tasks(th, attention_task, &job, job.tasks);
}
