/* Unit tests for core/workpool: jobs run off the loop thread, their done callbacks run on it
 * exactly once, one thread keeps submission order, destroy drains the queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/workpool_loop.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static pthread_t loop_thread;
static workpool *pool;

#define MAX_JOBS 256

typedef struct test_job {
    workpool_job base;
    int index;
    int work_runs, done_runs;
    int work_on_loop_thread, done_on_loop_thread;
    int work_order; /* position in which work ran */
} test_job;

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int work_counter;
static int done_order[MAX_JOBS];
static int done_count;
static int freed_count;

static void job_work(workpool_job *base)
{
    test_job *j = (test_job *)base;
    j->work_runs++;
    j->work_on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    pthread_mutex_lock(&order_lock);
    j->work_order = work_counter++;
    pthread_mutex_unlock(&order_lock);
}

static void job_done(workpool_job *base)
{
    test_job *j = (test_job *)base;
    j->done_runs++;
    j->done_on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    if (done_count < MAX_JOBS) done_order[done_count] = j->index;
    done_count++;
}

static void job_done_and_free(workpool_job *base)
{
    job_done(base);
    free(base);
    freed_count++;
}

static int timed_out;
static void on_timeout(uv_timer_t *t)
{
    timed_out = 1;
}

static void run_until_done(int want)
{
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timed_out = 0;
    uv_timer_start(&timer, on_timeout, 10000, 0);
    while (done_count < want && !timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    if (timed_out) fail_msg("done callbacks did not come: %d of %d", done_count, want);
}

static test_job jobs[MAX_JOBS];

static int setup(void **state)
{
    if (uv_loop_init(&loop) != 0) return -1;
    loop_thread = pthread_self();
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < MAX_JOBS; i++) {
        jobs[i].index = i;
        jobs[i].base.work = job_work;
        jobs[i].base.done = job_done;
    }
    work_counter = done_count = freed_count = 0;
    pool = NULL;
    return 0;
}

static int teardown(void **state)
{
    if (pool) workpool_destroy(pool);
    pool = NULL;
    for (int i = 0; i < 100 && uv_loop_close(&loop) == UV_EBUSY; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}

static void test_workpool_runs_work_off_the_loop_and_done_on_it_once(void **state)
{
    pool = workpool_create(&loop, 2, 0, "test");
    assert_non_null(pool);
    for (int i = 0; i < 20; i++)
        assert_int_equal(workpool_submit(pool, &jobs[i].base), 0);
    run_until_done(20);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(done_count, 20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(jobs[i].work_runs, 1);
        assert_int_equal(jobs[i].done_runs, 1);
        assert_false(jobs[i].work_on_loop_thread);
        assert_true(jobs[i].done_on_loop_thread);
    }
}

static void test_workpool_one_thread_keeps_submission_order(void **state)
{
    pool = workpool_create(&loop, 1, 0, "ordered");
    assert_non_null(pool);
    for (int i = 0; i < 100; i++)
        assert_int_equal(workpool_submit(pool, &jobs[i].base), 0);
    run_until_done(100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(jobs[i].work_order, i);
        assert_int_equal(done_order[i], i);
    }
}

static void test_workpool_pending_counts_jobs_until_done(void **state)
{
    pool = workpool_create(&loop, 1, 0, "pending");
    assert_non_null(pool);
    assert_int_equal(workpool_pending(pool), 0);
    for (int i = 0; i < 5; i++)
        workpool_submit(pool, &jobs[i].base);
    assert_int_equal(workpool_pending(pool), 5); /* no done has run: the loop has not run */
    run_until_done(5);
    assert_int_equal(workpool_pending(pool), 0);
}

static void test_workpool_done_may_free_the_job(void **state)
{
    pool = workpool_create(&loop, 3, 1, "freeing");
    assert_non_null(pool);
    for (int i = 0; i < 50; i++) {
        test_job *j = calloc(1, sizeof *j);
        assert_non_null(j);
        j->index = i;
        j->base.work = job_work;
        j->base.done = job_done_and_free;
        assert_int_equal(workpool_submit(pool, &j->base), 0);
    }
    run_until_done(50);
    assert_int_equal(freed_count, 50);
}

static void test_workpool_many_threads_finish_every_job(void **state)
{
    pool = workpool_create(&loop, 4, 1, "many");
    assert_non_null(pool);
    for (int i = 0; i < MAX_JOBS; i++)
        assert_int_equal(workpool_submit(pool, &jobs[i].base), 0);
    run_until_done(MAX_JOBS);
    int seen[MAX_JOBS] = {0};
    for (int i = 0; i < MAX_JOBS; i++) {
        assert_int_equal(jobs[i].work_runs, 1);
        assert_int_equal(jobs[i].done_runs, 1);
        seen[done_order[i]]++;
    }
    for (int i = 0; i < MAX_JOBS; i++)
        assert_int_equal(seen[i], 1);
}

static void test_workpool_destroy_runs_queued_jobs_and_their_done(void **state)
{
    pool = workpool_create(&loop, 1, 0, "drain");
    assert_non_null(pool);
    for (int i = 0; i < 30; i++)
        assert_int_equal(workpool_submit(pool, &jobs[i].base), 0);
    workpool_destroy(pool); /* blocks until the queue is empty */
    pool = NULL;
    assert_int_equal(done_count, 30);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(jobs[i].work_runs, 1);
        assert_int_equal(jobs[i].done_runs, 1);
        assert_true(jobs[i].done_on_loop_thread);
        assert_int_equal(done_order[i], i);
    }
}

/* A done callback that submits a follow-up job (as a login does: hash, then store). */
static workpool *chain_pool;
static void chain_done(workpool_job *base)
{
    test_job *j = (test_job *)base;
    job_done(base);
    if (j->index < 9) {
        jobs[j->index + 1].base.done = chain_done;
        assert_int_equal(workpool_submit(chain_pool, &jobs[j->index + 1].base), 0);
    }
}

static void test_workpool_done_may_submit_more_work(void **state)
{
    pool = chain_pool = workpool_create(&loop, 2, 0, "chain");
    assert_non_null(pool);
    jobs[0].base.done = chain_done;
    assert_int_equal(workpool_submit(pool, &jobs[0].base), 0);
    run_until_done(10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(done_order[i], i);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_workpool_runs_work_off_the_loop_and_done_on_it_once),
        T(test_workpool_one_thread_keeps_submission_order),
        T(test_workpool_pending_counts_jobs_until_done),
        T(test_workpool_done_may_free_the_job),
        T(test_workpool_many_threads_finish_every_job),
        T(test_workpool_destroy_runs_queued_jobs_and_their_done),
        T(test_workpool_done_may_submit_more_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
