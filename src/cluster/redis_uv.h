/*
 * redis_uv: runs a hiredis asynchronous context on a libuv loop.
 *
 * hiredis 0.14's own libuv adapter (hiredis/adapters/libuv.h) returns from its poll callback when
 * libuv reports an error, and libuv reports every socket error (POLLERR: a connect refused, a
 * connection reset by a Redis that died with our commands unread) as an error and stops the
 * handle. The context then never learns that its connection is gone: it stays "connected", the
 * callbacks of the commands in flight never run, and every later command waits with them. This
 * adapter hands an error to hiredis as readable and writable instead, so that hiredis reads the
 * error from the socket and disconnects, failing the commands in flight (their callbacks get a
 * NULL reply).
 */
#ifndef CMMO_CLUSTER_REDIS_UV_H
#define CMMO_CLUSTER_REDIS_UV_H

#include "core/error.h"

#include <hiredis/async.h>
#include <uv.h>

/* Attaches ac to loop (once, before any command). Returns 0, or -ENOMEM, libuv's error for
 * the socket, or CMMO_EEXISTS if ac is already attached; on an error the caller still owns and
 * frees ac. The adapter's
 * state is freed by hiredis when it frees ac (through the loop: after the handle has closed). */
int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
