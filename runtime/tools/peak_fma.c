/*
 * peak_fma: this core's peak single-precision multiply-add throughput for the ISA it is
 * compiled for, the denominator of "fraction of peak" in `make bench`.
 *
 * Independent accumulator chains, more than FMA latency x FMA ports (4 x 2 on current
 * x86 cores), so the loop is throughput-bound; 2 flops per lane per FMA. Prints
 * "peak_gflops <value> <isa>": the best of several timed repetitions.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define ISA "avx512f"
#define LANES 16
typedef __m512 vec;
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define ISA "fma3"
#define LANES 8
typedef __m256 vec;
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float SUM(__m256 v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#elif defined(__SSE2__)
/* x86-64's baseline: no FMA, so a multiply and an add (2 flops) per lane. */
#include <emmintrin.h>
#define ISA "sse2"
#define LANES 4
typedef __m128 vec;
#define SET1(x) _mm_set1_ps(x)
#define FMA(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c)
static float SUM(__m128 v)
{
    float t[4];
    _mm_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3];
}
#else
#define ISA "scalar"
#define LANES 1
typedef float vec;
#define SET1(x) (x)
#define FMA(a, b, c) ((a) * (b) + (c))
#define SUM(v) (v)
#endif

#define CHAINS 12
#define ITERS 20000000L

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void)
{
    double best = 0.0;
    float sink = 0.0f;
    for (int rep = 0; rep < 5; rep++) {
        vec acc[CHAINS];
        /* volatile: the compiler may not fold the loop away. */
        volatile float m = 0.999999f, a = 1e-7f;
        const vec vm = SET1(m), va = SET1(a);
        for (int c = 0; c < CHAINS; c++) acc[c] = SET1((float)c);
        const double t0 = now_s();
        for (long i = 0; i < ITERS; i++) {
            for (int c = 0; c < CHAINS; c++) acc[c] = FMA(acc[c], vm, va);
        }
        const double dt = now_s() - t0;
        for (int c = 0; c < CHAINS; c++) sink += SUM(acc[c]);
        const double gflops = 2.0 * LANES * CHAINS * (double)ITERS / dt / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("peak_gflops %.2f %s\n", best, ISA);
    return sink == 12345.0f; /* uses sink */
}
