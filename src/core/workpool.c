#include "core/workpool_loop.h"

#include "core/error.h"
#include "core/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct workpool {
    uv_loop_t *loop;
    uv_async_t wake; /* a finished job is waiting for its done callback */
    pthread_mutex_t lock;
    pthread_cond_t has_work;
    workpool_job *todo_head, *todo_tail;
    workpool_job *done_head, *done_tail;
    size_t pending;
    int stopping;
    int background;
    int thread_count;
    pthread_t *threads;
    char name[16];
};

static void push(workpool_job **head, workpool_job **tail, workpool_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void *worker_main(void *arg)
{
    workpool *p = arg;
    if (p->background) {
        /* Linux applies nice per thread: the tick thread keeps priority over hashing even when
         * both share one core. Nice 10 rather than SCHED_IDLE so logins still progress when the
         * loop is busy. */
        setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->todo_head && !p->stopping)
            pthread_cond_wait(&p->has_work, &p->lock);
        if (!p->todo_head) break;
        workpool_job *j = p->todo_head;
        p->todo_head = j->next;
        if (!p->todo_head) p->todo_tail = NULL;
        pthread_mutex_unlock(&p->lock);
        j->work(j);
        pthread_mutex_lock(&p->lock);
        push(&p->done_head, &p->done_tail, j);
        uv_async_send(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void run_done(workpool *p)
{
    pthread_mutex_lock(&p->lock);
    workpool_job *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while (j) {
        workpool_job *next = j->next;
        p->pending--;
        j->done(j);
        j = next;
    }
}

static void on_wake(uv_async_t *a)
{
    run_done(a->data);
}

static void on_wake_closed(uv_handle_t *h)
{
    workpool *p = h->data;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->has_work);
    free(p->threads);
    free(p);
}

workpool *workpool_create(uv_loop_t *loop, int threads, int background, const char *name)
{
    workpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->loop = loop;
    p->background = background;
    snprintf(p->name, sizeof p->name, "%s", name);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->has_work, NULL);
    uv_async_init(loop, &p->wake, on_wake);
    p->wake.data = p;
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads) {
        uv_close((uv_handle_t *)&p->wake, on_wake_closed);
        return NULL;
    }
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            log_error("thread_create_failed", "pool=%s", p->name);
            break;
        }
        char tn[16]; /* Linux thread names are at most 15 bytes */
        snprintf(tn, sizeof tn, "%.10s-%d", p->name, i % 100);
        pthread_setname_np(p->threads[i], tn);
        p->thread_count++;
    }
    if (p->thread_count == 0) {
        uv_close((uv_handle_t *)&p->wake, on_wake_closed); /* frees p once the loop runs */
        return NULL;
    }
    return p;
}

int workpool_submit(workpool *p, workpool_job *job)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return CMMO_ESTOPPED;
    }
    push(&p->todo_head, &p->todo_tail, job);
    p->pending++;
    pthread_cond_signal(&p->has_work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

size_t workpool_pending(const workpool *p)
{
    return p->pending;
}

void workpool_destroy(workpool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->has_work);
    pthread_mutex_unlock(&p->lock);
    /* Workers finish every queued job before they exit. */
    for (int i = 0; i < p->thread_count; i++)
        pthread_join(p->threads[i], NULL);
    run_done(p);
    uv_close((uv_handle_t *)&p->wake, on_wake_closed);
}
