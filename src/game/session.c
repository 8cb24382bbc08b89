#include "game/game.h"
#include "game/session.h"

#include "core/addr.h"
#include "core/log.h"
#include "core/utf8.h"
#include "game/sessionstate.h"
#include "game/throttle.h"
#include "proto/packet.h"
#include "proto/validate.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Login throttling (docs/PROTOCOL.md section 6): generous enough that an honest typo never
 * trips it, tight enough that guessing online is hopeless (5 guesses a minute per account). */
#define THROTTLE_ACCOUNT_FAILURES 5
#define THROTTLE_ADDRESS_FAILURES 20
#define THROTTLE_WINDOW_MS 60000
#define THROTTLE_LOCKOUT_MS 60000
/* Keys each throttle table tracks. A key's state lives at most 60 s past its last failure, and
 * every login failure costs an argon2id hash (2 threads, 20-40 ms each; even at 10 ms, 200 a
 * second), so a login table holds at most ~12,000 live keys, while the first refusal for want
 * of room comes at 60-77% of the slots (~20,000 of 32,768). The registration table counts
 * attempts, not hashes: ~20,000 addresses registering within a minute fill it. A key that
 * cannot be tracked is refused as throttled (fail closed, game/throttle.h) and throttle_full is
 * logged. 19 MB of address space for the three, resident only where keys land. */
#define THROTTLE_ENTRIES 32768
/* Registrations per address: each costs a hash and a database row. Ten a minute is more than a
 * family behind one router needs; loopback (local tools; a local proxy passes the real address
 * in X-Real-IP) is not counted. */
#define THROTTLE_REGISTRATIONS 10
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

typedef struct bucket {
    double tokens;
    uint64_t last_ms;
} bucket;

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

typedef struct queued {
    uint8_t *data;
    uint32_t len;
} queued;

struct session {
    game *game;
    session *prev, *next;
    void *link;               /* NULL once the connection is gone */
    enum session_state state; /* changed only by session_set_state */
    unsigned paused : 1;      /* asked the connection to stop reading */
    unsigned v2 : 1;          /* negotiated cmmo.v2: compact movement */
    bucket packets, chats;
    world_actor *actor; /* in PLAY */
    queued *queue;      /* ring buffer of client messages */
    uint32_t q_head, q_len, q_cap;
    char peer[48];
    /* The request being checked (Register or Login). */
    char username[VALIDATE_USERNAME_MAX + 1];
    char password[VALIDATE_PASSWORD_MAX + 1];
    size_t password_len;
    int avatar;
    int found;
    store_account account;
};

struct game {
    game_clock clock;
    game_config config;
    game_outbox outbox;
    store *store;
    auth *auth;
    world *world;
    throttle *by_account, *by_address, *registrations;
    session *sessions;
    size_t session_count;
    size_t busy_count; /* sessions in a busy state (session_state_busy) */
    uint64_t last_save_ms;
    store_position *save_scratch; /* a write-behind batch being built */
    uint8_t *save_release;        /* its per-position "give up the claim once committed" */
    size_t save_scratch_cap;
    struct unsaved *unsaved; /* leavers' positions whose write failed, to write again */
    size_t unsaved_len, unsaved_cap;
    int batch_in_flight;   /* a write-behind batch is submitted and not finished */
    uint64_t batch_seq;    /* numbers the batches, for the kept positions they carry */
    packet scratch_packet; /* decoded packets: one at a time, on the loop thread */
    game_counters counters;
    game_cluster_ops cluster; /* all NULL without a cluster */
    void *cluster_ctx;
    const char *logins_refused; /* the Deny reason once game_refuse_logins was called, or NULL */
};

/* The game's time, from its one clock (see game_clock in game/game.h). */
static uint64_t game_now_us(const game *g)
{
    return g->clock.now_us(g->clock.ctx);
}

static uint64_t game_now_ms(const game *g)
{
    return game_now_us(g) / 1000;
}

void game_refuse_logins(game *g, const char *reason)
{
    g->logins_refused = reason;
}

const game_counters *game_get_counters(const game *g)
{
    return &g->counters;
}

const char *game_action_label(int slot)
{
    return slot >= 0 && slot < GAME_INVALID ? packet_action_name((enum packet_action)slot)
                                            : "invalid";
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

static void deny(session *s, const char *reason)
{
    send_packet(s, packet_encode_deny(reason));
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

static int session_busy(const session *s)
{
    return session_state_busy(s->state);
}

/* Back to waiting for a Register or Login (after an answer, a refusal or a failure). */
static void session_idle(session *s)
{
    session_set_state(s, SESSION_LOGIN_IDLE);
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

/* Gives a cluster presence claim up (no-op without a cluster). */
static void release_claim(game *g, int64_t actor_id);
/* The write-behind's retry queue (below). */
static void unsaved_put(game *g, const store_position *p, int release);
static int unsaved_take(game *g, int64_t actor_id, store_position *out);
static void unsaved_settle(game *g, uint64_t batch, int written);

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
        release_claim(g, s->account.actor_id);
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
    release_claim(g, s->account.actor_id);
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
    if (!world_has_actor(g->world, s->account.actor_id)) release_claim(g, s->account.actor_id);
    if (world_has_actor(g->world, s->account.actor_id))
        deny(s, "You are already logged in");
    else if (!same)
        deny(s, "Server busy, try again");
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
    if (world_has_actor(g->world, s->account.actor_id)) {
        session_idle(s);
        deny(s, "You are already logged in");
        return;
    }
    if (!s->link) { /* gone while we checked: nothing to join */
        session_idle(s);
        return;
    }
    if (g->cluster.claim) {
        /* One more asynchronous step in a cluster: is the account playing on another node? */
        session_set_state(s, SESSION_LOGIN_CLAIMING);
        if (g->cluster.claim(g->cluster_ctx, s->account.actor_id, login_claimed, s) != 0) {
            session_idle(s);
            deny(s, "Server busy, try again");
        }
        return;
    }
    login_reread_start(s);
}

/* The password matched (and, in a cluster, this node holds the account's presence claim). */
static void enter_world(session *s)
{
    game *g = s->game;
    /* A position of this player whose write failed is newer than what the store gave. */
    store_position kept;
    int newer = unsaved_take(g, s->account.actor_id, &kept);
    if (newer) {
        s->account.x = kept.x;
        s->account.y = kept.y;
    }
    send_packet(s, packet_encode_ok());
    s->actor = world_join(g->world, &s->account, s->link);
    if (s->actor && newer) world_mark_unsaved(g->world, s->account.actor_id);
    if (!s->actor) {
        if (newer) unsaved_put(g, &kept, 0);
        release_claim(g, s->account.actor_id);
        session_idle(s);
        deny(s, "Server busy, try again");
        return;
    }
    session_set_state(s, SESSION_PLAY);
    if (s->v2) {
        /* After the own full model world_join just sent: that must stay the first ModelDelta
         * after Ok. Never to a legacy client, which fails on an unknown action. */
        world_actor_set_compact(g->world, s->actor);
        send_packet(s, packet_encode_world(g->config.world_width, g->config.world_height));
    }
    g->counters.logins_ok++;
    log_info("player_joined", "user=%s actor=%lld peer=%s", s->account.name,
             (long long)s->account.actor_id, s->peer);
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
    int rc = auth_verify(s->game->auth, s->found ? account->password_hash : NULL, s->password,
                         s->password_len, login_verified, s);
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
        char reason[96];
        g->counters.logins_throttled++;
        snprintf(reason, sizeof reason, "Too many failed attempts, try again in %llu seconds",
                 (unsigned long long)((wait + 999) / 1000));
        deny(s, reason);
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

/* ---------------------------------------------------------------- dispatch */

static void handle_message(session *s, const uint8_t *data, size_t len)
{
    game *g = s->game;
    packet *p = &g->scratch_packet;
    int rc = packet_decode((const char *)data, len, p);
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
                }
                return;
            }
            char clean[VALIDATE_CHAT_BYTES + 1];
            size_t n = validate_chat(p->as.chat.message, p->as.chat.message_len, clean);
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
            world_set_target(g->world, s->actor, p->as.target.x, p->as.target.y);
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

static void process_queue(session *s)
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

game *game_create(const game_clock *clock, const game_config *config, const game_outbox *outbox,
                  store *st, auth *au)
{
    assert(clock && clock->now_us);
    assert(game_outbox_complete(outbox));
    game *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->clock = *clock;
    g->config = *config;
    g->outbox = *outbox;
    g->store = st;
    g->auth = au;
    world_config wc = {
        .width = config->world_width,
        .height = config->world_height,
        .speed = 70.0,
        .tick_hz = config->tick_hz,
        .view_radius = config->view_radius,
        .outbox = *outbox,
        .packets_out = g->counters.packets_out,
        .bytes_out = g->counters.bytes_out,
    };
    g->world = world_create(&wc);
    g->by_account = throttle_create("login_account", THROTTLE_ENTRIES, THROTTLE_ACCOUNT_FAILURES,
                                    THROTTLE_WINDOW_MS, THROTTLE_LOCKOUT_MS);
    g->registrations =
        throttle_create("registration_address", THROTTLE_ENTRIES, THROTTLE_REGISTRATIONS,
                        THROTTLE_WINDOW_MS, THROTTLE_LOCKOUT_MS);
    g->by_address = throttle_create("login_address", THROTTLE_ENTRIES, THROTTLE_ADDRESS_FAILURES,
                                    THROTTLE_WINDOW_MS, THROTTLE_LOCKOUT_MS);
    if (!g->world || !g->by_account || !g->by_address || !g->registrations) {
        game_destroy(g);
        return NULL;
    }
    g->last_save_ms = game_now_ms(g);
    return g;
}

session *game_session_open(game *g, void *link, const char *peer)
{
    session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->game = g;
    s->link = link;
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    s->packets = (bucket){RATE_PACKETS_BURST, game_now_ms(g)};
    s->chats = (bucket){RATE_CHATS_BURST, game_now_ms(g)};
    s->next = g->sessions;
    if (g->sessions) g->sessions->prev = s;
    g->sessions = s;
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

int game_session_message(game *g, session *s, const uint8_t *data, size_t len)
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

/* ---------------------------------------------------------------- write-behind */

/* A position whose write failed, of a player no longer in the world (one still in it is marked
 * unsaved in the world instead, so that its current position goes with the next batch). It is
 * written again with the next batch, or taken back if the player logs in first. */
typedef struct unsaved {
    store_position pos;
    int release;    /* the cluster claim to give up once it is committed */
    uint64_t batch; /* the batch writing it now, or 0: kept until that batch is committed */
} unsaved;

/* Leavers' positions waiting to be written again: a database outage of minutes with players
 * coming and going stays far inside it (32 bytes each, 2 MiB at most). Past it a position is
 * dropped with a position_lost warning rather than memory growing without bound. */
#define GAME_UNSAVED_MAX 65536

typedef struct save_request {
    game *game;
    uint64_t started_us;
    int is_batch;   /* the periodic write-behind batch (not a leaver's final save) */
    uint64_t batch; /* its number; the kept positions it carries are the unsaved[] so marked */
    size_t n;       /* positions from the world (the kept ones are not copied here) */
    store_position *positions; /* the batch, kept to write it again if the write fails */
    uint8_t *release;          /* per position: give up the cluster claim once committed */
} save_request;

/* In a cluster, a leaving player's claim is released only after its position is committed: the
 * next node to log them in reads the position from the store. */
static void release_claim(game *g, int64_t actor_id)
{
    if (actor_id && g->cluster.release) g->cluster.release(g->cluster_ctx, actor_id);
}

static void position_lost(game *g, const store_position *p, int release, const char *why)
{
    log_warn("position_lost", "actor=%lld x=%.1f y=%.1f reason=%s", (long long)p->actor_id, p->x,
             p->y, why);
    if (release) release_claim(g, p->actor_id);
}

static void unsaved_put(game *g, const store_position *p, int release)
{
    /* In a cluster a leaver's claim lapses within seconds once released or no longer refreshed,
     * and another node may then write newer positions of that account: writing this one later
     * could overwrite them. Only a single node can keep it. */
    if (g->cluster.claim) {
        position_lost(g, p, release, "store_failed_in_cluster");
        return;
    }
    if (g->unsaved_len == g->unsaved_cap) {
        size_t cap = g->unsaved_cap ? g->unsaved_cap * 2 : 64;
        if (cap > GAME_UNSAVED_MAX) cap = GAME_UNSAVED_MAX;
        unsaved *u = cap > g->unsaved_cap ? realloc(g->unsaved, cap * sizeof *u) : NULL;
        if (!u) {
            position_lost(g, p, release, "retry_queue_full");
            return;
        }
        g->unsaved = u;
        g->unsaved_cap = cap;
    }
    assert(g->unsaved_len < g->unsaved_cap && g->unsaved_cap <= GAME_UNSAVED_MAX);
    g->unsaved[g->unsaved_len++] = (unsaved){*p, release, 0};
}

/* Takes every kept position of actor_id out of the retry queue, also one a batch is writing now
 * (if that batch fails the player is in the world and is saved from there). Returns 1 with the
 * newest (the last queued: writes fail in the order they were made) in *out, or 0 if none. */
static int unsaved_take(game *g, int64_t actor_id, store_position *out)
{
    int found = 0;
    size_t k = 0;
    for (size_t i = 0; i < g->unsaved_len; i++) {
        if (g->unsaved[i].pos.actor_id == actor_id) {
            *out = g->unsaved[i].pos;
            found = 1;
        } else {
            g->unsaved[k++] = g->unsaved[i];
        }
    }
    g->unsaved_len = k;
    return found;
}

/* A batch was not written: every position in it is written again later, never lost to a
 * passing database failure (the write-behind's moved flags were cleared when it was built). */
static void save_failed(game *g, const store_position *p, const uint8_t *release, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (world_mark_unsaved(g->world, p[i].actor_id) == 0) continue;
        unsaved_put(g, &p[i], release[i]);
    }
}

/* The batch numbered batch finished: the kept positions it carried are done (written: their
 * claims released) or waiting again (failed). */
static void unsaved_settle(game *g, uint64_t batch, int written)
{
    size_t k = 0;
    for (size_t i = 0; i < g->unsaved_len; i++) {
        unsaved *u = &g->unsaved[i];
        if (u->batch != batch) {
            g->unsaved[k++] = *u;
        } else if (!written) {
            u->batch = 0;
            g->unsaved[k++] = *u;
        } else if (u->release && !world_has_actor(g->world, u->pos.actor_id)) {
            release_claim(g, u->pos.actor_id);
        }
    }
    g->unsaved_len = k;
}

static void positions_saved(void *user, int result)
{
    save_request *r = user;
    game *g = r->game;
    game_counters *c = &g->counters;
    c->save_batches_done++;
    c->save_latency_us_total += game_now_us(g) - r->started_us;
    if (r->is_batch) g->batch_in_flight = 0;
    if (result != STORE_OK) {
        c->save_failures++;
        save_failed(g, r->positions, r->release, r->n);
    } else {
        for (size_t i = 0; i < r->n; i++)
            /* Not if the player is back in the world on this node: the claim is theirs again. */
            if (r->release[i] && !world_has_actor(g->world, r->positions[i].actor_id))
                release_claim(g, r->positions[i].actor_id);
    }
    if (r->batch) unsaved_settle(g, r->batch, result == STORE_OK);
    free(r);
}

/* Writes n positions behind as one batch, counted for /metrics; once it is committed, gives up
 * the cluster claims flagged in release. A batch that cannot be written is kept for later. */
/* Writes positions behind as one write, counted for /metrics: the first n_own of p (copied, to
 * be written again if the write fails), then the rest, which are kept positions marked with
 * batch (nonzero) in unsaved[]. Once committed, gives up the cluster claims flagged in release
 * (n_own of them). */
static void save_positions(game *g, const store_position *p, const uint8_t *release, size_t n_own,
                           size_t n, int is_batch, uint64_t batch)
{
    save_request *r = malloc(sizeof *r + n_own * (sizeof *p + 1));
    if (r) {
        *r = (save_request){g,   game_now_us(g), is_batch, batch, n_own, (store_position *)(r + 1),
                            NULL};
        r->release = (uint8_t *)(r->positions + n_own);
        memcpy(r->positions, p, n_own * sizeof *p);
        memcpy(r->release, release, n_own);
    }
    if (!r || store_save_positions(g->store, p, n, positions_saved, r) != 0) {
        free(r);
        g->counters.save_failures++;
        save_failed(g, p, release, n_own);
        if (batch) unsaved_settle(g, batch, 0);
        return;
    }
    if (is_batch) g->batch_in_flight = 1;
    g->counters.save_batches++;
    g->counters.positions_saved += n;
}

/* Makes room for n positions in the batch scratch. Returns 0, or -1 out of memory. */
static int save_scratch_reserve(game *g, size_t n)
{
    if (n <= g->save_scratch_cap) return 0;
    store_position *p = realloc(g->save_scratch, n * sizeof *p);
    if (!p) return -1;
    g->save_scratch = p;
    uint8_t *r = realloc(g->save_release, n);
    if (!r) return -1;
    g->save_release = r;
    g->save_scratch_cap = n;
    return 0;
}

/* Writes the positions that changed (all of them when everything is set) and the kept ones.
 * One periodic batch at a time: while the database is slow or failing (a write may wait 5 s for
 * a lock), new batches would only queue up behind it, and every login's read with them; what
 * changed meanwhile stays marked and goes with the next batch. */
static void save_batch(game *g, int everything)
{
    if (g->batch_in_flight && !everything) return;
    size_t actors = world_actor_count(g->world);
    if (actors + g->unsaved_len == 0) return;
    if (save_scratch_reserve(g, actors + g->unsaved_len) != 0) return; /* next time */
    size_t own = everything ? world_collect_all(g->world, g->save_scratch, actors)
                            : world_collect_moved(g->world, g->save_scratch, actors);
    memset(g->save_release, 0, own);
    uint64_t batch = ++g->batch_seq;
    size_t k = own;
    for (size_t i = 0; i < g->unsaved_len; i++) {
        if (g->unsaved[i].batch) continue; /* the shutdown's batch while one is in flight */
        g->unsaved[i].batch = batch;
        g->save_scratch[k++] = g->unsaved[i].pos;
    }
    if (k > 0) save_positions(g, g->save_scratch, g->save_release, own, k, 1, k > own ? batch : 0);
}

/* Frees a session; its actor leaves the world, its position saved when save is set. */
static void session_free(game *g, session *s, int save)
{
    if (s->actor) {
        store_position pos;
        log_info("player_left", "user=%s actor=%lld", world_actor_name(s->actor),
                 (long long)world_actor_id(s->actor));
        world_leave(g->world, s->actor, &pos);
        s->actor = NULL;
        uint8_t release = 1;
        if (save) save_positions(g, &pos, &release, 1, 1, 0, 0);
    }
    while (s->q_len > 0) {
        if (s->state != SESSION_PLAY) forget_login_message(g, s->queue[s->q_head]);
        free(s->queue[s->q_head].data);
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
    }
    free(s->queue);
    if (s->prev)
        s->prev->next = s->next;
    else
        g->sessions = s->next;
    if (s->next) s->next->prev = s->prev;
    g->session_count--;
    free(s);
}

void game_tick(game *g)
{
    uint64_t now_ms = game_now_ms(g);
    for (session *s = g->sessions, *next; s; s = next) {
        next = s->next;
        process_queue(s);
        /* Gone, answered and drained: the player leaves now. */
        if (!s->link && !session_busy(s) && s->q_len == 0) session_free(g, s, 1);
    }
    world_tick(g->world);
    if (now_ms - g->last_save_ms >= g->config.save_interval_ms) {
        g->last_save_ms = now_ms;
        save_batch(g, 0);
    }
#ifdef CMMO_CHECKS
    game_check(g);
#endif
}

void game_check(const game *g)
{
    size_t count = 0, busy = 0;
    const session *prev = NULL;
    for (const session *s = g->sessions; s; prev = s, s = s->next) {
        assert(s->game == g);
        assert(s->prev == prev);
        assert((unsigned)s->state < SESSION_STATES);
        assert((s->state == SESSION_PLAY) == (s->actor != NULL));
        assert(s->q_len <= s->q_cap && s->q_len <= SESSION_QUEUE_HARD);
        assert(s->q_cap == 0 ? s->q_head == 0 && !s->queue : s->q_head < s->q_cap);
        busy += (size_t)session_busy(s);
        count++;
    }
    assert(count == g->session_count);
    assert(busy == g->busy_count);
    assert(g->unsaved_len <= g->unsaved_cap && g->unsaved_len <= GAME_UNSAVED_MAX);
    (void)count;
    (void)busy;
}

void game_save_all(game *g)
{
    save_batch(g, 1);
}

void game_each_player(game *g, game_player_fn fn, void *user)
{
    for (session *s = g->sessions; s; s = s->next) {
        if (!s->actor) continue;
        double x, y;
        world_actor_position(s->actor, &x, &y);
        fn(user, world_actor_name(s->actor), world_actor_id(s->actor), x, y, s->peer);
    }
}

int game_kick(game *g, const char *name, game_close_reason why)
{
    for (session *s = g->sessions; s; s = s->next) {
        if (!s->actor || !s->link || strcasecmp(world_actor_name(s->actor), name) != 0) continue;
        log_info("player_kicked", "user=%s", world_actor_name(s->actor));
        g->outbox.close(g->outbox.ctx, s->link, why);
        return 0;
    }
    return -1;
}

size_t game_broadcast(game *g, const char *text)
{
    char clean[VALIDATE_CHAT_BYTES + 1];
    size_t n = validate_chat(text, strlen(text), clean);
    if (n == 0) return 0;
    rcbuf *b = packet_encode_chat("Server", 6, clean, n);
    if (!b) return 0;
    size_t reached = 0;
    for (session *s = g->sessions; s; s = s->next) {
        if (!s->actor || !s->link) continue;
        g->outbox.push(g->outbox.ctx, s->link, &b, 1);
        reached++;
    }
    rcbuf_unref(b);
    return reached;
}

int game_idle(const game *g)
{
    return g->busy_count == 0;
}

size_t game_session_count(const game *g)
{
    return g->session_count;
}

size_t game_player_count(const game *g)
{
    return world_actor_count(g->world) - world_remote_count(g->world);
}

void game_set_cluster(game *g, const game_cluster_ops *ops, void *ctx)
{
    g->cluster = *ops;
    g->cluster_ctx = ctx;
}

world *game_world(game *g)
{
    return g->world;
}

void game_remote_chat(game *g, const char *name, size_t name_len, const char *text, size_t len)
{
    char clean[VALIDATE_CHAT_BYTES + 1];
    if (name_len == 0 || name_len > STORE_NAME_MAX || !utf8_valid(name, name_len)) return;
    size_t n = validate_chat(text, len, clean);
    if (n > 0) world_chat_remote(g->world, name, name_len, clean, n);
}

void game_destroy(game *g)
{
    if (!g) return;
    /* Positions were saved by game_save_all; the store may be closed by now. */
    while (g->sessions) {
        g->sessions->link = NULL;
        session_free(g, g->sessions, 0);
    }
    world_destroy(g->world);
    throttle_destroy(g->by_account);
    throttle_destroy(g->by_address);
    throttle_destroy(g->registrations);
    free(g->save_scratch);
    free(g->save_release);
    free(g->unsaved);
    free(g);
}
