/*
 * session: the per-connection state machine (game/session.h): the message queue, Register and
 * Login as chains of states (game/sessionstate.h), dispatch in LOGIN and PLAY, flood control.
 * The game context, the tick and the write-behind are in game.c; game_internal.h is what the two
 * share.
 */
#include "game/game_internal.h"

#include "core/addr.h"
#include "core/list.h"
#include "core/log.h"
#include "game/actor.h"
#include "game/world.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Password checks waiting for a hashing thread before new ones are turned away: about ten
 * seconds of work; past it a flood of Logins would only make every honest one wait longer. */
#define AUTH_QUEUE_MAX 1000

/* Flood control (token buckets, per connection). A Godot client sends a Target per click and a
 * Chat per line: far below these. A client over budget has its messages dropped; one that stays
 * far over it (the deficit passes the burst again) is closed (GAME_CLOSE_*_FLOOD). */
#define RATE_PACKETS_PER_S 40.0
#define RATE_PACKETS_BURST 200.0
#define RATE_CHATS_PER_S 2.0
#define RATE_CHATS_BURST 10.0

/* Takes one token. Returns 0 if there was one, 1 if over budget, 2 if abusively so. */
static int bucket_take(bucket *b, double per_s, double burst, uint64_t now_ms)
{
    b->tokens += (double)(now_ms - b->last_ms) * per_s / 1000.0;
    if (b->tokens > burst) b->tokens = burst;
    b->last_ms = now_ms;
    b->tokens -= 1;
    if (b->tokens >= 0) return 0;
    return b->tokens < -burst ? 2 : 1;
}

/* ---------------------------------------------------------------- output */

/* A packet for this session's connection alone (a reply, Deny, the world size): one push. The
 * world pushes what it sends itself (world_config.outbox). */
static void send_packet(session *s, rcbuf *b)
{
    if (!b) return;
    if (s->link) {
        game *g = s->game;
        g->outbox.push(g->outbox.ctx, s->link, &b, 1);
        game_outbox_count(g->counters.packets_out, g->counters.bytes_out, &b, 1);
    }
    rcbuf_unref(b);
}

void session_send(session *s, rcbuf *b)
{
    send_packet(s, b);
}

static void deny(session *s, const char *reason)
{
    send_packet(s, packet_encode_deny(reason));
}

/* The Deny of a Login or Resume refused by the failed-attempt throttle, wait_ms still to go. */
static void deny_throttled(session *s, uint64_t wait_ms)
{
    char reason[96];
    s->game->counters.logins_throttled++;
    snprintf(reason, sizeof reason, "Too many failed attempts, try again in %llu seconds",
             (unsigned long long)((wait_ms + 999) / 1000));
    deny(s, reason);
}

/* The one place a session changes state: the move is asserted legal (game/sessionstate.h) and the
 * game's count of busy sessions kept in step. */
static void session_set_state(session *s, enum session_state to)
{
    int was_busy = session_state_busy(s->state);
    session_state_move(&s->state, to);
    if (was_busy == session_state_busy(to)) return;
    if (!was_busy) {
        s->game->busy_count++;
    } else {
        assert(s->game->busy_count > 0);
        s->game->busy_count--;
    }
}

/* Back to waiting for a Register or Login (after an answer, a refusal or a failure). */
static void session_idle(session *s)
{
    session_set_state(s, SESSION_LOGIN_IDLE);
    s->resumed = 0; /* a failed Resume: a later password Login gets a token of its own */
    s->has_token = 0;
}

/* Forget the plaintext as soon as it is handed to the hasher. */
static void wipe_password(session *s)
{
    memset(s->password, 0, sizeof s->password);
    s->password_len = 0;
}

/* ---------------------------------------------------------------- Register */

static void register_created(void *user, int result, const store_account *account)
{
    session *s = user;
    if (result == STORE_OK) {
        s->game->counters.registrations++;
        log_info("account_registered", "user=%s peer=%s", account->name, s->peer);
        send_packet(s, packet_encode_ok());
    } else if (result == STORE_TAKEN) {
        deny(s, "This username is already taken");
    } else {
        deny(s, "Server busy, try again");
    }
    session_idle(s);
}

static void register_hashed(void *user, const char *hash)
{
    session *s = user;
    if (hash) {
        session_set_state(s, SESSION_REGISTER_CREATING);
        if (store_create_account(s->game->store, s->username, hash, s->avatar, register_created,
                                 s) == 0)
            return;
    }
    deny(s, "Server busy, try again");
    session_idle(s);
}

static void register_checked(void *user, int result, const store_account *account)
{
    session *s = user;
    if (result == STORE_OK) {
        /* Taken: answer before spending a hash. The insert's UNIQUE constraint still decides
         * races between two registrations of one name. */
        deny(s, "This username is already taken");
    } else if (result == STORE_NOT_FOUND) {
        session_set_state(s, SESSION_REGISTER_HASHING);
        if (auth_hash(s->game->auth, s->password, s->password_len, register_hashed, s) == 0) {
            wipe_password(s);
            return;
        }
        deny(s, "Server busy, try again");
    } else {
        deny(s, "Server busy, try again");
    }
    wipe_password(s);
    session_idle(s);
}

static void on_register(session *s, const packet *p)
{
    const packet_credentials *a = &p->as.reg.account;
    const char *why = validate_credentials(a->name, a->name_len, a->password, a->password_len);
    int avatar = 0;
    if (!why) why = validate_avatar(p->as.reg.avatar_is_number, p->as.reg.avatar, &avatar);
    /* Server announcements speak as "Server": nobody may register that name. */
    if (!why && strcasecmp(a->name, "Server") == 0) why = "This username is reserved";
    if (why) {
        deny(s, why);
        return;
    }
    game *g = s->game;
    uint64_t now = game_now_ms(g);
    if (!addr_is_loopback(s->peer)) {
        uint64_t wait = throttle_wait_ms(g->registrations, s->peer, now);
        if (wait > 0) {
            char reason[96];
            snprintf(reason, sizeof reason,
                     "Too many registrations from your address, try again in %llu seconds",
                     (unsigned long long)((wait + 999) / 1000));
            deny(s, reason);
            return;
        }
        throttle_fail(g->registrations, s->peer, now);
    }
    if (auth_pending(g->auth) >= AUTH_QUEUE_MAX) {
        deny(s, "Server busy, try again");
        return;
    }
    memcpy(s->username, a->name, a->name_len + 1);
    memcpy(s->password, a->password, a->password_len);
    s->password_len = a->password_len;
    s->avatar = avatar;
    session_set_state(s, SESSION_REGISTER_CHECKING);
    if (store_find_account(s->game->store, s->username, register_checked, s) != 0) {
        wipe_password(s);
        deny(s, "Server busy, try again");
        session_idle(s);
    }
}

/* ---------------------------------------------------------------- Login */

static void enter_world(session *s);
static void login_reread(void *user, int result, const store_account *account);

/* The last step before entering the world: the position is read again now. The first read ran
 * before the password check, perhaps before this player's previous session (just closed, here or
 * on another node) had its final position saved; the store runs requests in submission order, so
 * a read submitted now sees every save submitted before it, and a player who leaves and logs
 * straight back in resumes exactly where everyone last saw them. One indexed read per login,
 * next to an argon2id check. In a cluster this runs once the claim is held, so no other node
 * can write the position any more. */
static void login_reread_start(session *s)
{
    game *g = s->game;
    session_set_state(s, SESSION_LOGIN_REREADING);
    if (store_find_account(g->store, s->account.name, login_reread, s) != 0) {
        session_idle(s);
        game_release_claim(g, s->account.actor_id);
        deny(s, "Server busy, try again");
    }
}

/* The cluster answered the presence claim. */
static void login_claimed(void *user, int result)
{
    session *s = user;
    game *g = s->game;
    assert(s->state == SESSION_LOGIN_CLAIMING);
    /* Another connection of this node got in while we asked: the claim is that one's. */
    if (result == GAME_CLAIM_OK && !world_has_actor(g->world, s->account.actor_id) && s->link) {
        login_reread_start(s);
        return;
    }
    session_idle(s);
    if (result == GAME_CLAIM_TAKEN) {
        deny(s, "You are already logged in");
        return;
    }
    if (result != GAME_CLAIM_OK) {
        deny(s, "Server busy, try again");
        return;
    }
    if (world_has_actor(g->world, s->account.actor_id)) {
        deny(s, "You are already logged in");
        return;
    }
    /* gone while we asked */
    game_release_claim(g, s->account.actor_id);
}

static void login_reread(void *user, int result, const store_account *account)
{
    session *s = user;
    game *g = s->game;
    assert(s->state == SESSION_LOGIN_REREADING);
    int same = result == STORE_OK && account->actor_id == s->account.actor_id;
    if (same && !world_has_actor(g->world, s->account.actor_id) && s->link) {
        s->account.x = account->x;
        s->account.y = account->y;
        enter_world(s);
        return;
    }
    session_idle(s);
    if (!world_has_actor(g->world, s->account.actor_id)) game_release_claim(g, s->account.actor_id);
    if (world_has_actor(g->world, s->account.actor_id))
        deny(s, "You are already logged in");
    else if (!same)
        deny(s, "Server busy, try again");
}

/* The account is proven (a password or a resume token) and free here: in a cluster, one more
 * asynchronous step asks whether it plays on another node; then the position is read again. */
static void claim_or_reread(session *s)
{
    game *g = s->game;
    if (g->cluster.claim) {
        session_set_state(s, SESSION_LOGIN_CLAIMING);
        if (g->cluster.claim(g->cluster_ctx, s->account.actor_id, login_claimed, s) != 0) {
            session_idle(s);
            deny(s, "Server busy, try again");
        }
        return;
    }
    login_reread_start(s);
}

/* The account (s->account, just proven by a password or a resume token) is banned: the Login is
 * answered with the ban's Deny and true returned. Else its mute becomes the session's, and false.
 * Told only to whoever proved the account: a ban says nothing to someone guessing. */
static bool refused_by_ban(session *s, const char *event)
{
    if (!s->account.ban.active) {
        session_take_mute(s, &s->account.mute);
        return false;
    }
    char text[STORE_REASON_MAX + 96];
    session_idle(s);
    log_info(event, "user=%s peer=%s", s->account.name, s->peer);
    deny(s, session_ban_text(&s->account.ban, text, sizeof text));
    return true;
}

static void login_verified(void *user, int match)
{
    session *s = user;
    game *g = s->game;
    uint64_t now = game_now_ms(g);
    assert(s->state == SESSION_LOGIN_VERIFYING);
    if (!s->found || !match) {
        session_idle(s);
        throttle_fail(g->by_address, s->peer, now); /* the account's was counted in on_login */
        g->counters.logins_failed++;
        log_info("login_failed", "user=%s peer=%s", s->username, s->peer);
        deny(s, "Username or password incorrect");
        return;
    }
    throttle_clear(g->by_account, s->username);
    if (refused_by_ban(s, "login_banned")) return;
    if (world_has_actor(g->world, s->account.actor_id)) {
        session_idle(s);
        deny(s, "You are already logged in");
        return;
    }
    if (!s->link) { /* gone while we checked: nothing to join */
        session_idle(s);
        return;
    }
    claim_or_reread(s);
}

/* The password check answered. An imported account's PBKDF2 hash that matched is replaced by
 * the argon2id one auth made of the same password (auth.h): the store runs the write before any
 * later request, so the next Login already checks argon2id. A failed write only means the
 * upgrade happens at a later login. */
static void login_checked(void *user, int match, const char *upgraded)
{
    session *s = user;
    if (match && upgraded && s->found &&
        store_set_password_hash(s->game->store, s->account.name, upgraded, NULL, NULL) == 0)
        log_info("password_upgraded", "user=%s from=pbkdf2_sha256 to=argon2id", s->account.name);
    login_verified(user, match);
}

/* The password matched (and, in a cluster, this node holds the account's presence claim). */
static void enter_world(session *s)
{
    game *g = s->game;
    /* Another node still publishes this player (a remote actor has its id) although our claim
     * was granted: the other copy may be playing. Refused before Ok, the claim given back. */
    if (world_find(g->world, s->account.actor_id)) {
        log_warn("login_refused", "user=%s reason=playing_elsewhere", s->account.name);
        game_release_claim(g, s->account.actor_id);
        session_idle(s);
        deny(s, "You are already logged in");
        return;
    }
    /* A position of this player whose write failed is newer than what the store gave. */
    store_position kept;
    int newer = game_unsaved_take(g, s->account.actor_id, &kept);
    if (newer) {
        s->account.x = kept.x;
        s->account.y = kept.y;
    }
    send_packet(s, packet_encode_ok());
    game_actor model; /* the world gets the player, not the account's hash */
    game_actor_from_account(&model, &s->account);
    s->actor = world_join(g->world, &model, s->link);
    if (s->actor && newer) world_mark_unsaved(g->world, s->account.actor_id);
    if (!s->actor) {
        /* Out of memory, after Ok: a Deny now would break the protocol (Ok is followed by the
         * player's own model), so the connection is closed instead. */
        if (newer) game_unsaved_put(g, &kept, 0);
        game_release_claim(g, s->account.actor_id);
        session_idle(s);
        g->outbox.close(g->outbox.ctx, s->link, GAME_CLOSE_JOIN_FAILED);
        return;
    }
    session_set_state(s, SESSION_PLAY);
    if (s->v2) {
        /* After the own full model world_join just sent: that must stay the first ModelDelta
         * after Ok. Never to a legacy client, which fails on an unknown action. */
        world_actor_set_compact(g->world, s->actor);
        send_packet(s, packet_encode_world(g->config.world_width, g->config.world_height));
    }
    session_v2_entered(s);
    g->counters.logins_ok++;
    log_info("player_joined", "user=%s actor=%lld peer=%s", s->account.name,
             (long long)s->account.actor_id, s->peer);
    game_script_login(g, s->actor);
}

static void login_found(void *user, int result, const store_account *account)
{
    session *s = user;
    assert(s->state == SESSION_LOGIN_FINDING);
    if (result == STORE_ERROR) {
        wipe_password(s);
        deny(s, "Server busy, try again");
        session_idle(s);
        return;
    }
    s->found = result == STORE_OK;
    if (s->found) s->account = *account;
    /* Unknown users are checked against a dummy hash: same time, same answer. */
    session_set_state(s, SESSION_LOGIN_VERIFYING);
    int rc = auth_verify_upgrade(s->game->auth, s->found ? account->password_hash : NULL,
                                 s->password, s->password_len, login_checked, s);
    wipe_password(s);
    if (rc != 0) {
        deny(s, "Server busy, try again");
        session_idle(s);
    }
}

static void on_login(session *s, const packet_credentials *a)
{
    game *g = s->game;
    const char *why = validate_credentials(a->name, a->name_len, a->password, a->password_len);
    if (why == VALIDATE_DENY_EMPTY) {
        deny(s, why);
        return;
    }
    if (why) {
        /* No account can have that name or password: the same answer as a wrong one. */
        deny(s, "Username or password incorrect");
        return;
    }
    uint64_t now = game_now_ms(g);
    uint64_t wait = throttle_wait_ms(g->by_account, a->name, now);
    uint64_t wait_addr = throttle_wait_ms(g->by_address, s->peer, now);
    if (wait_addr > wait) wait = wait_addr;
    if (wait > 0) {
        deny_throttled(s, wait);
        return;
    }
    if (auth_pending(g->auth) >= AUTH_QUEUE_MAX) {
        deny(s, "Server busy, try again");
        return;
    }
    /* The account's failure is counted now and cleared by a success: guesses sent at once from
     * many connections would all pass the check above before the first hash is done. */
    throttle_fail(g->by_account, a->name, now);
    memcpy(s->username, a->name, a->name_len + 1);
    memcpy(s->password, a->password, a->password_len);
    s->password_len = a->password_len;
    session_set_state(s, SESSION_LOGIN_FINDING);
    if (store_find_account(g->store, s->username, login_found, s) != 0) {
        wipe_password(s);
        deny(s, "Server busy, try again");
        session_idle(s);
    }
}

/* ---------------------------------------------------------------- Resume (cmmo.v2) */

/* The store answered a resume token: like a matching password, on to the claim (in a cluster) or
 * the re-read, and from there the same way into the world. */
static void resume_found(void *user, int result, const store_account *account)
{
    session *s = user;
    game *g = s->game;
    assert(s->state == SESSION_RESUME_FINDING);
    if (result != STORE_OK) {
        session_idle(s);
        if (result == STORE_ERROR) {
            deny(s, "Server busy, try again");
            return;
        }
        throttle_fail(g->by_address, s->peer, game_now_ms(g));
        g->counters.logins_failed++;
        log_info("resume_failed", "user=%s peer=%s", s->username, s->peer);
        deny(s, "Resume token invalid or expired");
        return;
    }
    s->account = *account;
    sodium_memzero(s->account.password_hash, sizeof s->account.password_hash);
    /* As after a matching password: a token is no way around a ban (one recorded in the
     * database alone, by cmmo-admin with no server, revoked no token). */
    if (refused_by_ban(s, "resume_banned")) return;
    if (world_has_actor(g->world, s->account.actor_id)) {
        /* The token proves this is the player: the old connection is one the player left (a
         * reload, a network switch the server has not noticed yet). It is closed now, and the
         * client's next attempt a moment later finds the actor gone. */
        session_idle(s);
        game_kick(g, s->account.name, GAME_CLOSE_ELSEWHERE);
        deny(s, "You are already logged in");
        return;
    }
    if (!s->link) {
        session_idle(s);
        return;
    }
    s->resumed = 1; /* until the session falls back to LOGIN_IDLE */
    s->has_token = 1;
    claim_or_reread(s);
}

void session_resume_start(session *s, const char *name,
                          const uint8_t token_hash[STORE_TOKEN_HASH_BYTES])
{
    game *g = s->game;
    uint64_t wait = throttle_wait_ms(g->by_address, s->peer, game_now_ms(g));
    if (wait > 0) {
        deny_throttled(s, wait);
        return;
    }
    snprintf(s->username, sizeof s->username, "%s", name);
    memcpy(s->token_hash, token_hash, STORE_TOKEN_HASH_BYTES);
    session_set_state(s, SESSION_RESUME_FINDING);
    if (store_token_resume(g->store, s->username, token_hash, resume_found, s) != 0) {
        session_idle(s);
        deny(s, "Server busy, try again");
    }
}

/* ---------------------------------------------------------------- dispatch */

static void handle_message(session *s, const uint8_t *data, size_t len)
{
    game *g = s->game;
    packet *p = &g->scratch_packet;
    int rc = packet_decode((const char *)data, len, p);
    /* cmmo.v2's own actions are unknown to the legacy table: a legacy client never reaches them. */
    if (rc == PACKET_E_UNKNOWN_ACTION && s->v2 && session_v2_message(s, data, len)) return;
    int login = s->state != SESSION_PLAY;
    int slot =
        rc == PACKET_E_MALFORMED || rc == PACKET_E_UNKNOWN_ACTION ? GAME_INVALID : (int)p->action;
    g->counters.packets_in[slot]++;
    g->counters.bytes_in[slot] += len;
    if (rc == PACKET_E_MALFORMED || rc == PACKET_E_UNKNOWN_ACTION) {
        log_debug("packet_rejected", "peer=%s reason=%s", s->peer,
                  rc == PACKET_E_MALFORMED ? "malformed" : "unknown_action");
        /* In LOGIN the client waits for an answer to what it sent: give it one. */
        if (login) deny(s, rc == PACKET_E_MALFORMED ? "Malformed packet" : "Unknown action");
        return;
    }
    if (rc == PACKET_E_PAYLOAD) {
        log_debug("packet_rejected", "peer=%s action=%s reason=payload", s->peer,
                  packet_action_name(p->action));
        if (login && p->action == PACKET_REGISTER) deny(s, "Malformed Register");
        if (login && p->action == PACKET_LOGIN) deny(s, "Malformed Login");
        return;
    }
    if (login && g->logins_refused && (p->action == PACKET_REGISTER || p->action == PACKET_LOGIN)) {
        log_debug("login_refused", "peer=%s reason=draining", s->peer);
        deny(s, g->logins_refused);
        return;
    }
    switch (p->action) {
    case PACKET_REGISTER:
        if (login) {
            on_register(s, p);
            return;
        }
        break;
    case PACKET_LOGIN:
        if (login) {
            on_login(s, &p->as.login.account);
            return;
        }
        break;
    case PACKET_CHAT:
        if (!login) {
            int over = bucket_take(&s->chats, RATE_CHATS_PER_S, RATE_CHATS_BURST, game_now_ms(g));
            if (over) {
                g->counters.rate_limited_chats++;
                log_debug("chat_dropped", "peer=%s reason=rate", s->peer);
                if (over == 2 && s->link) {
                    g->counters.flood_closes++;
                    log_info("conn_flood_closed", "peer=%s reason=chat", s->peer);
                    g->outbox.close(g->outbox.ctx, s->link, GAME_CLOSE_CHAT_FLOOD);
                } else {
                    /* Not silently: the player would think the line was sent. */
                    session_notice(s, "You are chatting too fast; slow down");
                }
                return;
            }
            if (session_chat_muted(s)) return;
            char clean[VALIDATE_CHAT_BYTES + 1], said[VALIDATE_CHAT_BYTES + 1];
            size_t n = validate_chat(p->as.chat.message, p->as.chat.message_len, said);
            if (n > 0) n = game_script_chat(g, s->actor, said, n, clean);
            if (n > 0) {
                world_chat(g->world, s->actor, clean, n);
                if (g->cluster.chat) {
                    const char *name = world_actor_name(s->actor);
                    g->cluster.chat(g->cluster_ctx, name, strlen(name), clean, n);
                }
            }
            return;
        }
        break;
    case PACKET_TARGET:
        if (!login) {
            double x = p->as.target.x, y = p->as.target.y;
            if (game_script_target(g, s->actor, &x, &y)) world_set_target(g->world, s->actor, x, y);
            return;
        }
        break;
    default:
        break;
    }
    log_debug("packet_ignored", "peer=%s action=%s state=%s", s->peer,
              packet_action_name(p->action), login ? "login" : "play");
}

/* A message handled in LOGIN may hold a password: its queued copy and the decoded packet are
 * wiped before the memory is reused (the session's own copy is wiped by wipe_password). */
static void forget_login_message(game *g, queued m)
{
    sodium_memzero(m.data, m.len);
    sodium_memzero(g->scratch_packet.text, sizeof g->scratch_packet.text);
}

void session_process_queue(session *s)
{
    while (!session_busy(s) && s->q_len > 0) {
        assert(s->q_head < s->q_cap);
        queued m = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
        int login = s->state != SESSION_PLAY;
        handle_message(s, m.data, m.len);
        if (login) forget_login_message(s->game, m);
        free(m.data);
    }
    if (s->paused && s->q_len < SESSION_QUEUE_SOFT && s->link) {
        s->paused = 0;
        s->game->outbox.resume(s->game->outbox.ctx, s->link);
    }
}

/* ---------------------------------------------------------------- lifecycle */

session *game_session_open(game *g, void *link, const char *peer)
{
    session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->game = g;
    s->link = link;
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    s->packets = (bucket){RATE_PACKETS_BURST, game_now_ms(g)};
    s->chats = (bucket){RATE_CHATS_BURST, game_now_ms(g)};
    list_push_front(&g->sessions, s);
    g->session_count++;
    return s;
}

const char *game_session_state_name(const session *s)
{
    return session_state_name(s->state);
}

void game_session_set_v2(session *s)
{
    s->v2 = 1;
}

/* In play, with nothing queued before it and nothing being checked, a message is handled the
 * moment it is read instead of at the next tick: a Chat is relayed in the same loop iteration
 * (the wiring flushes what the game pushed outside the tick before the loop sleeps again). Order
 * holds because the queue is empty: every earlier message of this session has been handled, and
 * while one waits (a Login's check, a pause) later ones queue behind it. A Target only sets the
 * walking target, whatever the moment; its movement still goes out at the tick, after any chat
 * line read before that tick, exactly the order the tick's own handling gave. Returns true if
 * the message was handled. */
static bool session_handle_now(session *s, const uint8_t *data, size_t len)
{
    if (s->state != SESSION_PLAY || s->q_len > 0 || !s->link) return false;
    handle_message(s, data, len);
    return true;
}

bool game_session_message(game *g, session *s, const uint8_t *data, size_t len)
{
    int over = bucket_take(&s->packets, RATE_PACKETS_PER_S, RATE_PACKETS_BURST, game_now_ms(g));
    if (over) {
        g->counters.rate_limited_messages++;
        log_debug("message_dropped", "peer=%s reason=rate", s->peer);
        if (over == 2 && s->link) {
            g->counters.flood_closes++;
            log_info("conn_flood_closed", "peer=%s reason=message", s->peer);
            g->outbox.close(g->outbox.ctx, s->link, GAME_CLOSE_MESSAGE_FLOOD);
        }
        return 0;
    }
    if (session_handle_now(s, data, len)) return 0;
    if (s->q_len >= SESSION_QUEUE_HARD) {
        log_debug("message_dropped", "peer=%s reason=queue_full", s->peer);
        return 1;
    }
    if (s->q_len == s->q_cap) {
        uint32_t cap = s->q_cap ? s->q_cap * 2 : 4;
        queued *q = malloc(cap * sizeof *q);
        if (!q) return 1;
        for (uint32_t i = 0; i < s->q_len; i++)
            q[i] = s->queue[(s->q_head + i) % s->q_cap];
        free(s->queue);
        s->queue = q;
        s->q_cap = cap;
        s->q_head = 0;
    }
    assert(s->q_len < s->q_cap && s->q_head < s->q_cap);
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return 1;
    if (len) memcpy(copy, data, len); /* an empty message comes with data == NULL */
    s->queue[(s->q_head + s->q_len) % s->q_cap] = (queued){copy, (uint32_t)len};
    s->q_len++;
    if (s->q_len >= SESSION_QUEUE_SOFT) s->paused = 1;
    return s->paused;
}

void game_session_closed(game *g, session *s)
{
    s->link = NULL;
    if (s->actor) world_actor_unlink(g->world, s->actor);
}

/* Frees a session; its actor leaves the world, its position saved when save is set. */
void session_free(game *g, session *s, int save)
{
    if (s->actor) {
        store_position pos;
        if (save) session_v2_leaving(s); /* not when the game itself is being destroyed */
        log_info("player_left", "user=%s actor=%lld", world_actor_name(s->actor),
                 (long long)world_actor_id(s->actor));
        game_script_logout(g, s->actor);
        world_leave(g->world, s->actor, &pos);
        s->actor = NULL;
        uint8_t release = 1;
        if (save) game_save_positions(g, &pos, &release, 1, 1, 0, 0);
    }
    while (s->q_len > 0) {
        if (s->state != SESSION_PLAY) forget_login_message(g, s->queue[s->q_head]);
        free(s->queue[s->q_head].data);
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
    }
    free(s->queue);
    list_unlink(&g->sessions, s);
    g->session_count--;
    free(s);
}
