/*
 * session_v2: what cmmo.v2 adds to a session (docs/PROTOCOL.md, "cmmo.v2 sessions"): resume
 * tokens (issued after a password login, taken by Resume, revoked by Logout), who is around
 * (Players, Joined, Left) and Ping/Pong. Legacy sessions are never sent any of it: the
 * tutorial's Godot client fails on an action it does not know.
 *
 * Tokens (docs/SECURITY.md): 32 bytes from the system's CSPRNG, sent once in unpadded base64url
 * (43 characters); the store keeps only the SHA-256 of those 43 characters, so a copy of the
 * database resumes nobody. A token is never logged.
 */
#include "game/game_internal.h"

#include "core/log.h"
#include "proto/v2.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- tokens */

/* The SHA-256 of a token's text: what the store keeps and looks up. */
static void token_hash(const char *token, size_t len, uint8_t out[STORE_TOKEN_HASH_BYTES])
{
    crypto_hash_sha256(out, (const unsigned char *)token, len);
}

/* A token's text is exactly V2_TOKEN_CHARS of the base64url alphabet. Anything else cannot be a
 * token the server made, and costs no store request. */
static int token_well_formed(const char *token, size_t len)
{
    if (len != V2_TOKEN_CHARS) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* A token on its way to the store: sent to the session once the row is committed, so that a
 * client never holds a token the store does not know. The session may be gone by then (it is
 * not busy in PLAY), so it is found again by its actor and the token's hash. */
typedef struct token_issue {
    game *game;
    int64_t actor_id;
    uint8_t hash[STORE_TOKEN_HASH_BYTES];
    char text[V2_TOKEN_CHARS + 1];
} token_issue;

static void token_issued(void *user, int result)
{
    token_issue *t = user;
    game *g = t->game;
    if (result == STORE_OK) {
        for (session *s = g->sessions; s; s = s->next) {
            if (!s->actor || !s->link || !s->has_token || world_actor_id(s->actor) != t->actor_id ||
                sodium_memcmp(s->token_hash, t->hash, sizeof t->hash) != 0)
                continue;
            session_send(s, v2_encode_token(t->text, g->config.resume_ttl_s));
            break;
        }
    } else {
        log_warn("resume_token_not_issued", "actor=%lld", (long long)t->actor_id);
    }
    sodium_memzero(t, sizeof *t);
    free(t);
}

/* After a password login: a new token for this browser. */
static void issue_token(session *s)
{
    game *g = s->game;
    token_issue *t = calloc(1, sizeof *t);
    if (!t) return; /* the player can still log in with the password next time */
    uint8_t raw[V2_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(t->text, sizeof t->text, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    t->game = g;
    t->actor_id = s->account.actor_id;
    token_hash(t->text, V2_TOKEN_CHARS, t->hash);
    memcpy(s->token_hash, t->hash, sizeof t->hash);
    s->has_token = 1;
    if (store_token_issue(g->store, s->account.user_id, t->hash, g->config.resume_ttl_s,
                          token_issued, t) != 0) {
        s->has_token = 0;
        sodium_memzero(t, sizeof *t);
        free(t);
    }
}

int game_revoke_resume_tokens(game *g, const char *name)
{
    return store_token_revoke_account(g->store, name, NULL, NULL);
}

/* ---------------------------------------------------------------- who is around */

/* Sends b to every cmmo.v2 player in the world except `except` (consumes the reference). */
static void send_to_v2_players(game *g, const session *except, rcbuf *b)
{
    if (!b) return;
    for (session *s = g->sessions; s; s = s->next) {
        if (s == except || !s->v2 || !s->actor || !s->link || s->state != SESSION_PLAY) continue;
        g->outbox.push(g->outbox.ctx, s->link, &b, 1);
        game_outbox_count(g->counters.packets_out, g->counters.bytes_out, &b, 1);
    }
    rcbuf_unref(b);
}

/* The players of this node (a cluster's remote actors are not listed: docs/PROTOCOL.md). */
static void send_players(session *to)
{
    game *g = to->game;
    const char *names[V2_PLAYERS_LISTED_MAX];
    size_t n = 0;
    for (session *s = g->sessions; s && n < V2_PLAYERS_LISTED_MAX; s = s->next)
        if (s->actor && s->state == SESSION_PLAY) names[n++] = world_actor_name(s->actor);
    session_send(to, v2_encode_players(game_player_count(g), names, n));
}

void session_v2_entered(session *s)
{
    game *g = s->game;
    assert(s->actor);
    send_to_v2_players(g, s, v2_encode_joined(world_actor_name(s->actor), game_player_count(g)));
    if (!s->v2) return;
    send_players(s);
    if (!s->resumed && g->config.resume_ttl_s > 0) issue_token(s);
}

void session_v2_leaving(session *s)
{
    game *g = s->game;
    assert(s->actor);
    size_t count = game_player_count(g);
    send_to_v2_players(g, s, v2_encode_left(world_actor_name(s->actor), count ? count - 1 : 0));
}

/* ---------------------------------------------------------------- messages */

static void count_in(game *g, int slot, size_t len)
{
    g->counters.packets_in[slot]++;
    g->counters.bytes_in[slot] += len;
}

static void on_resume(session *s, const v2_packet *p)
{
    game *g = s->game;
    if (g->logins_refused) {
        session_send(s, packet_encode_deny(g->logins_refused));
        return;
    }
    /* Tokens switched off, a name no account can have, or a token the server cannot have made:
     * the same answer as a token that is unknown, without asking the store. */
    if (g->config.resume_ttl_s <= 0 || p->name_len == 0 || p->name_len > LIMITS_USERNAME_MAX ||
        validate_credentials(p->name, p->name_len, "x", 1) != NULL ||
        !token_well_formed(p->token, p->token_len)) {
        session_send(s, packet_encode_deny("Resume token invalid or expired"));
        return;
    }
    uint8_t hash[STORE_TOKEN_HASH_BYTES];
    token_hash(p->token, p->token_len, hash);
    session_resume_start(s, p->name, hash);
}

static void on_logout(session *s)
{
    game *g = s->game;
    if (!s->has_token) return;
    store_token_revoke(g->store, s->token_hash, NULL, NULL);
    s->has_token = 0;
    log_info("resume_token_revoked", "user=%s reason=logout", s->account.name);
}

int session_v2_message(session *s, const uint8_t *data, size_t len)
{
    game *g = s->game;
    v2_packet p;
    int rc = v2_decode((const char *)data, len, &p);
    if (rc == V2_E_UNKNOWN_ACTION || rc == V2_E_MALFORMED) return 0;
    int login = s->state != SESSION_PLAY;
    /* /metrics has no labels of its own for these (the set is pinned): a Resume or Logout counts
     * as a Login, a Ping as a Target. */
    count_in(g, p.action == V2_PING ? PACKET_TARGET : PACKET_LOGIN, len);
    if (rc == V2_E_PAYLOAD) {
        log_debug("packet_rejected", "peer=%s action=v2 reason=payload", s->peer);
        if (login && p.action == V2_RESUME) session_send(s, packet_encode_deny("Malformed Resume"));
        sodium_memzero(&p, sizeof p);
        return 1;
    }
    switch (p.action) {
    case V2_RESUME:
        if (login)
            on_resume(s, &p);
        else
            log_debug("packet_ignored", "peer=%s action=Resume state=play", s->peer);
        break;
    case V2_LOGOUT:
        if (!login) on_logout(s);
        break;
    case V2_PING:
        session_send(s, v2_encode_pong(p.ping));
        break;
    }
    sodium_memzero(&p, sizeof p); /* it may hold a token */
    return 1;
}
