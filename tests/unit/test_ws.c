/* Unit tests for net/ws: sealing a text message into one unmasked FIN text frame in place, with
 * the RFC 6455 length encodings, exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/ws.h"
#include "proto/packet.h"

#include <stdlib.h>
#include <string.h>

/* A buffer of n payload bytes with a recognisable pattern. */
static rcbuf *payload(size_t n)
{
    uint8_t *data = malloc(n ? n : 1);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)('a' + i % 26);
    rcbuf *b = rcbuf_from(data, n);
    free(data);
    assert_non_null(b);
    return b;
}

/* Seals an n-byte payload and checks the header bytes and that the payload follows intact. */
static void check_seal(size_t n, const uint8_t *want_header, size_t header_len)
{
    rcbuf *b = payload(n);
    ws_frame_seal_text(b);
    assert_true(b->flags & WS_FRAME_SEALED);
    assert_int_equal(b->len, header_len + n);
    const uint8_t *d = rcbuf_data(b);
    assert_memory_equal(d, want_header, header_len);
    for (size_t i = 0; i < n; i++)
        if (d[header_len + i] != (uint8_t)('a' + i % 26)) fail_msg("payload byte %zu changed", i);
    rcbuf_unref(b);
}

static void test_ws_seal_empty_message_has_two_byte_header(void **state)
{
    const uint8_t h[] = {0x81, 0x00};
    check_seal(0, h, sizeof h);
}

static void test_ws_seal_125_bytes_uses_the_7_bit_length(void **state)
{
    const uint8_t h[] = {0x81, 125};
    check_seal(125, h, sizeof h);
}

static void test_ws_seal_126_bytes_uses_the_16_bit_length(void **state)
{
    const uint8_t h[] = {0x81, 126, 0x00, 0x7E};
    check_seal(126, h, sizeof h);
}

static void test_ws_seal_65535_bytes_uses_the_16_bit_length(void **state)
{
    const uint8_t h[] = {0x81, 126, 0xFF, 0xFF};
    check_seal(65535, h, sizeof h);
}

static void test_ws_seal_65536_bytes_uses_the_64_bit_length(void **state)
{
    const uint8_t h[] = {0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
    check_seal(65536, h, sizeof h);
}

static void test_ws_seal_is_never_masked(void **state)
{
    const size_t sizes[] = {0, 1, 125, 126, 127, 300, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        rcbuf *b = payload(sizes[i]);
        ws_frame_seal_text(b);
        const uint8_t *d = rcbuf_data(b);
        assert_int_equal(d[0], 0x81);     /* FIN, no RSV bits, opcode text */
        assert_int_equal(d[1] & 0x80, 0); /* MASK bit clear */
        rcbuf_unref(b);
    }
}

static void test_ws_sealing_twice_is_a_no_op(void **state)
{
    const size_t sizes[] = {0, 10, 126, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        rcbuf *b = payload(sizes[i]);
        ws_frame_seal_text(b);
        size_t len = b->len, start = b->start;
        uint8_t head[10];
        memcpy(head, rcbuf_data(b), len < 10 ? len : 10);
        ws_frame_seal_text(b);
        ws_frame_seal_text(b);
        assert_int_equal(b->len, len);
        assert_int_equal(b->start, start);
        assert_memory_equal(rcbuf_data(b), head, len < 10 ? len : 10);
        rcbuf_unref(b);
    }
}

static void test_ws_seal_of_an_encoded_packet_frames_its_json(void **state)
{
    /* The path every server packet takes: encode, then seal the shared buffer once. */
    rcbuf *b = packet_encode_ok();
    assert_non_null(b);
    ws_frame_seal_text(b);
    assert_int_equal(b->len, 12);
    assert_memory_equal(rcbuf_data(b), "\x81\x0a{\"a\":\"Ok\"}", 12);
    rcbuf_unref(b);
}

/* A cmmo.v2 Moves frame is binary: sealed with opcode 2, its records intact, in a pack too. */
static void test_ws_seal_of_a_moves_frame_is_a_binary_frame(void **state)
{
    uint8_t rec[2][PACKET_MOVE_RECORD];
    packet_move_record(rec[0], 7, 12.25, 0);
    packet_move_record(rec[1], 70000, 1344, 3.5);
    rcbuf *b = packet_encode_moves(&rec[0][0], 2);
    assert_non_null(b);
    assert_int_equal(b->packets, 2);
    const uint8_t want[] = {0x82, 25,   1,    7, 0, 0,    0,    0xc9, 4, 0,    0, 0, 0, 0,
                            0,    0x70, 0x11, 1, 0, 0x00, 0x0d, 2,    0, 0x5e, 1, 0, 0};
    rcbuf *ok = packet_encode_ok();
    rcbuf *both[2] = {ok, b};
    rcbuf *packed = ws_frames_pack(both, 2);
    assert_non_null(packed);
    assert_int_equal(b->len, sizeof want);
    assert_memory_equal(rcbuf_data(b), want, sizeof want);
    assert_memory_equal(rcbuf_data(packed) + 12, want, sizeof want);
    rcbuf_unref(packed);
    rcbuf_unref(ok);
    rcbuf_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_seal_empty_message_has_two_byte_header),
        cmocka_unit_test(test_ws_seal_125_bytes_uses_the_7_bit_length),
        cmocka_unit_test(test_ws_seal_126_bytes_uses_the_16_bit_length),
        cmocka_unit_test(test_ws_seal_65535_bytes_uses_the_16_bit_length),
        cmocka_unit_test(test_ws_seal_65536_bytes_uses_the_64_bit_length),
        cmocka_unit_test(test_ws_seal_is_never_masked),
        cmocka_unit_test(test_ws_sealing_twice_is_a_no_op),
        cmocka_unit_test(test_ws_seal_of_an_encoded_packet_frames_its_json),
        cmocka_unit_test(test_ws_seal_of_a_moves_frame_is_a_binary_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
