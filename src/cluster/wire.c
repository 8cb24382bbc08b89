#include "cluster/wire.h"

#include <math.h>
#include <string.h>

void wire_put_u8(uint8_t **p, uint8_t v)
{
    *(*p)++ = v;
}

void wire_put_u32(uint8_t **p, uint32_t v)
{
    memcpy(*p, &v, 4); /* little-endian hosts only: every node runs the same build */
    *p += 4;
}

void wire_put_i64(uint8_t **p, int64_t v)
{
    memcpy(*p, &v, 8);
    *p += 8;
}

void wire_put_f64(uint8_t **p, double v)
{
    memcpy(*p, &v, 8);
    *p += 8;
}

void wire_put_bytes(uint8_t **p, const void *b, size_t n)
{
    memcpy(*p, b, n);
    *p += n;
}

int wire_get(wire_reader *r, void *out, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        memset(out, 0, n);
        return CMMO_EMALFORMED;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return 0;
}

uint8_t wire_get_u8(wire_reader *r)
{
    uint8_t v;
    wire_get(r, &v, 1);
    return v;
}

uint32_t wire_get_u32(wire_reader *r)
{
    uint32_t v;
    wire_get(r, &v, 4);
    return v;
}

int64_t wire_get_i64(wire_reader *r)
{
    int64_t v;
    wire_get(r, &v, 8);
    return v;
}

double wire_get_f64(wire_reader *r)
{
    double v;
    wire_get(r, &v, 8);
    return v;
}

size_t wire_join_size(const game_actor *a)
{
    return WIRE_JOIN_FIXED + strnlen(a->name, GAME_ACTOR_NAME_MAX);
}

void wire_put_join(uint8_t **p, const game_actor *a)
{
    size_t name_len = strnlen(a->name, GAME_ACTOR_NAME_MAX);
    wire_put_u8(p, REC_JOIN);
    wire_put_i64(p, a->actor_id);
    wire_put_i64(p, a->user_id);
    wire_put_i64(p, a->entity_id);
    wire_put_i64(p, a->instanced_entity_id);
    wire_put_u32(p, (uint32_t)a->avatar_id);
    wire_put_f64(p, a->x);
    wire_put_f64(p, a->y);
    wire_put_u8(p, (uint8_t)name_len);
    wire_put_bytes(p, a->name, name_len);
}

int wire_get_join(wire_reader *r, int64_t actor_id, game_actor *out)
{
    memset(out, 0, sizeof *out);
    out->actor_id = actor_id;
    out->user_id = wire_get_i64(r);
    out->entity_id = wire_get_i64(r);
    out->instanced_entity_id = wire_get_i64(r);
    out->avatar_id = (int)wire_get_u32(r);
    out->x = wire_get_f64(r);
    out->y = wire_get_f64(r);
    uint8_t name_len = wire_get_u8(r);
    if (name_len == 0 || name_len > GAME_ACTOR_NAME_MAX) return CMMO_EMALFORMED;
    if (wire_get(r, out->name, name_len) != 0) return CMMO_EMALFORMED;
    out->name[name_len] = 0;
    if (memchr(out->name, 0, name_len) || !isfinite(out->x) || !isfinite(out->y))
        return CMMO_EMALFORMED;
    return 0;
}
