#include "proto/packet.h"

#include "proto/jsonw.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table's rows, indexed by enum packet_action. */
#define ACTION_ROW(id, wire, client_shape) [PACKET_##id] = {wire, sizeof wire - 1, client_shape},
static const struct {
    const char *name;
    size_t name_len;
    const char *shape; /* see PACKET_ACTIONS; NULL: server-to-client */
} actions[PACKET_ACTION_COUNT] = {PACKET_ACTIONS(ACTION_ROW)};
#undef ACTION_ROW

const char *packet_action_name(enum packet_action action)
{
    return (unsigned)action < PACKET_ACTION_COUNT ? actions[action].name : "?";
}

int packet_action_from_name(const char *name, size_t len)
{
    for (int i = 0; i < PACKET_ACTION_COUNT; i++)
        if (len == actions[i].name_len && memcmp(name, actions[i].name, len) == 0) return i;
    return PACKET_E_UNKNOWN_ACTION;
}

/* "p0".."p99" -> index; anything else -> -1. Leading zeros ("p01") are not payload keys. */
static int payload_index(const char *key)
{
    if (key[0] != 'p' || key[1] < '0' || key[1] > '9') return -1;
    if (key[1] == '0' && key[2] != 0) return -1;
    int v = 0;
    for (const char *c = key + 1; *c; c++) {
        if (*c < '0' || *c > '9' || v > 99) return -1;
        v = v * 10 + (*c - '0');
    }
    return v > 99 ? -1 : v;
}

/* Copies a JSON string into out->text at *used; returns the copy or NULL if it does not fit. */
static const char *keep_string(packet *out, size_t *used, json_t *s, size_t *len)
{
    size_t n = json_string_length(s);
    if (*used + n + 1 > sizeof out->text) return NULL;
    char *dst = out->text + *used;
    memcpy(dst, json_string_value(s), n);
    dst[n] = 0;
    *used += n + 1;
    *len = n;
    return dst;
}

/* Nonzero when the count payloads have the shape a client action requires (PACKET_ACTIONS). */
static int matches_shape(const char *shape, json_t *const *payload, int count)
{
    if ((size_t)count != strlen(shape)) return 0;
    for (int i = 0; i < count; i++) {
        if (shape[i] == 's' && !json_is_string(payload[i])) return 0;
        /* jansson refuses NaN/Infinity literals and overflowing reals; isfinite guards integers
         * that do not fit a double exactly and any future decoder change. */
        if (shape[i] == 'n' &&
            !(json_is_number(payload[i]) && isfinite(json_number_value(payload[i]))))
            return 0;
    }
    return 1;
}

int packet_envelope_open(const char *data, size_t len, packet_envelope *env)
{
    memset(env, 0, sizeof *env);
    if (len == 0 || len > PACKET_MAX_BYTES) return PACKET_E_MALFORMED;
    json_error_t err;
    /* REJECT_DUPLICATES: {"a":"Chat","a":"Login"} is ambiguous, so it is malformed. */
    /* ALLOW_NUL: a "\u0000" inside a string is valid JSON; the validators decide about it. */
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root) return PACKET_E_MALFORMED;
    json_t *a = json_object_get(root, "a");
    if (!json_is_object(root) || !json_is_string(a)) goto malformed;
    /* Every key is `a` or pN; the pN are exactly p0..p(count-1). */
    int count = 0, max_index = -1;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "a") == 0) continue;
        int idx = payload_index(key);
        if (idx < 0) goto malformed;
        if (idx < PACKET_ENVELOPE_KEPT) env->payload[idx] = value;
        if (idx > max_index) max_index = idx;
        count++;
    }
    if (count != max_index + 1) goto malformed;
    env->root = root;
    env->action = json_string_value(a);
    env->action_len = json_string_length(a);
    env->count = count;
    return 0;
malformed:
    json_decref(root);
    memset(env, 0, sizeof *env);
    return PACKET_E_MALFORMED;
}

void packet_envelope_close(packet_envelope *env)
{
    json_decref(env->root);
    env->root = NULL;
}

int packet_decode(const char *data, size_t len, packet *out)
{
    memset(out, 0, offsetof(packet, text));
    if (len == 0 || len > PACKET_MAX_BYTES) return PACKET_E_MALFORMED;
    packet_envelope env;
    if (packet_envelope_open(data, len, &env) != 0) return PACKET_E_MALFORMED;
    int rc;
    json_t *const *payload = env.payload;
    int count = env.count;
    int action = packet_action_from_name(env.action, env.action_len);
    if (action < 0) {
        rc = action;
        goto done;
    }
    out->action = (enum packet_action)action;
    out->payload_count = count;

    rc = PACKET_E_PAYLOAD;
    /* Server-to-client actions are decoded with any payload, so the session can ignore them. */
    const char *shape = actions[action].shape;
    if (shape && !matches_shape(shape, payload, count)) goto done;
    size_t used = 0;
    packet_credentials *account = NULL;
    switch (out->action) {
    case PACKET_REGISTER:
        account = &out->as.reg.account;
        if (json_is_number(payload[2])) {
            out->as.reg.avatar = json_number_value(payload[2]);
            out->as.reg.avatar_is_number = 1;
        }
        break;
    case PACKET_LOGIN:
        account = &out->as.login.account;
        break;
    case PACKET_CHAT:
        out->as.chat.message = keep_string(out, &used, payload[1], &out->as.chat.message_len);
        if (!out->as.chat.message) goto done;
        break;
    case PACKET_TARGET:
        out->as.target.x = json_number_value(payload[0]);
        out->as.target.y = json_number_value(payload[1]);
        break;
    default:
        break;
    }
    if (account) {
        account->name = keep_string(out, &used, payload[0], &account->name_len);
        account->password = keep_string(out, &used, payload[1], &account->password_len);
        if (!account->name || !account->password) goto done;
    }
    rc = 0;
done:
    if (rc != 0) memset(&out->as, 0, sizeof out->as); /* as the header says: no member filled */
    packet_envelope_close(&env);
    return rc;
}

/* ---- encoders ---- */

/* Large enough for any packet the server writes: a chat is at most 20 name characters plus 256
 * message characters, each escaped to at most 12 bytes, plus the envelope. */
#define ENCODE_MAX 4096

rcbuf *packet_from_writer(jsonw *w, enum packet_action tag)
{
    long n = jsonw_finish(w);
    if (n < 0) return NULL;
    rcbuf *b = rcbuf_from(w->out, (size_t)n);
    if (b) b->tag = PACKET_TAG(tag);
    return b;
}

rcbuf *packet_encode_ok(void)
{
    rcbuf *b = rcbuf_from("{\"a\":\"Ok\"}", 10);
    if (b) b->tag = PACKET_TAG(PACKET_OK);
    return b;
}

rcbuf *packet_encode_deny(const char *reason)
{
    char out[ENCODE_MAX];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"Deny\",\"p0\":");
    jsonw_string(&w, reason, strlen(reason));
    jsonw_raw(&w, "}");
    return packet_from_writer(&w, PACKET_DENY);
}

rcbuf *packet_encode_chat(const char *name, size_t name_len, const char *message, size_t msg_len)
{
    char out[ENCODE_MAX];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"Chat\",\"p0\":");
    jsonw_string(&w, name, name_len);
    jsonw_raw(&w, ",\"p1\":");
    jsonw_string(&w, message, msg_len);
    jsonw_raw(&w, "}");
    return packet_from_writer(&w, PACKET_CHAT);
}

rcbuf *packet_encode_disconnect(int64_t actor_id)
{
    char out[64];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"Disconnect\",\"p0\":");
    jsonw_int(&w, actor_id);
    jsonw_raw(&w, "}");
    return packet_from_writer(&w, PACKET_DISCONNECT);
}

rcbuf *packet_encode_actor_full(const packet_actor *a)
{
    char out[512];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    /* Key order as the original printed it; clients do not depend on it. */
    jsonw_raw(&w, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":");
    jsonw_int(&w, a->actor_id);
    jsonw_raw(&w, ",\"user\":");
    jsonw_int(&w, a->user_id);
    jsonw_raw(&w, ",\"instanced_entity\":{\"id\":");
    jsonw_int(&w, a->instanced_entity_id);
    jsonw_raw(&w, ",\"x\":");
    jsonw_double(&w, a->x);
    jsonw_raw(&w, ",\"y\":");
    jsonw_double(&w, a->y);
    jsonw_raw(&w, ",\"entity\":{\"id\":");
    jsonw_int(&w, a->entity_id);
    jsonw_raw(&w, ",\"name\":");
    jsonw_string(&w, a->name, strlen(a->name));
    jsonw_raw(&w, ",\"model_type\":\"Entity\"},\"model_type\":\"InstancedEntity\"},\"avatar_id\":");
    jsonw_int(&w, a->avatar_id);
    jsonw_raw(&w, ",\"model_type\":\"Actor\"}}");
    return packet_from_writer(&w, PACKET_MODEL_DELTA);
}

rcbuf *packet_encode_move(int64_t actor_id, double x, double y)
{
    char out[96];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"Move\",\"p0\":[");
    jsonw_int(&w, actor_id);
    jsonw_raw(&w, ",");
    jsonw_hundredths(&w, x);
    jsonw_raw(&w, ",");
    jsonw_hundredths(&w, y);
    jsonw_raw(&w, "]}");
    return packet_from_writer(&w, PACKET_MODEL_DELTA);
}

rcbuf *packet_encode_world(double width, double height)
{
    char out[96];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"World\",\"p0\":");
    jsonw_hundredths(&w, width);
    jsonw_raw(&w, ",\"p1\":");
    jsonw_hundredths(&w, height);
    jsonw_raw(&w, "}");
    return packet_from_writer(&w, PACKET_OK);
}

rcbuf *packet_encode_actor_moved(int64_t actor_id, int64_t instanced_entity_id, double x, double y)
{
    char out[256];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":");
    jsonw_int(&w, actor_id);
    jsonw_raw(&w, ",\"model_type\":\"Actor\",\"instanced_entity\":{\"id\":");
    jsonw_int(&w, instanced_entity_id);
    jsonw_raw(&w, ",\"model_type\":\"InstancedEntity\",\"x\":");
    jsonw_double(&w, x);
    jsonw_raw(&w, ",\"y\":");
    jsonw_double(&w, y);
    jsonw_raw(&w, "}}}");
    return packet_from_writer(&w, PACKET_MODEL_DELTA);
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Hundredths of a px as a u32: positions are inside the world (at most 1e6 px, --world). */
static uint32_t hundredths_u32(double v)
{
    if (!(v > 0)) return 0;
    if (v > 4e7) v = 4e7;
    return (uint32_t)llround(v * 100.0);
}

static void put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* v in units of 2^-scale px as a u16, clamped (the world fits, so only rounding at its far edge
 * can reach the clamp). */
static uint16_t scaled_u16(double v, unsigned scale)
{
    if (!(v > 0)) return 0;
    double u = ldexp(v, (int)scale);
    return u >= 65535.0 ? 65535 : (uint16_t)llround(u);
}

packet_moves_format packet_moves_format_for(double width, double height)
{
    double side = width > height ? width : height;
    if (!(side <= 65535.0)) /* also NaN */
        return (packet_moves_format){PACKET_MOVES_KIND, 0, 1, PACKET_MOVE_RECORD};
    unsigned s = 0;
    while (s < PACKET_MOVE_SCALE_MAX && ldexp(side, (int)s + 1) <= 65535.0)
        s++;
    return (packet_moves_format){PACKET_MOVES_KIND_SHORT, (uint8_t)s, 2, PACKET_MOVE_RECORD_SHORT};
}

void packet_move_record(const packet_moves_format *f, uint8_t out[PACKET_MOVE_RECORD_MAX],
                        int64_t actor_id, double x, double y)
{
    put_u32le(out, (uint32_t)actor_id);
    if (f->kind == PACKET_MOVES_KIND_SHORT) {
        put_u16le(out + 4, scaled_u16(x, f->scale));
        put_u16le(out + 6, scaled_u16(y, f->scale));
    } else {
        put_u32le(out + 4, hundredths_u32(x));
        put_u32le(out + 8, hundredths_u32(y));
    }
}

rcbuf *packet_encode_moves(const packet_moves_format *f, const uint8_t *records, size_t n)
{
    size_t body = n * f->record;
    rcbuf *b = rcbuf_new(f->header + body);
    if (!b) return NULL;
    uint8_t *p = rcbuf_data(b);
    p[0] = f->kind;
    if (f->header == 2) p[1] = f->scale;
    if (n) memcpy(p + f->header, records, body);
    b->len = f->header + body;
    b->flags |= RCBUF_BINARY;
    b->tag = PACKET_TAG(PACKET_MODEL_DELTA);
    b->packets = (uint32_t)n;
    return b;
}
