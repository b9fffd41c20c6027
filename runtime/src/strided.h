/* Walking a multi-index over `shape` with per-operand strides, shared by the kernels that
 * take arbitrary strides. Internal to the runtime. */
#ifndef MCR_STRIDED_H
#define MCR_STRIDED_H

/* Advance idx over all but the last dimension; adds each operand's stride delta to
 * off[0..nops). Returns 0 when the walk is over. */
static inline int mcr_next_index(long *idx, const long *shape, int rank, long *off,
                                 const long *const *strides, int nops)
{
    for (int d = rank - 2; d >= 0; d--) {
        idx[d]++;
        for (int o = 0; o < nops; o++) off[o] += strides[o][d];
        if (idx[d] < shape[d]) return 1;
        for (int o = 0; o < nops; o++) off[o] -= strides[o][d] * shape[d];
        idx[d] = 0;
    }
    return 0;
}

static inline long mcr_volume(const long *shape, int rank)
{
    long v = 1;
    for (int d = 0; d < rank; d++) v *= shape[d];
    return v;
}
#endif
