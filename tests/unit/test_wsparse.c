/* Unit tests of net/wsparse: the server's RFC 6455 frame parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/wsparse.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 16

typedef struct recorder {
    int count;
    enum ws_event_type type[MAX_EVENTS];
    uint16_t code[MAX_EVENTS];
    int binary[MAX_EVENTS];
    char data[MAX_EVENTS][5000];
    size_t len[MAX_EVENTS];
    int stop_after_messages; /* 0: never */
    int messages;
} recorder;

static int record(void *user, const ws_event *ev)
{
    recorder *r = user;
    assert_true(r->count < MAX_EVENTS);
    int i = r->count++;
    r->type[i] = ev->type;
    r->code[i] = ev->code;
    r->binary[i] = ev->binary;
    r->len[i] = ev->len;
    if (ev->len) memcpy(r->data[i], ev->data, ev->len);
    if (ev->type == WS_EVENT_MESSAGE && r->stop_after_messages &&
        ++r->messages % r->stop_after_messages == 0)
        return 1;
    return 0;
}

/* A client frame: masked with a fixed key. Returns its length in out. */
static size_t frame(uint8_t *out, int fin, uint8_t opcode, const void *payload, size_t len,
                    int masked, uint8_t rsv)
{
    static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
    uint8_t m = masked ? 0x80 : 0;
    if (len < 126) {
        out[n++] = (uint8_t)(m | len);
    } else if (len < 65536) {
        out[n++] = m | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (masked) {
        memcpy(out + n, key, 4);
        n += 4;
    }
    for (size_t i = 0; i < len; i++)
        out[n + i] = ((const uint8_t *)payload)[i] ^ (masked ? key[i & 3] : 0);
    return n + len;
}

static size_t feed(ws_parser *p, recorder *r, const uint8_t *data, size_t len)
{
    return ws_parser_feed(p, data, len, record, r);
}

static void test_masked_text_message_is_delivered_whole(void **state)
{
    uint8_t buf[64];
    size_t n = frame(buf, 1, 1, "{\"a\":\"Ok\"}", 10, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    assert_int_equal(feed(&p, &r, buf, n), n);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.type[0], WS_EVENT_MESSAGE);
    assert_int_equal(r.binary[0], 0);
    assert_memory_equal(r.data[0], "{\"a\":\"Ok\"}", 10);
    ws_parser_free(&p);
}

static void test_message_fed_one_byte_at_a_time_is_the_same(void **state)
{
    uint8_t buf[512];
    char text[300];
    memset(text, 'x', sizeof text);
    size_t n = frame(buf, 1, 2, text, sizeof text, 1, 0); /* 16-bit length, binary */
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed(&p, &r, buf + i, 1), 1);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.binary[0], 1);
    assert_int_equal(r.len[0], sizeof text);
    assert_memory_equal(r.data[0], text, sizeof text);
    ws_parser_free(&p);
}

static void test_fragments_with_a_ping_between_them_make_one_message(void **state)
{
    uint8_t buf[128];
    size_t n = frame(buf, 0, 1, "hel", 3, 1, 0);
    n += frame(buf + n, 1, 9, "pp", 2, 1, 0);
    n += frame(buf + n, 1, 0, "lo", 2, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    assert_int_equal(feed(&p, &r, buf, n), n);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.type[0], WS_EVENT_PING);
    assert_memory_equal(r.data[0], "pp", 2);
    assert_int_equal(r.type[1], WS_EVENT_MESSAGE);
    assert_int_equal(r.len[1], 5);
    assert_memory_equal(r.data[1], "hello", 5);
    ws_parser_free(&p);
}

static void test_empty_first_fragment_is_fine(void **state)
{
    /* Regression (fuzz_ws): an empty non-final text frame touched a NULL buffer. */
    uint8_t buf[64];
    size_t n = frame(buf, 0, 1, "", 0, 1, 0);
    n += frame(buf + n, 1, 0, "ab", 2, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    assert_int_equal(feed(&p, &r, buf, n), n);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.len[0], 2);
    ws_parser_free(&p);
}

static void expect_error(const uint8_t *buf, size_t n, uint16_t code)
{
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    feed(&p, &r, buf, n);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.type[0], WS_EVENT_ERROR);
    assert_int_equal(r.code[0], code);
    /* Nothing more is reported after an error. */
    assert_int_equal(feed(&p, &r, buf, n), 0);
    assert_int_equal(r.count, 1);
    ws_parser_free(&p);
}

static void test_protocol_violations_close_with_1002(void **state)
{
    uint8_t buf[256];
    char big[126];
    memset(big, 'p', sizeof big);
    expect_error(buf, frame(buf, 1, 1, "x", 1, 0, 0), 1002);          /* unmasked */
    expect_error(buf, frame(buf, 1, 1, "x", 1, 1, 4), 1002);          /* RSV1 */
    expect_error(buf, frame(buf, 1, 3, "x", 1, 1, 0), 1002);          /* reserved opcode */
    expect_error(buf, frame(buf, 1, 0, "x", 1, 1, 0), 1002);          /* stray continuation */
    expect_error(buf, frame(buf, 0, 9, "x", 1, 1, 0), 1002);          /* fragmented ping */
    expect_error(buf, frame(buf, 1, 9, big, sizeof big, 1, 0), 1002); /* ping over 125 */
    expect_error(buf, frame(buf, 1, 8, "\x03", 1, 1, 0), 1002);       /* 1-byte close */
    expect_error(buf, frame(buf, 1, 8, "\x03\xed", 2, 1, 0), 1002);   /* close code 1005 */
    size_t n = frame(buf, 0, 1, "a", 1, 1, 0);
    n += frame(buf + n, 1, 1, "b", 1, 1, 0); /* new message inside a fragmented one */
    expect_error(buf, n, 1002);
}

static void test_invalid_utf8_closes_with_1007(void **state)
{
    uint8_t buf[64];
    expect_error(buf, frame(buf, 1, 1, "\xc0\xaf", 2, 1, 0), 1007);     /* overlong */
    expect_error(buf, frame(buf, 1, 8, "\x03\xe8\xff", 3, 1, 0), 1007); /* close reason */
    size_t n = frame(buf, 0, 1, "\xe2\x82", 2, 1, 0); /* a character split across fragments */
    n += frame(buf + n, 1, 0, "\xac", 1, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    feed(&p, &r, buf, n);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.type[0], WS_EVENT_MESSAGE); /* the euro sign, whole */
    ws_parser_free(&p);
}

static void test_message_over_the_limit_closes_with_1009(void **state)
{
    static uint8_t buf[9000];
    char text[4097];
    memset(text, 'y', sizeof text);
    expect_error(buf, frame(buf, 1, 1, text, sizeof text, 1, 0), 1009);
    /* Exactly at the limit is fine, also in fragments that add up to it. */
    size_t n = frame(buf, 0, 1, text, 2048, 1, 0);
    n += frame(buf + n, 1, 0, text, 2048, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    assert_int_equal(feed(&p, &r, buf, n), n);
    assert_int_equal(r.type[0], WS_EVENT_MESSAGE);
    assert_int_equal(r.len[0], 4096);
    ws_parser_free(&p);
}

static void test_close_reports_code_and_reason_and_ends_the_stream(void **state)
{
    uint8_t buf[64];
    size_t n = frame(buf, 1, 8,
                     "\x03\xe8"
                     "bye",
                     5, 1, 0);
    size_t close_len = n;
    n += frame(buf + n, 1, 1, "late", 4, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {0};
    assert_int_equal(feed(&p, &r, buf, n), close_len);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.type[0], WS_EVENT_CLOSE);
    assert_int_equal(r.code[0], 1000);
    assert_memory_equal(r.data[0], "bye", 3);
    n = frame(buf, 1, 8, "", 0, 1, 0);
    ws_parser_free(&p);
    ws_parser_init(&p, 4096);
    r.count = 0;
    feed(&p, &r, buf, n);
    assert_int_equal(r.code[0], 1005); /* no code sent */
    ws_parser_free(&p);
}

static void test_a_pause_stops_after_the_message_and_the_rest_resumes(void **state)
{
    uint8_t buf[64];
    size_t first = frame(buf, 1, 1, "one", 3, 1, 0);
    size_t n = first + frame(buf + first, 1, 1, "two", 3, 1, 0);
    ws_parser p;
    ws_parser_init(&p, 4096);
    recorder r = {.stop_after_messages = 1};
    assert_int_equal(feed(&p, &r, buf, n), first);
    assert_int_equal(r.count, 1);
    assert_int_equal(feed(&p, &r, buf + first, n - first), n - first);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.data[1], "two", 3);
    ws_parser_free(&p);
}

static void test_close_codes_a_peer_may_send(void **state)
{
    assert_true(ws_close_code_valid(1000));
    assert_true(ws_close_code_valid(1011));
    assert_true(ws_close_code_valid(4999));
    assert_false(ws_close_code_valid(1004));
    assert_false(ws_close_code_valid(1005));
    assert_false(ws_close_code_valid(1006));
    assert_false(ws_close_code_valid(1015));
    assert_false(ws_close_code_valid(999));
    assert_false(ws_close_code_valid(5000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masked_text_message_is_delivered_whole),
        cmocka_unit_test(test_message_fed_one_byte_at_a_time_is_the_same),
        cmocka_unit_test(test_fragments_with_a_ping_between_them_make_one_message),
        cmocka_unit_test(test_empty_first_fragment_is_fine),
        cmocka_unit_test(test_protocol_violations_close_with_1002),
        cmocka_unit_test(test_invalid_utf8_closes_with_1007),
        cmocka_unit_test(test_message_over_the_limit_closes_with_1009),
        cmocka_unit_test(test_close_reports_code_and_reason_and_ends_the_stream),
        cmocka_unit_test(test_a_pause_stops_after_the_message_and_the_rest_resumes),
        cmocka_unit_test(test_close_codes_a_peer_may_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
