/*
 * admin: the operator channel (see admin.h for the commands and why the socket is enough
 * protection). The socket is a net/lineserver with admin's limits and messages; each line goes
 * to admin_command with the game's operations. Everything runs on the server's loop thread,
 * like the game it calls.
 */
#include "server/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct admin {
    lineserver *server;
    const admin_ops *ops;
    void *ctx;
};

/* ---------------------------------------------------------------- the game's operations */

static void game_ops_each_player(void *ctx, admin_player_fn fn, void *user)
{
    game_each_player(ctx, fn, user);
}

static int game_ops_kick(void *ctx, const char *name)
{
    return game_kick(ctx, name, GAME_CLOSE_KICKED);
}

static size_t game_ops_broadcast(void *ctx, const char *text)
{
    return game_broadcast(ctx, text);
}

static int game_ops_moderate(void *ctx, int what, const char *name, int64_t ends_at,
                             int64_t seconds, const char *reason)
{
    game_sanction how = {.ends_at = ends_at, .seconds = seconds, .reason = reason};
    switch (what) {
    case ADMIN_BAN:
        return game_ban(ctx, name, &how);
    case ADMIN_UNBAN:
        return game_unban(ctx, name);
    case ADMIN_MUTE:
        return game_mute(ctx, name, &how);
    default:
        return game_unmute(ctx, name);
    }
}

static void game_ops_audit(void *ctx, const char *actor, const char *action, const char *target,
                           const char *detail)
{
    game_audit(ctx, actor, action, target, detail);
}

static const admin_ops game_ops = {
    .each_player = game_ops_each_player,
    .kick = game_ops_kick,
    .broadcast = game_ops_broadcast,
    .moderate = game_ops_moderate,
    .audit = game_ops_audit,
};

/* ---------------------------------------------------------------- lines */

static void on_line(void *user, lineserver_conn *c, char *line, size_t len)
{
    admin *a = user;
    admin_reply r;
    if (admin_reply_init(&r) != 0) {
        lineserver_close_now(c);
        return;
    }
    char actor[32];
    snprintf(actor, sizeof actor, "socket:%u", lineserver_conn_peer_uid(c));
    int result = admin_command(a->ops, a->ctx, actor, line, len, &r);
    if (r.failed) {
        admin_reply_free(&r);
        lineserver_close_now(c);
        return;
    }
    if (lineserver_send(c, r.data, r.len) != 0) return; /* r.data taken either way */
    if (result == ADMIN_CMD_QUIT) lineserver_close_after_output(c);
}

/* ---------------------------------------------------------------- start / stop */

admin *admin_start_ops(uv_loop_t *loop, const char *path, const admin_ops *ops, void *ctx)
{
    admin *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->ops = ops;
    a->ctx = ctx;
    lineserver_config config = {
        .path = path,
        .log_name = "admin",
        .line_max = ADMIN_LINE_MAX,
        .conn_max = ADMIN_CONN_MAX,
        .idle_ms = ADMIN_IDLE_MS,
        .sweep_ms = ADMIN_SWEEP_MS,
        .output_max = ADMIN_OUTPUT_MAX,
        .too_long_message = "ERR line too long\n",
        .too_many_message = "ERR too many admin connections\n",
        .idle_message = "ERR idle too long\n",
        .on_line = on_line,
        .user = a,
    };
    a->server = lineserver_start(loop, &config);
    if (!a->server) {
        free(a);
        return NULL;
    }
    return a;
}

admin *admin_start(uv_loop_t *loop, const char *path, game *g)
{
    return admin_start_ops(loop, path, &game_ops, g);
}

void admin_stop(admin *a)
{
    if (!a) return;
    lineserver_stop(a->server);
    free(a);
}

size_t admin_connection_count(const admin *a)
{
    return a ? lineserver_connection_count(a->server) : 0;
}

int admin_default_path(const char *db_url, char *out, size_t cap)
{
    static const char name[] = "cmmo-admin.sock";
    if (cap > 0) out[0] = 0;
    if (!db_url || strncmp(db_url, "sqlite:", 7) != 0 || !db_url[7]) return CMMO_EINVALID;
    const char *file = db_url + 7;
    const char *slash = strrchr(file, '/');
    size_t dir_len = slash ? (size_t)(slash - file) + 1 : 0; /* "/" kept */
    size_t total = dir_len + sizeof name;                    /* terminator included */
    if (total > cap || total > ADMIN_PATH_MAX) return CMMO_ETOO_LONG;
    memcpy(out, file, dir_len);
    memcpy(out + dir_len, name, sizeof name);
    return 0;
}
