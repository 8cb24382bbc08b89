/* Unit tests for the game's outbox port (game/outbox.h): the game on a fake outbox that records
 * every push and close per link, with a real in-memory store and auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/workpool_loop.h"
#include "game/game.h"
#include "game/session.h"
#include "store/store_loop.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* ---- a game on the fake outbox (game_fixture.h) ---- */

#include "game_fixture.h"

static size_t pushes_to(const fake_link *l)
{
    size_t n = 0;
    for (size_t i = 0; i < fake.pushes_len; i++)
        n += fake.pushes[i].link == l;
    return n;
}

static const push_record *first_push_to(const fake_link *l)
{
    for (size_t i = 0; i < fake.pushes_len; i++)
        if (fake.pushes[i].link == l) return &fake.pushes[i];
    return NULL;
}

/* ---- tests ---- */

/* The port handed to the game is complete, and one without a function is not. */
static void test_the_fake_outbox_is_complete_and_a_missing_function_is_not(void **state)
{
    assert_true(game_outbox_complete(&fake_outbox));
    game_outbox o = fake_outbox;
    o.pack = NULL;
    assert_false(game_outbox_complete(&o));
    o = fake_outbox;
    o.close = NULL;
    assert_false(game_outbox_complete(&o));
    assert_false(game_outbox_complete(NULL));
}

/* A newcomer's tick (the full models of everyone already in the world) arrives in one push, in
 * the world's order, not as one call per packet. */
static void test_a_viewers_packets_of_a_tick_arrive_in_one_push_in_order(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}, {NULL, "carol"}, {NULL, "dave"}};
    for (size_t i = 0; i < 3; i++)
        play(&links[i]);
    game_tick(g);
    fake_clear();

    fake_link *dave = &links[3];
    play(dave); /* Ok and its own model are pushed as they happen, one each */
    fake_clear();
    game_tick(g); /* dave meets the others */
    assert_int_equal(pushes_to(dave), 1);
    const push_record *p = first_push_to(dave);
    assert_int_equal(p->n, 3);
    assert_true(contains(p->msgs[0], "\"name\":\"alice\""));
    assert_true(contains(p->msgs[1], "\"name\":\"bob\""));
    assert_true(contains(p->msgs[2], "\"name\":\"carol\""));
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pushes_to(&links[i]), 1); /* each is told about dave */
    close_all(links, 4);
}

/* When everyone sees everyone and nobody joined or left, the movers' deltas are packed once per
 * tick and the same buffer goes to every viewer, one push each. */
static void test_a_tick_of_movers_is_packed_once_and_shared_by_every_viewer(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}, {NULL, "carol"}};
    for (size_t i = 0; i < 3; i++)
        play(&links[i]);
    game_tick(g);
    send_text(&links[0], "{\"a\":\"Target\",\"p0\":300,\"p1\":200}");
    send_text(&links[1], "{\"a\":\"Target\",\"p0\":10,\"p1\":20}");
    game_tick(g); /* the targets are taken and the first steps made */
    fake_clear();
    game_tick(g);
    assert_int_equal(fake.packs, 1);
    assert_int_equal(fake.pushes_len, 3);
    rcbuf *shared = fake.pushes[0].msgs[0];
    assert_int_equal(shared->packets, 2);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pushes_to(&links[i]), 1);
        assert_int_equal(first_push_to(&links[i])->n, 1);
        assert_ptr_equal(first_push_to(&links[i])->msgs[0], shared);
    }
    close_all(links, 3);
}

/* A kick names the player; the game gives the outbox the reason, the wiring picks the code. */
static void test_a_kick_closes_with_the_kicked_reason(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}};
    play(&links[0]);
    play(&links[1]);
    assert_int_equal(game_kick(g, "nobody", GAME_CLOSE_KICKED), CMMO_ENOTFOUND);
    assert_int_equal(fake.closes_len, 0);
    assert_int_equal(game_kick(g, "BOB", GAME_CLOSE_KICKED), 0);
    assert_int_equal(fake.closes_len, 1);
    assert_ptr_equal(fake.closes[0].link, &links[1]);
    assert_int_equal(fake.closes[0].why, GAME_CLOSE_KICKED);
    close_all(links, 2);
}

/* A client 200 messages over its budget is closed for a message flood. */
static void test_a_message_flood_closes_with_the_flood_reason(void **state)
{
    fake_link l = {NULL, "alice"};
    l.s = game_session_open(g, &l, "192.0.2.1");
    assert_non_null(l.s);
    for (int i = 0; i < 400; i++)
        game_session_message(g, l.s, (const uint8_t *)"{}", 2);
    assert_int_equal(fake.closes_len, 0);
    game_session_message(g, l.s, (const uint8_t *)"{}", 2);
    assert_int_equal(fake.closes_len, 1);
    assert_ptr_equal(fake.closes[0].link, &l);
    assert_int_equal(fake.closes[0].why, GAME_CLOSE_MESSAGE_FLOOD);
    close_all(&l, 1);
}

/* Once the network reports a connection gone its link is never pushed to again, although its
 * actor stays in the world until the session is handled at the next tick. */
static void test_nothing_is_pushed_to_a_link_after_its_connection_is_gone(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}};
    play(&links[0]);
    play(&links[1]);
    game_tick(g);
    send_text(&links[1], "{\"a\":\"Target\",\"p0\":300,\"p1\":200}");
    game_session_closed(g, links[0].s);
    links[0].s = NULL;
    /* A chat to everyone and a broadcast, before the tick takes alice out. */
    send_text(&links[1], "{\"a\":\"Chat\",\"p0\":\"bob\",\"p1\":\"hello\"}");
    fake_clear();
    assert_int_equal(game_broadcast(g, "maintenance soon"), 1);
    for (int i = 0; i < 3; i++)
        game_tick(g);
    assert_int_equal(pushes_to(&links[0]), 0);
    assert_true(pushes_to(&links[1]) > 0);
    close_all(links, 2);
}

/* What the world and the session push is counted per action for /metrics, a packed tick as the
 * packets it holds. */
static void test_pushed_packets_are_counted_per_action(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}, {NULL, "carol"}};
    for (size_t i = 0; i < 3; i++)
        play(&links[i]);
    game_tick(g);
    send_text(&links[0], "{\"a\":\"Target\",\"p0\":300,\"p1\":200}");
    send_text(&links[1], "{\"a\":\"Target\",\"p0\":10,\"p1\":20}");
    game_tick(g);
    const game_counters *c = game_get_counters(g);
    uint64_t before = c->packets_out[PACKET_MODEL_DELTA];
    game_tick(g); /* one packed buffer of 2 deltas to each of 3 viewers */
    assert_int_equal(c->packets_out[PACKET_MODEL_DELTA] - before, 6);
    assert_int_equal(c->packets_out[PACKET_OK], 6); /* Register and Login are answered Ok */
    close_all(links, 3);
}

/* A chat line from a player in the world is pushed as it is read, without waiting for a tick,
 * to every other player and not to its sender; one queued behind a message still waiting keeps
 * its place (pushed at the tick, after that message). */
static void test_a_chat_in_play_is_pushed_when_read_not_at_the_tick(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}};
    play(&links[0]);
    play(&links[1]);
    game_tick(g);
    fake_clear();
    send_text(&links[1], "{\"a\":\"Chat\",\"p0\":\"bob\",\"p1\":\"hello\"}");
    assert_int_equal(fake.pushes_len, 1);
    assert_ptr_equal(fake.pushes[0].link, &links[0]);
    assert_true(contains(fake.pushes[0].msgs[0], "\"p1\":\"hello\""));
    assert_int_equal(pushes_to(&links[1]), 0);
    close_all(links, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_the_fake_outbox_is_complete_and_a_missing_function_is_not),
        T(test_a_viewers_packets_of_a_tick_arrive_in_one_push_in_order),
        T(test_a_tick_of_movers_is_packed_once_and_shared_by_every_viewer),
        T(test_a_kick_closes_with_the_kicked_reason),
        T(test_a_message_flood_closes_with_the_flood_reason),
        T(test_nothing_is_pushed_to_a_link_after_its_connection_is_gone),
        T(test_pushed_packets_are_counted_per_action),
        T(test_a_chat_in_play_is_pushed_when_read_not_at_the_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
