/*
 * admin_client: cmmo-admin's side of the server's admin socket (the protocol is in
 * src/server/admin.h). One command per connection: send the line, read data lines until the
 * status line, close.
 */
#ifndef CMMO_ADMIN_CLIENT_H
#define CMMO_ADMIN_CLIENT_H

#include <stddef.h>

/* How long to wait for the server's answer before giving up. */
#define ADMIN_CLIENT_TIMEOUT_MS 10000

enum {
    ADMIN_CLIENT_OK = 0,           /* status line "OK ..." */
    ADMIN_CLIENT_REFUSED = 1,      /* status line "ERR ..." */
    ADMIN_CLIENT_UNREACHABLE = -1, /* no server on the socket (absent, stale, not permitted) */
    ADMIN_CLIENT_FAILED = -2,      /* connected, but no complete answer (closed, timeout) */
};

/* Called for each data line (no newline) of the reply. */
typedef void (*admin_client_line_fn)(void *user, const char *line);

/* Sends command (one line, no newline) to the server at socket_path. Data lines go to fn (may be
 * NULL). status (cap bytes) receives the status line without its "OK " / "ERR " word, or, for
 * UNREACHABLE and FAILED, the reason. */
int admin_client_request(const char *socket_path, const char *command, admin_client_line_fn fn,
                         void *user, char *status, size_t cap);

#endif
