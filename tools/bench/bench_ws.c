/* bench_ws: RFC 6455 client codec (see bench_ws.h). */
#include "bench_ws.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 6455 section 1.3: the GUID appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int bench_ws_make_key(char key[BENCH_WS_KEY_SIZE])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1) return -1;
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
    return 0;
}

int bench_ws_request(char *out, size_t cap, const char *host, int port, const char *key,
                     const char *protocol)
{
    int n = snprintf(out, cap,
                     "GET / HTTP/1.1\r\n"
                     "Host: %s:%d\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s%s%s"
                     "\r\n",
                     host, port, key, protocol ? "Sec-WebSocket-Protocol: " : "",
                     protocol ? protocol : "", protocol ? "\r\n" : "");
    return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

/* The Sec-WebSocket-Accept the server must answer for key. */
static int expected_accept(const char *key, char out[29])
{
    char joined[BENCH_WS_KEY_SIZE + sizeof(ws_guid)];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int n = snprintf(joined, sizeof(joined), "%s%s", key, ws_guid);
    if (n < 0 || (size_t)n >= sizeof(joined)) return -1;
    if (EVP_Digest(joined, (size_t)n, digest, &dlen, EVP_sha1(), NULL) != 1 || dlen != 20)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, digest, 20);
    return 0;
}

/* If line[0..llen) is the header name (lower case, with its colon), points *v and *ve at its value
 * without surrounding blanks and returns 1. */
static int header_value(const char *line, size_t llen, const char *name, const char **v,
                        const char **ve)
{
    size_t nlen = strlen(name);
    if (llen < nlen || strncasecmp(line, name, nlen) != 0) return 0;
    const char *b = line + nlen, *e = line + llen;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *v = b;
    *ve = e;
    return 1;
}

int bench_ws_check_response(const char *buf, size_t len, const char *key, const char *protocol)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return len >= BENCH_WS_MAX_RESPONSE_HEAD ? -1 : 0;
    size_t head_len = (size_t)(end - buf) + 4;
    if (head_len > BENCH_WS_MAX_RESPONSE_HEAD) return -1;
    if (head_len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) return -1;

    char want[29];
    if (expected_accept(key, want) != 0) return -1;
    int accepted = 0, protocols = 0, protocol_ok = 0;
    const char *line = memchr(buf, '\n', head_len);
    while (line && line < end) {
        line++;
        const char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
        if (!eol) break;
        size_t llen = (size_t)(eol - line);
        const char *v, *ve;
        if (header_value(line, llen, "sec-websocket-accept:", &v, &ve)) {
            if ((size_t)(ve - v) != 28 || memcmp(v, want, 28) != 0) return -1;
            accepted = 1;
        } else if (header_value(line, llen, "sec-websocket-protocol:", &v, &ve)) {
            /* RFC 6455 4.2.2: the server selects one of the offered values or sends no header;
             * tokens compare case-sensitively. */
            protocols++;
            protocol_ok = protocol && (size_t)(ve - v) == strlen(protocol) &&
                          memcmp(v, protocol, (size_t)(ve - v)) == 0;
        }
        line = memchr(line, '\n', (size_t)(end + 2 - line));
    }
    if (!accepted) return -1;
    if (protocol ? (protocols != 1 || !protocol_ok) : protocols != 0)
        return BENCH_WS_WRONG_SUBPROTOCOL;
    return (int)head_len;
}

size_t bench_ws_encode(uint8_t *out, size_t cap, enum bench_ws_opcode opcode, const void *payload,
                       size_t len, uint32_t mask)
{
    size_t head = 2 + 4 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8);
    if (cap < head || cap - head < len) return 0;
    size_t i = 0;
    out[i++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        out[i++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[i++] = 0x80 | 126;
        out[i++] = (uint8_t)(len >> 8);
        out[i++] = (uint8_t)len;
    } else {
        out[i++] = 0x80 | 127;
        for (int s = 56; s >= 0; s -= 8)
            out[i++] = (uint8_t)((uint64_t)len >> s);
    }
    uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8),
                    (uint8_t)mask};
    memcpy(out + i, m, 4);
    i += 4;
    const uint8_t *p = payload;
    for (size_t k = 0; k < len; k++)
        out[i + k] = p[k] ^ m[k & 3];
    return i + len;
}

long bench_ws_decode(const uint8_t *buf, size_t len, size_t max_payload, struct bench_ws_frame *f)
{
    if (len < 2) return 0;
    int fin = buf[0] >> 7;
    int rsv = (buf[0] >> 4) & 7;
    int opcode = buf[0] & 0x0F;
    int masked = buf[1] >> 7;
    uint64_t plen = buf[1] & 0x7F;
    size_t head = 2;
    if (rsv || masked) return -1;
    switch (opcode) {
    case BENCH_WS_CONTINUATION:
    case BENCH_WS_TEXT:
    case BENCH_WS_BINARY:
        break;
    case BENCH_WS_CLOSE:
    case BENCH_WS_PING:
    case BENCH_WS_PONG:
        if (!fin || plen > 125) return -1;
        break;
    default:
        return -1;
    }
    if (plen == 126) {
        if (len < 4) return 0;
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        head = 4;
    } else if (plen == 127) {
        if (len < 10) return 0;
        plen = 0;
        for (int k = 0; k < 8; k++)
            plen = (plen << 8) | buf[2 + k];
        head = 10;
    }
    if (plen > max_payload) return -1;
    if (len - head < plen) return 0;
    f->fin = fin;
    f->opcode = opcode;
    f->payload = buf + head;
    f->len = (size_t)plen;
    return (long)(head + plen);
}
