/*
 * bench_http: one blocking HTTP/1.1 GET of the server's statistics endpoint (docs/PROTOCOL.md
 * section 8).
 *
 * Called twice per run, at the start and the end of the measured window. The request itself is
 * a plain blocking exchange, run on libuv's thread pool: an overloaded server can take seconds to
 * answer, and a benchmark loop blocked that long stops reading thousands of sockets, which makes
 * the server drop its clients as slow readers.
 */
#ifndef CMMO_BENCH_HTTP_H
#define CMMO_BENCH_HTTP_H

#include <jansson.h>
#include <uv.h>

/* Bound on the answer: the stats object is ~150 bytes. */
#define BENCH_HTTP_MAX_RESPONSE 16384
/* The endpoint answers from the event loop; if it takes longer the server is badly stalled. */
#define BENCH_HTTP_TIMEOUT_MS 5000

/* GETs path from host:port (host must be an IPv4 literal). Returns the parsed JSON body (the
 * caller owns it, json_decref) or NULL on any failure (connection, timeout, non-200, bad JSON). */
json_t *bench_http_get_json(const char *host, int port, const char *path);

/* One GET on the thread pool. The caller owns the struct and keeps it alive until done runs (on
 * the loop's thread); result is then the body (owned by whoever takes it) or NULL. */
struct bench_http_request {
    uv_work_t work;
    char host[64];
    int port;
    char path[128];
    json_t *result;
    void (*done)(struct bench_http_request *req);
    void *user;
};

/* Starts req; returns 0, or a negative uv error (done is then not called). */
int bench_http_get_json_async(uv_loop_t *loop, struct bench_http_request *req, const char *host,
                              int port, const char *path,
                              void (*done)(struct bench_http_request *req), void *user);

#endif
