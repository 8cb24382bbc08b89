/*
 * ws: server-side WebSocket framing of outgoing messages: sealing a text message into a frame
 * in place, control frames, and packing many messages into one buffer. Server frames are never
 * masked (RFC 6455 5.1), so one sealed frame is byte-identical for every recipient and can be
 * shared. (Incoming frames: wsparse.)
 */
#ifndef CMMO_WS_H
#define CMMO_WS_H

#include "core/rcbuf.h"

enum { WS_OPCODE_TEXT = 1, WS_OPCODE_CLOSE = 8, WS_OPCODE_PING = 9, WS_OPCODE_PONG = 10 };

/* Close codes the server chooses itself (RFC 6455 7.4.1; docs/PROTOCOL.md's close-code table). */
enum { WS_CLOSE_GOING_AWAY = 1001, WS_CLOSE_POLICY_VIOLATION = 1008 };

/* rcbuf flag: the buffer already holds a complete frame. */
#define WS_FRAME_SEALED 1u

/* Prepends a FIN frame header to b's payload, once (later calls do nothing): a text frame, or a
 * binary one if b is flagged RCBUF_BINARY. */
void ws_frame_seal_text(rcbuf *b);

/* A complete unmasked control frame (payload at most 125 bytes), sealed. NULL on failure. */
rcbuf *ws_frame_control(uint8_t opcode, const uint8_t *payload, size_t len);

/* One buffer holding n messages, each as its own sealed text frame, in order: sent to many
 * connections, it costs each of them one iovec instead of n. The result is sealed, tagged with
 * the first message's tag and counts n packets. NULL on allocation failure. */
rcbuf *ws_frames_pack(rcbuf *const *messages, size_t n);

#endif
