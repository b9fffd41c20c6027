/* Transcendentals in plain arithmetic, so that the compiler can vectorize the loops that
 * call them (a libm call per element cannot be). Internal to the runtime. */
#ifndef MCR_FASTMATH_H
#define MCR_FASTMATH_H

#include <math.h>

#include "config.h"
#if defined(MCR_VEC_HEADER) /* the target's vector layer, for the max and GELU below */
#include MCR_VEC_HEADER
#endif

/* a * b + c, fused where the target has an FMA instruction. Written out, not left to
 * the compiler: -std=c99 turns contraction off (gcc's ISO mode), and then every step of
 * a polynomial is a multiply and an add -- measured under AVX2, exp 29% and GELU 27%
 * slower. fmaf, with the hardware instruction at hand, is one instruction that gcc and
 * clang vectorize; without it, it is a libm call per element, so there it is the plain
 * expression. One rounding instead of two either way is at least as accurate. */
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define MCR_FMA(a, b, c) fmaf((a), (b), (c))
#else
#define MCR_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* erf(x) as x * P(x^2) / Q(x^2) on [-4, 4] (Eigen's float coefficients); beyond, erf is
 * +/-1 in float. Measured against erf in double over [-6, 6] (tests/runtime,
 * test_erf_error_bound): max |error| 4.5e-7, i.e. at most 8 ULP near |x| = 3.2 where
 * erf is within 1e-5 of 1, and a few ULP elsewhere. */
static inline float mcr_erf(float a)
{
    /* Two flat selects, not a nested one: gcc if-converts (and so vectorizes) these
     * under AVX2 too, the nested form only with AVX-512 masks. */
    float x = a < -4.0f ? -4.0f : a;
    x = x > 4.0f ? 4.0f : x;
    const float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = MCR_FMA(p, x2, 2.77068142495902e-08f);
    p = MCR_FMA(p, x2, -2.10102402082508e-06f);
    p = MCR_FMA(p, x2, -5.69250639462346e-05f);
    p = MCR_FMA(p, x2, -7.34990630326855e-04f);
    p = MCR_FMA(p, x2, -2.95459980854025e-03f);
    p = MCR_FMA(p, x2, -1.60960333262415e-02f);
    float q = -1.45660718464996e-05f;
    q = MCR_FMA(q, x2, -2.13374055278905e-04f);
    q = MCR_FMA(q, x2, -1.68282697438203e-03f);
    q = MCR_FMA(q, x2, -7.37332916720468e-03f);
    q = MCR_FMA(q, x2, -1.42647390514189e-02f);
    return x * p / q;
}

/* Exact GELU, x * Phi(x) = x / 2 * (1 + erf(x / sqrt 2)), with the erf above. For x < -2,
 * 1 + erf cancels to a few bits: up to 1.1e-6 absolute error where GELU is -5e-8 (x =
 * -5.6; onnxruntime 8e-8). An erfc form (t exp(-z^2 + P(t)), Numerical Recipes' erfcc)
 * brings that to 2e-8 and the whole range to half an ulp, but was measured 3.2x as slow
 * (MCi4 +4.6% under AVX-512) and left MCi4's error against float64 where it was (mean
 * over 6 inputs 9.2e-7 against 9.1e-7): the encoders' GELU inputs rarely reach x < -2
 * with weight. Kept as it is; the GEMMs' summation was the cause (gemm.c, KC). */
static inline float mcr_gelu(float x)
{
    const float h = 0.5f * x;
    return MCR_FMA(h, mcr_erf(x * 0.70710678118654752f), h);
}

#if defined(MCR_VEC_HEADER)
/* mcr_erf and mcr_gelu on a vector, step for step (the same bits): gcc compiles the
 * scalar form's clamps to compares and blends under AVX2 (45 vblendvps in gemm.c's
 * epilogues), where max and min are one instruction each. The operand order keeps NaN:
 * v_max(-4, a) is -4 > a ? -4 : a, as the scalar select. */
static inline mcr_v v_erf(mcr_v a)
{
    const mcr_v x = v_min(v_set1(4.0f), v_max(v_set1(-4.0f), a));
    const mcr_v x2 = v_mul(x, x);
    mcr_v p = v_set1(-2.72614225801306e-10f);
    p = v_fma(p, x2, v_set1(2.77068142495902e-08f));
    p = v_fma(p, x2, v_set1(-2.10102402082508e-06f));
    p = v_fma(p, x2, v_set1(-5.69250639462346e-05f));
    p = v_fma(p, x2, v_set1(-7.34990630326855e-04f));
    p = v_fma(p, x2, v_set1(-2.95459980854025e-03f));
    p = v_fma(p, x2, v_set1(-1.60960333262415e-02f));
    mcr_v q = v_set1(-1.45660718464996e-05f);
    q = v_fma(q, x2, v_set1(-2.13374055278905e-04f));
    q = v_fma(q, x2, v_set1(-1.68282697438203e-03f));
    q = v_fma(q, x2, v_set1(-7.37332916720468e-03f));
    q = v_fma(q, x2, v_set1(-1.42647390514189e-02f));
    return v_div(v_mul(x, p), q);
}

static inline mcr_v v_gelu(mcr_v x)
{
    const mcr_v h = v_mul(v_set1(0.5f), x);
    return v_fma(h, v_erf(v_mul(x, v_set1(0.70710678118654752f))), h);
}
#endif

/* exp(x) by range reduction x = n ln2 + r, |r| <= ln2/2, and Cephes' degree-6 polynomial
 * for exp(r); 2^n built in the exponent bits. n = round(x / ln2) with the 1.5 * 2^23
 * trick (default rounding mode), which needs no libm call. Inputs are clamped to where
 * the result is a normal float: exp(x) for x < -87.3 comes out 2^-126 (softmax weights
 * that small vanish in the sum anyway). Max relative error, measured over [-87, 88] in
 * tests/runtime (test_exp_error_bound): 7.9e-8 (8.3e-8 with FMA), tested against 2e-7. */
static inline float mcr_exp(float a)
{
    float x = a < -87.3365448f ? -87.3365448f : a;
    x = x > 88.3762626f ? 88.3762626f : x;
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    const float n = MCR_FMA(x, 1.44269504088896341f, magic) - magic;
    const float r = MCR_FMA(n, 2.12194440e-4f, MCR_FMA(-n, 0.693359375f, x)); /* ln2 = hi - lo */
    float p = 1.9875691500e-4f;
    p = MCR_FMA(p, r, 1.3981999507e-3f);
    p = MCR_FMA(p, r, 8.3334519073e-3f);
    p = MCR_FMA(p, r, 4.1665795894e-2f);
    p = MCR_FMA(p, r, 1.6666665459e-1f);
    p = MCR_FMA(p, r, 5.0000001201e-1f);
    const float e = MCR_FMA(p * r, r, r) + 1.0f;
    union { float f; int i; } scale;
    scale.i = ((int)n + 127) << 23;
    return e * scale.f;
}

#if defined(MCR_VEC_HEADER)
/* mcr_exp on a vector, step for step (the same bits; tested). */
static inline mcr_v v_exp(mcr_v a)
{
    const mcr_v x = v_min(v_set1(88.3762626f), v_max(v_set1(-87.3365448f), a));
    const mcr_v magic = v_set1(12582912.0f);
    const mcr_v n = v_sub(v_fma(x, v_set1(1.44269504088896341f), magic), magic);
    const mcr_v r = v_fma(n, v_set1(2.12194440e-4f), v_fma(n, v_set1(-0.693359375f), x));
    mcr_v p = v_set1(1.9875691500e-4f);
    p = v_fma(p, r, v_set1(1.3981999507e-3f));
    p = v_fma(p, r, v_set1(8.3334519073e-3f));
    p = v_fma(p, r, v_set1(4.1665795894e-2f));
    p = v_fma(p, r, v_set1(1.6666665459e-1f));
    p = v_fma(p, r, v_set1(5.0000001201e-1f));
    const mcr_v e = v_add(v_fma(v_mul(p, r), r, r), v_set1(1.0f));
    return v_mul(e, v_pow2i(n));
}
#endif

/* Sums in double over 8 interleaved partial sums: a fixed order the compiler may keep in
 * vector lanes (one running sum is a sequential chain it may not reorder). */
static inline double mcr_sum_f64(const float *x, long n)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0.0;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) acc[j] += x[i + j];
    }
    for (; i < n; i++) s += x[i];
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

/* sum of (x[i] - mean)^2, the same way. */
static inline double mcr_sumsq_dev_f64(const float *x, long n, double mean)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0.0;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) {
            const double d = x[i + j] - mean;
            acc[j] += d * d;
        }
    }
    for (; i < n; i++) s += (x[i] - mean) * (x[i] - mean);
    for (int j = 0; j < 8; j++) s += acc[j];
    return s;
}

/* max of x[0..n), n >= 1, over interleaved partial maxima. gcc vectorizes neither the
 * select `x > m ? x : m` (under AVX it keeps one scalar maxss per lane: 0.14 ns per
 * element, the cost of softmax's exp; under NEON a scalar fcsel per element) nor fmaxf,
 * so with a vector layer it is written with v_max, which is the select on every lane
 * (AVX maxps: 0.04 ns per element). */
static inline float mcr_max_f32(const float *x, long n)
{
    float m = x[0];
    long i = 0;
#if defined(MCR_VEC_HEADER)
    if (n >= 2 * MCR_VN) { /* two accumulators: the latencies of consecutive maxima overlap */
        mcr_v a0 = v_load(x), a1 = v_load(x + MCR_VN);
        for (i = 2 * MCR_VN; i + 2 * MCR_VN <= n; i += 2 * MCR_VN) {
            a0 = v_max(v_load(x + i), a0);
            a1 = v_max(v_load(x + i + MCR_VN), a1);
        }
        if (i + MCR_VN <= n) a1 = v_max(v_load(x + i), a1);
        /* The last vector may overlap the ones before: the max is the same. */
        a0 = v_max(v_load(x + n - MCR_VN), a0);
        i = n;
        m = v_hmax(v_max(a0, a1)); /* a tree: a scalar pass over the lanes (and the tail)
                                      cost softmax's rows of 197 a third of their time */
    }
#else
    float acc[16];
    for (int j = 0; j < 16; j++) acc[j] = x[0];
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    }
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
#endif
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* y = exp(scale * x - max(scale * x)) over one row of n >= 1 elements, for scale >= 0
 * (the max of scale * x is then scale * max(x)), and the sum of y: softmax before its
 * division; y may be x. With a vector layer, exp and the sum are one pass over whole
 * vectors and a partial last one (no scalar tail: attention's rows are 197 long); each
 * lane sums at most FLUSH vectors in float, the lanes are summed by a tree (v_hsum) and
 * those sums go into a double, so that rows of thousands keep their digits (each term is
 * within a dozen float additions of the all-double sum the scalar form takes). */
#define MCR_SOFTMAX_FLUSH 8
static inline double mcr_exp_sum_row(const float *x, float *y, long n, float scale)
{
    const float off = scale * mcr_max_f32(x, n);
    double sum = 0.0;
#if defined(MCR_VEC_HEADER)
    const mcr_v vs = v_set1(scale), voff = v_set1(off);
    for (long i = 0; i < n;) {
        const long end = n - i > MCR_SOFTMAX_FLUSH * MCR_VN ? i + MCR_SOFTMAX_FLUSH * MCR_VN : n;
        mcr_v acc = v_zero();
        for (; i + MCR_VN <= end; i += MCR_VN) {
            const mcr_v e = v_exp(v_sub(v_mul(vs, v_load(x + i)), voff));
            v_store(y + i, e);
            acc = v_add(acc, e);
        }
        if (i < end) { /* the row's last, partial vector: its other lanes add 0 */
            /* summed from the register: a load of what a masked store just wrote is not
             * forwarded from the store (AMD Zen 5: 8% of the samples in ViT-B/16's softmax) */
            const mcr_vmask m = v_mask(end - i);
            const mcr_v e = v_exp(v_sub(v_mul(vs, v_load_part(x + i, m)), voff));
            v_store_part(y + i, m, e);
            acc = v_add(acc, v_and_mask(e, m));
            i = end;
        }
        sum += v_hsum(acc);
    }
#else
    for (long i = 0; i < n; i++) y[i] = mcr_exp(scale * x[i] - off);
    sum = mcr_sum_f64(y, n); /* in double: rows of a few thousand lose digits in float */
#endif
    return sum;
}

/* y = softmax(scale * x) over one row, as above; Softmax's rows. */
static inline void mcr_softmax_row(const float *x, float *y, long n, float scale)
{
    const float inv = (float)(1.0 / mcr_exp_sum_row(x, y, n, scale));
    for (long i = 0; i < n; i++) y[i] *= inv;
}

#endif
