/* Unit tests for game/world: what each viewer is sent on join, per tick, on movement, on leave
 * and on chat, on a recording outbox (copies of every packet per viewer link). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "game/world.h"
#include "proto/packet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the recording outbox ---- */

typedef struct record {
    void *viewer;
    rcbuf *buf; /* a reference is held, so pointers can be compared after the tick */
    char *text; /* a copy of the bytes, NUL-terminated */
} record;

static record *records;
static size_t records_len, records_cap;

static void record_one(void *viewer, rcbuf *msg)
{
    if (records_len == records_cap) {
        records_cap = records_cap ? records_cap * 2 : 64;
        records = realloc(records, records_cap * sizeof *records);
        assert_non_null(records);
    }
    record *r = &records[records_len++];
    r->viewer = viewer;
    r->buf = rcbuf_ref(msg);
    r->text = malloc(msg->len + 1);
    assert_non_null(r->text);
    memcpy(r->text, rcbuf_data(msg), msg->len);
    r->text[msg->len] = 0;
}

static uint32_t u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Hundredths as a Move prints them: no trailing zeros, no point for a whole number. */
static int hundredths_text(char *out, size_t cap, uint32_t h)
{
    if (h % 100 == 0) return snprintf(out, cap, "%u", h / 100);
    if (h % 10 == 0) return snprintf(out, cap, "%u.%u", h / 100, h % 100 / 10);
    return snprintf(out, cap, "%u.%02u", h / 100, h % 100);
}

/* Frames of a tick's binary Moves to a cmmo.v2 viewer, and the flagged moves frames themselves. */
static size_t moves_frames;
static size_t moves_records;
static void *moves_bytes_viewer; /* whose Moves frames moves_bytes sums */
static size_t moves_bytes;

/* A cmmo.v2 Moves frame is recorded as the JSON Moves its records mean, one record each (the
 * buffer shared), so that the tests read both encodings alike; each frame is counted. */
static void record_push(void *ctx, void *viewer, rcbuf *const *msgs, size_t n)
{
    assert_ptr_equal(ctx, &records);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        rcbuf *m = msgs[i];
        if (!(m->flags & RCBUF_BINARY)) {
            record_one(viewer, m);
            continue;
        }
        const uint8_t *p = rcbuf_data(m);
        /* Either kind (packet.h); kind 2's units are turned into hundredths, rounded. */
        assert_true(m->len >= 1 && (p[0] == PACKET_MOVES_KIND || p[0] == PACKET_MOVES_KIND_SHORT));
        size_t head = p[0] == PACKET_MOVES_KIND ? 1 : 2;
        size_t rec = p[0] == PACKET_MOVES_KIND ? PACKET_MOVE_RECORD : PACKET_MOVE_RECORD_SHORT;
        assert_true(m->len >= head);
        unsigned scale = head == 2 ? p[1] : 0;
        assert_true(scale <= PACKET_MOVE_SCALE_MAX);
        assert_int_equal((m->len - head) % rec, 0);
        assert_int_equal(m->packets, (m->len - head) / rec);
        assert_int_equal(i, n - 1); /* the tick's movement comes last */
        moves_frames++;
        if (viewer == moves_bytes_viewer) moves_bytes += m->len;
        for (size_t k = head; k < m->len; k += rec) {
            char x[24], y[24], text[96];
            uint32_t hx, hy;
            if (head == 1) {
                hx = u32le(p + k + 4);
                hy = u32le(p + k + 8);
            } else {
                hx =
                    (uint32_t)llround(ldexp((double)(p[k + 4] | p[k + 5] << 8), -(int)scale) * 100);
                hy =
                    (uint32_t)llround(ldexp((double)(p[k + 6] | p[k + 7] << 8), -(int)scale) * 100);
            }
            hundredths_text(x, sizeof x, hx);
            hundredths_text(y, sizeof y, hy);
            int len = snprintf(text, sizeof text, "{\"a\":\"Move\",\"p0\":[%u,%s,%s]}",
                               u32le(p + k), x, y);
            rcbuf *one = rcbuf_from(text, (size_t)len);
            assert_non_null(one);
            record_one(viewer, one);
            rcbuf_unref(one);
            moves_records++;
        }
    }
}

static void record_close(void *ctx, void *link, game_close_reason why)
{
    (void)ctx, (void)link, (void)why;
    fail_msg("the world never closes a connection");
}

static void record_resume(void *ctx, void *link)
{
    (void)ctx, (void)link;
    fail_msg("the world never resumes a connection");
}

/* An outbox that cannot pack (as on allocation failure): every packet is recorded on its own. */
static rcbuf *record_pack(void *ctx, rcbuf *const *msgs, size_t n)
{
    (void)ctx, (void)msgs;
    assert_true(n >= 2);
    return NULL;
}

static uint64_t packets_out[GAME_ACTION_SLOTS], bytes_out[GAME_ACTION_SLOTS];

#define RECORDING_OUTBOX                                                                           \
    .outbox = {record_push, record_close, record_resume, record_pack, &records},                   \
    .packets_out = packets_out, .bytes_out = bytes_out

static void records_clear(void)
{
    for (size_t i = 0; i < records_len; i++) {
        rcbuf_unref(records[i].buf);
        free(records[i].text);
    }
    records_len = 0;
}

/* Messages sent to viewer so far. */
static size_t count_for(void *viewer)
{
    size_t n = 0;
    for (size_t i = 0; i < records_len; i++)
        n += records[i].viewer == viewer;
    return n;
}

/* The i-th message sent to viewer (NULL if none). */
static record *nth_for(void *viewer, size_t i)
{
    for (size_t k = 0; k < records_len; k++)
        if (records[k].viewer == viewer && i-- == 0) return &records[k];
    return NULL;
}

static record *last_for(void *viewer)
{
    size_t n = count_for(viewer);
    return n ? nth_for(viewer, n - 1) : NULL;
}

/* How many messages to viewer are exactly text. */
static size_t count_text(void *viewer, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < records_len; i++)
        n += records[i].viewer == viewer && strcmp(records[i].text, text) == 0;
    return n;
}

/* How many messages to viewer contain needle. */
static size_t count_containing(void *viewer, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < records_len; i++)
        n += records[i].viewer == viewer && strstr(records[i].text, needle) != NULL;
    return n;
}

/* ---- fixtures ---- */

static int viewer_a, viewer_b, viewer_c; /* only their addresses matter */
#define VA ((void *)&viewer_a)
#define VB ((void *)&viewer_b)
#define VC ((void *)&viewer_c)

static world *w;

static world *make_world(double view_radius)
{
    world_config c = {.width = 1344,
                      .height = 832,
                      .speed = 70,
                      .tick_hz = 20,
                      .view_radius = view_radius,
                      RECORDING_OUTBOX};
    w = world_create(&c);
    assert_non_null(w);
    return w;
}

static int setup(void **state)
{
    make_world(0);
    return 0;
}

static int teardown(void **state)
{
    world_destroy(w);
    w = NULL;
    records_clear();
    free(records);
    records = NULL;
    records_cap = 0;
    return 0;
}

/* Ids from separate sequences, as in the store: actor n has user n+100, instanced entity n+200,
 * entity n+300. */
static game_actor account(int64_t actor_id, const char *name, double x, double y)
{
    game_actor a;
    memset(&a, 0, sizeof a);
    a.actor_id = actor_id;
    a.user_id = actor_id + 100;
    a.instanced_entity_id = actor_id + 200;
    a.entity_id = actor_id + 300;
    snprintf(a.name, sizeof a.name, "%s", name);
    a.avatar_id = (int)(actor_id % 6);
    a.x = x;
    a.y = y;
    return a;
}

static world_actor *join(int64_t actor_id, const char *name, double x, double y, void *viewer)
{
    game_actor acc = account(actor_id, name, x, y);
    world_actor *a = world_join(w, &acc, viewer);
    assert_non_null(a);
    return a;
}

/* The full model text of account(actor_id, name, x, y) (whole-number positions). */
static const char *full_text(int64_t id, const char *name, double x, double y)
{
    static char out[512];
    snprintf(out, sizeof out,
             "{\"a\":\"ModelDelta\",\"p0\":{\"id\":%lld,\"user\":%lld,\"instanced_entity\":{"
             "\"id\":%lld,\"x\":%.1f,\"y\":%.1f,\"entity\":{\"id\":%lld,\"name\":\"%s\","
             "\"model_type\":\"Entity\"},\"model_type\":\"InstancedEntity\"},\"avatar_id\":%d,"
             "\"model_type\":\"Actor\"}}",
             (long long)id, (long long)id + 100, (long long)id + 200, x, y, (long long)id + 300,
             name, (int)(id % 6));
    return out;
}

static const char *disconnect_text(int64_t id)
{
    static char out[64];
    snprintf(out, sizeof out, "{\"a\":\"Disconnect\",\"p0\":%lld}", (long long)id);
    return out;
}

static void tick_n(int n)
{
    for (int i = 0; i < n; i++)
        world_tick(w);
}

/* ---- joining and introductions ---- */

static void test_world_join_sends_own_full_model_at_once(void **state)
{
    game_actor acc = account(1, "alice", 0, 0);
    acc.user_id = 1;
    acc.instanced_entity_id = 1;
    acc.entity_id = 1;
    acc.avatar_id = 2;
    world_actor *a = world_join(w, &acc, VA);
    assert_non_null(a);
    assert_int_equal(count_for(VA), 1);
    assert_string_equal(nth_for(VA, 0)->text,
                        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"user\":1,\"instanced_entity\":{"
                        "\"id\":1,\"x\":0.0,\"y\":0.0,\"entity\":{\"id\":1,\"name\":\"alice\","
                        "\"model_type\":\"Entity\"},\"model_type\":\"InstancedEntity\"},"
                        "\"avatar_id\":2,\"model_type\":\"Actor\"}}");
    assert_true(world_has_actor(w, 1));
    assert_int_equal(world_actor_count(w), 1);
    assert_int_equal(world_actor_id(a), 1);
    assert_string_equal(world_actor_name(a), "alice");
}

static void test_world_newcomer_gets_its_own_model_before_anyone_elses(void **state)
{
    join(1, "alice", 10, 20, VA);
    tick_n(1);
    join(2, "bob", 30, 40, VB);
    assert_int_equal(count_for(VB), 1);
    assert_string_equal(nth_for(VB, 0)->text, full_text(2, "bob", 30, 40));
    assert_int_equal(count_for(VA), 1); /* alice hears of bob on the next tick, not before */
    tick_n(1);
    assert_string_equal(nth_for(VB, 0)->text, full_text(2, "bob", 30, 40));
    assert_int_equal(count_for(VB), 2);
    assert_string_equal(nth_for(VB, 1)->text, full_text(1, "alice", 10, 20));
}

static void test_world_tick_introduces_two_actors_to_each_other_exactly_once(void **state)
{
    join(1, "alice", 10, 20, VA);
    join(2, "bob", 30, 40, VB);
    tick_n(1);
    assert_int_equal(count_text(VA, full_text(2, "bob", 30, 40)), 1);
    assert_int_equal(count_text(VB, full_text(1, "alice", 10, 20)), 1);
    /* Nobody is sent their own model a second time. */
    assert_int_equal(count_text(VA, full_text(1, "alice", 10, 20)), 1);
    assert_int_equal(count_text(VB, full_text(2, "bob", 30, 40)), 1);
    assert_int_equal(count_for(VA), 2);
    assert_int_equal(count_for(VB), 2);
    tick_n(5); /* nothing moves: nothing more is sent */
    assert_int_equal(count_for(VA), 2);
    assert_int_equal(count_for(VB), 2);
}

static void test_world_every_viewer_learns_every_actor_once(void **state)
{
    static int viewers[40];
    char name[16];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "p%d", i);
        join(i + 1, name, (double)(i * 30), (double)(i * 20), &viewers[i]);
        if (i % 7 == 0) tick_n(1); /* some arrive in later ticks */
    }
    tick_n(3);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(count_for(&viewers[i]), 40);
        assert_string_equal(nth_for(&viewers[i], 0)->text,
                            full_text(i + 1, (snprintf(name, sizeof name, "p%d", i), name),
                                      (double)(i * 30), (double)(i * 20)));
        for (int j = 0; j < 40; j++) {
            snprintf(name, sizeof name, "p%d", j);
            assert_int_equal(
                count_text(&viewers[i], full_text(j + 1, name, (double)(j * 30), (double)(j * 20))),
                1);
        }
    }
}

static void test_world_join_of_the_same_actor_twice_returns_null(void **state)
{
    join(1, "alice", 0, 0, VA);
    game_actor again = account(1, "alice", 0, 0);
    assert_null(world_join(w, &again, VB));
    assert_int_equal(world_actor_count(w), 1);
    assert_int_equal(count_for(VB), 0);
    tick_n(1);
    assert_int_equal(count_for(VB), 0);
    assert_int_equal(count_for(VA), 1);
}

/* ---- movement ---- */

static void test_world_actor_walks_3_5_px_per_tick(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, 100, 0);
    double x, y;
    for (int i = 1; i <= 5; i++) {
        tick_n(1);
        world_actor_position(a, &x, &y);
        assert_true(fabs(x - 3.5 * i) < 1e-9);
        assert_true(y == 0.0);
    }
    assert_string_equal(nth_for(VA, 1)->text,
                        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"model_type\":\"Actor\","
                        "\"instanced_entity\":{\"id\":201,\"model_type\":\"InstancedEntity\","
                        "\"x\":3.5,\"y\":0.0}}}");
    assert_int_equal(count_for(VA), 6); /* own model + one delta per tick */
}

static void test_world_first_step_matches_the_reference_trace(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, 200, 100);
    tick_n(1);
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(x == 3.1304951684997055);
    assert_true(y == 1.5652475842498528);
    assert_string_equal(last_for(VA)->text,
                        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"model_type\":\"Actor\","
                        "\"instanced_entity\":{\"id\":201,\"model_type\":\"InstancedEntity\","
                        "\"x\":3.1304951684997055,\"y\":1.5652475842498528}}}");
}

static void test_world_actor_arrives_exactly_on_the_target(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, 100, 50); /* 111.8 px: 32 steps, the last one shorter */
    tick_n(40);
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(x == 100.0);
    assert_true(y == 50.0);
    assert_int_equal(count_containing(VA, "\"model_type\":\"Actor\",\"instanced_entity\""), 32);
    assert_string_equal(last_for(VA)->text,
                        "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"model_type\":\"Actor\","
                        "\"instanced_entity\":{\"id\":201,\"model_type\":\"InstancedEntity\","
                        "\"x\":100.0,\"y\":50.0}}}");
}

static void test_world_target_at_the_current_position_sends_nothing(void **state)
{
    world_actor *a = join(1, "alice", 40, 40, VA);
    world_set_target(w, a, 40, 40);
    tick_n(3);
    assert_int_equal(count_for(VA), 1);
}

static void test_world_targets_are_clamped_to_the_world(void **state)
{
    world_actor *a = join(1, "alice", 10, 10, VA);
    world_set_target(w, a, -50, 5000);
    tick_n(400);
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(x == 0.0);
    assert_true(y == 832.0);
    world_set_target(w, a, 1e9, 1e9);
    tick_n(1);
    world_actor_position(a, &x, &y);
    /* The first step heads for the clamped corner (1344, 832), not along the diagonal. */
    double d = hypot(1344.0, 0.0);
    assert_true(fabs(x - 3.5 * 1344.0 / d) < 1e-9);
    assert_true(fabs(y - 832.0) < 1e-9);
    tick_n(500);
    world_actor_position(a, &x, &y);
    assert_true(x == 1344.0);
    assert_true(y == 832.0);
}

static void test_world_negative_target_from_the_origin_does_not_move(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, -10, -10);
    tick_n(2);
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(x == 0.0 && y == 0.0);
    assert_int_equal(count_for(VA), 1);
}

static void test_world_non_finite_targets_are_ignored(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, NAN, 5);
    world_set_target(w, a, 5, INFINITY);
    tick_n(2);
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(x == 0.0 && y == 0.0);
    assert_int_equal(count_for(VA), 1);
    /* While walking, a non-finite target does not change the walk. */
    world_set_target(w, a, 100, 0);
    tick_n(1);
    world_set_target(w, a, -INFINITY, 0);
    world_set_target(w, a, NAN, NAN);
    tick_n(1);
    world_actor_position(a, &x, &y);
    assert_true(fabs(x - 7.0) < 1e-9);
    assert_true(y == 0.0);
    for (size_t i = 0; i < records_len; i++) {
        assert_null(strstr(records[i].text, "nan"));
        assert_null(strstr(records[i].text, "inf"));
    }
}

static void test_world_new_target_replaces_the_old_at_once(void **state)
{
    world_actor *a = join(1, "alice", 100, 100, VA);
    world_set_target(w, a, 200, 100);
    tick_n(2);
    world_set_target(w, a, 100, 100);
    tick_n(1);
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(fabs(x - 103.5) < 1e-9);
    assert_true(y == 100.0);
}

static void test_world_delta_goes_to_every_viewer_as_the_same_bytes(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 50, 50, VB);
    join(3, "carol", 60, 60, VC);
    tick_n(1);
    records_clear();
    world_set_target(w, a, 100, 0);
    tick_n(1);
    assert_int_equal(count_for(VA), 1);
    assert_int_equal(count_for(VB), 1);
    assert_int_equal(count_for(VC), 1);
    record *ra = nth_for(VA, 0), *rb = nth_for(VB, 0), *rc = nth_for(VC, 0);
    assert_string_equal(ra->text, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"model_type\":"
                                  "\"Actor\",\"instanced_entity\":{\"id\":201,\"model_type\":"
                                  "\"InstancedEntity\",\"x\":3.5,\"y\":0.0}}}");
    /* Encoded once: the very same buffer for every viewer. */
    assert_ptr_equal(ra->buf, rb->buf);
    assert_ptr_equal(ra->buf, rc->buf);
    assert_string_equal(ra->text, rb->text);
}

static void test_world_two_movers_are_seen_by_both(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_actor *b = join(2, "bob", 100, 0, VB);
    tick_n(1);
    records_clear();
    world_set_target(w, a, 0, 100);
    world_set_target(w, b, 100, 100);
    tick_n(1);
    assert_int_equal(count_for(VA), 2);
    assert_int_equal(count_for(VB), 2);
    assert_int_equal(count_containing(VA, "\"id\":201,"), 1);
    assert_int_equal(count_containing(VA, "\"id\":202,"), 1);
    assert_int_equal(count_containing(VB, "\"id\":201,"), 1);
    assert_int_equal(count_containing(VB, "\"id\":202,"), 1);
}

static void test_world_newcomer_sees_a_walker_at_its_current_position(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, 100, 0);
    tick_n(2); /* alice at 7.0 */
    join(2, "bob", 50, 50, VB);
    tick_n(1); /* alice at 10.5 */
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(fabs(x - 10.5) < 1e-9);
    /* bob gets alice in full where she is now, and no delta for the same step. */
    assert_int_equal(count_for(VB), 2);
    assert_string_equal(nth_for(VB, 1)->text, full_text(1, "alice", 10.5, 0));
    tick_n(1);
    assert_int_equal(count_for(VB), 3);
    assert_non_null(strstr(last_for(VB)->text, "\"x\":14.0,\"y\":0.0"));
}

/* ---- leaving ---- */

static void test_world_leave_sends_disconnect_once_on_the_next_tick(void **state)
{
    join(1, "alice", 0, 0, VA);
    world_actor *b = join(2, "bob", 30, 40, VB);
    tick_n(1);
    size_t before_b = count_for(VB);
    store_position saved;
    world_leave(w, b, &saved);
    assert_false(world_has_actor(w, 2));
    assert_int_equal(world_actor_count(w), 1);
    assert_int_equal(count_text(VA, disconnect_text(2)), 0); /* not before the tick */
    tick_n(1);
    assert_int_equal(count_text(VA, disconnect_text(2)), 1);
    tick_n(5);
    assert_int_equal(count_text(VA, disconnect_text(2)), 1);
    assert_int_equal(count_for(VA), 3);        /* own model, bob's model, bob's Disconnect */
    assert_int_equal(count_for(VB), before_b); /* nothing more for the one who left */
}

static void test_world_leave_reports_the_final_position(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_set_target(w, a, 100, 0);
    tick_n(3);
    store_position saved = {0, -1, -1, 0};
    world_leave(w, a, &saved);
    assert_int_equal(saved.instanced_entity_id, 201);
    assert_true(fabs(saved.x - 10.5) < 1e-9);
    assert_true(saved.y == 0.0);
    tick_n(1);
    assert_int_equal(world_actor_count(w), 0);
}

static void test_world_leave_before_introduction_tells_nobody(void **state)
{
    join(1, "alice", 0, 0, VA);
    tick_n(1);
    world_actor *b = join(2, "bob", 30, 40, VB);
    store_position saved;
    world_leave(w, b, &saved);
    tick_n(2);
    /* alice never knew bob: no model, no Disconnect. */
    assert_int_equal(count_for(VA), 1);
}

static void test_world_walker_leaving_mid_walk_stops_being_sent(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 30, 40, VB);
    tick_n(1);
    world_set_target(w, a, 300, 0);
    tick_n(2);
    store_position saved;
    world_leave(w, a, &saved);
    records_clear();
    tick_n(3);
    assert_int_equal(count_for(VB), 1);
    assert_string_equal(nth_for(VB, 0)->text, disconnect_text(1));
    assert_int_equal(count_for(VA), 0);
}

static void test_world_actor_can_rejoin_after_leaving(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 30, 40, VB);
    tick_n(1);
    store_position saved;
    world_leave(w, a, &saved);
    tick_n(1);
    records_clear();
    join(1, "alice", 5, 5, VC);
    assert_string_equal(nth_for(VC, 0)->text, full_text(1, "alice", 5, 5));
    tick_n(1);
    assert_int_equal(count_text(VB, full_text(1, "alice", 5, 5)), 1);
    assert_int_equal(count_text(VC, full_text(2, "bob", 30, 40)), 1);
    assert_int_equal(count_for(VA), 0);
}

/* ---- chat ---- */

static void test_world_chat_reaches_everyone_but_the_sender(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 30, 40, VB);
    join(3, "carol", 60, 80, VC);
    tick_n(1);
    records_clear();
    world_chat(w, a, "hello bob", 9);
    tick_n(1);
    const char *want = "{\"a\":\"Chat\",\"p0\":\"alice\",\"p1\":\"hello bob\"}";
    assert_int_equal(count_text(VB, want), 1);
    assert_int_equal(count_text(VC, want), 1);
    assert_int_equal(count_for(VA), 0);
    assert_int_equal(count_for(VB), 1);
    assert_int_equal(count_for(VC), 1);
}

static void test_world_chat_escapes_the_line(void **state)
{
    world_actor *b = join(2, "bob", 30, 40, VB);
    join(1, "alice", 0, 0, VA);
    tick_n(1);
    records_clear();
    world_chat(w, b,
               "\"q\" \xEF\xBC\xBB"
               "b\xEF\xBC\xBD",
               11);
    tick_n(1);
    assert_int_equal(
        count_text(VA, "{\"a\":\"Chat\",\"p0\":\"bob\",\"p1\":\"\\\"q\\\" \\uff3bb\\uff3d\"}"), 1);
}

/* ---- write-behind ---- */

static void test_world_collect_moved_returns_each_move_once(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 30, 40, VB);
    store_position out[8];
    assert_int_equal(world_collect_moved(w, out, 8), 0);
    world_set_target(w, a, 100, 0);
    tick_n(2);
    assert_int_equal(world_collect_moved(w, out, 8), 1);
    assert_int_equal(out[0].instanced_entity_id, 201);
    assert_true(fabs(out[0].x - 7.0) < 1e-9);
    assert_true(out[0].y == 0.0);
    assert_int_equal(world_collect_moved(w, out, 8), 0);
    tick_n(1);
    assert_int_equal(world_collect_moved(w, out, 8), 1);
    assert_true(fabs(out[0].x - 10.5) < 1e-9);
}

static void test_world_collect_moved_respects_cap_and_keeps_the_rest(void **state)
{
    world_actor *as[4];
    static int vs[4];
    for (int i = 0; i < 4; i++) {
        as[i] = join(i + 1, "p", 10.0 * i, 0, &vs[i]);
        world_set_target(w, as[i], 10.0 * i, 100);
    }
    tick_n(1);
    store_position out[4];
    size_t n1 = world_collect_moved(w, out, 3);
    assert_int_equal(n1, 3);
    size_t n2 = world_collect_moved(w, out, 3);
    assert_int_equal(n2, 1);
    assert_int_equal(world_collect_moved(w, out, 3), 0);
}

static void test_world_collect_all_lists_every_actor(void **state)
{
    join(1, "alice", 1, 2, VA);
    join(2, "bob", 3, 4, VB);
    store_position out[4];
    assert_int_equal(world_collect_all(w, out, 4), 2);
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        if (out[i].instanced_entity_id == 201 && out[i].x == 1 && out[i].y == 2) seen |= 1;
        if (out[i].instanced_entity_id == 202 && out[i].x == 3 && out[i].y == 4) seen |= 2;
    }
    assert_int_equal(seen, 3);
    assert_int_equal(world_collect_all(w, out, 1), 1);
}

/* ---- area of interest (view_radius > 0) ---- */

static int setup_radius(void **state)
{
    make_world(100);
    return 0;
}

static void test_world_far_actors_are_not_introduced(void **state)
{
    join(1, "alice", 0, 0, VA);
    join(2, "bob", 500, 0, VB);
    tick_n(2);
    assert_int_equal(count_for(VA), 1);
    assert_int_equal(count_for(VB), 1);
}

static void test_world_actor_walking_into_view_is_introduced_once(void **state)
{
    join(1, "alice", 0, 0, VA);
    world_actor *b = join(2, "bob", 300, 0, VB);
    tick_n(1);
    world_set_target(w, b, 0, 0);
    /* 300 -> 100 px takes 57.1 ticks: bob enters alice's view on the 58th, and she is told at
     * her next recomputation, at most 3 ticks later (AOI_PERIOD). */
    tick_n(57);
    assert_int_equal(count_for(VA), 1);
    int late = 0;
    for (tick_n(1); count_for(VA) == 1 && late < 3; late++)
        tick_n(1);
    assert_int_equal(count_for(VA), 2);
    assert_non_null(strstr(nth_for(VA, 1)->text, "\"name\":\"bob\""));
    assert_int_equal(count_containing(VB, "\"name\":\"alice\""), 1);
    tick_n(5);
    assert_int_equal(count_containing(VA, "\"name\":\"bob\""), 1);
    assert_int_equal(count_for(VA), 2 + 5); /* then deltas */
}

static void test_world_actor_leaving_view_is_disconnected_after_hysteresis(void **state)
{
    join(1, "alice", 0, 0, VA);
    world_actor *b = join(2, "bob", 50, 0, VB);
    tick_n(1);
    assert_int_equal(count_for(VA), 2);
    world_set_target(w, b, 400, 0);
    /* Beyond 100 px bob stays known up to 125 px; he passes 125 px on tick 22 (50 + 22*3.5 =
     * 127), and each is told at its next recomputation, at most 3 ticks later. */
    tick_n(21);
    assert_int_equal(count_text(VA, disconnect_text(2)), 0);
    tick_n(1 + 3);
    assert_int_equal(count_text(VA, disconnect_text(2)), 1);
    assert_int_equal(count_text(VB, disconnect_text(1)), 1);
    size_t n = count_for(VA);
    tick_n(10);
    assert_int_equal(count_for(VA), n); /* no deltas for an actor out of view */
}

static void test_world_leaving_the_world_is_told_on_the_next_tick_in_a_radius_world(void **state)
{
    /* Whatever the phase of the viewers' staggered recomputation. */
    for (int phase = 0; phase < 4; phase++) {
        records_clear();
        world_actor *a = join(10 + phase * 2, "alice", 0, 0, VA);
        world_actor *b = join(11 + phase * 2, "bob", 50, 0, VB);
        tick_n(1 + phase);
        assert_int_equal(count_containing(VA, "\"name\":\"bob\""), 1);
        store_position saved;
        world_leave(w, b, &saved);
        tick_n(1);
        assert_int_equal(count_text(VA, disconnect_text(11 + phase * 2)), 1);
        /* The slot is reused by the next joiner: alice must not take it for bob. */
        world_actor *c = join(100 + phase, "carol", 2000, 0, VC);
        tick_n(4);
        assert_int_equal(count_containing(VA, "\"name\":\"carol\""), 0);
        world_leave(w, c, &saved);
        world_leave(w, a, &saved);
        tick_n(1);
    }
}

/* ---- cmmo.v2: compact movement for viewers that negotiated it ---- */

static void test_world_compact_viewer_gets_move_and_legacy_viewer_model_delta(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 10, 0, VB);
    world_actor *c = join(3, "carol", 50, 0, VC);
    world_actor_set_compact(w, a);
    tick_n(1);
    records_clear();
    world_set_target(w, c, 100, 0);
    tick_n(1);
    /* alice (cmmo.v2) gets the compact form, bob (legacy) the ModelDelta; carol too. */
    assert_int_equal(count_text(VA, "{\"a\":\"Move\",\"p0\":[3,53.5,0]}"), 1);
    assert_int_equal(count_containing(VA, "ModelDelta"), 0);
    assert_int_equal(count_text(VB, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":3,\"model_type\":"
                                    "\"Actor\",\"instanced_entity\":{\"id\":203,\"model_type\":"
                                    "\"InstancedEntity\",\"x\":53.5,\"y\":0.0}}}"),
                     1);
    assert_int_equal(count_containing(VC, "\"x\":53.5"), 1);
    assert_int_equal(count_containing(VB, "Move"), 0);
    /* Her own steps come compact too, rounded to hundredths. */
    records_clear();
    world_set_target(w, a, 1, 1);
    tick_n(1);
    assert_int_equal(count_text(VA, "{\"a\":\"Move\",\"p0\":[1,1,1]}") +
                         count_text(VA, "{\"a\":\"Move\",\"p0\":[1,2.47,2.47]}"),
                     1);
}

static void test_world_compact_viewer_in_a_radius_world(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_actor_set_compact(w, a);
    world_actor *b = join(2, "bob", 50, 0, VB);
    tick_n(1);
    /* Entering view is still the full model. */
    assert_int_equal(count_containing(VA, "\"name\":\"bob\""), 1);
    records_clear();
    world_set_target(w, b, 50, 30);
    tick_n(2);
    assert_int_equal(count_text(VA, "{\"a\":\"Move\",\"p0\":[2,50,3.5]}"), 1);
    assert_int_equal(count_text(VA, "{\"a\":\"Move\",\"p0\":[2,50,7]}"), 1);
    assert_int_equal(count_containing(VB, "\"y\":7.0"), 1);
}

/* ---- cmmo.v2 bandwidth budget ---- */

/* A tick's movement reaches a cmmo.v2 viewer as one binary frame, however many moved; a legacy
 * viewer still gets one packet per move. */
static void test_world_v2_viewer_gets_a_ticks_moves_in_one_frame(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_actor_set_compact(w, a);
    world_actor *b = join(2, "bob", 10, 0, VB), *c = join(3, "carol", 50, 0, VC);
    tick_n(1);
    records_clear();
    moves_frames = 0;
    world_set_target(w, a, 100, 0);
    world_set_target(w, b, 100, 0);
    world_set_target(w, c, 100, 0);
    tick_n(3);
    assert_int_equal(moves_frames, 3); /* one a tick, to alice only */
    assert_int_equal(count_containing(VA, "\"Move\""), 9);
    assert_int_equal(count_containing(VB, "\"x\":"), 9);
}

/* A cmmo.v2 viewer that walks in its very first tick is sent that step (its own full model went
 * out at its join, before it), with and without a view radius. */
static void first_step_is_sent(void)
{
    join(2, "bob", 50, 0, VB);
    tick_n(1);
    world_actor *a = join(1, "alice", 0, 0, VA);
    world_actor_set_compact(w, a);
    world_set_target(w, a, 100, 0);
    records_clear();
    tick_n(1);
    assert_int_equal(count_text(VA, "{\"a\":\"Move\",\"p0\":[1,3.5,0]}"), 1);
}

static void test_world_v2_viewer_gets_its_first_step(void **state)
{
    first_step_is_sent();
}

static void test_world_v2_viewer_gets_its_first_step_in_a_radius_world(void **state)
{
    first_step_is_sent();
}

#define CROWD 60

/* A crowd walking around a cmmo.v2 viewer on a budget of 5,000 B/s (250 bytes, 30 records of 8
 * bytes a tick, for 60 walkers): its Moves frames stay within the budget (plus the two ticks it
 * may save), the 20 nearest movers are in every frame, and no actor's last sent position is more
 * than 200 ms (4 ticks) behind it. The same with and without a view radius. */
#define CROWD_BUDGET 5000
/* A position as a kind 2 record on this map carries it (1/32 px), then as record_push prints it. */
#define QUANTUM (1.0 / 64 + 0.005 + 1e-9)
static void budget_crowd(double radius)
{
    world_config c = {.width = 1344,
                      .height = 832,
                      .speed = 70,
                      .tick_hz = 20,
                      .view_radius = radius,
                      .v2_budget = CROWD_BUDGET,
                      RECORDING_OUTBOX};
    w = world_create(&c);
    assert_non_null(w);
    world_actor *v = join(1, "viewer", 672, 416, VA);
    world_actor_set_compact(w, v);
    static int links[CROWD];
    static world_actor *walkers[CROWD];
    double home[CROWD][2], sent[CROWD][2];
    uint32_t sent_tick[CROWD];
    for (int i = 0; i < CROWD; i++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", i);
        home[i][0] = 672 + (i % 10 - 5) * 50 + 7;
        home[i][1] = 416 + (i / 10 - 3) * 50 + 3;
        walkers[i] = join(i + 2, name, home[i][0], home[i][1], &links[i]);
        sent[i][0] = home[i][0];
        sent[i][1] = home[i][1];
        sent_tick[i] = 0;
    }
    world_tick(w); /* everyone meets everyone in full */
    moves_bytes_viewer = VA;
    size_t from = records_len, bytes_from = 0;
    for (uint32_t t = 1; t <= 120; t++) {
        if (t % 30 == 1)
            for (int i = 0; i < CROWD; i++)
                world_set_target(w, walkers[i], home[i][0] + (t % 60 == 1 ? 100 : -100),
                                 home[i][1] + (i % 2 ? 40 : -40));
        if (t == 21) bytes_from = moves_bytes;
        world_tick(w);
        /* Candidates: actors now elsewhere than the viewer was last sent. */
        int dirty[CROWD];
        for (int i = 0; i < CROWD; i++) {
            double x, y;
            world_actor_position(walkers[i], &x, &y);
            dirty[i] = fabs(x - sent[i][0]) > QUANTUM || fabs(y - sent[i][1]) > QUANTUM;
        }
        int got[CROWD] = {0};
        for (size_t k = from; k < records_len; k++) {
            long long id;
            double x, y;
            if (records[k].viewer != VA ||
                sscanf(records[k].text, "{\"a\":\"Move\",\"p0\":[%lld,%lf,%lf]}", &id, &x, &y) !=
                    3 ||
                id < 2)
                continue;
            got[id - 2] = 1;
            sent[id - 2][0] = x;
            sent[id - 2][1] = y;
            sent_tick[id - 2] = t;
        }
        from = records_len;
        /* The 20 nearest candidates are in this tick's frame. */
        double d[CROWD];
        int moved = 0;
        for (int i = 0; i < CROWD; i++) {
            double x, y;
            world_actor_position(walkers[i], &x, &y);
            moved += dirty[i];
            d[i] = dirty[i] ? hypot(x - 672, y - 416) : INFINITY;
            if (t > 10 && (fabs(x - sent[i][0]) > QUANTUM || fabs(y - sent[i][1]) > QUANTUM))
                assert_true(t - sent_tick[i] <= 4); /* shown position at most 200 ms behind */
        }
        for (int i = 0; i < CROWD && moved >= 20; i++) {
            int nearer = 0;
            for (int j = 0; j < CROWD; j++)
                nearer += d[j] < d[i] || (d[j] == d[i] && j < i);
            if (nearer < 20) assert_true(got[i]);
        }
    }
    /* 100 ticks, 5 s: at most the budget and the two ticks saved up. */
    assert_true(moves_bytes - bytes_from <= CROWD_BUDGET * 5 + 2 * CROWD_BUDGET / 20);
    /* and it is used: the crowd needs more */
    assert_true(moves_bytes - bytes_from > CROWD_BUDGET * 4);
    moves_bytes_viewer = NULL;
    moves_bytes = 0;
}

static void test_world_v2_budget_holds_in_a_crowd_without_a_view_radius(void **state)
{
    budget_crowd(0);
}

static void test_world_v2_budget_holds_in_a_crowd_with_a_view_radius(void **state)
{
    budget_crowd(2000);
}

/* ---- area of interest: what each viewer is told matches distances, with many walkers ---- */

#define PROP_ACTORS 240
#define PROP_KNOWN_NONE (-1.0)

static int prop_viewers[PROP_ACTORS];

/* Replays every record to viewer index v into known[] (x of each known actor, or
 * PROP_KNOWN_NONE) and pos[][2]. Returns 0, or fails the test on a packet it cannot read. */
static void prop_apply(size_t from, double *known_x, double (*pos)[2], int v)
{
    for (size_t k = from; k < records_len; k++) {
        if (records[k].viewer != &prop_viewers[v]) continue;
        const char *t = records[k].text;
        long long id;
        double x, y;
        if (sscanf(t, "{\"a\":\"Disconnect\",\"p0\":%lld}", &id) == 1) {
            assert_true(id >= 1 && id <= PROP_ACTORS);
            assert_true(known_x[id - 1] != PROP_KNOWN_NONE); /* only known actors leave */
            known_x[id - 1] = PROP_KNOWN_NONE;
        } else if (sscanf(t, "{\"a\":\"Move\",\"p0\":[%lld,%lf,%lf]}", &id, &x, &y) == 3) {
            assert_true(id >= 1 && id <= PROP_ACTORS);
            assert_true(known_x[id - 1] != PROP_KNOWN_NONE); /* moves of known actors only */
            known_x[id - 1] = x;
            pos[id - 1][0] = x;
            pos[id - 1][1] = y;
        } else if (sscanf(t, "{\"a\":\"ModelDelta\",\"p0\":{\"id\":%lld", &id) == 1) {
            assert_true(id >= 1 && id <= PROP_ACTORS);
            const char *px = strstr(t, "\"x\":"), *py = strstr(t, "\"y\":");
            assert_non_null(px);
            assert_non_null(py);
            int full = strstr(t, "\"name\"") != NULL;
            /* A full model introduces; a delta only updates a known actor. */
            if (!full) assert_true(known_x[id - 1] != PROP_KNOWN_NONE);
            pos[id - 1][0] = strtod(px + 4, NULL);
            pos[id - 1][1] = strtod(py + 4, NULL);
            known_x[id - 1] = pos[id - 1][0];
        } else {
            fail_msg("unexpected packet: %s", t);
        }
    }
}

static void test_world_radius_matches_distances_with_many_walkers(void **state)
{
    const double r = 300, keep = r * 1.25, size = 4000, lag = 2 * 7 * 3 + 0.01;
    world_config c = {.width = size,
                      .height = size,
                      .speed = 140, /* 7 px per tick */
                      .tick_hz = 20,
                      .view_radius = r,
                      RECORDING_OUTBOX};
    w = world_create(&c);
    assert_non_null(w);
    static world_actor *actors[PROP_ACTORS];
    static double known[PROP_ACTORS][PROP_ACTORS], pos[PROP_ACTORS][PROP_ACTORS][2];
    srand(7);
    for (int i = 0; i < PROP_ACTORS; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        /* Clustered in a corner so that everyone has neighbours, some on cell borders. */
        double x = (rand() % 1600) + (i % 7 == 0 ? 0.5 : 0), y = rand() % 1600;
        game_actor acc = account(i + 1, name, x, y);
        actors[i] = world_join(w, &acc, &prop_viewers[i]);
        assert_non_null(actors[i]);
        if (i % 2) world_actor_set_compact(w, actors[i]);
        for (int j = 0; j < PROP_ACTORS; j++)
            known[i][j] = PROP_KNOWN_NONE;
    }
    packet_moves_format unit = packet_moves_format_for(size, size);
    size_t from = 0;
    for (int t = 0; t < 120; t++) {
        if (t % 20 == 0)
            for (int i = 0; i < PROP_ACTORS; i++)
                world_set_target(w, actors[i], rand() % 2000, rand() % 2000);
        world_tick(w);
        for (int v = 0; v < PROP_ACTORS; v++)
            prop_apply(from, known[v], pos[v], v);
        from = records_len;
        for (int v = 0; v < PROP_ACTORS; v++) {
            double vx, vy;
            world_actor_position(actors[v], &vx, &vy);
            for (int j = 0; j < PROP_ACTORS; j++) {
                double x, y;
                world_actor_position(actors[j], &x, &y);
                double d = hypot(x - vx, y - vy);
                /* Visible sets are recomputed every 4 ticks (staggered): in 3 ticks two walkers
                 * close in, or part, by at most 42 px. */
                if (d <= r - lag) assert_true(known[v][j] != PROP_KNOWN_NONE);   /* in view */
                if (d > keep + lag) assert_true(known[v][j] == PROP_KNOWN_NONE); /* far: not */
                if (known[v][j] == PROP_KNOWN_NONE) continue;
                /* What it knows is where the actor is (for cmmo.v2 to half the Moves frame's
                 * unit, then to hundredths as record_push writes it). */
                double tol = (v % 2) ? ldexp(0.5, -(int)unit.scale) + 0.005 + 1e-9 : 0;
                assert_true(fabs(pos[v][j][0] - x) <= tol);
                assert_true(fabs(pos[v][j][1] - y) <= tol);
            }
        }
    }
    /* Everyone leaves: each viewer is told of each known actor's leaving. */
    store_position saved;
    for (int i = 0; i < PROP_ACTORS; i += 2)
        world_leave(w, actors[i], &saved);
    world_tick(w);
    for (int v = 1; v < PROP_ACTORS; v += 2) {
        prop_apply(from, known[v], pos[v], v);
        for (int j = 0; j < PROP_ACTORS; j += 2)
            assert_true(known[v][j] == PROP_KNOWN_NONE);
    }
}

/* ---- teleports and actors without a viewer that walk (a script's NPCs) ---- */

static void test_world_teleport_is_one_delta_to_every_viewer_on_the_next_tick(void **state)
{
    world_actor *a = join(1, "alice", 0, 0, VA);
    join(2, "bob", 50, 50, VB);
    tick_n(1);
    world_set_target(w, a, 100, 0);
    tick_n(1);
    records_clear();
    world_teleport(w, a, 300, 2000); /* clamped to the world; the walk stops */
    double x, y;
    world_actor_position(a, &x, &y);
    assert_true(x == 300 && y == 832);
    assert_int_equal(count_for(VA) + count_for(VB), 0); /* nothing until the tick */
    tick_n(1);
    const char *moved = "{\"a\":\"ModelDelta\",\"p0\":{\"id\":1,\"model_type\":\"Actor\","
                        "\"instanced_entity\":{\"id\":201,\"model_type\":\"InstancedEntity\","
                        "\"x\":300.0,\"y\":832.0}}}";
    assert_int_equal(count_for(VA), 1);
    assert_int_equal(count_for(VB), 1);
    assert_string_equal(nth_for(VA, 0)->text, moved);
    assert_string_equal(nth_for(VB, 0)->text, moved);
    tick_n(2);
    assert_int_equal(count_for(VB), 1); /* stopped there */
    world_teleport(w, a, NAN, 1);
    tick_n(1);
    assert_int_equal(count_for(VB), 1);
}

static void test_world_remote_actor_with_a_target_walks_like_a_player(void **state)
{
    join(1, "alice", 0, 0, VA);
    game_actor npc = account(1000, "Guide Ann", 10, 10);
    world_actor *n = world_join_remote(w, &npc);
    assert_non_null(n);
    tick_n(1);
    assert_string_equal(nth_for(VA, 1)->text, full_text(1000, "Guide Ann", 10, 10));
    records_clear();
    world_set_target(w, n, 17, 10);
    tick_n(3);
    double x, y;
    world_actor_position(n, &x, &y);
    assert_true(x == 17 && y == 10);
    assert_int_equal(count_for(VA), 2); /* 3.5 px a tick: two steps, then there */
    /* Never saved, never counted as a player of this node. */
    store_position p[4];
    assert_int_equal(world_collect_moved(w, p, 4), 0);
    assert_false(world_has_actor(w, 1000));
    world_leave_remote(w, n);
    tick_n(1);
    assert_string_equal(nth_for(VA, 2)->text, disconnect_text(1000));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TR(name) cmocka_unit_test_setup_teardown(name, setup_radius, teardown)
    const struct CMUnitTest tests[] = {
        T(test_world_join_sends_own_full_model_at_once),
        T(test_world_newcomer_gets_its_own_model_before_anyone_elses),
        T(test_world_tick_introduces_two_actors_to_each_other_exactly_once),
        T(test_world_every_viewer_learns_every_actor_once),
        T(test_world_join_of_the_same_actor_twice_returns_null),
        T(test_world_actor_walks_3_5_px_per_tick),
        T(test_world_first_step_matches_the_reference_trace),
        T(test_world_actor_arrives_exactly_on_the_target),
        T(test_world_target_at_the_current_position_sends_nothing),
        T(test_world_targets_are_clamped_to_the_world),
        T(test_world_negative_target_from_the_origin_does_not_move),
        T(test_world_non_finite_targets_are_ignored),
        T(test_world_new_target_replaces_the_old_at_once),
        T(test_world_delta_goes_to_every_viewer_as_the_same_bytes),
        T(test_world_two_movers_are_seen_by_both),
        T(test_world_newcomer_sees_a_walker_at_its_current_position),
        T(test_world_leave_sends_disconnect_once_on_the_next_tick),
        T(test_world_leave_reports_the_final_position),
        T(test_world_leave_before_introduction_tells_nobody),
        T(test_world_walker_leaving_mid_walk_stops_being_sent),
        T(test_world_teleport_is_one_delta_to_every_viewer_on_the_next_tick),
        T(test_world_remote_actor_with_a_target_walks_like_a_player),
        T(test_world_actor_can_rejoin_after_leaving),
        T(test_world_chat_reaches_everyone_but_the_sender),
        T(test_world_chat_escapes_the_line),
        T(test_world_collect_moved_returns_each_move_once),
        T(test_world_collect_moved_respects_cap_and_keeps_the_rest),
        T(test_world_collect_all_lists_every_actor),
        TR(test_world_far_actors_are_not_introduced),
        TR(test_world_actor_walking_into_view_is_introduced_once),
        TR(test_world_actor_leaving_view_is_disconnected_after_hysteresis),
        TR(test_world_leaving_the_world_is_told_on_the_next_tick_in_a_radius_world),
        T(test_world_compact_viewer_gets_move_and_legacy_viewer_model_delta),
        TR(test_world_compact_viewer_in_a_radius_world),
        T(test_world_v2_viewer_gets_a_ticks_moves_in_one_frame),
        T(test_world_v2_viewer_gets_its_first_step),
        TR(test_world_v2_viewer_gets_its_first_step_in_a_radius_world),
        cmocka_unit_test_setup_teardown(test_world_v2_budget_holds_in_a_crowd_without_a_view_radius,
                                        NULL, teardown),
        cmocka_unit_test_setup_teardown(test_world_v2_budget_holds_in_a_crowd_with_a_view_radius,
                                        NULL, teardown),
        cmocka_unit_test_teardown(test_world_radius_matches_distances_with_many_walkers, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
