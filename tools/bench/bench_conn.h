/*
 * bench_conn: one client WebSocket connection on a libuv loop.
 *
 * Owns the TCP handle, the opening handshake, frame splitting, answering pings and closes, and
 * masked sends. It knows nothing of the game: complete text/binary messages go to on_message.
 *
 * Memory: a connection is a struct the caller embeds (the benchmark keeps them in one array for
 * the whole run). Reads go into one buffer shared by all connections (struct bench_net); a
 * connection only holds bytes of its own while a frame is split across reads, bounded by
 * BENCH_CONN_MAX_MESSAGE. After on_close the struct may be reused or freed.
 */
#ifndef CMMO_BENCH_CONN_H
#define CMMO_BENCH_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bench_ws.h"

/* The server's messages are bounded at a few hundred bytes (a full actor model, a 256-char chat);
 * 64 KiB leaves ample room and still bounds what a broken server can make us hold. */
#define BENCH_CONN_MAX_MESSAGE 65536
/* Shared read buffer: large enough that one read drains a busy socket. */
#define BENCH_CONN_READ_BUFFER (256 * 1024)
/* A client's outgoing messages are ~100 bytes; this much unsent means the server stopped reading.
 */
#define BENCH_CONN_MAX_UNSENT (1024 * 1024)

enum bench_conn_end {
    BENCH_CONN_END_BY_US = 0,   /* bench_conn_close was called */
    BENCH_CONN_END_CONNECT,     /* TCP connect failed */
    BENCH_CONN_END_HANDSHAKE,   /* the server did not answer the Upgrade correctly */
    BENCH_CONN_END_PEER_CLOSE,  /* the server sent a close frame */
    BENCH_CONN_END_EOF,         /* the server closed TCP without a close frame */
    BENCH_CONN_END_ERROR,       /* a socket error (reset, ...) or our send queue overflowed */
    BENCH_CONN_END_PROTOCOL,    /* the server broke RFC 6455 or sent a fragmented/huge message */
    BENCH_CONN_END_SUBPROTOCOL, /* a correct 101 that did not select the subprotocol offered */
    BENCH_CONN_END_COUNT
};

struct bench_conn;

/* Shared by all connections of one loop. */
struct bench_net {
    uv_loop_t *loop;
    struct sockaddr_in addr;
    char host[64];
    int port;
    void (*on_open)(struct bench_conn *c, uint64_t now_ns);
    void (*on_message)(struct bench_conn *c, const char *data, size_t len, uint64_t now_ns);
    void (*on_close)(struct bench_conn *c, enum bench_conn_end why);
    const char *protocol; /* subprotocol every connection offers and requires; NULL = none */
    uint8_t *read_buffer; /* BENCH_CONN_READ_BUFFER bytes, owned by bench_net */
    uint64_t mask_state;  /* xorshift state for masking keys */
};

enum bench_conn_state {
    BENCH_CONN_IDLE = 0,
    BENCH_CONN_CONNECTING,
    BENCH_CONN_HANDSHAKE,
    BENCH_CONN_OPEN,
    BENCH_CONN_CLOSING,
    BENCH_CONN_CLOSED,
};

struct bench_conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    struct bench_net *net;
    void *user;
    enum bench_conn_state state;
    enum bench_conn_end end;
    char key[BENCH_WS_KEY_SIZE];
    uint8_t *carry; /* partial frame (or handshake answer) kept between reads */
    size_t carry_len, carry_cap;
    size_t unsent;     /* bytes handed to uv_write and not yet written */
    uint64_t bytes_in; /* every byte read from the socket, frames and headers included */
    uint64_t frames_in;
};

/* Prepares net for host:port (an IPv4 literal), offering no subprotocol (set net->protocol, a
 * string that outlives net, to offer and require one). Returns 0 or a negative uv error. */
int bench_net_init(struct bench_net *net, uv_loop_t *loop, const char *host, int port,
                   uint64_t seed);
void bench_net_free(struct bench_net *net);

/* Starts connecting c (which must be zeroed or closed). on_open is called once the handshake
 * succeeded; on_close exactly once when it ends, also when starting fails later. Returns 0, or a
 * negative uv error with no callback called. */
int bench_conn_start(struct bench_net *net, struct bench_conn *c, void *user);

/* Sends one text message. Returns 0, or -1 if the connection is not open (nothing sent). A send
 * queue over BENCH_CONN_MAX_UNSENT closes the connection (BENCH_CONN_END_ERROR). */
int bench_conn_send_text(struct bench_conn *c, const char *text, size_t len);

/* Closes c (a close frame first if it is open). Harmless when already closing or closed. */
void bench_conn_close(struct bench_conn *c);

#endif
