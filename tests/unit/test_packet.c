/* Unit tests for proto/packet: strict decoding of client packets (envelope, actions, payload
 * counts and types) and the exact bytes of every encoder (docs/PROTOCOL.md, reference flows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/utf8.h"
#include "proto/packet.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static packet pk;

/* Decodes n bytes from a heap copy of exactly n bytes (ASan catches reads past len). */
static int decode_n(const char *text, size_t n)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, text, n);
    int rc = packet_decode(copy, n, &pk);
    free(copy);
    return rc;
}

static int decode(const char *text)
{
    return decode_n(text, strlen(text));
}

#define assert_decodes(text) assert_int_equal(decode(text), 0)
#define assert_malformed(text) assert_int_equal(decode(text), PACKET_E_MALFORMED)

/* The rcbuf's bytes as a NUL-terminated string (static), and the buffer released. */
static const char *take_text(rcbuf *b)
{
    static char out[8192];
    assert_non_null(b);
    assert_true(b->len < sizeof out);
    memcpy(out, rcbuf_data(b), b->len);
    out[b->len] = 0;
    rcbuf_unref(b);
    return out;
}

static json_t *parse_json(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!v) fail_msg("encoder output is not JSON (%s): %s", err.text, text);
    return v;
}

/* ---- decoding: valid packets ---- */

static void test_packet_decodes_login(void **state)
{
    assert_decodes("{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"pw-alice\"}");
    assert_int_equal(pk.action, PACKET_LOGIN);
    assert_int_equal(pk.payload_count, 2);
    assert_int_equal(pk.as.login.account.name_len, 5);
    assert_string_equal(pk.as.login.account.name, "alice");
    assert_int_equal(pk.as.login.account.password_len, 8);
    assert_string_equal(pk.as.login.account.password, "pw-alice");
}

static void test_packet_decodes_register_with_integer_and_real_avatar(void **state)
{
    assert_decodes("{\"a\":\"Register\",\"p0\":\"alice\",\"p1\":\"pw-alice\",\"p2\":2}");
    assert_int_equal(pk.action, PACKET_REGISTER);
    assert_int_equal(pk.payload_count, 3);
    assert_string_equal(pk.as.reg.account.name, "alice");
    assert_string_equal(pk.as.reg.account.password, "pw-alice");
    assert_true(pk.as.reg.avatar_is_number);
    assert_true(pk.as.reg.avatar == 2.0);

    assert_decodes("{\"a\":\"Register\",\"p0\":\"bob\",\"p1\":\"x\",\"p2\":2.5}");
    assert_true(pk.as.reg.avatar_is_number);
    assert_true(pk.as.reg.avatar == 2.5); /* as sent: validate judges it */
}

static void test_packet_register_with_non_number_avatar_is_not_a_number(void **state)
{
    /* Either the decoder refuses the payload or it leaves the judgement to validate; it must never
     * claim a string is a number. */
    int rc = decode("{\"a\":\"Register\",\"p0\":\"bob\",\"p1\":\"x\",\"p2\":\"2\"}");
    if (rc == 0) {
        assert_int_equal(pk.action, PACKET_REGISTER);
        assert_false(pk.as.reg.avatar_is_number);
    } else {
        assert_int_equal(rc, PACKET_E_PAYLOAD);
        assert_int_equal(pk.action, PACKET_REGISTER);
    }
}

static void test_packet_decodes_chat_and_ignores_client_sender_type(void **state)
{
    assert_decodes("{\"a\":\"Chat\",\"p0\":\"alice\",\"p1\":\"hello bob\"}");
    assert_int_equal(pk.action, PACKET_CHAT);
    assert_int_equal(pk.as.chat.message_len, 9);
    assert_string_equal(pk.as.chat.message, "hello bob");
    /* p0 is ignored from clients, whatever it holds. */
    assert_decodes("{\"a\":\"Chat\",\"p0\":null,\"p1\":\"hi\"}");
    assert_string_equal(pk.as.chat.message, "hi");
}

static void test_packet_decodes_target_integers_and_reals(void **state)
{
    assert_decodes("{\"a\":\"Target\",\"p0\":200,\"p1\":100}");
    assert_int_equal(pk.action, PACKET_TARGET);
    assert_true(pk.as.target.x == 200.0);
    assert_true(pk.as.target.y == 100.0);
    assert_decodes("{\"a\":\"Target\",\"p0\":-3.25,\"p1\":1e2}");
    assert_true(pk.as.target.x == -3.25);
    assert_true(pk.as.target.y == 100.0);
}

static void test_packet_target_accepts_1e308_and_rejects_1e309(void **state)
{
    assert_decodes("{\"a\":\"Target\",\"p0\":1e308,\"p1\":-1e308}");
    assert_true(pk.as.target.x == 1e308);
    assert_true(pk.as.target.y == -1e308);
    assert_true(isfinite(pk.as.target.x) && isfinite(pk.as.target.y));
    /* 1e309 overflows a double: the packet is refused, never decoded as infinity. */
    assert_malformed("{\"a\":\"Target\",\"p0\":1e309,\"p1\":0}");
    assert_malformed("{\"a\":\"Target\",\"p0\":0,\"p1\":-1e309}");
}

static void test_packet_rejects_nan_and_infinity_literals(void **state)
{
    assert_malformed("{\"a\":\"Target\",\"p0\":NaN,\"p1\":0}");
    assert_malformed("{\"a\":\"Target\",\"p0\":0,\"p1\":Infinity}");
    assert_malformed("{\"a\":\"Target\",\"p0\":-Infinity,\"p1\":0}");
    assert_malformed("{\"a\":\"Target\",\"p0\":nan,\"p1\":0}");
}

static void test_packet_tolerates_whitespace_and_any_key_order(void **state)
{
    assert_decodes(" \n{ \"p1\" : \"pw\" ,\t\"p0\":\"alice\", \"a\" : \"Login\" }\r\n ");
    assert_int_equal(pk.action, PACKET_LOGIN);
    assert_string_equal(pk.as.login.account.name, "alice");
    assert_string_equal(pk.as.login.account.password, "pw");
}

static void test_packet_keeps_escaped_unicode_as_utf8(void **state)
{
    assert_decodes("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"caf\\u00e9 \\ud83d\\ude00\"}");
    assert_int_equal(pk.as.chat.message_len, 10);
    assert_memory_equal(pk.as.chat.message, "caf\xC3\xA9 \xF0\x9F\x98\x80", 10);
    assert_true(utf8_valid(pk.as.chat.message, pk.as.chat.message_len));
}

static void test_packet_chat_string_may_carry_nul_characters(void **state)
{
    /* packet.h: strings "may contain NUL characters, hence the lengths". A chat with \u0000 is
     * a chat (validate removes the control character), not a malformed packet. */
    assert_decodes("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"x\\u0000y\"}");
    assert_int_equal(pk.action, PACKET_CHAT);
    assert_int_equal(pk.as.chat.message_len, 3);
    assert_memory_equal(pk.as.chat.message, "x\0y", 3);
}

static void test_packet_login_password_may_carry_nul_characters(void **state)
{
    assert_decodes("{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"p\\u0000w\"}");
    assert_int_equal(pk.as.login.account.password_len, 3);
    assert_memory_equal(pk.as.login.account.password, "p\0w", 3);
}

static void test_packet_strings_are_always_valid_utf8(void **state)
{
    /* A lone surrogate escape cannot be UTF-8: refused, or never handed out as invalid text. */
    int rc = decode("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"x\\ud800y\"}");
    if (rc == 0) assert_true(utf8_valid(pk.as.chat.message, pk.as.chat.message_len));
    rc = decode("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"\\udc00\"}");
    if (rc == 0) assert_true(utf8_valid(pk.as.chat.message, pk.as.chat.message_len));
    /* Raw invalid UTF-8 inside a string is not JSON text. */
    assert_malformed("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"x\xFFy\"}");
    assert_malformed("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"\xC0\x80\"}");
    assert_malformed("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"\xED\xA0\x80\"}");
}

static void test_packet_decodes_server_actions_without_judging_them(void **state)
{
    /* Client-sent Ok/Deny/ModelDelta/Disconnect name real actions: not "unknown". */
    assert_decodes("{\"a\":\"Ok\"}");
    assert_int_equal(pk.action, PACKET_OK);
    assert_int_not_equal(decode("{\"a\":\"Disconnect\",\"p0\":1}"), PACKET_E_UNKNOWN_ACTION);
    assert_int_not_equal(decode("{\"a\":\"ModelDelta\",\"p0\":{}}"), PACKET_E_UNKNOWN_ACTION);
}

static void test_packet_failed_decode_fills_no_member(void **state)
{
    /* packet.h: a packet that failed to decode fills no member of `as`, so no stale credentials
     * or message of an earlier packet can be read through it. */
    assert_decodes("{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"pw\"}");
    assert_int_equal(decode("{\"a\":\"Register\",\"p0\":\"bob\",\"p1\":\"x\",\"p2\":1,\"p3\":1}"),
                     PACKET_E_PAYLOAD);
    assert_int_equal(pk.action, PACKET_REGISTER);
    assert_null(pk.as.reg.account.name);
    assert_null(pk.as.reg.account.password);
    assert_int_equal(pk.as.reg.account.name_len, 0);
    assert_false(pk.as.reg.avatar_is_number);
    assert_int_equal(decode("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":7}"), PACKET_E_PAYLOAD);
    assert_null(pk.as.chat.message);
    assert_int_equal(decode("{\"a\":\"Target\",\"p0\":1,\"p1\":\"2\"}"), PACKET_E_PAYLOAD);
    assert_true(pk.as.target.x == 0 && pk.as.target.y == 0);
}

/* ---- decoding: malformed envelopes ---- */

static void test_packet_rejects_text_that_is_not_json(void **state)
{
    assert_malformed("");
    assert_malformed("hello");
    assert_malformed("{");
    assert_malformed("{\"a\":\"Ok\"");
    assert_malformed("{'a':'Ok'}");
    assert_malformed("{\"a\":\"Ok\",}");
    assert_malformed("{\"a\":\"Ok\"} {\"a\":\"Ok\"}");
    assert_malformed("{\"a\":\"Ok\"} x");
}

static void test_packet_rejects_json_that_is_not_an_object(void **state)
{
    assert_malformed("[\"Login\",\"alice\",\"pw\"]");
    assert_malformed("\"Login\"");
    assert_malformed("42");
    assert_malformed("null");
    assert_malformed("true");
}

static void test_packet_rejects_missing_or_non_string_action(void **state)
{
    assert_malformed("{}");
    assert_malformed("{\"p0\":\"alice\",\"p1\":\"pw\"}");
    assert_malformed("{\"a\":1,\"p0\":\"alice\",\"p1\":\"pw\"}");
    assert_malformed("{\"a\":null}");
    assert_malformed("{\"a\":[\"Login\"]}");
    assert_malformed("{\"a\":{\"x\":1}}");
}

static void test_packet_rejects_keys_other_than_a_and_pn(void **state)
{
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"pw\",\"x\":1}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"P1\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p01\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p1 \":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p-1\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p+1\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"A\":\"Login\",\"p1\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"\":\"pw\"}");
}

static void test_packet_rejects_gaps_in_payload_keys(void **state)
{
    assert_malformed("{\"a\":\"Chat\",\"p0\":\"alice\",\"p2\":\"hi\"}");
    assert_malformed("{\"a\":\"Chat\",\"p1\":\"hi\"}");
    assert_malformed("{\"a\":\"Target\",\"p1\":1,\"p2\":2}");
}

static void test_packet_rejects_duplicate_keys(void **state)
{
    assert_malformed("{\"a\":\"Chat\",\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"pw\"}");
    assert_malformed("{\"a\":\"Login\",\"p0\":\"alice\",\"p0\":\"bob\",\"p1\":\"pw\"}");
}

static void test_packet_rejects_oversized_input_cleanly(void **state)
{
    size_t n = PACKET_MAX_BYTES + 100;
    char *big = malloc(n);
    assert_non_null(big);
    const char *head = "{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"";
    memset(big, 'x', n);
    memcpy(big, head, strlen(head));
    memcpy(big + n - 2, "\"}", 2);
    assert_true(decode_n(big, n) < 0);
    free(big);
}

static void test_packet_decodes_a_chat_at_the_size_limit(void **state)
{
    /* PACKET_MAX_BYTES bytes of a valid Chat decode whole. */
    size_t n = PACKET_MAX_BYTES;
    char *big = malloc(n);
    assert_non_null(big);
    const char *head = "{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"";
    size_t h = strlen(head);
    memset(big, 'x', n);
    memcpy(big, head, h);
    memcpy(big + n - 2, "\"}", 2);
    assert_int_equal(decode_n(big, n), 0);
    assert_int_equal(pk.as.chat.message_len, n - h - 2);
    free(big);
}

/* ---- decoding: unknown actions and bad payloads ---- */

static void test_packet_reports_unknown_actions(void **state)
{
    assert_int_equal(decode("{\"a\":\"Dance\"}"), PACKET_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"login\",\"p0\":\"alice\",\"p1\":\"pw\"}"),
                     PACKET_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"\"}"), PACKET_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"Login \",\"p0\":\"alice\",\"p1\":\"pw\"}"),
                     PACKET_E_UNKNOWN_ACTION);
}

static void test_packet_action_with_embedded_nul_is_not_that_action(void **state)
{
    int rc = decode("{\"a\":\"Login\\u0000x\",\"p0\":\"alice\",\"p1\":\"pw\"}");
    assert_true(rc == PACKET_E_UNKNOWN_ACTION || rc == PACKET_E_MALFORMED);
}

static void expect_payload_error(const char *text, enum packet_action action)
{
    int rc = decode(text);
    if (rc != PACKET_E_PAYLOAD) fail_msg("%s: expected PACKET_E_PAYLOAD, got %d", text, rc);
    assert_int_equal(pk.action, action);
}

static void test_packet_login_with_wrong_payloads_is_a_payload_error(void **state)
{
    expect_payload_error("{\"a\":\"Login\"}", PACKET_LOGIN);
    expect_payload_error("{\"a\":\"Login\",\"p0\":\"alice\"}", PACKET_LOGIN);
    expect_payload_error("{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"pw\",\"p2\":1}", PACKET_LOGIN);
    expect_payload_error("{\"a\":\"Login\",\"p0\":1,\"p1\":\"pw\"}", PACKET_LOGIN);
    expect_payload_error("{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":null}", PACKET_LOGIN);
    expect_payload_error("{\"a\":\"Login\",\"p0\":[\"alice\"],\"p1\":\"pw\"}", PACKET_LOGIN);
}

static void test_packet_many_contiguous_payloads_is_a_payload_error(void **state)
{
    /* p0..p9 is a well-formed envelope; a Login with ten payloads has the wrong count. */
    expect_payload_error("{\"a\":\"Login\",\"p0\":\"a\",\"p1\":\"b\",\"p2\":0,\"p3\":0,\"p4\":0,"
                         "\"p5\":0,\"p6\":0,\"p7\":0,\"p8\":0,\"p9\":0}",
                         PACKET_LOGIN);
}

static void test_packet_register_with_wrong_payloads_is_a_payload_error(void **state)
{
    expect_payload_error("{\"a\":\"Register\",\"p0\":\"alice\",\"p1\":\"pw\"}", PACKET_REGISTER);
    expect_payload_error("{\"a\":\"Register\",\"p0\":\"alice\",\"p1\":\"pw\",\"p2\":1,\"p3\":1}",
                         PACKET_REGISTER);
    expect_payload_error("{\"a\":\"Register\",\"p0\":5,\"p1\":\"pw\",\"p2\":1}", PACKET_REGISTER);
    expect_payload_error("{\"a\":\"Register\",\"p0\":\"alice\",\"p1\":false,\"p2\":1}",
                         PACKET_REGISTER);
}

static void test_packet_chat_with_wrong_payloads_is_a_payload_error(void **state)
{
    expect_payload_error("{\"a\":\"Chat\",\"p0\":\"hi\"}", PACKET_CHAT);
    expect_payload_error("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":42}", PACKET_CHAT);
    expect_payload_error("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":{\"t\":\"hi\"}}", PACKET_CHAT);
    expect_payload_error("{\"a\":\"Chat\",\"p0\":\"a\",\"p1\":\"hi\",\"p2\":\"x\"}", PACKET_CHAT);
}

static void test_packet_target_with_wrong_payloads_is_a_payload_error(void **state)
{
    expect_payload_error("{\"a\":\"Target\",\"p0\":1}", PACKET_TARGET);
    expect_payload_error("{\"a\":\"Target\",\"p0\":\"1\",\"p1\":2}", PACKET_TARGET);
    expect_payload_error("{\"a\":\"Target\",\"p0\":1,\"p1\":null}", PACKET_TARGET);
    expect_payload_error("{\"a\":\"Target\",\"p0\":true,\"p1\":2}", PACKET_TARGET);
    expect_payload_error("{\"a\":\"Target\",\"p0\":1,\"p1\":2,\"p2\":3}", PACKET_TARGET);
    expect_payload_error("{\"a\":\"Target\",\"p0\":[1],\"p1\":2}", PACKET_TARGET);
}

static void test_packet_action_names_match_the_wire(void **state)
{
    assert_string_equal(packet_action_name(PACKET_OK), "Ok");
    assert_string_equal(packet_action_name(PACKET_DENY), "Deny");
    assert_string_equal(packet_action_name(PACKET_REGISTER), "Register");
    assert_string_equal(packet_action_name(PACKET_LOGIN), "Login");
    assert_string_equal(packet_action_name(PACKET_CHAT), "Chat");
    assert_string_equal(packet_action_name(PACKET_TARGET), "Target");
    assert_string_equal(packet_action_name(PACKET_MODEL_DELTA), "ModelDelta");
    assert_string_equal(packet_action_name(PACKET_DISCONNECT), "Disconnect");
}

/* ---- the action table (PACKET_ACTIONS): names, enum and decoder agree ---- */

/* The table read the way any user of the header reads it. */
#define TABLE_ROW(id, wire, client_shape) {PACKET_##id, wire, client_shape},
static const struct {
    enum packet_action action;
    const char *name;
    const char *shape;
} table[] = {PACKET_ACTIONS(TABLE_ROW)};
#undef TABLE_ROW
#define TABLE_LEN (sizeof table / sizeof table[0])

static void test_packet_every_action_name_round_trips(void **state)
{
    assert_int_equal(TABLE_LEN, PACKET_ACTION_COUNT);
    for (size_t i = 0; i < TABLE_LEN; i++) {
        /* The enum is the row's index: arrays indexed by action (counters) rely on it. */
        assert_int_equal(table[i].action, i);
        assert_string_equal(packet_action_name(table[i].action), table[i].name);
        assert_int_equal(packet_action_from_name(table[i].name, strlen(table[i].name)),
                         table[i].action);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(table[i].name, table[j].name);
    }
    assert_string_equal(packet_action_name((enum packet_action)PACKET_ACTION_COUNT), "?");
    assert_string_equal(packet_action_name((enum packet_action) - 1), "?");
}

/* Writes {"a":name,"p0":..} with one payload per shape character (skipping the one at index
 * skip, -1 for none): a string for 's', a number for 'n' and '*'. */
static void write_from_shape(char *out, size_t cap, const char *name, const char *shape, int skip)
{
    size_t n = (size_t)snprintf(out, cap, "{\"a\":\"%s\"", name);
    int index = 0;
    for (int i = 0; shape && shape[i]; i++) {
        if (i == skip) continue;
        n += (size_t)snprintf(out + n, cap - n, ",\"p%d\":%s", index++,
                              shape[i] == 's' ? "\"alice\"" : "2");
    }
    snprintf(out + n, cap - n, "}");
}

static void test_packet_every_action_decodes_to_its_enum(void **state)
{
    char text[256];
    for (size_t i = 0; i < TABLE_LEN; i++) {
        write_from_shape(text, sizeof text, table[i].name, table[i].shape, -1);
        if (decode(text) != 0) fail_msg("%s did not decode", text);
        assert_int_equal(pk.action, table[i].action);
        if (!table[i].shape) continue;
        /* A client action missing a payload is known but refused, and says which it was. */
        write_from_shape(text, sizeof text, table[i].name, table[i].shape, 0);
        assert_int_equal(decode(text), PACKET_E_PAYLOAD);
        assert_int_equal(pk.action, table[i].action);
    }
}

static void test_packet_names_outside_the_table_are_unknown(void **state)
{
    /* cmmo.v2's Move and World are server encodings, not actions a client may send. */
    static const char *const names[] = {"Move", "World", "ok", "OK", "login",
                                        "Okay", "Ok ",   "",   "?",  "invalid"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(packet_action_from_name(names[i], strlen(names[i])),
                         PACKET_E_UNKNOWN_ACTION);
        char text[64];
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", names[i]);
        assert_int_equal(decode(text), PACKET_E_UNKNOWN_ACTION);
    }
    /* A name is matched by its whole length: a NUL inside does not end it early. */
    assert_int_equal(packet_action_from_name("Ok\0x", 4), PACKET_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"Ok\\u0000\"}"), PACKET_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"Login\\u0000\",\"p0\":\"a\",\"p1\":\"b\"}"),
                     PACKET_E_UNKNOWN_ACTION);
}

/* The encoders' tags are what the per-action counters count: each writes the action it is tagged
 * with, except cmmo.v2's compact forms, counted as the legacy action they stand for. */
static void test_packet_encoders_are_tagged_with_the_action_they_write(void **state)
{
    packet_actor actor = {1, 2, 3, 4, 5.0, 6.0, "alice", 1};
    struct {
        rcbuf *b;
        const char *wire_name;
        enum packet_action counted_as;
    } cases[] = {
        {packet_encode_ok(), "Ok", PACKET_OK},
        {packet_encode_deny("no"), "Deny", PACKET_DENY},
        {packet_encode_chat("a", 1, "hi", 2), "Chat", PACKET_CHAT},
        {packet_encode_disconnect(7), "Disconnect", PACKET_DISCONNECT},
        {packet_encode_actor_full(&actor), "ModelDelta", PACKET_MODEL_DELTA},
        {packet_encode_actor_moved(1, 3, 5.0, 6.0), "ModelDelta", PACKET_MODEL_DELTA},
        {packet_encode_move(1, 5.0, 6.0), "Move", PACKET_MODEL_DELTA},
        {packet_encode_world(100, 100), "World", PACKET_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_non_null(cases[i].b);
        assert_int_equal(cases[i].b->tag, PACKET_TAG(cases[i].counted_as));
        json_t *j = parse_json(take_text(cases[i].b));
        assert_string_equal(json_string_value(json_object_get(j, "a")), cases[i].wire_name);
        if (packet_action_from_name(cases[i].wire_name, strlen(cases[i].wire_name)) >= 0)
            assert_string_equal(packet_action_name(cases[i].counted_as), cases[i].wire_name);
        json_decref(j);
    }
}

static void test_packet_fuzz_dictionary_names_every_action(void **state)
{
    /* tests/fuzz/packet.dict cannot include the header: it is checked against the table here,
     * so the fuzzers learn a new action's name. Unit tests run from the repository root. */
    FILE *f = fopen("tests/fuzz/packet.dict", "r");
    if (!f) fail_msg("tests/fuzz/packet.dict not found (run from the repository root)");
    char dict[4096];
    size_t n = fread(dict, 1, sizeof dict - 1, f);
    fclose(f);
    dict[n] = 0;
    for (size_t i = 0; i < TABLE_LEN; i++) {
        char entry[64];
        snprintf(entry, sizeof entry, "\"\\x22%s\\x22\"\n", table[i].name);
        if (!strstr(dict, entry)) fail_msg("packet.dict lacks %s", entry);
    }
}

/* ---- encoders ---- */

static void test_packet_encode_ok_is_exact(void **state)
{
    assert_string_equal(take_text(packet_encode_ok()), "{\"a\":\"Ok\"}");
}

static void test_packet_encode_deny_is_exact(void **state)
{
    assert_string_equal(take_text(packet_encode_deny("Username or password incorrect")),
                        "{\"a\":\"Deny\",\"p0\":\"Username or password incorrect\"}");
    assert_string_equal(take_text(packet_encode_deny("Too many failed attempts, try again in 60 "
                                                     "seconds")),
                        "{\"a\":\"Deny\",\"p0\":\"Too many failed attempts, try again in 60 "
                        "seconds\"}");
}

static void test_packet_encode_chat_matches_reference_flow(void **state)
{
    assert_string_equal(take_text(packet_encode_chat("alice", 5, "hello bob", 9)),
                        "{\"a\":\"Chat\",\"p0\":\"alice\",\"p1\":\"hello bob\"}");
}

static void test_packet_encode_chat_escapes_its_text(void **state)
{
    const char *msg = "say \"hi\" \\ caf\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBC\xBB"
                      "b\xEF\xBC\xBD";
    const char *text = take_text(packet_encode_chat("bob", 3, msg, strlen(msg)));
    assert_string_equal(text, "{\"a\":\"Chat\",\"p0\":\"bob\",\"p1\":\"say \\\"hi\\\" \\\\ "
                              "caf\\u00e9 \\ud83d\\ude00 \\uff3bb\\uff3d\"}");
    json_t *v = parse_json(text);
    assert_string_equal(json_string_value(json_object_get(v, "p1")), msg);
    json_decref(v);
}

static void test_packet_encode_chat_of_maximal_line_fits(void **state)
{
    /* 20-character name and 256 characters that each escape to 12 bytes. */
    char msg[256 * 4];
    for (int i = 0; i < 256; i++)
        memcpy(msg + 4 * i, "\xF0\x9F\x98\x80", 4);
    rcbuf *b = packet_encode_chat("abcdefghijklmnopqrst", 20, msg, sizeof msg);
    assert_non_null(b);
    char *text = malloc(b->len + 1);
    memcpy(text, rcbuf_data(b), b->len);
    text[b->len] = 0;
    json_t *v = parse_json(text);
    assert_int_equal(json_string_length(json_object_get(v, "p1")), sizeof msg);
    json_decref(v);
    free(text);
    rcbuf_unref(b);
}

static void test_packet_encode_disconnect_is_exact(void **state)
{
    assert_string_equal(take_text(packet_encode_disconnect(1)), "{\"a\":\"Disconnect\",\"p0\":1}");
    assert_string_equal(take_text(packet_encode_disconnect(9007199254740993)),
                        "{\"a\":\"Disconnect\",\"p0\":9007199254740993}");
}

static void test_packet_encode_actor_full_matches_reference_section_4(void **state)
{
    packet_actor a = {.actor_id = 1,
                      .user_id = 1,
                      .instanced_entity_id = 1,
                      .entity_id = 1,
                      .x = 0.0,
                      .y = 0.0,
                      .name = "alice",
                      .avatar_id = 2};
    assert_string_equal(take_text(packet_encode_actor_full(&a)),
                        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"user\":1,\"instanced_entity\":{"
                        "\"id\":1,\"x\":0.0,\"y\":0.0,\"entity\":{\"id\":1,\"name\":\"alice\","
                        "\"model_type\":\"Entity\"},\"model_type\":\"InstancedEntity\"},"
                        "\"avatar_id\":2,\"model_type\":\"Actor\"}}");
}

static void test_packet_encode_actor_full_keeps_the_three_ids_apart(void **state)
{
    packet_actor a = {.actor_id = 7,
                      .user_id = 3,
                      .instanced_entity_id = 11,
                      .entity_id = 13,
                      .x = 200.5,
                      .y = 3.1304951684997055,
                      .name = "Bob_-9",
                      .avatar_id = 5};
    const char *text = take_text(packet_encode_actor_full(&a));
    assert_string_equal(text, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":7,\"user\":3,"
                              "\"instanced_entity\":{\"id\":11,\"x\":200.5,\"y\":"
                              "3.1304951684997055,\"entity\":{\"id\":13,\"name\":\"Bob_-9\","
                              "\"model_type\":\"Entity\"},\"model_type\":\"InstancedEntity\"},"
                              "\"avatar_id\":5,\"model_type\":\"Actor\"}}");
    /* And it is JSON with the fields where the client looks for them. */
    json_t *v = parse_json(text);
    json_t *p0 = json_object_get(v, "p0");
    json_t *ie = json_object_get(p0, "instanced_entity");
    assert_int_equal(json_integer_value(json_object_get(p0, "id")), 7);
    assert_int_equal(json_integer_value(json_object_get(p0, "avatar_id")), 5);
    assert_true(json_real_value(json_object_get(ie, "x")) == 200.5);
    assert_true(json_real_value(json_object_get(ie, "y")) == 3.1304951684997055);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ie, "entity"), "name")),
                        "Bob_-9");
    assert_null(json_object_get(p0, "password"));
    json_decref(v);
}

static void test_packet_encode_actor_moved_matches_reference_flow(void **state)
{
    const char *text =
        take_text(packet_encode_actor_moved(1, 1, 3.1304951684997055, 1.5652475842498528));
    assert_string_equal(text, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"model_type\":\"Actor\","
                              "\"instanced_entity\":{\"id\":1,\"model_type\":\"InstancedEntity\","
                              "\"x\":3.1304951684997055,\"y\":1.5652475842498528}}}");
    json_t *v = parse_json(text);
    json_t *ie = json_object_get(json_object_get(v, "p0"), "instanced_entity");
    assert_true(json_real_value(json_object_get(ie, "x")) == 3.1304951684997055);
    assert_true(json_real_value(json_object_get(ie, "y")) == 1.5652475842498528);
    json_decref(v);
}

static void test_packet_encode_actor_moved_writes_whole_coordinates_as_reals(void **state)
{
    /* The Godot client reads floats: "x":100.0, never "x":100. */
    assert_string_equal(take_text(packet_encode_actor_moved(4, 9, 100.0, 0.0)),
                        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":4,\"model_type\":\"Actor\","
                        "\"instanced_entity\":{\"id\":9,\"model_type\":\"InstancedEntity\","
                        "\"x\":100.0,\"y\":0.0}}}");
}

static void test_packet_encode_world_is_exact_and_counted_as_ok(void **state)
{
    assert_string_equal(take_text(packet_encode_world(16000, 16000)),
                        "{\"a\":\"World\",\"p0\":16000,\"p1\":16000}");
    assert_string_equal(take_text(packet_encode_world(1344, 832)),
                        "{\"a\":\"World\",\"p0\":1344,\"p1\":832}");
    /* The largest --world fits. */
    assert_string_equal(take_text(packet_encode_world(1000000, 64)),
                        "{\"a\":\"World\",\"p0\":1000000,\"p1\":64}");
    rcbuf *b = packet_encode_world(2000, 1000);
    assert_non_null(b);
    assert_int_equal(b->tag, PACKET_TAG(PACKET_OK));
    rcbuf_unref(b);
}

static void test_packet_encoded_packets_decode_with_jansson_as_json(void **state)
{
    rcbuf *bufs[] = {packet_encode_ok(),
                     packet_encode_deny("x\"y"),
                     packet_encode_chat("a", 1, "\x01\x7F", 2),
                     packet_encode_disconnect(5),
                     packet_encode_actor_moved(1, 2, 1e300, 5e-324),
                     packet_encode_world(1e300, 5e-324)};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        json_t *v = parse_json(take_text(bufs[i]));
        assert_true(json_is_object(v));
        assert_true(json_is_string(json_object_get(v, "a")));
        json_decref(v);
    }
}

static void test_packet_encoded_buffers_have_room_for_a_frame_header(void **state)
{
    rcbuf *b = packet_encode_ok();
    assert_non_null(b);
    assert_int_equal(b->refs, 1);
    assert_true(b->start >= RCBUF_HEADROOM);
    assert_int_equal(b->flags, 0);
    rcbuf_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_decodes_login),
        cmocka_unit_test(test_packet_decodes_register_with_integer_and_real_avatar),
        cmocka_unit_test(test_packet_register_with_non_number_avatar_is_not_a_number),
        cmocka_unit_test(test_packet_decodes_chat_and_ignores_client_sender_type),
        cmocka_unit_test(test_packet_decodes_target_integers_and_reals),
        cmocka_unit_test(test_packet_target_accepts_1e308_and_rejects_1e309),
        cmocka_unit_test(test_packet_rejects_nan_and_infinity_literals),
        cmocka_unit_test(test_packet_tolerates_whitespace_and_any_key_order),
        cmocka_unit_test(test_packet_keeps_escaped_unicode_as_utf8),
        cmocka_unit_test(test_packet_chat_string_may_carry_nul_characters),
        cmocka_unit_test(test_packet_login_password_may_carry_nul_characters),
        cmocka_unit_test(test_packet_strings_are_always_valid_utf8),
        cmocka_unit_test(test_packet_decodes_server_actions_without_judging_them),
        cmocka_unit_test(test_packet_rejects_text_that_is_not_json),
        cmocka_unit_test(test_packet_rejects_json_that_is_not_an_object),
        cmocka_unit_test(test_packet_rejects_missing_or_non_string_action),
        cmocka_unit_test(test_packet_rejects_keys_other_than_a_and_pn),
        cmocka_unit_test(test_packet_rejects_gaps_in_payload_keys),
        cmocka_unit_test(test_packet_rejects_duplicate_keys),
        cmocka_unit_test(test_packet_rejects_oversized_input_cleanly),
        cmocka_unit_test(test_packet_decodes_a_chat_at_the_size_limit),
        cmocka_unit_test(test_packet_reports_unknown_actions),
        cmocka_unit_test(test_packet_action_with_embedded_nul_is_not_that_action),
        cmocka_unit_test(test_packet_login_with_wrong_payloads_is_a_payload_error),
        cmocka_unit_test(test_packet_many_contiguous_payloads_is_a_payload_error),
        cmocka_unit_test(test_packet_register_with_wrong_payloads_is_a_payload_error),
        cmocka_unit_test(test_packet_chat_with_wrong_payloads_is_a_payload_error),
        cmocka_unit_test(test_packet_target_with_wrong_payloads_is_a_payload_error),
        cmocka_unit_test(test_packet_action_names_match_the_wire),
        cmocka_unit_test(test_packet_failed_decode_fills_no_member),
        cmocka_unit_test(test_packet_every_action_name_round_trips),
        cmocka_unit_test(test_packet_every_action_decodes_to_its_enum),
        cmocka_unit_test(test_packet_names_outside_the_table_are_unknown),
        cmocka_unit_test(test_packet_encoders_are_tagged_with_the_action_they_write),
        cmocka_unit_test(test_packet_fuzz_dictionary_names_every_action),
        cmocka_unit_test(test_packet_encode_ok_is_exact),
        cmocka_unit_test(test_packet_encode_deny_is_exact),
        cmocka_unit_test(test_packet_encode_chat_matches_reference_flow),
        cmocka_unit_test(test_packet_encode_chat_escapes_its_text),
        cmocka_unit_test(test_packet_encode_chat_of_maximal_line_fits),
        cmocka_unit_test(test_packet_encode_disconnect_is_exact),
        cmocka_unit_test(test_packet_encode_actor_full_matches_reference_section_4),
        cmocka_unit_test(test_packet_encode_actor_full_keeps_the_three_ids_apart),
        cmocka_unit_test(test_packet_encode_actor_moved_matches_reference_flow),
        cmocka_unit_test(test_packet_encode_actor_moved_writes_whole_coordinates_as_reals),
        cmocka_unit_test(test_packet_encode_world_is_exact_and_counted_as_ok),
        cmocka_unit_test(test_packet_encoded_packets_decode_with_jansson_as_json),
        cmocka_unit_test(test_packet_encoded_buffers_have_room_for_a_frame_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
