/*
 * lineserver: a line-oriented stream server on a local Unix domain socket, on a libuv loop. It
 * owns everything about the bytes: claiming the socket path, the file mode, who may connect,
 * reading and splitting lines, every bound (line length, connections, idle time, unsent output)
 * and closing safely. What a line means is the caller's business (server/admin is the user): it
 * gets each complete line through on_line and answers with lineserver_send.
 *
 * Protection: the socket file is made mode 0600 before the server listens, and each accepted
 * connection's peer uid (SO_PEERCRED) must be this process's effective uid or root; anyone else
 * is closed without a word. A path that exists is claimed only if it is a stale socket nobody
 * answers on; a live one (another server) or a file that is not a socket is refused.
 *
 * Bounds, each closing the connection after one whole-line message the caller chooses (see
 * lineserver_config): a line that fills line_max bytes without a "\n" (too_long), a connection
 * past conn_max (too_many), a connection that sent nothing and read nothing for idle_ms
 * (idle). Unsent output past output_max pauses reading (and line delivery) until half of it has
 * drained: a client that does not read its replies cannot make the server buffer without bound,
 * but one large reply is still sent whole.
 *
 * Log events are named after config.log_name: NAME_listening, NAME_start_failed,
 * NAME_stale_socket_removed, NAME_connected, NAME_refused, NAME_line_too_long.
 *
 * Lifetimes: lineserver_conn belongs to the server; a pointer is valid during on_line and must
 * not be kept. Everything runs on the loop's thread.
 */
#ifndef CMMO_LINESERVER_H
#define CMMO_LINESERVER_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* sizeof(struct sockaddr_un.sun_path) on Linux, terminator included. */
#define LINESERVER_PATH_MAX 108

typedef struct lineserver lineserver;
typedef struct lineserver_conn lineserver_conn;

/* Called with each complete line, in order, with its "\n" (or "\r\n") removed and a NUL put in
 * its place: line[len] == 0. The bytes may hold a NUL of their own (then strlen(line) < len);
 * the line may be modified in place. Not called while the connection is paused or closing. */
typedef void (*lineserver_line_fn)(void *user, lineserver_conn *c, char *line, size_t len);

typedef struct lineserver_config {
    const char *path;     /* the socket file; shorter than LINESERVER_PATH_MAX */
    const char *log_name; /* prefix of the log events, e.g. "admin" */
    size_t line_max;      /* bytes one line may take, its "\n" included; > 1 */
    size_t conn_max;      /* connections at once; also the listen backlog */
    uint64_t idle_ms;     /* a connection quiet this long is closed */
    uint64_t sweep_ms;    /* how often idle connections are looked for (the idle slack) */
    size_t output_max;    /* unsent bytes past which reading pauses */
    /* The whole lines ("\n" included) sent before the server itself closes a connection. */
    const char *too_long_message;
    const char *too_many_message;
    const char *idle_message;
    lineserver_line_fn on_line;
    void *user; /* passed to on_line */
} lineserver_config;

/* Claims config->path, binds it (mode 0600) and listens on loop. The strings of config are
 * copied or used only during the call. Returns NULL and logs NAME_start_failed with why (path
 * empty or too long, directory missing, in use, bind failed). */
lineserver *lineserver_start(uv_loop_t *loop, const lineserver_config *config);

/* Closes every connection at once (unsent output is dropped), the listener and the sweep timer,
 * and removes the socket file. on_line is never called after it returns; the memory is freed
 * once the loop has run the handles' close callbacks. NULL is accepted and does nothing. */
void lineserver_stop(lineserver *s);

/* The number of connections open now (closing ones not counted). NULL gives 0. */
size_t lineserver_connection_count(const lineserver *s);

/* Queues len bytes of data on c and takes data (a malloc'd block, freed once written or
 * dropped). Returns 0; or CMMO_ECLOSED if c is closing, -ENOMEM or libuv's error if the write could
 * not be queued, and then data is freed and c closed at once. Pauses c's lines when too much is
 * unsent. */
int lineserver_send(lineserver_conn *c, char *data, size_t len);

/* No more lines from c; it closes once what was queued has been written (the client then sees
 * EOF). Harmless on a connection closing already. */
void lineserver_close_after_output(lineserver_conn *c);

/* Closes c at once; queued output is dropped. Harmless on a connection closing already. */
void lineserver_close_now(lineserver_conn *c);

/* The uid of the process at the other end of c, as SO_PEERCRED gave it when c was accepted
 * (this process's own, or root's: nobody else gets a connection). */
unsigned lineserver_conn_peer_uid(const lineserver_conn *c);

#endif
