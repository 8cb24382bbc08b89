/* Unit tests for the game's clock (game_clock in game/game.h): the game takes every time it
 * compares from the clock it was handed, so here time moves only when the test moves it. The
 * store (SQLite in memory) and auth are real; their answers come on the test's loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/workpool_loop.h"
#include "game/game.h"
#include "game/session.h"
#include "store/store_loop.h"

#include <string.h>
#include <uv.h>

/* Far from any event loop's or system clock's reading: a game that looked at one of those
 * instead would see time jump or stand still. */
#define CLOCK_ORIGIN_US 7000000000000ull

static uint64_t now_us;
static int closes, sends;

static uint64_t fake_now_us(void *ctx)
{
    assert_ptr_equal(ctx, &now_us);
    return now_us;
}

static void link_push(void *ctx, void *link, rcbuf *const *msgs, size_t n)
{
    sends += (int)n; /* not kept: no reference taken */
}

static void link_close(void *ctx, void *link, game_close_reason why)
{
    closes++;
}

static void link_resume(void *ctx, void *link) {}

static rcbuf *link_pack(void *ctx, rcbuf *const *msgs, size_t n)
{
    return NULL; /* as on allocation failure: the messages are pushed themselves */
}

static uv_loop_t loop;
static store *st;
static auth *au;
static game *g;

static int setup(void **state)
{
    if (uv_loop_init(&loop) != 0) return -1;
    st = store_open(&loop, "sqlite::memory:");
    au = auth_create(workpool_create(&loop, 1, 1, "auth"));
    if (!st || !au) return -1;
    now_us = CLOCK_ORIGIN_US;
    closes = sends = 0;
    game_clock clock = {fake_now_us, &now_us};
    game_config config = {
        .world_width = 1344, .world_height = 832, .tick_hz = 20, .save_interval_ms = 1000};
    game_outbox outbox = {link_push, link_close, link_resume, link_pack, NULL};
    g = game_create(&clock, &config, &outbox, st, au);
    return g ? 0 : -1;
}

static int teardown(void **state)
{
    auth_destroy(au);
    store_close(st);
    game_destroy(g);
    for (int i = 0; i < 100 && uv_loop_close(&loop) == UV_EBUSY; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}

static uint64_t rate_limited(void)
{
    return game_get_counters(g)->rate_limited_messages;
}

static void send_messages(session *s, int n)
{
    for (int i = 0; i < n; i++)
        game_session_message(g, s, (const uint8_t *)"{}", 2);
}

/* A client's message budget (a burst of 200, then 40 a second) refills by the game's clock: while
 * the clock stands still nothing comes back, one second of it gives back 40 messages. */
static void test_message_budget_refills_as_the_game_clock_moves(void **state)
{
    session *s = game_session_open(g, &now_us, "192.0.2.1");
    assert_non_null(s);
    send_messages(s, 200);
    assert_int_equal(rate_limited(), 0);
    send_messages(s, 1);
    assert_int_equal(rate_limited(), 1);

    now_us += 1000000;
    send_messages(s, 39); /* 40 back, one of them owed for the message over budget */
    assert_int_equal(rate_limited(), 1);
    send_messages(s, 1);
    assert_int_equal(rate_limited(), 2);
    assert_int_equal(closes, 0);
    game_session_closed(g, s);
}

/* Standing still is what a frozen clock means: a flood the clock never pays back is closed. */
static void test_a_flood_is_closed_while_the_game_clock_stands_still(void **state)
{
    session *s = game_session_open(g, &now_us, "192.0.2.1");
    assert_non_null(s);
    send_messages(s, 200 + 200);
    assert_int_equal(closes, 0);
    send_messages(s, 1); /* the deficit passes the burst again */
    assert_int_equal(closes, 1);
    game_session_closed(g, s);
}

/* Runs the loop until every store and auth answer is in (argon2id takes tens of ms). */
static void run_until_idle(void)
{
    for (int i = 0; i < 10000 && !game_idle(g); i++)
        uv_run(&loop, UV_RUN_ONCE); /* a pending answer wakes the loop */
    assert_true(game_idle(g));
}

static void send_text(session *s, const char *text)
{
    game_session_message(g, s, (const uint8_t *)text, strlen(text));
}

/* Positions are written behind every save_interval_ms of the game's clock, counted from when the
 * game was made: ticks while the clock stands still write nothing, and the write comes on the
 * first tick at which the interval has passed, not a millisecond before. */
static void test_positions_are_written_behind_on_the_game_clock(void **state)
{
    session *s = game_session_open(g, &now_us, "192.0.2.1");
    assert_non_null(s);
    send_text(s, "{\"a\":\"Register\",\"p0\":\"clockwise\",\"p1\":\"Password1\",\"p2\":1}");
    game_tick(g);
    run_until_idle();
    send_text(s, "{\"a\":\"Login\",\"p0\":\"clockwise\",\"p1\":\"Password1\"}");
    game_tick(g);
    run_until_idle();
    assert_int_equal(game_player_count(g), 1);
    send_text(s, "{\"a\":\"Target\",\"p0\":300,\"p1\":200}");
    for (int i = 0; i < 20; i++)
        game_tick(g); /* the player walks; the clock stands still */
    assert_int_equal(game_get_counters(g)->save_batches, 0);

    now_us += 999 * 1000;
    game_tick(g);
    assert_int_equal(game_get_counters(g)->save_batches, 0);
    now_us += 1000;
    game_tick(g);
    assert_int_equal(game_get_counters(g)->save_batches, 1);
    assert_int_equal(game_get_counters(g)->positions_saved, 1);
    run_until_idle();
    game_session_closed(g, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_message_budget_refills_as_the_game_clock_moves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_flood_is_closed_while_the_game_clock_stands_still,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions_are_written_behind_on_the_game_clock, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
