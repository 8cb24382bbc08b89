/*
 * throttle: counts failed logins per key (an account name, a peer address) and says how long a
 * key must wait. A fixed-size table: memory stays bounded however many keys an attacker invents;
 * when it is full, the entry idle longest is forgotten.
 */
#ifndef CMMO_THROTTLE_H
#define CMMO_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct throttle throttle;

#define THROTTLE_KEY_MAX 63

/* After max_failures failures within window_ms, the key waits lockout_ms from its last failure.
 * capacity: entries kept (rounded up to a power of two). */
throttle *throttle_create(size_t capacity, unsigned max_failures, uint64_t window_ms,
                          uint64_t lockout_ms);
void throttle_destroy(throttle *t);

/* Milliseconds the key must still wait (0: go ahead). Keys are compared case-insensitively. */
uint64_t throttle_wait_ms(throttle *t, const char *key, uint64_t now_ms);
/* Records a failure. */
void throttle_fail(throttle *t, const char *key, uint64_t now_ms);
/* Forgets the key's failures (after a success). */
void throttle_clear(throttle *t, const char *key);

#endif
