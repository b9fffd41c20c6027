/* Dense convolution (groups 1) writing channels-last (NHWC) output, as GEMMs over bands of
 * output pixels: for each band of up to BAND pixels, the band's im2col rows
 * [pixels][kh*kw*c] (tap-major, channels innermost) are gathered into the scratch and
 * multiplied by the weights [kh*kw*c][k], packed into the GEMM's panels at compile time;
 * the GEMM writes the band's pixels, each k contiguous channels, with the bias and the
 * epilogue fused. x may be NCHW (the graph's input image, read by the stem) or NHWC.
 *
 * Why bands: 128 rows keep the GEMM in full register tiles while the im2col
 * stays small (MCi's 3x3 stem: 27 floats per pixel; ViT-B/16's 16x16 patches: 768).
 *
 * mcr_conv_dw_nhwc_f32 (below) is the same convolution feeding a depthwise one row by
 * row, its output never written whole. */
#include <string.h>

#include "dwconv_nhwc_ukernel.h"
#include "dwconv_ring.h"
#include "gemm.h"
#include "internal.h"
#include "parallel.h"

/* Output pixels per band. */
#define BAND 128

long mcr_conv2d_gemm_nhwc_scratch_floats(long c, long kh, long kw)
{
    return BAND * kh * kw * c;
}

/* First output column whose input column ox * sw + off is >= lim. */
static long first_col(long off, long lim, long sw)
{
    return off >= lim ? 0 : (lim - off + sw - 1) / sw;
}

/* The im2col rows (ckk apart, tap-major, channels innermost) of output pixels ox0..ox1-1
 * of output row oy. Per tap, the output columns that read inside the image are one range,
 * found once; the copy then runs along the row -- for an NCHW input with few channels (the
 * stem: 3) a loop per channel over the row, not one of 3 elements per pixel and tap
 * (measured on MCi's stem alone: 0.71 -> 0.60 ms under AVX2, 0.52 -> 0.41 under AVX-512). */
static void gather_row(const float *xb, int x_nhwc, float *rows, long ckk, long c, long h,
                       long wd, long oy, long ox0, long ox1, long kh, long kw, long sh,
                       long sw, long pt, long pl, long dh, long dw)
{
    for (long r = 0; r < kh; r++) {
        const long iy = oy * sh + r * dh - pt;
        for (long s = 0; s < kw; s++) {
            const long off = s * dw - pl; /* input column of output column ox: ox * sw + off */
            long lo = first_col(off, 0, sw), hi = first_col(off, wd, sw);
            if (iy < 0 || iy >= h) lo = hi = ox1;
            lo = lo < ox0 ? ox0 : (lo > ox1 ? ox1 : lo);
            hi = hi < lo ? lo : (hi > ox1 ? ox1 : hi);
            /* column ox's im2col row is at dst + (ox - ox0) * ckk; it reads input column
             * ox * sw + off */
            float *dst = rows + (r * kw + s) * c;
            for (long ox = ox0; ox < lo; ox++) {
                memset(dst + (ox - ox0) * ckk, 0, (size_t)c * sizeof(float));
            }
            for (long ox = hi; ox < ox1; ox++) {
                memset(dst + (ox - ox0) * ckk, 0, (size_t)c * sizeof(float));
            }
            if (lo == hi) continue; /* no pointer into x: iy may be outside it */
            if (x_nhwc) {
                for (long ox = lo; ox < hi; ox++) {
                    memcpy(dst + (ox - ox0) * ckk, xb + (iy * wd + ox * sw + off) * c,
                           (size_t)c * sizeof(float));
                }
            } else {
                for (long ic = 0; ic < c; ic++) {
                    const float *src = xb + (ic * h + iy) * wd;
                    for (long ox = lo; ox < hi; ox++) {
                        dst[(ox - ox0) * ckk + ic] = src[ox * sw + off];
                    }
                }
            }
        }
    }
}

/* The geometry of a dense convolution: input c x h x wd (NCHW, or NHWC when x_nhwc),
 * output k x oh x ow, kernel, stride, padding, dilation. */
struct conv_geom {
    int x_nhwc;
    long c, h, wd, k, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;
};

/* Output pixels [p0, p0 + np) of image xb into y (k floats a pixel, the first at y), the
 * epilogue's offset of that first element ep_offset: their im2col rows gathered into
 * `rows`, one output row's run at a time, then one GEMM. */
static void conv_band(const struct conv_geom *g, const float *xb, const float *wpacked,
                      const float *bias, const struct mcr_epilogue *ep, float *y, long ep_offset,
                      float *rows, long p0, long np)
{
    const long ckk = g->kh * g->kw * g->c;
    for (long p = p0; p < p0 + np;) {
        const long oy = p / g->ow, ox0 = p % g->ow;
        const long ox1 = ox0 + (p0 + np - p) < g->ow ? ox0 + (p0 + np - p) : g->ow;
        gather_row(xb, g->x_nhwc, rows + (p - p0) * ckk, ckk, g->c, g->h, g->wd, oy, ox0, ox1,
                   g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->dh, g->dw);
        p += ox1 - ox0;
    }
    mcr_gemm_panels_f32(rows, ckk, wpacked, 0, y, g->k, np, ckk, g->k, 0, bias, ep, ep_offset,
                        MCR_GEMM_B_PANELS);
}

struct conv_job {
    struct conv_geom g;
    const float *x, *wpacked, *bias;
    float *y, *scratch;
    const struct mcr_epilogue *ep;
    const struct mcr_threads *th;
    long n, bands, tasks;
};

/* Task t: its share of the (image, band) pairs, with its own im2col scratch. */
static void conv_task(void *ctx, long t)
{
    const struct conv_job *j = ctx;
    const struct conv_geom *g = &j->g;
    const long np_all = g->oh * g->ow;
    float *scratch = mcr_task_scratch(j->th, j->scratch,
                                      mcr_conv2d_gemm_nhwc_scratch_floats(g->c, g->kh, g->kw), t);
    long u0, u1;
    mcr_task_units(t, j->tasks, j->n * j->bands, &u0, &u1);
    for (long u = u0; u < u1; u++) {
        const long b = u / j->bands, p0 = (u % j->bands) * BAND;
        const long np = np_all - p0 < BAND ? np_all - p0 : BAND;
        const long y0 = (b * np_all + p0) * g->k;
        conv_band(g, j->x + b * g->c * g->h * g->wd, j->wpacked, j->bias, j->ep, j->y + y0, y0,
                  scratch, p0, np);
    }
}

void mcr_conv2d_gemm_nhwc_f32(const float *x, int x_nhwc, const float *wpacked,
                              const float *bias, float *y, float *scratch, long n, long c,
                              long h, long wd, long k, long oh, long ow, long kh, long kw,
                              long sh, long sw, long pt, long pl, long dh, long dw,
                              const struct mcr_epilogue *ep, const struct mcr_threads *th)
{
    const long np_all = oh * ow, bands = (np_all + BAND - 1) / BAND;
    const double work = (double)n * np_all * k * kh * kw * c;
    struct conv_job job = {{x_nhwc, c, h, wd, k, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw},
                           x, wpacked, bias, y, scratch, ep, th, n, bands,
                           mcr_tasks(th, n * bands, work, MCR_TASK_MIN_MACS)};
    mcr_run_tasks(th, conv_task, &job, job.tasks);
}

/* The convolution above, then a depthwise convolution of multiplier 1 on its output
 * (dwconv_nhwc.c's, whose micro-kernel it calls), by rows: each depthwise output row
 * needs kh2 rows of the convolution's output, which are computed into a ring of kh2
 * zero-padded rows in the scratch as they are first needed, so that the convolution's
 * output never goes out to memory and back. MCi's stem (3x3/2 to 64 channels, GELU, then
 * depthwise 3x3/2, GELU) writes 4 MB there at 256x256, more than any L2; alone (AMD EPYC
 * Zen 5, AVX-512) this takes 0.87-0.89 of the time of the two kernels, in MCi0 reparam's
 * profile 0.69-0.74 ms instead of 0.92-0.97, with the same bits: each row's pixels are the
 * same GEMM sums, and the depthwise kernel reads the same padded rows. All channels in one
 * pass: the ring (kh2 rows of the depthwise window's width, all channels; ~100 KB for the
 * stem) stays in L2, where groups of channels would compute the convolution again for each
 * group. */
struct conv_dw_job {
    struct conv_geom g;
    const float *x, *wpacked, *bias, *wdw, *bias2;
    const struct mcr_epilogue *ep1, *ep;
    float *y, *scratch;
    const struct mcr_threads *th;
    long n, oh, ow, kh2, kw2, sh2, sw2, pt2, pl2, wp, chunks, tasks;
};

long mcr_conv_dw_nhwc_scratch_floats(long c, long kh, long kw, long k, long ow, long kh2,
                                     long kw2, long sw2)
{
    return (kh2 + 1) * ((ow - 1) * sw2 + kw2) * k + BAND * kh * kw * c;
}

/* What fill_conv_row computes from: image xb, into padded rows whose columns [c0, c1)
 * hold the convolution's pixels, with `cols` as the im2col scratch. */
struct conv_fill {
    const struct conv_dw_job *j;
    const float *xb;
    float *cols;
    long c0, c1;
};

/* Row iy of the convolution's output, zero-padded for the depthwise window. */
static void fill_conv_row(const void *ctx, float *dst, long iy)
{
    const struct conv_fill *f = ctx;
    const struct conv_geom *g = &f->j->g;
    const long k = g->k;
    memset(dst, 0, (size_t)(f->c0 * k) * sizeof(float));
    for (long p = f->c0; p < f->c1; p += BAND) {
        const long np = f->c1 - p < BAND ? f->c1 - p : BAND;
        conv_band(g, f->xb, f->j->wpacked, f->j->bias, f->j->ep1, dst + p * k, 0, f->cols,
                  iy * g->ow + p - f->j->pl2, np);
    }
    memset(dst + f->c1 * k, 0, (size_t)((f->j->wp - f->c1) * k) * sizeof(float));
}

/* Depthwise output rows [oy0, oy1) of image b, with a ring started empty (dwconv_ring.h). */
static void conv_dw_rows(const struct conv_dw_job *j, float *scratch, long b, long oy0,
                         long oy1)
{
    const struct conv_geom *g = &j->g;
    const long k = g->k, wp = j->wp, kh2 = j->kh2;
    const float *zero = scratch + kh2 * wp * k;
    struct conv_fill f = {j, j->x + b * g->c * g->h * g->wd, scratch + (kh2 + 1) * wp * k, 0, 0};
    mcr_inside(-j->pl2, 1, g->ow, wp, &f.c0, &f.c1);
    const float *rows[MCR_DWCONV_MAX_TAPS];
    struct mcr_dw_ring ring;
    mcr_dw_ring_start(&ring, scratch, zero, kh2, wp * k, g->oh);
    for (long oy = oy0; oy < oy1; oy++) {
        mcr_dw_ring_window(&ring, rows, oy * j->sh2 - j->pt2, fill_conv_row, &f);
        float *yrow = j->y + ((b * j->oh + oy) * j->ow) * k;
        MCR_DWCONV_NHWC_UKERNEL(rows, kh2, j->kw2, j->sw2, j->wdw, j->bias2, yrow, j->ow, k, k);
        mcr_epilogue_f32(j->ep, yrow, (b * j->oh + oy) * j->ow * k, j->ow * k);
    }
}

/* Task t: its share of the (image, chunk of rows) units, with its own scratch. */
static void conv_dw_task(void *ctx, long t)
{
    const struct conv_dw_job *j = ctx;
    const struct conv_geom *g = &j->g;
    float *scratch = mcr_task_scratch(
        j->th, j->scratch,
        mcr_conv_dw_nhwc_scratch_floats(g->c, g->kh, g->kw, g->k, j->ow, j->kh2, j->kw2, j->sw2),
        t);
    memset(scratch + j->kh2 * j->wp * g->k, 0, (size_t)(j->wp * g->k) * sizeof(float));
    long u0, u1;
    mcr_task_units(t, j->tasks, j->n * j->chunks, &u0, &u1);
    for (long u = u0; u < u1; u++) {
        const long chunk = u % j->chunks, b = u / j->chunks;
        conv_dw_rows(j, scratch, b, chunk * j->oh / j->chunks, (chunk + 1) * j->oh / j->chunks);
    }
}

void mcr_conv_dw_nhwc_f32(const float *x, int x_nhwc, const float *wpacked, const float *bias,
                          const struct mcr_epilogue *ep1, const float *wdw, const float *bias2,
                          const struct mcr_epilogue *ep, float *y, float *scratch, long n,
                          long c, long h, long wd, long k, long oh1, long ow1, long kh, long kw,
                          long sh, long sw, long pt, long pl, long dh, long dw, long oh, long ow,
                          long kh2, long kw2, long sh2, long sw2, long pt2, long pl2,
                          const struct mcr_threads *th)
{
    const double work = (double)n * (oh1 * ow1 * kh * kw * c + oh * ow * kh2 * kw2) * k;
    struct conv_dw_job j = {{x_nhwc, c, h, wd, k, oh1, ow1, kh, kw, sh, sw, pt, pl, dh, dw},
                            x, wpacked, bias, wdw, bias2, ep1, ep, y, scratch, th, n, oh, ow,
                            kh2, kw2, sh2, sw2, pt2, pl2, (ow - 1) * sw2 + kw2, 1, 1};
    /* Fewer images than threads: chunks of rows, each refilling its ring's first rows
     * (computing those rows of the convolution again). */
    j.tasks = mcr_tasks(th, n * oh, work, MCR_TASK_MIN_MACS);
    j.chunks = n >= j.tasks ? 1 : (j.tasks + n - 1) / n;
    j.tasks = mcr_tasks(th, n * j.chunks, work, MCR_TASK_MIN_MACS);
    mcr_run_tasks(th, conv_dw_task, &j, j.tasks);
}
