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

struct copy_job {
    float *dst;
    const float *src;
    const long *dstride, *sstride, *shape;
    int rank, dim;
    long tasks;
};

/* Task t: its share of the indices of the first dimension longer than 1. */
static void copy_task(void *ctx, long t)
{
    const struct copy_job *j = ctx;
    long shape[MCR_MAX_RANK], i0, i1;
    for (int d = 0; d < j->rank; d++) shape[d] = j->shape[d];
    mcr_task_units(t, j->tasks, shape[j->dim], &i0, &i1);
    shape[j->dim] = i1 - i0;
    copy(j->dst + i0 * j->dstride[j->dim], j->dstride, j->src + i0 * j->sstride[j->dim],
         j->sstride, shape, j->rank);
}

void mcr_copy_strided_f32(float *dst, const long *dstride, const float *src,
                          const long *sstride, const long *shape, int rank,
                          const struct mcr_threads *th)
{
    int dim = 0;
    while (dim < rank - 1 && shape[dim] == 1) dim++;
    const long tasks = rank == 0 ? 1 : mcr_tasks(th, shape[dim], (double)mcr_volume(shape, rank));
    if (tasks <= 1) {
        copy(dst, dstride, src, sstride, shape, rank);
        return;
    }
    struct copy_job j = {dst, src, dstride, sstride, shape, rank, dim, tasks};
    mcr_run_tasks(th, copy_task, &j, tasks);
}

void mcr_fill_f32(float *dst, long n, float value)
{
    for (long i = 0; i < n; i++) dst[i] = value;
}
