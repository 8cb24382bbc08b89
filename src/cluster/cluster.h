/*
 * cluster: several cmmo nodes sharing one world through Redis (docs/SCALING.md).
 *
 * A node started with --redis joins the cluster named by the Redis server; without it this
 * module is never created and nothing in the game changes. The cluster:
 *   - claims each account's presence before its player enters the world (one node per account),
 *     refreshes the claims of its players, and releases them when they leave;
 *   - publishes its players' chat lines, and relays the other nodes' lines to its players;
 *   - publishes its players' joins, steps and leaves per world region, batched per tick, and
 *     mirrors the other nodes' players as remote actors in the regions its players can see.
 *
 * All Redis I/O is asynchronous (hiredis on the libuv loop, cluster/redis_uv.h) except at start
 * and stop, which run before and after the loop serves players. Two connections: one for
 * commands and publishing, one subscribed. A lost connection is retried every second; meanwhile
 * logins are refused with "Server busy", a chat line reaches this node only and its sender is
 * told so, and remote actors fade out after CLUSTER_REMOTE_TIMEOUT_MS. A claim unanswered for
 * 1 s fails the same way (a Login is answered within 2 s whatever Redis does), and a node that
 * cannot renew its claims closes its players before they may be granted elsewhere
 * (docs/SCALING.md, "Failure modes").
 */
#ifndef CMMO_CLUSTER_H
#define CMMO_CLUSTER_H

#include "game/game.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct cluster cluster;

/* A node id: 1 to 64 of [A-Za-z0-9._:-] (it is part of Redis values and of log lines). */
#define CLUSTER_NODE_ID_MAX 64

/* A presence claim lives this long unless its node refreshes it (every fifth of it): the bound
 * on how long the accounts of a node that died stay locked, and, less a refresh interval and a
 * margin, the longest Redis stall that closes no player. */
#define CLUSTER_PRESENCE_TTL_MS 15000
/* Every node republishes all its players in full this often: the bound on how long a node that
 * starts watching a region waits to see the players standing in it. */
#define CLUSTER_KEYFRAME_MS 1000
/* A remote actor not heard of for this long is removed (its node died, or the link did). */
#define CLUSTER_REMOTE_TIMEOUT_MS 3000

typedef struct cluster_config {
    const char *url;     /* redis://HOST:PORT (see cluster_url_valid) */
    const char *node_id; /* unique in the cluster (see CLUSTER_NODE_ID_MAX) */
    /* Nodes only share a world with nodes of the same size and view radius: the tag (for
     * instance "1344x832r0") is part of every region channel's name. */
    const char *world_tag;
} cluster_config;

/* 1 if url is redis://HOST[:PORT][/] (HOST a name, an IPv4 address or [IPv6]; PORT 1..65535,
 * 6379 by default), else 0. Connects to nothing. */
int cluster_url_valid(const char *url);

/* 1 if id is a valid node id, else 0. */
int cluster_node_id_valid(const char *id);

/* Connects (waiting up to 2 s for Redis to answer PING, on the calling thread, before the loop
 * runs), takes the node id (waiting up to 5.5 s for the id of a node that died to lapse), then
 * hooks into the game: game_set_cluster and game_observe_local. Returns NULL and logs why on
 * failure (bad URL, Redis unreachable, cluster_node_id_taken: another live node has the id).
 * The game must outlive the cluster. */
cluster *cluster_start(uv_loop_t *loop, const cluster_config *config, game *g);

/* Once per tick, after game_tick: publishes this tick's batches (and keyframes when due),
 * follows the regions local players can see, removes remote actors not heard of, refreshes
 * presence claims, reconnects. */
void cluster_tick(cluster *c, uint64_t now_ms);

/* Leaves the cluster: pending claims fail (their sessions are told), the claims of the players
 * still in the world are released and other nodes are told to drop this node's actors (on a
 * short blocking connection, after the loop has stopped), then everything is freed. Call after
 * the store has finished (positions committed) and before game_destroy. NULL is ignored. */
void cluster_stop(cluster *c);

#endif
