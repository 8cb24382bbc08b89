/* bench_conn: a client WebSocket connection on libuv (see bench_conn.h). */
#include "bench_conn.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* A write that could not complete at once: the request and a copy of the remaining bytes. */
struct pending_write {
    uv_write_t req;
    struct bench_conn *conn;
    size_t len;
    char data[];
};

/* Masking keys only need to be unpredictable to intermediaries (RFC 6455 10.3); on loopback a fast
 * xorshift seeded once is enough and costs nothing per frame. */
static uint32_t next_mask(struct bench_net *net)
{
    uint64_t x = net->mask_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    net->mask_state = x;
    return (uint32_t)((x * 2685821657736338717ull) >> 32);
}

int bench_net_init(struct bench_net *net, uv_loop_t *loop, const char *host, int port,
                   uint64_t seed)
{
    memset(net, 0, sizeof(*net));
    net->loop = loop;
    int rc = uv_ip4_addr(host, port, &net->addr);
    if (rc != 0) return rc;
    snprintf(net->host, sizeof(net->host), "%s", host);
    net->port = port;
    net->read_buffer = malloc(BENCH_CONN_READ_BUFFER);
    if (!net->read_buffer) return UV_ENOMEM;
    net->mask_state = seed | 1;
    return 0;
}

void bench_net_free(struct bench_net *net)
{
    free(net->read_buffer);
    net->read_buffer = NULL;
}

static void on_closed(uv_handle_t *h)
{
    struct bench_conn *c = h->data;
    free(c->carry);
    c->carry = NULL;
    c->carry_len = c->carry_cap = 0;
    c->state = BENCH_CONN_CLOSED;
    c->net->on_close(c, c->end);
}

/* Ends the connection for reason why; the first reason sticks. */
static void conn_end(struct bench_conn *c, enum bench_conn_end why)
{
    if (c->state == BENCH_CONN_CLOSING || c->state == BENCH_CONN_CLOSED ||
        c->state == BENCH_CONN_IDLE)
        return;
    c->end = why;
    c->state = BENCH_CONN_CLOSING;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_written(uv_write_t *req, int status)
{
    struct pending_write *w = (struct pending_write *)req;
    struct bench_conn *c = w->conn;
    c->unsent -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED) conn_end(c, BENCH_CONN_END_ERROR);
}

/* Writes bytes in order: directly when the socket takes them, else through a queued uv_write. */
static int write_bytes(struct bench_conn *c, const void *data, size_t len)
{
    size_t done = 0;
    if (c->unsent == 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n >= 0)
            done = (size_t)n;
        else if (n != UV_EAGAIN) {
            conn_end(c, BENCH_CONN_END_ERROR);
            return -1;
        }
    }
    if (done == len) return 0;
    size_t rest = len - done;
    if (c->unsent + rest > BENCH_CONN_MAX_UNSENT) {
        conn_end(c, BENCH_CONN_END_ERROR);
        return -1;
    }
    struct pending_write *w = malloc(sizeof(*w) + rest);
    if (!w) {
        conn_end(c, BENCH_CONN_END_ERROR);
        return -1;
    }
    w->conn = c;
    w->len = rest;
    memcpy(w->data, (const char *)data + done, rest);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)rest);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        conn_end(c, BENCH_CONN_END_ERROR);
        return -1;
    }
    c->unsent += rest;
    return 0;
}

static int send_frame(struct bench_conn *c, enum bench_ws_opcode op, const void *data, size_t len)
{
    uint8_t stackbuf[1024];
    uint8_t *buf = stackbuf;
    size_t cap = len + BENCH_WS_MAX_HEADER;
    if (cap > sizeof(stackbuf)) {
        buf = malloc(cap);
        if (!buf) return -1;
    }
    size_t n = bench_ws_encode(buf, cap, op, data, len, next_mask(c->net));
    int rc = n ? write_bytes(c, buf, n) : -1;
    if (buf != stackbuf) free(buf);
    return rc;
}

int bench_conn_send_text(struct bench_conn *c, const char *text, size_t len)
{
    if (c->state != BENCH_CONN_OPEN) return -1;
    return send_frame(c, BENCH_WS_TEXT, text, len);
}

void bench_conn_close(struct bench_conn *c)
{
    if (c->state == BENCH_CONN_OPEN) {
        static const uint8_t normal[2] = {0x03, 0xE8}; /* 1000: normal closure */
        send_frame(c, BENCH_WS_CLOSE, normal, sizeof(normal));
    }
    conn_end(c, BENCH_CONN_END_BY_US);
}

/* Makes room for want more bytes in the carry buffer. */
static int carry_reserve(struct bench_conn *c, size_t want)
{
    if (c->carry_cap - c->carry_len >= want) return 0;
    size_t cap = c->carry_len + want;
    uint8_t *p = realloc(c->carry, cap);
    if (!p) return -1;
    c->carry = p;
    c->carry_cap = cap;
    return 0;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct bench_conn *c = h->data;
    /* With no partial frame pending, read into the shared buffer and parse in place; otherwise
     * append to the carry so the frame is contiguous. */
    if (c->carry_len == 0 && c->state == BENCH_CONN_OPEN) {
        *buf = uv_buf_init((char *)c->net->read_buffer, BENCH_CONN_READ_BUFFER);
        return;
    }
    size_t room = 16384;
    if (carry_reserve(c, room) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)c->carry + c->carry_len, (unsigned)(c->carry_cap - c->carry_len));
}

/* Handles every complete frame in data[0..len); returns bytes consumed, or -1 if c was ended. */
static long handle_frames(struct bench_conn *c, const uint8_t *data, size_t len, uint64_t now)
{
    size_t off = 0;
    while (off < len && c->state == BENCH_CONN_OPEN) {
        struct bench_ws_frame f;
        long n = bench_ws_decode(data + off, len - off, BENCH_CONN_MAX_MESSAGE, &f);
        if (n == 0) break;
        if (n < 0) {
            conn_end(c, BENCH_CONN_END_PROTOCOL);
            return -1;
        }
        off += (size_t)n;
        switch (f.opcode) {
        case BENCH_WS_TEXT:
        case BENCH_WS_BINARY:
            /* The server sends one packet per unfragmented frame; anything else is unexpected
             * enough to end the connection rather than grow a reassembly path. */
            if (!f.fin) {
                conn_end(c, BENCH_CONN_END_PROTOCOL);
                return -1;
            }
            c->frames_in++;
            c->net->on_message(c, (const char *)f.payload, f.len, now);
            break;
        case BENCH_WS_PING:
            send_frame(c, BENCH_WS_PONG, f.payload, f.len);
            break;
        case BENCH_WS_PONG:
            break;
        case BENCH_WS_CLOSE:
            send_frame(c, BENCH_WS_CLOSE, f.payload, f.len >= 2 ? 2 : 0);
            conn_end(c, BENCH_CONN_END_PEER_CLOSE);
            return -1;
        default:
            conn_end(c, BENCH_CONN_END_PROTOCOL);
            return -1;
        }
    }
    return c->state == BENCH_CONN_OPEN ? (long)off : -1;
}

/* Keeps data[off..len) in the carry buffer (data may be the carry itself). */
static int keep_rest(struct bench_conn *c, const uint8_t *data, size_t off, size_t len)
{
    size_t rest = len - off;
    if (data == c->carry) {
        memmove(c->carry, c->carry + off, rest);
        c->carry_len = rest;
    } else {
        c->carry_len = 0;
        if (rest && carry_reserve(c, rest) != 0) return -1;
        if (rest) memcpy(c->carry, data + off, rest);
        c->carry_len = rest;
    }
    /* Give memory back once a split frame is done: most connections never need a carry. */
    if (c->carry_len == 0 && c->carry_cap > 16384) {
        free(c->carry);
        c->carry = NULL;
        c->carry_cap = 0;
    }
    return 0;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct bench_conn *c = s->data;
    uint64_t now = uv_hrtime();
    if (nread == 0) return;
    if (nread < 0) {
        conn_end(c, nread == UV_EOF ? BENCH_CONN_END_EOF : BENCH_CONN_END_ERROR);
        return;
    }
    c->bytes_in += (uint64_t)nread;
    const uint8_t *data;
    size_t len;
    if (buf->base == (char *)c->net->read_buffer) {
        data = c->net->read_buffer;
        len = (size_t)nread;
    } else {
        c->carry_len += (size_t)nread;
        data = c->carry;
        len = c->carry_len;
    }

    size_t off = 0;
    if (c->state == BENCH_CONN_HANDSHAKE) {
        int head = bench_ws_check_response((const char *)data, len, c->key, c->net->protocol);
        if (head == 0) return; /* still in the carry, wait for more */
        if (head < 0) {
            conn_end(c, head == BENCH_WS_WRONG_SUBPROTOCOL ? BENCH_CONN_END_SUBPROTOCOL
                                                           : BENCH_CONN_END_HANDSHAKE);
            return;
        }
        off = (size_t)head;
        c->state = BENCH_CONN_OPEN;
        c->net->on_open(c, now);
        if (c->state != BENCH_CONN_OPEN) return;
    }
    long used = handle_frames(c, data + off, len - off, now);
    if (used < 0) return;
    if (keep_rest(c, data, off + (size_t)used, len) != 0) conn_end(c, BENCH_CONN_END_ERROR);
}

static void on_connected(uv_connect_t *req, int status)
{
    struct bench_conn *c = req->data;
    if (c->state != BENCH_CONN_CONNECTING)
        return; /* closed while connecting; on_closed reports it */
    if (status < 0) {
        conn_end(c, BENCH_CONN_END_CONNECT);
        return;
    }
    char request[512];
    int n = bench_ws_request(request, sizeof(request), c->net->host, c->net->port, c->key,
                             c->net->protocol);
    if (n < 0) {
        conn_end(c, BENCH_CONN_END_HANDSHAKE);
        return;
    }
    c->state = BENCH_CONN_HANDSHAKE;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
        conn_end(c, BENCH_CONN_END_ERROR);
        return;
    }
    write_bytes(c, request, (size_t)n);
}

int bench_conn_start(struct bench_net *net, struct bench_conn *c, void *user)
{
    memset(c, 0, sizeof(*c));
    c->net = net;
    c->user = user;
    if (bench_ws_make_key(c->key) != 0) return UV_EIO;
    int rc = uv_tcp_init(net->loop, &c->tcp);
    if (rc != 0) return rc;
    c->tcp.data = c;
    c->connect_req.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    c->state = BENCH_CONN_CONNECTING;
    rc =
        uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&net->addr, on_connected);
    if (rc != 0) {
        /* The handle exists: close it, but the contract says no callback on a failed start. */
        c->state = BENCH_CONN_IDLE;
        uv_close((uv_handle_t *)&c->tcp, NULL);
        return rc;
    }
    return 0;
}
