#include "proto/validate.h"

#include "core/utf8.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

const char *const VALIDATE_DENY_EMPTY = "Username or password must not be empty";
const char *const VALIDATE_DENY_USERNAME = "Username must be 1 to 20 letters, digits, _ or -";
const char *const VALIDATE_DENY_PASSWORD = "Password must be at most 128 bytes";
const char *const VALIDATE_DENY_AVATAR = "Avatar must be an integer from 0 to 5";

const char *validate_credentials(const char *username, size_t username_len, const char *password,
                                 size_t password_len)
{
    if (username_len == 0 || password_len == 0) return VALIDATE_DENY_EMPTY;
    if (username_len > VALIDATE_USERNAME_MAX) return VALIDATE_DENY_USERNAME;
    for (size_t i = 0; i < username_len; i++) {
        char c = username[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
        if (!ok) return VALIDATE_DENY_USERNAME;
    }
    if (password_len > VALIDATE_PASSWORD_MAX) return VALIDATE_DENY_PASSWORD;
    return NULL;
}

const char *validate_avatar(int is_number, double value, int *avatar_out)
{
    /* The Godot client sends numbers as floats; 2 and 2.0 are both avatar 2. */
    if (!is_number || !isfinite(value) || value != floor(value) || value < 0 ||
        value > VALIDATE_AVATAR_MAX)
        return VALIDATE_DENY_AVATAR;
    *avatar_out = (int)value;
    return NULL;
}

size_t validate_chat(const char *message, size_t len, char *out)
{
    size_t pos = 0, n = 0, chars = 0;
    while (pos < len && chars < VALIDATE_CHAT_MAX) {
        uint32_t cp;
        if (utf8_next(message, len, &pos, &cp) != 0) {
            pos++; /* cannot happen for decoder output; skip the byte rather than trust it */
            continue;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) continue;
        if (cp == ' ' && n == 0) continue; /* leading spaces */
        if (cp == '[') cp = 0xFF3B;
        if (cp == ']') cp = 0xFF3D;
        n += utf8_put(out + n, cp);
        chars++;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = 0;
    return n;
}
