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
    packet_moves_format f = packet_moves_format_for(1e6, 1e6); /* kind 1: too wide for kind 2 */
    assert_int_equal(f.kind, PACKET_MOVES_KIND);
    uint8_t rec[2][PACKET_MOVE_RECORD_MAX];
    packet_move_record(&f, rec[0], 7, 12.25, 0);
    packet_move_record(&f, rec[1], 70000, 1344, 3.5);
    rcbuf *b = packet_encode_moves(&f, &rec[0][0], 2);
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

/* Kind 2 on the tutorial's 1344 px map: kind, scale 5 (1/32 px), 8-byte records, x and y in u16;
 * positions rounded to the unit, the far edge of the map still carried. */
static void test_ws_short_moves_frame_on_the_tutorial_map(void **state)
{
    packet_moves_format f = packet_moves_format_for(1344, 1344);
    assert_int_equal(f.kind, PACKET_MOVES_KIND_SHORT);
    assert_int_equal(f.scale, 5);
    assert_int_equal(f.record, PACKET_MOVE_RECORD_SHORT);
    uint8_t rec[2 * PACKET_MOVE_RECORD_SHORT + PACKET_MOVE_RECORD_MAX];
    packet_move_record(&f, rec, 7, 12.25, 0.01);
    packet_move_record(&f, rec + PACKET_MOVE_RECORD_SHORT, 70000, 1344, -3);
    rcbuf *b = packet_encode_moves(&f, rec, 2);
    assert_non_null(b);
    assert_int_equal(b->packets, 2);
    /* 12.25 * 32 = 392 = 0x188; 0.01 * 32 rounds to 0; 1344 * 32 = 43008 = 0xa800; -3 is 0. */
    const uint8_t want[] = {2, 5, 7, 0, 0, 0, 0x88, 1, 0, 0, 0x70, 0x11, 1, 0, 0x00, 0xa8, 0, 0};
    assert_int_equal(b->len, sizeof want);
    assert_memory_equal(rcbuf_data(b), want, sizeof want);
    rcbuf *packed = ws_frames_pack(&b, 1);
    assert_non_null(packed);
    assert_memory_equal(rcbuf_data(packed), "\x82\x12", 2);
    rcbuf_unref(packed);
    rcbuf_unref(b);
}

/* The finest scale at which the world's wider side fits a u16; kind 1 beyond 65,535 px. */
static void test_ws_moves_format_follows_the_world_size(void **state)
{
    assert_int_equal(packet_moves_format_for(16000, 16000).scale, 2);
    assert_int_equal(packet_moves_format_for(22627, 100).scale, 1);
    assert_int_equal(packet_moves_format_for(100, 65535).scale, 0);
    assert_int_equal(packet_moves_format_for(100, 65535).kind, PACKET_MOVES_KIND_SHORT);
    assert_int_equal(packet_moves_format_for(10, 10).scale, PACKET_MOVE_SCALE_MAX);
    assert_int_equal(packet_moves_format_for(65536, 10).kind, PACKET_MOVES_KIND);
    assert_int_equal(packet_moves_format_for(65536, 10).record, PACKET_MOVE_RECORD);
    assert_int_equal(packet_moves_format_for(65536, 10).header, 1);
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
        cmocka_unit_test(test_ws_short_moves_frame_on_the_tutorial_map),
        cmocka_unit_test(test_ws_moves_format_follows_the_world_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
