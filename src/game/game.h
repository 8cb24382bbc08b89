/*
 * game: the game context, the one object the wiring creates for the game: it owns every session
 * (game/session.h) and the world (game/world.h), runs the tick, writes positions behind to the
 * store, counts for /metrics, and takes the operator's commands and a cluster's hooks.
 *
 * Below: the network, through the outbox port (game/outbox.h), handed in complete. Beside: the
 * store and auth. Time: one injected game_clock. Single-threaded (the loop thread). Nothing here
 * includes libuv (tests/layers checks it).
 */
#ifndef CMMO_GAME_H
#define CMMO_GAME_H

#include "core/error.h"
#include "game/actor.h"
#include "game/auth.h"
#include "game/outbox.h"
#include "store/store.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct game game;

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
    double v2_budget;   /* bytes per second per cmmo.v2 viewer, 0 none: see world_config */
    int tick_hz;
    uint64_t save_interval_ms; /* write-behind period for positions */
    /* How long a resume token lives (cmmo.v2, docs/SECURITY.md), in seconds; 0: none are issued
     * (and Resume is still answered, always with a Deny). */
    int64_t resume_ttl_s;
} game_config;

/* Creates the game context (clock, config and outbox are copied; their ctx are borrowed). The
 * outbox must be complete (asserted). store and auth are borrowed and must outlive it. */
game *game_create(const game_clock *clock, const game_config *config, const game_outbox *outbox,
                  store *st, auth *au);

/* One tick: handle queued messages, advance the world, write positions behind when due (by the
 * game's clock). */
void game_tick(game *g);

/* Walks the game's own bookkeeping and asserts it holds: the session list and its count, the
 * busy count against the sessions' states, every message ring's bounds, the retry queue of
 * unsaved positions. A bug in the game aborts here rather than corrupting memory later.
 * O(sessions); game_tick calls it after each tick in the sanitized build (CMMO_CHECKS, see the
 * Makefile). */
void game_check(const game *g);

/* Saves every position now (at shutdown). */
void game_save_all(game *g);

/* True when no session is waiting on the store or auth (shutdown waits for this). */
bool game_idle(const game *g);

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
 * turns it into a close code and text). Returns 0, or CMMO_ENOTFOUND if no such player is online.
 */
int game_kick(game *g, const char *name, game_close_reason why);

/* Sends a chat line from "Server" to every player (cleaned like any chat). Returns how many
 * players it reached. */
size_t game_broadcast(game *g, const char *text);

/* ---- Moderation (moderation.c): the calls the admin socket and scripts make ---- */

/* A ban or a mute to put on an account. The game reads no wall clock, so the caller gives the
 * end both ways: as a date (stored, and shown to the player) and as a duration from now (what
 * the game's clock times for a player online). */
typedef struct game_sanction {
    int64_t ends_at;    /* seconds since 1970-01-01 UTC; 0: never ends */
    int64_t seconds;    /* from now; 0: never ends (with ends_at 0) */
    const char *reason; /* "" or UTF-8 without control characters, at most STORE_REASON_MAX */
} game_sanction;

/* Bans the account named name (any letter case): recorded in the store, and if the player is
 * online here they are kicked at once (GAME_CLOSE_KICKED). Every later Login of the account is
 * answered Deny("You are banned until <date> UTC: <reason>") after its password is checked.
 * Returns 0 when the store took the request, CMMO_EINVALID for a bad name, reason or time
 * (nothing done), or the store's refusal.
 * Whether such an account exists is the store's to know: a ban of nobody records nothing. */
int game_ban(game *g, const char *name, const game_sanction *how);
/* Lifts a ban (recorded in the store). Returns 0 or an error as game_ban. */
int game_unban(game *g, const char *name);

/* Mutes the account: recorded in the store, and if the player is online here, from now on. A
 * muted player's chat lines are dropped, and they are told so by a chat line from "Server" (at
 * most one a second). Returns 0 or an error as game_ban. */
int game_mute(game *g, const char *name, const game_sanction *how);
/* Lifts a mute, in the store and for the player online here. Returns 0 or an error as
 * game_ban. */
int game_unmute(game *g, const char *name);

/* Records an operator action in the store's audit log (store_audit_add; fire and forget, a
 * failure is logged by the store). actor: who ("socket:UID", "script"); action: what ("kick",
 * "ban" ...); target, detail: on whom, and how ("" if nothing). */
void game_audit(game *g, const char *actor, const char *action, const char *target,
                const char *detail);

/* From now on every Register and Login is answered Deny(reason) (a server draining before it
 * stops); players already in the world play on. reason is borrowed: a string literal. */
void game_refuse_logins(game *g, const char *reason);

/* Revokes every resume token of the account named name (any letter case), in the store: what a
 * ban calls, so that a banned player's browser cannot log back in without a password. Sessions
 * already in the world play on (kick them too). Returns 0 once the request is queued, or the
 * store's refusal (CMMO_ETOO_LONG, -ENOMEM). */
int game_revoke_resume_tokens(game *g, const char *name);

/* ---- Clusters (see src/cluster): none of this is used without one ---- */

/* Results of a presence claim: the game's names for codes of the error table. */
enum {
    GAME_CLAIM_OK = CMMO_OK,
    GAME_CLAIM_TAKEN = CMMO_ETAKEN,   /* the account plays on another node */
    GAME_CLAIM_ERROR = CMMO_ECLUSTER, /* no answer from the cluster: refuse, try again later */
};

/* What the game asks of a cluster. Every function is called on the loop thread. */
typedef struct game_cluster_ops {
    /* Claims the account (by actor id) for this node: one account plays on at most one node.
     * Calls done(user, GAME_CLAIM_...) later, never from within claim. Returns 0, or a negative
     * code and then never calls done. */
    int (*claim)(void *ctx, int64_t actor_id, void (*done)(void *user, int result), void *user);
    /* Gives a claim up (after the player's position is saved). */
    void (*release)(void *ctx, int64_t actor_id);
    /* Publishes a chat line (already cleaned) that local players were just sent. */
    void (*chat)(void *ctx, const char *name, size_t name_len, const char *text, size_t len);
} game_cluster_ops;

/* Makes the game part of a cluster (ops is copied; ctx must outlive the game's use of it).
 * Call before any session opens. */
void game_set_cluster(game *g, const game_cluster_ops *ops, void *ctx);

/* What the cluster tells the game, and asks of it: the cluster's whole view of the world (it
 * includes no game/world.h; tests/layers checks it).
 *
 * A remote actor is a player on another node: never sent anything, never saved, seen by local
 * players exactly as a local one. The world is split into regions for publishing: squares as
 * large as the hysteresis radius with a view radius, one region (0) without. */

/* A chat line from a player on another node: cleaned, then sent to every local player. */
void game_remote_chat(game *g, const char *name, size_t name_len, const char *text, size_t len);

/* A remote actor joins at its position. Returns 0, CMMO_EEXISTS if an actor with that id is in
 * the world (local or remote), or -ENOMEM. */
int game_remote_join(game *g, const game_actor *actor);
/* The remote actor's next published position: it walks there over the next tick (clamped to the
 * world; non-finite values are ignored). Ignored if no remote actor has that id. */
void game_remote_move(game *g, int64_t actor_id, double x, double y);
/* The remote actor leaves (viewers get Disconnect on the next tick). Ignored if no remote actor
 * has that id. */
void game_remote_leave(game *g, int64_t actor_id);
size_t game_remote_count(const game *g);

/* The name of the local player with this actor id (valid until the next tick), or NULL if none is
 * played on this node. */
const char *game_local_name(game *g, int64_t actor_id);
/* Sends text as a chat line from "Server" to the local player of that name (letter case ignored)
 * only. Returns 0; or CMMO_ENOTFOUND if no such player is in the world here, CMMO_EINVALID if
 * the text cleans to nothing, or -ENOMEM. */
int game_tell(game *g, const char *name, const char *text);
/* Calls fn for every local player with its model and region (fn must not change the game). */
void game_each_local(game *g, void (*fn)(void *user, const game_actor *a, int32_t region),
                     void *user);
/* Sets (or with NULL clears) the one observer of what local players did each tick. */
void game_observe_local(game *g, game_actor_change_fn fn, void *ctx);

/* Regions: 0 .. game_region_count - 1. */
size_t game_region_count(game *g);
/* The regions local players may see, sorted and unique, in *regions (valid until the next call):
 * the 3 x 3 regions around every local player, or the one region without a view radius. Returns
 * how many (0 on allocation failure). */
size_t game_interest(game *g, const int32_t **regions);

/* ---- Scripts (see src/script): none of this is used without one ---- */

/* Errors of the calls below: 0 or one of these, the game's names for codes of the one error
 * table (core/error.h: cmmo_strerror names them for logs). */
enum {
    GAME_E_NOT_FOUND = CMMO_ENOTFOUND, /* no such player online here, or no such NPC */
    GAME_E_INVALID = CMMO_EINVALID,    /* a bad name, text or number */
    GAME_E_FULL = CMMO_EFULL,          /* GAME_NPC_MAX NPCs are in the world */
    GAME_E_NOMEM = -ENOMEM,
};

/* What a hook asks of the game. */
enum { GAME_HOOK_PASS = 0, GAME_HOOK_DROP = 1, GAME_HOOK_REPLACE = 2 };

/* What the game tells a script, at defined points (docs/SCRIPTING.md, "When hooks run"). Every
 * function is set (game_set_script asserts it) and called on the loop thread; none may block. A
 * hook may call back into the functions of this header (tell, spawn, kick ...) but must not free
 * the game. */
typedef struct game_script_ops {
    /* A player entered the world (after Ok and its own model; before anyone else saw it). */
    void (*login)(void *ctx, int64_t actor_id, const char *name);
    /* A player is leaving the world (still in it: its position can be read). */
    void (*logout)(void *ctx, int64_t actor_id, const char *name);
    /* A player said text (cleaned, len bytes). Returns GAME_HOOK_PASS, GAME_HOOK_DROP, or
     * GAME_HOOK_REPLACE with the replacement in out (at most cap - 1 bytes and a NUL, any bytes:
     * the game cleans it again). */
    int (*chat)(void *ctx, int64_t actor_id, const char *text, size_t len, char *out, size_t cap);
    /* A player asked to walk to *x, *y. Returns GAME_HOOK_PASS, GAME_HOOK_DROP, or
     * GAME_HOOK_REPLACE with *x, *y changed (clamped to the world by the game). */
    int (*target)(void *ctx, int64_t actor_id, double *x, double *y);
    /* Every tick, after the players' messages were handled and before the world moves:
     * now_us is the game's clock. */
    void (*tick)(void *ctx, uint64_t now_us);
} game_script_ops;

/* Attaches a script (ops copied, complete; ctx must outlive the attachment), or detaches it
 * with NULL: then a port whose every hook passes stands in (also the game's from creation). */
void game_set_script(game *g, const game_script_ops *ops, void *ctx);

/* The world's size in px. */
void game_world_size(const game *g, double *width, double *height);
/* The game's clock (game_clock) now, in microseconds. */
uint64_t game_time_us(const game *g);

/* Players of this node, by actor id. Each returns 0 or GAME_E_NOT_FOUND (not in the world here),
 * GAME_E_INVALID (non-finite numbers, nothing left of the text once cleaned). */
int game_player_position(game *g, int64_t actor_id, double *x, double *y);
/* A chat line from "Server" to this player only (cleaned like any chat). */
int game_player_tell(game *g, int64_t actor_id, const char *text);
/* Walks the player to x, y (clamped) as if it had clicked there. */
int game_player_move_to(game *g, int64_t actor_id, double x, double y);
/* Puts the player at x, y (clamped) at once: viewers get one delta on the next tick. */
int game_player_teleport(game *g, int64_t actor_id, double x, double y);
/* Tells the player reason (a chat line from "Server", when not empty), then closes its
 * connection as an operator's kick does (GAME_CLOSE_KICKED). */
int game_player_kick(game *g, int64_t actor_id, const char *reason);

/* NPCs: actors of this node without a connection, seen by every viewer as a player is (full
 * model, deltas, Disconnect), never saved, never published to a cluster. Their ids start at
 * GAME_NPC_ID_BASE, beyond any account's. An NPC's name is 1 to GAME_ACTOR_NAME_MAX bytes of
 * printable UTF-8 with at least one character no account name may hold (letters, digits, _ and
 * - only): "Guide Ann", "Greeter*". So no NPC is ever mistaken for a player, and none needs the
 * store to check it, on any node of a cluster. */
#define GAME_NPC_MAX 256
#define GAME_NPC_ID_BASE ((int64_t)1 << 50)
/* 1 if name may be an NPC's. */
int game_npc_name_valid(const char *name);
/* Returns the new NPC's actor id (> 0), or GAME_E_INVALID (name, avatar 0..5, position not
 * finite), GAME_E_FULL or GAME_E_NOMEM. Viewers see it on the next tick. */
int64_t game_npc_spawn(game *g, const char *name, int avatar, double x, double y);
/* Walks the NPC to x, y (clamped) at the players' speed. */
int game_npc_walk_to(game *g, int64_t npc_id, double x, double y);
int game_npc_teleport(game *g, int64_t npc_id, double x, double y);
/* A chat line under the NPC's name to every player of this node. */
int game_npc_say(game *g, int64_t npc_id, const char *text);
int game_npc_position(game *g, int64_t npc_id, double *x, double *y);
/* Takes the NPC out (viewers get Disconnect on the next tick). */
int game_npc_remove(game *g, int64_t npc_id);
size_t game_npc_count(const game *g);

/* Frees every session and the world without saving (call game_save_all first, and close the
 * store after auth and before this: store callbacks refer to the game). */
void game_destroy(game *g);

#endif
