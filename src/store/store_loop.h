/*
 * store_loop: opening a store on a libuv loop, the one part of store's contract that names libuv
 * (the rest is store/store.h).
 *
 * Kept apart so that the game, which only makes requests, never includes uv.h: only the wiring
 * that owns the loop (server, cmmo-admin, tests) includes this header.
 */
#ifndef CMMO_STORE_LOOP_H
#define CMMO_STORE_LOOP_H

#include "store/store.h"

#include <uv.h>

/* Opens (creating if needed) the store named by url. Runs on the calling thread, before the
 * server starts (for PostgreSQL it connects and migrates, waiting up to the URL's connect_timeout,
 * 10 s by default). Returns NULL and logs why on failure (bad URL, unreadable file, unreachable
 * or refusing server, schema from a newer cmmo). The callbacks of its requests run on loop's
 * thread; loop must outlive the store (until store_close). */
store *store_open(uv_loop_t *loop, const char *url);

#endif
