#include "proto/v2.h"

#include "proto/jsonw.h"
#include "proto/packet.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    packet_envelope env;
    if (packet_envelope_open(data, len, &env) != 0) return V2_E_MALFORMED;
    json_t *const *p = env.payload;
    int count = env.count;
    const char *name = env.action;
    size_t name_len = env.action_len;
    int rc = V2_E_PAYLOAD;
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
    packet_envelope_close(&env);
    return rc;
}

/* ---- encoders ---- */

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
    rcbuf *b = packet_from_writer(&w, PACKET_OK);
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
    rcbuf *b = packet_from_writer(&w, PACKET_CHAT);
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
    return packet_from_writer(&w, PACKET_CHAT);
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
    return packet_from_writer(&w, PACKET_OK);
}
