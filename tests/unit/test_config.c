/* Unit tests for server/config: defaults, flags (both `--flag value` and `--flag=value`), CMMO_*
 * environment variables, precedence (flag > environment > default), and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const env_names[] = {"CMMO_HOST",      "CMMO_PORT",        "CMMO_DB",
                                        "CMMO_WEB_ROOT",  "CMMO_TICK_HZ",     "CMMO_WORLD",
                                        "CMMO_LOG_LEVEL", "CMMO_VIEW_RADIUS", "CMMO_DRAIN_SECONDS"};

static int clear_env(void **state)
{
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
    return 0;
}

static config cfg;

/* Runs config_load on a NULL-terminated list of arguments (argv[0] added), with stdout and
 * stderr silenced (--help and error messages are not this test's output). */
static int load(const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "cmmo-server";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    int rc = config_load(&cfg, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(devnull);
    return rc;
}

#define NO_ARGS ((const char *)NULL)

static void test_config_defaults(void **state)
{
    assert_int_equal(load(NO_ARGS), 0);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.port, 8081);
    assert_string_equal(cfg.db, "sqlite:data/cmmo.db");
    assert_string_equal(cfg.web_root, "web");
    assert_int_equal(cfg.tick_hz, 20);
    assert_true(cfg.world_width == 1344.0);
    assert_true(cfg.world_height == 832.0);
    assert_int_equal(cfg.log_level, LOG_INFO);
    /* The tutorial map: everyone sees everyone. */
    assert_true(cfg.view_radius == 0.0);
}

static void test_config_flags_set_every_option(void **state)
{
    assert_int_equal(load("--host", "127.0.0.1", "--port", "9000", "--db", "sqlite:/tmp/x.db",
                          "--web-root", "/usr/share", "--tick-hz", "30", "--world", "2000x1000",
                          "--log-level", "debug", "--view-radius", "300", NO_ARGS),
                     0);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.port, 9000);
    assert_string_equal(cfg.db, "sqlite:/tmp/x.db");
    assert_string_equal(cfg.web_root, "/usr/share");
    assert_int_equal(cfg.tick_hz, 30);
    assert_true(cfg.world_width == 2000.0);
    assert_true(cfg.world_height == 1000.0);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_true(cfg.view_radius == 300.0);
}

static void test_config_flags_accept_the_equals_form(void **state)
{
    assert_int_equal(load("--port=0", "--world=64x64", "--log-level=error", NO_ARGS), 0);
    assert_int_equal(cfg.port, 0);
    assert_true(cfg.world_width == 64.0 && cfg.world_height == 64.0);
    assert_int_equal(cfg.log_level, LOG_ERROR);
}

static void test_config_environment_sets_options(void **state)
{
    setenv("CMMO_HOST", "::1", 1);
    setenv("CMMO_PORT", "9100", 1);
    setenv("CMMO_DB", "sqlite:/tmp/env.db", 1);
    setenv("CMMO_WEB_ROOT", "/usr/lib", 1);
    setenv("CMMO_TICK_HZ", "10", 1);
    setenv("CMMO_WORLD", "640x480", 1);
    setenv("CMMO_LOG_LEVEL", "warn", 1);
    assert_int_equal(load(NO_ARGS), 0);
    assert_string_equal(cfg.host, "::1");
    assert_int_equal(cfg.port, 9100);
    assert_string_equal(cfg.db, "sqlite:/tmp/env.db");
    assert_string_equal(cfg.web_root, "/usr/lib");
    assert_int_equal(cfg.tick_hz, 10);
    assert_true(cfg.world_width == 640.0 && cfg.world_height == 480.0);
    assert_int_equal(cfg.log_level, LOG_WARN);
}

static void test_config_flag_wins_over_environment(void **state)
{
    setenv("CMMO_PORT", "9100", 1);
    setenv("CMMO_TICK_HZ", "10", 1);
    assert_int_equal(load("--port", "9200", NO_ARGS), 0);
    assert_int_equal(cfg.port, 9200);
    assert_int_equal(cfg.tick_hz, 10); /* not given as a flag: the environment's */
}

static void test_config_view_radius_defaults_by_world_size(void **state)
{
    assert_int_equal(load("--world", "4000x4000", NO_ARGS), 0);
    assert_true(cfg.view_radius == 600.0);
    assert_int_equal(load("--world", "2048x2048", NO_ARGS), 0);
    assert_true(cfg.view_radius == 0.0);
    assert_int_equal(load("--world", "4000x4000", "--view-radius", "0", NO_ARGS), 0);
    assert_true(cfg.view_radius == 0.0);
}

static void test_config_bounds_are_inclusive(void **state)
{
    assert_int_equal(
        load("--port", "65535", "--tick-hz", "120", "--world", "1000000x1000000", NO_ARGS), 0);
    assert_int_equal(cfg.port, 65535);
    assert_int_equal(cfg.tick_hz, 120);
    assert_int_equal(load("--tick-hz", "1", NO_ARGS), 0);
    assert_int_equal(cfg.tick_hz, 1);
}

static void expect_error(const char *a, const char *b)
{
    int rc = load(a, b, NO_ARGS);
    if (rc != CMMO_ECONFIG) fail_msg("'%s %s' gave %d, not CMMO_ECONFIG", a, b ? b : "", rc);
}

static void test_config_drain_seconds_defaults_to_a_few_and_is_bounded(void **state)
{
    assert_int_equal(load(NO_ARGS), 0);
    assert_int_equal(cfg.drain_seconds, CONFIG_DRAIN_DEFAULT_S);
    assert_int_equal(load("--drain-seconds", "0", NO_ARGS), 0);
    assert_int_equal(cfg.drain_seconds, 0);
    assert_int_equal(load("--drain-seconds=300", NO_ARGS), 0);
    assert_int_equal(cfg.drain_seconds, 300);
    expect_error("--drain-seconds", "301");
    expect_error("--drain-seconds", "-1");
    expect_error("--drain-seconds", "2.5");
}

static void test_config_resume_ttl_defaults_to_a_day_and_is_bounded(void **state)
{
    assert_int_equal(load(NO_ARGS), 0);
    assert_int_equal(cfg.resume_ttl_s, 86400);
    assert_int_equal(load("--resume-ttl", "0", NO_ARGS), 0);
    assert_int_equal(cfg.resume_ttl_s, 0);
    assert_int_equal(load("--resume-ttl=2592000", NO_ARGS), 0);
    assert_int_equal(cfg.resume_ttl_s, 2592000);
    expect_error("--resume-ttl", "2592001");
    expect_error("--resume-ttl", "-1");
    expect_error("--resume-ttl", "1h");
}

static void test_config_refuses_bad_ports(void **state)
{
    expect_error("--port", "99999");
    expect_error("--port", "65536");
    expect_error("--port", "-1");
    expect_error("--port", "abc");
    expect_error("--port", "80x");
    expect_error("--port", "");
    expect_error("--port=", NULL);
}

static void test_config_refuses_bad_world_sizes(void **state)
{
    expect_error("--world", "0x5");
    expect_error("--world", "1344");
    expect_error("--world", "1344x");
    expect_error("--world", "x832");
    expect_error("--world", "63x832");
    expect_error("--world", "1344x832x2");
    expect_error("--world", "1000001x64");
    expect_error("--world", "-1344x832");
}

static void test_config_refuses_bad_tick_rates(void **state)
{
    expect_error("--tick-hz", "0");
    expect_error("--tick-hz", "121");
    expect_error("--tick-hz", "20.5");
    expect_error("--tick-hz", "-20");
}

static void test_config_v2_budget_defaults_to_40_kib_and_takes_0_or_4_and_more(void **state)
{
    assert_int_equal(load(NO_ARGS), 0);
    assert_int_equal(cfg.v2_budget_kib, 40);
    assert_int_equal(load("--compact-budget", "0", NO_ARGS), 0);
    assert_int_equal(cfg.v2_budget_kib, 0);
    setenv("CMMO_COMPACT_BUDGET", "4", 1);
    assert_int_equal(load(NO_ARGS), 0);
    assert_int_equal(cfg.v2_budget_kib, 4);
    unsetenv("CMMO_COMPACT_BUDGET");
    expect_error("--compact-budget", "3");
    expect_error("--compact-budget", "-1");
    expect_error("--compact-budget", "100001");
}

static void test_config_chat_share_is_auto_or_a_percentage_up_to_50(void **state)
{
    assert_int_equal(load(NO_ARGS), 0);
    assert_int_equal(cfg.chat_share, CONFIG_CHAT_SHARE_AUTO);
    assert_int_equal(load("--chat-share", "0", NO_ARGS), 0);
    assert_int_equal(cfg.chat_share, 0);
    assert_int_equal(load("--chat-share", "50", NO_ARGS), 0);
    assert_int_equal(cfg.chat_share, 50);
    setenv("CMMO_CHAT_SHARE", "25", 1);
    assert_int_equal(load(NO_ARGS), 0);
    assert_int_equal(cfg.chat_share, 25);
    assert_int_equal(load("--chat-share", "auto", NO_ARGS), 0);
    assert_int_equal(cfg.chat_share, CONFIG_CHAT_SHARE_AUTO);
    unsetenv("CMMO_CHAT_SHARE");
    expect_error("--chat-share", "51");
    expect_error("--chat-share", "-1");
    expect_error("--chat-share", "5%");
}

static void test_config_refuses_other_bad_values(void **state)
{
    expect_error("--db", "mysql://localhost/cmmo");
    expect_error("--db", "sqlite:");
    expect_error("--log-level", "loud");
    expect_error("--host", "");
    expect_error("--view-radius", "-5");
}

static void test_config_refuses_a_host_that_is_not_an_address(void **state)
{
    /* It used to pass and fail later as listen_failed error=bad_address, naming no setting. */
    expect_error("--host", "foo");
    expect_error("--host", "localhost");
    expect_error("--host", "1.2.3");
    assert_int_equal(load("--host", "::1", NO_ARGS), 0);
    assert_int_equal(load("--host", "127.0.0.1", NO_ARGS), 0);
}

static void test_config_refuses_a_web_root_that_is_not_a_directory(void **state)
{
    /* It used to start and answer 404 for every page. */
    expect_error("--web-root", "/nonexistent-cmmo-web");
    expect_error("--web-root", "/etc/hostname");
    assert_int_equal(load("--web-root", "/tmp", NO_ARGS), 0);
}

static void test_config_refuses_unknown_flags_and_missing_values(void **state)
{
    expect_error("--bogus", NULL);
    expect_error("--portx", "5");
    expect_error("stray", NULL);
    expect_error("--port", NULL); /* needs a value */
}

static void test_config_refuses_bad_environment_values(void **state)
{
    setenv("CMMO_PORT", "not-a-port", 1);
    assert_int_equal(load(NO_ARGS), CMMO_ECONFIG);
    clear_env(state);
    setenv("CMMO_WORLD", "0x5", 1);
    assert_int_equal(load(NO_ARGS), CMMO_ECONFIG);
}

/* Runs config_load with --config on a file holding text; returns its result, with what it
 * printed to stderr in err and the file's path in path. */
static int load_config_file(const char *text, char *path, size_t path_cap, char *err,
                            size_t err_cap)
{
    char file[] = "/tmp/cmmo-test-config-XXXXXX", log[] = "/tmp/cmmo-test-stderr-XXXXXX";
    int fd = mkstemp(file), log_fd = mkstemp(log);
    assert_true(fd >= 0 && log_fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    snprintf(path, path_cap, "%s", file);
    char *argv[] = {"cmmo-server", "--config", file, NULL};
    fflush(stderr);
    int saved_err = dup(2);
    dup2(log_fd, 2);
    int rc = config_load(&cfg, 3, argv);
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    ssize_t n = pread(log_fd, err, err_cap - 1, 0);
    err[n > 0 ? n : 0] = 0;
    close(log_fd);
    unlink(file);
    unlink(log);
    return rc;
}

static void test_config_file_line_without_equals_is_an_error_naming_file_and_line(void **state)
{
    char path[64], err[1024], where[128];
    int rc = load_config_file("# settings\n\nhost = 127.0.0.1\nport 1\n", path, sizeof path, err,
                              sizeof err);
    assert_int_equal(rc, CMMO_ECONFIG);
    snprintf(where, sizeof where, "%s:4", path);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "name = value"));
    assert_non_null(strstr(err, "port 1"));
    /* A lone word is no setting either. */
    rc = load_config_file("port = 9000\nverbose\n", path, sizeof path, err, sizeof err);
    assert_int_equal(rc, CMMO_ECONFIG);
    snprintf(where, sizeof where, "%s:2", path);
    assert_non_null(strstr(err, where));
}

static void test_config_file_accepts_equals_lines_comments_and_blank_lines(void **state)
{
    char path[64], err[1024];
    int rc = load_config_file("# a comment\n\n   \nport=9001\n  tick-hz =  30  # trailing\n"
                              "\thost\t=\t127.0.0.1\n",
                              path, sizeof path, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    assert_int_equal(cfg.port, 9001);
    assert_int_equal(cfg.tick_hz, 30);
    assert_string_equal(cfg.host, "127.0.0.1");
}

static void test_config_file_unknown_setting_names_file_and_line(void **state)
{
    char path[64], err[1024], where[128];
    int rc = load_config_file("port = 9000\ncolour = blue\n", path, sizeof path, err, sizeof err);
    assert_int_equal(rc, CMMO_ECONFIG);
    snprintf(where, sizeof where, "%s:2", path);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "colour"));
}

static void test_config_help_asks_to_exit(void **state)
{
    assert_int_equal(load("--help", NO_ARGS), 0);
    assert_true(cfg.answered);
    assert_int_equal(load("--port", "9000", "--help", NO_ARGS), 0);
    assert_true(cfg.answered);
    assert_int_equal(load("--port", "9000", NO_ARGS), 0);
    assert_false(cfg.answered);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, clear_env, clear_env)
    const struct CMUnitTest tests[] = {
        T(test_config_defaults),
        T(test_config_flags_set_every_option),
        T(test_config_flags_accept_the_equals_form),
        T(test_config_environment_sets_options),
        T(test_config_flag_wins_over_environment),
        T(test_config_view_radius_defaults_by_world_size),
        T(test_config_v2_budget_defaults_to_40_kib_and_takes_0_or_4_and_more),
        T(test_config_chat_share_is_auto_or_a_percentage_up_to_50),
        T(test_config_bounds_are_inclusive),
        T(test_config_drain_seconds_defaults_to_a_few_and_is_bounded),
        T(test_config_resume_ttl_defaults_to_a_day_and_is_bounded),
        T(test_config_refuses_bad_ports),
        T(test_config_refuses_bad_world_sizes),
        T(test_config_refuses_bad_tick_rates),
        T(test_config_refuses_other_bad_values),
        T(test_config_refuses_a_host_that_is_not_an_address),
        T(test_config_refuses_a_web_root_that_is_not_a_directory),
        T(test_config_refuses_unknown_flags_and_missing_values),
        T(test_config_refuses_bad_environment_values),
        T(test_config_help_asks_to_exit),
        T(test_config_file_line_without_equals_is_an_error_naming_file_and_line),
        T(test_config_file_accepts_equals_lines_comments_and_blank_lines),
        T(test_config_file_unknown_setting_names_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
