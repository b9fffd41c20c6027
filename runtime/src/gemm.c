/* The GEMM behind matmul, 1x1 and k x k convolution and attention, GotoBLAS-style: for
 * each panel of NR columns of c, and each block of KC rows of b, the block of b is packed
 * into a contiguous, zero-padded [KC][NR] buffer on the stack, and a micro-kernel
 * (gemm_ukernel.h) accumulates every MR-row tile of c from it.
 *
 * Why pack: unpacked, the KC rows of a b panel sit one leading dimension apart -- for a
 * 1x1 convolution over a 64x64 image, 16 KB, a multiple of 4 KB -- so they all fall into
 * the same few L1 sets and evict each other on every tile; packed, they are one
 * sequential stream that stays in L1 across all tiles of the panel. Why KC: the packed
 * block (KC x NR floats, 8 KB under AVX-512 and AVX2) must fit in L1 beside the rows of a.
 *
 * The micro-kernels start each tile from the bias on the first block of b and add onto
 * it on the next ones, and the epilogue runs on a tile right after its last block, so
 * that when k fits one block (most 1x1 convolutions here) c is written once. Edge tiles
 * (fewer than MR rows or NR columns) go through small zero-padded copies so that the
 * same micro-kernel computes them. b may also come in panels (mcr.h, MCR_PANEL), packed
 * at compile time (or by attention, per head): then nothing is packed here, and with a
 * rows form of the micro-kernel the loops turn (gemm_slabs): each tile takes a slab of up
 * to 1024 rows of k (k cut into even slabs) in one call, and an edge of at most NR / 2
 * columns takes a half-width micro-kernel (config.h), in place when it is exactly NR / 2. */
#include <stdint.h>
#include <string.h>

#include "epilogue.h"
#include "gemm.h"
#include "gemm_ukernel.h"
#include "internal.h"
#include "parallel.h"

/* Rows of b per packed block (config.h: 64 for the SIMD kernels). Measured on this
 * project's shapes (AMD EPYC, 48 KB L1d; the model's generated code against the same code
 * with another KC, alternating runs): AVX-512 MCi4 -12% and ViT-B/16 -2% against 256 (a 32 KB block, two
 * thirds of that L1 before a's rows and c's tile), AVX2 MCi4 -4% and ViT-B/16 +-1% against
 * 128; 32 is slower (ViT-B/16 +10%). An 8 KB block (AVX-512, AVX2; 4 KB NEON) leaves room in any
 * L1 of 32 KB or more, which is every x86-64-v3/v4 CPU's. It is also the length of the
 * micro-kernel's chain of additions: with
 * 256, x86-64-v4's GEMMs were 1.9x as far from float64 as the portable kernel's (random
 * 256x512x2048: relative RMS error 2.9e-7 against 1.6e-7; onnxruntime's MatMul 2.9e-7,
 * its 1x1 Conv 2.1e-7), with 64 they are level with it (1.6e-7). The portable kernel takes
 * blocks of 256 and sums them in chunks of 64 itself. */
#define KC MCR_GEMM_KC

#define MR MCR_GEMM_MR
#define NR MCR_GEMM_NR
#if MCR_GEMM_PANEL % NR != 0
#error "a pre-packed panel must hold whole micro-kernel tiles"
#endif

/* Element (p, j) of a [k][n] b in panels (mcr.h, MCR_PANEL): panel j / W, row p. */
static const float *panel_at(const float *b, long k, long p, long j)
{
    return b + (j / MCR_GEMM_PANEL) * k * MCR_GEMM_PANEL + p * MCR_GEMM_PANEL +
           j % MCR_GEMM_PANEL;
}

/* The column bias of the jn columns from j0, zero-padded to NR in cbt; NULL for none. */
static const float *panel_bias(const float *col_bias, long j0, long jn, float cbt[NR])
{
    if (!col_bias) return NULL;
    for (long j = 0; j < NR; j++) cbt[j] = j < jn ? col_bias[j0 + j] : 0.0f;
    return cbt;
}

/* n < NR floats of an edge tile's row. In pieces of 8 of constant length, each one or two
 * vector moves: gcc expanded the memcpy of a length it knows to be under NR as `rep movsq`,
 * slow to start on AMD Zen 3 (16% of the GEMM's own time on MCi's stem, k = 27, whose 80
 * columns end in an edge panel). */
static void copy_cols(float *dst, const float *src, long n)
{
    long j = 0;
    for (; j + 8 <= n; j += 8) memcpy(dst + j, src + j, 8 * sizeof(float));
    for (; j < n; j++) dst[j] = src[j];
}

/* An edge tile's copy ct (rows x NR) of the in x jn sums in c, to add onto: zero past jn
 * and below in, where the micro-kernel reads but nothing of c is. */
static void edge_tile_in(float *ct, const float *ctile, long ldc, long in, long rows, long jn)
{
    for (long r = 0; r < rows; r++) {
        long j = 0;
        if (r < in) {
            copy_cols(ct + r * NR, ctile + r * ldc, jn);
            j = jn;
        }
        for (; j < NR; j++) ct[r * NR + j] = 0.0f;
    }
}

/* The epilogue of a finished tile, while it is in L1 (in c, rows ldt apart, or in a copy);
 * a full tile's rows with the constant width NR (epilogue.h). The residual is laid out as
 * c, so its offset is the element's and its rows ldc apart. */
static void tile_epilogue(const struct mcr_epilogue *ep, float *tile, long ldt, long ldc,
                          long rows, long cols, long offset)
{
    if (cols == NR) {
        mcr_epilogue_rows(ep, tile, ldt, ldc, rows, NR, offset);
    } else if (cols == NR / 2) { /* a half-width edge (MCi2's 80 and 240 channels) */
        mcr_epilogue_rows(ep, tile, ldt, ldc, rows, NR / 2, offset);
    } else {
        mcr_epilogue_rows(ep, tile, ldt, ldc, rows, cols, offset);
    }
}

#if defined(MCR_GEMM_UKERNEL_ROWS)
/* Pre-packed b: each panel of NR columns of b is one stream over k, so each tile of c
 * takes a slab of up to SLAB rows of it in one micro-kernel call, which sums them in
 * chunks (MCR_GEMM_CHUNK): the same bits as block by block (gemm_ukernel.h). A call per
 * block of KC steps spent ~8% of the kernel entering and leaving (ViT-B/16's linear
 * layers, AVX-512: 8 cycles a step, ~40 a call). The tiles after the first stream the slab from
 * L2 (128 bytes per 8 cycles, a sequential stream the hardware prefetcher follows): a slab
 * is 1024 x NR floats, 128 KB under AVX-512 and AVX2 and 64 KB under NEON, so that it
 * stays in any current core's L2 whatever k is (MCi4's 8192 would be a 512 KB panel under
 * NEON). Measured here (AMD EPYC, 1 MB L2), model against model: level with all of k at
 * once; slabs of 256 were 2% slower on MCi4 (AVX-512). Each tile prefetches its share of
 * the next slab as it goes (the weights come from memory). The last rows take the rows
 * form in place; edge columns go through a zero-padded copy, or, NR / 2 wide, straight
 * into c through the half-width kernel. */
#define SLAB (16 * MCR_GEMM_CHUNK)

/* The rows-form micro-kernel for a tile of jn <= NR columns, and the columns it writes
 * (*width): the half-width one when jn fits it, so that no zero column of the padded
 * panel is computed (a 16-column edge of a 32-column panel: half the 8x32's multiply-adds
 * would be on zeros), else the full-width one. */
static mcr_gemm_rows_ukernel cols_ukernel(long jn, long *width)
{
#if defined(MCR_GEMM_UKERNEL_HALF_ROWS)
    if (jn <= NR / 2) {
        *width = NR / 2;
        return MCR_GEMM_UKERNEL_HALF_ROWS;
    }
#else
    (void)jn;
#endif
    *width = NR;
    return MCR_GEMM_UKERNEL_ROWS;
}

/* Rows of k per slab: k in slabs of at most SLAB rows, as even as whole chunks allow
 * (MCi3's k = 1536 as 768 + 768, not 1024 + 512). A tile prefetches the next slab while it
 * computes this one, so a short slab after a long one must fetch a long slab in few steps:
 * with a few tiles per panel (MCi3's last stage, 16 rows, 38 MB of weights from memory) it
 * asked for twice the memory's rate there and half of it elsewhere. Slab bounds on whole
 * chunks keep the bits (gemm_ukernel.h). */
static long even_slab(long k)
{
    const long slabs = (k + SLAB - 1) / SLAB;
    const long chunks = (k + MCR_GEMM_CHUNK - 1) / MCR_GEMM_CHUNK;
    return (chunks + slabs - 1) / slabs * MCR_GEMM_CHUNK;
}

/* Whether the rows of c lie a multiple of 4 KB apart (ldc = 1024, 2048, 3072, ... floats:
 * MCi3's and MCi4's 1x1 convs to 1024-8192 channels, ViT-B/16's 3072-wide first MLP
 * layer), so that a tile's 2 x MR row pieces fall into one set of L1 (64 sets of 64-byte
 * lines on AMD Zen 3-5 and Intel's cores since Sunny Cove alike) and evict each other: the
 * micro-kernel adds each chunk of k onto c's rows and the epilogue reads them back just
 * after. gemm_slabs then takes a full tile through a contiguous buffer and writes c once,
 * with the same bits (the buffer only holds c's running sum). Measured (AMD EPYC Zen 5,
 * AVX-512): alone, with GELU, the median of 7 alternations, 256 x 512 -> 2048 233 -> 248
 * GFLOP/s, 197 x 768 -> 3072 239 -> 250, 1024 x 256 -> 1024 223 -> 235; in the models
 * (ab.py, medians) ViT-B/16 0.986-0.992 of the time over three runs (x86-64-v3 0.990),
 * MCi3 and MCi4 level (0.987-1.004; x86-64-v3 MCi4 1.000). Taking also the strides at
 * which only some rows lie 4 KB apart (256, 512, 768: rows 4 or 2 apart), faster alone
 * (1024 x 768 -> 256 237 -> 246, 256 x 2048 -> 512 236 -> 246), made MCi0 reparam
 * 1.009-1.012 of the time: not taken. */
static int rows_alias(long ldc)
{
    return ldc % 1024 == 0;
}

static void gemm_slabs(const float *a, long lda, const float *b, float *c, long ldc, long m,
                       long k, long n, const float *row_bias, const float *col_bias,
                       const struct mcr_epilogue *ep, long ep_offset)
{
    float ct[MR * NR];   /* an edge tile of c, or a full one whose rows alias */
    float cbt[NR];       /* the panel's column bias, zero-padded to NR */
    const long tiles = (m + MR - 1) / MR;
    const long slab = even_slab(k);
    const int alias = rows_alias(ldc);
    for (long j0 = 0; j0 < n; j0 += NR) {
        const long jn = n - j0 < NR ? n - j0 : NR;
        const float *cb = panel_bias(col_bias, j0, jn, cbt);
        for (long p0 = 0; p0 < k; p0 += slab) {
            const long kc = k - p0 < slab ? k - p0 : slab;
            const int acc = p0 > 0, last = p0 + kc == k;
            const float *bslab = panel_at(b, k, p0, j0);
            /* the next slab: of this panel, or the next panel's first */
            const long p0n = last ? 0 : p0 + slab, j0n = last ? j0 + NR : j0;
            const float *bnext = NULL;
            long kcn = 0;
            if (j0n < n) {
                kcn = k - p0n < slab ? k - p0n : slab;
                bnext = panel_at(b, k, p0n, j0n);
            }
            for (long i0 = 0; i0 < m; i0 += MR) {
                const long in = m - i0 < MR ? m - i0 : MR, t = i0 / MR;
                const float *pf = NULL; /* this tile's share of the next slab */
                long pf_rows = 0;
                if (bnext) {
                    const long r0 = t * kcn / tiles;
                    pf = bnext + r0 * MCR_GEMM_PANEL;
                    pf_rows = (t + 1) * kcn / tiles - r0;
                    if (pf_rows > kc) pf_rows = kc; /* at most a row a step (a short slab) */
                }
                const float *rb = row_bias ? row_bias + i0 : NULL;
                float *ctile = c + i0 * ldc + j0;
                long width = NR;
                const mcr_gemm_rows_ukernel fn = cols_ukernel(jn, &width);
                /* Through ct: edge columns narrower than the kernel (it writes the copy's
                 * rows whole, zero-padded), or a full tile whose rows of c alias
                 * (rows_alias): c read for a slab after the first, and written once. */
                const int via_ct = jn != width || (in == MR && alias);
                float *out = via_ct ? ct : ctile;
                const long ldo = via_ct ? NR : ldc;
                if (via_ct && acc) edge_tile_in(ct, ctile, ldc, in, in, jn);
                if (jn == NR && in == MR) {
                    MCR_GEMM_UKERNEL(kc, a + i0 * lda + p0, lda, bslab, MCR_GEMM_PANEL, out, ldo,
                                     rb, cb, acc, pf, pf_rows);
                } else { /* the last rows, or edge columns */
                    fn(in, kc, a + i0 * lda + p0, lda, bslab, MCR_GEMM_PANEL, out, ldo, rb, cb,
                       acc, pf, pf_rows);
                }
                if (last) tile_epilogue(ep, out, ldo, ldc, in, jn, ep_offset + (ctile - c));
                if (via_ct) {
                    for (long r = 0; r < in; r++) copy_cols(ctile + r * ldc, ct + r * NR, jn);
                }
            }
        }
    }
}
#endif

void mcr_gemm_panels_f32(const float *a, long lda, const float *b, long ldb, float *c,
                         long ldc, long m, long k, long n, const float *row_bias,
                         const float *col_bias, const struct mcr_epilogue *ep, long ep_offset,
                         int flags)
{
#if defined(MCR_GEMM_UKERNEL_ROWS)
    if ((flags & MCR_GEMM_B_PANELS) && k > 0) {
        gemm_slabs(a, lda, b, c, ldc, m, k, n, row_bias, col_bias, ep, ep_offset);
        return;
    }
#endif
    const int b_panels = flags & MCR_GEMM_B_PANELS;
    float bp[KC * NR];   /* packed block of b */
    float at[MR * KC];   /* a's last rows, zero-padded to MR */
    float ct[MR * NR];   /* an edge tile of c, or a full one whose rows alias */
    float cbt[NR];       /* the panel's column bias, zero-padded to NR */
    float rbt[MR];       /* the last rows' bias, zero-padded to MR */
    if (k == 0) { /* no block to start from the bias: c is the bias */
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                float *cij = c + i * ldc + j;
                *cij = row_bias ? row_bias[i] : (col_bias ? col_bias[j] : 0.0f);
                mcr_epilogue_f32(ep, cij, ep_offset + (cij - c), 1);
            }
        }
        return;
    }
    for (long j0 = 0; j0 < n; j0 += NR) {
        const long jn = n - j0 < NR ? n - j0 : NR;
        const float *cb = panel_bias(col_bias, j0, jn, cbt);
        for (long p0 = 0; p0 < k; p0 += KC) {
            const long kc = k - p0 < KC ? k - p0 : KC;
            const int acc = p0 > 0, last = p0 + kc == k;
            const float *bpanel = bp;
            long ldbp = NR;
            /* Pre-packed b is one stream in the order the blocks are used: each tile of
             * this block prefetches its share of the next block's rows, spread over its
             * steps (gemm_ukernel.h), so the next block is in cache when its first tile
             * starts. For weights that come from memory every inference: ViT-B/16's
             * linear layers (7 MB each) and above all MCi4's last stage (16 rows x 2048 x
             * 8192, 64 MB, two tiles per block). Measured there, weights not in cache (AMD
             * EPYC Zen 5, AVX-512, one thread): no prefetch 7.4 ms; each tile's share as a
             * burst of lines at its start (up to 64, more misses than the core tracks at
             * once) 5.0-5.4 ms; spread over the steps 2.5-2.9 ms (AVX2 5.6 -> 4.5 ms).
             * ViT-B/16's shapes (25 tiles a block) within 1% either way. */
            const float *bnext = NULL;
            long kcn = 0;
            if (b_panels) { /* pre-packed: the panel holding columns j0.. at row p0 */
                bpanel = panel_at(b, k, p0, j0);
                ldbp = MCR_GEMM_PANEL;
                const long p0n = last ? 0 : p0 + KC, j0n = last ? j0 + NR : j0;
                if (j0n < n) { /* its first row, at this tile's columns */
                    kcn = k - p0n < KC ? k - p0n : KC;
                    bnext = panel_at(b, k, p0n, j0n);
                }
            } else {
                /* Whether a next panel exists: only then may a pointer go there. */
                const int ahead = j0 + 2 * NR <= n;
                for (long p = 0; p < kc; p++) {
                    const float *brow = b + (p0 + p) * ldb + j0;
                    /* The next panel's part of this row: one stream per row is more
                     * than the hardware prefetcher follows. */
                    for (long j = NR; ahead && j < 2 * NR; j += 16) MCR_PREFETCH((uintptr_t)(brow + j));
                    memcpy(bp + p * NR, brow, (size_t)jn * sizeof(float));
                    for (long j = jn; j < NR; j++) bp[p * NR + j] = 0.0f;
                }
            }
            const long tiles = (m + MR - 1) / MR;
            for (long i0 = 0; i0 < m; i0 += MR) {
                const long in = m - i0 < MR ? m - i0 : MR;
                float *ctile = c + i0 * ldc + j0;
                const float *pf = NULL; /* this tile's share of the next block */
                long pf_rows = 0;
                if (bnext) {
                    const long t = i0 / MR, r0 = t * kcn / tiles;
                    pf = bnext + r0 * MCR_GEMM_PANEL;
                    pf_rows = (t + 1) * kcn / tiles - r0;
                }
                if (in == MR && jn == NR) {
                    MCR_GEMM_UKERNEL(kc, a + i0 * lda + p0, lda, bpanel, ldbp, ctile, ldc,
                                     row_bias ? row_bias + i0 : NULL, cb, acc, pf, pf_rows);
#if defined(MCR_GEMM_UKERNEL_ROWS)
                } else if (jn == NR) { /* the last rows, in place */
                    MCR_GEMM_UKERNEL_ROWS(in, kc, a + i0 * lda + p0, lda, bpanel, ldbp, ctile,
                                          ldc, row_bias ? row_bias + i0 : NULL, cb, acc, pf,
                                          pf_rows);
#endif
                } else { /* an edge tile, through zero-padded copies */
                    const float *atile = a + i0 * lda + p0;
                    long la = lda;
                    if (in < MR) {
                        for (long r = 0; r < MR; r++) {
                            for (long p = 0; p < kc; p++) {
                                at[r * KC + p] = r < in ? atile[r * lda + p] : 0.0f;
                            }
                        }
                        atile = at;
                        la = KC;
                    }
                    const float *rb = NULL;
                    if (row_bias) {
                        for (long r = 0; r < MR; r++) rbt[r] = r < in ? row_bias[i0 + r] : 0.0f;
                        rb = rbt;
                    }
                    if (acc) edge_tile_in(ct, ctile, ldc, in, MR, jn); /* all MR rows read */
                    MCR_GEMM_UKERNEL(kc, atile, la, bpanel, ldbp, ct, NR, rb, cb, acc, pf, pf_rows);
                    for (long r = 0; r < in; r++) copy_cols(ctile + r * ldc, ct + r * NR, jn);
                }
                if (last) { /* the tile's sums are complete and still in L1 */
                    tile_epilogue(ep, ctile, ldc, ldc, in, jn, ep_offset + (ctile - c));
                }
            }
        }
    }
}

void mcr_gemm_f32(const float *a, long lda, const float *b, long ldb, float *c, long ldc,
                  long m, long k, long n, const float *row_bias, const float *col_bias,
                  const struct mcr_epilogue *ep, long ep_offset)
{
    mcr_gemm_panels_f32(a, lda, b, ldb, c, ldc, m, k, n, row_bias, col_bias, ep, ep_offset, 0);
}

struct gemm_job {
    const float *a, *b, *row_bias, *col_bias;
    float *c;
    long lda, ldb, ldc, m, k, n, ep_offset, units, tasks;
    const struct mcr_epilogue *ep;
    int flags, by_rows;
};

/* Task t: its blocks of rows (MR each) or of columns (MCR_PANEL each, so that a panel of
 * pre-packed b starts at a whole panel). */
static void gemm_task(void *ctx, long t)
{
    const struct gemm_job *j = ctx;
    long u0, u1;
    mcr_task_units(t, j->tasks, j->units, &u0, &u1);
    if (u0 == u1) return;
    if (j->by_rows) {
        const long i0 = u0 * MR, i1 = u1 * MR < j->m ? u1 * MR : j->m;
        mcr_gemm_panels_f32(j->a + i0 * j->lda, j->lda, j->b, j->ldb, j->c + i0 * j->ldc,
                            j->ldc, i1 - i0, j->k, j->n, j->row_bias ? j->row_bias + i0 : NULL,
                            j->col_bias, j->ep, j->ep_offset + i0 * j->ldc, j->flags);
    } else {
        const long c0 = u0 * MCR_PANEL, c1 = u1 * MCR_PANEL < j->n ? u1 * MCR_PANEL : j->n;
        const float *b = (j->flags & MCR_GEMM_B_PANELS) ? j->b + c0 * j->k : j->b + c0;
        mcr_gemm_panels_f32(j->a, j->lda, b, j->ldb, j->c + c0, j->ldc, j->m, j->k, c1 - c0,
                            j->row_bias, j->col_bias ? j->col_bias + c0 : NULL, j->ep,
                            j->ep_offset + c0, j->flags);
    }
}

void mcr_gemm_threads_f32(const struct mcr_threads *th, const float *a, long lda,
                          const float *b, long ldb, float *c, long ldc, long m, long k,
                          long n, const float *row_bias, const float *col_bias,
                          const struct mcr_epilogue *ep, long ep_offset, int flags)
{
    const long row_blocks = (m + MR - 1) / MR, col_blocks = (n + MCR_PANEL - 1) / MCR_PANEL;
    const int by_rows = m >= n || col_blocks < 2;
    const long units = by_rows ? row_blocks : col_blocks;
    const long tasks = mcr_tasks(th, units, (double)m * (double)k * (double)n,
                                 MCR_TASK_MIN_MACS);
    if (tasks <= 1) { /* the serial call itself */
        mcr_gemm_panels_f32(a, lda, b, ldb, c, ldc, m, k, n, row_bias, col_bias, ep, ep_offset,
                            flags);
        return;
    }
    struct gemm_job job = {a, b, row_bias, col_bias, c, lda, ldb, ldc, m, k, n, ep_offset,
                           units, tasks, ep, flags, by_rows};
    mcr_run_tasks(th, gemm_task, &job, tasks);
}
