#include "net/tls.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>

struct tls_ctx {
    SSL_CTX *ssl_ctx;
};

struct tls_conn {
    SSL *ssl;
    BIO *in, *out; /* owned by ssl */
};

static void log_ssl_error(const char *event, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    log_error(event, "%s error=\"%s\"", what, e ? buf : "unknown");
    ERR_clear_error();
}

tls_ctx *tls_ctx_load(const char *cert_file, const char *key_file)
{
    tls_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!c->ssl_ctx) {
        free(c);
        return NULL;
    }
    /* TLS 1.2 and 1.3 only; OpenSSL's default cipher lists for them are sound. */
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ssl_ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* One write of a tick's frames may be large: let OpenSSL release buffers when idle. */
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, cert_file) != 1) {
        log_ssl_error("tls_load_failed", "file=cert");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ssl_ctx) != 1) {
        log_ssl_error("tls_load_failed", "file=key");
        goto fail;
    }
    return c;
fail:
    SSL_CTX_free(c->ssl_ctx);
    free(c);
    return NULL;
}

void tls_ctx_free(tls_ctx *c)
{
    if (!c) return;
    SSL_CTX_free(c->ssl_ctx);
    free(c);
}

tls_conn *tls_conn_new(tls_ctx *ctx)
{
    tls_conn *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ssl = SSL_new(ctx->ssl_ctx);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->in || !t->out) {
        SSL_free(t->ssl);
        BIO_free(t->in);
        BIO_free(t->out);
        free(t);
        return NULL;
    }
    /* An empty memory BIO means "no data yet", not end of file. */
    BIO_set_mem_eof_return(t->in, -1);
    SSL_set_bio(t->ssl, t->in, t->out);
    SSL_set_accept_state(t->ssl);
    return t;
}

void tls_conn_free(tls_conn *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    free(t);
}

int tls_conn_push(tls_conn *t, const uint8_t *data, size_t len)
{
    if (len > 0 && BIO_write(t->in, data, (int)len) != (int)len) return -ENOMEM;
    return 0;
}

long tls_conn_read(tls_conn *t, uint8_t *plain, size_t cap)
{
    if (cap > TLS_RECORD_PLAIN_MAX) cap = TLS_RECORD_PLAIN_MAX;
    int n = SSL_read(t->ssl, plain, (int)cap);
    if (n > 0) return n;
    int err = SSL_get_error(t->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
    if (err == SSL_ERROR_ZERO_RETURN) return CMMO_ECLOSED; /* close_notify: the peer is done */
    log_debug("tls_failed", "ssl_error=%d", err);
    ERR_clear_error();
    return CMMO_ETLS;
}

int tls_conn_encrypt(tls_conn *t, const uint8_t *data, size_t len)
{
    if (len == 0) return 0;
    int n = SSL_write(t->ssl, data, (int)len);
    if (n != (int)len) {
        ERR_clear_error();
        return CMMO_ETLS;
    }
    return 0;
}

rcbuf *tls_conn_take_output(tls_conn *t)
{
    size_t pending = BIO_ctrl_pending(t->out);
    if (pending == 0) return NULL;
    rcbuf *b = rcbuf_new(pending);
    if (!b) return NULL;
    int n = BIO_read(t->out, rcbuf_data(b), (int)pending);
    if (n <= 0) {
        rcbuf_unref(b);
        return NULL;
    }
    b->len = (size_t)n;
    return b;
}
