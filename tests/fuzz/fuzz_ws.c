/*
 * fuzz_ws: the server side of WebSocket framing as src/net/net.c drives it: a wslay server event
 * context with net.c's callbacks (recv from the bytes of the current read, send into the
 * connection's output, one complete message up at a time, pauses and resumes by the upper
 * layer), fed arbitrary client bytes in arbitrary reads.
 *
 * Input layout: byte 0 = read size (1..255, 0 = everything at once); byte 1 = after how many
 * messages the "session" pauses reading (0 = never); byte 2 bit 0: the server queues a message
 * and a ping mid-stream; the rest = the client's bytes.
 *
 * Checked beyond "no crash, no sanitizer report":
 *   - every message handed up is at most PACKET_MAX_BYTES, and a text message is valid UTF-8;
 *   - everything the server writes parses as a sequence of unmasked server frames with known
 *     opcodes, control frames of at most 125 bytes;
 *   - a close frame carries no code or a code a server may send (1000-1003, 1007-1011,
 *     3000-4999; never 1005, 1006 or 1015), and nothing but the final flush follows it.
 */
#include "core/utf8.h"
#include "proto/packet.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

typedef struct conn {
    wslay_event_context_ptr ws;
    const uint8_t *feed;
    size_t feed_len;
    int paused;
    int closing;
    unsigned pause_every;
    unsigned messages;
    uint16_t violation;
    uint8_t *out; /* every byte the server sent */
    size_t out_len, out_cap;
} conn;

static void out_append(conn *c, const uint8_t *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 256;
        while (cap < c->out_len + len) cap *= 2;
        c->out = realloc(c->out, cap);
        assert(c->out);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    conn *c = user;
    if (c->paused || c->feed_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < c->feed_len ? len : c->feed_len;
    memcpy(buf, c->feed, n);
    c->feed += n;
    c->feed_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    out_append(user, data, len);
    return (ssize_t)len;
}

static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    conn *c = user;
    if (c->closing) return;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
        assert(arg->msg_length <= PACKET_MAX_BYTES);
        if (arg->opcode == WSLAY_TEXT_FRAME)
            assert(utf8_valid((const char *)arg->msg, arg->msg_length));
        c->messages++;
        if (c->pause_every && c->messages % c->pause_every == 0) c->paused = 1;
    }
}

static void frame_start_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    conn *c = user;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->payload_length == 1) c->violation = 1002;
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .on_frame_recv_start_callback = frame_start_cb,
    .on_msg_recv_callback = msg_cb,
};

/* net.c's conn_fail: our own close frame after a violation wslay reports without a code. */
static void fail(conn *c, uint16_t code)
{
    uint8_t f[4] = {0x88, 2, (uint8_t)(code >> 8), (uint8_t)code};
    out_append(c, f, sizeof f);
    c->closing = 1;
}

/* net.c's conn_ws_feed; returns the bytes left over (kept while paused). */
static size_t feed(conn *c, const uint8_t *data, size_t len, const uint8_t **rest)
{
    c->feed = data;
    c->feed_len = len;
    int rc = wslay_event_recv(c->ws);
    size_t left = c->feed_len;
    *rest = c->feed;
    c->feed = NULL;
    c->feed_len = 0;
    if (rc != 0 || c->violation) {
        fail(c, c->violation ? c->violation : 1002);
        return 0;
    }
    if (!wslay_event_get_read_enabled(c->ws)) {
        c->closing = 1;
        if (wslay_event_want_write(c->ws)) wslay_event_send(c->ws);
        return 0;
    }
    if (wslay_event_want_write(c->ws)) wslay_event_send(c->ws);
    return left;
}

static int legal_close_code(unsigned code)
{
    if (code >= 1000 && code <= 1003) return 1;
    if (code >= 1007 && code <= 1011) return 1;
    return code >= 3000 && code <= 4999;
}

/* The server's output must be well-formed frames; at most one close, and it comes last. */
static void check_output(const conn *c)
{
    size_t i = 0;
    int closed = 0;
    while (i < c->out_len) {
        assert(!closed);
        assert(c->out_len - i >= 2);
        uint8_t b0 = c->out[i], b1 = c->out[i + 1];
        unsigned op = b0 & 0x0F;
        assert((b0 & 0x70) == 0);  /* no reserved bits: no extension was negotiated */
        assert((b1 & 0x80) == 0);  /* server frames are never masked */
        assert(op == 1 || op == 2 || op == 8 || op == 9 || op == 10);
        uint64_t n = b1 & 0x7F;
        size_t h = 2;
        if (n == 126) {
            assert(c->out_len - i >= 4);
            n = ((uint64_t)c->out[i + 2] << 8) | c->out[i + 3];
            h = 4;
        } else if (n == 127) {
            assert(c->out_len - i >= 10);
            n = 0;
            for (int k = 0; k < 8; k++) n = (n << 8) | c->out[i + 2 + k];
            h = 10;
        }
        assert(c->out_len - i - h >= n);
        if (op >= 8) {
            assert(b0 & 0x80); /* control frames are never fragmented */
            assert(n <= 125);
        }
        if (op == 8) {
            assert(n != 1);
            if (n >= 2) {
                unsigned code = ((unsigned)c->out[i + h] << 8) | c->out[i + h + 1];
                assert(legal_close_code(code));
                assert(utf8_valid((const char *)c->out + i + h + 2, (size_t)n - 2));
            }
            closed = 1;
        }
        i += h + (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    size_t chunk = data[0] ? data[0] : size;
    conn c = {0};
    c.pause_every = data[1];
    int server_talks = data[2] & 1;
    data += 3;
    size -= 3;
    if (wslay_event_context_server_init(&c.ws, &callbacks, &c) != 0) return 0;
    wslay_event_config_set_max_recv_msg_length(c.ws, PACKET_MAX_BYTES);
    size_t off = 0;
    while (off < size && !c.closing) {
        size_t n = size - off < chunk ? size - off : chunk;
        uint8_t *buf = malloc(n);
        memcpy(buf, data + off, n);
        size_t len = n;
        off += n;
        /* Offer the read; while the "session" has paused reading, the next tick resumes it and
         * the bytes held meanwhile are offered again (net_conn_resume). */
        uint8_t *owned = buf;
        const uint8_t *cur = buf, *rest;
        size_t cur_len = len;
        for (;;) {
            size_t left = feed(&c, cur, cur_len, &rest);
            if (c.closing || left == 0) break;
            assert(c.paused); /* wslay stops short of the input only when we said WOULDBLOCK */
            uint8_t *copy = malloc(left);
            memcpy(copy, rest, left);
            free(owned);
            owned = copy;
            cur = copy;
            cur_len = left;
            c.paused = 0;
        }
        c.paused = 0;
        free(owned);
        if (server_talks && !c.closing && off >= size / 2) {
            server_talks = 0;
            static const char text[] = "{\"a\":\"Ok\"}";
            struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, sizeof text - 1};
            struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"cmmo", 4};
            wslay_event_queue_msg(c.ws, &m);
            wslay_event_queue_msg(c.ws, &ping);
            if (wslay_event_want_write(c.ws)) wslay_event_send(c.ws);
        }
    }
    if (!c.closing) {
        /* A server-initiated close, as net_conn_close does (flood, kick, shutdown). */
        wslay_event_queue_close(c.ws, 1008, (const uint8_t *)"message flood", 13);
        if (wslay_event_want_write(c.ws)) wslay_event_send(c.ws);
    }
    if (getenv("FUZZ_WS_DUMP")) {
        for (size_t i = 0; i < c.out_len; i++) fprintf(stderr, "%02x ", c.out[i]);
        fprintf(stderr, "\n");
    }
    check_output(&c);
    free(c.out);
    wslay_event_context_free(c.ws);
    return 0;
}
