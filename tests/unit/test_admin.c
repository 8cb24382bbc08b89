/* Unit tests for the operator channel on a fake game: admin_command (server/admin_cmd) driven
 * directly against a fake behind admin_ops, for each command, its replies and its bad input;
 * then the whole admin (admin_start_ops) on a real Unix socket in a temporary directory, for
 * what the operator's client sees of the bounds (line length, connection count). The idle bound
 * and the rest of the socket's behaviour are net/lineserver's, tested in test_lineserver.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/admin.h"
#include "server/admin_cmd.h"
#include "unix_client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- the fake game */

typedef struct fake_player {
    const char *name;
    int64_t actor_id;
    double x, y;
    const char *peer;
} fake_player;

typedef struct fake_game {
    const fake_player *players;
    size_t player_count;
    int each_calls, kick_calls, broadcast_calls, moderate_calls, audit_calls;
    char kicked[64], said[512];
    int what; /* the last moderate call's */
    int64_t ends_at, seconds;
    char moderated[64], reason[256];
    char audit[512]; /* the last audit record: "actor|action|target|detail" */
    size_t reach;    /* what broadcast returns */
} fake_game;

static void fake_each_player(void *ctx, admin_player_fn fn, void *user)
{
    fake_game *g = ctx;
    g->each_calls++;
    for (size_t i = 0; i < g->player_count; i++) {
        const fake_player *p = &g->players[i];
        fn(user, p->name, p->actor_id, p->x, p->y, p->peer);
    }
}

/* Any letter case matches, as game_kick does. */
static int fake_kick(void *ctx, const char *name)
{
    fake_game *g = ctx;
    g->kick_calls++;
    snprintf(g->kicked, sizeof g->kicked, "%s", name);
    for (size_t i = 0; i < g->player_count; i++)
        if (strcasecmp(g->players[i].name, name) == 0) return 0;
    return CMMO_ENOTFOUND;
}

static size_t fake_broadcast(void *ctx, const char *text)
{
    fake_game *g = ctx;
    g->broadcast_calls++;
    snprintf(g->said, sizeof g->said, "%s", text);
    return g->reach;
}

static int fake_moderate(void *ctx, int what, const char *name, int64_t ends_at, int64_t seconds,
                         const char *reason)
{
    fake_game *g = ctx;
    g->moderate_calls++;
    g->what = what;
    g->ends_at = ends_at;
    g->seconds = seconds;
    snprintf(g->moderated, sizeof g->moderated, "%s", name);
    snprintf(g->reason, sizeof g->reason, "%s", reason);
    return strlen(reason) > 200 ? -1 : 0; /* as the game refuses a long reason */
}

static void fake_audit(void *ctx, const char *actor, const char *action, const char *target,
                       const char *detail)
{
    fake_game *g = ctx;
    g->audit_calls++;
    snprintf(g->audit, sizeof g->audit, "%s|%s|%s|%s", actor, action, target, detail);
}

static const admin_ops fake_ops = {
    .each_player = fake_each_player,
    .kick = fake_kick,
    .broadcast = fake_broadcast,
    .moderate = fake_moderate,
    .audit = fake_audit,
};

static const fake_player two_players[] = {
    {"alice", 7, 12.25, -3.5, "127.0.0.1"}, {"Bob", 12, 0, 100.04, NULL}, /* no peer known */
};

/* Runs one command line (a C string, or len bytes when it holds a NUL) on g and returns the
 * reply in out; *result gets ADMIN_CMD_*. */
static void run_len(fake_game *g, const char *text, size_t len, char *out, size_t cap, int *result)
{
    char line[4096];
    assert_true(len < sizeof line);
    memcpy(line, text, len);
    line[len] = 0;
    admin_reply r;
    assert_int_equal(admin_reply_init(&r), 0);
    int rc = admin_command(&fake_ops, g, "socket:1000", line, len, &r);
    if (result) *result = rc;
    assert_false(r.failed);
    assert_true(r.len < cap);
    memcpy(out, r.data, r.len);
    out[r.len] = 0;
    admin_reply_free(&r);
}

static void run(fake_game *g, const char *text, char *out, size_t cap, int *result)
{
    run_len(g, text, strlen(text), out, cap, result);
}

/* ---------------------------------------------------------------- commands */

static void test_admin_online_lists_every_player_then_the_count(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[512];
    int result;
    run(&g, "online", out, sizeof out, &result);
    assert_string_equal(out, "player alice 7 12.2 -3.5 127.0.0.1\n"
                             "player Bob 12 0.0 100.0 -\n"
                             "OK 2 online\n");
    assert_int_equal(result, ADMIN_CMD_CONTINUE);
    assert_int_equal(g.each_calls, 1);
}

static void test_admin_online_with_nobody_says_zero(void **state)
{
    fake_game g = {0};
    char out[64];
    run(&g, "online", out, sizeof out, NULL);
    assert_string_equal(out, "OK 0 online\n");
}

static void test_admin_online_shows_a_dash_for_an_unknown_peer(void **state)
{
    static const fake_player no_peer[] = {{"carol", 3, 1, 2, ""}};
    fake_game g = {.players = no_peer, .player_count = 1};
    char out[128];
    run(&g, "online", out, sizeof out, NULL);
    assert_string_equal(out, "player carol 3 1.0 2.0 -\nOK 1 online\n");
}

static void test_admin_online_takes_no_argument(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[64];
    run(&g, "online now", out, sizeof out, NULL);
    assert_string_equal(out, "ERR unknown command (try help)\n");
    assert_int_equal(g.each_calls, 0);
}

static void test_admin_kick_closes_the_named_player(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[64];
    run(&g, "kick bob", out, sizeof out, NULL);
    assert_string_equal(out, "OK kicked bob\n");
    assert_string_equal(g.kicked, "bob");
}

static void test_admin_kick_of_someone_offline_says_not_online(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[64];
    run(&g, "kick carol", out, sizeof out, NULL);
    assert_string_equal(out, "ERR not online: carol\n");
    assert_int_equal(g.kick_calls, 1);
}

static void test_admin_kick_of_a_bad_name_never_reaches_the_game(void **state)
{
    static const char *const bad[] = {
        "kick",                       /* no name */
        "kick ",                      /* empty name */
        "kick a b",                   /* a space */
        "kick al!ce",                 /* not a name character */
        "kick abcdefghijklmnopqrstu", /* 21 characters, one too many */
        "kick \xc3\xa9t\xc3\xa9",     /* not ASCII */
    };
    fake_game g = {.players = two_players, .player_count = 2};
    char out[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run(&g, bad[i], out, sizeof out, NULL);
        assert_string_equal(out, "ERR usage: kick NAME (1 to 20 letters, digits, _ or -)\n");
    }
    assert_int_equal(g.kick_calls, 0);
    run(&g, "kick abcdefghijklmnopqrst", out, sizeof out, NULL); /* 20: the longest name */
    assert_int_equal(g.kick_calls, 1);
}

static void test_admin_broadcast_says_the_text_and_how_many_it_reached(void **state)
{
    fake_game g = {.reach = 3};
    char out[64];
    run(&g, "broadcast Restart in 5 minutes", out, sizeof out, NULL);
    assert_string_equal(out, "OK reached 3\n");
    assert_string_equal(g.said, "Restart in 5 minutes");
}

static void test_admin_broadcast_of_nothing_after_cleaning_is_refused(void **state)
{
    fake_game g = {.reach = 3};
    char out[64];
    run(&g, "broadcast", out, sizeof out, NULL);
    assert_string_equal(out, "ERR nothing to say\n");
    run(&g, "broadcast    ", out, sizeof out, NULL);
    assert_string_equal(out, "ERR nothing to say\n");
    assert_int_equal(g.broadcast_calls, 0);
}

static void test_admin_broadcast_of_invalid_utf8_is_refused(void **state)
{
    fake_game g = {.reach = 3};
    char out[64];
    run(&g, "broadcast bad \xff byte", out, sizeof out, NULL);
    assert_string_equal(out, "ERR text must be UTF-8\n");
    assert_int_equal(g.broadcast_calls, 0);
}

static void test_admin_ban_records_applies_and_audits_with_the_socket_peer(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[512];
    int64_t before = (int64_t)time(NULL);
    run(&g, "ban alice 2h spamming the chat", out, sizeof out, NULL);
    assert_int_equal(strncmp(out, "OK banned alice until ", 22), 0);
    assert_int_equal(g.moderate_calls, 1);
    assert_int_equal(g.what, ADMIN_BAN);
    assert_string_equal(g.moderated, "alice");
    assert_int_equal(g.seconds, 7200);
    assert_true(g.ends_at >= before + 7200 && g.ends_at <= before + 7260);
    assert_string_equal(g.reason, "spamming the chat");
    assert_string_equal(g.audit, "socket:1000|ban|alice|2h; spamming the chat");
    run(&g, "mute Bob forever", out, sizeof out, NULL);
    assert_string_equal(out, "OK muted Bob for good\n");
    assert_int_equal(g.what, ADMIN_MUTE);
    assert_int_equal(g.ends_at, 0);
    assert_int_equal(g.seconds, 0);
    assert_string_equal(g.reason, "");
    assert_string_equal(g.audit, "socket:1000|mute|Bob|forever");
    run(&g, "unmute Bob", out, sizeof out, NULL);
    assert_string_equal(out, "OK unmuted Bob\n");
    assert_int_equal(g.what, ADMIN_UNMUTE);
    run(&g, "unban alice", out, sizeof out, NULL);
    assert_string_equal(out, "OK unbanned alice\n");
    assert_string_equal(g.audit, "socket:1000|unban|alice|");
    assert_int_equal(g.audit_calls, 4);
}

static void test_admin_ban_and_mute_refuse_bad_names_durations_and_reasons(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[1024];
    static const char *const bad[] = {
        "ban",         "ban alice",      "ban alice 0h",    "ban alice 3x",
        "ban alice h", "ban alice 10",   "ban bad!name 1h", "mute alice 99999999999w",
        "unban",       "unban alice 1h", "unmute a b",      "ban alice -1h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run(&g, bad[i], out, sizeof out, NULL);
        if (strncmp(out, "ERR usage: ", 11) != 0) fail_msg("%s: %s", bad[i], out);
    }
    assert_int_equal(g.moderate_calls, 0);
    char line[400];
    snprintf(line, sizeof line, "ban alice 1d %0300d", 7);
    run(&g, line, out, sizeof out, NULL);
    assert_int_equal(strncmp(out, "ERR not done", 12), 0);
    assert_int_equal(g.audit_calls, 0); /* nothing done, nothing recorded */
}

static void test_admin_parse_duration_reads_units_and_forever(void **state)
{
    int64_t s = -1;
    assert_int_equal(admin_parse_duration("forever", &s), 0);
    assert_int_equal(s, 0);
    assert_int_equal(admin_parse_duration("90s", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(admin_parse_duration("30m", &s), 0);
    assert_int_equal(s, 1800);
    assert_int_equal(admin_parse_duration("7d", &s), 0);
    assert_int_equal(s, 604800);
    assert_int_equal(admin_parse_duration("2w", &s), 0);
    assert_int_equal(s, 1209600);
    assert_int_equal(admin_parse_duration("522w", &s), 0);
    assert_int_equal(admin_parse_duration("523w", &s), CMMO_EINVALID); /* over ten years */
    assert_int_equal(admin_parse_duration("", &s), CMMO_EINVALID);
    assert_int_equal(admin_parse_duration("1", &s), CMMO_EINVALID);
    assert_int_equal(admin_parse_duration("1hh", &s), CMMO_EINVALID);
    assert_int_equal(admin_parse_duration("0d", &s), CMMO_EINVALID);
}

static void test_admin_kick_and_broadcast_are_audited(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    g.reach = 2;
    char out[256];
    run(&g, "kick alice", out, sizeof out, NULL);
    assert_string_equal(g.audit, "socket:1000|kick|alice|");
    run(&g, "kick nobody", out, sizeof out, NULL);
    assert_int_equal(g.audit_calls, 1); /* not online: nothing done */
    run(&g, "broadcast Restart soon", out, sizeof out, NULL);
    assert_string_equal(g.audit, "socket:1000|broadcast||reached 2");
}

static void test_admin_help_lists_the_commands_then_ok(void **state)
{
    fake_game g = {0};
    char out[1024];
    run(&g, "help", out, sizeof out, NULL);
    assert_string_equal(out,
                        "commands:\n"
                        "  online           players in the world: player NAME ACTOR_ID X Y PEER\n"
                        "  kick NAME        close NAME's connection (1008)\n"
                        "  broadcast TEXT   a chat line from Server to every player\n"
                        "  ban NAME DURATION [REASON]   record a ban and kick NAME if online\n"
                        "  unban NAME       lift NAME's ban\n"
                        "  mute NAME DURATION [REASON]  record a mute, in force at once\n"
                        "  unmute NAME      lift NAME's mute\n"
                        "                   DURATION: forever, or N and s, m, h, d or w\n"
                        "  help             this text\n"
                        "  quit             close this connection\n"
                        "OK\n");
}

static void test_admin_quit_says_bye_and_asks_for_the_close(void **state)
{
    fake_game g = {0};
    char out[64];
    int result;
    run(&g, "quit", out, sizeof out, &result);
    assert_string_equal(out, "OK bye\n");
    assert_int_equal(result, ADMIN_CMD_QUIT);
    run(&g, "quit now", out, sizeof out, &result);
    assert_string_equal(out, "ERR unknown command (try help)\n");
    assert_int_equal(result, ADMIN_CMD_CONTINUE);
}

static void test_admin_empty_unknown_and_nul_lines_are_errors_that_touch_nothing(void **state)
{
    fake_game g = {.players = two_players, .player_count = 2};
    char out[64];
    run(&g, "", out, sizeof out, NULL);
    assert_string_equal(out, "ERR empty command (try help)\n");
    run(&g, "shutdown", out, sizeof out, NULL);
    assert_string_equal(out, "ERR unknown command (try help)\n");
    run(&g, "ONLINE", out, sizeof out, NULL); /* commands are lower case */
    assert_string_equal(out, "ERR unknown command (try help)\n");
    run_len(&g, "kick bob\0x", 10, out, sizeof out, NULL); /* a NUL inside */
    assert_string_equal(out, "ERR unknown command (try help)\n");
    run_len(&g, "quit\0", 5, out, sizeof out, NULL);
    assert_string_equal(out, "ERR unknown command (try help)\n");
    assert_int_equal(g.each_calls + g.kick_calls + g.broadcast_calls, 0);
}

/* ---------------------------------------------------------------- on the socket */

typedef struct fixture {
    uv_loop_t loop;
    char dir[64], path[96];
    fake_game game;
    admin *admin;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/cmmo-admin-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/cmmo-admin.sock", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->game = (fake_game){.players = two_players, .player_count = 2, .reach = 2};
    f->admin = admin_start_ops(&f->loop, f->path, &fake_ops, &f->game);
    assert_non_null(f->admin);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    admin_stop(f->admin);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_admin_socket_answers_commands_in_order_and_quit_closes(void **state)
{
    fixture *f = *state;
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    const char *lines = "online\r\nkick alice\nnope\nquit\nhelp\n";
    assert_int_equal(unix_client_send(&c, lines, strlen(lines)), 0);
    assert_true(unix_client_wait(&f->loop, &c, NULL));
    /* Nothing after quit runs. */
    assert_string_equal(c.in, "player alice 7 12.2 -3.5 127.0.0.1\n"
                              "player Bob 12 0.0 100.0 -\n"
                              "OK 2 online\n"
                              "OK kicked alice\n"
                              "ERR unknown command (try help)\n"
                              "OK bye\n");
    assert_int_equal(admin_connection_count(f->admin), 0);
    unix_client_close(&c);
}

static void test_admin_socket_line_over_2048_bytes_is_refused_and_closed(void **state)
{
    fixture *f = *state;
    char line[ADMIN_LINE_MAX + 16];
    memcpy(line, "broadcast ", 10);
    memset(line + 10, 'x', sizeof line - 10);
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, line, sizeof line), 0);
    assert_true(unix_client_wait(&f->loop, &c, NULL));
    assert_string_equal(c.in, "ERR line too long\n");
    assert_int_equal(f->game.broadcast_calls, 0);
    unix_client_close(&c);
}

static void test_admin_socket_line_of_2048_bytes_is_a_command(void **state)
{
    fixture *f = *state;
    char line[ADMIN_LINE_MAX];
    memcpy(line, "broadcast ", 10);
    memset(line + 10, 'x', sizeof line - 10);
    line[sizeof line - 1] = '\n';
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, line, sizeof line), 0);
    assert_true(unix_client_wait(&f->loop, &c, "\n"));
    assert_string_equal(c.in, "OK reached 2\n");
    unix_client_close(&c);
}

static void test_admin_socket_ninth_connection_is_told_too_many(void **state)
{
    fixture *f = *state;
    unix_client c[ADMIN_CONN_MAX + 1];
    for (int i = 0; i <= ADMIN_CONN_MAX; i++)
        assert_int_equal(unix_client_connect(&c[i], f->path), 0);
    assert_true(unix_client_wait(&f->loop, &c[ADMIN_CONN_MAX], NULL));
    assert_string_equal(c[ADMIN_CONN_MAX].in, "ERR too many admin connections\n");
    assert_int_equal(admin_connection_count(f->admin), ADMIN_CONN_MAX);
    for (int i = 0; i < ADMIN_CONN_MAX; i++) {
        assert_int_equal(unix_client_send(&c[i], "online\n", 7), 0);
        assert_true(unix_client_wait(&f->loop, &c[i], "OK 2 online\n"));
    }
    for (int i = 0; i <= ADMIN_CONN_MAX; i++)
        unix_client_close(&c[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admin_online_lists_every_player_then_the_count),
        cmocka_unit_test(test_admin_online_with_nobody_says_zero),
        cmocka_unit_test(test_admin_online_shows_a_dash_for_an_unknown_peer),
        cmocka_unit_test(test_admin_online_takes_no_argument),
        cmocka_unit_test(test_admin_kick_closes_the_named_player),
        cmocka_unit_test(test_admin_kick_of_someone_offline_says_not_online),
        cmocka_unit_test(test_admin_kick_of_a_bad_name_never_reaches_the_game),
        cmocka_unit_test(test_admin_broadcast_says_the_text_and_how_many_it_reached),
        cmocka_unit_test(test_admin_broadcast_of_nothing_after_cleaning_is_refused),
        cmocka_unit_test(test_admin_broadcast_of_invalid_utf8_is_refused),
        cmocka_unit_test(test_admin_help_lists_the_commands_then_ok),
        cmocka_unit_test(test_admin_ban_records_applies_and_audits_with_the_socket_peer),
        cmocka_unit_test(test_admin_ban_and_mute_refuse_bad_names_durations_and_reasons),
        cmocka_unit_test(test_admin_parse_duration_reads_units_and_forever),
        cmocka_unit_test(test_admin_kick_and_broadcast_are_audited),
        cmocka_unit_test(test_admin_quit_says_bye_and_asks_for_the_close),
        cmocka_unit_test(test_admin_empty_unknown_and_nul_lines_are_errors_that_touch_nothing),
        cmocka_unit_test_setup_teardown(test_admin_socket_answers_commands_in_order_and_quit_closes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_admin_socket_line_over_2048_bytes_is_refused_and_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_socket_line_of_2048_bytes_is_a_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_admin_socket_ninth_connection_is_told_too_many, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
