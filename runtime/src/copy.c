/* Strided copy and fill: transpose, slice, concat, split, expand and gather. */
#include <string.h>

#include "mcr.h"
#include "parallel.h"
#include "strided.h"

static void copy(float *dst, const long *dstride, const float *src, const long *sstride,
                 const long *shape, int rank)
{
    if (rank == 0) {
        dst[0] = src[0];
        return;
    }
    if (mcr_volume(shape, rank) == 0) return;
    long idx[MCR_MAX_RANK] = {0};
    long off[2] = {0, 0};
    const long *strides[2] = {dstride, sstride};
    const long n = shape[rank - 1], ds = dstride[rank - 1], ss = sstride[rank - 1];
    do {
        float *d = dst + off[0];
        const float *s = src + off[1];
        if (ds == 1 && ss == 1) {
            memcpy(d, s, (size_t)n * sizeof(float));
        } else {
            for (long i = 0; i < n; i++) d[i * ds] = s[i * ss];
        }
    } while (mcr_next_index(idx, shape, rank, off, strides, 2));
}

struct copy_args {
    float *dst;
    const float *src;
    const long *dstride, *sstride, *shape;
    int rank, dim;
};

/* Indices [i0, i1) of the first dimension longer than 1. */
static void copy_range(const void *args, long i0, long i1)
{
    const struct copy_args *c = args;
    long shape[MCR_MAX_RANK];
    for (int d = 0; d < c->rank; d++) shape[d] = c->shape[d];
    shape[c->dim] = i1 - i0;
    copy(c->dst + i0 * c->dstride[c->dim], c->dstride, c->src + i0 * c->sstride[c->dim],
         c->sstride, shape, c->rank);
}

void mcr_copy_strided_f32(float *dst, const long *dstride, const float *src,
                          const long *sstride, const long *shape, int rank,
                          const struct mcr_threads *th)
{
    if (rank == 0) {
        dst[0] = src[0];
        return;
    }
    int dim = 0;
    while (dim < rank - 1 && shape[dim] == 1) dim++;
    const struct copy_args c = {dst, src, dstride, sstride, shape, rank, dim};
    mcr_parallel_for(th, shape[dim], (double)mcr_volume(shape, rank), MCR_TASK_MIN_ELEMENTS,
                     copy_range, &c);
}

void mcr_fill_f32(float *dst, long n, float value)
{
    for (long i = 0; i < n; i++) dst[i] = value;
}
