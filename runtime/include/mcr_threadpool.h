/*
 * mcr_threadpool.h - an optional thread pool implementing mcr_parallel.h with POSIX
 * threads (and gcc's or clang's atomics): persistent workers that spin briefly between
 * jobs, nothing allocated per call. In its own file (runtime/threadpool/mcr_threadpool.c,
 * link with -pthread) so that products that bring their own pool, or want no threads, do
 * not link it.
 *
 *     struct mcr_threadpool *pool = mcr_threadpool_create(4);   // the caller + 3 workers
 *     struct mcr_parallel par = mcr_threadpool_parallel(pool);
 *     ... mci1_run_parallel(input, output, arena, &par) ...
 *     mcr_threadpool_destroy(pool);
 *
 * One parallelize call at a time per pool (the generated code makes them one after
 * another); the thread that calls it runs tasks too.
 */
#ifndef MCR_THREADPOOL_H
#define MCR_THREADPOOL_H

#include "mcr_parallel.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mcr_threadpool;

/* A pool running up to `threads` tasks at once (threads - 1 workers besides the caller);
 * NULL when threads < 1 or the workers cannot be started. */
struct mcr_threadpool *mcr_threadpool_create(int threads);

/* Stops and joins the workers, frees the pool. NULL is ignored. */
void mcr_threadpool_destroy(struct mcr_threadpool *pool);

/* The parallel-for of `pool`, for the generated code. */
struct mcr_parallel mcr_threadpool_parallel(struct mcr_threadpool *pool);

#ifdef __cplusplus
}
#endif
#endif
