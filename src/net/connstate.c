#include "net/connstate.h"

#include <assert.h>

#define TO(s) (1u << (s))

/* Each state's legal successors, one bit per target state. Every state but DESTROYED may be
 * destroyed at once: a reset, a failed write or a slow reader does not wait for a handshake. */
static const unsigned conn_moves[CONN_STATES] = {
    [CONN_SNIFF] = TO(CONN_HTTP) | TO(CONN_HTTP_CLOSING) | TO(CONN_DESTROYED),
    [CONN_HTTP] = TO(CONN_HTTP_CLOSING) | TO(CONN_WS) | TO(CONN_DESTROYED),
    [CONN_HTTP_CLOSING] = TO(CONN_HTTP_SHUT) | TO(CONN_DESTROYED),
    [CONN_HTTP_SHUT] = TO(CONN_DESTROYED),
    [CONN_WS] = TO(CONN_WS_CLOSING) | TO(CONN_DESTROYED),
    [CONN_WS_CLOSING] = TO(CONN_WS_SHUT) | TO(CONN_DESTROYED),
    [CONN_WS_SHUT] = TO(CONN_DESTROYED),
    [CONN_DESTROYED] = 0,
};

int conn_state_allowed(enum conn_state from, enum conn_state to)
{
    if ((unsigned)from >= CONN_STATES || (unsigned)to >= CONN_STATES) return 0;
    return (conn_moves[from] & TO(to)) != 0;
}

void conn_state_move(enum conn_state *state, enum conn_state to)
{
    assert(conn_state_allowed(*state, to));
    *state = to;
}

const char *conn_state_name(enum conn_state s)
{
    static const char *const names[CONN_STATES] = {
        [CONN_SNIFF] = "SNIFF",
        [CONN_HTTP] = "HTTP",
        [CONN_HTTP_CLOSING] = "HTTP_CLOSING",
        [CONN_HTTP_SHUT] = "HTTP_SHUT",
        [CONN_WS] = "WS",
        [CONN_WS_CLOSING] = "WS_CLOSING",
        [CONN_WS_SHUT] = "WS_SHUT",
        [CONN_DESTROYED] = "DESTROYED",
    };
    return (unsigned)s < CONN_STATES ? names[s] : "?";
}
