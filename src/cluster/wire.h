/*
 * wire: the byte encoding of the cluster's messages (docs/SCALING.md), as pure functions over
 * buffers, apart from Redis so that it is tested on its own (tests/unit/test_cluster.c).
 *
 * Integers and doubles are written in host order: every node of a cluster runs the same build
 * on little-endian hosts. Writers are given room by the caller (sizes below); the reader is
 * bounds-checked and fails, and keeps failing, once its input is exhausted.
 */
#ifndef CMMO_CLUSTER_WIRE_H
#define CMMO_CLUSTER_WIRE_H

#include "core/error.h"
#include "game/actor.h"

#include <stddef.h>
#include <stdint.h>

/* Record types inside a region message. */
enum { REC_JOIN = 'J', REC_MOVE = 'M', REC_LEAVE = 'L', REC_EXIT = 'X' };

/* A join record: type, actor, user, entity and instanced entity ids, avatar, x, y, then the
 * name's length and bytes. The actor model is the record; nothing else (no hash) travels. */
#define WIRE_JOIN_FIXED (1 + 8 * 4 + 4 + 8 * 2 + 1)
#define WIRE_JOIN_MAX (WIRE_JOIN_FIXED + GAME_ACTOR_NAME_MAX)
_Static_assert(GAME_ACTOR_NAME_MAX <= UINT8_MAX, "a name's length is one byte on the wire");

void wire_put_u8(uint8_t **p, uint8_t v);
void wire_put_u32(uint8_t **p, uint32_t v);
void wire_put_i64(uint8_t **p, int64_t v);
void wire_put_f64(uint8_t **p, double v);
void wire_put_bytes(uint8_t **p, const void *b, size_t n);

typedef struct wire_reader {
    const uint8_t *p, *end;
    int bad;
} wire_reader;

/* Copies n bytes to out; on too short input zeroes out, marks the reader bad and returns
 * CMMO_EMALFORMED. */
int wire_get(wire_reader *r, void *out, size_t n);
/* Each returns 0 once the reader is bad. */
uint8_t wire_get_u8(wire_reader *r);
uint32_t wire_get_u32(wire_reader *r);
int64_t wire_get_i64(wire_reader *r);
double wire_get_f64(wire_reader *r);

/* The bytes of a's join record (at most WIRE_JOIN_MAX). */
size_t wire_join_size(const game_actor *a);
/* Writes a's join record (wire_join_size(a) bytes) at *p and advances it. */
void wire_put_join(uint8_t **p, const game_actor *a);
/* Reads the rest of a join record whose type and actor id the caller has read (as for every
 * record) into out. Returns 0, or CMMO_EMALFORMED for a truncated record, a name empty, too long or
 * holding a NUL byte, or a position that is not finite. */
int wire_get_join(wire_reader *r, int64_t actor_id, game_actor *out);

#endif
