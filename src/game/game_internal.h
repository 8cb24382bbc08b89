/*
 * game_internal: what game.c (the context, the tick, operator commands, the write-behind) and
 * session.c (the per-connection state machine) share, and nothing outside src/game includes: the
 * two structs, the clock, and the few calls each makes into the other.
 */
#ifndef CMMO_GAME_INTERNAL_H
#define CMMO_GAME_INTERNAL_H

#include "game/game.h"
#include "game/session.h"
#include "game/sessionstate.h"
#include "game/throttle.h"
#include "game/world.h"
#include "proto/packet.h"
#include "proto/validate.h"

#include <stddef.h>
#include <stdint.h>

/* A token bucket of a session's flood control (session.c). */
typedef struct bucket {
    double tokens;
    uint64_t last_ms;
} bucket;

/* A client message waiting for the next tick (its own copy). */
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
    /* Moderation (moderation.c): a mute in force, and when the next Server notice may go. */
    uint64_t muted_until_ms; /* by the game's clock; 0: not muted; UINT64_MAX: for good */
    int64_t mute_ends_at;    /* seconds since 1970 UTC, for the notice; 0: never ends */
    uint64_t next_notice_ms; /* no notice to this player before this */
    char mute_reason[STORE_REASON_MAX + 1];
    /* cmmo.v2 resume tokens (session_v2.c) */
    unsigned resumed : 1;   /* entered with a resume token: no new token is issued */
    unsigned has_token : 1; /* token_hash is this session's token (issued, or resumed with) */
    uint8_t token_hash[STORE_TOKEN_HASH_BYTES];
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
    game_script_ops script;     /* all NULL without a script */
    void *script_ctx;
    int64_t *npcs; /* the NPCs' actor ids, GAME_NPC_MAX at most, in no order */
    size_t npc_len;
    int64_t npc_next; /* the next NPC's id */
};

/* The game's time, from its one clock (see game_clock in game/game.h). */
static inline uint64_t game_now_us(const game *g)
{
    return g->clock.now_us(g->clock.ctx);
}

static inline uint64_t game_now_ms(const game *g)
{
    return game_now_us(g) / 1000;
}

/* Waiting for the store, auth or the cluster: its queued messages wait. */
static inline bool session_busy(const session *s)
{
    return session_state_busy(s->state);
}

/* ---- session.c, for the tick ---- */

/* Handles the session's queued messages in order until it is busy or the queue is empty. */
void session_process_queue(session *s);

/* Frees a session (it must not be busy); its actor leaves the world, its position saved when
 * save is set. */
void session_free(game *g, session *s, int save);

/* ---- moderation.c, for the session ---- */

/* The Deny text for a Login of a banned account (ban active), written to out (cap bytes). */
const char *session_ban_text(const store_sanction *ban, char *out, size_t cap);

/* Takes the account's mute (as read at login) as the session's own. */
void session_take_mute(session *s, const store_sanction *mute);

/* 1 if the player is muted now: then they are told so (session_notice) and their chat line is
 * to be dropped. A mute that has ended is forgotten here. */
int session_chat_muted(session *s);

/* A chat line from "Server" to this player alone, at most one a second (later ones within the
 * second are dropped): for telling a player why their chat went nowhere. */
void session_notice(session *s, const char *text);

/* ---- game_script.c, the hooks the session calls (each a no-op without a script) ---- */

void game_script_login(game *g, world_actor *a);
void game_script_logout(game *g, world_actor *a);
/* The cleaned chat line of a: returns 0 to drop it, else its length in out (cleaned again,
 * VALIDATE_CHAT_BYTES + 1 bytes), which holds the line to relay. */
size_t game_script_chat(game *g, world_actor *a, const char *clean, size_t n, char *out);
/* Returns 0 to drop the Target, else 1 with *x, *y the target to walk to. */
int game_script_target(game *g, world_actor *a, double *x, double *y);
void game_script_tick(game *g);

/* ---- session.c, for session_v2.c ---- */

/* A cmmo.v2 Resume in LOGIN (name and token already checked for form, token_hash its SHA-256):
 * looks the token up, then joins as a Login does, without a password check. */
void session_resume_start(session *s, const char *name,
                          const uint8_t token_hash[STORE_TOKEN_HASH_BYTES]);

/* Sends one packet to this session's connection alone (consumes the reference). */
void session_send(session *s, rcbuf *b);

/* ---- session_v2.c: what cmmo.v2 adds to a session (docs/PROTOCOL.md) ---- */

/* A message that packet_decode called an unknown action, from a cmmo.v2 session: handles it if
 * it is a cmmo.v2 action (Resume, Logout, Ping; counted for /metrics) and returns 1, else 0 (the
 * caller answers it as an unknown action). */
int session_v2_message(session *s, const uint8_t *data, size_t len);

/* The session just entered the world (Ok, its model and World sent): every cmmo.v2 player is told
 * (Joined); a cmmo.v2 newcomer is sent Players and, after a password login, a resume token. Called
 * for every session, legacy ones included (they are sent nothing). */
void session_v2_entered(session *s);

/* The session's actor is about to leave the world: every other cmmo.v2 player is told (Left). */
void session_v2_leaving(session *s);

/* ---- game.c, for the login chain and the leavers ---- */

/* Gives a cluster presence claim up (no-op without a cluster). */
void game_release_claim(game *g, int64_t actor_id);

/* The write-behind's retry queue: a leaver's position whose write failed is kept to be written
 * again (put), or taken back when the player logs in first (take: true and *out filled if kept). */
void game_unsaved_put(game *g, const store_position *p, int release);
bool game_unsaved_take(game *g, int64_t actor_id, store_position *out);

/* Writes positions (n_own from the world, then the kept ones of batch), releasing claims per
 * release[] once committed. */
void game_save_positions(game *g, const store_position *p, const uint8_t *release, size_t n_own,
                         size_t n, int is_batch, uint64_t batch);

#endif
