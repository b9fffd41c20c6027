/* Elementwise binary ops with ONNX (numpy) broadcasting, expressed as strides. */
#include <math.h>

#include "mcr.h"
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

void mcr_binary_f32(enum mcr_binary_op op, const float *a, const long *astride,
                    const float *b, const long *bstride, float *y,
                    const long *shape, int rank)
{
    if (rank == 0) {
        y[0] = apply(op, a[0], b[0]);
        return;
    }
    if (mcr_volume(shape, rank) == 0) return;
    long idx[MCR_MAX_RANK] = {0};
    long off[2] = {0, 0};
    const long *strides[2] = {astride, bstride};
    const long n = shape[rank - 1], as = astride[rank - 1], bs = bstride[rank - 1];
    do {
        const float *ap = a + off[0], *bp = b + off[1];
        /* The switch sits outside the inner loop so each case vectorizes on its own. */
        switch (op) {
        case MCR_ADD: for (long i = 0; i < n; i++) y[i] = ap[i * as] + bp[i * bs]; break;
        case MCR_SUB: for (long i = 0; i < n; i++) y[i] = ap[i * as] - bp[i * bs]; break;
        case MCR_MUL: for (long i = 0; i < n; i++) y[i] = ap[i * as] * bp[i * bs]; break;
        case MCR_DIV: for (long i = 0; i < n; i++) y[i] = ap[i * as] / bp[i * bs]; break;
        default: for (long i = 0; i < n; i++) y[i] = apply(op, ap[i * as], bp[i * bs]); break;
        }
        y += n;
    } while (mcr_next_index(idx, shape, rank, off, strides, 2));
}
