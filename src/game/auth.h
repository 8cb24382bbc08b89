/*
 * auth: password hashing and checking with argon2id (libsodium crypto_pwhash_str), on worker
 * threads at lowered priority so the tick never waits for a hash.
 *
 * Imported accounts: a tutorial v1.1 server (Django) stored `pbkdf2_sha256$<iterations>$<salt>$
 * <base64 of 32 bytes>` hashes, which cmmo-admin import-tutorial keeps as they are (nobody knows
 * the passwords to hash them again). auth_verify checks those too (PBKDF2-HMAC-SHA256, OpenSSL,
 * constant-time compare), and auth_verify_upgrade hands back an argon2id hash of the password
 * that matched one, so the caller can replace it: an imported account is upgraded at its first
 * login and no PBKDF2 hash outlives it.
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

/* The forms of stored hash auth can check (auth_hash_kind). */
enum {
    AUTH_KIND_ARGON2ID = 0,      /* "$argon2id$...": cmmo's own */
    AUTH_KIND_PBKDF2_SHA256 = 1, /* Django's "pbkdf2_sha256$ITER$SALT$B64", imported */
    AUTH_KIND_UNKNOWN = -1,      /* anything else (never matches any password) */
};

/* The most PBKDF2 iterations accepted: Django 5.1 uses 870,000; ten million is a few seconds of
 * one core, the most one login may cost a hashing thread. */
#define AUTH_PBKDF2_ITERATIONS_MAX 10000000L
/* The longest PBKDF2 salt accepted (Django makes 22 characters; older versions 12). */
#define AUTH_PBKDF2_SALT_MAX 64

/* Which form hash has: AUTH_KIND_PBKDF2_SHA256 only when it is well-formed (iterations 1 to
 * AUTH_PBKDF2_ITERATIONS_MAX, a salt of 1 to AUTH_PBKDF2_SALT_MAX printable characters without
 * '$', a digest of exactly 32 bytes in standard base64). Pure; NULL is AUTH_KIND_UNKNOWN. */
int auth_hash_kind(const char *hash);

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

/* Checks password against hash (argon2id or PBKDF2-SHA256, see auth_hash_kind; any other form
 * never matches). hash NULL (unknown user) checks against a dummy hash so that the answer takes
 * as long as for a real account and always says no. Returns 0, or an error as auth_hash. */
int auth_verify(auth *a, const char *hash, const char *password, size_t len, auth_verify_cb cb,
                void *user);

/* match as auth_verify's; upgraded: when the password matched a hash that is not argon2id, an
 * argon2id hash of it to store in its place (valid during the call), else NULL. */
typedef void (*auth_upgrade_cb)(void *user, int match, const char *upgraded);

/* auth_verify, and when a PBKDF2 hash matches, also hashes the password with argon2id on the
 * same thread (the plaintext is gone once the job ends). Returns 0, or an error as auth_hash. */
int auth_verify_upgrade(auth *a, const char *hash, const char *password, size_t len,
                        auth_upgrade_cb cb, void *user);

/* Jobs queued or running. */
size_t auth_pending(const auth *a);

/* Finishes queued jobs (running their callbacks) and frees. */
void auth_destroy(auth *a);

#endif
