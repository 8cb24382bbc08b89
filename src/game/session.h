/*
 * session: the game side of one connection, the per-connection state machine of the tutorial's
 * protocol.py:
 *   LOGIN --Register--> (hash, create account) --> LOGIN
 *   LOGIN --Login--> (find account, verify password) --> PLAY
 *   LOGIN --Resume (cmmo.v2)--> (the account of a resume token) --> PLAY   (session_v2.c)
 * each asynchronous step its own state, moved by one function that asserts the move is legal
 * (the states and the table: game/sessionstate.h).
 * Client messages are handled in order. In play, a message is handled as it arrives (a Chat is
 * relayed at once; a Target's movement goes out at the next tick); otherwise it is queued and
 * handled at the start of the next tick, and while a Register or Login is being checked later
 * messages wait, queued behind it. A session outlives its
 * connection until its queue is handled (a Chat sent just before closing is still relayed) and
 * its pending checks have answered.
 *
 * The game context that owns every session, the tick and the operator commands: game/game.h.
 * Below: the connection is an opaque `link` reached through the outbox port (game/outbox.h).
 * Nothing here includes libuv (tests/layers checks it).
 */
#ifndef CMMO_SESSION_H
#define CMMO_SESSION_H

#include "game/game.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct session session;

/* Bound on queued client messages per session before reading pauses (see docs/PROTOCOL.md). */
#define SESSION_QUEUE_SOFT 64
/* Hard bound, a second line of defence: the frame parser stops at a pause, so the soft bound
 * normally holds. Past it, messages are dropped. */
#define SESSION_QUEUE_HARD 1024

/* A connection opened: a new session in LOGIN, whose packets go to link through the outbox.
 * peer is the address text (copied). Returns NULL on allocation failure. */
session *game_session_open(game *g, void *link, const char *peer);

/* The session's state (game/sessionstate.h) by name: "login_idle", "login_verifying", "play"
 * ... For logs and tests. */
const char *game_session_state_name(const session *s);

/* The connection negotiated cmmo.v2 (docs/PROTOCOL.md): once in the world, this session is sent
 * movement as compact Move packets, a resume token after a password login, and who is around
 * (Players, Joined, Left); it may send Resume, Logout and Ping. */
void game_session_set_v2(session *s);

/* A client message: handled now if the session is in play with nothing queued, else copied and
 * queued. May push to the outbox (and close the link) from within the call. Returns true if
 * the connection should stop reading until resumed. */
bool game_session_message(game *g, session *s, const uint8_t *data, size_t len);

/* The connection is gone: the link must not be used again. */
void game_session_closed(game *g, session *s);

#endif
