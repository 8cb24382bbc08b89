/*
 * server: the one server context. Wires net (below), the game (sessions and world) and the
 * store (beside it) together on one libuv loop, runs the tick against absolute times, and
 * handles SIGINT/SIGTERM with a drain window (config drain_seconds) and a clean shutdown.
 */
#ifndef CMMO_SERVER_H
#define CMMO_SERVER_H

#include "server/config.h"

/* Opens everything (store, TLS, port, admin socket, cluster) and only then accepts connections;
 * runs until a shutdown signal. Returns the process exit code: 0 after a clean shutdown, 1 if
 * anything could not be opened (logged; the port never accepted a connection). */
int server_run(const config *c);

#endif
