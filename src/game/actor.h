/*
 * actor: the world's model of a player, the one record that the world joins with, a cluster
 * publishes and mirrors, and the operator lists: ids, name, avatar, position. It carries no
 * password hash: that stays in the store and auth (store_account), and the session converts at
 * the boundary (game_actor_from_account).
 */
#ifndef CMMO_ACTOR_H
#define CMMO_ACTOR_H

#include "core/limits.h"

#include <stdint.h>

#define GAME_ACTOR_NAME_MAX LIMITS_USERNAME_MAX /* bytes */

typedef struct game_actor {
    int64_t actor_id, user_id, entity_id, instanced_entity_id;
    char name[GAME_ACTOR_NAME_MAX + 1]; /* as registered, NUL-terminated */
    int avatar_id;
    double x, y;
} game_actor;

struct store_account;

/* The actor model of a stored account (everything but the password hash). */
void game_actor_from_account(game_actor *out, const struct store_account *account);

/* What happened to a local actor during a tick. */
typedef enum game_actor_change {
    GAME_ACTOR_JOINED,
    GAME_ACTOR_MOVED,
    GAME_ACTOR_LEFT
} game_actor_change;

/* Told at the end of a tick, once per local actor that joined, moved or left, leaves first.
 * previous_region is where it was last reported (its region now for a join, its last region for
 * a leave); region is where it is now. a is valid during the call only. */
typedef void (*game_actor_change_fn)(void *ctx, game_actor_change change, const game_actor *a,
                                     int32_t previous_region, int32_t region);

#endif
