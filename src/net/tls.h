/*
 * tls: TLS for the game port with OpenSSL, driven through memory BIOs so that the event loop
 * owns the socket: ciphertext in from the socket, plaintext out to the HTTP/WebSocket layer, and
 * back. Non-blocking by construction: nothing here touches a file descriptor.
 *
 * A tls_ctx holds the certificate and key; replacing it (SIGHUP) affects new connections only,
 * existing ones keep the context they started with (OpenSSL counts its references).
 */
#ifndef CMMO_TLS_H
#define CMMO_TLS_H

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

/* Feeds ciphertext from the socket; every decrypted byte goes to on_plain, in order. Returns 0,
 * or -1 when the session failed (bad handshake, bad record): close the connection. */
int tls_conn_feed(tls_conn *t, const uint8_t *data, size_t len,
                  void (*on_plain)(void *user, const uint8_t *data, size_t len), void *user);

/* Encrypts plaintext for the peer (it waits in the session until tls_conn_take_output).
 * Returns 0 or -1. */
int tls_conn_encrypt(tls_conn *t, const uint8_t *data, size_t len);

/* Ciphertext waiting to be written to the socket (handshake records, encrypted data, alerts),
 * as a new rcbuf owned by the caller; NULL when there is none. */
rcbuf *tls_conn_take_output(tls_conn *t);

#endif
