/*
 * connstate: the lifecycle of one net connection as an explicit state machine. net.c owns the
 * connections; this header is net-internal (nothing outside src/net and its unit tests includes
 * it) and exists so that the table of legal moves can be tested on its own.
 *
 *   SNIFF --first byte--> HTTP --upgrade--> WS --close frame queued--> WS_CLOSING
 *     |                    |                                             | drained: FIN sent
 *     |                    +--last response queued--> HTTP_CLOSING       v
 *     |                                                 | drained      WS_SHUT
 *     +--(net_conn_close, unused)--> HTTP_CLOSING       v
 *                                                     HTTP_SHUT
 *
 * and from every state but DESTROYED, straight to DESTROYED (reset, timeout, slow reader, EOF,
 * shutdown). DESTROYED is final: uv_close has been called and the memory goes in on_closed.
 * Closing keeps the protocol it closes because net_shutdown treats them apart: a closing HTTP
 * connection is cut, a closing WebSocket is left to finish its close handshake.
 */
#ifndef CMMO_CONNSTATE_H
#define CMMO_CONNSTATE_H

enum conn_state {
    CONN_SNIFF,        /* accepted; the first byte tells TLS (0x16) from plain */
    CONN_HTTP,         /* reading HTTP requests, keep-alive included */
    CONN_HTTP_CLOSING, /* the last response is queued: nothing more is read, close once drained */
    CONN_HTTP_SHUT,    /* all written and our FIN sent: only the peer's EOF is awaited */
    CONN_WS,           /* WebSocket open: messages up, frames down */
    CONN_WS_CLOSING,   /* our close frame is queued: nothing more is sent or parsed */
    CONN_WS_SHUT,      /* the close frame is written and our FIN sent: awaiting the peer's EOF */
    CONN_DESTROYED,    /* uv_close called: every callback is a no-op until the handle is freed */
};
#define CONN_STATES 8

/* Whether a connection may go from `from` to `to`. Staying put is not a move (0). */
int conn_state_allowed(enum conn_state from, enum conn_state to);

/* Moves *state to `to`, asserting the move is legal: an illegal move is a bug in net, never
 * a peer's doing. */
void conn_state_move(enum conn_state *state, enum conn_state to);

/* "SNIFF", "WS_CLOSING" ...; "?" for a value out of range. For logs and test messages. */
const char *conn_state_name(enum conn_state s);

/* The predicates net.c asks, named for the question instead of a set of flags. */

/* Before the upgrade and not closing: the HTTP idle timeout applies. */
static inline int conn_state_in_http(enum conn_state s)
{
    return s == CONN_SNIFF || s == CONN_HTTP;
}

/* Closing or shut, HTTP or WebSocket (not yet destroyed): input is discarded, nothing new is
 * queued, the closing timeout applies. */
static inline int conn_state_closing(enum conn_state s)
{
    return s == CONN_HTTP_CLOSING || s == CONN_HTTP_SHUT || s == CONN_WS_CLOSING ||
           s == CONN_WS_SHUT;
}

/* Upgraded to WebSocket, open or closing (not yet destroyed). */
static inline int conn_state_upgraded(enum conn_state s)
{
    return s == CONN_WS || s == CONN_WS_CLOSING || s == CONN_WS_SHUT;
}

#endif
