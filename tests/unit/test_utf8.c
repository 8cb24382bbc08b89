/* Unit tests for core/utf8: strict decoding (no overlong forms, no surrogates, nothing above
 * U+10FFFF, no truncated sequences) and encoding with utf8_put. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Decodes exactly one code point from the whole of s (n bytes, in a heap copy of exactly n bytes
 * so that ASan catches any read past the end). Returns utf8_next's result; *used gets the
 * advance. */
static int decode_one(const char *s, size_t n, uint32_t *cp, size_t *used)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    size_t pos = 0;
    *cp = 0xDEADBEEF;
    int rc = utf8_next(copy, n, &pos, cp);
    *used = pos;
    free(copy);
    return rc;
}

static void expect_code_point(const char *s, size_t n, uint32_t want)
{
    uint32_t cp;
    size_t used;
    assert_int_equal(decode_one(s, n, &cp, &used), 0);
    assert_int_equal(cp, want);
    assert_int_equal(used, n);
    assert_int_equal(utf8_valid(s, n), 1);
}

static void expect_invalid(const char *s, size_t n)
{
    uint32_t cp;
    size_t used;
    assert_int_equal(decode_one(s, n, &cp, &used), CMMO_EUTF8);
    assert_int_equal(used, 0); /* *pos unchanged */
    assert_int_equal(utf8_valid(s, n), 0);
}

static void test_utf8_decodes_boundary_code_points_of_each_length(void **state)
{
    expect_code_point("\x00", 1, 0x0);
    expect_code_point("A", 1, 0x41);
    expect_code_point("\x7F", 1, 0x7F);
    expect_code_point("\xC2\x80", 2, 0x80);
    expect_code_point("\xC3\xA9", 2, 0xE9);
    expect_code_point("\xDF\xBF", 2, 0x7FF);
    expect_code_point("\xE0\xA0\x80", 3, 0x800);
    expect_code_point("\xE2\x82\xAC", 3, 0x20AC);
    expect_code_point("\xED\x9F\xBF", 3, 0xD7FF); /* just below the surrogates */
    expect_code_point("\xEE\x80\x80", 3, 0xE000); /* just above them */
    expect_code_point("\xEF\xBF\xBF", 3, 0xFFFF);
    expect_code_point("\xF0\x90\x80\x80", 4, 0x10000);
    expect_code_point("\xF0\x9F\x98\x80", 4, 0x1F600);
    expect_code_point("\xF4\x8F\xBF\xBF", 4, 0x10FFFF);
}

static void test_utf8_rejects_overlong_forms(void **state)
{
    expect_invalid("\xC0\x80", 2);         /* U+0000 in two bytes */
    expect_invalid("\xC1\xBF", 2);         /* U+007F in two bytes */
    expect_invalid("\xE0\x80\x80", 3);     /* U+0000 in three bytes */
    expect_invalid("\xE0\x9F\xBF", 3);     /* U+07FF in three bytes */
    expect_invalid("\xF0\x80\x80\x80", 4); /* U+0000 in four bytes */
    expect_invalid("\xF0\x8F\xBF\xBF", 4); /* U+FFFF in four bytes */
    expect_invalid("\xC0\xAF", 2);         /* the classic overlong '/' */
    expect_invalid("\xE0\x80\xAF", 3);
}

static void test_utf8_rejects_surrogates(void **state)
{
    expect_invalid("\xED\xA0\x80", 3); /* U+D800 */
    expect_invalid("\xED\xAD\xBF", 3); /* U+DB7F */
    expect_invalid("\xED\xB0\x80", 3); /* U+DC00 */
    expect_invalid("\xED\xBF\xBF", 3); /* U+DFFF */
    /* A CESU-8 surrogate pair for U+1F600 is not UTF-8 either. */
    expect_invalid("\xED\xA0\xBD\xED\xB8\x80", 6);
}

static void test_utf8_rejects_code_points_above_10ffff(void **state)
{
    expect_invalid("\xF4\x90\x80\x80", 4); /* U+110000 */
    expect_invalid("\xF7\xBF\xBF\xBF", 4); /* U+1FFFFF */
    expect_invalid("\xF5\x80\x80\x80", 4);
    expect_invalid("\xF8\x88\x80\x80\x80", 5); /* 5-byte form */
    expect_invalid("\xFC\x84\x80\x80\x80\x80", 6);
    expect_invalid("\xFE", 1);
    expect_invalid("\xFF", 1);
}

static void test_utf8_rejects_truncated_sequences(void **state)
{
    expect_invalid("\xC3", 1);
    expect_invalid("\xE2\x82", 2);
    expect_invalid("\xE2", 1);
    expect_invalid("\xF0\x9F\x98", 3);
    expect_invalid("\xF0\x9F", 2);
    expect_invalid("\xF0", 1);
}

static void test_utf8_does_not_read_past_len(void **state)
{
    /* The full sequence is in memory but len stops inside it. */
    const char s[] = "\xE2\x82\xAC";
    size_t pos = 0;
    uint32_t cp = 0;
    assert_int_equal(utf8_next(s, 2, &pos, &cp), CMMO_EUTF8);
    assert_int_equal(pos, 0);
    assert_int_equal(utf8_valid(s, 2), 0);
    assert_int_equal(utf8_valid(s, 3), 1);
}

static void test_utf8_rejects_bad_continuation_bytes(void **state)
{
    expect_invalid("\x80", 1); /* lone continuation */
    expect_invalid("\xBF", 1);
    expect_invalid("\xC3\x41", 2);         /* lead then ASCII */
    expect_invalid("\xE2\x28\xA1", 3);     /* second byte not a continuation */
    expect_invalid("\xE2\x82\x28", 3);     /* third byte not a continuation */
    expect_invalid("\xF0\x9F\x98\x28", 4); /* fourth byte not a continuation */
    expect_invalid("\xC3\xC3", 2);
}

static void test_utf8_next_walks_mixed_text_and_stops_at_the_bad_byte(void **state)
{
    const char s[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z\xFFq";
    size_t len = sizeof s - 1;
    const uint32_t want[] = {'a', 0xE9, 0x20AC, 0x1F600, 'z'};
    const size_t want_pos[] = {1, 3, 6, 10, 11};
    size_t pos = 0;
    for (size_t i = 0; i < 5; i++) {
        uint32_t cp = 0;
        assert_int_equal(utf8_next(s, len, &pos, &cp), 0);
        assert_int_equal(cp, want[i]);
        assert_int_equal(pos, want_pos[i]);
    }
    uint32_t cp = 0;
    assert_int_equal(utf8_next(s, len, &pos, &cp), CMMO_EUTF8);
    assert_int_equal(pos, 11); /* unchanged at the invalid byte */
    assert_int_equal(utf8_valid(s, len), 0);
    assert_int_equal(utf8_valid(s, 11), 1);
}

static void test_utf8_valid_accepts_empty_and_embedded_nul(void **state)
{
    assert_int_equal(utf8_valid("", 0), 1);
    assert_int_equal(utf8_valid("a\0b", 3), 1);
    assert_int_equal(utf8_valid("h\xC3\xA9llo w\xC3\xB6rld", 14), 1);
}

static void test_utf8_put_roundtrips_through_utf8_next(void **state)
{
    const uint32_t cps[] = {0x0,    0x41,    0x7F,    0x80,    0xE9,     0x7FF,
                            0x800,  0x20AC,  0xD7FF,  0xE000,  0xFF3B,   0xFFFD,
                            0xFFFF, 0x10000, 0x1F600, 0xFFFFF, 0x100000, 0x10FFFF};
    const size_t lens[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char buf[8];
        memset(buf, 0x55, sizeof buf);
        size_t n = utf8_put(buf, cps[i]);
        assert_int_equal(n, lens[i]);
        assert_int_equal((unsigned char)buf[n], 0x55); /* nothing written past the count */
        size_t pos = 0;
        uint32_t cp = 0;
        assert_int_equal(utf8_next(buf, n, &pos, &cp), 0);
        assert_int_equal(pos, n);
        assert_int_equal(cp, cps[i]);
    }
}

static void test_utf8_put_writes_the_expected_bytes(void **state)
{
    char buf[4];
    assert_int_equal(utf8_put(buf, 0xFF3B), 3);
    assert_memory_equal(buf, "\xEF\xBC\xBB", 3); /* full-width [ */
    assert_int_equal(utf8_put(buf, 0x1F600), 4);
    assert_memory_equal(buf, "\xF0\x9F\x98\x80", 4);
    assert_int_equal(utf8_put(buf, 0xE9), 2);
    assert_memory_equal(buf, "\xC3\xA9", 2);
}

static void test_utf8_put_then_decode_every_scalar_value(void **state)
{
    /* Exhaustive: every Unicode scalar value encodes and decodes to itself. */
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char buf[4];
        size_t n = utf8_put(buf, cp);
        size_t pos = 0;
        uint32_t back = 0;
        if (utf8_next(buf, n, &pos, &back) != 0 || back != cp || pos != n)
            fail_msg("code point U+%04X did not roundtrip", (unsigned)cp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decodes_boundary_code_points_of_each_length),
        cmocka_unit_test(test_utf8_rejects_overlong_forms),
        cmocka_unit_test(test_utf8_rejects_surrogates),
        cmocka_unit_test(test_utf8_rejects_code_points_above_10ffff),
        cmocka_unit_test(test_utf8_rejects_truncated_sequences),
        cmocka_unit_test(test_utf8_does_not_read_past_len),
        cmocka_unit_test(test_utf8_rejects_bad_continuation_bytes),
        cmocka_unit_test(test_utf8_next_walks_mixed_text_and_stops_at_the_bad_byte),
        cmocka_unit_test(test_utf8_valid_accepts_empty_and_embedded_nul),
        cmocka_unit_test(test_utf8_put_roundtrips_through_utf8_next),
        cmocka_unit_test(test_utf8_put_writes_the_expected_bytes),
        cmocka_unit_test(test_utf8_put_then_decode_every_scalar_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
