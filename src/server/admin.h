/*
 * admin: the operator channel of a running server. A Unix domain socket on the server's loop
 * that takes one text command per line and answers each with zero or more data lines and then
 * exactly one status line, which starts with "OK" or "ERR":
 *
 *   online           "player NAME ACTOR_ID X Y PEER" per player, then "OK N online"
 *   kick NAME        closes that player's connection with 1008 "Kicked by the server operator";
 *                    "OK kicked NAME", or "ERR not online: NAME" (any letter case matches)
 *   broadcast TEXT   a chat line from "Server" to every player (cleaned like any chat);
 *                    "OK reached N", or "ERR nothing to say" if nothing is left after cleaning
 *   ban NAME DURATION [REASON]
 *                    records a ban in the database (game_ban) and kicks NAME if online; "OK
 *                    banned NAME until DATE UTC" or "... for good". DURATION: forever, or a
 *                    number and s, m, h, d or w (admin_parse_duration). An unknown NAME is not
 *                    an error here (the store decides; cmmo-admin looks the name up first)
 *   unban NAME       lifts it: "OK unbanned NAME"
 *   mute NAME DURATION [REASON]
 *                    records a mute and applies it at once: "OK muted NAME ..."
 *   unmute NAME      lifts it: "OK unmuted NAME"
 *   help             the commands as data lines, then "OK"
 *   quit             "OK bye", then the server closes the connection
 *
 * Anything else gets "ERR ..." and the connection stays open. Lines end with "\n" ("\r\n" is
 * accepted). Data lines never start with "OK" or "ERR". cmmo-admin (tools/admin) is the client;
 * `socat - UNIX-CONNECT:PATH` works too.
 *
 * Protection: the socket file is made mode 0600 before it starts listening, so only the server's
 * own user (and root) can connect, the model of PostgreSQL's and Docker's local sockets. Each
 * accepted connection's peer uid is checked as well (SO_PEERCRED): another uid is refused. There
 * is no password: whoever can open this socket can also read the server's database file.
 *
 * Limits (see the constants): line length, connection count, idle time, and unsent reply bytes
 * (past which reading pauses until the client reads). Broadcast text is never logged; commands
 * and their outcomes are (event admin_command). Every kick, broadcast, ban, unban, mute and
 * unmute done is also recorded in the database's audit log (game_audit) with the actor
 * "socket:UID", UID being the connection's peer (SO_PEERCRED).
 *
 * The socket, its protection and its limits are net/lineserver's; what a line means is
 * server/admin_cmd's, which reaches the game through admin_ops. This module wires the two.
 */
#ifndef CMMO_ADMIN_H
#define CMMO_ADMIN_H

#include "core/error.h"
#include "game/game.h"
#include "net/lineserver.h"
#include "server/admin_cmd.h"

#include <uv.h>

/* One command line in bytes, "\n" included: a broadcast of 256 four-byte characters plus the
 * word "broadcast" fits with room to spare. A longer line gets "ERR line too long" and a close. */
#define ADMIN_LINE_MAX 2048
/* Connections at once: an operator's tool, not a public service. More are told so and closed. */
#define ADMIN_CONN_MAX 8
/* A connection that sends nothing for this long is closed (a forgotten interactive session
 * must not hold a slot forever). */
#define ADMIN_IDLE_MS (5 * 60 * 1000)
/* Unsent reply bytes past which the connection stops being read until the client catches up;
 * one `online` reply of 60,000 players is a few MiB and is still sent whole. */
#define ADMIN_OUTPUT_MAX (1u << 20)
/* How often idle connections are looked for; an idle one lives at most this much longer. */
#define ADMIN_SWEEP_MS 10000
/* sizeof(struct sockaddr_un.sun_path) on Linux, terminator included. */
#define ADMIN_PATH_MAX LINESERVER_PATH_MAX

typedef struct admin admin;

/* Creates the socket at path (mode 0600) and serves it on loop. If path already exists: a stale
 * socket nobody answers on is replaced; a live one (another server) or a file that is not a
 * socket is left alone and refused. g is borrowed and must stay valid until admin_stop.
 * Returns NULL and logs why (path too long, directory missing, in use, bind failed). */
admin *admin_start(uv_loop_t *loop, const char *path, game *g);

/* admin_start with the game reached through ops and ctx (borrowed until admin_stop) instead:
 * the same socket and commands on a fake game, for tests. */
admin *admin_start_ops(uv_loop_t *loop, const char *path, const admin_ops *ops, void *ctx);

/* Closes every admin connection (unsent replies are dropped) and the listener, and removes the
 * socket file. No command runs after it returns; the memory is freed once the loop has run the
 * handles' close callbacks. NULL is accepted and does nothing. */
void admin_stop(admin *a);

/* Writes into out (cap bytes) the default socket path for a store URL: beside the database file
 * ("sqlite:data/cmmo.db" -> "data/cmmo-admin.sock", "sqlite:cmmo.db" -> "cmmo-admin.sock"), so a
 * server and the cmmo-admin run against the same database agree on it without configuration,
 * and servers on different databases never collide. Returns 0; or CMMO_EINVALID if the URL
 * is not sqlite:PATH, CMMO_ETOO_LONG if the result does not fit in cap or in ADMIN_PATH_MAX (then
 * out is "").
 * Pure: it is used by the configuration and by cmmo-admin. */
int admin_default_path(const char *db_url, char *out, size_t cap);

/* The number of admin connections open now (for tests and logs). */
size_t admin_connection_count(const admin *a);

#endif
