/*
 * metrics: the Prometheus page served at GET /metrics (text exposition format 0.0.4).
 *
 * The server hands over a snapshot of what the other modules count; this module owns the
 * formatting (the metric names, their HELP text and types) and reads the standard process_*
 * figures itself (getrusage, /proc/self on Linux). The names are a public interface
 * (dashboards and alert rules are written against them): docs/OPERATIONS.md lists them, and a
 * rename is noted there. tests/integration/test_ops.py checks the whole page against the format
 * and Prometheus' naming rules.
 *
 * Nothing here keeps state between requests; the page is rebuilt on each one.
 */
#ifndef CMMO_METRICS_H
#define CMMO_METRICS_H

#include "core/error.h"
#include "core/rcbuf.h"
#include "game/game.h"
#include "net/net.h"
#include "server/tickstats.h"

#include <stddef.h>

/* The page's bound. About 7 KiB today; it grows only with new metrics (its label sets are
 * fixed tables), so a page that does not fit is a bug that the tests catch, not load. */
#define METRICS_PAGE_MAX 32768

/* What the page shows. Every pointer must be valid; nothing is kept after the call. */
typedef struct metrics_snapshot {
    size_t connections;        /* open TCP connections, HTTP and WebSocket */
    size_t players;            /* players in the world */
    const net_stats *net;      /* the listener's counters */
    const game_counters *game; /* packets, logins, flood limits, store batches */
    const tickstats *ticks;    /* every tick since start */
} metrics_snapshot;

/* Writes the page for m into buf (cap bytes, always NUL-terminated if cap > 0). Returns the
 * page's length, or CMMO_ETOO_LONG if it does not fit: buf then holds a cut page that must not be
 * served. */
int metrics_render(const metrics_snapshot *m, char *buf, size_t cap);

/* The whole HTTP response to GET /metrics: 200 with the page, or 500 if the page did not fit
 * in METRICS_PAGE_MAX. NULL only if out of memory (as http_response). */
rcbuf *metrics_response(const metrics_snapshot *m, int keep_alive);

#endif
