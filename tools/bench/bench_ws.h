/*
 * bench_ws: the client side of RFC 6455 as pure functions over byte buffers (no sockets), so the
 * connection module stays small and this part can be checked on its own.
 *
 * What a load generator needs and nothing more: build the Upgrade request (optionally offering one
 * subprotocol), verify the server's 101 answer (status, Sec-WebSocket-Accept, the subprotocol it
 * selected), encode masked client frames, and split server frames. Server frames must be unmasked
 * (RFC 6455 5.1); extensions are never negotiated, so the reserved bits must be zero.
 */
#ifndef CMMO_BENCH_WS_H
#define CMMO_BENCH_WS_H

#include <stddef.h>
#include <stdint.h>

/* base64 of the 16 random bytes of Sec-WebSocket-Key, plus the NUL. */
#define BENCH_WS_KEY_SIZE 25
/* Bound on the server's handshake answer: a 101 with a few headers is under 300 bytes. */
#define BENCH_WS_MAX_RESPONSE_HEAD 8192
/* Largest client frame header: 2 + 8 (64-bit length) + 4 (mask). */
#define BENCH_WS_MAX_HEADER 14
/* The compact movement encoding of cmmo's own browser client (docs/PROTOCOL.md). */
#define BENCH_WS_PROTOCOL_CMMO_V2 "cmmo.v2"
/* bench_ws_check_response: a correct 101 that did not select the subprotocol offered (or selected
 * one that was not offered). Distinct from -1 because a benchmark that silently fell back to the
 * legacy encoding would measure the wrong thing: the caller reports it by name. */
#define BENCH_WS_WRONG_SUBPROTOCOL (-2)

enum bench_ws_opcode {
    BENCH_WS_CONTINUATION = 0x0,
    BENCH_WS_TEXT = 0x1,
    BENCH_WS_BINARY = 0x2,
    BENCH_WS_CLOSE = 0x8,
    BENCH_WS_PING = 0x9,
    BENCH_WS_PONG = 0xA,
};

/* Writes a fresh random key (from OpenSSL's RAND_bytes) into key. Returns 0 or -1. */
int bench_ws_make_key(char key[BENCH_WS_KEY_SIZE]);

/* Writes the HTTP Upgrade request for path "/" into out, offering the subprotocol protocol
 * (Sec-WebSocket-Protocol) unless it is NULL. Returns its length, or -1 if it does not fit in cap.
 */
int bench_ws_request(char *out, size_t cap, const char *host, int port, const char *key,
                     const char *protocol);

/* Checks the server's answer in buf[0..len) to a request made with key and protocol (NULL: none
 * offered). Returns the length of the head (through the blank line; bytes after it are already
 * frames), 0 if the head is not complete yet, -1 if the answer is not a 101 with the right
 * Sec-WebSocket-Accept or the head exceeds BENCH_WS_MAX_RESPONSE_HEAD, or
 * BENCH_WS_WRONG_SUBPROTOCOL if it is such a 101 but its Sec-WebSocket-Protocol is not exactly
 * protocol (absent when protocol is NULL). */
int bench_ws_check_response(const char *buf, size_t len, const char *key, const char *protocol);

/* Encodes one final frame with the given opcode, masked with mask, into out. Returns the frame's
 * length, or 0 if it does not fit in cap. */
size_t bench_ws_encode(uint8_t *out, size_t cap, enum bench_ws_opcode opcode, const void *payload,
                       size_t len, uint32_t mask);

struct bench_ws_frame {
    int fin;
    int opcode;
    const uint8_t *payload; /* points into the decoded buffer */
    size_t len;
};

/* Splits one server frame off buf[0..len). Returns the frame's total length (> 0) and fills f,
 * 0 if the frame is not complete yet, or -1 if it breaks the protocol (masked, reserved bits,
 * unknown opcode, control frame over 125 bytes or fragmented) or its payload exceeds max_payload.
 */
long bench_ws_decode(const uint8_t *buf, size_t len, size_t max_payload, struct bench_ws_frame *f);

#endif
