/*
 * script: the Lua runtime (script/script.h): the sandboxed state, the budget and the memory cap,
 * the cmmo API, timers, the hooks of the game's script port, and cmmo.store's cache.
 */
#include "script/script.h"

#include "core/log.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The budget is counted by a count hook every this many instructions: a hook per instruction
 * would cost more than the script; a thousand is a few microseconds. */
#define BUDGET_STEP 1000
/* What the runtime itself may allocate in a state past its cap, outside the script's calls: the
 * player values and texts it pushes before a protected call. Those allocations must not fail:
 * a memory error outside a protected call would end the process. A chat text and a player value
 * are about 1 KiB; what they pushed is garbage after the call. */
#define MEMORY_SLACK ((size_t)1 << 20)

enum event { EV_LOGIN, EV_LOGOUT, EV_CHAT, EV_TARGET, EV_TICK, EV_COUNT };
static const char *const event_names[EV_COUNT] = {"login", "logout", "chat", "target", "tick"};

typedef struct timer {
    uint64_t id;
    uint64_t due_us, period_us; /* period 0: once (after) */
    int fn;                     /* registry reference; LUA_NOREF once cancelled */
} timer;

/* One loaded script: a Lua state and what it made (NPCs, timers). */
typedef struct state {
    script *sc;
    lua_State *L;
    char path[512];
    uint64_t digest; /* of the file's text it was loaded from */
    size_t mem, mem_max;
    long budget;         /* instructions left in the current call */
    int calls;           /* protected calls running (the cap is exact only inside them) */
    int handlers;        /* registry reference: { event = { fn, ... } } */
    int count[EV_COUNT]; /* handlers per event: no call into Lua for an event without any */
    int64_t npcs[GAME_NPC_MAX];
    size_t npc_len;
    timer *timers;
    size_t timer_len, timer_cap;
    uint64_t timer_seq;
    int firing; /* timers are being run: cancels mark, the walk compacts */
} state;

/* One cmmo.store value, in a chained hash by key. */
typedef struct kv_entry {
    struct kv_entry *next;
    char type;  /* 's' string, 'n' number, 'b' boolean, 0 deleted (kept until written) */
    int dirty;  /* changed since the last write behind */
    double num; /* 'n'; 'b': 0 or 1 */
    char *str;  /* 's' */
    size_t str_len;
    char key[];
} kv_entry;

#define KV_BUCKETS 4096

struct script {
    game *game;
    store *store;
    state *live;
    uint64_t last_tick_us;
    kv_entry *kv[KV_BUCKETS];
    size_t kv_count, kv_dirty;
    void (*kv_done)(void *user, int result);
    void *kv_done_user;
};

/* The reason a failed game call gives a script (docs/SCRIPTING.md: part of the script API, so
 * names of its own rather than the log's texts). */
static const char *script_reason(int rc)
{
    switch (rc) {
    case GAME_E_NOT_FOUND:
        return "not_found";
    case GAME_E_INVALID:
        return "invalid";
    case GAME_E_FULL:
        return "full";
    case GAME_E_NOMEM:
        return "out_of_memory";
    default:
        return "unknown";
    }
}

static state *state_of(lua_State *L)
{
    return *(state **)lua_getextraspace(L);
}

/* A log value without what would break the key="value" line: quotes become ', control
 * characters spaces, cut to fit out. */
static void log_text(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in && *in && n + 1 < cap; in++)
        out[n++] = *in == '"' ? '\'' : ((unsigned char)*in < 0x20 ? ' ' : *in);
    out[n] = 0;
}

/* ---------------------------------------------------------------- limits */

/* Lua's allocator, capped at mem_max bytes for the state. Lua runs an emergency collection and
 * then raises a memory error when it gets NULL. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    state *st = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        st->mem -= old;
        return NULL;
    }
    size_t cap = st->calls ? st->mem_max : st->mem_max + MEMORY_SLACK;
    if (nsize > old && st->mem + (nsize - old) > cap) return NULL;
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    st->mem = st->mem - old + nsize;
    return p;
}

/* The count hook: takes BUDGET_STEP from the call's budget. Once it is spent, every instruction
 * raises the error again, so a pcall in the script cannot catch it and run on: the error
 * reaches the runtime's own call. */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    state *st = state_of(L);
    st->budget -= BUDGET_STEP;
    if (st->budget > 0) return;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    lua_getinfo(L, "Sl", ar);
    lua_pushfstring(L, "%s:%d: instruction budget of %d exceeded", ar->short_src, ar->currentline,
                    SCRIPT_INSTRUCTIONS_MAX);
    lua_error(L);
}

/* Calls the function below nargs arguments on the stack with the budget; on error logs it (the
 * message carries the script's file and line) and leaves nothing. Returns 0 with nresults on the
 * stack, or -1. what names the call for the log. */
static int call(state *st, int nargs, int nresults, const char *what)
{
    lua_State *L = st->L;
    st->budget = SCRIPT_INSTRUCTIONS_MAX;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, BUDGET_STEP);
    st->calls++;
    int rc = lua_pcall(L, nargs, nresults, 0);
    st->calls--;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, BUDGET_STEP);
    if (rc == LUA_OK) return 0;
    char msg[400];
    log_text(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                            : "(error object is not a string)",
             msg, sizeof msg);
    if (rc == LUA_ERRMEM)
        log_warn("script_memory_exceeded", "script=\"%s\" call=%s cap_bytes=%zu", st->path, what,
                 st->mem_max);
    else
        log_warn("script_error", "call=%s error=\"%s\"", what, msg);
    lua_pop(L, 1);
    /* What the failed call left behind is garbage now: collect it before the next call. */
    lua_gc(L, LUA_GCCOLLECT);
    return -1;
}

/* ---------------------------------------------------------------- players and NPCs */

#define PLAYER_MT "cmmo.player"
#define NPC_MT "cmmo.npc"
#define TIMER_MT "cmmo.timer"

typedef struct lua_actor {
    int64_t id;
    char name[GAME_ACTOR_NAME_MAX + 1];
} lua_actor;

static void push_actor(lua_State *L, int64_t id, const char *name, const char *mt)
{
    lua_actor *a = lua_newuserdatauv(L, sizeof *a, 0);
    a->id = id;
    snprintf(a->name, sizeof a->name, "%s", name);
    luaL_setmetatable(L, mt);
}

static double check_coord(lua_State *L, int arg)
{
    double v = luaL_checknumber(L, arg);
    if (!isfinite(v)) luaL_argerror(L, arg, "not a finite number");
    return v;
}

/* A game call's result to Lua: true, or false and the error's name. */
static int push_result(lua_State *L, int rc)
{
    lua_pushboolean(L, rc == 0);
    if (rc == 0) return 1;
    lua_pushstring(L, script_reason(rc));
    return 2;
}

static int player_position(lua_State *L)
{
    lua_actor *a = luaL_checkudata(L, 1, PLAYER_MT);
    double x, y;
    if (game_player_position(state_of(L)->sc->game, a->id, &x, &y) != 0) return 0;
    lua_pushnumber(L, x);
    lua_pushnumber(L, y);
    return 2;
}

static int player_online(lua_State *L)
{
    lua_actor *a = luaL_checkudata(L, 1, PLAYER_MT);
    double x, y;
    lua_pushboolean(L, game_player_position(state_of(L)->sc->game, a->id, &x, &y) == 0);
    return 1;
}

static int player_tell(lua_State *L)
{
    lua_actor *a = luaL_checkudata(L, 1, PLAYER_MT);
    return push_result(L, game_player_tell(state_of(L)->sc->game, a->id, luaL_checkstring(L, 2)));
}

static int player_move_to(lua_State *L)
{
    lua_actor *a = luaL_checkudata(L, 1, PLAYER_MT);
    return push_result(
        L, game_player_move_to(state_of(L)->sc->game, a->id, check_coord(L, 2), check_coord(L, 3)));
}

static int player_teleport(lua_State *L)
{
    lua_actor *a = luaL_checkudata(L, 1, PLAYER_MT);
    return push_result(L, game_player_teleport(state_of(L)->sc->game, a->id, check_coord(L, 2),
                                               check_coord(L, 3)));
}

static int player_kick(lua_State *L)
{
    lua_actor *a = luaL_checkudata(L, 1, PLAYER_MT);
    return push_result(L, game_player_kick(state_of(L)->sc->game, a->id, luaL_optstring(L, 2, "")));
}

static const luaL_Reg player_methods[] = {
    {"position", player_position},
    {"online", player_online},
    {"tell", player_tell},
    {"move_to", player_move_to},
    {"teleport", player_teleport},
    {"kick", player_kick},
    {NULL, NULL},
};

/* The NPC, if this script's and still in the world, else an error. */
static lua_actor *check_npc(lua_State *L)
{
    return luaL_checkudata(L, 1, NPC_MT);
}

static int npc_walk_to(lua_State *L)
{
    lua_actor *a = check_npc(L);
    return push_result(
        L, game_npc_walk_to(state_of(L)->sc->game, a->id, check_coord(L, 2), check_coord(L, 3)));
}

static int npc_teleport(lua_State *L)
{
    lua_actor *a = check_npc(L);
    return push_result(
        L, game_npc_teleport(state_of(L)->sc->game, a->id, check_coord(L, 2), check_coord(L, 3)));
}

static int npc_say(lua_State *L)
{
    lua_actor *a = check_npc(L);
    return push_result(L, game_npc_say(state_of(L)->sc->game, a->id, luaL_checkstring(L, 2)));
}

static int npc_position(lua_State *L)
{
    lua_actor *a = check_npc(L);
    double x, y;
    if (game_npc_position(state_of(L)->sc->game, a->id, &x, &y) != 0) return 0;
    lua_pushnumber(L, x);
    lua_pushnumber(L, y);
    return 2;
}

static void forget_npc(state *st, int64_t id)
{
    for (size_t i = 0; i < st->npc_len; i++)
        if (st->npcs[i] == id) {
            st->npcs[i] = st->npcs[--st->npc_len];
            return;
        }
}

static int npc_remove(lua_State *L)
{
    lua_actor *a = check_npc(L);
    state *st = state_of(L);
    int rc = game_npc_remove(st->sc->game, a->id);
    forget_npc(st, a->id);
    return push_result(L, rc);
}

static const luaL_Reg npc_methods[] = {
    {"walk_to", npc_walk_to},   {"teleport", npc_teleport}, {"say", npc_say},
    {"position", npc_position}, {"remove", npc_remove},     {NULL, NULL},
};

/* __index of players and NPCs: .name, .id, else the methods (the metatable's upvalue). */
static int actor_index(lua_State *L)
{
    lua_actor *a = lua_touserdata(L, 1);
    const char *k = lua_tostring(L, 2);
    if (k && strcmp(k, "name") == 0) {
        lua_pushstring(L, a->name);
        return 1;
    }
    if (k && strcmp(k, "id") == 0) {
        lua_pushinteger(L, a->id);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

static int actor_eq(lua_State *L)
{
    lua_actor *a = lua_touserdata(L, 1), *b = lua_touserdata(L, 2);
    lua_pushboolean(L, a && b && a->id == b->id);
    return 1;
}

static int actor_tostring(lua_State *L)
{
    lua_actor *a = lua_touserdata(L, 1);
    lua_pushfstring(L, "%s (%I)", a->name, (lua_Integer)a->id);
    return 1;
}

static void actor_metatable(lua_State *L, const char *mt, const luaL_Reg *methods)
{
    luaL_newmetatable(L, mt);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_pushcclosure(L, actor_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, actor_eq);
    lua_setfield(L, -2, "__eq");
    lua_pushcfunction(L, actor_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable"); /* getmetatable(player) cannot reach the methods */
    lua_pop(L, 1);
}

/* ---------------------------------------------------------------- the cmmo table */

static int l_on(lua_State *L)
{
    state *st = state_of(L);
    int ev = luaL_checkoption(L, 1, NULL, event_names);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (st->count[ev] >= SCRIPT_HANDLERS_MAX)
        return luaL_error(L, "at most %d handlers per event", SCRIPT_HANDLERS_MAX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->handlers);
    lua_getfield(L, -1, event_names[ev]);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, ++st->count[ev]);
    return 0;
}

static int timer_new(lua_State *L, int repeat)
{
    state *st = state_of(L);
    double seconds = luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (!isfinite(seconds) || seconds < 0.001 || seconds > 1e7)
        return luaL_argerror(L, 1, "seconds must be from 0.001 to 10000000");
    if (st->timer_len >= SCRIPT_TIMERS_MAX)
        return luaL_error(L, "at most %d timers at once", SCRIPT_TIMERS_MAX);
    if (st->timer_len == st->timer_cap) {
        size_t cap = st->timer_cap ? st->timer_cap * 2 : 16;
        timer *t = realloc(st->timers, cap * sizeof *t);
        if (!t) return luaL_error(L, "out of memory");
        st->timers = t;
        st->timer_cap = cap;
    }
    uint64_t period = (uint64_t)(seconds * 1e6);
    lua_pushvalue(L, 2);
    int fn = luaL_ref(L, LUA_REGISTRYINDEX);
    uint64_t id = ++st->timer_seq;
    st->timers[st->timer_len++] =
        (timer){id, game_time_us(st->sc->game) + period, repeat ? period : 0, fn};
    uint64_t *h = lua_newuserdatauv(L, sizeof *h, 0);
    *h = id;
    luaL_setmetatable(L, TIMER_MT);
    return 1;
}

static int l_every(lua_State *L)
{
    return timer_new(L, 1);
}

static int l_after(lua_State *L)
{
    return timer_new(L, 0);
}

static void timer_drop(state *st, size_t i)
{
    luaL_unref(st->L, LUA_REGISTRYINDEX, st->timers[i].fn);
    st->timers[i].fn = LUA_NOREF;
}

static int timer_cancel(lua_State *L)
{
    uint64_t *h = luaL_checkudata(L, 1, TIMER_MT);
    state *st = state_of(L);
    for (size_t i = 0; i < st->timer_len; i++)
        if (st->timers[i].id == *h && st->timers[i].fn != LUA_NOREF) {
            timer_drop(st, i);
            if (!st->firing) st->timers[i] = st->timers[--st->timer_len];
            lua_pushboolean(L, 1);
            return 1;
        }
    lua_pushboolean(L, 0);
    return 1;
}

static int l_say(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)game_broadcast(state_of(L)->sc->game, luaL_checkstring(L, 1)));
    return 1;
}

typedef struct player_walk {
    lua_State *L;
    lua_Integer n;
    const char *name; /* cmmo.player: the one wanted, or NULL for all */
    int64_t id;
    int found;
} player_walk;

static void each_player(void *user, const char *name, int64_t actor_id, double x, double y,
                        const char *peer)
{
    player_walk *w = user;
    if (w->name) {
        if (w->found || (strcasecmp(name, w->name) != 0 && actor_id != w->id)) return;
        push_actor(w->L, actor_id, name, PLAYER_MT);
        w->found = 1;
        return;
    }
    push_actor(w->L, actor_id, name, PLAYER_MT);
    lua_rawseti(w->L, -2, ++w->n);
}

static int l_players(lua_State *L)
{
    player_walk w = {L, 0, NULL, 0, 0};
    lua_newtable(L);
    game_each_player(state_of(L)->sc->game, each_player, &w);
    return 1;
}

/* cmmo.player(name or id): the player online on this node, or nil. */
static int l_player(lua_State *L)
{
    player_walk w = {L, 0, "", 0, 0};
    if (lua_type(L, 1) == LUA_TNUMBER)
        w.id = (int64_t)luaL_checkinteger(L, 1);
    else
        w.name = luaL_checkstring(L, 1);
    game_each_player(state_of(L)->sc->game, each_player, &w);
    if (!w.found) lua_pushnil(L);
    return 1;
}

static int l_spawn_npc(lua_State *L)
{
    state *st = state_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    lua_getfield(L, 1, "avatar");
    lua_getfield(L, 1, "x");
    lua_getfield(L, 1, "y");
    const char *name = lua_tostring(L, -4);
    if (!name) return luaL_error(L, "spawn_npc: name must be a string");
    lua_Integer avatar = lua_isnil(L, -3) ? 0 : lua_tointeger(L, -3);
    double x = lua_tonumber(L, -2), y = lua_tonumber(L, -1);
    if (!game_npc_name_valid(name))
        return luaL_error(L,
                          "spawn_npc: '%s' is not an NPC name: 1 to %d bytes, printable, with a "
                          "character no account name has (a space, for example)",
                          name, GAME_ACTOR_NAME_MAX);
    int64_t id = game_npc_spawn(st->sc->game, name, (int)avatar, x, y);
    if (id < 0) return luaL_error(L, "spawn_npc: %s", script_reason((int)id));
    st->npcs[st->npc_len++] = id; /* GAME_NPC_MAX bounds both */
    push_actor(L, id, name, NPC_MT);
    return 1;
}

static int l_log(lua_State *L)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    int level = luaL_checkoption(L, 1, NULL, levels);
    char text[400];
    log_text(luaL_checkstring(L, 2), text, sizeof text);
    lua_Debug ar;
    int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) ? ar.currentline : 0;
    log_event((enum log_level)level, "script_log", "script=\"%s\" line=%d text=\"%s\"",
              state_of(L)->path, line, text);
    return 0;
}

/* print: a script's debugging output goes to the log at info. */
static int l_print(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, ' ');
        luaL_addstring(&b, luaL_tolstring(L, i, NULL));
        lua_pop(L, 1);
    }
    luaL_pushresult(&b);
    char text[400];
    log_text(lua_tostring(L, -1), text, sizeof text);
    log_info("script_print", "script=\"%s\" text=\"%s\"", state_of(L)->path, text);
    return 0;
}

static int l_time(lua_State *L)
{
    lua_pushnumber(L, (double)game_time_us(state_of(L)->sc->game) / 1e6);
    return 1;
}

static int l_world_size(lua_State *L)
{
    double w, h;
    game_world_size(state_of(L)->sc->game, &w, &h);
    lua_pushnumber(L, w);
    lua_pushnumber(L, h);
    return 2;
}

/* ---------------------------------------------------------------- cmmo.store */

static uint32_t kv_hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (; *key; key++)
        h = (h ^ (uint8_t)*key) * 16777619u;
    return h % KV_BUCKETS;
}

static kv_entry *kv_find(script *sc, const char *key)
{
    for (kv_entry *e = sc->kv[kv_hash(key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0) return e;
    return NULL;
}

/* Sets key (type 0 deletes) in the cache; dirty marks it to be written. Returns 0, or -1 out of
 * memory or out of room. */
static int kv_put(script *sc, const char *key, char type, double num, const char *str,
                  size_t str_len, int dirty)
{
    kv_entry *e = kv_find(sc, key);
    if (!e) {
        if (type == 0) return 0;
        if (sc->kv_count >= SCRIPT_STORE_ENTRIES_MAX) return -1;
        size_t klen = strlen(key);
        e = calloc(1, sizeof *e + klen + 1);
        if (!e) return -1;
        memcpy(e->key, key, klen + 1);
        uint32_t h = kv_hash(key);
        e->next = sc->kv[h];
        sc->kv[h] = e;
        sc->kv_count++;
    }
    char *copy = NULL;
    if (type == 's') {
        copy = malloc(str_len + 1);
        if (!copy) return -1;
        memcpy(copy, str, str_len);
        copy[str_len] = 0;
    }
    free(e->str);
    e->str = copy;
    e->str_len = str_len;
    e->type = type;
    e->num = num;
    if (dirty && !e->dirty) sc->kv_dirty++;
    e->dirty = e->dirty || dirty;
    return 0;
}

static int l_store_get(lua_State *L)
{
    script *sc = state_of(L)->sc;
    kv_entry *e = kv_find(sc, luaL_checkstring(L, 1));
    if (!e || e->type == 0)
        lua_pushnil(L);
    else if (e->type == 's')
        lua_pushlstring(L, e->str, e->str_len);
    else if (e->type == 'b')
        lua_pushboolean(L, e->num != 0);
    else if (e->num == floor(e->num) && fabs(e->num) < 9.007199254740992e15)
        lua_pushinteger(L, (lua_Integer)e->num);
    else
        lua_pushnumber(L, e->num);
    return 1;
}

static int l_store_set(lua_State *L)
{
    script *sc = state_of(L)->sc;
    size_t klen;
    const char *key = luaL_checklstring(L, 1, &klen);
    if (klen == 0 || klen > SCRIPT_STORE_KEY_MAX || strlen(key) != klen)
        return luaL_argerror(L, 1, "a key is 1 to 128 bytes, no NUL");
    int rc;
    switch (lua_type(L, 2)) {
    case LUA_TNIL:
        rc = kv_put(sc, key, 0, 0, NULL, 0, 1);
        break;
    case LUA_TBOOLEAN:
        rc = kv_put(sc, key, 'b', lua_toboolean(L, 2), NULL, 0, 1);
        break;
    case LUA_TNUMBER: {
        double v = lua_tonumber(L, 2);
        if (!isfinite(v)) return luaL_argerror(L, 2, "not a finite number");
        rc = kv_put(sc, key, 'n', v, NULL, 0, 1);
        break;
    }
    case LUA_TSTRING: {
        size_t vlen;
        const char *v = lua_tolstring(L, 2, &vlen);
        if (vlen > SCRIPT_STORE_VALUE_MAX) return luaL_argerror(L, 2, "at most 1024 bytes");
        rc = kv_put(sc, key, 's', 0, v, vlen, 1);
        break;
    }
    default:
        return luaL_argerror(L, 2, "a string, number, boolean or nil");
    }
    if (rc != 0) return luaL_error(L, "store full: at most %d keys", SCRIPT_STORE_ENTRIES_MAX);
    return 0;
}

/* Encodes an entry's value for the store: a type letter, then the value as text. */
static char *kv_encode(const kv_entry *e)
{
    if (e->type == 0) return NULL;
    char *out = malloc(e->type == 's' ? e->str_len + 2 : 32);
    if (!out) return NULL;
    if (e->type == 's') {
        out[0] = 's';
        memcpy(out + 1, e->str, e->str_len + 1);
    } else if (e->type == 'b') {
        snprintf(out, 32, "b%d", e->num != 0);
    } else {
        snprintf(out, 32, "n%.17g", e->num);
    }
    return out;
}

static void kv_decode(script *sc, const char *key, const char *value)
{
    if (strlen(key) > SCRIPT_STORE_KEY_MAX) return;
    switch (value[0]) {
    case 's':
        if (strlen(value + 1) <= SCRIPT_STORE_VALUE_MAX)
            kv_put(sc, key, 's', 0, value + 1, strlen(value + 1), 0);
        break;
    case 'b':
        kv_put(sc, key, 'b', value[1] == '1', NULL, 0, 0);
        break;
    case 'n': {
        double v = strtod(value + 1, NULL);
        if (isfinite(v)) kv_put(sc, key, 'n', v, NULL, 0, 0);
        break;
    }
    default:
        break; /* not ours: skipped */
    }
}

static void kv_loaded(void *user, int result, const store_kv *entries, size_t n)
{
    script *sc = user;
    for (size_t i = 0; result == STORE_OK && i < n; i++)
        kv_decode(sc, entries[i].key, entries[i].value);
    if (result != STORE_OK) log_error("script_store_failed", "request=load");
    sc->kv_done(sc->kv_done_user, result == STORE_OK ? 0 : SCRIPT_E_STORE);
}

int script_store_load(script *sc, void (*done)(void *user, int result), void *user)
{
    sc->kv_done = done;
    sc->kv_done_user = user;
    return store_kv_load(sc->store, kv_loaded, sc) == 0 ? 0 : SCRIPT_E_STORE;
}

static void kv_written(void *user, int result)
{
    if (result != STORE_OK) log_error("script_store_failed", "request=save");
}

void script_flush(script *sc)
{
    if (sc->kv_dirty == 0) return;
    store_kv *batch = calloc(sc->kv_dirty, sizeof *batch);
    if (!batch) return; /* out of memory: next time */
    size_t n = 0;
    for (size_t b = 0; b < KV_BUCKETS && n < sc->kv_dirty; b++)
        for (kv_entry *e = sc->kv[b]; e && n < sc->kv_dirty; e = e->next) {
            if (!e->dirty) continue;
            char *value = kv_encode(e);
            if (e->type != 0 && !value) continue; /* out of memory: stays dirty, next time */
            batch[n].key = e->key;
            batch[n].value = value;
            e->dirty = 0;
            n++;
        }
    sc->kv_dirty -= n;
    if (n > 0 && store_kv_save(sc->store, batch, n, kv_written, NULL) != 0)
        log_error("script_store_failed", "request=save_submit keys=%zu", n);
    for (size_t i = 0; i < n; i++)
        free((char *)batch[i].value);
    free(batch);
    /* Deleted keys whose deletion went out leave the cache. */
    for (size_t b = 0; b < KV_BUCKETS; b++)
        for (kv_entry **p = &sc->kv[b], *e; (e = *p);) {
            if (e->type == 0 && !e->dirty) {
                *p = e->next;
                free(e->str);
                free(e);
                sc->kv_count--;
            } else {
                p = &e->next;
            }
        }
}

/* ---------------------------------------------------------------- the sandbox */

/* load, text chunks only: a binary chunk can break the VM's invariants. */
static int l_load(lua_State *L)
{
    int env = !lua_isnone(L, 4);
    lua_settop(L, 4);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the base library's load */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (env) lua_pushvalue(L, 4);
    lua_call(L, env ? 4 : 3, 2);
    return 2;
}

static const luaL_Reg cmmo_functions[] = {
    {"on", l_on},
    {"every", l_every},
    {"after", l_after},
    {"say", l_say},
    {"players", l_players},
    {"player", l_player},
    {"spawn_npc", l_spawn_npc},
    {"log", l_log},
    {"time", l_time},
    {"world_size", l_world_size},
    {NULL, NULL},
};

/* Opens what a game script may use and nothing else: no io, os but its clock, no debug, no
 * package or require, no coroutine (a yield across the runtime's calls), no dofile, loadfile,
 * collectgarbage or string.dump; load takes text only. */
static void sandbox(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL},
    };
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"dofile", "loadfile", "collectgarbage", "require"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load, 1);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    /* os: the clock only (time, clock, difftime, date), from a library opened aside. */
    luaopen_os(L);
    lua_newtable(L);
    static const char *const kept[] = {"time", "clock", "difftime", "date"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        lua_getfield(L, -2, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    lua_setglobal(L, "os");
    lua_pop(L, 1);
}

static void open_cmmo(state *st)
{
    lua_State *L = st->L;
    actor_metatable(L, PLAYER_MT, player_methods);
    actor_metatable(L, NPC_MT, npc_methods);
    luaL_newmetatable(L, TIMER_MT);
    lua_newtable(L);
    lua_pushcfunction(L, timer_cancel);
    lua_setfield(L, -2, "cancel");
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    lua_newtable(L);
    for (int e = 0; e < EV_COUNT; e++) {
        lua_newtable(L);
        lua_setfield(L, -2, event_names[e]);
    }
    st->handlers = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_newlib(L, cmmo_functions);
    lua_newtable(L);
    lua_pushcfunction(L, l_store_get);
    lua_setfield(L, -2, "get");
    lua_pushcfunction(L, l_store_set);
    lua_setfield(L, -2, "set");
    lua_setfield(L, -2, "store");
    lua_setglobal(L, "cmmo");
}

/* ---------------------------------------------------------------- states */

static void state_close(state *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->npc_len; i++)
        game_npc_remove(st->sc->game, st->npcs[i]);
    if (st->L) lua_close(st->L);
    free(st->timers);
    free(st);
}

static state *state_open(script *sc, const char *path)
{
    state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->sc = sc;
    st->mem_max = SCRIPT_MEMORY_MAX;
    snprintf(st->path, sizeof st->path, "%s", path);
    st->L = lua_newstate(capped_alloc, st);
    if (!st->L) {
        free(st);
        return NULL;
    }
    *(state **)lua_getextraspace(st->L) = st;
    sandbox(st->L);
    open_cmmo(st);
    return st;
}

/* ---------------------------------------------------------------- the port */

/* Pushes the event's handler list; returns its length (0: nothing pushed). */
static int handlers(state *st, enum event ev)
{
    if (!st || st->count[ev] == 0) return 0;
    lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->handlers);
    lua_getfield(st->L, -1, event_names[ev]);
    lua_remove(st->L, -2);
    return st->count[ev];
}

static void on_player(script *sc, enum event ev, int64_t actor_id, const char *name)
{
    state *st = sc->live;
    int n = handlers(st, ev);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(st->L, -1, i);
        push_actor(st->L, actor_id, name, PLAYER_MT);
        call(st, 1, 0, event_names[ev]);
    }
    if (n) lua_pop(st->L, 1);
}

static void port_login(void *ctx, int64_t actor_id, const char *name)
{
    on_player(ctx, EV_LOGIN, actor_id, name);
}

static void port_logout(void *ctx, int64_t actor_id, const char *name)
{
    on_player(ctx, EV_LOGOUT, actor_id, name);
}

/* Handlers in turn: nil passes the text on, a string replaces it for the next handler and the
 * game, false drops it (and ends the turn). An error counts as nil. */
static int port_chat(void *ctx, int64_t actor_id, const char *text, size_t len, char *out,
                     size_t cap)
{
    script *sc = ctx;
    state *st = sc->live;
    int n = handlers(st, EV_CHAT);
    if (n == 0) return GAME_HOOK_PASS;
    lua_State *L = st->L;
    const char *name = game_local_name(sc->game, actor_id);
    lua_pushlstring(L, text, len); /* the current text, below the handler list's slot */
    lua_insert(L, -2);
    int verdict = GAME_HOOK_PASS;
    for (int i = 1; i <= n && verdict != GAME_HOOK_DROP; i++) {
        lua_rawgeti(L, -1, i);
        push_actor(L, actor_id, name ? name : "", PLAYER_MT);
        lua_pushvalue(L, -4);
        if (call(st, 2, 1, "chat") != 0) continue;
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_replace(L, -3);
            verdict = GAME_HOOK_REPLACE;
            continue;
        }
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) verdict = GAME_HOOK_DROP;
        lua_pop(L, 1);
    }
    if (verdict == GAME_HOOK_REPLACE) {
        size_t rlen;
        const char *r = lua_tolstring(L, -2, &rlen);
        if (rlen >= cap) rlen = cap - 1;
        memcpy(out, r, rlen);
        out[rlen] = 0;
    }
    lua_pop(L, 2);
    return verdict;
}

/* Handlers in turn: nil passes, two numbers redirect (for the next handler and the game), false
 * refuses. An error counts as nil. */
static int port_target(void *ctx, int64_t actor_id, double *x, double *y)
{
    script *sc = ctx;
    state *st = sc->live;
    int n = handlers(st, EV_TARGET);
    if (n == 0) return GAME_HOOK_PASS;
    lua_State *L = st->L;
    const char *name = game_local_name(sc->game, actor_id);
    int verdict = GAME_HOOK_PASS;
    for (int i = 1; i <= n && verdict != GAME_HOOK_DROP; i++) {
        lua_rawgeti(L, -1, i);
        push_actor(L, actor_id, name ? name : "", PLAYER_MT);
        lua_pushnumber(L, *x);
        lua_pushnumber(L, *y);
        if (call(st, 3, 2, "target") != 0) continue;
        if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
            verdict = GAME_HOOK_DROP;
        } else if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TNUMBER) {
            double nx = lua_tonumber(L, -2), ny = lua_tonumber(L, -1);
            if (isfinite(nx) && isfinite(ny)) {
                *x = nx;
                *y = ny;
                verdict = GAME_HOOK_REPLACE;
            }
        }
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return verdict;
}

/* Due timers, in the order they were made; one due again at once runs once a tick at most. */
static void run_timers(state *st, uint64_t now)
{
    st->firing = 1;
    size_t len = st->timer_len; /* made while firing: not before the next tick */
    for (size_t i = 0; i < len; i++) {
        timer *t = &st->timers[i];
        if (t->fn == LUA_NOREF || t->due_us > now) continue;
        lua_rawgeti(st->L, LUA_REGISTRYINDEX, t->fn);
        if (t->period_us) {
            t->due_us += t->period_us;
            if (t->due_us <= now) t->due_us = now + t->period_us; /* late: no burst */
        } else {
            timer_drop(st, i);
        }
        call(st, 0, 0, "timer");
    }
    st->firing = 0;
    size_t k = 0;
    for (size_t i = 0; i < st->timer_len; i++)
        if (st->timers[i].fn != LUA_NOREF) st->timers[k++] = st->timers[i];
    st->timer_len = k;
}

static void port_tick(void *ctx, uint64_t now_us)
{
    script *sc = ctx;
    state *st = sc->live;
    double dt = sc->last_tick_us ? (double)(now_us - sc->last_tick_us) / 1e6 : 0;
    sc->last_tick_us = now_us;
    if (st) {
        if (st->timer_len) run_timers(st, now_us);
        int n = handlers(st, EV_TICK);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(st->L, -1, i);
            lua_pushnumber(st->L, dt);
            call(st, 1, 0, "tick");
        }
        if (n) lua_pop(st->L, 1);
    }
    script_flush(sc);
}

/* ---------------------------------------------------------------- lifecycle */

script *script_create(game *g, store *st)
{
    script *sc = calloc(1, sizeof *sc);
    if (!sc) return NULL;
    sc->game = g;
    sc->store = st;
    static const game_script_ops ops = {port_login, port_logout, port_chat, port_target, port_tick};
    game_set_script(g, &ops, sc);
    return sc;
}

int script_loaded(const script *sc)
{
    return sc->live != NULL;
}

/* FNV-1a, 64 bits: tells a changed file from the one running. */
static uint64_t digest(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

/* The script file's bytes (a malloc the caller frees, *len of them), or NULL (logged). */
static char *read_script(const char *path, size_t *len)
{
    /* Bounded: a script is source text, not data. */
    static const size_t max = 4 << 20;
    FILE *f = fopen(path, "rb");
    if (!f) {
        log_error("script_load_failed", "script=\"%s\" error=\"cannot open\"", path);
        return NULL;
    }
    char *buf = malloc(max + 1);
    *len = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f) || *len > max;
    fclose(f);
    if (bad) {
        free(buf);
        log_error("script_load_failed", "script=\"%s\" error=\"unreadable or over 4 MiB\"", path);
        return NULL;
    }
    return buf;
}

int script_load(script *sc, const char *path)
{
    size_t len;
    char *text = read_script(path, &len);
    if (!text) return SCRIPT_E_LOAD;
    uint64_t sum = digest(text, len);
    /* The same file unchanged (a SIGHUP for the log or the certificate): the running script,
     * its NPCs and its state stay as they are. */
    if (sc->live && sc->live->digest == sum && strcmp(sc->live->path, path) == 0) {
        free(text);
        log_info("script_unchanged", "script=\"%s\"", path);
        return 0;
    }
    state *st = state_open(sc, path);
    if (!st) {
        free(text);
        log_error("script_load_failed", "script=\"%s\" error=out_of_memory", path);
        return SCRIPT_E_LOAD;
    }
    st->digest = sum;
    char chunk[520];
    snprintf(chunk, sizeof chunk, "@%s", path);
    /* Compiled as text: never a binary chunk. */
    int rc = luaL_loadbufferx(st->L, text, len, chunk, "t");
    free(text);
    if (rc != LUA_OK) {
        char msg[400];
        log_text(lua_tostring(st->L, -1), msg, sizeof msg);
        log_error("script_load_failed", "script=\"%s\" error=\"%s\"", path, msg);
    } else {
        /* The main chunk runs as a call: same budget, errors logged with file:line. Meanwhile
         * the new state is the live one, so that what it does lands in it. */
        state *old = sc->live;
        sc->live = st;
        rc = call(st, 0, 0, "load");
        sc->live = old;
    }
    if (rc != 0) {
        state_close(st); /* its NPCs go with it */
        if (sc->live) log_warn("script_kept", "script=\"%s\"", sc->live->path);
        return SCRIPT_E_LOAD;
    }
    state_close(sc->live);
    sc->live = st;
    log_info("script_loaded", "script=\"%s\" npcs=%zu timers=%zu memory_bytes=%zu", path,
             st->npc_len, st->timer_len, st->mem);
    return 0;
}

void script_destroy(script *sc)
{
    if (!sc) return;
    game_set_script(sc->game, NULL, NULL);
    state_close(sc->live);
    script_flush(sc);
    for (size_t b = 0; b < KV_BUCKETS; b++)
        for (kv_entry *e = sc->kv[b], *next; e; e = next) {
            next = e->next;
            free(e->str);
            free(e);
        }
    free(sc);
}
