#include "cluster/redis_uv.h"

#include "core/error.h"

#include <errno.h>
#include <stdlib.h>

typedef struct redis_uv {
    uv_poll_t poll;
    redisAsyncContext *context; /* NULL once hiredis has let go of us */
    int events;
} redis_uv;

static void on_poll(uv_poll_t *handle, int status, int events)
{
    redis_uv *r = handle->data;
    /* libuv stopped the handle on the error. Let hiredis find the error on the socket (a read
     * fails with it, a pending connect reports it): it then disconnects and frees the context. */
    if (status < 0) events = UV_READABLE | UV_WRITABLE;
    if (r->context && (events & UV_READABLE)) redisAsyncHandleRead(r->context);
    if (r->context && (events & UV_WRITABLE)) redisAsyncHandleWrite(r->context);
    /* Still alive after an error hiredis did not treat as fatal: keep watching. */
    if (status < 0 && r->context && r->events) uv_poll_start(&r->poll, r->events, on_poll);
}

static void update(redis_uv *r, int add, int remove)
{
    r->events = (r->events | add) & ~remove;
    if (r->events)
        uv_poll_start(&r->poll, r->events, on_poll);
    else
        uv_poll_stop(&r->poll);
}

static void add_read(void *p)
{
    update(p, UV_READABLE, 0);
}

static void del_read(void *p)
{
    update(p, 0, UV_READABLE);
}

static void add_write(void *p)
{
    update(p, UV_WRITABLE, 0);
}

static void del_write(void *p)
{
    update(p, 0, UV_WRITABLE);
}

static void on_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* hiredis is freeing the context (possibly from within on_poll: r lives until on_closed). */
static void cleanup(void *p)
{
    redis_uv *r = p;
    r->context = NULL;
    r->events = 0;
    uv_close((uv_handle_t *)&r->poll, on_closed);
}

int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data) return CMMO_EEXISTS;
    redis_uv *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    int rc = uv_poll_init_socket(loop, &r->poll, ac->c.fd);
    if (rc != 0) {
        free(r);
        return rc;
    }
    r->poll.data = r;
    r->context = ac;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = r;
    return 0;
}
