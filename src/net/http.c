#include "net/http.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { H_NONE, H_UPGRADE, H_CONNECTION, H_WS_KEY, H_WS_VERSION, H_ORIGIN, H_REAL_IP, H_PROTOCOL };

/* The single-valued fields, as bits of bad_fields / seen_fields. */
enum {
    HTTP_FIELD_WS_KEY = 1u << 0,
    HTTP_FIELD_WS_VERSION = 1u << 1,
    HTTP_FIELD_ORIGIN = 1u << 2,
    HTTP_FIELD_REAL_IP = 1u << 3,
};

/* ---------------------------------------------------------------- list fields */

/* A list element is read in four states: leading whitespace, the element, whitespace after it
 * (only a comma or the end may follow: a token has no whitespace inside), or a mismatch that
 * waits for the next comma. */
enum { LIST_LEADING, LIST_IN, LIST_TRAILING, LIST_MISMATCH };

static void list_end_element(http_list_match *m, const char *token)
{
    if ((m->state == LIST_IN || m->state == LIST_TRAILING) && m->matched == strlen(token))
        m->found = 1;
    m->matched = 0;
    m->state = LIST_LEADING;
}

/* Feeds a piece of a list field's value. The end of a field line must be marked with
 * list_end_element: a repeated field is the same list with a comma between (RFC 9110 5.3). */
static void list_feed(http_list_match *m, const char *token, int ignore_case, const char *at,
                      size_t len)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < len; i++) {
        char c = at[i];
        if (c == ',') {
            list_end_element(m, token);
        } else if (c == ' ' || c == '\t') {
            if (m->state == LIST_IN) m->state = LIST_TRAILING;
        } else if (m->state == LIST_LEADING || m->state == LIST_IN) {
            int same = m->matched < tl &&
                       (ignore_case
                            ? tolower((unsigned char)c) == tolower((unsigned char)token[m->matched])
                            : c == token[m->matched]);
            m->matched++;
            m->state = same ? LIST_IN : LIST_MISMATCH;
        } else {
            m->state = LIST_MISMATCH;
        }
    }
}

/* Connection options and Upgrade protocol names are case-insensitive (RFC 9110 7.6.1, 7.8;
 * RFC 6455 4.2.1 says "websocket" and "Upgrade" likewise); a subprotocol is the client's exact
 * token (RFC 6455 4.2.2: the server answers with a value the client offered). */
#define TOKEN_WEBSOCKET "websocket"
#define TOKEN_UPGRADE "upgrade"

/* ---------------------------------------------------------------- parser callbacks */

static int on_url(http_parser *p, const char *at, size_t len)
{
    http_request *r = p->data;
    if (r->url_len + len > HTTP_URL_MAX) {
        r->refusal = CMMO_EHTTP_URI_TOO_LONG;
        return 1;
    }
    memcpy(r->url + r->url_len, at, len);
    r->url_len += len;
    r->url[r->url_len] = 0;
    return 0;
}

/* Ends the field line whose value was being read. */
static void end_field_line(http_request *r)
{
    switch (r->header_state) {
    case H_UPGRADE:
        list_end_element(&r->upgrade_websocket, TOKEN_WEBSOCKET);
        break;
    case H_CONNECTION:
        list_end_element(&r->connection_upgrade, TOKEN_UPGRADE);
        break;
    case H_PROTOCOL:
        list_end_element(&r->protocol_v2, HTTP_SUBPROTOCOL_V2);
        break;
    }
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http_request *r = p->data;
    /* A field may arrive in pieces; a value callback in between means a new field began. */
    if (r->header_state != -1) {
        end_field_line(r);
        r->field_len = 0;
        r->header_state = -1;
    }
    for (size_t i = 0; i < len && r->field_len < sizeof r->field - 1; i++)
        r->field[r->field_len++] = (char)tolower((unsigned char)at[i]);
    r->field[r->field_len] = 0;
    return 0;
}

static int header_kind(const char *field)
{
    if (strcmp(field, "upgrade") == 0) return H_UPGRADE;
    if (strcmp(field, "connection") == 0) return H_CONNECTION;
    if (strcmp(field, "sec-websocket-key") == 0) return H_WS_KEY;
    if (strcmp(field, "sec-websocket-version") == 0) return H_WS_VERSION;
    if (strcmp(field, "origin") == 0) return H_ORIGIN;
    if (strcmp(field, "x-real-ip") == 0) return H_REAL_IP;
    if (strcmp(field, "sec-websocket-protocol") == 0) return H_PROTOCOL;
    return H_NONE;
}

/* Appends a piece of a single-valued field; one that does not fit is marked bad, not cut. */
static void single_append(http_request *r, unsigned bit, char *dst, size_t *dst_len, size_t cap,
                          const char *at, size_t len)
{
    if (r->bad_fields & bit) return;
    if (len >= cap - *dst_len) {
        r->bad_fields |= bit;
        return;
    }
    memcpy(dst + *dst_len, at, len);
    *dst_len += len;
    dst[*dst_len] = 0;
}

/* A single-valued field's first value piece: a second field line of the same name is bad
 * (RFC 9110 5.3: only list fields may be repeated), never joined to the first. */
static void single_begin(http_request *r, unsigned bit)
{
    if (r->seen_fields & bit) r->bad_fields |= bit;
    r->seen_fields |= bit;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http_request *r = p->data;
    if (r->header_state == -1) {
        r->header_state = header_kind(r->field);
        unsigned bit = r->header_state == H_WS_KEY       ? HTTP_FIELD_WS_KEY
                       : r->header_state == H_WS_VERSION ? HTTP_FIELD_WS_VERSION
                       : r->header_state == H_ORIGIN     ? HTTP_FIELD_ORIGIN
                       : r->header_state == H_REAL_IP    ? HTTP_FIELD_REAL_IP
                                                         : 0;
        if (bit) single_begin(r, bit);
    }
    switch (r->header_state) {
    case H_PROTOCOL:
        list_feed(&r->protocol_v2, HTTP_SUBPROTOCOL_V2, 0, at, len);
        break;
    case H_UPGRADE:
        list_feed(&r->upgrade_websocket, TOKEN_WEBSOCKET, 1, at, len);
        break;
    case H_CONNECTION:
        list_feed(&r->connection_upgrade, TOKEN_UPGRADE, 1, at, len);
        break;
    case H_WS_KEY:
        single_append(r, HTTP_FIELD_WS_KEY, r->ws_key, &r->ws_key_len, sizeof r->ws_key, at, len);
        break;
    case H_WS_VERSION:
        single_append(r, HTTP_FIELD_WS_VERSION, r->ws_version, &r->ws_version_len,
                      sizeof r->ws_version, at, len);
        break;
    case H_ORIGIN:
        single_append(r, HTTP_FIELD_ORIGIN, r->origin, &r->origin_len, sizeof r->origin, at, len);
        break;
    case H_REAL_IP:
        single_append(r, HTTP_FIELD_REAL_IP, r->real_ip, &r->real_ip_len, sizeof r->real_ip, at,
                      len);
        break;
    }
    return 0;
}

/* The parser drops whitespace before a value but keeps it after (RFC 9110 5.5: not part of it). */
static void trim_trailing_space(char *s, size_t *len)
{
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        s[--*len] = 0;
}

static int on_headers_complete(http_parser *p)
{
    http_request *r = p->data;
    end_field_line(r);
    r->header_state = H_NONE;
    /* A body would have to be read to find the next request; nothing here takes one. */
    if ((p->flags & F_CHUNKED) || p->uses_transfer_encoding ||
        (p->content_length > 0 && p->content_length != ULLONG_MAX)) {
        r->refusal = CMMO_EHTTP_BAD_REQUEST;
        return -1;
    }
    r->method = p->method;
    r->keep_alive = http_should_keep_alive(p);
    trim_trailing_space(r->ws_key, &r->ws_key_len);
    trim_trailing_space(r->ws_version, &r->ws_version_len);
    trim_trailing_space(r->origin, &r->origin_len);
    trim_trailing_space(r->real_ip, &r->real_ip_len);
    if (r->bad_fields & HTTP_FIELD_REAL_IP) {
        r->real_ip_len = 0;
        r->real_ip[0] = 0;
    }
    r->upgrade = r->upgrade_websocket.found && r->connection_upgrade.found;
    r->v2 = r->protocol_v2.found;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http_request *r = p->data;
    r->complete = 1;
    /* Stop here: one request is handled before the next is parsed. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

void http_request_init(http_request *r)
{
    memset(r, 0, sizeof *r);
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
    r->header_state = H_NONE;
}

void http_request_reset(http_request *r)
{
    http_parser saved = r->parser;
    memset(r, 0, sizeof *r);
    r->parser = saved;
    r->parser.data = r;
    http_parser_pause(&r->parser, 0);
}

/* 1 if data holds a line that starts with whitespace: an obsolete folded continuation of the
 * previous header line (the request line cannot be followed by one either). Only head bytes are
 * ever scanned: parsing stops at the end of a head, and a body is refused before it is read. */
static int has_obs_fold(http_request *r, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (r->after_newline && (data[i] == ' ' || data[i] == '\t')) return 1;
        r->after_newline = data[i] == '\n';
    }
    return 0;
}

long http_request_feed(http_request *r, const char *data, size_t len)
{
    if (r->complete || len == 0) return 0;
    /* The parser never sees more than HTTP_HEAD_MAX bytes of one head, in one read or many: a
     * head still open after them is refused, and the rest is never parsed. */
    size_t room = HTTP_HEAD_MAX - r->head_bytes;
    if (room == 0) return CMMO_EHTTP_TOO_LARGE;
    if (len > room) len = room;
    size_t n = http_parser_execute(&r->parser, &settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO(&r->parser);
    if (err != HPE_OK && err != HPE_PAUSED) return r->refusal ? r->refusal : CMMO_EHTTP_BAD_REQUEST;
    if (has_obs_fold(r, data, n)) return CMMO_EHTTP_BAD_REQUEST;
    if (!r->complete && r->parser.upgrade) {
        /* http-parser stops at the end of an upgrade request's head without message_complete
         * when there is no body: treat the head as the complete request. */
        r->complete = 1;
    }
    r->head_bytes += n;
    if (!r->complete && r->head_bytes >= HTTP_HEAD_MAX) return CMMO_EHTTP_TOO_LARGE;
    return (long)n;
}

int http_error_status(int code)
{
    switch (code) {
    case CMMO_EHTTP_URI_TOO_LONG:
        return 414;
    case CMMO_EHTTP_TOO_LARGE:
        return 431;
    default:
        return 400;
    }
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

rcbuf *http_response(int status, const char *content_type, const void *body, size_t len,
                     int keep_alive, int head_only)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n%s"
                     "Connection: %s\r\n\r\n",
                     status, reason_phrase(status), content_type, len,
                     status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
                     keep_alive ? "keep-alive" : "close");
    size_t body_len = head_only ? 0 : len;
    rcbuf *b = rcbuf_new((size_t)n + body_len);
    if (!b) return NULL;
    memcpy(rcbuf_data(b), head, (size_t)n);
    if (body_len) memcpy(rcbuf_data(b) + n, body, body_len);
    b->len = (size_t)n + body_len;
    return b;
}

rcbuf *http_response_text(int status, const char *body, int keep_alive)
{
    return http_response(status, "text/plain; charset=utf-8", body, strlen(body), keep_alive, 0);
}

/* The value of a base64 character (RFC 4648 table 1), or -1. */
static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* 1 if key is the one canonical base64 encoding of 16 bytes: 22 characters and "==". The 22nd
 * character carries 2 bits of data; its other 4 must be zero (RFC 4648 3.5), else two keys
 * would decode to the same nonce. */
static int websocket_key_valid(const char *key, size_t len)
{
    if (len != 24 || key[22] != '=' || key[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++)
        if (base64_value(key[i]) < 0) return 0;
    return (base64_value(key[21]) & 0x0f) == 0;
}

rcbuf *http_websocket_accept(const http_request *r, int *status)
{
    *status = 400;
    if (r->method != HTTP_GET || !r->upgrade) return NULL;
    if (r->bad_fields & (HTTP_FIELD_WS_KEY | HTTP_FIELD_WS_VERSION | HTTP_FIELD_ORIGIN))
        return NULL;
    if (strcmp(r->ws_version, "13") != 0) {
        *status = 426;
        return NULL;
    }
    if (!websocket_key_valid(r->ws_key, r->ws_key_len)) return NULL;
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char joined[64];
    memcpy(joined, r->ws_key, 24);
    memcpy(joined + 24, guid, sizeof guid - 1);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)joined, 24 + sizeof guid - 1, digest);
    char accept[40];
    EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                     accept, r->v2 ? "Sec-WebSocket-Protocol: " HTTP_SUBPROTOCOL_V2 "\r\n" : "");
    *status = 101;
    return rcbuf_from(head, (size_t)n);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int http_request_path(const http_request *r, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < r->url_len && r->url[i] != '?' && r->url[i] != '#'; i++) {
        char c = r->url[i];
        if (c == '%') {
            if (i + 2 >= r->url_len) return CMMO_EINVALID;
            int hi = hexval(r->url[i + 1]), lo = hexval(r->url[i + 2]);
            if (hi < 0 || lo < 0) return CMMO_EINVALID;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0 || c == '\\' || o + 1 >= cap) return CMMO_EINVALID;
        out[o++] = c;
    }
    out[o] = 0;
    if (o == 0 || out[0] != '/') return CMMO_EINVALID;
    return 0;
}

bool http_request_has_query(const http_request *r, const char *param)
{
    const char *q = memchr(r->url, '?', r->url_len);
    if (!q) return false;
    size_t pl = strlen(param);
    const char *p = q + 1, *end = r->url + r->url_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) == pl && memcmp(p, param, pl) == 0) return true;
        p = stop + 1;
    }
    return false;
}

static const char *content_type_for(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".webmanifest", "application/manifest+json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

/* Opens path ("/a/b/c", decoded, no segment starting with '.') beneath web_root one component
 * at a time, each with O_NOFOLLOW: a symbolic link anywhere below the root fails the open
 * (ELOOP or ENOTDIR) instead of being followed, so no byte outside the root can be reached
 * through one. (openat2's RESOLVE_NO_SYMLINKS does the same in one call, on newer kernels
 * only: one way that works everywhere is the one that gets tested.) The last component is
 * opened non-blocking: a FIFO would otherwise wait for a writer. Empty segments are skipped.
 * path is cut at its slashes. Returns the file's descriptor or -1. */
static int open_beneath(const char *web_root, char *path)
{
    int dir = open(web_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *segment = path + 1, *slash;
    while (dir >= 0 && (slash = strchr(segment, '/')) != NULL) {
        *slash = 0;
        if (*segment) {
            int next = openat(dir, segment, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            close(dir);
            dir = next;
        }
        segment = slash + 1;
    }
    if (dir < 0) return -1;
    int fd = openat(dir, segment, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dir);
    return fd;
}

rcbuf *http_serve_static(const http_request *r, const char *web_root)
{
    int head_only = r->method == HTTP_HEAD;
    if (r->method != HTTP_GET && !head_only)
        return http_response_text(405, "method not allowed\n", r->keep_alive);
    char path[HTTP_URL_MAX + 16];
    if (http_request_path(r, path, sizeof path - 16) != 0)
        return http_response_text(400, "bad path\n", r->keep_alive);
    /* No segment may be "..": the path cannot climb out of the web root. Hidden files are not
     * served either. */
    if (strstr(path, "/.")) return http_response_text(404, "not found\n", r->keep_alive);
    if (path[strlen(path) - 1] == '/') strcat(path, "index.html");
    const char *type = content_type_for(path);
    int fd = open_beneath(web_root, path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HTTP_FILE_MAX) {
        if (fd >= 0) close(fd);
        return http_response_text(404, "not found\n", r->keep_alive);
    }
    size_t size = (size_t)st.st_size;
    char *body = malloc(size ? size : 1);
    size_t got = 0;
    while (body && got < size) {
        ssize_t k = read(fd, body + got, size - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    rcbuf *resp = NULL;
    if (body && got == size) resp = http_response(200, type, body, size, r->keep_alive, head_only);
    free(body);
    return resp ? resp : http_response_text(503, "unavailable\n", 0);
}

void http_response_strip_body(rcbuf *response)
{
    assert(response->refs == 1);
    const uint8_t *b = response->bytes + response->start;
    for (size_t i = 0; i + 4 <= response->len; i++) {
        if (memcmp(b + i, "\r\n\r\n", 4) == 0) {
            response->len = i + 4;
            return;
        }
    }
}
