/*
 * fuzz_session: the session state machine (game/session) and the world behind it, driven by a
 * sequence of connection events against a real store (SQLite in memory) and the auth contract
 * (tests/fuzz/fast_auth.c: the same asynchrony, without argon2id's cost). No sockets: a few fake
 * links stand where src/net/net.c would, with net's semantics (pausing, resuming synchronously
 * with the bytes held meanwhile, close -> on_close later at a safe point).
 *
 * Input: a sequence of operations. Each starts with a byte: bits 0-2 the kind, bits 3-4 the link.
 *   0, 1  raw message: a length byte, then that many bytes (held while the link is paused)
 *   2     raw message already inside wslay's buffer: delivered even while paused
 *   3     a well-formed packet from a small dictionary (next bytes choose it), so that inputs
 *         reach Register, Login and PLAY quickly; one choice repeats a Target a few hundred
 *         times (the flood path); half of the Chat choices are cmmo.v2's Resume (with the last
 *         token any link was sent, so resumes succeed and take over), Logout or Ping
 *   4     a tick (the loop runs once without waiting, the game clock moves 50 ms, game_tick)
 *   5     wait until every pending store/auth answer has come back
 *   6     the link's connection is gone (net's on_close)
 *   7     the link reconnects (a new session)
 * The first input byte's bit 1 makes every link a cmmo.v2 one (else all are legacy).
 * At the end every link closes and the game runs until every session is freed.
 *
 * Checked beyond "no crash, no sanitizer report, no leak":
 *   - nothing is sent on a connection before its first message, or after on_close;
 *   - every message sent is a JSON object with a string "a";
 *   - the first ModelDelta a connection receives follows an Ok and is a full Actor model;
 *   - no password from the dictionary appears in anything sent;
 *   - the game closes connections only for a flood, or for a Resume of the account elsewhere
 *     (no kick, no cluster here);
 *   - a legacy link is never sent anything but the tutorial's actions (no Token, Players,
 *     Joined, Left, Pong, Move or World);
 *   - every session is freed once its connection is gone and its answers are in.
 */
#include "core/log.h"
#include "core/workpool_loop.h"
#include "game/auth.h"
#include "game/game.h"
#include "game/session.h"
#include "proto/packet.h"
#include "store/store_loop.h"

#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define LINKS 4
#define HELD_MAX 256

typedef struct held_msg {
    uint8_t *data;
    size_t len;
} held_msg;

typedef struct fake_link {
    int index;
    int open;    /* net has a connection; game has a session */
    int closing; /* the game asked to close; on_close comes at the next safe point */
    int paused;
    int got_message; /* the client has sent at least one message */
    int seen_ok, seen_model;
    session *s;
    held_msg held[HELD_MAX];
    int held_len;
} fake_link;

static uv_loop_t loop;
static game *g;
static fake_link links[LINKS];
static int links_v2;        /* this run's links negotiated cmmo.v2 */
static char last_token[64]; /* the last resume token sent to any link, or "" */

static const char *const passwords[] = {"pw-secret-zero", "pw-secret-one", "pw-secret-two"};
static const char *const names[] = {"alice", "Alice", "bob", "Server", "carol_-9"};

static void deliver(fake_link *l, const uint8_t *data, size_t len);

static void link_send(fake_link *l, rcbuf *msg)
{
    assert(l->open);        /* never after on_close */
    assert(l->got_message); /* never before the client's first request */
    if (l->closing) return; /* net drops frames once a close started */
    if (msg->flags & RCBUF_BINARY) {
        /* cmmo.v2's Moves frame: only to cmmo.v2 links, after their own model, whole records. */
        assert(links_v2 && l->seen_model);
        const uint8_t *p = rcbuf_data(msg);
        assert(msg->len >= 2 && (p[0] == PACKET_MOVES_KIND || p[0] == PACKET_MOVES_KIND_SHORT));
        if (p[0] == PACKET_MOVES_KIND)
            assert((msg->len - 1) % PACKET_MOVE_RECORD == 0);
        else
            assert(p[1] <= PACKET_MOVE_SCALE_MAX && (msg->len - 2) % PACKET_MOVE_RECORD_SHORT == 0);
        return;
    }
    json_error_t err;
    json_t *j = json_loadb((const char *)rcbuf_data(msg), msg->len, 0, &err);
    assert(j && json_is_object(j));
    const char *a = json_string_value(json_object_get(j, "a"));
    assert(a);
    if (strcmp(a, "Ok") == 0) l->seen_ok = 1;
    if (!links_v2) {
        static const char *const legacy[] = {"Ok", "Deny", "Chat", "ModelDelta", "Disconnect"};
        int known = 0;
        for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
            known |= strcmp(a, legacy[i]) == 0;
        assert(known);
    }
    if (strcmp(a, "Token") == 0) {
        const char *token = json_string_value(json_object_get(j, "p0"));
        assert(token && strlen(token) == 43);
        snprintf(last_token, sizeof last_token, "%s", token);
    }
    if (strcmp(a, "ModelDelta") == 0 && !l->seen_model) {
        assert(l->seen_ok);
        json_t *m = json_object_get(j, "p0");
        assert(json_is_object(m) && json_object_get(m, "user") && json_object_get(m, "avatar_id"));
        l->seen_model = 1;
    }
    json_decref(j);
    for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++)
        assert(!memmem(rcbuf_data(msg), msg->len, passwords[i], strlen(passwords[i])));
}

static void link_push(void *ctx, void *lp, rcbuf *const *msgs, size_t n)
{
    (void)ctx;
    assert(n >= 1);
    for (size_t i = 0; i < n; i++)
        link_send(lp, msgs[i]);
}

static void link_close(void *ctx, void *lp, game_close_reason why)
{
    (void)ctx;
    fake_link *l = lp;
    assert(l->open);
    assert(why == GAME_CLOSE_MESSAGE_FLOOD || why == GAME_CLOSE_CHAT_FLOOD ||
           (links_v2 && why == GAME_CLOSE_ELSEWHERE));
    l->closing = 1;
}

/* The fuzzer's world is small and its packets are read one by one: it packs nothing, as on an
 * allocation failure (the world then pushes the messages themselves). */
static rcbuf *link_pack(void *ctx, rcbuf *const *msgs, size_t n)
{
    (void)ctx, (void)msgs;
    assert(n >= 2);
    return NULL;
}

static void link_resume(void *ctx, void *lp)
{
    (void)ctx;
    fake_link *l = lp;
    assert(l->open);
    if (!l->paused) return;
    l->paused = 0;
    /* net_conn_resume offers the bytes it held at once, inside this call. */
    int n = l->held_len;
    held_msg copy[HELD_MAX];
    memcpy(copy, l->held, (size_t)n * sizeof copy[0]);
    l->held_len = 0;
    int i = 0;
    for (; i < n && !l->paused && !l->closing; i++) {
        deliver(l, copy[i].data, copy[i].len);
        free(copy[i].data);
    }
    for (; i < n; i++) {
        if (l->closing) {
            free(copy[i].data);
        } else {
            l->held[l->held_len++] = copy[i];
        }
    }
}

static const game_outbox outbox = {link_push, link_close, link_resume, link_pack, NULL};

static void deliver(fake_link *l, const uint8_t *data, size_t len)
{
    l->got_message = 1;
    if (game_session_message(g, l->s, data, len)) l->paused = 1;
}

static void hold_or_deliver(fake_link *l, const uint8_t *data, size_t len, int buffered)
{
    if (!l->open || l->closing) return;
    if (l->paused && !buffered) {
        if (l->held_len == HELD_MAX) return; /* the client's TCP window is full */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, data, len);
        l->held[l->held_len++] = (held_msg){copy, len};
        return;
    }
    deliver(l, data, len);
}

static void link_open(fake_link *l)
{
    if (l->open) return;
    memset(l, 0, sizeof *l); /* a closed link holds nothing: link_gone freed it */
    l->index = (int)(l - links);
    char peer[32];
    snprintf(peer, sizeof peer, "10.0.0.%d", l->index % 2);
    l->s = game_session_open(g, l, peer);
    assert(l->s);
    if (links_v2) game_session_set_v2(l->s);
    l->open = 1;
}

/* net's on_close, at a safe point (never inside a game call). */
static void link_gone(fake_link *l)
{
    if (!l->open) return;
    for (int i = 0; i < l->held_len; i++)
        free(l->held[i].data);
    l->held_len = 0;
    l->open = 0;
    game_session_closed(g, l->s);
    l->s = NULL;
}

static void close_requested(void)
{
    for (int i = 0; i < LINKS; i++)
        if (links[i].open && links[i].closing) link_gone(&links[i]);
}

/* The game's clock, in milliseconds: it moves 50 ms per tick and stands still between ticks, so
 * a run depends on its input alone, not on how fast the machine is. */
static uint64_t fake_now;

static uint64_t fake_clock_now_us(void *ctx)
{
    return fake_now * 1000;
}

static void tick(void)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    fake_now += 50;
    game_tick(g);
    close_requested();
}

static void wait_idle(void)
{
    for (int i = 0; i < 10000 && !game_idle(g); i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert(game_idle(g));
    close_requested();
}

static void send_template(fake_link *l, const uint8_t **p, const uint8_t *end)
{
    uint8_t t = *p < end ? *(*p)++ : 0;
    uint8_t a = *p < end ? *(*p)++ : 0;
    char buf[512];
    const char *name = names[a % 5];
    const char *pw = passwords[(a >> 3) % 3];
    int n;
    switch (t % 8) {
    case 0:
        n = snprintf(buf, sizeof buf, "{\"a\":\"Register\",\"p0\":\"%s\",\"p1\":\"%s\",\"p2\":%d}",
                     name, pw, (a >> 5) % 7);
        break;
    case 1:
    case 2:
        n = snprintf(buf, sizeof buf, "{\"a\":\"Login\",\"p0\":\"%s\",\"p1\":\"%s\"}", name, pw);
        break;
    case 3:
        if (t & 0x80) { /* cmmo.v2 */
            if (a % 3 == 0)
                n = snprintf(buf, sizeof buf, "{\"a\":\"Resume\",\"p0\":\"%s\",\"p1\":\"%s\"}",
                             name, last_token[0] ? last_token : "forged");
            else if (a % 3 == 1)
                n = snprintf(buf, sizeof buf, "{\"a\":\"Logout\"}");
            else
                n = snprintf(buf, sizeof buf, "{\"a\":\"Ping\",\"p0\":%d}", a);
            break;
        }
        n = snprintf(buf, sizeof buf, "{\"a\":\"Chat\",\"p0\":\"x\",\"p1\":\"[b]hi %d[/b]\"}", a);
        break;
    case 4:
    case 5:
        n = snprintf(buf, sizeof buf, "{\"a\":\"Target\",\"p0\":%d,\"p1\":%d.5}", a * 7 - 100,
                     (t >> 3) * 5);
        break;
    case 6:
        n = snprintf(buf, sizeof buf, "{\"a\":\"Chat\",\"p0\":\"x\",\"p1\":\"%.*s\"}", a % 40,
                     "\\u0000\\u001b[\\u0085]\\ud83d\\ude00 <b>&amp;</b> \\\"q\\\"");
        break;
    default: {
        /* A burst: the same Target many times, faster than any budget. */
        n = snprintf(buf, sizeof buf, "{\"a\":\"Target\",\"p0\":%d,\"p1\":1}", a);
        int count = 100 + 2 * a;
        for (int i = 0; i < count && l->open && !l->closing; i++)
            hold_or_deliver(l, (const uint8_t *)buf, (size_t)n, 1);
        return;
    }
    }
    hold_or_deliver(l, (const uint8_t *)buf, (size_t)n, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_set_level(LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uv_loop_init(&loop);
    store *st = store_open(&loop, "sqlite::memory:");
    assert(st);
    auth *au = auth_create(workpool_create(&loop, 1, 0, "fastauth"));
    assert(au);
    game_config config = {
        .world_width = 1344,
        .world_height = 832,
        .view_radius = (data[0] & 1) ? 120 : 0,
        .tick_hz = 20,
        .save_interval_ms = 1000,
        .resume_ttl_s = 3600,
    };
    links_v2 = (data[0] & 2) != 0;
    last_token[0] = '\0';
    fake_now = 0;
    game_clock clock = {fake_clock_now_us, NULL};
    g = game_create(&clock, &config, &outbox, st, au);
    assert(g);
    memset(links, 0, sizeof links);
    for (int i = 0; i < LINKS; i++)
        link_open(&links[i]);

    const uint8_t *p = data + 1, *end = data + size;
    int ops_done = 0;
    while (p < end && ops_done++ < 2000) {
        uint8_t op = *p++;
        fake_link *l = &links[(op >> 3) % LINKS];
        switch (op & 7) {
        case 0:
        case 1:
        case 2: {
            size_t len = p < end ? *p++ : 0;
            if (len > (size_t)(end - p)) len = (size_t)(end - p);
            hold_or_deliver(l, p, len, (op & 7) == 2);
            p += len;
            break;
        }
        case 3:
            send_template(l, &p, end);
            break;
        case 4:
            tick();
            break;
        case 5:
            wait_idle();
            break;
        case 6:
            link_gone(l);
            break;
        case 7:
            link_open(l);
            break;
        }
        close_requested();
    }

    for (int i = 0; i < LINKS; i++)
        link_gone(&links[i]);
    for (int i = 0; i < 1000 && (game_session_count(g) > 0 || !game_idle(g)); i++) {
        wait_idle();
        tick();
    }
    assert(game_session_count(g) == 0);
    assert(game_player_count(g) == 0);
    /* The server's shutdown order: auth, then the store (its callbacks refer to the game),
     * then the game. */
    auth_destroy(au);
    store_close(st);
    game_destroy(g);
    g = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert(uv_loop_close(&loop) == 0);
    return 0;
}
