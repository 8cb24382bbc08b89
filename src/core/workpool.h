/*
 * workpool: threads that run blocking or CPU-heavy jobs (password hashing, SQLite) off the event
 * loop, and hand each finished job back to the loop thread.
 *
 * A job's `work` runs on a pool thread and must touch only the job's own data; its `done` runs
 * later on the loop thread, exactly once, in completion order. With one thread, jobs run in
 * submission order (the store relies on that). Pools with `background` set lower their threads'
 * priority so that the tick always wins the CPU over them.
 *
 * This header is what a pool's users see, and it is free of libuv: the game hands work to a pool
 * without knowing what wakes its thread. Making a pool binds it to an event loop, so
 * workpool_create lives in core/workpool_loop.h, for the wiring (server, tools, tests) only.
 */
#ifndef CMMO_WORKPOOL_H
#define CMMO_WORKPOOL_H

#include <stddef.h>

typedef struct workpool workpool;
typedef struct workpool_job workpool_job;

struct workpool_job {
    void (*work)(workpool_job *job); /* pool thread */
    void (*done)(workpool_job *job); /* loop thread; may free the job */
    workpool_job *next;              /* private */
};

/* Queues a job (owned by the caller until its done runs). Returns 0, or CMMO_ESTOPPED once the
 * pool is draining (then done is never called). */
int workpool_submit(workpool *p, workpool_job *job);

/* Jobs submitted and not yet done. */
size_t workpool_pending(const workpool *p);

/* Runs every queued job to completion, calls their done callbacks, stops the threads and frees
 * the pool. Called on the loop thread at shutdown; blocks until the queue is empty. */
void workpool_destroy(workpool *p);

#endif
