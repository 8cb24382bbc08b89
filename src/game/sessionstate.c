#include "game/sessionstate.h"

#include <assert.h>

#define TO(s) (1u << (s))

/* Each state's legal successors, one bit per target state. Every waiting state may fall back to
 * LOGIN_IDLE; PLAY is reached only from the re-read and never left. */
static const unsigned session_moves[SESSION_STATES] = {
    [SESSION_LOGIN_IDLE] =
        TO(SESSION_REGISTER_CHECKING) | TO(SESSION_LOGIN_FINDING) | TO(SESSION_RESUME_FINDING),
    [SESSION_REGISTER_CHECKING] = TO(SESSION_REGISTER_HASHING) | TO(SESSION_LOGIN_IDLE),
    [SESSION_REGISTER_HASHING] = TO(SESSION_REGISTER_CREATING) | TO(SESSION_LOGIN_IDLE),
    [SESSION_REGISTER_CREATING] = TO(SESSION_LOGIN_IDLE),
    [SESSION_LOGIN_FINDING] = TO(SESSION_LOGIN_VERIFYING) | TO(SESSION_LOGIN_IDLE),
    [SESSION_LOGIN_VERIFYING] =
        TO(SESSION_LOGIN_CLAIMING) | TO(SESSION_LOGIN_REREADING) | TO(SESSION_LOGIN_IDLE),
    [SESSION_LOGIN_CLAIMING] = TO(SESSION_LOGIN_REREADING) | TO(SESSION_LOGIN_IDLE),
    [SESSION_LOGIN_REREADING] = TO(SESSION_PLAY) | TO(SESSION_LOGIN_IDLE),
    [SESSION_PLAY] = 0,
    /* A resume token stands in for the password check: on to the claim or the re-read. */
    [SESSION_RESUME_FINDING] =
        TO(SESSION_LOGIN_CLAIMING) | TO(SESSION_LOGIN_REREADING) | TO(SESSION_LOGIN_IDLE),
};

int session_state_allowed(enum session_state from, enum session_state to)
{
    if ((unsigned)from >= SESSION_STATES || (unsigned)to >= SESSION_STATES) return 0;
    return (session_moves[from] & TO(to)) != 0;
}

void session_state_move(enum session_state *state, enum session_state to)
{
    assert(session_state_allowed(*state, to));
    *state = to;
}

const char *session_state_name(enum session_state s)
{
    static const char *const names[SESSION_STATES] = {
        [SESSION_LOGIN_IDLE] = "login_idle",
        [SESSION_REGISTER_CHECKING] = "register_checking",
        [SESSION_REGISTER_HASHING] = "register_hashing",
        [SESSION_REGISTER_CREATING] = "register_creating",
        [SESSION_LOGIN_FINDING] = "login_finding",
        [SESSION_LOGIN_VERIFYING] = "login_verifying",
        [SESSION_LOGIN_CLAIMING] = "login_claiming",
        [SESSION_LOGIN_REREADING] = "login_rereading",
        [SESSION_PLAY] = "play",
        [SESSION_RESUME_FINDING] = "resume_finding",
    };
    return (unsigned)s < SESSION_STATES ? names[s] : "?";
}
