/*
 * ws: server-side WebSocket framing that wslay does not do for us: sealing an outgoing text
 * message into a frame in place. Server frames are never masked (RFC 6455 5.1), so one sealed
 * frame is byte-identical for every recipient and can be shared.
 */
#ifndef CMMO_WS_H
#define CMMO_WS_H

#include "core/rcbuf.h"

/* rcbuf flag: the buffer already holds a complete frame. */
#define WS_FRAME_SEALED 1u

/* Prepends a FIN text-frame header to b's payload, once (later calls do nothing). */
void ws_frame_seal_text(rcbuf *b);

#endif
