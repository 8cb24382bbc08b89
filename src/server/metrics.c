#include "server/metrics.h"

#include "net/http.h"
#include "server/version.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The page being written: once it overflows, every later write is dropped and the render
 * reports failure (a cut page would read as counters that went backwards). */
typedef struct page {
    char *buf;
    size_t cap, len;
    int overflow;
} page;

static void put(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(page *p, const char *fmt, ...)
{
    if (p->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= p->cap - p->len) {
        p->overflow = 1;
        return;
    }
    p->len += (size_t)n;
}

/* A family's HELP and TYPE lines, which come once, before its samples. */
static void family(page *p, const char *name, const char *type, const char *help)
{
    put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(page *p, const char *name, const char *help, unsigned long long value)
{
    family(p, name, "gauge", help);
    put(p, "%s %llu\n", name, value);
}

static void counter(page *p, const char *name, const char *help, unsigned long long value)
{
    family(p, name, "counter", help);
    put(p, "%s %llu\n", name, value);
}

/* A label value between its quotes: backslash, double quote and newline are escaped. */
static void put_label_value(page *p, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(p, "\\%c", *v);
        else if (*v == '\n')
            put(p, "\\n");
        else
            put(p, "%c", *v);
    }
}

/* The usual constant-1 gauge whose labels say which build this is, for joins in queries. */
static void build_metrics(page *p)
{
    family(p, "cmmo_build_info", "gauge", "The version and git commit of this server; always 1.");
    put(p, "cmmo_build_info{version=\"");
    put_label_value(p, version_number());
    put(p, "\",commit=\"");
    put_label_value(p, version_commit());
    put(p, "\"} 1\n");
}

static void net_metrics(page *p, const metrics_snapshot *m)
{
    const net_stats *ns = m->net;
    gauge(p, "cmmo_connections", "Open TCP connections (HTTP and WebSocket).", m->connections);
    gauge(p, "cmmo_websockets", "Open WebSocket connections.", ns->websockets);
    gauge(p, "cmmo_players", "Players in the world.", m->players);
    counter(p, "cmmo_connections_accepted_total", "TCP connections accepted.", ns->accepted);
    counter(p, "cmmo_connections_refused_total", "TCP connections refused by the caps.",
            ns->refused);
    counter(p, "cmmo_network_bytes_in_total", "Bytes read from sockets.", ns->bytes_in);
    counter(p, "cmmo_network_bytes_out_total", "Bytes written to sockets.", ns->bytes_out);
    counter(p, "cmmo_socket_writes_total", "Socket writes (at most one per connection per tick).",
            ns->writes);
    counter(p, "cmmo_outbound_dropped_total",
            "Connections dropped because their unsent output passed the bound.", ns->slow_dropped);
    counter(p, "cmmo_dead_dropped_total", "Connections dropped after the ping timeout.",
            ns->dead_dropped);
    counter(p, "cmmo_protocol_closes_total", "Connections closed for an RFC 6455 violation.",
            ns->protocol_closes);
}

static void game_metrics(page *p, const metrics_snapshot *m)
{
    const game_counters *gc = m->game;
    static const char *dirs[2] = {"in", "out"};
    for (int d = 0; d < 2; d++) {
        put(p, "# HELP cmmo_packets_%s_total Game packets %s, by action.\n", dirs[d],
            d ? "sent (per recipient)" : "received");
        put(p, "# TYPE cmmo_packets_%s_total counter\n", dirs[d]);
        for (int a = 0; a < GAME_ACTION_SLOTS; a++)
            put(p, "cmmo_packets_%s_total{action=\"%s\"} %llu\n", dirs[d], game_action_label(a),
                (unsigned long long)(d ? gc->packets_out[a] : gc->packets_in[a]));
        put(p, "# HELP cmmo_packet_bytes_%s_total Game packet bytes %s, by action.\n", dirs[d],
            d ? "sent (frames, per recipient)" : "received");
        put(p, "# TYPE cmmo_packet_bytes_%s_total counter\n", dirs[d]);
        for (int a = 0; a < GAME_ACTION_SLOTS; a++)
            put(p, "cmmo_packet_bytes_%s_total{action=\"%s\"} %llu\n", dirs[d],
                game_action_label(a), (unsigned long long)(d ? gc->bytes_out[a] : gc->bytes_in[a]));
    }
    put(p,
        "# HELP cmmo_logins_total Login attempts by result.\n"
        "# TYPE cmmo_logins_total counter\n"
        "cmmo_logins_total{result=\"ok\"} %llu\n"
        "cmmo_logins_total{result=\"failed\"} %llu\n"
        "cmmo_logins_total{result=\"throttled\"} %llu\n",
        (unsigned long long)gc->logins_ok, (unsigned long long)gc->logins_failed,
        (unsigned long long)gc->logins_throttled);
    counter(p, "cmmo_registrations_total", "Accounts created.", gc->registrations);
    put(p,
        "# HELP cmmo_rate_limited_total Messages dropped by the flood limits.\n"
        "# TYPE cmmo_rate_limited_total counter\n"
        "cmmo_rate_limited_total{kind=\"message\"} %llu\n"
        "cmmo_rate_limited_total{kind=\"chat\"} %llu\n",
        (unsigned long long)gc->rate_limited_messages, (unsigned long long)gc->rate_limited_chats);
    counter(p, "cmmo_flood_closes_total", "Connections closed with 1008 for flooding.",
            gc->flood_closes);
    counter(p, "cmmo_store_batches_total", "Position batches written to the store.",
            gc->save_batches);
    counter(p, "cmmo_store_positions_total", "Positions written to the store.",
            gc->positions_saved);
    counter(p, "cmmo_store_failures_total", "Failed store writes.", gc->save_failures);
    put(p,
        "# HELP cmmo_store_batch_seconds Time from submitting a position batch to its "
        "commit.\n# TYPE cmmo_store_batch_seconds summary\n"
        "cmmo_store_batch_seconds_sum %.6f\ncmmo_store_batch_seconds_count %llu\n",
        (double)gc->save_latency_us_total / 1e6, (unsigned long long)gc->save_batches_done);
}

static void tick_metrics(page *p, const metrics_snapshot *m)
{
    static const double les[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25};
    const tickstats *t = m->ticks;
    family(p, "cmmo_tick_duration_seconds", "histogram", "Time spent in each tick.");
    for (size_t i = 0; i < sizeof les / sizeof les[0]; i++)
        put(p, "cmmo_tick_duration_seconds_bucket{le=\"%g\"} %llu\n", les[i],
            (unsigned long long)tickstats_count_upto(t, (uint64_t)(les[i] * 1e9 + 0.5)));
    put(p,
        "cmmo_tick_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
        "cmmo_tick_duration_seconds_sum %.6f\ncmmo_tick_duration_seconds_count %llu\n",
        (unsigned long long)t->count, (double)t->sum_ns / 1e9, (unsigned long long)t->count);
}

int metrics_render(const metrics_snapshot *m, char *buf, size_t cap)
{
    if (cap == 0) return -1;
    page p = {buf, cap, 0, 0};
    buf[0] = 0;
    build_metrics(&p);
    net_metrics(&p, m);
    game_metrics(&p, m);
    tick_metrics(&p, m);
    return p.overflow ? -1 : (int)p.len;
}

rcbuf *metrics_response(const metrics_snapshot *m, int keep_alive)
{
    char *buf = malloc(METRICS_PAGE_MAX);
    if (!buf) return NULL;
    int n = metrics_render(m, buf, METRICS_PAGE_MAX);
    rcbuf *r = n < 0 ? http_response_text(500, "metrics page too large\n", 0)
                     : http_response(200, "text/plain; version=0.0.4; charset=utf-8", buf,
                                     (size_t)n, keep_alive, 0);
    free(buf);
    return r;
}
