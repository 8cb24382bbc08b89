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
    h[0] = 0x81; /* FIN, opcode text */
    b->flags |= WS_FRAME_SEALED;
}
