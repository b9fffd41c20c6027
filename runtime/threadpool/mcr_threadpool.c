/* A portable pthread pool for mcr_parallel.h (mcr_threadpool.h). Workers sleep on a condition
 * variable between calls; a call publishes the job under the mutex with a new generation
 * number and wakes them; everyone, the caller included, takes task indices from a shared
 * counter under the mutex until none is left (the runtime's tasks are coarse: a few per
 * thread, so the lock is taken a few times per kernel); the caller waits until every
 * task has returned. C99 + POSIX threads; no allocation after create. */
#define _POSIX_C_SOURCE 200112L /* pthreads under -std=c99 */
#include "mcr_threadpool.h"

#include <pthread.h>
#include <stdlib.h>

struct mcr_threadpool {
    pthread_mutex_t lock;
    pthread_cond_t start; /* a new job, or stop */
    pthread_cond_t done;  /* the last task of the job returned */
    pthread_t *workers;
    int nworkers;
    int stop;
    unsigned long generation; /* counts jobs, so that a worker takes each once */
    /* the job */
    mcr_task_fn task;
    void *task_context;
    long n, next, unfinished;
};

/* Runs tasks of the current job until none is left; called with the lock held, returns
 * with it held. */
static void run_tasks(struct mcr_threadpool *p)
{
    while (p->next < p->n) {
        const long i = p->next++;
        const mcr_task_fn task = p->task;
        void *ctx = p->task_context;
        pthread_mutex_unlock(&p->lock);
        task(ctx, i);
        pthread_mutex_lock(&p->lock);
        if (--p->unfinished == 0) pthread_cond_signal(&p->done);
    }
}

static void *worker(void *arg)
{
    struct mcr_threadpool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->start, &p->lock);
        if (p->stop) break;
        seen = p->generation;
        run_tasks(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void parallelize(void *context, mcr_task_fn task, void *task_context, long n)
{
    struct mcr_threadpool *p = context;
    if (n <= 0) return;
    if (!p || p->nworkers == 0 || n == 1) { /* nothing to share */
        for (long i = 0; i < n; i++) task(task_context, i);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->task = task, p->task_context = task_context;
    p->n = n, p->next = 0, p->unfinished = n;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    run_tasks(p);
    while (p->unfinished > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

struct mcr_threadpool *mcr_threadpool_create(int threads)
{
    if (threads < 1) return NULL;
    struct mcr_threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->workers = calloc((size_t)threads, sizeof *p->workers);
    if (!p->workers || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->workers), free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->start, NULL) != 0 || pthread_cond_init(&p->done, NULL) != 0) {
        abort(); /* only on resource exhaustion at start-up; POSIX leaves no clean exit */
    }
    for (int t = 0; t < threads - 1; t++) {
        if (pthread_create(&p->workers[t], NULL, worker, p) != 0) {
            mcr_threadpool_destroy(p);
            return NULL;
        }
        p->nworkers++;
    }
    return p;
}

void mcr_threadpool_destroy(struct mcr_threadpool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (int t = 0; t < p->nworkers; t++) pthread_join(p->workers[t], NULL);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
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
