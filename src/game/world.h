/*
 * world: the actors in play, their movement, who sees whom, and what each viewer is sent.
 *
 * Each tick (world_tick) every walking actor takes one step toward its target; then, for every
 * viewer, the set of actors it knows is merged against the set it can see now (as Quake III's
 * snapshots do): an actor entering its view is sent in full, one that moved is sent as a delta,
 * one that left is sent as Disconnect. A mover's delta is encoded once per tick and the same bytes
 * go to every viewer. Who can see whom is decided in one place, world_visible.
 *
 * The world knows nothing of sockets: it hands bytes to the `send` callback with the viewer's
 * opaque pointer. Single-threaded (the loop thread).
 */
#ifndef CMMO_WORLD_H
#define CMMO_WORLD_H

#include "core/rcbuf.h"
#include "store/store.h"

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
    /* Delivers one packet (a shared buffer: take a reference to keep it) to a viewer. */
    void (*send)(void *ctx, void *viewer, rcbuf *msg);
    /* Packs n messages into one buffer that send() delivers as n packets (NULL on failure, or
     * when the transport cannot: then they are sent one by one). May be NULL. */
    rcbuf *(*pack)(void *ctx, rcbuf *const *msgs, size_t n);
    void *ctx;
} world_config;

/* Returns NULL on allocation failure. */
world *world_create(const world_config *config);
void world_destroy(world *w);

/* Puts an account's actor into the world at its stored position, owned by `viewer`. Sends the
 * viewer its own full model at once (so it is the first ModelDelta it receives); the next tick
 * introduces it to others and others to it. Returns NULL if the actor is already in the world or
 * on allocation failure. */
world_actor *world_join(world *w, const store_account *account, void *viewer);

/* Takes the actor out of the world; its final position is written to *saved. Viewers that knew
 * it get Disconnect on the next tick. The pointer is invalid afterwards. */
void world_leave(world *w, world_actor *a, store_position *saved);

/* Sets the walking target (clamped to the world). Non-finite values are ignored. */
void world_set_target(world *w, world_actor *a, double x, double y);

/* Relays a chat line (already cleaned) from a to every other actor's viewer. */
void world_chat(world *w, world_actor *from, const char *text, size_t len);

/* Advances one tick: movement, then every viewer's enter/update/leave. */
void world_tick(world *w);

/* Copies up to cap positions changed since the last call into out (for write-behind saving)
 * and marks them clean. Returns how many. */
size_t world_collect_moved(world *w, store_position *out, size_t cap);

/* Positions of every actor in the world (for the final save at shutdown), up to cap. */
size_t world_collect_all(world *w, store_position *out, size_t cap);

/* Whether the account's actor is in the world. */
int world_has_actor(const world *w, int64_t actor_id);

size_t world_actor_count(const world *w);
const char *world_actor_name(const world_actor *a);
int64_t world_actor_id(const world_actor *a);
void world_actor_position(const world_actor *a, double *x, double *y);

#endif
