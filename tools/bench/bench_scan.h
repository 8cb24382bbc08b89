/*
 * bench_scan: cheap, partial reading of the server's packets.
 *
 * The benchmark receives up to millions of frames per second, so it never builds a JSON tree:
 * it classifies a frame by its prefix (the server writes compact JSON with "a" first, see
 * docs/PROTOCOL.md section 2) and pulls out only the few fields it measures. A frame that does not
 * match a known prefix is BENCH_PKT_OTHER and is only counted.
 *
 * Movement deltas come in two encodings, and both are BENCH_PKT_DELTA with the same meaning:
 *   legacy
 * {"a":"ModelDelta","p0":{"id":A,"model_type":"Actor","instanced_entity":{..,"x":X,"y":Y}}} cmmo.v2
 * {"a":"Move","p0":[A,X,Y]}  (negotiated as a WebSocket subprotocol, see --compact) Full models are
 * ModelDelta in both.
 *
 * All functions take a payload that is NOT NUL-terminated and never read past len. They return 0
 * on success and -1 when the field is absent or malformed.
 */
#ifndef CMMO_BENCH_SCAN_H
#define CMMO_BENCH_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum bench_packet {
    BENCH_PKT_DELTA,
    BENCH_PKT_CHAT,
    BENCH_PKT_OK,
    BENCH_PKT_DENY,
    BENCH_PKT_DISCONNECT,
    BENCH_PKT_OTHER,
    BENCH_PKT_MOVES, /* cmmo.v2's binary Moves frame: many deltas (bench_scan_moves) */
};

enum bench_packet bench_scan_classify(const char *p, size_t len);

/* The actor id of a delta: for a ModelDelta the "id" key at the top level of the p0 dict (not the
 * nested instanced_entity / entity ids), for a Move p0's first element (an integer). */
int bench_scan_delta_id(const char *p, size_t len, int64_t *id);

/* The position of a delta: "x" and "y" of a ModelDelta's instanced_entity (both must be present:
 * the server always sends them together), or p0's second and third element of a Move. */
int bench_scan_delta_xy(const char *p, size_t len, double *x, double *y);

/* A cmmo.v2 Moves frame (docs/PROTOCOL.md, "One frame per tick"): a binary message of kind 1
 * (then 12-byte records, little-endian u32 actor id, x and y in hundredths) or of kind 2 (then a
 * scale byte s up to BENCH_MOVE_SCALE_MAX and 8-byte records, u32 id, u16 x and y in 2^-s px).
 * Returns how many records it holds, or -1 if p is not one. */
#define BENCH_MOVE_SCALE_MAX 6
long bench_scan_moves(const char *p, size_t len);
/* Record i (below the count bench_scan_moves returned) of a Moves frame. */
void bench_scan_move_record(const char *p, size_t i, int64_t *id, double *x, double *y);

/* The benchmark's chat text is "t=<send ns> s=<sender index> n=<sequence>". */
struct bench_chat_fields {
    const char *name; /* p0, the sender's name as set by the server (points into p) */
    size_t name_len;
    uint64_t sent_ns;
    uint32_t sender;
    uint32_t seq;
};

/* Reads a Chat's p0 and the numbers of its p1. -1 if the text is not the benchmark's format. */
int bench_scan_chat(const char *p, size_t len, struct bench_chat_fields *out);

/* The actor id (p0) of a Disconnect. */
int bench_scan_disconnect(const char *p, size_t len, int64_t *id);

/* The reason (p0) of a Deny: points into p, not unescaped. */
int bench_scan_deny(const char *p, size_t len, const char **reason, size_t *reason_len);

#endif
