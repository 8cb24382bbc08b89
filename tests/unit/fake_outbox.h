/*
 * fake_outbox: the game's outbox port (game/outbox.h) for unit tests. It records every push
 * (holding references, so buffers compare by pointer after the tick), close and resume, and packs
 * for real (messages joined by '\n') so that a packed tick is one buffer counting n packets. Each
 * function asserts it was handed its own context. One per test process (static state). Include
 * it after <cmocka.h>.
 */
#ifndef CMMO_TEST_FAKE_OUTBOX_H
#define CMMO_TEST_FAKE_OUTBOX_H

#include "core/rcbuf.h"
#include "game/outbox.h"
#include "game/session.h"

#include <string.h>

#define PUSHES_MAX 4096
#define PUSH_MSGS_MAX 16

typedef struct fake_link {
    session *s;
    const char *name;
} fake_link;

typedef struct push_record {
    fake_link *link;
    size_t n;
    rcbuf *msgs[PUSH_MSGS_MAX]; /* references held, so pointers compare after the tick */
} push_record;

typedef struct close_record {
    fake_link *link;
    game_close_reason why;
} close_record;

static struct fake_outbox {
    push_record pushes[PUSHES_MAX];
    size_t pushes_len;
    close_record closes[16];
    size_t closes_len;
    size_t packs, resumes;
} fake;

static void fake_push(void *ctx, void *link, rcbuf *const *msgs, size_t n)
{
    assert_ptr_equal(ctx, &fake);
    assert_non_null(link);
    assert_true(n >= 1 && n <= PUSH_MSGS_MAX);
    assert_true(fake.pushes_len < PUSHES_MAX);
    push_record *p = &fake.pushes[fake.pushes_len++];
    p->link = link;
    p->n = n;
    for (size_t i = 0; i < n; i++)
        p->msgs[i] = rcbuf_ref(msgs[i]);
}

static void fake_close(void *ctx, void *link, game_close_reason why)
{
    assert_ptr_equal(ctx, &fake);
    assert_true(why < GAME_CLOSE_REASON_COUNT);
    assert_true(fake.closes_len < 16);
    fake.closes[fake.closes_len++] = (close_record){link, why};
}

static void fake_resume(void *ctx, void *link)
{
    assert_ptr_equal(ctx, &fake);
    fake.resumes++;
}

/* Packs for real (the messages joined by '\n'), so that a packed tick is seen as one buffer
 * that counts as n packets. */
static rcbuf *fake_pack(void *ctx, rcbuf *const *msgs, size_t n)
{
    assert_ptr_equal(ctx, &fake);
    assert_true(n >= 2);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += msgs[i]->len + 1;
    rcbuf *b = rcbuf_new(len);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        memcpy(rcbuf_data(b) + b->len, rcbuf_data(msgs[i]), msgs[i]->len);
        b->len += msgs[i]->len;
        rcbuf_data(b)[b->len++] = '\n';
    }
    b->tag = msgs[0]->tag;
    b->packets = (uint32_t)n;
    fake.packs++;
    return b;
}

static const game_outbox fake_outbox = {fake_push, fake_close, fake_resume, fake_pack, &fake};

static void fake_clear(void)
{
    for (size_t i = 0; i < fake.pushes_len; i++)
        for (size_t k = 0; k < fake.pushes[i].n; k++)
            rcbuf_unref(fake.pushes[i].msgs[k]);
    memset(&fake, 0, sizeof fake);
}

#endif
