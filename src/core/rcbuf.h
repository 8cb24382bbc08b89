/*
 * rcbuf: a reference-counted byte buffer, so that bytes encoded once (a mover's delta, a chat
 * line) are shared by every connection that sends them instead of being copied per recipient.
 *
 * A buffer has `headroom` bytes reserved before its data so that a lower layer can prepend a
 * header (the WebSocket frame header) in place, once, without copying the payload.
 *
 * Ownership: rcbuf_new returns a buffer with one reference, owned by the caller. Every holder
 * calls rcbuf_ref when it keeps the buffer and rcbuf_unref when done; the last unref frees it.
 * Single-threaded: only the event-loop thread touches rcbufs.
 */
#ifndef CMMO_RCBUF_H
#define CMMO_RCBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct rcbuf {
    uint32_t refs;
    uint16_t flags;   /* RCBUF_BINARY from the encoder; the framing layer's own bits above */
    uint16_t tag;     /* what the bytes are, set by their encoder (for counting); 0: unknown */
    uint32_t packets; /* how many packets the bytes hold (1, or more for a packed batch) */
    size_t start;     /* offset of the first byte of data in bytes[] */
    size_t len;       /* bytes of data */
    size_t capacity;  /* bytes available after start */
    uint8_t bytes[];
} rcbuf;

/* flags: the bytes are a binary message, not text (a WebSocket layer frames them with the
 * binary opcode). Set by the encoder. The framing layer's own flags use other bits. */
#define RCBUF_BINARY 0x8000u

/* The largest headroom any layer needs (a WebSocket server frame header is at most 10 bytes). */
#define RCBUF_HEADROOM 10

/* A new empty buffer able to hold `capacity` data bytes. Returns NULL on allocation failure. */
rcbuf *rcbuf_new(size_t capacity);

/* A new buffer holding a copy of data. Returns NULL on allocation failure. */
rcbuf *rcbuf_from(const void *data, size_t len);

static inline uint8_t *rcbuf_data(rcbuf *b)
{
    return b->bytes + b->start;
}

/* Moves the start back by n bytes (n <= current start) and returns the new start pointer. */
uint8_t *rcbuf_prepend(rcbuf *b, size_t n);

static inline rcbuf *rcbuf_ref(rcbuf *b)
{
    b->refs++;
    return b;
}

/* Drops one reference; frees the buffer at zero. NULL is ignored. */
void rcbuf_unref(rcbuf *b);

#endif
