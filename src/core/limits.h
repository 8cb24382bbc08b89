/*
 * limits: the bounds of an account that several layers must agree on, defined once here (the
 * lowest layer they all may include). Each layer names them in its own terms and derives its
 * name from these: VALIDATE_USERNAME_MAX (the protocol's rule), STORE_NAME_MAX and
 * STORE_HASH_MAX (column sizes), AUTH_HASH_MAX (what argon2id writes, checked against libsodium
 * in auth.c).
 */
#ifndef CMMO_LIMITS_H
#define CMMO_LIMITS_H

/* Bytes in a username: fits the name tag above an avatar. */
#define LIMITS_USERNAME_MAX 20
/* Bytes of an encoded password hash, terminator included (crypto_pwhash_STRBYTES). */
#define LIMITS_HASH_MAX 128

#endif
