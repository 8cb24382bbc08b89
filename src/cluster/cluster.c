#include "cluster/cluster.h"

#include "core/grow.h"
#include "cluster/redis_uv.h"
#include "cluster/wire.h"
#include "core/log.h"
#include "game/actor.h"
#include "game/game.h"

#include <ctype.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- limits and names */

/* Wire format version, first byte of every message (docs/SCALING.md). */
#define WIRE_VERSION 1
/* A region batch is cut into messages of at most this size, so that one busy region cannot make
 * one huge PUBLISH (Redis copies each message to every subscriber's buffer). */
#define MESSAGE_MAX 65536
/* Above this many unsent bytes to Redis, publishing stops (counted as dropped) until it drains:
 * a stalled Redis must not grow the node's memory without bound. Claims still go out. */
#define OUTBOUND_MAX (8u << 20)
/* Presence keys per refresh script call (Redis scripts take their keys as arguments). */
#define REFRESH_BATCH 512
/* A region left by every local viewer stays subscribed this long, so a player walking along a
 * region border does not subscribe and unsubscribe at every step. */
#define UNSUBSCRIBE_LINGER_MS 2000
#define RECONNECT_MS 1000
#define CONNECT_TIMEOUT_MS 2000
/* A claim not answered within this long fails (the Login is told "Server busy, try again"): a
 * Login is answered within 2 s whatever Redis does. An answer that comes later is not used: a
 * claim granted only after such a wait may have found the owner's claim expired because the
 * owner could not renew it through the same stall (a granted one is given back). */
#define CLAIM_TIMEOUT_MS 1000
/* Claims are refreshed this often: five times per TTL, so that a Redis stall of up to
 * TTL - CLUSTER_PRESENCE_TTL_MS / 5 - TRUST_MARGIN_MS (11 s) costs no player its place. */
#define REFRESH_MS (CLUSTER_PRESENCE_TTL_MS / 5)
/* A node that has not renewed its claims for TTL - TRUST_MARGIN_MS stops trusting them and
 * closes its players: from then on another node may be granted their accounts. The margin
 * covers a tick's lateness and the hop between the node's clock and Redis's. */
#define TRUST_MARGIN_MS 1000
/* The node id's own key lives this long unless refreshed (every NODE_REFRESH_MS): a node
 * killed with -9 holds its id this long; a node started with that id waits for it. */
#define NODE_TTL_MS 5000
#define NODE_REFRESH_MS 1000

#define CHANNEL_CHAT "cmmo:chat"
#define CHANNEL_NODES "cmmo:nodes"
#define PRESENCE_PREFIX "cmmo:presence:"
#define NODE_PREFIX "cmmo:node:"
/* Told to a player whose chat line could not be published (docs/SCALING.md). */
#define CHAT_NOT_SENT "Your last line did not reach players on other nodes (cluster link down)"
#define CHAT_MAYBE_LOST                                                                            \
    "Your last line may not have reached players on other nodes (cluster link lost)"

/* KEYS[1] presence key, ARGV[1] node, ARGV[2] ttl: 1 if now ours (free, or ours already). */
static const char SCRIPT_CLAIM[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "return 1 end return 0";
/* KEYS presence keys, ARGV[1] node: deletes the ones that are ours. */
static const char SCRIPT_RELEASE[] =
    "for _, k in ipairs(KEYS) do if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) "
    "end end return 0";
/* KEYS presence keys, ARGV[1] node, ARGV[2] ttl: extends ours (and retakes expired ones);
 * returns the 1-based indexes of those another node holds now. */
static const char SCRIPT_REFRESH[] =
    "local lost = {} for i, k in ipairs(KEYS) do local v = redis.call('GET', k) "
    "if v == false or v == ARGV[1] then redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) "
    "else lost[#lost + 1] = i end end return lost";

/* KEYS[1] node key, ARGV[1] this process's token, ARGV[2] ttl: 1 if the id is ours (free, or
 * ours already), 0 if another live process holds it. */
static const char SCRIPT_NODE[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "return 1 end return 0";
/* KEYS[1] node key, ARGV[1] token: deletes it if ours. */
static const char SCRIPT_NODE_RELEASE[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0";

/* ---------------------------------------------------------------- state */

/* A claim sent and not answered yet. Once timed out (done == NULL) it only waits for its answer
 * to be freed, and to give back a claim granted too late. */
typedef struct claim_request {
    struct cluster *cluster;
    struct claim_request *prev, *next;
    int64_t actor_id;
    uint64_t sent_ms;
    void (*done)(void *user, int result);
    void *user;
} claim_request;

/* An actor of another node mirrored into the world. */
typedef struct remote {
    int64_t id;
    uint64_t last_seen_ms;
    int32_t region; /* the region channel it was last announced on */
    uint8_t node_len;
    char node[CLUSTER_NODE_ID_MAX];
} remote;

/* One record of this tick's outgoing batches: bytes at off in the arena, for region. */
typedef struct record {
    int32_t region;
    uint32_t off, len;
} record;

typedef struct subscription {
    int32_t region;
    uint64_t wanted_ms; /* last time a local viewer could see it */
} subscription;

struct cluster {
    uv_loop_t *loop;
    game *game;
    char host[256];
    int port;
    char node[CLUSTER_NODE_ID_MAX + 1];
    size_t node_len;
    char region_prefix[128]; /* "cmmo:w:<tag>:" */
    size_t region_prefix_len;
    redisAsyncContext *cmd, *sub; /* NULL while (re)connecting */
    int cmd_up, sub_up;           /* connected and usable */
    uint64_t next_connect_ms, connect_started_ms;
    uint32_t chat_seq;
    uint64_t now_ms;
    uint64_t last_keyframe_ms, last_refresh_ms, last_sweep_ms;
    /* This tick's outgoing records. */
    uint8_t *arena;
    size_t arena_len, arena_cap;
    record *records;
    size_t records_len, records_cap;
    uint8_t *message; /* scratch for building one message */
    /* Region subscriptions, sorted by region (as sent; confirmation is not awaited). */
    subscription *subs;
    size_t subs_len, subs_cap;
    /* Remote actors, sorted by id. */
    remote *remotes;
    size_t remotes_len, remotes_cap;
    int64_t *ids; /* scratch: local actor ids for refresh / release */
    size_t ids_len, ids_cap;
    /* Releases sent and not yet answered: at stop they are sent again on the blocking
     * connection, since freeing the asynchronous one drops what it has not written. */
    int64_t *releasing;
    size_t releasing_len, releasing_cap;
    int stopping;
    uint64_t dropped_publishes;
    /* Claims in flight, oldest first. */
    claim_request *claims_head, *claims_tail;
    /* Every local player's claim was renewed by a refresh sent at this time (or there were no
     * local players then): they are valid until renewed_ms + CLUSTER_PRESENCE_TTL_MS. */
    uint64_t renewed_ms;
    uint64_t last_node_refresh_ms;
    char node_key[sizeof NODE_PREFIX + CLUSTER_NODE_ID_MAX];
    char token[64]; /* this process's value of the node key */
};

/* ---------------------------------------------------------------- configuration */

/* Splits redis://HOST[:PORT][/] into host and port. Returns 0 or -1. */
static int parse_url(const char *url, char *host, size_t host_cap, int *port)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0) return -1;
    p += 8;
    const char *end = p + strcspn(p, "/");
    if (*end == '/' && end[1] != 0) return -1; /* no database or path: pub/sub ignores them */
    const char *h = p, *h_end, *colon;
    if (*h == '[') {
        h_end = memchr(h, ']', (size_t)(end - h));
        if (!h_end) return -1;
        h++;
        colon = h_end + 1 < end && h_end[1] == ':' ? h_end + 1 : NULL;
        if (!colon && h_end + 1 != end) return -1;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        h_end = colon ? colon : end;
    }
    size_t hl = (size_t)(h_end - h);
    if (hl == 0 || hl >= host_cap) return -1;
    for (size_t i = 0; i < hl; i++)
        if (!isalnum((unsigned char)h[i]) && !strchr(".-_:", h[i])) return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = 6379;
    if (colon) {
        long n = 0;
        const char *d = colon + 1;
        if (d == end) return -1;
        for (; d < end; d++) {
            if (!isdigit((unsigned char)*d)) return -1;
            n = n * 10 + (*d - '0');
            if (n > 65535) return -1;
        }
        if (n < 1) return -1;
        *port = (int)n;
    }
    return 0;
}

int cluster_url_valid(const char *url)
{
    char host[256];
    int port;
    return parse_url(url, host, sizeof host, &port) == 0;
}

int cluster_node_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > CLUSTER_NODE_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("._:-", id[i])) return 0;
    return 1;
}

/* ---------------------------------------------------------------- encoding */

/* The header every message starts with: version and sender node. */
static void put_header(cluster *c, uint8_t **p)
{
    wire_put_u8(p, WIRE_VERSION);
    wire_put_u8(p, (uint8_t)c->node_len);
    wire_put_bytes(p, c->node, c->node_len);
}

/* Reads the header; returns 0 with the sender in node/node_len, or -1. */
static int get_header(wire_reader *r, char *node, uint8_t *node_len)
{
    if (wire_get_u8(r) != WIRE_VERSION) return -1;
    *node_len = wire_get_u8(r);
    if (*node_len == 0 || *node_len > CLUSTER_NODE_ID_MAX) return -1;
    return wire_get(r, node, *node_len);
}

/* ---------------------------------------------------------------- redis plumbing */

/* PUBLISH on the command connection; fn (may be NULL) gets the reply. Returns 0, or -1 when
 * there is no connection or too much is unsent (then fn is never called). */
static int publish_with(cluster *c, const char *channel, size_t channel_len, const void *data,
                        size_t len, redisCallbackFn *fn, void *priv)
{
    if (!c->cmd_up) return -1;
    if (c->cmd->c.obuf && sdslen(c->cmd->c.obuf) > OUTBOUND_MAX) {
        c->dropped_publishes++;
        return -1;
    }
    const char *argv[3] = {"PUBLISH", channel, data};
    size_t lens[3] = {7, channel_len, len};
    return redisAsyncCommandArgv(c->cmd, fn, priv, 3, argv, lens) == REDIS_OK ? 0 : -1;
}

static int publish(cluster *c, const char *channel, size_t channel_len, const void *data,
                   size_t len)
{
    return publish_with(c, channel, channel_len, data, len, NULL, NULL);
}

static void region_channel(const cluster *c, int32_t region, char *out, size_t cap, size_t *len)
{
    int n = snprintf(out, cap, "%s%ld", c->region_prefix, (long)region);
    *len = n > 0 ? (size_t)n : 0;
}

static void on_cmd_connect(const redisAsyncContext *ac, int status)
{
    cluster *c = ac->data;
    if (!c) return;
    if (status != REDIS_OK) {
        log_warn("cluster_connect_failed", "conn=cmd error=\"%s\"", ac->errstr);
        c->cmd = NULL; /* hiredis frees it */
        return;
    }
    c->cmd_up = 1;
    /* Renew at the next tick, not up to REFRESH_MS later: after an outage the claims are close
     * to the point where this node stops trusting them. */
    c->last_refresh_ms = c->last_node_refresh_ms = 0;
    redisAsyncCommand(c->cmd, NULL, NULL, "CLIENT SETNAME cmmo:%s:cmd", c->node);
    log_info("cluster_connected", "conn=cmd node=%s", c->node);
}

static void on_cmd_disconnect(const redisAsyncContext *ac, int status)
{
    cluster *c = ac->data;
    if (!c) return;
    if (status != REDIS_OK) log_warn("cluster_disconnected", "conn=cmd error=\"%s\"", ac->errstr);
    c->cmd = NULL;
    c->cmd_up = 0;
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv);

static void subscribe_fixed(cluster *c)
{
    redisAsyncCommand(c->sub, on_message, c, "SUBSCRIBE %s %s", CHANNEL_CHAT, CHANNEL_NODES);
}

static void on_sub_connect(const redisAsyncContext *ac, int status)
{
    cluster *c = ac->data;
    if (!c) return;
    if (status != REDIS_OK) {
        log_warn("cluster_connect_failed", "conn=sub error=\"%s\"", ac->errstr);
        c->sub = NULL;
        return;
    }
    c->sub_up = 1;
    c->subs_len = 0; /* a new connection has no subscriptions: the next tick makes them */
    redisAsyncCommand(c->sub, NULL, NULL, "CLIENT SETNAME cmmo:%s:sub", c->node);
    subscribe_fixed(c);
    log_info("cluster_connected", "conn=sub node=%s", c->node);
}

static void drop_remotes_where(cluster *c, int (*match)(const remote *r, const void *arg),
                               const void *arg);
static int match_all(const remote *r, const void *arg)
{
    return 1;
}

static void on_sub_disconnect(const redisAsyncContext *ac, int status)
{
    cluster *c = ac->data;
    if (!c) return;
    if (status != REDIS_OK) log_warn("cluster_disconnected", "conn=sub error=\"%s\"", ac->errstr);
    c->sub = NULL;
    c->sub_up = 0;
    c->subs_len = 0;
}

static redisAsyncContext *connect_async(cluster *c, redisConnectCallback *on_connect,
                                        redisDisconnectCallback *on_disconnect)
{
    redisAsyncContext *ac = redisAsyncConnect(c->host, c->port);
    if (!ac) return NULL;
    if (ac->err) {
        log_warn("cluster_connect_failed", "error=\"%s\"", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = c;
    if (redis_uv_attach(ac, c->loop) != 0) {
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

/* A connect that is not up within CONNECT_TIMEOUT_MS (a Redis that accepts and never answers)
 * is abandoned and made again. */
static void abandon_if_stuck(cluster *c, redisAsyncContext **ac, int up)
{
    if (!*ac || up || c->now_ms - c->connect_started_ms < CONNECT_TIMEOUT_MS) return;
    redisAsyncContext *stuck = *ac;
    *ac = NULL;
    stuck->data = NULL; /* no callback of ours may run for it */
    redisAsyncFree(stuck);
    log_warn("cluster_connect_failed", "host=%s port=%d reason=timeout", c->host, c->port);
}

static void reconnect(cluster *c)
{
    abandon_if_stuck(c, &c->cmd, c->cmd_up);
    abandon_if_stuck(c, &c->sub, c->sub_up);
    if (c->now_ms < c->next_connect_ms) return;
    if (c->cmd && c->sub) return;
    c->next_connect_ms = c->now_ms + RECONNECT_MS;
    c->connect_started_ms = c->now_ms;
    if (!c->cmd) c->cmd = connect_async(c, on_cmd_connect, on_cmd_disconnect);
    if (!c->sub) c->sub = connect_async(c, on_sub_connect, on_sub_disconnect);
}

/* ---------------------------------------------------------------- remote actors */

static size_t remote_lower_bound(const cluster *c, int64_t id)
{
    size_t lo = 0, hi = c->remotes_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->remotes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static remote *remote_find(cluster *c, int64_t id)
{
    size_t i = remote_lower_bound(c, id);
    return i < c->remotes_len && c->remotes[i].id == id ? &c->remotes[i] : NULL;
}

static void remote_remove(cluster *c, remote *r)
{
    game_remote_leave(c->game, r->id);
    size_t i = (size_t)(r - c->remotes);
    memmove(c->remotes + i, c->remotes + i + 1, (c->remotes_len - i - 1) * sizeof *c->remotes);
    c->remotes_len--;
}

static void drop_remotes_where(cluster *c, int (*match)(const remote *r, const void *arg),
                               const void *arg)
{
    size_t out = 0;
    for (size_t i = 0; i < c->remotes_len; i++) {
        remote *r = &c->remotes[i];
        if (match(r, arg)) {
            game_remote_leave(c->game, r->id);
            continue;
        }
        c->remotes[out++] = *r;
    }
    c->remotes_len = out;
}

static int same_node(const remote *r, const char *node, uint8_t node_len)
{
    return r->node_len == node_len && memcmp(r->node, node, node_len) == 0;
}

typedef struct node_arg {
    const char *node;
    uint8_t len;
} node_arg;
static int match_node(const remote *r, const void *arg)
{
    const node_arg *n = arg;
    return same_node(r, n->node, n->len);
}
static int match_region(const remote *r, const void *arg)
{
    return r->region == *(const int32_t *)arg;
}
static int match_stale(const remote *r, const void *arg)
{
    return r->last_seen_ms + CLUSTER_REMOTE_TIMEOUT_MS < *(const uint64_t *)arg;
}

static int subscribed(const cluster *c, int32_t region)
{
    size_t lo = 0, hi = c->subs_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->subs[mid].region < region)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->subs_len && c->subs[lo].region == region;
}

/* A join (or keyframe) from node for a region: introduce the actor, or move it there. */
static void apply_join(cluster *c, const game_actor *acc, int32_t region, const char *node,
                       uint8_t node_len)
{
    remote *r = remote_find(c, acc->actor_id);
    if (r) {
        /* A join from another node than the one we knew: the player moved over (the old node's
         * late messages are then ignored). */
        if (!same_node(r, node, node_len)) {
            memcpy(r->node, node, node_len);
            r->node_len = node_len;
        }
        r->region = region;
        r->last_seen_ms = c->now_ms;
        game_remote_move(c->game, r->id, acc->x, acc->y);
        return;
    }
    /* Played here (our claim says it is ours), or no memory: game_remote_join refuses. */
    if (grow(&c->remotes, &c->remotes_cap, c->remotes_len + 1, sizeof *c->remotes) != 0) return;
    if (game_remote_join(c->game, acc) != 0) return;
    size_t i = remote_lower_bound(c, acc->actor_id);
    memmove(c->remotes + i + 1, c->remotes + i, (c->remotes_len - i) * sizeof *c->remotes);
    remote *n = &c->remotes[i];
    memset(n, 0, sizeof *n);
    n->id = acc->actor_id;
    n->last_seen_ms = c->now_ms;
    n->region = region;
    n->node_len = node_len;
    memcpy(n->node, node, node_len);
    c->remotes_len++;
}

/* One region message: the sender's joins, moves, exits and leaves of one tick, in order. */
static void receive_region(cluster *c, int32_t region, const uint8_t *data, size_t len)
{
    wire_reader r = {data, data + len, 0};
    char node[CLUSTER_NODE_ID_MAX];
    uint8_t node_len;
    if (get_header(&r, node, &node_len) != 0) return;
    if (node_len == c->node_len && memcmp(node, c->node, node_len) == 0) return; /* our own */
    while (!r.bad && r.p < r.end) {
        uint8_t type = wire_get_u8(&r);
        int64_t id = wire_get_i64(&r);
        if (type == REC_JOIN) {
            game_actor acc;
            if (wire_get_join(&r, id, &acc) != 0) return;
            apply_join(c, &acc, region, node, node_len);
            continue;
        }
        remote *known = remote_find(c, id);
        if (type == REC_MOVE) {
            double x = wire_get_f64(&r), y = wire_get_f64(&r);
            if (r.bad) return;
            if (known && same_node(known, node, node_len)) {
                known->last_seen_ms = c->now_ms;
                game_remote_move(c->game, known->id, x, y);
            }
        } else if (type == REC_LEAVE) {
            if (r.bad) return;
            if (known && same_node(known, node, node_len)) remote_remove(c, known);
        } else if (type == REC_EXIT) {
            int32_t to = (int32_t)wire_get_u32(&r);
            if (r.bad) return;
            /* Gone to a region nobody here can see: drop it (a join follows where we do). */
            if (known && same_node(known, node, node_len) && !subscribed(c, to))
                remote_remove(c, known);
        } else {
            return; /* unknown record: the rest cannot be framed */
        }
    }
}

static void receive_chat(cluster *c, const uint8_t *data, size_t len)
{
    wire_reader r = {data, data + len, 0};
    char node[CLUSTER_NODE_ID_MAX];
    uint8_t node_len;
    if (get_header(&r, node, &node_len) != 0) return;
    if (node_len == c->node_len && memcmp(node, c->node, node_len) == 0) return;
    wire_get_u32(&r); /* sequence: for debugging; pub/sub keeps each node's order */
    char name[GAME_ACTOR_NAME_MAX];
    uint8_t name_len = wire_get_u8(&r);
    if (name_len == 0 || name_len > GAME_ACTOR_NAME_MAX || wire_get(&r, name, name_len) != 0)
        return;
    uint32_t text_len = wire_get_u32(&r);
    if (r.bad || text_len != (size_t)(r.end - r.p)) return;
    game_remote_chat(c->game, name, name_len, (const char *)r.p, text_len);
}

/* A node that shut down cleanly: its actors go now rather than after the timeout. */
static void receive_bye(cluster *c, const uint8_t *data, size_t len)
{
    wire_reader r = {data, data + len, 0};
    char node[CLUSTER_NODE_ID_MAX];
    uint8_t node_len;
    if (get_header(&r, node, &node_len) != 0) return;
    node_arg arg = {node, node_len};
    drop_remotes_where(c, match_node, &arg);
    log_info("cluster_node_left", "node=%.*s", (int)node_len, node);
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = priv;
    redisReply *m = reply;
    if (!m || m->type != REDIS_REPLY_ARRAY || m->elements != 3) return;
    redisReply *kind = m->element[0], *ch = m->element[1], *data = m->element[2];
    if (kind->type != REDIS_REPLY_STRING || strcmp(kind->str, "message") != 0) return;
    if (ch->type != REDIS_REPLY_STRING || data->type != REDIS_REPLY_STRING) return;
    c->now_ms = uv_now(c->loop);
    const uint8_t *d = (const uint8_t *)data->str;
    size_t n = data->len;
    if (ch->len > c->region_prefix_len &&
        memcmp(ch->str, c->region_prefix, c->region_prefix_len) == 0) {
        char *end;
        long region = strtol(ch->str + c->region_prefix_len, &end, 10);
        if (*end || region < 0 || (size_t)region >= game_region_count(c->game)) return;
        receive_region(c, (int32_t)region, d, n);
    } else if (strcmp(ch->str, CHANNEL_CHAT) == 0) {
        receive_chat(c, d, n);
    } else if (strcmp(ch->str, CHANNEL_NODES) == 0) {
        receive_bye(c, d, n);
    }
}

/* ---------------------------------------------------------------- presence */

static void claims_unlink(cluster *c, claim_request *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        c->claims_head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        c->claims_tail = q->prev;
}

/* Another claim of this node for the account, still waiting for its answer. */
static int claim_pending(const cluster *c, const claim_request *except, int64_t actor_id)
{
    for (const claim_request *q = c->claims_head; q; q = q->next)
        if (q != except && q->done && q->actor_id == actor_id) return 1;
    return 0;
}

static void cluster_release(void *ctx, int64_t actor_id);

static void on_claimed(redisAsyncContext *ac, void *reply, void *priv)
{
    claim_request *q = priv;
    cluster *c = q->cluster;
    redisReply *r = reply;
    int result = GAME_CLAIM_ERROR;
    if (r && r->type == REDIS_REPLY_INTEGER)
        result = r->integer == 1 ? GAME_CLAIM_OK : GAME_CLAIM_TAKEN;
    claims_unlink(c, q);
    if (!q->done) {
        /* Timed out: the session was told to try again. A claim granted now is given back,
         * unless this node plays the account or asks for it again meanwhile. */
        log_info("cluster_claim_late", "actor=%lld result=%d waited_ms=%llu",
                 (long long)q->actor_id, result, (unsigned long long)(c->now_ms - q->sent_ms));
        if (result == GAME_CLAIM_OK && !c->stopping && !game_local_name(c->game, q->actor_id) &&
            !claim_pending(c, q, q->actor_id))
            cluster_release(c, q->actor_id);
        free(q);
        return;
    }
    log_debug("cluster_claim", "actor=%lld result=%d", (long long)q->actor_id, result);
    if (result == GAME_CLAIM_OK) {
        /* The player comes here from a node we still mirror (it died, or the leave is late). */
        remote *known = remote_find(c, q->actor_id);
        if (known) remote_remove(c, known);
    }
    q->done(q->user, result);
    free(q);
}

/* Claims unanswered for CLAIM_TIMEOUT_MS fail now; their answers are awaited and dropped. */
static void expire_claims(cluster *c)
{
    for (claim_request *q = c->claims_head; q; q = q->next) {
        if (c->now_ms - q->sent_ms < CLAIM_TIMEOUT_MS) break; /* oldest first */
        if (!q->done) continue;
        void (*done)(void *, int) = q->done;
        q->done = NULL;
        log_warn("cluster_claim_timeout", "actor=%lld", (long long)q->actor_id);
        done(q->user, GAME_CLAIM_ERROR);
    }
}

static void presence_key(int64_t actor_id, char *out, size_t cap)
{
    snprintf(out, cap, PRESENCE_PREFIX "%lld", (long long)actor_id);
}

static int cluster_claim(void *ctx, int64_t actor_id, void (*done)(void *user, int result),
                         void *user)
{
    cluster *c = ctx;
    if (!c->cmd_up) return -1;
    claim_request *q = malloc(sizeof *q);
    if (!q) return -1;
    *q = (claim_request){c, c->claims_tail, NULL, actor_id, uv_now(c->loop), done, user};
    char key[64], ttl[16];
    presence_key(actor_id, key, sizeof key);
    snprintf(ttl, sizeof ttl, "%d", CLUSTER_PRESENCE_TTL_MS);
    if (redisAsyncCommand(c->cmd, on_claimed, q, "EVAL %s 1 %s %s %s", SCRIPT_CLAIM, key, c->node,
                          ttl) != REDIS_OK) {
        free(q);
        return -1;
    }
    if (c->claims_tail)
        c->claims_tail->next = q;
    else
        c->claims_head = q;
    c->claims_tail = q;
    return 0;
}

/* Sends one script call over ids (at most REFRESH_BATCH) with the node and optional ttl. */
static int presence_script(redisAsyncContext *ac, redisCallbackFn *fn, void *priv,
                           const char *script, const cluster *c, const int64_t *ids, size_t n,
                           int with_ttl)
{
    const char *argv[REFRESH_BATCH + 6];
    size_t lens[REFRESH_BATCH + 6];
    char keys[REFRESH_BATCH][32], count[16], ttl[16];
    size_t k = 0;
    snprintf(count, sizeof count, "%zu", n);
    snprintf(ttl, sizeof ttl, "%d", CLUSTER_PRESENCE_TTL_MS);
    argv[k] = "EVAL", lens[k++] = 4;
    argv[k] = script, lens[k++] = strlen(script);
    argv[k] = count, lens[k++] = strlen(count);
    for (size_t i = 0; i < n; i++) {
        presence_key(ids[i], keys[i], sizeof keys[i]);
        argv[k] = keys[i], lens[k++] = strlen(keys[i]);
    }
    argv[k] = c->node, lens[k++] = c->node_len;
    if (with_ttl) argv[k] = ttl, lens[k++] = strlen(ttl);
    return redisAsyncCommandArgv(ac, fn, priv, (int)k, argv, lens) == REDIS_OK ? 0 : -1;
}

typedef struct release_request {
    cluster *cluster;
    int64_t actor_id;
} release_request;

static void on_released(redisAsyncContext *ac, void *reply, void *priv)
{
    release_request *q = priv;
    cluster *c = q->cluster;
    /* At stop an unanswered release stays listed, to be sent again. */
    if (reply || !c->stopping) {
        for (size_t i = 0; i < c->releasing_len; i++) {
            if (c->releasing[i] == q->actor_id) {
                c->releasing[i] = c->releasing[--c->releasing_len];
                break;
            }
        }
    }
    free(q);
}

static void cluster_release(void *ctx, int64_t actor_id)
{
    cluster *c = ctx;
    log_debug("cluster_release", "actor=%lld", (long long)actor_id);
    /* Without Redis the claim simply expires (CLUSTER_PRESENCE_TTL_MS). */
    if (!c->cmd_up) return;
    release_request *q = malloc(sizeof *q);
    if (!q ||
        grow(&c->releasing, &c->releasing_cap, c->releasing_len + 1, sizeof *c->releasing) != 0) {
        free(q);
        presence_script(c->cmd, NULL, NULL, SCRIPT_RELEASE, c, &actor_id, 1, 0);
        return;
    }
    *q = (release_request){c, actor_id};
    c->releasing[c->releasing_len++] = actor_id;
    if (presence_script(c->cmd, on_released, q, SCRIPT_RELEASE, c, &actor_id, 1, 0) != 0) {
        c->releasing_len--;
        free(q);
    }
}

typedef struct refresh_request {
    cluster *cluster;
    uint64_t sent_ms;
    size_t n;
    int64_t ids[];
} refresh_request;

/* Claims another node holds now (ours expired while Redis was unreachable and the player logged
 * in elsewhere): this node's copy of the player is the stale one and is closed. */
static void on_refreshed(redisAsyncContext *ac, void *reply, void *priv)
{
    refresh_request *q = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ARRAY && q->sent_ms > q->cluster->renewed_ms)
        q->cluster->renewed_ms = q->sent_ms;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_INTEGER || e->integer < 1 || (size_t)e->integer > q->n)
                continue;
            const char *name = game_local_name(q->cluster->game, q->ids[e->integer - 1]);
            if (!name) continue;
            log_warn("cluster_claim_lost", "user=%s", name);
            game_kick(q->cluster->game, name, GAME_CLOSE_ELSEWHERE);
        }
    }
    free(q);
}

static void collect_id(void *user, const game_actor *a, int32_t region)
{
    cluster *c = user;
    (void)region;
    if (grow(&c->ids, &c->ids_cap, c->ids_len + 1, sizeof *c->ids) == 0)
        c->ids[c->ids_len++] = a->actor_id;
}

static void collect_local_ids(cluster *c)
{
    c->ids_len = 0;
    game_each_local(c->game, collect_id, c);
}

static void refresh_claims(cluster *c)
{
    collect_local_ids(c);
    for (size_t i = 0; i < c->ids_len; i += REFRESH_BATCH) {
        size_t n = c->ids_len - i < REFRESH_BATCH ? c->ids_len - i : REFRESH_BATCH;
        refresh_request *q = malloc(sizeof *q + n * sizeof q->ids[0]);
        if (!q) return;
        q->cluster = c;
        q->sent_ms = c->now_ms;
        q->n = n;
        memcpy(q->ids, c->ids + i, n * sizeof q->ids[0]);
        if (presence_script(c->cmd, on_refreshed, q, SCRIPT_REFRESH, c, q->ids, n, 1) != 0) free(q);
    }
}

/* ---------------------------------------------------------------- publishing */

/* Reserves len bytes of a record for region; returns where to write them, or NULL. */
static uint8_t *record_add(cluster *c, int32_t region, size_t len)
{
    if (grow(&c->arena, &c->arena_cap, c->arena_len + len, 1) != 0 ||
        grow(&c->records, &c->records_cap, c->records_len + 1, sizeof *c->records) != 0)
        return NULL;
    c->records[c->records_len++] = (record){region, (uint32_t)c->arena_len, (uint32_t)len};
    uint8_t *p = c->arena + c->arena_len;
    c->arena_len += len;
    return p;
}

static void record_join(cluster *c, const game_actor *a, int32_t region)
{
    uint8_t *p = record_add(c, region, wire_join_size(a));
    if (p) wire_put_join(&p, a);
}

/* The game's observer: this tick's changes of local actors become records. */
static void on_local_change(void *ctx, game_actor_change change, const game_actor *a,
                            int32_t previous, int32_t region)
{
    cluster *c = ctx;
    uint8_t *p;
    switch (change) {
    case GAME_ACTOR_JOINED:
        record_join(c, a, region);
        break;
    case GAME_ACTOR_MOVED:
        if (region != previous) {
            if ((p = record_add(c, previous, 1 + 8 + 4))) {
                wire_put_u8(&p, REC_EXIT);
                wire_put_i64(&p, a->actor_id);
                wire_put_u32(&p, (uint32_t)region);
            }
            record_join(c, a, region);
        } else if ((p = record_add(c, region, 1 + 8 + 16))) {
            wire_put_u8(&p, REC_MOVE);
            wire_put_i64(&p, a->actor_id);
            wire_put_f64(&p, a->x);
            wire_put_f64(&p, a->y);
        }
        break;
    case GAME_ACTOR_LEFT:
        if ((p = record_add(c, previous, 1 + 8))) {
            wire_put_u8(&p, REC_LEAVE);
            wire_put_i64(&p, a->actor_id);
        }
        break;
    }
}

static void keyframe_one(void *user, const game_actor *a, int32_t region)
{
    cluster *c = user;
    record_join(c, a, region);
}

static int by_region_then_order(const void *x, const void *y)
{
    const record *a = x, *b = y;
    if (a->region != b->region) return (a->region > b->region) - (a->region < b->region);
    return (a->off > b->off) - (a->off < b->off);
}

/* One PUBLISH per region (cut at MESSAGE_MAX), records in the order they happened. */
static void flush_records(cluster *c)
{
    if (c->records_len == 0) return;
    qsort(c->records, c->records_len, sizeof *c->records, by_region_then_order);
    char channel[192];
    size_t channel_len;
    for (size_t i = 0; i < c->records_len;) {
        int32_t region = c->records[i].region;
        region_channel(c, region, channel, sizeof channel, &channel_len);
        uint8_t *p = c->message;
        put_header(c, &p);
        size_t start = (size_t)(p - c->message);
        while (i < c->records_len && c->records[i].region == region) {
            const record *r = &c->records[i];
            if ((size_t)(p - c->message) + r->len > MESSAGE_MAX) break;
            wire_put_bytes(&p, c->arena + r->off, r->len);
            i++;
        }
        if ((size_t)(p - c->message) > start)
            publish(c, channel, channel_len, c->message, (size_t)(p - c->message));
    }
    c->records_len = 0;
    c->arena_len = 0;
}

/* A chat line in flight: whom to tell if the connection is lost before Redis took it. */
typedef struct chat_request {
    cluster *cluster;
    char name[GAME_ACTOR_NAME_MAX + 1];
} chat_request;

static void on_chat_published(redisAsyncContext *ac, void *reply, void *priv)
{
    chat_request *q = priv;
    /* No reply: the connection went down with the line unanswered; it may or may not have been
     * relayed. Lines that waited out a stall are answered (and were relayed) in order. */
    if (!reply && !q->cluster->stopping) game_tell(q->cluster->game, q->name, CHAT_MAYBE_LOST);
    free(q);
}

/* Chat during an outage is not queued: the sender is told (docs/SCALING.md). A line accepted
 * by a connection that is stalled goes out, in order, when Redis answers again. */
static void cluster_chat(void *ctx, const char *name, size_t name_len, const char *text, size_t len)
{
    cluster *c = ctx;
    if (name_len > GAME_ACTOR_NAME_MAX || len > MESSAGE_MAX - 256) return;
    chat_request *q = malloc(sizeof *q);
    if (q) {
        q->cluster = c;
        memcpy(q->name, name, name_len);
        q->name[name_len] = 0;
    }
    uint8_t *p = c->message;
    put_header(c, &p);
    wire_put_u32(&p, ++c->chat_seq);
    wire_put_u8(&p, (uint8_t)name_len);
    wire_put_bytes(&p, name, name_len);
    wire_put_u32(&p, (uint32_t)len);
    wire_put_bytes(&p, text, len);
    if (publish_with(c, CHANNEL_CHAT, strlen(CHANNEL_CHAT), c->message, (size_t)(p - c->message),
                     q ? on_chat_published : NULL, q) != 0) {
        if (q) game_tell(c->game, q->name, CHAT_NOT_SENT);
        free(q);
    }
}

/* ---------------------------------------------------------------- subscriptions */

static void sync_subscriptions(cluster *c)
{
    if (!c->sub_up) return;
    const int32_t *want;
    size_t n = game_interest(c->game, &want);
    /* Merge: keep and refresh wanted ones, add new ones, drop the unwanted that lingered. */
    subscription *next = malloc((c->subs_len + n + 1) * sizeof *next);
    if (!next) return;
    size_t out = 0, i = 0, j = 0;
    char channel[192];
    size_t channel_len;
    while (i < c->subs_len || j < n) {
        if (j < n && (i == c->subs_len || want[j] < c->subs[i].region)) {
            region_channel(c, want[j], channel, sizeof channel, &channel_len);
            redisAsyncCommand(c->sub, on_message, c, "SUBSCRIBE %b", channel, channel_len);
            next[out++] = (subscription){want[j], c->now_ms};
            j++;
        } else if (i < c->subs_len && (j == n || c->subs[i].region < want[j])) {
            subscription s = c->subs[i++];
            if (c->now_ms - s.wanted_ms < UNSUBSCRIBE_LINGER_MS) {
                next[out++] = s;
                continue;
            }
            region_channel(c, s.region, channel, sizeof channel, &channel_len);
            redisAsyncCommand(c->sub, on_message, c, "UNSUBSCRIBE %b", channel, channel_len);
            drop_remotes_where(c, match_region, &s.region);
        } else {
            next[out++] = (subscription){want[j], c->now_ms};
            i++;
            j++;
        }
    }
    free(c->subs);
    c->subs = next;
    c->subs_len = out;
    c->subs_cap = c->subs_len + n + 1;
}

/* ---------------------------------------------------------------- trust */

/* Past renewed_ms + TTL - margin this node can no longer be sure that its players' accounts are
 * not granted elsewhere (their claims may have expired in Redis): it closes them rather than
 * let an account play twice. While Redis answers, refreshes keep renewed_ms recent. */
static void distrust_if_unrenewed(cluster *c)
{
    if (game_player_count(c->game) == 0) {
        c->renewed_ms = c->now_ms; /* nothing to trust */
        return;
    }
    if (c->now_ms < c->renewed_ms + CLUSTER_PRESENCE_TTL_MS - TRUST_MARGIN_MS) return;
    collect_local_ids(c);
    log_warn("cluster_claims_unrenewed", "node=%s players=%zu since_ms=%llu", c->node, c->ids_len,
             (unsigned long long)(c->now_ms - c->renewed_ms));
    for (size_t i = 0; i < c->ids_len; i++) {
        const char *name = game_local_name(c->game, c->ids[i]);
        if (name) game_kick(c->game, name, GAME_CLOSE_CLUSTER_LOST);
    }
    c->renewed_ms = c->now_ms; /* they are closing: not again every tick */
}

static void on_node_refreshed(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        log_error("cluster_node_id_taken", "node=%s another live process holds this node id",
                  c->node);
}

static void refresh_node(cluster *c)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", NODE_TTL_MS);
    redisAsyncCommand(c->cmd, on_node_refreshed, c, "EVAL %s 1 %s %s %s", SCRIPT_NODE, c->node_key,
                      c->token, ttl);
}

/* ---------------------------------------------------------------- lifecycle */

static redisContext *connect_blocking(const char *host, int port)
{
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000};
    redisContext *rc = redisConnectWithTimeout(host, port, tv);
    if (!rc) return NULL;
    if (rc->err || redisSetTimeout(rc, tv) != REDIS_OK) {
        log_error("cluster_unreachable", "host=%s port=%d error=\"%s\"", host, port, rc->errstr);
        redisFree(rc);
        return NULL;
    }
    return rc;
}

/* Takes this node's id key on the blocking start connection. A live node refreshes its key every
 * NODE_REFRESH_MS; the key of one that died lapses within NODE_TTL_MS, so a node restarted with
 * its id waits for that, and one whose id stays taken is refused. Returns 0 or -1 (logged). */
static int take_node_id(cluster *c, redisContext *rc)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", NODE_TTL_MS);
    int waited = 0;
    for (int waited_ms = 0;; waited_ms += 250) {
        redisReply *r =
            redisCommand(rc, "EVAL %s 1 %s %s %s", SCRIPT_NODE, c->node_key, c->token, ttl);
        long long got = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (r) freeReplyObject(r);
        if (got == 1) return 0;
        if (got != 0) {
            log_error("cluster_unreachable", "host=%s port=%d error=\"%s\"", c->host, c->port,
                      rc->err ? rc->errstr : "unexpected reply to the node id script");
            return -1;
        }
        if (waited_ms > NODE_TTL_MS + 500) break;
        if (!waited) log_warn("cluster_node_id_waiting", "node=%s max_ms=%d", c->node, NODE_TTL_MS);
        waited = 1;
        usleep(250 * 1000);
    }
    log_error("cluster_node_id_taken",
              "node=%s another live node uses this --node-id (each node needs its own)", c->node);
    return -1;
}

cluster *cluster_start(uv_loop_t *loop, const cluster_config *config, game *g)
{
    if (!cluster_node_id_valid(config->node_id)) {
        log_error("cluster_failed", "reason=node_id");
        return NULL;
    }
    cluster *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->message = malloc(MESSAGE_MAX + WIRE_JOIN_MAX + 256);
    if (!c->message || parse_url(config->url, c->host, sizeof c->host, &c->port) != 0) {
        log_error("cluster_failed", "reason=url");
        free(c->message);
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->game = g;
    snprintf(c->node, sizeof c->node, "%s", config->node_id);
    c->node_len = strlen(c->node);
    snprintf(c->region_prefix, sizeof c->region_prefix, "cmmo:w:%.64s:", config->world_tag);
    c->region_prefix_len = strlen(c->region_prefix);

    snprintf(c->node_key, sizeof c->node_key, NODE_PREFIX "%s", c->node);
    snprintf(c->token, sizeof c->token, "%ld-%llu", (long)getpid(),
             (unsigned long long)uv_hrtime());

    /* Fail fast at start: a node told to join a cluster does not serve alone by mistake. */
    redisContext *rc = connect_blocking(c->host, c->port);
    redisReply *pong = rc ? redisCommand(rc, "PING") : NULL;
    int ok = pong && pong->type == REDIS_REPLY_STATUS;
    if (!ok && rc)
        log_error("cluster_unreachable", "host=%s port=%d error=\"%s\"", c->host, c->port,
                  rc->err ? rc->errstr : "no PONG");
    if (pong) freeReplyObject(pong);
    if (ok) ok = take_node_id(c, rc) == 0;
    if (rc) redisFree(rc);
    if (!ok) {
        free(c->message);
        free(c);
        return NULL;
    }
    c->now_ms = uv_now(loop);
    c->last_keyframe_ms = c->last_refresh_ms = c->last_sweep_ms = c->now_ms;
    c->renewed_ms = c->last_node_refresh_ms = c->now_ms;
    reconnect(c);
    game_cluster_ops ops = {cluster_claim, cluster_release, cluster_chat};
    game_set_cluster(g, &ops, c);
    game_observe_local(g, on_local_change, c);
    log_info("cluster_started", "node=%s redis=%s:%d regions=%zu", c->node, c->host, c->port,
             game_region_count(g));
    return c;
}

void cluster_tick(cluster *c, uint64_t now_ms)
{
    c->now_ms = now_ms;
    reconnect(c);
    if (now_ms - c->last_keyframe_ms >= CLUSTER_KEYFRAME_MS) {
        c->last_keyframe_ms = now_ms;
        game_each_local(c->game, keyframe_one, c);
    }
    if (c->cmd_up)
        flush_records(c);
    else
        c->records_len = c->arena_len = 0; /* nobody to tell: keyframes catch up later */
    sync_subscriptions(c);
    if (now_ms - c->last_sweep_ms >= 250) {
        c->last_sweep_ms = now_ms;
        drop_remotes_where(c, match_stale, &now_ms);
    }
    expire_claims(c);
    if (c->cmd_up && now_ms - c->last_refresh_ms >= REFRESH_MS) {
        c->last_refresh_ms = now_ms;
        refresh_claims(c);
    }
    if (c->cmd_up && now_ms - c->last_node_refresh_ms >= NODE_REFRESH_MS) {
        c->last_node_refresh_ms = now_ms;
        refresh_node(c);
    }
    distrust_if_unrenewed(c);
}

void cluster_stop(cluster *c)
{
    if (!c) return;
    game_observe_local(c->game, NULL, NULL);
    c->stopping = 1;
    /* Pending claims fail now (their sessions are told) and no callback can come later. */
    if (c->cmd) redisAsyncFree(c->cmd);
    if (c->sub) redisAsyncFree(c->sub);
    drop_remotes_where(c, match_all, NULL);
    /* The loop has stopped: a short blocking connection releases what is left and says bye. */
    collect_local_ids(c);
    for (size_t i = 0; i < c->releasing_len; i++) {
        if (grow(&c->ids, &c->ids_cap, c->ids_len + 1, sizeof *c->ids) != 0) break;
        c->ids[c->ids_len++] = c->releasing[i];
    }
    redisContext *rc = connect_blocking(c->host, c->port);
    if (rc) {
        for (size_t i = 0; i < c->ids_len; i += REFRESH_BATCH) {
            size_t n = c->ids_len - i < REFRESH_BATCH ? c->ids_len - i : REFRESH_BATCH;
            const char *argv[REFRESH_BATCH + 6];
            size_t lens[REFRESH_BATCH + 6];
            char keys[REFRESH_BATCH][32], count[16];
            size_t k = 0;
            snprintf(count, sizeof count, "%zu", n);
            argv[k] = "EVAL", lens[k++] = 4;
            argv[k] = SCRIPT_RELEASE, lens[k++] = strlen(SCRIPT_RELEASE);
            argv[k] = count, lens[k++] = strlen(count);
            for (size_t j = 0; j < n; j++) {
                presence_key(c->ids[i + j], keys[j], sizeof keys[j]);
                argv[k] = keys[j], lens[k++] = strlen(keys[j]);
            }
            argv[k] = c->node, lens[k++] = c->node_len;
            redisReply *r = redisCommandArgv(rc, (int)k, argv, lens);
            if (r) freeReplyObject(r);
        }
        uint8_t *p = c->message;
        put_header(c, &p);
        redisReply *r =
            redisCommand(rc, "PUBLISH %s %b", CHANNEL_NODES, c->message, (size_t)(p - c->message));
        if (r) freeReplyObject(r);
        r = redisCommand(rc, "EVAL %s 1 %s %s", SCRIPT_NODE_RELEASE, c->node_key, c->token);
        if (r) freeReplyObject(r);
        redisFree(rc);
    }
    log_info("cluster_stopped", "node=%s released=%zu dropped_publishes=%llu", c->node, c->ids_len,
             (unsigned long long)c->dropped_publishes);
    free(c->arena);
    free(c->records);
    free(c->message);
    free(c->subs);
    free(c->remotes);
    free(c->ids);
    free(c->releasing);
    free(c);
}
