/*
 * cmmo-floor: the floor a benchmark of cmmo is measured against (`make bench`, BENCHMARKS.md).
 *
 *   cmmo-floor serve --frames F --bytes B [--tick-hz 20] [--port 0] [--io write|uring]
 *       accepts WebSocket connections on 127.0.0.1 (answering any upgrade with 101, selecting
 *       cmmo.v2 when offered) and, every tick, writes F frames holding B bytes in all to each of
 *       them in one write: no game, no parsing, no per-client encoding. Prints "listening
 *       port=N io=MODE" on stderr. Runs until SIGTERM, then prints "floor ticks=T
 *       short_writes=S" on stderr (and on SIGUSR1, without stopping).
 *       --io write (the default): one uv_try_write (write(2)) per client per tick.
 *       --io uring: one io_uring; every tick one IORING_OP_SEND per client, all of them handed
 *       to the kernel by one io_uring_submit (one io_uring_enter), the previous tick's
 *       completions reaped without waiting first. The sends carry MSG_DONTWAIT, so a socket
 *       without room completes at once with -EAGAIN (counted as a short write, as a write(2)
 *       would be) instead of being parked on a poll or an io-wq worker thread: every send runs
 *       inline in io_uring_enter, on this thread, and its CPU is this process's. Exits with
 *       status 2 and a message if the kernel refuses io_uring (disabled, ENOSYS, EPERM).
 *   cmmo-floor read --port P --clients N --seconds S
 *       connects N WebSocket clients to P, reads and discards for S seconds, and prints one JSON
 *       line: {"clients":N,"connected":C,"bytes":B,"seconds":S}.
 *
 * The same number of clients, frames and bytes per client a cmmo run measured, through the same
 * kernel, on the same core: the server's CPU divided by this one's is a ratio that travels between
 * machines, where a bare percentage does not. A write the kernel does not take at once is dropped
 * (the floor never queues): a floor that falls behind reports it as "short_writes".
 */
#include <assert.h>
#include <errno.h>
#include <liburing.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

/* Request heads the floor reads: a browser's or cmmo-bench's upgrade is far below. */
#define FLOOR_HEAD_MAX 4096
/* A tick's bytes for one client: more than any budget or crowd measured sends in a tick. */
#define FLOOR_TICK_MAX (4u << 20)
/* Submission entries of the --io uring ring: a tick of up to 8,192 clients goes to the kernel in
 * one io_uring_submit; more clients are submitted in chunks of this many. The completion ring is
 * twice as large (the kernel's default), and is reaped before each further chunk. */
#define FLOOR_RING_ENTRIES 8192

/* How a tick's bytes reach the sockets. */
typedef enum { FLOOR_IO_WRITE, FLOOR_IO_URING } floor_io;

typedef struct floor_conn {
    uv_tcp_t tcp;
    struct floor_conn *next;
    char head[FLOOR_HEAD_MAX];
    size_t head_len;
    int upgraded, closing;
    int fd;            /* the socket, for --io uring */
    unsigned inflight; /* --io uring: sends submitted whose completions are not reaped yet */
    int released;      /* closed while sends were in flight: the reaper frees it */
} floor_conn;

static uv_loop_t *loop;
static floor_conn *conns;
static uv_buf_t tick_bytes; /* the F frames of a tick, built once */
static unsigned long long ticks, short_writes, read_bytes;
static char read_scratch[65536];
static floor_io io_mode = FLOOR_IO_WRITE;
static struct io_uring ring; /* --io uring only */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h, (void)suggested;
    *buf = uv_buf_init(read_scratch, sizeof read_scratch);
}

static void on_closed(uv_handle_t *h)
{
    floor_conn *c = h->data;
    for (floor_conn **p = &conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    /* A completion still names c: the ring's reaper frees it then. */
    if (c->inflight)
        c->released = 1;
    else
        free(c);
}

static void conn_close(floor_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* The value of header name (case-insensitive) in head, copied to out; 0 if found. */
static int header(const char *head, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) != 0 || line[n] != ':') continue;
        line += n + 1;
        while (*line == ' ')
            line++;
        size_t len = strcspn(line, "\r");
        if (len >= cap) return -1;
        memcpy(out, line, len);
        out[len] = 0;
        return 0;
    }
    return -1;
}

static void upgrade(floor_conn *c)
{
    char key[128], protocol[256] = "", accept[64];
    if (header(c->head, "Sec-WebSocket-Key", key, sizeof key) != 0) {
        conn_close(c);
        return;
    }
    header(c->head, "Sec-WebSocket-Protocol", protocol, sizeof protocol);
    char joined[256];
    snprintf(joined, sizeof joined, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)joined, strlen(joined), digest);
    EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
    static char reply[512];
    int n =
        snprintf(reply, sizeof reply,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                 accept, strstr(protocol, "cmmo.v2") ? "Sec-WebSocket-Protocol: cmmo.v2\r\n" : "");
    uv_buf_t b = uv_buf_init(reply, (unsigned)n);
    if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) != n) {
        conn_close(c);
        return;
    }
    c->upgraded = 1;
}

static void on_server_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    floor_conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->upgraded || nread == 0) return; /* the clients send nothing more: discard */
    size_t take = (size_t)nread;
    if (c->head_len + take >= sizeof c->head) {
        conn_close(c);
        return;
    }
    memcpy(c->head + c->head_len, buf->base, take);
    c->head_len += take;
    c->head[c->head_len] = 0;
    if (strstr(c->head, "\r\n\r\n")) upgrade(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) return;
    floor_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    c->fd = fd;
    c->next = conns;
    conns = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_server_read);
}

/* ---------------------------------------------------------------- --io uring */

/* Opens the ring; 0, or a negative errno (the kernel refuses io_uring, or no memory). */
static int uring_open(void)
{
    return io_uring_queue_init(FLOOR_RING_ENTRIES, &ring, 0);
}

/* Reaps every completion already posted, without waiting: a send that did not take the whole tick
 * (short count, -EAGAIN, an error) is a short write; an error other than -EAGAIN closes the
 * connection, as the write path does. */
static void uring_reap(void)
{
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe)
    {
        floor_conn *c = io_uring_cqe_get_data(cqe);
        if (cqe->res != (int)tick_bytes.len) short_writes++;
        c->inflight--;
        if (c->released) {
            if (!c->inflight) free(c);
        } else if (cqe->res < 0 && cqe->res != -EAGAIN) {
            conn_close(c);
        }
        seen++;
    }
    io_uring_cq_advance(&ring, seen);
}

/* Hands every prepared send to the kernel in one io_uring_enter. A refused submission leaves the
 * floor unable to measure anything: it says so and exits. */
static void uring_submit(void)
{
    int ret = io_uring_submit(&ring);
    if (ret < 0) {
        fprintf(stderr, "cmmo-floor: io_uring_submit: %s\n", strerror(-ret));
        exit(1);
    }
}

static void tick_uring(void)
{
    uring_reap();
    unsigned prepared = 0;
    for (floor_conn *c = conns; c; c = c->next) {
        if (!c->upgraded || c->closing) continue;
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        if (!sqe) { /* more clients than entries: this chunk now, then the next */
            uring_submit();
            uring_reap();
            sqe = io_uring_get_sqe(&ring);
            assert(sqe); /* the submission ring was just emptied */
        }
        /* MSG_DONTWAIT: never parked (see the header); MSG_NOSIGNAL: a reset peer is an error
         * value, not a SIGPIPE. */
        io_uring_prep_send(sqe, c->fd, tick_bytes.base, tick_bytes.len,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
        io_uring_sqe_set_data(sqe, c);
        c->inflight++;
        prepared++;
    }
    if (prepared) uring_submit();
}

/* ---------------------------------------------------------------- the tick */

/* Ticks run on absolute deadlines (next_tick_ns advances by one period per tick), as cmmo's own
 * tick does: a repeating libuv timer restarts its period after the loop pass that ran it, so under
 * load the floor ticked at 18 Hz with 500 clients and 12-13 Hz with 5,000, sending less than the
 * cmmo run it stands beside. A floor more than 5 periods behind skips ahead, as cmmo does. */
static uint64_t tick_period_ns, next_tick_ns;

static void on_tick(uv_timer_t *t)
{
    ticks++;
    if (io_mode == FLOOR_IO_URING) {
        tick_uring();
    } else {
        for (floor_conn *c = conns; c; c = c->next) {
            if (!c->upgraded || c->closing) continue;
            int wrote = uv_try_write((uv_stream_t *)&c->tcp, &tick_bytes, 1);
            if (wrote != (int)tick_bytes.len) short_writes++;
            if (wrote < 0 && wrote != UV_EAGAIN) conn_close(c);
        }
    }
    uint64_t now = uv_hrtime();
    next_tick_ns += tick_period_ns;
    if (next_tick_ns + 5 * tick_period_ns < now) next_tick_ns = now;
    uint64_t wait = next_tick_ns > now ? next_tick_ns - now : 0;
    uv_timer_start(t, on_tick, wait / 1000000, 0);
}

/* F text frames, B bytes in all (headers included), filled with a JSON-looking payload. */
static int build_tick(long frames, long bytes)
{
    if (frames < 1 || bytes < frames * 3 || (unsigned long)bytes > FLOOR_TICK_MAX) return -1;
    char *p = malloc((size_t)bytes);
    if (!p) return -1;
    long at = 0;
    for (long i = 0; i < frames; i++) {
        long left = bytes - at, share = left / (frames - i);
        long header = share - 2 < 126 ? 2 : 4, payload = share - header;
        p[at] = (char)0x81;
        if (header == 2) {
            p[at + 1] = (char)payload;
        } else {
            p[at + 1] = 126;
            p[at + 2] = (char)(payload >> 8);
            p[at + 3] = (char)payload;
        }
        memset(p + at + header, 'x', (size_t)payload);
        at += share;
    }
    tick_bytes = uv_buf_init(p, (unsigned)bytes);
    return 0;
}

/* SIGTERM: the stats, then stop. SIGUSR1: the stats only, so a measurement can count the ticks of
 * its window (the rate is --tick-hz unless the floor itself cannot keep up). */
static void on_stats_signal(uv_signal_t *s, int signum)
{
    (void)s;
    if (io_mode == FLOOR_IO_URING) uring_reap(); /* the last tick's sends count too */
    fprintf(stderr, "floor ticks=%llu short_writes=%llu\n", ticks, short_writes);
    if (signum == SIGTERM) uv_stop(loop);
}

static int serve(long frames, long bytes, int tick_hz, int port)
{
    if (build_tick(frames, bytes) != 0) {
        fprintf(stderr, "cmmo-floor: need 1 <= frames, 3 * frames <= bytes <= %u\n",
                FLOOR_TICK_MAX);
        return 2;
    }
    if (io_mode == FLOOR_IO_URING) {
        int err = uring_open();
        if (err < 0) {
            fprintf(stderr,
                    "cmmo-floor: --io uring: the kernel refuses io_uring (%s); "
                    "see sysctl kernel.io_uring_disabled\n",
                    strerror(-err));
            return 2;
        }
    }
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &server);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&server, 4096, on_connection) != 0) {
        fprintf(stderr, "cmmo-floor: cannot listen on port %d\n", port);
        return 1;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
    fprintf(stderr, "listening port=%d io=%s\n", ntohs(((struct sockaddr_in *)&bound)->sin_port),
            io_mode == FLOOR_IO_URING ? "uring" : "write");
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    tick_period_ns = 1000000000ull / (uint64_t)tick_hz;
    next_tick_ns = uv_hrtime() + tick_period_ns;
    uv_timer_start(&tick, on_tick, tick_period_ns / 1000000, 0);
    uv_signal_t term;
    uv_signal_init(loop, &term);
    uv_signal_start(&term, on_stats_signal, SIGTERM);
    uv_signal_t usr1;
    uv_signal_init(loop, &usr1);
    uv_signal_start(&usr1, on_stats_signal, SIGUSR1);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}

/* ---------------------------------------------------------------- the reading clients */

typedef struct reader {
    uv_tcp_t tcp;
    uv_connect_t connect;
    int connected;
} reader;

static unsigned long connected;

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread > 0) read_bytes += (unsigned long long)nread;
    if (nread < 0) uv_read_stop(s);
}

static void on_connected(uv_connect_t *req, int status)
{
    reader *r = req->data;
    if (status < 0) return;
    static char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Protocol: cmmo.v2\r\n\r\n";
    uv_buf_t b = uv_buf_init(request, sizeof request - 1);
    if (uv_try_write((uv_stream_t *)&r->tcp, &b, 1) != (int)b.len) return;
    r->connected = 1;
    connected++;
    uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_client_read);
}

static void on_read_done(uv_timer_t *t)
{
    (void)t;
    uv_stop(loop);
}

static int read_clients(int port, long clients, double seconds)
{
    reader *rs = calloc((size_t)clients, sizeof *rs);
    if (!rs) return 1;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    for (long i = 0; i < clients; i++) {
        uv_tcp_init(loop, &rs[i].tcp);
        rs[i].connect.data = &rs[i];
        uv_tcp_connect(&rs[i].connect, &rs[i].tcp, (const struct sockaddr *)&addr, on_connected);
    }
    uv_timer_t done;
    uv_timer_init(loop, &done);
    uv_timer_start(&done, on_read_done, (uint64_t)(seconds * 1000), 0);
    uv_run(loop, UV_RUN_DEFAULT);
    printf("{\"clients\":%ld,\"connected\":%lu,\"bytes\":%llu,\"seconds\":%.3f}\n", clients,
           connected, read_bytes, seconds);
    return connected == (unsigned long)clients ? 0 : 1;
}

static const char *arg_string(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return dflt;
}

static long arg_long(int argc, char **argv, const char *name, long dflt)
{
    const char *s = arg_string(argc, argv, name, NULL);
    return s ? strtol(s, NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
    loop = uv_default_loop();
    const char *io = arg_string(argc, argv, "--io", "write");
    int io_known = strcmp(io, "write") == 0 || strcmp(io, "uring") == 0;
    if (strcmp(io, "uring") == 0) io_mode = FLOOR_IO_URING;
    if (argc >= 2 && strcmp(argv[1], "serve") == 0 && io_known)
        return serve(arg_long(argc, argv, "--frames", 0), arg_long(argc, argv, "--bytes", 0),
                     (int)arg_long(argc, argv, "--tick-hz", 20),
                     (int)arg_long(argc, argv, "--port", 0));
    if (argc >= 2 && strcmp(argv[1], "read") == 0)
        return read_clients((int)arg_long(argc, argv, "--port", 0),
                            arg_long(argc, argv, "--clients", 0),
                            (double)arg_long(argc, argv, "--seconds", 10));
    fprintf(stderr, "usage: cmmo-floor serve --frames F --bytes B [--tick-hz HZ] [--port P]\n"
                    "                        [--io write|uring]\n"
                    "       cmmo-floor read --port P --clients N --seconds S\n");
    return 2;
}
