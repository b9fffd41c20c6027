/* 2-D average and max pooling over [planes][h][w]. */
#include <float.h>

#include "mcr.h"
#include "parallel.h"

struct pool_args {
    enum mcr_pool_op op;
    const float *x;
    float *y;
    long h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    int count_include_pad;
};

/* Planes [p0, p1). */
static void pool_planes(const void *args, long p0, long p1)
{
    const struct pool_args *a = args;
    const enum mcr_pool_op op = a->op;
    const float *x = a->x;
    float *y = a->y;
    const long h = a->h, w = a->w, oh = a->oh, ow = a->ow, kh = a->kh, kw = a->kw;
    const long sh = a->sh, sw = a->sw, pt = a->pt, pl = a->pl, pb = a->pb, pr = a->pr;
    const long dh = a->dh, dw = a->dw;
    for (long p = p0; p < p1; p++) {
        const float *xp = x + p * h * w;
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) {
                float acc = op == MCR_POOL_MAX ? -FLT_MAX : 0.0f;
                long count = 0, cells = 0;
                for (long r = 0; r < kh; r++) {
                    const long iy = oy * sh + r * dh - pt;
                    for (long s = 0; s < kw; s++) {
                        const long ix = ox * sw + s * dw - pl;
                        /* Cells of the window that fall in the padding (not past it:
                         * ONNX's ceil_mode windows may overhang the padded input). */
                        if (iy >= -pt && iy < h + pb && ix >= -pl && ix < w + pr) cells++;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                        const float v = xp[iy * w + ix];
                        if (op == MCR_POOL_MAX) acc = v > acc ? v : acc;
                        else acc += v;
                        count++;
                    }
                }
                if (op == MCR_POOL_AVG) {
                    const long div = a->count_include_pad ? cells : count;
                    acc = div > 0 ? acc / (float)div : 0.0f;
                }
                y[(p * oh + oy) * ow + ox] = acc;
            }
        }
    }
}

void mcr_pool2d_f32(enum mcr_pool_op op, const float *x, float *y, long planes,
                    long h, long w, long oh, long ow, long kh, long kw, long sh, long sw,
                    long pt, long pl, long pb, long pr, long dh, long dw,
                    int count_include_pad, const struct mcr_threads *th)
{
    const struct pool_args a = {op, x, y, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr,
                                dh, dw, count_include_pad};
    mcr_parallel_for(th, planes, (double)planes * oh * ow * kh * kw, MCR_TASK_MIN_ELEMENTS,
                     pool_planes, &a);
}
