/* Unit tests for net/http: request heads (whole, byte by byte, pipelined), the WebSocket opening
 * handshake (RFC 6455 4.2.1), limits, path decoding and static files from a temporary web root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/http.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char upgrade_request[] = "GET /game HTTP/1.1\r\n"
                                      "Host: localhost:8081\r\n"
                                      "Upgrade: websocket\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      "Origin: http://example.com\r\n"
                                      "Sec-WebSocket-Version: 13\r\n"
                                      "\r\n";

static http_request req;

/* Feeds the whole of text at once; returns the feed result. */
static long feed_all(http_request *r, const char *text)
{
    http_request_init(r);
    return http_request_feed(r, text, strlen(text));
}

/* Builds a request from a literal head and checks it parsed completely. */
static void parse_ok(http_request *r, const char *text)
{
    long n = feed_all(r, text);
    if (n != (long)strlen(text)) fail_msg("feed returned %ld for %zu bytes", n, strlen(text));
    assert_true(r->complete);
}

static const char *response_text(rcbuf *b)
{
    static char out[1 << 16];
    assert_non_null(b);
    assert_true(b->len < sizeof out);
    memcpy(out, rcbuf_data(b), b->len);
    out[b->len] = 0;
    rcbuf_unref(b);
    return out;
}

static void assert_status(const char *response, int status)
{
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    if (strncmp(response, want, strlen(want)) != 0)
        fail_msg("expected status %d, got: %.40s", status, response);
}

static const char *body_of(const char *response)
{
    const char *b = strstr(response, "\r\n\r\n");
    assert_non_null(b);
    return b + 4;
}

/* ---- parsing ---- */

static void test_http_parses_a_websocket_upgrade_request(void **state)
{
    parse_ok(&req, upgrade_request);
    assert_int_equal(req.method, HTTP_GET);
    assert_true(req.upgrade);
    assert_string_equal(req.url, "/game");
    assert_int_equal(req.url_len, 5);
    assert_string_equal(req.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_int_equal(req.ws_key_len, 24);
    assert_string_equal(req.ws_version, "13");
    assert_string_equal(req.origin, "http://example.com");
}

static void test_http_parses_an_upgrade_request_fed_byte_by_byte(void **state)
{
    /* TCP may split a head anywhere: the result must not depend on where. */
    http_request_init(&req);
    size_t len = strlen(upgrade_request);
    for (size_t i = 0; i < len; i++) {
        assert_false(req.complete);
        long n = http_request_feed(&req, upgrade_request + i, 1);
        if (n != 1) fail_msg("byte %zu: feed returned %ld", i, n);
    }
    assert_true(req.complete);
    assert_int_equal(req.method, HTTP_GET);
    assert_string_equal(req.url, "/game");
    assert_string_equal(req.ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_string_equal(req.ws_version, "13");
    assert_string_equal(req.origin, "http://example.com");
    assert_true(req.upgrade);
    int status = 0;
    rcbuf *b = http_websocket_accept(&req, &status);
    assert_int_equal(status, 101);
    rcbuf_unref(b);
}

static void test_http_parses_an_upgrade_request_split_in_two_anywhere(void **state)
{
    size_t len = strlen(upgrade_request);
    for (size_t cut = 1; cut < len; cut++) {
        http_request_init(&req);
        long a = http_request_feed(&req, upgrade_request, cut);
        long b = http_request_feed(&req, upgrade_request + cut, len - cut);
        if (a != (long)cut || b != (long)(len - cut) || !req.complete || !req.upgrade ||
            strcmp(req.ws_key, "dGhlIHNhbXBsZSBub25jZQ==") != 0)
            fail_msg("split at %zu (\"%.*s|%.12s\"): a=%ld b=%ld complete=%d upgrade=%d", cut,
                     (int)(cut < 12 ? cut : 12), upgrade_request + cut - (cut < 12 ? cut : 12),
                     upgrade_request + cut, a, b, req.complete, req.upgrade);
    }
}

static void test_http_upgrade_header_tokens_are_case_insensitive_lists(void **state)
{
    parse_ok(&req, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\n"
                   "Connection: keep-alive, Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n");
    assert_true(req.upgrade);
}

static void test_http_plain_get_is_not_an_upgrade(void **state)
{
    parse_ok(&req, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(req.method, HTTP_GET);
    assert_false(req.upgrade);
    assert_true(req.keep_alive);
    assert_string_equal(req.url, "/index.html");
    parse_ok(&req, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n");
    assert_false(req.upgrade); /* no Connection: upgrade */
    parse_ok(&req, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_false(req.keep_alive);
}

static void test_http_feed_stops_after_one_request(void **state)
{
    /* Bytes after an upgrade head belong to the WebSocket. */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s\x81\x85XYZW", upgrade_request);
    http_request_init(&req);
    long n = http_request_feed(&req, buf, strlen(buf));
    assert_int_equal(n, (long)strlen(upgrade_request));
    assert_true(req.complete);
    /* Pipelined keep-alive requests are handled one at a time. */
    const char *first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *both = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    http_request_init(&req);
    n = http_request_feed(&req, both, strlen(both));
    assert_int_equal(n, (long)strlen(first));
    assert_string_equal(req.url, "/a");
    http_request_reset(&req);
    assert_false(req.complete);
    long m = http_request_feed(&req, both + n, strlen(both) - (size_t)n);
    assert_int_equal(m, (long)(strlen(both) - (size_t)n));
    assert_true(req.complete);
    assert_string_equal(req.url, "/b");
}

static void test_http_oversized_head_is_431(void **state)
{
    size_t n = HTTP_HEAD_MAX + 1000;
    char *head = malloc(n + 1);
    assert_non_null(head);
    strcpy(head, "GET / HTTP/1.1\r\nX-Filler: ");
    size_t h = strlen(head);
    memset(head + h, 'a', n - h);
    head[n] = 0;
    http_request_init(&req);
    assert_int_equal(http_request_feed(&req, head, n), CMMO_EHTTP_TOO_LARGE);
    /* The same in small pieces: the bound is on the head, not on one read. */
    http_request_init(&req);
    long rc = 0;
    for (size_t i = 0; i < n && rc >= 0; i += 100)
        rc = http_request_feed(&req, head + i, n - i < 100 ? n - i : 100);
    assert_int_equal(rc, CMMO_EHTTP_TOO_LARGE);
    free(head);
}

static void test_http_head_just_under_the_limit_is_accepted(void **state)
{
    char head[HTTP_HEAD_MAX];
    const char *start = "GET / HTTP/1.1\r\nX-Filler: ";
    size_t total = HTTP_HEAD_MAX - 100;
    strcpy(head, start);
    size_t h = strlen(start);
    memset(head + h, 'a', total - h - 4);
    memcpy(head + total - 4, "\r\n\r\n", 5);
    parse_ok(&req, head);
}

static void test_http_malformed_request_is_400(void **state)
{
    const char *bad[] = {
        "BLAH\r\n\r\n",
        "GET / HTTP/9.x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost localhost\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long rc = feed_all(&req, bad[i]);
        if (rc != CMMO_EHTTP_BAD_REQUEST) fail_msg("request %zu: feed returned %ld", i, rc);
    }
}

/* ---- the WebSocket handshake ---- */

static void test_http_websocket_accept_computes_the_rfc_6455_example(void **state)
{
    parse_ok(&req, upgrade_request);
    int status = 0;
    const char *resp = response_text(http_websocket_accept(&req, &status));
    assert_int_equal(status, 101);
    assert_status(resp, 101);
    assert_non_null(strcasestr(resp, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert_non_null(strcasestr(resp, "\r\nUpgrade: websocket\r\n"));
    assert_non_null(strcasestr(resp, "\r\nConnection: Upgrade\r\n"));
    /* No subprotocol, no extensions. */
    assert_null(strcasestr(resp, "Sec-WebSocket-Protocol"));
    assert_null(strcasestr(resp, "Sec-WebSocket-Extensions"));
    assert_non_null(strstr(resp, "\r\n\r\n"));
    assert_string_equal(body_of(resp), "");
}

static const char *accept_with_protocols(const char *protocol_headers)
{
    char text[1024];
    snprintf(text, sizeof text,
             "GET /game HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%sSec-WebSocket-Version: 13\r\n\r\n",
             protocol_headers);
    parse_ok(&req, text);
    int status = 0;
    const char *resp = response_text(http_websocket_accept(&req, &status));
    assert_int_equal(status, 101);
    return resp;
}

static void test_http_websocket_accept_selects_cmmo_v2_when_offered(void **state)
{
    const char *resp = accept_with_protocols("Sec-WebSocket-Protocol: cmmo.v2\r\n");
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"));
    assert_true(req.v2);
    http_request_init(&req);
    resp = accept_with_protocols("Sec-WebSocket-Protocol: chat, cmmo.v2 , x\r\n");
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"));
    /* Split over two headers: one list. */
    http_request_init(&req);
    resp = accept_with_protocols(
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: cmmo.v2\r\n");
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"));
}

static void test_http_websocket_accept_selects_nothing_for_other_protocols(void **state)
{
    const char *resp = accept_with_protocols("Sec-WebSocket-Protocol: chat, cmmo.v3, xcmmo.v2\r\n");
    assert_null(strcasestr(resp, "Sec-WebSocket-Protocol"));
    assert_false(req.v2);
    http_request_init(&req);
    /* The two halves of the token in two headers do not make the token. */
    resp = accept_with_protocols("Sec-WebSocket-Protocol: cmmo\r\nSec-WebSocket-Protocol: .v2\r\n");
    assert_null(strcasestr(resp, "Sec-WebSocket-Protocol"));
}

static void expect_refused(const char *text, int want_status)
{
    parse_ok(&req, text);
    int status = 0;
    rcbuf *b = http_websocket_accept(&req, &status);
    if (b) {
        rcbuf_unref(b);
        fail_msg("handshake accepted: %s", text);
    }
    assert_int_equal(status, want_status);
}

static void test_http_websocket_accept_refuses_a_missing_key(void **state)
{
    expect_refused("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   400);
}

static void test_http_websocket_accept_refuses_version_12_with_426(void **state)
{
    expect_refused("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 12\r\n\r\n",
                   426);
    expect_refused("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                   426);
}

static void test_http_websocket_accept_refuses_keys_that_are_not_16_bytes(void **state)
{
    const char *keys[] = {
        "abc",
        "dGhlIHNhbXBsZSBub25jZQ",       /* 22 characters: padding missing */
        "dGhlIHNhbXBsZSBub25jZQ==AAAA", /* 28 */
        "!!!!!!!!!!!!!!!!!!!!!!==",     /* 24, not base64 */
        "AAAAAAAAAAAAAAAAAAAAAAAA",     /* 24 base64 characters, but 18 bytes */
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                 keys[i]);
        parse_ok(&req, text);
        int status = 0;
        rcbuf *b = http_websocket_accept(&req, &status);
        if (b) {
            rcbuf_unref(b);
            fail_msg("key '%s' was accepted", keys[i]);
        }
        assert_int_equal(status, 400);
    }
}

static void test_http_websocket_accept_refuses_a_non_upgrade_or_non_get(void **state)
{
    expect_refused("GET / HTTP/1.1\r\nHost: x\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   400);
    expect_refused("POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
                   400);
}

/* ---- responses ---- */

static void test_http_response_text_is_a_complete_response(void **state)
{
    const char *resp = response_text(http_response_text(404, "not found\n", 1));
    assert_status(resp, 404);
    assert_non_null(strcasestr(resp, "\r\nContent-Length: 10\r\n"));
    assert_string_equal(body_of(resp), "not found\n");
}

static void test_http_response_head_only_has_length_but_no_body(void **state)
{
    const char *resp = response_text(http_response(200, "text/plain", "hello", 5, 0, 1));
    assert_status(resp, 200);
    assert_non_null(strcasestr(resp, "\r\nContent-Length: 5\r\n"));
    assert_non_null(strcasestr(resp, "\r\nContent-Type: text/plain"));
    assert_string_equal(body_of(resp), "");
}

/* ---- paths ---- */

static int path_of(const char *url, char *out, size_t cap)
{
    http_request_init(&req);
    size_t n = strlen(url);
    assert_true(n <= HTTP_URL_MAX);
    memcpy(req.url, url, n + 1);
    req.url_len = n;
    return http_request_path(&req, out, cap);
}

static void test_http_request_path_decodes_percent_escapes_and_drops_the_query(void **state)
{
    char out[256];
    assert_int_equal(path_of("/", out, sizeof out), 0);
    assert_string_equal(out, "/");
    assert_int_equal(path_of("/a%20b/c.html?x=1&y=%00", out, sizeof out), 0);
    assert_string_equal(out, "/a b/c.html");
    assert_int_equal(path_of("/%E2%82%ac", out, sizeof out), 0);
    assert_string_equal(out, "/\xE2\x82\xAC");
    assert_int_equal(path_of("/stats?reset=1", out, sizeof out), 0);
    assert_string_equal(out, "/stats");
}

static void test_http_request_path_rejects_nul_and_backslash(void **state)
{
    char out[256];
    assert_int_equal(path_of("/a%00b", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("/a%5cb", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("/a%5Cb", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("/a\\b", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("/..%5c..%5cetc", out, sizeof out), CMMO_EINVALID);
}

static void test_http_request_path_rejects_bad_escapes_and_relative_paths(void **state)
{
    char out[256];
    assert_int_equal(path_of("/a%zz", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("/a%2", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("/a%", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("", out, sizeof out), CMMO_EINVALID);
    assert_int_equal(path_of("index.html", out, sizeof out), CMMO_EINVALID);
}

static void test_http_request_path_respects_the_output_capacity(void **state)
{
    char out[8];
    memset(out, 0x5A, sizeof out);
    assert_int_equal(path_of("/abcdefghijk", out, 6), CMMO_EINVALID);
    assert_int_equal((unsigned char)out[6], 0x5A);
    assert_int_equal((unsigned char)out[7], 0x5A);
    assert_int_equal(path_of("/abcd", out, 6), 0); /* 5 characters and the NUL */
    assert_string_equal(out, "/abcd");
}

static void test_http_request_has_query_matches_whole_parameters(void **state)
{
    parse_ok(&req, "GET /stats?reset=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(http_request_has_query(&req, "reset=1"));
    parse_ok(&req, "GET /stats?a=2&reset=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(http_request_has_query(&req, "reset=1"));
    parse_ok(&req, "GET /stats?reset=10 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_false(http_request_has_query(&req, "reset=1"));
    parse_ok(&req, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_false(http_request_has_query(&req, "reset=1"));
    parse_ok(&req, "GET /reset=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_false(http_request_has_query(&req, "reset=1"));
}

/* ---- static files ---- */

static char tmp_dir[64];
static char web_root[128];

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int static_setup(void **state)
{
    strcpy(tmp_dir, "/tmp/cmmo-http-XXXXXX");
    if (!mkdtemp(tmp_dir)) return -1;
    snprintf(web_root, sizeof web_root, "%s/web", tmp_dir);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/sub", web_root);
    if (mkdir(web_root, 0700) != 0 || mkdir(sub, 0700) != 0) return -1;
    write_file(web_root, "index.html", "<h1>cmmo</h1>\n");
    write_file(web_root, "app.js", "console.log(1);\n");
    write_file(web_root, ".hidden", "secret\n");
    write_file(web_root, "sub/index.html", "sub index\n");
    write_file(tmp_dir, "x", "outside the root\n");
    char link[256];
    const char *links[][2] = {{"..", "linkdir"},
                              {"../..", "sub/up"},
                              {"../x", "link-out.txt"},
                              {"sub", "alias"},
                              {"app.js", "alias.js"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(link, sizeof link, "%s/%s", web_root, links[i][1]);
        if (symlink(links[i][0], link) != 0) return -1;
    }
    snprintf(link, sizeof link, "%s/pipe", web_root);
    if (mkfifo(link, 0600) != 0) return -1;
    return 0;
}

static int static_teardown(void **state)
{
    nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static const char *serve(const char *method, const char *url)
{
    char text[512];
    snprintf(text, sizeof text, "%s %s HTTP/1.1\r\nHost: x\r\n\r\n", method, url);
    http_request_init(&req);
    long n = http_request_feed(&req, text, strlen(text));
    if (n < 0) fail_msg("%s %s: feed returned %ld", method, url, n);
    assert_true(req.complete);
    return response_text(http_serve_static(&req, web_root));
}

static void test_http_serves_a_file_with_its_content_type(void **state)
{
    const char *resp = serve("GET", "/app.js");
    assert_status(resp, 200);
    assert_non_null(strcasestr(resp, "\r\nContent-Type: text/javascript"));
    assert_non_null(strcasestr(resp, "\r\nContent-Length: 16\r\n"));
    assert_string_equal(body_of(resp), "console.log(1);\n");
}

static void test_http_serves_index_html_for_a_path_ending_in_slash(void **state)
{
    const char *resp = serve("GET", "/");
    assert_status(resp, 200);
    assert_non_null(strcasestr(resp, "\r\nContent-Type: text/html"));
    assert_string_equal(body_of(resp), "<h1>cmmo</h1>\n");
    resp = serve("GET", "/sub/");
    assert_status(resp, 200);
    assert_string_equal(body_of(resp), "sub index\n");
    resp = serve("GET", "/?v=2");
    assert_status(resp, 200);
    assert_string_equal(body_of(resp), "<h1>cmmo</h1>\n");
}

static void test_http_never_serves_outside_the_web_root(void **state)
{
    const char *urls[] = {
        "/../x", "/%2e%2e/x", "/%2E%2E/x", "/sub/../../x", "/sub/%2e%2e/%2e%2e/x", "/./../x"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        const char *resp = serve("GET", urls[i]);
        if (strncmp(resp, "HTTP/1.1 404 ", 13) != 0 && strncmp(resp, "HTTP/1.1 400 ", 13) != 0)
            fail_msg("%s: %.40s", urls[i], resp);
        assert_null(strstr(resp, "outside the root"));
    }
    assert_status(serve("GET", "/../x"), 404);
}

static void test_http_does_not_serve_hidden_files(void **state)
{
    const char *resp = serve("GET", "/.hidden");
    assert_status(resp, 404);
    assert_null(strstr(resp, "secret"));
}

static void test_http_missing_file_is_404(void **state)
{
    assert_status(serve("GET", "/missing.js"), 404);
    assert_status(serve("GET", "/sub/missing/"), 404);
}

static void test_http_path_with_nul_never_reaches_the_file_system(void **state)
{
    const char *resp = serve("GET", "/index.html%00.js");
    assert_true(strncmp(resp, "HTTP/1.1 400 ", 13) == 0 || strncmp(resp, "HTTP/1.1 404 ", 13) == 0);
    assert_null(strstr(resp, "<h1>cmmo</h1>"));
}

static void test_http_post_is_405(void **state)
{
    assert_status(serve("POST", "/"), 405);
    assert_status(serve("DELETE", "/app.js"), 405);
}

static void test_http_head_has_no_body(void **state)
{
    const char *resp = serve("HEAD", "/app.js");
    assert_status(resp, 200);
    assert_non_null(strcasestr(resp, "\r\nContent-Length: 16\r\n"));
    assert_string_equal(body_of(resp), "");
}

/* ---- issue 11: the head limit, field combining, the key, the subprotocol, bodies ---- */

/* A heap string: prefix, then fill repeated count times, then suffix. */
static char *build(const char *prefix, const char *fill, size_t count, const char *suffix)
{
    size_t pl = strlen(prefix), fl = strlen(fill), sl = strlen(suffix);
    char *s = malloc(pl + fl * count + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < count; i++)
        memcpy(s + pl + i * fl, fill, fl);
    memcpy(s + pl + fl * count, suffix, sl + 1);
    return s;
}

/* Feeds text in reads of `piece` bytes (0: all at once) as conn_http does; returns the first
 * negative result, or the total consumed. */
static long feed_in_pieces(http_request *r, const char *text, size_t piece)
{
    http_request_init(r);
    size_t len = strlen(text), off = 0;
    if (piece == 0) piece = len;
    while (off < len && !r->complete) {
        size_t k = len - off < piece ? len - off : piece;
        long n = http_request_feed(r, text + off, k);
        if (n < 0) return n;
        off += (size_t)n;
        if (n == 0) break;
    }
    return (long)off;
}

static void test_http_head_limit_holds_for_a_whole_head_in_one_read(void **state)
{
    /* 2,000 small headers (22 KB) and one 12 KB header, each complete and in one write: the
     * limit is on the head, not on how many reads it took. */
    char *many = build("GET / HTTP/1.1\r\n", "X-A: bbbbbbb\r\n", 2000, "\r\n");
    char *one = build("GET / HTTP/1.1\r\nX-Long: ", "c", 12 * 1024, "\r\n\r\n");
    const char *heads[] = {many, one};
    const size_t pieces[] = {0, 1, 7, 1000, 4096, 9000};
    for (size_t h = 0; h < 2; h++)
        for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
            long rc = feed_in_pieces(&req, heads[h], pieces[p]);
            if (rc != CMMO_EHTTP_TOO_LARGE)
                fail_msg("head %zu in reads of %zu: feed returned %ld", h, pieces[p], rc);
        }
    free(many);
    free(one);
}

static void test_http_head_of_exactly_the_limit_is_accepted_one_more_byte_is_431(void **state)
{
    const char *start = "GET / HTTP/1.1\r\nX-Filler: ";
    for (size_t extra = 0; extra <= 1; extra++) {
        char *head = build(start, "a", HTTP_HEAD_MAX - 4 + extra - strlen(start), "\r\n\r\n");
        assert_int_equal(strlen(head), HTTP_HEAD_MAX + extra);
        for (size_t piece = 0; piece <= 1; piece++) {
            long rc = feed_in_pieces(&req, head, piece);
            if (extra == 0 && (rc != HTTP_HEAD_MAX || !req.complete))
                fail_msg("a head of %d bytes (reads of %zu): %ld", HTTP_HEAD_MAX, piece, rc);
            if (extra == 1 && rc != CMMO_EHTTP_TOO_LARGE)
                fail_msg("a head of %d bytes (reads of %zu): %ld", HTTP_HEAD_MAX + 1, piece, rc);
        }
        free(head);
    }
}

static void test_http_url_over_the_limit_is_414_however_it_arrives(void **state)
{
    char *line = build("GET /", "a", HTTP_URL_MAX + 10, " HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(feed_in_pieces(&req, line, 0), CMMO_EHTTP_URI_TOO_LONG);
    assert_int_equal(feed_in_pieces(&req, line, 1), CMMO_EHTTP_URI_TOO_LONG);
    assert_int_equal(feed_in_pieces(&req, line, 333), CMMO_EHTTP_URI_TOO_LONG);
    free(line);
    const char *resp = response_text(http_response_text(414, "bad request\n", 0));
    assert_non_null(strstr(resp, "HTTP/1.1 414 URI Too Long\r\n"));
}

static void assert_upgrades(const char *text, int want)
{
    for (size_t piece = 0; piece <= 1; piece++) {
        long rc = feed_in_pieces(&req, text, piece);
        if (rc != (long)strlen(text) || !req.complete)
            fail_msg("feed returned %ld for %zu bytes: %s", rc, strlen(text), text);
        if (req.upgrade != want) fail_msg("upgrade=%d, wanted %d: %.300s", req.upgrade, want, text);
    }
}

#define KEY_HEADERS "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

static void test_http_repeated_connection_and_upgrade_fields_are_one_list(void **state)
{
    assert_upgrades("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    "Connection: keep-alive\r\nConnection: Upgrade\r\n" KEY_HEADERS "\r\n",
                    1);
    int status = 0;
    rcbuf *b = http_websocket_accept(&req, &status);
    assert_int_equal(status, 101);
    rcbuf_unref(b);
    assert_upgrades("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                    "Upgrade: WebSocket\r\n" KEY_HEADERS "\r\n",
                    1);
    /* Field lines are list elements of their own: their halves do not make a token. */
    assert_upgrades("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    "Connection: up\r\nConnection: grade\r\n" KEY_HEADERS "\r\n",
                    0);
    assert_upgrades("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: web\r\nUpgrade: socket\r\n"
                    "Connection: upgrade\r\n" KEY_HEADERS "\r\n",
                    0);
    /* An element with whitespace inside is not the token. */
    assert_upgrades("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    "Connection: keep-alive, up grade\r\n" KEY_HEADERS "\r\n",
                    0);
}

static void test_http_list_fields_of_any_length_within_the_head_are_matched(void **state)
{
    /* 3 KB of Connection options before "Upgrade": no buffer may truncate the list. */
    char *text =
        build("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: ", "option-token, ",
              220, "Upgrade\r\n" KEY_HEADERS "\r\n");
    assert_upgrades(text, 1);
    free(text);
}

static void test_http_obsolete_line_folding_is_400(void **state)
{
    /* RFC 9112 5.2: a server rejects obs-fold or replaces it; joining the two lines without a
     * separator (what the parser would do) is neither. */
    const char *text = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: keep-alive,\r\n Upgrade\r\n" KEY_HEADERS "\r\n";
    assert_int_equal(feed_in_pieces(&req, text, 0), CMMO_EHTTP_BAD_REQUEST);
    assert_int_equal(feed_in_pieces(&req, text, 1), CMMO_EHTTP_BAD_REQUEST);
}

static void expect_handshake(const char *headers, int want_status)
{
    char text[2048];
    snprintf(text, sizeof text,
             "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s\r\n",
             headers);
    parse_ok(&req, text);
    int status = 0;
    rcbuf *b = http_websocket_accept(&req, &status);
    if (b) rcbuf_unref(b);
    if (status != want_status) fail_msg("status %d, wanted %d for: %s", status, want_status, text);
}

static void test_http_websocket_key_must_be_one_field_of_one_canonical_value(void **state)
{
    /* Split over two fields, the halves concatenate to a valid key: still refused. */
    expect_handshake("Sec-WebSocket-Key: dGhlIHNhbXBsZS\r\nSec-WebSocket-Key: Bub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n",
                     400);
    /* The same key twice is a repeated field too. */
    expect_handshake(KEY_HEADERS "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 400);
    /* Non-zero padding bits (RFC 4648 3.5): 'R' decodes to the same 16 bytes as 'Q'. */
    expect_handshake("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\nSec-WebSocket-Version: 13\r\n",
                     400);
    expect_handshake("Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ=\r\nSec-WebSocket-Version: 13\r\n",
                     400);
    expect_handshake("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=A\r\nSec-WebSocket-Version: 13\r\n",
                     400);
    /* A repeated version is malformed, not another version. */
    expect_handshake(KEY_HEADERS "Sec-WebSocket-Version: 13\r\n", 400);
    /* Whitespace around a value is not part of it (RFC 9110 5.5). */
    expect_handshake("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==  \r\n"
                     "Sec-WebSocket-Version: 13 \r\n",
                     101);
    expect_handshake(KEY_HEADERS, 101);
}

static void test_http_subprotocol_is_matched_exactly_and_case_sensitively(void **state)
{
    const char *resp = accept_with_protocols("Sec-WebSocket-Protocol: CMMO.V2\r\n");
    assert_null(strcasestr(resp, "Sec-WebSocket-Protocol"));
    assert_false(req.v2);
    resp = accept_with_protocols("Sec-WebSocket-Protocol: Cmmo.v2, cmmo.V2\r\n");
    assert_null(strcasestr(resp, "Sec-WebSocket-Protocol"));
    /* A long list ending in a longer token is not cut down to cmmo.v2. */
    char hdr[700];
    /* 248 bytes of offers, then "cmmo.v2x": a 256-byte buffer kept exactly "...cmmo.v2". */
    const char *name = "Sec-WebSocket-Protocol: ";
    char *list = build(name, "p, ", 82, "p,cmmo.v2x\r\n");
    snprintf(hdr, sizeof hdr, "%s", list);
    free(list);
    resp = accept_with_protocols(hdr);
    assert_null(strcasestr(resp, "Sec-WebSocket-Protocol"));
    assert_false(req.v2);
    /* Offered at the end of a list longer than any fixed buffer, and in a later field line. */
    list = build("Sec-WebSocket-Protocol: ", "p, ", 200, "cmmo.v2\r\n");
    snprintf(hdr, sizeof hdr, "%s", list);
    free(list);
    resp = accept_with_protocols(hdr);
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"));
    resp = accept_with_protocols("Sec-WebSocket-Protocol: a\r\nX: y\r\n"
                                 "Sec-WebSocket-Protocol: b,cmmo.v2\r\n");
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"));
}

static void test_http_websocket_without_an_offer_gets_the_legacy_101_byte_for_byte(void **state)
{
    /* The tutorial's Godot client offers no subprotocol: its 101 is what it always was. */
    parse_ok(&req, upgrade_request);
    int status = 0;
    const char *resp = response_text(http_websocket_accept(&req, &status));
    assert_string_equal(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

static void test_http_request_with_a_body_is_400_however_it_arrives(void **state)
{
    const char *bodies[] = {
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /x HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" KEY_HEADERS
        "Content-Length: 2\r\n\r\nab",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        for (size_t piece = 0; piece <= 1; piece++) {
            long rc = feed_in_pieces(&req, bodies[i], piece);
            if (rc != CMMO_EHTTP_BAD_REQUEST)
                fail_msg("request %zu (reads of %zu): feed returned %ld", i, piece, rc);
        }
    /* An empty body is no body. */
    parse_ok(&req, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
}

static void test_http_never_follows_a_symlink_out_of_the_web_root(void **state)
{
    /* web/linkdir -> .. : O_NOFOLLOW on the last component alone let this through. */
    const char *urls[] = {"/linkdir/x", "/sub/up/x", "/linkdir/web/index.html", "/link-out.txt"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        const char *resp = serve("GET", urls[i]);
        if (strncmp(resp, "HTTP/1.1 404 ", 13) != 0) fail_msg("%s: %.60s", urls[i], resp);
        assert_null(strstr(resp, "outside the root"));
    }
}

static void test_http_refuses_symlinks_inside_the_web_root_too(void **state)
{
    /* Links are refused wherever they point (docs/SECURITY.md), not resolved and checked. */
    assert_status(serve("GET", "/alias/index.html"), 404);
    assert_status(serve("GET", "/alias/"), 404);
    assert_status(serve("GET", "/alias.js"), 404);
    /* The real names still work, empty segments are skipped. */
    assert_status(serve("GET", "/sub/index.html"), 200);
    assert_status(serve("GET", "/sub//index.html"), 200);
}

static void test_http_a_fifo_in_the_web_root_is_404_not_a_hang(void **state)
{
    /* Opening a FIFO for reading waits for a writer: the server's one thread would stop. */
    alarm(10);
    assert_status(serve("GET", "/pipe"), 404);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_parses_a_websocket_upgrade_request),
        cmocka_unit_test(test_http_parses_an_upgrade_request_fed_byte_by_byte),
        cmocka_unit_test(test_http_parses_an_upgrade_request_split_in_two_anywhere),
        cmocka_unit_test(test_http_upgrade_header_tokens_are_case_insensitive_lists),
        cmocka_unit_test(test_http_plain_get_is_not_an_upgrade),
        cmocka_unit_test(test_http_feed_stops_after_one_request),
        cmocka_unit_test(test_http_oversized_head_is_431),
        cmocka_unit_test(test_http_head_just_under_the_limit_is_accepted),
        cmocka_unit_test(test_http_malformed_request_is_400),
        cmocka_unit_test(test_http_websocket_accept_computes_the_rfc_6455_example),
        cmocka_unit_test(test_http_websocket_accept_selects_cmmo_v2_when_offered),
        cmocka_unit_test(test_http_websocket_accept_selects_nothing_for_other_protocols),
        cmocka_unit_test(test_http_websocket_accept_refuses_a_missing_key),
        cmocka_unit_test(test_http_websocket_accept_refuses_version_12_with_426),
        cmocka_unit_test(test_http_websocket_accept_refuses_keys_that_are_not_16_bytes),
        cmocka_unit_test(test_http_websocket_accept_refuses_a_non_upgrade_or_non_get),
        cmocka_unit_test(test_http_response_text_is_a_complete_response),
        cmocka_unit_test(test_http_response_head_only_has_length_but_no_body),
        cmocka_unit_test(test_http_request_path_decodes_percent_escapes_and_drops_the_query),
        cmocka_unit_test(test_http_request_path_rejects_nul_and_backslash),
        cmocka_unit_test(test_http_request_path_rejects_bad_escapes_and_relative_paths),
        cmocka_unit_test(test_http_request_path_respects_the_output_capacity),
        cmocka_unit_test(test_http_request_has_query_matches_whole_parameters),
        cmocka_unit_test_setup_teardown(test_http_serves_a_file_with_its_content_type, static_setup,
                                        static_teardown),
        cmocka_unit_test_setup_teardown(test_http_serves_index_html_for_a_path_ending_in_slash,
                                        static_setup, static_teardown),
        cmocka_unit_test_setup_teardown(test_http_never_serves_outside_the_web_root, static_setup,
                                        static_teardown),
        cmocka_unit_test_setup_teardown(test_http_does_not_serve_hidden_files, static_setup,
                                        static_teardown),
        cmocka_unit_test_setup_teardown(test_http_missing_file_is_404, static_setup,
                                        static_teardown),
        cmocka_unit_test_setup_teardown(test_http_path_with_nul_never_reaches_the_file_system,
                                        static_setup, static_teardown),
        cmocka_unit_test_setup_teardown(test_http_post_is_405, static_setup, static_teardown),
        cmocka_unit_test_setup_teardown(test_http_head_has_no_body, static_setup, static_teardown),
        cmocka_unit_test(test_http_head_limit_holds_for_a_whole_head_in_one_read),
        cmocka_unit_test(test_http_head_of_exactly_the_limit_is_accepted_one_more_byte_is_431),
        cmocka_unit_test(test_http_url_over_the_limit_is_414_however_it_arrives),
        cmocka_unit_test(test_http_repeated_connection_and_upgrade_fields_are_one_list),
        cmocka_unit_test(test_http_list_fields_of_any_length_within_the_head_are_matched),
        cmocka_unit_test(test_http_obsolete_line_folding_is_400),
        cmocka_unit_test(test_http_websocket_key_must_be_one_field_of_one_canonical_value),
        cmocka_unit_test(test_http_subprotocol_is_matched_exactly_and_case_sensitively),
        cmocka_unit_test(test_http_websocket_without_an_offer_gets_the_legacy_101_byte_for_byte),
        cmocka_unit_test(test_http_request_with_a_body_is_400_however_it_arrives),
        cmocka_unit_test_setup_teardown(test_http_never_follows_a_symlink_out_of_the_web_root,
                                        static_setup, static_teardown),
        cmocka_unit_test_setup_teardown(test_http_refuses_symlinks_inside_the_web_root_too,
                                        static_setup, static_teardown),
        cmocka_unit_test_setup_teardown(test_http_a_fifo_in_the_web_root_is_404_not_a_hang,
                                        static_setup, static_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
