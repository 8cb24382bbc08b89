/* The cluster port of game.h: what a cluster may do to the world, on the world's own API. */
#include "game/game.h"
#include "game/game_internal.h"
#include "game/world.h"
#include "proto/validate.h"

#include <string.h>
#include <strings.h>

#include <errno.h>

int game_remote_join(game *g, const game_actor *actor)
{
    if (world_find(game_world(g), actor->actor_id)) return CMMO_EEXISTS;
    return world_join_remote(game_world(g), actor) ? 0 : -ENOMEM;
}

/* The remote actor with this id, or NULL (none, or a local one). */
static world_actor *remote_actor(game *g, int64_t actor_id)
{
    world_actor *a = world_find(game_world(g), actor_id);
    return a && world_actor_is_remote(a) ? a : NULL;
}

void game_remote_move(game *g, int64_t actor_id, double x, double y)
{
    world_actor *a = remote_actor(g, actor_id);
    if (a) world_move_remote(game_world(g), a, x, y);
}

void game_remote_leave(game *g, int64_t actor_id)
{
    world_actor *a = remote_actor(g, actor_id);
    if (a) world_leave_remote(game_world(g), a);
}

size_t game_remote_count(const game *g)
{
    return world_remote_count(game_world((game *)g));
}

const char *game_local_name(game *g, int64_t actor_id)
{
    world_actor *a = world_find(game_world(g), actor_id);
    return a && !world_actor_is_remote(a) ? world_actor_name(a) : NULL;
}

void game_each_local(game *g, void (*fn)(void *user, const game_actor *a, int32_t region),
                     void *user)
{
    world_each_local(game_world(g), fn, user);
}

void game_observe_local(game *g, game_actor_change_fn fn, void *ctx)
{
    world_set_observer(game_world(g), fn, ctx);
}

size_t game_region_count(game *g)
{
    return world_region_count(game_world(g));
}

size_t game_interest(game *g, const int32_t **regions)
{
    return world_interest(game_world(g), regions);
}

int game_tell(game *g, const char *name, const char *text)
{
    char clean[VALIDATE_CHAT_BYTES + 1];
    size_t n = validate_chat(text, strlen(text), clean);
    if (n == 0) return CMMO_EINVALID;
    for (session *s = g->sessions; s; s = s->next) {
        if (!s->actor || !s->link || strcasecmp(world_actor_name(s->actor), name) != 0) continue;
        rcbuf *b = packet_encode_chat("Server", 6, clean, n);
        if (!b) return -ENOMEM;
        g->outbox.push(g->outbox.ctx, s->link, &b, 1);
        rcbuf_unref(b);
        return 0;
    }
    return CMMO_ENOTFOUND;
}
