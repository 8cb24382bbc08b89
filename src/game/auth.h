/*
 * auth: password hashing and checking with argon2id (libsodium crypto_pwhash_str), on worker
 * threads at lowered priority so the tick never waits for a hash.
 *
 * Parameters: 3 passes over 12 MiB (one of the OWASP-recommended argon2id settings), about
 * 20-40 ms of one core. The cost is stored in each hash string, so it can be raised later without
 * breaking existing accounts.
 *
 * The game calls this interface and never sees the event loop behind it: auth_create takes a
 * workpool (core/workpool.h, free of libuv) that the wiring made on its loop, so this header and
 * auth.c include no uv.h. Callbacks run on the thread of that pool's loop, which is the game's.
 */
#ifndef CMMO_AUTH_H
#define CMMO_AUTH_H

#include "core/error.h"
#include "core/limits.h"
#include "core/workpool.h"

#include <stddef.h>

#define AUTH_OPSLIMIT 3
#define AUTH_MEMLIMIT (12u << 20)
#define AUTH_HASH_MAX LIMITS_HASH_MAX /* bytes, terminator included */

typedef struct auth auth;

/* hash: the encoded hash on success (valid during the call), NULL on failure. */
typedef void (*auth_hash_cb)(void *user, const char *hash);
/* match: 1 if the password matches, else 0. */
typedef void (*auth_verify_cb)(void *user, int match);

/* Takes pool (made with background set, so hashing never competes with the tick): auth owns it
 * from now on and auth_destroy destroys it, also when this fails. pool NULL is a failure, so
 * auth_create(workpool_create(...)) needs no check in between. Returns NULL on failure
 * (libsodium could not start, no pool, no memory). */
auth *auth_create(workpool *pool);

/* Hashes password (len bytes). Returns 0; or CMMO_ETOO_LONG (over VALIDATE_PASSWORD_MAX),
 * -ENOMEM or CMMO_ESTOPPED (the pool is draining), and then cb is never called. */
int auth_hash(auth *a, const char *password, size_t len, auth_hash_cb cb, void *user);

/* Checks password against hash. hash NULL (unknown user) checks against a dummy hash so that
 * the answer takes as long as for a real account and always says no. Returns 0, or an error as
 * auth_hash. */
int auth_verify(auth *a, const char *hash, const char *password, size_t len, auth_verify_cb cb,
                void *user);

/* Jobs queued or running. */
size_t auth_pending(const auth *a);

/* Finishes queued jobs (running their callbacks) and frees. */
void auth_destroy(auth *a);

#endif
