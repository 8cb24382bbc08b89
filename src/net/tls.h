/*
 * tls: TLS for the game port with OpenSSL, driven through memory BIOs so that the event loop
 * owns the socket: ciphertext in from the socket, plaintext out to the HTTP/WebSocket layer, and
 * back. Non-blocking by construction: nothing here touches a file descriptor. Input is pulled,
 * not pushed: the connection decrypts only as much as it is ready to parse, so a paused
 * connection's input waits as ciphertext, in order, behind the plaintext it already holds.
 *
 * A tls_ctx holds the certificate and key; replacing it (SIGHUP) affects new connections only,
 * existing ones keep the context they started with (OpenSSL counts its references).
 */
#ifndef CMMO_TLS_H
#define CMMO_TLS_H

#include "core/error.h"
#include "core/rcbuf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tls_ctx tls_ctx;
typedef struct tls_conn tls_conn;

/* Loads a PEM certificate chain and private key. Returns NULL (and logs why) on failure. */
tls_ctx *tls_ctx_load(const char *cert_file, const char *key_file);
void tls_ctx_free(tls_ctx *ctx);

/* A server-side TLS session on ctx. Returns NULL on allocation failure. */
tls_conn *tls_conn_new(tls_ctx *ctx);
void tls_conn_free(tls_conn *t);

/* The largest plaintext one TLS record carries: a tls_conn_read buffer of this size takes a
 * whole record at once. */
#define TLS_RECORD_PLAIN_MAX 16384

/* Hands ciphertext read from the socket to the session, which keeps it (in its memory BIO) until
 * tls_conn_read decrypts it: nothing is decrypted here. Returns 0, or -ENOMEM.
 * What waits is bounded by the caller, who stops reading the socket while it wants no
 * plaintext. */
int tls_conn_push(tls_conn *t, const uint8_t *data, size_t len);

/* Decrypts at most cap bytes of plaintext into plain, from the ciphertext pushed so far, and
 * advances the handshake (write tls_conn_take_output afterwards). Returns the number of bytes
 * (> 0); 0 when no plaintext can be had without more ciphertext; CMMO_ECLOSED after the peer's
 * close_notify or CMMO_ETLS for a bad handshake or record: the session is over, close the
 * connection. The caller pulls
 * plaintext only as fast as it can take it; what it does not pull stays ciphertext. */
long tls_conn_read(tls_conn *t, uint8_t *plain, size_t cap);

/* Encrypts plaintext for the peer (it waits in the session until tls_conn_take_output).
 * Returns 0 or CMMO_ETLS. */
int tls_conn_encrypt(tls_conn *t, const uint8_t *data, size_t len);

/* Ciphertext waiting to be written to the socket (handshake records, encrypted data, alerts),
 * as a new rcbuf owned by the caller; NULL when there is none. */
rcbuf *tls_conn_take_output(tls_conn *t);

#endif
