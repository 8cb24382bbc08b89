#include "server/config.h"

#include "cluster/cluster.h"
#include "server/version.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: cmmo-server [options]\n"
    "\n"
    "The cmmo game server: the WebSocket game protocol and the browser client on one port.\n"
    "\n"
    "options (each also read from the environment variable shown, and from a config file):\n"
    "  --host ADDR         address to listen on                 CMMO_HOST      (0.0.0.0)\n"
    "  --port N            TCP port, 0 for any free port        CMMO_PORT      (8081)\n"
    "  --db URL            store: sqlite:PATH or                CMMO_DB        "
    "(sqlite:data/cmmo.db)\n"
    "                      postgres://USER:PASSWORD@HOST:PORT/DB\n"
    "  --web-root DIR      static files served over HTTP        CMMO_WEB_ROOT  (web)\n"
    "  --tick-hz N         world ticks per second, 1..120       CMMO_TICK_HZ   (20)\n"
    "  --world WxH         world size in px, 64..1000000 each   CMMO_WORLD     (1344x832)\n"
    "  --view-radius N     area of interest in px, 0 = all      CMMO_VIEW_RADIUS (auto:\n"
    "                      0 for worlds up to 2048x2048, else 600)\n"
    "  --compact-budget KIB bytes a cmmo.v2 client may be sent, KiB/s, 0 = no budget\n"
    "                      (the nearest 20 actors move every tick regardless)\n"
    "                                                           CMMO_COMPACT_BUDGET (40)\n"
    "  --chat-share PCT    share of a core, 0..50 %, spent relaying chat between ticks\n"
    "                      (0 = chat waits for the tick)  CMMO_CHAT_SHARE (auto: 5 up to\n"
    "                      256 connections, 0 above)\n"
    "  --tls-cert FILE     PEM certificate chain: serve wss:// and https:// too\n"
    "                                                           CMMO_TLS_CERT  (none)\n"
    "  --tls-key FILE      PEM private key for --tls-cert       CMMO_TLS_KEY   (none)\n"
    "  --admin-socket PATH Unix socket for cmmo-admin (0600)    CMMO_ADMIN_SOCKET (none)\n"
    "  --allowed-origins L comma-separated Origins allowed to open a WebSocket (browsers\n"
    "                      send one; requests without Origin are allowed)\n"
    "                                                           CMMO_ALLOWED_ORIGINS (any)\n"
    "  --redis URL         redis://HOST:PORT: join a cluster of nodes sharing the world\n"
    "                      (docs/SCALING.md)                    CMMO_REDIS     (none)\n"
    "  --node-id NAME      this node's name in the cluster, unique, [A-Za-z0-9._:-]{1,64}\n"
    "                                                           CMMO_NODE_ID   (HOSTNAME:PORT)\n"
    "  --script FILE       a Lua script of the game (docs/SCRIPTING.md)\n"
    "                                                           CMMO_SCRIPT    (none)\n"
    "  --drain-seconds N   on SIGTERM/SIGINT, refuse logins and answer /healthz 503 for N s\n"
    "                      before the shutdown, 0..300          CMMO_DRAIN_SECONDS (3)\n"
    "  --resume-ttl N      seconds a browser's resume token lives, 0 = no tokens, up to\n"
    "                      2592000 (30 days)                    CMMO_RESUME_TTL (86400)\n"
    "  --log-level L       debug, info, warn or error           CMMO_LOG_LEVEL (info)\n"
    "  --log-format F      text (key=value) or json             CMMO_LOG_FORMAT (text)\n"
    "  --log-file PATH     append logs here instead of stderr   CMMO_LOG_FILE  (stderr)\n"
    "  --config FILE       read settings from FILE              CMMO_CONFIG    (none)\n"
    "  --print-config      print the effective settings and where each came from, then exit\n"
    "  --version           print the version and the git commit it was built from, then exit\n"
    "  --help              this text\n"
    "\n"
    "A config file holds `name = value` lines (names as the flags, without --), # comments\n"
    "and blank lines; any other line is an error.\n"
    "Precedence: flag, then environment, then config file, then default.\n"
    "SIGINT or SIGTERM: drain (see --drain-seconds; a second signal ends it), then tell players,\n"
    "save every position, close with 1001, exit 0.\n"
    "SIGHUP: reopen the log file, reload the TLS certificate and key, and reload the script\n"
    "(the old one stays if the new one fails to load).\n";

typedef struct option_def {
    const char *name; /* flag without the leading -- */
    const char *env;
    int (*apply)(config *c, const char *value, char *err, size_t errlen);
    void (*show)(const config *c, char *out, size_t cap);
} option_def;

static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) return CMMO_ECONFIG;
    *out = n;
    return 0;
}

static int copy_string(char *dst, size_t cap, const char *v, int allow_empty)
{
    if ((!allow_empty && !*v) || strlen(v) >= cap) return CMMO_ECONFIG;
    strcpy(dst, v);
    return 0;
}

#define STRING_OPTION(field, allow_empty, what)                                                    \
    static int apply_##field(config *c, const char *v, char *err, size_t n)                        \
    {                                                                                              \
        if (copy_string(c->field, sizeof c->field, v, allow_empty) != 0) {                         \
            snprintf(err, n, "expected %s, got '%s'", what, v);                                    \
            return CMMO_ECONFIG;                                                                   \
        }                                                                                          \
        return 0;                                                                                  \
    }                                                                                              \
    static void show_##field(const config *c, char *out, size_t cap)                               \
    {                                                                                              \
        snprintf(out, cap, "%s", c->field);                                                        \
    }

/* The listener takes a numeric address only (no name lookup at start): say so here, naming the
 * setting, rather than fail later with a listen error. */
static int apply_host(config *c, const char *v, char *err, size_t n)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if ((inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1) ||
        copy_string(c->host, sizeof c->host, v, 0) != 0) {
        snprintf(err, n, "expected an IPv4 or IPv6 address like 0.0.0.0 or ::, got '%.200s'", v);
        return CMMO_ECONFIG;
    }
    return 0;
}

static void show_host(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c->host);
}

/* A web root given explicitly must be a directory: a typo would otherwise serve 404 for every
 * page while the game itself works. (The default, `web`, is not checked: the game needs no
 * files, and the server logs a warning when it is missing.) */
static int apply_web_root(config *c, const char *v, char *err, size_t n)
{
    struct stat st;
    if (copy_string(c->web_root, sizeof c->web_root, v, 0) != 0 || stat(v, &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
        snprintf(err, n, "expected a directory, got '%.200s'", v);
        return CMMO_ECONFIG;
    }
    return 0;
}

static void show_web_root(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c->web_root);
}

STRING_OPTION(tls_cert, 1, "a PEM certificate file")
STRING_OPTION(tls_key, 1, "a PEM private key file")
STRING_OPTION(admin_socket, 1, "a socket path")
STRING_OPTION(log_file, 1, "a file path")
STRING_OPTION(allowed_origins, 1, "comma-separated origins like https://example.com")
STRING_OPTION(script, 1, "a Lua file path")

static int apply_redis(config *c, const char *v, char *err, size_t n)
{
    if ((*v && !cluster_url_valid(v)) || copy_string(c->redis, sizeof c->redis, v, 1) != 0) {
        snprintf(err, n, "expected redis://HOST:PORT, got '%.200s'", v);
        return CMMO_ECONFIG;
    }
    return 0;
}

static void show_redis(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c->redis);
}

static int apply_node_id(config *c, const char *v, char *err, size_t n)
{
    if ((*v && !cluster_node_id_valid(v)) ||
        copy_string(c->node_id, sizeof c->node_id, v, 1) != 0) {
        snprintf(err, n, "expected 1 to 64 of A-Z a-z 0-9 . _ : -, got '%.200s'", v);
        return CMMO_ECONFIG;
    }
    return 0;
}

static void show_node_id(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c->node_id);
}

static int apply_db(config *c, const char *v, char *err, size_t n)
{
    if (!store_url_valid(v) || copy_string(c->db, sizeof c->db, v, 0) != 0) {
        char shown[512];
        store_url_redact(v, shown, sizeof shown);
        snprintf(err, n, "expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB, got '%s'",
                 shown);
        return CMMO_ECONFIG;
    }
    return 0;
}

/* The password of a postgres:// URL never leaves the process, not even in --print-config. */
static void show_db(const config *c, char *out, size_t cap)
{
    store_url_redact(c->db, out, cap);
}

static int apply_port(config *c, const char *v, char *err, size_t n)
{
    long p;
    if (parse_int(v, 0, 65535, &p) != 0) {
        snprintf(err, n, "expected an integer from 0 to 65535, got '%s'", v);
        return CMMO_ECONFIG;
    }
    c->port = (int)p;
    return 0;
}

static void show_port(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%d", c->port);
}

static int apply_tick_hz(config *c, const char *v, char *err, size_t n)
{
    long t;
    if (parse_int(v, 1, 120, &t) != 0) {
        snprintf(err, n, "expected an integer from 1 to 120, got '%s'", v);
        return CMMO_ECONFIG;
    }
    c->tick_hz = (int)t;
    return 0;
}

static void show_tick_hz(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%d", c->tick_hz);
}

static int apply_drain_seconds(config *c, const char *v, char *err, size_t n)
{
    long d;
    if (parse_int(v, 0, CONFIG_DRAIN_MAX_S, &d) != 0) {
        snprintf(err, n, "expected an integer from 0 to %d, got '%s'", CONFIG_DRAIN_MAX_S, v);
        return CMMO_ECONFIG;
    }
    c->drain_seconds = (int)d;
    return 0;
}

static void show_drain_seconds(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%d", c->drain_seconds);
}

static int apply_resume_ttl(config *c, const char *v, char *err, size_t n)
{
    long t;
    if (parse_int(v, 0, CONFIG_RESUME_TTL_MAX_S, &t) != 0) {
        snprintf(err, n, "expected an integer from 0 to %d, got '%s'", CONFIG_RESUME_TTL_MAX_S, v);
        return CMMO_ECONFIG;
    }
    c->resume_ttl_s = (int)t;
    return 0;
}

static void show_resume_ttl(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%d", c->resume_ttl_s);
}

/* A cmmo.v2 client's budget in KiB/s: 0 (none) or 4..100000. Below 4 KiB/s the nearest 20
 * actors' moves alone (5 KiB/s at 20 Hz) would always overrun it. */
static int apply_v2_budget(config *c, const char *v, char *err, size_t n)
{
    long k;
    if (parse_int(v, 0, 100000, &k) != 0 || (k > 0 && k < 4)) {
        snprintf(err, n, "expected 0 (no budget) or KiB/s from 4 to 100000, got '%s'", v);
        return CMMO_ECONFIG;
    }
    c->v2_budget_kib = (int)k;
    return 0;
}

static void show_v2_budget(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%d", c->v2_budget_kib);
}

static int apply_chat_share(config *c, const char *v, char *err, size_t n)
{
    long p;
    if (strcmp(v, "auto") == 0) {
        c->chat_share = CONFIG_CHAT_SHARE_AUTO;
        return 0;
    }
    if (parse_int(v, 0, 50, &p) != 0) {
        snprintf(err, n, "expected auto or a percentage from 0 to 50, got '%s'", v);
        return CMMO_ECONFIG;
    }
    c->chat_share = (int)p;
    return 0;
}

static void show_chat_share(const config *c, char *out, size_t cap)
{
    if (c->chat_share == CONFIG_CHAT_SHARE_AUTO)
        snprintf(out, cap, "auto");
    else
        snprintf(out, cap, "%d", c->chat_share);
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
    snprintf(err, n, "expected WIDTHxHEIGHT, each 64 to 1000000, got '%s'", v);
    return CMMO_ECONFIG;
}

static void show_world(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%.0fx%.0f", c->world_width, c->world_height);
}

static int apply_view_radius(config *c, const char *v, char *err, size_t n)
{
    long r;
    if (parse_int(v, 0, 1000000, &r) != 0) {
        snprintf(err, n, "expected an integer from 0 to 1000000, got '%s'", v);
        return CMMO_ECONFIG;
    }
    c->view_radius = (double)r;
    return 0;
}

static void show_view_radius(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%.0f", c->view_radius);
}

static int apply_log_level(config *c, const char *v, char *err, size_t n)
{
    if (log_level_parse(v, &c->log_level) != 0) {
        snprintf(err, n, "expected debug, info, warn or error, got '%s'", v);
        return CMMO_ECONFIG;
    }
    return 0;
}

static void show_log_level(const config *c, char *out, size_t cap)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    snprintf(out, cap, "%s", names[c->log_level]);
}

static int apply_log_format(config *c, const char *v, char *err, size_t n)
{
    if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0) {
        c->log_json = strcmp(v, "json") == 0;
        return 0;
    }
    snprintf(err, n, "expected text or json, got '%s'", v);
    return CMMO_ECONFIG;
}

static void show_log_format(const config *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c->log_json ? "json" : "text");
}

static const option_def options[] = {
    {"host", "CMMO_HOST", apply_host, show_host},
    {"port", "CMMO_PORT", apply_port, show_port},
    {"db", "CMMO_DB", apply_db, show_db},
    {"web-root", "CMMO_WEB_ROOT", apply_web_root, show_web_root},
    {"tick-hz", "CMMO_TICK_HZ", apply_tick_hz, show_tick_hz},
    {"world", "CMMO_WORLD", apply_world, show_world},
    {"view-radius", "CMMO_VIEW_RADIUS", apply_view_radius, show_view_radius},
    {"compact-budget", "CMMO_COMPACT_BUDGET", apply_v2_budget, show_v2_budget},
    {"chat-share", "CMMO_CHAT_SHARE", apply_chat_share, show_chat_share},
    {"tls-cert", "CMMO_TLS_CERT", apply_tls_cert, show_tls_cert},
    {"tls-key", "CMMO_TLS_KEY", apply_tls_key, show_tls_key},
    {"admin-socket", "CMMO_ADMIN_SOCKET", apply_admin_socket, show_admin_socket},
    {"allowed-origins", "CMMO_ALLOWED_ORIGINS", apply_allowed_origins, show_allowed_origins},
    {"redis", "CMMO_REDIS", apply_redis, show_redis},
    {"node-id", "CMMO_NODE_ID", apply_node_id, show_node_id},
    {"drain-seconds", "CMMO_DRAIN_SECONDS", apply_drain_seconds, show_drain_seconds},
    {"resume-ttl", "CMMO_RESUME_TTL", apply_resume_ttl, show_resume_ttl},
    {"log-level", "CMMO_LOG_LEVEL", apply_log_level, show_log_level},
    {"log-format", "CMMO_LOG_FORMAT", apply_log_format, show_log_format},
    {"log-file", "CMMO_LOG_FILE", apply_log_file, show_log_file},
    {"script", "CMMO_SCRIPT", apply_script, show_script},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])
_Static_assert(OPTION_COUNT <= CONFIG_OPTIONS_MAX, "config.sources has a slot per option");

/* The option's index, or CMMO_EINVALID for a name no option has. */
static int find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return (int)i;
    return CMMO_EINVALID;
}

static int apply(config *c, int i, const char *value, const char *source)
{
    char err[512];
    if (options[i].apply(c, value, err, sizeof err) != 0) {
        fprintf(stderr, "cmmo-server: setting '%s' (from %s): %s\n", options[i].name, source, err);
        return CMMO_ECONFIG;
    }
    snprintf(c->sources[i], sizeof c->sources[i], "%s", source);
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* `name = value` lines; # starts a comment; blank lines are skipped. Anything else is an error
 * naming the file and line: a line without `=` was once read as `name value`, which let a typo
 * like `port 1` (meant as a comment, or half an edit) silently change a setting. */
static int load_file(config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cmmo-server: setting 'config': cannot read '%s': %s\n", path,
                strerror(errno));
        return CMMO_ECONFIG;
    }
    char line[CONFIG_PATH_MAX + 256];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char source[CONFIG_PATH_MAX + 32];
        snprintf(source, sizeof source, "file %.4000s:%d", path, lineno);
        size_t got = strlen(line);
        if (got == sizeof line - 1 && line[got - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "cmmo-server: %s: line longer than %zu bytes\n", source,
                    sizeof line - 2);
            rc = CMMO_ECONFIG;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *t = trim(line);
        if (!*t) continue;
        char *eq = strchr(t, '=');
        if (!eq) {
            fprintf(stderr, "cmmo-server: %s: expected `name = value`, got '%.200s'\n", source, t);
            rc = CMMO_ECONFIG;
            break;
        }
        *eq = 0;
        char *name = trim(t);
        int i = find_option(name, strlen(name));
        if (i < 0) {
            fprintf(stderr, "cmmo-server: %s: unknown setting '%.200s' (see --help)\n", source,
                    name);
            rc = CMMO_ECONFIG;
        } else {
            rc = apply(c, i, trim(eq + 1), source);
        }
    }
    fclose(f);
    return rc;
}

int config_load(config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    strcpy(c->host, "0.0.0.0");
    c->port = 8081;
    strcpy(c->db, "sqlite:data/cmmo.db");
    strcpy(c->web_root, "web");
    c->tick_hz = 20;
    c->drain_seconds = CONFIG_DRAIN_DEFAULT_S;
    c->resume_ttl_s = CONFIG_RESUME_TTL_DEFAULT_S;
    c->world_width = 1344;
    c->world_height = 832;
    c->log_level = LOG_INFO;
    c->view_radius = -1;
    c->v2_budget_kib = CONFIG_V2_BUDGET_KIB;
    c->chat_share = CONFIG_CHAT_SHARE_AUTO;
    for (size_t i = 0; i < OPTION_COUNT; i++)
        strcpy(c->sources[i], "default");

    /* First pass over argv: --help, --version, --print-config and --config, which decide what
     * follows. */
    const char *file = getenv("CMMO_CONFIG");
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            fputs(usage, stdout);
            c->answered = true;
            return 0;
        }
        if (strcmp(argv[a], "--version") == 0) {
            printf("cmmo-server %s (commit %s)\n", version_number(), version_commit());
            c->answered = true;
            return 0;
        }
        if (strcmp(argv[a], "--print-config") == 0) c->print_config = 1;
        if (strcmp(argv[a], "--config") == 0) {
            if (a + 1 >= argc) {
                fprintf(stderr, "cmmo-server: --config needs a value (see --help)\n");
                return CMMO_ECONFIG;
            }
            file = argv[a + 1];
        } else if (strncmp(argv[a], "--config=", 9) == 0) {
            file = argv[a] + 9;
        }
    }
    if (file && *file) {
        snprintf(c->config_file, sizeof c->config_file, "%s", file);
        if (load_file(c, file) != 0) return CMMO_ECONFIG;
    }
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *v = getenv(options[i].env);
        char source[64];
        snprintf(source, sizeof source, "env %s", options[i].env);
        if (v && apply(c, (int)i, v, source) != 0) return CMMO_ECONFIG;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--print-config") == 0) continue;
        if (strcmp(arg, "--config") == 0) {
            a++;
            continue;
        }
        if (strncmp(arg, "--config=", 9) == 0) continue;
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "cmmo-server: unexpected argument '%s' (see --help)\n", arg);
            return CMMO_ECONFIG;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int i = find_option(name, nlen);
        if (i < 0) {
            fprintf(stderr, "cmmo-server: unknown option '%s' (see --help)\n", arg);
            return CMMO_ECONFIG;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (a + 1 >= argc) {
                fprintf(stderr, "cmmo-server: %s needs a value (see --help)\n", arg);
                return CMMO_ECONFIG;
            }
            value = argv[++a];
        }
        if (apply(c, i, value, "flag") != 0) return CMMO_ECONFIG;
    }
    if (!c->tls_cert[0] != !c->tls_key[0]) {
        fprintf(stderr, "cmmo-server: setting 'tls-cert' and 'tls-key': give both or neither\n");
        return CMMO_ECONFIG;
    }
    if (c->view_radius < 0)
        c->view_radius = (c->world_width <= 2048 && c->world_height <= 2048) ? 0 : 600;
    if (c->print_config) {
        config_print(c, stdout);
        c->answered = true;
        return 0;
    }
    return 0;
}

void config_print(const config *c, FILE *out)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        char value[CONFIG_PATH_MAX + 16];
        options[i].show(c, value, sizeof value);
        fprintf(out, "%s = %s  # %s\n", options[i].name, value, c->sources[i]);
    }
}
