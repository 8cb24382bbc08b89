/*
 * bench_opts: the command line of cmmo-bench.
 *
 * Every option has a default that gives a short, gentle run; `cmmo-bench --help` lists them.
 * Validation happens here so the engine can trust the struct: the host is a loopback literal
 * (the tool must never load anything but the machine it runs on), counts and times are bounded.
 */
#ifndef CMMO_BENCH_OPTS_H
#define CMMO_BENCH_OPTS_H

#include <stdint.h>
#include <sys/types.h>

/* Bounds on the options, each a sanity limit rather than a design limit. */
#define BENCH_MAX_PORTS 16        /* nodes of one cluster, for --ports */
#define BENCH_MAX_PLAYERS 100000  /* ephemeral ports run out near 28k per address anyway */
#define BENCH_MAX_RUNTIME_S 14400 /* no run may take more than 4 hours, whatever the options */
#define BENCH_MAX_PREFIX 8        /* "b" + prefix + index must fit the 20-char username */
#define BENCH_MAX_LABEL 64

struct bench_opts {
    char host[64]; /* IPv4 loopback literal */
    int port;      /* the first of ports: the server asked for /stats */
    int ports[BENCH_MAX_PORTS];
    int n_ports;          /* player i plays on ports[i % n_ports] (the nodes of a cluster) */
    uint32_t players;     /* players that play (connect, log in, act) */
    uint32_t storm;       /* extra players that log in all at once during the measured window */
    double storm_delay_s; /* into the window */
    uint32_t first_index; /* index of the first account: names are b<prefix><index> */
    char prefix[BENCH_MAX_PREFIX + 1];
    int register_accounts;    /* 1: Register then Login; 0: Login existing accounts */
    int register_only;        /* register the accounts, report, and exit */
    double rate;              /* new connections per second while ramping up */
    uint32_t max_inflight;    /* connections between connect and the login reply, at most */
    double target_interval_s; /* 0 = never */
    double target_radius;     /* px around the player's own position */
    double chat_interval_s;   /* 0 = never */
    double duration_s;        /* measured window */
    double warmup_s;          /* playing but not measured, after everyone logged in */
    double drain_s;           /* after the window: wait this long at most for late deliveries */
    double world_w, world_h;  /* must match the server's --world (targets are clamped the same) */
    int spread;               /* walk everyone to an even grid before measuring */
    int compact; /* offer and require the "cmmo.v2" subprotocol (Move frames for movement) */
    double spread_timeout_s;
    double login_timeout_s; /* a login without reply after this counts as failed */
    double ramp_timeout_s;
    double max_runtime_s; /* hard cap for the whole run */
    pid_t server_pid;     /* 0 = do not sample the server's CPU and memory */
    char json_path[512];  /* empty = stdout */
    char label[BENCH_MAX_LABEL + 1];
    uint64_t seed;
    int quiet;
};

/* Parses argv into opts (defaults first). Returns 0, 1 if --help was printed (exit 0), or -1 after
 * printing the reason to stderr (exit 2). */
int bench_opts_parse(int argc, char **argv, struct bench_opts *opts);

#endif
