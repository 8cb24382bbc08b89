/*
 * config: the server's settings, from (lowest to highest precedence) defaults, a config file
 * (--config FILE or CMMO_CONFIG), CMMO_* environment variables, and command-line flags. Every
 * setting remembers where its value came from, for --print-config.
 */
#ifndef CMMO_CONFIG_H
#define CMMO_CONFIG_H

#include "core/error.h"
#include "core/log.h"

#include <stdio.h>

#define CONFIG_PATH_MAX 4096
/* Settings in the option table (config.c); sources has a slot for each. */
#define CONFIG_OPTIONS_MAX 24
/* The drain before a shutdown: long enough for a load balancer's health check (every 1 to 2 s,
 * out after 2 failures) to move new players elsewhere, short enough that the drain and the
 * shutdown's own grace (at most 5 s) stay under a container runtime's 10 s stop timeout. */
#define CONFIG_DRAIN_DEFAULT_S 3
/* More than five minutes is a configuration mistake, not a drain. */
#define CONFIG_DRAIN_MAX_S 300
/* A cmmo.v2 client's default bandwidth budget, KiB/s: what a phone on a mobile network takes
 * for the game without trouble (the issue asked for 32-48). */
#define CONFIG_V2_BUDGET_KIB 40
/* --chat-share auto: 5 % up to 256 connections, 0 above (server.c says why). */
#define CONFIG_CHAT_SHARE_AUTO (-1)

/* A resume token (cmmo.v2, docs/SECURITY.md) lives a day by default: a reload, a reconnect or
 * tomorrow's visit needs no password, and a stolen token is worth at most a day. Longer than 30
 * days is a password by another name. */
#define CONFIG_RESUME_TTL_DEFAULT_S 86400
#define CONFIG_RESUME_TTL_MAX_S 2592000

typedef struct config {
    char host[256];
    int port;
    char db[CONFIG_PATH_MAX];
    char web_root[CONFIG_PATH_MAX];
    int tick_hz;
    /* Seconds between SIGTERM/SIGINT and the shutdown: logins are refused and /healthz answers
     * 503 while players play on. 0: shut down at once. */
    int drain_seconds;
    int resume_ttl_s; /* --resume-ttl: seconds a resume token lives; 0: none issued */
    double world_width, world_height;
    /* Area-of-interest radius in px; 0 = everyone sees everyone. Default (-1 until resolved):
     * 0 for worlds up to 2048 x 2048 (the tutorial map looks exactly as in the original), else
     * 600, about the half-diagonal of a 1024 x 600 view. */
    double view_radius;
    int v2_budget_kib; /* per cmmo.v2 client, KiB/s; 0: no budget (--compact-budget) */
    /* --chat-share: percent of a core chat flushes between ticks may use, 0..50; 0: chat waits
     * for the tick; CONFIG_CHAT_SHARE_AUTO: 5 up to 256 connections, 0 above. */
    int chat_share;
    enum log_level log_level;
    int log_json;                                             /* --log-format json */
    char log_file[CONFIG_PATH_MAX];                           /* empty: stderr */
    char tls_cert[CONFIG_PATH_MAX], tls_key[CONFIG_PATH_MAX]; /* empty: no TLS */
    char admin_socket[CONFIG_PATH_MAX];                       /* empty: no admin channel */
    char allowed_origins[CONFIG_PATH_MAX];                    /* empty: any Origin */
    char redis[CONFIG_PATH_MAX];   /* redis://HOST:PORT: join a cluster (docs/SCALING.md); empty:
                                      alone */
    char node_id[CONFIG_PATH_MAX]; /* this node's name in the cluster; empty: HOSTNAME:PORT */
    char script[CONFIG_PATH_MAX];  /* a Lua script of the game (docs/SCRIPTING.md); empty: none */
    char config_file[CONFIG_PATH_MAX];
    int print_config;
    /* config_load answered a question (--help, --version, --print-config): exit 0, start nothing.
     */
    bool answered;
    /* Where each option's value came from, by option index (see config_describe). */
    char sources[CONFIG_OPTIONS_MAX][CONFIG_PATH_MAX + 32];
} config;

/* Fills c. Returns 0 (with c->answered set after printing --help, --version or --print-config,
 * when the program should exit 0), or CMMO_ECONFIG after printing what is wrong, naming the
 * setting and the accepted values, to stderr (the program exits 2). */
int config_load(config *c, int argc, char **argv);

/* Writes every effective setting with its source, one `name = value  # source` per line. */
void config_print(const config *c, FILE *out);

#endif
