/*
 * task_cutoff: how much work a task needs before a second thread pays for waking it --
 * the evidence for config.h's MCR_TASK_MIN_MACS and MCR_TASK_MIN_ELEMENTS.
 *
 * Built with the runtime, its thread pool and -DMCR_TASK_SPLIT_ALL (every call splits into
 * two tasks, whatever its size), for one target's flags. For growing sizes of a GEMM (the
 * packed matmul of a 1x1 convolution: m pixels, k 64 channels in, n 128 out) and of an
 * elementwise add, it times the call on the calling thread alone and on two threads of
 * the pool (its worker awake, as between a model's back-to-back calls), interleaved, and
 * prints per size
 *     <kernel> work=<MACs or elements> one_us=<median> two_us=<median>
 * The cut-off is about half the smallest work that two threads run faster (each of the
 * two tasks gets half): `make bench` reports it (tests/models/bench_all.py).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mcr.h"
#include "mcr_threadpool.h"

#define ROUNDS 15

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct call {
    int kind; /* 0: GEMM, 1: add */
    long size;
    const float *a, *b;
    float *c;
};

/* One call of the kernel, on `th`'s threads (NULL: the calling thread). */
static void run(const struct call *k, const struct mcr_threads *th)
{
    if (k->kind == 0) {
        mcr_matmul_packed_f32(k->a, k->b, NULL, k->c, k->size, 64, 128, 64, 128, NULL, th);
    } else {
        const long stride[1] = {1};
        mcr_binary_f32(MCR_ADD, k->a, stride, k->b, stride, k->c, &k->size, 1, th);
    }
}

/* Microseconds per call: the mean over enough calls to fill ~200 us, so that the clock's
 * resolution does not count. */
static double time_call(const struct call *k, const struct mcr_threads *th)
{
    long reps = 1;
    for (;;) {
        const double t0 = now_us();
        for (long r = 0; r < reps; r++) run(k, th);
        const double dt = now_us() - t0;
        if (dt >= 200.0) return dt / (double)reps;
        reps *= 2;
    }
}

int main(void)
{
    struct mcr_threadpool *pool = mcr_threadpool_create(2);
    if (!pool) {
        fprintf(stderr, "task_cutoff: cannot start 2 threads\n");
        return 1;
    }
    const struct mcr_parallel par = mcr_threadpool_parallel(pool);
    const struct mcr_threads two = {&par, NULL}; /* neither kernel takes task scratch */
    enum { MAXN = 1 << 21 };
    float *a = malloc(MAXN * sizeof(float)), *b = malloc(MAXN * sizeof(float));
    float *c = malloc(MAXN * sizeof(float));
    if (!a || !b || !c) return 1;
    for (long i = 0; i < MAXN; i++) a[i] = (float)(i % 7) - 3.0f, b[i] = (float)(i % 5) * 0.25f;
    /* Two-thread calls for 50 ms first: a new thread starts on its creator's core, and
     * until the scheduler moves it to the idle one the two take turns on one core. */
    {
        const struct call warm = {0, 64, a, b, c};
        const double t0 = now_us();
        while (now_us() - t0 < 50000.0) run(&warm, &two);
    }
    for (int kind = 0; kind < 2; kind++) {
        /* GEMM: m from 16 (two row tiles) to 8192 (a 64x64 MCi0 stage-1 map at 2x);
         * add: 512 to 2M elements. */
        const long first = kind == 0 ? 16 : 512, last = kind == 0 ? 8192 : MAXN;
        for (long size = first; size <= last; size *= 2) {
            const struct call k = {kind, size, a, b, c};
            double one[ROUNDS], dual[ROUNDS];
            run(&k, NULL), run(&k, &two); /* warm caches and the workers */
            for (int r = 0; r < ROUNDS; r++) {
                one[r] = time_call(&k, NULL);
                run(&k, &two); /* wakes the worker if it fell asleep meanwhile */
                dual[r] = time_call(&k, &two);
            }
            qsort(one, ROUNDS, sizeof one[0], by_value);
            qsort(dual, ROUNDS, sizeof dual[0], by_value);
            printf("%s work=%ld one_us=%.3f two_us=%.3f\n", kind == 0 ? "gemm" : "add",
                   kind == 0 ? size * 64 * 128 : size, one[ROUNDS / 2], dual[ROUNDS / 2]);
            fflush(stdout);
        }
    }
    free(a), free(b), free(c);
    mcr_threadpool_destroy(pool);
    return 0;
}
