/*
 * admin_cmd: what an operator's command line means (the commands are listed in admin.h), apart
 * from the socket that carries it (server/admin wires the two: net/lineserver below, the game
 * above). It reaches the game only through admin_ops, so it can be driven against a fake.
 */
#ifndef CMMO_ADMIN_CMD_H
#define CMMO_ADMIN_CMD_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

/* Called once per player by admin_ops.each_player (game_player_fn's shape). */
typedef void (*admin_player_fn)(void *user, const char *name, int64_t actor_id, double x, double y,
                                const char *peer);

/* The game operations the commands use; always complete. ctx is the game (or a fake). */
typedef struct admin_ops {
    /* Calls fn for every player in the world. */
    void (*each_player)(void *ctx, admin_player_fn fn, void *user);
    /* Closes the connection of the player with this name (any letter case), as kicked by the
     * operator (the game's GAME_CLOSE_KICKED: what the client is shown is net's wording).
     * Returns 0, or CMMO_ENOTFOUND if no such player is online. */
    int (*kick)(void *ctx, const char *name);
    /* A chat line from "Server" to every player; returns how many it reached. */
    size_t (*broadcast)(void *ctx, const char *text);
    /* Records in the database and applies at once a ban, unban, mute or unmute (what: ADMIN_BAN
     * ...) of the account named name: a ban kicks the player, a mute silences their chat. The
     * end is ends_at (seconds since 1970 UTC) and seconds from now, both 0 for good; neither is
     * used by unban and unmute, nor reason. Returns 0, or a negative code if refused
     * (CMMO_EINVALID: a bad reason). */
    int (*moderate)(void *ctx, int what, const char *name, int64_t ends_at, int64_t seconds,
                    const char *reason);
    /* Records an operator action in the audit log: actor ("socket:UID"), action ("kick" ...),
     * target (a name) and detail ("" or a few words). Fire and forget. */
    void (*audit)(void *ctx, const char *actor, const char *action, const char *target,
                  const char *detail);
} admin_ops;

enum { ADMIN_BAN, ADMIN_UNBAN, ADMIN_MUTE, ADMIN_UNMUTE };

/* The longest ban or mute duration: ten years in seconds (past it, "forever" says it better). */
#define ADMIN_DURATION_MAX (10LL * 366 * 24 * 3600)

/* Reads a duration: "forever" (0), or a whole number followed by s, m, h, d or w ("90s", "30m",
 * "12h", "7d", "2w"), from 1 second to ADMIN_DURATION_MAX. Returns 0 with *seconds set, or
 * CMMO_EINVALID.
 * Pure: cmmo-admin uses it too. */
int admin_parse_duration(const char *text, int64_t *seconds);

/* A reply being built: grows as needed. data is malloc'd (owned by the reply until taken). */
typedef struct admin_reply {
    char *data;
    size_t len, cap;
    int failed; /* out of memory: see admin_command */
} admin_reply;

/* Makes r empty. Returns 0, or -ENOMEM (then r holds nothing to free). */
int admin_reply_init(admin_reply *r);
/* Appends printf-style text; on failure r->failed is set and later appends do nothing. */
void admin_reply_append(admin_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees r's data. */
void admin_reply_free(admin_reply *r);

/* admin_command's answer: keep the connection, or close it once the reply is sent. */
enum { ADMIN_CMD_CONTINUE = 0, ADMIN_CMD_QUIT = 1 };

/* Runs one command line (len bytes, no "\n", line[len] == 0; it may hold a NUL, which makes it
 * an unknown command; it is modified in place) against ops and ctx, as actor (who the audit log
 * names: "socket:UID"), and appends its whole reply
 * (data lines, then one "OK ..." or "ERR ..." status line) to r. If r runs out of memory on the
 * way, its contents are replaced by "ERR out of memory\n"; r->failed stays set only if even that
 * did not fit, and then the caller should close the connection. Returns ADMIN_CMD_QUIT for
 * `quit`, else ADMIN_CMD_CONTINUE. */
int admin_command(const admin_ops *ops, void *ctx, const char *actor, char *line, size_t len,
                  admin_reply *r);

#endif
