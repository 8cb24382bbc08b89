/* Self-test of bench_ws's opening handshake with a subprotocol (--compact offers cmmo.v2): the
 * request offers it exactly when asked, and an answer that does not select what was offered is
 * BENCH_WS_WRONG_SUBPROTOCOL, never a success, so a run cannot silently measure the legacy
 * encoding. Uses RFC 6455's own example key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench_ws.h"

#include <stdio.h>
#include <string.h>

/* RFC 6455 section 1.3: this key's accept value. */
static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char accept_line[] = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

/* A 101 answer with the given extra header lines; returns the checker's verdict for protocol. */
static int answer(const char *extra, const char *protocol)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\n%s%s\r\n",
                     accept_line, extra);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    int rc = bench_ws_check_response(buf, (size_t)n, key, protocol);
    if (rc > 0) assert_int_equal(rc, n);
    return rc;
}

static void test_ws_request_offers_the_subprotocol_only_when_asked(void **state)
{
    (void)state;
    char req[512];
    assert_true(bench_ws_request(req, sizeof(req), "127.0.0.1", 8081, key, "cmmo.v2") > 0);
    assert_non_null(strstr(req, "\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"));
    assert_non_null(strstr(req, "\r\n\r\n"));
    assert_int_equal(strlen(strstr(req, "\r\n\r\n")), 4);
    assert_true(bench_ws_request(req, sizeof(req), "127.0.0.1", 8081, key, NULL) > 0);
    assert_null(strstr(req, "Sec-WebSocket-Protocol"));
}

static void test_ws_answer_selecting_the_offer_is_accepted(void **state)
{
    (void)state;
    assert_true(answer("Sec-WebSocket-Protocol: cmmo.v2\r\n", "cmmo.v2") > 0);
    assert_true(answer("sec-websocket-protocol:cmmo.v2  \r\n", "cmmo.v2") > 0);
}

static void test_ws_answer_without_the_offer_is_wrong_subprotocol(void **state)
{
    (void)state;
    assert_int_equal(answer("", "cmmo.v2"), BENCH_WS_WRONG_SUBPROTOCOL);
    assert_int_equal(answer("Sec-WebSocket-Protocol: cmmo.v3\r\n", "cmmo.v2"),
                     BENCH_WS_WRONG_SUBPROTOCOL);
    assert_int_equal(answer("Sec-WebSocket-Protocol: CMMO.V2\r\n", "cmmo.v2"),
                     BENCH_WS_WRONG_SUBPROTOCOL);
    assert_int_equal(answer("Sec-WebSocket-Protocol: cmmo.v2, chat\r\n", "cmmo.v2"),
                     BENCH_WS_WRONG_SUBPROTOCOL);
}

static void test_ws_legacy_answer_must_not_select_a_subprotocol(void **state)
{
    (void)state;
    assert_true(answer("", NULL) > 0);
    assert_int_equal(answer("Sec-WebSocket-Protocol: cmmo.v2\r\n", NULL),
                     BENCH_WS_WRONG_SUBPROTOCOL);
}

static void test_ws_bad_accept_is_a_handshake_failure_even_with_the_subprotocol(void **state)
{
    (void)state;
    static const char bad[] = "HTTP/1.1 101 Switching Protocols\r\n"
                              "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"
                              "Sec-WebSocket-Protocol: cmmo.v2\r\n\r\n";
    assert_int_equal(bench_ws_check_response(bad, sizeof(bad) - 1, key, "cmmo.v2"), -1);
    static const char not101[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    assert_int_equal(bench_ws_check_response(not101, sizeof(not101) - 1, key, "cmmo.v2"), -1);
    static const char partial[] = "HTTP/1.1 101 Switching Protocols\r\n";
    assert_int_equal(bench_ws_check_response(partial, sizeof(partial) - 1, key, "cmmo.v2"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_request_offers_the_subprotocol_only_when_asked),
        cmocka_unit_test(test_ws_answer_selecting_the_offer_is_accepted),
        cmocka_unit_test(test_ws_answer_without_the_offer_is_wrong_subprotocol),
        cmocka_unit_test(test_ws_legacy_answer_must_not_select_a_subprotocol),
        cmocka_unit_test(test_ws_bad_accept_is_a_handshake_failure_even_with_the_subprotocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
