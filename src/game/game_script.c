/*
 * game_script: the game's side of a script (game/game.h, "Scripts"): the hooks the session and
 * the tick call, and what a script may do to players and NPCs. Without a script every hook is
 * one test of a NULL pointer and nothing else changes.
 */
#include "game/game_internal.h"

#include "core/log.h"
#include "core/utf8.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The port while no script is attached: every hook passes, so the callers need no "is there a
 * script" test and the game behaves exactly as without scripting. */
static void none_player(void *ctx, int64_t actor_id, const char *name) {}

static int none_chat(void *ctx, int64_t actor_id, const char *text, size_t len, char *out,
                     size_t cap)
{
    return GAME_HOOK_PASS;
}

static int none_target(void *ctx, int64_t actor_id, double *x, double *y)
{
    return GAME_HOOK_PASS;
}

static void none_tick(void *ctx, uint64_t now_us) {}

static const game_script_ops no_script = {none_player, none_player, none_chat, none_target,
                                          none_tick};

void game_set_script(game *g, const game_script_ops *ops, void *ctx)
{
    if (!ops) {
        ops = &no_script;
        ctx = NULL;
    }
    assert(ops->login && ops->logout && ops->chat && ops->target && ops->tick);
    g->script = *ops;
    g->script_ctx = ctx;
}

void game_world_size(const game *g, double *width, double *height)
{
    *width = g->config.world_width;
    *height = g->config.world_height;
}

uint64_t game_time_us(const game *g)
{
    return game_now_us(g);
}

/* ---------------------------------------------------------------- hooks */

void game_script_login(game *g, world_actor *a)
{
    g->script.login(g->script_ctx, world_actor_id(a), world_actor_name(a));
}

void game_script_logout(game *g, world_actor *a)
{
    g->script.logout(g->script_ctx, world_actor_id(a), world_actor_name(a));
}

size_t game_script_chat(game *g, world_actor *a, const char *clean, size_t n, char *out)
{
    /* The script's replacement may be anything: it is cleaned like a client's line. */
    char raw[VALIDATE_CHAT_BYTES + 1];
    int verdict = g->script.chat(g->script_ctx, world_actor_id(a), clean, n, raw, sizeof raw);
    if (verdict == GAME_HOOK_DROP) return 0;
    if (verdict != GAME_HOOK_REPLACE) {
        memcpy(out, clean, n + 1);
        return n;
    }
    size_t len = strnlen(raw, sizeof raw - 1);
    if (!utf8_valid(raw, len)) return 0;
    return validate_chat(raw, len, out);
}

int game_script_target(game *g, world_actor *a, double *x, double *y)
{
    return g->script.target(g->script_ctx, world_actor_id(a), x, y) != GAME_HOOK_DROP;
}

void game_script_tick(game *g)
{
    g->script.tick(g->script_ctx, game_now_us(g));
}

/* ---------------------------------------------------------------- players */

/* The local player with this id, or NULL (NPCs and other nodes' players are not players here). */
static world_actor *local_player(game *g, int64_t actor_id)
{
    world_actor *a = world_find(g->world, actor_id);
    return a && !world_actor_is_remote(a) ? a : NULL;
}

int game_player_position(game *g, int64_t actor_id, double *x, double *y)
{
    world_actor *a = local_player(g, actor_id);
    if (!a) return GAME_E_NOT_FOUND;
    world_actor_position(a, x, y);
    return 0;
}

/* A chat line from "Server" to one actor's viewer. */
static int tell(game *g, world_actor *a, const char *text)
{
    char clean[VALIDATE_CHAT_BYTES + 1];
    size_t len = strlen(text);
    if (!utf8_valid(text, len)) return GAME_E_INVALID;
    size_t n = validate_chat(text, len, clean);
    if (n == 0) return GAME_E_INVALID;
    rcbuf *b = packet_encode_chat("Server", 6, clean, n);
    if (!b) return GAME_E_NOMEM;
    world_send(g->world, a, b);
    rcbuf_unref(b);
    return 0;
}

int game_player_tell(game *g, int64_t actor_id, const char *text)
{
    world_actor *a = local_player(g, actor_id);
    return a ? tell(g, a, text) : GAME_E_NOT_FOUND;
}

/* Walks a (a player or an NPC, NULL if not found) towards (x, y), or puts it there at once. */
static int move_actor(game *g, world_actor *a, double x, double y, bool jump)
{
    if (!a) return GAME_E_NOT_FOUND;
    if (!isfinite(x) || !isfinite(y)) return GAME_E_INVALID;
    if (jump)
        world_teleport(g->world, a, x, y);
    else
        world_set_target(g->world, a, x, y);
    return 0;
}

int game_player_move_to(game *g, int64_t actor_id, double x, double y)
{
    return move_actor(g, local_player(g, actor_id), x, y, false);
}

int game_player_teleport(game *g, int64_t actor_id, double x, double y)
{
    return move_actor(g, local_player(g, actor_id), x, y, true);
}

int game_player_kick(game *g, int64_t actor_id, const char *reason)
{
    for (session *s = g->sessions; s; s = s->next) {
        if (!s->actor || world_actor_id(s->actor) != actor_id) continue;
        if (!s->link) return 0; /* already gone */
        if (reason && reason[0]) tell(g, s->actor, reason);
        log_info("player_kicked", "user=%s by=script", world_actor_name(s->actor));
        g->outbox.close(g->outbox.ctx, s->link, GAME_CLOSE_KICKED);
        return 0;
    }
    return GAME_E_NOT_FOUND;
}

/* ---------------------------------------------------------------- NPCs */

int game_npc_name_valid(const char *name)
{
    size_t len = strnlen(name, GAME_ACTOR_NAME_MAX + 1);
    if (len == 0 || len > GAME_ACTOR_NAME_MAX || !utf8_valid(name, len)) return 0;
    int unlike_account = 0;
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp;
        if (utf8_next(name, len, &pos, &cp) != 0) return 0;
        /* Printable only; brackets would be BBCode in the Godot client's name tags. */
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == '[' || cp == ']') return 0;
        int account_char = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                           (cp >= '0' && cp <= '9') || cp == '_' || cp == '-';
        if (!account_char) unlike_account = 1;
    }
    /* No leading or trailing space: a name must read as typed. */
    return unlike_account && name[0] != ' ' && name[len - 1] != ' ';
}

/* The NPC's index in g->npcs, or -1. */
static long npc_index(const game *g, int64_t npc_id)
{
    for (size_t i = 0; i < g->npc_len; i++)
        if (g->npcs[i] == npc_id) return (long)i;
    return -1;
}

static world_actor *npc_find(game *g, int64_t npc_id)
{
    return npc_index(g, npc_id) >= 0 ? world_find(g->world, npc_id) : NULL;
}

int64_t game_npc_spawn(game *g, const char *name, int avatar, double x, double y)
{
    if (!game_npc_name_valid(name) || avatar < 0 || avatar > VALIDATE_AVATAR_MAX || !isfinite(x) ||
        !isfinite(y))
        return GAME_E_INVALID;
    if (g->npc_len >= GAME_NPC_MAX) return GAME_E_FULL;
    if (!g->npcs && !(g->npcs = malloc(GAME_NPC_MAX * sizeof *g->npcs))) return GAME_E_NOMEM;
    if (g->npc_next == 0) g->npc_next = GAME_NPC_ID_BASE;
    game_actor m = {0};
    m.actor_id = m.user_id = m.entity_id = m.instanced_entity_id = g->npc_next;
    memcpy(m.name, name, strlen(name) + 1);
    m.avatar_id = avatar;
    m.x = x;
    m.y = y;
    if (!world_join_remote(g->world, &m)) return GAME_E_NOMEM;
    g->npcs[g->npc_len++] = g->npc_next;
    log_debug("npc_spawned", "name=\"%s\" actor=%lld", name, (long long)g->npc_next);
    return g->npc_next++;
}

int game_npc_walk_to(game *g, int64_t npc_id, double x, double y)
{
    return move_actor(g, npc_find(g, npc_id), x, y, false);
}

int game_npc_teleport(game *g, int64_t npc_id, double x, double y)
{
    return move_actor(g, npc_find(g, npc_id), x, y, true);
}

int game_npc_say(game *g, int64_t npc_id, const char *text)
{
    world_actor *a = npc_find(g, npc_id);
    if (!a) return GAME_E_NOT_FOUND;
    char clean[VALIDATE_CHAT_BYTES + 1];
    size_t len = strlen(text);
    if (!utf8_valid(text, len)) return GAME_E_INVALID;
    size_t n = validate_chat(text, len, clean);
    if (n == 0) return GAME_E_INVALID;
    const char *name = world_actor_name(a);
    world_chat_remote(g->world, name, strlen(name), clean, n);
    return 0;
}

int game_npc_position(game *g, int64_t npc_id, double *x, double *y)
{
    world_actor *a = npc_find(g, npc_id);
    if (!a) return GAME_E_NOT_FOUND;
    world_actor_position(a, x, y);
    return 0;
}

int game_npc_remove(game *g, int64_t npc_id)
{
    long i = npc_index(g, npc_id);
    if (i < 0) return GAME_E_NOT_FOUND;
    world_actor *a = world_find(g->world, npc_id);
    if (a) world_leave_remote(g->world, a);
    g->npcs[i] = g->npcs[--g->npc_len];
    return 0;
}

size_t game_npc_count(const game *g)
{
    return g->npc_len;
}
