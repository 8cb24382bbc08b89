/* Unit tests for core/error: one table of codes, disjoint from system errors, each named. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "core/error.h"

#define ALL_CODES_(name, text) CMMO_E##name,
static const int all_codes[] = {CMMO_ERRORS(ALL_CODES_)};
#undef ALL_CODES_

static void test_error_codes_are_negative_distinct_and_in_their_range(void **state)
{
    (void)state;
    size_t n = sizeof all_codes / sizeof all_codes[0];
    assert_int_equal(n, CMMO_ERROR_COUNT);
    for (size_t i = 0; i < n; i++) {
        assert_true(all_codes[i] < 0);
        assert_true(cmmo_error_is_own(all_codes[i]));
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(all_codes[i], all_codes[j]);
    }
    assert_int_equal(CMMO_ENOTFOUND, CMMO_ERROR_FIRST);
    assert_int_equal(all_codes[n - 1], CMMO_ERROR_LAST);
}

static void test_error_codes_never_collide_with_system_errors(void **state)
{
    (void)state;
    /* Every code libuv can report, errno values included, lies outside cmmo's range. */
#define CHECK_UV_(name, text) assert_false(cmmo_error_is_own(UV_##name));
    UV_ERRNO_MAP(CHECK_UV_)
#undef CHECK_UV_
    assert_false(cmmo_error_is_own(0));
    assert_false(cmmo_error_is_own(-ENOMEM));
    assert_false(cmmo_error_is_own(CMMO_ERROR_LAST - 1));
    assert_false(cmmo_error_is_own(CMMO_ERROR_FIRST + 1));
}

static void test_strerror_names_every_own_code_with_its_own_text(void **state)
{
    (void)state;
    size_t n = sizeof all_codes / sizeof all_codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *t = cmmo_strerror(all_codes[i]);
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_string_not_equal(t, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, cmmo_strerror(all_codes[j]));
    }
    assert_string_equal(cmmo_strerror(CMMO_ESTORE), "the database failed");
    assert_string_equal(cmmo_err_name(CMMO_ENOTFOUND), "ENOTFOUND");
    assert_string_equal(cmmo_err_name(CMMO_ETHROTTLED), "ETHROTTLED");
}

static void test_strerror_passes_system_errors_to_libuv(void **state)
{
    (void)state;
    assert_string_equal(cmmo_strerror(UV_EADDRINUSE), uv_strerror(UV_EADDRINUSE));
    assert_string_equal(cmmo_err_name(-ENOMEM), "ENOMEM");
    assert_string_equal(cmmo_err_name(UV_EOF), "EOF");
    assert_string_equal(cmmo_strerror(0), "ok");
    assert_string_equal(cmmo_err_name(0), "OK");
}

static void test_strerror_of_an_unknown_code_is_a_constant_text(void **state)
{
    (void)state;
    /* Not a code of either table: a constant text (libuv would allocate and leak one). */
    assert_string_equal(cmmo_strerror(-1999), "unknown error");
    assert_string_equal(cmmo_strerror(12345), "unknown error");
    assert_string_equal(cmmo_strerror(CMMO_ERROR_LAST - 1), "unknown error");
    assert_string_equal(cmmo_err_name(-99999), "EUNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_codes_are_negative_distinct_and_in_their_range),
        cmocka_unit_test(test_error_codes_never_collide_with_system_errors),
        cmocka_unit_test(test_strerror_names_every_own_code_with_its_own_text),
        cmocka_unit_test(test_strerror_passes_system_errors_to_libuv),
        cmocka_unit_test(test_strerror_of_an_unknown_code_is_a_constant_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
