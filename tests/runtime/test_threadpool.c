/* The optional thread pool (runtime/threadpool/mcr_threadpool.c): every task index runs exactly
 * once, for pools of 1 to 7 threads and jobs of 0 to 1000 tasks, many calls in a row on
 * one pool (a lost wake-up would hang here, a task run twice or never would count
 * wrong); built plainly and under ThreadSanitizer (tests/runtime/Makefile). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mcr_threadpool.h"

struct job {
    long *counts; /* counts[i]: how often task i ran; each written by its task only */
    long n;
};

static void count(void *ctx, long i)
{
    struct job *j = ctx;
    j->counts[i]++;
}

static void test_every_task_once(void **state)
{
    (void)state;
    const int threads[] = {1, 2, 3, 4, 7};
    const long sizes[] = {0, 1, 2, 3, 7, 8, 100, 1000};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        struct mcr_threadpool *pool = mcr_threadpool_create(threads[t]);
        assert_non_null(pool);
        const struct mcr_parallel par = mcr_threadpool_parallel(pool);
        assert_int_equal(par.threads, threads[t]);
        for (int round = 0; round < 50; round++) {
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                struct job job = {calloc((size_t)sizes[s] + 1, sizeof(long)), sizes[s]};
                par.parallelize(par.context, count, &job, job.n);
                for (long i = 0; i < job.n; i++) assert_int_equal(job.counts[i], 1);
                free(job.counts);
            }
        }
        mcr_threadpool_destroy(pool);
    }
}

static void test_bad_sizes(void **state)
{
    (void)state;
    assert_null(mcr_threadpool_create(0));
    mcr_threadpool_destroy(NULL);
    const struct mcr_parallel par = mcr_threadpool_parallel(NULL); /* serial */
    long counts[3] = {0, 0, 0};
    struct job job = {counts, 3};
    par.parallelize(par.context, count, &job, 3);
    assert_true(counts[0] == 1 && counts[1] == 1 && counts[2] == 1);
    assert_int_equal(par.threads, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_task_once),
                                       cmocka_unit_test(test_bad_sizes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
