#include "proto/jsonw.h"

#include "core/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(jsonw *w, char *out, size_t cap)
{
    w->out = out;
    w->cap = cap;
    w->len = 0;
    w->overflow = 0;
}

static void put(jsonw *w, const char *s, size_t n)
{
    if (w->overflow) return;
    if (w->cap - w->len < n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

void jsonw_raw(jsonw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_u16(jsonw *w, unsigned v)
{
    char esc[8];
    snprintf(esc, sizeof esc, "\\u%04x", v & 0xFFFFu);
    put(w, esc, 6);
}

void jsonw_string(jsonw *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp;
        if (utf8_next(s, len, &pos, &cp) != 0) {
            cp = 0xFFFD;
            pos++;
        }
        if (cp == '"') {
            put(w, "\\\"", 2);
        } else if (cp == '\\') {
            put(w, "\\\\", 2);
        } else if (cp == '\n') {
            put(w, "\\n", 2);
        } else if (cp < 0x20 || cp == 0x7F) {
            put_u16(w, cp);
        } else if (cp < 0x80) {
            char c = (char)cp;
            put(w, &c, 1);
        } else if (cp < 0x10000) {
            put_u16(w, cp);
        } else {
            cp -= 0x10000;
            put_u16(w, 0xD800 + (cp >> 10));
            put_u16(w, 0xDC00 + (cp & 0x3FF));
        }
    }
    put(w, "\"", 1);
}

void jsonw_int(jsonw *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    put(w, num, (size_t)n);
}

void jsonw_double(jsonw *w, double v)
{
    char num[40];
    if (!isfinite(v)) v = 0.0;
    /* The shortest of 15, 16 or 17 significant digits that reads back exactly. */
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(num, sizeof num, "%.*g", digits, v);
        if (strtod(num, NULL) == v) break;
    }
    if (!strpbrk(num, ".eEn")) {
        num[n++] = '.';
        num[n++] = '0';
        num[n] = 0;
    }
    put(w, num, (size_t)n);
}

long jsonw_finish(const jsonw *w)
{
    return w->overflow ? -1 : (long)w->len;
}
