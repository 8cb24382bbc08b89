/*
 * http: the HTTP/1.1 side of the game port: parsing request heads (Debian's http-parser),
 * recognising a WebSocket upgrade, and building responses (static files from the web root,
 * errors, the 101 handshake). Knows nothing of sockets: bytes in, rcbufs out.
 */
#ifndef CMMO_HTTP_H
#define CMMO_HTTP_H

#include "core/error.h"
#include "core/rcbuf.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

/* Bound on a request head (request line + headers), however its bytes arrive: browsers send
 * 1-2 KiB. The parser is never shown more than this many bytes of one head. */
#define HTTP_HEAD_MAX 8192
/* Bound on the request target: the client's URLs are short. Over it: 414. */
#define HTTP_URL_MAX 2048
/* Static files larger than this are not served: the web client's files are a few KiB each. */
#define HTTP_FILE_MAX (8u << 20)

/* The WebSocket subprotocol of cmmo's compact extension (docs/PROTOCOL.md, cmmo.v2): a client
 * that offers exactly this token (case-sensitive) in Sec-WebSocket-Protocol is answered with it
 * and sent compact movement. */
#define HTTP_SUBPROTOCOL_V2 "cmmo.v2"

/* The status to answer a refused head with: 400 for CMMO_EHTTP_BAD_REQUEST, 414 for
 * CMMO_EHTTP_URI_TOO_LONG, 431 for CMMO_EHTTP_TOO_LARGE (and 400 for any other code). */
int http_error_status(int code);

/* Whether one token is an element of a comma-separated list field (RFC 9110 5.6.1), read as
 * the value arrives, in pieces and over repeated field lines, in constant memory (private). */
typedef struct http_list_match {
    size_t matched; /* characters of the token matched by the current element so far */
    int state;      /* where in the current element the next character falls */
    int found;      /* a whole element equalled the token */
} http_list_match;

typedef struct http_request {
    http_parser parser;
    size_t head_bytes; /* bytes of the current head consumed so far, for HTTP_HEAD_MAX */
    int complete;      /* a whole request has been parsed and awaits handling */
    int header_state;  /* which header value is being read (private) */
    int refusal;       /* the error code a callback refused the head with (private) */
    int after_newline; /* the last byte parsed ended a line, for obs-fold (private) */
    unsigned method;   /* enum http_method */
    int upgrade;       /* Upgrade lists "websocket" and Connection lists "upgrade" */
    int keep_alive;
    char url[HTTP_URL_MAX + 1];
    size_t url_len;
    /* The single-valued fields, without surrounding whitespace. One that was repeated or did not
     * fit its buffer is never joined or cut into a valid-looking value: a bad key, version or
     * origin makes http_websocket_accept answer 400, a bad X-Real-IP is dropped. */
    char ws_key[64]; /* Sec-WebSocket-Key */
    size_t ws_key_len;
    char ws_version[8];
    size_t ws_version_len;
    char origin[256];
    size_t origin_len;
    char real_ip[64]; /* X-Real-IP, set by a reverse proxy; empty if repeated or too long */
    size_t real_ip_len;
    unsigned bad_fields;  /* HTTP_FIELD_* bits (private) */
    unsigned seen_fields; /* HTTP_FIELD_* bits of the fields met so far (private) */
    int v2;               /* the client offered HTTP_SUBPROTOCOL_V2 */
    char field[64];       /* the header name being read, lower-cased, truncated (private) */
    size_t field_len;
    http_list_match upgrade_websocket, connection_upgrade, protocol_v2; /* (private) */
} http_request;

void http_request_init(http_request *r);

/* Feeds bytes. Returns how many were consumed (parsing stops after one complete request, which
 * r->complete then signals; the rest belongs to the next request or, after an upgrade, to the
 * WebSocket), or an error code (http_error_status gives the status to answer with), after which
 * the connection must close: CMMO_EHTTP_TOO_LARGE for a head over HTTP_HEAD_MAX,
 * CMMO_EHTTP_URI_TOO_LONG for a URL over HTTP_URL_MAX, CMMO_EHTTP_BAD_REQUEST for a malformed head,
 * an obsolete folded header line (RFC 9112 5.2) or a request with a body (Content-Length above
 * 0 or Transfer-Encoding: nothing this server serves takes one, and an unread body would be
 * parsed as the next request). Repeated header fields are combined as RFC 9110 5.3 says. */
long http_request_feed(http_request *r, const char *data, size_t len);

/* Prepares r for the next request on a keep-alive connection. */
void http_request_reset(http_request *r);

/* Validates r as a WebSocket opening handshake (RFC 6455 section 4.2.1). On success returns the
 * 101 response (selecting HTTP_SUBPROTOCOL_V2 if r->v2, else no Sec-WebSocket-Protocol header);
 * otherwise NULL and *status is set: 400 unless the key is one field holding exactly one
 * canonical base64 encoding of 16 bytes and the version and origin fields are not repeated,
 * 426 for a version other than 13. */
rcbuf *http_websocket_accept(const http_request *r, int *status);

/* A complete response with a small text body. */
rcbuf *http_response_text(int status, const char *body, int keep_alive);

/* A complete response with the given content type and body (len bytes). */
rcbuf *http_response(int status, const char *content_type, const void *body, size_t len,
                     int keep_alive, int head_only);

/* Cuts a response built by http_response down to its head (the answer to HEAD: the same status
 * line and headers, Content-Length included, and no body). The rcbuf must not be shared yet. */
void http_response_strip_body(rcbuf *response);

/* Serves r's path from web_root: index.html for a directory path, 404 for anything missing,
 * hidden (a segment starting with '.', so also "..") or not a regular file. Every component
 * below web_root is opened without following symbolic links, so no link inside the root is
 * served or traversed, wherever it points (web_root itself may be a link). A path with a NUL or a
 * backslash never reaches the file system. */
rcbuf *http_serve_static(const http_request *r, const char *web_root);

/* The decoded path part of r's URL (no query), into out; returns 0, or CMMO_EINVALID for a path
 * that is not absolute, holds a NUL, a backslash or a bad %-escape, or does not fit cap. */
int http_request_path(const http_request *r, char *out, size_t cap);
/* True if the URL's query string contains exactly `param` ("reset=1"). */
bool http_request_has_query(const http_request *r, const char *param);

#endif
