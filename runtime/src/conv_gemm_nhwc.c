/* Dense convolution (groups 1) writing channels-last (NHWC) output, as GEMMs over bands of
 * output pixels: for each band of up to BAND pixels, the band's im2col rows
 * [pixels][kh*kw*c] (tap-major, channels innermost) are gathered into the scratch and
 * multiplied by the weights [kh*kw*c][k], packed into the GEMM's panels at compile time;
 * the GEMM writes the band's pixels, each k contiguous channels, with the bias and the
 * epilogue fused. x may be NCHW (the graph's input image, read by the stem) or NHWC.
 *
 * Why bands: 128 rows keep the GEMM in full register tiles while the im2col
 * stays small (MCi's 3x3 stem: 27 floats per pixel; ViT-B/16's 16x16 patches: 768). */
#include <string.h>

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

struct conv_job {
    const float *x, *wpacked, *bias;
    float *y, *scratch;
    const struct mcr_epilogue *ep;
    const struct mcr_threads *th;
    int x_nhwc;
    long n, c, h, wd, k, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, bands, tasks;
};

/* Task t: its share of the (image, band) pairs, with its own im2col scratch. */
static void conv_task(void *ctx, long t)
{
    const struct conv_job *j = ctx;
    const long c = j->c, wd = j->wd, k = j->k, ow = j->ow, kh = j->kh, kw = j->kw;
    const long ckk = kh * kw * c, np_all = j->oh * ow;
    float *scratch = mcr_task_scratch(j->th, j->scratch,
                                      mcr_conv2d_gemm_nhwc_scratch_floats(c, kh, kw), t);
    long u0, u1;
    mcr_task_units(t, j->tasks, j->n * j->bands, &u0, &u1);
    for (long u = u0; u < u1; u++) {
        const long b = u / j->bands, p0 = (u % j->bands) * BAND;
        const long np = np_all - p0 < BAND ? np_all - p0 : BAND;
        const float *xb = j->x + b * c * j->h * wd;
        /* the band's pixels, one output row's run at a time */
        for (long p = p0; p < p0 + np;) {
            const long oy = p / ow, ox0 = p % ow;
            const long ox1 = ox0 + (p0 + np - p) < ow ? ox0 + (p0 + np - p) : ow;
            gather_row(xb, j->x_nhwc, scratch + (p - p0) * ckk, ckk, c, j->h, wd, oy, ox0, ox1,
                       kh, kw, j->sh, j->sw, j->pt, j->pl, j->dh, j->dw);
            p += ox1 - ox0;
        }
        const long y0 = (b * np_all + p0) * k;
        mcr_gemm_panels_f32(scratch, ckk, j->wpacked, 0, j->y + y0, k, np, ckk, k, 0, j->bias,
                            j->ep, y0, MCR_GEMM_B_PANELS);
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
    struct conv_job job = {x, wpacked, bias, y, scratch, ep, th, x_nhwc, n, c, h, wd, k, oh,
                           ow, kh, kw, sh, sw, pt, pl, dh, dw, bands,
                           mcr_tasks(th, n * bands, work, MCR_TASK_MIN_MACS)};
    mcr_run_tasks(th, conv_task, &job, job.tasks);
}
