/* Depthwise convolution over channels-last (NHWC) tensors, vectorized across channels:
 * x is [n][h][wd][c], y [n][oh][ow][c*mult], w [kh][kw][c*mult] (packed so at compile
 * time); dilation 1, any kernel size, stride and padding.
 *
 * The output is computed in groups of channels (group() below), each over the whole
 * image. Each output row needs kh input rows: for the group's channels, those are kept in a
 * ring of kh zero-padded rows in the scratch (dwconv_ring.h), each input row copied in
 * once: slot (iy mod kh), columns t = ix + pl for t < wp = (ow-1)*sw + kw, the channels
 * repeated `mult` times (output channel oc reads input channel oc / mult), so that the
 * micro-kernel (dwconv_nhwc_ukernel.h) reads every tap as one unit-stride vector of
 * channels and needs no border tests. Rows above and below the image point at one zero row.
 *
 * Why channels-last here: the late stages' planes are 16x16 and 8x8 -- a row is one
 * vector or half of one, so vectorizing along pixels (dwconv.c) leaves most lanes idle,
 * while their 256..1024 channels fill every vector. */
#include <string.h>

#include "dwconv_nhwc_ukernel.h"
#include "dwconv_ring.h"
#include "internal.h"
#include "mcr.h"
#include "parallel.h"
#if defined(MCR_VEC_HEADER) /* config.h: the target's vector layer, for fill_row's copy */
#include MCR_VEC_HEADER
#endif

/* Channels per pass over the image: as many multiples of GROUP (one AVX-512 vector) as
 * keep the pass's ring of kh input rows (kh x wp x group floats) within RING_FLOATS (24 KB,
 * half of a 48 KB L1d and within a 32 KB one beside the weights and output row), so the
 * ring stays in L1 from one output row to the next, where the ring of all channels did
 * not (125 KB for 7x7 on 64 channels of a 64-wide plane). But each pass reads the whole
 * input again: above BIG_INPUT floats (2 MB) one pass takes all channels (MCi's stem
 * depthwise, 4 MB in, before fuse_conv_dw took it into conv_gemm_nhwc.c's ring, which
 * does the same). Measured alone, AVX-512 (Zen 5, beside the fixed 16 channels a
 * pass it replaces): 3x3 on 8x8x640 0.60 of the time, on 16x16x320 0.71-0.73, on
 * 32x32x160 0.87-0.92; 7x7 on 8x8x640 0.83, on 16x16x320 0.93; level where the ring of 16
 * is already 24 KB (7x7 on 32x32 and 64x64 planes). With 16 a pass, a quarter of the time
 * (perf, 3x3 on 32x32x160) went to the ring's copy: a 64-byte load per pixel at the
 * stride of all channels; a wider pass copies longer pieces, fewer times per row. The 16
 * a pass, against all channels in one: 7x7 on 64x64x64 129 -> 170 GFLOP/s, 3x3 on
 * 8x8x1024 29 -> 41 (AVX-512); AVX2 7x7/2 x2 on 16x16x256 19 -> 32. */
#define GROUP 16
#define RING_FLOATS 6144
#define BIG_INPUT (1L << 19)

static long group(long k, long h, long wd, long c, long kh, long wp)
{
    if (k <= GROUP || h * wd * c > BIG_INPUT) return k;
    const long g = RING_FLOATS / (kh * wp) / GROUP * GROUP;
    return g < GROUP ? GROUP : g < k ? g : k;
}

long mcr_dwconv2d_nhwc_scratch_floats(long k, long h, long wd, long c, long ow, long kh,
                                      long kw, long sw)
{
    const long wp = (ow - 1) * sw + kw;
    return (kh + 1) * wp * group(k, h, wd, c, kh, wp);
}

/* Padded copy of output channels [g0, g0 + kc) of input row xrow ([wd][c]) into dst
 * ([wp][kc]); output channel oc reads input channel oc / mult. */
static void fill_row(float *dst, const float *xrow, long wd, long c, long mult, long wp,
                     long pl, long g0, long kc)
{
    long t0, t1; /* columns t with 0 <= t - pl < wd */
    mcr_inside(-pl, 1, wd, wp, &t0, &t1);
    memset(dst, 0, (size_t)(t0 * kc) * sizeof(float));
    const float *xp = xrow + (t0 - pl) * c;
    float *dp = dst + t0 * kc;
    /* Loops the compiler vectorizes, with a constant trip count for each vector of a group
     * (a memcpy call, or a loop of unknown length, per pixel costs more than the copy); a
     * group of one vector without the loop over vectors (2-4% faster, 3x3 on 64x64x80). */
    if (mult == 1 && kc == c) {
        memcpy(dp, xp, (size_t)((t1 - t0) * c) * sizeof(float));
    } else if (mult == 1 && kc == GROUP) {
        for (long t = t0; t < t1; t++, xp += c, dp += GROUP)
            for (long j = 0; j < GROUP; j++) dp[j] = xp[g0 + j];
    } else if (mult == 1 && kc % GROUP == 0) {
        for (long t = t0; t < t1; t++, xp += c, dp += kc)
            for (long q = 0; q < kc; q += GROUP)
                for (long j = 0; j < GROUP; j++) dp[q + j] = xp[g0 + q + j];
    } else if (mult == 2 && kc % GROUP == 0) {
        /* MCi's downsampling convs (g0 is even). With a vector layer: each vector of input
         * channels becomes two of output channels, each lane twice (v_dup_lo, v_dup_hi);
         * gcc compiled the scalar form below to a load and two scalar stores per channel,
         * half of the conv's time (7x7/2 x2 on 64x64x64, AVX-512). kc / 2 is a multiple of
         * 8, so past its whole vectors there is at most half of one (AVX-512's 16 lanes). */
#if defined(MCR_VEC_HEADER)
        const long half = kc / 2, whole = half - half % MCR_VN;
        const mcr_vmask rest = v_mask(half - whole);
        for (long t = t0; t < t1; t++, xp += c, dp += kc) {
            const float *sp = xp + g0 / 2;
            for (long i = 0; i < whole; i += MCR_VN) {
                const mcr_v v = v_load(sp + i);
                v_store(dp + 2 * i, v_dup_lo(v));
                v_store(dp + 2 * i + MCR_VN, v_dup_hi(v));
            }
            if (whole < half) v_store(dp + 2 * whole, v_dup_lo(v_load_part(sp + whole, rest)));
        }
#else
        /* each input channel written twice from one index, not each output channel reading
         * channel (g0 + q + j) >> 1 -- 0.83-0.90 of the time per call (7x7/2 x2 on MCi's
         * planes, AVX-512 and AVX2, before the vector form above) */
        for (long t = t0; t < t1; t++, xp += c, dp += kc)
            for (long q = 0; q < kc; q += GROUP)
                for (long j = 0; j < GROUP / 2; j++) {
                    dp[q + 2 * j] = xp[(g0 + q) / 2 + j];
                    dp[q + 2 * j + 1] = xp[(g0 + q) / 2 + j];
                }
#endif
    } else if (mult == 2) {
        for (long t = t0; t < t1; t++, xp += c, dp += kc)
            for (long j = 0; j < kc; j++) dp[j] = xp[(g0 + j) >> 1];
    } else {
        for (long t = t0; t < t1; t++, xp += c, dp += kc)
            for (long j = 0; j < kc; j++) dp[j] = xp[(g0 + j) / mult];
    }
    memset(dst + t1 * kc, 0, (size_t)((wp - t1) * kc) * sizeof(float));
}

struct dw_job {
    const float *x, *w, *bias;
    float *y, *scratch;
    const struct mcr_epilogue *ep;
    const struct mcr_threads *th;
    long n, c, h, wd, mult, oh, ow, kh, kw, sh, sw, pt, pl;
    long k, wp, gmax, groups, chunks, tasks;
};

/* Prefetch what output row oy of the group from channel g0 reads and writes first: the
 * input rows its window adds to the ring (those not held) and its output pixels at ynext.
 * Both are one 64-byte piece per pixel (a group of 16 channels) at the stride of all the
 * channels, which the hardware prefetchers do not follow, from L3 or memory once the image
 * is larger than L2. Measured alone (AMD EPYC Zen 3, AVX2, inputs and outputs not in
 * cache): 3x3 on 16x16x320 0.49-0.55 of the time, on 32x32x160 0.85, 7x7 on 8x8x640 0.75,
 * on 64x64x80 0.95-1.0; in cache level (0.95-1.08). In the models (per-call profile,
 * x86-64-v3): MCi2 reparam's and MCi3's depthwise convs 36-38 -> 28-31 ms, MCi1's level.
 * A read prefetch for the output too: a write prefetch (prefetchw) was 1.13-1.17x slower
 * with the data in cache. Measured again on Zen 5 and not changed: the output's prefetch
 * alone costs under AVX-512 (per call, inputs in L2: 3x3 1.02-1.15x, 7x7 1.00-1.09x the time
 * of the same code without it; in MCi0 reparam 3-8% of the depthwise time, 0.1 of 22 ms,
 * within ab.py's noise) but pays under AVX2 (MCi2 reparam's 3x3 convs 1.35 -> 1.50 ms
 * without it), so one rule stays for both; prefetching every 64-byte piece of a group
 * wider than 16 channels, not only the first, gained nothing. Always inlined: gcc takes a
 * function that only prefetches for one without side effects and drops the call. */
MCR_ALWAYS_INLINE void prefetch_next_row(const struct dw_job *j, const float *xb,
                                         const struct mcr_dw_ring *ring, const float *ynext,
                                         long g0, long oy)
{
    const long c = j->c, kh = j->kh;
    for (long r = kh > j->sh ? kh - j->sh : 0; r < kh; r++) {
        const long iy = oy * j->sh + r - j->pt;
        if (iy < 0 || iy >= j->h || mcr_dw_ring_holds(ring, iy)) continue;
        const float *xr = xb + iy * j->wd * c + g0 / j->mult;
        for (long t = 0; t < j->wd; t++) MCR_PREFETCH(xr + t * c);
    }
    for (long t = 0; t < j->ow; t++) MCR_PREFETCH(ynext + t * j->k + g0);
}

/* What fill_input_row copies from: channels [g0, g0 + kc) of image xb. */
struct dw_fill {
    const struct dw_job *j;
    const float *xb;
    long g0, kc;
};

static void fill_input_row(const void *ctx, float *dst, long iy)
{
    const struct dw_fill *f = ctx;
    const struct dw_job *j = f->j;
    fill_row(dst, f->xb + iy * j->wd * j->c, j->wd, j->c, j->mult, j->wp, j->pl, f->g0, f->kc);
}

/* Output rows [oy0, oy1) of channels [g0, g0 + kc) of image b, with a ring of input rows
 * started empty (dwconv_ring.h). */
static void dw_rows(const struct dw_job *j, float *scratch, long b, long g0, long oy0, long oy1)
{
    const long k = j->k, wp = j->wp, kh = j->kh;
    const long kc = k - g0 < j->gmax ? k - g0 : j->gmax;
    const struct dw_fill f = {j, j->x + b * j->h * j->wd * j->c, g0, kc};
    float *yb = j->y + b * j->oh * j->ow * k;
    const float *rows[MCR_DWCONV_MAX_TAPS];
    struct mcr_dw_ring ring;
    mcr_dw_ring_start(&ring, scratch, scratch + kh * wp * j->gmax, kh, wp * kc, j->h);
    for (long oy = oy0; oy < oy1; oy++) {
        mcr_dw_ring_window(&ring, rows, oy * j->sh - j->pt, fill_input_row, &f);
        float *yrow = yb + oy * j->ow * k;
        if (oy + 1 < oy1) prefetch_next_row(j, f.xb, &ring, yrow + j->ow * k, g0, oy + 1);
        MCR_DWCONV_NHWC_UKERNEL(rows, kh, j->kw, j->sw, j->w + g0, j->bias ? j->bias + g0 : NULL,
                                yrow + g0, j->ow, kc, k);
        /* One group: the epilogue while the row is in L1. */
        if (j->gmax == k) mcr_epilogue_f32(j->ep, yrow, (b * j->oh + oy) * j->ow * k, j->ow * k);
    }
}

/* Task t: its share of the (image, group, chunk of rows) units, with its own scratch. */
static void dw_task(void *ctx, long t)
{
    const struct dw_job *j = ctx;
    float *scratch = mcr_task_scratch(j->th, j->scratch,
                                      mcr_dwconv2d_nhwc_scratch_floats(j->k, j->h, j->wd, j->c,
                                                                       j->ow, j->kh, j->kw,
                                                                       j->sw), t);
    memset(scratch + j->kh * j->wp * j->gmax, 0, (size_t)(j->wp * j->gmax) * sizeof(float));
    long u0, u1;
    mcr_task_units(t, j->tasks, j->n * j->groups * j->chunks, &u0, &u1);
    for (long u = u0; u < u1; u++) {
        const long chunk = u % j->chunks, g = u / j->chunks % j->groups;
        const long b = u / j->chunks / j->groups;
        dw_rows(j, scratch, b, g * j->gmax, chunk * j->oh / j->chunks,
                (chunk + 1) * j->oh / j->chunks);
    }
}

/* Task t: the epilogue on its share of the output rows (several groups: rows are
 * complete only after all of them). */
static void dw_epilogue_task(void *ctx, long t)
{
    const struct dw_job *j = ctx;
    const long row = j->ow * j->k;
    long r0, r1;
    mcr_task_units(t, j->tasks, j->n * j->oh, &r0, &r1);
    mcr_epilogue_f32(j->ep, j->y + r0 * row, r0 * row, (r1 - r0) * row);
}

void mcr_dwconv2d_nhwc_f32(const float *x, const float *w, const float *bias, float *y,
                           float *scratch, long n, long c, long h, long wd, long mult,
                           long oh, long ow, long kh, long kw, long sh, long sw, long pt,
                           long pl, const struct mcr_epilogue *ep,
                           const struct mcr_threads *th)
{
    const long k = c * mult, wp = (ow - 1) * sw + kw, gmax = group(k, h, wd, c, kh, wp);
    const long groups = (k + gmax - 1) / gmax;
    const double work = (double)n * oh * ow * k * kh * kw;
    struct dw_job j = {x, w, bias, y, scratch, ep, th, n, c, h, wd, mult, oh, ow, kh, kw,
                       sh, sw, pt, pl, k, wp, gmax, groups, 1, 1};
    /* Fewer (image, group) units than threads (one group over a large image):
     * chunks of rows, each refilling its ring's first rows. */
    j.tasks = mcr_tasks(th, n * groups * oh, work, MCR_TASK_MIN_MACS);
    j.chunks = n * groups >= j.tasks ? 1 : (j.tasks + n * groups - 1) / (n * groups);
    j.tasks = mcr_tasks(th, n * groups * j.chunks, work, MCR_TASK_MIN_MACS);
    mcr_run_tasks(th, dw_task, &j, j.tasks);
    if (gmax < k && ep) {
        j.tasks = mcr_tasks(th, n * oh, (double)n * oh * ow * k, MCR_TASK_MIN_ELEMENTS);
        mcr_run_tasks(th, dw_epilogue_task, &j, j.tasks);
    }
}
