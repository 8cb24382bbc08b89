#include "server/metrics.h"

#include "net/http.h"
#include "server/version.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
    counter(p, "cmmo_network_received_bytes_total", "Bytes read from sockets (TLS included).",
            ns->bytes_in);
    counter(p, "cmmo_network_sent_bytes_total", "Bytes written to sockets (TLS included).",
            ns->bytes_out);
    counter(p, "cmmo_socket_writes_total",
            "Socket writes (one per connection per flush: each tick, and chat between ticks).",
            ns->writes);
    counter(p, "cmmo_outbound_dropped_total",
            "Connections dropped because their unsent output passed the bound.", ns->slow_dropped);
    counter(p, "cmmo_dead_dropped_total", "Connections dropped after the ping timeout.",
            ns->dead_dropped);
    counter(p, "cmmo_protocol_closes_total", "Connections closed for an RFC 6455 violation.",
            ns->protocol_closes);
}

/* One counter family with a sample per game action: the rows of PACKET_ACTIONS in their order,
 * then "invalid" (GAME_ACTION_SLOTS in all). */
static void by_action(page *p, const char *name, const char *help, const uint64_t *values)
{
    family(p, name, "counter", help);
    for (int a = 0; a < GAME_ACTION_SLOTS; a++) {
        put(p, "%s{action=\"", name);
        put_label_value(p, game_action_label(a));
        put(p, "\"} %llu\n", (unsigned long long)values[a]);
    }
}

static void game_metrics(page *p, const metrics_snapshot *m)
{
    const game_counters *gc = m->game;
    by_action(p, "cmmo_packets_received_total", "Game packets received, by action.",
              gc->packets_in);
    by_action(p, "cmmo_packets_received_bytes_total", "Game packet bytes received, by action.",
              gc->bytes_in);
    by_action(p, "cmmo_packets_sent_total", "Game packets sent (per recipient), by action.",
              gc->packets_out);
    by_action(p, "cmmo_packets_sent_bytes_total",
              "Game packet bytes sent (frames, per recipient), by action.", gc->bytes_out);
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

/* ---------------------------------------------------------------- process_* */

/* Reads a small /proc file whole into buf (NUL-terminated). Returns 0 or -1. */
static int read_small_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n > 0 ? 0 : -1;
}

/* Fields 22 (starttime, clock ticks after boot), 23 (vsize, bytes) and 24 (rss, pages) of
 * /proc/self/stat. The command name (field 2) may hold spaces and parentheses, so fields are
 * counted from its closing parenthesis, the last one on the line. */
static int read_proc_stat(unsigned long long *start_ticks, unsigned long long *vsize,
                          unsigned long long *rss_pages)
{
    char line[2048];
    if (read_small_file("/proc/self/stat", line, sizeof line) != 0) return -1;
    const char *p = strrchr(line, ')');
    if (!p) return -1;
    p++;
    unsigned long long values[3];
    for (int field = 3, got = 0; got < 3; field++) {
        while (*p == ' ')
            p++;
        if (!*p) return -1;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (field >= 22) {
            if (end == p) return -1;
            values[got++] = v;
        }
        p += strcspn(p, " ");
    }
    *start_ticks = values[0];
    *vsize = values[1];
    *rss_pages = values[2];
    return 0;
}

/* The boot time (btime in /proc/stat), in seconds since the epoch. */
static int read_boot_time(unsigned long long *btime)
{
    char text[16384]; /* /proc/stat: a line per CPU before btime; 16 KiB covers ~150 CPUs */
    if (read_small_file("/proc/stat", text, sizeof text) != 0) return -1;
    const char *b = strstr(text, "\nbtime ");
    return b && sscanf(b + 7, "%llu", btime) == 1 ? 0 : -1;
}

/* Open descriptors: the entries of /proc/self/fd, less the one this listing holds. One
 * readdir per descriptor, so a scrape at 10,000 connections costs the loop a few ms. */
static int count_open_fds(unsigned long long *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    unsigned long long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    *out = n > 0 ? n - 1 : 0;
    return 0;
}

/* The standard process metrics that Prometheus' client libraries export under these names,
 * so that the usual dashboards and alerts work unchanged. A figure the system does not give
 * (no /proc) is left out rather than shown as a wrong 0. */
static void process_metrics(page *p)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        family(p, "process_cpu_seconds_total", "counter", "User and system CPU time, in seconds.");
        put(p, "process_cpu_seconds_total %.6f\n", cpu);
    }
    unsigned long long start_ticks, vsize, rss_pages, btime, fds;
    long page_size = sysconf(_SC_PAGESIZE), clock_ticks = sysconf(_SC_CLK_TCK);
    if (read_proc_stat(&start_ticks, &vsize, &rss_pages) == 0 && page_size > 0) {
        gauge(p, "process_resident_memory_bytes", "Resident memory size, in bytes.",
              rss_pages * (unsigned long long)page_size);
        gauge(p, "process_virtual_memory_bytes", "Virtual memory size, in bytes.", vsize);
        if (clock_ticks > 0 && read_boot_time(&btime) == 0) {
            family(p, "process_start_time_seconds", "gauge",
                   "Start time of the process since the Unix epoch, in seconds.");
            put(p, "process_start_time_seconds %.2f\n",
                (double)btime + (double)start_ticks / (double)clock_ticks);
        }
    }
    if (count_open_fds(&fds) == 0) gauge(p, "process_open_fds", "Open file descriptors.", fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        gauge(p, "process_max_fds", "The limit on open file descriptors.", rl.rlim_cur);
}

int metrics_render(const metrics_snapshot *m, char *buf, size_t cap)
{
    if (cap == 0) return CMMO_ETOO_LONG;
    page p = {buf, cap, 0, 0};
    buf[0] = 0;
    build_metrics(&p);
    net_metrics(&p, m);
    game_metrics(&p, m);
    tick_metrics(&p, m);
    process_metrics(&p);
    return p.overflow ? CMMO_ETOO_LONG : (int)p.len;
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
