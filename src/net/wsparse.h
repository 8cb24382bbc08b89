/*
 * wsparse: the server side of RFC 6455 framing for incoming bytes: frame headers, masking,
 * fragmentation, control frames, limits and UTF-8, turned into whole messages and events.
 *
 * Why not wslay's event API: it keeps about 8.8 KiB per connection (its frame and message
 * buffers) for the connection's whole life, measured with mallinfo2 over 1,000 contexts. This
 * parser is a 72-byte struct; a message being assembled allocates exactly what it needs,
 * bounded by the message limit, and frees it when delivered, and a connection that sends a
 * control frame keeps a 125-byte buffer for them. Idle players are most players.
 *
 * Usage: ws_parser_init, then ws_parser_feed with each chunk of socket bytes; it calls the
 * callback for each event in order. After WS_EVENT_CLOSE or WS_EVENT_ERROR the parser accepts
 * nothing more. ws_parser_free releases a half-assembled message.
 */
#ifndef CMMO_WSPARSE_H
#define CMMO_WSPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_event_type {
    WS_EVENT_MESSAGE, /* a complete text or binary message (text is valid UTF-8) */
    WS_EVENT_PING,    /* answer with a pong carrying the same payload */
    WS_EVENT_PONG,
    WS_EVENT_CLOSE, /* the peer's close: code (1005 when it sent none) and reason */
    WS_EVENT_ERROR, /* a violation: close with code (1002 protocol, 1007 UTF-8, 1009 size) */
};

typedef struct ws_event {
    enum ws_event_type type;
    int binary;          /* WS_EVENT_MESSAGE: 1 for a binary message */
    const uint8_t *data; /* payload; valid during the callback only */
    size_t len;
    uint16_t code; /* WS_EVENT_CLOSE, WS_EVENT_ERROR */
} ws_event;

/* Return 0 to go on, or non-zero to stop after this event (ws_parser_feed then returns how many
 * bytes it consumed; feed the rest later). */
typedef int (*ws_event_cb)(void *user, const ws_event *event);

typedef struct ws_parser {
    uint8_t header[14]; /* the frame header being read */
    uint8_t header_len; /* bytes of it read so far */
    uint8_t opcode;     /* current frame */
    uint8_t fin;
    uint8_t done;           /* a close or an error was reported */
    uint8_t message_opcode; /* 1 or 2 while a data message is being assembled, else 0 */
    uint8_t mask[4];
    uint64_t remaining;  /* payload bytes of the current frame still to come */
    uint64_t frame_pos;  /* payload bytes of the current frame already read (mask phase) */
    uint8_t in_payload;  /* the header is read; payload bytes follow */
    uint8_t control_len; /* bytes in control */
    uint8_t *buffer;     /* the data message being assembled, NULL between messages */
    uint32_t buffer_len; /* bytes in buffer */
    uint32_t max_message;
    uint8_t *control; /* a control frame's payload (125 bytes), allocated on first use */
} ws_parser;

void ws_parser_init(ws_parser *p, uint32_t max_message);
void ws_parser_free(ws_parser *p);

/* Consumes bytes and reports events. Returns the number of bytes consumed: all of them, unless
 * the callback asked to stop or the parser finished with a close or an error. */
size_t ws_parser_feed(ws_parser *p, const uint8_t *data, size_t len, ws_event_cb cb, void *user);

/* Whether a close code received from a peer is one RFC 6455 allows on the wire. */
bool ws_close_code_valid(uint16_t code);

#endif
