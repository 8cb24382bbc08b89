/*
 * packet: the game protocol's packets (docs/PROTOCOL.md), decoded strictly from client bytes and
 * encoded for clients. Knows nothing of sockets, sessions or the world.
 *
 * Decoding checks the envelope (a JSON object with a string `a` and contiguous p0..pN-1 and no
 * other key) and each client action's payload count and types. It does not judge meaning (is the
 * username allowed, is the avatar in range): that is proto/validate.
 */
#ifndef CMMO_PACKET_H
#define CMMO_PACKET_H

#include "core/rcbuf.h"

#include <stddef.h>
#include <stdint.h>

/* Bound on one client message; larger WebSocket messages are refused (close 1009) before they
 * reach the decoder. The largest legitimate packet, a Register, is under 300 bytes. */
#define PACKET_MAX_BYTES 4096

enum packet_action {
    PACKET_OK,
    PACKET_DENY,
    PACKET_REGISTER,
    PACKET_LOGIN,
    PACKET_CHAT,
    PACKET_TARGET,
    PACKET_MODEL_DELTA,
    PACKET_DISCONNECT,
};

enum packet_error {
    PACKET_E_MALFORMED = -1,      /* not JSON, not an object, bad `a`, bad keys */
    PACKET_E_UNKNOWN_ACTION = -2, /* `a` names no action of the protocol */
    PACKET_E_PAYLOAD = -3,        /* known action, wrong payload count or types */
};

/* A decoded client packet. Strings point into `text`, a private copy; they are NUL-terminated
 * and valid UTF-8 (JSON strings cannot carry invalid UTF-8 past the decoder) but may contain
 * NUL characters, hence the lengths. */
typedef struct packet {
    enum packet_action action;
    int payload_count;
    const char *s0, *s1; /* Register/Login: username, password. Chat: s1 = message. */
    size_t s0_len, s1_len;
    double n0, n1; /* Target: x, y (finite). Register: n0 = avatar as sent (may be fractional). */
    int n0_is_number;
    char text[PACKET_MAX_BYTES + 2];
} packet;

/* Decodes len bytes. On success fills *out and returns 0. On failure returns a packet_error;
 * for PACKET_E_PAYLOAD out->action says which action it was. Never reads past len. */
int packet_decode(const char *data, size_t len, packet *out);

/* Returns the action's wire name ("Login", ...). */
const char *packet_action_name(enum packet_action action);

/* ---- Encoders: each returns a new rcbuf (one reference, caller owns) holding the packet's
 * JSON text, or NULL on allocation failure or if the text would not fit. The rcbuf's tag is the
 * action + 1 (PACKET_TAG). ---- */
#define PACKET_TAG(action) ((uint16_t)((action) + 1))
#define PACKET_ACTION_COUNT 8

rcbuf *packet_encode_ok(void);
rcbuf *packet_encode_deny(const char *reason);
/* name: valid UTF-8 of name_len bytes; message likewise. */
rcbuf *packet_encode_chat(const char *name, size_t name_len, const char *message, size_t msg_len);
rcbuf *packet_encode_disconnect(int64_t actor_id);

/* Everything the full Actor model carries (reference section 5). */
typedef struct packet_actor {
    int64_t actor_id, user_id, instanced_entity_id, entity_id;
    double x, y;
    const char *name;
    int avatar_id;
} packet_actor;

rcbuf *packet_encode_actor_full(const packet_actor *a);
/* The movement delta: ids, model types, x and y (both always present). */
rcbuf *packet_encode_actor_moved(int64_t actor_id, int64_t instanced_entity_id, double x, double y);
/* The same movement in cmmo.v2's compact form, {"a":"Move","p0":[actor_id,x,y]} with x and y
 * rounded to hundredths: about 40 bytes instead of about 150. Counted as a ModelDelta. */
rcbuf *packet_encode_move(int64_t actor_id, double x, double y);
/* cmmo.v2's world size, {"a":"World","p0":width,"p1":height} in px (rounded to hundredths like
 * positions; --world sizes are whole numbers, so "16000"): the area targets are clamped to, for
 * the client's camera and clicks. Sent once, after the own full model that follows Ok. No
 * legacy client is ever sent it (the tutorial's client fails on an unknown action). Counted as
 * an Ok: it is part of the answer to a Login. */
rcbuf *packet_encode_world(double width, double height);

#endif
