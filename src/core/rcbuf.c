#include "core/rcbuf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

rcbuf *rcbuf_new(size_t capacity)
{
    rcbuf *b = malloc(sizeof *b + RCBUF_HEADROOM + capacity);
    if (!b) return NULL;
    b->refs = 1;
    b->flags = 0;
    b->tag = 0;
    b->packets = 1;
    b->start = RCBUF_HEADROOM;
    b->len = 0;
    b->capacity = capacity;
    return b;
}

rcbuf *rcbuf_from(const void *data, size_t len)
{
    rcbuf *b = rcbuf_new(len);
    if (!b) return NULL;
    memcpy(rcbuf_data(b), data, len);
    b->len = len;
    return b;
}

uint8_t *rcbuf_prepend(rcbuf *b, size_t n)
{
    assert(n <= b->start);
    b->start -= n;
    b->len += n;
    b->capacity += n;
    return rcbuf_data(b);
}

void rcbuf_unref(rcbuf *b)
{
    if (!b) return;
    assert(b->refs > 0);
    if (--b->refs == 0) free(b);
}
