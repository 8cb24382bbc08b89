/* Unit tests for proto/v2: decoding cmmo.v2's client packets (Resume, Logout, Ping) strictly, as
 * packet_decode does the legacy ones, and the exact bytes of Token, Players, Joined, Left and
 * Pong (docs/PROTOCOL.md, "cmmo.v2 sessions"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/packet.h"
#include "proto/v2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static v2_packet vp;

/* Decodes from a heap copy of exactly strlen(text) bytes (ASan catches reads past len). */
static int decode(const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, text, n);
    int rc = v2_decode(copy, n, &vp);
    free(copy);
    return rc;
}

/* The rcbuf's bytes as a NUL-terminated string (static), and the buffer released. */
static const char *take_text(rcbuf *b, uint16_t tag)
{
    static char text[8192];
    assert_non_null(b);
    assert_true(b->len < sizeof text);
    assert_int_equal(b->tag, tag);
    memcpy(text, b->bytes + b->start, b->len);
    text[b->len] = '\0';
    rcbuf_unref(b);
    return text;
}

static void test_v2_decodes_resume_logout_and_ping(void **state)
{
    assert_int_equal(decode("{\"a\":\"Resume\",\"p0\":\"alice\",\"p1\":\"tok\"}"), 0);
    assert_int_equal(vp.action, V2_RESUME);
    assert_string_equal(vp.name, "alice");
    assert_int_equal(vp.name_len, 5);
    assert_string_equal(vp.token, "tok");
    assert_int_equal(decode("{\"a\":\"Logout\"}"), 0);
    assert_int_equal(vp.action, V2_LOGOUT);
    assert_int_equal(decode("{\"p0\":12.5,\"a\":\"Ping\"}"), 0);
    assert_int_equal(vp.action, V2_PING);
    assert_true(vp.ping == 12.5);
}

static void test_v2_long_strings_are_cut_and_their_real_length_kept(void **state)
{
    char text[600];
    char name[201];
    memset(name, 'n', 200);
    name[200] = '\0';
    snprintf(text, sizeof text, "{\"a\":\"Resume\",\"p0\":\"%s\",\"p1\":\"%s\"}", name, name);
    assert_int_equal(decode(text), 0);
    assert_int_equal(vp.name_len, 200);
    assert_int_equal(strlen(vp.name), sizeof vp.name - 1);
    assert_int_equal(vp.token_len, 200);
    assert_int_equal(strlen(vp.token), sizeof vp.token - 1);
}

static void test_v2_wrong_payloads_are_payload_errors_of_that_action(void **state)
{
    assert_int_equal(decode("{\"a\":\"Resume\",\"p0\":\"alice\"}"), V2_E_PAYLOAD);
    assert_int_equal(vp.action, V2_RESUME);
    assert_int_equal(decode("{\"a\":\"Resume\",\"p0\":\"alice\",\"p1\":5}"), V2_E_PAYLOAD);
    assert_int_equal(decode("{\"a\":\"Logout\",\"p0\":1}"), V2_E_PAYLOAD);
    assert_int_equal(vp.action, V2_LOGOUT);
    assert_int_equal(decode("{\"a\":\"Ping\"}"), V2_E_PAYLOAD);
    assert_int_equal(decode("{\"a\":\"Ping\",\"p0\":\"1\"}"), V2_E_PAYLOAD);
    assert_int_equal(vp.action, V2_PING);
}

static void test_v2_bad_envelopes_and_other_actions_are_refused(void **state)
{
    assert_int_equal(decode("{\"a\":\"Login\",\"p0\":\"a\",\"p1\":\"b\"}"), V2_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"resume\"}"), V2_E_UNKNOWN_ACTION);
    assert_int_equal(decode("{\"a\":\"Ping\",\"p1\":1}"), V2_E_MALFORMED);       /* gap */
    assert_int_equal(decode("{\"a\":\"Ping\",\"p00\":1}"), V2_E_MALFORMED);      /* not a key */
    assert_int_equal(decode("{\"a\":\"Ping\",\"x\":1}"), V2_E_MALFORMED);        /* other key */
    assert_int_equal(decode("{\"a\":\"Ping\",\"a\":\"Ping\"}"), V2_E_MALFORMED); /* twice */
    assert_int_equal(decode("[\"Ping\"]"), V2_E_MALFORMED);
    assert_int_equal(decode("{\"a\":1}"), V2_E_MALFORMED);
    assert_int_equal(decode("{"), V2_E_MALFORMED);
    assert_int_equal(decode(""), V2_E_MALFORMED);
}

static void test_v2_encoders_write_the_documented_bytes(void **state)
{
    const char *token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_string_equal(take_text(v2_encode_token(token, 86400), PACKET_TAG(PACKET_OK)),
                        "{\"a\":\"Token\",\"p0\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                        "\"p1\":86400}");
    const char *names[] = {"alice", "bob"};
    assert_string_equal(take_text(v2_encode_players(3, names, 2), PACKET_TAG(PACKET_CHAT)),
                        "{\"a\":\"Players\",\"p0\":3,\"p1\":[\"alice\",\"bob\"]}");
    assert_string_equal(take_text(v2_encode_players(0, NULL, 0), PACKET_TAG(PACKET_CHAT)),
                        "{\"a\":\"Players\",\"p0\":0,\"p1\":[]}");
    assert_string_equal(take_text(v2_encode_joined("bob", 2), PACKET_TAG(PACKET_CHAT)),
                        "{\"a\":\"Joined\",\"p0\":\"bob\",\"p1\":2}");
    assert_string_equal(take_text(v2_encode_left("bob", 1), PACKET_TAG(PACKET_CHAT)),
                        "{\"a\":\"Left\",\"p0\":\"bob\",\"p1\":1}");
    assert_string_equal(take_text(v2_encode_pong(12.5), PACKET_TAG(PACKET_OK)),
                        "{\"a\":\"Pong\",\"p0\":12.5}");
}

static void test_v2_players_lists_at_most_the_bound_of_names(void **state)
{
    static const char *names[V2_PLAYERS_LISTED_MAX + 10];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        names[i] = "abcdefghijklmnopqrst"; /* 20 characters, the longest name */
    const char *text = take_text(v2_encode_players(5000, names, sizeof names / sizeof names[0]),
                                 PACKET_TAG(PACKET_CHAT));
    size_t listed = 0;
    for (const char *p = text; (p = strstr(p, "abcdefghijklmnopqrst")); p++)
        listed++;
    assert_int_equal(listed, V2_PLAYERS_LISTED_MAX);
    assert_non_null(strstr(text, "\"p0\":5000,"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_decodes_resume_logout_and_ping),
        cmocka_unit_test(test_v2_long_strings_are_cut_and_their_real_length_kept),
        cmocka_unit_test(test_v2_wrong_payloads_are_payload_errors_of_that_action),
        cmocka_unit_test(test_v2_bad_envelopes_and_other_actions_are_refused),
        cmocka_unit_test(test_v2_encoders_write_the_documented_bytes),
        cmocka_unit_test(test_v2_players_lists_at_most_the_bound_of_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
