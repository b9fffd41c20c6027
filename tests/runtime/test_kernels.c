/*
 * Each runtime kernel against a naive reference written here, independently of the
 * kernel: plain loops, bounds checked per element, accumulation in double. Sizes are odd
 * on purpose (tails, padding, groups, broadcasting).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcr.h"
#include "../../runtime/src/dwconv_nhwc_ukernel.h"
#include "../../runtime/src/dwconv_ukernel.h"
#include "../../runtime/src/fastmath.h"
#include "../../runtime/src/gemm_ukernel.h"

/* Deterministic inputs in [-1, 1). */
static uint32_t rng_state = 12345u;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float *randv(long n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    assert_non_null(p);
    for (long i = 0; i < n; i++) p[i] = frand();
    return p;
}

/* |got - want| <= atol + rtol * |want| for every element. */
static void assert_close(const float *got, const double *want, long n, double atol, double rtol)
{
    for (long i = 0; i < n; i++) {
        const double err = fabs((double)got[i] - want[i]);
        if (!(err <= atol + rtol * fabs(want[i]))) {
            fail_msg("element %ld: got %.9g, want %.9g", i, (double)got[i], want[i]);
        }
    }
}

/* NCHW [n][ch][hw] <-> channels-last [n][hw][ch]. */
static void to_nhwc(const float *src, float *dst, long n, long ch, long hw, int inverse)
{
    for (long b = 0; b < n; b++)
        for (long c = 0; c < ch; c++)
            for (long p = 0; p < hw; p++) {
                const long nchw = (b * ch + c) * hw + p, nhwc = (b * hw + p) * ch + c;
                if (inverse) dst[nchw] = src[nhwc];
                else dst[nhwc] = src[nchw];
            }
}

/* A parallel-for that runs the tasks one after another, the last first: every thread
 * count's split of the work and its scratch slices, without threads (test_threadpool.c
 * runs tasks concurrently, and the generated code runs under ThreadSanitizer in pytest).
 * These builds set MCR_TASK_SPLIT_ALL (config.h), so that even small shapes are split. */
static void reverse_for(void *context, mcr_task_fn task, void *task_context, long n)
{
    (void)context;
    for (long i = n - 1; i >= 0; i--) task(task_context, i);
}

/* The thread counts the threaded kernels are tested with: each must give the serial
 * call's bits. */
static const int THREADS[] = {2, 3, 4, 7};
#define NTHREADS (sizeof THREADS / sizeof THREADS[0])

struct threaded {
    struct mcr_parallel par;
    struct mcr_threads th;
};

/* A kernel's threads argument for `threads` threads, with scratch for the tasks after the
 * first (threaded_free releases it). */
static const struct mcr_threads *threaded(struct threaded *t, int threads, long scratch_floats)
{
    t->par = (struct mcr_parallel){reverse_for, NULL, threads};
    t->th.par = &t->par;
    t->th.more = calloc((size_t)((threads - 1) * scratch_floats + 1), sizeof(float));
    assert_non_null(t->th.more);
    return &t->th;
}

static void threaded_free(struct threaded *t)
{
    free(t->th.more);
}

/* `call`, a kernel call whose threads argument is TH and which writes the n floats at out
 * (not an input), gives serial's bits on every thread count. */
#define ASSERT_THREADS_SAME(out, serial, n, call)                                         \
    for (size_t ti_ = 0; ti_ < NTHREADS; ti_++) {                                         \
        struct threaded t_;                                                               \
        const struct mcr_threads *TH = threaded(&t_, THREADS[ti_], 0);                    \
        memset(out, 0, (size_t)(n) * sizeof(float));                                      \
        call;                                                                             \
        assert_memory_equal(out, serial, (size_t)(n) * sizeof(float));                   \
        threaded_free(&t_);                                                               \
    }

/* b [rows][cols] in panels of MCR_PANEL columns (mcr.h), as the compiler packs weights. */
static float *pack_panels(const float *b, long rows, long cols)
{
    const long w = MCR_PANEL, np = (cols + w - 1) / w;
    float *p = calloc((size_t)(np * rows * w), sizeof(float));
    assert_non_null(p);
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < cols; j++) p[(j / w) * rows * w + i * w + j % w] = b[i * cols + j];
    return p;
}

/* The channels-last convolutions on x, the residual and the reference transposed to NHWC:
 * depthwise (w to [kh][kw][k]) and dense (w to [kh][kw][c][k] in panels, x read both as
 * NCHW and as NHWC). */
static void conv_nhwc_case(const float *x, const float *wt, const float *b, const float *res,
                           const double *ref, long n, long c, long h, long w, long k, long oh,
                           long ow, long kh, long kw, long sh, long sw, long pt, long pl,
                           long dh, long dw, long groups)
{
    const long ny = n * k * oh * ow, cg = c / groups;
    float *xn = malloc((size_t)(n * c * h * w) * sizeof(float));
    float *resn = malloc((size_t)ny * sizeof(float)), *yn = malloc((size_t)ny * sizeof(float));
    float *y = malloc((size_t)ny * sizeof(float));
    to_nhwc(x, xn, n, c, h * w, 0);
    to_nhwc(res, resn, n, k, oh * ow, 0);
    const struct mcr_epilogue ep = {MCR_GELU_ERF, 0.0f, 0.0f, resn};
    if (groups == c && dh == 1 && dw == 1) {
        float *wn = malloc((size_t)(k * kh * kw) * sizeof(float));
        for (long oc = 0; oc < k; oc++)
            for (long t = 0; t < kh * kw; t++) wn[t * k + oc] = wt[oc * kh * kw + t];
        const long sf = mcr_dwconv2d_nhwc_scratch_floats(k, h, w, c, ow, kh, kw, sw);
        float *scratch = malloc((size_t)sf * sizeof(float));
        float *yt = malloc((size_t)ny * sizeof(float));
        mcr_dwconv2d_nhwc_f32(xn, wn, b, yn, scratch, n, c, h, w, k / c, oh, ow, kh, kw, sh,
                              sw, pt, pl, &ep, NULL);
        for (size_t i = 0; i < NTHREADS; i++) {
            struct threaded t;
            mcr_dwconv2d_nhwc_f32(xn, wn, b, yt, scratch, n, c, h, w, k / c, oh, ow, kh, kw,
                                  sh, sw, pt, pl, &ep, threaded(&t, THREADS[i], sf));
            assert_memory_equal(yt, yn, (size_t)ny * sizeof(float));
            threaded_free(&t);
        }
        to_nhwc(yn, y, n, k, oh * ow, 1);
        assert_close(y, ref, ny, 1e-5, 1e-5);
        free(wn), free(scratch), free(yt);
    }
    if (groups == 1) {
        float *wk = malloc((size_t)(k * cg * kh * kw) * sizeof(float));
        for (long oc = 0; oc < k; oc++)
            for (long ic = 0; ic < c; ic++)
                for (long t = 0; t < kh * kw; t++)
                    wk[(t * c + ic) * k + oc] = wt[(oc * c + ic) * kh * kw + t];
        float *wp = pack_panels(wk, kh * kw * c, k);
        const long sf = mcr_conv2d_gemm_nhwc_scratch_floats(c, kh, kw);
        float *scratch = malloc((size_t)sf * sizeof(float));
        float *yt = malloc((size_t)ny * sizeof(float));
        for (int x_nhwc = 0; x_nhwc < 2; x_nhwc++) {
            mcr_conv2d_gemm_nhwc_f32(x_nhwc ? xn : x, x_nhwc, wp, b, yn, scratch, n, c, h, w, k,
                                     oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, &ep, NULL);
            for (size_t i = 0; i < NTHREADS; i++) {
                struct threaded t;
                mcr_conv2d_gemm_nhwc_f32(x_nhwc ? xn : x, x_nhwc, wp, b, yt, scratch, n, c, h,
                                         w, k, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, &ep,
                                         threaded(&t, THREADS[i], sf));
                assert_memory_equal(yt, yn, (size_t)ny * sizeof(float));
                threaded_free(&t);
            }
            to_nhwc(yn, y, n, k, oh * ow, 1);
            assert_close(y, ref, ny, 1e-5, 1e-5);
        }
        free(wk), free(wp), free(scratch), free(yt);
    }
    free(xn), free(resn), free(yn), free(y);
}

static void conv_case(long n, long c, long h, long w, long k, long kh, long kw, long sh,
                      long sw, long pt, long pl, long pb, long pr, long dh, long dw, long groups,
                      int bias)
{
    const long oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
    const long ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
    const long cg = c / groups, kg = k / groups;
    float *x = randv(n * c * h * w), *wt = randv(k * cg * kh * kw), *b = randv(k);
    float *y = malloc((size_t)(n * k * oh * ow) * sizeof(float));
    double *ref = calloc((size_t)(n * k * oh * ow), sizeof(double));
    for (long bi = 0; bi < n; bi++)
        for (long oc = 0; oc < k; oc++)
            for (long oy = 0; oy < oh; oy++)
                for (long ox = 0; ox < ow; ox++) {
                    double acc = bias ? b[oc] : 0.0;
                    const long g = oc / kg;
                    for (long ic = 0; ic < cg; ic++)
                        for (long r = 0; r < kh; r++)
                            for (long s = 0; s < kw; s++) {
                                const long iy = oy * sh + r * dh - pt, ix = ox * sw + s * dw - pl;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                acc += (double)x[((bi * c + g * cg + ic) * h + iy) * w + ix] *
                                       wt[((oc * cg + ic) * kh + r) * kw + s];
                            }
                    ref[((bi * k + oc) * oh + oy) * ow + ox] = acc;
                }
    mcr_conv2d_f32(x, wt, bias ? b : NULL, y, n, c, h, w, k, oh, ow, kh, kw, sh, sw, pt, pl,
                   dh, dw, groups, NULL);
    assert_close(y, ref, n * k * oh * ow, 1e-5, 1e-5);
    /* The same with an epilogue: y = gelu(conv) + residual. */
    float *res = randv(n * k * oh * ow);
    for (long i = 0; i < n * k * oh * ow; i++)
        ref[i] = 0.5 * ref[i] * (1 + erf(ref[i] / sqrt(2.0))) + res[i];
    const struct mcr_epilogue ep = {MCR_GELU_ERF, 0.0f, 0.0f, res};
    mcr_conv2d_f32(x, wt, bias ? b : NULL, y, n, c, h, w, k, oh, ow, kh, kw, sh, sw, pt, pl,
                   dh, dw, groups, &ep);
    assert_close(y, ref, n * k * oh * ow, 1e-5, 1e-5);
    /* The fast kernels, with the same epilogue, against the same reference. */
    float *scratch = malloc((size_t)mcr_conv2d_gemm_scratch_floats(c, oh, ow, kh, kw, groups) *
                            sizeof(float));
    mcr_conv2d_gemm_f32(x, wt, bias ? b : NULL, y, scratch, n, c, h, w, k, oh, ow, kh, kw, sh,
                        sw, pt, pl, dh, dw, groups, &ep);
    assert_close(y, ref, n * k * oh * ow, 1e-5, 1e-5);
    free(scratch);
    if (groups == c && dh == 1 && dw == 1) {
        scratch = malloc((size_t)mcr_dwconv2d_scratch_floats(oh, ow, kh, kw, sh, sw) *
                         sizeof(float));
        mcr_dwconv2d_f32(x, wt, bias ? b : NULL, y, scratch, n, c, h, w, k / c, oh, ow, kh, kw,
                         sh, sw, pt, pl, &ep);
        assert_close(y, ref, n * k * oh * ow, 1e-5, 1e-5);
        free(scratch);
    }
    conv_nhwc_case(x, wt, bias ? b : NULL, res, ref, n, c, h, w, k, oh, ow, kh, kw, sh, sw, pt,
                   pl, dh, dw, groups);
    free(res);
    free(x), free(wt), free(b), free(y), free(ref);
}

static void test_conv2d(void **state)
{
    (void)state;
    conv_case(1, 3, 17, 13, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1);   /* stem-like, stride 2 */
    conv_case(2, 4, 9, 11, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0);    /* 1x1, batch 2 */
    conv_case(1, 6, 10, 7, 6, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 6, 1);    /* depthwise 7x7 */
    conv_case(1, 6, 10, 7, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, 1);   /* multiplier 2 */
    conv_case(1, 8, 12, 12, 4, 3, 5, 1, 2, 2, 1, 0, 2, 2, 1, 2, 1);   /* groups, asym pad, dil */
    conv_case(1, 3, 16, 16, 7, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1, 1, 1);   /* patchify 4x4/4 */
    conv_case(1, 5, 1, 9, 3, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1);     /* 1-D as h=1 */
    /* Depthwise shapes of the encoders, odd sizes: 3x3 and 7x7, strides 1 and 2,
     * multiplier 2, planes narrower and wider than a micro-kernel tile. */
    conv_case(2, 3, 8, 8, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1);     /* RepMixer 3x3 */
    conv_case(1, 4, 16, 12, 4, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 4, 0);   /* ConvMlp 7x7, 6 panels */
    conv_case(1, 2, 37, 45, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1);   /* wide plane */
    conv_case(1, 2, 6, 70, 2, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 2, 1);    /* 4-vector blocks + tail */
    conv_case(1, 3, 9, 20, 3, 5, 3, 1, 1, 2, 1, 2, 1, 1, 1, 3, 1);    /* 2-vector blocks */
    conv_case(1, 3, 19, 23, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 0);   /* stem dw, stride 2 */
    conv_case(1, 4, 15, 13, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 4, 1);   /* patch embed 7x7/2 x2 */
    /* x2 onto whole groups of 16 (the vector copy of fill_row): 16 outputs (half an
     * AVX-512 vector of inputs), 48 (one and a half), 64 (two) */
    conv_case(1, 8, 9, 11, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 8, 1);
    conv_case(1, 24, 10, 12, 48, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 24, 1);
    conv_case(1, 32, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, 0);
    conv_case(1, 3, 5, 6, 3, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 3, 1);     /* kernel > plane */
    conv_case(1, 2, 9, 9, 2, 3, 2, 3, 2, 0, 2, 1, 0, 1, 1, 2, 1);     /* odd stride, asym */
    conv_case(1, 2, 1, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1);     /* 1x1 image */
    /* More channels than one channels-last group: as many vectors of 16 a group as keep its
     * ring of input rows within 6144 floats (dwconv_nhwc.c). 3x3 on a 64-wide plane (ring
     * rows of 66) and 7x7/2 x2 with 12 output columns (rows of 29) take 16 a group: 16, 16
     * and 5 (8) left; 3x3 on a 50-wide plane (rows of 52) and 7x7/2 x2 with 10 output
     * columns (rows of 25) take 32: 32, 32 and 8 left. */
    conv_case(1, 37, 4, 64, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 37, 1);
    conv_case(2, 20, 9, 24, 40, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 20, 0);
    conv_case(1, 72, 5, 50, 72, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 72, 1);
    conv_case(1, 36, 5, 20, 72, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 36, 1);
}

/* Every depthwise micro-kernel this build has against the formula of its contract. */
static void ukernel_case(mcr_dwconv_ukernel fn, int tile)
{
    enum { TAPS = 11, SRC = 400 };
    float *src = randv(SRC), *w = randv(TAPS), out[128];
    const long off[TAPS] = {0, 1, 2, 17, 33, 50, 64, 99, 130, 200, 271};
    fn(src, off, w, TAPS, 0.25f, out);
    double want[128];
    for (int j = 0; j < tile; j++) {
        want[j] = 0.25;
        for (int t = 0; t < TAPS; t++) want[j] += (double)w[t] * src[off[t] + j];
    }
    assert_close(out, want, tile, 1e-6, 1e-6);
    free(src), free(w);
}

/* Every GEMM micro-kernel this build has against the formula of its contract: onto a c
 * that already holds values, and from each kind of bias; lda and ldc wider than the tile. */
static void gemm_ukernel_case(mcr_gemm_ukernel fn, int mr, int nr, long KC)
{
    enum { LDA = 161, LDC = 35 };
    const int ldbp = nr + 3; /* panel rows further apart than the tile is wide */
    float *a = randv(mr * LDA), *bp = randv(KC * ldbp), *c = randv(mr * LDC);
    float *rb = randv(mr), *cb = randv(nr);
    double want[8 * LDC];
    for (int mode = 0; mode < 4; mode++) { /* accumulate, row bias, column bias, none */
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < LDC; j++) {
                want[i * LDC + j] = c[i * LDC + j];
                if (j >= nr) continue;
                want[i * LDC + j] = mode == 0 ? c[i * LDC + j] : mode == 1 ? rb[i] : mode == 2 ? cb[j] : 0.0;
                for (int p = 0; p < KC; p++) want[i * LDC + j] += (double)a[i * LDA + p] * bp[p * ldbp + j];
            }
        /* mode 3 also prefetches rows of b (no effect on the result) */
        fn(KC, a, LDA, bp, ldbp, c, LDC, mode == 1 ? rb : NULL, mode == 2 ? cb : NULL, mode == 0,
           mode == 3 ? bp + 2 * ldbp : NULL, mode == 3 ? 5 : 0);
        assert_close(c, want, mr * LDC, 1e-5, 1e-5);
    }
    free(a), free(bp), free(c), free(rb), free(cb);
}

/* A rows form: the first `rows` rows of an mr x nr tile computed, the others untouched.
 * (The SIMD variants have rows forms; fn is NULL for the others.) */
static void gemm_rows_case(mcr_gemm_rows_ukernel fn, int mr, int nr)
{
    if (!fn) return;
    enum { KC = 19, LDA = 23, LDC = 37 };
    for (long rows = 1; rows <= mr; rows++) {
        float *a = randv(mr * LDA), *bp = randv(KC * nr), *c = randv(mr * LDC), *rb = randv(mr);
        double want[8 * LDC];
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < LDC; j++) {
                want[i * LDC + j] = c[i * LDC + j];
                if (i >= rows || j >= nr) continue;
                want[i * LDC + j] = rb[i];
                for (int p = 0; p < KC; p++) want[i * LDC + j] += (double)a[i * LDA + p] * bp[p * nr + j];
            }
        fn(rows, KC, a, LDA, bp, nr, c, LDC, rb, NULL, 0, NULL, 0);
        assert_close(c, want, mr * LDC, 1e-5, 1e-5);
        free(a), free(bp), free(c), free(rb);
    }
}

/* A SIMD micro-kernel (one with a rows form) sums a long k in chunks of MCR_GEMM_CHUNK,
 * each added to c: gemm.c's slabs rely on one call giving the same bits as one
 * call per chunk, which the blocked path makes. */
static void gemm_chunks_case(mcr_gemm_ukernel fn, mcr_gemm_rows_ukernel rows, int mr, int nr)
{
    if (!rows) return;
    enum { K = 2 * MCR_GEMM_CHUNK + 22, LDC = 40 };
    float *a = randv(mr * K), *bp = randv(K * nr), *rb = randv(mr);
    float whole[8 * LDC], parts[8 * LDC];
    fn(K, a, K, bp, nr, whole, LDC, rb, NULL, 0, NULL, 0);
    for (long p0 = 0; p0 < K; p0 += MCR_GEMM_CHUNK) {
        const long kc = K - p0 < MCR_GEMM_CHUNK ? K - p0 : MCR_GEMM_CHUNK;
        fn(kc, a + p0, K, bp + p0 * nr, nr, parts, LDC, rb, NULL, p0 > 0, NULL, 0);
    }
    for (int i = 0; i < mr; i++) assert_memory_equal(whole + i * LDC, parts + i * LDC, nr * sizeof(float));
    free(a), free(bp), free(rb);
}

/* The sum starts from zero and the bias is added last (gemm_ukernel.h): with a bias of
 * 1024 and terms near 1, each element is within half an ulp of the result plus the sum's
 * own bound, k u sum|a b|. Started from the bias, every one of the k additions rounds at
 * 1024's scale (ulp 1.2e-4), about 3x this bound on a tile. */
static void gemm_bias_last_case(mcr_gemm_ukernel fn, int mr, int nr)
{
    enum { KC = 64 };
    float *a = randv(mr * KC), *bp = randv(KC * nr), c[8 * 32], rb[8], cb[32];
    for (int i = 0; i < 8; i++) rb[i] = i % 2 ? 1024.0f : -1024.0f;
    for (int j = 0; j < 32; j++) cb[j] = j % 2 ? 1024.0f : -1024.0f;
    for (int mode = 1; mode <= 2; mode++) { /* row bias, column bias */
        fn(KC, a, KC, bp, nr, c, nr, mode == 1 ? rb : NULL, mode == 2 ? cb : NULL, 0, NULL, 0);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) {
                double want = mode == 1 ? rb[i] : cb[j], mag = 0.0;
                for (int p = 0; p < KC; p++) {
                    want += (double)a[i * KC + p] * bp[p * nr + j];
                    mag += fabs((double)a[i * KC + p] * bp[p * nr + j]);
                }
                const double bound = 0.5 * 1024.0 * 0x1p-23 + KC * 0x1p-24 * mag;
                assert_true(fabs(c[i * nr + j] - want) <= bound);
            }
    }
    free(a), free(bp);
}

static void test_gemm_ukernels(void **state)
{
    (void)state;
    /* Every GEMM micro-kernel of this build (config.h's list), each on the same cases. */
#define X(fn, rows, mr, nr)                \
    print_message("  %s\n", #fn);         \
    gemm_ukernel_case(fn, mr, nr, 37);     \
    gemm_ukernel_case(fn, mr, nr, 150);    \
    gemm_chunks_case(fn, rows, mr, nr);    \
    gemm_rows_case(rows, mr, nr);          \
    gemm_bias_last_case(fn, mr, nr);
    MCR_GEMM_UKERNELS(X)
#undef X
}

/* Every stride-1 row-blocked depthwise micro-kernel this build has, on a padded plane
 * (rows wq = ow + kw - 1 apart, and the tile of slack dwconv.c keeps after it), against
 * the stencil. Shapes: block rows and vectors full and partial. */
static void rows_ukernel_case(mcr_dwconv_rows_ukernel fn, long oh, long ow, long kh, long kw)
{
    const long wq = ow + kw - 1, hq = oh + kh - 1;
    float *pad = randv(hq * wq + MCR_DWCONV_TILE_MAX), *w = randv(kh * kw);
    float *y = malloc((size_t)(oh * ow) * sizeof(float));
    double *want = malloc((size_t)(oh * ow) * sizeof(double));
    for (long oy = 0; oy < oh; oy++)
        for (long ox = 0; ox < ow; ox++) {
            double acc = 0.5;
            for (long r = 0; r < kh; r++)
                for (long c = 0; c < kw; c++) acc += (double)w[r * kw + c] * pad[(oy + r) * wq + ox + c];
            want[oy * ow + ox] = acc;
        }
    fn(pad, wq, w, kh, kw, 0.5f, y, oh, ow);
    assert_close(y, want, oh * ow, 1e-5, 1e-5);
    free(pad), free(w), free(y), free(want);
}

static void test_dwconv_rows_ukernels(void **state)
{
    (void)state;
    const long shapes[][4] = {{8, 8, 7, 7}, {9, 70, 7, 7}, {5, 20, 3, 3}, {1, 3, 3, 5},
                              {16, 16, 3, 3}, {6, 33, 7, 1}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const long oh = shapes[t][0], ow = shapes[t][1], kh = shapes[t][2], kw = shapes[t][3];
#define X(fn) rows_ukernel_case(fn, oh, ow, kh, kw);
        MCR_DWCONV_ROWS_UKERNELS(X) /* the SIMD builds have them */
#undef X
        (void)oh, (void)ow, (void)kh, (void)kw, (void)rows_ukernel_case;
    }
}

/* Every channels-last depthwise micro-kernel this build has against the formula of its
 * contract: channel counts below, at and past a vector (tails), rows of 1 to 17 pixels
 * (past a pixel tile), strides 1 and 2, with and without bias. bias 2: biases of +-1024,
 * each element then within half an ulp of 1024 plus the sum's own bound, taps u sum|w x|
 * (the bias is added last; started from it, every tap rounds at 1024's scale). */
static void nhwc_ukernel_case(mcr_dwconv_nhwc_ukernel fn, long kc, long ow, long kh, long kw,
                              long sw, int bias)
{
    const long wp = (ow - 1) * sw + kw, ld = kc + 5; /* a group of kc of ld channels */
    const float *rows[7];
    float *in = randv(kh * wp * kc), *w = randv(kh * kw * ld), *b = randv(kc);
    float *y = randv(ow * ld);
    double *want = malloc((size_t)(ow * ld) * sizeof(double));
    double *bound = malloc((size_t)(ow * ld) * sizeof(double));
    if (bias == 2) {
        for (long ch = 0; ch < kc; ch++) b[ch] = ch % 2 ? 1024.0f : -1024.0f;
    }
    for (long i = 0; i < ow * ld; i++) want[i] = y[i], bound[i] = 0.0; /* past kc untouched */
    for (long r = 0; r < kh; r++) rows[r] = in + ((r * 5) % kh) * wp * kc; /* any order */
    for (long ox = 0; ox < ow; ox++)
        for (long ch = 0; ch < kc; ch++) {
            double acc = bias ? b[ch] : 0.0, mag = 0.0;
            for (long r = 0; r < kh; r++)
                for (long s = 0; s < kw; s++) {
                    const double t = (double)w[(r * kw + s) * ld + ch] * rows[r][(ox * sw + s) * kc + ch];
                    acc += t, mag += fabs(t);
                }
            want[ox * ld + ch] = acc;
            bound[ox * ld + ch] = 0.5 * 1024.0 * 0x1p-23 + (double)(kh * kw) * 0x1p-24 * mag;
        }
    fn(rows, kh, kw, sw, w, bias ? b : NULL, y, ow, kc, ld);
    assert_close(y, want, ow * ld, 1e-5, 1e-5);
    if (bias == 2) {
        for (long i = 0; i < ow * ld; i++) assert_true(fabs(y[i] - want[i]) <= bound[i]);
    }
    free(in), free(w), free(b), free(y), free(want), free(bound);
}

static void test_dwconv_nhwc_ukernels(void **state)
{
    (void)state;
    const long shapes[][6] = {{64, 8, 7, 7, 1, 1}, {37, 17, 3, 3, 1, 0}, {16, 1, 3, 3, 2, 1},
                              {5, 9, 7, 7, 2, 1},  {24, 16, 1, 5, 1, 1}, {1, 3, 3, 3, 1, 0},
                              {80, 13, 3, 3, 2, 1}, {19, 14, 7, 7, 1, 1}, {8, 12, 3, 3, 1, 0},
                              {9, 6, 7, 7, 2, 0}, {16, 7, 7, 7, 1, 1}, {3, 4, 3, 3, 2, 1},
                              {17, 5, 3, 3, 1, 1}, {32, 16, 7, 7, 1, 2}, {16, 9, 3, 3, 2, 2},
                              {21, 40, 7, 7, 1, 1}, {18, 33, 3, 3, 1, 2}, {16, 24, 7, 7, 2, 1}};
    /* Widths for the sliding tiles: whole tiles of 16 (stride 1, AVX-512) or 8, a last one
     * overlapping the one before, two tiles of 4 for 4 to 7 pixels, single pixels below
     * 4. */
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const long *v = shapes[t];
#define X(fn) nhwc_ukernel_case(fn, v[0], v[1], v[2], v[3], v[4], (int)v[5]);
        MCR_DWCONV_NHWC_UKERNELS(X)
#undef X
    }
}

static void test_dwconv_ukernels(void **state)
{
    (void)state;
#define X(fn, tile) print_message("  %s\n", #fn); ukernel_case(fn, tile);
    MCR_DWCONV_UKERNELS(X)
#undef X
}

/* The blocked 1x1 kernel against mcr_conv2d_f32, full and edge blocks, with an epilogue. */
static void test_conv1x1(void **state)
{
    (void)state;
    const long cases[][4] = {{1, 8, 8, 32}, {2, 5, 7, 19}, {1, 3, 13, 1}, {1, 17, 4, 100},
                             {2, 9, 21, 96}, {1, 300, 13, 64}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const long n = cases[t][0], c = cases[t][1], k = cases[t][2], hw = cases[t][3];
        float *x = randv(n * c * hw), *w = randv(k * c), *b = randv(k), *res = randv(n * k * hw);
        float *got = malloc((size_t)(n * k * hw) * sizeof(float));
        float *want = malloc((size_t)(n * k * hw) * sizeof(float));
        double *ref = malloc((size_t)(n * k * hw) * sizeof(double));
        const struct mcr_epilogue ep = {MCR_SIGMOID, 0.0f, 0.0f, res};
        mcr_conv2d_f32(x, w, b, want, n, c, 1, hw, k, 1, hw, 1, 1, 1, 1, 0, 0, 1, 1, 1, &ep);
        for (long i = 0; i < n * k * hw; i++) ref[i] = want[i];
        mcr_conv1x1_f32(x, w, b, got, n, c, k, hw, &ep);
        assert_close(got, ref, n * k * hw, 1e-6, 1e-5);
        free(x), free(w), free(b), free(res), free(got), free(want), free(ref);
    }
}

static void test_matmul(void **state)
{
    (void)state;
    /* (m, k, n): scalars, edges only, full 4x16, 3x32, 6x16 and 8x32 tiles with edges, k over
     * one packed block (64 or 256 rows, by ISA) so that sums run across blocks, and k over
     * two slabs of pre-packed b (gemm.c, 1024 rows) ending in a short one; pre-packed b's
     * edges of 16 columns (the half-width kernel in place), under 16 (through a copy) and
     * over 16 (the full-width kernel through a copy). The last two with c's rows a multiple
     * of 4 KB apart, whose full tiles pre-packed b takes through a buffer (gemm.c,
     * rows_alias): one slab and two. */
    const long shapes[][4] = {{1, 1, 1, 0},    {7, 13, 5, 0},     {17, 33, 19, 0},
                              {64, 48, 31, 0}, {24, 40, 67, 0},   {13, 300, 40, 0},
                              {9, 530, 33, 0}, {11, 2100, 35, 0}, {10, 70, 48, 0},
                              {19, 1100, 80, 0}, {5, 9, 56, 0},   {17, 200, 72, 1024},
                              {19, 1100, 80, 2048}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const long m = shapes[t][0], k = shapes[t][1], n = shapes[t][2];
        /* leading dims wider than rows */
        const long lda = k + 3, ldb = n + 2, ldc = shapes[t][3] ? shapes[t][3] : n + 1;
        float *a = randv(m * lda), *b = randv(k * ldb), *bias = randv(n);
        float *c = randv(m * ldc);
        double *ref = malloc((size_t)(m * ldc) * sizeof(double));
        for (int use_bias = 0; use_bias < 2; use_bias++) {
            for (long i = 0; i < m; i++)
                for (long j = 0; j < ldc; j++) {
                    if (j >= n) {
                        ref[i * ldc + j] = c[i * ldc + j]; /* untouched padding */
                        continue;
                    }
                    double acc = use_bias ? bias[j] : 0.0;
                    for (long p = 0; p < k; p++) acc += (double)a[i * lda + p] * b[p * ldb + j];
                    ref[i * ldc + j] = acc;
                }
            mcr_matmul_f32(a, b, use_bias ? bias : NULL, c, m, k, n, lda, ldb, ldc, NULL);
            assert_close(c, ref, m * ldc, 1e-5, 1e-5);
            float *cu = malloc((size_t)(m * ldc) * sizeof(float));
            memcpy(cu, c, (size_t)(m * ldc) * sizeof(float));
            /* b packed as the compiler packs constant weights. */
            const long w = MCR_PANEL, panels = (n + w - 1) / w;
            float *bpk = malloc((size_t)(panels * k * w) * sizeof(float));
            for (long q = 0; q < panels; q++)
                for (long p = 0; p < k; p++)
                    for (long j = 0; j < w; j++)
                        bpk[(q * k + p) * w + j] = q * w + j < n ? b[p * ldb + q * w + j] : 0.0f;
            mcr_matmul_packed_f32(a, bpk, use_bias ? bias : NULL, c, m, k, n, lda, ldc, NULL,
                                  NULL);
            assert_close(c, ref, m * ldc, 1e-5, 1e-5);
            /* The same sums in the same order as packing b here: slabs of pre-packed b
             * (gemm.c) start on whole chunks of k. */
            assert_memory_equal(c, cu, (size_t)(m * ldc) * sizeof(float));
            free(cu);
            float *ct = malloc((size_t)(m * ldc) * sizeof(float));
            for (size_t i = 0; i < NTHREADS; i++) { /* split by rows or by columns */
                struct threaded t;
                memcpy(ct, c, (size_t)(m * ldc) * sizeof(float));
                for (long r = 0; r < m; r++) /* the split's columns, written again */
                    for (long j = 0; j < n; j++) ct[r * ldc + j] = -1.0f;
                mcr_matmul_packed_f32(a, bpk, use_bias ? bias : NULL, ct, m, k, n, lda, ldc,
                                      NULL, threaded(&t, THREADS[i], 0));
                assert_memory_equal(ct, c, (size_t)(m * ldc) * sizeof(float));
                threaded_free(&t);
            }
            free(ct);
            /* With GELU, the epilogue of every ConvMlp (whole tiles and half-width edges of
             * pre-packed b take their own paths). */
            double *gelu_ref = malloc((size_t)(m * ldc) * sizeof(double));
            for (long i = 0; i < m * ldc; i++) { /* columns past n stay as they were */
                const double x = ref[i];
                gelu_ref[i] = i % ldc < n ? 0.5 * x * (1.0 + erf(x / sqrt(2.0))) : x;
            }
            const struct mcr_epilogue gelu = {MCR_GELU_ERF, 0.0f, 0.0f, NULL};
            mcr_matmul_f32(a, b, use_bias ? bias : NULL, c, m, k, n, lda, ldb, ldc, &gelu);
            assert_close(c, gelu_ref, m * ldc, 1e-5, 1e-5);
            mcr_matmul_packed_f32(a, bpk, use_bias ? bias : NULL, c, m, k, n, lda, ldc, &gelu,
                                  NULL);
            assert_close(c, gelu_ref, m * ldc, 1e-5, 1e-5);
            free(gelu_ref);
            /* With an epilogue: relu, then a residual laid out like c. */
            float *res = randv(m * ldc);
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++)
                    ref[i * ldc + j] = fmax(ref[i * ldc + j], 0.0) + res[i * ldc + j];
            const struct mcr_epilogue ep = {MCR_RELU, 0.0f, 0.0f, res};
            mcr_matmul_f32(a, b, use_bias ? bias : NULL, c, m, k, n, lda, ldb, ldc, &ep);
            assert_close(c, ref, m * ldc, 1e-5, 1e-5);
            mcr_matmul_packed_f32(a, bpk, use_bias ? bias : NULL, c, m, k, n, lda, ldc, &ep,
                                  NULL);
            assert_close(c, ref, m * ldc, 1e-5, 1e-5);
            free(res), free(bpk);
        }
        free(a), free(b), free(bias), free(c), free(ref);
    }
}

static void test_mlp_packed(void **state)
{
    (void)state;
    /* (m, c, h, n): one row, one block with edge tiles, two blocks (h = 96: 240 rows a
     * block), the smallest blocks (h over 1024: 24 rows) with a short last one. */
    const long shapes[][4] = {{1, 3, 5, 2}, {7, 16, 40, 9}, {250, 24, 96, 24},
                              {101, 40, 1100, 17}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const long m = shapes[t][0], c = shapes[t][1], h = shapes[t][2], n = shapes[t][3];
        float *x = randv(m * c), *w1 = randv(c * h), *w2 = randv(h * n), *b1 = randv(h);
        float *b2 = randv(n), *res = randv(m * n), *hid = randv(m * h);
        float *want = randv(m * n), *got = randv(m * n);
        float *p1 = pack_panels(w1, c, h), *p2 = pack_panels(w2, h, n);
        const long sf = mcr_mlp_packed_scratch_floats(h);
        float *scratch = randv(sf);
        const struct mcr_epilogue gelu = {MCR_GELU_ERF, 0.0f, 0.0f, NULL};
        const struct mcr_epilogue relu_res = {MCR_RELU, 0.0f, 0.0f, res};
        for (int variant = 0; variant < 2; variant++) { /* with epilogues and biases, without */
            const struct mcr_epilogue *ep1 = variant ? NULL : &gelu;
            const struct mcr_epilogue *ep2 = variant ? NULL : &relu_res;
            const float *bb1 = variant ? NULL : b1, *bb2 = variant ? NULL : b2;
            /* the two calls it stands for: the same bits */
            mcr_matmul_packed_f32(x, p1, bb1, hid, m, c, h, c, h, ep1, NULL);
            mcr_matmul_packed_f32(hid, p2, bb2, want, m, h, n, h, n, ep2, NULL);
            mcr_mlp_packed_f32(x, p1, bb1, ep1, p2, bb2, ep2, got, scratch, m, c, h, n, NULL);
            assert_memory_equal(got, want, (size_t)(m * n) * sizeof(float));
            /* each task with its own scratch, the blocks cut to the threads' shares */
            for (size_t i = 0; i < NTHREADS; i++) {
                struct threaded th;
                const struct mcr_threads *tp = threaded(&th, THREADS[i], sf);
                memset(got, 0, (size_t)(m * n) * sizeof(float));
                mcr_mlp_packed_f32(x, p1, bb1, ep1, p2, bb2, ep2, got, scratch, m, c, h, n, tp);
                assert_memory_equal(got, want, (size_t)(m * n) * sizeof(float));
                threaded_free(&th);
            }
        }
        free(x), free(w1), free(w2), free(b1), free(b2), free(res), free(hid), free(want);
        free(got), free(p1), free(p2), free(scratch);
    }
}

/* The dense conv feeding a depthwise conv, row by row: the bits of the two kernels it
 * stands for (mcr_conv2d_gemm_nhwc_f32, then mcr_dwconv2d_nhwc_f32), on one thread and
 * split into chunks of rows. Cases: MCi's stem on a small odd image (NCHW in, 3x3/2 then
 * 3x3/2), an NHWC input with a channel count off the vector width under a 7x7/1 depthwise,
 * a 2x2/2 patch conv, rows of 300 pixels (several GEMM bands a row), depthwise padding
 * only at the top and left (its last rows and columns read no padding). */
static void test_conv_dw_nhwc(void **state)
{
    (void)state;
    /* n, c, h, w, k, x_nhwc, conv kh kw sh sw pt pl, depthwise kh2 kw2 sh2 sw2 pt2 pl2 pb2 pr2 */
    const long cases[][20] = {
        {1, 3, 17, 19, 24, 0, 3, 3, 2, 2, 1, 1, 3, 3, 2, 2, 1, 1, 1, 1},
        {2, 5, 12, 12, 19, 1, 3, 3, 1, 1, 1, 1, 7, 7, 1, 1, 3, 3, 3, 3},
        {1, 4, 16, 16, 32, 0, 2, 2, 2, 2, 0, 0, 3, 3, 2, 2, 1, 1, 1, 1},
        {1, 2, 6, 300, 8, 1, 1, 3, 1, 1, 0, 1, 3, 3, 1, 1, 1, 1, 1, 1},
        {1, 3, 20, 20, 17, 0, 3, 3, 2, 2, 1, 1, 3, 3, 2, 2, 1, 1, 0, 0},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const long *q = cases[t];
        const long n = q[0], c = q[1], h = q[2], w = q[3], k = q[4], x_nhwc = q[5];
        const long kh = q[6], kw = q[7], sh = q[8], sw = q[9], pt = q[10], pl = q[11];
        const long kh2 = q[12], kw2 = q[13], sh2 = q[14], sw2 = q[15], pt2 = q[16], pl2 = q[17];
        const long oh1 = (h + 2 * pt - kh) / sh + 1, ow1 = (w + 2 * pl - kw) / sw + 1;
        const long oh = (oh1 + pt2 + q[18] - kh2) / sh2 + 1, ow = (ow1 + pl2 + q[19] - kw2) / sw2 + 1;
        const long ny = n * oh * ow * k;
        float *x = randv(n * c * h * w), *wk = randv(kh * kw * c * k), *b1 = randv(k);
        float *wdw = randv(kh2 * kw2 * k), *b2 = randv(k), *res = randv(ny);
        float *wp = pack_panels(wk, kh * kw * c, k), *mid = randv(n * oh1 * ow1 * k);
        float *want = randv(ny), *got = randv(ny);
        const long s1 = mcr_conv2d_gemm_nhwc_scratch_floats(c, kh, kw);
        const long s2 = mcr_dwconv2d_nhwc_scratch_floats(k, oh1, ow1, k, ow, kh2, kw2, sw2);
        const long sf = mcr_conv_dw_nhwc_scratch_floats(c, kh, kw, k, ow, kh2, kw2, sw2);
        float *scratch = randv(s1 > s2 ? (s1 > sf ? s1 : sf) : (s2 > sf ? s2 : sf));
        const struct mcr_epilogue gelu = {MCR_GELU_ERF, 0.0f, 0.0f, NULL};
        const struct mcr_epilogue relu_res = {MCR_RELU, 0.0f, 0.0f, res};
        for (int variant = 0; variant < 3; variant++) { /* GELU both; biases, residual; none */
            const struct mcr_epilogue *ep1 = variant == 2 ? NULL : &gelu;
            const struct mcr_epilogue *ep = variant == 0 ? &gelu : variant == 1 ? &relu_res : NULL;
            const float *bb1 = variant == 2 ? NULL : b1, *bb2 = variant == 2 ? NULL : b2;
            mcr_conv2d_gemm_nhwc_f32(x, (int)x_nhwc, wp, bb1, mid, scratch, n, c, h, w, k, oh1, ow1,
                                     kh, kw, sh, sw, pt, pl, 1, 1, ep1, NULL);
            mcr_dwconv2d_nhwc_f32(mid, wdw, bb2, want, scratch, n, k, oh1, ow1, 1, oh, ow, kh2,
                                  kw2, sh2, sw2, pt2, pl2, ep, NULL);
            /* NaN in the scratch: any float read before it is written shows */
            for (long i = 0; i < sf; i++) scratch[i] = NAN;
            mcr_conv_dw_nhwc_f32(x, (int)x_nhwc, wp, bb1, ep1, wdw, bb2, ep, got, scratch, n, c,
                                 h, w, k, oh1, ow1, kh, kw, sh, sw, pt, pl, 1, 1, oh, ow, kh2, kw2,
                                 sh2, sw2, pt2, pl2, NULL);
            assert_memory_equal(got, want, (size_t)ny * sizeof(float));
            for (size_t i = 0; i < NTHREADS; i++) { /* chunks of rows, each with its ring */
                struct threaded th;
                const struct mcr_threads *tp = threaded(&th, THREADS[i], sf);
                for (long f = 0; f < sf; f++) scratch[f] = NAN;
                for (long f = 0; f < (THREADS[i] - 1) * sf; f++) th.th.more[f] = NAN;
                memset(got, 0, (size_t)ny * sizeof(float));
                mcr_conv_dw_nhwc_f32(x, (int)x_nhwc, wp, bb1, ep1, wdw, bb2, ep, got, scratch,
                                     n, c, h, w, k, oh1, ow1, kh, kw, sh, sw, pt, pl, 1, 1, oh,
                                     ow, kh2, kw2, sh2, sw2, pt2, pl2, tp);
                assert_memory_equal(got, want, (size_t)ny * sizeof(float));
                threaded_free(&th);
            }
        }
        free(x), free(wk), free(b1), free(wdw), free(b2), free(res), free(wp), free(mid);
        free(want), free(got), free(scratch);
    }
}

static void test_binary_broadcast(void **state)
{
    (void)state;
    /* y[2][3][5] = a[2][1][5] OP b[3][1] (b broadcast over dims 0 and 2). */
    const long shape[3] = {2, 3, 5};
    const long as[3] = {5, 0, 1}, bs[3] = {0, 1, 0};
    float *a = randv(10), *b = randv(3), y[30];
    double ref[30];
    for (int op = MCR_ADD; op <= MCR_MIN; op++) {
        if (op == MCR_POW) {
            for (int i = 0; i < 10; i++) a[i] = fabsf(a[i]) + 0.5f; /* real powers only */
        }
        for (long i = 0; i < 2; i++)
            for (long j = 0; j < 3; j++)
                for (long l = 0; l < 5; l++) {
                    const double va = a[i * 5 + l], vb = b[j];
                    double r = 0;
                    switch (op) {
                    case MCR_ADD: r = va + vb; break;
                    case MCR_SUB: r = va - vb; break;
                    case MCR_MUL: r = va * vb; break;
                    case MCR_DIV: r = va / vb; break;
                    case MCR_POW: r = pow(va, vb); break;
                    case MCR_MAX: r = va > vb ? va : vb; break;
                    case MCR_MIN: r = va < vb ? va : vb; break;
                    }
                    ref[(i * 3 + j) * 5 + l] = r;
                }
        mcr_binary_f32((enum mcr_binary_op)op, a, as, b, bs, y, shape, 3, NULL);
        assert_close(y, ref, 30, 1e-6, 1e-6);
        float yt[30]; /* by rows of the last dimension, each task from its own index */
        ASSERT_THREADS_SAME(yt, y, 30,
                            mcr_binary_f32((enum mcr_binary_op)op, a, as, b, bs, yt, shape, 3, TH));
    }
    /* Rows longer than a unit of the split (256): tasks start and end inside rows. */
    {
        const long shape2[2] = {3, 600}, as2[2] = {600, 1}, bs2[2] = {1, 0};
        float *a2 = randv(3 * 600), *y2 = malloc(3 * 600 * sizeof(float));
        float *yt2 = malloc(3 * 600 * sizeof(float));
        double *ref2 = malloc(3 * 600 * sizeof(double));
        for (long i = 0; i < 3 * 600; i++) ref2[i] = (double)a2[i] - b[i / 600];
        mcr_binary_f32(MCR_SUB, a2, as2, b, bs2, y2, shape2, 2, NULL);
        assert_close(y2, ref2, 3 * 600, 0, 1e-7);
        ASSERT_THREADS_SAME(yt2, y2, 3 * 600,
                            mcr_binary_f32(MCR_SUB, a2, as2, b, bs2, yt2, shape2, 2, TH));
        free(a2), free(y2), free(yt2), free(ref2);
    }
    /* rank 0 */
    float s = 0;
    const float two = 2.0f, three = 3.0f;
    mcr_binary_f32(MCR_MUL, &two, NULL, &three, NULL, &s, NULL, 0, NULL);
    assert_true(s == 6.0f);
    free(a), free(b);
}

static double ref_unary(int op, double x, double alpha, double beta)
{
    switch (op) {
    case MCR_RELU: return x > 0 ? x : 0;
    case MCR_SIGMOID: return 1 / (1 + exp(-x));
    case MCR_TANH: return tanh(x);
    case MCR_ERF: return erf(x);
    case MCR_EXP: return exp(x);
    case MCR_LOG: return log(fabs(x) + 0.1);
    case MCR_SQRT: return sqrt(fabs(x));
    case MCR_NEG: return -x;
    case MCR_ABS: return fabs(x);
    case MCR_RECIPROCAL: return 1 / x;
    case MCR_GELU_ERF: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case MCR_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case MCR_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    case MCR_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case MCR_HARD_SIGMOID: return fmax(0, fmin(1, alpha * x + beta));
    case MCR_HARD_SWISH: return x * fmax(0, fmin(1, x / 6 + 0.5));
    case MCR_ELU: return x >= 0 ? x : alpha * (exp(x) - 1);
    case MCR_SOFTPLUS: return log(1 + exp(x));
    case MCR_FLOOR: return floor(x);
    case MCR_CEIL: return ceil(x);
    }
    return NAN;
}

static void test_unary(void **state)
{
    (void)state;
    enum { N = 257 };
    float *x = randv(N), y[N];
    double ref[N];
    for (long i = 0; i < N; i++) x[i] *= 4.0f;
    for (int op = MCR_RELU; op <= MCR_CEIL; op++) {
        float in[N];
        for (long i = 0; i < N; i++) {
            in[i] = x[i];
            if (op == MCR_LOG) in[i] = fabsf(x[i]) + 0.1f;
            if (op == MCR_SQRT) in[i] = fabsf(x[i]);
            if (op == MCR_RECIPROCAL && fabsf(in[i]) < 0.05f) in[i] = 0.5f;
        }
        for (long i = 0; i < N; i++) {
            const double v = (op == MCR_LOG || op == MCR_SQRT) ? x[i] : in[i];
            ref[i] = ref_unary(op, v, op == MCR_CLIP ? -0.5 : 0.2, op == MCR_CLIP ? 0.7 : 0.5);
        }
        mcr_unary_f32((enum mcr_unary_op)op, in, y, N, op == MCR_CLIP ? -0.5f : 0.2f,
                      op == MCR_CLIP ? 0.7f : 0.5f, NULL);
        /* erf is held to its approximation's documented bound (test_erf_error_bound). */
        const double atol = op == MCR_ERF ? 5e-7 : 1e-6;
        assert_close(y, ref, N, atol, 4e-6);
        float yt[N]; /* by blocks of elements (the long case: test_erf_error_bound) */
        ASSERT_THREADS_SAME(yt, y, N,
                            mcr_unary_f32((enum mcr_unary_op)op, in, yt, N,
                                          op == MCR_CLIP ? -0.5f : 0.2f,
                                          op == MCR_CLIP ? 0.7f : 0.5f, TH));
    }
    free(x);
}

/* The documented bound of the erf approximation (runtime/src/fastmath.h), measured over
 * [-6, 6] through the ERF kernel: |error| <= 5e-7; and GELU's follows from it. */
/* The bound of fastmath.h's exp, the one softmax (and so attention) uses: relative error
 * against exp in double over the range where exp is a normal float, and the clamp below. */
static void test_exp_error_bound(void **state)
{
    (void)state;
    enum { N = 1 << 20 };
    double worst = 0.0;
    for (long i = 0; i < N; i++) {
        const float x = -87.0f + 175.0f * (float)i / (float)(N - 1);
        worst = fmax(worst, fabs(mcr_exp(x) / exp((double)x) - 1.0));
    }
    print_message("exp max relative error %.3g over [-87, 88]\n", worst);
    assert_true(worst <= 2e-7);
    assert_true(mcr_exp(-1000.0f) >= 0.0f && mcr_exp(-1000.0f) <= 1.2e-38f);
    assert_true(mcr_exp(0.0f) == 1.0f);
}

static void test_erf_error_bound(void **state)
{
    (void)state;
    enum { N = 1 << 20 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    double worst = 0.0, worst_gelu = 0.0;
    for (long i = 0; i < N; i++) x[i] = -6.0f + 12.0f * (float)i / (float)(N - 1);
    mcr_unary_f32(MCR_ERF, x, y, N, 0.0f, 0.0f, NULL);
    for (long i = 0; i < N; i++) worst = fmax(worst, fabs(y[i] - erf((double)x[i])));
    mcr_unary_f32(MCR_GELU_ERF, x, y, N, 0.0f, 0.0f, NULL);
    float *yt = malloc(N * sizeof(float)); /* GELU's path, split into many blocks */
    ASSERT_THREADS_SAME(yt, y, N, mcr_unary_f32(MCR_GELU_ERF, x, yt, N, 0.0f, 0.0f, TH));
    free(yt);
    for (long i = 0; i < N; i++) {
        const double g = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
        /* 0.5|x| times erf's bound, plus float rounding of the result */
        worst_gelu = fmax(worst_gelu, fabs(y[i] - g) - 0.5 * fabs(x[i]) * 5e-7 - 2e-7 * fabs(g));
    }
    print_message("erf max |error| %.3g over [-6, 6]\n", worst);
    assert_true(worst <= 5e-7);
    assert_true(worst_gelu <= 1e-7);
    free(x), free(y);
}

/* Softmax rows of every length around the vector widths (the partial last vector), and
 * long enough for several flushes of the lane sums (fastmath.h), against float64. */
static void test_softmax_lengths(void **state)
{
    (void)state;
    enum { MAXN = 4099 };
    float *x = randv(MAXN), *y = malloc(MAXN * sizeof(float));
    double *ref = malloc(MAXN * sizeof(double));
    for (long n = 1; n <= MAXN; n = n < 80 ? n + 1 : 2 * n + 1) {
        const float scale = n % 2 ? 1.0f : 0.125f;
        double mx = -INFINITY, sum = 0;
        for (long i = 0; i < n; i++) mx = fmax(mx, x[i]);
        for (long i = 0; i < n; i++) sum += exp(scale * (x[i] - mx));
        for (long i = 0; i < n; i++) ref[i] = exp(scale * (x[i] - mx)) / sum;
        mcr_softmax_row(x, y, n, scale);
        assert_close(y, ref, n, 1e-8, 1e-6);
    }
    free(x), free(y), free(ref);
}

#if defined(MCR_VEC_HEADER)
/* v_exp gives mcr_exp's bits on every lane: the same steps. Over the clamp's range and
 * past it, and the specials. */
static void test_exp_vector_scalar_same(void **state)
{
    (void)state;
    enum { N = 1 << 16 };
    float x[MCR_VN], y[MCR_VN];
    const float special[] = {0.0f, -0.0f, 88.3762626f, -87.3365448f, 88.5f, -88.0f,
                             INFINITY, -INFINITY, 1e30f, -1e30f, 1e-30f, 0.5f};
    for (long i = 0; i < N + (long)(sizeof special / sizeof special[0]); i++) {
        const long lane = i % MCR_VN;
        x[lane] = i < N ? -100.0f + 200.0f * (float)i / (float)(N - 1) : special[i - N];
        if (lane == MCR_VN - 1 || i == N + (long)(sizeof special / sizeof special[0]) - 1) {
            v_store(y, v_exp(v_load(x)));
            for (long j = 0; j <= lane; j++) {
                const float want = mcr_exp(x[j]);
                if (memcmp(&y[j], &want, sizeof want) != 0) {
                    fail_msg("x = %.9g: v_exp %.9g, mcr_exp %.9g", (double)x[j], (double)y[j],
                             (double)want);
                }
            }
        }
    }
}
#endif

static void test_softmax(void **state)
{
    (void)state;
    enum { R = 5, N = 37 };
    float *x = randv(R * N), y[R * N];
    double ref[R * N];
    x[3] = 80.0f; /* would overflow expf without max subtraction */
    for (long r = 0; r < R; r++) {
        double mx = -INFINITY, sum = 0;
        for (long i = 0; i < N; i++) mx = fmax(mx, x[r * N + i]);
        for (long i = 0; i < N; i++) sum += exp(x[r * N + i] - mx);
        for (long i = 0; i < N; i++) ref[r * N + i] = exp(x[r * N + i] - mx) / sum;
    }
    mcr_softmax_f32(x, y, R, N, NULL);
    assert_close(y, ref, R * N, 1e-7, 1e-5);
    float yt[R * N]; /* by rows */
    ASSERT_THREADS_SAME(yt, y, R * N, mcr_softmax_f32(x, yt, R, N, TH));
    free(x);
}

/* The GELU epilogue (the vector v_gelu where the build has a vector layer, then the scalar
 * mcr_gelu for the last elements) gives mcr_gelu's bits for every element: both forms of
 * the approximation are the same steps. Over [-6, 6] in steps near every lane position,
 * the clamp's edges +-4 (times sqrt 2) and the specials. */
static void test_gelu_vector_scalar_same(void **state)
{
    (void)state;
    enum { N = 4099 }; /* not a multiple of any vector width: the scalar tail too */
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    for (long i = 0; i < N; i++) x[i] = -6.0f + 12.0f * (float)i / (float)(N - 1);
    const float special[] = {0.0f, -0.0f, 4.0f * 1.41421356f, -4.0f * 1.41421356f,
                             5.65685415f, -5.65685415f, INFINITY, -INFINITY, NAN, 1e30f,
                             -1e30f, 1e-30f};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) x[17 * i + 3] = special[i];
    const struct mcr_epilogue ep = {MCR_GELU_ERF, 0.0f, 0.0f, NULL};
    memcpy(y, x, N * sizeof(float));
    mcr_epilogue_f32(&ep, y, 0, N);
    for (long i = 0; i < N; i++) {
        const float want = mcr_gelu(x[i]);
        if (memcmp(&y[i], &want, sizeof want) != 0) {
            fail_msg("element %ld (x = %.9g): epilogue %.9g, mcr_gelu %.9g", i, (double)x[i],
                     (double)y[i], (double)want);
        }
    }
    free(x), free(y);
}

/* fastmath.h's max, softmax's first pass: exact, with the maximum in every position of
 * rows of every length around the vector width (the lanes and the tail). */
static void test_max(void **state)
{
    (void)state;
    float x[80]; /* past two vectors of 16 and one more step */
    for (long n = 1; n <= 80; n++) {
        for (long at = 0; at < n; at++) {
            for (long i = 0; i < n; i++) x[i] = -1.0f - (float)((i * 7) % 11);
            x[at] = 3.5f;
            assert_true(mcr_max_f32(x, n) == 3.5f);
        }
    }
}

static void test_layernorm(void **state)
{
    (void)state;
    enum { R = 3, N = 29 };
    float *x = randv(R * N), *g = randv(N), *b = randv(N), y[R * N], mean[R], inv[R];
    double ref[R * N], ref_mean[R], ref_inv[R];
    for (long i = 0; i < R * N; i++) x[i] = 100.0f + x[i]; /* a large mean */
    for (int use_bias = 0; use_bias < 2; use_bias++) {
        for (long r = 0; r < R; r++) {
            double mean = 0, var = 0;
            for (long i = 0; i < N; i++) mean += x[r * N + i];
            mean /= N;
            for (long i = 0; i < N; i++) var += (x[r * N + i] - mean) * (x[r * N + i] - mean);
            var /= N;
            ref_mean[r] = mean;
            ref_inv[r] = 1 / sqrt(var + 1e-5);
            for (long i = 0; i < N; i++)
                ref[r * N + i] = (x[r * N + i] - mean) / sqrt(var + 1e-5) * g[i] + (use_bias ? b[i] : 0);
        }
        mcr_layernorm_f32(x, g, use_bias ? b : NULL, y, use_bias ? mean : NULL,
                          use_bias ? inv : NULL, R, N, 1e-5f, NULL);
        assert_close(y, ref, R * N, 2e-4, 1e-4); /* float input rounding at mean 100 */
        float yt[R * N]; /* by rows */
        ASSERT_THREADS_SAME(yt, y, R * N, mcr_layernorm_f32(x, g, use_bias ? b : NULL, yt, NULL,
                                                            NULL, R, N, 1e-5f, TH));
        if (use_bias) {
            assert_close(mean, ref_mean, R, 1e-6, 1e-6);
            assert_close(inv, ref_inv, R, 1e-6, 1e-5);
        }
    }
    free(x), free(g), free(b);
}

static void test_channel_affine(void **state)
{
    (void)state;
    enum { O = 2, C = 3, I = 7 };
    float *x = randv(O * C * I), *s = randv(C), *t = randv(C), y[O * C * I];
    double ref[O * C * I];
    for (long o = 0; o < O; o++)
        for (long c = 0; c < C; c++)
            for (long i = 0; i < I; i++) {
                const long k = (o * C + c) * I + i;
                ref[k] = (double)x[k] * s[c] + t[c];
            }
    mcr_channel_affine_f32(x, s, t, y, O, C, I, NULL);
    assert_close(y, ref, O * C * I, 1e-6, 1e-6);
    float yt[O * C * I]; /* by planes */
    ASSERT_THREADS_SAME(yt, y, O * C * I, mcr_channel_affine_f32(x, s, t, yt, O, C, I, TH));
    free(x), free(s), free(t);
}

static void test_reduce(void **state)
{
    (void)state;
    /* inner 4, and 300: past one chunk of accumulators (a channels-last global pool). */
    enum { O = 3, R = 11, IMAX = 300 };
    float *x = randv(O * R * IMAX), y[O * IMAX];
    double ref[O * IMAX];
    for (long I = 4; I <= IMAX; I += IMAX - 4) {
        for (int op = MCR_REDUCE_MEAN; op <= MCR_REDUCE_MIN; op++) {
            for (long o = 0; o < O; o++)
                for (long i = 0; i < I; i++) {
                    double acc = op <= MCR_REDUCE_SUM ? 0 : x[o * R * I + i];
                    for (long r = 0; r < R; r++) {
                        const double v = x[(o * R + r) * I + i];
                        if (op <= MCR_REDUCE_SUM) acc += v;
                        else if (op == MCR_REDUCE_MAX) acc = fmax(acc, v);
                        else acc = fmin(acc, v);
                    }
                    ref[o * I + i] = op == MCR_REDUCE_MEAN ? acc / R : acc;
                }
            mcr_reduce_f32((enum mcr_reduce_op)op, x, y, O, R, I, NULL);
            assert_close(y, ref, O * I, 1e-6, 1e-6);
            float yt[O * IMAX]; /* by (outer, chunk of inner) */
            ASSERT_THREADS_SAME(yt, y, O * I,
                                mcr_reduce_f32((enum mcr_reduce_op)op, x, yt, O, R, I, TH));
        }
    }
    /* Empty reductions: sum 0, max -inf, min +inf, and no read of x. */
    mcr_reduce_f32(MCR_REDUCE_SUM, NULL, y, 1, 0, 2, NULL);
    assert_true(y[0] == 0.0f && y[1] == 0.0f);
    mcr_reduce_f32(MCR_REDUCE_MAX, NULL, y, 1, 0, 1, NULL);
    assert_true(isinf(y[0]) && y[0] < 0);
    mcr_reduce_f32(MCR_REDUCE_MIN, NULL, y, 1, 0, 1, NULL);
    assert_true(isinf(y[0]) && y[0] > 0);
    free(x);
}

static void test_pool2d(void **state)
{
    (void)state;
    enum { P = 2, H = 9, W = 8, KH = 3, KW = 2, SH = 2, SW = 2, PT = 1, PL = 1, PB = 1, PR = 0 };
    const long oh = (H + PT + PB - KH) / SH + 1, ow = (W + PL + PR - KW) / SW + 1;
    float *x = randv(P * H * W), y[P * 8 * 8];
    double ref[P * 8 * 8];
    for (int op = MCR_POOL_AVG; op <= MCR_POOL_MAX; op++)
        for (int cip = 0; cip < 2; cip++) {
            for (long p = 0; p < P; p++)
                for (long oy = 0; oy < oh; oy++)
                    for (long ox = 0; ox < ow; ox++) {
                        double acc = op == MCR_POOL_MAX ? -INFINITY : 0;
                        long cnt = 0;
                        for (long r = 0; r < KH; r++)
                            for (long s = 0; s < KW; s++) {
                                const long iy = oy * SH + r - PT, ix = ox * SW + s - PL;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                const double v = x[(p * H + iy) * W + ix];
                                acc = op == MCR_POOL_MAX ? fmax(acc, v) : acc + v;
                                cnt++;
                            }
                        if (op == MCR_POOL_AVG) acc /= cip ? KH * KW : cnt;
                        ref[(p * oh + oy) * ow + ox] = acc;
                    }
            mcr_pool2d_f32((enum mcr_pool_op)op, x, y, P, H, W, oh, ow, KH, KW, SH, SW, PT, PL,
                           PB, PR, 1, 1, cip, NULL);
            assert_close(y, ref, P * oh * ow, 1e-6, 1e-6);
            float yt[P * 8 * 8]; /* by planes */
            ASSERT_THREADS_SAME(yt, y, P * oh * ow,
                                mcr_pool2d_f32((enum mcr_pool_op)op, x, yt, P, H, W, oh, ow, KH,
                                               KW, SH, SW, PT, PL, PB, PR, 1, 1, cip, TH));
        }
    free(x);
}

static void test_copy_strided(void **state)
{
    (void)state;
    /* Transpose [2][3][4] -> [4][2][3] written into a wider destination with an offset. */
    float *x = randv(24), y[4 * 2 * 4];
    double ref[4 * 2 * 4];
    for (int i = 0; i < 32; i++) y[i] = -7.0f, ref[i] = -7.0;
    const long shape[3] = {4, 2, 3}, dst[3] = {8, 4, 1}, src[3] = {1, 12, 4};
    for (long i = 0; i < 4; i++)
        for (long j = 0; j < 2; j++)
            for (long k = 0; k < 3; k++) ref[1 + i * 8 + j * 4 + k] = x[j * 12 + k * 4 + i];
    mcr_copy_strided_f32(y + 1, dst, x, src, shape, 3, NULL);
    assert_close(y, ref, 32, 0, 0);
    /* Threaded: by the first dimension longer than 1 (here behind a dimension of 1). */
    const long shape1[4] = {1, 4, 2, 3}, dst1[4] = {0, 8, 4, 1}, src1[4] = {0, 1, 12, 4};
    for (size_t i = 0; i < NTHREADS; i++) {
        struct threaded t;
        float yt[4 * 2 * 4];
        for (int e = 0; e < 32; e++) yt[e] = -7.0f;
        mcr_copy_strided_f32(yt + 1, dst1, x, src1, shape1, 4, threaded(&t, THREADS[i], 0));
        assert_memory_equal(yt, y, sizeof yt);
        threaded_free(&t);
    }
    /* Negative source stride (a reversed slice) and a broadcast (stride 0). */
    const long s1[2] = {2, 5}, d1[2] = {5, 1}, ss1[2] = {0, -1};
    float z[10];
    double rz[10];
    for (long i = 0; i < 2; i++)
        for (long k = 0; k < 5; k++) rz[i * 5 + k] = x[9 - k];
    mcr_copy_strided_f32(z, d1, x + 9, ss1, s1, 2, NULL);
    assert_close(z, rz, 10, 0, 0);
    /* fill */
    mcr_fill_f32(z, 10, 1.5f);
    for (int i = 0; i < 10; i++) assert_true(z[i] == 1.5f);
    free(x);
}

/* Element [b][h][i][j] of an attention operand view (mcr.h). */
static long view_at(const long s[4], long b, long h, long i, long j)
{
    return b * s[0] + h * s[1] + i * s[2] + j * s[3];
}

/* mcr_attention_f32 on views of the given strides, against float64, and the same bits
 * for every number of threads. */
static void check_attention(long B, long H, long M, long N, long D, long DV, const float *q,
                            const long qs[4], const float *kt, const long ks[4],
                            const float *v, const long vs[4], float *out, long out_floats,
                            const long os[4])
{
    const long scratch_floats = mcr_attention_scratch_floats(M, N, D, DV);
    float *scratch = malloc((size_t)scratch_floats * sizeof(float));
    double *ref = malloc((size_t)(B * H * M * DV) * sizeof(double));
    float *got = malloc((size_t)(B * H * M * DV) * sizeof(float));
    float *outt = malloc((size_t)out_floats * sizeof(float));
    double *s = malloc((size_t)N * sizeof(double));
    /* A negative scale too: then the row's max is not scale times the max of q.k. */
    for (int neg = 0; neg < 2; neg++) {
        const double scale = neg ? -0.37 : 0.37;
        for (long b = 0; b < B; b++)
            for (long h = 0; h < H; h++)
                for (long i = 0; i < M; i++) {
                    double mx = -INFINITY, sum = 0;
                    for (long j = 0; j < N; j++) {
                        s[j] = 0;
                        for (long p = 0; p < D; p++)
                            s[j] += (double)q[view_at(qs, b, h, i, p)] * kt[view_at(ks, b, h, p, j)];
                        s[j] *= scale;
                        mx = fmax(mx, s[j]);
                    }
                    for (long j = 0; j < N; j++) sum += exp(s[j] - mx);
                    for (long c = 0; c < DV; c++) {
                        double acc = 0;
                        for (long j = 0; j < N; j++)
                            acc += exp(s[j] - mx) / sum * v[view_at(vs, b, h, j, c)];
                        ref[((b * H + h) * M + i) * DV + c] = acc;
                    }
                }
        for (long e = 0; e < out_floats; e++) out[e] = NAN; /* what is not written stays */
        mcr_attention_f32(q, qs, kt, ks, v, vs, out, os, scratch, B, H, M, N, D, DV,
                          (float)scale, NULL);
        for (long b = 0; b < B; b++)
            for (long h = 0; h < H; h++)
                for (long i = 0; i < M; i++)
                    for (long c = 0; c < DV; c++)
                        got[((b * H + h) * M + i) * DV + c] = out[view_at(os, b, h, i, c)];
        assert_close(got, ref, B * H * M * DV, 1e-6, 1e-5);
        for (size_t i = 0; i < NTHREADS; i++) { /* by heads, each task its own scratch */
            struct threaded t;
            for (long e = 0; e < out_floats; e++) outt[e] = NAN;
            mcr_attention_f32(q, qs, kt, ks, v, vs, outt, os, scratch, B, H, M, N, D, DV,
                              (float)scale, threaded(&t, THREADS[i], scratch_floats));
            for (long e = 0; e < out_floats; e++) {
                if (isnan(out[e]) != isnan(outt[e]) || (!isnan(out[e]) && out[e] != outt[e]))
                    fail_msg("threads %d: element %ld differs", THREADS[i], e);
            }
            threaded_free(&t);
        }
    }
    free(scratch), free(ref), free(got), free(outt), free(s);
}

static void test_attention(void **state)
{
    (void)state;
    { /* Contiguous operands; M over one tile of query rows (256), so that a partial tile
       * runs too; N and DV not multiples of any micro-kernel's width. */
        enum { B = 2, H = 2, M = 259, N = 9, D = 5, DV = 6 };
        float *q = randv(B * H * M * D), *kt = randv(B * H * D * N), *v = randv(B * H * N * DV);
        float *out = malloc(B * H * M * DV * sizeof(float));
        const long qs[4] = {H * M * D, M * D, D, 1}, ks[4] = {H * D * N, D * N, N, 1},
                   vs[4] = {H * N * DV, N * DV, DV, 1}, os[4] = {H * M * DV, M * DV, DV, 1};
        check_attention(B, H, M, N, D, DV, q, qs, kt, ks, v, vs, out, B * H * M * DV, os);
        free(q), free(kt), free(v), free(out);
    }
    { /* As exporters lay them out: q, k and v slices of one qkv [B][T][3][H][D] (kᵀ read
       * along k's rows), the output written as [B][T][H][D] with a gap after each row. */
        enum { B = 2, H = 3, T = 41, D = 7, GAP = 3 };
        float *qkv = randv(B * T * 3 * H * D);
        float *out = malloc(B * T * (H * D + GAP) * sizeof(float));
        const long row = 3 * H * D;
        const long qs[4] = {T * row, D, row, 1}, ks[4] = {T * row, D, 1, row},
                   os[4] = {T * (H * D + GAP), D, H * D + GAP, 1};
        check_attention(B, H, T, T, D, D, qkv, qs, qkv + H * D, ks, qkv + 2 * H * D, qs, out,
                        B * T * (H * D + GAP), os);
        free(qkv), free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d),      cmocka_unit_test(test_conv1x1),
        cmocka_unit_test(test_dwconv_ukernels), cmocka_unit_test(test_gemm_ukernels),
        cmocka_unit_test(test_dwconv_rows_ukernels), cmocka_unit_test(test_dwconv_nhwc_ukernels),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_mlp_packed), cmocka_unit_test(test_conv_dw_nhwc),
        cmocka_unit_test(test_binary_broadcast), cmocka_unit_test(test_unary),
        cmocka_unit_test(test_softmax),     cmocka_unit_test(test_max),
        cmocka_unit_test(test_softmax_lengths),
#if defined(MCR_VEC_HEADER)
        cmocka_unit_test(test_exp_vector_scalar_same),
#endif
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_channel_affine), cmocka_unit_test(test_reduce),
        cmocka_unit_test(test_pool2d),      cmocka_unit_test(test_copy_strided),
        cmocka_unit_test(test_attention),   cmocka_unit_test(test_erf_error_bound),
        cmocka_unit_test(test_gelu_vector_scalar_same),
        cmocka_unit_test(test_exp_error_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
