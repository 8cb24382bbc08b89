/* Unit tests for the cluster apart from Redis: its wire records (cluster/wire.h) and its port
 * into the game (game.h, "Clusters"): what a cluster tells the game (remote actors join, move,
 * leave) and what it observes (local players' changes, as game_actor models), on the game with a
 * fake outbox and a real in-memory store and auth. The Redis side runs for real in
 * tests/cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cluster/wire.h"
#include "core/workpool_loop.h"
#include "game/actor.h"
#include "game/game.h"
#include "game/session.h"
#include "store/store_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* ---- a game on the fake outbox (game_fixture.h) ---- */

#include "game_fixture.h"

/* ---- a fake cluster observer ---- */

typedef struct seen_change {
    game_actor_change change;
    game_actor actor;
    int32_t previous, region;
} seen_change;

static struct {
    seen_change changes[64];
    size_t len;
} seen;

static void observe(void *ctx, game_actor_change change, const game_actor *a, int32_t previous,
                    int32_t region)
{
    assert_ptr_equal(ctx, &seen);
    assert_true(seen.len < 64);
    seen.changes[seen.len++] = (seen_change){change, *a, previous, region};
}

static game_actor remote_actor(int64_t id, const char *name, double x, double y)
{
    game_actor a;
    memset(&a, 0, sizeof a);
    a.actor_id = id;
    a.user_id = id + 100;
    a.entity_id = id + 300;
    a.instanced_entity_id = id + 200;
    snprintf(a.name, sizeof a.name, "%s", name);
    a.avatar_id = 3;
    a.x = x;
    a.y = y;
    return a;
}

static int pushed_to_contains(const fake_link *l, const char *needle)
{
    for (size_t i = 0; i < fake.pushes_len; i++)
        if (fake.pushes[i].link == l)
            for (size_t k = 0; k < fake.pushes[i].n; k++)
                if (contains(fake.pushes[i].msgs[k], needle)) return 1;
    return 0;
}

typedef struct local_list {
    game_actor actors[8];
    int32_t regions[8];
    size_t len;
} local_list;

static void list_local(void *user, const game_actor *a, int32_t region)
{
    local_list *l = user;
    assert_true(l->len < 8);
    l->actors[l->len] = *a;
    l->regions[l->len++] = region;
}

/* ---- tests ---- */

/* ---- wire records ---- */

/* A join record is the actor model and nothing else, in the layout docs/SCALING.md gives (the
 * same bytes every node of the cluster has read since the format's version 1). */
static void test_a_join_record_carries_the_actor_model_in_the_documented_layout(void **state)
{
    game_actor a = remote_actor(7, "bob", 12.5, 40);
    uint8_t buf[WIRE_JOIN_MAX], *p = buf;
    assert_int_equal(wire_join_size(&a), WIRE_JOIN_FIXED + 3);
    wire_put_join(&p, &a);
    assert_int_equal(p - buf, WIRE_JOIN_FIXED + 3);
    assert_int_equal(buf[0], 'J');
    int64_t id;
    memcpy(&id, buf + 1, 8);
    assert_int_equal(id, 7);
    int64_t user, entity, ientity;
    memcpy(&user, buf + 9, 8);
    memcpy(&entity, buf + 17, 8);
    memcpy(&ientity, buf + 25, 8);
    assert_int_equal(user, 107);
    assert_int_equal(entity, 307);
    assert_int_equal(ientity, 207);
    uint32_t avatar;
    memcpy(&avatar, buf + 33, 4);
    assert_int_equal(avatar, 3);
    double x, y;
    memcpy(&x, buf + 37, 8);
    memcpy(&y, buf + 45, 8);
    assert_true(x == 12.5 && y == 40);
    assert_int_equal(buf[53], 3);
    assert_memory_equal(buf + 54, "bob", 3);
}

/* What one node writes, another reads back field for field. */
static void test_a_join_record_reads_back_as_written(void **state)
{
    game_actor a = remote_actor(123456789012LL, "a_name_of_twenty_byt", -0.0, 831.75);
    uint8_t buf[WIRE_JOIN_MAX], *p = buf;
    wire_put_join(&p, &a);
    wire_reader r = {buf, p, 0};
    assert_int_equal(wire_get_u8(&r), REC_JOIN);
    int64_t id = wire_get_i64(&r);
    game_actor back;
    assert_int_equal(wire_get_join(&r, id, &back), 0);
    assert_memory_equal(&back, &a, sizeof a);
    assert_true(r.p == r.end && !r.bad);
}

/* Reads the join record in buf (len bytes) after its type and id. */
static int read_join(const uint8_t *buf, size_t len)
{
    wire_reader r = {buf, buf + len, 0};
    wire_get_u8(&r);
    int64_t id = wire_get_i64(&r);
    game_actor out;
    return wire_get_join(&r, id, &out);
}

/* A truncated record, an empty or overlong name, a NUL inside the name and a position that is
 * not a number are refused, so no such actor reaches the world. */
static void test_a_malformed_join_record_is_refused(void **state)
{
    game_actor a = remote_actor(7, "bob", 1, 2);
    uint8_t buf[WIRE_JOIN_MAX + 8], *p = buf;
    wire_put_join(&p, &a);
    size_t len = (size_t)(p - buf);
    assert_int_equal(read_join(buf, len), 0);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(read_join(buf, cut), CMMO_EMALFORMED);

    uint8_t bad[sizeof buf];
    memcpy(bad, buf, len);
    bad[53] = 0; /* empty name */
    assert_int_equal(read_join(bad, len), CMMO_EMALFORMED);
    memcpy(bad, buf, len);
    bad[53] = GAME_ACTOR_NAME_MAX + 1; /* longer than any name */
    memset(bad + len, 'x', sizeof bad - len);
    assert_int_equal(read_join(bad, sizeof bad), CMMO_EMALFORMED);
    memcpy(bad, buf, len);
    bad[55] = 0; /* "b\0b" */
    assert_int_equal(read_join(bad, len), CMMO_EMALFORMED);
    memcpy(bad, buf, len);
    double nan = NAN;
    memcpy(bad + 37, &nan, 8);
    assert_int_equal(read_join(bad, len), CMMO_EMALFORMED);
}

/* A remote actor joined through the port is shown to local players like a local one, counts as
 * remote and not as a player of this node, and has no local name. */
static void test_a_remote_actor_joins_the_world_as_seen_by_local_players(void **state)
{
    fake_link alice = {NULL, "alice"};
    play(&alice);
    fake_clear();
    game_actor bob = remote_actor(9001, "bob", 100, 200);
    assert_int_equal(game_remote_join(g, &bob), 0);
    game_tick(g);
    assert_true(pushed_to_contains(&alice, "\"name\":\"bob\""));
    assert_int_equal(game_remote_count(g), 1);
    assert_int_equal(game_player_count(g), 1);
    assert_null(game_local_name(g, 9001));
    /* The same id again is refused, remote or local. */
    assert_int_equal(game_remote_join(g, &bob), CMMO_EEXISTS);
    close_all(&alice, 1);
}

/* A remote actor walks to its published positions, and its leave reaches local viewers as
 * Disconnect; moving or removing an id that is not a remote actor changes nothing. */
static void test_a_remote_actor_moves_and_leaves_through_the_port(void **state)
{
    fake_link alice = {NULL, "alice"};
    play(&alice);
    game_actor bob = remote_actor(9001, "bob", 100, 200);
    assert_int_equal(game_remote_join(g, &bob), 0);
    game_tick(g);
    fake_clear();
    game_remote_move(g, 9001, 101, 200);
    game_tick(g);
    assert_true(pushed_to_contains(&alice, "\"id\":9001"));
    fake_clear();
    game_remote_leave(g, 4242); /* nobody */
    game_remote_move(g, 4242, 5, 5);
    assert_int_equal(game_remote_count(g), 1);
    game_remote_leave(g, 9001);
    game_tick(g);
    assert_int_equal(game_remote_count(g), 0);
    assert_true(pushed_to_contains(&alice, "Disconnect"));
    close_all(&alice, 1);
}

/* A local player cannot be taken over, moved or removed as a remote actor: the node that holds
 * the claim owns it. */
static void test_a_local_player_is_not_a_remote_actor(void **state)
{
    fake_link alice = {NULL, "alice"};
    play(&alice);
    local_list l = {0};
    game_each_local(g, list_local, &l);
    assert_int_equal(l.len, 1);
    int64_t id = l.actors[0].actor_id;
    assert_string_equal(game_local_name(g, id), "alice");
    game_actor impostor = remote_actor(id, "alice", 0, 0);
    assert_int_equal(game_remote_join(g, &impostor), CMMO_EEXISTS);
    game_remote_leave(g, id);
    game_tick(g);
    assert_int_equal(game_player_count(g), 1);
    assert_string_equal(game_local_name(g, id), "alice");
    close_all(&alice, 1);
}

/* The observer is told each local player's join, moves and leave, with its model (ids, name,
 * avatar, position) and regions; remote actors are not reported; a cleared observer hears
 * nothing. */
static void test_the_observer_is_told_local_changes_as_actor_models(void **state)
{
    memset(&seen, 0, sizeof seen);
    game_observe_local(g, observe, &seen);
    fake_link alice = {NULL, "alice"};
    play(&alice);
    game_actor bob = remote_actor(9001, "bob", 100, 200);
    assert_int_equal(game_remote_join(g, &bob), 0);
    game_tick(g);
    assert_int_equal(seen.len, 1);
    assert_int_equal(seen.changes[0].change, GAME_ACTOR_JOINED);
    assert_string_equal(seen.changes[0].actor.name, "alice");
    assert_int_equal(seen.changes[0].actor.avatar_id, 1);
    assert_true(seen.changes[0].actor.actor_id > 0 && seen.changes[0].actor.user_id > 0);
    assert_int_equal(seen.changes[0].previous, seen.changes[0].region);
    assert_int_equal(game_region_count(g), 1); /* no view radius: one region */
    const int32_t *regions;
    assert_int_equal(game_interest(g, &regions), 1);
    assert_int_equal(regions[0], 0);

    send_text(&alice, "{\"a\":\"Target\",\"p0\":600,\"p1\":400}");
    game_tick(g);
    game_tick(g);
    assert_int_equal(seen.changes[seen.len - 1].change, GAME_ACTOR_MOVED);
    assert_string_equal(seen.changes[seen.len - 1].actor.name, "alice");

    size_t before = seen.len;
    close_all(&alice, 1);
    game_tick(g);
    assert_int_equal(seen.changes[seen.len - 1].change, GAME_ACTOR_LEFT);
    assert_true(seen.len > before);
    game_observe_local(g, NULL, NULL);
    fake_link carol = {NULL, "carol"};
    size_t quiet = seen.len;
    play(&carol);
    game_tick(g);
    assert_int_equal(seen.len, quiet);
    close_all(&carol, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_join_record_carries_the_actor_model_in_the_documented_layout),
        cmocka_unit_test(test_a_join_record_reads_back_as_written),
        cmocka_unit_test(test_a_malformed_join_record_is_refused),
        T(test_a_remote_actor_joins_the_world_as_seen_by_local_players),
        T(test_a_remote_actor_moves_and_leaves_through_the_port),
        T(test_a_local_player_is_not_a_remote_actor),
        T(test_the_observer_is_told_local_changes_as_actor_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
