/* bench_run: the benchmark engine (see bench_run.h). */
#include "bench_run.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench_conn.h"
#include "bench_http.h"
#include "bench_interp.h"
#include "bench_scan.h"

/* The engine's clock: one tick drives pacing, activity and phase changes. 10 ms is well below the
 * server's 50 ms tick; send times are stamped when sent, so the granularity does not bias them. */
#define TICK_MS 10
/* Server CPU is also sampled once a second during the window, for the peak. */
#define SAMPLE_PERIOD_NS 1000000000ull
#define PROGRESS_PERIOD_NS 5000000000ull
/* The storm's requirement: every login answered within 30 s. */
#define STORM_ANSWER_LIMIT_NS 30000000000ull
/* "Arrived" at a spread point: the server stops exactly on the target; allow rounding. */
#define SPREAD_ARRIVED_PX 0.5
/* A step "points at" a target when the angle between them is below ~0.6 degrees: wide enough for
 * positions printed with a few decimals, narrow enough that an unrelated previous walk rarely
 * matches (random targets: ~0.3 % of them). */
#define STEP_DIRECTION_TOLERANCE 0.01
#define NS_PER_S 1e9

/* struct bench_results counts drops per reason in 8 slots. */
_Static_assert(BENCH_CONN_END_COUNT <= 8, "drop_reasons has a slot per enum bench_conn_end");

enum phase { PH_RAMP, PH_SPREAD, PH_WARMUP, PH_WINDOW, PH_DRAIN, PH_DONE };

enum player_state {
    PS_NEW = 0,
    PS_CONNECTING,  /* TCP + WebSocket handshake */
    PS_REGISTERING, /* Register sent */
    PS_LOGGING_IN,  /* Login sent */
    PS_WAIT_MODEL,  /* Ok received, waiting for the own actor's model */
    PS_PLAYING,
    PS_ENDED,
};

struct bench;

/* Actors whose staleness each player measures: a sample of its view, enough for percentiles
 * over hundreds of players without a table of every pair. */
#define STALE_WATCH 16
/* The walking speed (docs/PROTOCOL.md): how long a position change took the mover. */
#define WALK_PX_PER_S 70.0
/* The position error is sampled at the server's tick rate: at each of the mover's own positions
 * while it walks, then every tick while its observer's drawing catches up with where it stopped.
 * It has stopped when its own position missed a tick (1.5 ticks without one); a drawing within
 * 0.05 px of the mover has caught up (half the histogram's 0.1 px). A budget sends the last step
 * in a later frame; 5 s bounds the sampling should that never come. */
#define POSITION_SAMPLE_NS 50000000ull
#define MOVER_STOPPED_NS 75000000ull
#define DRAWING_CAUGHT_UP_PX 0.05
#define CATCH_UP_LIMIT_NS 5000000000ull

struct player {
    struct bench_conn conn;
    struct bench *bench;
    uint32_t index; /* in bench->players; also the "s=" of its chats */
    uint8_t state;
    uint8_t storm;
    uint8_t in_play;   /* Login answered Ok and the connection is up */
    uint8_t closing;   /* we closed it on purpose (done, denied, timed out, end of run) */
    uint8_t resolved;  /* counted in bench->resolved */
    uint8_t in_window; /* in PLAY when the window opened */
    uint8_t pos_known;
    uint8_t obs_known;
    uint8_t mv_self_pending, mv_obs_pending;
    char name[24];
    uint8_t name_len;
    int64_t actor_id;
    uint64_t t_start, t_request, t_login, t_play;
    double x, y;
    double spread_x, spread_y;
    uint64_t next_target, next_chat;
    uint32_t chat_seq;
    /* Movement measurement, with this player as the mover. */
    uint64_t mv_sent;
    double mv_tx, mv_ty;
    int32_t observer; /* index of the player whose view is measured, -1 = none yet */
    double obs_x, obs_y;
    /* Traffic marks at the window's start. */
    uint64_t bytes_mark, frames_mark;
    uint64_t deltas_in, deltas_mark;
    /* Staleness: the first STALE_WATCH other actors this player got positions of, with when and
     * where it last got each. */
    struct watched {
        int64_t id;
        uint64_t t;
        double x, y;
    } watched[STALE_WATCH];
    uint8_t watched_len;
};

/* A mover's position error (one per playing player, not for the storm, which never walks): where
 * it really was, from its own connection, and what its observer's browser client draws of it, from
 * the positions the observer receives (bench_interp.h). */
struct track {
    struct bench_path path;
    struct bench_interp seen; /* valid while the mover's obs_known */
    uint64_t last_own;        /* when its own position last arrived */
    uint64_t last_sample;
    uint8_t catching_up; /* the last sample found the drawing off the mover's position */
};

/* actor id -> player index, open addressing; actors are only added during a run. */
struct actor_map {
    int64_t *keys;
    int32_t *values;
    uint32_t mask;
};

struct bench {
    const struct bench_opts *opts;
    struct bench_results *r;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    struct bench_net nets[BENCH_MAX_PORTS]; /* one per port (--ports); player i on i % n */
    struct player *players;
    struct track *tracks; /* tracks[i] is players[i]'s, for i < n_players */
    uint32_t n_players;   /* the playing ones: players[0 .. n_players) */
    uint32_t n_total;     /* plus the storm */
    uint32_t started;     /* players connected so far (ramp) */
    uint32_t inflight;    /* between connect and the login reply */
    uint32_t resolved;    /* playing players that are in PLAY with their actor, or failed */
    uint32_t n_in_play;
    uint32_t storm_resolved;
    struct actor_map actors;
    enum phase phase;
    uint64_t rng;
    uint64_t t_begin, t_ramp, t_spread, t_warm_end, t_window, t_window_end, t_drain_end;
    uint64_t t_storm, hard_deadline, next_sample, next_progress;
    uint64_t last_tick;
    struct bench_http_request stats_reset, stats_end;
    int storm_started;
    struct bench_proc_sample last_sample;
};

/* ---------------------------------------------------------------- small helpers */

static double rand_unit(struct bench *b)
{
    uint64_t x = b->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    b->rng = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A time of the run in milliseconds, the unit of bench_interp (web/js/motion.js's). */
static double run_ms(const struct bench *b, uint64_t now)
{
    return (double)(int64_t)(now - b->t_begin) / 1e6;
}

static void progress(struct bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct bench *b, const char *fmt, ...)
{
    if (b->opts->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cmmo-bench: [%7.1fs] ", (double)(uv_hrtime() - b->t_begin) / NS_PER_S);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int actor_map_init(struct actor_map *m, uint32_t players)
{
    uint32_t cap = 64;
    while (cap < players * 4u)
        cap <<= 1;
    m->keys = malloc(sizeof(*m->keys) * cap);
    m->values = malloc(sizeof(*m->values) * cap);
    if (!m->keys || !m->values) return -1;
    for (uint32_t i = 0; i < cap; i++)
        m->keys[i] = -1;
    m->mask = cap - 1;
    return 0;
}

static uint32_t actor_slot(const struct actor_map *m, int64_t id)
{
    uint32_t h = (uint32_t)(((uint64_t)id * 11400714819323198485ull) >> 32) & m->mask;
    while (m->keys[h] != -1 && m->keys[h] != id)
        h = (h + 1) & m->mask;
    return h;
}

/* The map holds at most n_total actors in 4 * n_total slots, so a free slot always exists. */
static void actor_map_put(struct actor_map *m, int64_t id, int32_t player)
{
    uint32_t h = actor_slot(m, id);
    m->keys[h] = id;
    m->values[h] = player;
}

static int32_t actor_map_get(const struct actor_map *m, int64_t id)
{
    uint32_t h = actor_slot(m, id);
    return m->keys[h] == id ? m->values[h] : -1;
}

/* Does the step prev -> now point at target (or reach it)? Distinguishes the first step of a new
 * walk from the steps of the previous one. */
static int step_points_at(double px, double py, double qx, double qy, double tx, double ty)
{
    if (fabs(qx - tx) < 1e-3 && fabs(qy - ty) < 1e-3) return 1;
    double dx = qx - px, dy = qy - py, ex = tx - px, ey = ty - py;
    double ld = hypot(dx, dy), le = hypot(ex, ey);
    if (ld < 1e-9 || le < 1e-9) return 0;
    double cross = dx * ey - dy * ex, dot = dx * ex + dy * ey;
    return dot > 0 && fabs(cross) <= STEP_DIRECTION_TOLERANCE * ld * le;
}

/* Marks a playing player as settled for the ramp (in PLAY with its actor, or failed). */
static void resolve(struct player *p)
{
    if (p->resolved) return;
    p->resolved = 1;
    if (p->storm)
        p->bench->storm_resolved++;
    else
        p->bench->resolved++;
}

static void end_player(struct player *p)
{
    p->closing = 1;
    bench_conn_close(&p->conn);
}

static void send_text(struct player *p, const char *text, int len)
{
    if (len > 0) bench_conn_send_text(&p->conn, text, (size_t)len);
}

static void send_login(struct player *p, uint64_t now)
{
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "{\"a\":\"Login\",\"p0\":\"%s\",\"p1\":\"pw-%s\"}", p->name,
                     p->name);
    p->t_login = now;
    p->state = PS_LOGGING_IN;
    send_text(p, msg, n);
}

static void send_register(struct player *p, uint64_t now)
{
    char msg[160];
    int n =
        snprintf(msg, sizeof(msg), "{\"a\":\"Register\",\"p0\":\"%s\",\"p1\":\"pw-%s\",\"p2\":%u}",
                 p->name, p->name, p->index % 6);
    p->t_request = now;
    p->state = PS_REGISTERING;
    send_text(p, msg, n);
}

static void send_target_to(struct player *p, double tx, double ty)
{
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "{\"a\":\"Target\",\"p0\":%.3f,\"p1\":%.3f}", tx, ty);
    send_text(p, msg, n);
}

/* Rounds to what "%.3f" prints, so our idea of the target equals the server's. */
static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

/* ---------------------------------------------------------------- activity */

static void send_target(struct bench *b, struct player *p, uint64_t now)
{
    const struct bench_opts *o = b->opts;
    double r = o->target_radius * sqrt(rand_unit(b));
    double a = 2.0 * M_PI * rand_unit(b);
    double tx = round3(clamp(p->x + r * cos(a), 0, o->world_w));
    double ty = round3(clamp(p->y + r * sin(a), 0, o->world_h));
    send_target_to(p, tx, ty);
    if (b->phase != PH_WINDOW) {
        p->mv_self_pending = p->mv_obs_pending = 0;
        return;
    }
    b->r->targets_sent++;
    if (p->mv_self_pending) b->r->move_self_superseded++;
    if (p->mv_obs_pending) {
        if (p->observer < 0)
            b->r->move_no_observer++;
        else
            b->r->move_observer_superseded++;
    }
    p->mv_sent = now;
    p->mv_tx = tx;
    p->mv_ty = ty;
    p->mv_self_pending = p->mv_obs_pending = 1;
}

static void send_chat(struct bench *b, struct player *p, uint64_t now)
{
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "{\"a\":\"Chat\",\"p0\":\"%s\",\"p1\":\"t=%llu s=%u n=%u\"}",
                     p->name, (unsigned long long)now, p->index, p->chat_seq++);
    send_text(p, msg, n);
    if (b->phase == PH_WINDOW) {
        b->r->chats_sent++;
        b->r->chats_expected += b->n_in_play - 1;
    }
}

/* Every playing player acts when its timers are due. O(players) per tick, which at 5,000 players
 * and 100 ticks/s is half a million cheap checks a second. */
static void play(struct bench *b, uint64_t now)
{
    const struct bench_opts *o = b->opts;
    uint64_t target_ns = (uint64_t)(o->target_interval_s * NS_PER_S);
    uint64_t chat_ns = (uint64_t)(o->chat_interval_s * NS_PER_S);
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct player *p = &b->players[i];
        if (p->state != PS_PLAYING) continue;
        if (target_ns && now >= p->next_target) {
            send_target(b, p, now);
            p->next_target += target_ns;
            if (p->next_target < now) p->next_target = now + target_ns;
        }
        if (chat_ns && now >= p->next_chat && p->state == PS_PLAYING) {
            send_chat(b, p, now);
            p->next_chat += chat_ns;
            if (p->next_chat < now) p->next_chat = now + chat_ns;
        }
    }
}

/* ---------------------------------------------------------------- receiving */

static void on_chat(struct bench *b, struct player *p, const char *data, size_t len, uint64_t now)
{
    struct bench_chat_fields f;
    struct bench_results *r = b->r;
    if (bench_scan_chat(data, len, &f) != 0) {
        if (b->phase == PH_WINDOW) r->chats_unparsed++;
        return;
    }
    if (f.sender >= b->n_total) return;
    if (f.sender == p->index) r->chats_echoed++;
    const struct player *s = &b->players[f.sender];
    if (f.name_len != s->name_len || memcmp(f.name, s->name, f.name_len) != 0)
        r->chats_wrong_sender++;
    if (b->t_window && f.sent_ns >= b->t_window && f.sent_ns <= b->t_window_end &&
        p->t_play <= f.sent_ns && now >= f.sent_ns) {
        r->chats_delivered++;
        bench_hist_add(&r->chat_latency, (now - f.sent_ns) / 1000);
    }
}

/* How stale the position p was showing of actor id had become when a new one (x, y) arrived:
 * the time since the previous one, but only as long as the actor was walking (it walks at 70 px/s,
 * so it covered the distance in d / 70 s; a gap longer than that plus a tick is standing still,
 * which no update would have changed). Only in the window. */
static void note_staleness(struct bench *b, struct player *p, int64_t id, double x, double y,
                           uint64_t now)
{
    size_t i = 0;
    while (i < p->watched_len && p->watched[i].id != id)
        i++;
    if (i == p->watched_len) {
        if (p->watched_len == STALE_WATCH) return;
        p->watched[p->watched_len++] = (struct watched){id, now, x, y};
        return;
    }
    struct watched *w = &p->watched[i];
    if (b->phase == PH_WINDOW && (x != w->x || y != w->y)) {
        uint64_t gap_us = (now - w->t) / 1000;
        double walked_us = hypot(x - w->x, y - w->y) / WALK_PX_PER_S * 1e6 + 1e6 / 20;
        if ((double)gap_us > walked_us) gap_us = (uint64_t)walked_us;
        bench_hist_add(&b->r->staleness, gap_us);
    }
    *w = (struct watched){id, now, x, y};
}

/* A histogram value of a distance: tenths of a px (bench_report.h). */
static uint64_t px_tenths(double px)
{
    return (uint64_t)llround(px * BENCH_PX_UNITS);
}

/* What mover mi's observer's browser client draws of it at `now`, against where it was at the time
 * drawn (now minus the client's delay: the position error) and where it is now (the lag, the
 * delay included). Recorded in the window only, and only while the bench's copy of the client's
 * history reaches back to the time drawn: the client had history from before the bench picked
 * this observer, which the copy lacks. */
static void note_position_error(struct bench *b, uint32_t mi, uint64_t now)
{
    struct track *k = &b->tracks[mi];
    k->last_sample = now;
    k->catching_up = 0;
    if (!b->players[mi].obs_known) return;
    double t = run_ms(b, now), dx, dy, nx, ny, sx, sy;
    bench_interp_sample(&k->seen, t, &dx, &dy);
    if (bench_path_at(&k->path, t, &nx, &ny) != 0) return;
    double lag = hypot(dx - nx, dy - ny);
    k->catching_up = lag >= DRAWING_CAUGHT_UP_PX;
    if (b->phase != PH_WINDOW || !bench_interp_covers(&k->seen, t) ||
        bench_path_at(&k->path, t - bench_interp_delay_ms(&k->seen), &sx, &sy) != 0)
        return;
    bench_hist_add(&b->r->position_error, px_tenths(hypot(dx - sx, dy - sy)));
    bench_hist_add(&b->r->position_lag, px_tenths(lag));
}

/* Movers that stopped while their observer's drawing still walks toward them (for the delay, or
 * longer when a budget sends the last step late): sampled every tick until it has caught up. */
static void sample_catching_up(struct bench *b, uint64_t now)
{
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct track *k = &b->tracks[i];
        if (!k->catching_up || now - k->last_own < MOVER_STOPPED_NS ||
            now - k->last_sample < POSITION_SAMPLE_NS)
            continue;
        if (b->players[i].state != PS_PLAYING || now - k->last_own > CATCH_UP_LIMIT_NS)
            k->catching_up = 0;
        else
            note_position_error(b, i, now);
    }
}

/* One position of actor id at (x, y), from a delta or a Moves frame's record. */
static void on_move(struct bench *b, struct player *p, int64_t id, double x, double y,
                    uint64_t now);

/* Whether p measures anything with actor id's position: its own, an actor it observes (or may
 * start to), one it watches for staleness. Most legacy deltas are then only counted: reading
 * x and y of millions of them a second would make the benchmark the bottleneck. */
static int wants_position(struct bench *b, struct player *p, int64_t id)
{
    if (id == p->actor_id || p->watched_len < STALE_WATCH) return 1;
    for (size_t i = 0; i < p->watched_len; i++)
        if (p->watched[i].id == id) return 1;
    int32_t mi = actor_map_get(&b->actors, id);
    return mi >= 0 && (b->players[mi].observer < 0 || b->players[mi].observer == (int32_t)p->index);
}

static void on_delta(struct bench *b, struct player *p, const char *data, size_t len, uint64_t now)
{
    int64_t id;
    double x, y;
    if (bench_scan_delta_id(data, len, &id) != 0 || !wants_position(b, p, id)) return;
    if (bench_scan_delta_xy(data, len, &x, &y) != 0) return;
    on_move(b, p, id, x, y, now);
}

static void on_move(struct bench *b, struct player *p, int64_t id, double x, double y, uint64_t now)
{
    struct bench_results *r = b->r;
    if (id != p->actor_id) note_staleness(b, p, id, x, y, now);
    int32_t mi = actor_map_get(&b->actors, id);
    if (mi < 0) return;
    struct player *m = &b->players[mi];
    if (m == p) {
        if (p->mv_self_pending && p->pos_known &&
            step_points_at(p->x, p->y, x, y, p->mv_tx, p->mv_ty)) {
            bench_hist_add(&r->move_self_latency, (now - p->mv_sent) / 1000);
            p->mv_self_pending = 0;
        }
        p->x = x;
        p->y = y;
        p->pos_known = 1;
        if ((uint32_t)mi < b->n_players) {
            bench_path_add(&b->tracks[mi].path, x, y, run_ms(b, now));
            b->tracks[mi].last_own = now;
            note_position_error(b, (uint32_t)mi, now);
        }
        return;
    }
    if (m->observer < 0) {
        m->observer = (int32_t)p->index;
        m->obs_x = x;
        m->obs_y = y;
        m->obs_known = 1;
        /* The client starts drawing an actor at its first position; this is the bench's first. */
        if ((uint32_t)mi < b->n_players)
            bench_interp_init(&b->tracks[mi].seen, x, y, run_ms(b, now));
        return;
    }
    if (m->observer != (int32_t)p->index) return;
    if (m->mv_obs_pending && m->obs_known &&
        step_points_at(m->obs_x, m->obs_y, x, y, m->mv_tx, m->mv_ty)) {
        bench_hist_add(&r->move_observer_latency, (now - m->mv_sent) / 1000);
        int n = b->opts->n_ports;
        if (n > 1 && m->index % (uint32_t)n != p->index % (uint32_t)n)
            bench_hist_add(&r->move_observer_remote_latency, (now - m->mv_sent) / 1000);
        else if (n > 1)
            bench_hist_add(&r->move_observer_local_latency, (now - m->mv_sent) / 1000);
        m->mv_obs_pending = 0;
    }
    m->obs_x = x;
    m->obs_y = y;
    m->obs_known = 1;
    if ((uint32_t)mi < b->n_players) bench_interp_push(&b->tracks[mi].seen, x, y, run_ms(b, now));
}

/* The first ModelDelta after Ok: our own actor (docs/PROTOCOL.md, Login). */
static void on_own_model(struct bench *b, struct player *p, const char *data, size_t len,
                         uint64_t now)
{
    struct bench_results *r = b->r;
    int64_t id;
    char want[48];
    int n = snprintf(want, sizeof(want), "\"name\":\"%s\"", p->name);
    if (bench_scan_delta_id(data, len, &id) != 0 || n < 0 || !memmem(data, len, want, (size_t)n)) {
        r->own_model_wrong++;
        return; /* keep waiting: a later delta may be ours */
    }
    p->actor_id = id;
    actor_map_put(&b->actors, id, (int32_t)p->index);
    if (bench_scan_delta_xy(data, len, &p->x, &p->y) == 0) {
        p->pos_known = 1;
        if (!p->storm) bench_path_add(&b->tracks[p->index].path, p->x, p->y, run_ms(b, now));
    }
    if (!p->storm) bench_hist_add(&r->own_model_latency, (now - p->t_login) / 1000);
    p->state = PS_PLAYING;
    resolve(p);
}

static void record_deny(struct bench *b, const char *data, size_t len)
{
    const char *reason;
    size_t rlen;
    if (b->r->first_deny[0] || bench_scan_deny(data, len, &reason, &rlen) != 0) return;
    if (rlen >= sizeof(b->r->first_deny)) rlen = sizeof(b->r->first_deny) - 1;
    memcpy(b->r->first_deny, reason, rlen);
    b->r->first_deny[rlen] = '\0';
}

static void on_login_reply(struct bench *b, struct player *p, enum bench_packet kind,
                           const char *data, size_t len, uint64_t now)
{
    struct bench_results *r = b->r;
    b->inflight--;
    if (p->storm) {
        uint64_t total = now - p->t_start;
        bench_hist_add(&r->storm_login_latency, (now - p->t_login) / 1000);
        bench_hist_add(&r->storm_answer_latency, total / 1000);
        if (total <= STORM_ANSWER_LIMIT_NS) r->storm_within_30s++;
    }
    if (p->storm) resolve(p);
    if (kind == BENCH_PKT_DENY) {
        record_deny(b, data, len);
        if (p->storm)
            r->storm_denied++;
        else
            r->login_denied++;
        resolve(p);
        end_player(p);
        return;
    }
    if (p->storm)
        r->storm_ok++;
    else
        bench_hist_add(&r->login_latency, (now - p->t_login) / 1000);
    p->in_play = 1;
    p->t_play = now;
    b->n_in_play++;
    p->state = PS_WAIT_MODEL;
}

static void on_register_reply(struct bench *b, struct player *p, enum bench_packet kind,
                              const char *data, size_t len, uint64_t now)
{
    struct bench_results *r = b->r;
    if (kind == BENCH_PKT_DENY) {
        const char *reason;
        size_t rlen;
        static const char taken[] = "This username is already taken";
        if (bench_scan_deny(data, len, &reason, &rlen) != 0 || rlen != sizeof(taken) - 1 ||
            memcmp(reason, taken, rlen) != 0) {
            record_deny(b, data, len);
            r->login_denied++;
            b->inflight--;
            resolve(p);
            end_player(p);
            return;
        }
        r->already_registered++;
    } else {
        r->registered++;
        bench_hist_add(&r->register_latency, (now - p->t_request) / 1000);
    }
    if (b->opts->register_only) {
        b->inflight--;
        resolve(p);
        end_player(p);
        return;
    }
    send_login(p, now);
}

static void on_message(struct bench_conn *c, const char *data, size_t len, uint64_t now)
{
    struct player *p = c->user;
    struct bench *b = p->bench;
    struct bench_results *r = b->r;
    enum bench_packet kind = bench_scan_classify(data, len);
    if (b->phase == PH_WINDOW) {
        r->frames_in++;
        switch (kind) {
        case BENCH_PKT_DELTA:
            r->deltas_in++;
            p->deltas_in++;
            break;
        case BENCH_PKT_MOVES: {
            long n = bench_scan_moves(data, len);
            r->deltas_in += (uint64_t)n;
            p->deltas_in += (uint64_t)n;
            break;
        }
        case BENCH_PKT_CHAT:
            r->chats_in++;
            break;
        case BENCH_PKT_DISCONNECT:
            r->disconnects_in++;
            break;
        default:
            r->other_in++;
        }
    }
    switch (p->state) {
    case PS_REGISTERING:
        if (kind == BENCH_PKT_OK || kind == BENCH_PKT_DENY)
            on_register_reply(b, p, kind, data, len, now);
        return;
    case PS_LOGGING_IN:
        if (kind == BENCH_PKT_OK || kind == BENCH_PKT_DENY)
            on_login_reply(b, p, kind, data, len, now);
        return;
    case PS_WAIT_MODEL:
        if (kind == BENCH_PKT_DELTA) {
            on_own_model(b, p, data, len, now);
            return;
        }
        break;
    case PS_PLAYING:
        break;
    default:
        return;
    }
    if (kind == BENCH_PKT_CHAT) {
        on_chat(b, p, data, len, now);
    } else if (kind == BENCH_PKT_DELTA) {
        on_delta(b, p, data, len, now);
    } else if (kind == BENCH_PKT_MOVES) {
        long n = bench_scan_moves(data, len);
        for (long i = 0; i < n; i++) {
            int64_t id;
            double x, y;
            bench_scan_move_record(data, (size_t)i, &id, &x, &y);
            on_move(b, p, id, x, y, now);
        }
    } else if (kind == BENCH_PKT_DISCONNECT) {
        int64_t id;
        if (bench_scan_disconnect(data, len, &id) == 0) {
            /* Out of view is not stale: a watched actor that comes back starts afresh. */
            for (size_t i = 0; i < p->watched_len; i++)
                if (p->watched[i].id == id) {
                    p->watched[i] = p->watched[--p->watched_len];
                    break;
                }
            int32_t mi = actor_map_get(&b->actors, id);
            /* The observer lost sight of the mover: pick another on the next delta. */
            if (mi >= 0 && b->players[mi].observer == (int32_t)p->index) {
                b->players[mi].observer = -1;
                b->players[mi].obs_known = 0;
            }
        }
    }
}

static void on_open(struct bench_conn *c, uint64_t now)
{
    struct player *p = c->user;
    if (p->bench->opts->register_accounts && !p->storm)
        send_register(p, now);
    else
        send_login(p, now);
}

static void on_close(struct bench_conn *c, enum bench_conn_end why)
{
    struct player *p = c->user;
    struct bench *b = p->bench;
    struct bench_results *r = b->r;
    uint8_t was = p->state;
    p->state = PS_ENDED;
    if (b->phase == PH_DONE) return;
    if (p->in_play) {
        p->in_play = 0;
        b->n_in_play--;
        if (!p->closing) {
            if (b->phase == PH_WINDOW || b->phase == PH_DRAIN)
                r->dropped_window++;
            else
                r->dropped_ramp++;
            r->drop_reasons[why]++;
            progress(b, "player %s dropped (reason %d)", p->name, (int)why);
        }
        /* Movers this player observed need a new observer. */
        for (uint32_t i = 0; i < b->n_total; i++) {
            if (b->players[i].observer == (int32_t)p->index) {
                b->players[i].observer = -1;
                b->players[i].obs_known = 0;
            }
        }
    } else if (!p->closing && was >= PS_CONNECTING && was <= PS_LOGGING_IN) {
        b->inflight--;
        if (why == BENCH_CONN_END_SUBPROTOCOL) {
            /* Loud: measuring the legacy encoding under the name cmmo.v2 would mislead. */
            if (r->subprotocol_refused++ == 0)
                fprintf(
                    stderr, "cmmo-bench: %s: the server's 101 %s; counted as a connect failure\n",
                    p->name,
                    b->opts->compact ? "did not select the subprotocol " BENCH_WS_PROTOCOL_CMMO_V2
                                     : "selected a subprotocol although none was offered");
        }
        if (p->storm)
            r->storm_failed++;
        else if (why == BENCH_CONN_END_CONNECT || why == BENCH_CONN_END_HANDSHAKE ||
                 why == BENCH_CONN_END_SUBPROTOCOL)
            r->connect_failed++;
        else
            r->closed_before_play++;
    }
    resolve(p);
}

/* ---------------------------------------------------------------- phases */

static void start_player(struct bench *b, struct player *p, uint64_t now)
{
    p->t_start = now;
    p->state = PS_CONNECTING;
    b->inflight++;
    int rc = bench_conn_start(&b->nets[p->index % (uint32_t)b->opts->n_ports], &p->conn, p);
    if (rc != 0) {
        b->inflight--;
        p->state = PS_ENDED;
        if (p->storm)
            b->r->storm_failed++;
        else
            b->r->connect_failed++;
        resolve(p);
        progress(b, "connect %s: %s", p->name, uv_strerror(rc));
    }
}

static void check_timeouts(struct bench *b, uint64_t now)
{
    uint64_t limit = (uint64_t)(b->opts->login_timeout_s * NS_PER_S);
    for (uint32_t i = 0; i < b->n_total; i++) {
        struct player *p = &b->players[i];
        if (p->state < PS_CONNECTING || p->state > PS_WAIT_MODEL || now - p->t_start < limit)
            continue;
        if (p->storm)
            b->r->storm_unanswered++;
        else
            b->r->login_timeouts++;
        if (p->state != PS_WAIT_MODEL) b->inflight--;
        resolve(p);
        end_player(p);
    }
}

static void sample_server(struct bench *b, struct bench_proc_sample *s, uint64_t now)
{
    if (b->opts->server_pid > 0 && bench_proc_sample(b->opts->server_pid, now, s) == 0 &&
        s->rss_kb > b->r->server_rss_max_kb)
        b->r->server_rss_max_kb = s->rss_kb;
}

static void on_stats_reset(struct bench_http_request *req)
{
    struct bench *b = req->user;
    if (!req->result) progress(b, "GET /stats?reset=1 failed: tick figures cover the whole run");
    json_decref(req->result);
    req->result = NULL;
}

static void on_stats_end(struct bench_http_request *req)
{
    struct bench *b = req->user;
    if (!req->result) progress(b, "GET /stats failed: no tick figures for this run");
    b->r->stats_end = req->result; /* the results own it now */
    req->result = NULL;
}

static void open_window(struct bench *b)
{
    struct bench_results *r = b->r;
    /* The reset lands a few ms after the window opens: at most one tick of warm-up in the
     * server's figures, against a loop that never blocks. */
    if (bench_http_get_json_async(&b->loop, &b->stats_reset, b->opts->host, b->opts->port,
                                  "/stats?reset=1", on_stats_reset, b) != 0)
        progress(b, "cannot start GET /stats?reset=1");
    uint64_t now = uv_hrtime();
    b->t_window = now;
    b->t_window_end = now + (uint64_t)(b->opts->duration_s * NS_PER_S);
    b->t_storm = now + (uint64_t)(b->opts->storm_delay_s * NS_PER_S);
    b->next_sample = now + SAMPLE_PERIOD_NS;
    sample_server(b, &r->server_window_start, now);
    b->last_sample = r->server_window_start;
    bench_proc_sample(0, now, &r->self_window_start);
    bench_proc_cpus_sample(&r->cpus_window_start);
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct player *p = &b->players[i];
        p->in_window = p->state == PS_PLAYING;
        r->players_in_window += p->in_window;
        p->bytes_mark = p->conn.bytes_in;
        p->frames_mark = p->conn.frames_in;
        p->deltas_mark = p->deltas_in;
    }
    r->logged_in = b->n_in_play;
    b->phase = PH_WINDOW;
    progress(b, "window open: %u players in play, measuring %.0f s", b->n_in_play,
             b->opts->duration_s);
}

static void close_window(struct bench *b, uint64_t now)
{
    struct bench_results *r = b->r;
    sample_server(b, &r->server_window_end, now);
    bench_proc_sample(0, now, &r->self_window_end);
    bench_proc_cpus_sample(&r->cpus_window_end);
    r->server_cpu_percent = bench_proc_cpu_percent(&r->server_window_start, &r->server_window_end);
    if (bench_http_get_json_async(&b->loop, &b->stats_end, b->opts->host, b->opts->port, "/stats",
                                  on_stats_end, b) != 0)
        progress(b, "cannot start GET /stats");
    r->window_s = (double)(now - b->t_window) / NS_PER_S;
    uint64_t bytes = 0, frames = 0, deltas = 0;
    uint32_t counted = 0;
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct player *p = &b->players[i];
        if (!p->in_window || !p->in_play) continue;
        uint64_t pb = p->conn.bytes_in - p->bytes_mark;
        bytes += pb;
        frames += p->conn.frames_in - p->frames_mark;
        deltas += p->deltas_in - p->deltas_mark;
        counted++;
        double rate = (double)pb / r->window_s;
        if (rate > r->max_client_bytes_s) r->max_client_bytes_s = rate;
    }
    if (counted && r->window_s > 0) {
        r->bytes_per_client_s = (double)bytes / counted / r->window_s;
        r->frames_per_client_s = (double)frames / counted / r->window_s;
        r->deltas_per_client_s = (double)deltas / counted / r->window_s;
    }
    b->phase = PH_DRAIN;
    b->t_drain_end = now + (uint64_t)(b->opts->drain_s * NS_PER_S);
    progress(b, "window closed: %llu/%llu chats delivered so far; draining",
             (unsigned long long)r->chats_delivered, (unsigned long long)r->chats_expected);
}

static void finish(struct bench *b, const char *why)
{
    if (b->phase == PH_DONE) return;
    if (b->phase == PH_WINDOW) close_window(b, uv_hrtime());
    b->r->stop_reason = why;
    b->phase = PH_DONE;
    uv_timer_stop(&b->tick);
    uv_close((uv_handle_t *)&b->tick, NULL);
    uv_close((uv_handle_t *)&b->sigint, NULL);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
    for (uint32_t i = 0; i < b->n_total; i++) {
        struct player *p = &b->players[i];
        if (p->state != PS_NEW && p->state != PS_ENDED) end_player(p);
    }
}

static void start_playing(struct bench *b, uint64_t now)
{
    const struct bench_opts *o = b->opts;
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct player *p = &b->players[i];
        /* Random phases spread the sends evenly over each interval. */
        p->next_target = now + (uint64_t)(rand_unit(b) * o->target_interval_s * NS_PER_S);
        p->next_chat = now + (uint64_t)(rand_unit(b) * o->chat_interval_s * NS_PER_S);
    }
    b->phase = PH_WARMUP;
    b->t_warm_end = now + (uint64_t)(o->warmup_s * NS_PER_S);
}

/* Even grid over the world: one cell per player, as square as the world's shape allows. */
static void start_spread(struct bench *b, uint64_t now)
{
    const struct bench_opts *o = b->opts;
    uint32_t cols = (uint32_t)ceil(sqrt((double)b->n_players * o->world_w / o->world_h));
    if (cols < 1) cols = 1;
    uint32_t rows = (b->n_players + cols - 1) / cols;
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct player *p = &b->players[i];
        p->spread_x = round3((i % cols + 0.5) * o->world_w / cols);
        p->spread_y = round3((i / cols + 0.5) * o->world_h / rows);
        if (p->state == PS_PLAYING) send_target_to(p, p->spread_x, p->spread_y);
    }
    b->phase = PH_SPREAD;
    b->t_spread = now;
    progress(b, "spreading %u players over %gx%g (%ux%u grid)", b->n_players, o->world_w,
             o->world_h, cols, rows);
}

static uint32_t spread_unfinished(struct bench *b)
{
    uint32_t left = 0;
    for (uint32_t i = 0; i < b->n_players; i++) {
        struct player *p = &b->players[i];
        if (p->state == PS_PLAYING &&
            !(p->pos_known && fabs(p->x - p->spread_x) < SPREAD_ARRIVED_PX &&
              fabs(p->y - p->spread_y) < SPREAD_ARRIVED_PX))
            left++;
    }
    return left;
}

static void ramp(struct bench *b, uint64_t now)
{
    const struct bench_opts *o = b->opts;
    double elapsed = (double)(now - b->t_begin) / NS_PER_S;
    uint64_t allowed = (uint64_t)(o->rate * elapsed) + 1;
    while (b->started < b->n_players && b->started < allowed && b->inflight < o->max_inflight)
        start_player(b, &b->players[b->started++], now);

    int timed_out = elapsed > o->ramp_timeout_s;
    if (b->resolved < b->n_players && !timed_out) return;
    b->r->ramp_s = elapsed;
    progress(b, "ramp done in %.1f s: %u in play of %u%s", elapsed, b->n_in_play, b->n_players,
             timed_out ? " (ramp timeout)" : "");
    b->t_ramp = now;
    if (o->register_only) {
        finish(b, "completed");
        return;
    }
    if (b->n_in_play == 0) {
        finish(b, !b->r->subprotocol_refused ? "no player logged in"
                  : o->compact               ? "server did not select subprotocol cmmo.v2"
                                             : "server selected a subprotocol not offered");
        return;
    }
    if (o->spread)
        start_spread(b, now);
    else
        start_playing(b, now);
}

static void report_progress(struct bench *b, uint64_t now)
{
    if (now < b->next_progress) return;
    b->next_progress = now + PROGRESS_PERIOD_NS;
    static const char *names[] = {"ramp", "spread", "warmup", "window", "drain", "done"};
    struct bench_results *r = b->r;
    progress(b, "%s: %u/%u resolved, %u in play, %u inflight, chats %llu/%llu, drops %u",
             names[b->phase], b->resolved, b->n_players, b->n_in_play, b->inflight,
             (unsigned long long)r->chats_delivered, (unsigned long long)r->chats_expected,
             r->dropped_ramp + r->dropped_window);
}

static void on_tick(uv_timer_t *t)
{
    struct bench *b = t->data;
    const struct bench_opts *o = b->opts;
    struct bench_results *r = b->r;
    uint64_t now = uv_hrtime();
    if (b->phase == PH_WINDOW && b->last_tick) {
        uint64_t due = b->last_tick + TICK_MS * 1000000ull;
        bench_hist_add(&r->loop_lag, now > due ? (now - due) / 1000 : 0);
    }
    b->last_tick = now;
    if (now >= b->hard_deadline) {
        progress(b, "hard cap of %.0f s reached", o->max_runtime_s);
        finish(b, "max-runtime");
        return;
    }
    check_timeouts(b, now);
    report_progress(b, now);
    switch (b->phase) {
    case PH_RAMP:
        ramp(b, now);
        break;
    case PH_SPREAD: {
        uint32_t left = spread_unfinished(b);
        if (left == 0 || now - b->t_spread > (uint64_t)(o->spread_timeout_s * NS_PER_S)) {
            r->spread_s = (double)(now - b->t_spread) / NS_PER_S;
            r->spread_unfinished = left;
            progress(b, "spread done in %.1f s (%u not arrived)", r->spread_s, left);
            start_playing(b, now);
        }
        break;
    }
    case PH_WARMUP:
        if (b->n_in_play == 0) {
            progress(b, "every player was dropped before the window");
            finish(b, "all players dropped before the window");
            break;
        }
        play(b, now);
        if (now >= b->t_warm_end) open_window(b);
        break;
    case PH_WINDOW:
        /* Close first: a chat sent at or after the window's end would be expected but never
         * counted as delivered. */
        if (now >= b->t_window_end) {
            close_window(b, now);
            break;
        }
        play(b, now);
        sample_catching_up(b, now);
        if (!b->storm_started && b->n_total > b->n_players && now >= b->t_storm) {
            b->storm_started = 1;
            progress(b, "storm: %u logins at once", b->n_total - b->n_players);
            for (uint32_t i = b->n_players; i < b->n_total; i++) {
                start_player(b, &b->players[i], now);
                r->storm_started++;
            }
        }
        if (now >= b->next_sample) {
            struct bench_proc_sample s;
            sample_server(b, &s, now);
            double cpu = bench_proc_cpu_percent(&b->last_sample, &s);
            if (cpu > r->server_cpu_peak_1s) r->server_cpu_peak_1s = cpu;
            b->last_sample = s;
            b->next_sample = now + SAMPLE_PERIOD_NS;
        }
        break;
    case PH_DRAIN: {
        int chats_done = r->chats_delivered >= r->chats_expected;
        int storm_done = b->storm_resolved >= r->storm_started;
        if ((chats_done && storm_done) || now >= b->t_drain_end) {
            /* The storm's logins may take longer than the drain: they are what it measures. */
            if (!storm_done && now < b->t_window_end + (uint64_t)(o->login_timeout_s * NS_PER_S) +
                                         (uint64_t)(o->storm_delay_s * NS_PER_S))
                break;
            finish(b, "completed");
        }
        break;
    }
    case PH_DONE:
        break;
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct bench *b = s->data;
    progress(b, "signal %d: stopping", signum);
    finish(b, "interrupted");
}

/* ---------------------------------------------------------------- entry */

int bench_run(const struct bench_opts *o, struct bench_results *r)
{
    struct bench b;
    memset(&b, 0, sizeof(b));
    memset(r, 0, sizeof(*r));
    r->opts = o;
    r->stop_reason = "not started";
    b.opts = o;
    b.r = r;
    b.rng = o->seed * 6364136223846793005ull + 1442695040888963407ull;
    if (b.rng == 0) b.rng = 1;
    b.n_players = o->players;
    b.n_total = o->players + o->storm;
    b.players = calloc(b.n_total, sizeof(*b.players));
    b.tracks = calloc(b.n_players, sizeof(*b.tracks));
    if (!b.players || !b.tracks || actor_map_init(&b.actors, b.n_total) != 0) {
        fprintf(stderr, "cmmo-bench: out of memory for %u players\n", b.n_total);
        return -1;
    }
    for (uint32_t i = 0; i < b.n_total; i++) {
        struct player *p = &b.players[i];
        p->bench = &b;
        p->index = i;
        p->storm = i >= b.n_players;
        p->observer = -1;
        p->actor_id = -1;
        int n = snprintf(p->name, sizeof(p->name), "b%s%u", o->prefix, o->first_index + i);
        p->name_len = (uint8_t)n;
    }
    if (uv_loop_init(&b.loop) != 0) {
        fprintf(stderr, "cmmo-bench: cannot set up the event loop\n");
        return -1;
    }
    for (int i = 0; i < o->n_ports; i++) {
        struct bench_net *net = &b.nets[i];
        if (bench_net_init(net, &b.loop, o->host, o->ports[i],
                           o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1))) != 0) {
            fprintf(stderr, "cmmo-bench: cannot set up the event loop\n");
            return -1;
        }
        net->protocol = o->compact ? BENCH_WS_PROTOCOL_CMMO_V2 : NULL;
        net->on_open = on_open;
        net->on_message = on_message;
        net->on_close = on_close;
    }

    b.t_begin = uv_hrtime();
    b.hard_deadline = b.t_begin + (uint64_t)(o->max_runtime_s * NS_PER_S);
    b.next_progress = b.t_begin + PROGRESS_PERIOD_NS;
    if (o->server_pid > 0) {
        r->server_sampled = bench_proc_sample(o->server_pid, b.t_begin, &r->server_idle) == 0;
        if (!r->server_sampled)
            fprintf(stderr, "cmmo-bench: cannot read /proc/%d: no server CPU/RSS figures\n",
                    (int)o->server_pid);
        else
            r->server_rss_max_kb = r->server_idle.rss_kb;
    }

    uv_timer_init(&b.loop, &b.tick);
    b.tick.data = &b;
    uv_timer_start(&b.tick, on_tick, 0, TICK_MS);
    uv_signal_init(&b.loop, &b.sigint);
    uv_signal_init(&b.loop, &b.sigterm);
    b.sigint.data = b.sigterm.data = &b;
    uv_signal_start(&b.sigint, on_signal, SIGINT);
    uv_signal_start(&b.sigterm, on_signal, SIGTERM);

    progress(&b, "%u players (+%u storm) against %s:%d, accounts b%s%u..", b.n_players, o->storm,
             o->host, o->port, o->prefix, o->first_index);
    uv_run(&b.loop, UV_RUN_DEFAULT);

    for (int i = 0; i < o->n_ports; i++)
        bench_net_free(&b.nets[i]);
    uv_loop_close(&b.loop);
    free(b.actors.keys);
    free(b.actors.values);
    free(b.players);
    free(b.tracks);
    return 0;
}
