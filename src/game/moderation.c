/*
 * moderation: bans, mutes and the audit log as the game applies them (game.h), and the session's
 * side of them (game_internal.h): a banned Login's Deny, a muted player's dropped chat, and the
 * "Server" notices that tell a player why their chat went nowhere.
 *
 * The store is the record: a ban or mute is written there, and the game applies it to the player
 * online here at once. A player logging in reads theirs with the account (store_account).
 */
#include "game/game_internal.h"

#include "core/log.h"
#include "core/utf8.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A player is told at most this often that their chat went nowhere: a client that keeps
 * sending must not get a notice per line. */
#define NOTICE_INTERVAL_MS 1000

/* ---------------------------------------------------------------- checks */

/* A name as registration allows it (the store would find nothing else anyway). */
static int name_ok(const char *name)
{
    return name && validate_credentials(name, strlen(name), "x", 1) == NULL;
}

/* A reason is shown to the player as is (a Deny, a chat line): UTF-8, no control characters. */
static int reason_ok(const char *reason)
{
    size_t len = reason ? strlen(reason) : 0;
    if (!reason || len > STORE_REASON_MAX || !utf8_valid(reason, len)) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)reason[i];
        if (c < 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

static int sanction_ok(const game_sanction *how)
{
    return how && how->ends_at >= 0 && how->seconds >= 0 &&
           (how->ends_at == 0) == (how->seconds == 0) && reason_ok(how->reason);
}

/* The session of the player with this name online here, or NULL. */
static session *online(game *g, const char *name)
{
    for (session *s = g->sessions; s; s = s->next)
        if (s->actor && s->link && strcasecmp(world_actor_name(s->actor), name) == 0) return s;
    return NULL;
}

/* " until 2026-12-05 10:00 UTC" (or "" for 0) into out. */
static void format_end(int64_t ends_at, char *out, size_t cap)
{
    time_t t = (time_t)ends_at;
    struct tm tm;
    out[0] = 0;
    if (ends_at > 0 && gmtime_r(&t, &tm)) strftime(out, cap, " until %Y-%m-%d %H:%M UTC", &tm);
}

/* ---------------------------------------------------------------- the session's side */

const char *session_ban_text(const store_sanction *ban, char *out, size_t cap)
{
    char end[48];
    format_end(ban->ends_at, end, sizeof end);
    snprintf(out, cap, "You are banned%s%s%s", end, ban->reason[0] ? ": " : "", ban->reason);
    return out;
}

static void mute(session *s, uint64_t seconds, int64_t ends_at, const char *reason)
{
    s->muted_until_ms = seconds ? game_now_ms(s->game) + seconds * 1000 : UINT64_MAX;
    s->mute_ends_at = ends_at;
    snprintf(s->mute_reason, sizeof s->mute_reason, "%s", reason);
}

void session_take_mute(session *s, const store_sanction *m)
{
    if (m->active)
        mute(s, (uint64_t)m->seconds_left, m->ends_at, m->reason);
    else
        s->muted_until_ms = 0;
}

void session_notice(session *s, const char *text)
{
    game *g = s->game;
    uint64_t now = game_now_ms(g);
    if (!s->link || now < s->next_notice_ms) return;
    s->next_notice_ms = now + NOTICE_INTERVAL_MS;
    rcbuf *b = packet_encode_chat("Server", 6, text, strlen(text));
    if (!b) return;
    g->outbox.push(g->outbox.ctx, s->link, &b, 1);
    game_outbox_count(g->counters.packets_out, g->counters.bytes_out, &b, 1);
    rcbuf_unref(b);
}

int session_chat_muted(session *s)
{
    if (!s->muted_until_ms) return 0;
    if (game_now_ms(s->game) >= s->muted_until_ms) {
        s->muted_until_ms = 0;
        return 0;
    }
    char end[48], text[STORE_REASON_MAX + 96];
    format_end(s->mute_ends_at, end, sizeof end);
    snprintf(text, sizeof text, "You are muted%s%s%s; nobody sees your chat", end,
             s->mute_reason[0] ? ": " : "", s->mute_reason);
    session_notice(s, text);
    return 1;
}

/* ---------------------------------------------------------------- operator calls */

int game_ban(game *g, const char *name, const game_sanction *how)
{
    if (!name_ok(name) || !sanction_ok(how)) return CMMO_EINVALID;
    int rc = store_set_sanction(g->store, name, STORE_BAN, how->ends_at, how->reason, NULL, NULL);
    if (rc != 0) return rc;
    log_info("player_banned", "user=%s ends_at=%lld", name, (long long)how->ends_at);
    game_revoke_resume_tokens(g, name);    /* a browser must not log back in with one */
    game_kick(g, name, GAME_CLOSE_KICKED); /* not online here: nothing to kick */
    return 0;
}

int game_unban(game *g, const char *name)
{
    if (!name_ok(name)) return CMMO_EINVALID;
    int rc = store_clear_sanction(g->store, name, STORE_BAN, NULL, NULL);
    if (rc != 0) return rc;
    log_info("player_unbanned", "user=%s", name);
    return 0;
}

int game_mute(game *g, const char *name, const game_sanction *how)
{
    if (!name_ok(name) || !sanction_ok(how)) return CMMO_EINVALID;
    int rc = store_set_sanction(g->store, name, STORE_MUTE, how->ends_at, how->reason, NULL, NULL);
    if (rc != 0) return rc;
    session *s = online(g, name);
    if (s) mute(s, (uint64_t)how->seconds, how->ends_at, how->reason);
    log_info("player_muted", "user=%s ends_at=%lld online=%d", name, (long long)how->ends_at,
             s != NULL);
    return 0;
}

int game_unmute(game *g, const char *name)
{
    if (!name_ok(name)) return CMMO_EINVALID;
    int rc = store_clear_sanction(g->store, name, STORE_MUTE, NULL, NULL);
    if (rc != 0) return rc;
    session *s = online(g, name);
    if (s) s->muted_until_ms = 0;
    log_info("player_unmuted", "user=%s", name);
    return 0;
}

void game_audit(game *g, const char *actor, const char *action, const char *target,
                const char *detail)
{
    if (store_audit_add(g->store, actor, action, target, detail, NULL, NULL) != 0)
        log_error("audit_lost", "action=%s", action);
}
