/* Elementwise unary ops. Transcendentals come from libm, except erf (and so exact GELU),
 * whose rational approximation in fastmath.h vectorizes: GELU is in every MCi block. */
#include <math.h>
#include <stddef.h>

#include "epilogue.h"
#include "fastmath.h"
#include "mcr.h"
#include "parallel.h"

static float apply(enum mcr_unary_op op, float x, float alpha, float beta)
{
    switch (op) {
    case MCR_RELU: return x > 0.0f ? x : 0.0f;
    case MCR_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case MCR_TANH: return tanhf(x);
    case MCR_ERF: return mcr_erf(x);
    case MCR_EXP: return expf(x);
    case MCR_LOG: return logf(x);
    case MCR_SQRT: return sqrtf(x);
    case MCR_NEG: return -x;
    case MCR_ABS: return fabsf(x);
    case MCR_RECIPROCAL: return 1.0f / x;
    case MCR_GELU_ERF: return mcr_gelu(x);
    case MCR_GELU_TANH: {
        const float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(u));
    }
    /* min(max(x, lo), hi): when lo > hi every value becomes hi, as ONNX specifies. */
    case MCR_CLIP: {
        const float v = x < alpha ? alpha : x;
        return v > beta ? beta : v;
    }
    case MCR_LEAKY_RELU: return x >= 0.0f ? x : alpha * x;
    case MCR_HARD_SIGMOID: {
        const float v = alpha * x + beta;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case MCR_HARD_SWISH: {
        const float v = x / 6.0f + 0.5f;
        return x * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
    }
    case MCR_ELU: return x >= 0.0f ? x : alpha * (expf(x) - 1.0f);
    /* log(1 + e^x) without overflow for large x. */
    case MCR_SOFTPLUS: return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
    case MCR_FLOOR: return floorf(x);
    case MCR_CEIL: return ceilf(x);
    case MCR_IDENTITY: return x;
    }
    return x;
}

struct unary_args {
    enum mcr_unary_op op;
    const float *x;
    float *y;
    long n;
    float alpha, beta;
};

/* Blocks [b0, b1). */
static void unary_blocks(const void *args, long b0, long b1)
{
    const struct unary_args *a = args;
    const long i0 = b0 * MCR_ELEMENT_BLOCK, end = b1 * MCR_ELEMENT_BLOCK;
    const long i1 = end < a->n ? end : a->n;
    const float *x = a->x + i0;
    float *y = a->y + i0;
    if (a->op == MCR_GELU_ERF || a->op == MCR_IDENTITY) {
        const struct mcr_epilogue ep = {a->op, a->alpha, a->beta, NULL};
        if (y != x) for (long i = 0; i < i1 - i0; i++) y[i] = x[i];
        mcr_epilogue_f32(&ep, y, 0, i1 - i0);
        return;
    }
    for (long i = 0; i < i1 - i0; i++) y[i] = apply(a->op, x[i], a->alpha, a->beta);
}

void mcr_unary_f32(enum mcr_unary_op op, const float *x, float *y, long n,
                   float alpha, float beta, const struct mcr_threads *th)
{
    const struct unary_args a = {op, x, y, n, alpha, beta};
    mcr_parallel_for(th, (n + MCR_ELEMENT_BLOCK - 1) / MCR_ELEMENT_BLOCK, (double)n,
                     MCR_TASK_MIN_ELEMENTS, unary_blocks, &a);
}

void mcr_epilogue_f32(const struct mcr_epilogue *ep, float *y, long offset, long n)
{
    mcr_epilogue_rows(ep, y, n, n, 1, n, offset);
}
