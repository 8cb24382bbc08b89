/*
 * validate: the rules for what a client may register and say, as pure functions. Each returns
 * NULL when the input is acceptable, or the Deny text the client is shown (docs/PROTOCOL.md).
 */
#ifndef CMMO_VALIDATE_H
#define CMMO_VALIDATE_H

#include "core/limits.h"

#include <stddef.h>

#define VALIDATE_USERNAME_MAX LIMITS_USERNAME_MAX /* bytes */
#define VALIDATE_PASSWORD_MAX 128 /* bytes; bounds the work of argon2id's input hashing */
#define VALIDATE_AVATAR_MAX 5     /* the client offers avatars 0..5 */
#define VALIDATE_CHAT_MAX 256     /* characters (code points) in one chat line */
/* A sanitized chat line in bytes: each character may become a 3-byte full-width bracket or stay
 * up to 4 bytes. */
#define VALIDATE_CHAT_BYTES (VALIDATE_CHAT_MAX * 4)

extern const char *const VALIDATE_DENY_EMPTY;
extern const char *const VALIDATE_DENY_USERNAME;
extern const char *const VALIDATE_DENY_PASSWORD;
extern const char *const VALIDATE_DENY_AVATAR;

/* Username and password of a Register or Login (len in bytes). */
const char *validate_credentials(const char *username, size_t username_len, const char *password,
                                 size_t password_len);
/* is_number: whether p2 was a JSON number at all; value: its value. */
const char *validate_avatar(int is_number, double value, int *avatar_out);

/* Cleans a chat message (valid UTF-8, len bytes) into out (VALIDATE_CHAT_BYTES + 1 bytes):
 * control characters (C0, DEL, C1) removed, `[` and `]` turned into full-width brackets so the
 * Godot client's BBCode chat log shows them as text, cut to VALIDATE_CHAT_MAX characters, and
 * leading/trailing spaces trimmed. Returns the cleaned length in bytes; 0 means nothing to say. */
size_t validate_chat(const char *message, size_t len, char *out);

#endif
