/*
 * world: the actors in play, their movement, who sees whom, and what each viewer is sent.
 *
 * Each tick (world_tick) every walking actor takes one step toward its target; then, for every
 * viewer, the set of actors it knows is merged against the set it can see now (as Quake III's
 * snapshots do): an actor entering its view is sent in full, one that moved is sent as a delta,
 * one that left is sent as Disconnect. A mover's delta is encoded once per tick and the same bytes
 * go to every viewer. Who can see whom is decided in one place, world_visible.
 *
 * The world knows nothing of sockets: it pushes bytes to the game's outbox (game/outbox.h) with
 * each viewer's opaque link, a viewer's packets of one tick in one push. Single-threaded (the
 * loop thread).
 *
 * A cmmo.v2 viewer instead gets all of a tick's movement in one binary Moves frame (after the
 * tick's other packets), each mover's 12-byte record encoded once and copied into every frame.
 * Under a bandwidth budget (world_config.v2_budget) the frame holds the moves that fit: the
 * nearest actors every tick, then those whose shown position waited longest or matters most
 * (game/priority.h); an actor not sent this tick stays a candidate, its newest position sent
 * later. Everything else (full models, Disconnect, chat) is sent whatever the budget and counts
 * against it.
 */
#ifndef CMMO_WORLD_H
#define CMMO_WORLD_H

#include "core/error.h"
#include "core/rcbuf.h"
#include "game/actor.h"
#include "game/outbox.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct world world;
typedef struct world_actor world_actor;

typedef struct world_config {
    double width, height; /* targets are clamped to [0,width] x [0,height] */
    double speed;         /* px per second (70, as the client predicts) */
    int tick_hz;
    /* Area of interest: a viewer sees actors within view_radius px, and keeps seeing one it
     * knows until it is 25% farther (hysteresis, so an actor on the edge does not flicker in and
     * out). 0: everyone sees everyone. */
    double view_radius;
    /* Bytes per second each cmmo.v2 viewer may be sent (its bandwidth budget, world_tick says
     * how it is spent); 0: no budget, every move goes out. Legacy viewers have none. */
    double v2_budget;
    /* Where viewers' packets go: complete (world_create asserts it), copied. */
    game_outbox outbox;
    /* Tallies of what was pushed, per action slot (GAME_ACTION_SLOTS entries each): the game's
     * counters, borrowed. */
    uint64_t *packets_out, *bytes_out;
} world_config;

/* Returns NULL on allocation failure. */
world *world_create(const world_config *config);
void world_destroy(world *w);

/* Puts a player's actor into the world at its position, its packets pushed to `link`.
 * Sends the viewer its own full model at once (so it is the first ModelDelta it receives); the next
 * tick introduces it to others and others to it. Returns NULL if the actor is already in the world
 * or on allocation failure. */
world_actor *world_join(world *w, const game_actor *actor, void *link);

/* The actor's connection is gone: nothing is pushed to it any more (it stays in the world until
 * world_leave). */
void world_actor_unlink(world *w, world_actor *a);

/* The actor's viewer takes movement in cmmo.v2's Moves frames from the next tick on; its own
 * full model and every other packet are unchanged. */
void world_actor_set_compact(world *w, world_actor *a);

/* Takes the actor out of the world; its final position is written to *saved. Viewers that knew
 * it get Disconnect on the next tick. The pointer is invalid afterwards. */
void world_leave(world *w, world_actor *a, store_position *saved);

/* Sets the walking target (clamped to the world). Non-finite values are ignored. */
void world_set_target(world *w, world_actor *a, double x, double y);

/* Puts the actor (local or remote) at x, y (clamped; non-finite values ignored) and stops it:
 * viewers get the move on the next tick, as one step. */
void world_teleport(world *w, world_actor *a, double x, double y);

/* Pushes one packet to the actor's viewer (nothing for an actor without one). */
void world_send(world *w, world_actor *a, rcbuf *b);

/* Relays a chat line (already cleaned) from a to every other actor's viewer. */
void world_chat(world *w, world_actor *from, const char *text, size_t len);

/* Advances one tick: movement, then every viewer's enter/update/leave. */
void world_tick(world *w);

/* Copies up to cap positions changed since the last call into out (for write-behind saving)
 * and marks them clean. Returns how many. */
size_t world_collect_moved(world *w, store_position *out, size_t cap);

/* Marks the local actor's position as not saved (its write failed): the next
 * world_collect_moved includes it. Returns 0, or CMMO_ENOTFOUND if no such local actor is in the
 * world. */
int world_mark_unsaved(world *w, int64_t actor_id);

/* Positions of every actor in the world (for the final save at shutdown), up to cap. */
size_t world_collect_all(world *w, store_position *out, size_t cap);

/* Whether the account's actor is in the world, played from this node (remote actors do not
 * count: a cluster's presence claims decide about those). */
bool world_has_actor(const world *w, int64_t actor_id);

/* ---- Clusters: actors played on other nodes ("remote" actors) ----
 *
 * A remote actor is an actor without a viewer: it is never sent anything, never saved, and
 * other viewers see it exactly as a local one (same visibility, same shared deltas). Its owner
 * node publishes its positions; world_move_remote queues them and the actor takes one per tick.
 * The world is split into regions for publishing: squares as large as the hysteresis radius
 * with a view radius, one region (0) without. Without a cluster none of this is used and nothing
 * changes. */

/* Adds a remote actor at its position. Returns NULL if an actor with that id is in the world
 * (local or remote) or on allocation failure. */
world_actor *world_join_remote(world *w, const game_actor *actor);

/* A remote actor walks to a target set with world_set_target as a local one does (an NPC of a
 * script, game/game.h); one whose owner publishes positions never has one. */

/* Queues the remote actor's next published position (clamped to the world; non-finite values
 * are ignored, as is the position it already has or is going to). */
void world_move_remote(world *w, world_actor *a, double x, double y);

/* Takes a remote actor out (viewers get Disconnect on the next tick). Invalid afterwards. */
void world_leave_remote(world *w, world_actor *a);

/* A chat line (already cleaned) from a player on another node, to every local viewer. */
void world_chat_remote(world *w, const char *name, size_t name_len, const char *text, size_t len);

/* The actor with this id, local or remote, or NULL. */
world_actor *world_find(world *w, int64_t actor_id);
bool world_actor_is_remote(const world_actor *a);
size_t world_remote_count(const world *w);

/* Sets (or with NULL clears) the one observer of local changes (game/actor.h says when it is
 * called), told at the end of each world_tick. */
void world_set_observer(world *w, game_actor_change_fn fn, void *ctx);

/* Regions: 0 .. world_region_count - 1. */
size_t world_region_count(const world *w);
int32_t world_region_of(const world *w, double x, double y);
/* A local actor's region as last reported to the observer (its join region before that). */
int32_t world_actor_region(const world_actor *a);

/* The regions local viewers may see, sorted and unique, in *regions (valid until the next
 * call): the 3 x 3 regions around every local actor, or the one region without a view radius.
 * Returns how many (0 on allocation failure). */
size_t world_interest(world *w, const int32_t **regions);

/* Calls fn for every local actor with its model and region (fn must not change the world). */
void world_each_local(world *w, void (*fn)(void *user, const game_actor *a, int32_t region),
                      void *user);

/* The actor's model (ids, name, avatar, position) in out. */
void world_actor_model(const world_actor *a, game_actor *out);

/* Actors in the world, local and remote. */
size_t world_actor_count(const world *w);
const char *world_actor_name(const world_actor *a);
int64_t world_actor_id(const world_actor *a);
void world_actor_position(const world_actor *a, double *x, double *y);

/* The game's world (defined by the game): for the game's own modules, never for a cluster,
 * which goes through game.h. */
typedef struct game game;
world *game_world(game *g);

#endif
