/*
 * game_fixture: a whole game for unit tests, on its real parts (an in-memory SQLite store, auth
 * on one hashing thread, the world) with the fake outbox (fake_outbox.h) and a clock that moves
 * only when the test moves now_us. setup/teardown are cmocka fixtures; play() brings a fake link
 * into the world as a registered, logged-in player. One per test process (static state). Include
 * it after <cmocka.h>.
 */
#ifndef CMMO_TEST_GAME_FIXTURE_H
#define CMMO_TEST_GAME_FIXTURE_H

#include "core/workpool_loop.h"
#include "fake_outbox.h"
#include "game/game.h"
#include "game/session.h"
#include "store/store_loop.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

static int contains(rcbuf *b, const char *needle)
{
    return memmem(rcbuf_data(b), b->len, needle, strlen(needle)) != NULL;
}

/* ---- fixtures ---- */

static uint64_t now_us;
static uv_loop_t loop;
static store *st;
static auth *au;
static game *g;

static uint64_t fake_now_us(void *ctx)
{
    return now_us;
}

static int setup(void **state)
{
    if (uv_loop_init(&loop) != 0) return -1;
    st = store_open(&loop, "sqlite::memory:");
    au = auth_create(workpool_create(&loop, 1, 1, "auth"));
    if (!st || !au) return -1;
    now_us = 1000000;
    memset(&fake, 0, sizeof fake);
    game_clock clock = {fake_now_us, NULL};
    game_config config = {
        .world_width = 1344, .world_height = 832, .tick_hz = 20, .save_interval_ms = 1000};
    g = game_create(&clock, &config, &fake_outbox, st, au);
    return g ? 0 : -1;
}

static int teardown(void **state)
{
    fake_clear();
    auth_destroy(au);
    store_close(st);
    game_destroy(g);
    for (int i = 0; i < 100 && uv_loop_close(&loop) == UV_EBUSY; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}

static void run_until_idle(void)
{
    for (int i = 0; i < 10000 && !game_idle(g); i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(game_idle(g));
}

static void send_text(fake_link *l, const char *text)
{
    game_session_message(g, l->s, (const uint8_t *)text, strlen(text));
}

/* Opens l's session, registers and logs it in (one tick each), and ticks once more so that it is
 * introduced to the others. */
static void play(fake_link *l)
{
    char msg[160];
    l->s = game_session_open(g, l, "192.0.2.1");
    assert_non_null(l->s);
    snprintf(msg, sizeof msg, "{\"a\":\"Register\",\"p0\":\"%s\",\"p1\":\"Password1\",\"p2\":1}",
             l->name);
    send_text(l, msg);
    game_tick(g);
    run_until_idle();
    snprintf(msg, sizeof msg, "{\"a\":\"Login\",\"p0\":\"%s\",\"p1\":\"Password1\"}", l->name);
    send_text(l, msg);
    game_tick(g);
    run_until_idle();
}

static void close_all(fake_link *links, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (links[i].s) game_session_closed(g, links[i].s);
    game_tick(g);
    run_until_idle();
}

#endif
