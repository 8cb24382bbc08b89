/*
 * v2: the packets cmmo.v2 adds beyond compact movement (docs/PROTOCOL.md, "cmmo.v2 sessions"):
 * what a browser client needs that the tutorial's protocol lacks. Decoded only for connections
 * that negotiated cmmo.v2, so a legacy client that sends "Resume" still gets "Unknown action",
 * byte for byte as before.
 *
 * They are not rows of PACKET_ACTIONS: that table is also the label set of /metrics, which
 * dashboards pin. Their encoders tag them with the legacy action closest in kind (each says
 * which), as Move and World are.
 */
#ifndef CMMO_PROTO_V2_H
#define CMMO_PROTO_V2_H

#include "core/error.h"
#include "core/limits.h"
#include "core/rcbuf.h"

#include <stddef.h>
#include <stdint.h>

/* A resume token on the wire: 32 random bytes in unpadded base64url, 43 characters. */
#define V2_TOKEN_BYTES 32
#define V2_TOKEN_CHARS 43

/* Names listed in one Players packet: enough for any list a phone can show; the count beside
 * it is always the whole. About 6 KiB at most. */
#define V2_PLAYERS_LISTED_MAX 256

enum v2_action {
    V2_RESUME, /* p0 username, p1 token: log in without the password */
    V2_LOGOUT, /* no payload: revoke this session's token */
    V2_PING,   /* p0 a finite number, echoed in a Pong */
};

typedef struct v2_packet {
    enum v2_action action;
    /* Resume: as sent, NUL-terminated; lengths are checked by the session (too long: the copy is
     * cut and *_len says the real length). */
    char name[LIMITS_USERNAME_MAX + 2];
    size_t name_len;
    char token[V2_TOKEN_CHARS + 2];
    size_t token_len;
    double ping; /* Ping */
} v2_packet;

/* Errors: the values of packet.h's packet_error (not included, to keep this header small). */
/* The decoder's refusals: codes of the one error table, as packet_decode's. */
enum {
    V2_E_MALFORMED = CMMO_EMALFORMED,
    V2_E_UNKNOWN_ACTION = CMMO_EACTION,
    V2_E_PAYLOAD = CMMO_EPAYLOAD,
};

/* Decodes a cmmo.v2 client packet: the same envelope as every packet (an object with a string
 * `a` and p0..pN-1, nothing else), then one of the actions above with exactly its payloads
 * (Resume: two strings; Logout: none; Ping: one finite number). Returns 0 and fills *out, or
 * V2_E_UNKNOWN_ACTION (not one of these: the caller has its own answer), V2_E_MALFORMED or
 * V2_E_PAYLOAD (out->action says which action). Never reads past len. */
int v2_decode(const char *data, size_t len, v2_packet *out);

/* ---- Encoders: a new rcbuf (one reference, the caller's), or NULL on allocation failure. */

/* {"a":"Token","p0":"<token>","p1":<seconds it is valid>}. Tagged Ok. token: V2_TOKEN_CHARS. */
rcbuf *v2_encode_token(const char *token, int64_t ttl_s);

/* {"a":"Players","p0":<count>,"p1":["name", ...]}: the players in the world and the first
 * V2_PLAYERS_LISTED_MAX of their names (n may be larger; the rest are left out). Tagged Chat. */
rcbuf *v2_encode_players(size_t count, const char *const *names, size_t n);

/* {"a":"Joined","p0":"name","p1":<count>} and {"a":"Left",...}: a player entered or left the
 * world, and how many are in it now. Tagged Chat. */
rcbuf *v2_encode_joined(const char *name, size_t count);
rcbuf *v2_encode_left(const char *name, size_t count);

/* {"a":"Pong","p0":<the Ping's number>}. Tagged Ok. */
rcbuf *v2_encode_pong(double value);

#endif
