/*
 * bench_report: the results of one run, and their two renderings: a JSON object (every metric,
 * for tools/bench/report.py and anyone scripting) and a short human summary on stderr.
 *
 * The engine (bench_run) fills struct bench_results; this module only formats. Latencies are kept
 * as histograms (bench_hist) and rendered as {count, p50, p90, p99, max, mean, min} in
 * milliseconds; distances the same way in px, counted in tenths of a px (BENCH_PX_UNITS: the
 * histogram's integer unit, so values below 12.8 px are exact to 0.1 px and larger ones within
 * 1/64 of themselves).
 */
#ifndef CMMO_BENCH_REPORT_H
#define CMMO_BENCH_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_hist.h"
#include "bench_opts.h"
#include "bench_proc.h"

/* A distance histogram counts this many units per px. */
#define BENCH_PX_UNITS 10

struct bench_results {
    const struct bench_opts *opts;
    const char *stop_reason; /* "completed", "interrupted", "max-runtime", ... */

    /* Ramp-up: connecting and logging in the players (not the storm). */
    double ramp_s;
    uint32_t logged_in;          /* players in PLAY when the window opened */
    uint32_t registered;         /* Register answered Ok */
    uint32_t already_registered; /* Register denied as taken (counted as success with --register) */
    uint32_t connect_failed;     /* TCP or WebSocket handshake failed */
    uint32_t subprotocol_refused; /* connections (storm too) whose 101 did not select --compact's
                                     cmmo.v2: counted in connect_failed or storm_failed as well */
    uint32_t login_denied;        /* Deny to Login (or to Register, other than taken) */
    uint32_t login_timeouts;
    uint32_t closed_before_play; /* connection ended by the server before the login reply */
    char first_deny[128];        /* the first Deny text seen, to explain failures */
    struct bench_hist register_latency;
    struct bench_hist login_latency;
    struct bench_hist own_model_latency; /* Login sent -> own ModelDelta */
    uint32_t own_model_wrong;            /* the first ModelDelta after Ok was not ours */
    double spread_s;
    uint32_t spread_unfinished;

    /* The measured window. */
    double window_s;
    uint32_t players_in_window; /* in PLAY for the whole window */
    uint64_t chats_sent;
    uint64_t chats_expected; /* sum over chats sent of (players in PLAY at send time - 1) */
    uint64_t chats_delivered;
    uint64_t chats_echoed;       /* received by their own sender: a server bug */
    uint64_t chats_wrong_sender; /* p0 not the sender's name: a server bug */
    uint64_t chats_unparsed;     /* Chat frames not in the benchmark's format */
    struct bench_hist chat_latency;
    uint64_t targets_sent;
    uint64_t move_self_superseded; /* next Target sent before the own client saw the move */
    uint64_t move_observer_superseded;
    uint64_t move_no_observer; /* nobody else saw the mover move */
    struct bench_hist move_self_latency;
    struct bench_hist move_observer_latency;
    /* With --ports: the observer's node is not the mover's (a subset of the above). */
    struct bench_hist move_observer_remote_latency;
    /* With --ports: the observer's node is the mover's (the rest of move_observer_latency). */
    struct bench_hist move_observer_local_latency;
    /* Per viewer: how old a walking actor's shown position was when the next arrived (us). */
    struct bench_hist staleness;
    /* One observer per mover, sampled every tick while the mover walks and until the observer's
     * drawing has caught up after it stopped (tenths of a px, BENCH_PX_UNITS): the distance
     * between where the browser client's interpolation (web/js/motion.js) draws the mover and
     * where the mover was at the time drawn (now minus the client's delay) ... */
    struct bench_hist position_error;
    /* ... and where it is now: the error plus what the delay costs (about 70 px/s times it). */
    struct bench_hist position_lag;
    uint64_t frames_in, bytes_in, deltas_in, chats_in, disconnects_in, other_in;
    double frames_per_client_s, bytes_per_client_s, deltas_per_client_s;
    double max_client_bytes_s;
    uint32_t dropped_ramp; /* players in PLAY whose connection the server ended before the window */
    uint32_t dropped_window;  /* ... during the window or the drain */
    uint32_t drop_reasons[8]; /* indexed by enum bench_conn_end */

    /* Login storm. */
    uint32_t storm_started, storm_ok, storm_denied, storm_failed, storm_unanswered;
    uint32_t storm_within_30s;
    struct bench_hist storm_login_latency;  /* Login sent -> Ok/Deny */
    struct bench_hist storm_answer_latency; /* connect start -> Ok/Deny */

    /* Server, from /proc and GET /stats. */
    int server_sampled;
    struct bench_proc_sample server_idle; /* before the first connection */
    struct bench_proc_sample server_window_start, server_window_end;
    double server_cpu_percent;
    double server_cpu_peak_1s;
    long server_rss_max_kb;
    json_t *stats_end; /* GET /stats at the end of the window (owned, may be NULL) */

    /* The benchmark itself, and every CPU of the machine (to spot other load). */
    struct bench_proc_sample self_window_start, self_window_end;
    struct bench_proc_cpus cpus_window_start, cpus_window_end;
    /* How late the benchmark's own 10 ms timer fired during the window: if this grows, the
     * benchmark (not the server) is adding latency to what it measures. */
    struct bench_hist loop_lag;
};

/* Builds the JSON object (new reference). */
json_t *bench_report_json(const struct bench_results *r);

/* Writes the human summary. */
void bench_report_summary(const struct bench_results *r, FILE *out);

#endif
