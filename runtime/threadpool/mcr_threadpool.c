/* A portable pthread pool for mcr_parallel.h (mcr_threadpool.h).
 *
 * Why it spins: a model is a few hundred kernel calls of a few tens of microseconds to a
 * few milliseconds, and waking a thread through a condition variable costs tens of
 * microseconds on a busy or virtual machine -- the first version of this pool, all
 * mutex and condition variables, gave MCi0 no speed-up at all on two threads. So a job
 * is published by bumping an atomic generation number, which idle workers watch for a
 * while (about a millisecond) before they sleep on the condition variable; the caller
 * waits for the job's end by watching an atomic count. Both spin with the CPU's pause
 * hint first, then yield their core between polls: with more threads than cores (another
 * program's threads, or a pool larger than the machine) a pure spin would hold the core
 * that the thread being waited for needs.
 *
 * Tasks are assigned statically, worker w (1..threads-1) taking i = w, w + threads, ...
 * and the caller i = 0, threads, ...: no shared counter, so a worker that is late for
 * one job cannot take an index of the next. Every worker checks in once per job, task
 * or not, before the caller may publish another.
 *
 * C99 + POSIX threads + the __atomic builtins of gcc and clang (C99 has no atomics). No
 * allocation after create. */
#define _POSIX_C_SOURCE 200112L /* pthreads under -std=c99 */
#include "mcr_threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#if !defined(__GNUC__)
#error "mcr_threadpool.c needs the __atomic builtins of gcc or clang"
#endif

/* Polls with the pause hint before yielding (a few microseconds), and how long a worker
 * polls in all before it sleeps. */
#define SPIN_PAUSE 256
#define SPIN_NS 1000000L

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

#if defined(__x86_64__) || defined(__i386__)
#define RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define RELAX() __asm__ __volatile__("yield")
#else
#define RELAX() (void)0
#endif

struct worker_arg {
    struct mcr_threadpool *pool;
    long index;  /* 1..nworkers */
    long stride; /* threads */
};

struct mcr_threadpool {
    pthread_mutex_t lock; /* for sleeping only */
    pthread_cond_t wake;
    pthread_t *workers;
    struct worker_arg *args;
    int nworkers;
    /* atomics */
    unsigned long generation; /* counts jobs; bumped to publish one (or to stop) */
    long pending;             /* workers yet to check in for the current job */
    int sleepers;             /* workers asleep or about to be */
    int stop;
    /* the job: written by the caller before the generation's release-store */
    mcr_task_fn task;
    void *task_context;
    long n;
};

static unsigned long load_generation(struct mcr_threadpool *p)
{
    return __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
}

/* Waits until the generation differs from `seen`: spinning, then asleep. */
static unsigned long await_job(struct mcr_threadpool *p, unsigned long seen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long s = 0;; s++) {
        const unsigned long g = load_generation(p);
        if (g != seen) return g;
        if (s < SPIN_PAUSE) {
            RELAX();
        } else {
            sched_yield();
            if (s % 16 == 0 && elapsed_ns(&t0) > SPIN_NS) break;
        }
    }
    pthread_mutex_lock(&p->lock);
    /* Announced before the last look at the generation: the caller, who bumps it before
     * looking at the sleepers (both sequentially consistent), then sees one or the other. */
    __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    unsigned long g;
    while ((g = __atomic_load_n(&p->generation, __ATOMIC_SEQ_CST)) == seen) {
        pthread_cond_wait(&p->wake, &p->lock);
    }
    __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&p->lock);
    return g;
}

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    struct mcr_threadpool *p = w->pool;
    const long stride = w->stride;
    unsigned long seen = 0;
    for (;;) {
        seen = await_job(p, seen);
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) break;
        for (long i = w->index; i < p->n; i += stride) p->task(p->task_context, i);
        /* Release: the caller, seeing the count reach 0, sees this worker's results. */
        __atomic_sub_fetch(&p->pending, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Publishes a new generation and wakes the sleepers, if any. */
static void publish(struct mcr_threadpool *p)
{
    __atomic_add_fetch(&p->generation, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

static void parallelize(void *context, mcr_task_fn task, void *task_context, long n)
{
    struct mcr_threadpool *p = context;
    if (n <= 0) return;
    if (!p || p->nworkers == 0 || n == 1) { /* nothing to share */
        for (long i = 0; i < n; i++) task(task_context, i);
        return;
    }
    p->task = task, p->task_context = task_context, p->n = n;
    __atomic_store_n(&p->pending, (long)p->nworkers, __ATOMIC_RELAXED);
    publish(p); /* its sequentially consistent bump also releases the job's fields */
    const long stride = p->nworkers + 1;
    for (long i = 0; i < n; i += stride) task(task_context, i);
    for (long s = 0; __atomic_load_n(&p->pending, __ATOMIC_ACQUIRE) > 0; s++) {
        if (s < SPIN_PAUSE) RELAX();
        else sched_yield();
    }
}

struct mcr_threadpool *mcr_threadpool_create(int threads)
{
    if (threads < 1) return NULL;
    struct mcr_threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->workers = calloc((size_t)threads, sizeof *p->workers);
    p->args = calloc((size_t)threads, sizeof *p->args);
    if (!p->workers || !p->args || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->workers), free(p->args), free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->wake, NULL) != 0) {
        abort(); /* only on resource exhaustion at start-up; POSIX leaves no clean exit */
    }
    for (int t = 0; t < threads - 1; t++) {
        p->args[t].pool = p, p->args[t].index = t + 1, p->args[t].stride = threads;
        if (pthread_create(&p->workers[t], NULL, worker, &p->args[t]) != 0) {
            p->nworkers = t; /* stop the ones that started */
            mcr_threadpool_destroy(p);
            return NULL;
        }
    }
    p->nworkers = threads - 1;
    return p;
}
void mcr_threadpool_destroy(struct mcr_threadpool *p)
{
    if (!p) return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    publish(p);
    for (int t = 0; t < p->nworkers; t++) pthread_join(p->workers[t], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p->args);
    free(p);
}

struct mcr_parallel mcr_threadpool_parallel(struct mcr_threadpool *p)
{
    struct mcr_parallel par;
    par.parallelize = parallelize;
    par.context = p;
    par.threads = p ? p->nworkers + 1 : 1;
    return par;
}
