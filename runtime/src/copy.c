/* Strided copy and fill: transpose, slice, concat, split, expand and gather. */
#include <string.h>

#include "mcr.h"
#include "strided.h"

void mcr_copy_strided_f32(float *dst, const long *dstride, const float *src,
                          const long *sstride, const long *shape, int rank)
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

void mcr_fill_f32(float *dst, long n, float value)
{
    for (long i = 0; i < n; i++) dst[i] = value;
}
