/*
 * server: the one server context. Wires net (below), the game (sessions and world) and the
 * store (beside it) together on one libuv loop, runs the tick against absolute times, and
 * handles SIGINT/SIGTERM with a clean shutdown.
 */
#ifndef CMMO_SERVER_H
#define CMMO_SERVER_H

#include "server/config.h"

/* Runs the server until a shutdown signal. Returns the process exit code (0 after a clean
 * shutdown, 1 if it could not start). */
int server_run(const config *c);

#endif
