/* Unit tests for net/lineserver: a real Unix socket in a temporary directory, a client in the
 * same process (unix_client.h), and a handler that answers "got LINE" to every line. Small
 * limits (64-byte lines, 2 connections, 200 ms idle) make every bound reachable in a test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/lineserver.h"
#include "unix_client.h"

#include <stdio.h>
#include <sys/stat.h>

#define LINE_MAX_TEST 64
#define CONN_MAX_TEST 2
#define IDLE_MS_TEST 200

typedef struct fixture {
    uv_loop_t loop;
    char dir[64], path[96];
    lineserver_config config;
    lineserver *server;
    int lines;          /* on_line calls */
    size_t last_len;    /* len of the latest line */
    size_t last_strlen; /* strlen of the latest line */
} fixture;

static void on_line(void *user, lineserver_conn *c, char *line, size_t len)
{
    fixture *f = user;
    f->lines++;
    f->last_len = len;
    f->last_strlen = strlen(line);
    char *reply = malloc(len + 6);
    assert_non_null(reply);
    int n = snprintf(reply, len + 6, "got %s\n", line);
    lineserver_send(c, reply, (size_t)n);
    if (strcmp(line, "quit") == 0) lineserver_close_after_output(c);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/cmmo-lineserver-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.sock", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->config = (lineserver_config){
        .path = f->path,
        .log_name = "test",
        .line_max = LINE_MAX_TEST,
        .conn_max = CONN_MAX_TEST,
        .idle_ms = IDLE_MS_TEST,
        .sweep_ms = 20,
        .output_max = 1u << 20,
        .too_long_message = "TOO LONG\n",
        .too_many_message = "TOO MANY\n",
        .idle_message = "IDLE\n",
        .on_line = on_line,
        .user = f,
    };
    f->server = lineserver_start(&f->loop, &f->config);
    assert_non_null(f->server);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lineserver_stop(f->server);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* the close callbacks free the server */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_lineserver_delivers_each_line_without_its_newline_in_order(void **state)
{
    fixture *f = *state;
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, "a\r\nbb\nc", 7), 0);
    assert_true(unix_client_wait(&f->loop, &c, "got bb\n"));
    assert_int_equal(unix_client_send(&c, "cc\n", 3), 0); /* a line split across reads */
    assert_true(unix_client_wait(&f->loop, &c, "got ccc\n"));
    assert_string_equal(c.in, "got a\ngot bb\ngot ccc\n");
    assert_int_equal(f->lines, 3);
    assert_int_equal(lineserver_connection_count(f->server), 1);
    unix_client_close(&c);
}

static void test_lineserver_line_holding_a_nul_comes_whole_with_its_length(void **state)
{
    fixture *f = *state;
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, "ab\0cd\n", 6), 0);
    assert_true(unix_client_wait(&f->loop, &c, "got ab\n"));
    assert_int_equal(f->last_len, 5);
    assert_int_equal(f->last_strlen, 2);
    unix_client_close(&c);
}

static void test_lineserver_line_of_exactly_the_bound_is_accepted(void **state)
{
    fixture *f = *state;
    char line[LINE_MAX_TEST];
    memset(line, 'x', sizeof line);
    line[sizeof line - 1] = '\n'; /* line_max bytes, "\n" included */
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, line, sizeof line), 0);
    assert_true(unix_client_wait(&f->loop, &c, "got xxx"));
    assert_int_equal(f->last_len, LINE_MAX_TEST - 1);
    assert_false(c.eof);
    unix_client_close(&c);
}

static void test_lineserver_overlong_line_gets_the_message_then_a_close(void **state)
{
    fixture *f = *state;
    char line[LINE_MAX_TEST];
    memset(line, 'x', sizeof line); /* line_max bytes and no "\n" yet */
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, line, sizeof line), 0);
    assert_true(unix_client_wait(&f->loop, &c, NULL));
    assert_string_equal(c.in, "TOO LONG\n");
    assert_int_equal(f->lines, 0);
    assert_int_equal(lineserver_connection_count(f->server), 0);
    unix_client_close(&c);
}

static void test_lineserver_connection_past_the_limit_is_told_and_closed(void **state)
{
    fixture *f = *state;
    unix_client a, b, extra, later;
    assert_int_equal(unix_client_connect(&a, f->path), 0);
    assert_int_equal(unix_client_connect(&b, f->path), 0);
    assert_int_equal(unix_client_connect(&extra, f->path), 0);
    assert_true(unix_client_wait(&f->loop, &extra, NULL));
    assert_string_equal(extra.in, "TOO MANY\n");
    /* The two within the limit are served. */
    assert_int_equal(unix_client_send(&a, "one\n", 4), 0);
    assert_int_equal(unix_client_send(&b, "two\n", 4), 0);
    assert_true(unix_client_wait(&f->loop, &a, "got one\n"));
    assert_true(unix_client_wait(&f->loop, &b, "got two\n"));
    assert_int_equal(lineserver_connection_count(f->server), CONN_MAX_TEST);
    /* A slot comes back when a client leaves. */
    assert_int_equal(unix_client_send(&a, "quit\n", 5), 0);
    assert_true(unix_client_wait(&f->loop, &a, NULL));
    assert_int_equal(lineserver_connection_count(f->server), CONN_MAX_TEST - 1);
    assert_int_equal(unix_client_connect(&later, f->path), 0);
    assert_int_equal(unix_client_send(&later, "three\n", 6), 0);
    assert_true(unix_client_wait(&f->loop, &later, "got three\n"));
    unix_client_close(&a);
    unix_client_close(&b);
    unix_client_close(&extra);
    unix_client_close(&later);
}

static void test_lineserver_idle_connection_is_told_and_closed_busy_one_kept(void **state)
{
    fixture *f = *state;
    unix_client idle, busy;
    assert_int_equal(unix_client_connect(&idle, f->path), 0);
    assert_int_equal(unix_client_connect(&busy, f->path), 0);
    int64_t start = unix_client_now_ms();
    /* The busy client sends a line every 50 ms, well inside the 200 ms idle bound. */
    while (!idle.eof && unix_client_now_ms() - start < UNIX_CLIENT_WAIT_MS) {
        assert_int_equal(unix_client_send(&busy, "ping\n", 5), 0);
        unix_client_spin(&f->loop, &idle, 50);
    }
    int64_t took = unix_client_now_ms() - start;
    assert_true(idle.eof);
    assert_string_equal(idle.in, "IDLE\n");
    assert_true(took >= IDLE_MS_TEST);
    unix_client_read(&busy);
    assert_false(busy.eof);
    assert_null(strstr(busy.in, "IDLE"));
    assert_int_equal(lineserver_connection_count(f->server), 1);
    unix_client_close(&idle);
    unix_client_close(&busy);
}

static void test_lineserver_output_queued_before_the_client_half_closes_is_sent(void **state)
{
    fixture *f = *state;
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, "last\n", 5), 0);
    shutdown(c.fd, SHUT_WR);
    assert_true(unix_client_wait(&f->loop, &c, NULL));
    assert_string_equal(c.in, "got last\n");
    unix_client_close(&c);
}

static void test_lineserver_socket_is_mode_0600_and_removed_at_stop(void **state)
{
    fixture *f = *state;
    struct stat st;
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    lineserver_stop(f->server);
    assert_int_not_equal(lstat(f->path, &st), 0);
    f->server = NULL; /* teardown's stop is then a no-op */
}

static void test_lineserver_refuses_a_path_another_server_answers_on(void **state)
{
    fixture *f = *state;
    assert_null(lineserver_start(&f->loop, &f->config));
    /* The first server still answers. */
    unix_client c;
    assert_int_equal(unix_client_connect(&c, f->path), 0);
    assert_int_equal(unix_client_send(&c, "still\n", 6), 0);
    assert_true(unix_client_wait(&f->loop, &c, "got still\n"));
    unix_client_close(&c);
}

static void test_lineserver_replaces_a_stale_socket_and_refuses_other_paths(void **state)
{
    fixture *f = *state;
    lineserver_config config = f->config;
    char path[128];
    /* A socket file nobody listens on: what a killed server leaves behind. */
    snprintf(path, sizeof path, "%s/stale.sock", f->dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    config.path = path;
    lineserver *s = lineserver_start(&f->loop, &config);
    assert_non_null(s);
    lineserver_stop(s);
    /* A regular file is never replaced. */
    snprintf(path, sizeof path, "%s/file", f->dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fclose(file);
    assert_null(lineserver_start(&f->loop, &config));
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(path);
    /* A missing directory, an empty path and one too long for sun_path. */
    snprintf(path, sizeof path, "%s/missing/x.sock", f->dir);
    assert_null(lineserver_start(&f->loop, &config));
    config.path = "";
    assert_null(lineserver_start(&f->loop, &config));
    char long_path[LINESERVER_PATH_MAX + 8];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = 0;
    config.path = long_path;
    assert_null(lineserver_start(&f->loop, &config));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_lineserver_delivers_each_line_without_its_newline_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_lineserver_line_holding_a_nul_comes_whole_with_its_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineserver_line_of_exactly_the_bound_is_accepted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineserver_overlong_line_gets_the_message_then_a_close,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_lineserver_connection_past_the_limit_is_told_and_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_lineserver_idle_connection_is_told_and_closed_busy_one_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_lineserver_output_queued_before_the_client_half_closes_is_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineserver_socket_is_mode_0600_and_removed_at_stop,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineserver_refuses_a_path_another_server_answers_on,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_lineserver_replaces_a_stale_socket_and_refuses_other_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
