/*
 * session: the game side of each connection, and the game context that owns them all.
 *
 * A session is the per-connection state machine of the tutorial's protocol.py:
 *   LOGIN --Register--> (hash, create account) --> LOGIN
 *   LOGIN --Login--> (find account, verify password) --> PLAY
 * Client messages are queued as they arrive and handled at the start of the next tick, in order;
 * while a Register or Login is being checked, later messages wait. A session outlives its
 * connection until its queue is handled (a Chat sent just before closing is still relayed) and
 * its pending checks have answered.
 *
 * Below: the connection is an opaque `link` reached through the outbox port (game/outbox.h).
 * Beside: the store. Time: one injected game_clock. Nothing here includes libuv (tests/layers
 * checks it).
 */
#ifndef CMMO_SESSION_H
#define CMMO_SESSION_H

#include "core/rcbuf.h"
#include "game/auth.h"
#include "game/outbox.h"
#include "game/world.h"
#include "proto/packet.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct game game;
typedef struct session session;

/* The game's one source of time, handed in by the wiring: the game reads no system clock and no
 * event loop, so a test or a fuzzer drives time by hand. now_us returns microseconds on a
 * monotonic clock (any origin, never going back). Every time the game compares (the save timer
 * of the tick, rate-limit buckets, login throttles) is now_us / 1000, milliseconds of this one
 * clock; the microseconds themselves only time store writes for /metrics. */
typedef struct game_clock {
    uint64_t (*now_us)(void *ctx);
    void *ctx;
} game_clock;

typedef struct game_config {
    double world_width, world_height;
    double view_radius; /* see world_config */
    int tick_hz;
    uint64_t save_interval_ms; /* write-behind period for positions */
} game_config;

/* Bound on queued client messages per session before reading pauses (see docs/PROTOCOL.md). */
#define SESSION_QUEUE_SOFT 64
/* Hard bound, a second line of defence: the frame parser stops at a pause, so the soft bound
 * normally holds. Past it, messages are dropped. */
#define SESSION_QUEUE_HARD 1024

/* Creates the game context (clock, config and outbox are copied; their ctx are borrowed). The
 * outbox must be complete (asserted). store and auth are borrowed and must outlive it. */
game *game_create(const game_clock *clock, const game_config *config, const game_outbox *outbox,
                  store *st, auth *au);

/* A connection opened: a new session in LOGIN, whose packets go to link through the outbox.
 * peer is the address text (copied). Returns NULL on allocation failure. */
session *game_session_open(game *g, void *link, const char *peer);

/* The connection negotiated cmmo.v2 (docs/PROTOCOL.md): once in the world, this session is sent
 * movement as compact Move packets. */
void game_session_set_v2(session *s);

/* A client message (copied). Returns 1 if the connection should stop reading until resumed. */
int game_session_message(game *g, session *s, const uint8_t *data, size_t len);

/* The connection is gone: the link must not be used again. */
void game_session_closed(game *g, session *s);

/* One tick: handle queued messages, advance the world, write positions behind when due (by the
 * game's clock). */
void game_tick(game *g);

/* Saves every position now (at shutdown). */
void game_save_all(game *g);

/* True when no session is waiting on the store or auth (shutdown waits for this). */
int game_idle(const game *g);

size_t game_session_count(const game *g);
/* Players in the world played from this node (remote actors of a cluster do not count). */
size_t game_player_count(const game *g);

/* ---- Counters since start, for /metrics ---- */

/* Per-action counters are indexed by slot: GAME_ACTION_SLOTS and GAME_INVALID (game/outbox.h). */
typedef struct game_counters {
    uint64_t packets_in[GAME_ACTION_SLOTS], bytes_in[GAME_ACTION_SLOTS];
    uint64_t packets_out[GAME_ACTION_SLOTS], bytes_out[GAME_ACTION_SLOTS];
    uint64_t logins_ok, logins_failed, logins_throttled, registrations;
    uint64_t rate_limited_messages, rate_limited_chats, flood_closes;
    uint64_t save_batches, positions_saved;
    uint64_t save_latency_us_total; /* summed over finished batches */
    uint64_t save_batches_done, save_failures;
} game_counters;

const game_counters *game_get_counters(const game *g);
/* "Chat", ..., or "invalid" for GAME_INVALID. */
const char *game_action_label(int slot);

/* ---- Operator actions (the admin channel, signals) ---- */

/* Calls fn for every player in the world. */
typedef void (*game_player_fn)(void *user, const char *name, int64_t actor_id, double x, double y,
                               const char *peer);
void game_each_player(game *g, game_player_fn fn, void *user);

/* Closes the connection of the player with this name (any letter case), giving why (the wiring
 * turns it into a close code and text). Returns 0, or -1 if no such player is online. */
int game_kick(game *g, const char *name, game_close_reason why);

/* Sends a chat line from "Server" to every player (cleaned like any chat). Returns how many
 * players it reached. */
size_t game_broadcast(game *g, const char *text);

/* From now on every Register and Login is answered Deny(reason) (a server draining before it
 * stops); players already in the world play on. reason is borrowed: a string literal. */
void game_refuse_logins(game *g, const char *reason);

/* ---- Clusters (see src/cluster): none of this is used without one ---- */

/* Results of a presence claim. */
enum { GAME_CLAIM_OK = 0, GAME_CLAIM_TAKEN = 1, GAME_CLAIM_ERROR = -1 };

/* What the game asks of a cluster. Every function is called on the loop thread. */
typedef struct game_cluster_ops {
    /* Claims the account (by actor id) for this node: one account plays on at most one node.
     * Calls done(user, GAME_CLAIM_...) later, never from within claim. Returns 0, or -1 and
     * then never calls done. */
    int (*claim)(void *ctx, int64_t actor_id, void (*done)(void *user, int result), void *user);
    /* Gives a claim up (after the player's position is saved). */
    void (*release)(void *ctx, int64_t actor_id);
    /* Publishes a chat line (already cleaned) that local players were just sent. */
    void (*chat)(void *ctx, const char *name, size_t name_len, const char *text, size_t len);
} game_cluster_ops;

/* Makes the game part of a cluster (ops is copied; ctx must outlive the game's use of it).
 * Call before any session opens. */
void game_set_cluster(game *g, const game_cluster_ops *ops, void *ctx);

/* The world, for a cluster to mirror remote actors into and to observe local ones. */
world *game_world(game *g);

/* A chat line from a player on another node: cleaned, then sent to every local player. */
void game_remote_chat(game *g, const char *name, size_t name_len, const char *text, size_t len);

/* Frees every session and the world without saving (call game_save_all first, and close the
 * store after auth and before this: store callbacks refer to the game). */
void game_destroy(game *g);

#endif
