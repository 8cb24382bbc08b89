/* Unit tests for game/moderation: bans, mutes and the "Server" notices, on the game with the fake
 * outbox, a real in-memory store and auth (game_fixture.h). */
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

#include "game_fixture.h"

/* Packets pushed to l since the last fake_clear that contain needle. */
static size_t pushed_with(const fake_link *l, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < fake.pushes_len; i++)
        for (size_t k = 0; k < fake.pushes[i].n; k++)
            n += fake.pushes[i].link == l && contains(fake.pushes[i].msgs[k], needle);
    return n;
}

static void chat(fake_link *l, const char *text)
{
    char msg[128];
    snprintf(msg, sizeof msg, "{\"a\":\"Chat\",\"p0\":\"x\",\"p1\":\"%s\"}", text);
    send_text(l, msg);
}

static const game_sanction for_good = {0, 0, "calm down"};

static void test_a_muted_players_chat_reaches_nobody_and_they_are_told_once_a_second(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}};
    play(&links[0]);
    play(&links[1]);
    game_tick(g);
    assert_int_equal(game_mute(g, "ALICE", &for_good), 0);
    fake_clear();
    chat(&links[0], "one");
    chat(&links[0], "two");
    chat(&links[0], "three");
    game_tick(g);
    assert_int_equal(pushed_with(&links[1], "\"a\":\"Chat\""), 0);
    assert_int_equal(pushed_with(&links[0], "\"p0\":\"Server\",\"p1\":\"You are muted: calm down; "
                                            "nobody sees your chat\""),
                     1);
    now_us += 1100 * 1000; /* a second later: told again */
    chat(&links[0], "four");
    game_tick(g);
    assert_int_equal(pushed_with(&links[0], "You are muted"), 2);
    assert_int_equal(pushed_with(&links[1], "\"a\":\"Chat\""), 0);
    assert_int_equal(game_unmute(g, "alice"), 0);
    chat(&links[0], "back");
    game_tick(g);
    assert_int_equal(pushed_with(&links[1], "\"p1\":\"back\""), 1);
    run_until_idle();
    close_all(links, 2);
}

static void test_a_mute_for_a_while_ends_by_the_games_clock(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}};
    play(&links[0]);
    play(&links[1]);
    game_sanction minute = {2000000000, 60, ""};
    assert_int_equal(game_mute(g, "alice", &minute), 0);
    fake_clear();
    chat(&links[0], "early");
    game_tick(g);
    assert_int_equal(pushed_with(&links[0], "You are muted until 2033-05-18 03:33 UTC; nobody"), 1);
    now_us += 61 * 1000000ull;
    chat(&links[0], "late");
    game_tick(g);
    assert_int_equal(pushed_with(&links[1], "\"p1\":\"late\""), 1);
    run_until_idle();
    close_all(links, 2);
}

static void test_a_ban_kicks_the_player_and_their_next_login_is_denied_with_the_reason(void **state)
{
    fake_link alice = {NULL, "alice"};
    play(&alice);
    game_sanction spam = {0, 0, "spam"};
    assert_int_equal(game_ban(g, "alice", &spam), 0);
    assert_int_equal(fake.closes_len, 1);
    assert_ptr_equal(fake.closes[0].link, &alice);
    assert_int_equal(fake.closes[0].why, GAME_CLOSE_KICKED);
    close_all(&alice, 1);
    fake_link again = {NULL, "alice"};
    again.s = game_session_open(g, &again, "192.0.2.1");
    fake_clear();
    send_text(&again, "{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"Password1\"}");
    game_tick(g);
    run_until_idle();
    assert_int_equal(pushed_with(&again, "{\"a\":\"Deny\",\"p0\":\"You are banned: spam\"}"), 1);
    /* A wrong password learns nothing of the ban. */
    fake_clear();
    send_text(&again, "{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"wrong\"}");
    game_tick(g);
    run_until_idle();
    assert_int_equal(pushed_with(&again, "Username or password incorrect"), 1);
    assert_int_equal(game_unban(g, "alice"), 0);
    fake_clear();
    send_text(&again, "{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"Password1\"}");
    game_tick(g);
    run_until_idle();
    assert_int_equal(pushed_with(&again, "{\"a\":\"Ok\"}"), 1);
    close_all(&again, 1);
}

static void test_a_mute_recorded_while_offline_holds_from_the_next_login(void **state)
{
    fake_link links[] = {{NULL, "alice"}, {NULL, "bob"}};
    play(&links[0]);
    play(&links[1]);
    close_all(&links[0], 1);
    links[0].s = NULL;
    assert_int_equal(game_mute(g, "alice", &for_good), 0);
    links[0].s = game_session_open(g, &links[0], "192.0.2.1");
    send_text(&links[0], "{\"a\":\"Login\",\"p0\":\"alice\",\"p1\":\"Password1\"}");
    game_tick(g);
    run_until_idle();
    fake_clear();
    chat(&links[0], "hello");
    game_tick(g);
    assert_int_equal(pushed_with(&links[1], "\"a\":\"Chat\""), 0);
    assert_int_equal(pushed_with(&links[0], "You are muted: calm down"), 1);
    close_all(links, 2);
}

static void test_moderation_refuses_bad_names_reasons_and_times(void **state)
{
    char long_reason[STORE_REASON_MAX + 2];
    memset(long_reason, 'r', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = 0;
    const game_sanction bad[] = {
        {0, 0, "line\nbreak"}, {0, 0, long_reason}, {100, 0, ""}, {0, 100, ""},
        {-1, 5, ""},           {0, 0, "\xff"},      {0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(game_ban(g, "alice", &bad[i]), CMMO_EINVALID);
        assert_int_equal(game_mute(g, "alice", &bad[i]), CMMO_EINVALID);
    }
    assert_int_equal(game_ban(g, "bad name", &for_good), CMMO_EINVALID);
    assert_int_equal(game_ban(g, NULL, &for_good), CMMO_EINVALID);
    assert_int_equal(game_ban(g, "alice", NULL), CMMO_EINVALID);
    assert_int_equal(game_unmute(g, "toolongtoolongtoolong1"), CMMO_EINVALID);
    assert_int_equal(store_pending(st), 0); /* nothing was submitted */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_muted_players_chat_reaches_nobody_and_they_are_told_once_a_second),
        T(test_a_mute_for_a_while_ends_by_the_games_clock),
        T(test_a_ban_kicks_the_player_and_their_next_login_is_denied_with_the_reason),
        T(test_a_mute_recorded_while_offline_holds_from_the_next_login),
        T(test_moderation_refuses_bad_names_reasons_and_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
