/* Unit tests for game/priority: which moves a cmmo.v2 viewer's budget lets through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "game/priority.h"

#include <string.h>

static priority_candidate cand(uint32_t slot, float distance, uint32_t waited, int turned)
{
    return (priority_candidate){.slot = slot,
                                .waited = waited,
                                .distance2 = distance * distance,
                                .turned = (uint8_t)turned};
}

/* Whether slot is among the first k. */
static int chosen(const priority_candidate *c, size_t k, uint32_t slot)
{
    for (size_t i = 0; i < k; i++)
        if (c[i].slot == slot) return 1;
    return 0;
}

static void test_all_go_when_they_fit(void **state)
{
    priority_candidate c[3] = {cand(1, 900, 1, 0), cand(2, 10, 1, 0), cand(3, 500, 1, 0)};
    assert_int_equal(priority_select(c, 3, 2, 3, 5), 3);
    assert_int_equal(priority_select(c, 3, 2, 100, 5), 3);
}

static void test_the_nearest_go_even_past_the_room(void **state)
{
    priority_candidate c[30];
    for (uint32_t i = 0; i < 30; i++)
        c[i] = cand(i, (float)(1000 - i * 10), 1, 0); /* slot 29 is the nearest */
    size_t k = priority_select(c, 30, 20, 5, 5);
    assert_int_equal(k, 20);
    for (uint32_t i = 10; i < 30; i++)
        assert_true(chosen(c, k, i));
}

static void test_a_stale_far_actor_goes_before_fresher_near_ones(void **state)
{
    priority_candidate c[5] = {cand(1, 0, 1, 0), cand(2, 50, 1, 0), cand(3, 60, 2, 1),
                               cand(4, 3000, 5, 0), cand(5, 70, 1, 0)};
    /* nearest 1, room 2: slot 1, then the stale slot 4 (5 ticks) beats nearer, fresher ones. */
    size_t k = priority_select(c, 5, 1, 2, 5);
    assert_int_equal(k, 2);
    assert_true(chosen(c, k, 1));
    assert_true(chosen(c, k, 4));
}

static void test_among_stale_ones_the_longest_wait_goes_first(void **state)
{
    priority_candidate c[3] = {cand(1, 10, 6, 0), cand(2, 900, 9, 0), cand(3, 20, 7, 1)};
    size_t k = priority_select(c, 3, 0, 1, 5);
    assert_int_equal(k, 1);
    assert_int_equal(c[0].slot, 2);
}

static void test_priority_grows_with_the_wait_falls_with_distance_and_rises_on_a_turn(void **state)
{
    priority_candidate near1 = cand(1, 0, 1, 0), near2 = cand(1, 0, 2, 0);
    priority_candidate far2 = cand(1, 400, 2, 0), near1_turned = cand(1, 0, 1, 1);
    assert_true(priority_of(&near2) > priority_of(&near1));
    assert_true(priority_of(&near2) > priority_of(&far2));
    assert_true(priority_of(&near1_turned) > priority_of(&near1));
    /* The weight is half at PRIORITY_HALF_DISTANCE px. */
    priority_candidate half = cand(1, PRIORITY_HALF_DISTANCE, 2, 0);
    assert_float_equal(priority_of(&half), 1.0, 1e-5);
}

static void test_the_same_input_chooses_the_same_and_the_nearest_in_any_order(void **state)
{
    enum { N = 64 };
    priority_candidate a[N], b[N], r[N];
    for (uint32_t i = 0; i < N; i++) {
        /* Ties on purpose: equal distances and waits. */
        a[i] = cand(i, (float)((i * 37) % 11) * 40.0f, 1 + (i * 13) % 4, (int)(i % 5 == 0));
        b[i] = a[i];
        r[N - 1 - i] = a[i];
    }
    size_t ka = priority_select(a, N, 20, 30, 5), kb = priority_select(b, N, 20, 30, 5);
    assert_int_equal(ka, 30);
    assert_int_equal(kb, 30);
    assert_memory_equal(a, b, sizeof a);
    /* The nearest 20 (ties broken by slot) are the same set whatever the input's order. */
    size_t kr = priority_select(r, N, 20, 20, 5);
    ka = priority_select(a, N, 20, 20, 5);
    for (size_t i = 0; i < ka; i++)
        assert_true(chosen(r, kr, a[i].slot));
}

/* Over many ticks with a fixed room, everyone gets through within the stale bound once the room
 * beyond the nearest covers the rest at that rate: what the world's budget relies on. */
static void test_a_steady_crowd_is_served_within_the_stale_bound(void **state)
{
    enum { N = 100, NEAREST = 20, STALE = 5 };
    uint32_t last[N] = {0}, worst = 0;
    priority_candidate c[N];
    for (uint32_t tick = 1; tick <= 200; tick++) {
        for (uint32_t i = 0; i < N; i++)
            c[i] = cand(i, (float)i * 10.0f, tick - last[i], 0);
        size_t k = priority_select(c, N, NEAREST, NEAREST + (N - NEAREST) / STALE, STALE);
        for (size_t j = 0; j < k; j++) {
            uint32_t waited = tick - last[c[j].slot];
            if (tick > 10 && waited > worst) worst = waited;
            last[c[j].slot] = tick;
        }
        for (uint32_t i = 0; i < NEAREST; i++)
            assert_int_equal(last[i], tick); /* the nearest every tick */
    }
    assert_true(worst <= STALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_go_when_they_fit),
        cmocka_unit_test(test_the_nearest_go_even_past_the_room),
        cmocka_unit_test(test_a_stale_far_actor_goes_before_fresher_near_ones),
        cmocka_unit_test(test_among_stale_ones_the_longest_wait_goes_first),
        cmocka_unit_test(test_priority_grows_with_the_wait_falls_with_distance_and_rises_on_a_turn),
        cmocka_unit_test(test_the_same_input_chooses_the_same_and_the_nearest_in_any_order),
        cmocka_unit_test(test_a_steady_crowd_is_served_within_the_stale_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
