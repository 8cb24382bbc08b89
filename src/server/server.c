#include "server/server.h"

#include "cluster/cluster.h"
#include "core/log.h"
#include "core/workpool_loop.h"
#include "game/auth.h"
#include "game/game.h"
#include "game/session.h"
#include "net/http.h"
#include "net/net.h"
#include "net/ws.h"
#include "proto/packet.h"
#include "script/script.h"
#include "server/admin.h"
#include "server/metrics.h"
#include "server/net_outbox.h"
#include "server/tickstats.h"
#include "server/version.h"
#include "store/store_loop.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

/* Between ticks a chat line goes out in the loop pass that read it, but a flush writes to every
 * connection the line reached (all of them: chat is global), so flushes between ticks are
 * budgeted by --chat-share: after one that took t, the next waits t / share, so the flushes use at
 * most that share of the core however fast lines arrive, on whatever machine (a fixed gap of 10 us
 * per connection took the crowded run of 500 from 25% to 60% of a core on an AMD EPYC). And never
 * less than 10 us per connection apart, nor more than a tick (then the tick's own flush carries
 * the line, as before). Lines that arrive meanwhile share the next flush. */
#define CHAT_FLUSH_GAP_NS_PER_CONN 10000
/* --chat-share auto: this share up to CHAT_FLUSH_AUTO_MAX_CONNS connections, none above, where a
 * line waits for the tick's flush as every packet did before. Above it the early flushes cost
 * more than the crowd gains from them: on an AMD EPYC, the crowded cmmo.v2 run of 500 used 26-28%
 * of a core with 5% flushes against 20-21% without, for a chat p50 of 19-20 ms instead of 32-35 ms
 * (and 36% for 9 ms at 25%), in one sitting; the operator who wants it buys it with the option. */
#define CHAT_FLUSH_AUTO_SHARE 5
#define CHAT_FLUSH_AUTO_MAX_CONNS 256
/* Positions are written behind at most this often (and on leave and shutdown). */
#define SAVE_INTERVAL_MS 1000
/* Password hashing threads: two keep logins flowing while leaving a core for the tick. */
#define AUTH_THREADS 2
/* How long a shutdown waits for close frames and pending checks before it stops anyway. */
#define SHUTDOWN_GRACE_MS 5000
/* If the loop falls this many ticks behind, it skips ahead instead of running a burst. */
#define TICK_MAX_BEHIND 5

typedef struct server {
    const config *config;
    uv_loop_t loop;
    uv_timer_t tick_timer;
    /* After each I/O phase: sends what the game pushed outside the tick (game_pushed), or arms
     * chat_timer when a chat flush went out less than chat_flush_gap ago. */
    uv_check_t flush_check;
    uv_timer_t chat_timer;
    int game_pushed;          /* a chat line was pushed (net_outbox_marking) since the last flush */
    int chat_timer_armed;     /* chat_timer runs */
    uint64_t last_chat_flush; /* uv_hrtime of the last flush between ticks */
    uint64_t chat_flush_cost; /* how long it took (ns) */
    uv_signal_t sigint, sigterm, sighup;
    net *net;
    admin *admin; /* the operator socket, or NULL without --admin-socket */
    game *game;
    cluster *cluster; /* NULL without --redis */
    script *script;   /* NULL without --script */
    store *store;
    auth *auth;
    uint64_t tick_period_ns;
    uint64_t next_tick_ns;
    uint64_t ticks;
    size_t trimmed_players; /* players in the world at the last malloc_trim */
    uint64_t shutdown_started_ms;
    uint64_t drain_ends_ms; /* while draining: when the shutdown starts */
    int draining;           /* signalled, drain window open: logins refused, /healthz 503 */
    int shutting_down;
    tickstats stats;    /* since the last /stats?reset=1 */
    tickstats lifetime; /* since start, for /metrics */
} server;

/* ---------------------------------------------------------------- net -> game */

static void *on_open(void *ctx, net_conn *conn)
{
    server *s = ctx;
    if (s->shutting_down) return NULL;
    session *gs = game_session_open(s->game, conn, net_conn_peer(conn));
    if (gs && net_conn_v2(conn)) game_session_set_v2(gs);
    return gs;
}

static int on_message(void *ctx, void *owner, const uint8_t *data, size_t len)
{
    server *s = ctx;
    return game_session_message(s->game, owner, data, len) ? NET_PAUSE : NET_CONTINUE;
}

static void on_close(void *ctx, void *owner)
{
    server *s = ctx;
    game_session_closed(s->game, owner);
}

static rcbuf *on_http(void *ctx, const char *path, int reset, int keep_alive)
{
    server *s = ctx;
    if (strcmp(path, "/metrics") == 0) {
        metrics_snapshot m = {net_connection_count(s->net), game_player_count(s->game),
                              net_get_stats(s->net), game_get_counters(s->game), &s->lifetime};
        return metrics_response(&m, keep_alive);
    }
    if (strcmp(path, "/healthz") == 0) {
        /* Load balancers: 200 while serving; 503 from the signal on (the drain window exists so
         * that they see it while players still play) so that traffic moves away. */
        return s->draining || s->shutting_down ? http_response_text(503, "shutting down\n", 0)
                                               : http_response_text(200, "ok\n", keep_alive);
    }
    if (strcmp(path, "/stats") != 0) return NULL;
    /* The reset opens cmmo-bench's measuring window; anyone else could use it to hide slow ticks
     * from the operator's figures. The bench runs on the server's machine and connects over
     * loopback (it refuses other hosts), so only such a direct peer may reset. */
    if (reset == NET_RESET_OTHER)
        return http_response_text(403, "stats reset is only allowed from this machine\n", 0);
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"connections\":%zu,\"players\":%zu,\"ticks\":%llu,"
                     "\"tick_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
                     net_connection_count(s->net), game_player_count(s->game),
                     (unsigned long long)s->stats.count, tickstats_quantile_ms(&s->stats, 0.50),
                     tickstats_quantile_ms(&s->stats, 0.99), (double)s->stats.max_ns / 1e6);
    if (reset == NET_RESET_LOCAL) tickstats_reset(&s->stats);
    return http_response(200, "application/json", body, (size_t)n, keep_alive, 0);
}

/* ---------------------------------------------------------------- tick */

static void finish_shutdown(server *s)
{
    net_abort_all(s->net); /* whoever has not finished closing by now is cut */
    uv_timer_stop(&s->tick_timer);
    uv_close((uv_handle_t *)&s->tick_timer, NULL);
    uv_check_stop(&s->flush_check);
    uv_close((uv_handle_t *)&s->flush_check, NULL);
    uv_timer_stop(&s->chat_timer);
    uv_close((uv_handle_t *)&s->chat_timer, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    /* The worker pools' wake-up handles stay active until they are destroyed after the loop. */
    uv_stop(&s->loop);
}

/* The shutdown proper: tell players, close every connection with 1001; the tick then waits for
 * the close frames and pending checks (SHUTDOWN_GRACE_MS at most) and stops the loop. */
static void begin_shutdown(server *s, const char *why)
{
    if (s->shutting_down) return;
    log_info("shutdown_started", "cause=%s", why);
    s->draining = 0;
    s->shutting_down = 1;
    s->shutdown_started_ms = uv_now(&s->loop);
    /* Players hear it first: the line goes out with the close frames in the same write. */
    game_broadcast(s->game, "The server is shutting down. Your position is saved.");
    net_shutdown(s->net, WS_CLOSE_GOING_AWAY, "server shutting down");
}

/* The game's one clock (game_clock): libuv's monotonic high-resolution time, the clock the tick
 * schedule runs on, in microseconds. */
static uint64_t game_clock_now_us(void *ctx)
{
    return uv_hrtime() / 1000;
}

static void run_tick(server *s)
{
    uint64_t start = uv_hrtime();
    game_tick(s->game);
    if (s->cluster) cluster_tick(s->cluster, uv_now(&s->loop));
    net_flush(s->net);
    s->game_pushed = 0;
    s->ticks++;
    uint64_t hz = (uint64_t)s->config->tick_hz;
    size_t players = game_player_count(s->game);
    if ((s->ticks % hz == 0 && players != s->trimmed_players) || s->ticks % (10 * hz) == 0) {
        /* Give freed heap pages back to the system: joins and bursts leave free memory in the
         * middle of the heap that glibc would otherwise keep resident (the trim threshold, see
         * server_run, keeps it from trimming after every tick). Once a second while players come
         * and go, so that a login wave's garbage is gone a second after it; every 10 s in a
         * steady world, because a trim also releases the pages the next ticks' output batches
         * reuse, and faulting them back in made every 20th tick a slow one. */
        malloc_trim(0);
        s->trimmed_players = players;
    }
    uint64_t took = uv_hrtime() - start;
    tickstats_add(&s->stats, took);
    tickstats_add(&s->lifetime, took);
}

/* Ticks are scheduled against absolute times (start + k * period): a repeating libuv timer
 * would drift by however long each tick and each loop iteration took. */
static void on_tick_timer(uv_timer_t *t)
{
    server *s = t->data;
    uint64_t now = uv_hrtime();
    if (now >= s->next_tick_ns) {
        run_tick(s);
        s->next_tick_ns += s->tick_period_ns;
        now = uv_hrtime();
        if (now > s->next_tick_ns + TICK_MAX_BEHIND * s->tick_period_ns) {
            log_warn("tick_behind", "skipped_ms=%llu",
                     (unsigned long long)((now - s->next_tick_ns) / 1000000));
            s->next_tick_ns = now + s->tick_period_ns;
        }
    }
    if (s->draining && uv_now(&s->loop) >= s->drain_ends_ms) begin_shutdown(s, "drained");
    if (s->shutting_down) {
        uint64_t elapsed = uv_now(&s->loop) - s->shutdown_started_ms;
        if ((net_is_idle(s->net) && game_idle(s->game)) || elapsed > SHUTDOWN_GRACE_MS) {
            finish_shutdown(s);
            return;
        }
    }
    now = uv_hrtime();
    uint64_t wait_ns = s->next_tick_ns > now ? s->next_tick_ns - now : 0;
    uv_timer_start(&s->tick_timer, on_tick_timer, (wait_ns + 999999) / 1000000, 0);
}

/* Runs once per loop iteration, right after the I/O callbacks: a chat line read in this iteration
 * (relayed by the game as it was read, or arriving from another node) goes out now instead of
 * with the next tick, together with whatever else is queued for its recipients. Only when a
 * chat line was pushed: a ping read alone still waits for the tick's flush, so a ping flood
 * never costs a write per read. */
static void chat_flush(server *s)
{
    s->game_pushed = 0;
    uint64_t t0 = uv_hrtime();
    net_flush(s->net);
    s->last_chat_flush = uv_hrtime();
    s->chat_flush_cost = s->last_chat_flush - t0;
}

static void on_chat_timer(uv_timer_t *t)
{
    server *s = t->data;
    s->chat_timer_armed = 0;
    if (s->game_pushed) chat_flush(s); /* else the tick's flush took them */
}

static void on_flush_check(uv_check_t *h)
{
    server *s = h->data;
    if (!s->game_pushed || s->chat_timer_armed) return;
    size_t conns = net_connection_count(s->net);
    int share = s->config->chat_share;
    if (share == CONFIG_CHAT_SHARE_AUTO)
        share = conns > CHAT_FLUSH_AUTO_MAX_CONNS ? 0 : CHAT_FLUSH_AUTO_SHARE;
    if (share <= 0) return; /* the tick's flush takes it */
    uint64_t gap = (uint64_t)conns * CHAT_FLUSH_GAP_NS_PER_CONN;
    uint64_t budget = (uint64_t)((double)s->chat_flush_cost * 100.0 / share);
    uint64_t tick = 1000000000ull / (uint64_t)s->config->tick_hz;
    if (gap < budget) gap = budget;
    if (gap > tick) gap = tick;
    uint64_t since = uv_hrtime() - s->last_chat_flush;
    if (since >= gap) {
        chat_flush(s);
        return;
    }
    s->chat_timer_armed = 1;
    uv_timer_start(&s->chat_timer, on_chat_timer, (gap - since + 999999) / 1000000, 0);
}

static void on_sighup(uv_signal_t *sig, int signum)
{
    server *s = sig->data;
    int logs = log_reopen(), tls = net_reload_tls(s->net);
    /* The script last: a failed reload keeps the old one (script/script.h). */
    int reload = s->script ? script_load(s->script, s->config->script) : 0;
    log_info("reloaded", "logs=%s tls=%s script=%s", logs ? "failed" : "ok", tls ? "failed" : "ok",
             !s->script ? "none"
             : reload   ? "failed"
                        : "ok");
}

static void script_store_loaded(void *user, int result)
{
    *(int *)user = result == 0 ? 1 : -1;
}

/* Starts the script of --script: cmmo.store's values are read first (the loop runs until they
 * are: the port accepts nobody yet), then the file runs. Returns 0, or -1 (logged). */
static int start_script(server *s)
{
    s->script = script_create(s->game, s->store);
    if (!s->script) return -1;
    int loaded = 0;
    if (script_store_load(s->script, script_store_loaded, &loaded) != 0) return -1;
    while (loaded == 0)
        uv_run(&s->loop, UV_RUN_ONCE);
    if (loaded < 0) return -1;
    return script_load(s->script, s->config->script) == 0 ? 0 : -1;
}

/* SIGTERM/SIGINT. With a drain window, the first signal opens it: /healthz turns 503 so that a
 * load balancer sends new players elsewhere, new logins get a Deny the client shows, and the
 * players in the world play on until it ends. A second signal ends it at once. */
static void on_signal(uv_signal_t *sig, int signum)
{
    server *s = sig->data;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (s->shutting_down) return;
    if (s->draining || s->config->drain_seconds == 0) {
        begin_shutdown(s, name);
        return;
    }
    log_info("drain_started", "signal=%s seconds=%d players=%zu", name, s->config->drain_seconds,
             game_player_count(s->game));
    s->draining = 1;
    s->drain_ends_ms = uv_now(&s->loop) + (uint64_t)s->config->drain_seconds * 1000;
    game_refuse_logins(s->game, "The server is shutting down, try again in a moment");
}

/* ---------------------------------------------------------------- run */

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int server_run(const config *c)
{
    server *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->config = c;
    int code = 1;
    const char *stage = "store"; /* what was being opened, for the startup_failed line */
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    /* A fixed mmap threshold: argon2id's 12 MiB blocks are then always mapped and returned to
     * the system when freed. With glibc's adaptive threshold they would move into the hashing
     * threads' heaps after the first free and stay resident for good. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    /* Each tick allocates every connection's output batch (net) and frees it once written:
     * tens of MB at thousands of players. glibc's default would give the top of the heap back
     * after every tick and take page faults to get it again the next (11% of the server in perf
     * at 5,000 players). Memory is returned by run_tick's malloc_trim instead. */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    uv_loop_init(&s->loop);
    struct stat web;
    if (stat(c->web_root, &web) != 0 || !S_ISDIR(web.st_mode))
        log_warn("web_root_missing", "path=%s effect=\"every page answers 404; the game works\"",
                 c->web_root);

    s->store = store_open(&s->loop, c->db);
    if (!s->store) goto out;
    stage = "auth";
    s->auth = auth_create(workpool_create(&s->loop, AUTH_THREADS, 1, "auth"));
    if (!s->auth) goto out;
    stage = "game";
    game_config gc = {
        .world_width = c->world_width,
        .world_height = c->world_height,
        .view_radius = c->view_radius,
        .v2_budget = (double)c->v2_budget_kib * 1024.0,
        .tick_hz = c->tick_hz,
        .save_interval_ms = SAVE_INTERVAL_MS,
        .resume_ttl_s = c->resume_ttl_s,
    };
    game_outbox outbox = net_outbox_marking(&s->game_pushed);
    game_clock clock = {game_clock_now_us, NULL};
    s->game = game_create(&clock, &gc, &outbox, s->store, s->auth);
    if (!s->game) goto out;
    net_config nc = {
        .host = c->host,
        .port = c->port,
        .web_root = c->web_root,
        .max_message = PACKET_MAX_BYTES,
        .tls_cert = c->tls_cert[0] ? c->tls_cert : NULL,
        .tls_key = c->tls_key[0] ? c->tls_key : NULL,
        .allowed_origins = c->allowed_origins,
    };
    net_handlers nh = {s, on_open, on_message, on_close, on_http};
    stage = "port";
    s->net = net_create(&s->loop, &nc, &nh);
    if (!s->net) goto out;
    stage = "admin_socket";
    if (c->admin_socket[0]) {
        s->admin = admin_start(&s->loop, c->admin_socket, s->game);
        if (!s->admin) goto out;
    }
    stage = "redis";
    if (c->redis[0]) {
        char node_id[CLUSTER_NODE_ID_MAX + 1], host[CLUSTER_NODE_ID_MAX - 6] = "node", tag[64];
        if (c->node_id[0]) {
            snprintf(node_id, sizeof node_id, "%.64s", c->node_id);
        } else {
            gethostname(host, sizeof host - 1);
            host[sizeof host - 1] = 0;
            for (char *p = host; *p; p++)
                if (!cluster_node_id_valid((char[]){*p, 0})) *p = '-';
            snprintf(node_id, sizeof node_id, "%.50s:%d", host, net_port(s->net));
        }
        snprintf(tag, sizeof tag, "%.0fx%.0fr%.0f", c->world_width, c->world_height,
                 c->view_radius);
        cluster_config cc = {.url = c->redis, .node_id = node_id, .world_tag = tag};
        s->cluster = cluster_start(&s->loop, &cc, s->game);
        if (!s->cluster) goto out;
    }
    stage = "script";
    if (c->script[0] && start_script(s) != 0) goto out;
    /* Everything is open: only now does the port accept anyone. Before, a connection is
     * refused, so a start that fails above never answered a player or a health check. */
    stage = "listen";
    if (net_listen(s->net) != 0) goto out;

    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_init(&s->loop, &s->sighup);
    s->sighup.data = s;
    uv_signal_start(&s->sighup, on_sighup, SIGHUP);
    uv_timer_init(&s->loop, &s->tick_timer);
    s->tick_timer.data = s;
    s->tick_period_ns = 1000000000ull / (uint64_t)c->tick_hz;
    s->next_tick_ns = uv_hrtime() + s->tick_period_ns;
    uv_timer_start(&s->tick_timer, on_tick_timer, s->tick_period_ns / 1000000, 0);
    uv_check_init(&s->loop, &s->flush_check);
    s->flush_check.data = s;
    uv_check_start(&s->flush_check, on_flush_check);
    uv_timer_init(&s->loop, &s->chat_timer);
    s->chat_timer.data = s;
    tickstats_reset(&s->stats);
    tickstats_reset(&s->lifetime);

    char db_shown[512];
    store_url_redact(c->db, db_shown, sizeof db_shown);
    /* The version and commit are quoted: a commit of digits only would be a number in JSON. */
    log_info("listening",
             "tls=%s host=%s port=%d db=%s web_root=%s tick_hz=%d world=%.0fx%.0f view_radius=%.0f "
             "version=\"%s\" commit=\"%s\"",
             c->tls_cert[0] ? "on" : "off", c->host, net_port(s->net), db_shown, c->web_root,
             c->tick_hz, c->world_width, c->world_height, c->view_radius, version_number(),
             version_commit());
    log_set_errors_to_stderr(0); /* started: from now on the log file is the one place */
    uv_run(&s->loop, UV_RUN_DEFAULT);

    /* Stopped: every position is saved, pending checks answered, the store drained. */
    game_save_all(s->game);
    code = 0;
out:
    admin_stop(s->admin); /* first: it calls into the game; its handles close in the run below */
    /* Before the store closes: cmmo.store's last values are written with everything else. */
    script_destroy(s->script);
    /* Order matters: auth callbacks refer to sessions and may submit store requests; store
     * callbacks refer to the game. */
    if (s->auth) auth_destroy(s->auth);
    if (s->store) store_close(s->store);
    /* After the store: every position is committed before the claims are released. */
    cluster_stop(s->cluster);
    if (s->game) game_destroy(s->game);
    /* After a failed start the port is still bound and its timer open: close them (a no-op after
     * a clean shutdown), let the loop finish every closed handle, and only then free the net. */
    if (s->net) net_shutdown(s->net, WS_CLOSE_GOING_AWAY, "server shutting down");
    uv_run(&s->loop, UV_RUN_DEFAULT); /* let closed handles finish */
    net_destroy(s->net);
    if (uv_loop_close(&s->loop) != 0) log_warn("loop_not_closed", "reason=handles_open");
    if (code == 0)
        log_info("shutdown_complete", "ticks=%llu", (unsigned long long)s->ticks);
    else
        log_error("startup_failed", "stage=%s exit=1", stage); /* the reason is logged above */
    free(s);
    return code;
}
