/*
 * bench_http: one blocking HTTP/1.1 GET of the server's statistics endpoint (docs/PROTOCOL.md
 * section 8).
 *
 * Called twice per run, at the start and the end of the measured window, so blocking the event
 * loop for the ~1 ms it takes is harmless and much simpler than another state machine.
 */
#ifndef CMMO_BENCH_HTTP_H
#define CMMO_BENCH_HTTP_H

#include <jansson.h>

/* Bound on the answer: the stats object is ~150 bytes. */
#define BENCH_HTTP_MAX_RESPONSE 16384
/* The endpoint answers from the event loop; if it takes longer the server is badly stalled. */
#define BENCH_HTTP_TIMEOUT_MS 5000

/* GETs path from host:port (host must be an IPv4 literal). Returns the parsed JSON body (the
 * caller owns it, json_decref) or NULL on any failure (connection, timeout, non-200, bad JSON). */
json_t *bench_http_get_json(const char *host, int port, const char *path);

#endif
