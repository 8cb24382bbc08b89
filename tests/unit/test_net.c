/* Unit tests for net's input path: a real listener on loopback, a client in the same process
 * (over TLS with an OpenSSL client driven through memory BIOs, so the test decides where each
 * record ends), and an upper layer that pauses the connection after every message and resumes
 * it as the game's tick does. Plain and TLS connections must pause, hold and resume alike: no
 * message while paused, every message once and in order, whatever the record boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/net.h"

#include <arpa/inet.h>
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
} fixture;

typedef struct client {
    int fd;
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
    f->conn = conn;
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

/* Connects (over TLS if tls), completes the WebSocket handshake and waits for on_open. */
static void client_open(fixture *f, client *c, int tls)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)net_port(f->net))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
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
    static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n\r\n";
    const uint8_t *piece = (const uint8_t *)request;
    size_t len = sizeof request - 1;
    client_send(c, &piece, &len, 1);
    for (int spins = 0; !memmem(c->got, c->got_len, "\r\n\r\n", 4); spins++) {
        assert_true(spins < SPINS);
        pump(f, c);
    }
    assert_memory_equal(c->got, "HTTP/1.1 101", 12);
    c->got_len = 0; /* from now on the server is to send nothing: a close would land here */
    assert_non_null(f->conn);
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
    net_handlers handlers = {
        .ctx = f, .on_open = on_open, .on_message = on_message, .on_close = on_close};
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
