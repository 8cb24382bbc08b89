/*
 * throttle: counts failed logins per key (an account name, a peer address) and says how long a
 * key must wait.
 *
 * Memory is bounded (a fixed table) however many keys an attacker invents, and no key can
 * disturb another key's state:
 * - keys are placed by SipHash-2-4 under a random key drawn per table, so nobody can compute
 *   offline which names land near a victim's;
 * - a key lives in one of THROTTLE_PROBES slots from its home slot, and a slot is reused only
 *   once the state in it has expired (no failure within the window, no lockout running). Live
 *   state is never evicted: a locked key stays locked until its lockout ends.
 * - A key that is not tracked and whose slots are all live cannot be tracked: it is refused
 *   (fail closed). throttle_wait_ms makes it wait until the first of those slots expires, the
 *   refusal is counted (throttle_refusals) and logged (event throttle_full, at most once per
 *   window). Callers size the table so that honest load never gets there.
 */
#ifndef CMMO_THROTTLE_H
#define CMMO_THROTTLE_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct throttle throttle;

/* Keys longer than this are cut: usernames (20) and addresses (47) are far shorter. */
#define THROTTLE_KEY_MAX 63
/* The SipHash-2-4 key (libsodium's crypto_shorthash_KEYBYTES). */
#define THROTTLE_HASH_KEY_BYTES 16
/* Slots a key may occupy, from its home slot on. With keys placed at random, a run of 32 live
 * slots is all but impossible below half load; the table is full in practice only when nearly
 * every slot holds live state. */
#define THROTTLE_PROBES 64

enum throttle_result {
    THROTTLE_OK = 0,
    THROTTLE_FULL =
        CMMO_EFULL, /* the key cannot be tracked: every slot it may use holds live state */
};

/* After max_failures failures within window_ms, the key waits lockout_ms from its last failure.
 * capacity: entries kept (rounded up to a power of two, at least 2 * THROTTLE_PROBES). name
 * labels the log lines (copied, may be cut). The hash key is random (libsodium). Returns NULL
 * when out of memory or when libsodium cannot start. */
throttle *throttle_create(const char *name, size_t capacity, unsigned max_failures,
                          uint64_t window_ms, uint64_t lockout_ms);
/* The same with a given hash key: for tests that need keys which collide. Never in the server:
 * a known key lets anyone crowd one neighbourhood. */
throttle *throttle_create_keyed(const char *name, size_t capacity, unsigned max_failures,
                                uint64_t window_ms, uint64_t lockout_ms,
                                const uint8_t hash_key[THROTTLE_HASH_KEY_BYTES]);
/* Accepts NULL. */
void throttle_destroy(throttle *t);

/* Milliseconds the key must still wait (0: go ahead). Keys are compared case-insensitively.
 * A key that is not tracked and could not be (THROTTLE_FULL) waits until a slot it may use
 * expires, and counts as a refusal. */
uint64_t throttle_wait_ms(throttle *t, const char *key, uint64_t now_ms);
/* Records a failure. THROTTLE_OK, or THROTTLE_FULL (counted as a refusal) if the key cannot be
 * tracked: the failure is not recorded, and the key is refused until a slot frees. */
int throttle_fail(throttle *t, const char *key, uint64_t now_ms);
/* Forgets the key's failures (after a success). Unknown keys are ignored. */
void throttle_clear(throttle *t, const char *key);

/* Refusals for want of room since creation. */
uint64_t throttle_refusals(const throttle *t);
/* The slot the key's probe sequence starts at: for tests that build colliding keys. */
size_t throttle_home_slot(const throttle *t, const char *key);

#endif
