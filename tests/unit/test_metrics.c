/* Unit tests for server/metrics: the page shows the snapshot's values under their names, fits its
 * bound with room to spare, and is refused rather than cut when a buffer is too small. The
 * format and naming rules are checked on a live server's page by tests/integration/test_ops.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/metrics.h"
#include "server/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static net_stats ns;
static game_counters gc;
static tickstats *ts; /* 400 KB: on the heap */
static char *page;

static int setup(void **state)
{
    memset(&ns, 0, sizeof ns);
    memset(&gc, 0, sizeof gc);
    ts = malloc(sizeof *ts);
    page = malloc(METRICS_PAGE_MAX);
    if (!ts || !page) return -1;
    tickstats_reset(ts);
    return 0;
}

static int teardown(void **state)
{
    free(ts);
    free(page);
    return 0;
}

static metrics_snapshot snapshot(void)
{
    return (metrics_snapshot){.connections = 7, .players = 5, .net = &ns, .game = &gc, .ticks = ts};
}

static void assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n') return;
    fail_msg("no line '%s' in the page", line);
}

static void test_metrics_page_shows_the_snapshot_values(void **state)
{
    ns.accepted = 12;
    gc.logins_failed = 3;
    ns.bytes_in = 4096;
    gc.packets_in[0] = 9;
    tickstats_add(ts, 2000000); /* 2 ms */
    metrics_snapshot m = snapshot();
    int n = metrics_render(&m, page, METRICS_PAGE_MAX);
    assert_true(n > 0);
    assert_int_equal(strlen(page), n);
    assert_line(page, "cmmo_connections 7");
    assert_line(page, "cmmo_players 5");
    assert_line(page, "cmmo_connections_accepted_total 12");
    assert_line(page, "cmmo_logins_total{result=\"failed\"} 3");
    assert_line(page, "cmmo_network_received_bytes_total 4096");
    char packets[128];
    snprintf(packets, sizeof packets, "cmmo_packets_received_total{action=\"%s\"} 9",
             game_action_label(0));
    assert_line(page, packets);
    assert_line(page, "cmmo_tick_duration_seconds_bucket{le=\"0.001\"} 0");
    assert_line(page, "cmmo_tick_duration_seconds_bucket{le=\"0.0025\"} 1");
    assert_line(page, "cmmo_tick_duration_seconds_count 1");
    char build[256];
    snprintf(build, sizeof build, "cmmo_build_info{version=\"%s\",commit=\"%s\"} 1",
             version_number(), version_commit());
    assert_line(page, build);
}

static void test_metrics_action_labels_are_the_ones_dashboards_query(void **state)
{
    /* Dashboards select these samples by label: the set, its order and the "invalid" slot for
     * messages that did not decode must not move when actions are added to or rearranged in
     * the code. A count per slot shows each label carries its own counter. */
    static const char *const labels[] = {"Ok",     "Deny",       "Register",   "Login",  "Chat",
                                         "Target", "ModelDelta", "Disconnect", "invalid"};
    size_t count = sizeof labels / sizeof labels[0];
    assert_int_equal(GAME_ACTION_SLOTS, count);
    for (size_t i = 0; i < count; i++)
        gc.packets_out[i] = 100 + i;
    metrics_snapshot m = snapshot();
    assert_true(metrics_render(&m, page, METRICS_PAGE_MAX) > 0);
    char expected[1024] = "# TYPE cmmo_packets_sent_total counter\n";
    for (size_t i = 0; i < count; i++) {
        char line[128];
        snprintf(line, sizeof line, "cmmo_packets_sent_total{action=\"%s\"} %zu\n", labels[i],
                 100 + i);
        strcat(expected, line);
    }
    if (!strstr(page, expected)) fail_msg("expected, in this order:\n%s", expected);
}

/* The value of the sample named exactly name (no labels), or -1 if the page has none. */
static double sample(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}

static void test_metrics_page_has_the_standard_process_metrics(void **state)
{
    metrics_snapshot m = snapshot();
    assert_true(metrics_render(&m, page, METRICS_PAGE_MAX) > 0);
    double now = (double)time(NULL);
    double started = sample(page, "process_start_time_seconds");
    assert_true(started > now - 3600 && started <= now + 1); /* this test began just now */
    assert_true(sample(page, "process_open_fds") >= 3);      /* stdin, stdout, stderr */
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_true(sample(page, "process_max_fds") == (double)rl.rlim_cur);
    assert_true(sample(page, "process_resident_memory_bytes") > 1e6);
    assert_true(sample(page, "process_virtual_memory_bytes") >=
                sample(page, "process_resident_memory_bytes"));
    assert_true(sample(page, "process_cpu_seconds_total") > 0);
}

static void test_metrics_page_of_huge_counters_fits_with_room_to_spare(void **state)
{
    /* Every counter at its widest (20 digits): the page must still fit twice over, so that a
     * few new metrics cannot silently push it past the bound. */
    memset(&ns, 0xff, sizeof ns);
    memset(&gc, 0xff, sizeof gc);
    for (int i = 0; i < 100; i++)
        tickstats_add(ts, UINT64_MAX / 200);
    metrics_snapshot m = snapshot();
    int n = metrics_render(&m, page, METRICS_PAGE_MAX);
    assert_true(n > 0);
    assert_true(n < METRICS_PAGE_MAX / 2);
}

static void test_metrics_render_refuses_a_buffer_too_small_rather_than_cutting(void **state)
{
    metrics_snapshot m = snapshot();
    int full = metrics_render(&m, page, METRICS_PAGE_MAX);
    assert_true(full > 0);
    /* no room for the NUL */
    assert_int_equal(metrics_render(&m, page, (size_t)full), CMMO_ETOO_LONG);
    assert_int_equal(metrics_render(&m, page, 100), CMMO_ETOO_LONG);
    assert_int_equal(metrics_render(&m, page, 0), CMMO_ETOO_LONG);
    assert_int_equal(metrics_render(&m, page, (size_t)full + 1), full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_page_shows_the_snapshot_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_metrics_action_labels_are_the_ones_dashboards_query,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_page_has_the_standard_process_metrics, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_metrics_page_of_huge_counters_fits_with_room_to_spare,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_metrics_render_refuses_a_buffer_too_small_rather_than_cutting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
