/* Splitting a kernel's work into tasks over the product's parallel-for (mcr.h, struct
 * mcr_threads). A kernel cuts its work into units whose results do not depend on which
 * task computes them (GEMM tiles, channel groups, heads, bands), asks mcr_tasks how many
 * tasks to make, and gives task t the units [t * units / tasks, (t + 1) * units / tasks):
 * with one task the same code runs them all, so the output is the same for any number of
 * threads. Internal. */
#ifndef MCR_PARALLEL_INTERNAL_H
#define MCR_PARALLEL_INTERNAL_H

#include "config.h"
#include "mcr.h"

/* Elements per unit of elementwise work split among threads: whole cache lines and
 * vectors, so that each element takes the same (vector or scalar) path for any split. */
#define MCR_ELEMENT_BLOCK 256

/* How many tasks to split `units` units of `work` in total into: 1 without threads, else
 * at most the threads, the units and work / min_work. min_work is the target's cut-off
 * (config.h): MCR_TASK_MIN_MACS for arithmetic, MCR_TASK_MIN_ELEMENTS for memory-bound
 * work, below which waking another thread costs more than it saves. */
static inline long mcr_tasks(const struct mcr_threads *th, long units, double work,
                             double min_work)
{
    if (!th || !th->par || th->par->threads <= 1 || units <= 1) return 1;
    long t = th->par->threads < units ? th->par->threads : units;
    const double most = work / min_work;
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

/* A kernel's work on its units [u0, u1), for mcr_parallel_for. */
typedef void (*mcr_range_fn)(const void *args, long u0, long u1);

struct mcr_range_job {
    mcr_range_fn fn;
    const void *args;
    long units, tasks;
};

static inline void mcr_range_task(void *ctx, long t)
{
    const struct mcr_range_job *j = ctx;
    long u0, u1;
    mcr_task_units(t, j->tasks, j->units, &u0, &u1);
    if (u0 < u1) j->fn(j->args, u0, u1);
}

/* fn(args, u0, u1) over the units [0, units), in mcr_tasks(th, units, work, min_work)
 * tasks: the shape of every kernel whose tasks need no scratch of their own. */
static inline void mcr_parallel_for(const struct mcr_threads *th, long units, double work,
                                    double min_work, mcr_range_fn fn, const void *args)
{
    const long tasks = mcr_tasks(th, units, work, min_work);
    if (tasks <= 1) {
        if (units > 0) fn(args, 0, units);
        return;
    }
    struct mcr_range_job j = {fn, args, units, tasks};
    mcr_run_tasks(th, mcr_range_task, &j, tasks);
}
#endif
