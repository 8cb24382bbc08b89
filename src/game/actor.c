#include "game/actor.h"

#include "store/store.h"

#include <string.h>

_Static_assert(GAME_ACTOR_NAME_MAX == STORE_NAME_MAX, "an actor's name is a stored name");

void game_actor_from_account(game_actor *out, const store_account *account)
{
    memset(out, 0, sizeof *out);
    out->actor_id = account->actor_id;
    out->user_id = account->user_id;
    out->entity_id = account->entity_id;
    out->instanced_entity_id = account->instanced_entity_id;
    memcpy(out->name, account->name, sizeof out->name);
    out->avatar_id = account->avatar_id;
    out->x = account->x;
    out->y = account->y;
}
