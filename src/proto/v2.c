#include "proto/v2.h"

#include "proto/jsonw.h"
#include "proto/packet.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The envelope rule of packet.c: keys are `a` and p0..pN-1 with no gap. Returns the payload count
 * (filling payload[0..2]) or CMMO_EMALFORMED. */
static int envelope(json_t *root, json_t **a, json_t *payload[3])
{
    if (!json_is_object(root)) return CMMO_EMALFORMED;
    *a = json_object_get(root, "a");
    if (!json_is_string(*a)) return CMMO_EMALFORMED;
    int count = 0, max_index = -1;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "a") == 0) continue;
        if (key[0] != 'p' || key[1] < '0' || key[1] > '9' || (key[1] == '0' && key[2]))
            return CMMO_EMALFORMED;
        char *end = NULL;
        long idx = strtol(key + 1, &end, 10);
        if (*end || idx > 99) return CMMO_EMALFORMED;
        if (idx < 3) payload[idx] = value;
        if (idx > max_index) max_index = (int)idx;
        count++;
    }
    return count == max_index + 1 ? count : CMMO_EMALFORMED;
}

/* Copies a JSON string, cut to fit; *len is its real length. */
static void copy_string(json_t *s, char *out, size_t cap, size_t *len)
{
    *len = json_string_length(s);
    size_t n = *len < cap - 1 ? *len : cap - 1;
    memcpy(out, json_string_value(s), n);
    out[n] = '\0';
}

int v2_decode(const char *data, size_t len, v2_packet *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > PACKET_MAX_BYTES) return V2_E_MALFORMED;
    json_error_t err;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root) return V2_E_MALFORMED;
    json_t *a = NULL, *p[3] = {0};
    int count = envelope(root, &a, p);
    int rc = V2_E_MALFORMED;
    if (count < 0) goto done;
    const char *name = json_string_value(a);
    size_t name_len = json_string_length(a);
    rc = V2_E_PAYLOAD;
    if (name_len == 6 && memcmp(name, "Resume", 6) == 0) {
        out->action = V2_RESUME;
        if (count != 2 || !json_is_string(p[0]) || !json_is_string(p[1])) goto done;
        copy_string(p[0], out->name, sizeof out->name, &out->name_len);
        copy_string(p[1], out->token, sizeof out->token, &out->token_len);
    } else if (name_len == 6 && memcmp(name, "Logout", 6) == 0) {
        out->action = V2_LOGOUT;
        if (count != 0) goto done;
    } else if (name_len == 4 && memcmp(name, "Ping", 4) == 0) {
        out->action = V2_PING;
        if (count != 1 || !json_is_number(p[0]) || !isfinite(json_number_value(p[0]))) goto done;
        out->ping = json_number_value(p[0]);
    } else {
        rc = V2_E_UNKNOWN_ACTION;
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

/* ---- encoders ---- */

static rcbuf *finish(jsonw *w, enum packet_action tag)
{
    long n = jsonw_finish(w);
    if (n < 0) return NULL;
    rcbuf *b = rcbuf_from(w->out, (size_t)n);
    if (b) b->tag = PACKET_TAG(tag);
    return b;
}

rcbuf *v2_encode_token(const char *token, int64_t ttl_s)
{
    char out[128];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"Token\",\"p0\":");
    jsonw_string(&w, token, strlen(token));
    jsonw_raw(&w, ",\"p1\":");
    jsonw_int(&w, ttl_s);
    jsonw_raw(&w, "}");
    rcbuf *b = finish(&w, PACKET_OK);
    memset(out, 0, sizeof out); /* the token is a credential: no copy left on the stack */
    return b;
}

rcbuf *v2_encode_players(size_t count, const char *const *names, size_t n)
{
    if (n > V2_PLAYERS_LISTED_MAX) n = V2_PLAYERS_LISTED_MAX;
    /* A name is at most 20 characters of [A-Za-z0-9_-]: 23 bytes quoted with its comma. */
    size_t cap = 64 + n * (LIMITS_USERNAME_MAX + 3);
    char *out = malloc(cap);
    if (!out) return NULL;
    jsonw w;
    jsonw_init(&w, out, cap);
    jsonw_raw(&w, "{\"a\":\"Players\",\"p0\":");
    jsonw_int(&w, (int64_t)count);
    jsonw_raw(&w, ",\"p1\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) jsonw_raw(&w, ",");
        jsonw_string(&w, names[i], strlen(names[i]));
    }
    jsonw_raw(&w, "]}");
    rcbuf *b = finish(&w, PACKET_CHAT);
    free(out);
    return b;
}

static rcbuf *presence(const char *action, const char *name, size_t count)
{
    char out[128];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, action);
    jsonw_string(&w, name, strlen(name));
    jsonw_raw(&w, ",\"p1\":");
    jsonw_int(&w, (int64_t)count);
    jsonw_raw(&w, "}");
    return finish(&w, PACKET_CHAT);
}

rcbuf *v2_encode_joined(const char *name, size_t count)
{
    return presence("{\"a\":\"Joined\",\"p0\":", name, count);
}

rcbuf *v2_encode_left(const char *name, size_t count)
{
    return presence("{\"a\":\"Left\",\"p0\":", name, count);
}

rcbuf *v2_encode_pong(double value)
{
    char out[64];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":\"Pong\",\"p0\":");
    jsonw_double(&w, value);
    jsonw_raw(&w, "}");
    return finish(&w, PACKET_OK);
}
