/*
 * workpool_loop: making a workpool on a libuv loop, the one part of workpool's contract that names
 * libuv (the rest is core/workpool.h).
 *
 * Kept apart so that a module given a pool (auth in the game) never includes uv.h: only the
 * wiring that owns the loop (server, tools, tests) includes this header.
 */
#ifndef CMMO_WORKPOOL_LOOP_H
#define CMMO_WORKPOOL_LOOP_H

#include "core/workpool.h"

#include <uv.h>

/* Starts `threads` threads whose finished jobs' done callbacks run on loop's thread (woken by a
 * uv_async handle, active until workpool_destroy). background lowers the threads' priority; name
 * (at most 15 characters shown) names them for ps and the logs. Returns NULL on failure. */
workpool *workpool_create(uv_loop_t *loop, int threads, int background, const char *name);

#endif
