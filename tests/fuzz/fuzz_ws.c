/*
 * fuzz_ws: the server side of WebSocket framing as src/net/net.c drives it: net/wsparse fed
 * arbitrary client bytes in arbitrary reads, with the upper layer pausing after some messages
 * and net.c's way of resuming (the unconsumed rest is fed again later).
 *
 * Input layout: byte 0 = read size (1..255, 0 = everything at once); byte 1 = after how many
 * messages the "session" pauses reading (0 = never); the rest = the client's bytes.
 *
 * Checked beyond "no crash, no sanitizer report":
 *   - every message handed up is at most PACKET_MAX_BYTES, and a text message is valid UTF-8;
 *   - ping and pong payloads are at most 125 bytes;
 *   - a close event carries 1005 (no code) or a code a peer may send, and an error carries a
 *     code the server may send (1002, 1007, 1009, 1011);
 *   - nothing is reported after a close or an error, and every byte before it is consumed.
 */
#include "core/utf8.h"
#include "net/wsparse.h"
#include "proto/packet.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run {
    unsigned pause_every;
    unsigned messages;
    int finished;
} run;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ws: %s\n", what);
        abort();
    }
}

static int on_event(void *user, const ws_event *ev)
{
    run *r = user;
    check(!r->finished, "event after close or error");
    switch (ev->type) {
    case WS_EVENT_MESSAGE:
        check(ev->len <= PACKET_MAX_BYTES, "message over the limit handed up");
        check(ev->binary || utf8_valid((const char *)ev->data, ev->len), "invalid UTF-8 text");
        r->messages++;
        return r->pause_every && r->messages % r->pause_every == 0;
    case WS_EVENT_PING:
    case WS_EVENT_PONG:
        check(ev->len <= 125, "control payload over 125 bytes");
        return 0;
    case WS_EVENT_CLOSE:
        check(ev->code == 1005 || ws_close_code_valid(ev->code), "bad close code accepted");
        check(utf8_valid((const char *)ev->data, ev->len), "close reason not UTF-8");
        r->finished = 1;
        return 1;
    case WS_EVENT_ERROR:
        check(ev->code == 1002 || ev->code == 1007 || ev->code == 1009 || ev->code == 1011,
              "unexpected error code");
        r->finished = 1;
        return 1;
    }
    check(0, "unknown event");
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t chunk = data[0] ? data[0] : size;
    run r = {.pause_every = data[1] % 8};
    data += 2;
    size -= 2;
    ws_parser p;
    ws_parser_init(&p, PACKET_MAX_BYTES);
    uint8_t *held = NULL;
    size_t held_len = 0;
    size_t pos = 0;
    while ((pos < size || held_len) && !r.finished) {
        if (held_len) {
            /* net_conn_resume: the bytes left over at the pause go first. */
            uint8_t *h = held;
            size_t n = held_len;
            held = NULL;
            held_len = 0;
            size_t used = ws_parser_feed(&p, h, n, on_event, &r);
            check(used <= n, "consumed more than given");
            if (used < n && !r.finished) {
                held = malloc(n - used);
                memcpy(held, h + used, n - used);
                held_len = n - used;
            }
            free(h);
            continue;
        }
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t used = ws_parser_feed(&p, data + pos, n, on_event, &r);
        check(used <= n, "consumed more than given");
        if (used < n && !r.finished) {
            held = malloc(n - used);
            memcpy(held, data + pos + used, n - used);
            held_len = n - used;
        }
        pos += n;
    }
    free(held);
    ws_parser_free(&p);
    return 0;
}
