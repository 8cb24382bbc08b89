/*
 * error: the one error convention of cmmo, for every module.
 *
 * A function that can fail returns an int: 0 when it did what it says, or a negative error code.
 * A function that returns a count or a size returns it (>= 0) on success and the same negative
 * codes on failure. There are two kinds of code, and they never overlap:
 *
 *   - System errors, as libuv reports them: the negative errno value (-ENOMEM, -EADDRINUSE; libuv's
 *     UV_ENOMEM and friends have these values on every system cmmo builds on) and libuv's own codes
 *     (UV_EOF, UV_EAI_*). A module that fails because a system call or a libuv call failed passes
 *     that code up unchanged, so the log names the real cause.
 *   - cmmo's own codes, CMMO_E*, listed once in CMMO_ERRORS below. They sit in
 *     [CMMO_ERROR_LAST, CMMO_ERROR_FIRST], far from errno values (small) and from libuv's (-3000
 *     and below), so one int carries either kind without ambiguity.
 *
 * cmmo_strerror(code) names any code, of either kind, for a log line; it never returns NULL and
 * never allocates. Callers check every result; a callback's `result` argument carries the same
 * codes (the store's STORE_* names are aliases of CMMO_* codes, kept because they read well in
 * store callers). Answers that are not failures (an event handler's "pause", a parser's "need more
 * bytes", a predicate's yes or no) are not errors: they are bool or a module's own small enum, and
 * never share an int with these codes.
 *
 * Bad input from the network is an expected case: it gets one of these codes (and the peer a
 * clear reply), never an assert. An assert guards the program's own invariants only.
 */
#ifndef CMMO_ERROR_H
#define CMMO_ERROR_H

#include <stdbool.h>

/* Each code once: its name (CMMO_E<name>) and the text logs show. Add new codes at the end, so
 * the values of the others never change (they appear in logs and test expectations). */
#define CMMO_ERRORS(X)                                                                             \
    X(NOTFOUND, "not found")                                                                       \
    X(TAKEN, "the name is taken")                                                                  \
    X(STORE, "the database failed")                                                                \
    X(MALFORMED, "malformed packet")                                                               \
    X(ACTION, "unknown action")                                                                    \
    X(PAYLOAD, "wrong payload for the action")                                                     \
    X(HTTP_BAD_REQUEST, "bad HTTP request")                                                        \
    X(HTTP_URI_TOO_LONG, "HTTP request target too long")                                           \
    X(HTTP_TOO_LARGE, "HTTP request header too large")                                             \
    X(CONFIG, "invalid configuration")                                                             \
    X(INVALID, "invalid argument")                                                                 \
    X(TOO_LONG, "too long")                                                                        \
    X(UTF8, "invalid UTF-8")                                                                       \
    X(STOPPED, "shutting down")                                                                    \
    X(TLS, "TLS failed")                                                                           \
    X(CLOSED, "the peer closed the connection")                                                    \
    X(FULL, "a bounded table or queue is full")                                                    \
    X(THROTTLED, "too many attempts")                                                              \
    X(EXISTS, "already exists")                                                                    \
    X(CLUSTER, "the cluster could not be reached")                                                 \
    X(SCRIPT, "the script could not be loaded")

enum { CMMO_OK = 0, CMMO_ERROR_FIRST = -2000 };

#define CMMO_ERROR_ENUM_(name, text) CMMO_E_INDEX_##name,
enum { CMMO_ERRORS(CMMO_ERROR_ENUM_) CMMO_ERROR_COUNT };
#undef CMMO_ERROR_ENUM_

#define CMMO_ERROR_CODE_(name, text) CMMO_E##name = CMMO_ERROR_FIRST - CMMO_E_INDEX_##name,
enum cmmo_error {
    CMMO_ERRORS(CMMO_ERROR_CODE_) CMMO_ERROR_LAST = CMMO_ERROR_FIRST - CMMO_ERROR_COUNT + 1
};
#undef CMMO_ERROR_CODE_

/* True for one of cmmo's own codes (not a system error, not success). */
static inline bool cmmo_error_is_own(int code)
{
    return code <= CMMO_ERROR_FIRST && code >= CMMO_ERROR_LAST;
}

/* A short English text for code: "ok" for 0, the table's text for a CMMO_E* code, libuv's (that
 * is, the system's) text for a system error, and "unknown error" for anything else. */
const char *cmmo_strerror(int code);

/* The code's name for a structured log field: "ENOTFOUND", libuv's "ECONNRESET", "OK" for 0, or
 * "EUNKNOWN". */
const char *cmmo_err_name(int code);

#endif
