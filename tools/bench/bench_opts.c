/* bench_opts: command line parsing (see bench_opts.h). */
#include "bench_opts.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: cmmo-bench --port PORT [options]\n"
    "Holds many WebSocket game clients against a cmmo server on this machine and measures it.\n"
    "\n"
    "  --host IP              loopback address of the server (127.0.0.1)\n"
    "  --port PORT            server port (required, or --ports)\n"
    "  --ports P1,P2,...      the ports of a cluster's nodes: player i plays on the (i mod N)th;\n"
    "                         /stats is asked of the first; movement seen by an observer on\n"
    "                         another node is reported apart (observer_remote_ms)\n"
    "  --players N            players that log in and play (10)\n"
    "  --register             register the accounts first, then log in (default)\n"
    "  --reuse                log in existing accounts (created by an earlier --register run)\n"
    "  --register-only        only register the accounts, then exit\n"
    "  --prefix STR           account names are b<prefix><index> (random 4 chars)\n"
    "  --first-index N        index of the first account (0)\n"
    "  --rate R               new connections per second while ramping up (200)\n"
    "  --max-inflight N       connections waiting for a login reply, at most (32)\n"
    "  --target-interval S    each player sends a Target every S seconds, 0 = never (0.5)\n"
    "  --target-radius PX     ... to a random point within PX of itself (200)\n"
    "  --chat-interval S      each player sends a Chat every S seconds, 0 = never (2)\n"
    "  --world WxH            the server's world size, for clamping targets (1344x832)\n"
    "  --spread               walk everyone to an even grid over the world before measuring\n"
    "  --spread-timeout S     give up waiting for the grid after S seconds (400)\n"
    "  --compact              speak cmmo.v2: offer that WebSocket subprotocol, movement arrives "
    "as\n"
    "                         Move frames; a server that does not select it fails every connect\n"
    "  --storm N              N more players (existing accounts) log in at once during the window\n"
    "  --storm-delay S        ... S seconds into the window (1)\n"
    "  --warmup S             play S seconds before measuring (2)\n"
    "  --duration S           measured window (10)\n"
    "  --drain S              wait at most S seconds after the window for late chats (3)\n"
    "  --login-timeout S      a login unanswered after S seconds fails (60)\n"
    "  --ramp-timeout S       stop waiting for logins after S seconds (900)\n"
    "  --max-runtime S        hard cap on the whole run (3600, at most 14400)\n"
    "  --server-pid PID       sample this process's CPU and memory from /proc\n"
    "  --json FILE            write the result object there instead of stdout\n"
    "  --label STR            a name for the run, copied into the JSON\n"
    "  --seed N               random seed (time-based)\n"
    "  --quiet                no progress lines on stderr\n"
    "  --help\n";

enum {
    OPT_HOST = 256,
    OPT_PORT,
    OPT_PORTS,
    OPT_PLAYERS,
    OPT_REGISTER,
    OPT_REUSE,
    OPT_REGISTER_ONLY,
    OPT_PREFIX,
    OPT_FIRST_INDEX,
    OPT_RATE,
    OPT_MAX_INFLIGHT,
    OPT_TARGET_INTERVAL,
    OPT_TARGET_RADIUS,
    OPT_CHAT_INTERVAL,
    OPT_WORLD,
    OPT_SPREAD,
    OPT_SPREAD_TIMEOUT,
    OPT_COMPACT,
    OPT_STORM,
    OPT_STORM_DELAY,
    OPT_WARMUP,
    OPT_DURATION,
    OPT_DRAIN,
    OPT_LOGIN_TIMEOUT,
    OPT_RAMP_TIMEOUT,
    OPT_MAX_RUNTIME,
    OPT_SERVER_PID,
    OPT_JSON,
    OPT_LABEL,
    OPT_SEED,
    OPT_QUIET,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"ports", required_argument, NULL, OPT_PORTS},
    {"players", required_argument, NULL, OPT_PLAYERS},
    {"register", no_argument, NULL, OPT_REGISTER},
    {"reuse", no_argument, NULL, OPT_REUSE},
    {"register-only", no_argument, NULL, OPT_REGISTER_ONLY},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"first-index", required_argument, NULL, OPT_FIRST_INDEX},
    {"rate", required_argument, NULL, OPT_RATE},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"target-interval", required_argument, NULL, OPT_TARGET_INTERVAL},
    {"target-radius", required_argument, NULL, OPT_TARGET_RADIUS},
    {"chat-interval", required_argument, NULL, OPT_CHAT_INTERVAL},
    {"world", required_argument, NULL, OPT_WORLD},
    {"spread", no_argument, NULL, OPT_SPREAD},
    {"spread-timeout", required_argument, NULL, OPT_SPREAD_TIMEOUT},
    {"compact", no_argument, NULL, OPT_COMPACT},
    {"storm", required_argument, NULL, OPT_STORM},
    {"storm-delay", required_argument, NULL, OPT_STORM_DELAY},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"drain", required_argument, NULL, OPT_DRAIN},
    {"login-timeout", required_argument, NULL, OPT_LOGIN_TIMEOUT},
    {"ramp-timeout", required_argument, NULL, OPT_RAMP_TIMEOUT},
    {"max-runtime", required_argument, NULL, OPT_MAX_RUNTIME},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"json", required_argument, NULL, OPT_JSON},
    {"label", required_argument, NULL, OPT_LABEL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Parses a number in [lo, hi]; prints the reason and returns -1 otherwise. */
static int parse_number(const char *name, const char *arg, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "cmmo-bench: --%s wants a number from %g to %g, not '%s'\n", name, lo, hi,
                arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* --ports P1,P2,...: 1 to BENCH_MAX_PORTS ports. Returns 0 or -1 (printed). */
static int parse_ports(const char *name, const char *arg, struct bench_opts *o)
{
    o->n_ports = 0;
    const char *p = arg;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 65535 || (*end && *end != ',') ||
            o->n_ports == BENCH_MAX_PORTS) {
            fprintf(stderr, "cmmo-bench: --%s: a list of 1 to %d ports, got '%s'\n", name,
                    BENCH_MAX_PORTS, arg);
            return -1;
        }
        o->ports[o->n_ports++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (o->n_ports == 0) return -1;
    o->port = o->ports[0];
    return 0;
}

static int copy_string(const char *name, const char *arg, char *out, size_t cap)
{
    size_t n = strlen(arg);
    if (n >= cap) {
        fprintf(stderr, "cmmo-bench: --%s is longer than %zu characters\n", name, cap - 1);
        return -1;
    }
    memcpy(out, arg, n + 1);
    return 0;
}

/* Only 127.0.0.0/8: this tool opens thousands of connections and must never aim them elsewhere. */
static int check_loopback(const char *host)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
        fprintf(stderr,
                "cmmo-bench: --host must be an IPv4 loopback address (127.x.x.x), not '%s'\n",
                host);
        return -1;
    }
    return 0;
}

static int check_prefix(const char *p)
{
    for (const char *c = p; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-')) {
            fprintf(stderr, "cmmo-bench: --prefix may hold only letters, digits, _ and -\n");
            return -1;
        }
    }
    return 0;
}

static void random_prefix(char *out, uint64_t seed)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < 4; i++) {
        out[i] = digits[seed % 36];
        seed /= 36;
    }
    out[4] = '\0';
}

static void set_defaults(struct bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    strcpy(o->host, "127.0.0.1");
    o->players = 10;
    o->storm_delay_s = 1;
    o->register_accounts = 1;
    o->rate = 200;
    o->max_inflight = 32;
    o->target_interval_s = 0.5;
    o->target_radius = 200;
    o->chat_interval_s = 2;
    o->duration_s = 10;
    o->warmup_s = 2;
    o->drain_s = 3;
    o->world_w = 1344;
    o->world_h = 832;
    o->spread_timeout_s = 400;
    o->login_timeout_s = 60;
    o->ramp_timeout_s = 900;
    o->max_runtime_s = 3600;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20;
}

int bench_opts_parse(int argc, char **argv, struct bench_opts *o)
{
    set_defaults(o);
    int have_prefix = 0, have_seed = 0;
    double v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *lo = long_opts; lo->name; lo++)
            if (lo->val == c) name = lo->name;
        int rc = 0;
        switch (c) {
        case OPT_HOST:
            rc = copy_string(name, optarg, o->host, sizeof(o->host));
            break;
        case OPT_PORT:
            rc = parse_number(name, optarg, 1, 65535, &v);
            o->port = (int)v;
            o->ports[0] = o->port;
            o->n_ports = 1;
            break;
        case OPT_PORTS:
            rc = parse_ports(name, optarg, o);
            break;
        case OPT_PLAYERS:
            rc = parse_number(name, optarg, 1, BENCH_MAX_PLAYERS, &v);
            o->players = (uint32_t)v;
            break;
        case OPT_REGISTER:
            o->register_accounts = 1;
            break;
        case OPT_REUSE:
            o->register_accounts = 0;
            break;
        case OPT_REGISTER_ONLY:
            o->register_accounts = 1;
            o->register_only = 1;
            break;
        case OPT_PREFIX:
            rc = copy_string(name, optarg, o->prefix, sizeof(o->prefix));
            if (rc == 0) rc = check_prefix(o->prefix);
            have_prefix = 1;
            break;
        case OPT_FIRST_INDEX:
            rc = parse_number(name, optarg, 0, 999999, &v);
            o->first_index = (uint32_t)v;
            break;
        case OPT_RATE:
            rc = parse_number(name, optarg, 0.1, 100000, &o->rate);
            break;
        case OPT_MAX_INFLIGHT:
            rc = parse_number(name, optarg, 1, BENCH_MAX_PLAYERS, &v);
            o->max_inflight = (uint32_t)v;
            break;
        case OPT_TARGET_INTERVAL:
            rc = parse_number(name, optarg, 0, 3600, &o->target_interval_s);
            break;
        case OPT_TARGET_RADIUS:
            rc = parse_number(name, optarg, 0, 1e6, &o->target_radius);
            break;
        case OPT_CHAT_INTERVAL:
            rc = parse_number(name, optarg, 0, 3600, &o->chat_interval_s);
            break;
        case OPT_WORLD:
            if (sscanf(optarg, "%lfx%lf", &o->world_w, &o->world_h) != 2 || o->world_w < 1 ||
                o->world_h < 1 || o->world_w > 1e7 || o->world_h > 1e7) {
                fprintf(stderr, "cmmo-bench: --world wants WxH, e.g. 16000x16000\n");
                rc = -1;
            }
            break;
        case OPT_SPREAD:
            o->spread = 1;
            break;
        case OPT_SPREAD_TIMEOUT:
            rc = parse_number(name, optarg, 0, BENCH_MAX_RUNTIME_S, &o->spread_timeout_s);
            break;
        case OPT_COMPACT:
            o->compact = 1;
            break;
        case OPT_STORM:
            rc = parse_number(name, optarg, 0, BENCH_MAX_PLAYERS, &v);
            o->storm = (uint32_t)v;
            break;
        case OPT_STORM_DELAY:
            rc = parse_number(name, optarg, 0, 3600, &o->storm_delay_s);
            break;
        case OPT_WARMUP:
            rc = parse_number(name, optarg, 0, 3600, &o->warmup_s);
            break;
        case OPT_DURATION:
            rc = parse_number(name, optarg, 0, BENCH_MAX_RUNTIME_S, &o->duration_s);
            break;
        case OPT_DRAIN:
            rc = parse_number(name, optarg, 0, 600, &o->drain_s);
            break;
        case OPT_LOGIN_TIMEOUT:
            rc = parse_number(name, optarg, 0.1, 3600, &o->login_timeout_s);
            break;
        case OPT_RAMP_TIMEOUT:
            rc = parse_number(name, optarg, 0.1, BENCH_MAX_RUNTIME_S, &o->ramp_timeout_s);
            break;
        case OPT_MAX_RUNTIME:
            rc = parse_number(name, optarg, 1, BENCH_MAX_RUNTIME_S, &o->max_runtime_s);
            break;
        case OPT_SERVER_PID:
            rc = parse_number(name, optarg, 1, 1 << 30, &v);
            o->server_pid = (pid_t)v;
            break;
        case OPT_JSON:
            rc = copy_string(name, optarg, o->json_path, sizeof(o->json_path));
            break;
        case OPT_LABEL:
            rc = copy_string(name, optarg, o->label, sizeof(o->label));
            break;
        case OPT_SEED:
            rc = parse_number(name, optarg, 0, 9e15, &v);
            o->seed = (uint64_t)v;
            have_seed = 1;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            return 1;
        default:
            fputs(usage, stderr);
            return -1;
        }
        if (rc != 0) return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "cmmo-bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->port == 0 || o->n_ports == 0) {
        fprintf(stderr, "cmmo-bench: --port is required\n%s", usage);
        return -1;
    }
    if (check_loopback(o->host) != 0) return -1;
    if (!have_prefix) random_prefix(o->prefix, o->seed ^ (uint64_t)getpid() * 2654435761u);
    (void)have_seed;
    /* "b" + prefix + the largest index must fit the server's 20-character usernames. */
    char probe[64];
    int n = snprintf(probe, sizeof(probe), "b%s%u", o->prefix,
                     o->first_index + o->players + o->storm - 1);
    if (n > 20) {
        fprintf(stderr, "cmmo-bench: account names would exceed 20 characters ('%s')\n", probe);
        return -1;
    }
    if (o->storm > 0 && o->register_accounts && !o->register_only)
        fprintf(stderr, "cmmo-bench: note: --storm players log in without registering; their "
                        "accounts must exist (run --register-only first)\n");
    if ((uint64_t)o->players + o->storm > BENCH_MAX_PLAYERS) {
        fprintf(stderr, "cmmo-bench: --players + --storm exceeds %d\n", BENCH_MAX_PLAYERS);
        return -1;
    }
    return 0;
}
