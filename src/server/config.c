#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cmmo-server [options]\n"
    "\n"
    "The cmmo game server: WebSocket game protocol and the browser client on one port.\n"
    "\n"
    "options (each also read from the environment variable shown):\n"
    "  --host ADDR        address to listen on                 CMMO_HOST      (0.0.0.0)\n"
    "  --port N           TCP port, 0 for any free port        CMMO_PORT      (8081)\n"
    "  --db URL           store: sqlite:PATH                   CMMO_DB        (sqlite:data/cmmo.db)\n"
    "  --web-root DIR     static files served over HTTP        CMMO_WEB_ROOT  (web)\n"
    "  --tick-hz N        world ticks per second, 1..120       CMMO_TICK_HZ   (20)\n"
    "  --world WxH        world size in pixels, 64..1000000    CMMO_WORLD     (1344x832)\n"
    "  --view-radius N    area of interest in px, 0 = all      CMMO_VIEW_RADIUS (auto)\n"
    "                     auto: 0 for worlds up to 2048x2048, else 600\n"
    "  --log-level L      debug, info, warn or error           CMMO_LOG_LEVEL (info)\n"
    "  --help             this text\n"
    "\n"
    "SIGINT or SIGTERM saves every position, closes connections cleanly and exits 0.\n";

typedef struct option_def {
    const char *flag;
    const char *env;
    int (*apply)(config *c, const char *value, char *err, size_t errlen);
} option_def;

static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) return -1;
    *out = n;
    return 0;
}

static int copy_string(char *dst, size_t cap, const char *v)
{
    if (!*v || strlen(v) >= cap) return -1;
    strcpy(dst, v);
    return 0;
}

static int apply_host(config *c, const char *v, char *err, size_t n)
{
    if (copy_string(c->host, sizeof c->host, v) != 0) {
        snprintf(err, n, "--host: expected an IPv4 or IPv6 address, got '%s'", v);
        return -1;
    }
    return 0;
}

static int apply_port(config *c, const char *v, char *err, size_t n)
{
    long p;
    if (parse_int(v, 0, 65535, &p) != 0) {
        snprintf(err, n, "--port: expected an integer from 0 to 65535, got '%s'", v);
        return -1;
    }
    c->port = (int)p;
    return 0;
}

static int apply_db(config *c, const char *v, char *err, size_t n)
{
    if (strncmp(v, "sqlite:", 7) != 0 || !v[7] || copy_string(c->db, sizeof c->db, v) != 0) {
        snprintf(err, n, "--db: expected sqlite:PATH, got '%s'", v);
        return -1;
    }
    return 0;
}

static int apply_web_root(config *c, const char *v, char *err, size_t n)
{
    if (copy_string(c->web_root, sizeof c->web_root, v) != 0) {
        snprintf(err, n, "--web-root: expected a directory, got '%s'", v);
        return -1;
    }
    return 0;
}

static int apply_tick_hz(config *c, const char *v, char *err, size_t n)
{
    long t;
    if (parse_int(v, 1, 120, &t) != 0) {
        snprintf(err, n, "--tick-hz: expected an integer from 1 to 120, got '%s'", v);
        return -1;
    }
    c->tick_hz = (int)t;
    return 0;
}

static int apply_world(config *c, const char *v, char *err, size_t n)
{
    char buf[64];
    const char *x = strchr(v, 'x');
    long w, h;
    if (!x || (size_t)(x - v) >= sizeof buf) goto bad;
    memcpy(buf, v, (size_t)(x - v));
    buf[x - v] = 0;
    if (parse_int(buf, 64, 1000000, &w) != 0 || parse_int(x + 1, 64, 1000000, &h) != 0) goto bad;
    c->world_width = (double)w;
    c->world_height = (double)h;
    return 0;
bad:
    snprintf(err, n, "--world: expected WIDTHxHEIGHT, each 64 to 1000000, got '%s'", v);
    return -1;
}

static int apply_view_radius(config *c, const char *v, char *err, size_t n)
{
    long r;
    if (parse_int(v, 0, 1000000, &r) != 0) {
        snprintf(err, n, "--view-radius: expected an integer from 0 to 1000000, got '%s'", v);
        return -1;
    }
    c->view_radius = (double)r;
    return 0;
}

static int apply_log_level(config *c, const char *v, char *err, size_t n)
{
    if (log_level_parse(v, &c->log_level) != 0) {
        snprintf(err, n, "--log-level: expected debug, info, warn or error, got '%s'", v);
        return -1;
    }
    return 0;
}

static const option_def options[] = {
    {"--host", "CMMO_HOST", apply_host},
    {"--port", "CMMO_PORT", apply_port},
    {"--db", "CMMO_DB", apply_db},
    {"--web-root", "CMMO_WEB_ROOT", apply_web_root},
    {"--tick-hz", "CMMO_TICK_HZ", apply_tick_hz},
    {"--world", "CMMO_WORLD", apply_world},
    {"--view-radius", "CMMO_VIEW_RADIUS", apply_view_radius},
    {"--log-level", "CMMO_LOG_LEVEL", apply_log_level},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

int config_load(config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    strcpy(c->host, "0.0.0.0");
    c->port = 8081;
    strcpy(c->db, "sqlite:data/cmmo.db");
    strcpy(c->web_root, "web");
    c->tick_hz = 20;
    c->world_width = 1344;
    c->world_height = 832;
    c->log_level = LOG_INFO;
    c->view_radius = -1;
    char err[512];
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *v = getenv(options[i].env);
        if (v && options[i].apply(c, v, err, sizeof err) != 0) {
            fprintf(stderr, "cmmo-server: %s (from %s)\n", err, options[i].env);
            return CONFIG_ERROR;
        }
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return CONFIG_EXIT;
        }
        const char *value = NULL;
        size_t i;
        for (i = 0; i < OPTION_COUNT; i++) {
            size_t fl = strlen(options[i].flag);
            if (strncmp(arg, options[i].flag, fl) != 0) continue;
            if (arg[fl] == '=') {
                value = arg + fl + 1;
                break;
            }
            if (arg[fl] == 0) {
                if (a + 1 >= argc) {
                    fprintf(stderr, "cmmo-server: %s needs a value (see --help)\n", arg);
                    return CONFIG_ERROR;
                }
                value = argv[++a];
                break;
            }
        }
        if (i == OPTION_COUNT) {
            fprintf(stderr, "cmmo-server: unknown option '%s' (see --help)\n", arg);
            return CONFIG_ERROR;
        }
        if (options[i].apply(c, value, err, sizeof err) != 0) {
            fprintf(stderr, "cmmo-server: %s\n", err);
            return CONFIG_ERROR;
        }
    }
    if (c->view_radius < 0)
        c->view_radius = (c->world_width <= 2048 && c->world_height <= 2048) ? 0 : 600;
    return CONFIG_OK;
}
