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

#include "core/error.h"
#include "core/rcbuf.h"

#include <stddef.h>
#include <stdint.h>

/* Bound on one client message; larger WebSocket messages are refused (close 1009) before they
 * reach the decoder. The largest legitimate packet, a Register, is under 300 bytes. */
#define PACKET_MAX_BYTES 4096

/* The protocol's actions, in one table: the enum, the wire names, the decoder's lookup and
 * payload checks, the per-action counters of game and the labels of /metrics all come from it,
 * so adding an action is one line here (plus its handling). The order is the enum's order and
 * the order of the /metrics samples: append, never reorder (dashboards and PACKET_TAG values
 * follow it).
 *
 * Columns: X(ID, wire name, client payload shape). The shape is what a client must send, one
 * character per payload p0, p1, ...:
 *   's'  a JSON string, kept in the packet (valid UTF-8, may hold NUL characters)
 *   'n'  a finite JSON number
 *   '*'  any JSON value: either ignored (Chat's p0, the sender's name as the client believes
 *        it) or judged later by proto/validate (Register's avatar, which may be a fractional
 *        number or not a number at all, each with its own Deny)
 * A NULL shape marks a server-to-client action. A client that sends one anyway gets it decoded
 * with any payload, so the session ignores it knowingly instead of calling it unknown.
 *
 * cmmo.v2's Move and World are not actions of their own: Move is a ModelDelta in compact form,
 * World part of the answer to a Login. Their encoders tag them as MODEL_DELTA and OK, so /metrics
 * counts them under those labels (dashboards rely on them), and clients never send them (the
 * decoder calls them unknown). */
#define PACKET_ACTIONS(X)                                                                          \
    X(OK, "Ok", NULL)                                                                              \
    X(DENY, "Deny", NULL)                                                                          \
    X(REGISTER, "Register", "ss*")                                                                 \
    X(LOGIN, "Login", "ss")                                                                        \
    X(CHAT, "Chat", "*s")                                                                          \
    X(TARGET, "Target", "nn")                                                                      \
    X(MODEL_DELTA, "ModelDelta", NULL)                                                             \
    X(DISCONNECT, "Disconnect", NULL)

#define PACKET_ACTION_ENUM_(id, name, shape) PACKET_##id,
enum packet_action { PACKET_ACTIONS(PACKET_ACTION_ENUM_) };
#undef PACKET_ACTION_ENUM_

/* How many actions the table has: the bound of arrays indexed by packet_action. */
#define PACKET_ACTION_ONE_(id, name, shape) +1
enum { PACKET_ACTION_COUNT = 0 PACKET_ACTIONS(PACKET_ACTION_ONE_) };
#undef PACKET_ACTION_ONE_

/* Why a packet was refused: the decoder's names for codes of the one error table
 * (core/error.h). */
enum packet_error {
    PACKET_E_MALFORMED = CMMO_EMALFORMED,   /* not JSON, not an object, bad `a`, bad keys */
    PACKET_E_UNKNOWN_ACTION = CMMO_EACTION, /* `a` names no action of the protocol */
    PACKET_E_PAYLOAD = CMMO_EPAYLOAD,       /* known action, wrong payload count or types */
};

/* A username and password as a client sent them (Register and Login). */
typedef struct packet_credentials {
    const char *name, *password;
    size_t name_len, password_len;
} packet_credentials;

/* A decoded client packet: `action` says which member of `as` is filled (none for the
 * server-to-client actions). Strings point into `text`, a private copy; they are NUL-terminated
 * and valid UTF-8 (JSON strings cannot carry invalid UTF-8 past the decoder) but may contain NUL
 * characters, hence the lengths. A packet that failed to decode fills no member. */
typedef struct packet {
    enum packet_action action;
    int payload_count;
    union {
        struct {
            packet_credentials account;
            double avatar;        /* as sent (may be fractional): validate judges it */
            int avatar_is_number; /* 0: p2 was not a JSON number, avatar is 0 */
        } reg;
        struct {
            packet_credentials account;
        } login;
        struct {
            const char *message;
            size_t message_len;
        } chat;
        struct {
            double x, y; /* finite */
        } target;
    } as;
    char text[PACKET_MAX_BYTES + 2];
} packet;

/* Decodes len bytes. On success fills *out and returns 0. On failure returns a packet_error;
 * for PACKET_E_PAYLOAD out->action says which action it was. Never reads past len. */
int packet_decode(const char *data, size_t len, packet *out);

/* Returns the action's wire name ("Login", ...), or "?" for a value outside the table. */
const char *packet_action_name(enum packet_action action);

/* The action whose wire name is the len bytes at name (exact match, case-sensitive), or
 * PACKET_E_UNKNOWN_ACTION. */
int packet_action_from_name(const char *name, size_t len);

/* The envelope every message shares, whatever its action or protocol ({"a": NAME, "p0": ...,
 * "p(n-1)": ...}), for a decoder of further actions (cmmo.v2's, proto/v2.h) to read by the same
 * rule as packet_decode. */
struct json_t;
/* Payloads kept: more than any action takes (Register's 3). A message with more is still an
 * envelope, then refused by its action's shape. */
#define PACKET_ENVELOPE_KEPT 8
typedef struct packet_envelope {
    struct json_t *root; /* owned until packet_envelope_close */
    const char *action;  /* the `a` string (NUL-terminated; may hold NULs: action_len) */
    size_t action_len;
    struct json_t *payload[PACKET_ENVELOPE_KEPT]; /* p0.., NULL past count */
    int count;
} packet_envelope;

/* Parses len bytes (1..PACKET_MAX_BYTES) as an envelope: a JSON object without duplicate keys
 * whose keys are `a` (a string) and exactly p0..p(count-1) (no gap, no leading zero, at most
 * p99). Returns 0 (close it after), or PACKET_E_MALFORMED (nothing to close). */
int packet_envelope_open(const char *data, size_t len, packet_envelope *env);
void packet_envelope_close(packet_envelope *env);

/* ---- Encoders: each returns a new rcbuf (one reference, caller owns) holding the packet's
 * JSON text, or NULL on allocation failure or if the text would not fit. The rcbuf's tag is the
 * action + 1 (PACKET_TAG). ---- */
#define PACKET_TAG(action) ((uint16_t)((action) + 1))

/* The text a JSON writer holds as a packet buffer tagged with PACKET_TAG(tag), for the encoders
 * of further actions (proto/v2.h); NULL if the writer overflowed or on allocation failure. */
struct jsonw;
rcbuf *packet_from_writer(struct jsonw *w, enum packet_action tag);

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

/* ---- cmmo.v2's Moves frame (docs/PROTOCOL.md, "One frame per tick"): a binary message of one
 * of two kinds, little-endian throughout:
 *   kind 2 ("short"): bytes 1 (kind) and s, then 8-byte records: actor id (u32), x and y (u16)
 *           in units of 2^-s px (s in 0..PACKET_MOVE_SCALE_MAX);
 *   kind 1: byte 1 (kind), then 12-byte records: actor id (u32), x and y (u32) in hundredths of
 *           a px.
 * A server uses one format for its whole life, chosen from its world's size: kind 2 with the
 * finest s at which both sides fit in a u16 (1/32 px on the tutorial's 1344 px map, 1/4 px on
 * 16000 px), kind 1 only for worlds wider than 65,535 px. Kind 2 is a third smaller: with a
 * bandwidth budget that is a third more actors updated per tick. A record is encoded once per
 * move and copied into each viewer's frame. ---- */
#define PACKET_MOVES_KIND 1
#define PACKET_MOVES_KIND_SHORT 2
#define PACKET_MOVE_RECORD 12
#define PACKET_MOVE_RECORD_SHORT 8
#define PACKET_MOVE_RECORD_MAX 12
#define PACKET_MOVE_SCALE_MAX 6
/* Actor ids a record can carry; an actor with a larger id is sent as a JSON Move instead. */
#define PACKET_MOVE_ID_MAX UINT32_MAX

typedef struct packet_moves_format {
    uint8_t kind;   /* PACKET_MOVES_KIND or PACKET_MOVES_KIND_SHORT */
    uint8_t scale;  /* kind 2: positions in units of 2^-scale px; 0 for kind 1 */
    uint8_t header; /* bytes before the first record: 1 or 2 */
    uint8_t record; /* bytes per record: PACKET_MOVE_RECORD or PACKET_MOVE_RECORD_SHORT */
} packet_moves_format;

/* The format for a world of width x height px (both >= 0, as --world bounds them). */
packet_moves_format packet_moves_format_for(double width, double height);
/* The record (f->record bytes at out) of actor_id at (x, y): x, y rounded to the format's unit
 * and clamped to what it can carry (a negative or non-finite value is written as 0). An actor_id
 * above PACKET_MOVE_ID_MAX is cut to 32 bits: such a record must not be sent. */
void packet_move_record(const packet_moves_format *f, uint8_t out[PACKET_MOVE_RECORD_MAX],
                        int64_t actor_id, double x, double y);
/* A Moves frame of the n records at records (n * f->record bytes): a new rcbuf flagged
 * RCBUF_BINARY, tagged as MODEL_DELTA and counting n packets. NULL on allocation failure. */
rcbuf *packet_encode_moves(const packet_moves_format *f, const uint8_t *records, size_t n);

#endif
