/*
 * sessionstate: the states of one session (game/session.h) and the table of legal moves. This
 * header is game-internal (nothing outside src/game and its unit tests includes it) and exists so
 * that the table can be tested on its own.
 *
 *   LOGIN_IDLE --Register--> REGISTER_CHECKING -> REGISTER_HASHING -> REGISTER_CREATING
 *       |                     (name taken?)       (auth)              (insert)
 *       +------Login------> LOGIN_FINDING -> LOGIN_VERIFYING -> [LOGIN_CLAIMING] -> LOGIN_REREADING
 *       |                   (read account)   (password)       ^ (cluster only)   ^  (position)
 *       +-Resume (cmmo.v2)-> RESUME_FINDING ------------------+------------------+      |
 *                            (token -> account)                                        v
 *                                                                                     PLAY
 *
 * Every waiting state falls back to LOGIN_IDLE on a refusal or a failure; PLAY is final (the
 * session ends by being freed). A waiting state is "busy": the session's queued messages wait
 * until it is back in LOGIN_IDLE or PLAY.
 */
#ifndef CMMO_SESSIONSTATE_H
#define CMMO_SESSIONSTATE_H

enum session_state {
    SESSION_LOGIN_IDLE,        /* in LOGIN, waiting for a Register or Login */
    SESSION_REGISTER_CHECKING, /* store: is the name taken? */
    SESSION_REGISTER_HASHING,  /* auth: hashing the new password */
    SESSION_REGISTER_CREATING, /* store: inserting the account */
    SESSION_LOGIN_FINDING,     /* store: reading the account */
    SESSION_LOGIN_VERIFYING,   /* auth: checking the password (a dummy hash for unknown names) */
    SESSION_LOGIN_CLAIMING,    /* cluster: claiming the account's presence */
    SESSION_LOGIN_REREADING,   /* store: reading the position again, just before joining */
    SESSION_PLAY,              /* in the world */
    SESSION_RESUME_FINDING,    /* store: the account of a cmmo.v2 resume token */
};
#define SESSION_STATES 10

/* Whether a session may go from `from` to `to`. Staying put is not a move (0). */
int session_state_allowed(enum session_state from, enum session_state to);

/* Moves *state to `to`, asserting the move is legal: an illegal move is a bug in the game, never
 * a client's doing. */
void session_state_move(enum session_state *state, enum session_state to);

/* "login_idle", "register_hashing", "play" ...; "?" for a value out of range. */
const char *session_state_name(enum session_state s);

/* Waiting for the store, auth or the cluster: the queue waits too. */
static inline int session_state_busy(enum session_state s)
{
    return s != SESSION_LOGIN_IDLE && s != SESSION_PLAY;
}

#endif
