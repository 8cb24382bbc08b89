/* Unit tests for core/rcbuf: ownership by reference count, headroom for an in-place header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/rcbuf.h"

#include <string.h>

static void test_rcbuf_new_is_empty_with_one_reference_and_headroom(void **state)
{
    rcbuf *b = rcbuf_new(100);
    assert_non_null(b);
    assert_int_equal(b->refs, 1);
    assert_int_equal(b->flags, 0);
    assert_int_equal(b->len, 0);
    assert_int_equal(b->start, RCBUF_HEADROOM);
    assert_true(b->capacity >= 100);
    memset(rcbuf_data(b), 'x', 100); /* the whole capacity is writable (ASan checks) */
    rcbuf_unref(b);
}

static void test_rcbuf_from_copies_the_bytes(void **state)
{
    char src[] = "hello\0world";
    rcbuf *b = rcbuf_from(src, sizeof src - 1);
    assert_non_null(b);
    src[0] = 'J';
    assert_int_equal(b->len, 11);
    assert_memory_equal(rcbuf_data(b), "hello\0world", 11);
    rcbuf_unref(b);
    b = rcbuf_from("", 0);
    assert_non_null(b);
    assert_int_equal(b->len, 0);
    rcbuf_unref(b);
}

static void test_rcbuf_prepend_grows_the_data_backwards_in_place(void **state)
{
    rcbuf *b = rcbuf_from("payload", 7);
    uint8_t *payload = rcbuf_data(b);
    uint8_t *h = rcbuf_prepend(b, 2);
    assert_ptr_equal(h, payload - 2);
    assert_ptr_equal(rcbuf_data(b), h);
    assert_int_equal(b->len, 9);
    h[0] = 0x81;
    h[1] = 7;
    assert_memory_equal(rcbuf_data(b), "\x81\x07payload", 9);
    /* The rest of the headroom is still there: the largest header fits. */
    uint8_t *h2 = rcbuf_prepend(b, RCBUF_HEADROOM - 2);
    assert_int_equal(b->start, 0);
    assert_int_equal(b->len, 9 + RCBUF_HEADROOM - 2);
    memset(h2, 0, RCBUF_HEADROOM - 2);
    rcbuf_unref(b);
}

static void test_rcbuf_lives_until_the_last_reference_goes(void **state)
{
    rcbuf *b = rcbuf_from("shared", 6);
    assert_ptr_equal(rcbuf_ref(b), b);
    assert_ptr_equal(rcbuf_ref(b), b);
    assert_int_equal(b->refs, 3);
    rcbuf_unref(b);
    rcbuf_unref(b);
    assert_int_equal(b->refs, 1);
    assert_memory_equal(rcbuf_data(b), "shared", 6); /* still readable (ASan checks) */
    rcbuf_unref(b); /* freed here; LeakSanitizer checks nothing is left */
}

static void test_rcbuf_unref_of_null_is_ignored(void **state)
{
    rcbuf_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rcbuf_new_is_empty_with_one_reference_and_headroom),
        cmocka_unit_test(test_rcbuf_from_copies_the_bytes),
        cmocka_unit_test(test_rcbuf_prepend_grows_the_data_backwards_in_place),
        cmocka_unit_test(test_rcbuf_lives_until_the_last_reference_goes),
        cmocka_unit_test(test_rcbuf_unref_of_null_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
