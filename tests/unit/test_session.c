/* Unit tests for the session state machine (game/session.h, game/sessionstate.h): the table of
 * legal moves on its own, then the Register and Login chains on a fake outbox and a fake cluster,
 * with a real in-memory store and auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "child.h"

#include "core/workpool_loop.h"
#include "game/game.h"
#include "game/session.h"
#include "game/sessionstate.h"
#include "store/store_loop.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

/* ---- the transition table ---- */

typedef struct move {
    enum session_state from, to;
} move;

/* The move, in the child: exits 0 if it happened (an illegal one aborts before). */
static int try_move(const void *arg)
{
    const move *m = arg;
    enum session_state s = m->from;
    session_state_move(&s, m->to);
    return s == m->to ? 0 : 2;
}

/* Runs one move in a child; returns the signal that ended it, or 0 if it exited normally. */
static int move_in_child(enum session_state from, enum session_state to)
{
    move m = {from, to};
    return run_in_child(try_move, &m);
}

static void test_an_illegal_session_move_aborts_and_a_legal_one_moves(void **state)
{
    assert_int_equal(move_in_child(SESSION_LOGIN_IDLE, SESSION_LOGIN_FINDING), 0);
    assert_int_equal(move_in_child(SESSION_LOGIN_REREADING, SESSION_PLAY), 0);
    assert_int_equal(move_in_child(SESSION_LOGIN_IDLE, SESSION_PLAY), SIGABRT);
    assert_int_equal(move_in_child(SESSION_LOGIN_VERIFYING, SESSION_PLAY), SIGABRT);
    assert_int_equal(move_in_child(SESSION_PLAY, SESSION_LOGIN_IDLE), SIGABRT);
    assert_int_equal(move_in_child(SESSION_REGISTER_CREATING, SESSION_LOGIN_FINDING), SIGABRT);
}

/* Every waiting state can fall back to LOGIN_IDLE, only the re-read reaches PLAY, PLAY is final,
 * and exactly the waiting states are busy. */
static void test_waiting_states_fall_back_to_idle_and_only_the_reread_enters_play(void **state)
{
    for (int from = 0; from < SESSION_STATES; from++) {
        int busy = from != SESSION_LOGIN_IDLE && from != SESSION_PLAY;
        assert_int_equal(session_state_busy((enum session_state)from), busy);
        if (busy) assert_true(session_state_allowed(from, SESSION_LOGIN_IDLE));
        assert_int_equal(session_state_allowed(from, SESSION_PLAY),
                         from == SESSION_LOGIN_REREADING);
        assert_false(session_state_allowed(SESSION_PLAY, from));
        assert_false(session_state_allowed(from, from));
    }
    assert_false(session_state_allowed(SESSION_STATES, SESSION_LOGIN_IDLE));
    assert_string_equal(session_state_name(SESSION_LOGIN_CLAIMING), "login_claiming");
    /* A resume token stands in for the password check: on to the claim or the re-read. */
    assert_true(session_state_allowed(SESSION_LOGIN_IDLE, SESSION_RESUME_FINDING));
    assert_true(session_state_allowed(SESSION_RESUME_FINDING, SESSION_LOGIN_CLAIMING));
    assert_true(session_state_allowed(SESSION_RESUME_FINDING, SESSION_LOGIN_REREADING));
    assert_false(session_state_allowed(SESSION_RESUME_FINDING, SESSION_LOGIN_VERIFYING));
    assert_string_equal(session_state_name(SESSION_RESUME_FINDING), "resume_finding");
    assert_string_equal(session_state_name(SESSION_STATES), "?");
}

/* ---- the fake outbox: the last packet pushed to each link ---- */

typedef struct fake_link {
    session *s;
    char last[256]; /* the last packet pushed, as text */
    size_t pushes;
    char token[64]; /* the last cmmo.v2 resume token pushed, or "" */
} fake_link;

static size_t closes;

static void fake_push(void *ctx, void *link, rcbuf *const *msgs, size_t n)
{
    fake_link *l = link;
    for (size_t i = 0; i < n; i++) {
        size_t len = msgs[i]->len < sizeof l->last - 1 ? msgs[i]->len : sizeof l->last - 1;
        memcpy(l->last, rcbuf_data(msgs[i]), len);
        l->last[len] = '\0';
        l->pushes++;
        static const char token_head[] = "{\"a\":\"Token\",\"p0\":\"";
        if (strncmp(l->last, token_head, sizeof token_head - 1) == 0)
            snprintf(l->token, sizeof l->token, "%.43s", l->last + sizeof token_head - 1);
    }
}

static void fake_close(void *ctx, void *link, game_close_reason why)
{
    closes++;
}

static void fake_resume(void *ctx, void *link) {}

static rcbuf *fake_pack(void *ctx, rcbuf *const *msgs, size_t n)
{
    return rcbuf_ref(msgs[0]); /* never used with one viewer */
}

static const game_outbox fake_outbox = {fake_push, fake_close, fake_resume, fake_pack, NULL};

/* ---- the fake cluster: claims answered when the test says so ---- */

static struct fake_cluster {
    int fail;     /* claim returns -1 */
    int answered; /* the result handed to done when the test calls answer_claim */
    void (*done)(void *user, int result);
    void *user;
    size_t claims, releases;
} cluster;

static int fake_claim(void *ctx, int64_t actor_id, void (*done)(void *user, int result), void *user)
{
    cluster.claims++;
    if (cluster.fail) return -1;
    cluster.done = done;
    cluster.user = user;
    return 0;
}

static void fake_release(void *ctx, int64_t actor_id)
{
    cluster.releases++;
}

static void fake_chat(void *ctx, const char *name, size_t name_len, const char *text, size_t len) {}

static const game_cluster_ops fake_cluster_ops = {fake_claim, fake_release, fake_chat};

static void answer_claim(int result)
{
    assert_non_null(cluster.done);
    void (*done)(void *, int) = cluster.done;
    cluster.done = NULL;
    done(cluster.user, result);
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

static char db_path[64]; /* the file store of the store-failure tests, or "" */

static int open_game(const char *url)
{
    if (uv_loop_init(&loop) != 0) return -1;
    st = store_open(&loop, url);
    au = auth_create(workpool_create(&loop, 1, 1, "auth"));
    if (!st || !au) return -1;
    now_us = 1000000;
    closes = 0;
    memset(&cluster, 0, sizeof cluster);
    game_clock clock = {fake_now_us, NULL};
    game_config config = {.world_width = 1344,
                          .world_height = 832,
                          .tick_hz = 20,
                          .save_interval_ms = 1000,
                          .resume_ttl_s = 3600};
    g = game_create(&clock, &config, &fake_outbox, st, au);
    return g ? 0 : -1;
}

static int setup(void **state)
{
    db_path[0] = '\0';
    return open_game("sqlite::memory:");
}

/* A store in a file, so that the test can break it from a second connection. */
static int setup_file(void **state)
{
    snprintf(db_path, sizeof db_path, "/tmp/cmmo-test-session-%d.db", (int)getpid());
    unlink(db_path);
    char url[80];
    snprintf(url, sizeof url, "sqlite:%s", db_path);
    return open_game(url);
}

/* The store fails from now on: its account table is gone from under it. */
static void break_store(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE user RENAME TO user_gone", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static int teardown(void **state)
{
    auth_destroy(au);
    store_close(st);
    game_destroy(g);
    for (int i = 0; i < 100 && uv_loop_close(&loop) == UV_EBUSY; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    if (db_path[0]) unlink(db_path);
    return 0;
}

/* Runs the loop until the session has left `from` (a store, auth or cluster step answered). */
static void run_while_in(fake_link *l, const char *from)
{
    for (int i = 0; i < 10000 && strcmp(game_session_state_name(l->s), from) == 0; i++)
        uv_run(&loop, UV_RUN_ONCE);
}

static void run_until_idle(void)
{
    for (int i = 0; i < 10000 && !game_idle(g); i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(game_idle(g));
}

static void open_link(fake_link *l)
{
    memset(l, 0, sizeof *l);
    l->s = game_session_open(g, l, "192.0.2.1");
    assert_non_null(l->s);
}

static void send_and_settle(fake_link *l, const char *text)
{
    game_session_message(g, l->s, (const uint8_t *)text, strlen(text));
    game_tick(g);
    run_until_idle();
    game_check(g);
}

#define REGISTER(name, pw) "{\"a\":\"Register\",\"p0\":\"" name "\",\"p1\":\"" pw "\",\"p2\":1}"
#define LOGIN(name, pw) "{\"a\":\"Login\",\"p0\":\"" name "\",\"p1\":\"" pw "\"}"
#define OK "{\"a\":\"Ok\"}"

static void expect_deny(const fake_link *l, const char *reason)
{
    char want[200];
    snprintf(want, sizeof want, "{\"a\":\"Deny\",\"p0\":\"%s\"}", reason);
    assert_string_equal(l->last, want);
}

static void close_link(fake_link *l)
{
    game_session_closed(g, l->s);
    game_tick(g);
    run_until_idle();
    game_tick(g);
    game_check(g);
}

/* ---- Register ---- */

static void test_register_answers_ok_and_leaves_the_session_in_login(void **state)
{
    fake_link l;
    open_link(&l);
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    send_and_settle(&l, REGISTER("alice", "Password1"));
    assert_string_equal(l.last, OK);
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    assert_int_equal(game_get_counters(g)->registrations, 1);
    close_link(&l);
}

static void test_register_of_a_taken_name_is_denied(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    send_and_settle(&l, REGISTER("ALICE", "Password2"));
    expect_deny(&l, "This username is already taken");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    close_link(&l);
}

/* Refused before any asynchronous step: the session never leaves LOGIN_IDLE. */
static void test_register_of_the_reserved_name_is_denied_at_once(void **state)
{
    fake_link l;
    open_link(&l);
    game_session_message(g, l.s, (const uint8_t *)REGISTER("server", "Password1"),
                         strlen(REGISTER("server", "Password1")));
    game_tick(g);
    assert_true(game_idle(g));
    expect_deny(&l, "This username is reserved");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    close_link(&l);
}

/* Ten registrations a minute from one address; the eleventh is told how long to wait. */
static void test_the_eleventh_registration_from_one_address_is_throttled(void **state)
{
    fake_link l;
    open_link(&l);
    char msg[128];
    for (int i = 0; i < 11; i++) {
        snprintf(msg, sizeof msg,
                 "{\"a\":\"Register\",\"p0\":\"user%d\",\"p1\":\"Password1\",\"p2\":1}", i);
        send_and_settle(&l, msg);
        if (i < 10) assert_string_equal(l.last, OK);
    }
    expect_deny(&l, "Too many registrations from your address, try again in 60 seconds");
    close_link(&l);
}

/* While the chain waits for the store, the session is busy and later messages wait in order. */
static void test_a_register_in_progress_holds_the_queue_until_answered(void **state)
{
    fake_link l;
    open_link(&l);
    const char *reg = REGISTER("alice", "Password1");
    const char *login = LOGIN("alice", "Password1");
    game_session_message(g, l.s, (const uint8_t *)reg, strlen(reg));
    game_session_message(g, l.s, (const uint8_t *)login, strlen(login));
    game_tick(g);
    assert_string_equal(game_session_state_name(l.s), "register_checking");
    assert_false(game_idle(g));
    assert_int_equal(l.pushes, 0);
    run_until_idle();
    assert_string_equal(l.last, OK);
    game_tick(g); /* now the Login */
    run_until_idle();
    assert_string_equal(game_session_state_name(l.s), "play");
    game_check(g);
    close_link(&l);
}

/* ---- Login ---- */

static void test_login_after_register_enters_play(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    send_and_settle(&l, LOGIN("alice", "Password1"));
    assert_string_equal(game_session_state_name(l.s), "play");
    assert_int_equal(game_player_count(g), 1);
    assert_int_equal(game_get_counters(g)->logins_ok, 1);
    close_link(&l);
    assert_int_equal(game_session_count(g), 0);
}

static void test_login_of_an_unknown_user_is_denied_as_incorrect(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, LOGIN("nobody", "Password1"));
    expect_deny(&l, "Username or password incorrect");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    assert_int_equal(game_get_counters(g)->logins_failed, 1);
    close_link(&l);
}

static void test_login_with_a_wrong_password_is_denied_as_incorrect(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    send_and_settle(&l, LOGIN("alice", "Password2"));
    expect_deny(&l, "Username or password incorrect");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    assert_int_equal(game_player_count(g), 0);
    close_link(&l);
}

/* Five wrong passwords for one account, then the account is locked out for a minute. */
static void test_the_sixth_failed_login_in_a_minute_is_throttled(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    for (int i = 0; i < 5; i++) {
        send_and_settle(&l, LOGIN("alice", "Wrong1234"));
        expect_deny(&l, "Username or password incorrect");
    }
    send_and_settle(&l, LOGIN("alice", "Password1"));
    expect_deny(&l, "Too many failed attempts, try again in 60 seconds");
    assert_int_equal(game_get_counters(g)->logins_throttled, 1);
    now_us += 61 * 1000000ull;
    send_and_settle(&l, LOGIN("alice", "Password1"));
    assert_string_equal(game_session_state_name(l.s), "play");
    close_link(&l);
}

static void test_a_second_login_of_a_playing_account_is_denied(void **state)
{
    fake_link a, b;
    open_link(&a);
    open_link(&b);
    send_and_settle(&a, REGISTER("alice", "Password1"));
    send_and_settle(&a, LOGIN("alice", "Password1"));
    send_and_settle(&b, LOGIN("alice", "Password1"));
    expect_deny(&b, "You are already logged in");
    assert_string_equal(game_session_state_name(b.s), "login_idle");
    assert_int_equal(game_player_count(g), 1);
    close_link(&b);
    close_link(&a);
}

/* The store fails: Login and Register answer "Server busy" and the session can try again. */
static void test_a_store_failure_answers_server_busy_and_returns_to_login(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    assert_string_equal(l.last, OK);
    break_store();
    send_and_settle(&l, LOGIN("alice", "Password1"));
    expect_deny(&l, "Server busy, try again");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    send_and_settle(&l, REGISTER("bob", "Password1"));
    expect_deny(&l, "Server busy, try again");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    assert_int_equal(game_player_count(g), 0);
    close_link(&l);
}

/* A connection that goes away while its password is checked never joins the world, and its
 * session is freed once the check has answered. */
static void test_a_connection_gone_mid_check_never_joins(void **state)
{
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    const char *login = LOGIN("alice", "Password1");
    game_session_message(g, l.s, (const uint8_t *)login, strlen(login));
    game_tick(g);
    run_while_in(&l, "login_finding");
    assert_string_equal(game_session_state_name(l.s), "login_verifying");
    size_t pushes = l.pushes;
    game_session_closed(g, l.s);
    game_tick(g);
    assert_int_equal(game_session_count(g), 1); /* still waiting for the hash */
    run_until_idle();
    game_tick(g);
    game_check(g);
    assert_int_equal(game_session_count(g), 0);
    assert_int_equal(game_player_count(g), 0);
    assert_int_equal(l.pushes, pushes);
}

/* ---- Login in a cluster: the presence claim ---- */

static void test_a_claim_taken_elsewhere_is_denied_as_already_logged_in(void **state)
{
    game_set_cluster(g, &fake_cluster_ops, NULL);
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    const char *login = LOGIN("alice", "Password1");
    game_session_message(g, l.s, (const uint8_t *)login, strlen(login));
    game_tick(g);
    run_while_in(&l, "login_finding");
    run_while_in(&l, "login_verifying");
    assert_string_equal(game_session_state_name(l.s), "login_claiming");
    assert_false(game_idle(g));
    answer_claim(GAME_CLAIM_TAKEN);
    expect_deny(&l, "You are already logged in");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    assert_true(game_idle(g));
    game_check(g);
    close_link(&l);
}

static void test_a_granted_claim_rereads_and_enters_play(void **state)
{
    game_set_cluster(g, &fake_cluster_ops, NULL);
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    const char *login = LOGIN("alice", "Password1");
    game_session_message(g, l.s, (const uint8_t *)login, strlen(login));
    game_tick(g);
    run_while_in(&l, "login_finding");
    run_while_in(&l, "login_verifying");
    answer_claim(GAME_CLAIM_OK);
    assert_string_equal(game_session_state_name(l.s), "login_rereading");
    run_until_idle();
    assert_string_equal(game_session_state_name(l.s), "play");
    close_link(&l);
    for (int i = 0; i < 10000 && cluster.releases == 0; i++) /* the final save */
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(cluster.releases, 1); /* given up once the position is saved */
}

/* A granted claim while another node still publishes the player (a remote actor with its id,
 * a stale grant): the Login is refused before Ok, never Ok followed by Deny. */
static void test_a_player_still_mirrored_from_another_node_is_refused_before_ok(void **state)
{
    game_set_cluster(g, &fake_cluster_ops, NULL);
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    const char *login = LOGIN("alice", "Password1");
    game_session_message(g, l.s, (const uint8_t *)login, strlen(login));
    game_tick(g);
    run_while_in(&l, "login_finding");
    run_while_in(&l, "login_verifying");
    answer_claim(GAME_CLAIM_OK);
    game_actor other = {.actor_id = 1, .user_id = 1, .name = "alice"};
    assert_int_equal(game_remote_join(g, &other), 0);
    size_t before = l.pushes;
    run_until_idle();
    assert_int_equal(l.pushes, before + 1); /* the Deny alone: no Ok */
    expect_deny(&l, "You are already logged in");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    assert_int_equal(cluster.releases, 1); /* the claim is given back */
    close_link(&l);
}

static void test_a_claim_that_cannot_be_asked_answers_server_busy(void **state)
{
    game_set_cluster(g, &fake_cluster_ops, NULL);
    cluster.fail = 1;
    fake_link l;
    open_link(&l);
    send_and_settle(&l, REGISTER("alice", "Password1"));
    send_and_settle(&l, LOGIN("alice", "Password1"));
    assert_int_equal(cluster.claims, 1);
    expect_deny(&l, "Server busy, try again");
    assert_string_equal(game_session_state_name(l.s), "login_idle");
    close_link(&l);
}

/* ---- cmmo.v2: resume tokens, who is around ---- */

#define RESUME_DENIED "Resume token invalid or expired"

/* A cmmo.v2 link registered and logged in with the password as name; its token in l->token. */
static void v2_play(fake_link *l, const char *name)
{
    char msg[160];
    open_link(l);
    game_session_set_v2(l->s);
    snprintf(msg, sizeof msg, "{\"a\":\"Register\",\"p0\":\"%s\",\"p1\":\"Password1\",\"p2\":1}",
             name);
    send_and_settle(l, msg);
    snprintf(msg, sizeof msg, "{\"a\":\"Login\",\"p0\":\"%s\",\"p1\":\"Password1\"}", name);
    send_and_settle(l, msg);
    assert_string_equal(game_session_state_name(l->s), "play");
    game_tick(g); /* the token is sent once the store has it */
    run_until_idle();
    for (int i = 0; i < 1000 && store_pending(st) > 0; i++)
        uv_run(&loop, UV_RUN_ONCE);
}

static void send_resume(fake_link *l, const char *name, const char *token)
{
    char msg[160];
    snprintf(msg, sizeof msg, "{\"a\":\"Resume\",\"p0\":\"%s\",\"p1\":\"%s\"}", name, token);
    send_and_settle(l, msg);
}

/* Runs the store's queue dry (requests the game does not wait for: issuing, revoking). */
static void run_store(void)
{
    for (int i = 0; i < 10000 && store_pending(st) > 0; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(store_pending(st), 0);
}

static void test_a_v2_login_gets_a_token_that_resumes_on_another_connection(void **state)
{
    fake_link a, b;
    v2_play(&a, "alice");
    assert_int_equal(strlen(a.token), 43);
    close_link(&a);
    open_link(&b);
    game_session_set_v2(b.s);
    send_resume(&b, "ALICE", a.token);
    assert_string_equal(game_session_state_name(b.s), "play");
    assert_int_equal(game_get_counters(g)->logins_ok, 2);
    run_store();
    game_tick(g);
    assert_string_equal(b.token, ""); /* a resume issues no new token */
    assert_string_equal(b.last, "{\"a\":\"Players\",\"p0\":1,\"p1\":[\"alice\"]}");
    close_link(&b);
}

static void test_a_legacy_session_gets_no_token_and_resume_is_an_unknown_action(void **state)
{
    fake_link a, b, c;
    v2_play(&a, "alice");
    open_link(&b);
    send_and_settle(&b, REGISTER("bob", "Password1"));
    send_and_settle(&b, LOGIN("bob", "Password1"));
    run_store();
    game_tick(g);
    assert_string_equal(b.token, "");
    assert_null(strstr(b.last, "Players"));
    open_link(&c); /* legacy */
    send_resume(&c, "alice", a.token);
    expect_deny(&c, "Unknown action");
    assert_string_equal(game_session_state_name(c.s), "login_idle");
    close_link(&c);
    close_link(&b);
    close_link(&a);
}

static void test_forged_malformed_or_other_accounts_tokens_are_denied_and_throttled(void **state)
{
    fake_link a, b, c;
    v2_play(&a, "alice");
    v2_play(&b, "bob");
    close_link(&b);
    open_link(&c);
    game_session_set_v2(c.s);
    send_resume(&c, "bob", a.token); /* alice's token, bob's name */
    expect_deny(&c, RESUME_DENIED);
    send_resume(&c, "alice", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect_deny(&c, RESUME_DENIED);
    send_resume(&c, "alice", "short"); /* never reaches the store, still an answer */
    expect_deny(&c, RESUME_DENIED);
    send_and_settle(&c, "{\"a\":\"Resume\",\"p0\":\"alice\"}");
    expect_deny(&c, "Malformed Resume");
    /* Failures of the address, like wrong passwords: 20 a minute. Two counted above. */
    for (int i = 0; i < 18; i++)
        send_resume(&c, "bob", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    send_resume(&c, "bob", b.token);
    expect_deny(&c, "Too many failed attempts, try again in 60 seconds");
    now_us += 61 * 1000000ull;
    send_resume(&c, "bob", b.token);
    assert_string_equal(game_session_state_name(c.s), "play");
    close_link(&c);
    close_link(&a);
}

static void test_a_resume_closes_the_accounts_other_connection_and_gets_in_after(void **state)
{
    fake_link a, b;
    v2_play(&a, "alice");
    open_link(&b);
    game_session_set_v2(b.s);
    size_t before = closes;
    send_resume(&b, "alice", a.token);
    expect_deny(&b, "You are already logged in");
    assert_int_equal(closes, before + 1);
    close_link(&a); /* the network reports the kicked connection gone */
    send_resume(&b, "alice", a.token);
    assert_string_equal(game_session_state_name(b.s), "play");
    close_link(&b);
}

static void test_logout_and_revoking_the_account_end_its_tokens(void **state)
{
    fake_link a, b, c;
    v2_play(&a, "alice");
    char first[64];
    snprintf(first, sizeof first, "%s", a.token);
    send_and_settle(&a, "{\"a\":\"Logout\"}");
    close_link(&a);
    run_store();
    open_link(&b);
    game_session_set_v2(b.s);
    send_resume(&b, "alice", first);
    expect_deny(&b, RESUME_DENIED);
    send_and_settle(&b, LOGIN("alice", "Password1"));
    run_store();
    game_tick(g);
    assert_int_equal(strlen(b.token), 43);
    close_link(&b);
    assert_int_equal(game_revoke_resume_tokens(g, "ALICE"), 0); /* what a ban calls */
    run_store();
    open_link(&c);
    game_session_set_v2(c.s);
    send_resume(&c, "alice", b.token);
    expect_deny(&c, RESUME_DENIED);
    close_link(&c);
}

/* A token is no way around a ban: a ban made through the game revokes the account's tokens, and
 * one recorded in the database alone (cmmo-admin with no server) is checked at resume as at a
 * password login. */
static void test_a_banned_account_cannot_resume(void **state)
{
    fake_link a, b, c;
    v2_play(&a, "alice");
    char token[64];
    snprintf(token, sizeof token, "%s", a.token);
    close_link(&a);
    run_store();
    /* In the database only: the token is still there, the ban is what refuses it. */
    assert_int_equal(store_set_sanction(st, "alice", STORE_BAN, 0, "cheating", NULL, NULL), 0);
    run_store();
    open_link(&b);
    game_session_set_v2(b.s);
    send_resume(&b, "alice", token);
    expect_deny(&b, "You are banned: cheating");
    close_link(&b);
    /* Through the game: the token itself is gone. */
    assert_int_equal(store_clear_sanction(st, "alice", STORE_BAN, NULL, NULL), 0);
    run_store();
    game_sanction for_good = {.ends_at = 0, .seconds = 0, .reason = ""};
    assert_int_equal(game_ban(g, "alice", &for_good), 0);
    run_store();
    assert_int_equal(store_clear_sanction(st, "alice", STORE_BAN, NULL, NULL), 0);
    run_store();
    open_link(&c);
    game_session_set_v2(c.s);
    send_resume(&c, "alice", token);
    expect_deny(&c, RESUME_DENIED);
    close_link(&c);
}

static void test_v2_players_are_told_who_joins_and_leaves_legacy_or_not(void **state)
{
    fake_link a, b;
    v2_play(&a, "alice");
    open_link(&b);
    send_and_settle(&b, REGISTER("bob", "Password1"));
    send_and_settle(&b, LOGIN("bob", "Password1"));
    assert_string_equal(a.last, "{\"a\":\"Joined\",\"p0\":\"bob\",\"p1\":2}");
    close_link(&b);
    assert_string_equal(a.last, "{\"a\":\"Left\",\"p0\":\"bob\",\"p1\":1}");
    send_and_settle(&a, "{\"a\":\"Ping\",\"p0\":42}");
    assert_string_equal(a.last, "{\"a\":\"Pong\",\"p0\":42.0}");
    close_link(&a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_illegal_session_move_aborts_and_a_legal_one_moves),
        cmocka_unit_test(test_waiting_states_fall_back_to_idle_and_only_the_reread_enters_play),
        T(test_register_answers_ok_and_leaves_the_session_in_login),
        T(test_register_of_a_taken_name_is_denied),
        T(test_register_of_the_reserved_name_is_denied_at_once),
        T(test_the_eleventh_registration_from_one_address_is_throttled),
        T(test_a_register_in_progress_holds_the_queue_until_answered),
        T(test_login_after_register_enters_play),
        T(test_login_of_an_unknown_user_is_denied_as_incorrect),
        T(test_login_with_a_wrong_password_is_denied_as_incorrect),
        T(test_the_sixth_failed_login_in_a_minute_is_throttled),
        T(test_a_second_login_of_a_playing_account_is_denied),
        cmocka_unit_test_setup_teardown(
            test_a_store_failure_answers_server_busy_and_returns_to_login, setup_file, teardown),
        T(test_a_connection_gone_mid_check_never_joins),
        T(test_a_claim_taken_elsewhere_is_denied_as_already_logged_in),
        T(test_a_granted_claim_rereads_and_enters_play),
        T(test_a_claim_that_cannot_be_asked_answers_server_busy),
        T(test_a_player_still_mirrored_from_another_node_is_refused_before_ok),
        T(test_a_v2_login_gets_a_token_that_resumes_on_another_connection),
        T(test_a_legacy_session_gets_no_token_and_resume_is_an_unknown_action),
        T(test_forged_malformed_or_other_accounts_tokens_are_denied_and_throttled),
        T(test_a_resume_closes_the_accounts_other_connection_and_gets_in_after),
        T(test_logout_and_revoking_the_account_end_its_tokens),
        T(test_v2_players_are_told_who_joins_and_leaves_legacy_or_not),
        T(test_a_banned_account_cannot_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
