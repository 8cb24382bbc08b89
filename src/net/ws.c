#include "net/ws.h"

#include <string.h>

void ws_frame_seal_text(rcbuf *b)
{
    if (b->flags & WS_FRAME_SEALED) return;
    size_t n = b->len;
    uint8_t *h;
    if (n < 126) {
        h = rcbuf_prepend(b, 2);
        h[1] = (uint8_t)n;
    } else if (n < 65536) {
        h = rcbuf_prepend(b, 4);
        h[1] = 126;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
    } else {
        h = rcbuf_prepend(b, 10);
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    h[0] = (b->flags & RCBUF_BINARY) ? 0x82 : 0x81; /* FIN, opcode binary or text */
    b->flags |= WS_FRAME_SEALED;
}

static size_t header_size(size_t n)
{
    return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

rcbuf *ws_frames_pack(rcbuf *const *messages, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const rcbuf *m = messages[i];
        total += (m->flags & WS_FRAME_SEALED) ? m->len : header_size(m->len) + m->len;
    }
    rcbuf *b = rcbuf_new(total);
    if (!b) return NULL;
    uint8_t *out = rcbuf_data(b);
    for (size_t i = 0; i < n; i++) {
        rcbuf *m = messages[i];
        ws_frame_seal_text(m); /* seals the shared message once; later senders reuse it */
        memcpy(out, rcbuf_data(m), m->len);
        out += m->len;
    }
    b->len = total;
    b->flags |= WS_FRAME_SEALED;
    b->tag = n ? messages[0]->tag : 0;
    b->packets = (uint32_t)n;
    return b;
}

rcbuf *ws_frame_control(uint8_t opcode, const uint8_t *payload, size_t len)
{
    if (len > 125) len = 125;
    rcbuf *b = rcbuf_new(2 + len);
    if (!b) return NULL;
    uint8_t *p = rcbuf_data(b);
    p[0] = (uint8_t)(0x80 | opcode); /* FIN: control frames are never fragmented */
    p[1] = (uint8_t)len;
    if (len) memcpy(p + 2, payload, len);
    b->len = 2 + len;
    b->flags |= WS_FRAME_SEALED;
    return b;
}
