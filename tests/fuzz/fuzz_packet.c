/*
 * fuzz_packet: the packet decoder (proto/packet), the validators (proto/validate) and the
 * encoders (proto/packet, proto/jsonw) on whatever the decoder lets through.
 *
 * Checked beyond "no crash, no sanitizer report":
 *   - a decoded packet's strings are NUL-terminated, valid UTF-8 and no longer than the input;
 *     a Target's coordinates are finite;
 *   - a cleaned chat line is valid UTF-8, at most VALIDATE_CHAT_MAX characters and
 *     VALIDATE_CHAT_BYTES bytes, and holds no control character and no `[` or `]`;
 *   - everything the encoders produce is one JSON object that jansson reads back, with the same
 *     strings (chat, deny) and the same doubles bit for bit (movement deltas);
 *   - decoding is deterministic: the same bytes decode to the same result twice.
 */
#include "core/utf8.h"
#include "proto/packet.h"
#include "proto/validate.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static packet decoded, again;

static json_t *parse_encoded(rcbuf *b)
{
    assert(b != NULL);
    json_error_t err;
    json_t *j = json_loadb((const char *)rcbuf_data(b), b->len, JSON_ALLOW_NUL, &err);
    assert(j != NULL && json_is_object(j));
    assert(json_is_string(json_object_get(j, "a")));
    /* Server output is ASCII: non-ASCII is escaped as \uXXXX. */
    for (size_t i = 0; i < b->len; i++)
        assert(rcbuf_data(b)[i] < 0x80);
    return j;
}

static void check_chat_clean(const char *clean, size_t n)
{
    assert(n <= VALIDATE_CHAT_BYTES);
    assert(clean[n] == 0);
    assert(utf8_valid(clean, n));
    size_t pos = 0, chars = 0;
    uint32_t cp;
    while (pos < n) {
        assert(utf8_next(clean, n, &pos, &cp) == 0);
        chars++;
        assert(cp >= 0x20 && !(cp >= 0x7F && cp <= 0x9F));
        assert(cp != '[' && cp != ']');
    }
    assert(chars <= VALIDATE_CHAT_MAX);
    if (n > 0) assert(clean[0] != ' ' && clean[n - 1] != ' ');
}

static void check_string(const char *s, size_t len, size_t input_len)
{
    assert(s != NULL);
    assert(len <= input_len);
    assert(s[len] == 0);
    assert(utf8_valid(s, len));
}

static void roundtrip_chat(const char *name, size_t name_len, const char *text, size_t len)
{
    rcbuf *b = packet_encode_chat(name, name_len, text, len);
    if (!b) return; /* too large to fit: the encoder refuses rather than truncating */
    json_t *j = parse_encoded(b);
    json_t *p0 = json_object_get(j, "p0"), *p1 = json_object_get(j, "p1");
    assert(json_is_string(p0) && json_is_string(p1));
    assert(json_string_length(p0) == name_len &&
           memcmp(json_string_value(p0), name, name_len) == 0);
    assert(json_string_length(p1) == len && memcmp(json_string_value(p1), text, len) == 0);
    json_decref(j);
    rcbuf_unref(b);
}

static void roundtrip_moved(double x, double y)
{
    rcbuf *b = packet_encode_actor_moved(7, 9, x, y);
    assert(b != NULL);
    json_t *j = parse_encoded(b);
    json_t *ie = json_object_get(json_object_get(j, "p0"), "instanced_entity");
    assert(json_is_object(ie));
    json_t *jx = json_object_get(ie, "x"), *jy = json_object_get(ie, "y");
    assert(json_is_number(jx) && json_is_number(jy));
    /* Shortest round-trip representation: reads back to the same double. */
    assert(json_number_value(jx) == x || (x == 0 && json_number_value(jx) == 0));
    assert(json_number_value(jy) == y || (y == 0 && json_number_value(jy) == 0));
    json_decref(j);
    rcbuf_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = packet_decode((const char *)data, size, &decoded);
    int rc2 = packet_decode((const char *)data, size, &again);
    assert(rc == rc2);
    assert(rc == 0 || rc == PACKET_E_MALFORMED || rc == PACKET_E_UNKNOWN_ACTION ||
           rc == PACKET_E_PAYLOAD);
    if (size > PACKET_MAX_BYTES) {
        /* Bigger than the network ever delivers; only robustness matters here. */
        return 0;
    }
    if (rc != 0) return 0;
    packet *p = &decoded;
    assert(p->action == again.action && p->payload_count == again.payload_count);
    assert(strcmp(packet_action_name(p->action), "?") != 0);
    switch (p->action) {
    case PACKET_REGISTER:
    case PACKET_LOGIN: {
        const packet_credentials *cred =
            p->action == PACKET_REGISTER ? &p->as.reg.account : &p->as.login.account;
        check_string(cred->name, cred->name_len, size);
        check_string(cred->password, cred->password_len, size);
        const char *why =
            validate_credentials(cred->name, cred->name_len, cred->password, cred->password_len);
        if (!why) {
            /* An accepted username is 1-20 of [A-Za-z0-9_-]: markup cannot get through. */
            assert(cred->name_len >= 1 && cred->name_len <= VALIDATE_USERNAME_MAX);
            for (size_t i = 0; i < cred->name_len; i++) {
                char c = cred->name[i];
                assert((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-');
            }
            assert(cred->password_len >= 1 && cred->password_len <= VALIDATE_PASSWORD_MAX);
            packet_actor a = {1, 2, 3, 4, 0.0, 0.0, cred->name, 5};
            if (p->action == PACKET_REGISTER) {
                int avatar = -1;
                if (!validate_avatar(p->as.reg.avatar_is_number, p->as.reg.avatar, &avatar)) {
                    assert(avatar >= 0 && avatar <= VALIDATE_AVATAR_MAX);
                    a.avatar_id = avatar;
                }
            }
            rcbuf *b = packet_encode_actor_full(&a);
            json_t *j = parse_encoded(b);
            json_t *name = json_object_get(
                json_object_get(json_object_get(json_object_get(j, "p0"), "instanced_entity"),
                                "entity"),
                "name");
            assert(json_is_string(name) && strcmp(json_string_value(name), cred->name) == 0);
            json_decref(j);
            rcbuf_unref(b);
            char clean[VALIDATE_CHAT_BYTES + 1];
            size_t n = validate_chat(cred->password, cred->password_len, clean);
            check_chat_clean(clean, n);
            roundtrip_chat(cred->name, cred->name_len, clean, n);
        } else {
            assert(strlen(why) > 0);
        }
        break;
    }
    case PACKET_CHAT: {
        check_string(p->as.chat.message, p->as.chat.message_len, size);
        char clean[VALIDATE_CHAT_BYTES + 1];
        size_t n = validate_chat(p->as.chat.message, p->as.chat.message_len, clean);
        check_chat_clean(clean, n);
        roundtrip_chat("someone", 7, clean, n);
        /* The Deny encoder takes a C string: the message up to its first NUL. */
        rcbuf *b = packet_encode_deny(p->as.chat.message);
        if (b) {
            json_t *j = parse_encoded(b);
            json_t *r = json_object_get(j, "p0");
            assert(json_is_string(r) && strcmp(json_string_value(r), p->as.chat.message) == 0);
            json_decref(j);
            rcbuf_unref(b);
        }
        break;
    }
    case PACKET_TARGET:
        assert(isfinite(p->as.target.x) && isfinite(p->as.target.y));
        roundtrip_moved(p->as.target.x, p->as.target.y);
        break;
    default:
        /* Ok, Deny, ModelDelta, Disconnect from a client: decoded, then ignored by sessions. */
        break;
    }
    return 0;
}
