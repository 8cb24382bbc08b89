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

/* One buffer holding n messages, each as its own sealed text frame, in order: sent to many
 * connections, it costs each of them one iovec instead of n. The result is sealed, tagged with
 * the first message's tag and counts n packets. NULL on allocation failure. */
rcbuf *ws_frames_pack(rcbuf *const *messages, size_t n);

#endif
