#include "net/net.h"

#include "core/addr.h"
#include "core/list.h"
#include "core/log.h"
#include "net/connstate.h"
#include "net/http.h"
#include "net/tls.h"
#include "net/ws.h"
#include "net/wsparse.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One shared read buffer: libuv calls alloc and then read for the same handle back to back, and
 * every byte is consumed (or copied into the connection's held bytes) before the next read. */
#define NET_READ_BUFFER (64 * 1024)
/* The most plaintext a paused connection holds: the rest of the one read (or the one TLS
 * record) during which it paused. Nothing is added while it is paused: the socket is not read
 * and TLS not decrypted until net_conn_resume has parsed the held bytes. */
#define NET_HELD_MAX NET_READ_BUFFER
_Static_assert(TLS_RECORD_PLAIN_MAX <= NET_HELD_MAX, "a paused TLS connection holds one record");
/* How long a connection may stay in HTTP without completing a request, and how long a closing
 * connection may take to drain before it is cut. */
#define NET_HTTP_IDLE_MS 15000
#define NET_CLOSING_MS 5000
/* A WebSocket that has sent nothing for NET_PING_MS is pinged; one silent for NET_DEAD_MS (no
 * pong either) is taken for dead: a phone that vanished without closing its socket. */
#define NET_PING_MS 20000
#define NET_DEAD_MS 45000
/* Connection caps. The total stays under the file descriptor limit with room for the database;
 * the per-address cap stops one host from holding every slot. Loopback is exempt: a reverse
 * proxy on the same machine, and local tools, bring every player through 127.0.0.1. */
#define NET_MAX_CONNECTIONS 60000
#define NET_MAX_PER_ADDRESS 64
/* Output queue entries a connection keeps allocated between ticks (a tick's frames for a
 * crowded map fit; larger bursts allocate for that write only). */
#define NET_QUEUE_KEEP 64
/* Frames up to NET_COPY_MAX bytes (deltas, chat lines, Disconnects) are copied into the
 * connection's current batch buffer instead of being queued by reference. The kernel pays per
 * iovec segment, not per byte: at 5,000 players each client was sent ~50 deltas of ~150 bytes
 * per tick, and _copy_from_iter alone took 15% of the core. Copying ~7 KB in user space costs
 * far less than 50 segments. Larger shared buffers (packed ticks, full-world bursts) stay
 * references. */
#define NET_COPY_MAX 512
#define NET_BATCH_BYTES 8192

/* The sanitized build (and the fuzzers) also walk net's own invariants: after every state move
 * and once a second over every connection. The release build only asserts them where they are
 * free. */
#ifndef NET_CHECKS
#if defined(__SANITIZE_ADDRESS__)
#define NET_CHECKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NET_CHECKS 1
#endif
#endif
#endif

struct net_conn {
    uv_tcp_t tcp;
    net *net;
    net_conn *prev, *next; /* every connection */
    net_conn *next_dirty;  /* connections with queued output */
    /* Where the connection is in its life (connstate.h); moved only by conn_set_state. The
     * flags below are not steps of that life but facts beside it, each with its own reason. */
    enum conn_state state;
    /* On net->dirty, the list net_flush walks: bookkeeping of output, in any live state. */
    unsigned dirty : 1;
    /* on_open returned an owner and on_close is owed. Only in CONN_WS, where it is 0 only while
     * on_open runs: closing or destroying calls on_close and clears it. */
    unsigned opened : 1;
    /* The owner asked to stop (NET_PAUSE): nothing is parsed, read or decrypted until
     * net_conn_resume. The owner's back-pressure, orthogonal to the lifecycle: a paused
     * WebSocket can still be closed by us or dropped, and stays paused until it is freed. */
    unsigned paused : 1;
    /* uv_read_start is in effect: libuv keeps no flag we could ask. */
    unsigned reading : 1;
    /* A ping is out since the last input: the keep-alive timer's memory in CONN_WS. */
    unsigned pinged : 1;
    /* The handshake selected HTTP_SUBPROTOCOL_V2: a property of the WebSocket, not a state. */
    unsigned v2 : 1;
    rcbuf *pong; /* the answer to the latest ping, sent with the next flush */
    uint64_t last_input_ms;
    void *owner;
    uint64_t since_ms;  /* when the current phase (HTTP request, closing) began, for the sweep */
    http_request *http; /* before the upgrade (SNIFF, HTTP*): the request being read */
    tls_conn *tls;      /* NULL for plain connections */
    ws_parser ws;       /* after the upgrade: incoming frames */
    uint8_t *held;      /* plaintext read but not parsed when the owner paused us */
    size_t held_len;
    rcbuf **queue; /* frames waiting for the next flush */
    rcbuf *batch;  /* the queue's last entry when it is a batch being filled (NET_COPY_MAX) */
    uint32_t queue_len, queue_cap;
    size_t queued_bytes;
    uint32_t writes_inflight;
    char peer[48];
};

struct net {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweep;
    int listener_open; /* the handle is initialized and not yet closed */
    int listening;     /* net_listen succeeded: connections are accepted */
    net_config config;
    net_handlers handlers;
    tls_ctx *tls; /* NULL: plain only */
    net_conn *conns;
    net_conn *dirty;
    size_t conn_count;
    net_stats stats;
    int port;
    uint8_t read_buffer[NET_READ_BUFFER];
};

typedef struct write_req {
    uv_write_t req;
    net_conn *conn;
    uint32_t count;
    rcbuf *bufs[];
} write_req;

static void conn_destroy(net_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void conn_flush(net_conn *c);
static void conn_process(net_conn *c, const uint8_t *data, size_t len);
static void conn_stop_reading(net_conn *c);

/* ---------------------------------------------------------------- state */

#ifdef NET_CHECKS
/* Asserts what c's state says about its flags and buffers (SQLite-style: the program's own
 * invariants, never the peer's input). Cheap: one walk of c's queue. */
static void conn_check(const net_conn *c)
{
    enum conn_state s = c->state;
    assert((unsigned)s < CONN_STATES);
    int live = s != CONN_DESTROYED;
    assert(!c->opened || s == CONN_WS);
    assert(live || !c->dirty);
    /* The request is freed at the upgrade, and the frame parser only exists after it. */
    assert(!live || (c->http != NULL) == !conn_state_upgraded(s));
    assert(!c->tls || s != CONN_SNIFF);
    /* Only a WebSocket pauses, pings, answers pings or speaks v2. */
    assert(!(c->paused || c->pinged || c->pong || c->v2) || !live || conn_state_upgraded(s));
    assert(!(s == CONN_WS && c->paused) || !c->reading);
    assert((c->held == NULL) == (c->held_len == 0));
    assert(c->held_len <= NET_HELD_MAX);
    assert(!(s == CONN_WS && c->held_len) || c->paused);
    assert(c->queue_len <= c->queue_cap);
    /* After our FIN nothing more can be written: nothing may wait to be. */
    assert(!(s == CONN_HTTP_SHUT || s == CONN_WS_SHUT) || (c->queue_len == 0 && !c->pong));
    if (!live) return; /* a failed enqueue may leave the count behind; the queue is freed */
    assert(!c->batch || (c->queue_len && c->queue[c->queue_len - 1] == c->batch));
    size_t bytes = 0;
    for (uint32_t i = 0; i < c->queue_len; i++)
        bytes += c->queue[i]->len;
    assert(bytes == c->queued_bytes);
}
#else
static void conn_check(const net_conn *c)
{
    (void)c;
}
#endif

void net_check(const net *n)
{
#ifdef NET_CHECKS
    size_t count = 0, opened = 0, dirty = 0, on_dirty_list = 0;
    for (const net_conn *c = n->conns; c; c = c->next) {
        assert(c->net == n);
        assert(c->prev ? c->prev->next == c : n->conns == c);
        conn_check(c);
        count++;
        opened += c->opened;
        dirty += c->dirty;
    }
    for (const net_conn *c = n->dirty; c; c = c->next_dirty) {
        assert(c->dirty && c->state != CONN_DESTROYED);
        on_dirty_list++;
    }
    assert(count == n->conn_count);
    assert(opened == n->stats.websockets);
    assert(dirty == on_dirty_list);
    assert(!n->listening || n->listener_open);
#else
    (void)n;
#endif
}

/* The one place c's state changes: asserts the move is legal (connstate.c) and that c is
 * consistent in its new state. Leaving CONN_WS pays the on_close that is owed, after the move,
 * so that the owner sees a connection that is already closing: whatever it calls on it then
 * (a send, a second close) is a no-op. */
static void conn_set_state(net_conn *c, enum conn_state to)
{
    int owed = c->opened && to != CONN_WS;
    if (owed) {
        c->opened = 0;
        c->net->stats.websockets--;
    }
    conn_state_move(&c->state, to);
    conn_check(c);
    if (owed) c->net->handlers.on_close(c->net->handlers.ctx, c->owner);
}

/* ---------------------------------------------------------------- output */

/* Appends one entry (its reference taken over) to c's queue. Returns 0, or -1 (b released). */
static int queue_push(net_conn *c, rcbuf *b)
{
    if (c->queue_len == c->queue_cap) {
        uint32_t cap = c->queue_cap ? c->queue_cap * 2 : 8;
        rcbuf **q = realloc(c->queue, cap * sizeof *q);
        if (!q) {
            rcbuf_unref(b);
            return -1;
        }
        c->queue = q;
        c->queue_cap = cap;
    }
    c->queue[c->queue_len++] = b;
    return 0;
}

/* Copies b's bytes to the end of c's current batch if it is small and fits (the outbound bound
 * was checked when the batch was started). Returns 1 if it did, 0 otherwise. */
static int batch_append(net_conn *c, const rcbuf *b)
{
    rcbuf *batch = c->batch;
    if (!batch || b->len > NET_COPY_MAX || batch->capacity - batch->len < b->len) return 0;
    memcpy(rcbuf_data(batch) + batch->len, b->bytes + b->start, b->len);
    batch->len += b->len;
    c->queued_bytes += b->len;
    return 1;
}

/* Appends b (taking over the caller's reference in every case) to c's queue: small frames are
 * copied into the current batch, others queued as they are. Returns 0, or -1 if c was dropped
 * (allocation failure, or too much unsent output). */
static int conn_enqueue(net_conn *c, rcbuf *b)
{
    if (b->len <= NET_COPY_MAX) {
        if (!batch_append(c, b)) {
            rcbuf *batch = rcbuf_new(NET_BATCH_BYTES);
            if (!batch || queue_push(c, batch) != 0) {
                rcbuf_unref(b);
                conn_destroy(c);
                return -1;
            }
            batch->flags = b->flags; /* sealed frames stay sealed */
            c->batch = batch;
            batch_append(c, b);
        }
        rcbuf_unref(b);
    } else {
        c->batch = NULL;
        c->queued_bytes += b->len;
        if (queue_push(c, b) != 0) {
            conn_destroy(c);
            return -1;
        }
    }
    if (!c->dirty) {
        c->dirty = 1;
        c->next_dirty = c->net->dirty;
        c->net->dirty = c;
    }
    /* What the kernel refused to take from earlier writes measures a reader that cannot keep
     * up; this tick's own burst does not (a newcomer to a world of 5,000 is sent 5,000 models,
     * over a megabyte, in one write that a healthy socket absorbs). */
    size_t unsent = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    size_t pending = unsent ? unsent + c->queued_bytes : 0; /* once the socket is full */
    if (pending > NET_OUTBOUND_MAX || c->queued_bytes > NET_BURST_MAX) {
        /* It cannot keep up: drop it rather than buffer without bound. Shared deltas are only
         * correct if every frame arrives, so skipping some is not an option. */
        c->net->stats.slow_dropped++;
        log_info("conn_slow_dropped", "peer=%s unsent=%zu queued=%zu", c->peer, unsent,
                 c->queued_bytes);
        conn_destroy(c);
        return -1;
    }
    return 0;
}

void net_conn_send(net_conn *c, rcbuf *message)
{
    net_conn_send_many(c, &message, 1);
}

void net_conn_send_many(net_conn *c, rcbuf *const *messages, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->state != CONN_WS) return;
        rcbuf *m = messages[i];
        ws_frame_seal_text(m);
        /* The common case, a delta into this tick's batch, needs no reference. */
        if (!batch_append(c, m)) conn_enqueue(c, rcbuf_ref(m));
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    net_conn *c = req->data;
    free(req);
    /* The peer has our FIN; wait for its EOF (on_read) or the sweep's closing timeout. A failed
     * shutdown has nothing left to wait for. */
    if (status < 0) conn_destroy(c);
}

/* Everything, the close frame included, has been written: send FIN and linger until the peer
 * closes too. Closing at once would make the kernel answer the peer's unread bytes (a flooder
 * is still sending) with RST, which discards the close frame before the peer reads it. */
static void conn_drained(net_conn *c)
{
    if (c->state == CONN_HTTP_CLOSING)
        conn_set_state(c, CONN_HTTP_SHUT);
    else if (c->state == CONN_WS_CLOSING)
        conn_set_state(c, CONN_WS_SHUT);
    else
        return; /* already shut (or gone) */
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req) {
        conn_destroy(c);
        return;
    }
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        free(req);
        conn_destroy(c);
        return;
    }
    if (!c->reading) {
        /* Keep reading (and discarding) so the peer's EOF is seen. */
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c->reading = 1;
    }
}

static void on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    net_conn *c = w->conn;
    for (uint32_t i = 0; i < w->count; i++)
        rcbuf_unref(w->bufs[i]);
    c->writes_inflight--;
    free(w);
    if (c->state == CONN_DESTROYED) return;
    if (status < 0) {
        log_debug("conn_write_failed", "peer=%s error=%s", c->peer, uv_err_name(status));
        conn_destroy(c);
        return;
    }
    if (conn_state_closing(c->state) && c->queue_len == 0 && c->writes_inflight == 0)
        conn_drained(c);
}

/* One socket write of n buffers (references taken over). Returns 0, or -1 if c was dropped. */
static int conn_write(net_conn *c, rcbuf **items, uint32_t n, size_t bytes)
{
    uv_buf_t stack_bufs[64];
    uv_buf_t *bufs = n <= 64 ? stack_bufs : malloc(n * sizeof *bufs);
    if (!bufs) {
        for (uint32_t i = 0; i < n; i++)
            rcbuf_unref(items[i]);
        conn_destroy(c);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        bufs[i] = uv_buf_init((char *)rcbuf_data(items[i]), (unsigned)items[i]->len);
    c->net->stats.writes++;
    c->net->stats.bytes_out += bytes;
    /* First a synchronous attempt: a healthy socket takes the whole tick at once, and then no
     * write request, completion callback or poll change is needed. Through uv_write, every
     * completed write also re-armed the socket's epoll registration (libuv drops POLLOUT
     * interest with an epoll_ctl per drain): 8% of the server at 5,000 players. */
    uint32_t done = 0;
    if (c->writes_inflight == 0) {
        int wrote = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (wrote < 0 && wrote != UV_EAGAIN) {
            log_debug("conn_write_failed", "peer=%s error=%s", c->peer, uv_err_name(wrote));
            for (uint32_t i = 0; i < n; i++)
                rcbuf_unref(items[i]);
            if (bufs != stack_bufs) free(bufs);
            conn_destroy(c);
            return -1;
        }
        size_t left = wrote > 0 ? (size_t)wrote : 0;
        while (done < n && left >= bufs[done].len) {
            left -= bufs[done].len;
            rcbuf_unref(items[done]);
            done++;
        }
        if (done < n) {
            bufs[done].base += left;
            bufs[done].len -= left;
        }
    }
    if (done == n) {
        if (bufs != stack_bufs) free(bufs);
        if (conn_state_closing(c->state) && c->queue_len == 0) conn_drained(c);
        return 0;
    }
    /* The rest waits in libuv until the socket is writable. */
    uint32_t rest = n - done;
    write_req *w = malloc(sizeof *w + rest * sizeof(rcbuf *));
    if (!w) {
        for (uint32_t i = done; i < n; i++)
            rcbuf_unref(items[i]);
        if (bufs != stack_bufs) free(bufs);
        conn_destroy(c);
        return -1;
    }
    w->conn = c;
    w->count = rest;
    memcpy(w->bufs, items + done, rest * sizeof *w->bufs);
    c->writes_inflight++;
    /* libuv copies the uv_buf_t array when it cannot write everything at once. */
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs + done, rest, on_write);
    if (bufs != stack_bufs) free(bufs);
    if (rc < 0) {
        for (uint32_t i = 0; i < rest; i++)
            rcbuf_unref(w->bufs[i]);
        c->writes_inflight--;
        free(w);
        conn_destroy(c);
        return -1;
    }
    return 0;
}

/* Writes whatever TLS has ready (handshake records, alerts, encrypted frames). */
static int conn_write_tls_output(net_conn *c)
{
    rcbuf *out = tls_conn_take_output(c->tls);
    return out ? conn_write(c, &out, 1, out->len) : 0;
}

static void conn_flush(net_conn *c)
{
    if (c->state == CONN_DESTROYED) return;
    if (c->pong) {
        rcbuf *pong = c->pong;
        c->pong = NULL;
        if (conn_state_closing(c->state)) {
            rcbuf_unref(pong);
        } else if (conn_enqueue(c, pong) != 0) {
            return;
        }
    }
    if (c->queue_len == 0) {
        if (conn_state_closing(c->state) && c->writes_inflight == 0) conn_drained(c);
        return;
    }
    uint32_t n = c->queue_len;
    size_t bytes = c->queued_bytes;
    c->queue_len = 0;
    c->queued_bytes = 0;
    c->batch = NULL;
    rcbuf **items = c->queue;
    if (c->queue_cap > NET_QUEUE_KEEP) {
        /* A burst (a newcomer is sent every player's model) grew the queue: hand the array to
         * this write and start small again, so idle connections do not keep burst-sized
         * arrays. */
        c->queue = NULL;
        c->queue_cap = 0;
    }
    if (c->tls) {
        /* Encryption is per connection: the shared plaintext frames become this client's
         * records, and the whole tick still leaves in one write. */
        int failed = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (!failed && tls_conn_encrypt(c->tls, rcbuf_data(items[i]), items[i]->len))
                failed = 1;
            rcbuf_unref(items[i]);
        }
        if (items != c->queue) free(items);
        if (failed) {
            conn_destroy(c);
            return;
        }
        conn_write_tls_output(c);
        return;
    }
    conn_write(c, items, n, bytes);
    if (items != c->queue) free(items);
}

void net_flush(net *n)
{
    net_conn *c = n->dirty;
    n->dirty = NULL;
    while (c) {
        net_conn *next = c->next_dirty;
        c->dirty = 0;
        c->next_dirty = NULL;
        conn_flush(c);
        c = next;
    }
}

/* Queues a control frame (close, ping, pong) for the next flush. Returns 0 or -1 (dropped). */
static int conn_send_control(net_conn *c, uint8_t opcode, const uint8_t *payload, size_t len)
{
    rcbuf *b = ws_frame_control(opcode, payload, len);
    if (!b) {
        conn_destroy(c);
        return -1;
    }
    return conn_enqueue(c, b);
}

/* Sends a close frame with code (and reason), after which nothing else is sent, and closes the
 * socket once the queue has drained. */
static void conn_send_close(net_conn *c, uint16_t code, const char *reason)
{
    if (c->state != CONN_WS) return;
    uint8_t payload[125];
    size_t n = 0;
    if (code != 1005) { /* 1005 means "no status": an empty close frame */
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > 123) rl = 123;
        if (rl) memcpy(payload + 2, reason, rl);
        n = 2 + rl;
    }
    c->since_ms = uv_now(c->net->loop);
    conn_set_state(c, CONN_WS_CLOSING); /* the owner is told now, not after the handshake */
    if (conn_send_control(c, WS_OPCODE_CLOSE, payload, n) != 0) return;
    conn_flush(c);
}

/* ---------------------------------------------------------------- WebSocket input */

static int on_ws_event(void *user, const ws_event *ev)
{
    net_conn *c = user;
    if (c->state != CONN_WS) return 1;
    switch (ev->type) {
    case WS_EVENT_MESSAGE:
        if (c->opened && c->net->handlers.on_message(c->net->handlers.ctx, c->owner, ev->data,
                                                     ev->len) == NET_PAUSE) {
            /* Stop everything that feeds the parser, plain or TLS alike, until
             * net_conn_resume: the owner's per-tick bound holds only if no further message is
             * parsed, and order only if nothing is parsed ahead of the held bytes. */
            c->paused = 1;
            conn_stop_reading(c);
            return 1;
        }
        return 0;
    case WS_EVENT_PING: {
        /* Only the latest ping is answered, once per flush (RFC 6455 5.5.3 allows it): a
         * ping flood then costs one small pong per tick instead of a pong per ping. */
        rcbuf *pong = ws_frame_control(WS_OPCODE_PONG, ev->data, ev->len);
        if (!pong) {
            conn_destroy(c);
            return 1;
        }
        rcbuf_unref(c->pong);
        c->pong = pong;
        if (!c->dirty) {
            c->dirty = 1;
            c->next_dirty = c->net->dirty;
            c->net->dirty = c;
        }
        return 0;
    }
    case WS_EVENT_PONG:
        return 0;
    case WS_EVENT_CLOSE:
        /* Echo the peer's code (RFC 6455 5.5.1), then close the socket. */
        log_debug("ws_close_received", "peer=%s code=%u", c->peer, ev->code);
        conn_send_close(c, ev->code, NULL);
        return 1;
    case WS_EVENT_ERROR:
        log_debug("ws_protocol_violation", "peer=%s code=%u", c->peer, ev->code);
        c->net->stats.protocol_closes++;
        conn_send_close(c, ev->code, NULL);
        return 1;
    }
    return 1;
}

/* Whether c takes input now. A paused connection parses nothing: its unparsed plaintext is
 * held, the rest waits in the socket or, over TLS, as ciphertext in its session. A closing one
 * discards what it reads. */
static int conn_accepts_input(const net_conn *c)
{
    return (conn_state_in_http(c->state) || c->state == CONN_WS) && !c->paused;
}

/* The one way into the frame parser, for plain and TLS connections alike: parses plaintext, in
 * the order it arrived, until it is consumed or the connection pauses or closes. Whatever is
 * left when the owner pauses us is held for net_conn_resume, which parses it before anything
 * newer is read or decrypted. */
static void conn_ws_input(net_conn *c, const uint8_t *data, size_t len)
{
    if (c->state != CONN_WS) return;
    assert(!c->paused && c->held_len == 0);
    size_t used = ws_parser_feed(&c->ws, data, len, on_ws_event, c);
    if (c->state != CONN_WS || used == len) return;
    assert(c->paused);
    len -= used;
    assert(len <= NET_HELD_MAX);
    c->held = malloc(len);
    if (!c->held) {
        conn_destroy(c);
        return;
    }
    memcpy(c->held, data + used, len);
    c->held_len = len;
}

/* ---------------------------------------------------------------- HTTP */

/* Behind a reverse proxy on this machine every player arrives from loopback; the proxy names
 * the real client in X-Real-IP. Only a loopback peer is trusted to say so, and only with a
 * well-formed address. */
static void apply_real_ip(net_conn *c, const http_request *r)
{
    if (!r->real_ip_len || !addr_is_loopback(c->peer)) return;
    unsigned char addr[16];
    if (uv_inet_pton(AF_INET, r->real_ip, addr) != 0 &&
        uv_inet_pton(AF_INET6, r->real_ip, addr) != 0)
        return;
    if (r->real_ip_len >= sizeof c->peer) return;
    memcpy(c->peer, r->real_ip, r->real_ip_len + 1);
}

static int origin_allowed(const net *n, const http_request *r)
{
    const char *list = n->config.allowed_origins;
    if (!list || !*list || r->origin_len == 0) return 1;
    size_t ol = r->origin_len;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        if ((size_t)(end - p) == ol && strncasecmp(p, r->origin, ol) == 0) return 1;
        p = end;
    }
    return 0;
}

static void conn_upgrade(net_conn *c, const uint8_t *rest, size_t rest_len)
{
    int status;
    if (!origin_allowed(c->net, c->http)) {
        log_info("ws_origin_refused", "peer=%s origin=\"%.100s\"", c->peer, c->http->origin);
        rcbuf *err = http_response_text(403, "origin not allowed\n", 0);
        if (err) conn_enqueue(c, err);
        if (c->state == CONN_HTTP) conn_set_state(c, CONN_HTTP_CLOSING);
        conn_flush(c);
        return;
    }
    apply_real_ip(c, c->http);
    rcbuf *resp = http_websocket_accept(c->http, &status);
    if (!resp) {
        rcbuf *err = http_response_text(
            status, status == 426 ? "WebSocket version 13 only\n" : "bad WebSocket handshake\n", 0);
        if (err) conn_enqueue(c, err);
        if (c->state == CONN_HTTP) conn_set_state(c, CONN_HTTP_CLOSING);
        conn_flush(c);
        return;
    }
    ws_parser_init(&c->ws, (uint32_t)c->net->config.max_message);
    c->v2 = c->http->v2 ? 1u : 0u;
    free(c->http);
    c->http = NULL;
    conn_set_state(c, CONN_WS);
    if (conn_enqueue(c, resp) != 0) return;
    conn_flush(c);
    if (c->state == CONN_DESTROYED) return;
    c->owner = c->net->handlers.on_open(c->net->handlers.ctx, c);
    if (!c->owner) {
        net_conn_close(c, 1013, "server full");
        return;
    }
    c->net->stats.websockets_opened++;
    if (c->state != CONN_WS) {
        /* on_open closed c, or a send of its dropped c, before there was an owner to tell: tell
         * it now, as any close would have at once. */
        c->net->handlers.on_close(c->net->handlers.ctx, c->owner);
        return;
    }
    c->opened = 1;
    c->net->stats.websockets++;
    if (rest_len) conn_ws_input(c, rest, rest_len);
}

static void conn_http(net_conn *c, const uint8_t *data, size_t len)
{
    while (c->state == CONN_HTTP) {
        long used = http_request_feed(c->http, (const char *)data, len);
        if (used < 0) {
            rcbuf *err = http_response_text(http_error_status((int)used), "bad request\n", 0);
            if (err) conn_enqueue(c, err);
            if (c->state == CONN_HTTP) conn_set_state(c, CONN_HTTP_CLOSING);
            conn_flush(c);
            return;
        }
        data += used;
        len -= (size_t)used;
        if (!c->http->complete) return;
        http_request *r = c->http;
        if (r->upgrade) {
            conn_upgrade(c, data, len);
            return;
        }
        rcbuf *resp = NULL;
        char path[HTTP_URL_MAX + 1];
        int reset = NET_RESET_NONE;
        if (http_request_has_query(r, "reset=1"))
            reset =
                addr_is_loopback(c->peer) && !r->real_ip_len ? NET_RESET_LOCAL : NET_RESET_OTHER;
        if ((r->method == HTTP_GET || r->method == HTTP_HEAD) &&
            http_request_path(r, path, sizeof path) == 0 && c->net->handlers.on_http)
            resp = c->net->handlers.on_http(c->net->handlers.ctx, path, reset, r->keep_alive);
        if (resp && r->method == HTTP_HEAD) http_response_strip_body(resp);
        if (!resp) resp = http_serve_static(r, c->net->config.web_root);
        int keep = r->keep_alive;
        if (!resp) {
            conn_destroy(c);
            return;
        }
        if (conn_enqueue(c, resp) != 0) return;
        if (!keep) conn_set_state(c, CONN_HTTP_CLOSING);
        conn_flush(c);
        if (c->state != CONN_HTTP) return;
        http_request_reset(c->http);
        c->since_ms = uv_now(c->net->loop);
        if (len == 0) return;
    }
}

static void conn_process(net_conn *c, const uint8_t *data, size_t len)
{
    if (c->state == CONN_HTTP)
        conn_http(c, data, len);
    else if (c->state == CONN_WS)
        conn_ws_input(c, data, len);
}

/* ---------------------------------------------------------------- lifecycle */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    net_conn *c = h->data;
    buf->base = (char *)c->net->read_buffer;
    buf->len = sizeof c->net->read_buffer;
}

static void conn_stop_reading(net_conn *c)
{
    if (!c->reading) return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
}

/* Decrypts c's TLS input record by record into the same path as plain bytes, for as long as c
 * accepts input. A connection that pauses leaves the rest as ciphertext in its session, behind
 * the plaintext it holds; it is not read from the socket meanwhile, so that ciphertext is at
 * most one read and a partial record. Also sends what the handshake has to say. Returns 0, or
 * -1 if c was dropped. */
static int conn_tls_pump(net_conn *c)
{
    uint8_t plain[TLS_RECORD_PLAIN_MAX]; /* parsed, or the rest held, before the next record */
    long n = 0;
    while (conn_accepts_input(c)) {
        n = tls_conn_read(c->tls, plain, sizeof plain);
        if (n <= 0) break;
        conn_process(c, plain, (size_t)n);
    }
    if (c->state == CONN_DESTROYED) return -1;
    if (conn_write_tls_output(c) != 0) return -1;
    if (n < 0) {
        conn_destroy(c);
        return -1;
    }
    return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    net_conn *c = s->data;
    if (nread < 0) {
        if (nread != UV_EOF)
            log_debug("conn_read_failed", "peer=%s error=%s", c->peer, uv_err_name((int)nread));
        conn_destroy(c);
        return;
    }
    if (nread == 0 || c->state == CONN_DESTROYED) return;
    c->last_input_ms = uv_now(c->net->loop);
    c->pinged = 0;
    c->net->stats.bytes_in += (uint64_t)nread;
    if (conn_state_closing(c->state)) return; /* after a close, input is discarded */
    assert(!c->paused);                       /* pausing stops reading */
    if (c->state == CONN_SNIFF) {
        /* With TLS configured, one port serves both: a TLS record starts with 0x16
         * (handshake); anything else is plain HTTP (the v1.0 Godot client's ws://). */
        conn_set_state(c, CONN_HTTP);
        if (c->net->tls && (uint8_t)buf->base[0] == 0x16) {
            c->tls = tls_conn_new(c->net->tls);
            if (!c->tls) {
                conn_destroy(c);
                return;
            }
        }
    }
    if (c->tls) {
        if (tls_conn_push(c->tls, (const uint8_t *)buf->base, (size_t)nread) != 0) {
            conn_destroy(c);
            return;
        }
        conn_tls_pump(c);
    } else {
        conn_process(c, (const uint8_t *)buf->base, (size_t)nread);
    }
}

void net_conn_resume(net_conn *c)
{
    if (c->state == CONN_DESTROYED || !c->paused) return;
    c->paused = 0;
    if (c->state != CONN_WS) return;
    /* Oldest first: the held plaintext, then (TLS) what waits as ciphertext, then the socket. */
    if (c->held_len) {
        size_t used = ws_parser_feed(&c->ws, c->held, c->held_len, on_ws_event, c);
        if (c->state != CONN_WS) return;
        if (used < c->held_len) { /* paused again: keep the rest for the next resume */
            memmove(c->held, c->held + used, c->held_len - used);
            c->held_len -= used;
            return;
        }
        free(c->held);
        c->held = NULL;
        c->held_len = 0;
    }
    if (c->tls && conn_tls_pump(c) != 0) return;
    if (conn_accepts_input(c) && !c->reading) {
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c->reading = 1;
    }
}

static void on_closed(uv_handle_t *h)
{
    net_conn *c = h->data;
    net *n = c->net;
    for (uint32_t i = 0; i < c->queue_len; i++)
        rcbuf_unref(c->queue[i]);
    free(c->queue);
    free(c->held);
    free(c->http);
    rcbuf_unref(c->pong);
    tls_conn_free(c->tls);
    ws_parser_free(&c->ws);
    list_unlink(&n->conns, c);
    n->conn_count--;
    free(c);
}

/* Cuts c now: no close handshake, the socket is closed and c freed in on_closed. The owner is
 * told at once (conn_set_state). Harmless on a connection already destroyed. */
static void conn_destroy(net_conn *c)
{
    if (c->state == CONN_DESTROYED) return;
    if (c->dirty) {
        /* Unlink from the dirty list so net_flush never sees a freed connection. */
        net_conn **p = &c->net->dirty;
        while (*p && *p != c)
            p = &(*p)->next_dirty;
        if (*p) *p = c->next_dirty;
        c->dirty = 0;
    }
    conn_set_state(c, CONN_DESTROYED);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

void net_conn_close(net_conn *c, uint16_t code, const char *reason)
{
    if (c->state == CONN_WS) {
        conn_send_close(c, code, reason);
        return;
    }
    if (!conn_state_in_http(c->state)) return; /* closing already, or gone */
    conn_set_state(c, CONN_HTTP_CLOSING);
    c->since_ms = uv_now(c->net->loop);
    conn_flush(c);
}

static int over_address_cap(net *n, const net_conn *c)
{
    if (addr_is_loopback(c->peer)) return 0;
    size_t same = 0;
    for (const net_conn *o = n->conns; o; o = o->next)
        if (o->state != CONN_DESTROYED && strcmp(o->peer, c->peer) == 0) same++;
    return same > NET_MAX_PER_ADDRESS;
}

static void on_connection(uv_stream_t *server, int status)
{
    net *n = server->data;
    if (status < 0) {
        log_warn("accept_failed", "error=%s", uv_err_name(status));
        return;
    }
    net_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->net = n;
    c->http = malloc(sizeof *c->http);
    uv_tcp_init(n->loop, &c->tcp);
    c->tcp.data = c;
    list_push_front(&n->conns, c);
    n->conn_count++;
    n->stats.accepted++;
    if (!c->http || uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_destroy(c);
        return;
    }
    http_request_init(c->http);
    c->since_ms = c->last_input_ms = uv_now(n->loop);
    /* Frames leave once per tick already gathered: Nagle would only add latency. */
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage addr;
    int alen = sizeof addr;
    strcpy(c->peer, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&addr, &alen) == 0) {
        if (addr.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&addr, c->peer, sizeof c->peer);
        else if (addr.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&addr, c->peer, sizeof c->peer);
    }
    if (n->conn_count > NET_MAX_CONNECTIONS || over_address_cap(n, c)) {
        log_info("conn_refused", "peer=%s reason=cap connections=%zu", c->peer, n->conn_count);
        n->stats.refused++;
        conn_destroy(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    c->reading = 1;
}

/* Once a second: cut connections stuck in the HTTP phase or in closing. */
static void on_sweep(uv_timer_t *t)
{
    net *n = t->data;
    uint64_t now = uv_now(n->loop);
    net_check(n);
    for (net_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CONN_DESTROYED) continue;
        if ((conn_state_in_http(c->state) && now - c->since_ms > NET_HTTP_IDLE_MS) ||
            (conn_state_closing(c->state) && now - c->since_ms > NET_CLOSING_MS)) {
            conn_destroy(c);
        } else if (c->state == CONN_WS && !c->paused) {
            uint64_t quiet = now - c->last_input_ms;
            if (quiet > NET_DEAD_MS) {
                log_info("conn_dead", "peer=%s quiet_ms=%llu", c->peer, (unsigned long long)quiet);
                n->stats.dead_dropped++;
                conn_destroy(c);
            } else if (quiet > NET_PING_MS && !c->pinged) {
                if (conn_send_control(c, WS_OPCODE_PING, (const uint8_t *)"cmmo", 4) == 0) {
                    c->pinged = 1;
                    conn_flush(c);
                }
            }
        }
    }
}

net *net_create(uv_loop_t *loop, const net_config *config, const net_handlers *handlers)
{
    net *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->loop = loop;
    n->config = *config;
    n->handlers = *handlers;
    if (config->tls_cert && config->tls_key) {
        n->tls = tls_ctx_load(config->tls_cert, config->tls_key);
        if (!n->tls) {
            free(n);
            return NULL;
        }
    }
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(config->host, config->port, (struct sockaddr_in *)&addr);
    if (rc != 0) rc = uv_ip6_addr(config->host, config->port, (struct sockaddr_in6 *)&addr);
    if (rc != 0) {
        log_error("listen_failed", "host=%s error=bad_address", config->host);
        tls_ctx_free(n->tls);
        free(n);
        return NULL;
    }
    uv_tcp_init(loop, &n->listener);
    n->listener.data = n;
    n->listener_open = 1;
    rc = uv_tcp_bind(&n->listener, (struct sockaddr *)&addr, 0);
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    /* libuv may defer a bind error to listen; getsockname makes it show here. */
    if (rc == 0) rc = uv_tcp_getsockname(&n->listener, (struct sockaddr *)&bound, &blen);
    if (rc != 0) {
        log_error("listen_failed", "host=%s port=%d error=%s reason=\"%s\"", config->host,
                  config->port, uv_err_name(rc), uv_strerror(rc));
        uv_close((uv_handle_t *)&n->listener, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        tls_ctx_free(n->tls);
        free(n);
        return NULL;
    }
    n->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    uv_timer_init(loop, &n->sweep);
    n->sweep.data = n;
    return n;
}

int net_listen(net *n)
{
    if (!n->listener_open || n->listening) return UV_EINVAL;
    int rc = uv_listen((uv_stream_t *)&n->listener, 1024, on_connection);
    if (rc != 0) {
        log_error("listen_failed", "host=%s port=%d error=%s reason=\"%s\"", n->config.host,
                  n->port, uv_err_name(rc), uv_strerror(rc));
        return rc;
    }
    n->listening = 1;
    uv_timer_start(&n->sweep, on_sweep, 1000, 1000);
    return 0;
}

int net_reload_tls(net *n)
{
    if (!n->tls) return 0;
    tls_ctx *fresh = tls_ctx_load(n->config.tls_cert, n->config.tls_key);
    if (!fresh) return CMMO_ETLS; /* keep serving with the old certificate */
    tls_ctx_free(n->tls);
    n->tls = fresh;
    log_info("tls_reloaded", "cert=%s", n->config.tls_cert);
    return 0;
}

int net_port(const net *n)
{
    return n->port;
}

void net_stop_listening(net *n)
{
    if (!n->listener_open) return;
    n->listener_open = n->listening = 0;
    uv_close((uv_handle_t *)&n->listener, NULL);
}

bool net_conn_v2(const net_conn *c)
{
    return c->v2;
}

const char *net_conn_peer(const net_conn *c)
{
    return c->peer;
}

const net_stats *net_get_stats(const net *n)
{
    return &n->stats;
}

size_t net_connection_count(const net *n)
{
    return n->conn_count;
}

void net_shutdown(net *n, uint16_t code, const char *reason)
{
    net_stop_listening(n);
    if (!uv_is_closing((uv_handle_t *)&n->sweep)) {
        uv_timer_stop(&n->sweep);
        uv_close((uv_handle_t *)&n->sweep, NULL);
    }
    net_check(n);
    for (net_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        /* A WebSocket gets a close frame (or finishes the close it began); anything before
         * the upgrade, a closing HTTP response included, is cut. */
        if (conn_state_upgraded(c->state))
            net_conn_close(c, code, reason);
        else
            conn_destroy(c);
    }
}

void net_abort_all(net *n)
{
    for (net_conn *c = n->conns; c; c = c->next)
        conn_destroy(c);
}

bool net_is_idle(const net *n)
{
    return n->conn_count == 0;
}

void net_destroy(net *n)
{
    if (!n) return;
    tls_ctx_free(n->tls);
    assert(n->conn_count == 0);
    free(n);
}
