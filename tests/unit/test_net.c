/* Unit tests for net: a real listener on loopback, a client in the same process (over TLS with
 * an OpenSSL client driven through memory BIOs, so the test decides where each record ends),
 * and a fake upper layer behind net_handlers that counts what net tells it.
 *
 * The input path: an upper layer that pauses the connection after every message and resumes it
 * as the game's tick does. Plain and TLS connections must pause, hold and resume alike: no
 * message while paused, every message once and in order, whatever the record boundaries.
 *
 * The lifecycle (connstate.h): HTTP keep-alive then the upgrade, a close begun by either side,
 * a second close, a close while paused, a peer that resets, a reader too slow for the outbound
 * bound. In each the owner hears on_close exactly once and the connection is freed; net_check
 * walks net's invariants at every step (the unit tests are built sanitized, with NET_CHECKS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/http.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MESSAGES 24
/* Loop turns a step may take before the test gives up (each turn polls without waiting). */
#define SPINS 20000

typedef struct fixture {
    uv_loop_t loop;
    net *net;
    char dir[64], cert[96], key[96];
    net_conn *conn;  /* the test's one open connection */
    int pause_every; /* on_message pauses after this many messages (0: never) */
    int paused;      /* the connection is paused: the "tick" will resume it */
    int parsed_while_paused;
    int count;
    char messages[MESSAGES][16];
    int opens, closes; /* on_open (accepted) and on_close calls */
    int refuse;        /* on_open refuses (returns NULL) */
    rcbuf *open_send;  /* on_open sends this first (if not NULL) */
    int open_close;    /* on_open closes the connection it accepts */
} fixture;

typedef struct client {
    int fd;
    int eof; /* the server closed (FIN or reset) */
    SSL_CTX *ctx;
    SSL *ssl; /* NULL: plain */
    BIO *in, *out;
    uint8_t got[4096]; /* plaintext received from the server */
    size_t got_len;
} client;

/* ---------------------------------------------------------------- the upper layer */

static void *on_open(void *ctx, net_conn *conn)
{
    fixture *f = ctx;
    if (f->refuse) return NULL;
    f->conn = conn;
    f->opens++;
    if (f->open_send) net_conn_send(conn, f->open_send);
    if (f->open_close) net_conn_close(conn, 1000, "");
    return f;
}

static int on_message(void *ctx, void *owner, const uint8_t *data, size_t len)
{
    fixture *f = ctx;
    if (f->paused) f->parsed_while_paused++;
    if (f->count < MESSAGES && len < sizeof f->messages[0]) {
        memcpy(f->messages[f->count], data, len);
        f->messages[f->count][len] = 0;
    }
    f->count++;
    f->paused = f->pause_every && f->count % f->pause_every == 0;
    return f->paused ? NET_PAUSE : NET_CONTINUE;
}

static void on_close(void *ctx, void *owner)
{
    fixture *f = ctx;
    f->conn = NULL;
    f->closes++;
}

/* /hello answers from the upper layer; anything else falls through to net's static files. */
static rcbuf *on_http(void *ctx, const char *path, int reset_query, int keep_alive)
{
    if (strcmp(path, "/hello") != 0) return NULL;
    return http_response_text(200, "hello\n", keep_alive);
}

/* ---------------------------------------------------------------- certificate */

/* A self-signed P-256 certificate and its key, written as PEM files for net_config. */
static void make_certificate(fixture *f)
{
    strcpy(f->dir, "/tmp/cmmo-test-net-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->cert, sizeof f->cert, "%s/cert.pem", f->dir);
    snprintf(f->key, sizeof f->key, "%s/key.pem", f->dir);
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(pkey);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
    FILE *fc = fopen(f->cert, "w"), *fk = fopen(f->key, "w");
    assert_non_null(fc);
    assert_non_null(fk);
    assert_int_equal(PEM_write_X509(fc, x), 1);
    assert_int_equal(PEM_write_PrivateKey(fk, pkey, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fc);
    fclose(fk);
    X509_free(x);
    EVP_PKEY_free(pkey);
}

/* ---------------------------------------------------------------- the client */

static void client_flush_tls(client *c)
{
    char buf[65536];
    int n;
    while ((n = BIO_read(c->out, buf, sizeof buf)) > 0)
        assert_int_equal(send(c->fd, buf, (size_t)n, MSG_NOSIGNAL), n);
}

/* One turn: the server's loop runs once, then the client takes whatever arrived. */
static void pump(fixture *f, client *c)
{
    uv_run(&f->loop, UV_RUN_NOWAIT);
    uint8_t buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) c->eof = 1;
    if (n <= 0) return;
    if (!c->ssl) {
        assert_true(c->got_len + (size_t)n <= sizeof c->got);
        memcpy(c->got + c->got_len, buf, (size_t)n);
        c->got_len += (size_t)n;
        return;
    }
    BIO_write(c->in, buf, (int)n);
    int m;
    while ((m = SSL_read(c->ssl, c->got + c->got_len, (int)(sizeof c->got - c->got_len))) > 0)
        c->got_len += (size_t)m;
    client_flush_tls(c);
}

/* Sends the pieces in one TCP write; over TLS each piece is its own record. */
static void client_send(client *c, const uint8_t *const *pieces, const size_t *lens, size_t n)
{
    if (!c->ssl) {
        uint8_t buf[8192];
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(len + lens[i] <= sizeof buf);
            memcpy(buf + len, pieces[i], lens[i]);
            len += lens[i];
        }
        assert_int_equal(send(c->fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
        return;
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(SSL_write(c->ssl, pieces[i], (int)lens[i]), (int)lens[i]);
    client_flush_tls(c);
}

/* Connects over TCP only, with a receive buffer of rcvbuf bytes if not 0. */
static void client_connect(fixture *f, client *c, int rcvbuf)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    if (rcvbuf) setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)net_port(f->net))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
}

static const char upgrade_request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      "Sec-WebSocket-Version: 13\r\n\r\n";

/* Runs the loop until the client holds `text` (from the start of what it got). */
static void client_wait_for(fixture *f, client *c, const char *text)
{
    for (int spins = 0; !memmem(c->got, c->got_len, text, strlen(text)); spins++) {
        if (spins >= SPINS) fail_msg("never received \"%s\" (%zu bytes in)", text, c->got_len);
        pump(f, c);
    }
}

/* On a connected client: (over TLS if tls) completes the WebSocket handshake and waits for
 * on_open. */
static void client_handshake(fixture *f, client *c, int tls)
{
    if (tls) {
        c->ctx = SSL_CTX_new(TLS_client_method());
        c->ssl = SSL_new(c->ctx);
        c->in = BIO_new(BIO_s_mem());
        c->out = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(c->in, -1);
        SSL_set_bio(c->ssl, c->in, c->out);
        SSL_set_connect_state(c->ssl);
        int spins = 0;
        int rc;
        while ((rc = SSL_do_handshake(c->ssl)) != 1) {
            assert_int_equal(SSL_get_error(c->ssl, rc), SSL_ERROR_WANT_READ);
            client_flush_tls(c);
            assert_true(++spins < SPINS);
            uv_run(&f->loop, UV_RUN_NOWAIT);
            uint8_t buf[65536];
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n > 0) BIO_write(c->in, buf, (int)n);
        }
        client_flush_tls(c);
    }
    const uint8_t *piece = (const uint8_t *)upgrade_request;
    size_t len = sizeof upgrade_request - 1;
    client_send(c, &piece, &len, 1);
    for (int spins = 0; !memmem(c->got, c->got_len, "\r\n\r\n", 4); spins++) {
        assert_true(spins < SPINS);
        pump(f, c);
    }
    assert_memory_equal(c->got, "HTTP/1.1 101", 12);
    c->got_len = 0; /* from now on the server is to send nothing: a close would land here */
    assert_non_null(f->conn);
}

/* Connects (over TLS if tls), completes the WebSocket handshake and waits for on_open. */
static void client_open(fixture *f, client *c, int tls)
{
    client_connect(f, c, 0);
    client_handshake(f, c, tls);
}

static void client_close(fixture *f, client *c)
{
    close(c->fd);
    if (f->paused && f->conn) { /* a paused connection reads nothing, its EOF included */
        f->paused = 0;
        net_conn_resume(f->conn);
    }
    for (int spins = 0; f->conn && spins < SPINS; spins++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_null(f->conn);
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}

/* ---------------------------------------------------------------- the cases */

/* MESSAGES client text frames ("msg-0" ...), masked with the zero mask; returns the stream's
 * length and each frame's start. */
static size_t frames(uint8_t *stream, size_t cap, size_t *starts)
{
    size_t len = 0;
    for (int i = 0; i < MESSAGES; i++) {
        char text[16];
        int n = snprintf(text, sizeof text, "msg-%d", i);
        assert_true(len + 6 + (size_t)n <= cap);
        starts[i] = len;
        stream[len++] = 0x81;
        stream[len++] = (uint8_t)(0x80 | n);
        memset(stream + len, 0, 4);
        len += 4;
        memcpy(stream + len, text, (size_t)n);
        len += (size_t)n;
    }
    return len;
}

/* Sends the frames in one write, cut into records at cuts (ascending), then runs the loop,
 * resuming the connection whenever it paused, until every message is in. Asserts they came
 * once each, in order, none while paused, and that the server sent nothing (no close). */
static void run_case(fixture *f, int tls, const size_t *cuts, size_t ncuts, const char *what)
{
    client c;
    f->count = f->parsed_while_paused = f->paused = 0;
    client_open(f, &c, tls);
    uint8_t stream[1024];
    size_t starts[MESSAGES];
    size_t len = frames(stream, sizeof stream, starts);
    const uint8_t *pieces[MESSAGES * 2 + 1];
    size_t lens[MESSAGES * 2 + 1], n = 0, from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        if (to <= from || to > len) continue;
        pieces[n] = stream + from;
        lens[n++] = to - from;
        from = to;
    }
    client_send(&c, pieces, lens, n);
    for (int spins = 0; f->count < MESSAGES && c.got_len == 0 && f->conn; spins++) {
        if (spins >= SPINS) fail_msg("%s: %d of %d messages", what, f->count, MESSAGES);
        pump(f, &c);
        if (f->paused && f->conn) { /* the tick: the queue is drained, resume */
            f->paused = 0;
            net_conn_resume(f->conn);
        }
    }
    if (c.got_len >= 4 && c.got[0] == 0x88)
        fail_msg("%s: closed with %d after %d messages", what, c.got[2] << 8 | c.got[3], f->count);
    if (c.got_len) fail_msg("%s: the server sent %zu unexpected bytes", what, c.got_len);
    if (f->count != MESSAGES) fail_msg("%s: %d of %d messages", what, f->count, MESSAGES);
    if (f->parsed_while_paused)
        fail_msg("%s: %d parsed while paused", what, f->parsed_while_paused);
    for (int i = 0; i < MESSAGES; i++) {
        char want[16];
        snprintf(want, sizeof want, "msg-%d", i);
        if (strcmp(f->messages[i], want) != 0)
            fail_msg("%s: message %d is \"%s\", not \"%s\"", what, i, f->messages[i], want);
    }
    client_close(f, &c);
}

/* Every frame cut at offset k (its last byte if shorter), for every k: whichever message pauses,
 * the next record starts inside a frame. */
static void check_every_offset(fixture *f, int tls)
{
    uint8_t stream[1024];
    size_t starts[MESSAGES];
    size_t len = frames(stream, sizeof stream, starts);
    for (size_t k = 1; k < 12; k++) {
        size_t cuts[MESSAGES];
        for (int i = 0; i < MESSAGES; i++) {
            size_t end = i + 1 < MESSAGES ? starts[i + 1] : len;
            cuts[i] = starts[i] + (starts[i] + k < end ? k : end - starts[i] - 1);
        }
        char what[64];
        snprintf(what, sizeof what, "%s, records cut %zu bytes into each frame",
                 tls ? "TLS" : "plain", k);
        run_case(f, tls, cuts, MESSAGES, what);
    }
}

/* Records of several whole frames: the frames after the pausing one in a record are held and
 * must still come before the next record's. */
static void check_whole_frames(fixture *f, int tls)
{
    uint8_t stream[1024];
    size_t starts[MESSAGES];
    frames(stream, sizeof stream, starts);
    for (int per = 1; per <= 4; per++) {
        size_t cuts[MESSAGES];
        size_t n = 0;
        for (int i = per; i < MESSAGES; i += per)
            cuts[n++] = starts[i];
        char what[64];
        snprintf(what, sizeof what, "%s, records of %d whole frames", tls ? "TLS" : "plain", per);
        run_case(f, tls, cuts, n, what);
    }
}

static void
test_tls_records_cut_inside_frames_while_paused_keep_every_message_in_order(void **state)
{
    fixture *f = *state;
    f->pause_every = 1;
    check_every_offset(f, 1);
}

static void test_plain_reads_while_paused_keep_every_message_in_order(void **state)
{
    fixture *f = *state;
    f->pause_every = 1;
    check_every_offset(f, 0);
    check_whole_frames(f, 0);
}

static void test_tls_records_of_whole_frames_while_paused_keep_their_order(void **state)
{
    fixture *f = *state;
    f->pause_every = 1;
    check_whole_frames(f, 1);
}

static void test_tls_pausing_every_third_message_resumes_in_order(void **state)
{
    fixture *f = *state;
    f->pause_every = 3;
    check_every_offset(f, 1);
}

static void test_tls_input_without_pausing_arrives_whole(void **state)
{
    fixture *f = *state;
    f->pause_every = 0;
    check_every_offset(f, 1);
}

/* A paused connection is not read, so what it holds is bounded by one read (NET_READ_BUFFER,
 * 64 KiB), and over TLS nothing is decrypted into an unbounded place: a client that keeps
 * writing fills the kernel's buffers, not the server's memory. */
static void check_paused_connection_stops_reading(fixture *f, int tls)
{
    client c;
    f->count = f->parsed_while_paused = f->paused = 0;
    f->pause_every = 1;
    client_open(f, &c, tls);
    uint64_t before = net_get_stats(f->net)->bytes_in;
    enum { FRAME = 12, TOTAL = 4 << 20 };
    uint8_t frame[FRAME] = {0x81, 0x80 | 6, 0, 0, 0, 0, 'f', 'l', 'o', 'o', 'd', '!'};
    static uint8_t wire[TOTAL + 65536];
    size_t wire_len = 0, sent = 0;
    if (tls) {
        uint8_t plain[16368]; /* whole frames, one record each */
        for (size_t i = 0; i + FRAME <= sizeof plain; i += FRAME)
            memcpy(plain + i, frame, FRAME);
        while (wire_len < TOTAL) {
            assert_true(SSL_write(c.ssl, plain, sizeof plain) > 0);
            wire_len += (size_t)BIO_read(c.out, wire + wire_len, (int)(sizeof wire - wire_len));
        }
    } else {
        for (; wire_len + FRAME <= TOTAL; wire_len += FRAME)
            memcpy(wire + wire_len, frame, FRAME);
    }
    for (int spins = 0; spins < 2000 && sent < wire_len; spins++) {
        ssize_t n = send(c.fd, wire + sent, wire_len - sent, MSG_NOSIGNAL);
        if (n > 0) sent += (size_t)n;
        pump(f, &c);
    }
    uint64_t read = net_get_stats(f->net)->bytes_in - before;
    assert_int_equal(f->count, 1);
    assert_int_equal(f->parsed_while_paused, 0);
    if (read > 65536)
        fail_msg("%s: %llu bytes read while paused", tls ? "TLS" : "plain",
                 (unsigned long long)read);
    assert_true(sent > 4 * 65536); /* the client did try to send much more */
    assert_int_equal(c.got_len, 0);
    f->pause_every = 0; /* let the close read everything */
    client_close(f, &c);
}

static void test_paused_connection_stops_reading_plain_and_tls(void **state)
{
    fixture *f = *state;
    check_paused_connection_stops_reading(f, 0);
    check_paused_connection_stops_reading(f, 1);
}

/* ---------------------------------------------------------------- the lifecycle */

/* Each lifecycle case starts from a net with no connection left and fresh counts. */
static fixture *fresh(void **state)
{
    fixture *f = *state;
    for (int spins = 0; net_connection_count(f->net) && spins < SPINS; spins++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(net_connection_count(f->net), 0);
    f->count = f->parsed_while_paused = f->paused = f->pause_every = 0;
    f->opens = f->closes = f->refuse = f->open_close = 0;
    f->open_send = NULL;
    f->conn = NULL;
    net_check(f->net);
    return f;
}

static void client_send_text(client *c, const char *text)
{
    const uint8_t *piece = (const uint8_t *)text;
    size_t len = strlen(text);
    client_send(c, &piece, &len, 1);
}

/* One masked client frame (the zero mask) with a payload of at most 125 bytes. */
static void client_send_frame(client *c, uint8_t opcode, const void *payload, size_t len)
{
    uint8_t frame[6 + 125];
    assert_true(len <= 125);
    frame[0] = (uint8_t)(0x80 | opcode);
    frame[1] = (uint8_t)(0x80 | len);
    memset(frame + 2, 0, 4);
    memcpy(frame + 6, payload, len);
    const uint8_t *piece = frame;
    size_t n = 6 + len;
    client_send(c, &piece, &n, 1);
}

/* Runs the loop until the server has closed its side of the TCP connection. */
static void client_wait_eof(fixture *f, client *c)
{
    for (int spins = 0; !c->eof; spins++) {
        if (spins >= SPINS) fail_msg("the server never closed (%zu bytes in)", c->got_len);
        pump(f, c);
        net_check(f->net);
    }
}

/* Closes the client's socket and runs the loop until net has freed every connection. */
static void client_hang_up(fixture *f, client *c)
{
    close(c->fd);
    for (int spins = 0; net_connection_count(f->net) && spins < SPINS; spins++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        net_check(f->net);
    }
    assert_int_equal(net_connection_count(f->net), 0);
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}

/* The client received exactly one frame, a close with this code and reason. */
static void assert_one_close_frame(const client *c, unsigned code, const char *reason)
{
    size_t rl = strlen(reason);
    if (c->got_len != 4 + rl) fail_msg("%zu bytes received, not one close frame", c->got_len);
    assert_int_equal(c->got[0], 0x88);
    assert_int_equal(c->got[1], 2 + rl);
    assert_int_equal(c->got[2] << 8 | c->got[3], code);
    assert_memory_equal(c->got + 4, reason, rl);
}

/* After its FIN the server keeps the connection until the peer's EOF: closing at once would
 * answer the peer's unread bytes with RST, which can discard the close frame unread. */
static void assert_lingers_for_the_peer(fixture *f, client *c)
{
    for (int spins = 0; spins < 100; spins++)
        pump(f, c);
    net_check(f->net);
    assert_int_equal(net_connection_count(f->net), 1);
}

static void test_http_keep_alive_then_upgrade_opens_one_websocket(void **state)
{
    fixture *f = fresh(state);
    client c;
    client_connect(f, &c, 0);
    for (int i = 0; i < 2; i++) { /* two requests, one connection */
        client_send_text(&c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        client_wait_for(f, &c, "hello\n");
        assert_memory_equal(c.got, "HTTP/1.1 200", 12);
        c.got_len = 0;
        net_check(f->net);
    }
    assert_int_equal(net_connection_count(f->net), 1);
    assert_int_equal(f->opens, 0);
    client_handshake(f, &c, 0);
    assert_int_equal(f->opens, 1);
    client_send_frame(&c, 1, "after", 5);
    for (int spins = 0; f->count == 0 && spins < SPINS; spins++)
        pump(f, &c);
    assert_int_equal(f->count, 1);
    assert_string_equal(f->messages[0], "after");
    assert_int_equal(c.got_len, 0);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
}

static void test_http_without_keep_alive_is_answered_then_closed(void **state)
{
    fixture *f = fresh(state);
    client c;
    client_connect(f, &c, 0);
    client_send_text(&c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    client_wait_eof(f, &c);
    assert_non_null(memmem(c.got, c.got_len, "hello\n", 6));
    client_hang_up(f, &c);
    assert_int_equal(f->opens + f->closes, 0);
}

/* The server closes (the game kicks a player), twice in the same tick, and sends afterwards:
 * the owner hears on_close at once and once, the peer gets one close frame, then our FIN. */
static void test_server_close_twice_sends_one_close_frame_and_tells_owner_once(void **state)
{
    fixture *f = fresh(state);
    client c;
    client_open(f, &c, 0);
    net_conn *conn = f->conn;
    net_conn_close(conn, 4000, "kicked");
    assert_int_equal(f->closes, 1);
    assert_null(f->conn);
    net_conn_close(conn, 1000, "again");
    rcbuf *late = rcbuf_from("late", 4);
    assert_non_null(late);
    net_conn_send(conn, late); /* after the close: dropped */
    rcbuf_unref(late);
    net_flush(f->net);
    net_check(f->net);
    client_wait_eof(f, &c);
    assert_one_close_frame(&c, 4000, "kicked");
    assert_lingers_for_the_peer(f, &c);
    uint8_t echo[2] = {4000 >> 8, 4000 & 0xff};
    client_send_frame(&c, 8, echo, sizeof echo);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
}

/* The peer closes: its code is echoed (RFC 6455 5.5.1), the owner told once, our FIN follows. */
static void test_peer_close_is_echoed_and_tells_owner_once(void **state)
{
    fixture *f = fresh(state);
    client c;
    client_open(f, &c, 0);
    const uint8_t close[] = {1000 >> 8, 1000 & 0xff, 'b', 'y', 'e'};
    client_send_frame(&c, 8, close, sizeof close);
    client_wait_eof(f, &c);
    assert_int_equal(f->closes, 1);
    assert_null(f->conn);
    assert_one_close_frame(&c, 1000, "");
    assert_lingers_for_the_peer(f, &c);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
}

/* The owner paused the connection with input still held, then closes it: the close goes out,
 * nothing held is delivered, and the held bytes are freed with the connection (ASan). */
static void test_close_while_paused_sends_close_and_delivers_nothing_held(void **state)
{
    fixture *f = fresh(state);
    f->pause_every = 1;
    client c;
    client_open(f, &c, 0);
    uint8_t stream[1024];
    size_t starts[MESSAGES];
    frames(stream, sizeof stream, starts);
    const uint8_t *piece = stream;
    size_t len = starts[3]; /* three messages in one write */
    client_send(&c, &piece, &len, 1);
    for (int spins = 0; spins < 200 || f->count == 0; spins++) {
        if (spins >= SPINS) fail_msg("no message arrived");
        pump(f, &c);
    }
    assert_int_equal(f->count, 1);
    net_conn_close(f->conn, 1001, "going away");
    assert_int_equal(f->closes, 1);
    client_wait_eof(f, &c);
    assert_one_close_frame(&c, 1001, "going away");
    assert_int_equal(f->count, 1);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
}

/* A peer that resets (RST, no close frame): the connection is dropped and the owner told. */
static void test_peer_reset_drops_connection_and_tells_owner_once(void **state)
{
    fixture *f = fresh(state);
    client c;
    client_open(f, &c, 0);
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close), 0);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
    assert_null(f->conn);
}

/* A client that stops reading: once the kernel refuses more than NET_OUTBOUND_MAX, the
 * connection is dropped rather than buffered without bound, and the owner told once. */
static void test_slow_reader_past_the_outbound_bound_is_dropped(void **state)
{
    fixture *f = fresh(state);
    client c;
    client_connect(f, &c, 4096);
    client_handshake(f, &c, 0);
    uint64_t dropped = net_get_stats(f->net)->slow_dropped;
    enum { SIZE = 60000 };
    rcbuf *m = rcbuf_new(SIZE);
    assert_non_null(m);
    memset(rcbuf_data(m), 'x', SIZE);
    m->len = SIZE;
    size_t sent = 0;
    for (int i = 0; f->conn && i < 20000; i++) { /* at most 1.2 GB, by reference */
        net_conn_send(f->conn, m);
        net_flush(f->net);
        uv_run(&f->loop, UV_RUN_NOWAIT);
        sent += SIZE;
    }
    rcbuf_unref(m);
    assert_null(f->conn);
    assert_int_equal(f->closes, 1);
    assert_int_equal(net_get_stats(f->net)->slow_dropped, dropped + 1);
    assert_true(sent > NET_OUTBOUND_MAX);
    client_hang_up(f, &c);
}

/* The upper layer refuses a WebSocket (on_open NULL): closed with 1013, and no on_close owed. */
static void test_refused_websocket_is_closed_with_1013_and_owes_no_close(void **state)
{
    fixture *f = fresh(state);
    f->refuse = 1;
    client c;
    client_connect(f, &c, 0);
    client_send_text(&c, upgrade_request);
    client_wait_eof(f, &c);
    const uint8_t *frame = memmem(c.got, c.got_len, "\r\n\r\n", 4);
    assert_non_null(frame);
    frame += 4;
    assert_int_equal(frame[0], 0x88);
    assert_int_equal(frame[2] << 8 | frame[3], 1013);
    client_hang_up(f, &c);
    assert_int_equal(f->opens + f->closes, 0);
}

/* on_open's first send is more than one tick may queue (NET_BURST_MAX), so the connection is
 * dropped inside on_open: the owner it returns must still hear on_close, exactly once, or it
 * keeps a pointer to a freed connection. */
static void test_connection_dropped_inside_on_open_still_tells_owner_once(void **state)
{
    fixture *f = fresh(state);
    rcbuf *huge = rcbuf_new(NET_BURST_MAX + 1);
    assert_non_null(huge);
    memset(rcbuf_data(huge), 'x', NET_BURST_MAX + 1);
    huge->len = NET_BURST_MAX + 1;
    f->open_send = huge;
    client c;
    client_connect(f, &c, 0);
    client_send_text(&c, upgrade_request);
    client_wait_eof(f, &c);
    f->open_send = NULL;
    rcbuf_unref(huge);
    assert_int_equal(f->opens, 1);
    assert_int_equal(f->closes, 1);
    assert_null(f->conn);
    assert_int_equal(net_get_stats(f->net)->websockets, 0);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
}

/* on_open closes the connection it accepts (the game turns a player away after all): the owner
 * hears on_close as soon as on_open returns, as for any close, not when the peer hangs up. */
static void test_connection_closed_inside_on_open_tells_owner_at_once(void **state)
{
    fixture *f = fresh(state);
    f->open_close = 1;
    client c;
    client_connect(f, &c, 0);
    client_send_text(&c, upgrade_request);
    client_wait_eof(f, &c);
    assert_int_equal(f->opens, 1);
    assert_int_equal(f->closes, 1);
    assert_null(f->conn);
    assert_int_equal(net_get_stats(f->net)->websockets, 0);
    client_hang_up(f, &c);
    assert_int_equal(f->closes, 1);
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    make_certificate(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    net_config config = {.host = "127.0.0.1",
                         .port = 0,
                         .web_root = f->dir,
                         .max_message = 4096,
                         .tls_cert = f->cert,
                         .tls_key = f->key};
    net_handlers handlers = {.ctx = f,
                             .on_open = on_open,
                             .on_message = on_message,
                             .on_close = on_close,
                             .on_http = on_http};
    f->net = net_create(&f->loop, &config, &handlers);
    assert_non_null(f->net);
    assert_int_equal(net_listen(f->net), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    net_shutdown(f->net, 1001, "bye");
    for (int spins = 0; !net_is_idle(f->net) && spins < SPINS; spins++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    net_abort_all(f->net); /* a failed case may have left its client connected */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    net_destroy(f->net);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    unlink(f->cert);
    unlink(f->key);
    rmdir(f->dir);
    free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_tls_records_cut_inside_frames_while_paused_keep_every_message_in_order),
        cmocka_unit_test(test_tls_records_of_whole_frames_while_paused_keep_their_order),
        cmocka_unit_test(test_tls_pausing_every_third_message_resumes_in_order),
        cmocka_unit_test(test_tls_input_without_pausing_arrives_whole),
        cmocka_unit_test(test_plain_reads_while_paused_keep_every_message_in_order),
        cmocka_unit_test(test_paused_connection_stops_reading_plain_and_tls),
        cmocka_unit_test(test_http_keep_alive_then_upgrade_opens_one_websocket),
        cmocka_unit_test(test_http_without_keep_alive_is_answered_then_closed),
        cmocka_unit_test(test_server_close_twice_sends_one_close_frame_and_tells_owner_once),
        cmocka_unit_test(test_peer_close_is_echoed_and_tells_owner_once),
        cmocka_unit_test(test_close_while_paused_sends_close_and_delivers_nothing_held),
        cmocka_unit_test(test_peer_reset_drops_connection_and_tells_owner_once),
        cmocka_unit_test(test_slow_reader_past_the_outbound_bound_is_dropped),
        cmocka_unit_test(test_refused_websocket_is_closed_with_1013_and_owes_no_close),
        cmocka_unit_test(test_connection_dropped_inside_on_open_still_tells_owner_once),
        cmocka_unit_test(test_connection_closed_inside_on_open_tells_owner_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
