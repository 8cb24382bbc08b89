/*
 * net: the game port. Accepts TCP connections on a libuv loop, answers HTTP (static files, the
 * statistics page), upgrades to WebSocket (wsparse validates every client frame), and
 * carries whole messages up and shared, sealed frames down.
 *
 * Upward, through net_handlers: on_open when a WebSocket handshake completes, on_message for each
 * complete client message, on_close exactly once when an opened connection is gone. Downward:
 * net_conn_send queues a frame; net_flush sends everything queued, one write per connection.
 *
 * Lifetimes: a net_conn belongs to net. After on_close the upper layer must forget the pointer.
 * net_conn_close may be called at any time, any number of times.
 */
#ifndef CMMO_NET_H
#define CMMO_NET_H

#include "core/error.h"
#include "core/rcbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct net net;
typedef struct net_conn net_conn;

/* Bytes a connection may have queued and unsent before it is dropped as too slow: about 10 s of
 * a crowded map's traffic for a legacy client. */
#define NET_OUTBOUND_MAX (1u << 20)
/* Bytes one tick may queue for one connection: the join burst of a crowded world (about 250
 * bytes per player already there) with room to spare, and a hard memory bound. */
#define NET_BURST_MAX (16u << 20)

/* on_message's answer: keep going, or pause: no further message of this connection is parsed
 * until net_conn_resume, which then delivers the bytes already read first, in order. A paused
 * connection is not read, and over TLS not decrypted, so it holds at most one read. */
enum { NET_CONTINUE = 0, NET_PAUSE = 1 };

/* Whether an HTTP request's query holds reset=1, and from whom: LOCAL is a peer on this machine
 * that connected directly (loopback, no X-Real-IP: not relayed by a reverse proxy), OTHER is
 * anyone else, including everyone a local proxy relays. */
enum { NET_RESET_NONE = 0, NET_RESET_LOCAL = 1, NET_RESET_OTHER = 2 };

typedef struct net_handlers {
    void *ctx;
    /* A WebSocket connection is open. Returns the upper layer's per-connection object, or NULL
     * to refuse (the connection is closed with 1013, try again later). If on_open closes the
     * connection, or a send of its drops it, on_close for the returned owner follows as soon
     * as on_open returns. */
    void *(*on_open)(void *ctx, net_conn *conn);
    /* One complete client message (text, or binary), at most the configured message size. */
    int (*on_message)(void *ctx, void *owner, const uint8_t *data, size_t len);
    /* The connection is gone; owner must drop its pointer to it. */
    void (*on_close)(void *ctx, void *owner);
    /* An HTTP GET/HEAD that is not an upgrade: returns a full response, or NULL to let net serve
     * a static file from the web root. reset_query is a NET_RESET_* value. */
    rcbuf *(*on_http)(void *ctx, const char *path, int reset_query, int keep_alive);
} net_handlers;

typedef struct net_config {
    const char *host;
    int port; /* 0: any free port */
    const char *web_root;
    size_t max_message; /* largest client message accepted (close 1009 above) */
    /* PEM files; both NULL: plain only. With them, the port serves TLS (wss://, https://) and
     * plain connections (ws://, http://) alike, told apart by their first byte. */
    const char *tls_cert, *tls_key;
    /* Comma-separated Origins allowed to open a WebSocket ("https://game.example.com"); NULL or
     * empty: any. A request without Origin (the Godot client, tools) is always allowed: the
     * check exists against cross-site WebSocket hijacking, which only browsers can be made to
     * do, and browsers always send Origin. */
    const char *allowed_origins;
} net_config;

/* Loads the TLS files and binds the port, but does not listen yet: until net_listen a connection
 * to the port is refused, so a server that fails to start after this never accepted anyone.
 * Returns NULL and logs the reason (tls_load_failed, listen_failed) if it cannot. */
net *net_create(uv_loop_t *loop, const net_config *config, const net_handlers *handlers);

/* Starts accepting connections on the bound port. Returns 0, or a negative libuv error (logged
 * as listen_failed); calling it twice is an error. */
int net_listen(net *n);

/* Reloads the TLS certificate and key from their files for new connections. Returns 0, or CMMO_ETLS
 * (logged) if they cannot be loaded, in which case the old ones stay in use. */
int net_reload_tls(net *n);

/* The port actually bound (useful with port 0). */
int net_port(const net *n);

/* Stops accepting and closes the port (bound or listening); existing connections stay.
 * Idempotent. */
void net_stop_listening(net *n);

/* Queues a text message for c; seals the shared frame once. Takes its own reference. Does
 * nothing if c is closing. If the bytes the kernel refused from earlier writes pass
 * NET_OUTBOUND_MAX (or one tick queues more than NET_BURST_MAX), c is dropped. */
void net_conn_send(net_conn *c, rcbuf *message);

/* Sends what every connection has queued: one socket write per connection. */
void net_flush(net *n);

/* Resumes a paused connection (after the upper layer drained its queue): parses what it holds,
 * then what TLS has buffered, then reads the socket again; on_message may pause it again. */
void net_conn_resume(net_conn *c);

/* Starts a clean close: queued frames are flushed, then a close frame with code/reason, then the
 * TCP connection is closed. Idempotent. */
void net_conn_close(net_conn *c, uint16_t code, const char *reason);

/* The peer's address as text ("127.0.0.1"). */
const char *net_conn_peer(const net_conn *c);
/* Whether the WebSocket handshake selected the compact subprotocol (HTTP_SUBPROTOCOL_V2). */
bool net_conn_v2(const net_conn *c);
/* n net_conn_send calls in one (a viewer's packets of one tick). */
void net_conn_send_many(net_conn *c, rcbuf *const *messages, size_t n);

/* Counters since start, for /metrics. */
typedef struct net_stats {
    uint64_t accepted, refused; /* TCP connections; refused by the caps */
    uint64_t websockets_opened;
    uint64_t bytes_in, bytes_out; /* on the wire (TLS included) */
    uint64_t writes;              /* socket writes (one per connection per flush) */
    uint64_t slow_dropped;        /* dropped for passing NET_OUTBOUND_MAX */
    uint64_t dead_dropped;        /* silent past the ping timeout */
    uint64_t protocol_closes;     /* closed for an RFC 6455 violation */
    size_t websockets;            /* open now */
} net_stats;
const net_stats *net_get_stats(const net *n);

/* Number of open TCP connections (HTTP and WebSocket). */
size_t net_connection_count(const net *n);

/* Closes every connection with code/reason and stops listening; run the loop until
 * net_is_idle(n) to let the close frames out. */
void net_shutdown(net *n, uint16_t code, const char *reason);
bool net_is_idle(const net *n);
/* Cuts every connection at once (no close frame). */
void net_abort_all(net *n);

/* Asserts net's own invariants (SQLite-style): the connection list and counts, and each
 * connection's flags and queue against its state. Walks every connection, so the server calls
 * it once a second. A no-op unless built with NET_CHECKS, which the sanitized builds define. */
void net_check(const net *n);

/* Frees n. Call net_shutdown first (also for a net that never listened: it closes the port and
 * the timers), then run the loop until their handles are closed. NULL is accepted. */
void net_destroy(net *n);

#endif
