/* Elementwise binary ops with ONNX (numpy) broadcasting, expressed as strides. */
#include <math.h>

#include "mcr.h"
#include "parallel.h"
#include "strided.h"

static float apply(enum mcr_binary_op op, float a, float b)
{
    switch (op) {
    case MCR_ADD: return a + b;
    case MCR_SUB: return a - b;
    case MCR_MUL: return a * b;
    case MCR_DIV: return a / b;
    case MCR_POW: return powf(a, b);
    case MCR_MAX: return a > b || a != a ? a : b; /* NaN propagates, as in ONNX Max */
    case MCR_MIN: return a < b || a != a ? a : b;
    }
    return 0.0f;
}

struct binary_args {
    enum mcr_binary_op op;
    const float *a, *b;
    const long *astride, *bstride, *shape;
    float *y;
    int rank;
    long blocks; /* per row of the last dimension */
};

/* y[i] = a[i * as] OP b[i * bs] for i < n. */
static void binary_row(enum mcr_binary_op op, const float *a, long as, const float *b,
                       long bs, float *y, long n)
{
    /* The switch sits outside the inner loop so each case vectorizes on its own. */
    switch (op) {
    case MCR_ADD: for (long i = 0; i < n; i++) y[i] = a[i * as] + b[i * bs]; break;
    case MCR_SUB: for (long i = 0; i < n; i++) y[i] = a[i * as] - b[i * bs]; break;
    case MCR_MUL: for (long i = 0; i < n; i++) y[i] = a[i * as] * b[i * bs]; break;
    case MCR_DIV: for (long i = 0; i < n; i++) y[i] = a[i * as] / b[i * bs]; break;
    default: for (long i = 0; i < n; i++) y[i] = apply(op, a[i * as], b[i * bs]); break;
    }
}

/* Units [u0, u1), unit u being block u % blocks of row u / blocks of the last dimension:
 * the first row's offsets come from its multi-index, the next rows' from a walk. */
static void binary_units(const void *args, long u0, long u1)
{
    const struct binary_args *x = args;
    const int rank = x->rank;
    const long n = x->shape[rank - 1], as = x->astride[rank - 1], bs = x->bstride[rank - 1];
    long idx[MCR_MAX_RANK] = {0};
    long off[2] = {0, 0};
    const long *strides[2] = {x->astride, x->bstride};
    long row = u0 / x->blocks;
    for (long q = row, d = rank - 2; d >= 0; d--) {
        idx[d] = q % x->shape[d];
        q /= x->shape[d];
        off[0] += idx[d] * x->astride[d];
        off[1] += idx[d] * x->bstride[d];
    }
    for (long u = u0; u < u1; row++) {
        /* This row's units up to u1, as one stretch of it. */
        const long end = (row + 1) * x->blocks < u1 ? (row + 1) * x->blocks : u1;
        const long i0 = (u - row * x->blocks) * MCR_ELEMENT_BLOCK;
        const long last = (end - row * x->blocks) * MCR_ELEMENT_BLOCK;
        const long i1 = last < n ? last : n;
        binary_row(x->op, x->a + off[0] + i0 * as, as, x->b + off[1] + i0 * bs, bs,
                   x->y + row * n + i0, i1 - i0);
        u = end;
        mcr_next_index(idx, x->shape, rank, off, strides, 2);
    }
}

void mcr_binary_f32(enum mcr_binary_op op, const float *a, const long *astride,
                    const float *b, const long *bstride, float *y,
                    const long *shape, int rank, const struct mcr_threads *th)
{
    if (rank == 0) {
        y[0] = apply(op, a[0], b[0]);
        return;
    }
    const long volume = mcr_volume(shape, rank);
    if (volume == 0) return;
    const long blocks = (shape[rank - 1] + MCR_ELEMENT_BLOCK - 1) / MCR_ELEMENT_BLOCK;
    const struct binary_args x = {op, a, b, astride, bstride, shape, y, rank, blocks};
    mcr_parallel_for(th, volume / shape[rank - 1] * blocks, (double)volume,
                     MCR_TASK_MIN_ELEMENTS, binary_units, &x);
}
