/* Unit tests for the connection state machine's table (net/connstate): exactly the documented
 * moves are legal, every live state can be cut, DESTROYED is final, a closing connection never
 * reopens, and an illegal move stops the program instead of corrupting a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "child.h"

#include "net/connstate.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The legal moves, written out once more by hand from the diagram in connstate.h. */
static const struct {
    enum conn_state from, to;
} legal[] = {
    {CONN_SNIFF, CONN_HTTP},
    {CONN_SNIFF, CONN_HTTP_CLOSING},
    {CONN_SNIFF, CONN_DESTROYED},
    {CONN_HTTP, CONN_HTTP_CLOSING},
    {CONN_HTTP, CONN_WS},
    {CONN_HTTP, CONN_DESTROYED},
    {CONN_HTTP_CLOSING, CONN_HTTP_SHUT},
    {CONN_HTTP_CLOSING, CONN_DESTROYED},
    {CONN_HTTP_SHUT, CONN_DESTROYED},
    {CONN_WS, CONN_WS_CLOSING},
    {CONN_WS, CONN_DESTROYED},
    {CONN_WS_CLOSING, CONN_WS_SHUT},
    {CONN_WS_CLOSING, CONN_DESTROYED},
    {CONN_WS_SHUT, CONN_DESTROYED},
};

static int is_listed(enum conn_state from, enum conn_state to)
{
    for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++)
        if (legal[i].from == from && legal[i].to == to) return 1;
    return 0;
}

static void test_exactly_the_documented_moves_are_legal(void **state)
{
    for (int from = 0; from < CONN_STATES; from++)
        for (int to = 0; to < CONN_STATES; to++)
            if (conn_state_allowed(from, to) != is_listed(from, to))
                fail_msg("%s -> %s: table says %d", conn_state_name(from), conn_state_name(to),
                         conn_state_allowed(from, to));
}

static void test_every_live_state_can_be_destroyed_and_destroyed_is_final(void **state)
{
    for (int s = 0; s < CONN_STATES; s++) {
        if (s == CONN_DESTROYED) continue;
        assert_true(conn_state_allowed(s, CONN_DESTROYED));
        assert_false(conn_state_allowed(CONN_DESTROYED, s));
    }
    assert_false(conn_state_allowed(CONN_DESTROYED, CONN_DESTROYED));
}

/* Closing is one way: no closing or shut state leads back to an open one, and a WebSocket never
 * goes back to HTTP. */
static void test_a_closing_connection_never_reopens(void **state)
{
    for (int from = 0; from < CONN_STATES; from++) {
        if (!conn_state_closing(from)) continue;
        for (int to = 0; to < CONN_STATES; to++)
            if (conn_state_in_http(to) || to == CONN_WS) assert_false(conn_state_allowed(from, to));
    }
    for (int from = 0; from < CONN_STATES; from++)
        if (conn_state_upgraded(from))
            for (int to = 0; to < CONN_STATES; to++)
                if (conn_state_in_http(to) || to == CONN_HTTP_CLOSING || to == CONN_HTTP_SHUT)
                    assert_false(conn_state_allowed(from, to));
}

static void test_staying_put_and_out_of_range_values_are_not_moves(void **state)
{
    for (int s = 0; s < CONN_STATES; s++)
        assert_false(conn_state_allowed(s, s));
    assert_false(conn_state_allowed(CONN_STATES, CONN_DESTROYED));
    assert_false(conn_state_allowed(CONN_HTTP, CONN_STATES));
    assert_string_equal(conn_state_name(CONN_STATES), "?");
    assert_string_equal(conn_state_name(CONN_WS_CLOSING), "WS_CLOSING");
}

static void test_predicates_partition_the_live_states(void **state)
{
    for (int s = 0; s < CONN_STATES; s++) {
        int kinds =
            conn_state_in_http(s) + (s == CONN_WS) + conn_state_closing(s) + (s == CONN_DESTROYED);
        if (kinds != 1) fail_msg("%s is in %d of the four kinds", conn_state_name(s), kinds);
    }
}

typedef struct move {
    enum conn_state from, to;
} move;

/* The move, in the child: exits 0 if it happened (an illegal one aborts before). */
static int try_move(const void *arg)
{
    const move *m = arg;
    enum conn_state s = m->from;
    conn_state_move(&s, m->to);
    return s == m->to ? 0 : 2;
}

/* Runs one move in a child; returns the signal that ended it, or 0 if it exited normally. */
static int move_in_child(enum conn_state from, enum conn_state to)
{
    move m = {from, to};
    return run_in_child(try_move, &m);
}

static void test_an_illegal_move_aborts_and_a_legal_one_moves(void **state)
{
    assert_int_equal(move_in_child(CONN_HTTP, CONN_WS), 0);
    assert_int_equal(move_in_child(CONN_WS_SHUT, CONN_DESTROYED), 0);
    assert_int_equal(move_in_child(CONN_DESTROYED, CONN_WS_CLOSING), SIGABRT);
    assert_int_equal(move_in_child(CONN_WS_CLOSING, CONN_WS), SIGABRT);
    assert_int_equal(move_in_child(CONN_SNIFF, CONN_WS), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_the_documented_moves_are_legal),
        cmocka_unit_test(test_every_live_state_can_be_destroyed_and_destroyed_is_final),
        cmocka_unit_test(test_a_closing_connection_never_reopens),
        cmocka_unit_test(test_staying_put_and_out_of_range_values_are_not_moves),
        cmocka_unit_test(test_predicates_partition_the_live_states),
        cmocka_unit_test(test_an_illegal_move_aborts_and_a_legal_one_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
