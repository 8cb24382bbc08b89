/* Unit tests for proto/validate: usernames, passwords, avatars and chat cleaning, with the Deny
 * texts of docs/PROTOCOL.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/utf8.h"
#include "proto/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *creds(const char *user, const char *pass)
{
    return validate_credentials(user, strlen(user), pass, strlen(pass));
}

static void assert_deny(const char *got, const char *const want)
{
    assert_non_null(got);
    assert_ptr_equal(got, want);
}

static void test_validate_deny_texts_are_the_protocol_texts(void **state)
{
    assert_string_equal(VALIDATE_DENY_EMPTY, "Username or password must not be empty");
    assert_string_equal(VALIDATE_DENY_USERNAME, "Username must be 1 to 20 letters, digits, _ or -");
    assert_string_equal(VALIDATE_DENY_PASSWORD, "Password must be at most 128 bytes");
    assert_string_equal(VALIDATE_DENY_AVATAR, "Avatar must be an integer from 0 to 5");
}

/* ---- usernames ---- */

static void test_validate_accepts_usernames_of_1_to_20_allowed_characters(void **state)
{
    assert_null(creds("a", "pw"));
    assert_null(creds("alice", "pw-alice"));
    assert_null(creds("Z", "pw"));
    assert_null(creds("0", "pw"));
    assert_null(creds("_", "pw"));
    assert_null(creds("-", "pw"));
    assert_null(creds("abcdefghijklmnopqrst", "pw")); /* 20 */
    assert_null(creds("AZaz09_-AZaz09_-AZaz", "pw"));
}

static void test_validate_denies_username_of_21_characters(void **state)
{
    assert_deny(creds("abcdefghijklmnopqrstu", "pw"), VALIDATE_DENY_USERNAME);
    assert_deny(creds("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "pw"),
                VALIDATE_DENY_USERNAME);
}

static void test_validate_denies_username_with_characters_outside_the_charset(void **state)
{
    const char *bad[] = {"al ice",       " alice", "alice ", "al.ice",  "al@ice",
                         "a[b]",         "a<b>",   "al'ice", "al\"ice", "a/b",
                         "a\\b",         "a\tb",   "a+b",    "a=b",     "caf\xC3\xA9", /* é */
                         "\xD0\xB0lice", /* Cyrillic а look-alike */
                         "\xEF\xBC\xA1", /* full-width A */
                         "a\x7F"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *got = creds(bad[i], "pw");
        if (got != VALIDATE_DENY_USERNAME) fail_msg("username '%s' was not denied", bad[i]);
    }
}

static void test_validate_denies_username_with_embedded_nul(void **state)
{
    assert_deny(validate_credentials("ali\0ce", 6, "pw", 2), VALIDATE_DENY_USERNAME);
}

static void test_validate_denies_empty_username_or_password(void **state)
{
    assert_deny(creds("", "pw"), VALIDATE_DENY_EMPTY);
    assert_deny(creds("alice", ""), VALIDATE_DENY_EMPTY);
    assert_deny(creds("", ""), VALIDATE_DENY_EMPTY);
}

/* ---- passwords ---- */

static void test_validate_password_may_be_128_bytes_but_not_129(void **state)
{
    char pw[200];
    memset(pw, 'x', sizeof pw);
    assert_null(validate_credentials("alice", 5, pw, 1));
    assert_null(validate_credentials("alice", 5, pw, 128));
    assert_deny(validate_credentials("alice", 5, pw, 129), VALIDATE_DENY_PASSWORD);
    assert_deny(validate_credentials("alice", 5, pw, 200), VALIDATE_DENY_PASSWORD);
}

static void test_validate_password_length_is_counted_in_bytes(void **state)
{
    char pw[200];
    for (int i = 0; i < 64; i++)
        memcpy(pw + 2 * i, "\xC3\xA9", 2); /* 64 characters, 128 bytes */
    assert_null(validate_credentials("alice", 5, pw, 128));
    for (int i = 0; i < 43; i++)
        memcpy(pw + 3 * i, "\xE2\x82\xAC", 3); /* 43 characters, 129 bytes */
    assert_deny(validate_credentials("alice", 5, pw, 129), VALIDATE_DENY_PASSWORD);
}

static void test_validate_password_may_hold_any_characters(void **state)
{
    assert_null(validate_credentials("alice", 5, "p w\0[]\"\\", 8));
    assert_null(creds("alice", "\xF0\x9F\x98\x80 \xE2\x82\xAC"));
}

/* ---- avatars ---- */

static void test_validate_accepts_avatars_0_to_5(void **state)
{
    for (int i = 0; i <= 5; i++) {
        int avatar = -1;
        assert_null(validate_avatar(1, (double)i, &avatar));
        assert_int_equal(avatar, i);
    }
}

static void test_validate_accepts_avatar_2_point_0(void **state)
{
    int avatar = -1;
    assert_null(validate_avatar(1, 2.0, &avatar));
    assert_int_equal(avatar, 2);
    avatar = -1;
    assert_null(validate_avatar(1, -0.0, &avatar));
    assert_int_equal(avatar, 0);
}

static void test_validate_denies_fractional_negative_large_and_non_numbers(void **state)
{
    const double bad[] = {2.5,  0.5,      4.999999,  5.0000001,    -1.0,
                          -0.5, 6.0,      7.0,       1e300,        -1e300,
                          NAN,  INFINITY, -INFINITY, 4294967296.0, 4294967298.0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int avatar = 77;
        const char *got = validate_avatar(1, bad[i], &avatar);
        if (got != VALIDATE_DENY_AVATAR) fail_msg("avatar %g was not denied", bad[i]);
    }
    int avatar = 77;
    assert_deny(validate_avatar(0, 2.0, &avatar), VALIDATE_DENY_AVATAR); /* "2" or null */
    assert_deny(validate_avatar(0, 0.0, &avatar), VALIDATE_DENY_AVATAR);
}

/* ---- chat ---- */

static char chat_out[VALIDATE_CHAT_BYTES + 1];

static size_t chat(const char *s, size_t n)
{
    memset(chat_out, 0x5A, sizeof chat_out);
    size_t got = validate_chat(s, n, chat_out);
    assert_true(got <= VALIDATE_CHAT_BYTES);
    assert_true(utf8_valid(chat_out, got));
    return got;
}

static void assert_chat(const char *in, size_t in_len, const char *want)
{
    size_t n = chat(in, in_len);
    if (n != strlen(want) || memcmp(chat_out, want, n) != 0)
        fail_msg("chat cleaned to '%.*s' (%zu bytes), expected '%s'", (int)n, chat_out, n, want);
}

static void test_validate_chat_keeps_ordinary_text(void **state)
{
    assert_chat("hello bob", 9, "hello bob");
    const char *u = "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC";
    assert_chat(u, strlen(u), u);
}

static void test_validate_chat_strips_control_characters(void **state)
{
    assert_chat("a\x01"
                "b\tc\nd\re\x1F"
                "f\x7Fg",
                13, "abcdefg");
    assert_chat("x\0y", 3, "xy");
}

static void test_validate_chat_strips_c1_control_characters(void **state)
{
    /* U+0080, U+0085 (NEL), U+009B (CSI), U+009F are controls; U+00A0 is not. */
    const char *in = "a\xC2\x80"
                     "b\xC2\x85"
                     "c\xC2\x9B"
                     "d\xC2\x9F"
                     "e\xC2\xA0"
                     "f";
    assert_chat(in, strlen(in),
                "abcde\xC2\xA0"
                "f");
}

static void test_validate_chat_of_only_control_characters_is_empty(void **state)
{
    const char in[] = "\x01\x02\n\r\t\x7F\xC2\x85\xC2\x9F";
    assert_int_equal(chat(in, sizeof in - 1), 0);
    assert_int_equal(chat("", 0), 0);
}

static void test_validate_chat_of_only_spaces_is_empty(void **state)
{
    assert_int_equal(chat("     ", 5), 0);
    assert_int_equal(chat(" \t \n ", 5), 0);
}

static void test_validate_chat_trims_leading_and_trailing_spaces(void **state)
{
    assert_chat("   hi there  ", 13, "hi there");
    assert_chat(" \x01 hi \x02 ", 8, "hi");
}

static void test_validate_chat_turns_brackets_into_full_width(void **state)
{
    assert_chat("[b]bold[/b]", 11,
                "\xEF\xBC\xBB"
                "b\xEF\xBC\xBD"
                "bold\xEF\xBC\xBB/b\xEF\xBC\xBD");
    assert_chat("[url=http://x]", 14, "\xEF\xBC\xBBurl=http://x\xEF\xBC\xBD");
}

static void test_validate_chat_cuts_ascii_at_256_characters(void **state)
{
    char in[300];
    memset(in, 'a', sizeof in);
    assert_int_equal(chat(in, 300), 256);
    assert_int_equal(chat(in, 256), 256);
    assert_int_equal(chat(in, 255), 255);
}

static void test_validate_chat_cut_counts_code_points_not_bytes(void **state)
{
    char in[300 * 4];
    for (int i = 0; i < 300; i++)
        memcpy(in + 2 * i, "\xC3\xA9", 2);
    assert_int_equal(chat(in, 600), 512); /* 256 é */
    for (int i = 0; i < 300; i++)
        memcpy(in + 3 * i, "\xE2\x82\xAC", 3);
    assert_int_equal(chat(in, 900), 768); /* 256 € */
    for (int i = 0; i < 300; i++)
        memcpy(in + 4 * i, "\xF0\x9F\x98\x80", 4);
    assert_int_equal(chat(in, 1200), 1024); /* 256 emoji: exactly VALIDATE_CHAT_BYTES */
    assert_memory_equal(chat_out, in, 1024);
}

static void test_validate_chat_cut_never_splits_a_character(void **state)
{
    /* 255 ASCII then multibyte characters: the 256th character is whole, the 257th absent. */
    char in[400];
    memset(in, 'a', 255);
    for (int i = 0; i < 10; i++)
        memcpy(in + 255 + 4 * i, "\xF0\x9F\x98\x80", 4);
    size_t n = chat(in, 255 + 40);
    assert_int_equal(n, 259);
    assert_memory_equal(chat_out + 255, "\xF0\x9F\x98\x80", 4);
}

static void test_validate_chat_brackets_count_as_one_character_each(void **state)
{
    char in[300];
    memset(in, '[', sizeof in);
    size_t n = chat(in, sizeof in);
    assert_int_equal(n, 256 * 3);
    for (size_t i = 0; i < n; i += 3)
        assert_memory_equal(chat_out + i, "\xEF\xBC\xBB", 3);
}

static void test_validate_chat_removed_controls_do_not_count_toward_the_cut(void **state)
{
    /* Control characters are removed first; the cut is of what remains. */
    char in[600];
    for (int i = 0; i < 300; i++) {
        in[2 * i] = '\x01';
        in[2 * i + 1] = 'b';
    }
    assert_int_equal(chat(in, 600), 256);
    for (int i = 0; i < 256; i++)
        assert_int_equal(chat_out[i], 'b');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_deny_texts_are_the_protocol_texts),
        cmocka_unit_test(test_validate_accepts_usernames_of_1_to_20_allowed_characters),
        cmocka_unit_test(test_validate_denies_username_of_21_characters),
        cmocka_unit_test(test_validate_denies_username_with_characters_outside_the_charset),
        cmocka_unit_test(test_validate_denies_username_with_embedded_nul),
        cmocka_unit_test(test_validate_denies_empty_username_or_password),
        cmocka_unit_test(test_validate_password_may_be_128_bytes_but_not_129),
        cmocka_unit_test(test_validate_password_length_is_counted_in_bytes),
        cmocka_unit_test(test_validate_password_may_hold_any_characters),
        cmocka_unit_test(test_validate_accepts_avatars_0_to_5),
        cmocka_unit_test(test_validate_accepts_avatar_2_point_0),
        cmocka_unit_test(test_validate_denies_fractional_negative_large_and_non_numbers),
        cmocka_unit_test(test_validate_chat_keeps_ordinary_text),
        cmocka_unit_test(test_validate_chat_strips_control_characters),
        cmocka_unit_test(test_validate_chat_strips_c1_control_characters),
        cmocka_unit_test(test_validate_chat_of_only_control_characters_is_empty),
        cmocka_unit_test(test_validate_chat_of_only_spaces_is_empty),
        cmocka_unit_test(test_validate_chat_trims_leading_and_trailing_spaces),
        cmocka_unit_test(test_validate_chat_turns_brackets_into_full_width),
        cmocka_unit_test(test_validate_chat_cuts_ascii_at_256_characters),
        cmocka_unit_test(test_validate_chat_cut_counts_code_points_not_bytes),
        cmocka_unit_test(test_validate_chat_cut_never_splits_a_character),
        cmocka_unit_test(test_validate_chat_brackets_count_as_one_character_each),
        cmocka_unit_test(test_validate_chat_removed_controls_do_not_count_toward_the_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
