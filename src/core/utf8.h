/*
 * utf8: decoding of UTF-8 text one code point at a time, strictly (no overlong forms, no
 * surrogates, nothing above U+10FFFF), for the validators that count and filter characters.
 */
#ifndef CMMO_UTF8_H
#define CMMO_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[*pos] (len bytes total) into *cp and advances *pos.
 * Returns 0, or CMMO_EUTF8 for invalid or truncated UTF-8 (then *pos is unchanged). */
int utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp);

/* Writes cp as UTF-8 into out (at least 4 bytes). Returns the byte count (1..4). */
size_t utf8_put(char *out, uint32_t cp);

/* True if the len bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

#endif
