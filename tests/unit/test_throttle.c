/* Unit tests for game/throttle: failed-login counting per key, lockout and its expiry, the
 * window, case-insensitive keys, and a bounded table under a flood of keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "game/throttle.h"

#include <stdio.h>
#include <string.h>

/* The protocol's per-account setting: 5 failures in 60 s, then 60 s from the last failure. */
#define MAX_FAILURES 5
#define WINDOW_MS 60000
#define LOCKOUT_MS 60000
#define T0 1000000 /* an arbitrary clock origin, far from zero */

/* The table under test; destroyed by the teardown so a failing test does not leak it. */
static throttle *current;

static throttle *make(size_t capacity)
{
    current = throttle_create(capacity, MAX_FAILURES, WINDOW_MS, LOCKOUT_MS);
    assert_non_null(current);
    return current;
}

static int destroy_current(void **state)
{
    throttle_destroy(current);
    current = NULL;
    return 0;
}

static void test_throttle_unknown_key_need_not_wait(void **state)
{
    throttle *t = make(64);
    assert_int_equal(throttle_wait_ms(t, "alice", T0), 0);
}

static void test_throttle_four_failures_do_not_lock(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES - 1; i++) {
        throttle_fail(t, "alice", T0 + (uint64_t)i * 1000);
        assert_int_equal(throttle_wait_ms(t, "alice", T0 + (uint64_t)i * 1000), 0);
    }
}

static void test_throttle_five_failures_lock_for_the_lockout(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", T0 + (uint64_t)i * 1000);
    uint64_t last = T0 + 4000;
    assert_int_equal(throttle_wait_ms(t, "alice", last), LOCKOUT_MS);
}

static void test_throttle_wait_decreases_with_time(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", T0);
    assert_int_equal(throttle_wait_ms(t, "alice", T0), 60000);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 1), 59999);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 30000), 30000);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 59999), 1);
}

static void test_throttle_lockout_expires(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", T0);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + LOCKOUT_MS), 0);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + LOCKOUT_MS + 1), 0);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 10 * LOCKOUT_MS), 0);
    /* After the lockout the key starts afresh: one failure does not lock it again. */
    throttle_fail(t, "alice", T0 + LOCKOUT_MS + 5);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + LOCKOUT_MS + 5), 0);
}

static void test_throttle_lockout_counts_from_the_last_failure(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", T0 + (uint64_t)i * 10000); /* last at T0 + 40 s */
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 40000), LOCKOUT_MS);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 99999), 1);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 100000), 0);
}

static void test_throttle_clear_resets_the_key(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", T0);
    assert_true(throttle_wait_ms(t, "alice", T0) > 0);
    throttle_clear(t, "alice");
    assert_int_equal(throttle_wait_ms(t, "alice", T0), 0);
    /* The count restarts from zero. */
    for (int i = 0; i < MAX_FAILURES - 1; i++)
        throttle_fail(t, "alice", T0 + 1);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 1), 0);
    throttle_clear(t, "nobody"); /* harmless */
}

static void test_throttle_keys_are_case_insensitive(void **state)
{
    throttle *t = make(64);
    throttle_fail(t, "Alice", T0);
    throttle_fail(t, "ALICE", T0);
    throttle_fail(t, "alice", T0);
    throttle_fail(t, "aLiCe", T0);
    throttle_fail(t, "alicE", T0);
    assert_int_equal(throttle_wait_ms(t, "alice", T0), LOCKOUT_MS);
    assert_int_equal(throttle_wait_ms(t, "ALICE", T0), LOCKOUT_MS);
    throttle_clear(t, "ALICE");
    assert_int_equal(throttle_wait_ms(t, "Alice", T0), 0);
}

static void test_throttle_keys_are_independent(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", T0);
    assert_int_equal(throttle_wait_ms(t, "bob", T0), 0);
    assert_int_equal(throttle_wait_ms(t, "alice2", T0), 0);
    assert_int_equal(throttle_wait_ms(t, "127.0.0.1", T0), 0);
}

static void test_throttle_failures_older_than_the_window_age_out(void **state)
{
    throttle *t = make(64);
    for (int i = 0; i < MAX_FAILURES - 1; i++)
        throttle_fail(t, "alice", T0 + (uint64_t)i);
    /* A fifth failure long after the first four does not lock. */
    throttle_fail(t, "alice", T0 + WINDOW_MS + 1000);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + WINDOW_MS + 1000), 0);
}

static void test_throttle_five_failures_spread_within_the_window_lock(void **state)
{
    throttle *t = make(64);
    const uint64_t at[] = {0, 15000, 30000, 45000, 59000};
    for (int i = 0; i < 5; i++)
        throttle_fail(t, "alice", T0 + at[i]);
    assert_int_equal(throttle_wait_ms(t, "alice", T0 + 59000), LOCKOUT_MS);
}

static void test_throttle_window_slides_across_earlier_failures(void **state)
{
    /* Five failures within two seconds lock, even when an older failure opened a window that
     * has just run out: 1 at 0 s, 3 at 59 s, 2 at 61 s. The 59-61 s burst is 5 failures within
     * 60 s. */
    throttle *t = make(64);
    throttle_fail(t, "alice", T0);
    for (int i = 0; i < 3; i++)
        throttle_fail(t, "alice", T0 + 59000);
    throttle_fail(t, "alice", T0 + 61000);
    throttle_fail(t, "alice", T0 + 61000);
    assert_true(throttle_wait_ms(t, "alice", T0 + 61000) > 0);
}

static void test_throttle_full_table_evicts_without_crashing(void **state)
{
    throttle *t = make(16);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "user%d", i);
        throttle_fail(t, key, T0 + (uint64_t)i);
        assert_true(throttle_wait_ms(t, key, T0 + (uint64_t)i) == 0);
    }
    /* The table still works afterwards: a fresh key locks and unlocks. */
    uint64_t now = T0 + 200000;
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "alice", now);
    assert_int_equal(throttle_wait_ms(t, "alice", now), LOCKOUT_MS);
    throttle_clear(t, "alice");
    assert_int_equal(throttle_wait_ms(t, "alice", now), 0);
}

static void test_throttle_locked_key_survives_when_the_table_has_room(void **state)
{
    /* Eviction is for a full table: 200 other keys in a table of 1024 must not make a locked
     * account forget its lockout. */
    throttle *t = make(1024);
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, "victim", T0);
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "spray%d", i);
        throttle_fail(t, key, T0 + 1000 + (uint64_t)i);
    }
    assert_int_equal(throttle_wait_ms(t, "victim", T0 + 2000), LOCKOUT_MS - 2000);
}

static void test_throttle_long_keys_are_handled(void **state)
{
    throttle *t = make(16);
    char key[THROTTLE_KEY_MAX * 4];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    for (int i = 0; i < MAX_FAILURES; i++)
        throttle_fail(t, key, T0);
    assert_int_equal(throttle_wait_ms(t, key, T0), LOCKOUT_MS);
}

static void test_throttle_destroy_accepts_null(void **state)
{
    throttle_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_throttle_unknown_key_need_not_wait, destroy_current),
        cmocka_unit_test_teardown(test_throttle_four_failures_do_not_lock, destroy_current),
        cmocka_unit_test_teardown(test_throttle_five_failures_lock_for_the_lockout,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_wait_decreases_with_time, destroy_current),
        cmocka_unit_test_teardown(test_throttle_lockout_expires, destroy_current),
        cmocka_unit_test_teardown(test_throttle_lockout_counts_from_the_last_failure,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_clear_resets_the_key, destroy_current),
        cmocka_unit_test_teardown(test_throttle_keys_are_case_insensitive, destroy_current),
        cmocka_unit_test_teardown(test_throttle_keys_are_independent, destroy_current),
        cmocka_unit_test_teardown(test_throttle_failures_older_than_the_window_age_out,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_five_failures_spread_within_the_window_lock,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_window_slides_across_earlier_failures,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_full_table_evicts_without_crashing,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_locked_key_survives_when_the_table_has_room,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_long_keys_are_handled, destroy_current),
        cmocka_unit_test(test_throttle_destroy_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
