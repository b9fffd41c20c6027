/*
 * mcr_parallel.h - the parallel-for a product hands to the generated code to use its
 * cores: the shape of XNNPACK's pthreadpool_parallelize_1d and of GCD's dispatch_apply, so
 * that any pool fits (GCD, OpenMP, Android's, a game engine's, or mcr_threadpool.h's).
 *
 * parallelize(context, task, task_context, n) runs task(task_context, i) exactly once for
 * every i in [0, n), on any of the product's threads (the calling one included) in any
 * order, and returns when all n have returned. `threads` is how many tasks may run at
 * once; the runtime splits work into at most that many tasks, task i using slice i of the
 * scratch, so a pool must not run more than `threads` at a time. Header only, no code:
 * products that bring their own pool link nothing more.
 */
#ifndef MCR_PARALLEL_H
#define MCR_PARALLEL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mcr_task_fn)(void *task_context, long i);

struct mcr_parallel {
    void (*parallelize)(void *context, mcr_task_fn task, void *task_context, long n);
    void *context;
    int threads;
};

#ifdef __cplusplus
}
#endif
#endif
