/* Unit tests for server/tickstats: quantiles of known tick-duration distributions at the
 * histogram's 10 us resolution, the exact maximum, ticks over 1 s, and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/tickstats.h"

#include <math.h>
#include <stdlib.h>

#define MS 1000000ull /* ns */
#define US 1000ull

static tickstats *ts; /* 400 KB: on the heap */

static int setup(void **state)
{
    ts = malloc(sizeof *ts);
    if (!ts) return -1;
    tickstats_reset(ts);
    return 0;
}

static int teardown(void **state)
{
    free(ts);
    ts = NULL;
    return 0;
}

/* One bucket of slack either way: the histogram cannot say more. */
#define RESOLUTION_MS ((double)TICKSTATS_BUCKET_NS / 1e6)

static void assert_near_ms(double got, double want)
{
    if (fabs(got - want) > RESOLUTION_MS + 1e-9)
        fail_msg("got %.5f ms, expected %.5f ms", got, want);
}

static void test_tickstats_empty_quantiles_are_zero(void **state)
{
    assert_true(tickstats_quantile_ms(ts, 0.5) == 0.0);
    assert_true(tickstats_quantile_ms(ts, 0.99) == 0.0);
    assert_int_equal(ts->count, 0);
    assert_int_equal(ts->max_ns, 0);
}

static void test_tickstats_quantiles_of_a_uniform_distribution(void **state)
{
    /* 10000 ticks spread evenly over 0..100 ms (one per 10 us bucket, in its middle). */
    for (uint64_t i = 0; i < 10000; i++)
        tickstats_add(ts, i * 10 * US + 5 * US);
    assert_int_equal(ts->count, 10000);
    assert_near_ms(tickstats_quantile_ms(ts, 0.5), 50.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.9), 90.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.99), 99.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.0), 0.0);
}

static void test_tickstats_quantiles_grow_with_q(void **state)
{
    uint64_t x = 12345;
    for (int i = 0; i < 5000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        tickstats_add(ts, (x >> 33) % (80 * MS));
    }
    double prev = -1;
    for (double q = 0.0; q <= 1.0; q += 0.01) {
        double v = tickstats_quantile_ms(ts, q);
        if (v < prev) fail_msg("quantile %.2f = %.3f ms is below the previous %.3f ms", q, v, prev);
        prev = v;
    }
}

static void test_tickstats_constant_ticks_give_that_duration(void **state)
{
    for (int i = 0; i < 1000; i++)
        tickstats_add(ts, 5 * MS);
    assert_near_ms(tickstats_quantile_ms(ts, 0.5), 5.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.99), 5.0);
    assert_int_equal(ts->max_ns, 5 * MS);
}

static void test_tickstats_p99_ignores_exactly_one_percent_of_slow_ticks(void **state)
{
    /* 990 ticks of 1 ms and 10 of 40 ms: 99% of the ticks take 1 ms, so p99 is 1 ms. */
    for (int i = 0; i < 990; i++)
        tickstats_add(ts, 1 * MS);
    for (int i = 0; i < 10; i++)
        tickstats_add(ts, 40 * MS);
    assert_near_ms(tickstats_quantile_ms(ts, 0.5), 1.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.99), 1.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.995), 40.0);
}

static void test_tickstats_p99_sees_more_than_one_percent_of_slow_ticks(void **state)
{
    for (int i = 0; i < 989; i++)
        tickstats_add(ts, 1 * MS);
    for (int i = 0; i < 11; i++)
        tickstats_add(ts, 40 * MS);
    assert_near_ms(tickstats_quantile_ms(ts, 0.99), 40.0);
    assert_near_ms(tickstats_quantile_ms(ts, 0.5), 1.0);
}

static void test_tickstats_keeps_the_exact_maximum(void **state)
{
    tickstats_add(ts, 1 * MS);
    tickstats_add(ts, 123456789);
    tickstats_add(ts, 2 * MS);
    assert_int_equal(ts->max_ns, 123456789);
    assert_int_equal(ts->count, 3);
}

static void test_tickstats_quantile_never_exceeds_the_maximum(void **state)
{
    for (int i = 0; i < 100; i++)
        tickstats_add(ts, 5 * MS + 3 * US);
    double max_ms = (double)ts->max_ns / 1e6;
    for (double q = 0.0; q <= 1.0; q += 0.05) {
        double v = tickstats_quantile_ms(ts, q);
        if (v > max_ms + 1e-9)
            fail_msg("quantile %.2f = %.5f ms above the max %.5f ms", q, v, max_ms);
    }
}

static void test_tickstats_ticks_over_a_second_report_their_length(void **state)
{
    /* Longer ticks share the last bucket, but a world that stalls for 5 s must not be reported
     * as a 1 s p50. */
    for (int i = 0; i < 10; i++)
        tickstats_add(ts, 5000 * MS);
    assert_int_equal(ts->max_ns, 5000 * MS);
    double p50 = tickstats_quantile_ms(ts, 0.5);
    if (fabs(p50 - 5000.0) > 1e-6) fail_msg("p50 of 5 s ticks is %.3f ms", p50);
}

static void test_tickstats_reset_forgets_everything(void **state)
{
    for (int i = 0; i < 100; i++)
        tickstats_add(ts, 30 * MS);
    tickstats_reset(ts);
    assert_int_equal(ts->count, 0);
    assert_int_equal(ts->max_ns, 0);
    assert_true(tickstats_quantile_ms(ts, 0.5) == 0.0);
    tickstats_add(ts, 2 * MS);
    assert_near_ms(tickstats_quantile_ms(ts, 0.5), 2.0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_tickstats_empty_quantiles_are_zero),
        T(test_tickstats_quantiles_of_a_uniform_distribution),
        T(test_tickstats_quantiles_grow_with_q),
        T(test_tickstats_constant_ticks_give_that_duration),
        T(test_tickstats_p99_ignores_exactly_one_percent_of_slow_ticks),
        T(test_tickstats_p99_sees_more_than_one_percent_of_slow_ticks),
        T(test_tickstats_keeps_the_exact_maximum),
        T(test_tickstats_quantile_never_exceeds_the_maximum),
        T(test_tickstats_ticks_over_a_second_report_their_length),
        T(test_tickstats_reset_forgets_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
