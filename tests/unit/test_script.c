/*
 * The script runtime (script/script.h) on a whole game (game_fixture.h: real world and store, a
 * fake outbox, a clock the test moves): timers on the game's clock, the budget, reload, NPCs'
 * ownership and cmmo.store's write-behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "game_fixture.h"
#include "script/script.h"

#include <stdlib.h>
#include <unistd.h>

static script *sc;
static char path[64];

static int setup_script(void **state)
{
    if (setup(state) != 0) return -1;
    snprintf(path, sizeof path, "/tmp/cmmo-test-script-%d.lua", (int)getpid());
    sc = script_create(g, st);
    return sc ? 0 : -1;
}

static int teardown_script(void **state)
{
    script_destroy(sc);
    sc = NULL;
    unlink(path);
    return teardown(state);
}

/* Writes text as the script file and loads it. Returns script_load's result. */
static int load(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return script_load(sc, path);
}

/* Pushed buffers (to anyone) that hold needle. */
static size_t pushed(const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < fake.pushes_len; i++)
        for (size_t m = 0; m < fake.pushes[i].n; m++)
            n += (size_t)contains(fake.pushes[i].msgs[m], needle);
    return n;
}

static void tick_at(uint64_t us)
{
    now_us = us;
    game_tick(g);
}

static void test_script_timers_run_on_the_game_clock(void **state)
{
    fake_link alice = {NULL, "alice"};
    play(&alice);
    assert_int_equal(load("cmmo.after(1, function() cmmo.say('after one second') end)\n"
                          "local n = 0\n"
                          "cmmo.every(0.5, function() n = n + 1; cmmo.say('every ' .. n) end)\n"),
                     0);
    uint64_t t0 = now_us;
    tick_at(t0 + 400000);
    assert_int_equal(pushed("after one second"), 0);
    assert_int_equal(pushed("every 1"), 0);
    tick_at(t0 + 500000);
    assert_int_equal(pushed("every 1"), 1);
    tick_at(t0 + 1000000);
    assert_int_equal(pushed("after one second"), 1);
    assert_int_equal(pushed("every 2"), 1);
    /* Late by four periods: one call, not a burst of four. */
    tick_at(t0 + 3000000);
    assert_int_equal(pushed("every 3"), 1);
    assert_int_equal(pushed("every 4"), 0);
    tick_at(t0 + 3100000); /* and the next one is a period after that call */
    assert_int_equal(pushed("every 4"), 0);
    tick_at(t0 + 3500000);
    assert_int_equal(pushed("every 4"), 1);
    assert_int_equal(pushed("after one second"), 1);
    close_all(&alice, 1);
}

static void test_script_a_runaway_tick_hook_is_cut_and_the_next_tick_calls_it_again(void **state)
{
    fake_link alice = {NULL, "alice"};
    play(&alice);
    assert_int_equal(load("local calls = 0\n"
                          "cmmo.on('tick', function()\n"
                          "  calls = calls + 1\n"
                          "  cmmo.say('tick ' .. calls)\n"
                          "  while true do end\n"
                          "end)\n"),
                     0);
    tick_at(now_us + 50000);
    tick_at(now_us + 50000);
    /* Each call was cut and the next one ran: the state is still usable. */
    assert_int_equal(pushed("tick 1"), 1);
    assert_int_equal(pushed("tick 2"), 1);
    close_all(&alice, 1);
}

static void test_script_a_failed_reload_keeps_the_old_script_and_drops_the_new_npcs(void **state)
{
    assert_int_equal(load("cmmo.spawn_npc{name = 'Old Guide*', x = 1, y = 1}\n"), 0);
    assert_int_equal(game_npc_count(g), 1);
    /* Spawns, then fails: what it spawned goes with it. */
    assert_int_equal(load("cmmo.spawn_npc{name = 'New Guide*', x = 1, y = 1}\nerror('no')\n"),
                     SCRIPT_E_LOAD);
    assert_int_equal(game_npc_count(g), 1);
    assert_true(script_loaded(sc));
    /* A good reload replaces the old script's NPCs with its own. */
    assert_int_equal(load("cmmo.spawn_npc{name = 'New Guide*', x = 1, y = 1}\n"
                          "cmmo.spawn_npc{name = 'Other Guide*', x = 2, y = 2}\n"),
                     0);
    assert_int_equal(game_npc_count(g), 2);
    script_destroy(sc);
    sc = NULL;
    assert_int_equal(game_npc_count(g), 0);
}

static void test_script_an_npc_removed_by_the_script_is_not_removed_again(void **state)
{
    assert_int_equal(load("local a = cmmo.spawn_npc{name = 'A*', x = 1, y = 1}\n"
                          "local b = cmmo.spawn_npc{name = 'B*', x = 1, y = 1}\n"
                          "assert(a:remove())\n"
                          "local ok, why = a:remove()\n"
                          "assert(not ok and why == 'not_found')\n"
                          "assert(a:position() == nil)\n"),
                     0);
    assert_int_equal(game_npc_count(g), 1);
    assert_int_equal(load("\n"), 0);
    assert_int_equal(game_npc_count(g), 0);
    game_tick(g);
}

static void test_script_npc_names_never_look_like_account_names(void **state)
{
    assert_true(game_npc_name_valid("Guide Ann"));
    assert_true(game_npc_name_valid("Shop*"));
    assert_true(game_npc_name_valid("\xc3\x96laf"));
    assert_false(game_npc_name_valid("Alice"));
    assert_false(game_npc_name_valid("Server"));
    assert_false(game_npc_name_valid("under_score-1"));
    assert_false(game_npc_name_valid(""));
    assert_false(game_npc_name_valid(" padded "));
    assert_false(game_npc_name_valid("[b]bold"));
    assert_false(game_npc_name_valid("tab\there"));
    assert_false(game_npc_name_valid("twenty-one bytes long"));
    assert_false(game_npc_name_valid("\xff\xfe bad utf8"));
    assert_int_equal(load("local ok = pcall(cmmo.spawn_npc, {name = 'Alice', x = 1, y = 1})\n"
                          "assert(not ok)\n"),
                     0);
    assert_int_equal(game_npc_count(g), 0);
}

static int loaded_result;
static void on_loaded(void *user, int result)
{
    loaded_result = result;
    *(int *)user = 1;
}

/* Reads cmmo.store into the runtime, running the loop until it is done. */
static void store_load(void)
{
    int done = 0;
    assert_int_equal(script_store_load(sc, on_loaded, &done), 0);
    for (int i = 0; i < 10000 && !done; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(done);
    assert_int_equal(loaded_result, 0);
}

static void test_script_store_values_are_written_behind_and_read_by_the_next_runtime(void **state)
{
    store_load();
    assert_int_equal(load("cmmo.store.set('s', 'text')\n"
                          "cmmo.store.set('n', 42)\n"
                          "cmmo.store.set('f', 0.25)\n"
                          "cmmo.store.set('b', false)\n"
                          "cmmo.store.set('gone', 'soon')\n"
                          "cmmo.store.set('gone', nil)\n"
                          "assert(cmmo.store.get('n') == 42 and math.type(cmmo.store.get('n')) == "
                          "'integer')\n"
                          "assert(cmmo.store.get('gone') == nil)\n"
                          "assert(not pcall(cmmo.store.set, 'k', {}))\n"
                          "assert(not pcall(cmmo.store.set, ('x'):rep(129), 1))\n"
                          "assert(not pcall(cmmo.store.set, 'k', ('x'):rep(1025)))\n"),
                     0);
    game_tick(g); /* writes behind */
    script_destroy(sc);
    sc = script_create(g, st);
    store_load();
    assert_int_equal(load("assert(cmmo.store.get('s') == 'text')\n"
                          "assert(cmmo.store.get('n') == 42)\n"
                          "assert(cmmo.store.get('f') == 0.25)\n"
                          "assert(cmmo.store.get('b') == false)\n"
                          "assert(cmmo.store.get('gone') == nil)\n"
                          "assert(cmmo.store.get('k') == nil)\n"),
                     0);
}

static void test_script_chat_hooks_chain_and_a_failing_one_passes(void **state)
{
    fake_link alice = {NULL, "alice"}, bob = {NULL, "bob"};
    play(&alice);
    play(&bob);
    assert_int_equal(load("cmmo.on('chat', function(p, t) return t .. ' one' end)\n"
                          "cmmo.on('chat', function(p, t) error('broken') end)\n"
                          "cmmo.on('chat', function(p, t) return t .. ' [two]' end)\n"
                          "cmmo.on('chat', function(p, t) if t:find('^drop') then return false "
                          "end end)\n"),
                     0);
    send_text(&alice, "{\"a\":\"Chat\",\"p0\":\"alice\",\"p1\":\"hello\"}");
    send_text(&alice, "{\"a\":\"Chat\",\"p0\":\"alice\",\"p1\":\"drop this\"}");
    game_tick(g);
    /* The replacement is cleaned like a client's line: brackets become full-width (escaped
     * in the JSON). */
    assert_int_equal(pushed("hello one \\uff3btwo\\uff3d"), 1);
    assert_int_equal(pushed("drop this"), 0);
    close_all((fake_link[]){alice, bob}, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_script_timers_run_on_the_game_clock, setup_script,
                                        teardown_script),
        cmocka_unit_test_setup_teardown(
            test_script_a_runaway_tick_hook_is_cut_and_the_next_tick_calls_it_again, setup_script,
            teardown_script),
        cmocka_unit_test_setup_teardown(
            test_script_a_failed_reload_keeps_the_old_script_and_drops_the_new_npcs, setup_script,
            teardown_script),
        cmocka_unit_test_setup_teardown(
            test_script_an_npc_removed_by_the_script_is_not_removed_again, setup_script,
            teardown_script),
        cmocka_unit_test_setup_teardown(test_script_npc_names_never_look_like_account_names,
                                        setup_script, teardown_script),
        cmocka_unit_test_setup_teardown(
            test_script_store_values_are_written_behind_and_read_by_the_next_runtime, setup_script,
            teardown_script),
        cmocka_unit_test_setup_teardown(test_script_chat_hooks_chain_and_a_failing_one_passes,
                                        setup_script, teardown_script),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
