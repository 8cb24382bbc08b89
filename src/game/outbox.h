/*
 * outbox: the game's one port to the network, what the game may do to a viewer's connection.
 *
 * The wiring (src/server) implements it over net and hands it to game_create; the game hands
 * each connection's opaque `link` back with every call. The port is always complete: every
 * function is set (game_create asserts it), so nothing in the game tests for NULL or falls back.
 *
 * The game gives bytes and reasons, never wire details: WebSocket framing and close codes live
 * in net, and the wiring maps a game_close_reason to its close code and reason text (the table
 * in docs/PROTOCOL.md). Called on the loop thread only. Nothing here includes libuv.
 */
#ifndef CMMO_OUTBOX_H
#define CMMO_OUTBOX_H

#include "core/rcbuf.h"
#include "proto/packet.h"

#include <stddef.h>
#include <stdint.h>

/* Why the game closes a connection. Each has exactly one close code and reason text on the wire
 * (docs/PROTOCOL.md's close-code table); the wiring owns that mapping. */
typedef enum game_close_reason {
    GAME_CLOSE_MESSAGE_FLOOD, /* 200 messages over budget */
    GAME_CLOSE_CHAT_FLOOD,    /* 10 chat lines over budget */
    GAME_CLOSE_KICKED,        /* an operator kicked the player (or deleted the account) */
    GAME_CLOSE_ELSEWHERE,     /* the account logged in on another node of a cluster */
    GAME_CLOSE_CLUSTER_LOST,  /* a cluster node could not renew its claim on the account */
    GAME_CLOSE_JOIN_FAILED,   /* told Ok, the player could not be put in the world (memory) */
    GAME_CLOSE_REASON_COUNT
} game_close_reason;

typedef struct game_outbox {
    /* Queues n packets (n >= 1) for the link, in order: a viewer's packets of one tick go in one
     * call. The references stay the caller's: push takes its own if it keeps a buffer. A link
     * that is closing drops them. */
    void (*push)(void *ctx, void *link, rcbuf *const *msgs, size_t n);
    /* Starts closing the link (what was pushed goes first). Closing twice is harmless; the game
     * still owns its session until the network reports the connection gone. */
    void (*close)(void *ctx, void *link, game_close_reason why);
    /* Reading resumes on a link the game paused (game_session_message returned true). May deliver
     * held messages from within the call. */
    void (*resume)(void *ctx, void *link);
    /* Packs n messages (n >= 2) into one buffer that push delivers as the n packets, in order:
     * the same bytes for many links cost each one iovec instead of n. Returns a new reference,
     * or NULL on allocation failure (the caller then pushes the n messages themselves). */
    rcbuf *(*pack)(void *ctx, rcbuf *const *msgs, size_t n);
    void *ctx;
} game_outbox;

/* True when every function of the port is set. */
static inline int game_outbox_complete(const game_outbox *o)
{
    return o && o->push && o->close && o->resume && o->pack;
}

/* Index for per-action counters: a packet_action, or GAME_INVALID for messages that did not
 * decode (malformed or unknown action). Derived from proto/packet.h's action table, so a new
 * action gets its counters and its /metrics samples without an edit here. */
#define GAME_INVALID PACKET_ACTION_COUNT
#define GAME_ACTION_SLOTS (PACKET_ACTION_COUNT + 1)

/* Counts pushed buffers into per-action tallies (GAME_ACTION_SLOTS entries each): a packed
 * buffer counts as the packets it holds, under its first message's action. */
static inline void game_outbox_count(uint64_t *packets, uint64_t *bytes, rcbuf *const *msgs,
                                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rcbuf *b = msgs[i];
        int slot = b->tag ? b->tag - 1 : GAME_INVALID;
        if (slot < 0 || slot >= GAME_ACTION_SLOTS) slot = GAME_INVALID;
        packets[slot] += b->packets;
        bytes[slot] += b->len;
    }
}

#endif
