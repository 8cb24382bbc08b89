/* Unit tests for game/throttle: failed-login counting per key, lockout and its expiry, the
 * window, case-insensitive keys, and a bounded table that no key can use to disturb another's
 * state: keys built to collide with a victim's, a flood of keys, a table full of live state. */
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

/* A fixed hash key, so that tests can build keys that collide (the server's key is random). */
static const uint8_t FIXED_KEY[THROTTLE_HASH_KEY_BYTES] = "fixed-test-key!";

static throttle *make(size_t capacity)
{
    current =
        throttle_create_keyed("test", capacity, MAX_FAILURES, WINDOW_MS, LOCKOUT_MS, FIXED_KEY);
    assert_non_null(current);
    return current;
}

/* Fills names[0..n) with distinct keys "<prefix><i>" whose home slot is the victim's: what an
 * attacker who knew the hash key would send. */
static void colliding_names(const throttle *t, const char *victim, const char *prefix,
                            char names[][32], int n)
{
    size_t home = throttle_home_slot(t, victim);
    int found = 0;
    for (long i = 0; found < n; i++) {
        assert_true(i < 100000000L);
        snprintf(names[found], 32, "%s%ld", prefix, i);
        if (throttle_home_slot(t, names[found]) == home) found++;
    }
}

static void lock(throttle *t, const char *key, uint64_t now)
{
    for (int i = 0; i < MAX_FAILURES; i++)
        assert_int_equal(throttle_fail(t, key, now), THROTTLE_OK);
    assert_int_equal(throttle_wait_ms(t, key, now), LOCKOUT_MS);
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

/* Issue 11, defect 4: failures on names computed offline to share a locked account's slot
 * evicted it, and the account could be guessed again at once. */
static void test_throttle_keys_colliding_with_a_locked_key_do_not_unlock_it(void **state)
{
    throttle *t = make(1024);
    lock(t, "victim", T0);
    enum { COLLIDERS = 4 * THROTTLE_PROBES };
    static char names[COLLIDERS][32];
    colliding_names(t, "victim", "c", names, COLLIDERS);
    for (int i = 0; i < COLLIDERS; i++) {
        uint64_t now = T0 + 1000 + (uint64_t)i;
        throttle_fail(t, names[i], now); /* refused once the neighbourhood is full: fine */
        if (i % 2) throttle_fail(t, names[i], now);
        assert_int_equal(throttle_wait_ms(t, "victim", now), LOCKOUT_MS - (now - T0));
    }
    assert_int_equal(throttle_wait_ms(t, "victim", T0 + LOCKOUT_MS - 1), 1);
    assert_int_equal(throttle_wait_ms(t, "victim", T0 + LOCKOUT_MS), 0);
}

/* The same attack on a key that has failures but no lockout yet: its count must not restart. */
static void test_throttle_keys_colliding_with_a_key_do_not_reset_its_count(void **state)
{
    throttle *t = make(1024);
    for (int i = 0; i < MAX_FAILURES - 1; i++)
        throttle_fail(t, "victim", T0);
    enum { COLLIDERS = 4 * THROTTLE_PROBES };
    static char names[COLLIDERS][32];
    colliding_names(t, "victim", "d", names, COLLIDERS);
    for (int i = 0; i < COLLIDERS; i++)
        throttle_fail(t, names[i], T0 + 1000 + (uint64_t)i);
    assert_int_equal(throttle_fail(t, "victim", T0 + 2000), THROTTLE_OK);
    assert_int_equal(throttle_wait_ms(t, "victim", T0 + 2000), LOCKOUT_MS);
}

static void test_throttle_a_locked_key_stays_locked_whatever_else_is_inserted(void **state)
{
    throttle *t = make(64);
    lock(t, "victim", T0);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        uint64_t now = T0 + (uint64_t)i / 2; /* 100,000 keys within the lockout */
        snprintf(key, sizeof key, "user%d", i);
        throttle_fail(t, key, now);
        assert_int_equal(throttle_wait_ms(t, "victim", now), LOCKOUT_MS - (now - T0));
    }
    assert_true(throttle_refusals(t) > 0);
    assert_int_equal(throttle_wait_ms(t, "victim", T0 + LOCKOUT_MS), 0);
    /* Expired state makes room again: a fresh key locks and unlocks. */
    uint64_t later = T0 + 10 * LOCKOUT_MS;
    lock(t, "alice", later);
    throttle_clear(t, "alice");
    assert_int_equal(throttle_wait_ms(t, "alice", later), 0);
}

/* A table full of live state refuses keys it cannot track (fail closed) instead of forgetting
 * another key, counts the refusals, and takes new keys again once state expires. */
static void test_throttle_full_table_refuses_untracked_keys_until_a_slot_expires(void **state)
{
    enum { SLOTS = 2 * THROTTLE_PROBES }; /* the smallest table */
    throttle *t = make(SLOTS);
    lock(t, "victim", T0);
    char key[32], refused[32] = "";
    for (int i = 0; i < SLOTS && !refused[0]; i++) {
        snprintf(key, sizeof key, "user%d", i);
        if (throttle_fail(t, key, T0 + 1000) == THROTTLE_FULL) strcpy(refused, key);
    }
    assert_true(refused[0]); /* SLOTS + 1 keys cannot all fit */
    assert_int_equal(throttle_refusals(t), 1);
    uint64_t wait = throttle_wait_ms(t, refused, T0 + 1000);
    assert_true(wait > 0 && wait <= WINDOW_MS + 1);
    assert_int_equal(throttle_refusals(t), 2);
    /* What is tracked keeps working: the victim stays locked, user0 can still be locked. */
    assert_int_equal(throttle_wait_ms(t, "victim", T0 + 1000), LOCKOUT_MS - 1000);
    for (int i = 1; i < MAX_FAILURES; i++)
        assert_int_equal(throttle_fail(t, "user0", T0 + 2000), THROTTLE_OK);
    assert_int_equal(throttle_wait_ms(t, "user0", T0 + 2000), LOCKOUT_MS);
    /* Once the window has passed, the other users' single failures have expired; user0's
     * lockout (until T0 + 62 s) still runs. */
    uint64_t later = T0 + 1000 + WINDOW_MS + 1;
    assert_int_equal(throttle_wait_ms(t, refused, later), 0);
    assert_int_equal(throttle_fail(t, refused, later), THROTTLE_OK);
    assert_int_equal(throttle_wait_ms(t, "user0", later), T0 + 2000 + LOCKOUT_MS - later);
}

static void test_throttle_hash_key_is_random_per_table(void **state)
{
    /* Two tables place the same keys differently: with 4096 slots, 16 keys landing on the same
     * home slots in both by chance has odds of 1 in 2^192. */
    throttle *a = throttle_create("a", 4096, MAX_FAILURES, WINDOW_MS, LOCKOUT_MS);
    throttle *b = throttle_create("b", 4096, MAX_FAILURES, WINDOW_MS, LOCKOUT_MS);
    assert_non_null(a);
    assert_non_null(b);
    int same = 0;
    char key[32];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "user%d", i);
        same += throttle_home_slot(a, key) == throttle_home_slot(b, key);
    }
    throttle_destroy(a);
    throttle_destroy(b);
    assert_true(same < 16);
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
        cmocka_unit_test_teardown(test_throttle_keys_colliding_with_a_locked_key_do_not_unlock_it,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_keys_colliding_with_a_key_do_not_reset_its_count,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_a_locked_key_stays_locked_whatever_else_is_inserted,
                                  destroy_current),
        cmocka_unit_test_teardown(
            test_throttle_full_table_refuses_untracked_keys_until_a_slot_expires, destroy_current),
        cmocka_unit_test(test_throttle_hash_key_is_random_per_table),
        cmocka_unit_test_teardown(test_throttle_locked_key_survives_when_the_table_has_room,
                                  destroy_current),
        cmocka_unit_test_teardown(test_throttle_long_keys_are_handled, destroy_current),
        cmocka_unit_test(test_throttle_destroy_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
