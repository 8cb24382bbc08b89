/*
 * net_outbox: the game's outbox port (game/outbox.h) implemented over net's connections.
 *
 * A link is a net_conn. Pushing queues the packets with net_conn_send_many (net frames them),
 * packing is ws_frames_pack, and a game_close_reason becomes the close code and reason text of
 * docs/PROTOCOL.md's close-code table here, the one place that knows both sides.
 */
#ifndef CMMO_NET_OUTBOX_H
#define CMMO_NET_OUTBOX_H

#include "game/outbox.h"

#include <stdint.h>

/* The complete port; its ctx is unused (NULL). */
game_outbox net_outbox(void);

/* The same port, that also sets *pushed to 1 whenever the game pushes a chat line: the wiring
 * then flushes net after the I/O phase in which a chat line was relayed as it was read, instead
 * of with the next tick. Only chat: a Login's answer still leaves with the tick that brings the
 * newcomer the world (clients and tests rely on Ok, the own model and the others' models
 * arriving together). pushed is borrowed and must outlive the port. */
game_outbox net_outbox_marking(int *pushed);

/* The close frame sent for why: its code and reason text (a string literal, at most 123 bytes as
 * RFC 6455 allows). why must be a game_close_reason below GAME_CLOSE_REASON_COUNT. */
void net_outbox_close_frame(game_close_reason why, uint16_t *code, const char **text);

#endif
