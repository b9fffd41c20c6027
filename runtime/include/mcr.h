/*
 * mcr.h - the mobilec runtime: every kernel the generated code calls.
 *
 * Layout is ONNX's own (row-major, NCHW for images) unless a kernel says otherwise: the
 * compiler's layout pass keeps images channels-last (NHWC) between the kernels that take
 * it (the *_nhwc convolutions, the GEMMs, the elementwise and strided kernels). Sizes
 * are `long` so that a 512-channel 256x256 activation never overflows an int. Pointers
 * never alias unless a kernel says so. The portable C99 versions in runtime/src/ are the
 * specification that every SIMD variant is tested against. Kernels allocate nothing;
 * the GEMM-based ones use about 48 KB of stack (packed blocks of b).
 */
#ifndef MCR_H
#define MCR_H

#include "mcr_parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest tensor rank the strided kernels take (ONNX graphs here need at most 6). */
#define MCR_MAX_RANK 8

/* How a kernel may split its work over the product's threads: its parallel-for (NULL or
 * par->threads <= 1: the calling thread does it all), and scratch for the tasks after the
 * first -- a kernel with scratch gives task 0 its `scratch` argument and task t > 0 the
 * slice `more + (t - 1) * S`, S being its own scratch size in floats; so `more` must hold
 * (threads - 1) times the largest such S (the generated header's
 * <NAME>_ARENA_BYTES_FOR(threads) counts it). Kernels split work only into pieces whose
 * results do not depend on the split (tiles, channel groups, heads, bands), so the output
 * is the same, bit for bit, for any number of threads. */
struct mcr_threads {
    const struct mcr_parallel *par;
    float *more;
};

/* Panels: the blocked layout of the GEMM's b operand. A [rows][cols] matrix in panels is
 * cols/W panels (the last zero-padded), panel q holding columns [q*W, q*W + W) as `rows`
 * rows of W floats: element (i, j) is at (j / W) * rows * W + i * W + j % W,
 * W = MCR_PANEL. Constant weights of matmuls and convolutions are packed so at compile
 * time. */
#define MCR_PANEL 32

enum mcr_binary_op { MCR_ADD, MCR_SUB, MCR_MUL, MCR_DIV, MCR_POW, MCR_MAX, MCR_MIN };

/* y = a OP b over `shape` (rank dims), with per-dimension element strides for a and b
 * (stride 0 broadcasts). y is contiguous. */
void mcr_binary_f32(enum mcr_binary_op op, const float *a, const long *astride,
                    const float *b, const long *bstride, float *y,
                    const long *shape, int rank, const struct mcr_threads *th);

enum mcr_unary_op {
    MCR_RELU, MCR_SIGMOID, MCR_TANH, MCR_ERF, MCR_EXP, MCR_LOG, MCR_SQRT, MCR_NEG,
    MCR_ABS, MCR_RECIPROCAL, MCR_GELU_ERF, MCR_GELU_TANH, MCR_CLIP, MCR_LEAKY_RELU,
    MCR_HARD_SIGMOID, MCR_HARD_SWISH, MCR_ELU, MCR_SOFTPLUS, MCR_FLOOR, MCR_CEIL,
    MCR_IDENTITY
};

/* What a producing kernel applies to each output element before storing it:
 * y = act(y) + residual, act with its parameters alpha/beta (see mcr_unary_f32),
 * MCR_IDENTITY for none; residual (same layout as the output) may be NULL and must not
 * overlap the output. Kernels take a NULL epilogue for none. */
struct mcr_epilogue {
    enum mcr_unary_op act;
    float alpha, beta;
    const float *residual;
};

/* Apply `ep` to y[0..n), whose first element is element `offset` of the whole output. */
void mcr_epilogue_f32(const struct mcr_epilogue *ep, float *y, long offset, long n);

/* y = conv2d(x, w) + bias over NCHW, then the epilogue. w is [K][C/groups][kh][kw];
 * bias and ep may be NULL. Padding is (top, left), the bottom and right padding being
 * what oh and ow imply; dilation (dh, dw). */
void mcr_conv2d_f32(const float *x, const float *w, const float *bias, float *y,
                    long n, long c, long h, long wd, long k, long oh, long ow,
                    long kh, long kw, long sh, long sw, long pt, long pl, long dh, long dw,
                    long groups, const struct mcr_epilogue *ep);

/* mcr_conv2d_f32 for a 1x1 kernel, stride 1, no padding, groups 1, over n images of c
 * channels and hw pixels, NCHW (a GEMM per image, register-blocked). */
void mcr_conv1x1_f32(const float *x, const float *w, const float *bias, float *y,
                     long n, long c, long k, long hw, const struct mcr_epilogue *ep);

/* Depthwise conv2d: c input channels, `mult` outputs per input channel (output channel
 * oc reads input channel oc / mult), w is [c*mult][1][kh][kw], dilation 1, at most
 * MCR_DWCONV_MAX_TAPS taps (kh*kw); otherwise as mcr_conv2d_f32. scratch holds
 * mcr_dwconv2d_scratch_floats(...) floats. */
#define MCR_DWCONV_MAX_TAPS 256
long mcr_dwconv2d_scratch_floats(long oh, long ow, long kh, long kw, long sh, long sw);
void mcr_dwconv2d_f32(const float *x, const float *w, const float *bias, float *y,
                      float *scratch, long n, long c, long h, long wd, long mult,
                      long oh, long ow, long kh, long kw, long sh, long sw, long pt, long pl,
                      const struct mcr_epilogue *ep);

/* mcr_dwconv2d_f32 over channels-last tensors (vectorized across channels): x is
 * [n][h][wd][c], y [n][oh][ow][c*mult], w [kh][kw][c*mult], bias [c*mult] or NULL; the
 * epilogue's residual is laid out as y. scratch holds
 * mcr_dwconv2d_nhwc_scratch_floats(c*mult, h, wd, c, ow, kh, kw, sw) floats. */
long mcr_dwconv2d_nhwc_scratch_floats(long k, long h, long wd, long c, long ow, long kh,
                                      long kw, long sw);
void mcr_dwconv2d_nhwc_f32(const float *x, const float *w, const float *bias, float *y,
                           float *scratch, long n, long c, long h, long wd, long mult,
                           long oh, long ow, long kh, long kw, long sh, long sw, long pt,
                           long pl, const struct mcr_epilogue *ep,
                           const struct mcr_threads *th);

/* Dense conv2d (groups 1) writing channels-last y [n][oh][ow][k]; x is NHWC when x_nhwc,
 * else NCHW. wpacked is w [kh][kw][c][k] (rows tap-major, channels innermost) viewed as
 * [kh*kw*c][k] and packed in panels (MCR_PANEL) at compile time; otherwise as
 * mcr_conv2d_f32. scratch holds mcr_conv2d_gemm_nhwc_scratch_floats(c, kh, kw) floats. */
long mcr_conv2d_gemm_nhwc_scratch_floats(long c, long kh, long kw);
void mcr_conv2d_gemm_nhwc_f32(const float *x, int x_nhwc, const float *wpacked,
                              const float *bias, float *y, float *scratch, long n, long c,
                              long h, long wd, long k, long oh, long ow, long kh, long kw,
                              long sh, long sw, long pt, long pl, long dh, long dw,
                              const struct mcr_epilogue *ep, const struct mcr_threads *th);

/* mcr_conv2d_gemm_nhwc_f32's convolution (output k x oh1 x ow1) and its epilogue ep1 (no
 * residual), then on its output a depthwise conv of multiplier 1 as mcr_dwconv2d_nhwc_f32
 * (wdw [kh2][kw2][k], bias2, y [n][oh][ow][k], epilogue ep), computed by rows without
 * writing the first's output whole: the same bits as the two calls. scratch holds
 * mcr_conv_dw_nhwc_scratch_floats(c, kh, kw, k, ow, kh2, kw2, sw2) floats. */
long mcr_conv_dw_nhwc_scratch_floats(long c, long kh, long kw, long k, long ow, long kh2,
                                     long kw2, long sw2);
void mcr_conv_dw_nhwc_f32(const float *x, int x_nhwc, const float *wpacked, const float *bias,
                          const struct mcr_epilogue *ep1, const float *wdw, const float *bias2,
                          const struct mcr_epilogue *ep, float *y, float *scratch, long n,
                          long c, long h, long wd, long k, long oh1, long ow1, long kh, long kw,
                          long sh, long sw, long pt, long pl, long dh, long dw, long oh, long ow,
                          long kh2, long kw2, long sh2, long sw2, long pt2, long pl2,
                          const struct mcr_threads *th);

/* mcr_conv2d_f32 as GEMMs over bands of output rows (any groups, kernel, stride,
 * padding, dilation); scratch holds mcr_conv2d_gemm_scratch_floats(...) floats. */
long mcr_conv2d_gemm_scratch_floats(long c, long oh, long ow, long kh, long kw, long groups);
void mcr_conv2d_gemm_f32(const float *x, const float *w, const float *bias, float *y,
                         float *scratch, long n, long c, long h, long wd, long k, long oh,
                         long ow, long kh, long kw, long sh, long sw, long pt, long pl,
                         long dh, long dw, long groups, const struct mcr_epilogue *ep);

/* c[m][n] = sum_k a[m][k] * b[k][n] (+ bias[n] when bias is not NULL), then the epilogue
 * (whose residual has c's layout, leading dimension ldc), row-major with leading
 * dimensions lda, ldb, ldc. */
void mcr_matmul_f32(const float *a, const float *b, const float *bias, float *c,
                    long m, long k, long n, long lda, long ldb, long ldc,
                    const struct mcr_epilogue *ep);

/* mcr_matmul_f32 with b [k][n] in panels (MCR_PANEL), packed at compile time: the
 * weights are one sequential stream per panel, and nothing is packed at run time. */
void mcr_matmul_packed_f32(const float *a, const float *bpacked, const float *bias, float *c,
                           long m, long k, long n, long lda, long ldc,
                           const struct mcr_epilogue *ep, const struct mcr_threads *th);

/* y = ep2(ep1(x w1 + b1) w2 + b2): two mcr_matmul_packed_f32 calls in a row (x [m][c],
 * w1 [c][h] and w2 [h][n] in panels, y [m][n], all contiguous), computed by blocks of
 * rows whose hidden part stays in the scratch (mcr_mlp_packed_scratch_floats(h) floats):
 * the same bits as the two calls. ep1 has no residual; ep2's has y's layout. */
long mcr_mlp_packed_scratch_floats(long h);
void mcr_mlp_packed_f32(const float *x, const float *w1, const float *b1,
                        const struct mcr_epilogue *ep1, const float *w2, const float *b2,
                        const struct mcr_epilogue *ep2, float *y, float *scratch, long m,
                        long c, long h, long n, const struct mcr_threads *th);

/* y[i] = op(x[i]) for i < n; alpha/beta are the op's parameters where it has any
 * (clip: min, max; leaky relu/elu: alpha; hard sigmoid: alpha, beta). y may equal x. */
void mcr_unary_f32(enum mcr_unary_op op, const float *x, float *y, long n,
                   float alpha, float beta, const struct mcr_threads *th);

/* Softmax over the last `n` elements of each of `rows` rows (max-subtracted). y may
 * equal x. */
void mcr_softmax_f32(const float *x, float *y, long rows, long n,
                     const struct mcr_threads *th);

/* out = softmax(scale * q . kᵀ) . v for each of batch x heads entries, where q is [m][d],
 * kᵀ is [d][n] (k already transposed), v is [n][dv] and out is [m][dv]: each a strided
 * view, whose element [b][h][i][j] (entry b * heads + h, row i, column j) is at
 * x + b * xs[0] + h * xs[1] + i * xs[2] + j * xs[3]. q's and out's columns are
 * contiguous (qs[3] = os[3] = 1); kᵀ and v may have any strides. scratch holds
 * mcr_attention_scratch_floats(m, n, d, dv) floats. */
long mcr_attention_scratch_floats(long m, long n, long d, long dv);
void mcr_attention_f32(const float *q, const long qs[4], const float *kt, const long ks[4],
                       const float *v, const long vs[4], float *out, const long os[4],
                       float *scratch, long batch, long heads, long m, long n, long d,
                       long dv, float scale, const struct mcr_threads *th);

/* Layer norm over rows of length n: y = (x - mean) / sqrt(var + eps) * scale + bias.
 * scale and bias have n elements; bias may be NULL. When not NULL, mean[r] and
 * invstd[r] = 1 / sqrt(var + eps) receive each row's statistics. */
void mcr_layernorm_f32(const float *x, const float *scale, const float *bias, float *y,
                       float *mean, float *invstd, long rows, long n, float eps,
                       const struct mcr_threads *th);

/* Per-channel affine over [outer][c][inner]: y = x * scale[c] + shift[c]
 * (inference BatchNorm with its statistics folded at compile time). */
void mcr_channel_affine_f32(const float *x, const float *scale, const float *shift,
                            float *y, long outer, long c, long inner,
                            const struct mcr_threads *th);

enum mcr_reduce_op { MCR_REDUCE_MEAN, MCR_REDUCE_SUM, MCR_REDUCE_MAX, MCR_REDUCE_MIN };

/* Reduce the middle axis of [outer][r][inner] -> [outer][inner]. */
void mcr_reduce_f32(enum mcr_reduce_op op, const float *x, float *y,
                    long outer, long r, long inner, const struct mcr_threads *th);

enum mcr_pool_op { MCR_POOL_AVG, MCR_POOL_MAX };

/* 2-D pooling over [planes][h][w] -> [planes][oh][ow]; padding (top, left, bottom,
 * right).
 * count_include_pad: whether padded cells count in the average's divisor. */
void mcr_pool2d_f32(enum mcr_pool_op op, const float *x, float *y, long planes,
                    long h, long w, long oh, long ow, long kh, long kw, long sh, long sw,
                    long pt, long pl, long pb, long pr, long dh, long dw,
                    int count_include_pad, const struct mcr_threads *th);

/* dst[idx . dstride] = src[idx . sstride] for every index idx of `shape`: transpose,
 * slice, concat, split, expand and gather are all this one copy. */
void mcr_copy_strided_f32(float *dst, const long *dstride, const float *src,
                          const long *sstride, const long *shape, int rank,
                          const struct mcr_threads *th);

/* dst[i] = value for i < n. */
void mcr_fill_f32(float *dst, long n, float value);

#ifdef __cplusplus
}
#endif
#endif /* MCR_H */
