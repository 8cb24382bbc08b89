#include "net/wsparse.h"

#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Largest control frame payload (RFC 6455 5.5). */
#define WS_CONTROL_MAX 125

enum { OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

void ws_parser_init(ws_parser *p, uint32_t max_message)
{
    memset(p, 0, sizeof *p);
    p->max_message = max_message;
}

void ws_parser_free(ws_parser *p)
{
    free(p->buffer);
    free(p->control);
    p->buffer = NULL;
    p->control = NULL;
}

bool ws_close_code_valid(uint16_t code)
{
    /* 1004-1006 and 1015 are reserved for reporting, never sent; 1012-1014 are registered. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* Reports an event; returns the callback's answer. */
static int emit(ws_parser *p, enum ws_event_type type, const uint8_t *data, size_t len,
                uint16_t code, int binary, ws_event_cb cb, void *user)
{
    ws_event ev = {type, binary, data, len, code};
    if (type == WS_EVENT_CLOSE || type == WS_EVENT_ERROR) p->done = 1;
    return cb(user, &ev);
}

static int fail(ws_parser *p, uint16_t code, ws_event_cb cb, void *user)
{
    emit(p, WS_EVENT_ERROR, NULL, 0, code, 0, cb, user);
    return 1;
}

/* Bytes of a frame header, given its first two: 2, plus 2 or 8 of extended length, plus the
 * 4-byte mask (always present: unmasked frames are refused after the second byte). */
static uint8_t header_size(const uint8_t *h)
{
    uint8_t len7 = h[1] & 0x7F;
    return (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
}

/* Checks what the first two header bytes allow to check. Returns 0 or a close code. */
static uint16_t check_start(ws_parser *p)
{
    uint8_t b0 = p->header[0], b1 = p->header[1];
    uint8_t opcode = b0 & 0x0F, fin = b0 >> 7;
    if (b0 & 0x70) return 1002;    /* reserved bits: no extension was negotiated */
    if (!(b1 & 0x80)) return 1002; /* clients must mask every frame */
    switch (opcode) {
    case OP_CONTINUATION:
        if (!p->message_opcode) return 1002; /* nothing to continue */
        break;
    case OP_TEXT:
    case OP_BINARY:
        if (p->message_opcode) return 1002; /* a new message inside a fragmented one */
        break;
    case OP_CLOSE:
    case OP_PING:
    case OP_PONG:
        if (!fin || (b1 & 0x7F) > WS_CONTROL_MAX)
            return 1002; /* control frames are small and whole */
        break;
    default:
        return 1002; /* reserved opcode */
    }
    return 0;
}

/* The whole header is in: sets up the frame. Returns 0 or a close code. */
static uint16_t start_frame(ws_parser *p)
{
    const uint8_t *h = p->header;
    uint8_t len7 = h[1] & 0x7F;
    uint64_t length = len7;
    size_t at = 2;
    if (len7 == 126) {
        length = (uint64_t)h[2] << 8 | h[3];
        at = 4;
    } else if (len7 == 127) {
        length = 0;
        for (int i = 0; i < 8; i++)
            length = length << 8 | h[2 + i];
        if (length >> 63) return 1002; /* the most significant bit must be 0 */
        at = 10;
    }
    memcpy(p->mask, h + at, 4);
    p->opcode = h[0] & 0x0F;
    p->fin = h[0] >> 7;
    p->remaining = length;
    p->frame_pos = 0;
    if (p->opcode >= OP_CLOSE) {
        p->control_len = 0;
        if (!p->control) {
            p->control = malloc(WS_CONTROL_MAX);
            if (!p->control) return 1011;
        }
        return 0;
    }
    if (p->opcode != OP_CONTINUATION) p->message_opcode = p->opcode;
    if ((uint64_t)p->buffer_len + length > p->max_message) return 1009;
    if (length > 0) {
        uint8_t *b = realloc(p->buffer, p->buffer_len + (size_t)length);
        if (!b) return 1011;
        p->buffer = b;
    }
    return 0;
}

/* The current frame's payload is complete. Returns 0 to go on, 1 to stop. */
static int end_frame(ws_parser *p, ws_event_cb cb, void *user)
{
    if (p->opcode >= OP_CLOSE) {
        const uint8_t *d = p->control;
        size_t n = p->control_len;
        if (p->opcode == OP_PING) return emit(p, WS_EVENT_PING, d, n, 0, 0, cb, user);
        if (p->opcode == OP_PONG) return emit(p, WS_EVENT_PONG, d, n, 0, 0, cb, user);
        if (n == 0) return emit(p, WS_EVENT_CLOSE, NULL, 0, 1005, 0, cb, user) | 1;
        if (n == 1) return fail(p, 1002, cb, user); /* a status code is two bytes */
        uint16_t code = (uint16_t)(d[0] << 8 | d[1]);
        if (!ws_close_code_valid(code)) return fail(p, 1002, cb, user);
        if (!utf8_valid((const char *)d + 2, n - 2)) return fail(p, 1007, cb, user);
        return emit(p, WS_EVENT_CLOSE, d + 2, n - 2, code, 0, cb, user) | 1;
    }
    if (!p->fin) return 0;
    int binary = p->message_opcode == OP_BINARY;
    if (!binary && !utf8_valid((const char *)p->buffer, p->buffer_len))
        return fail(p, 1007, cb, user);
    /* The buffer is handed over for the callback's duration, then freed: idle connections
     * hold no message memory. */
    uint8_t *msg = p->buffer;
    size_t len = p->buffer_len;
    p->buffer = NULL;
    p->buffer_len = 0;
    p->message_opcode = 0;
    int stop = emit(p, WS_EVENT_MESSAGE, msg, len, 0, binary, cb, user);
    free(msg);
    return stop;
}

size_t ws_parser_feed(ws_parser *p, const uint8_t *data, size_t len, ws_event_cb cb, void *user)
{
    size_t pos = 0;
    while (!p->done) {
        if (!p->in_payload) {
            if (pos == len) break;
            size_t need = p->header_len < 2 ? 2 : header_size(p->header);
            size_t take = need - p->header_len;
            if (take > len - pos) take = len - pos;
            memcpy(p->header + p->header_len, data + pos, take);
            p->header_len = (uint8_t)(p->header_len + take);
            pos += take;
            if (p->header_len == 2) {
                uint16_t code = check_start(p);
                if (code) {
                    fail(p, code, cb, user);
                    break;
                }
            }
            if (p->header_len < 2 || p->header_len < header_size(p->header)) continue;
            uint16_t code = start_frame(p);
            if (code) {
                fail(p, code, cb, user);
                break;
            }
            p->header_len = 0;
            p->in_payload = 1;
        }
        size_t take = p->remaining < len - pos ? (size_t)p->remaining : len - pos;
        if (take > 0) { /* (an empty frame may have no buffer at all) */
            uint8_t *dst =
                p->opcode >= OP_CLOSE ? p->control + p->control_len : p->buffer + p->buffer_len;
            for (size_t i = 0; i < take; i++)
                dst[i] = data[pos + i] ^ p->mask[(p->frame_pos + i) & 3];
        }
        if (p->opcode >= OP_CLOSE)
            p->control_len = (uint8_t)(p->control_len + take);
        else
            p->buffer_len += (uint32_t)take;
        p->frame_pos += take;
        p->remaining -= take;
        pos += take;
        if (p->remaining > 0) break; /* the rest of the payload is in later bytes */
        p->in_payload = 0;
        if (end_frame(p, cb, user)) break;
    }
    return pos;
}
