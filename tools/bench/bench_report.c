/* bench_report: JSON and text renderings of a run (see bench_report.h). */
#include "bench_report.h"

#include <string.h>

#include "bench_ws.h"

static json_t *latency_json(const struct bench_hist *h)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count, "p50",
                     bench_hist_quantile_ms(h, 0.50), "p90", bench_hist_quantile_ms(h, 0.90), "p99",
                     bench_hist_quantile_ms(h, 0.99), "max", bench_hist_quantile_ms(h, 1.0), "mean",
                     bench_hist_mean_ms(h), "min", h->count ? (double)h->min_us / 1000.0 : 0.0);
}

/* A distance histogram (BENCH_PX_UNITS per px) in px, with latency_json's fields. bench_hist
 * reports its integer unit divided by 1000 ("ms"). */
static json_t *distance_json(const struct bench_hist *h)
{
    const double px = 1000.0 / BENCH_PX_UNITS;
    return json_pack(
        "{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count, "p50",
        bench_hist_quantile_ms(h, 0.50) * px, "p90", bench_hist_quantile_ms(h, 0.90) * px, "p99",
        bench_hist_quantile_ms(h, 0.99) * px, "max", bench_hist_quantile_ms(h, 1.0) * px, "mean",
        bench_hist_mean_ms(h) * px, "min", h->count ? (double)h->min_us / BENCH_PX_UNITS : 0.0);
}

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

/* A number, or JSON null when the figure is unknown (negative). */
static json_t *maybe(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

/* The encoding the run spoke: "cmmo.v2" with --compact, else "legacy" (report.py reads a result
 * without this field as legacy). */
static const char *protocol_name(const struct bench_opts *o)
{
    return o->compact ? BENCH_WS_PROTOCOL_CMMO_V2 : "legacy";
}

static json_t *config_json(const struct bench_opts *o)
{
    return json_pack(
        "{s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:i, s:s, s:b, s:b, s:f, s:i, s:f, s:f, s:f, "
        "s:f, s:f, s:f, s:[f,f], s:b, s:f, s:f, s:I}",
        "label", o->label, "protocol", protocol_name(o), "host", o->host, "port", o->port,
        "players", (int)o->players, "storm", (int)o->storm, "storm_delay_s", o->storm_delay_s,
        "first_index", (int)o->first_index, "prefix", o->prefix, "register", o->register_accounts,
        "register_only", o->register_only, "rate", o->rate, "max_inflight", (int)o->max_inflight,
        "target_interval_s", o->target_interval_s, "target_radius", o->target_radius,
        "chat_interval_s", o->chat_interval_s, "duration_s", o->duration_s, "warmup_s", o->warmup_s,
        "drain_s", o->drain_s, "world", o->world_w, o->world_h, "spread", o->spread,
        "login_timeout_s", o->login_timeout_s, "max_runtime_s", o->max_runtime_s, "seed",
        (json_int_t)o->seed);
}

static json_t *server_json(const struct bench_results *r)
{
    json_t *s = json_object();
    json_object_set_new(s, "pid", json_integer(r->opts->server_pid));
    json_object_set_new(s, "sampled", json_boolean(r->server_sampled));
    if (r->server_sampled) {
        long idle = r->server_idle.rss_kb;
        long start = r->server_window_start.ok ? r->server_window_start.rss_kb : -1;
        long end = r->server_window_end.ok ? r->server_window_end.rss_kb : -1;
        json_object_set_new(s, "cpu_percent", maybe(r->server_cpu_percent));
        json_object_set_new(s, "cpu_percent_peak_1s", json_real(r->server_cpu_peak_1s));
        json_object_set_new(s, "rss_idle_kb", json_integer(idle));
        json_object_set_new(s, "rss_window_start_kb", json_integer(start));
        json_object_set_new(s, "rss_window_end_kb", json_integer(end));
        json_object_set_new(s, "rss_max_kb", json_integer(r->server_rss_max_kb));
        json_object_set_new(s, "hwm_kb",
                            json_integer(r->server_window_end.ok ? r->server_window_end.hwm_kb
                                                                 : r->server_window_start.hwm_kb));
        json_object_set_new(s, "threads", json_integer(r->server_window_start.threads));
        double per =
            (start > 0 && r->logged_in) ? (double)(start - idle) / (double)r->logged_in : -1.0;
        json_object_set_new(s, "rss_per_player_kb", maybe(per));
    }
    json_t *tick = r->stats_end ? json_object_get(r->stats_end, "tick_ms") : NULL;
    json_object_set(s, "tick_ms", tick ? tick : json_null());
    json_object_set(s, "stats", r->stats_end ? r->stats_end : json_null());
    return s;
}

json_t *bench_report_json(const struct bench_results *r)
{
    const struct bench_opts *o = r->opts;
    json_t *root = json_object();
    json_object_set_new(root, "tool", json_string("cmmo-bench"));
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "label", json_string(o->label));
    json_object_set_new(root, "stop_reason", json_string(r->stop_reason));
    json_object_set_new(root, "config", config_json(o));

    json_object_set_new(
        root, "ramp",
        json_pack("{s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:o, s:o, s:o, s:i, s:f, "
                  "s:i}",
                  "seconds", r->ramp_s, "logged_in", (int)r->logged_in, "registered",
                  (int)r->registered, "already_registered", (int)r->already_registered,
                  "connect_failed", (int)r->connect_failed, "subprotocol_refused",
                  (int)r->subprotocol_refused, "denied", (int)r->login_denied, "timeouts",
                  (int)r->login_timeouts, "closed_before_play", (int)r->closed_before_play,
                  "first_deny", r->first_deny, "register_ms", latency_json(&r->register_latency),
                  "login_ms", latency_json(&r->login_latency), "own_model_ms",
                  latency_json(&r->own_model_latency), "own_model_wrong", (int)r->own_model_wrong,
                  "spread_s", r->spread_s, "spread_unfinished", (int)r->spread_unfinished));

    json_object_set_new(root, "window_s", json_real(r->window_s));
    json_object_set_new(root, "players_in_window", json_integer(r->players_in_window));
    json_object_set_new(
        root, "chat",
        json_pack(
            "{s:I, s:I, s:I, s:f, s:o, s:I, s:I, s:I}", "sent", (json_int_t)r->chats_sent,
            "expected", (json_int_t)r->chats_expected, "delivered", (json_int_t)r->chats_delivered,
            "delivery_ratio", ratio(r->chats_delivered, r->chats_expected), "latency_ms",
            latency_json(&r->chat_latency), "echoed", (json_int_t)r->chats_echoed, "wrong_sender",
            (json_int_t)r->chats_wrong_sender, "unparsed", (json_int_t)r->chats_unparsed));
    json_object_set_new(
        root, "movement",
        json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I}", "targets_sent",
                  (json_int_t)r->targets_sent, "staleness_ms", latency_json(&r->staleness),
                  "position_error_px", distance_json(&r->position_error), "position_lag_px",
                  distance_json(&r->position_lag), "self_ms", latency_json(&r->move_self_latency),
                  "observer_ms", latency_json(&r->move_observer_latency), "observer_remote_ms",
                  latency_json(&r->move_observer_remote_latency), "observer_local_ms",
                  latency_json(&r->move_observer_local_latency), "self_superseded",
                  (json_int_t)r->move_self_superseded, "observer_superseded",
                  (json_int_t)r->move_observer_superseded, "no_observer",
                  (json_int_t)r->move_no_observer));
    json_object_set_new(
        root, "traffic",
        json_pack("{s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I}", "frames_per_client_s",
                  r->frames_per_client_s, "bytes_per_client_s", r->bytes_per_client_s,
                  "deltas_per_client_s", r->deltas_per_client_s, "max_client_bytes_s",
                  r->max_client_bytes_s, "frames", (json_int_t)r->frames_in, "deltas",
                  (json_int_t)r->deltas_in, "chats", (json_int_t)r->chats_in, "disconnects",
                  (json_int_t)r->disconnects_in, "other", (json_int_t)r->other_in));
    static const char *why[] = {"by_us", "connect", "handshake", "peer_close",
                                "eof",   "error",   "protocol",  "subprotocol"};
    json_t *reasons = json_object();
    for (int i = 0; i < 8; i++)
        if (r->drop_reasons[i])
            json_object_set_new(reasons, why[i], json_integer(r->drop_reasons[i]));
    json_object_set_new(root, "connections",
                        json_pack("{s:i, s:i, s:o}", "dropped_ramp", (int)r->dropped_ramp,
                                  "dropped_window", (int)r->dropped_window, "drop_reasons",
                                  reasons));
    if (o->storm) {
        json_object_set_new(root, "storm",
                            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o}", "started",
                                      (int)r->storm_started, "ok", (int)r->storm_ok, "denied",
                                      (int)r->storm_denied, "failed", (int)r->storm_failed,
                                      "unanswered", (int)r->storm_unanswered, "answered_within_30s",
                                      (int)r->storm_within_30s, "login_ms",
                                      latency_json(&r->storm_login_latency), "answer_ms",
                                      latency_json(&r->storm_answer_latency)));
    }
    json_object_set_new(root, "server", server_json(r));
    json_t *busy = json_array();
    for (int i = 0; i < r->cpus_window_end.count; i++)
        json_array_append_new(busy, maybe(bench_proc_cpu_busy_percent(&r->cpus_window_start,
                                                                      &r->cpus_window_end, i)));
    json_object_set_new(root, "machine_cpu_busy_percent", busy);
    json_object_set_new(
        root, "bench",
        json_pack("{s:o, s:i, s:o}", "cpu_percent",
                  maybe(bench_proc_cpu_percent(&r->self_window_start, &r->self_window_end)),
                  "rss_kb", (int)r->self_window_end.rss_kb, "loop_lag_ms",
                  latency_json(&r->loop_lag)));
    return root;
}

static void distance_line(FILE *out, const char *name, const struct bench_hist *h)
{
    const double px = 1000.0 / BENCH_PX_UNITS;
    if (!h->count) {
        fprintf(out, "  %-22s -\n", name);
        return;
    }
    fprintf(out, "  %-22s p50 %8.1f  p90 %8.1f  p99 %8.1f  max %8.1f px  (n=%llu)\n", name,
            bench_hist_quantile_ms(h, 0.5) * px, bench_hist_quantile_ms(h, 0.9) * px,
            bench_hist_quantile_ms(h, 0.99) * px, bench_hist_quantile_ms(h, 1.0) * px,
            (unsigned long long)h->count);
}

static void latency_line(FILE *out, const char *name, const struct bench_hist *h)
{
    if (!h->count) {
        fprintf(out, "  %-22s -\n", name);
        return;
    }
    fprintf(out, "  %-22s p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f ms  (n=%llu)\n", name,
            bench_hist_quantile_ms(h, 0.5), bench_hist_quantile_ms(h, 0.9),
            bench_hist_quantile_ms(h, 0.99), bench_hist_quantile_ms(h, 1.0),
            (unsigned long long)h->count);
}

void bench_report_summary(const struct bench_results *r, FILE *out)
{
    const struct bench_opts *o = r->opts;
    fprintf(out, "\n== cmmo-bench %s(%s, %s)\n", o->label[0] ? o->label : "", protocol_name(o),
            r->stop_reason);
    if (r->subprotocol_refused)
        fprintf(out, "  FAILED: %u connections refused: the server's 101 %s\n",
                r->subprotocol_refused,
                o->compact ? "did not select the WebSocket subprotocol " BENCH_WS_PROTOCOL_CMMO_V2
                             " (does the server support it?)"
                           : "selected a WebSocket subprotocol that was not offered");
    fprintf(out,
            "  ramp: %.1f s, %u in play of %u; registered %u (+%u existing), connect "
            "failed %u, denied %u, timeouts %u, closed early %u%s%s\n",
            r->ramp_s, r->logged_in, o->players, r->registered, r->already_registered,
            r->connect_failed, r->login_denied, r->login_timeouts, r->closed_before_play,
            r->first_deny[0] ? "; first deny: " : "", r->first_deny);
    latency_line(out, "register", &r->register_latency);
    latency_line(out, "login (Login->Ok)", &r->login_latency);
    if (o->register_only) return;
    fprintf(out, "  window: %.1f s with %u players\n", r->window_s, r->players_in_window);
    fprintf(out, "  chat: %llu sent, %llu/%llu delivered (ratio %.4f)%s\n",
            (unsigned long long)r->chats_sent, (unsigned long long)r->chats_delivered,
            (unsigned long long)r->chats_expected, ratio(r->chats_delivered, r->chats_expected),
            (r->chats_echoed || r->chats_wrong_sender) ? "  SERVER BUG: echo or wrong sender" : "");
    latency_line(out, "chat latency", &r->chat_latency);
    latency_line(out, "move (own client)", &r->move_self_latency);
    latency_line(out, "move (observer)", &r->move_observer_latency);
    if (r->opts->n_ports > 1) {
        latency_line(out, "move (observer, other node)", &r->move_observer_remote_latency);
        latency_line(out, "move (observer, same node)", &r->move_observer_local_latency);
    }
    latency_line(out, "staleness", &r->staleness);
    distance_line(out, "position error", &r->position_error);
    distance_line(out, "position lag", &r->position_lag);
    fprintf(out, "  traffic per client: %.1f frames/s, %.0f bytes/s (max %.0f), %.1f deltas/s\n",
            r->frames_per_client_s, r->bytes_per_client_s, r->max_client_bytes_s,
            r->deltas_per_client_s);
    fprintf(out, "  dropped: %u during ramp, %u during window\n", r->dropped_ramp,
            r->dropped_window);
    if (o->storm) {
        fprintf(out,
                "  storm: %u started, %u ok, %u denied, %u failed, %u unanswered, %u "
                "answered within 30 s\n",
                r->storm_started, r->storm_ok, r->storm_denied, r->storm_failed,
                r->storm_unanswered, r->storm_within_30s);
        latency_line(out, "storm connect->reply", &r->storm_answer_latency);
    }
    if (r->server_sampled) {
        fprintf(out,
                "  server: cpu %.1f %% of a core (peak 1 s %.1f %%), rss idle %ld kB, "
                "window start %ld kB, max %ld kB\n",
                r->server_cpu_percent, r->server_cpu_peak_1s, r->server_idle.rss_kb,
                r->server_window_start.rss_kb, r->server_rss_max_kb);
    }
    json_t *tick = r->stats_end ? json_object_get(r->stats_end, "tick_ms") : NULL;
    if (tick)
        fprintf(out, "  server tick: p50 %.2f  p99 %.2f  max %.2f ms\n",
                json_number_value(json_object_get(tick, "p50")),
                json_number_value(json_object_get(tick, "p99")),
                json_number_value(json_object_get(tick, "max")));
    latency_line(out, "bench timer lag", &r->loop_lag);
    fprintf(out, "  bench itself: cpu %.1f %%; machine CPUs busy:",
            bench_proc_cpu_percent(&r->self_window_start, &r->self_window_end));
    for (int i = 0; i < r->cpus_window_end.count; i++)
        fprintf(out, " cpu%d %.0f %%", i,
                bench_proc_cpu_busy_percent(&r->cpus_window_start, &r->cpus_window_end, i));
    fputc('\n', out);
}
