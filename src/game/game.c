/*
 * game: the game context (game/game.h): creation, the tick, the write-behind of positions,
 * operator commands and the cluster's hooks. The per-connection state machine is session.c;
 * game_internal.h is what the two share.
 */
#include "game/game_internal.h"

#include "core/log.h"
#include "core/utf8.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    game_set_script(g, NULL, NULL); /* the port that passes everything, until a script attaches */
    g->store = st;
    g->auth = au;
    world_config wc = {
        .width = config->world_width,
        .height = config->world_height,
        .speed = 70.0,
        .tick_hz = config->tick_hz,
        .view_radius = config->view_radius,
        .v2_budget = config->v2_budget,
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
void game_release_claim(game *g, int64_t actor_id)
{
    if (actor_id && g->cluster.release) g->cluster.release(g->cluster_ctx, actor_id);
}

static void position_lost(game *g, const store_position *p, int release, const char *why)
{
    log_warn("position_lost", "actor=%lld x=%.1f y=%.1f reason=%s", (long long)p->actor_id, p->x,
             p->y, why);
    if (release) game_release_claim(g, p->actor_id);
}

void game_unsaved_put(game *g, const store_position *p, int release)
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
bool game_unsaved_take(game *g, int64_t actor_id, store_position *out)
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
        game_unsaved_put(g, &p[i], release[i]);
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
            game_release_claim(g, u->pos.actor_id);
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
                game_release_claim(g, r->positions[i].actor_id);
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
void game_save_positions(game *g, const store_position *p, const uint8_t *release, size_t n_own,
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

/* Makes room for n positions in the batch scratch. Returns 0, or -ENOMEM. */
static int save_scratch_reserve(game *g, size_t n)
{
    if (n <= g->save_scratch_cap) return 0;
    store_position *p = realloc(g->save_scratch, n * sizeof *p);
    if (!p) return -ENOMEM;
    g->save_scratch = p;
    uint8_t *r = realloc(g->save_release, n);
    if (!r) return -ENOMEM;
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
    if (k > 0)
        game_save_positions(g, g->save_scratch, g->save_release, own, k, 1, k > own ? batch : 0);
}

/* ---------------------------------------------------------------- the tick and operators */

void game_tick(game *g)
{
    uint64_t now_ms = game_now_ms(g);
    for (session *s = g->sessions, *next; s; s = next) {
        next = s->next;
        session_process_queue(s);
        /* Gone, answered and drained: the player leaves now. */
        if (!s->link && !session_busy(s) && s->q_len == 0) session_free(g, s, 1);
    }
    game_script_tick(g);
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
    assert(g->npc_len <= GAME_NPC_MAX);
    for (size_t i = 0; i < g->npc_len; i++)
        assert(g->npcs[i] >= GAME_NPC_ID_BASE && world_find(g->world, g->npcs[i]));
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
    return CMMO_ENOTFOUND;
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

bool game_idle(const game *g)
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
    free(g->npcs);
    free(g);
}
