/* Splitting a kernel's work into tasks over the product's parallel-for (mcr.h, struct
 * mcr_threads). A kernel cuts its work into units whose results do not depend on which
 * task computes them (GEMM tiles, channel groups, heads, bands), asks mcr_tasks how many
 * tasks to make, and gives task t the units [t * units / tasks, (t + 1) * units / tasks):
 * with one task the same code runs them all, so the output is the same for any number of
 * threads. Internal. */
#ifndef MCR_PARALLEL_INTERNAL_H
#define MCR_PARALLEL_INTERNAL_H

#include "mcr.h"

/* Below this many multiply-adds (or element operations) per task, waking another thread
 * (microseconds) costs more than it saves: the work stays on the calling thread. */
#ifndef MCR_TASK_MIN_WORK /* the kernel tests set 1, to split even their small shapes */
#define MCR_TASK_MIN_WORK (1L << 16)
#endif

/* How many tasks to split `units` units of `work` in total into: 1 without threads, else
 * at most the threads, the units and work / MCR_TASK_MIN_WORK. */
static inline long mcr_tasks(const struct mcr_threads *th, long units, double work)
{
    if (!th || !th->par || th->par->threads <= 1 || units <= 1) return 1;
    long t = th->par->threads < units ? th->par->threads : units;
    const double most = work / (double)MCR_TASK_MIN_WORK;
    if ((double)t > most) t = most < 1.0 ? 1 : (long)most;
    return t;
}

/* Runs fn(ctx, t) for t < tasks: on the calling thread for one task. */
static inline void mcr_run_tasks(const struct mcr_threads *th, mcr_task_fn fn, void *ctx,
                                 long tasks)
{
    if (tasks <= 1) {
        fn(ctx, 0);
    } else {
        th->par->parallelize(th->par->context, fn, ctx, tasks);
    }
}

/* Task t's share [*u0, *u1) of `units`. */
static inline void mcr_task_units(long t, long tasks, long units, long *u0, long *u1)
{
    *u0 = t * units / tasks;
    *u1 = (t + 1) * units / tasks;
}

/* Task t's scratch of `floats` floats: the kernel's own for task 0, else a slice of the
 * shared tail. */
static inline float *mcr_task_scratch(const struct mcr_threads *th, float *scratch,
                                      long floats, long t)
{
    return t == 0 ? scratch : th->more + (t - 1) * floats;
}
#endif
