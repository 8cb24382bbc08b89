/* Self-test of bench_scan: both movement encodings (legacy ModelDelta, cmmo.v2 Move) classify as
 * deltas and yield the same actor id and position; malformed or look-alike frames do not; no
 * function reads past the payload's length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench_scan.h"

#include <stdlib.h>
#include <string.h>

/* The payload in a buffer of exactly its length (no NUL after it), so ASan catches any read past
 * len. The caller frees it. */
static char *exact(const char *text, size_t *len)
{
    *len = strlen(text);
    char *p = malloc(*len ? *len : 1);
    assert_non_null(p);
    memcpy(p, text, *len);
    return p;
}

static void check_delta(const char *text, int64_t want_id, double want_x, double want_y)
{
    size_t len;
    char *p = exact(text, &len);
    int64_t id = -1;
    double x = -1, y = -1;
    assert_int_equal(bench_scan_classify(p, len), BENCH_PKT_DELTA);
    assert_int_equal(bench_scan_delta_id(p, len, &id), 0);
    assert_int_equal(id, want_id);
    assert_int_equal(bench_scan_delta_xy(p, len, &x, &y), 0);
    assert_float_equal(x, want_x, 1e-9);
    assert_float_equal(y, want_y, 1e-9);
    free(p);
}

/* A Move that is a delta by its prefix but whose id (want_id_ok 0) or position cannot be read. */
static void check_bad_move(const char *text, int want_id_ok)
{
    size_t len;
    char *p = exact(text, &len);
    int64_t id;
    double x, y;
    assert_int_equal(bench_scan_classify(p, len), BENCH_PKT_DELTA);
    assert_int_equal(bench_scan_delta_id(p, len, &id), want_id_ok ? 0 : -1);
    assert_int_equal(bench_scan_delta_xy(p, len, &x, &y), -1);
    free(p);
}

static void check_other(const char *text)
{
    size_t len;
    char *p = exact(text, &len);
    assert_int_equal(bench_scan_classify(p, len), BENCH_PKT_OTHER);
    free(p);
}

static void test_scan_move_is_a_delta_with_id_and_position(void **state)
{
    (void)state;
    check_delta("{\"a\":\"Move\",\"p0\":[42,100.25,-3.5]}", 42, 100.25, -3.5);
    check_delta("{\"a\":\"Move\",\"p0\":[7,0,832]}", 7, 0, 832);
    check_delta("{\"a\":\"Move\",\"p0\":[123456789012,15999.99,0.01]}", 123456789012, 15999.99,
                0.01);
}

static void test_scan_move_means_what_the_legacy_delta_means(void **state)
{
    (void)state;
    check_delta(
        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":42,\"model_type\":\"Actor\",\"instanced_entity\":"
        "{\"id\":9,\"model_type\":\"InstancedEntity\",\"x\":100.25,\"y\":-3.5}}}",
        42, 100.25, -3.5);
    check_delta("{\"a\":\"Move\",\"p0\":[42,100.25,-3.5]}", 42, 100.25, -3.5);
}

static void test_scan_move_truncated_or_malformed_is_not_read(void **state)
{
    (void)state;
    check_bad_move("{\"a\":\"Move\",\"p0\":[42,100.25,3", 1); /* cut before the ']' */
    check_bad_move("{\"a\":\"Move\",\"p0\":[42,100.25", 1);
    check_bad_move("{\"a\":\"Move\",\"p0\":[42,", 1);
    check_bad_move("{\"a\":\"Move\",\"p0\":[42", 0); /* no comma after the id */
    check_bad_move("{\"a\":\"Move\",\"p0\":[", 0);
    check_bad_move("{\"a\":\"Move\",\"p0\":[,1,2]}", 0);
    check_bad_move("{\"a\":\"Move\",\"p0\":[-4,1,2]}", 0);
    check_bad_move("{\"a\":\"Move\",\"p0\":[4.0,1,2]}", 0); /* an actor id is an integer */
    check_bad_move("{\"a\":\"Move\",\"p0\":[4,\"1\",2]}", 1);
    check_bad_move("{\"a\":\"Move\",\"p0\":[4,1]}", 1);
    check_bad_move("{\"a\":\"Move\",\"p0\":[4,1,2,3]}", 1);
}

static void test_scan_move_look_alikes_are_not_deltas(void **state)
{
    (void)state;
    check_other("{\"a\":\"Move\"}");
    check_other("{\"a\":\"Move\", \"p0\":[1,2,3]}");
    check_other("{\"a\":\"Mover\",\"p0\":[1,2,3]}");
    check_other("{\"a\":\"Move\",\"p0\":{\"id\":1}}");
    check_other("{\"p0\":[1,2,3],\"a\":\"Move\"}");
    check_other("{\"a\":\"Move\",\"p0\"");
}

static void test_scan_legacy_full_model_still_reads_the_top_level_id(void **state)
{
    (void)state;
    check_delta("{\"a\":\"ModelDelta\",\"p0\":{\"id\":5,\"model_type\":\"Actor\",\"name\":\"bab0\","
                "\"instanced_entity\":{\"id\":11,\"model_type\":\"InstancedEntity\",\"x\":1.5,"
                "\"y\":2}}}",
                5, 1.5, 2);
}

static void test_scan_moves_frame_reads_every_record(void **state)
{
    /* kind 1, then (7, 12.25, 0) and (70000, 1344, 3.5) */
    const unsigned char f[] = {1,    7,    0, 0, 0,    0xc9, 4, 0, 0,    0, 0, 0, 0,
                               0x70, 0x11, 1, 0, 0x00, 0x0d, 2, 0, 0x5e, 1, 0, 0};
    const char *p = (const char *)f;
    assert_int_equal(bench_scan_classify(p, sizeof f), BENCH_PKT_MOVES);
    assert_int_equal(bench_scan_moves(p, sizeof f), 2);
    int64_t id;
    double x, y;
    bench_scan_move_record(p, 0, &id, &x, &y);
    assert_int_equal(id, 7);
    assert_true(x == 12.25 && y == 0);
    bench_scan_move_record(p, 1, &id, &x, &y);
    assert_int_equal(id, 70000);
    assert_true(x == 1344 && y == 3.5);
    /* Not whole records, or another kind: not a Moves frame. */
    assert_int_equal(bench_scan_moves(p, sizeof f - 1), -1);
    assert_int_equal(bench_scan_moves("{\"a\":\"Ok\"}", 10), -1);
}

/* Kind 2: a scale byte, then 8-byte records (u32 id, u16 x and y in 2^-s px). */
static void test_scan_short_moves_frame_reads_every_record(void **state)
{
    (void)state;
    /* s = 5: 392 / 32 = 12.25 px, 43008 / 32 = 1344 px. */
    const unsigned char f[] = {2, 5,    7,    0, 0, 0,    0x88, 1,    0,
                               0, 0x70, 0x11, 1, 0, 0x00, 0xa8, 0x20, 0};
    char *p = malloc(sizeof f);
    assert_non_null(p);
    memcpy(p, f, sizeof f);
    assert_int_equal(bench_scan_moves(p, sizeof f), 2);
    assert_int_equal(bench_scan_classify(p, sizeof f), BENCH_PKT_MOVES);
    int64_t id;
    double x, y;
    bench_scan_move_record(p, 0, &id, &x, &y);
    assert_int_equal(id, 7);
    assert_float_equal(x, 12.25, 1e-9);
    assert_float_equal(y, 0, 1e-9);
    bench_scan_move_record(p, 1, &id, &x, &y);
    assert_int_equal(id, 70000);
    assert_float_equal(x, 1344, 1e-9);
    assert_float_equal(y, 1, 1e-9);
    /* Not whole records, a scale above 6, or no scale byte: not a Moves frame. */
    assert_int_equal(bench_scan_moves(p, sizeof f - 1), -1);
    p[1] = 7;
    assert_int_equal(bench_scan_moves(p, sizeof f), -1);
    assert_int_equal(bench_scan_moves(p, 1), -1);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_move_is_a_delta_with_id_and_position),
        cmocka_unit_test(test_scan_move_means_what_the_legacy_delta_means),
        cmocka_unit_test(test_scan_move_truncated_or_malformed_is_not_read),
        cmocka_unit_test(test_scan_move_look_alikes_are_not_deltas),
        cmocka_unit_test(test_scan_legacy_full_model_still_reads_the_top_level_id),
        cmocka_unit_test(test_scan_moves_frame_reads_every_record),
        cmocka_unit_test(test_scan_short_moves_frame_reads_every_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
