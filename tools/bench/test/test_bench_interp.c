/* Self-test of bench_interp: the browser client's interpolation rule as web/js/motion.js has it
 * (the cases of tests/web/motion.test.mjs, same numbers), the mover's true path, and the two
 * figures they make for a walker at 70 px/s: no error and a lag of speed x delay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench_interp.h"

#include <math.h>

#define TICK BENCH_INTERP_TICK_MS
#define STEP 3.5 /* px per tick at 70 px/s */

static double sample_x(const struct bench_interp *ip, double now)
{
    double x, y;
    bench_interp_sample(ip, now, &x, &y);
    return x;
}

static void test_interp_draws_two_ticks_in_the_past_between_positions(void **state)
{
    (void)state;
    struct bench_interp ip;
    bench_interp_init(&ip, 0, 0, 0);
    for (int i = 1; i <= 10; i++)
        bench_interp_push(&ip, STEP * i, 0, 1000 + i * TICK);
    assert_float_equal(bench_interp_delay_ms(&ip), 100, 1e-9);
    assert_float_equal(sample_x(&ip, 1000 + 5 * TICK + 100 + 25), STEP * 5.5, 1e-9);
}

static void test_interp_starts_a_walk_after_standing_still_not_from_the_old_time(void **state)
{
    (void)state;
    struct bench_interp ip;
    bench_interp_init(&ip, 0, 0, 0);
    bench_interp_push(&ip, STEP, 0, 10000); /* the first step after ten seconds of standing */
    assert_float_equal(sample_x(&ip, 10000), 0, 1e-9);
    assert_float_equal(sample_x(&ip, 10000 + 100), STEP, 1e-9);
    assert_float_equal(sample_x(&ip, 10000 + 100 - TICK / 2), STEP / 2, 1e-9);
    /* A pause does not count as a sparse schedule: the delay stays at its base. */
    assert_float_equal(bench_interp_delay_ms(&ip), 100, 1e-9);
}

static void test_interp_holds_the_newest_position_and_never_extrapolates(void **state)
{
    (void)state;
    struct bench_interp ip;
    bench_interp_init(&ip, 0, 0, 0);
    bench_interp_push(&ip, 3.5, 0, 50);
    bench_interp_push(&ip, 7, 0, 100);
    assert_float_equal(sample_x(&ip, 100000), 7, 1e-9);
    /* Before the oldest snapshot it stands at the oldest. */
    assert_float_equal(sample_x(&ip, 10), 0, 1e-9);
}

static void test_interp_moves_smoothly_under_jitter(void **state)
{
    (void)state;
    static const double jitter[] = {0, 30, -20, 10, 40, -10, 0, 25, -25, 5};
    struct bench_interp ip;
    bench_interp_init(&ip, 100, 100, 0);
    double now = 5000;
    for (int i = 1; i <= 40; i++)
        bench_interp_push(&ip, 100 + STEP * i, 100, now + i * TICK + jitter[i % 10]);
    double prev = sample_x(&ip, now);
    for (double t = now; t < now + 45 * TICK; t += 16) {
        double x = sample_x(&ip, t);
        assert_true(fabs(x - prev) < 6);
        prev = x;
    }
    assert_float_equal(prev, 100 + STEP * 40, 1e-9);
}

static void test_interp_delay_follows_a_sparse_schedule_at_once_and_a_dense_one_gently(void **state)
{
    (void)state;
    struct bench_interp ip;
    bench_interp_init(&ip, 0, 0, 0);
    /* Walking, its position sent every 250 ms (17.5 px apart): drawn 300 ms in the past. */
    double t = 0, x = 0;
    for (int i = 1; i <= 4; i++)
        bench_interp_push(&ip, x += 17.5, 0, t += 250);
    assert_float_equal(bench_interp_delay_ms(&ip), 300, 1e-9);
    /* Every tick again: the remembered gap decays by 0.9 per update. */
    bench_interp_push(&ip, x += STEP, 0, t += TICK);
    assert_float_equal(bench_interp_delay_ms(&ip), 250 * 0.9 + TICK, 1e-9);
    bench_interp_push(&ip, x += STEP, 0, t += TICK);
    assert_float_equal(bench_interp_delay_ms(&ip), 250 * 0.81 + TICK, 1e-9);
    for (int i = 0; i < 40; i++)
        bench_interp_push(&ip, x += STEP, 0, t += TICK);
    assert_float_equal(bench_interp_delay_ms(&ip), 100, 1e-9);
    /* A walker sent every 400 ms: the delay stops at 350 ms. */
    bench_interp_push(&ip, x += 28, 0, t += 400);
    assert_float_equal(bench_interp_delay_ms(&ip), BENCH_INTERP_MAX_DELAY_MS, 1e-9);
}

static void test_interp_keeps_24_snapshots_and_samples_across_the_ring(void **state)
{
    (void)state;
    struct bench_interp ip;
    bench_interp_init(&ip, 0, 0, 0);
    for (int i = 1; i <= 1000; i++)
        bench_interp_push(&ip, STEP * i, 0, i * TICK);
    assert_int_equal(ip.len, BENCH_INTERP_SNAPSHOTS);
    /* The oldest kept is push 977: the time drawn must lie after it. */
    assert_false(bench_interp_covers(&ip, 977 * TICK + 100));
    assert_true(bench_interp_covers(&ip, 977 * TICK + 101));
    assert_float_equal(sample_x(&ip, 990.5 * TICK + 100), STEP * 990.5, 1e-9);
    assert_float_equal(sample_x(&ip, 978.25 * TICK + 100), STEP * 978.25, 1e-9);
}

static void test_interp_time_never_goes_back(void **state)
{
    (void)state;
    struct bench_interp ip;
    bench_interp_init(&ip, 0, 0, 1000);
    bench_interp_push(&ip, STEP, 0, 900); /* counts as 1000 */
    bench_interp_push(&ip, 2 * STEP, 0, 1000 + TICK);
    assert_float_equal(sample_x(&ip, 1000 + TICK / 2 + 100), 1.5 * STEP, 1e-9);
}

static void test_path_walks_between_own_positions_and_holds_the_newest(void **state)
{
    (void)state;
    struct bench_path path = {0};
    double x = -1, y = -1;
    assert_int_equal(bench_path_at(&path, 0, &x, &y), -1);
    for (int i = 0; i <= 4; i++)
        bench_path_add(&path, 10 + STEP * i, 20, 1000 + i * TICK);
    assert_int_equal(bench_path_at(&path, 999, &x, &y), -1);
    assert_float_equal(x, -1, 0);
    assert_int_equal(bench_path_at(&path, 1000, &x, &y), 0);
    assert_float_equal(x, 10, 1e-9);
    assert_int_equal(bench_path_at(&path, 1000 + 2.5 * TICK, &x, &y), 0);
    assert_float_equal(x, 10 + STEP * 2.5, 1e-9);
    assert_float_equal(y, 20, 1e-9);
    assert_int_equal(bench_path_at(&path, 1e9, &x, &y), 0);
    assert_float_equal(x, 10 + STEP * 4, 1e-9);
}

static void test_path_stands_still_until_the_tick_before_the_next_position(void **state)
{
    (void)state;
    struct bench_path path = {0};
    double x, y;
    bench_path_add(&path, 0, 0, 1000);
    bench_path_add(&path, STEP, 0, 5000); /* stood four seconds, then one step */
    assert_int_equal(bench_path_at(&path, 4900, &x, &y), 0);
    assert_float_equal(x, 0, 1e-9);
    assert_int_equal(bench_path_at(&path, 5000 - TICK / 2, &x, &y), 0);
    assert_float_equal(x, STEP / 2, 1e-9);
    /* A tick's jitter (70 ms apart) is still walking. */
    bench_path_add(&path, 2 * STEP, 0, 5070);
    assert_int_equal(bench_path_at(&path, 5035, &x, &y), 0);
    assert_float_equal(x, 1.5 * STEP, 1e-9);
}

static void test_path_forgets_the_oldest_beyond_its_size(void **state)
{
    (void)state;
    struct bench_path path;
    bench_path_reset(&path);
    double x, y;
    for (int i = 0; i < 100; i++)
        bench_path_add(&path, STEP * i, 0, i * TICK);
    assert_int_equal(bench_path_at(&path, (100 - BENCH_PATH_POINTS) * TICK - 1, &x, &y), -1);
    assert_int_equal(bench_path_at(&path, 90.5 * TICK, &x, &y), 0);
    assert_float_equal(x, STEP * 90.5, 1e-9);
}

/* The two figures cmmo-bench reports, for a walker on a straight line: the drawing is where the
 * mover was `delay` ago (no error), and behind where it is by 70 px/s times the delay. */
static void walk_and_measure(int every_ticks, double *error, double *lag, double *delay)
{
    struct bench_interp ip;
    struct bench_path path = {0};
    bench_interp_init(&ip, 0, 0, 0);
    bench_path_add(&path, 0, 0, 0);
    *error = *lag = 0;
    for (int i = 1; i <= 100; i++) {
        double t = i * TICK, x = STEP * i;
        bench_path_add(&path, x, 0, t);
        if (i % every_ticks == 0) bench_interp_push(&ip, x, 0, t);
        if (i < 20) continue;
        double dx, dy, tx, ty;
        bench_interp_sample(&ip, t, &dx, &dy);
        assert_int_equal(bench_path_at(&path, t - bench_interp_delay_ms(&ip), &tx, &ty), 0);
        *error = fmax(*error, hypot(dx - tx, dy - ty));
        *lag = fmax(*lag, hypot(dx - x, dy));
    }
    *delay = bench_interp_delay_ms(&ip);
}

static void test_walker_updated_every_tick_is_drawn_without_error_a_delay_behind(void **state)
{
    (void)state;
    double error, lag, delay;
    walk_and_measure(1, &error, &lag, &delay);
    assert_float_equal(delay, 100, 1e-9);
    assert_float_equal(error, 0, 1e-9);
    assert_float_equal(lag, 70 * 0.1, 1e-9);
    /* Every fifth tick (a budget): still on the line, but 300 ms behind. */
    walk_and_measure(5, &error, &lag, &delay);
    assert_float_equal(delay, 300, 1e-9);
    assert_float_equal(error, 0, 1e-9);
    assert_float_equal(lag, 70 * 0.3, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interp_draws_two_ticks_in_the_past_between_positions),
        cmocka_unit_test(test_interp_starts_a_walk_after_standing_still_not_from_the_old_time),
        cmocka_unit_test(test_interp_holds_the_newest_position_and_never_extrapolates),
        cmocka_unit_test(test_interp_moves_smoothly_under_jitter),
        cmocka_unit_test(
            test_interp_delay_follows_a_sparse_schedule_at_once_and_a_dense_one_gently),
        cmocka_unit_test(test_interp_keeps_24_snapshots_and_samples_across_the_ring),
        cmocka_unit_test(test_interp_time_never_goes_back),
        cmocka_unit_test(test_path_walks_between_own_positions_and_holds_the_newest),
        cmocka_unit_test(test_path_stands_still_until_the_tick_before_the_next_position),
        cmocka_unit_test(test_path_forgets_the_oldest_beyond_its_size),
        cmocka_unit_test(test_walker_updated_every_tick_is_drawn_without_error_a_delay_behind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
